// sluice::http_server::Endpoint: what the local server answers, and the counters' key.
//
// Endpoints (GET, HEAD and POST on all of them; a request body is read and counted, and
// every response carries `X-Request-Body-Bytes: <n>`). Unknown query parameters are
// ignored (handy for cache-busting ids); a malformed or out-of-range one gives 400 with a
// one-line message; an unknown path gives 404; another method gives 405.
//
//   any endpoint     delay_us=N      wait N microseconds (a timer) before answering
//   /delay           us=N [n=B]      200 after N us (same as delay_us); body "ok\n", or B
//                                    pattern bytes when n is given
//   /bytes           n=B             200 with B pattern bytes: byte i is 'a' + i % 26
//                                    (see `pattern_byte`), Content-Length B
//   /status          code=C          status C (200..599), short text body
//   /flaky           fail=F [code=C] [retry_after=S] [seed=X] [n=B]
//                                    a fraction F (0..1) of /flaky requests answer C
//                                    (default 503, with `Retry-After: S` when given), the
//                                    rest 200 ("ok\n" or B pattern bytes). Without seed
//                                    the failures are spread evenly over the server's
//                                    /flaky request counter k (k fails when
//                                    floor((k+1)F) > floor(kF)): any run of N requests has
//                                    N*F failures, +-1. With seed=X the choice is a hash
//                                    of (X, k): pseudo-random, reproducible for one order.
//   /reset           after=A [n=B]   headers announcing Content-Length B (default A+1024),
//                                    A pattern bytes, then a TCP reset (SO_LINGER 0)
//   /hang                            never answers; the connection stays open until the
//                                    client closes it or the server stops
//   /redirect        to=URL [code=C] C (301, 302 default, 303, 307, 308) with Location URL
//   /static/PATH                     the file PATH under `LocalServerOptions::static_root`;
//                                    404 when missing or no root is set, 403 for any ".."
//                                    segment or a path that resolves outside the root
//   /echo                            any method; JSON {"method","target","headers",
//                                    "body_bytes"} describing the request
//
// Hostile endpoints, for testing a client's limits:
//
//   /drip            [n=B] [every_us=U]  a head announcing B (100) bytes, then one pattern
//                                    byte every U us (1 s)
//   /headers         size=S [count=K]  200 "ok\n" with K (1) headers X-Filler-i of S bytes
//                                    (S * K at most 16 MiB)
//   /gzip            n=B [encoding=E]  B pattern bytes compressed with E (gzip, or deflate:
//                                    zlib format), `Content-Encoding: E`
//   /malformed       [kind=K]        raw bytes, then close: `status` (default) a status
//                                    line "HTTP/1.1 abc"; `garbage` no HTTP at all;
//                                    `length` two different Content-Lengths
//   /redirect_loop   [hop=K]         302 to /redirect_loop?hop=K+1, endlessly
//
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::http_server {

/// The body byte at offset i of /bytes, /delay?n=, /flaky?n= and /reset responses:
/// 'a' + i % 26, so a client can check a body without a copy of it.
constexpr char pattern_byte(std::uint64_t i) noexcept {
  return static_cast<char>('a' + i % 26);
}

/// The endpoints the server counts requests for.
enum class Endpoint : std::size_t {
  delay,
  bytes,
  status,
  flaky,
  reset,
  hang,
  redirect,
  static_file,
  echo,
  drip,
  headers,
  gzip,
  malformed,
  redirect_loop,
  not_found,  ///< any other path, and requests too malformed to route
  count_      ///< number of endpoints, not an endpoint
};

inline constexpr std::size_t kEndpointCount = static_cast<std::size_t>(Endpoint::count_);

/// "delay", "bytes", ..., "not_found".
std::string_view to_string(Endpoint endpoint) noexcept;

}  // namespace sluice::http_server
