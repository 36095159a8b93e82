#include "error_kind.hpp"

namespace sluice::http_detail {

HttpError classify_curl_result(CURLcode result, bool body_too_large) noexcept {
  if (body_too_large) return HttpError::too_large;
  switch (result) {
    case CURLE_OK:
      return HttpError::none;
    case CURLE_COULDNT_CONNECT:
      return HttpError::refused;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return HttpError::dns;
    case CURLE_OPERATION_TIMEDOUT:
      return HttpError::timeout;
    // The peer closed or reset the connection: before any response (GOT_NOTHING),
    // mid-body (PARTIAL_FILE when the length was known, RECV_ERROR on a RST), or while
    // the request was being sent (SEND_ERROR). HTTP/2 stream resets land here too.
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_HTTP2_STREAM:
      return HttpError::reset;
    case CURLE_FILESIZE_EXCEEDED:
      return HttpError::too_large;
    // With CURLOPT_PROTOCOLS_STR / REDIR_PROTOCOLS_STR set to "http,https", this is
    // what a refused redirect target (file://, gopher://, ...) ends in.
    case CURLE_UNSUPPORTED_PROTOCOL:
      return HttpError::scheme_refused;
    default:
      return HttpError::other;
  }
}

const char* describe(HttpError kind) noexcept {
  switch (kind) {
    case HttpError::none:
      return "no error";
    case HttpError::refused:
      return "connection refused";
    case HttpError::timeout:
      return "timed out";
    case HttpError::reset:
      return "connection reset";
    case HttpError::dns:
      return "host name did not resolve";
    case HttpError::too_large:
      return "response too large";
    case HttpError::scheme_refused:
      return "scheme refused";
    case HttpError::cancelled:
      return "cancelled";
    case HttpError::other:
      return "failed";
  }
  return "failed";
}

}  // namespace sluice::http_detail
