// Fuzz target: the local server's request handling, from the bytes a client sends to the
// response head it gets back — the incremental parser (fed as the connection feeds it,
// pipelined requests included), the router with its parameter checks, static files, and
// the response head.
//
// Checks: the parser always makes progress and never consumes more than it is given; the
// same bytes give the same requests whether they arrive at once or in small pieces; every
// response head is well formed, with no line break a request could inject; no static
// path reaches the file beside the static root, directly or through a link.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "endpoints.hpp"
#include "fuzz_check.hpp"
#include "request_parser.hpp"
#include "response_head.hpp"
#include "static_files.hpp"

namespace fs = std::filesystem;
using namespace sluice::http_server::detail;

namespace {

constexpr std::size_t kMaxHeadBytes = 1024;  // small, so the 431 path is reached too

// A static root with a file and a folder, a link out of it, and a secret file beside it.
struct StaticTree {
  fs::path base;
  fs::path root;
  struct stat secret {};

  StaticTree() {
    std::string pattern = (fs::temp_directory_path() / "sluice-fuzz-XXXXXX").string();
    FUZZ_CHECK(::mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
    base = pattern;
    fs::create_directories(base / "root" / "sub");
    std::ofstream(base / "root" / "index.html") << "<p>hello</p>\n";
    std::ofstream(base / "root" / "sub" / "a.txt") << "a\n";
    std::ofstream(base / "secret.txt") << "secret\n";
    fs::create_symlink("../secret.txt", base / "root" / "link.txt");
    fs::create_directory_symlink("..", base / "root" / "up");
    root = canonical_static_root(base / "root");
    FUZZ_CHECK(::stat((base / "secret.txt").c_str(), &secret) == 0, "stat failed");
  }
  ~StaticTree() {
    std::error_code ignored;
    fs::remove_all(base, ignored);
  }
};

StaticTree& tree() {
  static StaticTree instance;
  return instance;
}

// Checks a response head: a status line, CRLF-terminated lines, one blank line at the end.
void check_head(const std::string& head) {
  FUZZ_CHECK(head.starts_with("HTTP/1."), "the head does not start with a status line");
  FUZZ_CHECK(head.ends_with("\r\n\r\n"), "the head does not end with a blank line");
  FUZZ_CHECK(head.find("\r\n\r\n") == head.size() - 4, "a blank line inside the head");
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\n') FUZZ_CHECK(i > 0 && head[i - 1] == '\r', "a bare LF in the head");
    if (head[i] == '\r') FUZZ_CHECK(i + 1 < head.size() && head[i + 1] == '\n', "a bare CR");
  }
}

// What the server makes of one request, as text, for comparing two ways of feeding it.
std::string answer(const RequestParser& parser, EndpointState& state) {
  if (parser.failed()) {
    FUZZ_CHECK(parser.error_status() == 400 || parser.error_status() == 431 ||
                   parser.error_status() == 501 || parser.error_status() == 505,
               "an unexpected error status");
    const Reply reply = text_reply(sluice::http_server::Endpoint::not_found, parser.error_status(),
                                   parser.error_message() + "\n");
    check_head(format_response_head(reply, 1, false, 0));
    return "error " + std::to_string(parser.error_status()) + " " + parser.error_message();
  }
  const Request& request = parser.request();
  const Reply reply = route_request(request, state);
  check_head(
      format_response_head(reply, request.minor_version, request.keep_alive, request.body_bytes));
  if (reply.body_kind == Reply::Body::file) {
    struct stat opened {};
    FUZZ_CHECK(::fstat(reply.file.get(), &opened) == 0, "a static reply without a file");
    FUZZ_CHECK(opened.st_ino != tree().secret.st_ino || opened.st_dev != tree().secret.st_dev,
               "a static path reached the file outside the root");
    FUZZ_CHECK(S_ISREG(opened.st_mode), "a static reply of something else than a file");
  }
  std::string text =
      request.method + " " + request.target + " 1." + std::to_string(request.minor_version) + " " +
      std::to_string(request.headers.size()) + "h " + std::to_string(request.body_bytes) + "b " +
      (request.keep_alive ? "keep " : "close ") + (request.expect_continue ? "expect " : "") +
      std::to_string(reply.status);
  for (const auto& [name, value] : request.headers) text += "\n" + name + ": " + value;
  return text;
}

// Feeds `data` to one parser as a connection would, in arrivals of the given sizes (the
// last size repeats), answering each complete request; stops at the first malformed one.
std::vector<std::string> serve(std::string_view data, const std::vector<std::size_t>& sizes) {
  EndpointState state;
  state.static_root = tree().root;
  RequestParser parser(kMaxHeadBytes);
  std::vector<std::string> answers;
  std::size_t next_size = 0;
  while (!data.empty()) {
    const std::size_t arrival_size = std::min(sizes[next_size], data.size());
    if (next_size + 1 < sizes.size()) ++next_size;
    std::string_view arrival = data.substr(0, arrival_size);
    data.remove_prefix(arrival_size);
    while (!arrival.empty()) {
      const std::size_t used = parser.feed(arrival);
      FUZZ_CHECK(used <= arrival.size(), "feed consumed more than it was given");
      FUZZ_CHECK(used > 0 || parser.failed(), "feed made no progress");
      arrival.remove_prefix(used);
      if (parser.failed()) {
        answers.push_back(answer(parser, state));
        return answers;  // the connection is closed: the framing is lost
      }
      if (parser.complete()) {
        answers.push_back(answer(parser, state));
        parser.reset();
      }
    }
  }
  if (parser.head_complete() && !parser.complete()) answers.push_back("(body incomplete)");
  return answers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> at_once = serve(bytes, {bytes.size() + 1});

  // The same bytes in pieces of 1..16 bytes, sizes drawn from the input itself.
  std::vector<std::size_t> sizes;
  for (std::size_t i = 0; i < 64; ++i) {
    sizes.push_back(1 + (size > 0 ? data[(i * 7) % size] % 16 : 0));
  }
  const std::vector<std::string> in_pieces = serve(bytes, sizes);
  FUZZ_CHECK(at_once == in_pieces, "the requests depend on how the bytes were split");
  return 0;
}
