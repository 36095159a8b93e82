// PortCore: the engine's side of a custom stage's port (sluice/stage_api.hpp). Tickets
// and groups keep it alive, so one that outlives its run finds it closed and does
// nothing, rather than reaching a run that is gone.
//
// Calls may come from the stage's own bodies (inside the graph) or from any other thread
// (a timer, an I/O thread). From outside, whatever is put into the graph is put under a
// graph wait and the driver is told, as for every thread that puts work into a graph
// (see RunState::drive): otherwise it could find the graph idle, every item ended but
// the one on its way, and end the run under it.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

#include <oneapi/tbb/flow_graph.h>

#include "sluice/detail/clock.hpp"
#include "sluice/detail/envelope.hpp"
#include "sluice/detail/run_context.hpp"
#include "sluice/detail/stage_stats.hpp"

namespace sluice::detail {

/// What a custom stage's async_node emits: an output, and the source items whose
/// outcome it carries (a group's, counted delivered as it leaves the stage).
template <class Out>
struct CustomMessage {
  Envelope<Out> envelope{};
  std::uint64_t settles = 0;
};

/// Where a port puts its outputs: the custom stage's async_node gateway. (Its type
/// depends on the output type only; tbb names it only through an async_node.)
template <class Out>
struct OutputSink {
  using Gateway = typename tbb::flow::async_node<EnvelopeMeta, CustomMessage<Out>>::gateway_type;
  Gateway* gateway = nullptr;
};

class PortCore {
 public:
  PortCore(RunContext& run, StageStats& stats, std::string stage) noexcept
      : run_(run), stats_(stats), stage_(std::move(stage)) {}

  /// Marks the calling thread as running one of this stage's bodies for its scope.
  class InBody {
   public:
    explicit InBody(const PortCore& core) noexcept : saved_(current_) { current_ = &core; }
    ~InBody() { current_ = saved_; }
    InBody(const InBody&) = delete;
    InBody& operator=(const InBody&) = delete;

   private:
    const PortCore* saved_;
  };

  bool cancelled() const noexcept { return closed() || run_.cancelled(); }
  std::int64_t started_ns() const noexcept { return run_.started_ns(); }
  /// The run is over: tickets ending from now on do nothing.
  void close() noexcept { closed_.store(true, std::memory_order_release); }

  /// Puts `value` out as an output standing for `meta` (and for `settles` items of a
  /// group). If the value cannot be stored, the item fails instead.
  template <class Out>
  void emit(OutputSink<Out>& sink, EnvelopeMeta meta, Out&& value, std::uint64_t settles) {
    if (cancelled()) return;  // its items count as cancelled
    CustomMessage<Out> m;
    static_cast<EnvelopeMeta&>(m.envelope) = std::move(meta);
    m.settles = settles;
    try {
      m.envelope.value.emplace(std::move(value));
    } catch (...) {
      if (settles != 0) {
        fail_group(m.envelope.index, settles, std::current_exception());
      } else {
        fail(m.envelope, std::current_exception());
      }
      return;
    }
    m.envelope.seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
    stats_.add_out(1);
    if (inside()) {
      sink.gateway->try_put(m);
      return;
    }
    sink.gateway->reserve_wait();
    sink.gateway->try_put(m);
    run_.notify_driver();  // before the wait is let go: after it the run may end
    sink.gateway->release_wait();
  }

  /// Folds a ticket into a group: its slot goes back now. Returns the source items whose
  /// outcome now waits for the group's (a tee's copy is delivered here: its siblings
  /// decide its item's outcome).
  std::uint64_t fold(EnvelopeMeta& m) noexcept {
    if (closed()) return 0;
    std::uint64_t waits = 0;
    if (m.split) {
      m.weight = 0;
      m.outcome = Fate::delivered;
    } else {
      waits = m.weight;
    }
    run_.end(m);
    ended();
    return waits;
  }
  void filter(EnvelopeMeta& m) noexcept {
    if (closed()) return;
    run_.filter(stats_, m);
    run_.end(m);
    ended();
  }
  void fail(EnvelopeMeta& m, std::exception_ptr error) noexcept {
    if (closed()) return;
    run_.fail(stats_, m, std::move(error));
    run_.end(m);
    ended();
  }
  void fail_group(std::uint64_t index, std::uint64_t items, std::exception_ptr error) noexcept {
    if (closed() || items == 0) return;
    run_.fail(stats_, index, std::move(error), clamp_weight(items));
    ended();
  }
  /// A ticket destroyed without an outcome: a bug in the stage, failed so that it shows.
  void dropped(EnvelopeMeta& m) noexcept {
    if (closed()) return;
    if (run_.cancelled()) {
      run_.end(m);  // a cancelled run's items need no outcome
      ended();
      return;
    }
    fail(m, dropped_error(m.index, "item"));
  }
  void dropped_group(std::uint64_t index, std::uint64_t items) noexcept {
    if (closed() || run_.cancelled()) return;
    fail_group(index, items, dropped_error(index, "group of items starting with item"));
  }

 private:
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }
  bool inside() const noexcept { return current_ == this; }
  /// A slot given back from outside the graph lets the source go on: the driver waits
  /// for that work.
  void ended() noexcept {
    if (!inside()) run_.notify_driver();
  }
  std::exception_ptr dropped_error(std::uint64_t index, const char* what) const noexcept {
    try {
      return std::make_exception_ptr(std::logic_error(
          "custom stage '" + stage_ + "' dropped " + what + " " + std::to_string(index) +
          " without an outcome (end every ticket with emit, filter, fail or an ItemGroup)"));
    } catch (...) {
      return std::current_exception();
    }
  }
  static std::uint32_t clamp_weight(std::uint64_t items) noexcept {
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(items, UINT32_MAX));
  }

  static inline thread_local const PortCore* current_ = nullptr;

  RunContext& run_;
  StageStats& stats_;
  std::string stage_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> next_seq_{0};
};

struct TicketAccess;

}  // namespace sluice::detail
