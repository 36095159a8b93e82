#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang and ASan + UBSan into build-fuzz/,
# and runs one target or all of them, each for N seconds (default 60).
#   scripts/fuzz.sh                         # every target, 60 s each
#   scripts/fuzz.sh request_target --seconds 600
#   scripts/fuzz.sh --list                  # the target names
#   scripts/fuzz.sh jpeg --keep             # also merge inputs with new coverage into the corpus
#   scripts/fuzz.sh csv_reader --runs 10000000 --seconds 3600   # stop at N executions or N s
#   scripts/fuzz.sh jpeg --timeout 120      # one input may take N s (default 10; raise it when
#                                           #   the fuzzer shares a busy machine at low priority)
# Each target starts from its committed corpus, tests/fuzz/corpus/<target>/. New inputs it
# finds go to build-fuzz/corpus/<target>/ (kept between runs, never committed unless --keep
# merges the ones that add coverage). A crash is kept in build-fuzz/crashes/<target>/ and
# reported; commit that file to the target's corpus together with the fix, so the corpus
# replay (ctest -L fuzz, in every build) keeps it fixed. Exits 1 when any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
runs=-1
timeout=10
keep=0
only=""
list=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --list) list=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) only="$1"; shift ;;
  esac
done

targets=()
for source in tests/fuzz/targets/*_fuzz.cpp; do
  name=$(basename "$source" _fuzz.cpp)
  targets+=("$name")
done
if [ "$list" = 1 ]; then printf '%s\n' "${targets[@]}"; exit 0; fi
if [ -n "$only" ]; then
  if [ ! -f "tests/fuzz/targets/${only}_fuzz.cpp" ]; then
    echo "fuzz.sh: no target '$only'; targets: ${targets[*]}" >&2
    exit 2
  fi
  targets=("$only")
fi

# The longest input each target is given: a few times its largest real input.
max_len_of() {
  case "$1" in
    jpeg) echo 65536 ;;
    http_response) echo 16384 ;;
    request_target) echo 8192 ;;
    csv_reader) echo 4096 ;;
    url_scheme) echo 2048 ;;
    *) echo 512 ;;
  esac
}

bash scripts/setup.sh --fuzz
build=build-fuzz
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSLUICE_FUZZ=ON -DSLUICE_BUILD_BENCH=OFF -DSLUICE_BUILD_SAMPLES=OFF -DSLUICE_CUDA=OFF \
    >/dev/null
fi
jobs=$(nproc 2>/dev/null || echo 2)
cmake --build "$build" -j "$jobs" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
crashed=()
summary=()
for name in "${targets[@]}"; do
  corpus="tests/fuzz/corpus/$name"
  scratch="$build/corpus/$name"
  crashes="$build/crashes/$name"
  log="$build/logs/$name.log"
  mkdir -p "$corpus" "$scratch" "$crashes" "$(dirname "$log")"
  dict=()
  [ -f "tests/fuzz/dict/$name.dict" ] && dict=(-dict="tests/fuzz/dict/$name.dict")
  echo "fuzz.sh: $name for ${seconds}s (log: $log)"
  status=0
  "$build/tests/fuzz/fuzz_$name" "$scratch" "$corpus" "${dict[@]}" \
    -max_total_time="$seconds" -runs="$runs" -max_len="$(max_len_of "$name")" -timeout="$timeout" \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1 ||
    status=$?
  executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
  line="$name: ${executed:-?} executions, cov ${cov:-?}, ft ${ft:-?}"
  if [ "$status" -ne 0 ]; then
    line="$line, CRASHED (exit $status): $(ls "$crashes" | tr '\n' ' ')"
    crashed+=("$name")
    grep -E 'ERROR: |check failed|runtime error|SUMMARY' "$log" | head -5 || true
  fi
  summary+=("$line")
  if [ "$keep" = 1 ] && [ "$status" -eq 0 ]; then
    "$build/tests/fuzz/fuzz_$name" -merge=1 -max_len="$(max_len_of "$name")" "$corpus" "$scratch" \
      >>"$log" 2>&1
    echo "fuzz.sh: merged inputs with new coverage into $corpus"
  fi
done

echo
printf 'fuzz.sh: %s\n' "${summary[@]}"
if [ ${#crashed[@]} -gt 0 ]; then
  echo "fuzz.sh: crashes in ${crashed[*]}: inputs in $build/crashes/<target>/, logs in $build/logs/"
  exit 1
fi
