// --compare: the seed's experiment in one command. Runs every executor on the same input,
// keeps a digest of each output instead of the output, and reports time, throughput,
// speedup over sequential, and whether every output was byte-identical.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "executors.hpp"
#include "pair_writer.hpp"

namespace distance_matrix {

struct ExecutorTiming {
  ExecutorKind kind = ExecutorKind::sequential;
  bool ran = false;
  std::string error;  // why it did not run (ran == false)
  double seconds = 0.0;
  std::uint64_t digest = 0;
  std::uint64_t bytes = 0;
};

std::vector<ExecutorTiming> compare_executors(const PairWriter& pairs,
                                              const ExecutorOptions& options);

/// Prints the table; returns true when every executor that ran produced the same bytes.
bool print_comparison(std::FILE* out, const std::vector<ExecutorTiming>& timings,
                      std::uint64_t total_pairs, unsigned threads);

}  // namespace distance_matrix
