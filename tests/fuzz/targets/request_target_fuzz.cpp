// Fuzz target: what remains of the local server's own request handling once evhttp has
// framed a request — the request target's decoding into path and parameters, the router
// with its parameter checks, and static paths under the root.
//
// Checks: a target is either routed or refused with BadParameter (nothing else escapes);
// decoding is stable (a decoded path re-encoded decodes to itself); no header value the
// router makes carries a line break (evhttp would refuse it, and the reply would lose its
// header); no static path reaches the file beside the static root, directly or through a
// link.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

#include "endpoints.hpp"
#include "fuzz_check.hpp"
#include "request_target.hpp"
#include "static_files.hpp"

namespace fs = std::filesystem;
using namespace sluice::http_server::detail;

namespace {

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

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
  return out;
}

void check_target(std::string_view text) {
  try {
    const RequestTarget target(text);
    const std::string& path = target.path();
    const RequestTarget again(percent_encode(path));
    FUZZ_CHECK(again.path() == path, "a decoded path does not survive re-encoding");
  } catch (const BadParameter&) {
    // refused with a 400: fine
  }
}

void check_route(std::string_view text, const char* method) {
  EndpointState state;
  state.static_root = tree().root;
  Request request;
  request.method = method;
  request.target = std::string(text);
  const Reply reply = route_request(request, state);  // anything but BadParameter escapes
  FUZZ_CHECK(reply.status >= 100 && reply.status <= 599, "a status out of range");
  for (const auto& [name, value] : reply.headers) {
    FUZZ_CHECK(name.find_first_of("\r\n:") == std::string::npos, "a bad header name");
    FUZZ_CHECK(value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos,
               "a line break in a header value");
  }
  if (reply.body_kind == Reply::Body::file) {
    struct stat opened {};
    FUZZ_CHECK(::fstat(reply.file.get(), &opened) == 0, "a static reply without a file");
    FUZZ_CHECK(opened.st_ino != tree().secret.st_ino || opened.st_dev != tree().secret.st_dev,
               "a static path reached the file outside the root");
    FUZZ_CHECK(S_ISREG(opened.st_mode), "a static reply of something else than a file");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_target(text);
  check_route(text, "GET");
  check_route(text, "DELETE");  // the 405 path
  return 0;
}
