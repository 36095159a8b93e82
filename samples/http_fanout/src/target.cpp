#include "target.hpp"

#include <algorithm>
#include <cctype>

namespace http_fanout {

std::string with_delay(const std::string& base, std::chrono::microseconds delay) {
  if (delay.count() == 0) return base;
  const char joiner = base.find('?') == std::string::npos ? '?' : '&';
  return base + joiner + "delay_us=" + std::to_string(delay.count());
}

void check_target(const std::string& url, sluice::http::Client& client,
                  std::chrono::milliseconds timeout) {
  const auto colon = url.find("://");
  if (colon == std::string::npos) {
    throw TargetError("--url '" + url + "' is not a URL (expected http://host[:port]/path)");
  }
  std::string scheme = url.substr(0, colon);
  std::ranges::transform(scheme, scheme.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "http" && scheme != "https") {
    throw TargetError("--url '" + url + "': the scheme '" + scheme +
                      "' is refused (only http and https are allowed)");
  }
  sluice::http::Request probe{.url = url};
  probe.timeout = timeout;
  const sluice::http::Response r = client.fetch(std::move(probe));
  if (!r.received()) {
    throw TargetError("--url '" + url + "' cannot be used: " +
                      std::string(sluice::http::to_string(r.error)) + ": " + r.error_message);
  }
}

}  // namespace http_fanout
