// The endpoints of a hostile server: replies that break HTTP, drip, bloat or inflate,
// for testing that a client stops each at its caps and names what happened.
#pragma once

#include "reply.hpp"
#include "request_target.hpp"

namespace sluice::http_server::detail {

/// /drip?n=B[&every_us=U]: a head announcing B bytes, then one byte every U us (1 s).
Reply drip_reply(const RequestTarget& target);
/// /headers?size=S[&count=K]: "ok\n" with K (1) headers of S pattern bytes each.
Reply huge_headers_reply(const RequestTarget& target);
/// /gzip?n=B[&encoding=deflate]: B pattern bytes, compressed (gzip, or zlib's deflate).
Reply compressed_reply(const RequestTarget& target);
/// /malformed?kind=status|garbage|length: raw bytes that are not a valid response.
Reply malformed_reply(const RequestTarget& target);
/// /redirect_loop[?hop=K]: 302 to /redirect_loop?hop=K+1, forever.
Reply redirect_loop_reply(const RequestTarget& target);

}  // namespace sluice::http_server::detail
