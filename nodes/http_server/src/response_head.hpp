// format_response_head: the status line and header block of a reply.
#pragma once

#include <cstdint>
#include <string>

#include "reply.hpp"

namespace sluice::http_server::detail {

/// "HTTP/1.1 <status> <reason>\r\n" + framing headers + the reply's headers + a blank line.
/// minor_version is the request's (HTTP/1.0 clients need `Connection: keep-alive` spelled
/// out); request_body_bytes goes into X-Request-Body-Bytes.
std::string format_response_head(const Reply& reply, int minor_version, bool keep_alive,
                                 std::uint64_t request_body_bytes);

}  // namespace sluice::http_server::detail
