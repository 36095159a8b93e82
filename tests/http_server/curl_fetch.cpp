#include "curl_fetch.hpp"

#include <cctype>
#include <stdexcept>

#include "sluice/http_server.hpp"

namespace sluice::test {

namespace {

std::size_t append_to_string(char* data, std::size_t size, std::size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string> FetchResult::header(std::string_view name) const {
  std::string_view rest(head);
  while (!rest.empty()) {
    const auto end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || !iequals(line.substr(0, colon), name)) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    return std::string(value);
  }
  return std::nullopt;
}

CurlSession::CurlSession() : curl_(curl_easy_init()) {
  if (curl_ == nullptr) throw std::runtime_error("curl_easy_init failed");
}

CurlSession::~CurlSession() {
  curl_easy_cleanup(curl_);
}

FetchResult CurlSession::fetch(const std::string& url, const FetchOptions& options) {
  FetchResult result;
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_reset(curl_);  // keeps the connection cache
  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &append_to_string);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &append_to_string);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &result.head);
  curl_easy_setopt(curl_, CURLOPT_PATH_AS_IS, options.path_as_is ? 1L : 0L);
  if (options.method == "HEAD") {
    curl_easy_setopt(curl_, CURLOPT_NOBODY, 1L);
  } else if (options.method != "GET" || options.body) {
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, options.method.c_str());
  }
  if (options.body) {
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, options.body->data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(options.body->size()));
  }
  curl_slist* headers = nullptr;
  for (const auto& header : options.headers) headers = curl_slist_append(headers, header.c_str());
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);

  const auto start = std::chrono::steady_clock::now();
  result.code = curl_easy_perform(curl_);
  result.elapsed = std::chrono::steady_clock::now() - start;
  curl_slist_free_all(headers);
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &result.status);
  if (result.code != CURLE_OK) result.error = error[0] ? error : curl_easy_strerror(result.code);
  return result;
}

FetchResult fetch(const std::string& url, const FetchOptions& options) {
  CurlSession session;
  return session.fetch(url, options);
}

bool is_pattern(std::string_view body) {
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != http_server::pattern_byte(i)) return false;
  }
  return true;
}

}  // namespace sluice::test
