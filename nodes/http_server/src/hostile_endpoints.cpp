#include "hostile_endpoints.hpp"

#include <string>

#include "compressed_body.hpp"
#include "sluice/http_server.hpp"

namespace sluice::http_server::detail {

namespace {

constexpr std::uint64_t kMaxCompressedInput = std::uint64_t{256} << 20;  // built in memory
// 16 MiB: four times the largest head a test asks for, far past any client's cap; a
// larger one only made a request cost seconds (found by fuzzing).
constexpr std::uint64_t kMaxHeaderTotal = std::uint64_t{16} << 20;
constexpr std::uint64_t kMaxDripBytes = 1 << 20;
constexpr std::uint64_t kMaxDripEveryUs = std::uint64_t{3600} * 1000000;

std::string pattern_string(std::uint64_t bytes) {
  std::string text(static_cast<std::size_t>(bytes), '\0');
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = pattern_byte(i);
  return text;
}

}  // namespace

Reply drip_reply(const RequestTarget& target) {
  Reply reply;
  reply.endpoint = Endpoint::drip;
  reply.action = Reply::Action::drip;
  reply.body_kind = Reply::Body::pattern;
  reply.body_length = target.get_uint("n", 1, kMaxDripBytes).value_or(100);
  reply.drip_every =
      std::chrono::microseconds(target.get_uint("every_us", 1, kMaxDripEveryUs).value_or(1000000));
  reply.headers.emplace_back("Content-Type", "application/octet-stream");
  return reply;
}

Reply huge_headers_reply(const RequestTarget& target) {
  const auto size = target.require_uint("size", 1, kMaxHeaderTotal);
  const auto count = target.get_uint("count", 1, 100000).value_or(1);
  if (size * count > kMaxHeaderTotal) {
    throw BadParameter("size * count must be at most " + std::to_string(kMaxHeaderTotal));
  }
  Reply reply = text_reply(Endpoint::headers, 200, "ok\n");
  const std::string value = pattern_string(size);
  for (std::uint64_t i = 0; i < count; ++i) {
    reply.headers.emplace_back("X-Filler-" + std::to_string(i), value);
  }
  return reply;
}

Reply compressed_reply(const RequestTarget& target) {
  const auto bytes = target.require_uint("n", 0, kMaxCompressedInput);
  const auto name = target.get("encoding").value_or("gzip");
  if (name != "gzip" && name != "deflate") {
    throw BadParameter("parameter 'encoding' must be gzip or deflate");
  }
  Reply reply =
      text_reply(Endpoint::gzip, 200,
                 compressed_pattern(bytes, name == "gzip" ? Encoding::gzip : Encoding::deflate));
  reply.headers.front().second = "application/octet-stream";
  reply.headers.emplace_back("Content-Encoding", std::string(name));
  reply.headers.emplace_back("X-Decoded-Length", std::to_string(bytes));
  return reply;
}

Reply malformed_reply(const RequestTarget& target) {
  const auto kind = target.get("kind").value_or("status");
  Reply reply;
  reply.endpoint = Endpoint::malformed;
  reply.body_kind = Reply::Body::raw;
  reply.close = true;
  if (kind == "status") {
    reply.text = "HTTP/1.1 abc\r\nContent-Length: 3\r\n\r\nok\n";
  } else if (kind == "garbage") {
    reply.text = "this is not http\r\n\r\n";
  } else if (kind == "length") {
    reply.text = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 7\r\n\r\nok\n";
  } else {
    throw BadParameter("parameter 'kind' must be status, garbage or length");
  }
  return reply;
}

Reply redirect_loop_reply(const RequestTarget& target) {
  const auto hop = target.get_uint("hop", 0, UINT64_MAX - 1).value_or(0);
  const std::string next = "/redirect_loop?hop=" + std::to_string(hop + 1);
  Reply reply = text_reply(Endpoint::redirect_loop, 302, "redirecting to " + next + "\n");
  reply.headers.emplace_back("Location", next);
  return reply;
}

}  // namespace sluice::http_server::detail
