#include "compare_executors.hpp"

#include <chrono>
#include <exception>

#include "row_sink.hpp"

namespace distance_matrix {

std::vector<ExecutorTiming> compare_executors(const PairWriter& pairs,
                                              const ExecutorOptions& options) {
  std::vector<ExecutorTiming> timings;
  for (const std::string_view name : executor_names()) {
    ExecutorTiming timing;
    timing.kind = *parse_executor(name);
    DigestRowSink sink;
    sink.write_text(kCsvHeader);
    const auto start = std::chrono::steady_clock::now();
    try {
      run_executor(timing.kind, pairs, sink, options);
      timing.ran = true;
    } catch (const std::exception& e) {
      timing.error = e.what();
    }
    timing.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    timing.digest = sink.digest();
    timing.bytes = sink.bytes();
    timings.push_back(std::move(timing));
  }
  return timings;
}

bool print_comparison(std::FILE* out, const std::vector<ExecutorTiming>& timings,
                      std::uint64_t total_pairs, unsigned threads) {
  double sequential_seconds = 0.0;
  const ExecutorTiming* reference = nullptr;
  for (const ExecutorTiming& t : timings) {
    if (!t.ran) continue;
    if (!reference) reference = &t;
    if (t.kind == ExecutorKind::sequential) sequential_seconds = t.seconds;
  }
  bool identical = true;
  std::fprintf(out, "%-13s %7s %10s %11s %8s  %-16s %s\n", "executor", "threads", "seconds",
               "M pairs/s", "speedup", "output fnv1a-64", "bytes");
  for (const ExecutorTiming& t : timings) {
    const std::string_view name = executor_name(t.kind);
    if (!t.ran) {
      std::fprintf(out, "%-13.*s  not run: %s\n", static_cast<int>(name.size()), name.data(),
                   t.error.c_str());
      continue;
    }
    identical = identical && t.digest == reference->digest && t.bytes == reference->bytes;
    const unsigned used = t.kind == ExecutorKind::sequential ? 1 : threads;
    const double speedup = t.seconds > 0 ? sequential_seconds / t.seconds : 0.0;
    std::fprintf(out, "%-13.*s %7u %10.3f %11.2f %7.2fx  %016llx %llu\n",
                 static_cast<int>(name.size()), name.data(), used, t.seconds,
                 t.seconds > 0 ? static_cast<double>(total_pairs) / t.seconds / 1e6 : 0.0, speedup,
                 static_cast<unsigned long long>(t.digest),
                 static_cast<unsigned long long>(t.bytes));
  }
  std::fprintf(out, "outputs %s\n", identical ? "byte-identical" : "DIFFER");
  return identical;
}

}  // namespace distance_matrix
