#include "pair_writer.hpp"

#include <charconv>
#include <system_error>

namespace distance_matrix {

std::size_t format_distance(double km, char* out) noexcept {
  const auto result =
      std::to_chars(out, out + kMaxDistanceChars, km, std::chars_format::general, 17);
  return static_cast<std::size_t>(result.ptr - out);
}

std::string csv_quote(std::string_view field) {
  const bool needs_quotes = field.find_first_of(",\"\r\n") != std::string_view::npos ||
                            (!field.empty() && (field.front() == ' ' || field.front() == '\t' ||
                                                field.back() == ' ' || field.back() == '\t'));
  if (!needs_quotes) return std::string(field);
  std::string quoted;
  quoted.reserve(field.size() + 2);
  quoted += '"';
  for (const char c : field) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

PairWriter::PairWriter(std::span<const Location> locations) {
  quoted_names_.reserve(locations.size());
  points_.reserve(locations.size());
  std::size_t name_chars = 0;
  for (const Location& location : locations) {
    quoted_names_.push_back(csv_quote(location.name));
    name_chars += quoted_names_.back().size();
    points_.push_back(to_geo_point(location.latitude_deg, location.longitude_deg));
  }
  mean_name_length_ = locations.empty() ? 0 : name_chars / locations.size();
}

void PairWriter::format_row(std::size_t row, std::string& out) const {
  const std::string& origin = quoted_names_[row];
  const GeoPoint& from = points_[row];
  // One allocation per row: origin + ',' + destination + ',' + distance + '\n'.
  out.reserve(out.size() + pairs_in_row(row) * (origin.size() + mean_name_length_ + 24));
  char distance[kMaxDistanceChars];
  for (std::size_t j = row + 1; j < points_.size(); ++j) {
    out += origin;
    out += ',';
    out += quoted_names_[j];
    out += ',';
    out.append(distance, format_distance(haversine_km(from, points_[j]), distance));
    out += '\n';
  }
}

std::string PairWriter::row(std::size_t row) const {
  std::string out;
  format_row(row, out);
  return out;
}

}  // namespace distance_matrix
