// The built image_loader, run as a user runs it: 40 images with --json on the host
// backend; every request ends verified or failed, and the failures are the bad ones.
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "program_fixture.hpp"

namespace {

class ImageLoaderProgram : public sluice::test::ProgramTest {
 protected:
  ImageLoaderProgram() : ProgramTest(IMAGE_LOADER_EXE, "image_loader") {}

  // The integer value of "key" in a flat JSON object; -1 when absent.
  static long field(const std::string& json, const std::string& key) {
    std::smatch m;
    const std::regex re("\"" + key + "\":\\s*([0-9]+)");
    return std::regex_search(json, m, re) ? std::stol(m[1].str()) : -1;
  }
};

TEST_F(ImageLoaderProgram, JsonRunCountsEveryImageAndTheBadOnes) {
  const std::string args = "--images 40 --batch 8 --corrupt 2 --device cpu --json --cache '" +
                           (dir_ / "cache").string() + "'";
  for (int pass = 0; pass < 2; ++pass) {  // the first run generates, the second reuses
    ASSERT_EQ(run(args), 0) << read("stderr");
    const std::string out = read("stdout");
    const long requested = field(out, "images");
    const long ok = field(out, "ok");
    const long failed = field(out, "failed");
    EXPECT_EQ(requested, 44) << out;
    EXPECT_EQ(ok, 40) << out;
    EXPECT_EQ(failed, 4) << out << read("stderr");
    EXPECT_EQ(ok + failed, requested) << out;
    EXPECT_EQ(field(out, "wrong"), 0) << out;
    EXPECT_NE(out.find("\"device\": \"cpu\""), std::string::npos) << out;
  }
}

TEST_F(ImageLoaderProgram, BadFlagsAreRefused) {
  EXPECT_NE(run("--device tpu"), 0);
  EXPECT_NE(read("stderr").find("--device"), std::string::npos) << read("stderr");
  EXPECT_NE(run("--batch 0"), 0);
  EXPECT_NE(run("--no-such-flag"), 0);
}

}  // namespace
