// The seam between the backend-neutral code and the CUDA backend. Exactly one of
// cuda_backend.cpp (CUDA on) and cuda_unavailable.cpp (CUDA off) implements it, so a build
// without CUDA references no CUDA symbol.
#pragma once

#include <memory>
#include <string>

#include <sluice/gpu/copy_engine.hpp>

namespace sluice::gpu::detail {

struct CudaProbe {
  int devices = 0;
  std::string reason;  // why there is no device; empty when devices > 0
};

inline constexpr bool kCudaCompiled =
#ifdef SLUICE_GPU_CUDA_BACKEND
    true;
#else
    false;
#endif

/// Asks the runtime once per process how many devices are usable.
const CudaProbe& probe_cuda() noexcept;

/// The CUDA backend on `device`; throws std::runtime_error when it cannot be set up.
std::shared_ptr<CopyEngine> make_cuda_copy_engine(int device);

}  // namespace sluice::gpu::detail
