// RequestParser: an incremental HTTP/1.x request parser. Bytes go in as they arrive
// (any split); it stops after the head, so the server can answer `Expect: 100-continue`,
// and after the body, so pipelined requests stay in the caller's buffer. Bodies
// (Content-Length or chunked) are counted and skipped, never stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "request.hpp"

namespace sluice::http_server::detail {

class RequestParser {
 public:
  enum class State {
    head,            ///< reading the request line and headers
    body,            ///< Content-Length body
    chunk_size,      ///< chunked body: the size line
    chunk_data,      ///< chunked body: chunk bytes
    chunk_data_end,  ///< chunked body: the CRLF after chunk bytes
    trailers,        ///< chunked body: trailer lines up to the blank line
    complete,        ///< request() is whole; call reset() for the next one
    error            ///< malformed: error_status() and error_message() say why
  };

  explicit RequestParser(std::size_t max_head_bytes) : max_head_bytes_(max_head_bytes) {}

  /// Consumes a prefix of data and returns its length. Stops early when the head has just
  /// been parsed (head_complete() turns true) and when the request is complete.
  std::size_t feed(std::string_view data);

  State state() const noexcept { return state_; }
  bool head_complete() const noexcept { return state_ != State::head && state_ != State::error; }
  bool complete() const noexcept { return state_ == State::complete; }
  bool failed() const noexcept { return state_ == State::error; }

  const Request& request() const noexcept { return request_; }
  /// 400, 431 (head too large) or 501 (unsupported transfer coding).
  int error_status() const noexcept { return error_status_; }
  const std::string& error_message() const noexcept { return error_message_; }

  /// Forgets the request, ready for the next one on the same connection.
  void reset();

 private:
  std::size_t feed_head(std::string_view data);
  std::size_t feed_line(std::string_view data, std::size_t limit);
  void parse_head();
  void parse_request_line(std::string_view line);
  void parse_header_line(std::string_view line);
  void finish_head();
  void on_chunk_size_line();
  void on_trailer_line();
  void fail(int status, std::string message);

  std::size_t max_head_bytes_;
  State state_ = State::head;
  Request request_;
  std::string buffer_;  // the head so far, or the current chunk-size / trailer line
  std::uint64_t remaining_ = 0;
  bool chunked_ = false;
  bool have_content_length_ = false;
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace sluice::http_server::detail
