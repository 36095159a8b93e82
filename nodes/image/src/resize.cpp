// Bilinear resampling with pixel centres aligned: output pixel x samples source position
// (x + 0.5) * scale - 0.5, so resizing to the same size is the identity and both edges are
// treated alike.
#include <sluice/image/resize.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace sluice::image {
namespace {

struct Tap {
  int i0, i1;  // the two source samples
  float w1;    // weight of i1
};

// The taps for `out` samples over `length` source samples starting at `start`.
std::vector<Tap> taps(int start, int length, int out) {
  std::vector<Tap> t(static_cast<std::size_t>(out));
  const double scale = static_cast<double>(length) / out;
  for (int o = 0; o < out; ++o) {
    double s = (o + 0.5) * scale - 0.5;
    s = std::clamp(s, 0.0, static_cast<double>(length - 1));
    const int i0 = static_cast<int>(s);
    const int i1 = std::min(i0 + 1, length - 1);
    t[static_cast<std::size_t>(o)] = {start + i0, start + i1, static_cast<float>(s - i0)};
  }
  return t;
}

Image resize_region(const Image& src, int x0, int y0, int cw, int ch, int width, int height) {
  if (src.empty()) throw std::invalid_argument("resize: empty source image");
  if (width <= 0 || height <= 0) {
    throw std::invalid_argument("resize: bad target size " + std::to_string(width) + "x" +
                                std::to_string(height));
  }
  Image out(width, height);
  const std::vector<Tap> xs = taps(x0, cw, width);
  const std::vector<Tap> ys = taps(y0, ch, height);
  for (int y = 0; y < height; ++y) {
    const Tap& ty = ys[static_cast<std::size_t>(y)];
    const std::uint8_t* row0 = src.at(0, ty.i0);
    const std::uint8_t* row1 = src.at(0, ty.i1);
    std::uint8_t* dst = out.at(0, y);
    for (int x = 0; x < width; ++x) {
      const Tap& tx = xs[static_cast<std::size_t>(x)];
      const std::uint8_t* p00 = row0 + tx.i0 * 3;
      const std::uint8_t* p01 = row0 + tx.i1 * 3;
      const std::uint8_t* p10 = row1 + tx.i0 * 3;
      const std::uint8_t* p11 = row1 + tx.i1 * 3;
      for (int c = 0; c < 3; ++c) {
        const float top = p00[c] + (p01[c] - p00[c]) * tx.w1;
        const float bottom = p10[c] + (p11[c] - p10[c]) * tx.w1;
        const float v = top + (bottom - top) * ty.w1;
        dst[x * 3 + c] = static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
  return out;
}

}  // namespace

Image resize_bilinear(const Image& src, int width, int height) {
  return resize_region(src, 0, 0, src.width, src.height, width, height);
}

Image center_crop_resize(const Image& src, int width, int height) {
  if (src.empty()) throw std::invalid_argument("center_crop_resize: empty source image");
  if (width <= 0 || height <= 0) {
    throw std::invalid_argument("center_crop_resize: bad target size " + std::to_string(width) +
                                "x" + std::to_string(height));
  }
  // The largest region with the target's aspect ratio: compare src.w/src.h with w/h
  // in integers.
  int cw = src.width, ch = src.height;
  const long long lhs = static_cast<long long>(src.width) * height;
  const long long rhs = static_cast<long long>(src.height) * width;
  if (lhs > rhs) {
    cw = static_cast<int>(std::max(1LL, rhs / height));  // too wide: crop left and right
  } else if (lhs < rhs) {
    ch = static_cast<int>(std::max(1LL, lhs / width));  // too tall: crop top and bottom
  }
  return resize_region(src, (src.width - cw) / 2, (src.height - ch) / 2, cw, ch, width, height);
}

}  // namespace sluice::image
