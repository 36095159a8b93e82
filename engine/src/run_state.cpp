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

#include "run_monitor.hpp"

namespace sluice::detail {

namespace {

std::size_t choose_threads(const RunOptions& o) {
  if (o.arena != nullptr) {
    o.arena->initialize();
    const auto given = static_cast<std::size_t>(o.arena->max_concurrency());
    if (o.threads != 0 && o.threads != given) {
      throw std::invalid_argument("sluice: RunOptions asks for " + std::to_string(o.threads) +
                                  " threads and gives an arena of " + std::to_string(given) +
                                  "; set threads to 0 (or to the arena's size)");
    }
    return given;
  }
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
  if (options.arena == nullptr &&
      threads_ > static_cast<std::size_t>(tbb::info::default_concurrency())) {
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
  if (options.arena != nullptr) {
    arena_ = options.arena;  // the caller's: its threads are not rebuilt for every run
  } else {
    own_arena_ = std::make_unique<tbb::task_arena>(static_cast<int>(threads_),
                                                   static_cast<unsigned>(reserved));
    arena_ = own_arena_.get();
  }
  ctx_ = std::make_unique<RunContext>(options, threads_, max_in_flight_);
  // The graph attaches to the arena it is created in.
  arena_->execute([&] {
    graph_ = std::make_unique<tbb::flow::graph>();
    ctx_->attach(*graph_);
    BuildContext build{*graph_, *ctx_, {}};
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      build.inputs = spec_->inputs(i);
      build.sequence_read = spec_->sequence_read_after(i);
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
  RunMonitor monitor(*this);
  // Last node first: nodes_ are in graph order, so every stage has started (a custom
  // stage's on_start has run) before a source pulls the first item towards it.
  arena_->execute([&] {
    for (auto n = nodes_.rbegin(); n != nodes_.rend(); ++n) (*n)->activate();
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

}  // namespace sluice::detail
