// Hostile servers against the client: replies that break HTTP, drip, bloat, inflate or
// redirect forever. Each must end at the client's caps with an error kind that says
// what happened, and the client's memory budget must hold across many transfers.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "http_test_support.hpp"
#include "sluice/http.hpp"
#include "sluice/http_server.hpp"

namespace {

using namespace std::chrono_literals;
using sluice::http::ErrorKind;
using sluice::http::RetryPolicy;
using sluice_http_test::Collector;

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool is_pattern(const std::string& body) {
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != sluice::http_server::pattern_byte(i)) return false;
  }
  return true;
}

// ---- errors named right ---------------------------------------------------------------

TEST(http_hostile, MalformedStatusLineIsAProtocolError) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  const auto r = client.fetch({.url = server.url("/malformed?kind=status")});
  EXPECT_EQ(r.error, ErrorKind::protocol) << r.error_message;
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(has(r.error_message, "not valid HTTP")) << r.error_message;
  EXPECT_FALSE(has(r.error_message, "scheme")) << r.error_message;
  EXPECT_EQ(r.attempts, 1) << "a protocol error is not retried";
}

TEST(http_hostile, NoHttpAtAllIsAProtocolError) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  const auto r = client.fetch({.url = server.url("/malformed?kind=garbage")});
  EXPECT_EQ(r.error, ErrorKind::protocol) << r.error_message;
}

TEST(http_hostile, HugeHeaderLineIsAHeaderOverTheCap) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  const auto r = client.fetch({.url = server.url("/headers?size=4194304")});  // 4 MiB
  EXPECT_EQ(r.error, ErrorKind::too_large) << r.error_message;
  EXPECT_TRUE(has(r.error_message, "header")) << r.error_message;
  EXPECT_FALSE(has(r.error_message, "Out of memory")) << r.error_message;
  EXPECT_TRUE(r.body.empty());
}

TEST(http_hostile, ManyHeadersStopAtTheClientsHeaderCap) {
  sluice::http_server::LocalServer server;
  sluice::http::ClientOptions options;
  options.max_header_bytes = 100'000;
  sluice::http::Client client(options);
  // 40 lines of 10 kB: each under libcurl's own line limit, together past the cap.
  const auto r = client.fetch({.url = server.url("/headers?size=10000&count=40")});
  EXPECT_EQ(r.error, ErrorKind::too_large) << r.error_message;
  EXPECT_TRUE(has(r.error_message, "headers passed the cap of 100000")) << r.error_message;
  // Under the cap they arrive.
  const auto fine = client.fetch({.url = server.url("/headers?size=1000&count=40")});
  ASSERT_TRUE(fine.ok()) << fine.error_message;
  EXPECT_EQ(fine.header("X-Filler-39")->size(), 1000u);
}

// ---- slow, endless, oversized ----------------------------------------------------------

TEST(http_hostile, SlowDripEndsInTheLowSpeedTimeout) {
  sluice::http_server::LocalServer server;
  sluice::http::ClientOptions options;
  options.low_speed_bytes = 16;
  options.low_speed_time = 1s;
  options.timeout = 60s;  // far off: only the low-speed check can end it soon
  sluice::http::Client client(options);
  const auto start = std::chrono::steady_clock::now();
  const auto r = client.fetch({.url = server.url("/drip?n=1000&every_us=1000000")});
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.error, ErrorKind::timeout) << r.error_message;
  EXPECT_TRUE(has(r.error_message, "too slow")) << r.error_message;
  EXPECT_GE(took, 1s);
  EXPECT_LT(took, 10s);
}

TEST(http_hostile, DripFasterThanTheFloorCompletes) {
  sluice::http_server::LocalServer server;
  sluice::http::ClientOptions options;
  options.low_speed_bytes = 16;
  options.low_speed_time = 1s;
  sluice::http::Client client(options);
  // 20 bytes, one per 10 ms: a slow body above the floor is not cut.
  const auto r = client.fetch({.url = server.url("/drip?n=20&every_us=10000")});
  ASSERT_TRUE(r.ok()) << r.error_message;
  EXPECT_EQ(r.body.size(), 20u);
  EXPECT_TRUE(is_pattern(r.body));
}

TEST(http_hostile, EndlessRedirectsStopAtTheCap) {
  sluice::http_server::LocalServer server;
  sluice::http::ClientOptions options;
  options.max_redirects = 5;
  sluice::http::Client client(options);
  const auto r = client.fetch({.url = server.url("/redirect_loop")});
  EXPECT_EQ(r.error, ErrorKind::too_many_redirects) << r.error_message;
  EXPECT_TRUE(has(r.error_message, "more than 5 redirects")) << r.error_message;
  EXPECT_EQ(server.endpoint_count(sluice::http_server::Endpoint::redirect_loop), 6u)
      << "the first request and five redirects";
}

TEST(http_hostile, RedirectToAnyOtherSchemeIsRefused) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  for (const char* to : {"file:///etc/passwd", "gopher://127.0.0.1/", "scp://127.0.0.1/x",
                         "ldap://127.0.0.1/", "telnet://127.0.0.1/"}) {
    const auto r = client.fetch(
        {.url = server.url("/redirect?to=" + sluice_http_test::encode_query_value(to))});
    EXPECT_EQ(r.error, ErrorKind::scheme_refused) << to << ": " << r.error_message;
    EXPECT_TRUE(r.body.empty()) << to;
  }
}

TEST(http_hostile, HugeBodyStopsAtTheCap) {
  sluice::http_server::LocalServer server;
  sluice::http::ClientOptions options;
  options.max_response_bytes = 1 << 20;
  sluice::http::Client client(options);
  // 4 GiB announced: the client stops at 1 MiB, long before the server is done.
  const auto r = client.fetch({.url = server.url("/bytes?n=4294967296")});
  EXPECT_EQ(r.error, ErrorKind::too_large) << r.error_message;
  EXPECT_EQ(r.body.size(), std::size_t{1} << 20);
  EXPECT_TRUE(is_pattern(r.body));
}

TEST(http_hostile, CompressedBodyIsDecoded) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  for (const char* encoding : {"gzip", "deflate"}) {
    const auto r =
        client.fetch({.url = server.url(std::string("/gzip?n=100000&encoding=") + encoding)});
    ASSERT_TRUE(r.ok()) << encoding << ": " << r.error_message;
    EXPECT_EQ(r.body.size(), 100'000u) << encoding;
    EXPECT_TRUE(is_pattern(r.body)) << encoding;
  }
}

TEST(http_hostile, CompressedBodyInflatingPastTheCapIsStoppedAtTheCap) {
  sluice::http_server::LocalServer server;
  sluice::http::ClientOptions options;
  options.max_response_bytes = 1 << 20;
  sluice::http::Client client(options);
  for (const char* encoding : {"gzip", "deflate"}) {
    // 64 MiB inflated from well under 1 MiB on the wire: the cap counts decoded bytes.
    const auto r =
        client.fetch({.url = server.url(std::string("/gzip?n=67108864&encoding=") + encoding)});
    EXPECT_EQ(r.error, ErrorKind::too_large) << encoding << ": " << r.error_message;
    EXPECT_EQ(r.body.size(), std::size_t{1} << 20) << encoding;
    EXPECT_TRUE(is_pattern(r.body)) << encoding;
    EXPECT_TRUE(has(r.error_message, "decoded")) << r.error_message;
  }
}

// ---- the memory budget ----------------------------------------------------------------

TEST(http_budget, ManyLargeBodiesStayWithinTheBudgetAndEveryRequestEnds) {
  sluice::http_server::LocalServer server;
  sluice::http::ClientOptions options;
  constexpr std::size_t kBudget = 8u << 20;
  options.memory_budget_bytes = kBudget;
  options.retry = RetryPolicy::none();
  sluice::http::Client client(options);
  constexpr std::size_t kRequests = 50;
  Collector got;
  for (std::size_t i = 0; i < kRequests; ++i) {
    client.submit({.url = server.url("/bytes?n=1048576&id=" + std::to_string(i)), .tag = i},
                  got.callback());
  }
  ASSERT_TRUE(got.wait(kRequests, 30s)) << "lost: " << kRequests - got.size();
  std::size_t whole = 0;
  std::size_t over = 0;
  for (const auto& r : got.take()) {
    if (r.ok()) {
      ++whole;
      EXPECT_EQ(r.body.size(), 1u << 20);
    } else {
      ASSERT_EQ(r.error, ErrorKind::too_large) << r.error_message;
      EXPECT_TRUE(has(r.error_message, "memory budget")) << r.error_message;
      ++over;
    }
  }
  EXPECT_EQ(whole + over, kRequests);
  EXPECT_GT(whole, 0u) << "the budget holds several 1 MiB bodies at once";
  const auto c = client.counters();
  EXPECT_LE(c.peak_buffered_bytes, kBudget);
  EXPECT_GT(c.peak_buffered_bytes, 0u);
  EXPECT_EQ(c.buffered_bytes, 0u) << "everything handed over or freed";
  EXPECT_EQ(c.completed, kRequests);
}

TEST(http_budget, TheBudgetIsGivenBackAsResponsesAreDelivered) {
  sluice::http_server::LocalServer server;
  sluice::http::ClientOptions options;
  options.memory_budget_bytes = 4u << 20;
  sluice::http::Client client(options);
  // Ten 1 MiB bodies one after another: 10 MiB in all, never more than one at a time.
  for (int i = 0; i < 10; ++i) {
    const auto r = client.fetch({.url = server.url("/bytes?n=1048576")});
    ASSERT_TRUE(r.ok()) << i << ": " << r.error_message;
  }
  EXPECT_EQ(client.counters().buffered_bytes, 0u);
  EXPECT_LE(client.counters().peak_buffered_bytes, 4u << 20);
}

TEST(http_budget, ABodyLargerThanTheWholeBudgetFailsAsTooLarge) {
  sluice::http_server::LocalServer server;
  sluice::http::ClientOptions options;
  options.memory_budget_bytes = 1u << 20;
  sluice::http::Client client(options);
  const auto r = client.fetch({.url = server.url("/bytes?n=2097152")});
  EXPECT_EQ(r.error, ErrorKind::too_large) << r.error_message;
  EXPECT_LE(r.body.size(), 1u << 20);
  EXPECT_TRUE(is_pattern(r.body));
  EXPECT_EQ(client.counters().buffered_bytes, 0u);
}

}  // namespace
