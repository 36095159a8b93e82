// pipeline: the sluice engine. A source of row indices -> "compute" formats rows on up to
// --threads workers -> "write" takes them through the engine's reorder buffer and hands them
// to the sink in row order. At most 2 x --threads rows are alive at once (max_in_flight),
// which is what bounds memory however large the matrix.
#include <algorithm>
#include <cstddef>
#include <ranges>
#include <string>
#include <utility>

#include <sluice/sluice.hpp>

#include "executors.hpp"

namespace distance_matrix {
namespace {

// What travels from the compute stage to the writer: a row and its CSV text.
struct RowBlock {
  std::size_t row = 0;
  std::string text;
};

// rows -> compute (up to `threads` at once) -> write (in row order) into `write`.
template <class Write>
sluice::Pipeline build(const PairWriter& pairs, std::size_t threads, Write write) {
  const auto compute = [&pairs](std::size_t row) { return RowBlock{row, pairs.row(row)}; };
  // Rows are computed in any order; the one reorder buffer that matters sits in front of
  // the writer.
  return sluice::from("rows", std::views::iota(std::size_t{0}, pairs.row_count()))
      .map("compute", compute, {.concurrency = threads})
      .sink("write", std::move(write), {.ordered = true});
}

}  // namespace

void run_pipeline(const PairWriter& pairs, RowSink& sink, const ExecutorOptions& options) {
  const std::size_t threads = std::max(1u, options.threads);
  // A stage failure (a write that fails) stops the run: run() throws sluice::PipelineError,
  // a std::runtime_error naming the stage and the row.
  build(pairs, threads, [&sink](RowBlock&& block) {
    sink.write_row(block.row, block.text);
  }).run({.threads = threads, .max_in_flight = 2 * threads});
}

std::string pipeline_dot(const PairWriter& pairs, const ExecutorOptions& options) {
  return build(pairs, std::max(1u, options.threads), [](RowBlock&&) {}).to_dot();
}

}  // namespace distance_matrix
