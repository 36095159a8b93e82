// Per-item cost of graphs: a diamond (source -> tee -> two maps -> join -> sink) and a
// route-then-merge (source -> route by parity -> a map per branch -> merge -> sink), of
// trivial bodies, through sluice and the same graphs hand-wired in tbb::flow
// (broadcast_node, join_node with tag matching, multifunction_node ports, limiter_node),
// in one process. Target: sluice <= 1.2x the hand-wired time per item.
//
// The *_Paired benchmarks run the two in turns within each iteration and report the
// ratio of their times: the figure to read on a shared machine.
//
//   build-release/bench/engine/bench_engine --benchmark_filter=Graph
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <ranges>
#include <tuple>

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>

#include <sluice/sluice.hpp>

namespace {

constexpr long kGraphItems = 200'000;
constexpr std::size_t kGraphInFlight = 256;

inline long twist(long x) noexcept {
  return x * 2654435761L + 1;
}

std::size_t arena_threads() {
  return static_cast<std::size_t>(tbb::info::default_concurrency());
}

void finish_graph(benchmark::State& state, long checksum) {
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(state.iterations() * kGraphItems);
  state.counters["ns_per_item"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kGraphItems) / 1e9,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

sluice::Pipeline diamond_sluice(long& sum) {
  auto [a, b] = sluice::from("n", std::views::iota(0L, kGraphItems)).tee<2>("tee");
  auto l = a.map("left", twist, {.concurrency = sluice::unlimited});
  auto r = b.map("right", twist, {.concurrency = sluice::unlimited});
  return sluice::join(
             "join", [](long x, long y) { return x ^ y; }, l, r)
      .sink("sum", [&sum](long x) { sum += x; });
}

/// One run; in `arena` when given (the caller's, kept across runs), else in the run's own.
bool run_sluice(sluice::Pipeline& p, tbb::task_arena* arena = nullptr) {
  auto rep = arena != nullptr
                 ? p.run({.arena = arena, .max_in_flight = kGraphInFlight})
                 : p.run({.threads = arena_threads(), .max_in_flight = kGraphInFlight});
  return rep.delivered == static_cast<std::uint64_t>(kGraphItems);
}

void BM_GraphDiamond_Sluice(benchmark::State& state) {
  long sum = 0;
  auto p = diamond_sluice(sum);
  for (auto _ : state) {
    if (!run_sluice(p)) state.SkipWithError("lost");
  }
  finish_graph(state, sum);
}

/// The diamond in plain tbb::flow, run once inside `arena`.
void run_diamond_hand_wired(tbb::task_arena& arena, long& sum) {
  using namespace tbb::flow;
  using Tagged = std::pair<long, long>;  // (tag, value)
  arena.execute([&] {
    graph g;
    long next = 0;
    input_node<Tagged> src(g, [&](tbb::flow_control& fc) -> Tagged {
      if (next == kGraphItems) {
        fc.stop();
        return {};
      }
      long v = next++;
      return {v, v};
    });
    limiter_node<Tagged, long> limiter(g, kGraphInFlight);
    broadcast_node<Tagged> fan(g);
    auto body = [](const Tagged& t) { return Tagged{t.first, twist(t.second)}; };
    function_node<Tagged, Tagged> left(g, unlimited, body);
    function_node<Tagged, Tagged> right(g, unlimited, body);
    auto tag = [](const Tagged& t) { return static_cast<tag_value>(t.first); };
    join_node<std::tuple<Tagged, Tagged>, tag_matching> join(g, tag, tag);
    function_node<std::tuple<Tagged, Tagged>, long> sink(
        g, serial, [&](const std::tuple<Tagged, Tagged>& t) {
          sum += std::get<0>(t).second ^ std::get<1>(t).second;
          return 1L;
        });
    make_edge(src, limiter);
    make_edge(limiter, fan);
    make_edge(fan, left);
    make_edge(fan, right);
    make_edge(left, input_port<0>(join));
    make_edge(right, input_port<1>(join));
    make_edge(join, sink);
    make_edge(sink, limiter.decrementer());
    src.activate();
    g.wait_for_all();
  });
}

void BM_GraphDiamond_HandWired(benchmark::State& state) {
  tbb::task_arena arena(static_cast<int>(arena_threads()));
  long sum = 0;
  for (auto _ : state) run_diamond_hand_wired(arena, sum);
  finish_graph(state, sum);
}

sluice::Pipeline route_merge_sluice(long& sum) {
  auto [even, odd] =
      sluice::from("n", std::views::iota(0L, kGraphItems))
          .route<2>("parity", [](long x) { return x & 1L; }, {.concurrency = sluice::unlimited});
  auto e = even.map("even", twist, {.concurrency = sluice::unlimited});
  auto o = odd.map("odd", twist, {.concurrency = sluice::unlimited});
  return sluice::merge("merge", e, o).sink("sum", [&sum](long x) { sum += x; });
}

void BM_GraphRouteMerge_Sluice(benchmark::State& state) {
  long sum = 0;
  auto p = route_merge_sluice(sum);
  for (auto _ : state) {
    if (!run_sluice(p)) state.SkipWithError("lost");
  }
  finish_graph(state, sum);
}

/// The route-then-merge graph in plain tbb::flow, run once inside `arena`.
void run_route_merge_hand_wired(tbb::task_arena& arena, long& sum) {
  using namespace tbb::flow;
  using Route = multifunction_node<long, std::tuple<long, long>>;
  arena.execute([&] {
    graph g;
    long next = 0;
    input_node<long> src(g, [&](tbb::flow_control& fc) -> long {
      if (next == kGraphItems) {
        fc.stop();
        return 0;
      }
      return next++;
    });
    limiter_node<long, long> limiter(g, kGraphInFlight);
    Route route(g, unlimited, [](long x, Route::output_ports_type& ports) {
      if ((x & 1L) == 0) {
        std::get<0>(ports).try_put(x);
      } else {
        std::get<1>(ports).try_put(x);
      }
    });
    function_node<long, long> even(g, unlimited, [](long x) { return twist(x); });
    function_node<long, long> odd(g, unlimited, [](long x) { return twist(x); });
    function_node<long, long> sink(g, serial, [&](long x) {
      sum += x;
      return 1L;
    });
    make_edge(src, limiter);
    make_edge(limiter, route);
    make_edge(output_port<0>(route), even);
    make_edge(output_port<1>(route), odd);
    make_edge(even, sink);
    make_edge(odd, sink);
    make_edge(sink, limiter.decrementer());
    src.activate();
    g.wait_for_all();
  });
}

void BM_GraphRouteMerge_HandWired(benchmark::State& state) {
  tbb::task_arena arena(static_cast<int>(arena_threads()));
  long sum = 0;
  for (auto _ : state) run_route_merge_hand_wired(arena, sum);
  finish_graph(state, sum);
}

/// Sluice and the hand-wired graph in turns, each iteration one run of each, timed
/// apart: both meet the same machine at nearly the same moment, so the ratio holds on a
/// busy machine where two separate benchmarks would not see the same conditions.
///
/// With `shared_arena`, sluice runs in the arena the hand-wired graph uses
/// (RunOptions::arena), as a program running a pipeline again and again would.
template <class Sluice, class HandWired>
void paired(benchmark::State& state, Sluice make_sluice, HandWired hand_wired, bool shared_arena) {
  long sum = 0;
  auto p = make_sluice(sum);
  tbb::task_arena arena(static_cast<int>(arena_threads()));
  double sluice_ns = 0;
  double hand_ns = 0;
  bool sluice_first = true;
  for (auto _ : state) {
    auto time = [](auto&& f) {
      auto t0 = std::chrono::steady_clock::now();
      f();
      return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0)
          .count();
    };
    auto one_sluice = [&] {
      sluice_ns += time([&] {
        if (!run_sluice(p, shared_arena ? &arena : nullptr)) state.SkipWithError("lost");
      });
    };
    auto one_hand = [&] { hand_ns += time([&] { hand_wired(arena, sum); }); };
    if (sluice_first) {
      one_sluice();
      one_hand();
    } else {
      one_hand();
      one_sluice();
    }
    sluice_first = !sluice_first;
  }
  benchmark::DoNotOptimize(sum);
  const double items = static_cast<double>(state.iterations() * kGraphItems);
  state.counters["sluice_ns_per_item"] = sluice_ns / items;
  state.counters["hand_wired_ns_per_item"] = hand_ns / items;
  state.counters["ratio"] = sluice_ns / hand_ns;
}

void BM_GraphDiamond_Paired(benchmark::State& state) {
  paired(state, diamond_sluice, run_diamond_hand_wired, false);
}
void BM_GraphRouteMerge_Paired(benchmark::State& state) {
  paired(state, route_merge_sluice, run_route_merge_hand_wired, false);
}
void BM_GraphDiamond_PairedSharedArena(benchmark::State& state) {
  paired(state, diamond_sluice, run_diamond_hand_wired, true);
}
void BM_GraphRouteMerge_PairedSharedArena(benchmark::State& state) {
  paired(state, route_merge_sluice, run_route_merge_hand_wired, true);
}

BENCHMARK(BM_GraphDiamond_Paired)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GraphRouteMerge_Paired)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GraphDiamond_PairedSharedArena)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GraphRouteMerge_PairedSharedArena)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GraphDiamond_Sluice)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GraphDiamond_HandWired)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GraphRouteMerge_Sluice)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GraphRouteMerge_HandWired)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
