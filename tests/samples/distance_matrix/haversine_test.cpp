// The haversine distance against known figures.
#include <cmath>
#include <numbers>

#include <gtest/gtest.h>

#include "haversine.hpp"

namespace dm = distance_matrix;

TEST(DistanceMatrixHaversine, RadiusIsTheIuggMeanRadius) {
  EXPECT_EQ(dm::kEarthRadiusKm, 6371.0088);
}

TEST(DistanceMatrixHaversine, LondonToParis) {
  // Charing Cross to Notre-Dame, as commonly quoted: about 343.5 km.
  EXPECT_NEAR(dm::haversine_km(51.5074, -0.1278, 48.8566, 2.3522), 343.5, 0.1);
}

TEST(DistanceMatrixHaversine, NewYorkToLosAngeles) {
  EXPECT_NEAR(dm::haversine_km(40.7128, -74.0060, 34.0522, -118.2437), 3935.75, 0.05);
}

TEST(DistanceMatrixHaversine, AntipodesAreHalfACircumferenceApart) {
  const double half = std::numbers::pi * dm::kEarthRadiusKm;
  EXPECT_NEAR(dm::haversine_km(0, 0, 0, 180), half, 1e-9);
  EXPECT_NEAR(dm::haversine_km(90, 0, -90, 0), half, 1e-9);
  EXPECT_NEAR(dm::haversine_km(45, 10, -45, -170), half, 1e-6);
  EXPECT_FALSE(std::isnan(dm::haversine_km(33.3, 44.4, -33.3, -135.6)));
}

TEST(DistanceMatrixHaversine, EquatorToPoleIsAQuarter) {
  EXPECT_NEAR(dm::haversine_km(0, 0, 90, 0), std::numbers::pi * dm::kEarthRadiusKm / 2, 1e-9);
}

TEST(DistanceMatrixHaversine, SamePointIsZero) {
  EXPECT_EQ(dm::haversine_km(48.8566, 2.3522, 48.8566, 2.3522), 0.0);
  EXPECT_EQ(dm::haversine_km(-90, 0, -90, 0), 0.0);
}

TEST(DistanceMatrixHaversine, DatelineIsCrossedTheShortWay) {
  EXPECT_NEAR(dm::haversine_km(0, 179.5, 0, -179.5), std::numbers::pi * dm::kEarthRadiusKm / 180.0,
              1e-9);
}

TEST(DistanceMatrixHaversine, SymmetricAndMatchesGeoPointForm) {
  const dm::GeoPoint a = dm::to_geo_point(35.6762, 139.6503);
  const dm::GeoPoint b = dm::to_geo_point(-33.8688, 151.2093);
  EXPECT_EQ(dm::haversine_km(a, b), dm::haversine_km(35.6762, 139.6503, -33.8688, 151.2093));
  EXPECT_NEAR(dm::haversine_km(a, b), dm::haversine_km(b, a), 1e-9);
}
