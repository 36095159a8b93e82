// Fuzz target: the client's handling of what a server sends back. The input is a whole
// response as a hostile server would write it: status line, headers (Retry-After,
// Content-Length, folding, junk), body. It reaches the client's own code through a real
// libcurl transfer set up exactly as the client sets one up (configure_easy), over a local
// socket instead of the network: the header and body callbacks with the size cap, the
// error classification and read_response, then the retry decision on its Retry-After.
// Every connection the transfer opens (a redirect opens more) gets the same response.
// The first input byte picks the size cap and the method.
//
// Checks: the body never passes the cap, and a response cut at the cap keeps exactly the
// cap; a response reports a status, an error a message; header names are tokens and
// values hold no CR, LF or NUL (RFC 9110); a retry never waits past the policy's caps.
#include <curl/curl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "retry_schedule.hpp"
#include "transfer.hpp"

using namespace sluice::http::detail;

namespace {

// The "server": a listening socket in the abstract Unix namespace (no file, no port), which
// libcurl connects to for every host (CURLOPT_ABSTRACT_UNIX_SOCKET), so no name is looked
// up and nothing leaves the process.
struct Listener {
  int fd = -1;
  std::string name;
};

Listener& listener() {
  static Listener l = [] {
    Listener made;
    made.name = "sluice-fuzz-http-response-" + std::to_string(::getpid());
    made.fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(made.fd >= 0, "socket");
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path + 1, made.name.data(), made.name.size());  // abstract
    const auto length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + made.name.size());
    FUZZ_CHECK(::bind(made.fd, reinterpret_cast<sockaddr*>(&address), length) == 0, "bind");
    FUZZ_CHECK(::listen(made.fd, 16) == 0, "listen");
    return made;
  }();
  return l;
}

// Answers every connection waiting on the listener with the whole response (as much as
// the socket takes at once: inputs are far smaller than its buffer), then ends the
// server's side of the stream, so the client always sees the end.
void answer_connections(std::string_view response, std::vector<int>& served) {
  while (true) {
    const int fd = ::accept4(listener().fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    std::string_view rest = response;
    while (!rest.empty()) {
      const ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n <= 0) break;
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    ::shutdown(fd, SHUT_WR);
    served.push_back(fd);
  }
}

// Runs the transfer on a multi handle of its own (so no connection outlives the input),
// serving connections as libcurl opens them.
CURLcode run_transfer(CURL* easy, std::string_view response) {
  CURLM* multi = curl_multi_init();
  FUZZ_CHECK(multi != nullptr, "curl_multi_init");
  FUZZ_CHECK(curl_multi_add_handle(multi, easy) == CURLM_OK, "curl_multi_add_handle");
  std::vector<int> served;
  CURLcode result = CURLE_OK;
  for (int running = 1; running > 0;) {
    FUZZ_CHECK(curl_multi_perform(multi, &running) == CURLM_OK, "curl_multi_perform");
    answer_connections(response, served);
    if (running == 0) break;
    curl_waitfd extra{listener().fd, CURL_WAIT_POLLIN, 0};
    curl_multi_poll(multi, &extra, 1, 100, nullptr);
  }
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi, &left)) {
    if (message->msg == CURLMSG_DONE) result = message->data.result;
  }
  curl_multi_remove_handle(multi, easy);
  curl_multi_cleanup(multi);
  for (const int fd : served) ::close(fd);
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  listener();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  constexpr std::array<std::size_t, 4> kCaps = {0, 16, 1000, 64u << 20};
  constexpr std::array<const char*, 4> kMethods = {"GET", "HEAD", "POST", "DELETE"};
  const std::size_t cap = kCaps[data[0] & 3];
  const char* method = kMethods[(data[0] >> 2) & 3];
  const std::string_view response(reinterpret_cast<const char*>(data) + 1, size - 1);

  sluice::http::ClientOptions options;
  options.max_response_bytes = cap;
  options.max_redirects = 3;
  Transfer t;
  t.request.url = "http://fuzz.test/resource";
  t.request.method = method;
  if (t.request.method == "POST") t.request.body = "x=1";
  t.request.timeout = std::chrono::seconds(5);  // the stream always ends: a guard only
  t.attempts = 1;

  CURL* easy = curl_easy_init();
  FUZZ_CHECK(easy != nullptr, "curl_easy_init");
  FUZZ_CHECK(configure_easy(easy, t, options) == CURLE_OK, "configure_easy");
  curl_easy_setopt(easy, CURLOPT_ABSTRACT_UNIX_SOCKET, listener().name.c_str());

  const CURLcode result = run_transfer(easy, response);
  const bool connected = attempt_connected(easy);
  const sluice::http::Response r = read_response(easy, t, result);
  release_attempt(t);
  curl_easy_cleanup(easy);

  FUZZ_CHECK(r.body.size() <= cap, "the body passed the size cap");
  if (r.error == sluice::http::ErrorKind::too_large) {
    FUZZ_CHECK(r.body.size() == cap, "a body cut at the cap does not hold the cap");
  }
  if (r.received()) {
    FUZZ_CHECK(r.status >= 100 && r.status <= 999, "a response without a three-digit status");
    FUZZ_CHECK(r.error_message.empty(), "a response with an error message");
  } else {
    FUZZ_CHECK(!r.error_message.empty(), "an error without a message");
  }
  for (const auto& [name, value] : r.headers) {
    FUZZ_CHECK(!name.empty() && name.find_first_of(" \t\r\n:") == std::string::npos,
               "a header name that is not a token");
    FUZZ_CHECK(value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos,
               "a CR, LF or NUL in a header value");
  }

  // The retry decision the client makes on this response.
  const sluice::http::RetryPolicy policy{.max_attempts = 3};
  RetryBudget budget;
  RetryInput input;
  input.result = {r.error, r.status, connected};
  input.method = method;
  if (r.received()) input.retry_after = r.header("Retry-After");
  input.now = 1'767'225'600;
  input.unit = 0.999;
  input.submitted = 1;
  const RetryDecision decision = decide_retry(policy, input, budget);
  FUZZ_CHECK(decision.delay.count() >= 0, "a negative retry delay");
  FUZZ_CHECK(decision.delay <=
                 std::max<std::chrono::microseconds>(policy.max_retry_after, policy.max_delay),
             "a retry delay past the policy's caps");
  return 0;
}
