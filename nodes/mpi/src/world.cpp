#include "sluice/mpi/world.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace sluice::mpi {

World::World() {
  start(nullptr, nullptr);
}

World::World(int& argc, char**& argv) {
  start(&argc, &argv);
}

void World::start(int* argc, char*** argv) {
  int running = 0;
  MPI_Initialized(&running);
  if (running != 0) {
    MPI_Query_thread(&thread_level_);
  } else {
    if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &thread_level_) != MPI_SUCCESS) {
      throw std::runtime_error("sluice::mpi: MPI_Init_thread failed");
    }
    started_here_ = true;
  }
  if (thread_level_ < MPI_THREAD_FUNNELED) {
    if (started_here_) MPI_Finalize();
    throw std::runtime_error(
        "sluice::mpi: the MPI library gives thread level " + std::to_string(thread_level_) +
        "; sluice needs at least MPI_THREAD_FUNNELED (the pipeline runs on worker threads)");
  }
  MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
  // Errors come back as codes (check() turns them into exceptions that name the call),
  // rather than MPI ending the process without saying which of sluice's calls failed.
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

World::~World() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized != 0) return;
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  if (started_here_) MPI_Finalize();
}

void World::barrier() const {
  check(MPI_Barrier(comm_), "MPI_Barrier");
}

void World::abort(int code, const std::string& message) const noexcept {
  std::fprintf(stderr, "sluice::mpi: rank %d of %d: %s\n", rank_, size_, message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();  // MPI_Abort does not return; this keeps [[noreturn]] honest
}

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw std::runtime_error(std::string("sluice::mpi: ") + what +
                           " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

}  // namespace sluice::mpi
