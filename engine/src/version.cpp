#include "sluice/version.hpp"

namespace sluice {

const char* version() noexcept {
  return "0.1.0";
}

}  // namespace sluice
