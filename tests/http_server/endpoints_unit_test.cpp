// The endpoint logic without sockets: query parsing, parameter checks, /flaky's schedule,
// static path resolution and the response head.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "endpoints.hpp"
#include "request_target.hpp"
#include "static_files.hpp"

namespace sluice::http_server::detail {
namespace {

Request get(std::string target) {
  Request request;
  request.method = "GET";
  request.target = std::move(target);
  return request;
}

TEST(RequestTarget, SplitsAndDecodesPathAndQuery) {
  const RequestTarget target("/static/a%20b.txt?x=1&name=a+b%26c&flag&&empty=");
  EXPECT_EQ(target.path(), "/static/a b.txt");
  EXPECT_EQ(target.get("x"), "1");
  EXPECT_EQ(target.get("name"), "a b&c");
  EXPECT_EQ(target.get("flag"), "");
  EXPECT_EQ(target.get("empty"), "");
  EXPECT_FALSE(target.get("missing"));
}

TEST(RequestTarget, ChecksIntegersAndFractions) {
  const RequestTarget target("/x?n=42&big=99999999999999999999&neg=-1&f=0.25&bad=1e&space=1%20");
  EXPECT_EQ(target.get_uint("n", 0, 100), 42u);
  EXPECT_THROW(target.get_uint("n", 0, 10), BadParameter);
  EXPECT_THROW(target.get_uint("big", 0, ~std::uint64_t{0}), BadParameter);
  EXPECT_THROW(target.get_uint("neg", 0, 10), BadParameter);
  EXPECT_THROW(target.get_uint("space", 0, 10), BadParameter);
  EXPECT_EQ(target.get_double("f", 0, 1), 0.25);
  EXPECT_THROW(target.get_double("bad", 0, 1), BadParameter);
  EXPECT_THROW(target.require_uint("missing", 0, 1), BadParameter);
  EXPECT_FALSE(target.get_uint("missing", 0, 1));
}

TEST(RequestTarget, RefusesBrokenEscapes) {
  EXPECT_THROW(RequestTarget("/x%2"), BadParameter);
  EXPECT_THROW(RequestTarget("/x?a=%zz"), BadParameter);
  EXPECT_EQ(percent_decode("%41%62+", false), "Ab+");
  EXPECT_EQ(percent_decode("%41%62+", true), "Ab ");
}

TEST(FlakySchedule, WithoutASeedFailsExactlyTheFractionOverAnyRun) {
  for (double fraction : {0.0, 0.1, 0.25, 0.5, 0.9, 1.0}) {
    int failures = 0;
    for (std::uint64_t k = 0; k < 1000; ++k) failures += flaky_request_fails(fraction, k, {});
    EXPECT_NEAR(failures, 1000 * fraction, 1.0) << fraction;
    // Any window of 100 consecutive requests too.
    int window = 0;
    for (std::uint64_t k = 500; k < 600; ++k) window += flaky_request_fails(fraction, k, {});
    EXPECT_NEAR(window, 100 * fraction, 1.0) << fraction;
  }
}

TEST(FlakySchedule, WithASeedIsReproducibleAndCloseToTheFraction) {
  int failures = 0;
  int same = 0;
  int other_seed_same = 0;
  for (std::uint64_t k = 0; k < 10000; ++k) {
    const bool fails = flaky_request_fails(0.1, k, 7);
    failures += fails;
    same += fails == flaky_request_fails(0.1, k, 7);
    other_seed_same += fails == flaky_request_fails(0.1, k, 8);
  }
  EXPECT_NEAR(failures, 1000, 100);
  EXPECT_EQ(same, 10000);
  EXPECT_LT(other_seed_same, 10000);  // a different seed, a different sequence
}

TEST(Endpoints, MapPathsAndRefuseBadParameters) {
  EndpointState state;
  EXPECT_EQ(route_request(get("/bytes?n=10"), state).content_length(), 10u);
  EXPECT_EQ(route_request(get("/bytes"), state).status, 400);
  EXPECT_EQ(route_request(get("/bytes?n=x"), state).status, 400);
  EXPECT_EQ(route_request(get("/status?code=600"), state).status, 400);
  EXPECT_EQ(route_request(get("/status?code=418"), state).status, 418);
  EXPECT_EQ(route_request(get("/delay?us=5"), state).delay.count(), 5);
  EXPECT_EQ(route_request(get("/bytes?n=1&delay_us=7"), state).delay.count(), 7);
  EXPECT_EQ(route_request(get("/flaky"), state).status, 400);
  EXPECT_EQ(route_request(get("/flaky?fail=2"), state).status, 400);
  EXPECT_EQ(route_request(get("/redirect"), state).status, 400);
  EXPECT_EQ(route_request(get("/redirect?to=x&code=304"), state).status, 400);
  EXPECT_EQ(route_request(get("/reset?after=10&n=5"), state).status, 400);
  EXPECT_EQ(route_request(get("/nothing"), state).status, 404);
  EXPECT_EQ(route_request(get("/static/x"), state).status, 404);  // no root
  EXPECT_TRUE(route_request(get("/bytes"), state).bad_request);

  Request put = get("/bytes?n=1");
  put.method = "PUT";
  EXPECT_EQ(route_request(put, state).status, 405);
  put.target = "/echo";
  EXPECT_EQ(route_request(put, state).status, 200);
}

TEST(Endpoints, ResetAnnouncesMoreThanItSends) {
  EndpointState state;
  const Reply reply = route_request(get("/reset?after=100"), state);
  EXPECT_EQ(reply.action, Reply::Action::reset);
  EXPECT_EQ(reply.reset_after, 100u);
  EXPECT_EQ(reply.content_length(), 1124u);
}

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = std::filesystem::temp_directory_path() /
            ("sluice_static_unit_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(base_ / "root" / "sub");
    std::ofstream(base_ / "root" / "sub" / "page.html") << "<p>hi</p>";
    std::ofstream(base_ / "secret.txt") << "secret";
    std::filesystem::create_symlink(base_ / "secret.txt", base_ / "root" / "escape.txt");
    root_ = canonical_static_root(base_ / "root");
  }
  void TearDown() override { std::filesystem::remove_all(base_); }

  std::filesystem::path base_;
  std::filesystem::path root_;
};

TEST_F(StaticFiles, OpensFilesUnderTheRoot) {
  const StaticFile file = open_static_file(root_, "sub/page.html");
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.size, 9u);
  EXPECT_EQ(file.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(open_static_file(root_, "./sub//page.html").status, 200);
}

TEST_F(StaticFiles, RefusesEverythingElse) {
  EXPECT_EQ(open_static_file(root_, "../secret.txt").status, 403);
  EXPECT_EQ(open_static_file(root_, "sub/../../secret.txt").status, 403);
  EXPECT_EQ(open_static_file(root_, "sub/..").status, 403);
  EXPECT_EQ(open_static_file(root_, "escape.txt").status, 403);  // symlink out of the root
  EXPECT_EQ(open_static_file(root_, std::string("a\0b", 3)).status, 403);
  EXPECT_EQ(open_static_file(root_, "missing.txt").status, 404);
  EXPECT_EQ(open_static_file(root_, "sub").status, 404);  // a folder
  EXPECT_THROW(canonical_static_root(base_ / "secret.txt"), std::invalid_argument);
}

}  // namespace
}  // namespace sluice::http_server::detail
