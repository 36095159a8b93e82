// RunMonitor: the thread beside a run that calls on_progress every interval (with the
// figures of the interval and of the run so far) and cancels the run at its deadline.
// It starts no thread when the run asks for neither.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "sluice/detail/run_state.hpp"

namespace sluice::detail {

class RunMonitor {
 public:
  explicit RunMonitor(RunState& state) : state_(state) {
    const RunOptions& o = state.context().options();
    if (!o.deadline && !o.on_progress) return;
    thread_ = std::thread([this] { loop(); });
  }
  ~RunMonitor() { stop(); }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    using clock = std::chrono::steady_clock;
    const RunOptions& o = state_.context().options();
    auto start = clock::now();
    auto interval = std::max(o.progress_interval, std::chrono::milliseconds(1));
    auto next_tick = start + interval;
    // time_point::max() stands for "no deadline" (or one already acted on).
    auto deadline = o.deadline ? start + *o.deadline : clock::time_point::max();

    Report last;
    std::vector<RunState::RawStage> last_raw;
    HistogramCounts last_latency;
    auto last_time = start;
    std::unique_lock lock(mutex_);
    while (!stopped_) {
      auto wake = o.on_progress ? next_tick : clock::time_point::max();
      wake = std::min(wake, deadline);
      cv_.wait_until(lock, wake, [&] { return stopped_; });
      if (stopped_) break;
      auto now = clock::now();
      if (now >= deadline) {
        state_.context().cancel("deadline");
        deadline = clock::time_point::max();
      }
      if (o.on_progress && now >= next_tick) {
        next_tick += interval;
        lock.unlock();
        report_progress(last, last_raw, last_latency, last_time);
        lock.lock();
      }
    }
  }

  void report_progress(Report& last, std::vector<RunState::RawStage>& last_raw,
                       HistogramCounts& last_latency,
                       std::chrono::steady_clock::time_point& last_time) {
    try {
      Progress p;
      std::vector<RunState::RawStage> raw;
      HistogramCounts latency;
      p.total = state_.snapshot(&raw, &latency);
      auto now = std::chrono::steady_clock::now();
      p.interval = interval_of(p.total, last, raw, last_raw, latency, last_latency,
                               std::chrono::duration<double>(now - last_time).count());
      state_.context().options().on_progress(p);
      last = std::move(p.total);
      last_raw = std::move(raw);
      last_latency = std::move(latency);
      last_time = now;
    } catch (...) {
      state_.context().cancel("the progress callback threw: " + describe(std::current_exception()));
    }
  }

  Report interval_of(const Report& now, const Report& before,
                     const std::vector<RunState::RawStage>& raw,
                     const std::vector<RunState::RawStage>& before_raw,
                     const HistogramCounts& latency, const HistogramCounts& before_latency,
                     double seconds) const {
    Report r = now;
    r.produced -= std::min(r.produced, before.produced);
    r.delivered -= std::min(r.delivered, before.delivered);
    r.filtered -= std::min(r.filtered, before.filtered);
    r.failed -= std::min(r.failed, before.failed);
    r.cancelled = 0;
    r.elapsed_s = seconds;
    HistogramCounts l = latency;
    l -= before_latency;
    r.end_to_end = l.summary();
    for (std::size_t i = 0; i < r.stages.size(); ++i) {
      StageReport& s = r.stages[i];
      if (i < before.stages.size()) {
        const StageReport& b = before.stages[i];
        s.in -= std::min(s.in, b.in);
        s.out -= std::min(s.out, b.out);
        s.filtered -= std::min(s.filtered, b.filtered);
        s.failed -= std::min(s.failed, b.failed);
      }
      HistogramCounts h = raw[i].task;
      std::uint64_t busy = raw[i].busy_ns;
      if (i < before_raw.size()) {
        h -= before_raw[i].task;
        busy -= std::min(busy, before_raw[i].busy_ns);
      }
      s.task = h.summary();
      double usable = static_cast<double>(raw[i].usable_concurrency);
      s.busy_fraction =
          seconds > 0 ? std::min(1.0, static_cast<double>(busy) / (seconds * 1e9 * usable)) : 0;
    }
    return r;
  }

  RunState& state_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace sluice::detail
