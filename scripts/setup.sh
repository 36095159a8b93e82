#!/usr/bin/env bash
# Installs the Debian packages sluice builds against. Idempotent: when every
# package is present it only checks and returns (no apt-get update).
#   scripts/setup.sh           # what sluice builds against
#   scripts/setup.sh --tsan    # and deb-src entries, for the TSan build's oneTBB
#   scripts/setup.sh --fuzz    # and clang with libFuzzer, for scripts/fuzz.sh
set -euo pipefail

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# The TSan build compiles oneTBB from Debian's source package (scripts/tsan_tbb.sh),
# so apt needs deb-src entries for the same suites as the binary ones.
enable_deb_src() {
  if apt-cache showsrc libtbb-dev 2>/dev/null | grep -q '^Package:'; then return; fi
  local deb822=/etc/apt/sources.list.d/debian.sources
  if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "setup: enabling deb-src for the suites apt already uses"
    if [ -f "$deb822" ]; then
      sed 's/^Types:.*/Types: deb-src/' "$deb822" |
        $sudo tee /etc/apt/sources.list.d/sluice-deb-src.sources >/dev/null
    else
      grep -hE '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
        $sudo tee /etc/apt/sources.list.d/sluice-deb-src.list >/dev/null
    fi
  fi
  $sudo apt-get update -q
}
if [ "${1:-}" = "--tsan" ]; then enable_deb_src; fi

packages=(
  build-essential cmake ninja-build pkg-config
  libtbb-dev
  libcurl4-openssl-dev
  libgtest-dev libgmock-dev
  libbenchmark-dev
  libevent-dev
  zlib1g-dev
  libturbojpeg0-dev
  libcli11-dev
  nlohmann-json3-dev
  openmpi-bin libopenmpi-dev libcereal-dev
  wrk
  python3-matplotlib
)
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang-14 libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
$sudo apt-get update -q
$sudo apt-get install -y --no-install-recommends "${missing[@]}"
