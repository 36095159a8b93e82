// The generated test set: deterministic, mixed sizes, and checkable after decode+resize.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include <sluice/image.hpp>

namespace {

namespace fs = std::filesystem;
using namespace sluice::image;

std::vector<std::uint8_t> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A fresh folder per test, removed afterwards.
class image_test_set : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("sluice_image_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST(image_test_colours, AreDistinctAndReadBack) {
  std::set<std::pair<int, int>> seen;
  for (std::size_t i = 0; i < 5000; ++i) {
    const auto [l, r] = test_image_colours(i);
    seen.insert({l.r << 16 | l.g << 8 | l.b, r.r << 16 | r.g << 8 | r.b});
    EXPECT_EQ(identify_test_image(make_test_image(i, 32, 32)), i);
  }
  EXPECT_EQ(seen.size(), 5000u);
  EXPECT_EQ(identify_test_image(make_test_image(max_test_images - 1, 40, 20)), max_test_images - 1);
  EXPECT_THROW(test_image_colours(max_test_images), std::out_of_range);
}

TEST(image_test_colours, AForeignImageIsNotIdentified) {
  Image grey(64, 64);
  std::fill(grey.pixels.begin(), grey.pixels.end(), std::uint8_t{128});  // between levels
  EXPECT_EQ(identify_test_image(grey), std::nullopt);
  EXPECT_NE(check_test_image(grey, 0), "");
}

TEST_F(image_test_set, GeneratesMixedSizesThatDecodeAndCheckAfterResize) {
  const TestImageOptions options{.min_side = 64, .max_side = 320, .quality = 85};
  const auto files = generate_test_images(dir_, 40, options);
  ASSERT_EQ(files.size(), 40u);
  std::set<std::pair<int, int>> sizes;
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(files[i].filename(), test_image_name(i));
    const Image img = decode_jpeg(read_file(files[i]));
    EXPECT_EQ(std::pair(img.width, img.height), test_image_size(i, options));
    sizes.insert({img.width, img.height});
    EXPECT_EQ(check_test_image(img, i), "");
    for (const Image& fixed : {center_crop_resize(img, 224, 224), resize_bilinear(img, 96, 64),
                               center_crop_resize(img, 32, 48)}) {
      EXPECT_EQ(check_test_image(fixed, i), "") << "image " << i;
      EXPECT_EQ(identify_test_image(fixed), i);
    }
  }
  EXPECT_GT(sizes.size(), 30u) << "sizes should be mixed";
}

TEST_F(image_test_set, IsDeterministic) {
  const auto a = generate_test_images(dir_ / "a", 12);
  const auto b = generate_test_images(dir_ / "b", 12);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto bytes = read_file(a[i]);
    EXPECT_EQ(bytes, read_file(b[i])) << i;
    EXPECT_EQ(bytes, encode_test_image(i));
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "a"), fs::directory_iterator()), 12)
      << "no temporary files left behind";
}

TEST_F(image_test_set, SkipsExistingFilesWhenAsked) {
  const auto first = generate_test_images(dir_, 3);
  { std::ofstream(first[1], std::ios::trunc) << "keep me"; }
  generate_test_images(dir_, 3, {}, /*skip_existing=*/true);
  EXPECT_EQ(read_file(first[1]).size(), 7u);
  generate_test_images(dir_, 3);
  EXPECT_EQ(read_file(first[1]), encode_test_image(1));
}

TEST(image_test_check, NamesTheHalfThatDiffers) {
  const Image img = make_test_image(5, 64, 64);
  EXPECT_EQ(check_test_image(img, 5), "");
  const std::string why = check_test_image(img, 6);
  EXPECT_NE(why.find("img_000006.jpg: left half mean"), std::string::npos) << why;
  EXPECT_THROW(check_test_image(Image(8, 8), 0), std::invalid_argument);
}

}  // namespace
