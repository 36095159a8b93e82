// sluice::http_server::raise_fd_limit: room for tens of thousands of sockets.
#pragma once

#include <cstdint>

namespace sluice::http_server {

/// Raises this process's RLIMIT_NOFILE soft limit to its hard limit (tens of thousands of
/// sockets need more than the usual 1024). Returns the soft limit now in effect.
/// Idempotent and thread-safe; the server calls it when it starts (see the option).
std::uint64_t raise_fd_limit() noexcept;

}  // namespace sluice::http_server
