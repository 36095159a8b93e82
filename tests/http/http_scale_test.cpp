// sluice::http::Client at scale against the in-process http_server::LocalServer: 10,000 delayed
// requests with 1,000 in flight, and cancelling 1,000 in flight.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "http_test_support.hpp"
#include "sluice/http.hpp"
#include "sluice/http_server.hpp"

namespace {

using namespace std::chrono_literals;
using sluice::http::ErrorKind;
using sluice_http_test::Collector;
using sluice_http_test::eventually;
using sluice_http_test::kSanitized;

TEST(http_scale, TenThousandDelayedRequestsWithAThousandInFlight) {
  sluice::http_server::raise_fd_limit();
  sluice::http_server::LocalServer server;
  sluice::http::Client client;

  constexpr int kRequests = 10'000;
  constexpr int kInFlight = 1'000;
  const auto delay = 200ms;
  const std::string url = server.url("/delay?us=200000");
  // Ideal: kRequests / kInFlight rounds of 200 ms = 2 s. How long it really takes is up
  // to the machine (a loaded one, a sanitizer build), so the concurrency itself is
  // checked below, and the time only bounds the wait.
  const auto limit = kSanitized ? 100s : 60s;
  std::atomic<int> next{0};
  std::atomic<int> good{0};
  Collector finished;
  std::function<void(sluice::http::Response)> on_done;
  // Keeps kInFlight requests outstanding, the way an async_map stage with
  // max_in_flight = 1000 does: every completion starts the next request.
  const auto start_one = [&] {
    const int i = next.fetch_add(1);
    if (i < kRequests) client.submit({.url = url, .tag = static_cast<std::uint64_t>(i)}, on_done);
  };
  on_done = [&](sluice::http::Response r) {
    if (r.ok()) good.fetch_add(1);
    start_one();
    finished.callback()(sluice::http::Response{.status = r.status, .tag = r.tag});
  };

  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kInFlight; ++i) start_one();
  ASSERT_TRUE(finished.wait(kRequests, limit)) << finished.size();
  const auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(good.load(), kRequests);
  EXPECT_GE(elapsed, delay * (kRequests / kInFlight));
  const auto c = client.counters();
  EXPECT_EQ(c.completed, static_cast<std::uint64_t>(kRequests));
  EXPECT_EQ(c.in_flight, 0u);
  const auto stats = server.stats();
  // Requests ran side by side. The client opens a round's worth of connections at a time
  // and reads answers before it opens more, so how many are open at once by the time the
  // first answers come depends on the machine's speed (682 of 1,000 under ASan on a busy
  // machine, all 1,000 on a quiet one): the first two rounds alone hold more than 100.
  EXPECT_GE(stats.peak_active_connections, static_cast<std::uint64_t>(kInFlight / 10));
  // Never more connections than requests in flight.
  EXPECT_LE(c.peak_open_connections, static_cast<std::uint64_t>(kInFlight));
  // Connections were reused: about one per request slot, not one per request.
  EXPECT_LE(stats.connections_accepted, static_cast<std::uint64_t>(kInFlight) + 100);
  std::printf("10000 x 200 ms, 1000 in flight: %.2f s (ideal 2 s)\n",
              std::chrono::duration<double>(elapsed).count());
}

TEST(http_scale, CancelWithAThousandInFlightReturnsPromptlyAndLeavesNothing) {
  using sluice_http_test::describe;
  using sluice_http_test::open_descriptors;
  using sluice_http_test::opened_since;
  using sluice_http_test::still_open;
  using sluice_http_test::threads_named;
  const std::string kIoThread = "sluice-http";
  sluice::http_server::raise_fd_limit();
  // Leak checks look only at what the client owns: its I/O thread, found by name, and
  // the descriptors that appeared while it lived, less the server's. Counting every
  // thread or descriptor of the process would also count whatever else runs meanwhile.
  { sluice::http::Client warm_up; }  // one-time library set-up is not a leak
  // A joined thread leaves /proc a moment after pthread_join returns.
  EXPECT_TRUE(eventually([&] { return threads_named(kIoThread).empty(); }, 10s));

  sluice::http_server::LocalServer server;
  // Descriptors opened since `before_client`, less the server's sockets. The table of
  // the server's sockets is read after the descriptors, so it holds every one listed.
  const auto client_opened_since = [&](const std::map<int, std::string>& before) {
    const auto now = open_descriptors();
    return opened_since(before, now, sluice_http_test::tcp_sockets_on_local_port(server.port()));
  };
  const auto before_client = open_descriptors();
  std::map<int, std::string> client_descriptors;
  constexpr int kInFlight = 1'000;
  // Far longer than any bound below: a cancel that waited for the server would show.
  const auto server_delay = 60s;
  Collector got;
  {
    sluice::http::Client client;
    for (int i = 0; i < kInFlight / 2; ++i) {
      client.submit({.url = server.url("/hang")}, got.callback());
      client.submit(
          {.url = server.url("/delay?us=" +
                             std::to_string(std::chrono::microseconds(server_delay).count()))},
          got.callback());
    }
    // Every request has reached the server: all 1,000 are truly in flight.
    ASSERT_TRUE(eventually([&] { return server.requests_received() >= kInFlight; }, 60s))
        << server.requests_received();
    EXPECT_EQ(got.size(), 0u);
    // The loop names its thread before it sends anything, so it is named by now.
    EXPECT_EQ(threads_named(kIoThread).size(), 1u) << "one I/O thread";
    client_descriptors = client_opened_since(before_client);
    EXPECT_GE(client_descriptors.size(), static_cast<std::size_t>(kInFlight))
        << "a socket per request in flight, and the loop's own";

    const auto start = std::chrono::steady_clock::now();
    client.cancel_all();
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_LT(took, server_delay / 4);
    std::printf("cancel_all with 1000 in flight: %.1f ms\n",
                std::chrono::duration<double, std::milli>(took).count());

    // cancel_all returned after every callback ran.
    const auto responses = got.take();
    ASSERT_EQ(responses.size(), static_cast<std::size_t>(kInFlight));
    for (const auto& r : responses) {
      EXPECT_EQ(r.error, ErrorKind::cancelled);
      EXPECT_FALSE(r.error_message.empty());
    }
    const auto c = client.counters();
    EXPECT_EQ(c.errors(ErrorKind::cancelled), static_cast<std::uint64_t>(kInFlight));
    EXPECT_EQ(c.in_flight, 0u);

    // The client still works after a cancel.
    EXPECT_TRUE(client.fetch({.url = server.url("/bytes?n=10")}).ok());
    client_descriptors.merge(client_opened_since(before_client));
  }
  // The destructor joined the I/O thread and closed every socket, the epoll set and the
  // eventfd; the server, still running, keeps its own.
  EXPECT_TRUE(eventually([&] { return threads_named(kIoThread).empty(); }, 10s))
      << "I/O thread joined";
  const auto left = still_open(client_descriptors);
  EXPECT_TRUE(left.empty()) << left.size() << " left open: " << describe(left);
  // The server sees every cancelled connection close.
  EXPECT_TRUE(eventually([&] { return server.active_connections() == 0; }, 10s))
      << server.active_connections();
}

}  // namespace
