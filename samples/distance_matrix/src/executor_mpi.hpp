// The pipeline executor over MPI ranks: each rank computes its share of the rows (dealt
// round-robin, since row i holds n - 1 - i pairs and a block of early rows would hold far
// more work than a block of late ones), and rank 0 writes them all, in row order, so the
// output is byte-identical to one process's.
//
//   sluice::mpi::World world(argc, argv);
//   distance_matrix::run_pipeline_mpi(world, pairs, sink, {.threads = 2});  // sink: rank 0's
//
// The rows are gathered whole at rank 0 before it writes them: the output must fit in
// rank 0's memory (a 20,000-location matrix is about 12 GB of CSV).
#pragma once

#include <sluice/mpi.hpp>
#include <sluice/report.hpp>

#include "executors.hpp"

namespace distance_matrix {

/// Runs this rank's share and gathers the rows to rank 0, which writes them to `sink` (the
/// other ranks never touch it). Returns the run's report reduced over the ranks (at rank 0;
/// each other rank gets its own). Every rank must call it.
sluice::Report run_pipeline_mpi(const sluice::mpi::World& world, const PairWriter& pairs,
                                RowSink& sink, const ExecutorOptions& options);

}  // namespace distance_matrix
