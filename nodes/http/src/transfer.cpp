#include "transfer.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <string_view>

#include "error_kind.hpp"
#include "fd_limit.hpp"

namespace sluice::http::detail {

namespace {

// Grows the body's buffer for `length` more bytes, charging the growth to the client's
// memory budget before it is allocated. False when the budget cannot take it.
bool make_room(Transfer& t, std::size_t length) {
  const std::size_t need = t.body.size() + length;
  const std::size_t capacity = t.body.capacity();
  if (need <= capacity) return true;
  // What the string would grow to anyway (it doubles), never past the cap.
  const std::size_t target = std::max(need, std::min(2 * capacity, t.max_body));
  if (t.budget != nullptr && !t.budget->try_charge(target - capacity)) return false;
  t.body.reserve(target);
  const std::size_t grown = t.body.capacity();
  if (t.budget != nullptr) {
    // Settle the estimate with what the allocator actually gave.
    if (grown > target) {
      t.budget->try_charge(grown - target);  // a few bytes of rounding, never refused
    } else {
      t.budget->release(target - grown);
    }
  }
  t.charged += grown - capacity;
  return true;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t length = size * count;
  const size_t room = t.max_body - std::min(t.max_body, t.body.size());
  // The bytes counted here are decoded ones when the body came compressed: the cap is on
  // what the caller receives, so a small compressed body cannot inflate past it.
  const size_t taken = std::min(length, room);
  try {
    if (!make_room(t, taken)) {
      // Returning less than `length` ends the transfer with CURLE_WRITE_ERROR, which the
      // flags turn into the right error kind.
      t.over_budget = true;
      return 0;
    }
    t.body.append(data, taken);
  } catch (...) {
    t.over_budget = true;  // the allocation itself failed
    return 0;
  }
  if (taken < length) {
    // Keep what fits and abort.
    t.too_large = true;
    return 0;
  }
  return length;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// RFC 9110: a field name is a token; CR, LF and NUL in a value must be rejected or
// replaced with SP. A line with any other name is dropped, so that no header the client
// hands on can smuggle a line break into whatever the caller does with it.
bool is_field_name(std::string_view name) noexcept {
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           kSymbols.find(c) != std::string_view::npos;
  });
}

std::string field_value(std::string_view text) {
  std::string value(text);
  std::replace_if(
      value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; }, ' ');
  return value;
}

// The status of a status line ("HTTP/1.1 200 OK" -> 200), 0 when it has none.
int parse_status(std::string_view line) noexcept {
  const auto space = line.find(' ');
  if (space == std::string_view::npos || line.size() < space + 4) return 0;
  int status = 0;
  for (std::size_t i = space + 1; i < space + 4; ++i) {
    if (line[i] < '0' || line[i] > '9') return 0;
    status = status * 10 + (line[i] - '0');
  }
  return status;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t length = size * count;
  const std::string_view line(data, length);
  // Every hop's header lines count: a redirect chain of large heads is as costly as one.
  t.header_bytes += length;
  if (t.header_bytes > t.max_header_bytes) {
    t.headers_too_large = true;
    return 0;
  }
  if (t.budget != nullptr && !t.budget->try_charge(length)) {
    t.over_budget = true;
    return 0;
  }
  t.charged += length;
  try {
    if (line.starts_with("HTTP/")) {
      // A new response begins (a redirect hop or a 100 Continue): only the final
      // response's headers are reported.
      t.headers.clear();
      t.headers.reserve(8);  // one allocation for a typical response's headers
      t.head_status = parse_status(line);
      t.head_complete = false;
    } else if (line == "\r\n" || line == "\n") {
      t.head_complete = true;
    } else if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      if (!t.headers.empty()) {  // obsolete line folding: continues the previous value
        t.headers.back().second.append(" ").append(field_value(trim(line)));
      }
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      const std::string_view name = trim(line.substr(0, colon));
      if (is_field_name(name)) {
        t.headers.emplace_back(std::string(name), field_value(trim(line.substr(colon + 1))));
      }
    }
  } catch (...) {
    t.over_budget = true;  // out of memory: abort the transfer rather than throw through C
    return 0;
  }
  return length;
}

long to_curl_ms(std::chrono::milliseconds ms) noexcept {
  // 0 would mean "no timeout" to libcurl: the smallest finite timeout is 1 ms.
  const auto count = std::max<std::chrono::milliseconds::rep>(1, ms.count());
  return static_cast<long>(
      std::min<std::chrono::milliseconds::rep>(count, std::numeric_limits<long>::max()));
}

bool has_header(const Headers& headers, std::string_view name) {
  return find_header(headers, name).has_value();
}

std::chrono::microseconds info_time(CURL* easy, CURLINFO info) noexcept {
  curl_off_t value = 0;
  if (curl_easy_getinfo(easy, info, &value) != CURLE_OK) return std::chrono::microseconds(0);
  return std::chrono::microseconds(value);
}

}  // namespace

void reset_attempt(Transfer& transfer) noexcept {
  transfer.body.clear();
  transfer.headers.clear();
  transfer.header_bytes = 0;
  transfer.head_status = 0;
  transfer.head_complete = false;
  transfer.too_large = false;
  transfer.headers_too_large = false;
  transfer.over_budget = false;
  transfer.error_buffer[0] = '\0';
}

void release_budget(Transfer& transfer) noexcept {
  if (transfer.budget != nullptr) transfer.budget->release(transfer.charged);
  transfer.charged = 0;
}

bool is_plain_get(const Request& request) noexcept {
  return (request.method == "GET" || request.method.empty()) && request.body.empty() &&
         request.headers.empty();
}

namespace {

// The options that point into one transfer or depend on its request's URL and timeouts.
CURLcode set_per_request(CURL* easy, Transfer& t, const ClientOptions& options) {
  const Request& req = t.request;
  CURLcode rc = CURLE_OK;
  const auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(easy, option, value);
  };
  set(CURLOPT_PRIVATE, static_cast<void*>(&t));
  set(CURLOPT_ERRORBUFFER, t.error_buffer);
  set(CURLOPT_URL, req.url.c_str());
  set(CURLOPT_TIMEOUT_MS, to_curl_ms(req.timeout.value_or(options.timeout)));
  set(CURLOPT_CONNECTTIMEOUT_MS, to_curl_ms(req.connect_timeout.value_or(options.connect_timeout)));
  t.max_body = options.max_response_bytes;
  t.max_header_bytes = options.max_header_bytes;
  t.max_redirects = options.max_redirects;
  set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
  set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
  return rc;
}

}  // namespace

CURLcode configure_plain_again(CURL* easy, Transfer& t, const ClientOptions& options) {
  return set_per_request(easy, t, options);
}

void detach_plain(CURL* easy) noexcept {
  curl_easy_setopt(easy, CURLOPT_PRIVATE, static_cast<void*>(nullptr));
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, static_cast<void*>(nullptr));
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, static_cast<void*>(nullptr));
}

CURLcode configure_easy(CURL* easy, Transfer& t, const ClientOptions& options) {
  const Request& req = t.request;
  CURLcode rc = set_per_request(easy, t, options);
  const auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(easy, option, value);
  };

  // Safe defaults: http and https only, for the first URL and every redirect.
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 1L);
  // A server that trickles bytes (or none) is given up on well before the total timeout
  // when that is long: fewer than low_speed_bytes per second over low_speed_time.
  if (options.low_speed_time.count() > 0 && options.low_speed_bytes > 0) {
    set(CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options.low_speed_bytes));
    set(CURLOPT_LOW_SPEED_TIME,
        static_cast<long>(std::max<std::chrono::seconds::rep>(1, options.low_speed_time.count())));
  }
  // "" offers every encoding this libcurl decodes (gzip, deflate, ...) and has it decode
  // them, so bodies arrive as the caller wants them and the size cap counts decoded bytes.
  if (options.decode_content) set(CURLOPT_ACCEPT_ENCODING, "");
  set(CURLOPT_MAXREDIRS, options.max_redirects);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
  set(CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
  if (options.http2_multiplex) {
    // HTTP/2 over TLS when the server offers it (ALPN), HTTP/1.1 otherwise. A libcurl
    // built without HTTP/2 rejects the option; its default (1.1) is then what we get.
    if (rc == CURLE_OK) curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, long{CURL_HTTP_VERSION_2TLS});
  } else {
    set(CURLOPT_HTTP_VERSION, long{CURL_HTTP_VERSION_1_1});
  }

  // The size cap is enforced in on_body, not with CURLOPT_MAXFILESIZE: that one fails
  // on a declared Content-Length before any byte arrives, and the contract is that the
  // body is kept up to the cap whether or not its length was declared.
  set(CURLOPT_WRITEFUNCTION, &on_body);
  set(CURLOPT_HEADERFUNCTION, &on_header);

  // The method and body. libcurl keeps a custom method across redirects, which is
  // what a PUT or DELETE wants; POST follows the usual 301/302 -> GET rules.
  const std::string& method = req.method;
  if ((method == "GET" || method.empty()) && req.body.empty()) {
    set(CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (method == "POST") {
    set(CURLOPT_POST, 1L);
  } else {
    set(CURLOPT_CUSTOMREQUEST, method.empty() ? "GET" : method.c_str());
  }
  if (!req.body.empty() || method == "POST") {
    set(CURLOPT_POSTFIELDS, req.body.data());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }

  for (const auto& [name, value] : req.headers) {
    const std::string line = value.empty() ? name + ";" : name + ": " + value;
    curl_slist* grown = curl_slist_append(t.header_list, line.c_str());
    if (grown == nullptr) return CURLE_OUT_OF_MEMORY;
    t.header_list = grown;
  }
  if (!req.body.empty() && !has_header(req.headers, "Expect")) {
    // No "Expect: 100-continue" round trip (and its 1 s wait on servers that ignore it).
    curl_slist* grown = curl_slist_append(t.header_list, "Expect:");
    if (grown == nullptr) return CURLE_OUT_OF_MEMORY;
    t.header_list = grown;
  }
  if (t.header_list != nullptr) set(CURLOPT_HTTPHEADER, t.header_list);
  if (!has_header(req.headers, "User-Agent")) set(CURLOPT_USERAGENT, options.user_agent.c_str());
  return rc;
}

void release_attempt(Transfer& transfer) noexcept {
  curl_slist_free_all(transfer.header_list);
  transfer.header_list = nullptr;
}

bool attempt_connected(CURL* easy) noexcept {
  // A new connection records its connect time; a reused one gets as far as
  // "pre-transfer" (about to send). Either way the server was reached.
  return info_time(easy, CURLINFO_CONNECT_TIME_T).count() > 0 ||
         info_time(easy, CURLINFO_PRETRANSFER_TIME_T).count() > 0;
}

std::string describe_request(const Request& request) {
  return (request.method.empty() ? std::string("GET") : request.method) + " " + request.url;
}

Response read_response(CURL* easy, Transfer& t, CURLcode result) {
  Response r;
  r.url = t.request.url;
  r.tag = t.request.tag;
  r.attempts = t.attempts;

  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  const char* effective = nullptr;
  curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &effective);
  r.effective_url = effective != nullptr ? effective : t.request.url;
  r.timings.connect = info_time(easy, CURLINFO_CONNECT_TIME_T);
  r.timings.first_byte = info_time(easy, CURLINFO_STARTTRANSFER_TIME_T);
  r.timings.total = info_time(easy, CURLINFO_TOTAL_TIME_T);

  r.error = classify_curl_result(result, AttemptVerdicts{.body_too_large = t.too_large,
                                                         .headers_too_large = t.headers_too_large,
                                                         .over_budget = t.over_budget,
                                                         .head_complete = t.head_complete,
                                                         .head_status = t.head_status,
                                                         .socket_error = t.open_context.error});
  // libcurl lets some status lines through without a code it can read ("HTTP/200 OK",
  // found by fuzzing) and reports status 0: that is no response, not a response with
  // status 0.
  const bool no_status = r.error == ErrorKind::none && (status < 100 || status > 999);
  if (no_status) r.error = ErrorKind::protocol;
  if (r.error == ErrorKind::none) {
    r.status = static_cast<int>(status);
    r.headers = std::move(t.headers);
    r.body = std::move(t.body);
    return r;
  }

  const std::string detail = no_status                   ? std::string("malformed status line")
                             : t.error_buffer[0] != '\0' ? std::string(t.error_buffer)
                                                         : std::string(curl_easy_strerror(result));
  r.error_message = std::string(describe(r.error)) + ": " + describe_request(t.request);
  if (r.effective_url != t.request.url) r.error_message += " (at " + r.effective_url + ")";
  switch (r.error) {
    case ErrorKind::too_large:
      if (t.too_large || t.over_budget) {
        // The status and headers did arrive; the body is kept up to where it stopped.
        r.status = static_cast<int>(status);
        r.headers = std::move(t.headers);
        r.body = std::move(t.body);
      }
      if (t.over_budget) {
        r.error_message += ": the client's memory budget (" +
                           std::to_string(t.budget != nullptr ? t.budget->limit() : 0) +
                           " bytes over all transfers) was spent; the body was cut at " +
                           std::to_string(r.body.size()) + " bytes";
      } else if (t.too_large) {
        r.error_message += ": the body passed the cap of " + std::to_string(t.max_body) +
                           " bytes and was cut (decoded bytes count)";
      } else if (t.headers_too_large) {
        r.error_message += ": the response headers passed the cap of " +
                           std::to_string(t.max_header_bytes) + " bytes";
      } else {
        // libcurl says "Out of memory" here, which would send a reader the wrong way.
        r.error_message += ": a response header line passed libcurl's limit of 100 KiB";
      }
      break;
    case ErrorKind::scheme_refused:
      r.error_message += ": a redirect led to a scheme other than http/https (" + detail + ")";
      break;
    case ErrorKind::no_descriptors:
      r.error_message += ": " + describe_descriptor_limit();
      break;
    case ErrorKind::protocol:
      r.error_message += ": the server's reply is not valid HTTP (" + detail + ")";
      break;
    case ErrorKind::too_many_redirects:
      r.error_message +=
          ": more than " + std::to_string(t.max_redirects) + " redirects (" + detail + ")";
      break;

    default:
      r.error_message += ": " + detail;
      break;
  }
  return r;
}

Response synthetic_response(const Transfer& t, ErrorKind error, std::string message) {
  Response r;
  r.url = t.request.url;
  r.effective_url = t.request.url;
  r.tag = t.request.tag;
  r.attempts = t.attempts;
  r.error = error;
  r.error_message = std::move(message);
  return r;
}

}  // namespace sluice::http::detail
