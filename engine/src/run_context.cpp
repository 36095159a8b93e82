#include "sluice/detail/run_context.hpp"

#include "sluice/detail/clock.hpp"
#include "sluice/detail/stage_stats.hpp"
#include "sluice/detail/thread_slot.hpp"

namespace sluice::detail {

namespace {
std::atomic<std::uint64_t> next_run_id{1};
}  // namespace

std::string describe(const std::exception_ptr& e) {
  if (!e) return "unknown failure";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "a non-standard exception";
  }
}

RunContext::RunContext(const RunOptions& options, std::size_t threads, std::size_t max_in_flight)
    : options_(options),
      threads_(threads),
      max_in_flight_(max_in_flight),
      started_ns_(now_ns()),
      id_(next_run_id.fetch_add(1, std::memory_order_relaxed)),
      counts_(std::make_unique<Counts[]>(threads + kSpareSlots)) {}

RunContext::~RunContext() = default;

int RunContext::slot_index() const noexcept {
  ThreadSlot& t = this_thread_slot;
  if (t.run != id_) {
    std::size_t i = next_slot_.fetch_add(1, std::memory_order_relaxed);
    t.run = id_;
    t.slot = i < slots() ? static_cast<int>(i) : -1;
  }
  return t.slot;
}

std::uint16_t RunContext::add_limiter(tbb::flow::receiver<long>* decrement,
                                      tbb::flow::receiver<long>* decrement_later) {
  if (limiters_.size() >= 0xffff) throw std::length_error("sluice: too many sources");
  limiters_.push_back({decrement, decrement_later});
  done_.emplace_back(false);
  return static_cast<std::uint16_t>(limiters_.size() - 1);
}

void RunContext::end_external(const EnvelopeMeta& e) noexcept {
  end(e);
  notify_driver();
}

void RunContext::count(Fate o, std::uint64_t w) noexcept {
  switch (o) {
    case Fate::delivered:
      add(&Counts::delivered, w);
      break;
    case Fate::filtered:
      add(&Counts::filtered, w);
      break;
    case Fate::failed:
      add(&Counts::failed, w);
      break;
    case Fate::none:
      break;  // dropped by a cancel: counted as cancelled at the end
  }
}

void RunContext::decide(EnvelopeMeta& e, Fate o) noexcept {
  e.outcome = o;  // a copy's end carries it to its split
  if (!e.split) {
    count(o, e.weight);
  } else if (o == Fate::failed) {
    // Failed is the strongest outcome: the item is failed now, whatever its other
    // copies do, and a failure stopping the run finds it counted.
    mark_failed(*e.split);
  }
}

void RunContext::mark_failed(Split& s) noexcept {
  const auto bit = static_cast<std::uint8_t>(Fate::failed);
  if ((s.outcomes.fetch_or(bit, std::memory_order_acq_rel) & (bit | kSettled)) != 0) return;
  if (s.weight != 0) count(Fate::failed, s.weight);
  for (const auto& p : s.parents) mark_failed(*p);
}

Fate RunContext::settle_early(Split& s, Fate o) noexcept {
  const std::uint8_t before = s.outcomes.fetch_or(kSettled, std::memory_order_acq_rel);
  return (before & static_cast<std::uint8_t>(Fate::failed)) != 0 ? Fate::failed : o;
}

void RunContext::end_copy(Split& s, Fate o) noexcept {
  s.outcomes.fetch_or(static_cast<std::uint8_t>(o), std::memory_order_acq_rel);
  if (s.alive.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  const Fate item = strongest(s.outcomes.load(std::memory_order_acquire));
  for (const auto& p : s.parents) end_copy(*p, item);
  if (s.weight != 0) {
    if (item != Fate::failed) count(item, s.weight);  // failed was counted when marked
    release_slots(s.origin, s.weight);
  }
}

void RunContext::filter(StageStats& stage, EnvelopeMeta& e) noexcept {
  stage.add_filtered(e.weight);
  decide(e, Fate::filtered);
}

void RunContext::cancel(const std::string& reason) noexcept {
  {
    // The reason is written before the flag is raised, under the lock that
    // cancel_reason() takes: whoever sees the run cancelled finds its reason.
    std::lock_guard lock(mutex_);
    if (cancelled_.load(std::memory_order_relaxed)) return;
    try {
      cancel_reason_ = reason;
    } catch (...) {
    }
    cancelled_.store(true, std::memory_order_release);
  }
  if (graph_ != nullptr) graph_->cancel();
  for (auto& hook : cancel_hooks_) {
    try {
      hook();
    } catch (...) {
      // A hook that throws must not stop the others from releasing their waits.
    }
  }
  notify_driver();
}

std::string RunContext::cancel_reason() const {
  std::lock_guard lock(mutex_);
  return cancel_reason_;
}

void RunContext::notify_driver() noexcept {
  {
    std::lock_guard lock(mutex_);
    epoch_.fetch_add(1, std::memory_order_acq_rel);
  }
  driver_cv_.notify_all();
}

void RunContext::wait_for_change(std::uint64_t seen) {
  std::unique_lock lock(mutex_);
  driver_cv_.wait(lock,
                  [&] { return epoch_.load(std::memory_order_acquire) != seen || cancelled(); });
}

}  // namespace sluice::detail
