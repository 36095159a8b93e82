// The built image_loader, run as a user runs it: 40 images with --json on the host
// backend; every request ends verified or failed, and the failures are the bad ones.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "program_fixture.hpp"

namespace {

class ImageLoaderProgram : public sluice::test::ProgramTest {
 protected:
  ImageLoaderProgram() : ProgramTest(IMAGE_LOADER_EXE, "image_loader") {}
};

TEST_F(ImageLoaderProgram, JsonRunCountsEveryImageAndTheBadOnes) {
  const std::string args =
      "--images 40 --batch 8 --corrupt 2 --decode-concurrency 2 "
      "--device cpu --json --cache '" +
      (dir_ / "cache").string() + "'";
  for (int pass = 0; pass < 2; ++pass) {  // the first run generates, the second reuses
    ASSERT_EQ(run(args), 0) << read("stderr");
    const std::string out = read("stdout");
    const auto j = nlohmann::json::parse(out);
    EXPECT_EQ(j.at("requested"), 44) << out;
    EXPECT_EQ(j.at("ok"), 40) << out;
    EXPECT_EQ(j.at("failed"), 4) << out << read("stderr");
    EXPECT_EQ(j.at("wrong"), 0) << out;
    EXPECT_EQ(j.at("batches"), 5) << out;  // the 40 good images in batches of 8
    EXPECT_EQ(j.at("device"), "cpu") << out;
    EXPECT_EQ(j.at("decode_concurrency"), 2) << out;
    EXPECT_GE(j.at("decode_peak"), 1) << out;
    EXPECT_LE(j.at("decode_peak"), 2) << out;
    EXPECT_GT(j.at("images_per_s").get<double>(), 0) << out;
    EXPECT_GT(j.at("downloaded_mb").get<double>(), 0) << out;
    ASSERT_EQ(j.at("failures").size(), 4u) << out;
    for (const auto& f : j.at("failures")) {
      const auto text = f.get<std::string>();
      EXPECT_TRUE(text.find("/static/corrupt_") != std::string::npos ||
                  text.find("/static/missing_") != std::string::npos)
          << text;
    }
    // The stage report: every stage named, with its busy fraction, and the counts add up.
    const auto& report = j.at("report");
    EXPECT_EQ(report.at("produced"), 44) << out;
    EXPECT_EQ(report.at("failed"), 4) << out;
    std::vector<std::string> names;
    for (const auto& s : report.at("stages")) {
      names.push_back(s.at("name"));
      EXPECT_GE(s.at("busy_fraction").get<double>(), 0) << s.dump();
    }
    for (const char* stage : {"requests", "download", "decode", "resize", "batch", "transfer"}) {
      EXPECT_NE(std::find(names.begin(), names.end(), stage), names.end()) << stage;
    }
  }
}

TEST_F(ImageLoaderProgram, TextRunNamesTheBusiestStageAndEachFailure) {
  ASSERT_EQ(run("--images 16 --batch 4 --corrupt 1 --device cpu --cache '" +
                (dir_ / "cache").string() + "'"),
            0)
      << read("stderr");
  const std::string out = read("stdout");
  EXPECT_NE(out.find("busiest stage (it bounds the run): "), std::string::npos) << out;
  EXPECT_NE(out.find("failures: 2"), std::string::npos) << out;
  EXPECT_NE(out.find("missing_000000.jpg: HTTP 404"), std::string::npos) << out;
  EXPECT_NE(out.find("corrupt_000000.jpg: "), std::string::npos) << out;
  EXPECT_NE(out.find("consumer: 16 images in 4 batches checked OK"), std::string::npos) << out;
}

TEST_F(ImageLoaderProgram, BadFlagsAreRefused) {
  EXPECT_NE(run("--device tpu"), 0);
  EXPECT_NE(read("stderr").find("--device"), std::string::npos) << read("stderr");
  EXPECT_NE(run("--batch 0"), 0);
  EXPECT_NE(read("stderr").find("--batch"), std::string::npos) << read("stderr");
  EXPECT_NE(run("--decode-concurrency 0"), 0);
  EXPECT_NE(run("--no-such-flag"), 0);
}

}  // namespace
