// threads: the seed's "a thread per calculation", at the granularity of a row. A new
// std::thread is started for every row; to keep N = 20,000 from meaning 20,000 threads (and
// 20,000 rows in memory) at once, rows go in waves of --threads threads. While one wave
// computes, the calling thread writes the previous wave, so at most two waves are held.
// Creating and joining a thread per row is the overhead this executor exists to show.
#include <algorithm>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "executors.hpp"

namespace distance_matrix {
namespace {

class Wave {
 public:
  // Starts one thread per row in [first, first + count).
  void start(const PairWriter& pairs, std::size_t first, std::size_t count) {
    first_ = first;
    blocks_.assign(count, std::string());
    errors_.assign(count, nullptr);
    threads_.reserve(count);
    for (std::size_t k = 0; k < count; ++k) {
      threads_.emplace_back([this, &pairs, k] {
        // An exception escaping a std::thread would terminate the program; carry it over.
        try {
          pairs.format_row(first_ + k, blocks_[k]);
        } catch (...) {
          errors_[k] = std::current_exception();
        }
      });
    }
  }

  // Joins every thread of the wave and rethrows the first failure.
  void join() {
    for (std::jthread& thread : threads_) thread.join();
    threads_.clear();
    for (const std::exception_ptr& error : errors_) {
      if (error) std::rethrow_exception(error);
    }
  }

  void write(RowSink& sink) {
    for (std::size_t k = 0; k < blocks_.size(); ++k) sink.write_row(first_ + k, blocks_[k]);
    blocks_.clear();
  }

  bool empty() const noexcept { return blocks_.empty(); }

 private:
  std::size_t first_ = 0;
  std::vector<std::string> blocks_;
  std::vector<std::exception_ptr> errors_;
  // Last, so that on an exception the threads are joined before the blocks they write go.
  std::vector<std::jthread> threads_;
};

}  // namespace

void run_threads(const PairWriter& pairs, RowSink& sink, const ExecutorOptions& options) {
  const std::size_t wave_size = std::max(1u, options.threads);
  Wave waves[2];
  Wave* computing = &waves[0];
  Wave* computed = &waves[1];
  for (std::size_t first = 0; first < pairs.row_count(); first += wave_size) {
    computing->start(pairs, first, std::min(wave_size, pairs.row_count() - first));
    computed->write(sink);  // the previous wave, while this one computes
    computing->join();
    std::swap(computing, computed);
  }
  computed->write(sink);
}

}  // namespace distance_matrix
