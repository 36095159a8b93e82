// A live progress line ("rows done / total, pairs/s") on a terminal.
//
// Quiet unless enabled (main enables it when stderr is a terminal), and silent for the first
// second so short runs print nothing but their summary. Redraws at most a few times a second,
// so calling update() once per row costs a clock read.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace distance_matrix {

class ProgressMeter {
 public:
  using Clock = std::chrono::steady_clock;

  ProgressMeter(std::FILE* out, bool enabled, std::size_t total_rows, std::uint64_t total_pairs);
  ~ProgressMeter() { finish(); }  // also on an error path, so the message starts a clean line
  ProgressMeter(const ProgressMeter&) = delete;
  ProgressMeter& operator=(const ProgressMeter&) = delete;

  /// Called by the (single) writer after each row reaches the output.
  void update(std::size_t rows_done, std::uint64_t pairs_done);
  /// Erases the progress line if one was drawn, so the summary starts on a clean line.
  void finish();

 private:
  std::FILE* out_;
  bool enabled_;
  std::size_t total_rows_;
  std::uint64_t total_pairs_;
  Clock::time_point start_;
  Clock::time_point next_draw_;
  bool drawn_ = false;
};

}  // namespace distance_matrix
