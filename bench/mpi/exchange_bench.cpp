// Bandwidth from rank 0 to rank 1, for items of 64 B, 4 KiB and 64 KiB:
//
//   BM_BareMpi/<size>    the osu_bw pattern: a window of 64 MPI_Isend of one item each,
//                        matched by MPI_Irecv, then a one-byte acknowledgement; repeated
//   BM_Exchange/<size>   the same bytes as items through sluice::mpi::Exchange: a sending
//                        pipeline on rank 0, a receiving one on rank 1, run to the end
//
//   mpirun -np 2 --bind-to none build-release/bench/mpi/bench_mpi_exchange
//       --benchmark_out=exchange.json --benchmark_out_format=json    (one command line)
//
// Both ranks run every benchmark with a fixed number of iterations (they must meet in the
// same calls); rank 0 reports, in bytes per second of item payload. The counter `ratio` on
// BM_Exchange is its bandwidth over BM_BareMpi's for the same size in this run.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <map>
#include <ranges>
#include <sstream>
#include <string_view>
#include <vector>

#include <sluice/mpi.hpp>
#include <sluice/sluice.hpp>

namespace {

sluice::mpi::World* world = nullptr;
std::map<std::int64_t, double> bare_bytes_per_s;  // by item size, from BM_BareMpi

constexpr std::int64_t kBytesPerIteration = 64 << 20;  // 64 MiB of payload per iteration
constexpr int kWindow = 64;

void BM_BareMpi(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const std::int64_t messages = kBytesPerIteration / state.range(0);
  std::vector<std::byte> buffer(size * kWindow);
  std::vector<MPI_Request> requests(kWindow);
  double seconds = 0;
  for (auto _ : state) {
    world->barrier();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t sent = 0; sent < messages; sent += kWindow) {
      const int n = static_cast<int>(std::min<std::int64_t>(kWindow, messages - sent));
      for (int k = 0; k < n; ++k) {
        std::byte* p = buffer.data() + static_cast<std::size_t>(k) * size;
        if (world->rank() == 0) {
          MPI_Isend(p, static_cast<int>(size), MPI_BYTE, 1, 7, world->comm(), &requests[k]);
        } else {
          MPI_Irecv(p, static_cast<int>(size), MPI_BYTE, 0, 7, world->comm(), &requests[k]);
        }
      }
      MPI_Waitall(n, requests.data(), MPI_STATUSES_IGNORE);
    }
    char ack = 0;
    if (world->rank() == 0) {
      MPI_Recv(&ack, 1, MPI_CHAR, 1, 8, world->comm(), MPI_STATUS_IGNORE);
    } else {
      MPI_Send(&ack, 1, MPI_CHAR, 0, 8, world->comm());
    }
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double bytes = static_cast<double>(state.iterations()) * static_cast<double>(messages) *
                       static_cast<double>(size);
  state.counters["bytes_per_s"] = bytes / seconds;
  bare_bytes_per_s[state.range(0)] = bytes / seconds;
}

void BM_Exchange(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const std::int64_t items = kBytesPerIteration / state.range(0);
  double seconds = 0;
  std::uint64_t received = 0;
  for (auto _ : state) {
    sluice::mpi::Exchange<std::vector<std::byte>> exchange(
        *world, [](const std::vector<std::byte>&) { return 1; },
        {.batch_bytes = 256 * 1024, .credit_bytes = 16 << 20, .max_in_flight = 4096});
    const std::int64_t mine = world->rank() == 0 ? items : 0;
    auto sending = sluice::from("items", std::views::iota(std::int64_t{0}, mine))
                       .map("make", [size](std::int64_t) { return std::vector<std::byte>(size); })
                       .apply(exchange.to_owners());
    auto receiving =
        sluice::generate("owned", exchange.from_ranks())
            .sink("take", [&received](std::vector<std::byte> v) { received += v.size() > 0; });
    world->barrier();
    const auto t0 = std::chrono::steady_clock::now();
    exchange.run(sending, receiving, {.threads = 2});
    world->barrier();  // both ends done
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double bytes = static_cast<double>(state.iterations()) * static_cast<double>(items) *
                       static_cast<double>(size);
  state.counters["bytes_per_s"] = bytes / seconds;
  if (auto it = bare_bytes_per_s.find(state.range(0)); it != bare_bytes_per_s.end()) {
    state.counters["ratio"] = bytes / seconds / it->second;
  }
  benchmark::DoNotOptimize(received);
}

// Both at the same sizes and a fixed iteration count (the ranks must meet in step).
void item_sizes(benchmark::internal::Benchmark* b) {
  b->Arg(64)->Arg(4096)->Arg(65536)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_BareMpi)->Apply(item_sizes);
BENCHMARK(BM_Exchange)->Apply(item_sizes);

}  // namespace

int main(int argc, char** argv) {
  sluice::mpi::World mpi_world(argc, argv);
  world = &mpi_world;
  if (mpi_world.size() != 2) {
    if (mpi_world.is_root()) std::fprintf(stderr, "bench_mpi_exchange: run it with mpirun -np 2\n");
    return 1;
  }
  if (!mpi_world.is_root()) {
    // Rank 1 runs the same benchmarks in step and reports nothing (not even to the file
    // rank 0 writes).
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
      if (std::string_view(argv[i]).starts_with("--benchmark_out")) continue;
      args.push_back(argv[i]);
    }
    int n = static_cast<int>(args.size());
    benchmark::Initialize(&n, args.data());
    static std::ostringstream discard;
    benchmark::ConsoleReporter quiet;
    quiet.SetOutputStream(&discard);
    quiet.SetErrorStream(&discard);
    benchmark::RunSpecifiedBenchmarks(&quiet);
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
