#include "socket_loop.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace sluice::http::detail {

namespace {

// Events taken per wake-up. The responses of one wake-up reach the pipeline together,
// after curl has read them all; a smaller round hands the first ones on sooner, so that
// under a burst (a wave of long-delay requests answered at once) their slots are
// refilled while the rest of the burst is still being read.
constexpr int kEventsPerWait = 64;
constexpr long kDefaultConnectionCache = 10'000;
// Transfers a shard takes before the next one is opened: small enough that walking a
// shard's connections costs little, large enough that shards stay few.
constexpr std::size_t kShardTransfers = 128;
constexpr std::size_t kMaxShards = 256;

// A connection count that caps something: not sluice::unlimited (nor 0, which
// ClientOptions refuses for a cap).
bool is_capped(std::size_t count) noexcept {
  return count != unlimited && count != 0;
}

// A count as libcurl's long; counts past what a long holds are no cap for any socket
// count a process can reach, so they saturate instead of wrapping to a negative number.
long to_curl_count(std::size_t count) noexcept {
  return static_cast<long>(
      std::min<std::size_t>(count, static_cast<std::size_t>(std::numeric_limits<long>::max())));
}

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string("sluice::http::Client: ") + what + ": " +
                           std::strerror(errno));
}

}  // namespace

SocketLoop::SocketLoop(int wake_fd, const ClientOptions& options, ConnectionCounters& connections)
    : options_(options), connections_(connections), wake_fd_(wake_fd), events_(kEventsPerWait) {
  // A per-host cap is enforced by one multi handle; shards would each allow it.
  if (is_capped(options_.max_host_connections)) {
    max_shards_ = 1;
  } else if (is_capped(options_.max_total_connections)) {
    max_shards_ =
        std::clamp<std::size_t>(options_.max_total_connections / kShardTransfers, 1, kMaxShards);
  } else {
    max_shards_ = kMaxShards;
  }
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) fail("epoll_create1");
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.fd = wake_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake) != 0) {
    close(epoll_fd_);
    fail("epoll_ctl(eventfd)");
  }
  if (open_shard() == nullptr) {
    close(epoll_fd_);
    throw std::runtime_error("sluice::http::Client: curl_multi_init failed");
  }
}

SocketLoop::~SocketLoop() {
  // Every easy handle has been removed by now; this closes the cached connections.
  for (auto& shard : shards_) curl_multi_cleanup(shard->multi);
  close(epoll_fd_);
}

SocketLoop::Shard* SocketLoop::open_shard() noexcept {
  if (shards_.size() >= max_shards_) return nullptr;
  std::unique_ptr<Shard> shard;
  try {
    shard = std::make_unique<Shard>();
    shards_.reserve(shards_.size() + 1);
  } catch (...) {
    return nullptr;
  }
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) return nullptr;
  shard->loop = this;
  shard->index = static_cast<std::uint32_t>(shards_.size());
  shard->multi = multi;
  shard->room = kShardTransfers;
  void* data = static_cast<void*>(shard.get());
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &SocketLoop::on_socket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, data);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &SocketLoop::on_timer);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, data);
  curl_multi_setopt(multi, CURLMOPT_PIPELINING,
                    options_.http2_multiplex ? long{CURLPIPE_MULTIPLEX} : long{CURLPIPE_NOTHING});
  // libcurl's "no cap" is 0, which sluice spells sluice::unlimited: an uncapped count is
  // left at libcurl's default rather than passed on.
  if (is_capped(options_.max_host_connections)) {
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      to_curl_count(options_.max_host_connections));
  }
  // The total cap is split over every shard there may be, so that together they keep it.
  long total_cap = 0;
  if (is_capped(options_.max_total_connections)) {
    const std::size_t k = max_shards_;
    const std::size_t i = shard->index;
    const std::size_t share =
        options_.max_total_connections / k + (i < options_.max_total_connections % k ? 1 : 0);
    total_cap = to_curl_count(share);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, total_cap);
    shard->room = std::min(kShardTransfers, share);
  }
  // libcurl sizes the cache at 4 x the transfers added at the moment a connection is
  // returned; between two waves of requests that is a handful, and the idle
  // connections of the last wave would be closed just before the next one needs them.
  long cache_size = to_curl_count(options_.connection_cache_size);
  if (cache_size <= 0) cache_size = total_cap > 0 ? total_cap : kDefaultConnectionCache;
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, cache_size);
  shards_.push_back(std::move(shard));  // cannot throw: reserved above
  return shards_.back().get();
}

SocketLoop::Shard* SocketLoop::pick_shard() noexcept {
  // A connection is reused only by transfers of the shard that holds it. So a transfer
  // goes where idle connections wait (the shard with most of them), else to the first
  // shard with room; a shard opens only when all are full. A shard opens a connection
  // only when it has none idle, so it never holds more than its most transfers at once,
  // and a full shard has none idle: the client never holds more connections than it had
  // transfers in flight. (Idle is counted over all hosts; with one host, it is exact.)
  Shard* first_with_room = nullptr;
  Shard* most_idle = nullptr;
  std::size_t most = 0;
  for (auto& shard : shards_) {
    if (shard->transfers >= shard->room) continue;
    if (first_with_room == nullptr) first_with_room = shard.get();
    const std::size_t idle =
        shard->connections > shard->transfers ? shard->connections - shard->transfers : 0;
    if (idle > most) {
      most = idle;
      most_idle = shard.get();
    }
  }
  if (most_idle != nullptr) return most_idle;
  if (first_with_room != nullptr) return first_with_room;
  if (Shard* opened = open_shard()) return opened;
  Shard* least = shards_.front().get();
  for (auto& shard : shards_) {
    if (shard->transfers < least->transfers) least = shard.get();
  }
  return least;
}

CURLMcode SocketLoop::add(CURL* easy, std::size_t& shard_index,
                          OpenSocketContext& open_context) noexcept {
  // A connection keeps the close callback of the handle that opened it, so every
  // connection reports its close to this loop. The open callback runs only while this
  // transfer connects, so it may point into the transfer.
  open_context.loop = this;
  open_context.error = 0;
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &SocketLoop::on_open);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, static_cast<void*>(&open_context));
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &SocketLoop::on_close);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, static_cast<void*>(this));
  Shard* shard = pick_shard();
  open_context.shard = shard->index;
  const CURLMcode rc = curl_multi_add_handle(shard->multi, easy);
  if (rc == CURLM_OK) ++shard->transfers;
  shard_index = shard->index;
  return rc;
}

void SocketLoop::remove(CURL* easy, std::size_t shard_index) noexcept {
  Shard& shard = *shards_[shard_index];
  if (curl_multi_remove_handle(shard.multi, easy) == CURLM_OK && shard.transfers > 0) {
    --shard.transfers;
  }
}

bool SocketLoop::has_idle_connection() const noexcept {
  return std::ranges::any_of(shards_, [](const std::unique_ptr<Shard>& shard) {
    return shard->connections > shard->transfers && shard->transfers < shard->room;
  });
}

SocketLoop::SocketState* SocketLoop::state(curl_socket_t socket) {
  if (socket < 0) return nullptr;
  const auto index = static_cast<std::size_t>(socket);
  if (index >= sockets_.size()) {
    try {
      sockets_.resize(std::max<std::size_t>(index + 1, 2 * sockets_.size()));
    } catch (...) {
      return nullptr;  // untracked: watched and unwatched eagerly
    }
  }
  return &sockets_[index];
}

curl_socket_t SocketLoop::on_open(void* context_ptr, curlsocktype /*purpose*/,
                                  curl_sockaddr* address) {
  auto& context = *static_cast<OpenSocketContext*>(context_ptr);
  auto& loop = *context.loop;
  const curl_socket_t socket = ::socket(address->family, address->socktype, address->protocol);
  if (socket < 0) {
    context.error = errno;
    return socket;
  }
  if (SocketState* s = loop.state(socket)) {
    // A new descriptor is in no epoll set, whatever an earlier one of that number was.
    *s = SocketState{.owner = context.shard, .tracked = true};
    if (context.shard < loop.shards_.size()) ++loop.shards_[context.shard]->connections;
  }
  loop.connections_.opened.fetch_add(1, std::memory_order_relaxed);
  const auto open = loop.connections_.open.fetch_add(1, std::memory_order_relaxed) + 1;
  if (open > loop.connections_.peak.load(std::memory_order_relaxed)) {
    loop.connections_.peak.store(open, std::memory_order_relaxed);
  }
  return socket;
}

int SocketLoop::on_close(void* loop_ptr, curl_socket_t socket) {
  auto& loop = *static_cast<SocketLoop*>(loop_ptr);
  if (SocketState* s = loop.state(socket)) {
    if (s->tracked && s->owner < loop.shards_.size()) {
      Shard& owner = *loop.shards_[s->owner];
      if (owner.connections > 0) --owner.connections;
    }
    // Closing takes the socket out of epoll by itself; the state must forget it too,
    // or a later descriptor of the same number would be taken as registered.
    *s = SocketState{};
  }
  const auto open = loop.connections_.open.load(std::memory_order_relaxed);
  if (open > 0) loop.connections_.open.store(open - 1, std::memory_order_relaxed);
  return ::close(socket);
}

bool SocketLoop::watch(curl_socket_t socket, std::uint32_t events, std::uint32_t shard) noexcept {
  SocketState* s = state(socket);
  if (s != nullptr) s->shard = shard;
  if (s != nullptr && s->tracked && events != 0 && s->registered == events) {
    s->wanted = true;  // still registered from its previous transfer: nothing to do
    return true;
  }
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = socket;
  // Untracked descriptors (curl's own, such as a resolver's) can be closed and their
  // number reused without a word to us, so the state is only a guess of which call
  // will work; the other is the fallback.
  const bool registered = s != nullptr && s->registered != 0;
  const int first = registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(epoll_fd_, first, socket, &ev) != 0) {
    const int second = registered ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if ((errno != ENOENT && errno != EEXIST) || epoll_ctl(epoll_fd_, second, socket, &ev) != 0) {
      if (s != nullptr) s->registered = 0;
      return false;
    }
  }
  if (s != nullptr) {
    s->registered = events;
    s->wanted = true;
  }
  return true;
}

void SocketLoop::unwatch(curl_socket_t socket) noexcept {
  SocketState* s = state(socket);
  if (s != nullptr && s->tracked) {
    s->wanted = false;  // stays registered for the connection's next transfer
    return;
  }
  // The socket may be closed already, which removed it from epoll; ENOENT/EBADF are fine.
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, socket, nullptr);
  if (s != nullptr) s->registered = 0;
}

int SocketLoop::on_socket(CURL* /*easy*/, curl_socket_t socket, int what, void* shard_ptr,
                          void* /*socket_data*/) {
  auto& shard = *static_cast<Shard*>(shard_ptr);
  if (what == CURL_POLL_REMOVE) {
    shard.loop->unwatch(socket);
    return 0;
  }
  std::uint32_t events = 0;
  if (what & CURL_POLL_IN) events |= EPOLLIN;
  if (what & CURL_POLL_OUT) events |= EPOLLOUT;
  // -1: libcurl fails the transfers on this socket
  return shard.loop->watch(socket, events, shard.index) ? 0 : -1;
}

int SocketLoop::on_timer(CURLM* /*multi*/, long timeout_ms, void* shard_ptr) {
  auto& shard = *static_cast<Shard*>(shard_ptr);
  if (timeout_ms < 0) {
    shard.deadline.reset();
  } else {
    shard.deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

void SocketLoop::act(curl_socket_t socket, int events) noexcept {
  int running = 0;
  if (socket >= 0 && static_cast<std::size_t>(socket) < sockets_.size()) {
    const std::uint32_t shard = sockets_[static_cast<std::size_t>(socket)].shard;
    if (shard < shards_.size()) {
      curl_multi_socket_action(shards_[shard]->multi, socket, events, &running);
      return;
    }
  }
  // A socket the loop has no record of (memory ran out): every shard is asked, and the
  // ones that do not know it ignore it.
  for (auto& shard : shards_) curl_multi_socket_action(shard->multi, socket, events, &running);
}

int SocketLoop::epoll_timeout_ms(std::optional<Clock::time_point> deadline) const noexcept {
  for (const auto& shard : shards_) {
    if (shard->deadline && (!deadline || *shard->deadline < *deadline)) deadline = shard->deadline;
  }
  if (!deadline) return -1;
  const auto left = *deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  // Round up: waking a fraction of a millisecond early would only spin once more.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<std::int64_t>(ms, INT_MAX));
}

bool SocketLoop::wait_and_dispatch(std::optional<Clock::time_point> deadline) {
  const int ready = epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()),
                               epoll_timeout_ms(deadline));
  if (ready < 0 && errno != EINTR) fail("epoll_wait");
  for (int i = 0; i < ready; ++i) {
    const epoll_event& ev = events_[static_cast<std::size_t>(i)];
    if (ev.data.fd == wake_fd_) {
      eventfd_t drained = 0;
      eventfd_read(wake_fd_, &drained);
      continue;
    }
    if (ev.data.fd >= 0 && static_cast<std::size_t>(ev.data.fd) < sockets_.size()) {
      SocketState& s = sockets_[static_cast<std::size_t>(ev.data.fd)];
      if (s.tracked && !s.wanted && s.registered != 0) {
        // An idle connection (the server closed it, most likely): stop watching it
        // rather than be woken again and again; curl finds out when it next uses it.
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, ev.data.fd, nullptr);
        s.registered = 0;
        continue;
      }
    }
    int mask = 0;
    if (ev.events & EPOLLIN) mask |= CURL_CSELECT_IN;
    if (ev.events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
    if (ev.events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
    act(ev.data.fd, mask);
  }
  const auto now = Clock::now();
  for (auto& s : shards_) {
    Shard& shard = *s;
    if (shard.deadline && now >= *shard.deadline) {
      // Cleared first: the call below may set a new deadline through on_timer.
      shard.deadline.reset();
      int running = 0;
      curl_multi_socket_action(shard.multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
  }
  return ready == static_cast<int>(events_.size());
}

}  // namespace sluice::http::detail
