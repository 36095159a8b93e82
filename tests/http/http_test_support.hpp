// Helpers shared by the sluice::http suites: ports nobody answers on, a collector of
// callbacks that tests wait on (with a deadline, so a lost callback fails instead of
// hanging), and process-wide thread and descriptor counts for leak checks.
#pragma once

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sluice/http.hpp"

namespace sluice_http_test {

using namespace std::chrono_literals;

/// True in AddressSanitizer builds, where timing bounds get more room.
constexpr bool kSanitized =
#if defined(__SANITIZE_ADDRESS__)
    true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    true;
#else
    false;
#endif
#else
    false;
#endif

/// Percent-encodes a query value (a URL inside ?to=...), keeping unreserved characters.
inline std::string encode_query_value(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

/// A loopback port nothing listens on (bound, then closed): connecting is refused.
inline int closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

inline std::string refused_url() {
  return "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
}

/// A loopback socket that listens but never accepts: the kernel completes the
/// handshake (up to the backlog), so requests to it connect and then wait forever.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 4096) != 0) {
      ADD_FAILURE() << "could not listen on loopback";
    }
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

/// Collects responses from callbacks on the I/O thread; tests wait for a count.
class Collector {
 public:
  sluice::HttpClient::Callback callback() {
    return [this](sluice::HttpResponse r) {
      std::lock_guard lock(mutex_);
      responses_.push_back(std::move(r));
      arrived_.notify_all();
    };
  }
  /// Waits until `n` responses arrived; false when `limit` passed first.
  bool wait(std::size_t n, std::chrono::milliseconds limit = 20s) {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, limit, [&] { return responses_.size() >= n; });
  }
  std::vector<sluice::HttpResponse> take() {
    std::lock_guard lock(mutex_);
    return std::move(responses_);
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return responses_.size();
  }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<sluice::HttpResponse> responses_;
};

/// Entries in a /proc/self folder (threads in task/, descriptors in fd/).
inline std::size_t count_entries(const char* folder) {
  std::size_t n = 0;
  if (DIR* dir = opendir(folder)) {
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++n;
    }
    closedir(dir);
  }
  return n;
}
inline std::size_t thread_count() {
  return count_entries("/proc/self/task");
}
/// Open descriptors, less the one opendir itself holds while counting.
inline std::size_t fd_count() {
  return count_entries("/proc/self/fd") - 1;
}

/// Polls `done` until it holds or `limit` passes (for counters that have no latch).
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit = 10s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace sluice_http_test
