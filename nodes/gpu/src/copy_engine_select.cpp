// make_copy_engine: the --device auto|cpu|cuda decision, and the one-time fallback notice.
#include "copy_engine_select.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

namespace sluice::gpu {
namespace detail {
namespace {

void announce_fallback(const NoticeSink& notice, const std::string& why,
                       std::atomic<bool>& announced) {
  if (announced.exchange(true)) return;
  const std::string line =
      "sluice: no usable CUDA device (" + why + "); GPU transfers use the host backend";
  if (notice) {
    notice(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

}  // namespace

std::shared_ptr<CopyEngine> select_copy_engine(Device device, const NoticeSink& notice,
                                               int cuda_device, const CudaProbe& probe,
                                               const CudaEngineFactory& make_cuda,
                                               std::atomic<bool>& announced) {
  switch (device) {
    case Device::cpu:
      return make_host_copy_engine();
    case Device::cuda:
      if (probe.devices == 0) {
        throw std::runtime_error(
            "sluice::gpu: --device cuda requested but no CUDA device is usable: " + probe.reason);
      }
      return make_cuda(cuda_device);
    case Device::auto_detect:
      if (probe.devices == 0) {
        announce_fallback(notice, probe.reason, announced);
        return make_host_copy_engine();
      }
      // Counted is not usable: a device in exclusive-process mode held by another
      // process, or in prohibited mode, fails only when it is set up.
      try {
        return make_cuda(cuda_device);
      } catch (const std::exception& e) {
        announce_fallback(notice, e.what(), announced);
        return make_host_copy_engine();
      }
  }
  throw std::invalid_argument("sluice::gpu: unknown Device value");
}

}  // namespace detail

namespace {
// Once per process: a loader that builds a stage per epoch should not repeat it.
std::atomic<bool> fallback_announced{false};
}  // namespace

std::shared_ptr<CopyEngine> make_copy_engine(Device device, const NoticeSink& notice,
                                             int cuda_device) {
  return detail::select_copy_engine(device, notice, cuda_device, detail::probe_cuda(),
                                    detail::make_cuda_copy_engine, fallback_announced);
}

}  // namespace sluice::gpu
