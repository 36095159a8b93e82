// The fault endpoints: a reset mid-body, a hang, a client that gives up, and a stop with
// connections still open. Each must look to a client exactly like the real thing.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "curl_fetch.hpp"
#include "eventually.hpp"
#include "raw_socket.hpp"
#include "sluice/http_server.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::fetch;
using test::RawConnection;

TEST(LocalServerFaults, ResetCutsTheBodyAndResetsTheConnection) {
  http_server::LocalServer server;
  RawConnection connection(server.port());
  connection.send_all("GET /reset?after=1000&n=5000 HTTP/1.1\r\nHost: t\r\n\r\n");
  const auto received = connection.receive(5s);
  EXPECT_EQ(received.end, RawConnection::End::reset);
  const auto head_end = received.bytes.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos) << received.bytes;
  EXPECT_NE(received.bytes.find("Content-Length: 5000"), std::string::npos);
  const std::string body = received.bytes.substr(head_end + 4);
  EXPECT_EQ(body.size(), 1000u);  // all of what was sent before the reset, nothing more
  EXPECT_TRUE(test::is_pattern(body));
  EXPECT_TRUE(eventually([&] { return server.stats().resets >= 1u; }));
}

TEST(LocalServerFaults, AHeadRequestForAResetGetsTheHeadThenTheReset) {
  http_server::LocalServer server;
  RawConnection connection(server.port());
  connection.send_all("HEAD /reset?after=10 HTTP/1.1\r\nHost: t\r\n\r\n");
  const auto received = connection.receive(5s);
  EXPECT_EQ(received.end, RawConnection::End::reset);
  EXPECT_NE(received.bytes.find("Content-Length: 1034"), std::string::npos) << received.bytes;
  EXPECT_TRUE(received.bytes.ends_with("\r\n\r\n")) << received.bytes;  // no body
  EXPECT_TRUE(eventually([&] { return server.stats().resets >= 1u; }));
}

TEST(LocalServerFaults, ResetIsAnErrorForCurlNotA200) {
  http_server::LocalServer server;
  for (const char* path :
       {"/reset?after=0", "/reset?after=100", "/reset?after=200000&delay_us=1000"}) {
    const auto result = fetch(server.url(path));
    EXPECT_NE(result.code, CURLE_OK) << path;
    EXPECT_TRUE(result.code == CURLE_RECV_ERROR || result.code == CURLE_PARTIAL_FILE)
        << path << ": " << result.error;
  }
  EXPECT_EQ(server.endpoint_count(http_server::Endpoint::reset), 3u);
  EXPECT_TRUE(eventually([&] { return server.stats().resets >= 3u; }));
}

TEST(LocalServerFaults, HangTimesTheClientOut) {
  http_server::LocalServer server;
  const auto result = fetch(server.url("/hang"), {.timeout = 300ms});
  EXPECT_EQ(result.code, CURLE_OPERATION_TIMEDOUT) << result.error;
  // curl times on CLOCK_MONOTONIC_RAW, this test on CLOCK_MONOTONIC: allow for the skew.
  EXPECT_GE(result.elapsed, 290ms) << result.error;
  EXPECT_EQ(server.endpoint_count(http_server::Endpoint::hang), 1u);
  // The client closed its end: the server notices, closes and counts the abandoned request.
  EXPECT_TRUE(eventually([&] { return server.stats().abandoned >= 1u; }));
  EXPECT_TRUE(eventually([&] { return server.active_connections() == 0; }));
}

TEST(LocalServerFaults, AClientLeavingDuringADelayIsCountedAndCleanedUp) {
  http_server::LocalServer server;
  {
    RawConnection connection(server.port());
    connection.send_all("GET /delay?us=10000000 HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(eventually([&] { return server.requests_received() >= 1u; }));
    EXPECT_EQ(server.active_connections(), 1u);
  }
  EXPECT_TRUE(eventually([&] { return server.stats().abandoned >= 1u; }));
  EXPECT_TRUE(eventually([&] { return server.active_connections() == 0; }));
  EXPECT_EQ(server.responses_sent(), 0u);
}

TEST(LocalServerFaults, StopClosesHangingAndDelayedConnections) {
  auto server = std::make_unique<http_server::LocalServer>();
  std::vector<std::unique_ptr<RawConnection>> connections;
  for (int i = 0; i < 20; ++i) {
    connections.push_back(std::make_unique<RawConnection>(server->port()));
    connections.back()->send_all(i % 2 == 0 ? "GET /hang HTTP/1.1\r\nHost: t\r\n\r\n"
                                            : "GET /delay?us=60000000 HTTP/1.1\r\nHost: t\r\n\r\n");
  }
  connections.push_back(std::make_unique<RawConnection>(server->port()));  // idle
  ASSERT_TRUE(eventually([&] { return server->requests_received() >= 20u; }));
  ASSERT_TRUE(eventually([&] { return server->active_connections() >= 21u; }));

  const auto start = std::chrono::steady_clock::now();
  server->stop();
  // Did not wait for the hangs or the 60 s delays; room for a loaded machine.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  EXPECT_EQ(server->active_connections(), 0u);
  for (auto& connection : connections) {
    const auto received = connection->receive(2s);
    EXPECT_NE(received.end, RawConnection::End::open);
    EXPECT_TRUE(received.bytes.empty());
  }
  server.reset();  // the destructor after stop() is fine too
}

TEST(LocalServerFaults, DestructorStopsARunningServer) {
  std::uint16_t port = 0;
  std::unique_ptr<RawConnection> hanging;
  {
    http_server::LocalServer server;
    port = server.port();
    hanging = std::make_unique<RawConnection>(port);
    hanging->send_all("GET /hang HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(eventually([&] { return server.requests_received() >= 1u; }));
  }  // the destructor joins the loop thread with the hanging connection still open
  EXPECT_EQ(hanging->receive(2s).end, RawConnection::End::closed);
  EXPECT_EQ(fetch("http://127.0.0.1:" + std::to_string(port) + "/bytes?n=1", {.timeout = 2s}).code,
            CURLE_COULDNT_CONNECT);
}

}  // namespace
}  // namespace sluice
