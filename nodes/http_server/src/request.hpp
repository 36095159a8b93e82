// Request: what the router needs of one request evhttp has read — its method, target,
// headers, and the size of its body.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

struct evhttp_request;

namespace sluice::http_server::detail {

/// A request as the router sees it.
///
///   Request request{.method = "GET", .target = "/bytes?n=10"};
///   Reply reply = route_request(request, state);  // 200, 10 pattern bytes
struct Request {
  std::string method;  ///< "GET", "POST", ...
  std::string target;  ///< as sent: "/bytes?n=10"
  std::vector<std::pair<std::string, std::string>> headers;
  std::uint64_t body_bytes = 0;
};

/// What the router needs of a request evhttp has read (its body stays in evhttp's buffer).
Request request_from(evhttp_request* request);

}  // namespace sluice::http_server::detail
