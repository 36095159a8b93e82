// Fuzz target: the client's scheme check, the gate every URL passes before libcurl sees
// it. Checks: a URL it lets through is one libcurl reads as http or https (libcurl stops
// at a NUL, as it does in the client, which passes the URL as a C string); a scheme it
// reports is lower case and made of scheme characters.
#include <curl/curl.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "url_scheme.hpp"

namespace {

bool is_scheme_text(std::string_view scheme) {
  if (scheme.empty() || !std::islower(static_cast<unsigned char>(scheme.front()))) return false;
  for (const char c : scheme) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::islower(u) && !std::isdigit(u) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::http::detail;
  const std::string url(reinterpret_cast<const char*>(data), size);

  const auto scheme = url_scheme(url);
  if (scheme) {
    FUZZ_CHECK(is_scheme_text(*scheme), "a scheme with characters RFC 3986 does not allow");
    FUZZ_CHECK(starts_with_ignoring_case(url, *scheme) && url[scheme->size()] == ':',
               "the scheme is not the URL's prefix");
  }
  const auto refusal = refuse_scheme(url);
  if (refusal) {
    FUZZ_CHECK(!refusal->empty(), "a refusal without a reason");
    return 0;
  }
  FUZZ_CHECK(scheme && (*scheme == "http" || *scheme == "https"), "let through a non-http URL");
  FUZZ_CHECK(
      starts_with_ignoring_case(url, "http://") || starts_with_ignoring_case(url, "https://"),
      "let through a URL without http:// or https://");

  // What libcurl makes of it: when it parses, its scheme must be http or https.
  std::unique_ptr<CURLU, void (*)(CURLU*)> handle(curl_url(), curl_url_cleanup);
  FUZZ_CHECK(handle != nullptr, "curl_url failed");
  if (curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return 0;
  char* curl_scheme = nullptr;
  FUZZ_CHECK(curl_url_get(handle.get(), CURLUPART_SCHEME, &curl_scheme, 0) == CURLUE_OK,
             "libcurl parsed the URL but has no scheme for it");
  const std::string parsed(curl_scheme);
  curl_free(curl_scheme);
  FUZZ_CHECK(parsed == "http" || parsed == "https", "libcurl reads another scheme");
  return 0;
}
