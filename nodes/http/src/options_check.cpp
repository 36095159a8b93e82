#include "options_check.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>

namespace sluice::http::detail {

namespace {

void require_cap(std::size_t value, const char* name) {
  if (value == 0) {
    throw std::invalid_argument(std::string("sluice::http::ClientOptions::") + name +
                                " is 0: a cap must be at least 1 (sluice::unlimited for no cap)");
  }
}

}  // namespace

void check_options(const ClientOptions& options) {
  require_cap(options.max_host_connections, "max_host_connections");
  require_cap(options.max_total_connections, "max_total_connections");
  require_cap(options.memory_budget_bytes, "memory_budget_bytes");
}

}  // namespace sluice::http::detail
