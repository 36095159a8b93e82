// The GPU transfer stage against a bare copy loop, batches of 64 KiB to 256 MiB.
//
//   gpu_transfer_bench [--device=auto|cpu|cuda] [google-benchmark flags]
//
// Every benchmark moves about 256 MiB per iteration (many small batches or a few large
// ones) and waits until the last copy has ended, so the time covers whole transfers:
//   bare/<bytes>              cudaMemcpyAsync from pinned memory back to back on one stream,
//                             one synchronise at the end, every return code checked (host
//                             backend: memcpy between buffers)
//   stage/<bytes>/<c>         TransferStage, batches the producer built in staging memory
//                             (try_stage): pinned -> device, the same work as the bare loop —
//                             the like-for-like comparison (target: >= 0.9x from 4 MiB up)
//   stage_two_copies/<bytes>/<c>  TransferStage from an ordinary (pageable) batch: a memcpy
//                             into pinned staging, then the device copy — two copies, so
//                             not comparable with the bare loop
// <c> is the stage's concurrency: copies queued on its stream at once (the copy engine
// still runs them one at a time); with 1, the copy engine idles between one copy's end and
// the next one's start. Only delivered bytes count; a failed transfer fails the benchmark.
// Counters: GBps; for the stage, turnaround_us (median time from a copy's report to the
// start of the next one, host side) and, in the table at the end, the gap per batch the
// stage adds over the bare loop at the same size.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_cli.hpp"

#include <sluice/gpu.hpp>

#ifdef SLUICE_BENCH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace {

using sluice::gpu::Device;
using sluice::gpu::DeviceBatch;
using sluice::gpu::HostBatch;
using sluice::gpu::TransferStage;
using Clock = std::chrono::steady_clock;

Device g_device = Device::auto_detect;
Device g_backend = Device::cpu;  // what auto resolved to

constexpr std::int64_t kMiB = 1 << 20;
constexpr std::int64_t kPerIteration = 256 * kMiB;

std::int64_t batches_per_iteration(std::int64_t bytes) {
  return std::max<std::int64_t>(1, kPerIteration / bytes);
}

void report(benchmark::State& state, std::int64_t bytes_moved) {
  state.SetBytesProcessed(bytes_moved);
  state.counters["GBps"] =
      benchmark::Counter(static_cast<double>(bytes_moved) / 1e9, benchmark::Counter::kIsRate);
}

// Waits for completions on the benchmark's thread (not a worker: blocking is fine here),
// counting only what was delivered.
class Countdown {
 public:
  void add(std::int64_t n) {
    std::lock_guard lock(mutex_);
    left_ += n;
  }
  void done(const sluice::Outcome<DeviceBatch>& o) {
    std::lock_guard lock(mutex_);
    --left_;
    ++completed_;
    if (o.ok()) {
      delivered_bytes_ += static_cast<std::int64_t>(o.value->size());
    } else if (failed_++ == 0) {
      try {
        std::rethrow_exception(o.error);
      } catch (const std::exception& e) {
        first_error_ = e.what();
      } catch (...) {
        first_error_ = "unknown error";
      }
    }
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
  std::int64_t take_delivered_bytes() {
    std::lock_guard lock(mutex_);
    return std::exchange(delivered_bytes_, 0);
  }
  /// "" when nothing failed; else how many and the first error.
  std::string failures() {
    std::lock_guard lock(mutex_);
    if (failed_ == 0) return "";
    return std::to_string(failed_) + " transfers failed, first: " + first_error_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::int64_t left_ = 0;
  std::uint64_t completed_ = 0;
  std::int64_t delivered_bytes_ = 0;
  std::uint64_t failed_ = 0;
  std::string first_error_;
  bool waiting_for_one_ = false;
};

sluice::Completion<DeviceBatch> count_down(Countdown& c) {
  return sluice::make_completion<DeviceBatch>([&c](sluice::Outcome<DeviceBatch> o) {
    c.done(o);  // the DeviceBatch is dropped here: its buffer goes straight back
  });
}

// Forwards to the real engine and notes, per copy, when it was started and when its end
// was reported: at concurrency 1 the time between a report and the next start is the
// stage's own turnaround, which the copy engine spends idle.
class TimedEngine final : public sluice::gpu::CopyEngine {
 public:
  explicit TimedEngine(std::shared_ptr<CopyEngine> inner) : inner_(std::move(inner)) {}
  Device device() const noexcept override { return inner_->device(); }
  std::string describe() const override { return inner_->describe(); }
  std::shared_ptr<sluice::gpu::MemoryResource> staging_memory() const override {
    return inner_->staging_memory();
  }
  std::shared_ptr<sluice::gpu::MemoryResource> device_memory() const override {
    return inner_->device_memory();
  }
  void start_copy(void* dst, const void* src, std::size_t bytes, Done done) override {
    {
      std::lock_guard lock(mutex_);
      const Clock::time_point now = Clock::now();
      if (measuring_ && last_report_ && idle_) {
        turnaround_us_.push_back(
            std::chrono::duration<double, std::micro>(now - *last_report_).count());
      }
      idle_ = false;
    }
    inner_->start_copy(dst, src, bytes, [this, done = std::move(done)](std::exception_ptr e) {
      {
        std::lock_guard lock(mutex_);
        last_report_ = Clock::now();
        idle_ = true;  // concurrency 1: nothing else is on the copy engine now
      }
      done(std::move(e));
    });
  }
  void measure(bool on) {
    std::lock_guard lock(mutex_);
    measuring_ = on;
    last_report_.reset();
  }
  double median_turnaround_us() {
    std::lock_guard lock(mutex_);
    if (turnaround_us_.empty()) return 0;
    auto mid = turnaround_us_.begin() + static_cast<std::ptrdiff_t>(turnaround_us_.size() / 2);
    std::nth_element(turnaround_us_.begin(), mid, turnaround_us_.end());
    return *mid;
  }

 private:
  std::shared_ptr<CopyEngine> inner_;
  std::mutex mutex_;
  bool measuring_ = false;
  bool idle_ = true;
  std::optional<Clock::time_point> last_report_;
  std::vector<double> turnaround_us_;
};

#ifdef SLUICE_BENCH_CUDA
// The bare loop's resources, freed on every path.
struct BareCuda {
  void* src = nullptr;
  void* dst = nullptr;
  cudaStream_t stream = nullptr;
  ~BareCuda() {
    if (stream != nullptr) (void)cudaStreamDestroy(stream);
    if (dst != nullptr) (void)cudaFree(dst);
    if (src != nullptr) (void)cudaFreeHost(src);
  }
};

bool failed(benchmark::State& state, cudaError_t err, const char* what) {
  if (err == cudaSuccess) return false;
  (void)cudaGetLastError();
  state.SkipWithError((std::string(what) + ": " + cudaGetErrorString(err)).c_str());
  return true;
}

void bare_cuda(benchmark::State& state, std::int64_t bytes, std::int64_t k) {
  const auto n = static_cast<std::size_t>(bytes);
  BareCuda r;
  if (failed(state, cudaHostAlloc(&r.src, n, cudaHostAllocPortable), "cudaHostAlloc") ||
      failed(state, cudaMalloc(&r.dst, n), "cudaMalloc") ||
      failed(state, cudaStreamCreateWithFlags(&r.stream, cudaStreamNonBlocking),
             "cudaStreamCreate")) {
    return;
  }
  std::memset(r.src, 1, n);
  if (failed(state, cudaMemcpyAsync(r.dst, r.src, n, cudaMemcpyHostToDevice, r.stream),
             "cudaMemcpyAsync") ||
      failed(state, cudaStreamSynchronize(r.stream), "cudaStreamSynchronize")) {
    return;
  }
  std::int64_t moved = 0;
  for (auto _ : state) {
    for (std::int64_t i = 0; i < k; ++i) {
      if (failed(state, cudaMemcpyAsync(r.dst, r.src, n, cudaMemcpyHostToDevice, r.stream),
                 "cudaMemcpyAsync")) {
        return;
      }
    }
    if (failed(state, cudaStreamSynchronize(r.stream), "cudaStreamSynchronize")) return;
    moved += k * bytes;  // only once the stream says every copy of the round ended well
  }
  report(state, moved);
}
#endif

void bare_copy(benchmark::State& state) {
  const std::int64_t bytes = state.range(0);
  const std::int64_t k = batches_per_iteration(bytes);
#ifdef SLUICE_BENCH_CUDA
  if (g_backend == Device::cuda) {
    bare_cuda(state, bytes, k);
    return;
  }
#endif
  const auto n = static_cast<std::size_t>(bytes);
  std::vector<std::uint8_t> src(n, 1);
  std::vector<std::uint8_t> dst(n, 0);
  std::int64_t moved = 0;
  for (auto _ : state) {
    for (std::int64_t i = 0; i < k; ++i) {
      std::memcpy(dst.data(), src.data(), n);
      benchmark::ClobberMemory();
    }
    moved += k * bytes;
  }
  report(state, moved);
}

sluice::gpu::TransferOptions options(std::size_t concurrency,
                                     const std::shared_ptr<TimedEngine>& engine) {
  sluice::gpu::TransferOptions o;
  o.engine = engine;
  o.concurrency = concurrency;
  o.staging_buffers = 2;
  o.producer_staging_buffers = concurrency + 2;
  o.device_buffers = concurrency + 2;
  return o;
}

// The counters every stage benchmark reports, and its failure if a transfer failed.
void finish(benchmark::State& state, TransferStage& stage, Countdown& pending, TimedEngine& engine,
            std::int64_t moved) {
  if (const std::string failures = pending.failures(); !failures.empty()) {
    state.SkipWithError(failures.c_str());
    return;
  }
  const auto s = stage.stats();
  state.counters["max_inflight"] = static_cast<double>(s.max_in_flight);
  state.counters["dev_allocs"] = static_cast<double>(s.device.allocations);
  if (state.range(1) == 1) state.counters["turnaround_us"] = engine.median_turnaround_us();
  report(state, moved);
}

// Ordinary (pageable) batches: the stage copies each into pinned staging first.
void stage_two_copies(benchmark::State& state) {
  const std::int64_t bytes = state.range(0);
  const std::int64_t k = batches_per_iteration(bytes);
  auto engine = std::make_shared<TimedEngine>(sluice::gpu::make_copy_engine(g_device));
  TransferStage stage(options(static_cast<std::size_t>(state.range(1)), engine));
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
  pending.take_delivered_bytes();
  engine->measure(true);
  for (auto _ : state) {
    pending.add(k);
    for (std::int64_t i = 0; i < k; ++i) stage(source, count_down(pending));
    pending.wait_zero();
  }
  finish(state, stage, pending, *engine, pending.take_delivered_bytes());
}

// Batches the producer built in staging memory (try_stage): pinned -> device only.
void stage_staged(benchmark::State& state) {
  const std::int64_t bytes = state.range(0);
  const std::int64_t k = batches_per_iteration(bytes);
  const auto n = static_cast<std::size_t>(bytes);
  auto engine = std::make_shared<TimedEngine>(sluice::gpu::make_copy_engine(g_device));
  TransferStage stage(options(static_cast<std::size_t>(state.range(1)), engine));
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
  // Warm-up, as in stage_two_copies: every pooled buffer allocated and touched first.
  for (std::int64_t i = 0; i < std::max<std::int64_t>(k, 8); ++i) submit_one();
  pending.wait_zero();
  pending.take_delivered_bytes();
  engine->measure(true);
  for (auto _ : state) {
    for (std::int64_t i = 0; i < k; ++i) submit_one();
    pending.wait_zero();
  }
  finish(state, stage, pending, *engine, pending.take_delivered_bytes());
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

// Prints each stage variant's GB/s as a fraction of the bare loop at the same size, and
// the time per batch the stage adds (its gap: the copy engine idle between two copies).
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
    std::printf("\nbackend: %s (ratios to the bare loop; gap: us per batch over it)\n",
                std::string(sluice::gpu::to_string(g_backend)).c_str());
    std::printf("%10s %9s %9s %9s %9s %9s %13s %13s\n", "batch", "bare GB/s", "stage/c1",
                "stage/c2", "gap c1 us", "gap c2 us", "two_copies/c1", "two_copies/c2");
    for (const auto& [bytes, row] : gbps_) {
      const auto bare = row.find("bare");
      if (bare == row.end() || bare->second <= 0) continue;
      std::printf("%7lld KiB %9.2f", static_cast<long long>(bytes >> 10), bare->second);
      auto ratio = [&](const char* v, int width) {
        const auto it = row.find(v);
        if (it == row.end()) {
          std::printf(" %*s", width, "-");
        } else {
          std::printf(" %*.2fx", width - 1, it->second / bare->second);
        }
      };
      auto gap = [&](const char* v) {
        const auto it = row.find(v);
        if (it == row.end() || it->second <= 0) {
          std::printf(" %9s", "-");
        } else {
          const double b = static_cast<double>(bytes);
          std::printf(" %9.1f", (b / (it->second * 1e9) - b / (bare->second * 1e9)) * 1e6);
        }
      };
      ratio("stage/c1", 9);
      ratio("stage/c2", 9);
      gap("stage/c1");
      gap("stage/c2");
      ratio("stage_two_copies/c1", 13);
      ratio("stage_two_copies/c2", 13);
      std::printf("\n");
    }
  }

 private:
  std::map<long long, std::map<std::string, double>> gbps_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gpu_transfer_bench: the transfer stage's GB/s against a bare copy loop"};
  std::string device = "auto";
  app.add_option("--device", device, "auto, cpu (the host backend) or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  sluice::bench::BenchArgs rest;
  if (const auto rc = sluice::bench::parse_flags(app, argc, argv, rest)) return *rc;
  g_device = sluice::gpu::parse_device(device);
  try {
    const auto engine = sluice::gpu::make_copy_engine(g_device);
    g_backend = engine->device();
    // In the JSON output's context, for scripts/gpu_check.sh's summary.
    benchmark::AddCustomContext("transfer_backend", engine->describe());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
#ifdef SLUICE_BENCH_CUDA
  if (g_backend == Device::cuda) {
    int runtime = 0;
    int driver = 0;
    (void)cudaRuntimeGetVersion(&runtime);
    (void)cudaDriverGetVersion(&driver);
    auto dotted = [](int v) {
      return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
    };
    benchmark::AddCustomContext("cuda_runtime_version", dotted(runtime));
    benchmark::AddCustomContext("cuda_driver_version", dotted(driver));
  }
#endif
  // Pin the choice: auto must not resolve differently per benchmark.
  g_device = g_backend;
  sizes(benchmark::RegisterBenchmark("bare", bare_copy), false);
  sizes(benchmark::RegisterBenchmark("stage", stage_staged), true);
  sizes(benchmark::RegisterBenchmark("stage_two_copies", stage_two_copies), true);
  benchmark::Initialize(&rest.argc, rest.argv.data());
  if (benchmark::ReportUnrecognizedArguments(rest.argc, rest.argv.data())) return 2;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
