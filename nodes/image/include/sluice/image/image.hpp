// Image: an 8-bit RGB picture in one contiguous buffer, what decode_jpeg returns and the
// resize functions take and give.
//
//   sluice::image::Image img(640, 480);           // black
//   img.at(10, 20)[0] = 255;                      // the red byte of pixel (x=10, y=20)
//   std::span<const std::uint8_t> bytes = img.pixels;
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sluice::image {

/// RGB8 pixels with their size.
///
///   Image img = decode_jpeg(bytes);
///   const std::uint8_t* centre = img.at(img.width / 2, img.height / 2);
struct Image {
  static constexpr int channels = 3;  // R, G, B

  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  ///< row-major, width * height * 3 bytes, no padding

  Image() = default;
  /// A black image; throws std::invalid_argument on a negative size.
  Image(int width, int height);

  bool empty() const noexcept { return width == 0 || height == 0; }
  std::size_t row_bytes() const noexcept { return static_cast<std::size_t>(width) * channels; }

  /// The 3 bytes of pixel (x, y); no bounds check.
  std::uint8_t* at(int x, int y) noexcept { return pixels.data() + offset(x, y); }
  const std::uint8_t* at(int x, int y) const noexcept { return pixels.data() + offset(x, y); }

 private:
  std::size_t offset(int x, int y) const noexcept {
    return static_cast<std::size_t>(y) * row_bytes() + static_cast<std::size_t>(x) * channels;
  }
};

}  // namespace sluice::image
