// Report assembly: a run's figures as they are now (RunState::snapshot), and the report
// of a finished run (finish_report).
#include <string>
#include <vector>

#include "sluice/detail/run_state.hpp"
#include "sluice/detail/sink_node.hpp"

namespace sluice::detail {

Report RunState::snapshot(std::vector<RawStage>* raw, HistogramCounts* latency) const {
  Report r;
  r.threads = threads_;
  r.max_in_flight = max_in_flight_;
  r.elapsed_s =
      elapsed_s_ >= 0 ? elapsed_s_ : static_cast<double>(now_ns() - ctx_->started_ns()) / 1e9;
  // Ended counts first, then produced: an item produced meanwhile only shows as in
  // flight, never as more ended than produced.
  r.delivered = ctx_->delivered();
  r.filtered = ctx_->filtered();
  r.failed = ctx_->failed();
  r.produced = ctx_->produced();
  for (std::size_t i = 0; i < stats_.size(); ++i) {
    RawStage rs;
    StageReport sr = stats_[i]->snapshot(&rs.task, &rs.busy_ns);
    rs.usable_concurrency = stats_[i]->usable_concurrency();
    if (!feeds_[i].empty()) {
      std::uint64_t offered = 0;
      for (const StageStats* f : feeds_[i]) offered += f->out();
      sr.waiting = offered > sr.in ? offered - sr.in : 0;
    }
    r.stages.push_back(std::move(sr));
    if (raw != nullptr) raw->push_back(std::move(rs));
  }
  r.was_cancelled = ctx_->cancelled();
  if (r.was_cancelled) r.cancel_reason = ctx_->cancel_reason();
  if (elapsed_s_ >= 0) {
    std::uint64_t ended = r.delivered + r.filtered + r.failed;
    r.cancelled = r.produced > ended ? r.produced - ended : 0;
  }
  if (!ends_.empty()) {
    HistogramCounts h;
    for (const TerminalNode* end : ends_) end->delivery().latency().add_to(h);
    r.end_to_end = h.summary();
    if (latency != nullptr) *latency = std::move(h);
  }
  return r;
}

Report finish_report(RunState& state, Report report) {
  if (auto failure = state.context().stopping_failure()) {
    report.cancel_reason = failure->message;
    std::string what = failure->message;
    throw PipelineError(std::move(*failure), std::move(what),
                        std::make_shared<const Report>(report));
  }
  return report;
}

}  // namespace sluice::detail
