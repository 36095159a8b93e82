// Refusing client options that cannot mean anything, before a client starts on them.
#pragma once

#include "sluice/http/client_options.hpp"

namespace sluice::http::detail {

/// Throws std::invalid_argument naming the option when a cap is 0: no transfer could
/// run under it ("no cap" is sluice::unlimited).
///
///   check_options({.max_host_connections = 0});  // throws: "... must be at least 1 ..."
void check_options(const ClientOptions& options);

}  // namespace sluice::http::detail
