// The inside of Client: the submission queue that any thread writes, and the I/O
// thread that owns every curl handle — it starts attempts, reads results, schedules
// retries on its timer, and completes requests.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "memory_budget.hpp"
#include "retry_schedule.hpp"
#include "sluice/http/client.hpp"
#include "socket_loop.hpp"
#include "transfer.hpp"

namespace sluice::http::detail {

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  explicit Engine(ClientOptions options);
  ~Engine();

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Starts the I/O thread (separate from the constructor: the thread keeps a
  /// shared_ptr to the engine, which needs the engine to be owned already).
  void start();
  /// cancel_all, then stops the I/O thread: joined, or left to finish by itself when
  /// the client is destroyed on that very thread (from a callback).
  void shutdown();

  void submit(Request request, Client::Callback on_done);
  void cancel_all();
  Counters counters() const noexcept;
  bool on_io_thread() const noexcept;

 private:
  using TransferPtr = std::unique_ptr<Transfer>;

  void run() noexcept;
  void loop(SocketLoop& sockets);
  bool take_incoming(std::vector<TransferPtr>& out, std::uint64_t& cancel_ticket, bool& stop);

  void start_attempt(SocketLoop& sockets, TransferPtr transfer);
  /// Starts queued transfers, in order, while they find an idle connection or while
  /// `connects` new connections are left to open. Returns true when some are left.
  bool start_queued(SocketLoop& sockets, std::size_t connects);
  void finish_attempt(SocketLoop& sockets, CURL* easy, CURLcode result, std::size_t shard);
  void start_due_retries(SocketLoop& sockets);
  void cancel_everything(SocketLoop& sockets, std::vector<TransferPtr>& incoming);
  void complete(TransferPtr transfer, Response response) noexcept;
  void complete_cancelled(TransferPtr transfer) noexcept;

  struct FreeEasy {
    CURL* easy = nullptr;
    bool plain = false;  // still set up for a plain GET (see configure_plain_again)
  };
  FreeEasy acquire_easy(bool want_plain);
  /// `plain`: the handle ran a plain GET to its end and may skip the reset.
  void release_easy(CURL* easy, bool plain) noexcept;

  const ClientOptions options_;
  int wake_fd_ = -1;
  std::thread thread_;

  // Shared with submitting threads, under mutex_.
  std::mutex mutex_;
  std::condition_variable cancel_done_cv_;
  std::vector<TransferPtr> incoming_;
  std::uint64_t cancel_requested_ = 0;
  std::uint64_t cancel_done_ = 0;
  bool stopping_ = false;
  bool exited_ = false;

  std::atomic<std::uint64_t> submitted_{0};
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> attempts_{0};
  std::atomic<std::uint64_t> retries_{0};
  std::array<std::atomic<std::uint64_t>, kErrorKinds> by_error_{};

  // I/O thread only.
  std::deque<TransferPtr> queued_;  // submitted, not started yet (see start_queued)
  std::unordered_map<Transfer*, TransferPtr> running_;
  std::multimap<Clock::time_point, TransferPtr> waiting_retry_;
  std::vector<FreeEasy> free_easies_;
  RetryBudget budget_;
  MemoryBudget memory_;
  ConnectionCounters connections_;  // written by the loop, read by counters()  // charged by the
                                    // transfers' callbacks, on this thread
  std::mt19937_64 jitter_{std::random_device{}()};
};

}  // namespace sluice::http::detail
