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
jobs=$(nproc 2>/dev/null || echo 2)
ctest --preset "$preset" -j "$jobs"
