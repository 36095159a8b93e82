#include "endpoints.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>

#include "hostile_endpoints.hpp"
#include "request_target.hpp"
#include "static_files.hpp"

namespace sluice::http_server::detail {

namespace {

constexpr std::uint64_t kMaxBodyBytes = std::uint64_t{1} << 40;       // 1 TiB: a typo guard
constexpr std::uint64_t kMaxDelayUs = std::uint64_t{3600} * 1000000;  // one hour
constexpr std::string_view kStaticPrefix = "/static/";

// The body of a bare status answer (the reason phrase is evhttp's, in the status line).
std::string status_line_text(int status) {
  return "status " + std::to_string(status) + "\n";
}

Reply pattern_reply(Endpoint endpoint, int status, std::uint64_t bytes) {
  Reply reply;
  reply.endpoint = endpoint;
  reply.status = status;
  reply.body_kind = Reply::Body::pattern;
  reply.body_length = bytes;
  reply.headers.emplace_back("Content-Type", "application/octet-stream");
  return reply;
}

// "ok\n", or n pattern bytes when the request asks for a body size.
Reply ok_reply(Endpoint endpoint, const RequestTarget& target) {
  if (const auto n = target.get_uint("n", 0, kMaxBodyBytes)) {
    return pattern_reply(endpoint, 200, *n);
  }
  return text_reply(endpoint, 200, "ok\n");
}

bool is_plain_method(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD" || method == "POST";
}

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

Reply echo(const Request& request) {
  std::string json = "{\"method\":";
  append_json_string(json, request.method);
  json += ",\"target\":";
  append_json_string(json, request.target);
  json += ",\"headers\":" + std::to_string(request.headers.size());
  json += ",\"body_bytes\":" + std::to_string(request.body_bytes) + "}\n";
  Reply reply = text_reply(Endpoint::echo, 200, std::move(json));
  reply.headers.front().second = "application/json";
  return reply;
}

Reply flaky(const RequestTarget& target, EndpointState& state) {
  const auto fail = target.get_double("fail", 0.0, 1.0);
  if (!fail) throw BadParameter("missing parameter 'fail' (a fraction in 0..1)");
  const auto code = static_cast<int>(target.get_uint("code", 200, 599).value_or(503));
  const auto retry_after = target.get_uint("retry_after", 0, 86400);
  const auto seed = target.get_uint("seed", 0, std::numeric_limits<std::uint64_t>::max());
  Reply success = ok_reply(Endpoint::flaky, target);  // checks n before counting

  const std::uint64_t k = state.flaky_requests++;
  if (!flaky_request_fails(*fail, k, seed)) return success;
  Reply failure = text_reply(Endpoint::flaky, code, status_line_text(code));
  if (retry_after) failure.headers.emplace_back("Retry-After", std::to_string(*retry_after));
  failure.flaky_failure = true;
  return failure;
}

Reply reset(const RequestTarget& target) {
  const auto after = target.get_uint("after", 0, kMaxBodyBytes - 1).value_or(0);
  const auto announced = target.get_uint("n", after + 1, kMaxBodyBytes).value_or(after + 1024);
  Reply reply = pattern_reply(Endpoint::reset, 200, announced);
  reply.action = Reply::Action::reset;
  reply.reset_after = after;
  return reply;
}

Reply redirect(const RequestTarget& target) {
  const auto to = target.require("to");
  if (to.empty() || to.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    throw BadParameter("parameter 'to' must be a non-empty URL without line breaks");
  }
  const auto code = static_cast<int>(target.get_uint("code", 301, 308).value_or(302));
  if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308) {
    throw BadParameter("parameter 'code' must be 301, 302, 303, 307 or 308");
  }
  Reply reply = text_reply(Endpoint::redirect, code, "redirecting to " + std::string(to) + "\n");
  reply.headers.emplace_back("Location", std::string(to));
  return reply;
}

Reply static_file(const RequestTarget& target, const EndpointState& state) {
  if (!state.static_root) {
    return text_reply(Endpoint::static_file, 404, "no static root configured\n");
  }
  StaticFile file = open_static_file(*state.static_root,
                                     std::string_view(target.path()).substr(kStaticPrefix.size()));
  if (file.status != 200) {
    return text_reply(Endpoint::static_file, file.status, status_line_text(file.status));
  }
  Reply reply;
  reply.endpoint = Endpoint::static_file;
  reply.body_kind = Reply::Body::file;
  reply.body_length = file.size;
  reply.file = std::move(file.file);
  reply.headers.emplace_back("Content-Type", std::move(file.content_type));
  return reply;
}

Reply dispatch(Endpoint endpoint, const Request& request, const RequestTarget& target,
               EndpointState& state) {
  switch (endpoint) {
    case Endpoint::delay: {
      Reply reply = ok_reply(endpoint, target);
      if (const auto us = target.get_uint("us", 0, kMaxDelayUs)) {
        reply.delay = std::chrono::microseconds(*us);
      }
      return reply;
    }
    case Endpoint::bytes:
      return pattern_reply(endpoint, 200, target.require_uint("n", 0, kMaxBodyBytes));
    case Endpoint::status: {
      const auto code = static_cast<int>(target.require_uint("code", 200, 599));
      return text_reply(endpoint, code, status_has_no_body(code) ? "" : status_line_text(code));
    }
    case Endpoint::flaky:
      return flaky(target, state);
    case Endpoint::reset:
      return reset(target);
    case Endpoint::hang: {
      Reply reply;
      reply.endpoint = endpoint;
      reply.action = Reply::Action::hang;
      return reply;
    }
    case Endpoint::redirect:
      return redirect(target);
    case Endpoint::static_file:
      return static_file(target, state);
    case Endpoint::echo:
      return echo(request);
    case Endpoint::drip:
      return drip_reply(target);
    case Endpoint::headers:
      return huge_headers_reply(target);
    case Endpoint::gzip:
      return compressed_reply(target);
    case Endpoint::malformed:
      return malformed_reply(target);
    case Endpoint::redirect_loop:
      return redirect_loop_reply(target);
    case Endpoint::not_found:
    case Endpoint::count_:
      break;
  }
  return text_reply(Endpoint::not_found, 404, "no such endpoint: " + target.path() + "\n");
}

}  // namespace

Endpoint endpoint_for_path(std::string_view path) noexcept {
  if (path == "/delay") return Endpoint::delay;
  if (path == "/bytes") return Endpoint::bytes;
  if (path == "/status") return Endpoint::status;
  if (path == "/flaky") return Endpoint::flaky;
  if (path == "/reset") return Endpoint::reset;
  if (path == "/hang") return Endpoint::hang;
  if (path == "/redirect") return Endpoint::redirect;
  if (path == "/echo") return Endpoint::echo;
  if (path == "/drip") return Endpoint::drip;
  if (path == "/headers") return Endpoint::headers;
  if (path == "/gzip") return Endpoint::gzip;
  if (path == "/malformed") return Endpoint::malformed;
  if (path == "/redirect_loop") return Endpoint::redirect_loop;
  if (path.starts_with(kStaticPrefix)) return Endpoint::static_file;
  return Endpoint::not_found;
}

bool flaky_request_fails(double fail_fraction, std::uint64_t k,
                         std::optional<std::uint64_t> seed) noexcept {
  if (fail_fraction <= 0.0) return false;
  if (fail_fraction >= 1.0) return true;
  if (!seed) {
    // Bresenham-style: request k fails when it completes another whole failure.
    const auto before = std::floor(static_cast<double>(k) * fail_fraction);
    const auto after = std::floor(static_cast<double>(k + 1) * fail_fraction);
    return after > before;
  }
  // splitmix64 of (seed, k): a reproducible pseudo-random draw per request number.
  std::uint64_t z = *seed + (k + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  const double draw = static_cast<double>(z >> 11) * 0x1p-53;  // uniform in [0, 1)
  return draw < fail_fraction;
}

Reply route_request(const Request& request, EndpointState& state) {
  Endpoint endpoint = Endpoint::not_found;
  try {
    const RequestTarget target(request.target);
    endpoint = endpoint_for_path(target.path());
    if (endpoint != Endpoint::echo && !is_plain_method(request.method)) {
      Reply reply = text_reply(endpoint, 405, "method " + request.method + " not allowed\n");
      reply.headers.emplace_back("Allow", "GET, HEAD, POST");
      reply.bad_request = true;
      return reply;
    }
    const auto delay_us = target.get_uint("delay_us", 0, kMaxDelayUs).value_or(0);
    Reply reply = dispatch(endpoint, request, target, state);
    if (reply.delay.count() == 0) reply.delay = std::chrono::microseconds(delay_us);
    return reply;
  } catch (const BadParameter& error) {
    Reply reply = text_reply(endpoint, 400, std::string(error.what()) + "\n");
    reply.bad_request = true;
    return reply;
  }
}

}  // namespace sluice::http_server::detail
