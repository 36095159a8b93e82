// sluice::http::Client against the in-process http_server::LocalServer: what a response carries,
// methods and bodies, redirects, connection reuse and caps, blocking fetch from many
// threads.
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "http_test_support.hpp"
#include "sluice/http.hpp"
#include "sluice/http_server.hpp"

namespace {

using namespace std::chrono_literals;
using sluice::http::ErrorKind;
using sluice::http::Request;
using sluice_http_test::Collector;
using sluice_http_test::encode_query_value;

bool is_pattern(const std::string& body) {
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != sluice::http_server::pattern_byte(i)) return false;
  }
  return true;
}

TEST(http_client, GetReturnsStatusHeadersBodyTimings) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  const auto r = client.fetch({.url = server.url("/bytes?n=5000"), .tag = 42});
  ASSERT_TRUE(r.ok()) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 5000u);
  EXPECT_TRUE(is_pattern(r.body));
  EXPECT_EQ(r.header("content-length"), "5000");
  EXPECT_EQ(r.tag, 42u);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_TRUE(r.error_message.empty());
  EXPECT_GT(r.timings.total.count(), 0);
  EXPECT_LE(r.timings.connect, r.timings.first_byte);
  EXPECT_LE(r.timings.first_byte, r.timings.total);
}

TEST(http_client, NonSuccessStatusesAreData) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  for (int code : {404, 418, 500, 503}) {
    const auto r = client.fetch({.url = server.url("/status?code=" + std::to_string(code))});
    EXPECT_TRUE(r.received()) << r.error_message;
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status, code);
  }
  EXPECT_EQ(client.counters().errors(ErrorKind::none), 4u);
}

TEST(http_client, FirstByteTimingShowsTheServerDelay) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  const auto r = client.fetch({.url = server.url("/delay?us=50000")});
  ASSERT_TRUE(r.ok()) << r.error_message;
  EXPECT_GE(r.timings.first_byte, 50ms);
  EXPECT_GE(r.timings.total, r.timings.first_byte);
}

TEST(http_client, PostSendsBodyAndHeaders) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  const std::string payload(10'000, 'x');
  const auto plain = client.fetch({.method = "POST", .url = server.url("/echo"), .body = payload});
  const auto extra = client.fetch({.method = "POST",
                                   .url = server.url("/echo"),
                                   .headers = {{"X-Sluice-Test", "yes"}, {"X-Another", "1"}},
                                   .body = payload});
  ASSERT_TRUE(plain.ok()) << plain.error_message;
  ASSERT_TRUE(extra.ok()) << extra.error_message;
  EXPECT_EQ(extra.header("X-Request-Body-Bytes"), "10000");
  EXPECT_NE(extra.body.find("\"method\":\"POST\""), std::string::npos) << extra.body;
  // /echo reports how many header fields arrived: the two extra ones did.
  const auto header_count = [](const std::string& body) {
    const auto at = body.find("\"headers\":");
    return at == std::string::npos ? -1 : std::stoi(body.substr(at + 10));
  };
  EXPECT_EQ(header_count(extra.body), header_count(plain.body) + 2) << extra.body;
}

TEST(http_client, PutAndDeleteUseTheirMethods) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  for (const char* method : {"PUT", "DELETE", "PATCH"}) {
    const auto r = client.fetch({.method = method, .url = server.url("/echo"), .body = "abc"});
    ASSERT_TRUE(r.ok()) << r.error_message;
    EXPECT_NE(r.body.find(std::string("\"") + method + "\""), std::string::npos) << r.body;
    EXPECT_EQ(r.header("X-Request-Body-Bytes"), "3");
  }
}

TEST(http_client, HeadHasNoBody) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  const auto r = client.fetch({.method = "HEAD", .url = server.url("/bytes?n=100")});
  ASSERT_TRUE(r.ok()) << r.error_message;
  EXPECT_TRUE(r.body.empty());
}

TEST(http_client, FollowsHttpRedirects) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  const std::string target = server.url("/bytes?n=10");
  const auto r = client.fetch({.url = server.url("/redirect?to=" + encode_query_value(target))});
  ASSERT_TRUE(r.ok()) << r.error_message;
  EXPECT_EQ(r.body.size(), 10u);
  EXPECT_EQ(r.effective_url, target);
  EXPECT_EQ(r.header("Location"), std::nullopt) << "headers are the final response's";
}

TEST(http_client, StopsAfterTooManyRedirects) {
  sluice::http_server::LocalServer server;
  sluice::http::ClientOptions options;
  options.max_redirects = 2;
  sluice::http::Client client(options);
  // Three hops: a -> b -> c -> /bytes.
  const std::string last =
      server.url("/redirect?to=" + encode_query_value(server.url("/bytes?n=1")));
  const std::string middle = server.url("/redirect?to=" + encode_query_value(last));
  const auto r = client.fetch({.url = server.url("/redirect?to=" + encode_query_value(middle))});
  EXPECT_EQ(r.error, ErrorKind::too_many_redirects) << r.error_message;
  EXPECT_NE(r.error_message.find("redirect"), std::string::npos) << r.error_message;
}

TEST(http_client, ReusesConnections) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client.fetch({.url = server.url("/bytes?n=10")}).ok());
  EXPECT_EQ(server.stats().connections_accepted, 1u);
}

TEST(http_client, PerHostConnectionCapQueuesTransfers) {
  sluice::http_server::LocalServer server;
  sluice::http::ClientOptions options;
  options.max_host_connections = 4;
  sluice::http::Client client(options);
  Collector got;
  constexpr int kRequests = 40;
  for (int i = 0; i < kRequests; ++i)
    client.submit({.url = server.url("/delay?us=10000")}, got.callback());
  ASSERT_TRUE(got.wait(kRequests));
  for (const auto& r : got.take()) EXPECT_TRUE(r.ok()) << r.error_message;
  EXPECT_LE(server.stats().connections_accepted, 4u);
}

TEST(http_client, UnlimitedAndHugeCapsRunEveryTransfer) {
  // sluice::unlimited is "no cap"; a cap past what libcurl's long holds saturates rather
  // than wrapping to a negative number that libcurl would refuse or misread.
  sluice::http_server::LocalServer server;
  for (const std::size_t cap : {sluice::unlimited, sluice::unlimited - 1, std::size_t{1} << 63}) {
    sluice::http::ClientOptions options;
    options.max_host_connections = cap;
    options.max_total_connections = cap;
    options.memory_budget_bytes = cap;
    sluice::http::Client client(options);
    Collector got;
    constexpr int kRequests = 20;
    for (int i = 0; i < kRequests; ++i)
      client.submit({.url = server.url("/bytes?n=1000")}, got.callback());
    ASSERT_TRUE(got.wait(kRequests)) << "cap " << cap;
    for (const auto& r : got.take())
      EXPECT_TRUE(r.ok()) << "cap " << cap << ": " << r.error_message;
  }
}

TEST(http_client, AZeroCapIsRefusedNamingTheOption) {
  const auto refusal = [](void (*set)(sluice::http::ClientOptions&)) -> std::string {
    sluice::http::ClientOptions options;
    set(options);
    try {
      sluice::http::Client client(options);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  const std::string host = refusal([](auto& o) { o.max_host_connections = 0; });
  EXPECT_NE(host.find("max_host_connections"), std::string::npos) << host;
  EXPECT_NE(host.find("sluice::unlimited"), std::string::npos) << host;
  const std::string total = refusal([](auto& o) { o.max_total_connections = 0; });
  EXPECT_NE(total.find("max_total_connections"), std::string::npos) << total;
  const std::string budget = refusal([](auto& o) { o.memory_budget_bytes = 0; });
  EXPECT_NE(budget.find("memory_budget_bytes"), std::string::npos) << budget;
}

TEST(http_client, FetchFromManyThreads) {
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  std::atomic<int> good{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if (client.fetch({.url = server.url("/delay?us=1000")}).ok()) good.fetch_add(1);
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(good.load(), 200);
  const auto c = client.counters();
  EXPECT_EQ(c.submitted, 200u);
  EXPECT_EQ(c.completed, 200u);
  EXPECT_EQ(c.in_flight, 0u);
}

TEST(http_client, CallbacksMaySubmitMore) {
  // The async pattern a pipeline stage follows: each completion starts the next request
  // from the I/O thread.
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  Collector got;
  std::atomic<int> left{30};
  std::function<void(sluice::http::Response)> chain = [&](sluice::http::Response r) {
    const bool more = left.fetch_sub(1) > 1;
    got.callback()(std::move(r));
    if (more) client.submit({.url = server.url("/bytes?n=1")}, chain);
  };
  client.submit({.url = server.url("/bytes?n=1")}, chain);
  ASSERT_TRUE(got.wait(30));
  for (const auto& r : got.take()) EXPECT_TRUE(r.ok());
}

TEST(http_client, CompletionsRunOnTheNamedIoThread) {
  // The name is what top -H, perf and bench_http's CPU accounting look for.
  sluice::http_server::LocalServer server;
  sluice::http::Client client;
  std::promise<std::string> name;
  client.submit({.url = server.url("/bytes?n=1")}, [&name](sluice::http::Response) {
    char buffer[16] = {};
    pthread_getname_np(pthread_self(), buffer, sizeof buffer);
    name.set_value(buffer);
  });
  auto future = name.get_future();
  ASSERT_EQ(future.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(future.get(), "sluice-http");
}

TEST(http_client, UnresolvableHostIsDns) {
  sluice::http::Client client;
  const auto r = client.fetch(
      {.url = "http://sluice-test-host.invalid/", .timeout = 3s, .connect_timeout = 3s});
  if (r.error == ErrorKind::timeout) GTEST_SKIP() << "the resolver did not answer in time";
  EXPECT_EQ(r.error, ErrorKind::dns) << r.error_message;
  EXPECT_NE(r.error_message.find("sluice-test-host.invalid"), std::string::npos);
}

}  // namespace
