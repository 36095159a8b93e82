// sluice::http::FetchStage inside a pipeline: requests flow through async_map with a
// cap on requests in flight, and a cancelled run leaves no request behind.
#include <atomic>
#include <chrono>
#include <ranges>
#include <string>

#include <gtest/gtest.h>

#include "sluice/http.hpp"
#include "sluice/http_server.hpp"
#include "sluice/sluice.hpp"

namespace {

using namespace std::chrono_literals;
using sluice::http::ErrorKind;

TEST(http_pipeline, FetchesThroughAsyncMap) {
  sluice::http_server::LocalServer server;
  auto client = std::make_shared<sluice::http::Client>();
  const auto fetch = sluice::http::fetch_stage(client);
  constexpr int kItems = 2'000;
  std::atomic<int> good{0};
  std::atomic<std::uint64_t> bytes{0};

  const sluice::Report report =
      sluice::from("ids", std::views::iota(0, kItems))
          .map("request",
               [&](int i) {
                 return sluice::http::Request{
                     .url = server.url("/bytes?n=" + std::to_string(i % 100 + 1)),
                     .tag = static_cast<std::uint64_t>(i)};
               })
          .async_map("fetch", fetch,
                     {.max_in_flight = 100, .on_cancel = [fetch] { fetch.cancel(); }})
          .sink("check",
                [&](const sluice::http::Response& r) {
                  if (r.ok() && r.body.size() == r.tag % 100 + 1) good.fetch_add(1);
                  bytes.fetch_add(r.body.size());
                })
          .run({.threads = 2, .deadline = 10s});

  EXPECT_FALSE(report.was_cancelled) << report.cancel_reason;
  EXPECT_TRUE(report.balanced());
  EXPECT_EQ(report.delivered, static_cast<std::uint64_t>(kItems));
  EXPECT_EQ(good.load(), kItems);
  EXPECT_EQ(client->counters().completed, static_cast<std::uint64_t>(kItems));
  EXPECT_EQ(client->counters().in_flight, 0u);
  // The stage's cap is the number of concurrent requests: never more connections.
  EXPECT_LE(server.stats().connections_accepted, 100u);
}

TEST(http_pipeline, ErrorsAreDataUnlessAskedToFail) {
  sluice::http_server::LocalServer server;
  auto client = std::make_shared<sluice::http::Client>();
  std::atomic<int> refused{0};
  const auto urls = std::vector<std::string>{server.url("/status?code=503"), "file:///etc/passwd",
                                             server.url("/bytes?n=3")};
  const sluice::Report data =
      sluice::from("urls", urls)
          .map("request", [](const std::string& u) { return sluice::http::Request{.url = u}; })
          .async_map("fetch", sluice::http::fetch_stage(client), {.max_in_flight = 4})
          .sink("count",
                [&](const sluice::http::Response& r) {
                  if (r.error == ErrorKind::scheme_refused) refused.fetch_add(1);
                })
          .run({.deadline = 10s});
  EXPECT_EQ(data.delivered, 3u);
  EXPECT_EQ(refused.load(), 1);

  const sluice::Report failing =
      sluice::from("urls", urls)
          .map("request", [](const std::string& u) { return sluice::http::Request{.url = u}; })
          .async_map("fetch", sluice::http::fetch_stage(client, {.fail_on_error = true}),
                     {.max_in_flight = 4, .on_error = sluice::ErrorPolicy::skip()})
          .sink("count", [](const sluice::http::Response&) {})
          .run({.deadline = 10s});
  EXPECT_TRUE(failing.balanced());
  EXPECT_EQ(failing.delivered, 2u) << "a 503 is data; the refused scheme failed";
  EXPECT_EQ(failing.failed, 1u);
}

TEST(http_pipeline, CancelledRunLeavesNoRequestBehind) {
  sluice::http_server::LocalServer server;
  auto client = std::make_shared<sluice::http::Client>();
  const auto fetch = sluice::http::fetch_stage(client);
  const auto start = std::chrono::steady_clock::now();
  const sluice::Report report =
      sluice::from("ids", std::views::iota(0, 1'000))
          .map("request", [&](int) { return sluice::http::Request{.url = server.url("/hang")}; })
          .async_map("fetch", fetch,
                     {.max_in_flight = 200, .on_cancel = [fetch] { fetch.cancel(); }})
          .sink("never", [](const sluice::http::Response&) {})
          .run({.deadline = 300ms});
  const auto took = std::chrono::steady_clock::now() - start;

  EXPECT_TRUE(report.was_cancelled);
  EXPECT_TRUE(report.balanced());
  EXPECT_LT(took, 20s);  // the requests hang forever: the deadline ended the run
  const auto c = client->counters();
  EXPECT_EQ(c.in_flight, 0u) << "every request the stage started has ended";
  EXPECT_EQ(c.completed, c.submitted);
  EXPECT_EQ(c.errors(ErrorKind::cancelled), c.submitted);
  EXPECT_GT(c.submitted, 0u);
}

}  // namespace
