// The values that cross sluice's HTTP client: header fields, a request and its response
// (or the kind of failure that stands in for one).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/http/error_kind.hpp"
#include "sluice/http/retry.hpp"

namespace sluice::http {

/// Header fields in the order they arrived (names as sent; look-ups ignore case).
///
///   sluice::http::Headers h{{"Accept", "application/json"}};
using Headers = std::vector<std::pair<std::string, std::string>>;

/// The value of the first header named `name` (case-insensitive), if any.
///
///   if (auto ct = sluice::http::find_header(resp.headers, "content-type")) ...
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) noexcept;

/// One request. Only `url` is required; unset timeouts and retry policy take the
/// client's defaults.
///
///   sluice::http::Request req{.url = "http://127.0.0.1:8080/bytes?n=100"};
///   req.timeout = std::chrono::seconds(2);
///   sluice::http::Request post{.method = "POST", .url = u, .headers = {{"Content-Type",
///                            "application/json"}}, .body = R"({"k":1})"};
struct Request {
  std::string method = "GET";
  std::string url{};
  Headers headers{};
  std::string body{};
  /// Total time one attempt may take (connect, send, wait, receive).
  std::optional<std::chrono::milliseconds> timeout{};
  /// Time one attempt may take to connect.
  std::optional<std::chrono::milliseconds> connect_timeout{};
  /// Retries for this request; unset means the client's default policy.
  std::optional<RetryPolicy> retry{};
  /// The caller's own tag, echoed in the response (a record id, a sequence number).
  std::uint64_t tag = 0;
};

/// Where the time of the last attempt went, measured from its start.
struct Timings {
  std::chrono::microseconds connect{0};     ///< TCP (and TLS) connected; 0 on a reused one
  std::chrono::microseconds first_byte{0};  ///< first response byte arrived
  std::chrono::microseconds total{0};       ///< the attempt ended
};

/// The outcome of one request: a response (`error == none`, any status) or the kind
/// of failure that replaced it, with a message naming the URL.
///
///   client.submit(req, [](sluice::http::Response r) {
///     if (r.ok()) use(r.body);                 // a 2xx response
///     else if (r.received()) note(r.status);   // a response, not 2xx
///     else warn(r.error_message);              // no response at all
///   });
struct Response {
  std::string url{};            ///< the URL as requested
  std::string effective_url{};  ///< the URL finally fetched, after redirects
  int status = 0;               ///< HTTP status; 0 when no response arrived
  Headers headers{};            ///< headers of the final response (after redirects)
  std::string body{};           ///< body bytes (cut at the size cap when too_large)
  Timings timings{};
  int attempts = 0;  ///< transfers started for this request (1 + retries)
  ErrorKind error = ErrorKind::none;
  std::string error_message{};  ///< empty when error == none
  std::uint64_t tag = 0;        ///< the request's tag

  /// A response arrived with a 2xx status: the request succeeded.
  bool ok() const noexcept { return received() && status >= 200 && status < 300; }
  /// A response arrived, whatever its status (no transport error).
  bool received() const noexcept { return error == ErrorKind::none; }
  /// The first header of that name (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const noexcept {
    return find_header(headers, name);
  }
};

}  // namespace sluice::http
