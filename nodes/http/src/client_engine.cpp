#include "client_engine.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <iterator>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "fd_limit.hpp"
#include "options_check.hpp"
#include "sluice/completion.hpp"
#include "url_scheme.hpp"

namespace sluice::http::detail {

namespace {

// Which engine's I/O thread this is (nullptr on every other thread): lets cancel_all
// and fetch tell a call from one of the client's own callbacks.
thread_local const Engine* current_io_engine = nullptr;

// Rounds of ready events read before new transfers start (see Engine::loop): a bound,
// so that a flood of answers still lets new requests in now and then.
constexpr int kReadyRoundsFirst = 64;

// New connections started per round of the loop (see Engine::start_queued). Opening a
// connection costs the loop far more than a request on an idle one (socket, connect,
// memory for a new handle); a round that opened thousands would leave the answers that
// free connections unread for as long.
constexpr std::size_t kConnectsPerRound = 64;

// Easy handles kept for reuse; past this many, finished ones are freed instead.
constexpr std::size_t kMaxFreeEasies = 16384;

void init_curl_once() {
  // curl_global_init is not thread-safe in every libcurl build: once per process.
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (init != CURLE_OK) {
    throw std::runtime_error(std::string("sluice::http::Client: curl_global_init failed: ") +
                             curl_easy_strerror(init));
  }
}

}  // namespace

Engine::Engine(ClientOptions options)
    : options_(std::move(options)), memory_(options_.memory_budget_bytes) {
  check_options(options_);
  init_curl_once();
  if (options_.raise_fd_limit) raise_descriptor_limit();
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

Engine::~Engine() {
  if (thread_.joinable()) thread_.join();  // only when start() ran and shutdown() did not
  close(wake_fd_);
}

void Engine::start() {
  thread_ = std::thread([self = shared_from_this()] { self->run(); });
}

bool Engine::on_io_thread() const noexcept {
  return current_io_engine == this;
}

void Engine::submit(Request request, Client::Callback on_done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->policy = request.retry.value_or(options_.retry);
  transfer->request = std::move(request);
  transfer->on_done = std::move(on_done);
  submitted_.fetch_add(1, std::memory_order_relaxed);

  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && !exited_) {
      // One wake-up per batch: whoever finds the queue empty rings, the I/O thread
      // takes everything queued by then.
      wake = incoming_.empty();
      incoming_.push_back(std::move(transfer));
    }
  }
  if (transfer) {
    // The client is being destroyed: nothing will run it.
    complete_cancelled(std::move(transfer));
    return;
  }
  if (wake) eventfd_write(wake_fd_, 1);
}

void Engine::cancel_all() {
  std::unique_lock lock(mutex_);
  if (exited_) return;
  const std::uint64_t ticket = ++cancel_requested_;
  eventfd_write(wake_fd_, 1);
  if (on_io_thread()) return;  // the loop cancels as soon as this callback returns
  cancel_done_cv_.wait(lock, [&] { return cancel_done_ >= ticket || exited_; });
}

void Engine::shutdown() {
  cancel_all();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  eventfd_write(wake_fd_, 1);
  if (on_io_thread()) {
    // Destroyed from a callback: the loop ends right after it, holding its own
    // reference to this engine, and cannot join itself.
    thread_.detach();
  } else if (thread_.joinable()) {
    thread_.join();
  }
}

Counters Engine::counters() const noexcept {
  Counters c;
  // completed first: it never passes submitted, so in_flight cannot go negative.
  c.completed = completed_.load(std::memory_order_acquire);
  c.submitted = submitted_.load(std::memory_order_acquire);
  c.in_flight = c.submitted - c.completed;
  c.attempts = attempts_.load(std::memory_order_relaxed);
  c.retries = retries_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < kErrorKinds; ++i) {
    c.by_error[i] = by_error_[i].load(std::memory_order_relaxed);
  }
  c.buffered_bytes = memory_.held();
  c.peak_buffered_bytes = memory_.peak();
  c.connections_opened = connections_.opened.load(std::memory_order_relaxed);
  c.open_connections = connections_.open.load(std::memory_order_relaxed);
  c.peak_open_connections = connections_.peak.load(std::memory_order_relaxed);
  return c;
}

void Engine::run() noexcept {
  current_io_engine = this;
#ifdef __linux__
  // Named so that top -H, perf and a debugger show which thread is the client's I/O.
  pthread_setname_np(pthread_self(), "sluice-http");
#endif
  try {
    SocketLoop sockets(wake_fd_, options_, connections_);
    loop(sockets);
  } catch (...) {
    // Only the loop's set-up can get here (epoll or curl_multi_init failing); the
    // requests already queued are ended below, later ones at submit.
  }
  std::vector<TransferPtr> left;
  {
    std::lock_guard lock(mutex_);
    exited_ = true;
    left.swap(incoming_);
  }
  cancel_done_cv_.notify_all();
  for (auto& transfer : left) {
    Response response = synthetic_response(*transfer, ErrorKind::other,
                                           "failed: " + describe_request(transfer->request) +
                                               ": the client's I/O loop could not start");
    complete(std::move(transfer), std::move(response));
  }
  for (const FreeEasy& f : free_easies_) curl_easy_cleanup(f.easy);
  free_easies_.clear();
  current_io_engine = nullptr;
}

bool Engine::take_incoming(std::vector<TransferPtr>& out, std::uint64_t& cancel_ticket,
                           bool& stop) {
  std::lock_guard lock(mutex_);
  out.swap(incoming_);
  cancel_ticket = cancel_requested_ > cancel_done_ ? cancel_requested_ : 0;
  stop = stopping_;
  return !out.empty();
}

void Engine::loop(SocketLoop& sockets) {
  std::vector<TransferPtr> incoming;
  // One wait and the transfers it finished; false when epoll failed (it cannot, short
  // of a bug), which ends everything rather than spin. `full`: more may be ready.
  const auto dispatch = [&](std::optional<Clock::time_point> deadline, bool& full) {
    try {
      full = sockets.wait_and_dispatch(deadline);
    } catch (const std::exception&) {
      cancel_everything(sockets, incoming);
      return false;
    }
    CompletionBatch batch;  // every response of this wake-up in one hand-over
    sockets.drain_finished([&](CURL* easy, CURLcode result, std::size_t shard) {
      finish_attempt(sockets, easy, result, shard);
    });
    return true;
  };
  for (;;) {
    std::uint64_t cancel_ticket = 0;
    bool stop = false;
    take_incoming(incoming, cancel_ticket, stop);
    if (cancel_ticket != 0 || stop) {
      cancel_everything(sockets, incoming);
      {
        std::lock_guard lock(mutex_);
        if (cancel_ticket > cancel_done_) cancel_done_ = cancel_ticket;
      }
      cancel_done_cv_.notify_all();
      if (stop) return;
      continue;  // callbacks of the cancelled requests may have submitted new ones
    }
    for (auto& transfer : incoming) queued_.push_back(std::move(transfer));
    incoming.clear();
    bool left_queued = false;
    {
      // Completions of this round (refused schemes, failed set-ups) reach a pipeline
      // together, before the loop blocks.
      CompletionBatch batch;
      left_queued = start_queued(sockets, 0);  // those that find an idle connection
    }
    if (left_queued) {
      // Responses first: before a queued transfer opens a connection, what is already
      // readable is read and its connection handed back to its shard's cache, where
      // the queued transfers find it idle. Started first, each would open a connection
      // of its own while the answers that free one wait unread, and a loop that falls
      // behind (a cold start at thousands in flight, a slow callback) would open more
      // and more. Rounds go on while they come back full, up to a bound.
      bool full = true;
      for (int round = 0; full && round < kReadyRoundsFirst; ++round) {
        if (!dispatch(Clock::time_point{}, full)) return;
      }
      CompletionBatch batch;
      left_queued = start_queued(sockets, kConnectsPerRound);
    }
    {
      CompletionBatch batch;
      start_due_retries(sockets);
    }

    std::optional<Clock::time_point> deadline;
    if (!waiting_retry_.empty()) deadline = waiting_retry_.begin()->first;
    if (left_queued) deadline = Clock::time_point{};  // look, do not wait: more to start
    bool full = false;
    if (!dispatch(deadline, full)) return;
  }
}

Engine::FreeEasy Engine::acquire_easy(bool want_plain) {
  if (free_easies_.empty()) return FreeEasy{curl_easy_init(), false};
  FreeEasy f = free_easies_.back();
  free_easies_.pop_back();
  if (f.plain && !want_plain) {
    curl_easy_reset(f.easy);
    f.plain = false;
  }
  return f;
}

void Engine::release_easy(CURL* easy, bool plain) noexcept {
  if (free_easies_.size() >= kMaxFreeEasies) {
    curl_easy_cleanup(easy);
    return;
  }
  // Reset (or detach) now, not at reuse, so an idle handle keeps no pointer into a
  // finished request. The connection and DNS caches live in the multi handle and survive.
  if (plain) {
    detach_plain(easy);
  } else {
    curl_easy_reset(easy);
  }
  try {
    free_easies_.push_back(FreeEasy{easy, plain});
  } catch (...) {
    curl_easy_cleanup(easy);
  }
}

void Engine::start_attempt(SocketLoop& sockets, TransferPtr transfer) {
  Transfer& t = *transfer;
  if (t.attempts == 0) {
    if (auto refusal = refuse_scheme(t.request.url)) {
      complete(
          std::move(transfer),
          synthetic_response(t, ErrorKind::scheme_refused,
                             "scheme refused: " + describe_request(t.request) + ": " + *refusal));
      return;
    }
  }
  ++t.attempts;
  t.budget = &memory_;
  attempts_.fetch_add(1, std::memory_order_relaxed);
  if (t.attempts > 1) retries_.fetch_add(1, std::memory_order_relaxed);
  reset_attempt(t);

  const auto fail_setup = [&](const std::string& why) {
    release_attempt(t);
    if (t.easy != nullptr) release_easy(t.easy, false);
    t.easy = nullptr;
    complete(std::move(transfer),
             synthetic_response(t, ErrorKind::other,
                                "failed: " + describe_request(t.request) + ": " + why));
  };

  const bool plain = is_plain_get(t.request);
  const FreeEasy handle = acquire_easy(plain);
  t.easy = handle.easy;
  t.easy_plain = false;
  if (t.easy == nullptr) return fail_setup("curl_easy_init failed");
  const CURLcode rc = handle.plain ? configure_plain_again(t.easy, t, options_)
                                   : configure_easy(t.easy, t, options_);
  t.easy_plain = plain && rc == CURLE_OK;
  if (rc != CURLE_OK) {
    return fail_setup(std::string("could not set up the transfer: ") + curl_easy_strerror(rc));
  }
  if (const CURLMcode added = sockets.add(t.easy, t.shard, t.open_context); added != CURLM_OK) {
    return fail_setup(std::string("could not start the transfer: ") + curl_multi_strerror(added));
  }
  Transfer* key = transfer.get();
  running_.emplace(key, std::move(transfer));
}

bool Engine::start_queued(SocketLoop& sockets, std::size_t connects) {
  // Requests wait here, in order, rather than in libcurl: a transfer is handed over
  // when an idle connection waits for it or when the round may still open one. So
  // the connections opened follow the answers the loop has time to read, and when
  // answers come back, the transfers queued meanwhile take over their connections.
  while (!queued_.empty()) {
    if (!sockets.has_idle_connection()) {
      if (connects == 0) return true;
      --connects;
    }
    TransferPtr transfer = std::move(queued_.front());
    queued_.pop_front();
    start_attempt(sockets, std::move(transfer));
  }
  return false;
}

void Engine::finish_attempt(SocketLoop& sockets, CURL* easy, CURLcode result, std::size_t shard) {
  char* private_data = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &private_data);
  const auto found = running_.find(reinterpret_cast<Transfer*>(private_data));
  if (found == running_.end()) {  // cannot happen: every added handle is in running_
    sockets.remove(easy, shard);
    release_easy(easy, false);
    return;
  }
  TransferPtr transfer = std::move(found->second);
  running_.erase(found);
  sockets.remove(easy, shard);

  Response response = read_response(easy, *transfer, result);
  // What the response did not take (an error's partial body) is freed now, and the
  // budget no longer counts any of it: the caller owns the rest.
  transfer->body = std::string();
  transfer->headers = Headers();
  release_budget(*transfer);
  const bool connected = response.error != ErrorKind::timeout || attempt_connected(easy);
  release_attempt(*transfer);
  transfer->easy = nullptr;
  release_easy(easy, transfer->easy_plain);

  if (transfer->policy.max_attempts > 1) {
    RetryInput input;
    input.result = AttemptResult{response.error, response.status, connected};
    const std::string& method = transfer->request.method;
    input.method = method.empty() ? std::string_view("GET") : std::string_view(method);
    input.attempts_made = transfer->attempts;
    if (response.received()) input.retry_after = response.header("Retry-After");
    input.now = std::time(nullptr);
    input.unit = std::uniform_real_distribution<double>(0.0, 1.0)(jitter_);
    input.submitted = submitted_.load(std::memory_order_relaxed);
    if (const RetryDecision decision = decide_retry(transfer->policy, input, budget_);
        decision.retry) {
      waiting_retry_.emplace(Clock::now() + decision.delay, std::move(transfer));
      return;
    }
  }
  complete(std::move(transfer), std::move(response));
}

void Engine::start_due_retries(SocketLoop& sockets) {
  const auto now = Clock::now();
  while (!waiting_retry_.empty() && waiting_retry_.begin()->first <= now) {
    auto node = waiting_retry_.extract(waiting_retry_.begin());
    start_attempt(sockets, std::move(node.mapped()));
  }
}

void Engine::cancel_everything(SocketLoop& sockets, std::vector<TransferPtr>& incoming) {
  // Taken out of the members first: the callbacks below may submit or cancel again,
  // which only touches the queue, but no container is walked while it can change.
  auto running = std::move(running_);
  running_.clear();
  auto waiting = std::move(waiting_retry_);
  waiting_retry_.clear();
  // Queued before incoming: they were submitted first.
  std::vector<TransferPtr> queued(std::make_move_iterator(queued_.begin()),
                                  std::make_move_iterator(queued_.end()));
  queued_.clear();
  for (auto& transfer : incoming) queued.push_back(std::move(transfer));
  incoming.clear();

  for (auto& [key, transfer] : running) {
    sockets.remove(transfer->easy, transfer->shard);  // aborts it; its connection is closed
    release_attempt(*transfer);
    release_easy(transfer->easy, false);  // aborted mid-transfer: start afresh
    transfer->easy = nullptr;
  }
  for (auto& [key, transfer] : running) complete_cancelled(std::move(transfer));
  for (auto& [when, transfer] : waiting) complete_cancelled(std::move(transfer));
  for (auto& transfer : queued) complete_cancelled(std::move(transfer));
}

void Engine::complete(TransferPtr transfer, Response response) noexcept {
  release_budget(*transfer);  // a transfer cancelled mid-body still held its buffers
  // Counted before the callback runs, so that whoever the callback signals reads
  // counters that already include it.
  by_error_[static_cast<std::size_t>(response.error)].fetch_add(1, std::memory_order_relaxed);
  completed_.fetch_add(1, std::memory_order_release);
  try {
    if (transfer->on_done) transfer->on_done(std::move(response));
  } catch (...) {
    // A throwing callback must not take the I/O thread (and every other request) down.
  }
}

void Engine::complete_cancelled(TransferPtr transfer) noexcept {
  Response response;
  try {
    response = synthetic_response(
        *transfer, ErrorKind::cancelled,
        "cancelled: " + describe_request(transfer->request) + ": the client cancelled it");
  } catch (...) {
    response.error = ErrorKind::cancelled;
    response.tag = transfer->request.tag;
    response.attempts = transfer->attempts;
  }
  complete(std::move(transfer), std::move(response));
}

}  // namespace sluice::http::detail
