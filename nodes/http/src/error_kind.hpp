// Turning libcurl's result codes into the client's error kinds.
#pragma once

#include <curl/curl.h>

#include "sluice/http_types.hpp"

namespace sluice::http_detail {

/// The error kind of a finished attempt. `body_too_large` is the write callback's
/// verdict: it aborts with CURLE_WRITE_ERROR, which means "too large" only then.
HttpError classify_curl_result(CURLcode result, bool body_too_large) noexcept;

/// A few words for the kind, for messages: "connection refused", "timed out", ...
const char* describe(HttpError kind) noexcept;

}  // namespace sluice::http_detail
