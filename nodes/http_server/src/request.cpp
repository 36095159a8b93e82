#include "request.hpp"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <string_view>

namespace sluice::http_server::detail {

namespace {

std::string_view method_name(evhttp_cmd_type method) noexcept {
  switch (method) {
    case EVHTTP_REQ_GET:
      return "GET";
    case EVHTTP_REQ_POST:
      return "POST";
    case EVHTTP_REQ_HEAD:
      return "HEAD";
    case EVHTTP_REQ_PUT:
      return "PUT";
    case EVHTTP_REQ_DELETE:
      return "DELETE";
    case EVHTTP_REQ_OPTIONS:
      return "OPTIONS";
    case EVHTTP_REQ_TRACE:
      return "TRACE";
    case EVHTTP_REQ_CONNECT:
      return "CONNECT";
    case EVHTTP_REQ_PATCH:
      return "PATCH";
  }
  return "UNKNOWN";
}

}  // namespace

Request request_from(evhttp_request* source) {
  Request request;
  request.method = method_name(evhttp_request_get_command(source));
  request.target = evhttp_request_get_uri(source);
  const evkeyvalq* headers = evhttp_request_get_input_headers(source);
  for (const evkeyval* header = headers->tqh_first; header != nullptr;
       header = header->next.tqe_next) {
    request.headers.emplace_back(header->key, header->value);
  }
  request.body_bytes = evbuffer_get_length(evhttp_request_get_input_buffer(source));
  return request;
}

}  // namespace sluice::http_server::detail
