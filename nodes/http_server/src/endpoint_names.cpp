#include "sluice/http_server.hpp"

namespace sluice {

std::string_view to_string(HttpEndpoint endpoint) noexcept {
  switch (endpoint) {
    case HttpEndpoint::delay:
      return "delay";
    case HttpEndpoint::bytes:
      return "bytes";
    case HttpEndpoint::status:
      return "status";
    case HttpEndpoint::flaky:
      return "flaky";
    case HttpEndpoint::reset:
      return "reset";
    case HttpEndpoint::hang:
      return "hang";
    case HttpEndpoint::redirect:
      return "redirect";
    case HttpEndpoint::static_file:
      return "static_file";
    case HttpEndpoint::echo:
      return "echo";
    case HttpEndpoint::drip:
      return "drip";
    case HttpEndpoint::headers:
      return "headers";
    case HttpEndpoint::gzip:
      return "gzip";
    case HttpEndpoint::malformed:
      return "malformed";
    case HttpEndpoint::redirect_loop:
      return "redirect_loop";
    case HttpEndpoint::not_found:
      return "not_found";
    case HttpEndpoint::count_:
      break;
  }
  return "unknown";
}

}  // namespace sluice
