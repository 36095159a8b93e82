// Peak resident memory of a back-pressured sluice pipeline as its input grows.
//
//   bench_memory --benchmark_format=json > memory.json
//   bench_memory --memory_sizes=100000,1000000      # other input sizes
//
// The pipeline: a source of N integers -> "format" (a heap-allocated 96-byte record,
// concurrency 2) -> "digest" (concurrency 2) -> a serial sink that spins --memory_sink_ns
// per item, so the sink is the bottleneck and back-pressure (the default max_in_flight)
// is what keeps the source from running ahead. Every case runs in a fresh child process
// (this program re-executes itself), which reports its own peak RSS (VmHWM) and its RSS
// before the pipeline was built. Cases, for each size:
//
//   loop/items:N       the same record and digest calls in a plain loop: the process floor
//   pipeline/items:N   the pipeline, default max_in_flight
//   unbounded/items:N  the pipeline with max_in_flight = N, i.e. no back-pressure, at the
//                      --memory_unbounded_sizes (default 100k and 1M, smaller since memory
//                      grows with N; "none" skips it): shows the measurement sees growth
//                      where there is some
//   pipeline/growth    peak(largest N) / peak(smallest N) for loop and pipeline (medians
//                      over repetitions); the target is pipeline_growth <= 1.10.
//                      *_over_baseline_growth: the same for what each run added above
//                      its starting RSS, which the fixed floor does not dilute
//
// Counters: items, peak_rss_kb, baseline_kb (RSS before the pipeline), over_baseline_kb,
// max_in_flight; the time is the child's run time.
#include <benchmark/benchmark.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <ranges>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/sluice.hpp>

#include "bench_cli.hpp"

extern char** environ;

namespace {

struct Settings {
  std::vector<std::uint64_t> sizes{1'000'000, 10'000'000};
  std::uint64_t sink_ns = 1000;
  std::vector<std::uint64_t> unbounded_sizes{100'000, 1'000'000};
};

// ---- the work, shared by the loop and the pipeline ----

std::string make_record(std::uint64_t i) {
  // Past the small-string buffer, so every item owns a heap block: the allocator's
  // behaviour under the pipeline is part of what is measured.
  std::string s(96, '.');
  std::to_chars(s.data(), s.data() + 24, i);
  return s;
}

std::uint64_t digest(const std::string& s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325;
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3;
  return h;
}

void spin_for(std::uint64_t ns) noexcept {
  if (ns == 0) return;
  const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(ns);
  while (std::chrono::steady_clock::now() < until) {
  }
}

// ---- the child ----

// VmHWM and VmRSS from /proc/self/status, in kB. getrusage's ru_maxrss is not used: it
// would fold in the parent's high-water mark (posix_spawn shares the parent's memory until
// exec, and Linux keeps the larger of the old and new mm's peaks across exec).
std::pair<long, long> memory_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  long hwm = -1;
  long rss = -1;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) hwm = std::strtol(line.c_str() + 6, nullptr, 10);
    if (line.starts_with("VmRSS:")) rss = std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return {hwm, rss};
}

int run_child(std::string_view mode, std::uint64_t items, std::uint64_t sink_ns) {
  const auto [hwm_before, rss_before] = memory_kb();
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t sum = 0;
  std::uint64_t delivered = 0;
  std::size_t max_in_flight = 0;
  if (mode == "loop") {
    // No spin: the loop is the memory floor, and the spin allocates nothing.
    for (std::uint64_t i = 0; i < items; ++i) sum += digest(make_record(i));
    delivered = items;
  } else if (mode == "pipeline" || mode == "unbounded") {
    sluice::RunOptions options;
    if (mode == "unbounded") options.max_in_flight = static_cast<std::size_t>(items);
    const sluice::Report report =
        sluice::from("items", std::views::iota(std::uint64_t{0}, items))
            .map("format", make_record, {.concurrency = 2})
            .map("digest", [](std::string s) { return digest(s); }, {.concurrency = 2})
            .sink("slow",
                  [&](std::uint64_t h) {
                    sum += h;
                    spin_for(sink_ns);
                  })
            .run(options);
    delivered = report.delivered;
    max_in_flight = report.max_in_flight;
  } else {
    std::fprintf(stderr, "bench_memory: unknown child mode '%.*s'\n", static_cast<int>(mode.size()),
                 mode.data());
    return 2;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto [hwm, rss] = memory_kb();
  if (delivered != items) {
    std::fprintf(stderr, "bench_memory: %llu of %llu items delivered\n",
                 static_cast<unsigned long long>(delivered),
                 static_cast<unsigned long long>(items));
    return 1;
  }
  std::printf("%ld %ld %ld %ld %.6f %zu %llu\n", hwm_before, rss_before, hwm, rss, seconds,
              max_in_flight, static_cast<unsigned long long>(sum & 1));
  return 0;
}

// ---- the parent ----

struct ChildResult {
  long hwm_before_kb = 0;
  long rss_before_kb = 0;
  long hwm_kb = 0;
  long rss_kb = 0;
  double seconds = 0;
  std::size_t max_in_flight = 0;
};

std::string self_exe() {
  std::vector<char> buf(4096);
  const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) throw std::runtime_error("cannot read /proc/self/exe");
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

ChildResult spawn_child(const std::string& mode, std::uint64_t items, std::uint64_t sink_ns) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);

  const std::string exe = self_exe();
  std::vector<std::string> args{exe, "--memory_child=" + mode,
                                "--memory_items=" + std::to_string(items),
                                "--memory_sink_ns=" + std::to_string(sink_ns)};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error(std::string("posix_spawn failed: ") + std::strerror(rc));
  }
  std::string out;
  char chunk[256];
  for (ssize_t n; (n = read(fds[0], chunk, sizeof chunk)) > 0;) out.append(chunk, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("child '" + mode + "' with " + std::to_string(items) +
                             " items failed (status " + std::to_string(status) + ")");
  }
  ChildResult r;
  unsigned long long parity = 0;
  if (std::sscanf(out.c_str(), "%ld %ld %ld %ld %lf %zu %llu", &r.hwm_before_kb, &r.rss_before_kb,
                  &r.hwm_kb, &r.rss_kb, &r.seconds, &r.max_in_flight, &parity) != 7) {
    throw std::runtime_error("unreadable child output: " + out);
  }
  return r;
}

// Seen per case, for the growth summary: mode -> items -> values over repetitions.
using Samples = std::map<std::string, std::map<std::uint64_t, std::vector<double>>>;
Samples g_peaks;
Samples g_over_baseline;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void run_case(benchmark::State& state, const std::string& mode, std::uint64_t items,
              const Settings& settings) {
  ChildResult r;
  for (auto _ : state) {
    try {
      r = spawn_child(mode, items, settings.sink_ns);
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return;
    }
    state.SetIterationTime(r.seconds);
  }
  g_peaks[mode][items].push_back(static_cast<double>(r.hwm_kb));
  g_over_baseline[mode][items].push_back(static_cast<double>(r.hwm_kb - r.rss_before_kb));
  state.SetItemsProcessed(static_cast<std::int64_t>(items));
  state.counters["items"] = static_cast<double>(items);
  state.counters["peak_rss_kb"] = static_cast<double>(r.hwm_kb);
  state.counters["baseline_kb"] = static_cast<double>(r.rss_before_kb);
  state.counters["over_baseline_kb"] = static_cast<double>(r.hwm_kb - r.rss_before_kb);
  state.counters["max_in_flight"] = static_cast<double>(r.max_in_flight);
}

void growth(benchmark::State& state, const Settings& settings) {
  for (auto _ : state) {
  }
  const std::uint64_t small = settings.sizes.front();
  const std::uint64_t large = settings.sizes.back();
  for (const std::string mode : {"loop", "pipeline"}) {
    auto& peaks = g_peaks[mode];
    if (peaks[small].empty() || peaks[large].empty()) {
      state.SkipWithError("growth needs the loop and pipeline cases of both sizes to run first");
      return;
    }
    const double ratio = median(peaks[large]) / median(peaks[small]);
    state.counters[mode + "_growth"] = ratio;
    // The part the run added on top of the process it started in: the stricter figure,
    // since the fixed floor (libraries, the allocator) no longer dilutes it.
    auto& over = g_over_baseline[mode];
    state.counters[mode + "_over_baseline_growth"] = median(over[large]) / median(over[small]);
    std::fprintf(stderr,
                 "bench_memory: %s peak RSS %.0f kB at %llu items, %.0f kB at %llu: x%.3f "
                 "(over the process's starting RSS: %.0f kB, %.0f kB: x%.3f)\n",
                 mode.c_str(), median(peaks[small]), static_cast<unsigned long long>(small),
                 median(peaks[large]), static_cast<unsigned long long>(large), ratio,
                 median(over[small]), median(over[large]),
                 median(over[large]) / median(over[small]));
  }
  state.counters["small_items"] = static_cast<double>(small);
  state.counters["large_items"] = static_cast<double>(large);
  state.SetLabel(state.counters["pipeline_growth"] <= 1.10 ? "target met (<= 1.10)"
                                                           : "target missed (> 1.10)");
}

// Reads an unsigned number; exits with a message on anything else.
std::uint64_t parse_count(std::string_view flag, std::string_view text) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    std::fprintf(stderr, "bench_memory: %.*s: not a number: '%.*s'\n",
                 static_cast<int>(flag.size()), flag.data(), static_cast<int>(text.size()),
                 text.data());
    std::exit(2);
  }
  return v;
}

// "1000000,10000000": sorted, each above 0; exits with a message on anything else.
std::vector<std::uint64_t> parse_sizes(std::string_view flag, std::string_view list) {
  std::vector<std::uint64_t> sizes;
  while (!list.empty()) {
    const std::size_t comma = std::min(list.find(','), list.size());
    sizes.push_back(parse_count(flag, list.substr(0, comma)));
    list.remove_prefix(std::min(comma + 1, list.size()));
  }
  std::sort(sizes.begin(), sizes.end());
  if (sizes.empty() || sizes.front() == 0) {
    std::fprintf(stderr, "bench_memory: %.*s needs sizes above 0\n", static_cast<int>(flag.size()),
                 flag.data());
    std::exit(2);
  }
  return sizes;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_memory: peak resident memory of a back-pressured pipeline as input grows"};
  Settings settings;
  std::string sizes;
  std::string unbounded_sizes;
  std::string sink_ns;
  std::string child;
  std::string child_items;
  app.add_option("--memory_sizes", sizes, "input sizes, e.g. 1000000,10000000 [1M,10M]");
  app.add_option("--memory_unbounded_sizes", unbounded_sizes,
                 "sizes of the unbounded cases, or none [100k,1M]");
  app.add_option("--memory_sink_ns", sink_ns, "time the sink spins per item, ns [1000]");
  // How the program runs itself as a measured child; not for users.
  app.add_option("--memory_child", child)->group("");
  app.add_option("--memory_items", child_items)->group("");
  sluice::bench::BenchArgs rest;
  if (const auto rc = sluice::bench::parse_flags(app, argc, argv, rest)) return *rc;
  if (!sizes.empty()) settings.sizes = parse_sizes("--memory_sizes", sizes);
  if (!unbounded_sizes.empty()) {
    settings.unbounded_sizes = unbounded_sizes == "none"
                                   ? std::vector<std::uint64_t>{}
                                   : parse_sizes("--memory_unbounded_sizes", unbounded_sizes);
  }
  if (!sink_ns.empty()) settings.sink_ns = parse_count("--memory_sink_ns", sink_ns);
  if (!child.empty()) {
    const std::uint64_t n = child_items.empty() ? 0 : parse_count("--memory_items", child_items);
    return run_child(child, n, settings.sink_ns);
  }

  for (const std::string mode : {"loop", "pipeline", "unbounded"}) {
    for (const std::uint64_t items :
         mode == "unbounded" ? settings.unbounded_sizes : settings.sizes) {
      benchmark::RegisterBenchmark(
          (mode + "/items:" + std::to_string(items)).c_str(),
          [mode, items, &settings](benchmark::State& s) { run_case(s, mode, items, settings); })
          ->Iterations(1)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::RegisterBenchmark("pipeline/growth", [&settings](benchmark::State& s) {
    growth(s, settings);
  })->Iterations(1);

  benchmark::AddCustomContext("memory_sink_ns", std::to_string(settings.sink_ns));
  benchmark::Initialize(&rest.argc, rest.argv.data());
  if (benchmark::ReportUnrecognizedArguments(rest.argc, rest.argv.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
