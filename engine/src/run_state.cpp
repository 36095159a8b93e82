#include "sluice/detail/run_state.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include <oneapi/tbb/info.h>

#include "sluice/detail/clock.hpp"
#include "sluice/detail/sink_node.hpp"

namespace sluice::detail {

namespace {

std::size_t choose_threads(const RunOptions& o) {
  return o.threads != 0 ? o.threads : static_cast<std::size_t>(tbb::info::default_concurrency());
}

std::size_t choose_max_in_flight(const PipelineSpec& spec, const RunOptions& o) {
  std::size_t required = spec.required_in_flight();
  if (o.max_in_flight == 0)
    return std::max<std::size_t>({256, 2 * required, spec.useful_in_flight()});
  if (o.max_in_flight < required) {
    throw std::invalid_argument(
        "sluice: max_in_flight " + std::to_string(o.max_in_flight) + " is smaller than the " +
        std::to_string(required) +
        " items the pipeline needs (its batches to fill, its keyed joins to keep their "
        "unmatched items waiting and still let one through); raise max_in_flight to at least "
        "that");
  }
  return o.max_in_flight;
}

}  // namespace

// Calls on_progress every interval and cancels at the deadline, from its own thread.
class RunState::Monitor {
 public:
  explicit Monitor(RunState& state) : state_(state) {
    const RunOptions& o = state.ctx_->options();
    if (!o.deadline && !o.on_progress) return;
    thread_ = std::thread([this] { loop(); });
  }
  ~Monitor() { stop(); }

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
    const RunOptions& o = state_.ctx_->options();
    auto start = clock::now();
    auto interval = std::max(o.progress_interval, std::chrono::milliseconds(1));
    auto next_tick = start + interval;
    // time_point::max() stands for "no deadline" (or one already acted on).
    auto deadline = o.deadline ? start + *o.deadline : clock::time_point::max();

    Report last;
    std::vector<RawStage> last_raw;
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
        state_.ctx_->cancel("deadline");
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

  void report_progress(Report& last, std::vector<RawStage>& last_raw, HistogramCounts& last_latency,
                       std::chrono::steady_clock::time_point& last_time) {
    try {
      Progress p;
      std::vector<RawStage> raw;
      HistogramCounts latency;
      p.total = state_.snapshot(&raw, &latency);
      auto now = std::chrono::steady_clock::now();
      p.interval = interval_of(p.total, last, raw, last_raw, latency, last_latency,
                               std::chrono::duration<double>(now - last_time).count());
      state_.ctx_->options().on_progress(p);
      last = std::move(p.total);
      last_raw = std::move(raw);
      last_latency = std::move(latency);
      last_time = now;
    } catch (...) {
      state_.ctx_->cancel("the progress callback threw: " + describe(std::current_exception()));
    }
  }

  static LatencySummary summary_of(const HistogramCounts& h) {
    return LatencySummary{h.count(), h.mean() / 1e3, h.quantile(0.5) / 1e3, h.quantile(0.99) / 1e3,
                          h.max() / 1e3};
  }

  Report interval_of(const Report& now, const Report& before, const std::vector<RawStage>& raw,
                     const std::vector<RawStage>& before_raw, const HistogramCounts& latency,
                     const HistogramCounts& before_latency, double seconds) const {
    Report r = now;
    r.produced -= std::min(r.produced, before.produced);
    r.delivered -= std::min(r.delivered, before.delivered);
    r.filtered -= std::min(r.filtered, before.filtered);
    r.failed -= std::min(r.failed, before.failed);
    r.cancelled = 0;
    r.elapsed_s = seconds;
    HistogramCounts l = latency;
    l -= before_latency;
    r.end_to_end = summary_of(l);
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
      s.task = summary_of(h);
      double usable = static_cast<double>(state_.stats_[i]->usable_concurrency());
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

RunState::RunState(std::shared_ptr<const PipelineSpec> spec, const RunOptions& options)
    : spec_(std::move(spec)) {
  const auto& nodes = spec_->nodes();
  spec_->check_complete();
  threads_ = choose_threads(options);
  max_in_flight_ = choose_max_in_flight(*spec_, options);
  if (max_in_flight_ > static_cast<std::size_t>(std::numeric_limits<long>::max())) {
    throw std::invalid_argument("sluice: max_in_flight is too large");
  }
  // More threads than cores (blocking bodies) needs the scheduler's limit raised too.
  if (threads_ > static_cast<std::size_t>(tbb::info::default_concurrency())) {
    parallelism_.emplace(tbb::global_control::max_allowed_parallelism, threads_);
  }
  // The driver sleeps whenever the graph is idle with operations in flight (see drive),
  // so no slot is kept for it where the scheduler has workers enough to fill them all;
  // asking for more workers than it has would only make oneTBB print a warning. One slot
  // is always left to a worker, so that a completion's work can start before the driver
  // it wakes has come back into the arena (oneTBB lends a worker to an arena whose slots
  // are not all reserved, even under a process-wide limit of one thread).
  const auto workers = static_cast<std::size_t>(
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism) - 1);
  const std::size_t reserved = threads_ > workers ? std::min(threads_ - workers, threads_ - 1) : 0;
  arena_ = std::make_unique<tbb::task_arena>(static_cast<int>(threads_),
                                             static_cast<unsigned>(reserved));
  ctx_ = std::make_unique<RunContext>(options, threads_, max_in_flight_);
  // The graph attaches to the arena it is created in.
  arena_->execute([&] {
    graph_ = std::make_unique<tbb::flow::graph>();
    ctx_->attach(*graph_);
    BuildContext build{*graph_, *ctx_, {}};
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      build.inputs = spec_->inputs(i);
      nodes_.push_back(nodes[i]->build(build));
      build.built.push_back(nodes_.back().get());
    }
  });
  collect_stats();
}

void RunState::collect_stats() {
  // The stats a node's items come from: its inputs' last stats, through pieces that
  // keep no figures of their own.
  std::vector<std::vector<const StageStats*>> last(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    std::vector<const StageStats*> from;
    for (std::size_t u : spec_->inputs(i)) from.insert(from.end(), last[u].begin(), last[u].end());
    std::vector<StageStats*> own;
    nodes_[i]->collect_stats(own);
    for (StageStats* s : own) {
      stats_.push_back(s);
      feeds_.push_back(from);  // empty for a source
      from = {s};
    }
    // A branch takes in a share of what its tee or route takes in: not known here.
    if (spec_->nodes()[i]->has_branches()) from.clear();
    last[i] = std::move(from);
    if (const auto* end = dynamic_cast<const TerminalNode*>(nodes_[i].get())) ends_.push_back(end);
  }
}

RuntimeNode& RunState::consumer_end() {
  const auto& nodes = spec_->nodes();
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i]->is_consumer()) return *nodes_[i];
  }
  throw std::logic_error("sluice: this graph has no consumer loop");
}

RunState::~RunState() {
  if (graph_) {
    ctx_->cancel("cancelled");
    try {
      wait_graph();
    } catch (...) {
    }
    for (auto& n : nodes_) n->finish();
    arena_->execute([&] {
      nodes_.clear();
      graph_.reset();
    });
  }
}

void RunState::wait_graph() {
  try {
    arena_->execute([&] { graph_->wait_for_all(); });
  } catch (...) {
    // Bodies are noexcept; what reaches here came from the runtime itself.
    ctx_->cancel("internal error: " + describe(std::current_exception()));
  }
}

std::uint64_t RunState::ended() const noexcept {
  return ctx_->delivered() + ctx_->filtered() + ctx_->failed();
}

Report RunState::drive() {
  RunContext& ctx = *ctx_;
  std::optional<std::stop_callback<std::function<void()>>> on_stop;
  if (ctx.options().stop.stop_possible()) {
    on_stop.emplace(ctx.options().stop, std::function<void()>([&ctx] { ctx.cancel("cancelled"); }));
  }
  Monitor monitor(*this);
  arena_->execute([&] {
    for (auto& n : nodes_) n->activate();
  });
  for (;;) {
    std::uint64_t seen = ctx.epoch();
    wait_graph();
    if (ctx.cancelled()) break;
    if (ctx.epoch() != seen) continue;  // work was put in from outside meanwhile
    // Flushing ends the input of batches and windows: not while an operation may still
    // bring them an item.
    if (ctx.source_done() && ctx.operations_in_flight() == 0) {
      bool flushed = false;
      arena_->execute([&] {
        for (auto& n : nodes_) {
          if (n->flush()) {
            flushed = true;
            break;
          }
        }
      });
      if (flushed) continue;
      if (ended() >= ctx.produced()) break;
    }
    ctx.wait_for_change(seen);
  }
  monitor.stop();
  for (auto& n : nodes_) n->finish();
  elapsed_s_ = static_cast<double>(now_ns() - ctx.started_ns()) / 1e9;
  return snapshot();
}

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
    r.end_to_end = LatencySummary{h.count(), h.mean() / 1e3, h.quantile(0.5) / 1e3,
                                  h.quantile(0.99) / 1e3, h.max() / 1e3};
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
