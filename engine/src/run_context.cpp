#include "sluice/detail/run_context.hpp"

#include "sluice/detail/clock.hpp"
#include "sluice/detail/stage_stats.hpp"

namespace sluice::detail {

namespace {
std::atomic<std::uint64_t> next_run_id{1};

// The slot the calling thread took in the run with this id.
struct ThreadSlot {
  std::uint64_t run = 0;
  int slot = -1;
};
thread_local ThreadSlot tls_slot;
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
      id_(next_run_id.fetch_add(1, std::memory_order_relaxed)) {}

RunContext::~RunContext() = default;

int RunContext::slot_index() const noexcept {
  ThreadSlot& t = tls_slot;
  if (t.run != id_) {
    std::size_t i = next_slot_.fetch_add(1, std::memory_order_relaxed);
    t.run = id_;
    t.slot = i < slots() ? static_cast<int>(i) : -1;
  }
  return t.slot;
}

void RunContext::release_slots_external(std::uint32_t weight) noexcept {
  release_slots(weight);
  notify_driver();
}

void RunContext::fail(StageStats& stage, std::uint64_t item_index, std::exception_ptr error,
                      std::uint32_t weight) noexcept {
  stage.add_failed(weight);
  const bool own_policy = stage.policy().has_value();
  const ErrorPolicy& policy = own_policy ? *stage.policy() : options_.on_error;
  std::uint64_t n = (own_policy ? stage.policy_failures() : pipeline_failures_)
                        .fetch_add(1, std::memory_order_relaxed) +
                    1;
  Failure f;
  try {
    f.stage = stage.name();
    f.item_index = item_index;
    f.message = describe(error);
    f.error = error;
  } catch (...) {
    cancel("out of memory while recording a failure");
    return;
  }
  auto where = [&] {
    return "stage '" + f.stage + "' failed on item " + std::to_string(f.item_index) + ": " +
           f.message;
  };

  try {
    if (policy.kind() == ErrorPolicy::Kind::fail_fast) {
      stop_with(f, where());
      return;
    }
    if (policy.kind() == ErrorPolicy::Kind::dead_letter) {
      std::lock_guard lock(dead_letter_mutex_);
      try {
        policy.sink()(f);
      } catch (...) {
        Failure dl = f;
        dl.error = std::current_exception();
        dl.message = "the dead-letter callback threw: " + describe(dl.error);
        stop_with(dl, "stage '" + f.stage + "' failed on item " + std::to_string(f.item_index) +
                          " and " + dl.message);
        return;
      }
    }
    if (n > policy.max_failures()) {
      stop_with(f, where() + " (" + std::to_string(n) + " failures, more than the " +
                       std::to_string(policy.max_failures()) + " allowed)");
      return;
    }
    if (policy.max_rate() < 1.0) {
      std::uint64_t seen = own_policy ? stage.in() : produced();
      if (seen >= policy.min_items() &&
          static_cast<double>(n) > policy.max_rate() * static_cast<double>(seen)) {
        stop_with(f, where() + " (" + std::to_string(n) + " failures in " + std::to_string(seen) +
                         " items, above the allowed rate " + std::to_string(policy.max_rate()) +
                         ")");
      }
    }
  } catch (...) {
    cancel("out of memory while handling a failure");
  }
}

void RunContext::stop_with(Failure failure, std::string what) noexcept {
  {
    std::lock_guard lock(mutex_);
    if (!failure_) {
      failure.message = std::move(what);
      failure_ = std::move(failure);
    }
  }
  cancel("failure");
}

std::optional<Failure> RunContext::stopping_failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

void RunContext::cancel(const std::string& reason) noexcept {
  bool expected = false;
  if (!cancelled_.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) return;
  try {
    std::lock_guard lock(mutex_);
    cancel_reason_ = reason;
  } catch (...) {
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
