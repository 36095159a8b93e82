// Per-item cost of the engine: the same pipeline of trivial bodies (1 and 4 stages)
// through sluice, a hand-wired tbb::flow graph of the same shape (input_node ->
// limiter_node -> function_nodes -> serial sink, decrementing the limiter),
// tbb::parallel_pipeline, and a plain loop. All in one process, so ratios are fair.
//
//   build/bench/engine/bench_engine --benchmark_format=json > engine.json
//
// Counters: items_per_second, and ns_per_item.
#include <benchmark/benchmark.h>

#include <atomic>
#include <ranges>

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include <sluice/sluice.hpp>

namespace {

constexpr long kItems = 200'000;
constexpr std::size_t kInFlight = 256;

// A trivial body the optimiser keeps.
inline long step(long x) noexcept {
  return x * 2654435761L + 1;
}

void finish(benchmark::State& state, long checksum) {
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(state.iterations() * kItems);
  state.counters["ns_per_item"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kItems) / 1e9,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

std::size_t threads() {
  return static_cast<std::size_t>(tbb::info::default_concurrency());
}

void BM_Sluice(benchmark::State& state) {
  const int stages = static_cast<int>(state.range(0));
  const bool light = state.range(1) != 0;
  long sum = 0;
  sluice::StageOptions opts{.concurrency = sluice::unlimited, .lightweight = light};
  auto flow = sluice::from("n", std::views::iota(0L, kItems)).map("s0", step, opts);
  for (int i = 1; i < stages; ++i) {
    std::string name = "s";
    name += std::to_string(i);
    flow = flow.map(name, step, opts);
  }
  auto p = flow.sink("sum", [&](long x) { sum += x; });
  for (auto _ : state) {
    auto r = p.run({.threads = threads(), .max_in_flight = kInFlight});
    if (r.delivered != static_cast<std::uint64_t>(kItems)) state.SkipWithError("items lost");
  }
  finish(state, sum);
}

void BM_HandWiredFlowGraph(benchmark::State& state) {
  using namespace tbb::flow;
  const int stages = static_cast<int>(state.range(0));
  tbb::task_arena arena(static_cast<int>(threads()));
  long sum = 0;
  for (auto _ : state) {
    arena.execute([&] {
      graph g;
      long next = 0;
      input_node<long> src(g, [&](tbb::flow_control& fc) -> long {
        if (next == kItems) {
          fc.stop();
          return 0;
        }
        return next++;
      });
      limiter_node<long, long> limiter(g, kInFlight);
      std::vector<std::unique_ptr<function_node<long, long>>> fns;
      for (int i = 0; i < stages; ++i) {
        fns.push_back(std::make_unique<function_node<long, long>>(g, unlimited,
                                                                  [](long x) { return step(x); }));
      }
      function_node<long, long> sink(g, serial, [&](long x) {
        sum += x;
        return 1L;
      });
      make_edge(src, limiter);
      make_edge(limiter, *fns[0]);
      for (int i = 1; i < stages; ++i)
        make_edge(*fns[static_cast<std::size_t>(i - 1)], *fns[static_cast<std::size_t>(i)]);
      make_edge(*fns.back(), sink);
      make_edge(sink, limiter.decrementer());
      src.activate();
      g.wait_for_all();
    });
  }
  finish(state, sum);
}

void BM_ParallelPipeline(benchmark::State& state) {
  const int stages = static_cast<int>(state.range(0));
  tbb::task_arena arena(static_cast<int>(threads()));
  long sum = 0;
  for (auto _ : state) {
    arena.execute([&] {
      long next = 0;
      auto f = tbb::make_filter<void, long>(tbb::filter_mode::serial_in_order,
                                            [&](tbb::flow_control& fc) -> long {
                                              if (next == kItems) {
                                                fc.stop();
                                                return 0;
                                              }
                                              return next++;
                                            });
      auto chain = f & tbb::make_filter<long, long>(tbb::filter_mode::parallel,
                                                    [](long x) { return step(x); });
      for (int i = 1; i < stages; ++i) {
        chain = chain & tbb::make_filter<long, long>(tbb::filter_mode::parallel,
                                                     [](long x) { return step(x); });
      }
      tbb::parallel_pipeline(
          kInFlight, chain & tbb::make_filter<long, void>(tbb::filter_mode::serial_out_of_order,
                                                          [&](long x) { sum += x; }));
    });
  }
  finish(state, sum);
}

void BM_PlainLoop(benchmark::State& state) {
  const int stages = static_cast<int>(state.range(0));
  long sum = 0;
  for (auto _ : state) {
    for (long i = 0; i < kItems; ++i) {
      long x = i;
      for (int s = 0; s < stages; ++s) x = step(x);
      benchmark::DoNotOptimize(x);
      sum += x;
    }
  }
  finish(state, sum);
}

// Second argument: 1 runs the stages with the lightweight policy.
BENCHMARK(BM_Sluice)
    ->Args({1, 0})
    ->Args({4, 0})
    ->Args({1, 1})
    ->Args({4, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_HandWiredFlowGraph)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ParallelPipeline)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PlainLoop)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
