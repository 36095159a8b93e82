// Fuzz target: the distance_matrix sample's CSV reader, which reads a file a user hands it.
// Checks: the stream and the in-memory readers agree; every location it returns is in
// range and survives being written back as a CSV line; bad rows come in line order.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>

#include "csv_reader.hpp"
#include "fuzz_check.hpp"

namespace dm = distance_matrix;

namespace {

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string csv_line(const dm::Location& l) {
  char numbers[64];
  std::snprintf(numbers, sizeof numbers, ",%.17g,%.17g", l.latitude_deg, l.longitude_deg);
  return quoted(l.name) + numbers;
}

bool same(const dm::Location& a, const dm::Location& b) {
  return a.name == b.name && a.latitude_deg == b.latitude_deg && a.longitude_deg == b.longitude_deg;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const dm::ReadResult from_text = dm::read_locations(text);
  std::istringstream stream{std::string(text)};
  const dm::ReadResult from_stream = dm::read_locations(stream);

  FUZZ_CHECK(from_text.locations.size() == from_stream.locations.size(),
             "the string and stream readers found different rows");
  FUZZ_CHECK(from_text.bad_rows.size() == from_stream.bad_rows.size(),
             "the string and stream readers refused different rows");
  for (std::size_t i = 0; i < from_text.bad_rows.size(); ++i) {
    const auto& bad = from_text.bad_rows[i];
    FUZZ_CHECK(bad.line == from_stream.bad_rows[i].line, "bad rows differ between readers");
    FUZZ_CHECK(bad.line >= 1 && bad.line <= size + 1, "bad row line number out of range");
    FUZZ_CHECK(i == 0 || bad.line > from_text.bad_rows[i - 1].line, "bad rows out of order");
    FUZZ_CHECK(!bad.reason.empty(), "a bad row without a reason");
  }
  for (std::size_t i = 0; i < from_text.locations.size(); ++i) {
    const dm::Location& l = from_text.locations[i];
    FUZZ_CHECK(same(l, from_stream.locations[i]), "locations differ between readers");
    FUZZ_CHECK(!l.name.empty(), "a location without a name");
    FUZZ_CHECK(std::isfinite(l.latitude_deg) && std::fabs(l.latitude_deg) <= 90,
               "latitude out of range");
    FUZZ_CHECK(std::isfinite(l.longitude_deg) && std::fabs(l.longitude_deg) <= 180,
               "longitude out of range");
    // A location written back as CSV reads back as itself.
    const dm::LineParse again = dm::parse_location_line(csv_line(l));
    const auto* back = std::get_if<dm::Location>(&again);
    FUZZ_CHECK(back != nullptr && same(*back, l), "a location does not survive a round trip");
  }
  return 0;
}
