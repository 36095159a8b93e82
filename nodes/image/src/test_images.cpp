// The test-image set: colours from the index, a faint texture, checks and identification.
#include <sluice/image/test_images.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <sluice/image/jpeg.hpp>

namespace sluice::image {
namespace {

// 14 levels per channel, 16 apart, from 24 to 232: with the ±6 texture nothing clips, and
// a level read back within ±7 is unambiguous.
constexpr int kLevels = 14;
constexpr int kBase = 24;
constexpr int kStep = 16;
constexpr std::size_t kPerHalf = kLevels * kLevels * kLevels;  // 2744
constexpr std::size_t kRightMix = 577;  // varies the right half even for small indices
constexpr int kTexture = 6;

std::uint64_t mix(std::uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

Rgb level_colour(std::size_t k) {
  auto level = [](std::size_t l) {
    return static_cast<std::uint8_t>(kBase + kStep * static_cast<int>(l));
  };
  return {level(k % kLevels), level(k / kLevels % kLevels), level(k / (kLevels * kLevels))};
}

// The level index of a colour, or nullopt when a channel is not near a level.
std::optional<std::size_t> colour_level(const double (&rgb)[3]) {
  std::size_t k = 0, scale = 1;
  for (double v : rgb) {
    const long l = std::lround((v - kBase) / kStep);
    if (l < 0 || l >= kLevels || std::abs(v - (kBase + kStep * l)) > kStep / 2 - 1) {
      return std::nullopt;
    }
    k += static_cast<std::size_t>(l) * scale;
    scale *= kLevels;
  }
  return k;
}

struct Patch {
  double mean[3] = {0, 0, 0};
};

// The mean colour of a square patch centred on (cx, cy).
Patch patch_mean(const Image& img, int cx, int cy, int r) {
  Patch p;
  long count = 0;
  for (int y = cy - r; y <= cy + r; ++y) {
    for (int x = cx - r; x <= cx + r; ++x) {
      const std::uint8_t* px = img.at(x, y);
      for (int c = 0; c < 3; ++c) p.mean[c] += px[c];
      ++count;
    }
  }
  for (double& m : p.mean) m /= static_cast<double>(count);
  return p;
}

// Patches in the middle of each half, far from the boundary and the edges.
std::pair<Patch, Patch> half_patches(const Image& img) {
  const int r = std::max(1, std::min(img.width, img.height) / 16);
  return {patch_mean(img, img.width / 4, img.height / 2, r),
          patch_mean(img, img.width * 3 / 4, img.height / 2, r)};
}

std::string describe(const char* half, const Patch& p, Rgb want, int tolerance) {
  char line[160];
  std::snprintf(line, sizeof line, "%s half mean (%.1f, %.1f, %.1f), expected (%d, %d, %d) +-%d",
                half, p.mean[0], p.mean[1], p.mean[2], want.r, want.g, want.b, tolerance);
  return line;
}

bool near(const Patch& p, Rgb want, int tolerance) {
  const int w[3] = {want.r, want.g, want.b};
  for (int c = 0; c < 3; ++c) {
    if (std::abs(p.mean[c] - w[c]) > tolerance) return false;
  }
  return true;
}

void require_checkable(const Image& image) {
  if (image.width < 16 || image.height < 16) {
    throw std::invalid_argument("test images are checked at 16x16 or more, got " +
                                std::to_string(image.width) + "x" + std::to_string(image.height));
  }
}

}  // namespace

std::pair<Rgb, Rgb> test_image_colours(std::size_t index) {
  if (index >= max_test_images) {
    throw std::out_of_range("test image index " + std::to_string(index) + " is beyond " +
                            std::to_string(max_test_images - 1));
  }
  const std::size_t left = index % kPerHalf;
  const std::size_t right = (index / kPerHalf + left * kRightMix) % kPerHalf;
  return {level_colour(left), level_colour(right)};
}

std::pair<int, int> test_image_size(std::size_t index, const TestImageOptions& options) {
  if (options.min_side < 16 || options.max_side < options.min_side) {
    throw std::invalid_argument("TestImageOptions: need 16 <= min_side <= max_side");
  }
  const auto span = static_cast<std::uint64_t>(options.max_side - options.min_side + 1);
  return {options.min_side + static_cast<int>(mix(index * 2 + 1) % span),
          options.min_side + static_cast<int>(mix(index * 2 + 2) % span)};
}

Image make_test_image(std::size_t index, int width, int height) {
  const auto [left, right] = test_image_colours(index);
  Image img(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const Rgb base = x < width / 2 ? left : right;
      // The texture: per pixel and channel, uniform in [-6, 6].
      const std::uint64_t h = mix((index << 32) ^ (static_cast<std::uint64_t>(y) << 16) ^
                                  static_cast<std::uint64_t>(x) ^ 0x5bd1e995ull);
      std::uint8_t* px = img.at(x, y);
      const int channel[3] = {base.r, base.g, base.b};
      for (int c = 0; c < 3; ++c) {
        const int noise = static_cast<int>((h >> (c * 16)) % (2 * kTexture + 1)) - kTexture;
        px[c] = static_cast<std::uint8_t>(channel[c] + noise);
      }
    }
  }
  return img;
}

Image make_test_image(std::size_t index, const TestImageOptions& options) {
  const auto [w, h] = test_image_size(index, options);
  return make_test_image(index, w, h);
}

std::vector<std::uint8_t> encode_test_image(std::size_t index, const TestImageOptions& options) {
  return encode_jpeg(make_test_image(index, options), options.quality);
}

std::string test_image_name(std::size_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "img_%06zu.jpg", index);
  return name;
}

std::vector<std::filesystem::path> generate_test_images(const std::filesystem::path& folder,
                                                        std::size_t count,
                                                        const TestImageOptions& options,
                                                        bool skip_existing) {
  std::filesystem::create_directories(folder);
  std::vector<std::filesystem::path> paths;
  paths.reserve(count);
  const std::string tmp_suffix =
      ".tmp" + std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  for (std::size_t i = 0; i < count; ++i) {
    std::filesystem::path path = folder / test_image_name(i);
    std::error_code ec;
    if (!(skip_existing && std::filesystem::file_size(path, ec) > 0 && !ec)) {
      const std::vector<std::uint8_t> bytes = encode_test_image(i, options);
      const std::filesystem::path tmp = path.string() + tmp_suffix;
      {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
        if (!out.good()) throw std::runtime_error("cannot write " + tmp.string());
      }
      std::filesystem::rename(tmp, path);  // never a half-written image under the real name
    }
    paths.push_back(std::move(path));
  }
  return paths;
}

std::string check_test_image(const Image& image, std::size_t index, int tolerance) {
  require_checkable(image);
  const auto [left, right] = test_image_colours(index);
  const auto [pl, pr] = half_patches(image);
  std::string why;
  if (!near(pl, left, tolerance)) why = describe("left", pl, left, tolerance);
  if (!near(pr, right, tolerance)) {
    if (!why.empty()) why += "; ";
    why += describe("right", pr, right, tolerance);
  }
  if (!why.empty()) why = test_image_name(index) + ": " + why;
  return why;
}

std::optional<std::size_t> identify_test_image(const Image& image) {
  require_checkable(image);
  const auto [pl, pr] = half_patches(image);
  const auto left = colour_level(pl.mean);
  const auto right = colour_level(pr.mean);
  if (!left || !right) return std::nullopt;
  const std::size_t high = (*right + kPerHalf - (*left * kRightMix) % kPerHalf) % kPerHalf;
  return high * kPerHalf + *left;
}

}  // namespace sluice::image
