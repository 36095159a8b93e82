#include "haversine.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace distance_matrix {

GeoPoint to_geo_point(double latitude_deg, double longitude_deg) noexcept {
  constexpr double kRadPerDeg = std::numbers::pi / 180.0;
  const double latitude_rad = latitude_deg * kRadPerDeg;
  return GeoPoint{latitude_rad, longitude_deg * kRadPerDeg, std::cos(latitude_rad)};
}

double haversine_km(const GeoPoint& a, const GeoPoint& b) noexcept {
  const double sin_half_dlat = std::sin((b.latitude_rad - a.latitude_rad) / 2.0);
  const double sin_half_dlon = std::sin((b.longitude_rad - a.longitude_rad) / 2.0);
  const double h = sin_half_dlat * sin_half_dlat +
                   a.cos_latitude * b.cos_latitude * sin_half_dlon * sin_half_dlon;
  // Rounding can push h a hair above 1 for antipodal points; asin would return NaN.
  return 2.0 * kEarthRadiusKm * std::asin(std::sqrt(std::min(h, 1.0)));
}

double haversine_km(double latitude1_deg, double longitude1_deg, double latitude2_deg,
                    double longitude2_deg) noexcept {
  return haversine_km(to_geo_point(latitude1_deg, longitude1_deg),
                      to_geo_point(latitude2_deg, longitude2_deg));
}

}  // namespace distance_matrix
