// Turns locations into output rows: `origin,destination,distance_km` for every pair i < j.
//
// The unit every executor schedules is a *row* of the matrix: row i holds the pairs (i, j)
// for j > i, in order, as one block of CSV text. Concatenating rows 0, 1, 2, ... after
// kCsvHeader gives the whole output, so an executor only has to compute rows (in any order,
// on any thread) and hand them to the sink in row order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "haversine.hpp"
#include "location.hpp"

namespace distance_matrix {

inline constexpr std::string_view kCsvHeader = "origin,destination,distance_km\n";

/// Enough room for any double printed by format_distance.
inline constexpr std::size_t kMaxDistanceChars = 32;

/// Writes `km` with 17 significant digits (like printf "%.17g": enough to round-trip every
/// double) into `out`; returns the number of characters written.
std::size_t format_distance(double km, char* out) noexcept;

/// The field as it must appear in CSV: unchanged, or quoted (with quotes doubled) when it holds
/// a comma, a quote, a line break, or leading/trailing blanks the reader would trim.
std::string csv_quote(std::string_view field);

/// Number of unordered pairs among n locations: n(n-1)/2.
constexpr std::uint64_t pair_count(std::uint64_t n) noexcept {
  return n < 2 ? 0 : n * (n - 1) / 2;
}

class PairWriter {
 public:
  explicit PairWriter(std::span<const Location> locations);

  std::size_t location_count() const noexcept { return points_.size(); }
  /// Rows that hold at least one pair: n - 1 (the last location pairs with nobody after it).
  std::size_t row_count() const noexcept { return points_.empty() ? 0 : points_.size() - 1; }
  std::uint64_t pairs_in_row(std::size_t row) const noexcept { return row_count() - row; }
  std::uint64_t total_pairs() const noexcept { return pair_count(points_.size()); }

  /// Appends row `row` (its pairs (row, j), j > row, in order) to `out`. Thread-safe: reads only.
  void format_row(std::size_t row, std::string& out) const;
  std::string row(std::size_t row) const;

 private:
  std::vector<std::string> quoted_names_;
  std::vector<GeoPoint> points_;
  std::size_t mean_name_length_ = 0;
};

}  // namespace distance_matrix
