// A scratch folder per test, and a sample's built program run as a user runs it: from
// the root directory (so nothing depends on the working directory), with stdout and
// stderr kept in files of the scratch folder.
//
//   class MyProgram : public sluice::test::ProgramTest {
//    protected:
//     MyProgram() : ProgramTest(MY_EXE, "my_program") {}
//   };
//   TEST_F(MyProgram, Runs) { EXPECT_EQ(run("--json"), 0) << read("stderr"); }
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace sluice::test {

class ProgramTest : public ::testing::Test {
 protected:
  ProgramTest(std::string exe, std::string tag) : exe_(std::move(exe)), tag_(std::move(tag)) {}

  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           (tag_ + "_test_" + std::to_string(::getpid()) + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path path(const std::string& name) const { return dir_ / name; }

  /// Runs the program with `args`; returns its exit status (-1 if it did not exit).
  int run(const std::string& args) const {
    const std::string command = "cd / && '" + exe_ + "' " + args + " > '" +
                                path("stdout").string() + "' 2> '" + path("stderr").string() + "'";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string read(const std::string& name) const {
    std::ifstream in(path(name), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
  }

  std::filesystem::path dir_;

 private:
  std::string exe_;
  std::string tag_;
};

}  // namespace sluice::test
