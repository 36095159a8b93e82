// Pattern bytes compressed with zlib, for bodies sent with a Content-Encoding.
#pragma once

#include <cstdint>
#include <string>

namespace sluice::http_server::detail {

enum class Encoding { gzip, deflate };

/// `bytes` pattern bytes ('a' + i % 26) compressed as `encoding` ("deflate" is the zlib
/// format, as HTTP means it). Throws std::bad_alloc when zlib cannot allocate.
///
///   std::string z = compressed_pattern(1 << 20, Encoding::gzip);  // a few KiB
std::string compressed_pattern(std::uint64_t bytes, Encoding encoding);

}  // namespace sluice::http_server::detail
