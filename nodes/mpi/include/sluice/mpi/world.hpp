// sluice::mpi::World: MPI for the life of the program, and this process's place in it.
//
//   int main(int argc, char** argv) {
//     sluice::mpi::World world(argc, argv);       // MPI_Init_thread ... MPI_Finalize
//     auto rows = sluice::mpi::Shard(n, world);   // this rank's share of [0, n)
//     ...
//     if (world.is_root()) std::cout << report;
//   }
//
// Every rank runs the same program and builds the same graph over its own share of the
// input; items meet across ranks only where the program gathers or reduces them. The
// world asks for MPI_THREAD_MULTIPLE (the flow graph's threads may reach MPI) and says
// clearly when the library gives less than MPI_THREAD_FUNNELED. When MPI is already
// running (the program started it), the world neither starts nor stops it.
#pragma once

#include <mpi.h>

#include <string>

namespace sluice::mpi {

class World {
 public:
  World();
  World(int& argc, char**& argv);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }
  bool is_root() const noexcept { return rank_ == 0; }
  /// sluice's own communicator (a duplicate of MPI_COMM_WORLD): its messages never meet
  /// the program's.
  MPI_Comm comm() const noexcept { return comm_; }
  /// The thread support MPI gave (MPI_THREAD_FUNNELED or more).
  int thread_level() const noexcept { return thread_level_; }
  void barrier() const;
  /// Ends every rank at once with `code` after printing `message` (rank named) on stderr:
  /// for an error one rank meets while the others wait for it in a collective call.
  [[noreturn]] void abort(int code, const std::string& message) const noexcept;

 private:
  void start(int* argc, char*** argv);

  bool started_here_ = false;
  int rank_ = 0;
  int size_ = 1;
  int thread_level_ = 0;
  MPI_Comm comm_ = MPI_COMM_NULL;
};

/// Throws std::runtime_error naming `what` and MPI's own error text when `code` is not
/// MPI_SUCCESS (sluice's communicator returns errors instead of aborting).
void check(int code, const char* what);

}  // namespace sluice::mpi
