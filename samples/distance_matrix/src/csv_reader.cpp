#include "csv_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <system_error>

namespace distance_matrix {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view strip_line_end(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// Parses a whole field as a finite double; a leading "+" is allowed, as people write "+51.5".
bool parse_number(std::string_view text, double& value) {
  const bool plus = !text.empty() && text.front() == '+';
  if (plus) text.remove_prefix(1);
  if (text.empty() || (plus && text.front() == '-')) return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::general);
  return ec == std::errc{} && ptr == end && std::isfinite(value);
}

// Parses a coordinate field and checks |value| <= limit; on failure says why.
bool parse_coordinate(std::string_view what, std::string_view text, int limit, double& value,
                      std::string& error) {
  if (!parse_number(text, value)) {
    error = std::string(what) + " '" + std::string(text) + "' is not a finite number";
    return false;
  }
  if (std::fabs(value) > limit) {
    error = std::string(what) + " '" + std::string(text) + "' is out of range [-" +
            std::to_string(limit) + ", " + std::to_string(limit) + "]";
    return false;
  }
  return true;
}

class LineReader {
 public:
  void add(std::size_t line_number, std::string_view line) {
    if (line_number == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    LineParse parsed = parse_location_line(line);
    if (auto* location = std::get_if<Location>(&parsed)) {
      result_.locations.push_back(std::move(*location));
    } else if (auto* reason = std::get_if<std::string>(&parsed)) {
      result_.bad_rows.push_back(BadRow{line_number, std::move(*reason)});
    }
  }
  ReadResult take() { return std::move(result_); }

 private:
  ReadResult result_;
};

}  // namespace

bool split_csv_fields(std::string_view line, std::vector<std::string>& fields, std::string& error) {
  fields.clear();
  line = strip_line_end(line);
  std::size_t pos = 0;
  while (true) {
    while (pos < line.size() && is_blank(line[pos])) ++pos;
    std::string field;
    if (pos < line.size() && line[pos] == '"') {
      ++pos;
      bool closed = false;
      while (pos < line.size()) {
        const char c = line[pos++];
        if (c != '"') {
          field += c;
        } else if (pos < line.size() && line[pos] == '"') {
          field += '"';  // a doubled quote stands for one quote
          ++pos;
        } else {
          closed = true;
          break;
        }
      }
      if (!closed) {
        error = "unterminated quoted field " + std::to_string(fields.size() + 1);
        return false;
      }
      while (pos < line.size() && is_blank(line[pos])) ++pos;
      if (pos < line.size() && line[pos] != ',') {
        error =
            "unexpected text after the closing quote of field " + std::to_string(fields.size() + 1);
        return false;
      }
    } else {
      const std::size_t comma = std::min(line.find(',', pos), line.size());
      const std::string_view raw = trim(line.substr(pos, comma - pos));
      if (raw.find('"') != std::string_view::npos) {
        error = "a quote inside unquoted field " + std::to_string(fields.size() + 1) +
                " (quote the whole field and double the quote)";
        return false;
      }
      field.assign(raw);
      pos = comma;
    }
    fields.push_back(std::move(field));
    if (pos >= line.size()) return true;
    ++pos;  // past the comma; a trailing comma yields one more (empty) field
  }
}

LineParse parse_location_line(std::string_view line) {
  line = strip_line_end(line);
  if (trim(line).empty()) return BlankLine{};

  std::vector<std::string> fields;
  std::string error;
  if (!split_csv_fields(line, fields, error)) return error;
  if (fields.size() != 3) {
    return "expected 3 fields (name,latitude,longitude), found " + std::to_string(fields.size());
  }
  if (fields[0].empty()) return std::string("empty name");

  Location location;
  location.name = std::move(fields[0]);
  if (!parse_coordinate("latitude", fields[1], 90, location.latitude_deg, error) ||
      !parse_coordinate("longitude", fields[2], 180, location.longitude_deg, error)) {
    return error;
  }
  return location;
}

ReadResult read_locations(std::istream& in) {
  LineReader reader;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) reader.add(number, line);
  return reader.take();
}

ReadResult read_locations(std::string_view text) {
  LineReader reader;
  std::size_t number = 1;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    reader.add(number++, text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return reader.take();
}

}  // namespace distance_matrix
