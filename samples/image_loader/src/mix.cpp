#include "mix.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace image_loader {
namespace {

[[noreturn]] void refuse(const std::string& text, const std::string& why) {
  throw std::invalid_argument("'" + text + "': " + why +
                              "; expected two positive weights, e.g. 0.7,0.3");
}

double weight(const std::string& text, const std::string& part, const char* which) {
  if (part.empty()) refuse(text, std::string("the ") + which + " weight is missing");
  errno = 0;
  char* end = nullptr;
  const double w = std::strtod(part.c_str(), &end);
  if (end != part.c_str() + part.size() || errno == ERANGE || !std::isfinite(w)) {
    refuse(text, std::string("the ") + which + " weight '" + part + "' is not a number");
  }
  if (w <= 0) refuse(text, std::string("the ") + which + " weight '" + part + "' is not above 0");
  return w;
}

}  // namespace

std::array<double, 2> parse_mix(const std::string& text) {
  const std::size_t comma = text.find(',');
  if (comma == std::string::npos) refuse(text, "two weights are needed, separated by a comma");
  if (text.find(',', comma + 1) != std::string::npos) refuse(text, "more than two weights");
  return {weight(text, text.substr(0, comma), "first"),
          weight(text, text.substr(comma + 1), "second")};
}

}  // namespace image_loader
