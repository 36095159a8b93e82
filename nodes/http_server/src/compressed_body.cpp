#include "compressed_body.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <new>

#include "sluice/http_server.hpp"

namespace sluice::http_server::detail {

std::string compressed_pattern(std::uint64_t bytes, Encoding encoding) {
  // A whole number of 26-byte periods, so each chunk continues the pattern.
  static const auto chunk = [] {
    std::array<char, 26 * 2520> block{};
    for (std::size_t i = 0; i < block.size(); ++i) block[i] = pattern_byte(i);
    return block;
  }();
  z_stream z{};
  // windowBits 15 + 16 writes a gzip wrapper; 15 alone the zlib one.
  const int window_bits = encoding == Encoding::gzip ? 15 + 16 : 15;
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::bad_alloc();
  }
  std::string out;
  std::array<unsigned char, 64 * 1024> buffer{};
  std::uint64_t fed = 0;
  int rc = Z_OK;
  do {
    if (z.avail_in == 0 && fed < bytes) {
      const auto start = static_cast<std::size_t>(fed % 26);
      const auto length =
          static_cast<uInt>(std::min<std::uint64_t>(bytes - fed, chunk.size() - start));
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data() + start));
      z.avail_in = length;
      fed += length;
    }
    z.next_out = buffer.data();
    z.avail_out = static_cast<uInt>(buffer.size());
    rc = deflate(&z, fed < bytes ? Z_NO_FLUSH : Z_FINISH);
    out.append(reinterpret_cast<const char*>(buffer.data()), buffer.size() - z.avail_out);
  } while (rc == Z_OK || rc == Z_BUF_ERROR);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::bad_alloc();
  return out;
}

}  // namespace sluice::http_server::detail
