// Fuzz target: decoding and resizing an image a server sent (the image loader's decode and
// resize stages). The first two input bytes pick the output size (1..256 on each side);
// the rest is the JPEG. Malformed files must fail with JpegError, never crash, and a
// header declaring a huge size must be refused before the pixels are allocated.
//
// Checks: a decoded image has the size its header declares and that many pixel bytes, no
// more pixels than the limit; both resizes give exactly the size asked for.
#include <cstddef>
#include <cstdint>
#include <span>

#include <sluice/image/jpeg.hpp>
#include <sluice/image/resize.hpp>

#include "fuzz_check.hpp"

namespace img = sluice::image;

namespace {

// 4 Mpixel (12 MB of RGB): room for every real test image, and quick to refuse past it.
constexpr std::size_t kMaxPixels = std::size_t{1} << 22;

void check_size(const img::Image& image, int width, int height) {
  FUZZ_CHECK(image.width == width && image.height == height, "an image of the wrong size");
  FUZZ_CHECK(image.pixels.size() == static_cast<std::size_t>(width) * height * 3,
             "pixel bytes do not match the size");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int out_width = 1 + data[0];
  const int out_height = 1 + data[1];
  const std::span<const std::uint8_t> jpeg(data + 2, size - 2);

  bool have_info = false;
  img::JpegInfo info;
  try {
    info = img::read_jpeg_info(jpeg);
    have_info = true;
    FUZZ_CHECK(info.width > 0 && info.height > 0, "a header with no size");
  } catch (const img::JpegError&) {
  }

  img::Image decoded;
  try {
    decoded = img::decode_jpeg(jpeg, kMaxPixels);
  } catch (const img::JpegError&) {
    return 0;
  }
  FUZZ_CHECK(have_info, "decoded an image whose header read_jpeg_info refused");
  check_size(decoded, info.width, info.height);
  FUZZ_CHECK(static_cast<std::size_t>(info.width) * info.height <= kMaxPixels,
             "decoded past the pixel limit");

  check_size(img::center_crop_resize(decoded, out_width, out_height), out_width, out_height);
  check_size(img::resize_bilinear(decoded, out_width, out_height), out_width, out_height);
  return 0;
}
