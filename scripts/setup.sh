#!/usr/bin/env bash
# Installs the Debian packages sluice builds against. Idempotent: when every
# package is present it only checks and returns (no apt-get update).
set -euo pipefail

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
  wrk
  python3-matplotlib
)

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
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y --no-install-recommends "${missing[@]}"
