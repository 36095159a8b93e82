#include "generate_locations.hpp"

#include <cmath>
#include <numbers>
#include <random>
#include <string>

namespace distance_matrix {
namespace {

// A double uniform in [0, 1) from the top 53 bits.
double unit_interval(std::mt19937_64& engine) {
  return static_cast<double>(engine() >> 11) * 0x1.0p-53;
}

// Coordinates are rounded to 6 decimals (about 0.1 m), as a real data file would hold them.
double round6(double value) {
  return std::round(value * 1e6) / 1e6;
}

}  // namespace

std::vector<Location> generate_locations(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<Location> locations;
  locations.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    // Uniform on the sphere: sin(latitude) uniform in [-1, 1].
    const double latitude = std::asin(2.0 * unit_interval(engine) - 1.0) * 180.0 / std::numbers::pi;
    const double longitude = 360.0 * unit_interval(engine) - 180.0;
    locations.push_back(
        Location{"loc-" + std::to_string(i + 1), round6(latitude), round6(longitude)});
  }
  return locations;
}

}  // namespace distance_matrix
