// Where the fan-out sends its requests: the embedded server's /delay endpoint, or a URL
// the user gave, checked before the run so that a typo fails in a second with a reason.
//
//   std::string url = with_delay(server.url("/delay"), 200us);  // .../delay?delay_us=200
//   check_target(user_url, client);  // throws TargetError: scheme, DNS, refused, ...
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include <sluice/http/client.hpp>

namespace http_fanout {

/// A --url that cannot be used, with the reason in words.
class TargetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// `base` with the I/O delay asked of the server (the local server's delay_us query
/// parameter, which every endpoint honours); `base` itself when the delay is zero.
std::string with_delay(const std::string& base, std::chrono::microseconds delay);

/// Refuses a URL whose scheme is not http or https, and one whose server does not answer
/// a first request within `timeout` (DNS failure, connection refused, timeout). A server
/// that answers, whatever the status, is usable.
void check_target(const std::string& url, sluice::http::Client& client,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace http_fanout
