// TransferStage: a FIFO of submitted batches, worked off by the stage's own completion
// thread. Submitting only appends; every buffer lease, staging copy, copy start and
// completion happens on that thread, so worker threads never wait and the state machine
// has one owner.
//
// A transfer moves through: the shared queue -> `head_` (leasing its device and staging
// buffers, possibly waiting for one to come back) -> `next_` (bytes in staging, ready) ->
// `in_flight_` (copy started) -> completed. Only `queue_` and the copy results are shared
// with other threads; the rest belongs to the completion thread.
//
// A DeviceFault from the backend (a copy's report, or start_copy throwing it) puts the
// stage in a failed state: every transfer not yet delivered — including copies whose
// report may never come — fails at once, and so does every later submission.
#include <sluice/gpu/transfer_stage.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#ifdef __linux__
#include <pthread.h>
#endif

namespace sluice::gpu {
namespace {

struct Request {
  std::uint64_t id = 0;
  HostBatch batch;
  Completion<DeviceBatch> done;
};

// One transfer on the completion thread, with the buffers leased so far.
struct Transfer {
  explicit Transfer(Request r) : request(std::move(r)) {}

  Request request;
  PooledBuffer device;
  PooledBuffer staging;  // stays empty when the producer staged the batch itself
  bool producer_staged = false;
  const void* source = nullptr;  // staging memory holding the bytes, once staged
};

struct CopyResult {
  std::uint64_t id;
  std::exception_ptr error;
};

// Where other threads leave word for the completion thread: copy reports and buffers
// coming back. Shared with the engine's reports and the pools' listeners, which may come
// after the stage is gone (a late report after a fault, a batch outliving the stage), so
// they never hold the stage itself — and never become the last owner of the stage (and of
// its engine) on one of the engine's own threads.
struct Mailbox {
  std::mutex mutex;  // also guards the stage's shared state (TransferCore::mutex_)
  std::condition_variable wake_cv;
  std::vector<CopyResult> results;
  bool woken = false;

  void post(std::uint64_t id, std::exception_ptr error) {
    std::lock_guard lock(mutex);
    results.push_back(CopyResult{id, std::move(error)});
    woken = true;
    wake_cv.notify_one();
  }
  void wake() {
    std::lock_guard lock(mutex);
    woken = true;
    wake_cv.notify_one();
  }
};

enum class Ending { delivered, failed, cancelled };

bool is_fault(const std::exception_ptr& error) {
  if (!error) return false;
  try {
    std::rethrow_exception(error);
  } catch (const DeviceFault&) {
    return true;
  } catch (...) {
    return false;
  }
}

// What the transfers the fault caught fail with: the backend's text, saying it came first.
std::exception_ptr after_fault(const std::exception_ptr& fault) {
  try {
    std::rethrow_exception(fault);
  } catch (const std::exception& e) {
    return std::make_exception_ptr(DeviceFault(
        std::string("sluice::gpu: transfer failed: the device failed earlier: ") + e.what()));
  } catch (...) {
    return fault;
  }
}

std::size_t at_least_one(std::size_t n, const char* what) {
  if (n == 0)
    throw std::invalid_argument(std::string("sluice::gpu::TransferOptions::") + what +
                                " must be at least 1");
  return n;
}

class TransferCore {
 public:
  explicit TransferCore(TransferOptions options)
      : engine_(options.engine
                    ? std::move(options.engine)
                    : make_copy_engine(options.device, options.on_notice, options.cuda_device)),
        concurrency_(at_least_one(options.concurrency, "concurrency")),
        staging_(engine_->staging_memory(),
                 at_least_one(options.staging_buffers, "staging_buffers")),
        producer_staging_(engine_->staging_memory(), at_least_one(options.producer_staging_buffers,
                                                                  "producer_staging_buffers")),
        device_(engine_->device_memory(), at_least_one(options.device_buffers, "device_buffers")) {}

  // Buffers coming back may let a waiting transfer start: wake the thread.
  void listen_for_releases() {
    auto wake = [mailbox = mailbox_] { mailbox->wake(); };
    staging_.set_release_listener(wake);
    device_.set_release_listener(wake);
  }

  void submit(HostBatch batch, Completion<DeviceBatch> done) {
    std::exception_ptr fault;
    {
      std::lock_guard lock(mutex_);
      ++submitted_;
      if (!fault_) {
        queue_.push_back(Request{next_id_++, std::move(batch), std::move(done)});
        ++pending_;
        woken_ = true;
        wake_cv_.notify_one();
        return;
      }
      fault = fault_;
      ++failed_;
    }
    done.fail(after_fault(fault));  // outside the lock: the completion may submit again
  }

  std::optional<HostBatch> try_stage(std::size_t bytes, std::vector<std::int64_t> shape) {
    auto buffer = producer_staging_.try_acquire(bytes);
    if (!buffer) return std::nullopt;
    return HostBatch(std::move(*buffer), bytes, std::move(shape));
  }

  void cancel() {
    std::lock_guard lock(mutex_);
    cancel_below_ = next_id_;
    woken_ = true;
    wake_cv_.notify_one();
  }

  void stop() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    woken_ = true;
    wake_cv_.notify_one();
  }

  void wait_idle() {
    std::unique_lock lock(mutex_);
    idle_cv_.wait(lock, [&] { return pending_ == 0; });
  }

  TransferStats stats() const {
    TransferStats s;
    {
      std::lock_guard lock(mutex_);
      s.submitted = submitted_;
      s.delivered = delivered_;
      s.failed = failed_;
      s.cancelled = cancelled_;
      s.bytes = bytes_;
      s.staged_by_producer = staged_by_producer_;
      s.pending = pending_;
      s.in_flight = in_flight_count_;
      s.max_in_flight = max_in_flight_;
    }
    s.staging = staging_.stats();
    s.producer_staging = producer_staging_.stats();
    s.device = device_.stats();
    return s;
  }

  const CopyEngine& engine() const noexcept { return *engine_; }

  // The completion thread's loop: sleep until something happened (a submission, a copy
  // ending, a buffer coming back, cancel, stop), then make all the progress possible.
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_cv_.wait(lock, [&] { return woken_; });
      woken_ = false;
      std::vector<CopyResult> results;
      results.swap(results_);
      for (const auto& result : results) {
        if (!fault_ && is_fault(result.error)) fault_ = result.error;
      }
      const std::uint64_t cancel_below =
          stopping_ ? std::numeric_limits<std::uint64_t>::max() : cancel_below_;
      std::deque<Request> dropped;
      while (!queue_.empty() && (fault_ || queue_.front().id < cancel_below)) {
        dropped.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      const std::exception_ptr fault = fault_;
      lock.unlock();

      if (fault) {
        fail_everything(results, std::move(dropped), fault);
        lock.lock();
        if (stopping_) return;  // nothing is queued or in flight any more
        continue;
      }

      // Completions run unlocked: they may submit, release buffers or drop the stage.
      // Copies that ended free their slot; the staged batch goes to the copy engine before
      // anyone's completion runs, so the engine idles as little as possible.
      std::vector<std::pair<Transfer, std::exception_ptr>> finished;
      for (auto& result : results) take_finished(result, finished);
      if (next_ && !is_cancelled(next_->request, cancel_below) &&
          in_flight_.size() < concurrency_) {
        Transfer t = std::move(*next_);
        next_.reset();
        start_copy(std::move(t));
      }
      // Then the endings, oldest first: copies that ended, the staged batch, the one
      // leasing buffers, and the queued ones a cancel dropped.
      for (auto& [t, error] : finished) {
        const Ending how = error                                   ? Ending::failed
                           : is_cancelled(t.request, cancel_below) ? Ending::cancelled
                                                                   : Ending::delivered;
        end(std::move(t), how, error);
      }
      if (next_ && is_cancelled(next_->request, cancel_below)) {
        Transfer t = std::move(*next_);
        next_.reset();
        end(std::move(t), Ending::cancelled);
      }
      if (head_ && is_cancelled(head_->request, cancel_below)) end_head(Ending::cancelled);
      for (auto& request : dropped) end(Transfer(std::move(request)), Ending::cancelled);
      advance(cancel_below);

      lock.lock();
      if (stopping_ && queue_.empty() && results_.empty() && !head_ && !next_ &&
          in_flight_.empty()) {
        return;
      }
    }
  }

 private:
  // After a fault: the copies that reported end with their own error, every other transfer
  // (in flight without a report, staged, leasing, queued) with the fault's text. Nothing
  // waits for the backend: after a sticky error no copy runs any more.
  void fail_everything(const std::vector<CopyResult>& results, std::deque<Request> dropped,
                       const std::exception_ptr& fault) {
    std::vector<std::pair<Transfer, std::exception_ptr>> finished;
    for (const auto& result : results) take_finished(result, finished);
    std::deque<Transfer> unreported;
    unreported.swap(in_flight_);
    {
      std::lock_guard lock(mutex_);
      in_flight_count_ = 0;
    }
    const std::exception_ptr later = after_fault(fault);
    // A copy that reported success before the fault did arrive: deliver it (or cancel it).
    const std::uint64_t cancel_below = [&] {
      std::lock_guard lock(mutex_);
      return stopping_ ? std::numeric_limits<std::uint64_t>::max() : cancel_below_;
    }();
    for (auto& [t, error] : finished) {
      const Ending how = error                                   ? Ending::failed
                         : is_cancelled(t.request, cancel_below) ? Ending::cancelled
                                                                 : Ending::delivered;
      end(std::move(t), how, error);
    }
    for (auto& t : unreported) end(std::move(t), Ending::failed, later);
    if (next_) {
      Transfer t = std::move(*next_);
      next_.reset();
      end(std::move(t), Ending::failed, later);
    }
    if (head_) end_head(Ending::failed, later);
    for (auto& request : dropped) end(Transfer(std::move(request)), Ending::failed, later);
  }

  static bool is_cancelled(const Request& r, std::uint64_t cancel_below) {
    return r.id < cancel_below || r.done.cancelled();
  }

  // Starts copies while the concurrency cap allows, staging the following batch while
  // the copy engine works on the current one.
  void advance(std::uint64_t cancel_below) {
    for (;;) {
      bool progressed = false;
      if (next_ && in_flight_.size() < concurrency_) {
        Transfer t = std::move(*next_);
        next_.reset();
        start_copy(std::move(t));
        progressed = true;
      }
      if (!next_ && prepare_head(cancel_below)) progressed = true;
      if (!progressed) return;
    }
  }

  // Moves the oldest queued request through buffer leasing and staging into `next_`.
  // Returns true when it made progress (staged, or ended the request); false when there
  // is nothing queued or a pool is exhausted (a release will wake us).
  bool prepare_head(std::uint64_t cancel_below) {
    if (!head_) {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) return false;
      head_.emplace(std::move(queue_.front()));
      queue_.pop_front();
    }
    Transfer& t = *head_;
    if (is_cancelled(t.request, cancel_below)) {
      end_head(Ending::cancelled);
      return true;
    }
    const std::size_t bytes = t.request.batch.size();
    try {
      // Device buffer first, then staging; a lease once taken is kept while waiting for
      // the other, so a failed attempt never releases (and so never wakes us in a loop).
      if (!t.device) {
        auto device = device_.try_acquire(bytes);
        if (!device) return false;
        t.device = std::move(*device);
      }
      if (!t.source) {
        const PooledBuffer* own = t.request.batch.staged_buffer();
        if (own && producer_staging_.owns(*own)) {
          t.producer_staged = true;
          t.source = own->data();
        } else {
          if (!t.staging) {
            auto staging = staging_.try_acquire(bytes);
            if (!staging) return false;
            t.staging = std::move(*staging);
          }
          if (bytes) std::memcpy(t.staging.data(), t.request.batch.data(), bytes);
          t.source = t.staging.data();
        }
      }
    } catch (...) {
      // A sticky error can surface here first (cudaMalloc after a user's kernel faulted).
      const std::exception_ptr error = std::current_exception();
      if (is_fault(error)) note_fault(error);
      end_head(Ending::failed, error);
      return true;
    }
    next_.emplace(std::move(t));
    head_.reset();
    return true;
  }

  void start_copy(Transfer t) {
    const std::uint64_t id = t.request.id;
    void* dst = t.device.data();
    const void* src = t.source;
    const std::size_t bytes = t.request.batch.size();
    in_flight_.push_back(std::move(t));
    {
      std::lock_guard lock(mutex_);
      in_flight_count_ = in_flight_.size();
      max_in_flight_ = std::max(max_in_flight_, in_flight_count_);
    }
    try {
      // The engine reports from any thread (a CUDA event thread, or inline here); the
      // report only records the result and wakes the completion thread. After a fault the
      // stage may be gone before a late report: the report only reaches the mailbox.
      engine_->start_copy(dst, src, bytes, [mailbox = mailbox_, id](std::exception_ptr error) {
        mailbox->post(id, std::move(error));
      });
    } catch (...) {
      std::lock_guard lock(mutex_);
      results_.push_back(CopyResult{id, std::current_exception()});
      woken_ = true;
    }
  }

  void note_fault(const std::exception_ptr& error) {
    std::lock_guard lock(mutex_);
    if (!fault_) fault_ = error;
    woken_ = true;
  }

  // Moves the transfer a copy result is about out of in_flight_.
  void take_finished(const CopyResult& result,
                     std::vector<std::pair<Transfer, std::exception_ptr>>& finished) {
    auto it = std::find_if(in_flight_.begin(), in_flight_.end(),
                           [&](const Transfer& t) { return t.request.id == result.id; });
    if (it == in_flight_.end()) return;  // an engine reporting twice: ignore the echo
    finished.emplace_back(std::move(*it), result.error);
    in_flight_.erase(it);
    std::lock_guard lock(mutex_);
    in_flight_count_ = in_flight_.size();
  }

  void end_head(Ending how, std::exception_ptr error = nullptr) {
    Transfer t = std::move(*head_);
    head_.reset();
    end(std::move(t), how, std::move(error));
  }

  // Every transfer ends here exactly once. Buffers go back to their pools before the
  // completion runs, so a caller that saw every completion sees empty pools.
  void end(Transfer t, Ending how, std::exception_ptr error = nullptr) {
    Completion<DeviceBatch> done = std::move(t.request.done);
    const std::size_t bytes = t.request.batch.size();
    std::vector<std::int64_t> shape = t.request.batch.shape();
    t.staging.release();
    t.request.batch = HostBatch();  // a producer-staged buffer goes back here
    std::optional<DeviceBatch> out;
    if (how == Ending::delivered) {
      out.emplace(std::move(t.device), bytes, std::move(shape));
    } else {
      t.device.release();
    }
    {
      std::lock_guard lock(mutex_);
      switch (how) {
        case Ending::delivered:
          ++delivered_;
          bytes_ += bytes;
          if (t.producer_staged) ++staged_by_producer_;
          break;
        case Ending::failed:
          ++failed_;
          break;
        case Ending::cancelled:
          ++cancelled_;
          break;
      }
    }
    switch (how) {
      case Ending::delivered:
        done.succeed(std::move(*out));
        break;
      case Ending::failed:
        done.fail(std::move(error));
        break;
      case Ending::cancelled:
        done.fail(std::make_exception_ptr(TransferCancelled()));
        break;
    }
    std::lock_guard lock(mutex_);
    if (--pending_ == 0) idle_cv_.notify_all();
  }

  const std::shared_ptr<Mailbox> mailbox_ = std::make_shared<Mailbox>();
  const std::shared_ptr<CopyEngine> engine_;
  const std::size_t concurrency_;
  BufferPool staging_;
  BufferPool producer_staging_;
  BufferPool device_;

  // Shared with submitters, copy reports and release listeners.
  std::mutex& mutex_ = mailbox_->mutex;
  std::condition_variable& wake_cv_ = mailbox_->wake_cv;
  std::condition_variable idle_cv_;
  std::deque<Request> queue_;
  std::vector<CopyResult>& results_ = mailbox_->results;
  bool& woken_ = mailbox_->woken;
  bool stopping_ = false;
  std::exception_ptr fault_;  // the first DeviceFault: the stage does no more copies
  std::uint64_t next_id_ = 0;
  std::uint64_t cancel_below_ = 0;
  std::size_t pending_ = 0;
  std::size_t in_flight_count_ = 0;
  std::size_t max_in_flight_ = 0;
  std::uint64_t submitted_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t cancelled_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t staged_by_producer_ = 0;

  // Owned by the completion thread.
  std::optional<Transfer> head_;
  std::optional<Transfer> next_;
  std::deque<Transfer> in_flight_;
};

}  // namespace

// The handle's target: owns the completion thread; its destruction stops the stage.
class TransferStage::Impl {
 public:
  explicit Impl(TransferOptions options)
      : core_(std::make_shared<TransferCore>(std::move(options))) {
    core_->listen_for_releases();
    // The thread keeps the core alive, so the stage may be dropped from a completion.
    thread_ = std::thread([core = core_] {
#ifdef __linux__
      pthread_setname_np(pthread_self(), "sluice-transfer");
#endif
      core->run();
    });
  }

  ~Impl() {
    core_->stop();
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();  // dropped from one of our own completions: the loop ends by itself
    } else {
      thread_.join();
    }
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  TransferCore& core() const noexcept {
    return *core_;
  }

 private:
  std::shared_ptr<TransferCore> core_;
  std::thread thread_;
};

TransferStage::TransferStage(TransferOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {}

void TransferStage::operator()(HostBatch batch, Completion<DeviceBatch> done) const {
  try {
    impl_->core().submit(std::move(batch), done);
  } catch (...) {
    done.fail(std::current_exception());  // only an allocation failure gets here
  }
}

std::optional<HostBatch> TransferStage::try_stage(std::size_t bytes,
                                                  std::vector<std::int64_t> shape) const {
  return impl_->core().try_stage(bytes, std::move(shape));
}

void TransferStage::cancel() const {
  impl_->core().cancel();
}
void TransferStage::wait_idle() const {
  impl_->core().wait_idle();
}
TransferStats TransferStage::stats() const {
  return impl_->core().stats();
}
Device TransferStage::device() const noexcept {
  return impl_->core().engine().device();
}
std::string TransferStage::describe() const {
  return impl_->core().engine().describe();
}

}  // namespace sluice::gpu
