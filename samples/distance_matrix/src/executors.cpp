#include "executors.hpp"

#include <array>

namespace distance_matrix {
namespace {
constexpr std::array<std::string_view, 5> kNames = {"sequential", "threads", "threadpool",
                                                    "pipeline", "parallel_for"};
}  // namespace

std::span<const std::string_view> executor_names() noexcept {
  return kNames;
}

std::string_view executor_name(ExecutorKind kind) noexcept {
  return kNames[static_cast<std::size_t>(kind)];
}

std::optional<ExecutorKind> parse_executor(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<ExecutorKind>(i);
  }
  return std::nullopt;
}

void run_executor(ExecutorKind kind, const PairWriter& pairs, RowSink& sink,
                  const ExecutorOptions& options) {
  switch (kind) {
    case ExecutorKind::sequential:
      return run_sequential(pairs, sink, options);
    case ExecutorKind::threads:
      return run_threads(pairs, sink, options);
    case ExecutorKind::threadpool:
      return run_threadpool(pairs, sink, options);
    case ExecutorKind::pipeline:
      return run_pipeline(pairs, sink, options);
    case ExecutorKind::parallel_for:
      return run_parallel_for(pairs, sink, options);
  }
}

}  // namespace distance_matrix
