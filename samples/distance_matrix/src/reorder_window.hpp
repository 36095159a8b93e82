// Hands blocks finished out of order to one reader in order, holding at most `capacity` of
// them. The reader admits work for a row only while row < next + capacity (it owns `next`),
// so a producer never waits and memory never exceeds capacity blocks.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace distance_matrix {

class ReorderWindow {
 public:
  explicit ReorderWindow(std::size_t capacity) : slots_(capacity == 0 ? 1 : capacity) {}

  std::size_t capacity() const noexcept { return slots_.size(); }

  /// Stores the block of `row`; the row must lie in the reader's window.
  void put(std::size_t row, std::string block) {
    {
      std::lock_guard lock(mutex_);
      slots_[row % slots_.size()] = std::move(block);
    }
    ready_.notify_one();
  }

  /// Records that `row` failed; take() rethrows it to the reader.
  void fail(std::exception_ptr error) {
    {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::move(error);
    }
    ready_.notify_one();
  }

  /// Waits for the block of `row` (the reader's next row) and removes it.
  std::string take(std::size_t row) {
    std::unique_lock lock(mutex_);
    std::optional<std::string>& slot = slots_[row % slots_.size()];
    ready_.wait(lock, [&] { return slot.has_value() || error_; });
    if (error_) std::rethrow_exception(error_);
    std::string block = std::move(*slot);
    slot.reset();
    return block;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<std::optional<std::string>> slots_;
  std::exception_ptr error_;
};

}  // namespace distance_matrix
