// A deterministic set of test JPEGs whose content says which image it is, so a consumer
// at the end of a pipeline (after decode, crop, resize, batching, a device round trip) can
// check every image it received.
//
// Image `index` is split vertically: the left half is one colour, the right half another,
// both derived from the index, with a faint texture (±6) so JPEG files have realistic
// sizes. Colour levels are 16 apart, so the colours survive JPEG and resizing and
// identify_test_image can read the index back. Sizes vary per index (mixed aspect ratios).
//
//   auto files = sluice::image::generate_test_images(cache_dir, 1000);
//   ...
//   Image got = center_crop_resize(decode_jpeg(bytes), 224, 224);
//   if (auto why = sluice::image::check_test_image(got, index); !why.empty()) fail(why);
//   std::optional<std::size_t> which = sluice::image::identify_test_image(got);
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <sluice/image/image.hpp>

namespace sluice::image {

/// One colour.
///
///   auto [left, right] = test_image_colours(7);   // left.r, left.g, left.b
struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

/// How a test set looks.
///
///   generate_test_images(dir, 100, {.min_side = 64, .max_side = 256, .quality = 85});
struct TestImageOptions {
  int min_side = 96;  ///< each side is drawn from [min_side, max_side]
  int max_side = 640;
  int quality = 90;
};

/// Indices from 0 to max_test_images - 1 have distinct colour pairs.
inline constexpr std::size_t max_test_images = std::size_t{2744} * 2744;

/// The colours of test image `index`: {left half, right half}.
std::pair<Rgb, Rgb> test_image_colours(std::size_t index);

/// The size of test image `index` in a set made with `options`.
std::pair<int, int> test_image_size(std::size_t index, const TestImageOptions& options = {});

/// The pixels of test image `index` at its set size (or at width x height).
Image make_test_image(std::size_t index, const TestImageOptions& options = {});
Image make_test_image(std::size_t index, int width, int height);

/// The JPEG bytes of test image `index` (what generate_test_images writes).
std::vector<std::uint8_t> encode_test_image(std::size_t index,
                                            const TestImageOptions& options = {});

/// "img_000042.jpg": the file name of test image `index`.
std::string test_image_name(std::size_t index);

/// Writes test images 0..count-1 into `folder` (created if needed) and returns their paths
/// in index order. Each file is written to a temporary name and renamed, so an interrupted
/// run never leaves a truncated image; with `skip_existing`, files already there are kept
/// (a cache on later runs). The bytes depend only on the index, the options and the
/// libjpeg-turbo version.
std::vector<std::filesystem::path> generate_test_images(const std::filesystem::path& folder,
                                                        std::size_t count,
                                                        const TestImageOptions& options = {},
                                                        bool skip_existing = false);

/// Checks that `image` (decoded, maybe cropped/resized, at least 16x16) shows test image
/// `index`: the mean colour of a patch in each half is within `tolerance` of the expected
/// colour on every channel. Returns "" when it does, else what differs.
std::string check_test_image(const Image& image, std::size_t index, int tolerance = 6);

/// The index a test image shows, or nullopt when it does not look like one.
std::optional<std::size_t> identify_test_image(const Image& image);

}  // namespace sluice::image
