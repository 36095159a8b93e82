// parallel_for: tbb::parallel_for over a block of rows at a time, in a task_arena of
// --threads. Rows of a block are written in order while the next block computes, so the
// output keeps its order and at most two blocks of rows are held.
#include <algorithm>
#include <string>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include "executors.hpp"

namespace distance_matrix {

void run_parallel_for(const PairWriter& pairs, RowSink& sink, const ExecutorOptions& options) {
  const unsigned threads = options.threads == 0 ? 1 : options.threads;
  // Four rows per thread give the scheduler room to balance uneven rows within a block.
  const std::size_t block_rows = 4 * std::size_t{threads};
  const std::size_t rows = pairs.row_count();
  std::vector<std::string> computing(block_rows);
  std::vector<std::string> computed(block_rows);
  std::size_t computed_first = 0;
  std::size_t computed_count = 0;

  auto write_computed = [&] {
    for (std::size_t k = 0; k < computed_count; ++k) {
      sink.write_row(computed_first + k, computed[k]);
    }
  };

  tbb::task_arena arena(static_cast<int>(threads));
  arena.execute([&] {
    for (std::size_t first = 0; first < rows; first += block_rows) {
      const std::size_t count = std::min(block_rows, rows - first);
      tbb::task_group writer;
      writer.run(write_computed);  // the previous block, alongside this one's computation
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, count, 1),
                        [&](const tbb::blocked_range<std::size_t>& range) {
                          for (std::size_t k = range.begin(); k != range.end(); ++k) {
                            computing[k].clear();
                            pairs.format_row(first + k, computing[k]);
                          }
                        });
      writer.wait();
      std::swap(computing, computed);
      computed_first = first;
      computed_count = count;
    }
    write_computed();
  });
}

}  // namespace distance_matrix
