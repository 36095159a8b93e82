// Every executor writes the same bytes, in row order, for any thread count, and stops cleanly
// when the output fails.
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "executors.hpp"
#include "generate_locations.hpp"
#include "pair_writer.hpp"
#include "row_sink.hpp"

namespace dm = distance_matrix;

namespace {

// ~300 generated locations plus names that need quoting, so the comparison covers both.
std::vector<dm::Location> test_locations() {
  std::vector<dm::Location> locations = dm::generate_locations(297, 2024);
  locations.push_back({"Washington, D.C.", 38.9072, -77.0369});
  locations.push_back({"The \"Big Easy\", New Orleans", 29.9511, -90.0715});
  locations.push_back({"Antipode of Washington", -38.9072, 102.9631});
  return locations;
}

std::string run_to_string(dm::ExecutorKind kind, const dm::PairWriter& pairs, unsigned threads) {
  dm::StringRowSink sink;
  dm::run_executor(kind, pairs, sink, dm::ExecutorOptions{threads});
  EXPECT_TRUE(sink.in_order()) << dm::executor_name(kind);
  EXPECT_EQ(sink.rows_written(), pairs.row_count()) << dm::executor_name(kind);
  return sink.text();
}

std::vector<dm::ExecutorKind> all_executors() {
  std::vector<dm::ExecutorKind> kinds;
  for (const std::string_view name : dm::executor_names())
    kinds.push_back(*dm::parse_executor(name));
  return kinds;
}

// Fails on the write of a given row, like a disk that fills up.
class FailingSink final : public dm::RowSink {
 public:
  explicit FailingSink(std::size_t fail_at) : fail_at_(fail_at) {}
  void write_row(std::size_t row, std::string_view) override {
    if (row == fail_at_) throw std::runtime_error("disk full");
  }

 private:
  std::size_t fail_at_;
};

}  // namespace

TEST(DistanceMatrixExecutors, NamesRoundTrip) {
  ASSERT_EQ(dm::executor_names().size(), 5u);
  for (const std::string_view name : dm::executor_names()) {
    ASSERT_TRUE(dm::parse_executor(name).has_value()) << name;
    EXPECT_EQ(dm::executor_name(*dm::parse_executor(name)), name);
  }
  EXPECT_FALSE(dm::parse_executor("thread_pool").has_value());
}

TEST(DistanceMatrixExecutors, AllExecutorsWriteByteIdenticalOutput) {
  const std::vector<dm::Location> locations = test_locations();
  const dm::PairWriter pairs(locations);
  const std::string expected = run_to_string(dm::ExecutorKind::sequential, pairs, 1);
  ASSERT_EQ(std::count(expected.begin(), expected.end(), '\n'),
            static_cast<std::ptrdiff_t>(dm::pair_count(locations.size())));
  ASSERT_EQ(dm::pair_count(locations.size()), 44850u);
  for (const dm::ExecutorKind kind : all_executors()) {
    for (const unsigned threads : {1u, 2u, 3u, 8u}) {
      SCOPED_TRACE(std::string(dm::executor_name(kind)) + " threads=" + std::to_string(threads));
      const std::string output = run_to_string(kind, pairs, threads);
      ASSERT_EQ(output.size(), expected.size());
      ASSERT_TRUE(output == expected);
    }
  }
}

TEST(DistanceMatrixExecutors, MoreThreadsThanRowsAndTinyInputs) {
  for (const std::size_t n : {0u, 1u, 2u, 3u, 5u}) {
    const std::vector<dm::Location> locations = dm::generate_locations(n, n);
    const dm::PairWriter pairs(locations);
    const std::string expected = run_to_string(dm::ExecutorKind::sequential, pairs, 1);
    EXPECT_EQ(std::count(expected.begin(), expected.end(), '\n'),
              static_cast<std::ptrdiff_t>(dm::pair_count(n)));
    for (const dm::ExecutorKind kind : all_executors()) {
      EXPECT_EQ(run_to_string(kind, pairs, 16), expected) << dm::executor_name(kind) << " n=" << n;
    }
  }
}

TEST(DistanceMatrixExecutors, ZeroThreadsIsTakenAsOne) {
  const std::vector<dm::Location> locations = dm::generate_locations(20, 3);
  const dm::PairWriter pairs(locations);
  const std::string expected = run_to_string(dm::ExecutorKind::sequential, pairs, 1);
  for (const dm::ExecutorKind kind : all_executors()) {
    EXPECT_EQ(run_to_string(kind, pairs, 0), expected) << dm::executor_name(kind);
  }
}

TEST(DistanceMatrixExecutors, AFailedWriteStopsEveryExecutorWithTheError) {
  const std::vector<dm::Location> locations = dm::generate_locations(200, 5);
  const dm::PairWriter pairs(locations);
  for (const dm::ExecutorKind kind : all_executors()) {
    FailingSink sink(37);
    EXPECT_THROW(dm::run_executor(kind, pairs, sink, dm::ExecutorOptions{4}), std::runtime_error)
        << dm::executor_name(kind);
  }
}

TEST(DistanceMatrixExecutors, GeneratedLocationsAreReproducibleAndInRange) {
  const std::vector<dm::Location> a = dm::generate_locations(1000, 42);
  const std::vector<dm::Location> b = dm::generate_locations(1000, 42);
  const std::vector<dm::Location> c = dm::generate_locations(1000, 43);
  ASSERT_EQ(a.size(), 1000u);
  bool differs = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].latitude_deg, b[i].latitude_deg);
    EXPECT_EQ(a[i].longitude_deg, b[i].longitude_deg);
    EXPECT_LE(std::abs(a[i].latitude_deg), 90.0);
    EXPECT_LE(std::abs(a[i].longitude_deg), 180.0);
    differs |= a[i].latitude_deg != c[i].latitude_deg;
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(a.front().name, "loc-1");
}
