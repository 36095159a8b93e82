// RunContext's failure handling: counting a failed item, applying the stage's or the
// run's error policy (skip, dead letter, fail fast, budgets), and the failure that
// stopped the run.
#include <string>

#include "sluice/detail/run_context.hpp"
#include "sluice/detail/stage_stats.hpp"

namespace sluice::detail {

void RunContext::fail(StageStats& stage, EnvelopeMeta& e, std::exception_ptr error) noexcept {
  stage.add_failed(e.weight);
  decide(e, Fate::failed);
  apply_policy(stage, e.index, std::move(error));
}

void RunContext::fail(StageStats& stage, std::uint64_t item_index, std::exception_ptr error,
                      std::uint32_t weight) noexcept {
  stage.add_failed(weight);
  count(Fate::failed, weight);
  apply_policy(stage, item_index, std::move(error));
}

void RunContext::stop(StageStats& stage, std::exception_ptr error,
                      const std::string& when) noexcept {
  try {
    Failure f;
    f.stage = stage.name();
    f.message = describe(error);
    f.error = std::move(error);
    std::string what = "stage '" + f.stage + "' failed in " + when + ": " + f.message;
    stop_with(std::move(f), std::move(what));
  } catch (...) {
    cancel("out of memory while recording a failure");
  }
}

void RunContext::apply_policy(StageStats& stage, std::uint64_t item_index,
                              std::exception_ptr error) noexcept {
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

}  // namespace sluice::detail
