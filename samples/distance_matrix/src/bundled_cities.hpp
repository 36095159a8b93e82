// The city list bundled with the sample (data/cities.csv), compiled into the binary so the
// program needs no file next to it.
#pragma once

#include <string_view>

namespace distance_matrix {

/// The bytes of data/cities.csv: ~100 real cities as `name,latitude,longitude` rows.
std::string_view bundled_cities_csv() noexcept;

}  // namespace distance_matrix
