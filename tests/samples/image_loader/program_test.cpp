// The built image_loader, run as a user runs it: 40 images with --json on the host
// backend; every request ends verified or failed, and the failures are the bad ones.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace fs = std::filesystem;

namespace {

class ImageLoaderProgram : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("image_loader_test_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the program from the root directory; stdout and stderr go to files.
  int run(const std::string& args) {
    const std::string command = "cd / && '" + std::string(IMAGE_LOADER_EXE) + "' " + args + " > '" +
                                (dir_ / "stdout").string() + "' 2> '" + (dir_ / "stderr").string() +
                                "'";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string read(const std::string& name) const {
    std::ifstream in(dir_ / name, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // The integer value of "key" in a flat JSON object; -1 when absent.
  static long field(const std::string& json, const std::string& key) {
    std::smatch m;
    const std::regex re("\"" + key + "\":\\s*([0-9]+)");
    return std::regex_search(json, m, re) ? std::stol(m[1].str()) : -1;
  }

  fs::path dir_;
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
