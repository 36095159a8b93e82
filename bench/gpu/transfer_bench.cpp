// The GPU transfer stage against a bare copy loop, batches of 64 KiB to 256 MiB.
//
//   gpu_transfer_bench [--device=auto|cpu|cuda] [google-benchmark flags]
//
// Every benchmark moves about 256 MiB per iteration (many small batches or a few large
// ones) and waits until the last copy has ended, so the time covers whole transfers:
//   bare/<bytes>           cudaMemcpyAsync pinned->device back to back on one stream, one
//                          synchronise at the end (host backend: memcpy between buffers)
//   stage/<bytes>/<c>      TransferStage with concurrency c from an ordinary batch
//                          (includes the copy into pinned staging, overlapped)
//   stage_staged/<bytes>/<c>  the same with batches the producer built in staging memory
//                          (try_stage), so only the device copy remains
// A table at the end gives each stage variant's GB/s as a fraction of the bare loop.
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <sluice/gpu.hpp>

#ifdef SLUICE_BENCH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace {

using sluice::gpu::Device;
using sluice::gpu::DeviceBatch;
using sluice::gpu::HostBatch;
using sluice::gpu::TransferStage;

Device g_device = Device::auto_detect;
Device g_backend = Device::cpu;  // what auto resolved to

constexpr std::int64_t kMiB = 1 << 20;
constexpr std::int64_t kPerIteration = 256 * kMiB;

std::int64_t batches_per_iteration(std::int64_t bytes) {
  return std::max<std::int64_t>(1, kPerIteration / bytes);
}

void report(benchmark::State& state, std::int64_t bytes) {
  const auto total = state.iterations() * batches_per_iteration(bytes) * bytes;
  state.SetBytesProcessed(total);
  state.counters["GBps"] =
      benchmark::Counter(static_cast<double>(total) / 1e9, benchmark::Counter::kIsRate);
}

// Waits for completions on the benchmark's thread (not a worker: blocking is fine here).
class Countdown {
 public:
  void add(std::int64_t n) {
    std::lock_guard lock(mutex_);
    left_ += n;
  }
  void done() {
    std::lock_guard lock(mutex_);
    --left_;
    ++completed_;
    // Wake the benchmark thread only when it can proceed, not once per batch.
    if (left_ == 0 || waiting_for_one_) cv_.notify_all();
  }
  std::uint64_t completed() {
    std::lock_guard lock(mutex_);
    return completed_;
  }
  void wait_past(std::uint64_t seen) {
    std::unique_lock lock(mutex_);
    waiting_for_one_ = true;
    cv_.wait(lock, [&] { return completed_ != seen; });
    waiting_for_one_ = false;
  }
  void wait_zero() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return left_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::int64_t left_ = 0;
  std::uint64_t completed_ = 0;
  bool waiting_for_one_ = false;
};

sluice::Completion<DeviceBatch> count_down(Countdown& c) {
  return sluice::make_completion<DeviceBatch>([&c](sluice::Outcome<DeviceBatch> o) {
    if (!o.ok()) std::fprintf(stderr, "transfer failed\n");
    c.done();  // the DeviceBatch is dropped here: its buffer goes straight back
  });
}

void bare_copy(benchmark::State& state) {
  const std::int64_t bytes = state.range(0);
  const std::int64_t k = batches_per_iteration(bytes);
  const auto n = static_cast<std::size_t>(bytes);
#ifdef SLUICE_BENCH_CUDA
  if (g_backend == Device::cuda) {
    void* src = nullptr;
    void* dst = nullptr;
    cudaStream_t stream = nullptr;
    if (cudaHostAlloc(&src, n, cudaHostAllocPortable) != cudaSuccess ||
        cudaMalloc(&dst, n) != cudaSuccess ||
        cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) != cudaSuccess) {
      state.SkipWithError("CUDA allocation failed");
      return;
    }
    std::memset(src, 1, n);
    cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, stream);  // warm-up
    cudaStreamSynchronize(stream);
    for (auto _ : state) {
      for (std::int64_t i = 0; i < k; ++i) {
        cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, stream);
      }
      cudaStreamSynchronize(stream);
    }
    cudaStreamDestroy(stream);
    cudaFree(dst);
    cudaFreeHost(src);
    report(state, bytes);
    return;
  }
#endif
  auto memory = sluice::gpu::host_memory();
  void* src = memory->allocate(n);
  void* dst = memory->allocate(n);
  std::memset(src, 1, n);
  std::memset(dst, 0, n);
  for (auto _ : state) {
    for (std::int64_t i = 0; i < k; ++i) {
      std::memcpy(dst, src, n);
      benchmark::ClobberMemory();
    }
  }
  memory->deallocate(src, n);
  memory->deallocate(dst, n);
  report(state, bytes);
}

sluice::gpu::TransferOptions options(std::size_t concurrency) {
  sluice::gpu::TransferOptions o;
  o.device = g_device;
  o.concurrency = concurrency;
  o.staging_buffers = 2;
  o.producer_staging_buffers = concurrency + 2;
  o.device_buffers = concurrency + 2;
  return o;
}

void stage_copy(benchmark::State& state) {
  const std::int64_t bytes = state.range(0);
  const std::int64_t k = batches_per_iteration(bytes);
  TransferStage stage(options(static_cast<std::size_t>(state.range(1))));
  // One source shared by every submission (HostBatch copies share their bytes), so the
  // loop measures the stage rather than the allocator.
  const HostBatch source(std::vector<std::uint8_t>(static_cast<std::size_t>(bytes), 1));
  Countdown pending;
  // Warm-up: one iteration's worth (at least enough to fill both pools), so every buffer
  // is allocated and first touched before the clock runs.
  const std::int64_t warm = std::max<std::int64_t>(k, 8);
  pending.add(warm);
  for (std::int64_t i = 0; i < warm; ++i) stage(source, count_down(pending));
  pending.wait_zero();
  for (auto _ : state) {
    pending.add(k);
    for (std::int64_t i = 0; i < k; ++i) stage(source, count_down(pending));
    pending.wait_zero();
  }
  const auto s = stage.stats();
  state.counters["dev_allocs"] = static_cast<double>(s.device.allocations);
  state.counters["max_inflight"] = static_cast<double>(s.max_in_flight);
  report(state, bytes);
}

void stage_staged_copy(benchmark::State& state) {
  const std::int64_t bytes = state.range(0);
  const std::int64_t k = batches_per_iteration(bytes);
  const auto n = static_cast<std::size_t>(bytes);
  TransferStage stage(options(static_cast<std::size_t>(state.range(1))));
  Countdown pending;
  // A producer that fills batches in place: it takes a lent buffer, or waits for one to
  // come back (the benchmark thread may wait; a pipeline stage would fall back instead).
  auto submit_one = [&] {
    std::optional<HostBatch> batch;
    for (;;) {
      const std::uint64_t seen = pending.completed();
      batch = stage.try_stage(n);
      if (batch) break;
      pending.wait_past(seen);  // every lent buffer is in a transfer: wait for one to end
    }
    pending.add(1);
    stage(std::move(*batch), count_down(pending));
  };
  // Warm-up, as in stage_copy: every pooled buffer allocated and touched before timing.
  for (std::int64_t i = 0; i < std::max<std::int64_t>(k, 8); ++i) submit_one();
  pending.wait_zero();
  for (auto _ : state) {
    for (std::int64_t i = 0; i < k; ++i) submit_one();
    pending.wait_zero();
  }
  state.counters["max_inflight"] = static_cast<double>(stage.stats().max_in_flight);
  report(state, bytes);
}

void sizes(benchmark::internal::Benchmark* b, bool with_concurrency) {
  for (std::int64_t bytes = 64 << 10; bytes <= 256 * kMiB; bytes *= 4) {
    if (with_concurrency) {
      b->Args({bytes, 1});
      b->Args({bytes, 2});
    } else {
      b->Args({bytes});
    }
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

// Prints each stage variant's GB/s as a fraction of the bare loop at the same size.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(OO_Tabular) {}  // no colour codes in logs

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
      const auto it = run.counters.find("GBps");
      if (it == run.counters.end()) continue;
      const std::string name = run.benchmark_name();
      const auto slash = name.find('/');
      const std::string kind = name.substr(0, slash);
      const std::string rest = name.substr(slash + 1);
      const std::string size = rest.substr(0, rest.find('/'));
      const std::string variant =
          kind == "bare" ? "bare" : kind + "/c" + rest.substr(rest.find('/') + 1, 1);
      gbps_[std::stoll(size)][variant] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nbackend: %s\n", std::string(sluice::gpu::to_string(g_backend)).c_str());
    std::printf("%10s %9s %11s %11s %17s %17s\n", "batch", "bare GB/s", "stage/c1", "stage/c2",
                "stage_staged/c1", "stage_staged/c2");
    for (const auto& [bytes, row] : gbps_) {
      const auto bare = row.find("bare");
      if (bare == row.end() || bare->second <= 0) continue;
      std::printf("%7lld KiB %9.2f", static_cast<long long>(bytes >> 10), bare->second);
      for (const char* v : {"stage/c1", "stage/c2", "stage_staged/c1", "stage_staged/c2"}) {
        const auto it = row.find(v);
        const int width = std::strlen(v) > 8 ? 17 : 11;
        if (it == row.end()) {
          std::printf(" %*s", width, "-");
        } else {
          std::printf(" %*.2fx", width - 1, it->second / bare->second);
        }
      }
      std::printf("\n");
    }
  }

 private:
  std::map<long long, std::map<std::string, double>> gbps_;
};

}  // namespace

int main(int argc, char** argv) {
  // Our own flag first; the rest goes to Google Benchmark.
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--device=", 0) == 0) {
      try {
        g_device = sluice::gpu::parse_device(arg.substr(9));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
      }
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  try {
    g_backend = sluice::gpu::make_copy_engine(g_device)->device();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  sizes(benchmark::RegisterBenchmark("bare", bare_copy), false);
  sizes(benchmark::RegisterBenchmark("stage", stage_copy), true);
  sizes(benchmark::RegisterBenchmark("stage_staged", stage_staged_copy), true);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
