// CRC-32 (IEEE 802.3, the one zlib and gzip use) bit by bit, written out here so the tests
// check the sample's zlib-based checksums against a computation of their own.
//
//   EXPECT_EQ(crc32_reference("123456789"), 0xcbf43926u);
#pragma once

#include <cstdint>
#include <string_view>

namespace image_loader::test {

inline std::uint32_t crc32_reference(std::string_view data) {
  std::uint32_t crc = 0xffffffffu;
  for (const char c : data) {
    crc ^= static_cast<unsigned char>(c);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

}  // namespace image_loader::test
