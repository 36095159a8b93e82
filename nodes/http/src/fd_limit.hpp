// The process's descriptor limit, seen from the client: raised once at start, and named
// in the message of a request that found no descriptor left.
#pragma once

#include <cstdint>
#include <string>

namespace sluice::http::detail {

/// Raises RLIMIT_NOFILE's soft limit to the hard one; returns the soft limit in effect.
/// Thread-safe.
///
///   raise_descriptor_limit();  // 1024 -> 524288 on a stock Debian
std::uint64_t raise_descriptor_limit() noexcept;

/// "the soft limit RLIMIT_NOFILE is 256 (hard 524288): ..." — what the limits are and
/// what to do about them.
std::string describe_descriptor_limit();

}  // namespace sluice::http::detail
