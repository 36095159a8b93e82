// Helpers shared by the sluice::http suites: ports nobody answers on, a collector of
// callbacks that tests wait on (with a deadline, so a lost callback fails instead of
// hanging), and, for leak checks, one component's threads (by name) and descriptors
// (by identity), never process-wide counts that an unrelated thread can shift.
#pragma once

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sluice/http.hpp"

namespace sluice_http_test {

using namespace std::chrono_literals;

/// True in sanitizer builds (ASan, TSan), where timing bounds get more room.
constexpr bool kSanitized =
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
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

  /// Accepts the connections waiting in the backlog and counts those that carried a
  /// request (any bytes). An attempt that timed out while still connecting (its I/O
  /// thread came too late to see the handshake done) sent nothing. Call it after the
  /// client is done: loopback bytes are in the buffer once send returns.
  int connections_with_requests() {
    int n = 0;
    pollfd waiting{.fd = fd_, .events = POLLIN, .revents = 0};
    while (poll(&waiting, 1, 0) == 1) {
      const int connection = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (connection < 0) break;
      char byte = 0;
      if (recv(connection, &byte, 1, MSG_DONTWAIT) > 0) ++n;
      close(connection);
    }
    return n;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

/// Collects responses from callbacks on the I/O thread; tests wait for a count.
class Collector {
 public:
  sluice::http::Client::Callback callback() {
    return [this](sluice::http::Response r) {
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
  std::vector<sluice::http::Response> take() {
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
  std::vector<sluice::http::Response> responses_;
};

/// The thread ids of this process whose name (/proc/self/task/*/comm) is `name`: the
/// threads of one component, however many others the process runs meanwhile.
inline std::vector<std::string> threads_named(const std::string& name) {
  std::vector<std::string> ids;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      std::ifstream comm(std::string("/proc/self/task/") + entry->d_name + "/comm");
      std::string comm_name;
      if (std::getline(comm, comm_name) && comm_name == name) ids.emplace_back(entry->d_name);
    }
    closedir(dir);
  }
  return ids;
}

/// This process's open descriptors: number -> what /proc/self/fd says it is
/// ("socket:[12345]", "anon_inode:[eventfd]", a path), less the one read to list them.
inline std::map<int, std::string> open_descriptors() {
  std::map<int, std::string> open;
  if (DIR* dir = opendir("/proc/self/fd")) {
    const int own = dirfd(dir);
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      const int fd = std::atoi(entry->d_name);
      if (fd == own) continue;
      char target[256];
      const std::string link = std::string("/proc/self/fd/") + entry->d_name;
      const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
      if (n > 0) open.emplace(fd, std::string(target, static_cast<std::size_t>(n)));
    }
    closedir(dir);
  }
  return open;
}

/// The targets ("socket:[inode]") of TCP sockets whose local port is `port`: the
/// listening socket and the connections a server on that port accepted.
inline std::set<std::string> tcp_sockets_on_local_port(std::uint16_t port) {
  std::set<std::string> sockets;
  for (const char* table : {"/proc/self/net/tcp", "/proc/self/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      const auto colon = local.rfind(':');
      if (colon == std::string::npos || inode.empty()) continue;
      if (std::stoul(local.substr(colon + 1), nullptr, 16) == port) {
        sockets.insert("socket:[" + inode + "]");
      }
    }
  }
  return sockets;
}

/// Descriptors in `now` that were not in `before` (a new number, or a number reused
/// for something else), less those in `others`.
inline std::map<int, std::string> opened_since(const std::map<int, std::string>& before,
                                               const std::map<int, std::string>& now,
                                               const std::set<std::string>& others) {
  std::map<int, std::string> opened;
  for (const auto& [fd, target] : now) {
    const auto was = before.find(fd);
    if ((was == before.end() || was->second != target) && !others.count(target)) {
      opened.emplace(fd, target);
    }
  }
  return opened;
}

/// Those of `descriptors` still open as the same thing. A socket's target names its
/// inode, so a socket is matched exactly; an eventfd or epoll instance only by number
/// and kind, which in these tests nothing else opens.
inline std::map<int, std::string> still_open(const std::map<int, std::string>& descriptors) {
  const auto now = open_descriptors();
  std::map<int, std::string> left;
  for (const auto& [fd, target] : descriptors) {
    const auto it = now.find(fd);
    if (it != now.end() && it->second == target) left.emplace(fd, target);
  }
  return left;
}

inline std::string describe(const std::map<int, std::string>& descriptors) {
  std::string text;
  for (const auto& [fd, target] : descriptors) {
    text += std::to_string(fd) + " -> " + target + "; ";
  }
  return text;
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
