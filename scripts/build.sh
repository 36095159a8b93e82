#!/usr/bin/env bash
# Installs what is missing, configures and builds sluice.
#   scripts/build.sh                 # build/ (RelWithDebInfo): library, samples, tests, benchmarks
#   scripts/build.sh --sanitize      # build-asan/: ASan + UBSan, library and tests only
#   scripts/build.sh --release       # build-release/: Release, for benchmarks
set -euo pipefail
cd "$(dirname "$0")/.."

preset=default
case "${1:-}" in
  --sanitize) preset=asan ;;
  --release) preset=release ;;
  "") ;;
  *) echo "usage: scripts/build.sh [--sanitize|--release]" >&2; exit 2 ;;
esac

bash scripts/setup.sh
cmake --preset "$preset" >/dev/null
jobs=$(nproc 2>/dev/null || echo 2)
cmake --build --preset "$preset" -j "$jobs"
