// RunContext: the state one run shares between its nodes, its driver and the threads
// that complete asynchronous work: outcome counts, the limiter's decrement port,
// failure handling, cancellation, and the wake-ups of the driver.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <oneapi/tbb/flow_graph.h>

#include "sluice/detail/split.hpp"
#include "sluice/detail/thread_slot.hpp"
#include "sluice/error_policy.hpp"
#include "sluice/options.hpp"

namespace sluice::detail {

class StageStats;

/// Marks the body of a lightweight node for as long as it runs. Such a body runs inside
/// the call of the node that hands it an item, and a source's limiter_node hands items
/// on with its list of successors locked: giving slots back to that limiter from there
/// would make it look at its successors again and spin on its own lock for ever. Slots
/// given back inside such a body go to the limiter through a task instead
/// (RunContext::release_slots).
class InlineBody {
 public:
  InlineBody() noexcept { ++depth_; }
  ~InlineBody() { --depth_; }
  InlineBody(const InlineBody&) = delete;
  InlineBody& operator=(const InlineBody&) = delete;
  static bool active() noexcept { return depth_ != 0; }

 private:
  static inline thread_local int depth_ = 0;
};

class RunContext {
 public:
  RunContext(const RunOptions& options, std::size_t threads, std::size_t max_in_flight);
  ~RunContext();
  RunContext(const RunContext&) = delete;
  RunContext& operator=(const RunContext&) = delete;

  const RunOptions& options() const noexcept { return options_; }
  std::size_t threads() const noexcept { return threads_; }
  std::size_t max_in_flight() const noexcept { return max_in_flight_; }
  std::int64_t started_ns() const noexcept { return started_ns_; }

  /// Set while the graph is built.
  void attach(tbb::flow::graph& g) noexcept { graph_ = &g; }
  /// A source's limiter: its decrement port, a port that reaches it through a task of
  /// its own (for slots given back inside an InlineBody), and the origin its items carry.
  std::uint16_t add_limiter(tbb::flow::receiver<long>* decrement,
                            tbb::flow::receiver<long>* decrement_later);
  /// Where an end connects an edge carrying the slots of the first source's plain items
  /// (the common case of one source), so tbb can forward them without a spawn.
  tbb::flow::receiver<long>& decrement_port() noexcept { return *limiters_.front().now; }
  std::size_t sources() const noexcept { return limiters_.size(); }

  /// The calling thread's own statistics slot in this run, or -1 when all are taken
  /// (then it shares one). A slot belongs to one thread for the whole run, so its
  /// counters have a single writer.
  int slot_index() const noexcept;
  std::uint64_t id() const noexcept { return id_; }
  std::size_t slots() const noexcept { return threads_ + kSpareSlots; }

  // ---- outcomes (in source items) ----
  void count_produced(std::uint64_t w) noexcept { add(&Counts::produced, w); }
  /// Items delivered that were never a tee's copies (a window's members, say).
  void count_delivered(std::uint64_t w) noexcept { add(&Counts::delivered, w); }
  std::uint64_t produced() const noexcept { return sum(&Counts::produced); }
  std::uint64_t delivered() const noexcept { return sum(&Counts::delivered); }
  std::uint64_t filtered() const noexcept { return sum(&Counts::filtered); }
  std::uint64_t failed() const noexcept { return sum(&Counts::failed); }

  /// Records that `e` ended with `o` (a placeholder keeps it, for where it ends): counted
  /// now for a plain item, when its last sibling ends for a tee's copy.
  void decide(EnvelopeMeta& e, Fate o) noexcept;
  /// A join took the outcome of the item whose copies `s` holds, from one copy that
  /// cannot be joined (filtered or failed in its branch): the other copies no longer
  /// count. Returns the item's outcome (failed if a copy failed already).
  Fate settle_early(Split& s, Fate o) noexcept;
  /// `e` reached an end that takes it (a sink, the consumer): count it delivered. A
  /// tee's copy is counted when its last sibling ends (see end()).
  void deliver(EnvelopeMeta& e) noexcept { decide(e, Fate::delivered); }
  /// A stage dropped `e` on purpose: count it, and mark it so (it travels on as a
  /// placeholder).
  void filter(StageStats& stage, EnvelopeMeta& e) noexcept;
  /// `e` ends here, with the outcome it carries: its slots go back (a copy's, once its
  /// last sibling ends). Every envelope ends exactly once, wherever it stops travelling.
  void end(const EnvelopeMeta& e) noexcept {
    if (!e.split) {
      release_slots(e.origin, e.weight);
    } else {
      end_copy(*e.split, e.outcome);
    }
  }
  /// The same, from a thread outside the graph: the driver is woken to wait for the
  /// work this lets in.
  void end_external(const EnvelopeMeta& e) noexcept;
  /// Gives `weight` slots back to the limiter of source `origin`.
  void release_slots(std::uint16_t origin, std::uint32_t weight) noexcept {
    if (weight != 0 && origin < limiters_.size()) {
      const LimiterPorts& ports = limiters_[origin];
      (InlineBody::active() ? ports.later : ports.now)->try_put(static_cast<long>(weight));
    }
  }

  // ---- failures ----
  /// A user function failed on `e` in `stage`: count it, mark it (it travels on as a
  /// placeholder) and apply the policy (which may cancel the run).
  void fail(StageStats& stage, EnvelopeMeta& e, std::exception_ptr error) noexcept;
  /// A failure of `weight` source items that no envelope carries (a source's pull, a
  /// window's reduce).
  void fail(StageStats& stage, std::uint64_t item_index, std::exception_ptr error,
            std::uint32_t weight) noexcept;
  /// A stage failed outside any item (it could not start, say): the run stops with the
  /// error, whatever the policy, naming the stage and `when`.
  void stop(StageStats& stage, std::exception_ptr error, const std::string& when) noexcept;
  /// The failure that stopped the run, if one did.
  std::optional<Failure> stopping_failure() const;

  // ---- cancellation ----
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }
  /// Cancels the run (first reason wins). Safe from any thread, any number of times.
  void cancel(const std::string& reason) noexcept;
  std::string cancel_reason() const;
  /// Called once on cancel, in registration order. Registered while building only.
  void on_cancel(std::function<void()> hook) { cancel_hooks_.push_back(std::move(hook)); }

  // ---- the driver ----
  /// Source `origin` has no more items. The driver is told: it may be asleep with nothing
  /// in the graph, waiting for this to look whether the run has ended.
  void mark_source_done(std::uint16_t origin) noexcept {
    if (origin < done_.size() && !done_[origin].exchange(true, std::memory_order_acq_rel)) {
      sources_done_.fetch_add(1, std::memory_order_acq_rel);
    }
    notify_driver();
  }
  /// Every source has no more items: the end of input that flush() acts on. (While one
  /// source of several goes on, its items may still fill a batch or find a partner.)
  bool source_done() const noexcept {
    return sources_done_.load(std::memory_order_acquire) >= limiters_.size();
  }
  /// Asynchronous operations started and not yet back in the graph (every async stage's).
  /// They hold no graph wait, so the graph can be idle while this is not zero: the
  /// driver flushes the end of input only once it is.
  void operation_started() noexcept { operations_.fetch_add(1, std::memory_order_relaxed); }
  void operations_settled(std::uint64_t n) noexcept {
    operations_.fetch_sub(n, std::memory_order_release);
  }
  std::uint64_t operations_in_flight() const noexcept {
    return operations_.load(std::memory_order_acquire);
  }
  /// Something outside the graph put work into it or changed what the driver waits for.
  void notify_driver() noexcept;
  std::uint64_t epoch() const noexcept { return epoch_.load(std::memory_order_acquire); }
  /// Blocks until epoch() != seen or the run is cancelled.
  void wait_for_change(std::uint64_t seen);

 private:
  static constexpr std::size_t kSpareSlots = 4;  // for threads outside the arena
  void stop_with(Failure failure, std::string what) noexcept;
  void apply_policy(StageStats& stage, std::uint64_t item_index, std::exception_ptr error) noexcept;
  void count(Fate o, std::uint64_t w) noexcept;
  void mark_failed(Split& s) noexcept;
  void end_copy(Split& s, Fate o) noexcept;

  RunOptions options_;
  std::size_t threads_;
  std::size_t max_in_flight_;
  std::int64_t started_ns_;
  tbb::flow::graph* graph_ = nullptr;
  // A source's limiter, as add_limiter() was given its two ports.
  struct LimiterPorts {
    tbb::flow::receiver<long>* now;
    tbb::flow::receiver<long>* later;
  };
  std::vector<LimiterPorts> limiters_;  // one per source, indexed by origin
  std::uint64_t id_;
  mutable std::atomic<std::size_t> next_slot_{0};

  // The run's outcome counts. The source and the ends write them on every item, from
  // any thread: each thread adds to its own slot's line (a single writer, no atomic
  // read-modify-write, no line bouncing between cores), and readers add the slots up.
  struct alignas(64) Counts {
    std::atomic<std::uint64_t> produced{0};
    std::atomic<std::uint64_t> delivered{0};
    std::atomic<std::uint64_t> filtered{0};
    std::atomic<std::uint64_t> failed{0};
  };
  using CountField = std::atomic<std::uint64_t> Counts::*;
  void add(CountField field, std::uint64_t w) noexcept {
    const int i = slot_in_run(id_, [this]() noexcept { return slot_index(); });
    if (i >= 0) {
      auto& c = counts_[static_cast<std::size_t>(i)].*field;
      c.store(c.load(std::memory_order_relaxed) + w, std::memory_order_relaxed);
    } else {
      (shared_counts_.*field).fetch_add(w, std::memory_order_relaxed);
    }
  }
  std::uint64_t sum(CountField field) const noexcept {
    std::uint64_t n = (shared_counts_.*field).load(std::memory_order_acquire);
    for (std::size_t i = 0; i < slots(); ++i)
      n += (counts_[i].*field).load(std::memory_order_acquire);
    return n;
  }
  std::unique_ptr<Counts[]> counts_;  // by thread slot
  Counts shared_counts_;              // threads without a slot
  alignas(64) std::atomic<std::uint64_t> pipeline_failures_{0};
  alignas(64) std::atomic<std::uint64_t> operations_{0};

  std::atomic<bool> cancelled_{false};
  std::deque<std::atomic<bool>> done_;  // by origin: that source has ended
  std::atomic<std::size_t> sources_done_{0};
  std::vector<std::function<void()>> cancel_hooks_;

  mutable std::mutex mutex_;  // guards the fields below
  std::string cancel_reason_;
  std::optional<Failure> failure_;
  std::mutex dead_letter_mutex_;

  std::atomic<std::uint64_t> epoch_{0};
  std::condition_variable driver_cv_;
};

/// The message of an exception, for reports: what() or a placeholder.
std::string describe(const std::exception_ptr& e);

}  // namespace sluice::detail
