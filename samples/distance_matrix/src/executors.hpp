// The five ways to compute the matrix, one file each. They all take the same rows from a
// PairWriter and hand them to a RowSink in row order, so their outputs are byte-identical;
// they differ only in how rows are spread over threads (the comparison seed 002 makes):
//
//   sequential    one row after another on the calling thread
//   threads       a new std::thread per row, started in waves of --threads
//   threadpool    a fixed pool of --threads workers fed row tasks
//   pipeline      a sluice pipeline: row indices -> compute (parallel, ordered) -> write
//   parallel_for  tbb::parallel_for over blocks of rows
//
// Memory stays bounded: each holds at most a few rows per thread before writing them.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "pair_writer.hpp"
#include "row_sink.hpp"

namespace distance_matrix {

enum class ExecutorKind { sequential, threads, threadpool, pipeline, parallel_for };

struct ExecutorOptions {
  unsigned threads = 1;  // worker threads (executors that use threads); 0 is taken as 1
};

/// Every executor's name, in the order above.
std::span<const std::string_view> executor_names() noexcept;
std::string_view executor_name(ExecutorKind kind) noexcept;
std::optional<ExecutorKind> parse_executor(std::string_view name) noexcept;

void run_sequential(const PairWriter& pairs, RowSink& sink, const ExecutorOptions& options);
void run_threads(const PairWriter& pairs, RowSink& sink, const ExecutorOptions& options);
void run_threadpool(const PairWriter& pairs, RowSink& sink, const ExecutorOptions& options);
void run_pipeline(const PairWriter& pairs, RowSink& sink, const ExecutorOptions& options);
void run_parallel_for(const PairWriter& pairs, RowSink& sink, const ExecutorOptions& options);

/// The pipeline executor's graph as Graphviz text (sluice's to_dot()), without running it.
///
///   std::cout << pipeline_dot(pairs, {.threads = 4});
std::string pipeline_dot(const PairWriter& pairs, const ExecutorOptions& options);

/// Runs the named executor. Exceptions (a failed write, an allocation failure in a worker)
/// propagate after every thread the executor started has finished.
void run_executor(ExecutorKind kind, const PairWriter& pairs, RowSink& sink,
                  const ExecutorOptions& options);

}  // namespace distance_matrix
