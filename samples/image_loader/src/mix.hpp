// The --mix flag: the weights with which the two image sets are drawn from.
//
//   std::array<double, 2> w = parse_mix("0.7,0.3");   // {0.7, 0.3}
//   parse_mix("0.7");                                  // throws: two weights are needed
#pragma once

#include <array>
#include <string>

namespace image_loader {

/// Two positive, finite numbers separated by a comma ("0.7,0.3", "3,1"). Throws
/// std::invalid_argument with a message that says what is wrong and what is expected.
std::array<double, 2> parse_mix(const std::string& text);

}  // namespace image_loader
