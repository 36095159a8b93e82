// The values that cross sluice's HTTP client: a request, a response, and the kind of
// failure that stands in for a response when none came.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/http_retry.hpp"

namespace sluice {

/// Why a request produced no response. `none` means a response arrived: its status,
/// whatever it is (404 and 503 included), is data, not an error.
///
///   if (resp.error == sluice::HttpError::timeout) log("slow: " + resp.error_message);
enum class HttpError : std::uint8_t {
  none,                ///< a response arrived (any status)
  refused,             ///< the connection was refused or the host unreachable
  timeout,             ///< connect or total timeout ran out
  reset,               ///< the connection broke before the response was complete
  dns,                 ///< the host name did not resolve
  too_large,           ///< the body (decoded) or the headers passed the client's caps, or the
                       ///< client's memory budget was spent; a body kept is cut at the cap
  scheme_refused,      ///< a URL or a redirect named a scheme other than http/https
  cancelled,           ///< cancel_all() (or the client's destructor) ended it
  protocol,            ///< the server's reply broke HTTP: a malformed status line, bad
                       ///< framing, a body that does not decode as its Content-Encoding says
  too_many_redirects,  ///< more redirects than HttpClientOptions::max_redirects
  no_descriptors,      ///< the process had no file descriptor left for a socket
                       ///< (RLIMIT_NOFILE); the message gives the limits
  other,               ///< anything else: TLS failures, malformed URLs, ...
};

/// How many HttpError values there are, for arrays indexed by kind.
inline constexpr std::size_t kHttpErrorKinds = 12;

/// A short lowercase name: "none", "refused", "timeout", ...
///
///   std::cout << sluice::to_string(resp.error);
const char* to_string(HttpError kind) noexcept;

/// Header fields in the order they arrived (names as sent; look-ups ignore case).
///
///   sluice::HttpHeaders h{{"Accept", "application/json"}};
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// The value of the first header named `name` (case-insensitive), if any.
///
///   if (auto ct = sluice::find_header(resp.headers, "content-type")) ...
std::optional<std::string_view> find_header(const HttpHeaders& headers,
                                            std::string_view name) noexcept;

/// One request. Only `url` is required; unset timeouts and retry policy take the
/// client's defaults.
///
///   sluice::HttpRequest req{.url = "http://127.0.0.1:8080/bytes?n=100"};
///   req.timeout = std::chrono::seconds(2);
///   sluice::HttpRequest post{.method = "POST", .url = u, .headers = {{"Content-Type",
///                            "application/json"}}, .body = R"({"k":1})"};
struct HttpRequest {
  std::string method = "GET";
  std::string url{};
  HttpHeaders headers{};
  std::string body{};
  /// Total time one attempt may take (connect, send, wait, receive).
  std::optional<std::chrono::milliseconds> timeout{};
  /// Time one attempt may take to connect.
  std::optional<std::chrono::milliseconds> connect_timeout{};
  /// Retries for this request; unset means the client's default policy.
  std::optional<HttpRetryPolicy> retry{};
  /// The caller's own tag, echoed in the response (a record id, a sequence number).
  std::uint64_t tag = 0;
};

/// Where the time of the last attempt went, measured from its start.
struct HttpTimings {
  std::chrono::microseconds connect{0};     ///< TCP (and TLS) connected; 0 on a reused one
  std::chrono::microseconds first_byte{0};  ///< first response byte arrived
  std::chrono::microseconds total{0};       ///< the attempt ended
};

/// The outcome of one request: a response (`error == none`, any status) or the kind
/// of failure that replaced it, with a message naming the URL.
///
///   client.submit(req, [](sluice::HttpResponse r) {
///     if (r.success()) use(r.body);                  // 2xx
///     else if (r.ok()) note(r.status);               // a response, not 2xx
///     else warn(r.error_message);                    // no response at all
///   });
struct HttpResponse {
  std::string url{};            ///< the URL as requested
  std::string effective_url{};  ///< the URL finally fetched, after redirects
  int status = 0;               ///< HTTP status; 0 when no response arrived
  HttpHeaders headers{};        ///< headers of the final response (after redirects)
  std::string body{};           ///< body bytes (cut at the size cap when too_large)
  HttpTimings timings{};
  int attempts = 0;  ///< transfers started for this request (1 + retries)
  HttpError error = HttpError::none;
  std::string error_message{};  ///< empty when error == none
  std::uint64_t tag = 0;        ///< the request's tag

  /// A response arrived (whatever its status).
  bool ok() const noexcept { return error == HttpError::none; }
  /// A response arrived with a 2xx status.
  bool success() const noexcept { return ok() && status >= 200 && status < 300; }
  /// The first header of that name (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const noexcept {
    return find_header(headers, name);
  }
};

}  // namespace sluice
