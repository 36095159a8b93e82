// What happens when a user function throws or an async operation fails.
//
//   // stop at the first failure; run() rethrows it as sluice::PipelineError
//   opts.on_error = sluice::ErrorPolicy::fail_fast();
//   // skip failed items, but give up after 10
//   opts.on_error = sluice::ErrorPolicy::skip(10);
//   // skip while at most 1% of items fail (judged once 100 items were seen)
//   opts.on_error = sluice::ErrorPolicy::skip_rate(0.01);
//   // hand each failure to a callback and go on
//   opts.on_error = sluice::ErrorPolicy::dead_letter([](const sluice::Failure& f) { log(f); });
//
// The policy in RunOptions applies to the source, every stage and the sink; a stage's
// own options may override it (its budget then counts that stage's failures only).
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

namespace sluice {

/// One failed item: where, which, and why.
struct Failure {
  std::string stage;
  std::uint64_t item_index = 0;  // the item's position at the source
  std::string message;
  std::exception_ptr error;
};

class ErrorPolicy {
 public:
  enum class Kind { fail_fast, skip, dead_letter };

  static ErrorPolicy fail_fast() { return ErrorPolicy(Kind::fail_fast); }

  static ErrorPolicy skip(std::uint64_t max_failures = std::numeric_limits<std::uint64_t>::max()) {
    ErrorPolicy p(Kind::skip);
    p.max_failures_ = max_failures;
    return p;
  }

  /// Skip while failures / items seen stays at or below `max_rate`, judged once
  /// `min_items` items have reached the policy's scope.
  static ErrorPolicy skip_rate(double max_rate, std::uint64_t min_items = 100) {
    if (!(max_rate >= 0.0 && max_rate <= 1.0)) {
      throw std::invalid_argument("sluice::ErrorPolicy::skip_rate: max_rate must be in [0, 1]");
    }
    ErrorPolicy p(Kind::skip);
    p.max_rate_ = max_rate;
    p.min_items_ = min_items;
    return p;
  }

  /// Calls `sink` once per failure (serially, never concurrently) and goes on.
  /// A sink that throws turns the run into a fail-fast failure.
  static ErrorPolicy dead_letter(
      std::function<void(const Failure&)> sink,
      std::uint64_t max_failures = std::numeric_limits<std::uint64_t>::max()) {
    if (!sink) throw std::invalid_argument("sluice::ErrorPolicy::dead_letter: empty callback");
    ErrorPolicy p(Kind::dead_letter);
    p.sink_ = std::move(sink);
    p.max_failures_ = max_failures;
    return p;
  }

  Kind kind() const noexcept { return kind_; }
  std::uint64_t max_failures() const noexcept { return max_failures_; }
  double max_rate() const noexcept { return max_rate_; }
  std::uint64_t min_items() const noexcept { return min_items_; }
  const std::function<void(const Failure&)>& sink() const noexcept { return sink_; }

 private:
  explicit ErrorPolicy(Kind k) : kind_(k) {}
  Kind kind_;
  std::uint64_t max_failures_ = std::numeric_limits<std::uint64_t>::max();
  double max_rate_ = 1.0;
  std::uint64_t min_items_ = 0;
  std::function<void(const Failure&)> sink_;
};

struct Report;

/// Thrown by run() (and by a consumer's next()) when a failure stops the run.
/// what(): "stage 'parse' failed on item 41: <message>". The original exception is
/// available as cause(), and the run's Report as report().
class PipelineError : public std::runtime_error {
 public:
  PipelineError(Failure failure, std::string what, std::shared_ptr<const Report> report)
      : std::runtime_error(std::move(what)),
        failure_(std::move(failure)),
        report_(std::move(report)) {}

  const std::string& stage() const noexcept { return failure_.stage; }
  std::uint64_t item_index() const noexcept { return failure_.item_index; }
  std::exception_ptr cause() const noexcept { return failure_.error; }
  const Failure& failure() const noexcept { return failure_; }
  /// The report of the run that failed (counts add up here too).
  const Report& report() const noexcept { return *report_; }

 private:
  Failure failure_;
  std::shared_ptr<const Report> report_;
};

}  // namespace sluice
