#include "progress_meter.hpp"

namespace distance_matrix {
namespace {
constexpr auto kQuietFor = std::chrono::seconds(1);
constexpr auto kRedrawEvery = std::chrono::milliseconds(200);
}  // namespace

ProgressMeter::ProgressMeter(std::FILE* out, bool enabled, std::size_t total_rows,
                             std::uint64_t total_pairs)
    : out_(out),
      enabled_(enabled),
      total_rows_(total_rows),
      total_pairs_(total_pairs),
      start_(Clock::now()),
      next_draw_(start_ + kQuietFor) {}

void ProgressMeter::update(std::size_t rows_done, std::uint64_t pairs_done) {
  if (!enabled_) return;
  const Clock::time_point now = Clock::now();
  if (now < next_draw_) return;
  next_draw_ = now + kRedrawEvery;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double percent =
      total_pairs_ ? 100.0 * static_cast<double>(pairs_done) / static_cast<double>(total_pairs_)
                   : 100.0;
  // \r and the clear-to-end-of-line escape redraw the same line in place.
  std::fprintf(out_, "\r\033[Krows %zu/%zu  pairs %.1f%%  %.3g M pairs/s  %.1f s", rows_done,
               total_rows_, percent, static_cast<double>(pairs_done) / seconds / 1e6, seconds);
  std::fflush(out_);
  drawn_ = true;
}

void ProgressMeter::finish() {
  if (!drawn_) return;
  std::fputs("\r\033[K", out_);
  std::fflush(out_);
  drawn_ = false;
}

}  // namespace distance_matrix
