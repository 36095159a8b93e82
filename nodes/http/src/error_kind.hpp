// Turning libcurl's result codes into the client's error kinds.
#pragma once

#include <curl/curl.h>

#include "sluice/http/types.hpp"

namespace sluice::http::detail {

/// What the client's own callbacks saw of an attempt, which libcurl's result code alone
/// cannot tell: they abort with CURLE_WRITE_ERROR for several reasons, and libcurl uses
/// CURLE_UNSUPPORTED_PROTOCOL both for a refused redirect and a malformed status line.
struct AttemptVerdicts {
  bool body_too_large = false;     ///< the body passed the size cap
  bool headers_too_large = false;  ///< the headers passed the header cap
  bool over_budget = false;        ///< the client's memory budget was spent
  bool head_complete = false;      ///< the latest response's head ended
  int head_status = 0;             ///< the latest valid status line's status; 0: none
  int socket_error = 0;            ///< errno of a socket(2) that failed; 0: none did
};

/// The error kind of a finished attempt.
///
///   classify_curl_result(CURLE_OK, {}) == ErrorKind::none
ErrorKind classify_curl_result(CURLcode result, const AttemptVerdicts& verdicts) noexcept;

/// A few words for the kind, for messages: "connection refused", "timed out", ...
const char* describe(ErrorKind kind) noexcept;

}  // namespace sluice::http::detail
