// PacedRelease: lets items through at a fixed rate (a rate-limited source's "input RPU").
// The source sends tickets through it and pulls an item per released ticket (see
// source_node.hpp), so items are made when they are due, not ahead of time.
//
// A serial async stage hands each item to a pacing thread that completes it at its
// release time: max(previous release + period, now). A source held back by
// back-pressure therefore loses rate rather than bursting to catch up, and no worker
// thread ever sleeps.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "sluice/detail/async_node.hpp"

namespace sluice::detail {

template <class T>
class Pacer {
 public:
  explicit Pacer(double items_per_second)
      : period_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(1.0 / items_per_second))),
        thread_([this] { loop(); }) {}
  ~Pacer() { stop(); }

  void push(T value, Completion<T> done) {
    {
      std::lock_guard lock(mutex_);
      auto now = std::chrono::steady_clock::now();
      next_ = std::max(next_ + period_, now);
      if (first_) {
        next_ = now;
        first_ = false;
      }
      queue_.push_back(Entry{unpaced_ ? now : next_, std::move(value), std::move(done)});
    }
    cv_.notify_one();
  }

  /// Releases what is queued now, and whatever comes later at once: the source has
  /// ended, and what is still queued only has slots to give back.
  void release_all() {
    {
      std::lock_guard lock(mutex_);
      unpaced_ = true;
      auto now = std::chrono::steady_clock::now();
      for (Entry& e : queue_) e.at = std::min(e.at, now);
    }
    cv_.notify_one();
  }

  /// Drops what is queued (their completions are never called: the run's cancel sweep
  /// has released them) and ends the thread.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
      queue_.clear();
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  struct Entry {
    std::chrono::steady_clock::time_point at;
    T value;
    Completion<T> done;
  };

  void loop() {
    std::unique_lock lock(mutex_);
    while (!stopped_) {
      if (queue_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto at = queue_.front().at;
      if (std::chrono::steady_clock::now() < at) {
        cv_.wait_until(lock, at);
        continue;
      }
      Entry e = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      e.done.succeed(std::move(e.value));
      lock.lock();
    }
  }

  std::chrono::steady_clock::duration period_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Entry> queue_;
  std::chrono::steady_clock::time_point next_{};
  bool first_ = true;
  bool unpaced_ = false;
  bool stopped_ = false;
  std::thread thread_;
};

template <class T>
struct PacerOp {
  std::shared_ptr<Pacer<T>> pacer;
  void operator()(T value, Completion<T> done) const {
    pacer->push(std::move(value), std::move(done));
  }
};

template <class T>
class PacedRelease final : public AsyncRuntime<T, T, PacerOp<T>> {
  using Base = AsyncRuntime<T, T, PacerOp<T>>;

 public:
  PacedRelease(BuildContext& ctx, const std::string& name, tbb::flow::sender<Envelope<T>>& upstream,
               double items_per_second)
      : Base(ctx, upstream, name, "pace", PacerOp<T>{std::make_shared<Pacer<T>>(items_per_second)},
             AsyncOptions{.max_in_flight = ctx.run.max_in_flight(),
                          .ordered = false,
                          .on_cancel = {},
                          .on_error = std::nullopt},
             1) {
    auto pacer = this->op().pacer;
    ctx.run.on_cancel([pacer] { pacer->stop(); });
  }
  void finish() override {
    Base::finish();
    this->op().pacer->stop();
  }
  void release_all() { this->op().pacer->release_all(); }
};

}  // namespace sluice::detail
