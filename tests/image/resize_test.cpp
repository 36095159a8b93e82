// Resizing: sizes, identity, solid colours, gradients, and what a centre crop keeps.
#include <gtest/gtest.h>

#include <sluice/image/resize.hpp>

namespace {

using sluice::image::center_crop_resize;
using sluice::image::Image;
using sluice::image::resize_bilinear;

Image solid(int w, int h, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      img.at(x, y)[0] = r;
      img.at(x, y)[1] = g;
      img.at(x, y)[2] = b;
    }
  return img;
}

// Three vertical bands: red | green | blue.
Image bands(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) img.at(x, y)[x * 3 / w] = 200;
  return img;
}

TEST(image_resize, ProducesTheRequestedSize) {
  const Image src = solid(37, 23, 1, 2, 3);
  for (auto [w, h] : {std::pair{224, 224}, {1, 1}, {500, 7}, {37, 23}}) {
    const Image out = resize_bilinear(src, w, h);
    EXPECT_EQ(out.width, w);
    EXPECT_EQ(out.height, h);
    EXPECT_EQ(out.pixels.size(), static_cast<std::size_t>(w * h * 3));
    const Image crop = center_crop_resize(src, w, h);
    EXPECT_EQ(crop.width, w);
    EXPECT_EQ(crop.height, h);
  }
}

TEST(image_resize, SameSizeIsTheIdentity) {
  Image src(19, 11);
  for (std::size_t i = 0; i < src.pixels.size(); ++i)
    src.pixels[i] = static_cast<std::uint8_t>(i * 37);
  EXPECT_EQ(resize_bilinear(src, 19, 11).pixels, src.pixels);
  EXPECT_EQ(center_crop_resize(src, 19, 11).pixels, src.pixels);
}

TEST(image_resize, ASolidColourStaysExact) {
  const Image out = resize_bilinear(solid(300, 200, 10, 120, 250), 64, 97);
  EXPECT_EQ(out.pixels, solid(64, 97, 10, 120, 250).pixels);
}

TEST(image_resize, AGradientStaysMonotonicWithItsEnds) {
  Image src(256, 4);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 256; ++x) src.at(x, y)[0] = static_cast<std::uint8_t>(x);
  for (int w : {64, 100, 512}) {
    const Image out = resize_bilinear(src, w, 2);
    for (int x = 1; x < w; ++x) EXPECT_LE(out.at(x - 1, 0)[0], out.at(x, 0)[0]);
    EXPECT_LE(out.at(0, 0)[0], 2);
    EXPECT_GE(out.at(w - 1, 0)[0], 253);
  }
}

TEST(image_resize, UpscalingInterpolatesBetweenPixels) {
  Image src(2, 1);
  src.at(1, 0)[1] = 200;  // green 0 -> 200
  const Image out = resize_bilinear(src, 4, 1);
  EXPECT_EQ(out.at(0, 0)[1], 0);
  EXPECT_EQ(out.at(1, 0)[1], 50);
  EXPECT_EQ(out.at(2, 0)[1], 150);
  EXPECT_EQ(out.at(3, 0)[1], 200);
}

TEST(image_resize, CenterCropKeepsTheMiddleOfAWideImage) {
  const Image out = center_crop_resize(bands(300, 100), 50, 50);  // crop = the green band
  for (int y = 0; y < 50; ++y)
    for (int x = 0; x < 50; ++x) {
      EXPECT_EQ(out.at(x, y)[0], 0);
      EXPECT_EQ(out.at(x, y)[1], 200);
      EXPECT_EQ(out.at(x, y)[2], 0);
    }
}

TEST(image_resize, CenterCropKeepsTheMiddleOfATallImage) {
  Image tall(60, 180);  // top third red, middle green, bottom blue
  for (int y = 0; y < 180; ++y)
    for (int x = 0; x < 60; ++x) tall.at(x, y)[y / 60] = 200;
  const Image out = center_crop_resize(tall, 30, 30);
  EXPECT_EQ(out.at(15, 0)[1], 200);
  EXPECT_EQ(out.at(15, 29)[1], 200);
  EXPECT_EQ(out.at(0, 15)[0], 0);
}

TEST(image_resize, StretchingKeepsAllBands) {
  const Image out = resize_bilinear(bands(300, 100), 30, 30);
  EXPECT_EQ(out.at(2, 15)[0], 200);
  EXPECT_EQ(out.at(15, 15)[1], 200);
  EXPECT_EQ(out.at(27, 15)[2], 200);
}

TEST(image_resize, RejectsBadArguments) {
  EXPECT_THROW(resize_bilinear(Image(), 4, 4), std::invalid_argument);
  EXPECT_THROW(resize_bilinear(solid(4, 4, 0, 0, 0), 0, 4), std::invalid_argument);
  EXPECT_THROW(center_crop_resize(solid(4, 4, 0, 0, 0), 4, -1), std::invalid_argument);
}

}  // namespace
