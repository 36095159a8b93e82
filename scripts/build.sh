#!/usr/bin/env bash
# Installs what is missing, configures and builds sluice.
#   scripts/build.sh                 # build/ (RelWithDebInfo): library, samples, tests, benchmarks
#   scripts/build.sh --sanitize      # build-asan/: ASan + UBSan, library and tests only
#   scripts/build.sh --tsan          # build-tsan/: ThreadSanitizer, against a oneTBB built
#                                    #   with TSan (scripts/tsan_tbb.sh, once, in build-tsan/)
#   scripts/build.sh --release       # build-release/: Release, for benchmarks
set -euo pipefail
cd "$(dirname "$0")/.."

preset=default
case "${1:-}" in
  --sanitize) preset=asan ;;
  --tsan) preset=tsan ;;
  --release) preset=release ;;
  "") ;;
  *) echo "usage: scripts/build.sh [--sanitize|--tsan|--release]" >&2; exit 2 ;;
esac

if [ "$preset" = tsan ]; then
  bash scripts/setup.sh --tsan
  bash scripts/tsan_tbb.sh build-tsan >/dev/null
else
  bash scripts/setup.sh
fi
cmake --preset "$preset" >/dev/null
jobs=$(nproc 2>/dev/null || echo 2)
cmake --build --preset "$preset" -j "$jobs"
