// sluice::version(): the library's version string, e.g. "0.1.0".
#pragma once

namespace sluice {

const char* version() noexcept;

}  // namespace sluice
