// Reply: what the server decided to do with one request — the response to send, when,
// and whether to send it whole, cut it with a reset, or never answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sluice/http_server.hpp"
#include "unique_fd.hpp"

namespace sluice::http_server::detail {

struct Reply {
  enum class Action {
    respond,  ///< send the response, then keep the connection (or close it, see close)
    reset,    ///< send the head and reset_after body bytes, then reset the connection
    hang,     ///< send nothing, ever
    drip      ///< send the head, then the body one byte every drip_every
  };
  /// raw: `text` is sent as it is, with no head of the server's making, then the
  /// connection closes.
  enum class Body { text, pattern, file, raw };

  Endpoint endpoint = Endpoint::not_found;
  Action action = Action::respond;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  ///< besides the framing ones
  Body body_kind = Body::text;
  std::string text;               ///< Body::text
  std::uint64_t body_length = 0;  ///< Body::pattern and Body::file; Content-Length
  UniqueFd file;                  ///< Body::file, read from offset 0
  std::uint64_t reset_after = 0;  ///< Action::reset: body bytes sent before the reset
  std::chrono::microseconds delay{0};
  std::chrono::microseconds drip_every{0};  ///< Action::drip
  bool close = false;                       ///< close the connection after this response
  bool bad_request = false;                 ///< counted as a bad request
  bool flaky_failure = false;               ///< counted as a /flaky failure

  std::uint64_t content_length() const noexcept {
    return body_kind == Body::text || body_kind == Body::raw ? text.size() : body_length;
  }
};

/// Statuses whose responses never carry a body or Content-Length (1xx, 204, 304).
constexpr bool status_has_no_body(int status) noexcept {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

/// A response with a short text body (a message, usually with a trailing newline).
inline Reply text_reply(Endpoint endpoint, int status, std::string text) {
  Reply reply;
  reply.endpoint = endpoint;
  reply.status = status;
  reply.text = std::move(text);
  reply.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  return reply;
}

}  // namespace sluice::http_server::detail
