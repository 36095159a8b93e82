// The built program, run as a user runs it: defaults, --help, bad flags, bad rows, and the
// same file from every executor.
#include <algorithm>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "bundled_cities.hpp"
#include "csv_reader.hpp"
#include "executors.hpp"
#include "pair_writer.hpp"
#include "program_fixture.hpp"

namespace dm = distance_matrix;
namespace fs = std::filesystem;

namespace {

class DistanceMatrixProgram : public sluice::test::ProgramTest {
 protected:
  DistanceMatrixProgram() : ProgramTest(DISTANCE_MATRIX_EXE, "distance_matrix") {}

  static std::size_t lines(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  }
};

const char* const kFileWithABadRow =
    "London,51.5074,-0.1278\n"
    "Paris,48.8566,2.3522\n"
    "Atlantis,95,-30\n"
    "\"Washington, D.C.\",38.9072,-77.0369\n";

}  // namespace

TEST_F(DistanceMatrixProgram, NoArgumentsRunsOnTheBundledCitiesAndExitsZero) {
  ASSERT_EQ(run(""), 0) << read("stderr");
  const std::string out = read("stdout");
  const std::size_t cities = dm::read_locations(dm::bundled_cities_csv()).locations.size();
  EXPECT_EQ(lines(out), 1 + dm::pair_count(cities));
  EXPECT_EQ(out.rfind(dm::kCsvHeader, 0), 0u);
  EXPECT_NE(read("stderr").find("pairs/s"), std::string::npos);  // the summary goes to stderr
}

TEST_F(DistanceMatrixProgram, HelpExitsZero) {
  EXPECT_EQ(run("--help"), 0);
  EXPECT_NE(read("stdout").find("--executor"), std::string::npos);
}

TEST_F(DistanceMatrixProgram, BadFlagsFailWithAMessage) {
  EXPECT_NE(run("--no-such-flag"), 0);
  EXPECT_NE(read("stderr").find("--no-such-flag"), std::string::npos);
  EXPECT_NE(run("--executor fastest"), 0);
  EXPECT_NE(read("stderr").find("fastest"), std::string::npos);
  EXPECT_NE(run("--threads 0"), 0);
  EXPECT_NE(run("--generate many"), 0);
  EXPECT_NE(run("--generate -5"), 0);          // not a wrapped-around huge count
  EXPECT_NE(run("--generate 5 some.csv"), 0);  // a file and --generate exclude each other
}

TEST_F(DistanceMatrixProgram, MissingInputFileIsAClearError) {
  EXPECT_EQ(run("'" + path("absent.csv").string() + "'"), 1);
  EXPECT_NE(read("stderr").find("cannot open input"), std::string::npos);
}

TEST_F(DistanceMatrixProgram, LenientRunSkipsAndCountsBadRows) {
  write("in.csv", kFileWithABadRow);
  ASSERT_EQ(run("'" + path("in.csv").string() + "' -o '" + path("out.csv").string() + "'"), 0);
  const std::string err = read("stderr");
  EXPECT_NE(err.find("in.csv:3: latitude '95' is out of range"), std::string::npos) << err;
  EXPECT_NE(err.find("1 bad row skipped"), std::string::npos) << err;
  EXPECT_EQ(lines(read("out.csv")), 1 + dm::pair_count(3));
}

TEST_F(DistanceMatrixProgram, StrictRunFailsOnABadRow) {
  write("in.csv", kFileWithABadRow);
  EXPECT_EQ(run("--strict '" + path("in.csv").string() + "' -o '" + path("out.csv").string() + "'"),
            1);
  EXPECT_NE(read("stderr").find("in.csv:3:"), std::string::npos);
  EXPECT_FALSE(fs::exists(path("out.csv")));  // failed before any output was written
}

TEST_F(DistanceMatrixProgram, StrictRunOfAGoodFileSucceeds) {
  write("in.csv", "a,1,2\nb,3,4\n");
  EXPECT_EQ(run("--strict '" + path("in.csv").string() + "'"), 0);
  EXPECT_EQ(lines(read("stdout")), 2u);
}

TEST_F(DistanceMatrixProgram, EveryExecutorWritesTheSameFile) {
  std::string expected;
  for (const std::string_view name : dm::executor_names()) {
    const std::string out = std::string(name) + ".csv";
    ASSERT_EQ(run("--generate 150 --seed 9 --threads 3 --executor " + std::string(name) +
                  " --output '" + path(out).string() + "'"),
              0)
        << read("stderr");
    const std::string text = read(out);
    EXPECT_EQ(lines(text), 1 + dm::pair_count(150));
    if (expected.empty()) expected = text;
    EXPECT_TRUE(text == expected) << name;
  }
}

TEST_F(DistanceMatrixProgram, CompareRunsEveryExecutorAndFindsThemIdentical) {
  ASSERT_EQ(run("--generate 100 --compare"), 0) << read("stderr");
  EXPECT_NE(read("stdout").find("outputs byte-identical"), std::string::npos) << read("stdout");
}
