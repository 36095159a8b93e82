// Reads `name,latitude,longitude` rows (no header) into locations.
//
// Accepted: spaces and tabs around fields, quoted fields (so names may hold commas), doubled
// quotes inside quoted fields, CRLF line ends, a UTF-8 byte-order mark, blank lines (skipped).
// Rejected rows (wrong field count, an empty name, a malformed quote, a coordinate that is not
// a finite number or is out of range) are returned with their 1-based line number, so the
// caller decides whether one bad row fails the run (--strict) or is skipped and counted.
// A quoted field cannot span lines: every row is one line.
#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "location.hpp"

namespace distance_matrix {

struct BadRow {
  std::size_t line = 0;  // 1-based
  std::string reason;
};

struct ReadResult {
  std::vector<Location> locations;
  std::vector<BadRow> bad_rows;
};

/// What one line holds: a location, nothing (a blank line), or the reason it is bad.
struct BlankLine {};
using LineParse = std::variant<Location, BlankLine, std::string>;

/// Parses one line (without its line end; a trailing '\r' is ignored).
LineParse parse_location_line(std::string_view line);

/// Splits one CSV line into fields, unquoting them. On a malformed line returns false
/// and puts the reason in `error`.
bool split_csv_fields(std::string_view line, std::vector<std::string>& fields, std::string& error);

ReadResult read_locations(std::istream& in);
ReadResult read_locations(std::string_view text);

}  // namespace distance_matrix
