#include "fd_limit.hpp"

#include <sys/resource.h>

#include <mutex>

namespace sluice::http::detail {

std::uint64_t raise_descriptor_limit() noexcept {
  static std::mutex mutex;  // two clients starting at once would race on get-then-set
  std::lock_guard lock(mutex);
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    // An unlimited hard limit is not a valid soft limit for descriptors (the kernel caps
    // it at fs.nr_open): fall back to a large finite value.
    if (::setrlimit(RLIMIT_NOFILE, &raised) != 0 && limit.rlim_max == RLIM_INFINITY) {
      raised.rlim_cur = 1 << 20;
      ::setrlimit(RLIMIT_NOFILE, &raised);
    }
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<std::uint64_t>(limit.rlim_cur);
}

std::string describe_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return "the process has no file descriptor left for a socket";
  }
  const auto name = [](rlim_t value) {
    return value == RLIM_INFINITY ? std::string("unlimited") : std::to_string(value);
  };
  std::string text = "the process has no file descriptor left for a socket (RLIMIT_NOFILE soft " +
                     name(limit.rlim_cur) + ", hard " + name(limit.rlim_max) + "): ";
  text += limit.rlim_cur < limit.rlim_max
              ? "raise the soft limit (ClientOptions::raise_fd_limit does it at start) "
                "or keep fewer requests in flight"
              : "even the hard limit is too small for the requests in flight; raise it "
                "(ulimit -Hn, LimitNOFILE=) or keep fewer in flight";
  return text;
}

}  // namespace sluice::http::detail
