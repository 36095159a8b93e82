#include <sys/resource.h>

#include <mutex>

#include "sluice/http_server.hpp"

namespace sluice::http_server {

std::uint64_t raise_fd_limit() noexcept {
  static std::mutex mutex;  // two threads raising at once would race on get-then-set
  std::lock_guard lock(mutex);
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur != limit.rlim_max) {
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

}  // namespace sluice::http_server
