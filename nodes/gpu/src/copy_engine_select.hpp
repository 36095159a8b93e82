// The --device decision with its inputs passed in, so tests can give it a probe that
// counts a device the factory then cannot set up (exclusive-process or prohibited mode).
//
//   std::atomic<bool> announced{false};
//   auto engine = select_copy_engine(Device::auto_detect, notice, -1, probe, factory, announced);
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include <sluice/gpu/copy_engine.hpp>

#include "cuda_backend.hpp"

namespace sluice::gpu::detail {

/// Makes the CUDA engine for a device index (-1: the caller's current device); throws
/// when the device cannot be used.
using CudaEngineFactory = std::function<std::shared_ptr<CopyEngine>(int device)>;

/// make_copy_engine's logic: `probe` says how many devices were counted and why none,
/// `make_cuda` builds the CUDA engine, `announced` makes the fallback notice once.
std::shared_ptr<CopyEngine> select_copy_engine(Device device, const NoticeSink& notice,
                                               int cuda_device, const CudaProbe& probe,
                                               const CudaEngineFactory& make_cuda,
                                               std::atomic<bool>& announced);

}  // namespace sluice::gpu::detail
