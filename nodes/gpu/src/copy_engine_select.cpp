// make_copy_engine: the --device auto|cpu|cuda decision, and the one-time fallback notice.
#include <sluice/gpu/copy_engine.hpp>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "cuda_backend.hpp"

namespace sluice::gpu {
namespace {

// Once per process: a loader that builds a stage per epoch should not repeat it.
std::atomic<bool> fallback_announced{false};

void announce_fallback(const NoticeSink& notice) {
  if (fallback_announced.exchange(true)) return;
  const std::string line = "sluice: no usable CUDA device (" + detail::probe_cuda().reason +
                           "); GPU transfers use the host backend";
  if (notice) {
    notice(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

}  // namespace

std::shared_ptr<CopyEngine> make_copy_engine(Device device, const NoticeSink& notice,
                                             int cuda_device) {
  switch (device) {
    case Device::cpu:
      return make_host_copy_engine();
    case Device::cuda:
      if (detail::probe_cuda().devices == 0) {
        throw std::runtime_error(
            "sluice::gpu: --device cuda requested but no CUDA device is "
            "usable: " +
            detail::probe_cuda().reason);
      }
      if (cuda_device < 0 || cuda_device >= detail::probe_cuda().devices) {
        throw std::runtime_error("sluice::gpu: CUDA device " + std::to_string(cuda_device) +
                                 " does not exist (" +
                                 std::to_string(detail::probe_cuda().devices) + " found)");
      }
      return detail::make_cuda_copy_engine(cuda_device);
    case Device::auto_detect:
      if (detail::probe_cuda().devices > 0)
        return make_copy_engine(Device::cuda, notice, cuda_device);
      announce_fallback(notice);
      return make_host_copy_engine();
  }
  throw std::invalid_argument("sluice::gpu: unknown Device value");
}

}  // namespace sluice::gpu
