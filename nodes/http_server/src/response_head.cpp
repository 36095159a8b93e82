#include "response_head.hpp"

#include "status_text.hpp"

namespace sluice::http_server::detail {

std::string format_response_head(const Reply& reply, int minor_version, bool keep_alive,
                                 std::uint64_t request_body_bytes) {
  std::string head;
  head.reserve(256);
  head += "HTTP/1.1 ";
  head += std::to_string(reply.status);
  head += ' ';
  head += reason_phrase(reply.status);
  head += "\r\n";
  if (!status_has_no_body(reply.status)) {
    head += "Content-Length: " + std::to_string(reply.content_length()) + "\r\n";
  }
  for (const auto& [name, value] : reply.headers) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += "X-Request-Body-Bytes: " + std::to_string(request_body_bytes) + "\r\n";
  if (!keep_alive) {
    head += "Connection: close\r\n";
  } else if (minor_version == 0) {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";
  return head;
}

}  // namespace sluice::http_server::detail
