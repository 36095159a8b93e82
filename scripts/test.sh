#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through ctest.
#   scripts/test.sh              # build/
#   scripts/test.sh --sanitize   # build-asan/ (ASan + UBSan)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh "$@"
preset=default
[ "${1:-}" = "--sanitize" ] && preset=asan
jobs=$(nproc 2>/dev/null || echo 2)
ctest --preset "$preset" -j "$jobs"
