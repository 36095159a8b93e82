// The flags of a benchmark program: its own parsed by CLI11, every other argument left, in
// order, for Google Benchmark (--benchmark_filter=..., --benchmark_format=json, ...).
//
//   CLI::App app{"bench_x: what it measures"};
//   app.add_option("--device", device, "auto, cpu or cuda");
//   sluice::bench::BenchArgs rest;
//   if (const auto rc = sluice::bench::parse_flags(app, argc, argv, rest)) return *rc;
//   benchmark::Initialize(&rest.argc, rest.argv.data());
//   if (benchmark::ReportUnrecognizedArguments(rest.argc, rest.argv.data())) return 2;
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace sluice::bench {

/// What is left for benchmark::Initialize: argv[0] and the arguments not ours.
struct BenchArgs {
  std::vector<std::string> storage;
  std::vector<char*> argv;  ///< into storage, ending in nullptr
  int argc = 0;
};

/// Parses `app`'s flags out of argc/argv into `rest`. Returns the exit status to leave
/// with when the program should stop here (0 after --help; 2 after a bad flag, its
/// message printed), nullopt to go on.
inline std::optional<int> parse_flags(CLI::App& app, int argc, char** argv, BenchArgs& rest) {
  app.allow_extras();
  app.footer(
      "Other arguments go to Google Benchmark (--benchmark_filter=REGEX, "
      "--benchmark_repetitions=N, --benchmark_format=json, --benchmark_out=FILE, ...).");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  rest.storage.clear();
  rest.storage.emplace_back(argc > 0 ? argv[0] : "bench");
  for (std::string& arg : app.remaining()) rest.storage.push_back(std::move(arg));
  rest.argv.clear();
  for (std::string& arg : rest.storage) rest.argv.push_back(arg.data());
  rest.argv.push_back(nullptr);
  rest.argc = static_cast<int>(rest.storage.size());
  return std::nullopt;
}

}  // namespace sluice::bench
