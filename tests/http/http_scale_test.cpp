// sluice::HttpClient at scale against the in-process LocalHttpServer: 10,000 delayed
// requests with 1,000 in flight, and cancelling 1,000 in flight.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "http_test_support.hpp"
#include "sluice/http.hpp"
#include "sluice/http_server.hpp"

namespace {

using namespace std::chrono_literals;
using sluice::HttpError;
using sluice_http_test::Collector;
using sluice_http_test::eventually;
using sluice_http_test::kSanitized;

TEST(http_scale, TenThousandDelayedRequestsWithAThousandInFlight) {
  sluice::raise_fd_limit();
  sluice::LocalHttpServer server;
  sluice::HttpClient client;

  constexpr int kRequests = 10'000;
  constexpr int kInFlight = 1'000;
  const auto delay = 200ms;
  const std::string url = server.url("/delay?us=200000");
  // Ideal: kRequests / kInFlight rounds of 200 ms = 2 s. The bound is 3x that; a
  // sanitizer build is slower per event and gets more room.
  const auto bound = kSanitized ? 20s : 6s;

  std::atomic<int> next{0};
  std::atomic<int> good{0};
  Collector finished;
  std::function<void(sluice::HttpResponse)> on_done;
  // Keeps kInFlight requests outstanding, the way an async_map stage with
  // max_in_flight = 1000 does: every completion starts the next request.
  const auto start_one = [&] {
    const int i = next.fetch_add(1);
    if (i < kRequests) client.submit({.url = url, .tag = static_cast<std::uint64_t>(i)}, on_done);
  };
  on_done = [&](sluice::HttpResponse r) {
    if (r.success()) good.fetch_add(1);
    start_one();
    finished.callback()(sluice::HttpResponse{.status = r.status, .tag = r.tag});
  };

  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kInFlight; ++i) start_one();
  ASSERT_TRUE(finished.wait(kRequests, bound + 10s));
  const auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(good.load(), kRequests);
  EXPECT_LT(elapsed, bound) << std::chrono::duration<double>(elapsed).count() << " s";
  EXPECT_GE(elapsed, delay * (kRequests / kInFlight));
  const auto c = client.counters();
  EXPECT_EQ(c.completed, static_cast<std::uint64_t>(kRequests));
  EXPECT_EQ(c.in_flight, 0u);
  // Connections were reused: about one per request slot, not one per request.
  EXPECT_LE(server.stats().connections_accepted, static_cast<std::uint64_t>(kInFlight) + 100);
  std::printf("10000 x 200 ms, 1000 in flight: %.2f s (ideal 2 s)\n",
              std::chrono::duration<double>(elapsed).count());
}

TEST(http_scale, CancelWithAThousandInFlightReturnsPromptlyAndLeavesNothing) {
  sluice::raise_fd_limit();
  { sluice::HttpClient warm_up; }  // one-time library set-up is not a leak
  const std::size_t threads_before = sluice_http_test::thread_count();
  const std::size_t fds_before = sluice_http_test::fd_count();
  {
    sluice::LocalHttpServer server;
    const std::size_t threads_with_server = sluice_http_test::thread_count();
    constexpr int kInFlight = 1'000;
    Collector got;
    {
      sluice::HttpClient client;
      EXPECT_EQ(sluice_http_test::thread_count(), threads_with_server + 1) << "one I/O thread";
      for (int i = 0; i < kInFlight / 2; ++i) {
        client.submit({.url = server.url("/hang")}, got.callback());
        client.submit({.url = server.url("/delay?us=30000000")}, got.callback());
      }
      // Every request has reached the server: all 1,000 are truly in flight.
      ASSERT_TRUE(eventually([&] { return server.requests_received() >= kInFlight; }, 20s))
          << server.requests_received();
      EXPECT_EQ(got.size(), 0u);

      const auto start = std::chrono::steady_clock::now();
      client.cancel_all();
      const auto took = std::chrono::steady_clock::now() - start;
      EXPECT_LT(took, 2s);
      std::printf("cancel_all with 1000 in flight: %.1f ms\n",
                  std::chrono::duration<double, std::milli>(took).count());

      // cancel_all returned after every callback ran.
      const auto responses = got.take();
      ASSERT_EQ(responses.size(), static_cast<std::size_t>(kInFlight));
      for (const auto& r : responses) {
        EXPECT_EQ(r.error, HttpError::cancelled);
        EXPECT_FALSE(r.error_message.empty());
      }
      const auto c = client.counters();
      EXPECT_EQ(c.errors(HttpError::cancelled), static_cast<std::uint64_t>(kInFlight));
      EXPECT_EQ(c.in_flight, 0u);

      // The client still works after a cancel.
      EXPECT_TRUE(client.fetch({.url = server.url("/bytes?n=10")}).success());
    }
    EXPECT_EQ(sluice_http_test::thread_count(), threads_with_server) << "I/O thread joined";
    // The server sees every cancelled connection close.
    EXPECT_TRUE(eventually([&] { return server.active_connections() == 0; }, 10s))
        << server.active_connections();
  }
  EXPECT_EQ(sluice_http_test::thread_count(), threads_before);
  EXPECT_EQ(sluice_http_test::fd_count(), fds_before) << "no socket, epoll or eventfd left";
}

}  // namespace
