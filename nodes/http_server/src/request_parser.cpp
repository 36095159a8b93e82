#include "request_parser.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <utility>

namespace sluice::http_server::detail {

namespace {

constexpr std::size_t kMaxHeaders = 100;
constexpr std::size_t kMaxChunkLine = 1024;

bool is_tchar(char c) noexcept {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view strip_cr(std::string_view line) noexcept {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Decimal digits only (no sign, no spaces), without overflow.
bool parse_decimal(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty()) return false;
  std::uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

bool parse_hex(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 15) return false;  // 15 hex digits: no overflow, 1 PiB max
  std::uint64_t value = 0;
  for (char c : s) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    value = value * 16 + static_cast<std::uint64_t>(digit);
  }
  out = value;
  return true;
}

}  // namespace

void RequestParser::reset() {
  state_ = State::head;
  request_ = Request{};
  buffer_.clear();
  remaining_ = 0;
  chunked_ = false;
  have_content_length_ = false;
  error_status_ = 0;
  error_message_.clear();
}

void RequestParser::fail(int status, std::string message) {
  state_ = State::error;
  error_status_ = status;
  error_message_ = std::move(message);
}

std::size_t RequestParser::feed(std::string_view data) {
  std::size_t used = 0;
  while (used < data.size()) {
    const std::string_view rest = data.substr(used);
    switch (state_) {
      case State::head:
        used += feed_head(rest);
        if (state_ != State::head) return used;  // let the caller see the head
        break;
      case State::body:
      case State::chunk_data: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
        request_.body_bytes += n;
        remaining_ -= n;
        used += n;
        if (remaining_ == 0) {
          if (state_ == State::body) {
            state_ = State::complete;
            return used;
          }
          state_ = State::chunk_data_end;
        }
        break;
      }
      case State::chunk_size:
        used += feed_line(rest, kMaxChunkLine);
        if (state_ == State::error) return used;
        if (!buffer_.empty() && buffer_.back() == '\n') on_chunk_size_line();
        break;
      case State::chunk_data_end:
        used += feed_line(rest, 2);
        if (state_ == State::error) return used;
        if (!buffer_.empty() && buffer_.back() == '\n') {
          if (strip_cr(std::string_view(buffer_).substr(0, buffer_.size() - 1)).empty()) {
            buffer_.clear();
            state_ = State::chunk_size;
          } else {
            fail(400, "chunk data longer than its size");
          }
        }
        break;
      case State::trailers:
        used += feed_line(rest, max_head_bytes_);
        if (state_ == State::error) return used;
        if (!buffer_.empty() && buffer_.back() == '\n') on_trailer_line();
        if (state_ == State::complete) return used;
        break;
      case State::complete:
      case State::error:
        return used;
    }
  }
  return used;
}

std::size_t RequestParser::feed_line(std::string_view data, std::size_t limit) {
  const auto newline = data.find('\n');
  const std::size_t take = newline == std::string_view::npos ? data.size() : newline + 1;
  buffer_.append(data.substr(0, take));
  // The limit holds whether or not the line has ended here, so how the bytes were split
  // never decides whether a request is accepted, nor why it is refused.
  if (buffer_.size() > limit + 1) {
    fail(400, state_ == State::chunk_data_end ? "chunk data longer than its size"
                                              : "line too long in chunked body");
  }
  return take;
}

std::size_t RequestParser::feed_head(std::string_view data) {
  std::size_t skipped = 0;
  if (buffer_.empty()) {
    // Tolerate blank lines before the request line (RFC 9112, section 2.2).
    while (skipped < data.size() && (data[skipped] == '\r' || data[skipped] == '\n')) ++skipped;
    data.remove_prefix(skipped);
    if (data.empty()) return skipped;
  }
  const std::size_t old_size = buffer_.size();
  const std::size_t room = max_head_bytes_ + 4 - std::min(old_size, max_head_bytes_ + 4);
  const std::size_t appended = std::min(room, data.size());
  buffer_.append(data.substr(0, appended));

  // The head ends at the first empty line: "\n\n" or "\n\r\n".
  for (std::size_t i = old_size >= 3 ? old_size - 3 : 0; i < buffer_.size(); ++i) {
    if (buffer_[i] != '\n') continue;
    std::size_t end = 0;
    if (i + 1 < buffer_.size() && buffer_[i + 1] == '\n') {
      end = i + 2;
    } else if (i + 2 < buffer_.size() && buffer_[i + 1] == '\r' && buffer_[i + 2] == '\n') {
      end = i + 3;
    }
    if (end == 0) continue;
    if (end > max_head_bytes_) break;
    buffer_.resize(end);
    parse_head();
    return skipped + (end - old_size);
  }
  if (buffer_.size() > max_head_bytes_) {
    fail(431, "request head larger than " + std::to_string(max_head_bytes_) + " bytes");
  }
  return skipped + appended;
}

void RequestParser::parse_head() {
  std::string_view head(buffer_);
  bool first = true;
  while (!head.empty() && state_ == State::head) {
    const auto newline = head.find('\n');
    const std::string_view line = strip_cr(head.substr(0, newline));
    head.remove_prefix(newline == std::string_view::npos ? head.size() : newline + 1);
    if (first) {
      parse_request_line(line);
      first = false;
    } else if (line.empty()) {
      break;
    } else {
      parse_header_line(line);
    }
  }
  buffer_.clear();
  if (state_ == State::head) finish_head();
}

void RequestParser::parse_request_line(std::string_view line) {
  const auto first_space = line.find(' ');
  const auto last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) {
    return fail(400, "malformed request line");
  }
  const auto method = line.substr(0, first_space);
  const auto target = line.substr(first_space + 1, last_space - first_space - 1);
  const auto version = line.substr(last_space + 1);
  if (!is_token(method)) return fail(400, "malformed method");
  if (target.empty() || target.find(' ') != std::string_view::npos ||
      (target.front() != '/' && target != "*")) {
    return fail(400, "malformed request target");
  }
  if (version == "HTTP/1.1") {
    request_.minor_version = 1;
  } else if (version == "HTTP/1.0") {
    request_.minor_version = 0;
  } else if (version.starts_with("HTTP/")) {
    return fail(505, "only HTTP/1.0 and HTTP/1.1 are supported");
  } else {
    return fail(400, "malformed HTTP version");
  }
  request_.method = method;
  request_.target = target;
}

void RequestParser::parse_header_line(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') return fail(400, "folded header line");
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
    return fail(400, "malformed header line");
  }
  if (request_.headers.size() == kMaxHeaders) return fail(431, "too many header fields");
  const auto name = line.substr(0, colon);
  const auto value = trim(line.substr(colon + 1));

  if (iequals(name, "Content-Length")) {
    std::uint64_t length = 0;
    if (!parse_decimal(value, length)) return fail(400, "malformed Content-Length");
    if (have_content_length_ && length != remaining_) {
      return fail(400, "conflicting Content-Length fields");
    }
    have_content_length_ = true;
    remaining_ = length;
  } else if (iequals(name, "Transfer-Encoding")) {
    // Only a plain "chunked" can be framed without decoding the body.
    if (!iequals(value, "chunked")) return fail(501, "unsupported Transfer-Encoding");
    chunked_ = true;
  }
  request_.headers.emplace_back(name, value);
}

void RequestParser::finish_head() {
  if (chunked_ && have_content_length_) {
    return fail(400, "both Transfer-Encoding and Content-Length");
  }
  const auto connection = request_.header("Connection");
  if (request_.minor_version == 0) {
    request_.keep_alive = connection && has_token(*connection, "keep-alive");
  } else {
    request_.keep_alive = !(connection && has_token(*connection, "close"));
  }
  const auto expect = request_.header("Expect");
  request_.expect_continue = expect && iequals(*expect, "100-continue");

  if (chunked_) {
    state_ = State::chunk_size;
  } else if (remaining_ > 0) {
    state_ = State::body;
  } else {
    state_ = State::complete;
  }
}

void RequestParser::on_chunk_size_line() {
  std::string_view line = strip_cr(std::string_view(buffer_).substr(0, buffer_.size() - 1));
  line = trim(line.substr(0, line.find(';')));  // drop chunk extensions
  std::uint64_t size = 0;
  if (!parse_hex(line, size)) return fail(400, "malformed chunk size");
  buffer_.clear();
  remaining_ = size;
  state_ = size == 0 ? State::trailers : State::chunk_data;
}

void RequestParser::on_trailer_line() {
  const std::string_view line = strip_cr(std::string_view(buffer_).substr(0, buffer_.size() - 1));
  const bool last = line.empty();
  buffer_.clear();
  if (last) state_ = State::complete;
}

}  // namespace sluice::http_server::detail
