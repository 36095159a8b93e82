// JPEG round trip within tolerance; corrupt, truncated and hostile data rejected clearly.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <sluice/image/jpeg.hpp>

namespace {

using sluice::image::decode_jpeg;
using sluice::image::encode_jpeg;
using sluice::image::Image;
using sluice::image::JpegError;

// A smooth picture: gradients in each channel (JPEG's easy case, like photographs).
Image gradient(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      std::uint8_t* p = img.at(x, y);
      p[0] = static_cast<std::uint8_t>(x * 255 / (w - 1));
      p[1] = static_cast<std::uint8_t>(y * 255 / (h - 1));
      p[2] = static_cast<std::uint8_t>((x + y) * 255 / (w + h - 2));
    }
  }
  return img;
}

std::string decode_error(const std::vector<std::uint8_t>& bytes) {
  try {
    decode_jpeg(bytes);
  } catch (const JpegError& e) {
    return e.what();
  }
  return "";
}

TEST(image_jpeg, RoundTripStaysWithinTolerance) {
  const Image src = gradient(173, 91);  // sizes that are not multiples of the 8x8 blocks
  const auto bytes = encode_jpeg(src, 90);
  ASSERT_GT(bytes.size(), 100u);
  EXPECT_EQ(bytes[0], 0xFF);
  EXPECT_EQ(bytes[1], 0xD8);
  const Image back = decode_jpeg(bytes);
  ASSERT_EQ(back.width, 173);
  ASSERT_EQ(back.height, 91);
  double total = 0;
  int worst = 0;
  for (std::size_t i = 0; i < src.pixels.size(); ++i) {
    const int d = std::abs(int{src.pixels[i]} - int{back.pixels[i]});
    total += d;
    worst = std::max(worst, d);
  }
  EXPECT_LT(total / static_cast<double>(src.pixels.size()), 2.0);
  EXPECT_LE(worst, 16);
}

TEST(image_jpeg, LowerQualityMeansSmallerFiles) {
  const Image src = gradient(128, 128);
  EXPECT_LT(encode_jpeg(src, 30).size(), encode_jpeg(src, 95).size());
}

TEST(image_jpeg, ReadsTheHeaderAlone) {
  const auto bytes = encode_jpeg(gradient(40, 30));
  const auto info = sluice::image::read_jpeg_info(bytes);
  EXPECT_EQ(info.width, 40);
  EXPECT_EQ(info.height, 30);
}

TEST(image_jpeg, RejectsDataThatIsNotAJpeg) {
  EXPECT_NE(decode_error({}).find("empty input is not a JPEG"), std::string::npos);
  const std::vector<std::uint8_t> text{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};
  EXPECT_NE(decode_error(text).find("not a JPEG or its header is damaged"), std::string::npos)
      << decode_error(text);
  std::vector<std::uint8_t> bytes = encode_jpeg(gradient(32, 32));
  bytes[0] = 0;  // no SOI marker
  EXPECT_NE(decode_error(bytes).find("decode_jpeg:"), std::string::npos);
}

TEST(image_jpeg, RejectsTruncatedDataAtEveryCut) {
  const std::vector<std::uint8_t> whole = encode_jpeg(gradient(96, 64));
  ASSERT_NO_THROW(decode_jpeg(whole));
  // Cuts inside the header, inside the scan, and just before the end marker.
  for (std::size_t keep : {std::size_t{2}, std::size_t{20}, whole.size() / 3, whole.size() / 2,
                           whole.size() * 9 / 10, whole.size() - 2}) {
    const std::vector<std::uint8_t> cut(whole.begin(),
                                        whole.begin() + static_cast<std::ptrdiff_t>(keep));
    const std::string why = decode_error(cut);
    EXPECT_NE(why.find("decode_jpeg:"), std::string::npos) << "kept " << keep << " bytes";
    EXPECT_NE(why.find(std::to_string(keep) + " bytes"), std::string::npos) << why;
  }
  // Past the header, turbojpeg calls it a warning; it must still be a failure.
  const std::vector<std::uint8_t> cut(
      whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(whole.size() / 2));
  EXPECT_NE(decode_error(cut).find("truncated or damaged JPEG"), std::string::npos)
      << decode_error(cut);
}

TEST(image_jpeg, RejectsADamagedScan) {
  std::vector<std::uint8_t> bytes = encode_jpeg(gradient(96, 64));
  // An end-of-image marker in the middle of the entropy-coded data.
  const std::size_t mid = bytes.size() / 2;
  bytes[mid] = 0xFF;
  bytes[mid + 1] = 0xD9;
  const std::string why = decode_error(bytes);
  EXPECT_NE(why.find("decode_jpeg:"), std::string::npos) << why;
}

TEST(image_jpeg, RefusesImagesAboveThePixelLimit) {
  const auto bytes = encode_jpeg(gradient(64, 64));
  try {
    decode_jpeg(bytes, 64 * 63);
    FAIL() << "expected a throw";
  } catch (const JpegError& e) {
    EXPECT_NE(std::string(e.what()).find("64x64 exceeds the limit of 4032 pixels"),
              std::string::npos)
        << e.what();
  }
}

TEST(image_jpeg, EncodeChecksItsArguments) {
  const Image img = gradient(8, 8);
  EXPECT_THROW(encode_jpeg(img, 0), JpegError);
  EXPECT_THROW(encode_jpeg(img, 101), JpegError);
  EXPECT_THROW(encode_jpeg(img.pixels, 8, 9, 90), JpegError);
  EXPECT_THROW(encode_jpeg(Image(), 90), JpegError);
}

TEST(image_jpeg, AHandleSurvivesAFailure) {
  const auto good = encode_jpeg(gradient(32, 32));
  std::vector<std::uint8_t> bad(good.begin(),
                                good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
  EXPECT_THROW(decode_jpeg(bad), JpegError);
  EXPECT_EQ(decode_jpeg(good).width, 32) << "the same thread decodes fine after an error";
}

}  // namespace
