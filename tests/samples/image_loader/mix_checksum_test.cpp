// The --mix parser (two positive weights, a message naming what is wrong otherwise) and
// the manifest's checksum lines.
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "checksum.hpp"
#include "crc32_reference.hpp"
#include "mix.hpp"

namespace {

using image_loader::parse_mix;

TEST(ParseMix, TakesTwoPositiveWeights) {
  EXPECT_EQ(parse_mix("0.7,0.3"), (std::array<double, 2>{0.7, 0.3}));
  EXPECT_EQ(parse_mix("3,1"), (std::array<double, 2>{3, 1}));
  EXPECT_EQ(parse_mix("1e-3,2.5"), (std::array<double, 2>{1e-3, 2.5}));
}

TEST(ParseMix, RefusesAnythingElseSayingWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {"0.7", "two weights are needed"},    {"", "two weights are needed"},
      {"1,2,3", "more than two weights"},   {",1", "first weight is missing"},
      {"1,", "second weight is missing"},   {"a,1", "'a' is not a number"},
      {"1,0.3x", "'0.3x' is not a number"}, {"1,inf", "'inf' is not a number"},
      {"nan,1", "'nan' is not a number"},   {"0,1", "'0' is not above 0"},
      {"1,-0.5", "'-0.5' is not above 0"},
  };
  for (const auto& [text, why] : cases) {
    try {
      parse_mix(text);
      ADD_FAILURE() << "'" << text << "' was taken";
    } catch (const std::invalid_argument& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(why), std::string::npos) << text << ": " << message;
      EXPECT_NE(message.find("expected two positive weights, e.g. 0.7,0.3"), std::string::npos)
          << message;
    }
  }
}

TEST(Checksum, IsZlibsCrc32AsTheReferenceComputesIt) {
  EXPECT_EQ(image_loader::crc32_of("123456789"), 0xcbf43926u);  // the standard check value
  EXPECT_EQ(image_loader::crc32_of(""), 0u);
  std::string bytes;
  for (int i = 0; i < 100000; ++i) bytes.push_back(static_cast<char>(i * 7 + i / 256));
  EXPECT_EQ(image_loader::crc32_of(bytes), image_loader::test::crc32_reference(bytes));
}

TEST(Checksum, ALineIsUrlBytesAndEightHexDigits) {
  const auto line = image_loader::checksum("http://h/x.jpg", "123456789");
  EXPECT_EQ(line.bytes, 9u);
  EXPECT_EQ(image_loader::format(line), "http://h/x.jpg 9 cbf43926");
  EXPECT_EQ(image_loader::format({"u", 0, 0x1a}), "u 0 0000001a");
}

}  // namespace
