#include "checksum.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace image_loader {

std::uint32_t crc32_of(std::string_view data) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  // zlib takes a uInt length: feed large bodies in pieces.
  while (!data.empty()) {
    const std::size_t n = std::min<std::size_t>(data.size(), 1u << 30);
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(n));
    data.remove_prefix(n);
  }
  return static_cast<std::uint32_t>(crc);
}

ManifestLine checksum(std::string url, std::string_view body) {
  return {std::move(url), body.size(), crc32_of(body)};
}

std::string format(const ManifestLine& line) {
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", static_cast<unsigned>(line.crc32));
  return line.url + " " + std::to_string(line.bytes) + " " + crc;
}

}  // namespace image_loader
