// threadpool: a fixed pool of --threads workers. The calling thread submits one task per
// row, a bounded window ahead of the output, and writes finished rows in order.
#include <exception>
#include <string>

#include "executors.hpp"
#include "reorder_window.hpp"
#include "thread_pool.hpp"

namespace distance_matrix {

void run_threadpool(const PairWriter& pairs, RowSink& sink, const ExecutorOptions& options) {
  const unsigned threads = options.threads == 0 ? 1 : options.threads;
  // Two rows per worker: one being computed, one ready while the writer catches up.
  ReorderWindow window(2 * std::size_t{threads});
  ThreadPool pool(threads);  // after the window: joined before the window it writes into goes
  std::size_t submitted = 0;
  for (std::size_t next = 0; next < pairs.row_count(); ++next) {
    for (; submitted < pairs.row_count() && submitted < next + window.capacity(); ++submitted) {
      pool.submit([&pairs, &window, row = submitted] {
        try {
          window.put(row, pairs.row(row));
        } catch (...) {
          window.fail(std::current_exception());
        }
      });
    }
    const std::string block = window.take(next);
    sink.write_row(next, block);
  }
}

}  // namespace distance_matrix
