// distance_matrix: great-circle distances between every pair of locations (seed 002).
//
//   distance_matrix                         the bundled cities, default executor, to stdout
//   distance_matrix places.csv -o out.csv   your file
//   distance_matrix --generate 4000 --executor threadpool --output /dev/null
//   distance_matrix --generate 2000 --compare   every executor, timed, outputs compared
//   distance_matrix --dot                   the pipeline executor's graph, not run
//   mpirun -np 4 distance_matrix --mpi -o out.csv   rows shared over 4 ranks, rank 0 writes
//
// main only parses flags, picks the input, and calls the library in src/.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "bundled_cities.hpp"
#include "compare_executors.hpp"
#include "csv_reader.hpp"
#include "executors.hpp"
#include "generate_locations.hpp"
#include "pair_writer.hpp"
#include "progress_meter.hpp"
#include "row_sink.hpp"

#ifdef DISTANCE_MATRIX_WITH_MPI
#include "executor_mpi.hpp"
#endif

namespace dm = distance_matrix;

namespace {

constexpr std::size_t kBadRowsShown = 20;  // per-row messages beyond this are only counted

const char* plural(std::uint64_t n) {
  return n == 1 ? "" : "s";
}

struct Flags {
  std::string input;  // empty: the bundled cities
  std::size_t generate = 0;
  std::uint64_t seed = 1;
  std::string output = "-";
  std::string executor = "pipeline";
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  bool strict = false;
  bool compare = false;
  bool dot = false;
  bool mpi = false;
  bool report = false;
};

dm::ReadResult load_input(const Flags& flags, CLI::App& app, std::string& source) {
  if (app.count("--generate") > 0) {
    source = "generated";
    return dm::ReadResult{dm::generate_locations(flags.generate, flags.seed), {}};
  }
  if (flags.input.empty()) {
    source = "bundled cities";
    return dm::read_locations(dm::bundled_cities_csv());
  }
  if (flags.input == "-") {
    source = "stdin";
    return dm::read_locations(std::cin);
  }
  source = flags.input;
  std::ifstream file(flags.input, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open input '" + flags.input + "'");
  return dm::read_locations(file);
}

// Every bad row gets a line on stderr (up to kBadRowsShown), `file:line: reason`.
void report_bad_rows(const dm::ReadResult& input, const std::string& source, bool strict) {
  const std::size_t shown = std::min(input.bad_rows.size(), kBadRowsShown);
  for (std::size_t i = 0; i < shown; ++i) {
    const dm::BadRow& bad = input.bad_rows[i];
    std::fprintf(stderr, "distance_matrix: %s:%zu: %s%s\n", source.c_str(), bad.line,
                 bad.reason.c_str(), strict ? "" : " (row skipped)");
  }
  if (input.bad_rows.size() > shown) {
    std::fprintf(stderr, "distance_matrix: ... and %zu more bad rows\n",
                 input.bad_rows.size() - shown);
  }
}

// The output stream: stdout for "-", else a file this program opens and must close
// without error (a full disk shows at close).
class OutputFile {
 public:
  explicit OutputFile(const std::string& path) : path_(path) {
    if (path_ == "-") return;
    file_ = std::fopen(path_.c_str(), "wb");
    if (file_ == nullptr) throw std::runtime_error("cannot open output '" + path_ + "'");
  }
  ~OutputFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  std::FILE* get() const noexcept { return path_ == "-" ? stdout : file_; }
  void close() {
    if (file_ == nullptr) return;
    const int rc = std::fclose(std::exchange(file_, nullptr));
    if (rc != 0) throw std::runtime_error("cannot close output '" + path_ + "'");
  }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

void print_summary(const dm::PairWriter& pairs, const std::string& how,
                   std::chrono::steady_clock::time_point start, std::size_t skipped);

int write_matrix(const Flags& flags, const dm::PairWriter& pairs, std::size_t skipped) {
  const dm::ExecutorKind kind = *dm::parse_executor(flags.executor);
  OutputFile file(flags.output);
  std::FILE* out = file.get();

  const auto start = std::chrono::steady_clock::now();
  dm::ProgressMeter meter(stderr, isatty(fileno(stderr)) != 0, pairs.row_count(),
                          pairs.total_pairs());
  {
    dm::FileRowSink file_sink(out);
    dm::ProgressRowSink sink(file_sink, meter, pairs.location_count());
    file_sink.write_text(dm::kCsvHeader);
    dm::run_executor(kind, pairs, sink, dm::ExecutorOptions{flags.threads});
    file_sink.flush();
  }
  meter.finish();
  file.close();
  const unsigned threads = kind == dm::ExecutorKind::sequential ? 1 : flags.threads;
  print_summary(pairs,
                flags.executor + ", " + std::to_string(threads) + " thread" + plural(threads),
                start, skipped);
  return 0;
}

// The closing line on stderr: how much, how, how fast.
void print_summary(const dm::PairWriter& pairs, const std::string& how,
                   std::chrono::steady_clock::time_point start, std::size_t skipped) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double rate = seconds > 0 ? static_cast<double>(pairs.total_pairs()) / seconds : 0.0;
  std::fprintf(
      stderr, "distance_matrix: %zu location%s, %llu pair%s, executor %s: ", pairs.location_count(),
      plural(pairs.location_count()), static_cast<unsigned long long>(pairs.total_pairs()),
      plural(pairs.total_pairs()), how.c_str());
  if (rate >= 1e6) {
    std::fprintf(stderr, "%.3f s, %.2f M pairs/s", seconds, rate / 1e6);
  } else {
    std::fprintf(stderr, "%.3f s, %.0f pairs/s", seconds, rate);
  }
  if (skipped > 0) std::fprintf(stderr, ", %zu bad row%s skipped", skipped, plural(skipped));
  std::fputc('\n', stderr);
}

#ifdef DISTANCE_MATRIX_WITH_MPI
// --mpi: every rank has read the same input; each computes its share of the rows and
// rank 0 writes them all. An error on one rank ends every rank (the others would wait
// for its rows for ever).
int write_matrix_mpi(const Flags& flags, const dm::PairWriter& pairs, std::size_t skipped,
                     const sluice::mpi::World& world) {
  try {
    const auto start = std::chrono::steady_clock::now();
    std::optional<OutputFile> file;
    std::optional<dm::FileRowSink> file_sink;
    dm::DigestRowSink unused;  // the other ranks' sink: never written
    if (world.is_root()) {
      file.emplace(flags.output);
      file_sink.emplace(file->get());
      file_sink->write_text(dm::kCsvHeader);
    }
    const sluice::Report report = dm::run_pipeline_mpi(
        world, pairs, file_sink ? static_cast<dm::RowSink&>(*file_sink) : unused,
        dm::ExecutorOptions{flags.threads});
    if (!world.is_root()) return 0;
    file_sink->flush();
    file_sink.reset();
    file->close();
    print_summary(pairs,
                  "pipeline over " + std::to_string(world.size()) + " rank" +
                      plural(static_cast<std::uint64_t>(world.size())) + " x " +
                      std::to_string(flags.threads) + " thread" + plural(flags.threads),
                  start, skipped);
    if (flags.report) std::cerr << report;
    return 0;
  } catch (const std::exception& e) {
    if (world.size() == 1) throw;
    world.abort(1, std::string("distance_matrix: error: ") + e.what());
  }
}
#endif

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{
      "Great-circle (haversine) distances between every pair of locations, written as CSV "
      "rows origin,destination,distance_km; the seed-002 comparison of executors."};
  app.add_option("input", flags.input,
                 "CSV file of name,latitude,longitude rows, no header ('-' reads stdin). "
                 "Default: the bundled list of world cities");
  app.add_option("--generate", flags.generate, "Use N random locations instead of a file")
      ->type_name("N")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1000000000}))  // signed: "-5" must not wrap
      ->excludes("input");
  app.add_option("--seed", flags.seed, "Random seed for --generate")->capture_default_str();
  app.add_option("-o,--output", flags.output, "Output CSV file ('-' is stdout)")
      ->capture_default_str();
  std::vector<std::string> names(dm::executor_names().begin(), dm::executor_names().end());
  app.add_option("-e,--executor", flags.executor,
                 "sequential: one thread; threads: a new thread per row (in waves of "
                 "--threads); threadpool: a fixed pool; pipeline: the sluice pipeline; "
                 "parallel_for: tbb::parallel_for")
      ->check(CLI::IsMember(names))
      ->capture_default_str();
  app.add_option("-t,--threads", flags.threads, "Worker threads")
      ->check(CLI::Range(1u, 4096u))
      ->capture_default_str();
  app.add_flag("--strict", flags.strict, "Fail (exit 1) on a bad input row instead of skipping it");
  app.add_flag("--compare", flags.compare,
               "Run every executor on the input, print a timing table, check outputs match "
               "(no CSV is written)")
      ->excludes("--output");
  app.add_flag("--dot", flags.dot,
               "Print the pipeline executor's graph (Graphviz) and exit without running");
#ifdef DISTANCE_MATRIX_WITH_MPI
  app.add_flag("--mpi", flags.mpi,
               "Share the rows over MPI ranks (run under mpirun); rank 0 gathers them and "
               "writes the same CSV one process would. The whole output must fit in rank 0's "
               "memory")
      ->excludes("--compare")
      ->excludes("--dot");
  app.add_flag("--report", flags.report,
               "With --mpi: print the run's report, reduced over the ranks, on stderr");
#endif
  CLI11_PARSE(app, argc, argv);
#ifdef DISTANCE_MATRIX_WITH_MPI
  if (flags.mpi && flags.executor != "pipeline") {
    std::fprintf(stderr, "distance_matrix: --mpi runs the pipeline executor, not '%s'\n",
                 flags.executor.c_str());
    return 1;
  }
  std::optional<sluice::mpi::World> world;
  if (flags.mpi) world.emplace(argc, argv);
  const bool speaks = !world || world->is_root();  // one rank reports bad rows
#else
  const bool speaks = true;
#endif

  try {
    if (flags.dot) {
      std::cout << dm::pipeline_dot(dm::PairWriter({}), dm::ExecutorOptions{flags.threads});
      return 0;
    }
    std::string source;
    const dm::ReadResult input = load_input(flags, app, source);
    if (speaks) report_bad_rows(input, source, flags.strict);
    if (flags.strict && !input.bad_rows.empty()) {
      if (speaks)
        std::fprintf(stderr, "distance_matrix: %zu bad row%s in %s; failing (--strict)\n",
                     input.bad_rows.size(), plural(input.bad_rows.size()), source.c_str());
      return 1;
    }
    const dm::PairWriter pairs(input.locations);
    if (flags.compare) {
      const auto timings = dm::compare_executors(pairs, dm::ExecutorOptions{flags.threads});
      return dm::print_comparison(stdout, timings, pairs.total_pairs(), flags.threads) ? 0 : 1;
    }
#ifdef DISTANCE_MATRIX_WITH_MPI
    if (world) return write_matrix_mpi(flags, pairs, input.bad_rows.size(), *world);
#endif
    return write_matrix(flags, pairs, input.bad_rows.size());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "distance_matrix: error: %s\n", e.what());
    return 1;
  }
}
