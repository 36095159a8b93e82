// The checksum manifest: one line per downloaded image, "URL BYTES CRC32" (the CRC-32 of
// the body as zlib computes it, 8 lowercase hex digits).
//
//   ManifestLine line = checksum(response.url, response.body);
//   out << format(line) << "\n";   // http://127.0.0.1:4242/static/img_000007.jpg 5123 1c291ca3
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace image_loader {

struct ManifestLine {
  std::string url;
  std::uint64_t bytes = 0;
  std::uint32_t crc32 = 0;
};

/// zlib's crc32 of `data`.
std::uint32_t crc32_of(std::string_view data);

/// The manifest line of `body` downloaded from `url`.
ManifestLine checksum(std::string url, std::string_view body);

/// "URL BYTES CRC32", without a newline.
std::string format(const ManifestLine& line);

}  // namespace image_loader
