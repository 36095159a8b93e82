// Connections under load: from a cold start with 1,000 requests in flight, and in waves
// after it, and in a closed loop of 2,000 in flight, the client opens no more
// connections than it has requests in flight (it reuses idle ones across its multi
// handles) and no request is refused. Counts are the
// client's own and the server's, never the process's descriptors.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "http_test_support.hpp"
#include "sluice/http.hpp"
#include "sluice/http_server.hpp"

namespace {

using namespace std::chrono_literals;
using sluice_http_test::Collector;
using sluice_http_test::eventually;

void run_wave(sluice::http::Client& client, const sluice::http_server::LocalServer& server,
              std::size_t requests, std::size_t wave) {
  Collector got;
  for (std::size_t i = 0; i < requests; ++i) {
    client.submit({.url = server.url("/delay?us=100000&wave=" + std::to_string(wave)),
                   .timeout = 30s,
                   .tag = i},
                  got.callback());
  }
  ASSERT_TRUE(got.wait(requests, 60s)) << "wave " << wave << " lost " << requests - got.size();
  for (const auto& r : got.take()) {
    ASSERT_TRUE(r.ok()) << "wave " << wave << ": " << sluice::http::to_string(r.error) << " "
                        << r.error_message;
  }
}

TEST(http_connections, ColdStartAndWavesOpenNoMoreConnectionsThanInFlight) {
  sluice::http_server::LocalServer server;
  sluice::http::ClientOptions options;
  options.retry = sluice::http::RetryPolicy::none();  // a refusal would show, not be retried
  sluice::http::Client client(options);
  constexpr std::size_t kInFlight = 1000;
  run_wave(client, server, kInFlight, 0);  // cold: every connection is new
  const auto cold = client.counters();
  EXPECT_LE(cold.connections_opened, kInFlight);
  EXPECT_LE(cold.peak_open_connections, kInFlight);

  // Smaller and equal waves reuse what the first one opened, whichever multi handle
  // holds it.
  run_wave(client, server, 300, 1);
  run_wave(client, server, kInFlight, 2);
  run_wave(client, server, 700, 3);
  const auto c = client.counters();
  EXPECT_LE(c.peak_open_connections, kInFlight);
  EXPECT_LE(c.connections_opened, kInFlight + kInFlight / 20)
      << "idle connections were stranded in other multi handles and new ones opened";
  EXPECT_LE(server.stats().connections_accepted, c.connections_opened);
  EXPECT_EQ(c.errors(sluice::http::ErrorKind::refused), 0u);
  EXPECT_EQ(c.completed, 3000u);
}

// A closed loop, as a pipeline's max_in_flight keeps one: `in_flight` requests from a
// cold start, each replaced by the next as it completes, until `total` have been made.
class ClosedLoop {
 public:
  ClosedLoop(std::string url, std::size_t total) : url_(std::move(url)), total_(total) {}
  void start(sluice::http::Client& client, std::size_t in_flight) {
    client_ = &client;
    for (std::size_t i = 0; i < in_flight; ++i) next();
  }
  Collector& got() { return got_; }

 private:
  void next() {
    if (submitted_.fetch_add(1) >= total_) return;
    client_->submit({.url = url_, .timeout = 60s}, [this](sluice::http::Response r) {
      got_.callback()(std::move(r));
      next();  // from the client's own thread, as a pipeline refills its slot
    });
  }
  std::string url_;
  std::size_t total_;
  sluice::http::Client* client_ = nullptr;
  std::atomic<std::size_t> submitted_{0};
  Collector got_;
};

TEST(http_connections, ColdStartAtTwoThousandInFlightOpensNoMoreThanThat) {
  constexpr std::size_t kInFlight = 2000;
  constexpr std::size_t kTotal = 4 * kInFlight;
  // Both ends of every connection are in this process.
  if (sluice::http_server::raise_fd_limit() < 2 * kInFlight + 256) {
    GTEST_SKIP() << "needs " << 2 * kInFlight + 256 << " descriptors (RLIMIT_NOFILE)";
  }
  sluice::http_server::LocalServer server;
  ClosedLoop loop(server.url("/delay?us=200000"), kTotal);
  sluice::http::ClientOptions options;
  options.retry = sluice::http::RetryPolicy::none();  // a refusal would show, not be retried
  sluice::http::Client client(options);               // after `loop`: its callbacks end first
  loop.start(client, kInFlight);
  ASSERT_TRUE(loop.got().wait(kTotal, 120s)) << "lost " << kTotal - loop.got().size();
  std::size_t failed = 0;
  std::string first_error;
  for (const auto& r : loop.got().take()) {
    if (r.ok()) continue;
    if (failed++ == 0)
      first_error = std::string(sluice::http::to_string(r.error)) + " " + r.error_message;
  }
  EXPECT_EQ(failed, 0u) << "first: " << first_error;
  const auto c = client.counters();
  // Every connection was opened for a request in flight, and the later rounds reused
  // them instead of opening more while the answers that free them waited unread.
  EXPECT_LE(c.connections_opened, kInFlight);
  EXPECT_LE(c.peak_open_connections, kInFlight);
  EXPECT_EQ(server.stats().connections_accepted, c.connections_opened);
  EXPECT_EQ(c.errors(sluice::http::ErrorKind::refused), 0u);
  EXPECT_EQ(c.errors(sluice::http::ErrorKind::no_descriptors), 0u);
  EXPECT_EQ(c.completed, kTotal);
}

TEST(http_connections, AnswersThatArrivedWhileTheLoopWasBusyAreReadBeforeConnectionsOpen) {
  // The client's thread is held in a callback while the answers to 500 requests arrive
  // and 500 more requests are submitted. Once free, it reads those answers before it
  // opens a connection for the new requests, which then reuse the 500 connections.
  constexpr std::size_t kWave = 500;
  sluice::http_server::LocalServer server;
  sluice::http::ClientOptions options;
  options.retry = sluice::http::RetryPolicy::none();
  std::atomic<bool> holding{false};
  Collector first;
  Collector second;
  sluice::http::Client client(options);
  // Declared after the client, so destroyed first: a failed assertion below still lets
  // the held callback go before the client waits for its thread.
  struct Release {
    std::promise<void> promise;
    bool done = false;
    void now() {
      if (!std::exchange(done, true)) promise.set_value();
    }
    ~Release() { now(); }
  } release;
  std::shared_future<void> released = release.promise.get_future().share();

  for (std::size_t i = 0; i < kWave; ++i) {
    client.submit({.url = server.url("/delay?us=300000"), .timeout = 60s}, first.callback());
  }
  ASSERT_TRUE(eventually([&] { return server.stats().requests_received >= kWave; }, 60s));
  client.submit({.url = server.url("/bytes?n=1"), .timeout = 60s},
                [&holding, released](sluice::http::Response) {
                  holding = true;
                  released.wait_for(60s);  // holds the client's thread
                });
  ASSERT_TRUE(eventually([&] { return holding.load(); }, 60s));
  ASSERT_TRUE(eventually([&] { return server.stats().responses_sent >= kWave + 1; }, 60s))
      << "the server did not answer the first wave";
  for (std::size_t i = 0; i < kWave; ++i) {
    client.submit({.url = server.url("/bytes?n=1"), .timeout = 60s}, second.callback());
  }
  release.now();

  ASSERT_TRUE(first.wait(kWave, 60s)) << "lost " << kWave - first.size();
  ASSERT_TRUE(second.wait(kWave, 60s)) << "lost " << kWave - second.size();
  for (const auto& r : first.take()) ASSERT_TRUE(r.ok()) << r.error_message;
  for (const auto& r : second.take()) ASSERT_TRUE(r.ok()) << r.error_message;
  // The first wave's connections and the held callback's: nothing opened for the second.
  EXPECT_LE(client.counters().connections_opened, kWave + 1);
}

TEST(http_connections, CancelAllEndsRequestsStillWaitingForAConnection) {
  // More at once than the client connects in one round: most wait in its queue, not
  // in libcurl, when cancel_all comes; every one of them still completes, once.
  constexpr std::size_t kRequests = 1500;
  sluice::http_server::LocalServer server;
  Collector got;
  sluice::http::Client client;
  for (std::size_t i = 0; i < kRequests; ++i) {
    client.submit({.url = server.url("/delay?us=10000000"), .tag = i}, got.callback());
  }
  client.cancel_all();
  ASSERT_TRUE(got.wait(kRequests, 60s)) << "lost " << kRequests - got.size();
  std::vector<bool> seen(kRequests, false);
  for (const auto& r : got.take()) {
    EXPECT_EQ(r.error, sluice::http::ErrorKind::cancelled) << sluice::http::to_string(r.error);
    ASSERT_LT(r.tag, kRequests);
    EXPECT_FALSE(seen[r.tag]) << "request " << r.tag << " completed twice";
    seen[r.tag] = true;
  }
  EXPECT_EQ(client.counters().completed, kRequests);
  EXPECT_EQ(client.counters().in_flight, 0u);
}

TEST(http_connections, SequentialRequestsUseOneConnection) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(client.fetch({.url = server.url("/bytes?n=10")}).ok());
  EXPECT_EQ(client.counters().connections_opened, 1u);
  EXPECT_EQ(client.counters().open_connections, 1u);
}

}  // namespace
