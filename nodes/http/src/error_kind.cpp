#include "error_kind.hpp"

#include <cerrno>

namespace sluice::http::detail {

ErrorKind classify_curl_result(CURLcode result, const AttemptVerdicts& verdicts) noexcept {
  if (verdicts.body_too_large || verdicts.headers_too_large || verdicts.over_budget) {
    return ErrorKind::too_large;
  }
  switch (result) {
    case CURLE_OK:
      return ErrorKind::none;
    case CURLE_COULDNT_CONNECT:
      // The socket could not even be made: the process is out of descriptors, which
      // no server refused.
      return verdicts.socket_error == EMFILE || verdicts.socket_error == ENFILE
                 ? ErrorKind::no_descriptors
                 : ErrorKind::refused;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return ErrorKind::dns;
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorKind::timeout;
    // The peer closed or reset the connection: before any response (GOT_NOTHING),
    // mid-body (PARTIAL_FILE when the length was known, RECV_ERROR on a RST), or while
    // the request was being sent (SEND_ERROR). HTTP/2 stream resets land here too.
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_HTTP2_STREAM:
      return ErrorKind::reset;
    case CURLE_FILESIZE_EXCEEDED:
      return ErrorKind::too_large;
    // With CURLOPT_REDIR_PROTOCOLS_STR set to "http,https", this is what a refused
    // redirect target (file://, gopher://, ...) ends in: the last head read was a 3xx.
    // (The first URL's scheme is checked before any transfer starts.) libcurl 7.x also
    // reports a malformed status line ("HTTP/1.1 abc", HTTP/0.9) this way.
    case CURLE_UNSUPPORTED_PROTOCOL:
      return verdicts.head_complete && verdicts.head_status >= 300 && verdicts.head_status < 400
                 ? ErrorKind::scheme_refused
                 : ErrorKind::protocol;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP3:
      return ErrorKind::protocol;
    case CURLE_TOO_MANY_REDIRECTS:
      return ErrorKind::too_many_redirects;
    // libcurl 7.x ends a header line longer than its own limit (100 KiB) this way; only
    // a head still being read can have caused it (a real allocation failure would show
    // elsewhere first).
    case CURLE_OUT_OF_MEMORY:
      return verdicts.head_complete ? ErrorKind::other : ErrorKind::too_large;
    default:
      return ErrorKind::other;
  }
}

const char* describe(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::none:
      return "no error";
    case ErrorKind::refused:
      return "connection refused";
    case ErrorKind::timeout:
      return "timed out";
    case ErrorKind::reset:
      return "connection reset";
    case ErrorKind::dns:
      return "host name did not resolve";
    case ErrorKind::too_large:
      return "response too large";
    case ErrorKind::scheme_refused:
      return "scheme refused";
    case ErrorKind::cancelled:
      return "cancelled";
    case ErrorKind::protocol:
      return "protocol error";
    case ErrorKind::too_many_redirects:
      return "too many redirects";
    case ErrorKind::no_descriptors:
      return "no file descriptor left";
    case ErrorKind::other:
      return "failed";
  }
  return "failed";
}

}  // namespace sluice::http::detail
