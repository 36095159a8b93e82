#include <sluice/gpu/device.hpp>

#include <stdexcept>
#include <string>

#include "cuda_backend.hpp"

namespace sluice::gpu {

Device parse_device(std::string_view text) {
  if (text == "auto") return Device::auto_detect;
  if (text == "cpu") return Device::cpu;
  if (text == "cuda") return Device::cuda;
  throw std::invalid_argument("unknown device '" + std::string(text) +
                              "': expected auto, cpu or cuda");
}

std::string_view to_string(Device device) noexcept {
  switch (device) {
    case Device::auto_detect:
      return "auto";
    case Device::cpu:
      return "cpu";
    case Device::cuda:
      return "cuda";
  }
  return "unknown";
}

bool cuda_compiled() noexcept {
  return detail::kCudaCompiled;
}

int cuda_device_count() noexcept {
  return detail::probe_cuda().devices;
}

std::string cuda_unavailable_reason() {
  return detail::probe_cuda().reason;
}

}  // namespace sluice::gpu
