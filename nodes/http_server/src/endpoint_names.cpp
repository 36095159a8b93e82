#include "sluice/http_server.hpp"

namespace sluice::http_server {

std::string_view to_string(Endpoint endpoint) noexcept {
  switch (endpoint) {
    case Endpoint::delay:
      return "delay";
    case Endpoint::bytes:
      return "bytes";
    case Endpoint::status:
      return "status";
    case Endpoint::flaky:
      return "flaky";
    case Endpoint::reset:
      return "reset";
    case Endpoint::hang:
      return "hang";
    case Endpoint::redirect:
      return "redirect";
    case Endpoint::static_file:
      return "static_file";
    case Endpoint::echo:
      return "echo";
    case Endpoint::drip:
      return "drip";
    case Endpoint::headers:
      return "headers";
    case Endpoint::gzip:
      return "gzip";
    case Endpoint::malformed:
      return "malformed";
    case Endpoint::redirect_loop:
      return "redirect_loop";
    case Endpoint::not_found:
      return "not_found";
    case Endpoint::count_:
      break;
  }
  return "unknown";
}

}  // namespace sluice::http_server
