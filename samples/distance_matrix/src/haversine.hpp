// Great-circle distance on a spherical Earth (the haversine formula).
//
// Every executor computes through `haversine_km(const GeoPoint&, const GeoPoint&)`, one
// out-of-line function, so the same pair always yields the same bits whichever thread or
// executor computes it: that is what keeps the executors' outputs byte-identical.
#pragma once

namespace distance_matrix {

/// Mean Earth radius (IUGG), the radius the distances are computed on.
inline constexpr double kEarthRadiusKm = 6371.0088;

/// A point with what the formula needs precomputed once per location, not once per pair.
struct GeoPoint {
  double latitude_rad = 0.0;
  double longitude_rad = 0.0;
  double cos_latitude = 1.0;
};

GeoPoint to_geo_point(double latitude_deg, double longitude_deg) noexcept;

/// Distance in km along the sphere of radius kEarthRadiusKm.
double haversine_km(const GeoPoint& a, const GeoPoint& b) noexcept;

/// Convenience form taking degrees; identical results to the GeoPoint form.
double haversine_km(double latitude1_deg, double longitude1_deg, double latitude2_deg,
                    double longitude2_deg) noexcept;

}  // namespace distance_matrix
