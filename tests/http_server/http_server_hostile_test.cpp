// The hostile endpoints, seen from raw sockets: exactly the bytes that break HTTP, a
// body that drips, headers that bloat, compressed bodies that decode to the pattern,
// and a redirect that never ends.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <string>

#include "raw_socket.hpp"
#include "sluice/http_server.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;

std::string get(std::string_view target) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
}

std::string body_of(const std::string& response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : response.substr(end + 4);
}

TEST(LocalServerHostile, MalformedSendsExactlyTheBrokenBytesAndCloses) {
  http_server::LocalServer server;
  EXPECT_EQ(test::exchange(server.port(), get("/malformed")),
            "HTTP/1.1 abc\r\nContent-Length: 3\r\n\r\nok\n");
  EXPECT_EQ(test::exchange(server.port(), get("/malformed?kind=garbage")),
            "this is not http\r\n\r\n");
  const std::string twice = test::exchange(server.port(), get("/malformed?kind=length"));
  EXPECT_NE(twice.find("Content-Length: 3\r\nContent-Length: 7\r\n"), std::string::npos) << twice;
  EXPECT_EQ(test::status_of(test::exchange(server.port(), get("/malformed?kind=nope"))), 400);
  EXPECT_EQ(server.endpoint_count(http_server::Endpoint::malformed), 4u);
}

TEST(LocalServerHostile, DripSendsTheHeadThenOneByteAtATime) {
  http_server::LocalServer server;
  test::RawConnection connection(server.port());
  connection.send_all(get("/drip?n=5&every_us=20000"));
  const auto start = std::chrono::steady_clock::now();
  const auto received = connection.receive(2s);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms) << "five bytes 20 ms apart";
  EXPECT_EQ(test::status_of(received.bytes), 200);
  EXPECT_NE(received.bytes.find("Content-Length: 5\r\n"), std::string::npos) << received.bytes;
  EXPECT_EQ(body_of(received.bytes), "abcde");
}

TEST(LocalServerHostile, HeadersSendsCountHeadersOfSizeBytes) {
  http_server::LocalServer server;
  const std::string response = test::exchange(server.port(), get("/headers?size=1000&count=3"));
  EXPECT_EQ(test::status_of(response), 200);
  for (const char* name : {"X-Filler-0: ", "X-Filler-1: ", "X-Filler-2: "}) {
    const auto at = response.find(name);
    ASSERT_NE(at, std::string::npos) << name;
    const auto value_start = at + std::string(name).size();
    EXPECT_EQ(response.find("\r\n", value_start) - value_start, 1000u) << name;
  }
  EXPECT_EQ(body_of(response), "ok\n");
}

TEST(LocalServerHostile, GzipBodiesDecodeToThePattern) {
  http_server::LocalServer server;
  for (const char* encoding : {"gzip", "deflate"}) {
    const std::string response =
        test::exchange(server.port(), get(std::string("/gzip?n=100000&encoding=") + encoding));
    EXPECT_NE(response.find(std::string("Content-Encoding: ") + encoding), std::string::npos);
    const std::string compressed = body_of(response);
    EXPECT_LT(compressed.size(), 10'000u) << encoding;
    std::string decoded(100'000, '\0');
    z_stream z{};
    ASSERT_EQ(inflateInit2(&z, 15 + 32), Z_OK);  // +32: either wrapper
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    z.avail_in = static_cast<uInt>(compressed.size());
    z.next_out = reinterpret_cast<Bytef*>(decoded.data());
    z.avail_out = static_cast<uInt>(decoded.size());
    EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END) << encoding;
    EXPECT_EQ(z.total_out, 100'000u) << encoding;
    inflateEnd(&z);
    bool pattern = true;
    for (std::size_t i = 0; i < decoded.size(); ++i)
      pattern = pattern && decoded[i] == http_server::pattern_byte(i);
    EXPECT_TRUE(pattern) << encoding;
  }
}

TEST(LocalServerHostile, RedirectLoopPointsOneHopFurther) {
  http_server::LocalServer server;
  const std::string response = test::exchange(server.port(), get("/redirect_loop?hop=41"));
  EXPECT_EQ(test::status_of(response), 302);
  EXPECT_NE(response.find("Location: /redirect_loop?hop=42\r\n"), std::string::npos) << response;
}

}  // namespace
}  // namespace sluice
