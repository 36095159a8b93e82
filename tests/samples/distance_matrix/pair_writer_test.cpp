// Output formatting: distances with 17 significant digits, CSV quoting, rows of pairs.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "csv_reader.hpp"
#include "haversine.hpp"
#include "pair_writer.hpp"

namespace dm = distance_matrix;

namespace {

std::string format(double value) {
  char buffer[dm::kMaxDistanceChars];
  return std::string(buffer, dm::format_distance(value, buffer));
}

std::string printf_17g(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST(DistanceMatrixFormat, SeventeenSignificantDigitsLikePrintf) {
  EXPECT_EQ(format(0.0), "0");
  EXPECT_EQ(format(343.5), "343.5");
  EXPECT_EQ(format(0.1), "0.10000000000000001");
  EXPECT_EQ(format(20015.114442035923), "20015.114442035923");
  std::mt19937_64 engine(7);
  std::uniform_real_distribution<double> distance(0.0, 20016.0);
  for (int i = 0; i < 10000; ++i) {
    const double value = distance(engine);
    ASSERT_EQ(format(value), printf_17g(value));
  }
  EXPECT_EQ(format(1e-300), printf_17g(1e-300));
  EXPECT_EQ(format(1e300), printf_17g(1e300));
}

TEST(DistanceMatrixFormat, SeventeenDigitsRoundTrip) {
  std::mt19937_64 engine(11);
  std::uniform_real_distribution<double> distance(0.0, 20016.0);
  for (int i = 0; i < 1000; ++i) {
    const double value = distance(engine);
    ASSERT_EQ(std::stod(format(value)), value);
  }
}

TEST(DistanceMatrixFormat, CsvQuoteOnlyWhenNeeded) {
  EXPECT_EQ(dm::csv_quote("Paris"), "Paris");
  EXPECT_EQ(dm::csv_quote("New York City"), "New York City");
  EXPECT_EQ(dm::csv_quote("Xi'an"), "Xi'an");
  EXPECT_EQ(dm::csv_quote("Washington, D.C."), "\"Washington, D.C.\"");
  EXPECT_EQ(dm::csv_quote("The \"Big Easy\""), "\"The \"\"Big Easy\"\"\"");
  EXPECT_EQ(dm::csv_quote(" Rome "), "\" Rome \"");  // the reader would trim these spaces
  EXPECT_EQ(dm::csv_quote("a\nb"), "\"a\nb\"");
}

TEST(DistanceMatrixPairs, PairCountIsNChooseTwo) {
  EXPECT_EQ(dm::pair_count(0), 0u);
  EXPECT_EQ(dm::pair_count(1), 0u);
  EXPECT_EQ(dm::pair_count(2), 1u);
  EXPECT_EQ(dm::pair_count(300), 44850u);
  EXPECT_EQ(dm::pair_count(20000), 199990000u);
}

TEST(DistanceMatrixPairs, RowsHoldPairsAfterTheOriginInInputOrder) {
  const std::vector<dm::Location> locations = {
      {"London", 51.5074, -0.1278}, {"Paris", 48.8566, 2.3522}, {"Washington, D.C.", 38.9, -77.0}};
  const dm::PairWriter pairs(locations);
  EXPECT_EQ(pairs.location_count(), 3u);
  EXPECT_EQ(pairs.row_count(), 2u);
  EXPECT_EQ(pairs.total_pairs(), 3u);
  EXPECT_EQ(pairs.pairs_in_row(0), 2u);
  EXPECT_EQ(pairs.pairs_in_row(1), 1u);

  const auto distance = [&](std::size_t i, std::size_t j) {
    return format(dm::haversine_km(locations[i].latitude_deg, locations[i].longitude_deg,
                                   locations[j].latitude_deg, locations[j].longitude_deg));
  };
  EXPECT_EQ(pairs.row(0), "London,Paris," + distance(0, 1) + "\nLondon,\"Washington, D.C.\"," +
                              distance(0, 2) + "\n");
  EXPECT_EQ(pairs.row(1), "Paris,\"Washington, D.C.\"," + distance(1, 2) + "\n");

  std::string appended = "kept";
  pairs.format_row(1, appended);
  EXPECT_EQ(appended, "kept" + pairs.row(1));
}

TEST(DistanceMatrixPairs, NoLocationsOrOneLocationMeansNoRows) {
  EXPECT_EQ(dm::PairWriter(std::vector<dm::Location>{}).row_count(), 0u);
  const std::vector<dm::Location> one = {{"alone", 1, 2}};
  EXPECT_EQ(dm::PairWriter(one).row_count(), 0u);
  EXPECT_EQ(dm::PairWriter(one).total_pairs(), 0u);
}

TEST(DistanceMatrixPairs, OutputNamesReadBackToTheOriginals) {
  const std::vector<dm::Location> locations = {
      {"The \"Big Easy\", New Orleans", 29.95, -90.07}, {" padded ", 1, 2}, {"plain", 3, 4}};
  const dm::PairWriter pairs(locations);
  std::string text;
  for (std::size_t row = 0; row < pairs.row_count(); ++row) pairs.format_row(row, text);
  EXPECT_EQ(count_lines(text), 3u);

  std::vector<std::string> fields;
  std::string error;
  std::size_t start = 0;
  std::vector<std::pair<std::string, std::string>> seen;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    ASSERT_TRUE(
        dm::split_csv_fields(std::string_view(text).substr(start, end - start), fields, error))
        << error;
    ASSERT_EQ(fields.size(), 3u);
    seen.emplace_back(fields[0], fields[1]);
    start = end + 1;
  }
  EXPECT_EQ(seen[0], std::make_pair(locations[0].name, locations[1].name));
  EXPECT_EQ(seen[1], std::make_pair(locations[0].name, locations[2].name));
  EXPECT_EQ(seen[2], std::make_pair(locations[1].name, locations[2].name));
}
