// sequential: the baseline every other executor is measured against.
#include <string>

#include "executors.hpp"

namespace distance_matrix {

void run_sequential(const PairWriter& pairs, RowSink& sink, const ExecutorOptions&) {
  std::string block;  // reused: one allocation for the whole run
  for (std::size_t row = 0; row < pairs.row_count(); ++row) {
    block.clear();
    pairs.format_row(row, block);
    sink.write_row(row, block);
  }
}

}  // namespace distance_matrix
