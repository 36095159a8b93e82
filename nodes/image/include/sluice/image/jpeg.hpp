// JPEG encoding and decoding through libjpeg-turbo's TurboJPEG API.
//
// decode_jpeg is strict: anything libjpeg would only warn about — a truncated file, a
// damaged entropy segment — is an error, because a loader must not hand a half-grey image
// to training as if it were fine.
//
//   std::vector<std::uint8_t> jpeg = sluice::image::encode_jpeg(img, 90);
//   try {
//     sluice::image::Image back = sluice::image::decode_jpeg(jpeg);
//   } catch (const sluice::image::JpegError& e) {
//     std::cerr << e.what() << "\n";   // "decode_jpeg: truncated or damaged JPEG (...)"
//   }
//
// Thread-safe: each thread uses its own TurboJPEG handles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include <sluice/image/image.hpp>

namespace sluice::image {

/// What decode_jpeg and encode_jpeg throw when the data or the request is bad.
///
///   try { decode_jpeg(bytes); } catch (const JpegError& e) { fail(url + ": " + e.what()); }
class JpegError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The size a JPEG declares, read from its header only.
///
///   JpegInfo info = read_jpeg_info(bytes);   // e.g. to skip images that are too small
struct JpegInfo {
  int width = 0;
  int height = 0;
};

/// Decoding refuses images above this many pixels (a decompression-bomb guard).
inline constexpr std::size_t default_max_pixels = std::size_t{1} << 28;

/// Encodes RGB8 pixels (width * height * 3 bytes, row-major) as a baseline JPEG with no
/// chroma subsampling. `quality` is 1..100. Throws JpegError on a bad size or quality.
///
///   auto bytes = encode_jpeg(pixels, 64, 48, 90);
std::vector<std::uint8_t> encode_jpeg(std::span<const std::uint8_t> rgb, int width, int height,
                                      int quality = 90);
std::vector<std::uint8_t> encode_jpeg(const Image& image, int quality = 90);

/// Decodes a JPEG into RGB8. Throws JpegError naming what is wrong for data that is not a
/// JPEG, is corrupt or truncated (libjpeg warnings count), or declares more than
/// `max_pixels` pixels.
///
///   Image img = decode_jpeg(std::span(bytes));
Image decode_jpeg(std::span<const std::uint8_t> jpeg, std::size_t max_pixels = default_max_pixels);

/// Reads width and height from the header without decoding. Throws JpegError.
JpegInfo read_jpeg_info(std::span<const std::uint8_t> jpeg);

}  // namespace sluice::image
