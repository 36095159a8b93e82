// sluice::http::ErrorKind: the kind of failure that stands in for a response when none
// came.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice::http {

/// Why a request produced no response. `none` means a response arrived: its status,
/// whatever it is (404 and 503 included), is data, not an error.
///
///   if (resp.error == sluice::http::ErrorKind::timeout) log("slow: " + resp.error_message);
enum class ErrorKind : std::uint8_t {
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
  too_many_redirects,  ///< more redirects than ClientOptions::max_redirects
  no_descriptors,      ///< the process had no file descriptor left for a socket
                       ///< (RLIMIT_NOFILE); the message gives the limits
  other,               ///< anything else: TLS failures, malformed URLs, ...
};

/// How many ErrorKind values there are, for arrays indexed by kind.
inline constexpr std::size_t kErrorKinds = 12;

/// A short lowercase name: "none", "refused", "timeout", ...
///
///   std::cout << sluice::http::to_string(resp.error);
const char* to_string(ErrorKind kind) noexcept;

}  // namespace sluice::http
