// A minimal fixed-size thread pool (the seed's hand-written thread_pool.py, in C++): a
// queue of tasks and --threads workers that take them one at a time.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace distance_matrix {

class ThreadPool {
 public:
  explicit ThreadPool(unsigned threads);
  /// Discards tasks not yet started, waits for the running ones, joins the workers.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Queues a task. Tasks must not throw (the pool has nowhere to report it).
  void submit(std::function<void()> task);

 private:
  void work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::jthread> workers_;  // last: started after, joined before, the rest
};

}  // namespace distance_matrix
