#include "url_scheme.hpp"

#include <cctype>

namespace sluice::http::detail {

std::optional<std::string> url_scheme(std::string_view url) {
  // RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ':'.
  const auto colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string scheme;
  scheme.reserve(colon);
  for (std::size_t i = 0; i < colon; ++i) {
    const auto c = static_cast<unsigned char>(url[i]);
    const bool allowed =
        std::isalpha(c) || (i > 0 && (std::isdigit(c) || c == '+' || c == '-' || c == '.'));
    if (!allowed) return std::nullopt;
    scheme.push_back(static_cast<char>(std::tolower(c)));
  }
  return scheme;
}

std::optional<std::string> refuse_scheme(std::string_view url) {
  const auto scheme = url_scheme(url);
  // libcurl would guess a scheme for "host/path"; an explicit one is required so that
  // what is fetched never depends on a guess. "localhost:8080/x" parses as scheme
  // "localhost" and is refused for the same reason.
  if (!scheme) {
    return std::string("the URL has no scheme; only http:// and https:// URLs are fetched");
  }
  if ((*scheme == "http" || *scheme == "https") && url.substr(scheme->size()).starts_with("://")) {
    return std::nullopt;
  }
  return "scheme '" + *scheme + "' is not allowed; only http:// and https:// URLs are fetched";
}

}  // namespace sluice::http::detail
