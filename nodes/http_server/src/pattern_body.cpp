#include "pattern_body.hpp"

#include <event2/buffer.h>

#include <algorithm>
#include <array>

#include "sluice/http_server.hpp"

namespace sluice::http_server::detail {

namespace {

// A whole number of 26-byte periods, so a slice starting at offset % 26 continues the
// pattern for as long as the block lasts.
constexpr std::size_t kBlockBytes = 26 * 2520;  // 65,520
// Below this a copy is cheaper than a reference (each reference is a buffer chain).
constexpr std::uint64_t kCopyBelow = 4096;

const std::array<char, kBlockBytes>& pattern_block() {
  static const auto block = [] {
    std::array<char, kBlockBytes> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = pattern_byte(i);
    return bytes;
  }();
  return block;
}

}  // namespace

std::uint64_t append_pattern(evbuffer* out, std::uint64_t offset, std::uint64_t remaining,
                             std::uint64_t max_bytes) {
  const auto& block = pattern_block();
  const std::uint64_t total = std::min(remaining, max_bytes);
  std::uint64_t added = 0;
  while (added < total) {
    const auto start = static_cast<std::size_t>((offset + added) % 26);
    const auto length =
        static_cast<std::size_t>(std::min<std::uint64_t>(total - added, kBlockBytes - start));
    const char* data = block.data() + start;
    const int rc = length < kCopyBelow
                       ? evbuffer_add(out, data, length)
                       : evbuffer_add_reference(out, data, length, nullptr, nullptr);
    if (rc != 0) break;  // out of memory: the caller sees a short count
    added += length;
  }
  return added;
}

}  // namespace sluice::http_server::detail
