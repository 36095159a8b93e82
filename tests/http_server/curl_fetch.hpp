// curl_fetch: one blocking HTTP request through libcurl's easy interface, for tests of the
// local server. A CurlSession keeps its handle (and so its connection) across requests.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::test {

struct FetchOptions {
  std::string method = "GET";
  std::optional<std::string> body{};   ///< sent as the request body (POST, PUT, ...)
  std::vector<std::string> headers{};  ///< "Name: value"
  std::chrono::milliseconds timeout{5000};
  bool path_as_is = false;  ///< send "/a/../b" as written instead of normalising it
};

struct FetchResult {
  CURLcode code = CURLE_OK;  ///< CURLE_OK when a whole response arrived
  std::string error;         ///< curl's message when code != CURLE_OK
  long status = 0;
  std::string head;  ///< the raw header block
  std::string body;
  std::chrono::duration<double> elapsed{};

  /// The value of a response header (case-insensitive name), if present.
  std::optional<std::string> header(std::string_view name) const;
};

class CurlSession {
 public:
  CurlSession();
  ~CurlSession();
  CurlSession(const CurlSession&) = delete;
  CurlSession& operator=(const CurlSession&) = delete;

  FetchResult fetch(const std::string& url, const FetchOptions& options = {});

 private:
  CURL* curl_;
};

/// A request on a fresh handle (a new connection).
FetchResult fetch(const std::string& url, const FetchOptions& options = {});

/// True when body[i] == sluice::http_server::pattern_byte(i) for every i.
bool is_pattern(std::string_view body);

}  // namespace sluice::test
