// The scheme check made before a URL reaches libcurl, so a refused scheme fails at once
// with ErrorKind::scheme_refused instead of as an "unsupported protocol" from deep
// inside a transfer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sluice::http::detail {

/// The URL's scheme in lower case ("http", "file", ...), or nullopt when it has none
/// (no "name:" prefix made of scheme characters).
std::optional<std::string> url_scheme(std::string_view url);

/// nullopt when the URL may be fetched (its scheme is http or https, spelled out);
/// otherwise the reason, e.g. "scheme 'file' is not allowed; only http:// and https://
/// URLs are fetched".
std::optional<std::string> refuse_scheme(std::string_view url);

}  // namespace sluice::http::detail
