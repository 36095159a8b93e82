#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through ctest.
#   scripts/test.sh              # build/
#   scripts/test.sh --sanitize   # build-asan/ (ASan + UBSan)
#   scripts/test.sh --tsan       # build-tsan/ (ThreadSanitizer; engine, window, http,
#                                #   http_server, gpu and sample tests)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh "$@"
preset=default
case "${1:-}" in
  --sanitize) preset=asan ;;
  --tsan) preset=tsan ;;
esac
if [ "$preset" = tsan ]; then
  # The tests must load the TSan-built libtbb (through their RPATH), not the system one,
  # or TSan would report races inside tbb that are not there.
  tbb=$(ldd build-tsan/tests/engine/engine_tests | awk '/libtbb/ {print $3}')
  case "$tbb" in
    "$PWD"/build-tsan/tsan-tbb/install/lib/*) ;;
    *) echo "test.sh: engine_tests loads libtbb from '$tbb', not build-tsan/tsan-tbb" >&2; exit 1 ;;
  esac
fi
jobs=$(nproc 2>/dev/null || echo 2)
ctest --preset "$preset" -j "$jobs"
