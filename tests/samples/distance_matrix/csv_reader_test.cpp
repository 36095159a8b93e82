// The CSV reader: what it accepts, what it rejects, and the line numbers it reports.
#include <sstream>
#include <string>
#include <variant>

#include <gtest/gtest.h>

#include "bundled_cities.hpp"
#include "csv_reader.hpp"

namespace dm = distance_matrix;

namespace {

dm::Location parse_ok(std::string_view line) {
  dm::LineParse parsed = dm::parse_location_line(line);
  if (const auto* reason = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << "rejected '" << line << "': " << *reason;
    return {};
  }
  if (std::holds_alternative<dm::BlankLine>(parsed)) {
    ADD_FAILURE() << "taken as blank: '" << line << "'";
    return {};
  }
  return std::get<dm::Location>(parsed);
}

std::string parse_bad(std::string_view line) {
  dm::LineParse parsed = dm::parse_location_line(line);
  const auto* reason = std::get_if<std::string>(&parsed);
  if (!reason) {
    ADD_FAILURE() << "accepted '" << line << "'";
    return {};
  }
  return *reason;
}

}  // namespace

TEST(DistanceMatrixCsv, PlainRow) {
  const dm::Location l = parse_ok("Paris,48.8566,2.3522");
  EXPECT_EQ(l.name, "Paris");
  EXPECT_DOUBLE_EQ(l.latitude_deg, 48.8566);
  EXPECT_DOUBLE_EQ(l.longitude_deg, 2.3522);
}

TEST(DistanceMatrixCsv, SpacesAndTabsAroundFieldsAreTrimmed) {
  const dm::Location l = parse_ok("  New York City ,\t40.7128 ,  -74.0060\t");
  EXPECT_EQ(l.name, "New York City");  // inner spaces kept
  EXPECT_DOUBLE_EQ(l.latitude_deg, 40.7128);
  EXPECT_DOUBLE_EQ(l.longitude_deg, -74.006);
}

TEST(DistanceMatrixCsv, QuotedNameMayHoldCommas) {
  EXPECT_EQ(parse_ok("\"Washington, D.C.\",38.9072,-77.0369").name, "Washington, D.C.");
  EXPECT_EQ(parse_ok("  \"a,b,c\"  , 1, 2").name, "a,b,c");
}

TEST(DistanceMatrixCsv, DoubledQuotesStandForOneQuote) {
  EXPECT_EQ(parse_ok(R"("The ""Big Easy"", New Orleans",29.9511,-90.0715)").name,
            R"(The "Big Easy", New Orleans)");
  EXPECT_EQ(parse_ok(R"("""",1,2)").name, "\"");
}

TEST(DistanceMatrixCsv, SpacesInsideQuotesAreKept) {
  EXPECT_EQ(parse_ok(R"(" Rome ",41.9,12.5)").name, " Rome ");
}

TEST(DistanceMatrixCsv, CoordinatesMayBeQuotedSignedOrExponent) {
  const dm::Location l = parse_ok(R"(x,"+51.5",  -1e-1)");
  EXPECT_DOUBLE_EQ(l.latitude_deg, 51.5);
  EXPECT_DOUBLE_EQ(l.longitude_deg, -0.1);
}

TEST(DistanceMatrixCsv, RangeLimitsAreInclusive) {
  parse_ok("north pole,90,180");
  parse_ok("south pole,-90,-180");
  EXPECT_NE(parse_bad("x,90.000001,0").find("latitude '90.000001' is out of range [-90, 90]"),
            std::string::npos);
  EXPECT_NE(parse_bad("x,-91,0").find("latitude"), std::string::npos);
  EXPECT_NE(parse_bad("x,0,180.5").find("longitude '180.5' is out of range [-180, 180]"),
            std::string::npos);
  EXPECT_NE(parse_bad("x,0,-181").find("longitude"), std::string::npos);
}

TEST(DistanceMatrixCsv, CoordinatesMustBeFiniteNumbers) {
  EXPECT_NE(parse_bad("x,abc,0").find("latitude 'abc' is not a finite number"), std::string::npos);
  EXPECT_NE(parse_bad("x,1,").find("longitude '' is not a finite number"), std::string::npos);
  parse_bad("x,nan,0");
  parse_bad("x,0,inf");
  parse_bad("x,12abc,0");
  parse_bad("x,+-5,0");
  parse_bad("x,1 2,0");
  parse_bad("x,0x10,0");
}

TEST(DistanceMatrixCsv, WrongFieldCountsAreRejected) {
  EXPECT_NE(parse_bad("Paris,48.8").find("expected 3 fields"), std::string::npos);
  EXPECT_NE(parse_bad("Paris,48.8,2.3,extra").find("found 4"), std::string::npos);
  EXPECT_NE(parse_bad("Paris,48.8,2.3,").find("found 4"), std::string::npos);  // trailing comma
  EXPECT_NE(parse_bad("Washington, D.C.,38.9,-77.0").find("found 4"), std::string::npos);
}

TEST(DistanceMatrixCsv, MalformedQuotesAreRejected) {
  EXPECT_NE(parse_bad(R"("Paris,48.8,2.3)").find("unterminated"), std::string::npos);
  EXPECT_NE(parse_bad(R"("Par"is,48.8,2.3)").find("after the closing quote"), std::string::npos);
  EXPECT_NE(parse_bad(R"(Pa"ris,48.8,2.3)").find("quote inside unquoted field"), std::string::npos);
}

TEST(DistanceMatrixCsv, EmptyNameIsRejected) {
  EXPECT_EQ(parse_bad(",1,2"), "empty name");
  EXPECT_EQ(parse_bad(R"("",1,2)"), "empty name");
}

TEST(DistanceMatrixCsv, BlankLinesAreNotRows) {
  EXPECT_TRUE(std::holds_alternative<dm::BlankLine>(dm::parse_location_line("")));
  EXPECT_TRUE(std::holds_alternative<dm::BlankLine>(dm::parse_location_line("  \t ")));
  EXPECT_TRUE(std::holds_alternative<dm::BlankLine>(dm::parse_location_line("\r")));
}

TEST(DistanceMatrixCsv, BadRowsCarryTheirLineNumbers) {
  const std::string text =
      "A,1,2\n"
      "\n"              // 2: blank, skipped silently
      "B,95,2\n"        // 3: latitude out of range
      "C,1,2\r\n"       // 4: CRLF is fine
      "   \n"           // 5: blank
      "D,1\n"           // 6: too few fields
      "\"E, e\",3,4\n"  // 7
      "\"F,5,6\n"       // 8: unterminated quote
      "G,7,8";          // 9: no final newline
  const dm::ReadResult result = dm::read_locations(std::string_view(text));
  ASSERT_EQ(result.locations.size(), 4u);
  EXPECT_EQ(result.locations[0].name, "A");
  EXPECT_EQ(result.locations[1].name, "C");
  EXPECT_EQ(result.locations[2].name, "E, e");
  EXPECT_EQ(result.locations[3].name, "G");
  ASSERT_EQ(result.bad_rows.size(), 3u);
  EXPECT_EQ(result.bad_rows[0].line, 3u);
  EXPECT_EQ(result.bad_rows[1].line, 6u);
  EXPECT_EQ(result.bad_rows[2].line, 8u);
  EXPECT_NE(result.bad_rows[0].reason.find("latitude"), std::string::npos);

  std::istringstream stream(text);
  const dm::ReadResult from_stream = dm::read_locations(stream);
  ASSERT_EQ(from_stream.locations.size(), result.locations.size());
  ASSERT_EQ(from_stream.bad_rows.size(), result.bad_rows.size());
  for (std::size_t i = 0; i < result.bad_rows.size(); ++i) {
    EXPECT_EQ(from_stream.bad_rows[i].line, result.bad_rows[i].line);
    EXPECT_EQ(from_stream.bad_rows[i].reason, result.bad_rows[i].reason);
  }
}

TEST(DistanceMatrixCsv, ByteOrderMarkOnTheFirstLineIsIgnored) {
  const dm::ReadResult result =
      dm::read_locations(std::string_view("\xEF\xBB\xBFOslo,59.9,10.7\n"));
  ASSERT_EQ(result.locations.size(), 1u);
  EXPECT_EQ(result.locations[0].name, "Oslo");
}

TEST(DistanceMatrixCsv, BundledCitiesAreAllValid) {
  const dm::ReadResult result = dm::read_locations(dm::bundled_cities_csv());
  EXPECT_TRUE(result.bad_rows.empty())
      << "line " << result.bad_rows.front().line << ": " << result.bad_rows.front().reason;
  EXPECT_GE(result.locations.size(), 100u);
  bool has_comma_name = false;
  for (const dm::Location& l : result.locations) has_comma_name |= l.name == "Washington, D.C.";
  EXPECT_TRUE(has_comma_name);
}
