// /static/: files served from the root, and every way out of the root refused.
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "curl_fetch.hpp"
#include "raw_socket.hpp"
#include "sluice/http_server.hpp"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class LocalServerStatic : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("sluice_static_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(base_ / "root" / "images");
    std::ofstream(base_ / "root" / "hello.txt") << "hello, static\n";
    std::ofstream(base_ / "root" / "images" / "a b.jpg", std::ios::binary) << binary_;
    std::ofstream(base_ / "secret.txt") << "do not serve\n";
    http_server::LocalServerOptions options;
    options.static_root = base_ / "root";
    server_ = std::make_unique<http_server::LocalServer>(options);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(base_);
  }

  // Sends the target exactly as written (no client-side normalisation of "..").
  int raw_status(const std::string& target) {
    return test::status_of(test::exchange(
        server_->port(), "GET " + target + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  }

  const std::string binary_ = std::string("\x00\xff\x10jpeg\r\n", 9) + std::string(100000, 'z');
  fs::path base_;
  std::unique_ptr<http_server::LocalServer> server_;
};

TEST_F(LocalServerStatic, ServesFilesWithTheirType) {
  const auto text = test::fetch(server_->url("/static/hello.txt"));
  ASSERT_EQ(text.code, CURLE_OK) << text.error;
  EXPECT_EQ(text.status, 200);
  EXPECT_EQ(text.body, "hello, static\n");
  EXPECT_EQ(text.header("Content-Type"), "text/plain; charset=utf-8");

  const auto image = test::fetch(server_->url("/static/images/a%20b.jpg"));
  EXPECT_EQ(image.status, 200);
  EXPECT_EQ(image.body, binary_);
  EXPECT_EQ(image.header("Content-Type"), "image/jpeg");
  EXPECT_EQ(server_->endpoint_count(http_server::Endpoint::static_file), 2u);
}

TEST_F(LocalServerStatic, MissingFilesAndFoldersAre404) {
  EXPECT_EQ(test::fetch(server_->url("/static/nope.txt")).status, 404);
  EXPECT_EQ(test::fetch(server_->url("/static/images")).status, 404);
  EXPECT_EQ(test::fetch(server_->url("/static/")).status, 404);
}

TEST_F(LocalServerStatic, TraversalIsRefused) {
  EXPECT_EQ(raw_status("/static/../secret.txt"), 403);
  EXPECT_EQ(raw_status("/static/images/../../secret.txt"), 403);
  EXPECT_EQ(raw_status("/static/%2e%2e/secret.txt"), 403);
  EXPECT_EQ(raw_status("/static/..%2fsecret.txt"), 403);
  EXPECT_EQ(raw_status("/static/images/%2E%2E/%2E%2E/secret.txt"), 403);
  EXPECT_EQ(raw_status("/static/%00"), 403);
  // curl with PATH_AS_IS sends the dots too.
  const auto result = test::fetch(server_->url("/static/../secret.txt"), {.path_as_is = true});
  EXPECT_EQ(result.status, 403);
  EXPECT_EQ(result.body.find("do not serve"), std::string::npos);
}

TEST_F(LocalServerStatic, ASymlinkOutOfTheRootIsRefused) {
  fs::create_symlink(base_ / "secret.txt", base_ / "root" / "link.txt");
  EXPECT_EQ(raw_status("/static/link.txt"), 403);
}

TEST(LocalServerStaticRoot, AMissingRootIsAnError) {
  http_server::LocalServerOptions options;
  options.static_root = "/nonexistent/sluice/root";
  EXPECT_THROW(http_server::LocalServer{options}, std::invalid_argument);
}

TEST(LocalServerStaticRoot, NoRootMeans404) {
  http_server::LocalServer server;
  EXPECT_EQ(test::fetch(server.url("/static/hello.txt")).status, 404);
}

}  // namespace
}  // namespace sluice
