// Pattern bodies ('a' + i % 26) appended to a libevent buffer without building them:
// the bytes are references into one shared, immutable block.
#pragma once

#include <cstddef>
#include <cstdint>

struct evbuffer;

namespace sluice::http_server::detail {

/// Appends min(remaining, max_bytes) pattern bytes for body offsets [offset, ...) and
/// returns how many it appended.
std::uint64_t append_pattern(evbuffer* out, std::uint64_t offset, std::uint64_t remaining,
                             std::uint64_t max_bytes);

}  // namespace sluice::http_server::detail
