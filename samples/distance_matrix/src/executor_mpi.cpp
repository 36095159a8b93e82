#include "executor_mpi.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <sluice/sluice.hpp>

namespace distance_matrix {

sluice::Report run_pipeline_mpi(const sluice::mpi::World& world, const PairWriter& pairs,
                                RowSink& sink, const ExecutorOptions& options) {
  const std::size_t threads = std::max(1u, options.threads);
  const sluice::mpi::Shard rows(pairs.row_count(), world, sluice::mpi::Sharding::strided);
  using Row = std::pair<std::uint64_t, std::string>;
  std::vector<Row> mine;
  mine.reserve(rows.size());
  const sluice::Report report =
      sluice::from("rows", rows.indices())
          .map("compute",
               [&pairs](std::uint64_t row) {
                 return Row{row, pairs.row(row)};
               },
               {.concurrency = threads})
          .sink("keep", [&mine](Row&& row) { mine.push_back(std::move(row)); })
          .run({.threads = threads, .max_in_flight = 2 * threads});
  const std::vector<std::string> all = sluice::mpi::gather_ordered(world, std::move(mine));
  for (std::size_t row = 0; row < all.size(); ++row) sink.write_row(row, all[row]);
  return sluice::mpi::reduce(world, report);
}

}  // namespace distance_matrix
