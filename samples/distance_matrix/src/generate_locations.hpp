// Random locations for --generate: spread uniformly over the sphere (not the lat/lon
// rectangle, which would crowd the poles), named "loc-1", "loc-2", ...
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "location.hpp"

namespace distance_matrix {

/// The same (count, seed) gives the same locations: the generator is std::mt19937_64, whose
/// output the standard fixes, turned into doubles by hand rather than through
/// std::uniform_real_distribution, whose algorithm differs between standard libraries.
std::vector<Location> generate_locations(std::size_t count, std::uint64_t seed);

}  // namespace distance_matrix
