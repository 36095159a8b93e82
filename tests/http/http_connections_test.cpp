// Connections under load: from a cold start with 1,000 requests in flight, and in waves
// after it, the client opens no more connections than it has requests in flight (it
// reuses idle ones across its multi handles) and no request is refused. Counts are the
// client's own and the server's, never the process's descriptors.
#include <chrono>
#include <cstddef>
#include <string>

#include <gtest/gtest.h>

#include "http_test_support.hpp"
#include "sluice/http.hpp"
#include "sluice/http_server.hpp"

namespace {

using namespace std::chrono_literals;
using sluice_http_test::Collector;

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

TEST(http_connections, SequentialRequestsUseOneConnection) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(client.fetch({.url = server.url("/bytes?n=10")}).ok());
  EXPECT_EQ(client.counters().connections_opened, 1u);
  EXPECT_EQ(client.counters().open_connections, 1u);
}

}  // namespace
