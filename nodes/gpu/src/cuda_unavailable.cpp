// The CUDA seam in a build without CUDA: no device, and asking for one is an error.
#include "cuda_backend.hpp"

#include <stdexcept>

namespace sluice::gpu::detail {

const CudaProbe& probe_cuda() noexcept {
  static const CudaProbe probe{
      0, "this build of sluice has no CUDA backend (SLUICE_CUDA=OFF or no CUDA toolkit found)"};
  return probe;
}

std::shared_ptr<CopyEngine> make_cuda_copy_engine(int /*device*/) {
  throw std::runtime_error("sluice::gpu: " + probe_cuda().reason);
}

}  // namespace sluice::gpu::detail
