// http_server::LocalServer endpoints through a real client (libcurl): what a client sees, and what
// the server's counters say it saw.
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "curl_fetch.hpp"
#include "raw_socket.hpp"
#include "sluice/http_server.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using test::fetch;
using test::FetchOptions;

TEST(LocalServer, StartsOnAnEphemeralLoopbackPortAndStops) {
  http_server::LocalServer server;
  EXPECT_NE(server.port(), 0);
  EXPECT_TRUE(server.running());
  EXPECT_EQ(server.base_url(), "http://127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(server.url("/x"), server.base_url() + "/x");
  const auto result = fetch(server.url("/delay?us=0"));
  EXPECT_EQ(result.code, CURLE_OK) << result.error;
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, "ok\n");

  server.stop();
  EXPECT_FALSE(server.running());
  server.stop();  // idempotent
  const auto after = fetch(server.url("/delay?us=0"), {.timeout = 2s});
  EXPECT_EQ(after.code, CURLE_COULDNT_CONNECT);
}

TEST(LocalServer, TwoServersGetTwoPorts) {
  http_server::LocalServer a;
  http_server::LocalServer b;
  EXPECT_NE(a.port(), b.port());
}

TEST(LocalServer, ABusyPortIsAClearError) {
  http_server::LocalServer first;
  http_server::LocalServerOptions options;
  options.port = first.port();
  EXPECT_THROW(http_server::LocalServer{options}, std::system_error);
  options.host = "not-an-address";
  options.port = 0;
  EXPECT_THROW(http_server::LocalServer{options}, std::invalid_argument);
}

TEST(LocalServer, DelayWaitsAtLeastTheRequestedTime) {
  http_server::LocalServer server;
  for (const int us : {200, 5000, 50000}) {
    const auto result = fetch(server.url("/delay?us=" + std::to_string(us)));
    ASSERT_EQ(result.code, CURLE_OK) << result.error;
    EXPECT_EQ(result.status, 200);
    EXPECT_GE(result.elapsed, std::chrono::microseconds(us)) << us;
  }
  EXPECT_EQ(server.endpoint_count(http_server::Endpoint::delay), 3u);
}

TEST(LocalServer, BytesSendsExactlyNPatternBytes) {
  http_server::LocalServer server;
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{26}, std::size_t{4095},
                              std::size_t{100000}, std::size_t{5} << 20}) {
    const auto result = fetch(server.url("/bytes?n=" + std::to_string(n)));
    ASSERT_EQ(result.code, CURLE_OK) << result.error;
    EXPECT_EQ(result.status, 200);
    EXPECT_EQ(result.body.size(), n);
    EXPECT_TRUE(test::is_pattern(result.body)) << n;
    EXPECT_EQ(result.header("Content-Length"), std::to_string(n));
  }
  EXPECT_EQ(server.endpoint_count(http_server::Endpoint::bytes), 6u);
}

TEST(LocalServer, ASlowReaderGetsTheWholeBody) {
  // A small receive window makes the server's socket fill up again and again: the part
  // of each response it cannot write at once must follow, in order, none lost.
  http_server::LocalServer server;
  test::RawConnection connection(server.port(), 4096);
  constexpr std::size_t kBytes = 4 << 20;
  connection.send_all("GET /bytes?n=" + std::to_string(kBytes) +
                      " HTTP/1.1\r\nHost: t\r\n\r\n"
                      "GET /bytes?n=3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  const auto received = connection.receive(5s);
  EXPECT_EQ(received.end, test::RawConnection::End::closed);
  const auto first_body = received.bytes.find("\r\n\r\n") + 4;
  const auto second_head = received.bytes.find("HTTP/1.1 200", first_body);
  ASSERT_NE(second_head, std::string::npos);
  EXPECT_EQ(second_head - first_body, kBytes);
  EXPECT_TRUE(test::is_pattern(std::string_view(received.bytes).substr(first_body, kBytes)));
  EXPECT_TRUE(received.bytes.ends_with("\r\n\r\nabc"));
}

TEST(LocalServer, DelayCombinesWithOtherEndpoints) {
  http_server::LocalServer server;
  const auto bytes = fetch(server.url("/bytes?n=1000&delay_us=20000"));
  ASSERT_EQ(bytes.code, CURLE_OK) << bytes.error;
  EXPECT_EQ(bytes.body.size(), 1000u);
  EXPECT_GE(bytes.elapsed, 20ms);
  const auto status = fetch(server.url("/status?code=502&delay_us=20000"));
  EXPECT_EQ(status.status, 502);
  EXPECT_GE(status.elapsed, 20ms);
  const auto sized = fetch(server.url("/delay?us=1000&n=77"));
  EXPECT_EQ(sized.body.size(), 77u);
  EXPECT_TRUE(test::is_pattern(sized.body));
}

TEST(LocalServer, StatusAnswersTheRequestedCode) {
  http_server::LocalServer server;
  for (const long code : {200L, 204L, 404L, 429L, 500L, 503L, 599L}) {
    const auto result = fetch(server.url("/status?code=" + std::to_string(code)));
    ASSERT_EQ(result.code, CURLE_OK) << result.error;
    EXPECT_EQ(result.status, code);
  }
  EXPECT_EQ(server.endpoint_count(http_server::Endpoint::status), 7u);
}

TEST(LocalServer, FlakyFailsTheRequestedFraction) {
  http_server::LocalServer server;
  test::CurlSession session;  // one kept-alive connection
  int failures = 0;
  int retry_after = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto result = session.fetch(server.url("/flaky?fail=0.1&code=503&retry_after=1"));
    ASSERT_EQ(result.code, CURLE_OK) << result.error;
    if (result.status == 503) {
      ++failures;
      retry_after += result.header("Retry-After") == "1";
    } else {
      ASSERT_EQ(result.status, 200);
    }
  }
  EXPECT_EQ(failures, 100);  // evenly spread: exact over 1,000
  EXPECT_EQ(retry_after, failures);
  EXPECT_EQ(server.stats().flaky_failures, 100u);
  EXPECT_EQ(server.stats().connections_accepted, 1u);  // keep-alive held

  int seeded = 0;
  for (int i = 0; i < 1000; ++i) {
    seeded += session.fetch(server.url("/flaky?fail=0.3&code=500&seed=42")).status == 500;
  }
  EXPECT_NEAR(seeded, 300, 60);
}

TEST(LocalServer, RedirectPointsWhereAsked) {
  http_server::LocalServer server;
  const auto result = fetch(server.url("/redirect?to=file%3A%2F%2F%2Fetc%2Fpasswd"));
  ASSERT_EQ(result.code, CURLE_OK) << result.error;
  EXPECT_EQ(result.status, 302);
  EXPECT_EQ(result.header("Location"), "file:///etc/passwd");
  const auto moved = fetch(server.url("/redirect?to=/bytes?n=1&code=307"));
  EXPECT_EQ(moved.status, 307);
  EXPECT_EQ(moved.header("Location"), "/bytes?n=1");
}

TEST(LocalServer, EchoDescribesTheRequest) {
  http_server::LocalServer server;
  const std::string body(5000, 'x');  // large enough for curl to ask `Expect: 100-continue`
  const auto post = fetch(server.url("/echo?a=1"), {.method = "POST", .body = body});
  ASSERT_EQ(post.code, CURLE_OK) << post.error;
  EXPECT_EQ(post.status, 200);
  EXPECT_NE(post.body.find("\"method\":\"POST\""), std::string::npos) << post.body;
  EXPECT_NE(post.body.find("\"target\":\"/echo?a=1\""), std::string::npos) << post.body;
  EXPECT_NE(post.body.find("\"body_bytes\":5000"), std::string::npos) << post.body;
  EXPECT_EQ(post.header("X-Request-Body-Bytes"), "5000");

  const auto put = fetch(server.url("/echo"), {.method = "PUT", .body = "abc"});
  EXPECT_NE(put.body.find("\"method\":\"PUT\""), std::string::npos) << put.body;
  EXPECT_EQ(server.endpoint_count(http_server::Endpoint::echo), 2u);
}

TEST(LocalServer, PostIsAcceptedEverywhereAndItsBodyCounted) {
  http_server::LocalServer server;
  const auto result =
      fetch(server.url("/bytes?n=10"), {.method = "POST", .body = std::string(70000, 'p')});
  ASSERT_EQ(result.code, CURLE_OK) << result.error;
  EXPECT_EQ(result.body.size(), 10u);
  EXPECT_EQ(result.header("X-Request-Body-Bytes"), "70000");
}

TEST(LocalServer, ChunkedRequestBodiesAreCounted) {
  http_server::LocalServer server;
  const auto response = test::exchange(
      server.port(),
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n");
  EXPECT_EQ(test::status_of(response), 200) << response;
  EXPECT_NE(response.find("\"body_bytes\":7"), std::string::npos) << response;
}

TEST(LocalServer, ExpectContinueGetsA100BeforeTheBody) {
  http_server::LocalServer server;
  test::RawConnection connection(server.port());
  connection.send_all(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n"
      "Connection: close\r\n\r\n");
  const auto interim = connection.receive_until("\r\n\r\n", 5s);
  EXPECT_EQ(interim.bytes, "HTTP/1.1 100 Continue\r\n\r\n");
  connection.send_all("body");
  const auto final_response = connection.receive(5s);
  EXPECT_EQ(test::status_of(final_response.bytes), 200) << final_response.bytes;
  EXPECT_NE(final_response.bytes.find("\"body_bytes\":4"), std::string::npos);
}

TEST(LocalServer, HeadSendsHeadersOnly) {
  http_server::LocalServer server;
  const auto result = fetch(server.url("/bytes?n=1234"), {.method = "HEAD"});
  ASSERT_EQ(result.code, CURLE_OK) << result.error;
  EXPECT_EQ(result.header("Content-Length"), "1234");
  EXPECT_TRUE(result.body.empty());
}

TEST(LocalServer, UnknownPathsAre404AndBadParameters400) {
  http_server::LocalServer server;
  EXPECT_EQ(fetch(server.url("/nowhere")).status, 404);
  const auto bad = fetch(server.url("/bytes?n=lots"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("'n'"), std::string::npos) << bad.body;
  EXPECT_EQ(fetch(server.url("/status")).status, 400);
  EXPECT_EQ(fetch(server.url("/delay?us=-5")).status, 400);
  EXPECT_EQ(fetch(server.url("/flaky?fail=1.5")).status, 400);
  EXPECT_EQ(fetch(server.url("/bytes?n=1"), {.method = "DELETE"}).status, 405);
  const auto stats = server.stats();
  EXPECT_EQ(stats.bad_requests, 5u);
  EXPECT_EQ(stats.count(http_server::Endpoint::not_found), 1u);
  EXPECT_EQ(stats.count(http_server::Endpoint::bytes), 2u);
}

TEST(LocalServer, MalformedRequestsGet400AndAClosedConnection) {
  http_server::LocalServer server;
  const auto response = test::exchange(server.port(), "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(test::status_of(response), 400) << response;
  EXPECT_NE(response.find("Connection: close"), std::string::npos);
  // libevent 2.1's evhttp answers a head over the limit with 400 too (not 431).
  const auto huge = test::exchange(
      server.port(), "GET / HTTP/1.1\r\nX: " + std::string(70 * 1024, 'x') + "\r\n\r\n");
  EXPECT_EQ(test::status_of(huge), 400) << huge.substr(0, 100);
  EXPECT_NE(huge.find("Connection: close"), std::string::npos);
  // evhttp answers both itself: the server never sees them, so counts neither.
  EXPECT_EQ(server.stats().requests_received, 0u);
  EXPECT_EQ(server.stats().bad_requests, 0u);
}

TEST(LocalServer, PipelinedRequestsAreAnsweredInOrder) {
  http_server::LocalServer server;
  test::RawConnection connection(server.port());
  connection.send_all(
      "GET /bytes?n=3&delay_us=20000 HTTP/1.1\r\nHost: t\r\n\r\n"
      "GET /status?code=404 HTTP/1.1\r\nHost: t\r\n\r\n"
      "GET /bytes?n=5 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  const auto received = connection.receive(5s);
  EXPECT_EQ(received.end, test::RawConnection::End::closed);
  const auto& bytes = received.bytes;
  const auto first = bytes.find("\r\n\r\nabc");
  const auto second = bytes.find("HTTP/1.1 404");
  const auto third = bytes.find("\r\n\r\nabcde");
  ASSERT_NE(first, std::string::npos) << bytes;
  ASSERT_NE(second, std::string::npos) << bytes;
  ASSERT_NE(third, std::string::npos) << bytes;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_EQ(server.stats().responses_sent, 3u);
  EXPECT_EQ(server.stats().connections_accepted, 1u);
}

TEST(LocalServer, AHalfClosedClientStillGetsAnUndelayedAnswer) {
  http_server::LocalServer server;
  test::RawConnection connection(server.port());
  connection.send_all("GET /bytes?n=100000 HTTP/1.1\r\nHost: t\r\n\r\n");
  ::shutdown(connection.fd(), SHUT_WR);  // as `nc` does at the end of its input
  const auto received = connection.receive(5s);
  EXPECT_EQ(received.end, test::RawConnection::End::closed);
  EXPECT_EQ(test::status_of(received.bytes), 200);
  const auto body_at = received.bytes.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos);
  EXPECT_EQ(received.bytes.size() - body_at - 4, 100000u);
}

TEST(LocalServer, Http10ConnectionsCloseAfterOneResponse) {
  http_server::LocalServer server;
  const auto response = test::exchange(server.port(), "GET /bytes?n=4 HTTP/1.0\r\n\r\n");
  EXPECT_EQ(test::status_of(response), 200);
  EXPECT_TRUE(response.ends_with("\r\n\r\nabcd")) << response;
}

}  // namespace
}  // namespace sluice
