#!/usr/bin/env bash
# Every benchmark suite: builds Release, runs the suites, writes their JSON to
# bench/results/ and draws the plots (PNG, same folder).
#
#   bash bench/run.sh                  # everything (about 10 minutes on 2 cores, plus the numaflow grid)
#   bash bench/run.sh --quick          # a short version of every suite (a few minutes)
#   bash bench/run.sh --only cpu       # one suite (repeatable): engine http cpu memory numaflow plot
#   bash bench/run.sh --no-build       # run what the build folder already has
#
# Suites, and what they write under bench/results/:
#   engine    bench_engine, medians of 6 repetitions (quick: 2)                   engine.json
#   http      bash bench/http/run.sh [--quick] (builds its own targets)           http.json
#   cpu       distance_matrix --generate 4000 -o /dev/null, every executor at
#             1..nproc threads, medians of 7 repetitions (quick: 3)               cpu.json
#   memory    bench_memory: peak RSS at 1M and 10M items (quick: 100k and 1M)     memory.json
#   numaflow  http_fanout --table --json (20 s runs; quick: 3 s), when it is built   numaflow.json
#   plot      python3 bench/plot.py all                                           *.png
# --quick writes the same files: commit the results of a full run.
# Time it on an idle machine. The cpu suite measures what other processes use during
# each run and takes a run again when they used more than a tenth of a core (waiting
# up to 10 minutes in all, 2 in quick mode, for them to settle); the others do not.
#
# Environment: BUILD_DIR (default build-release, configured like the "release" preset),
# JOBS (build parallelism, default nproc), PYTHON (an interpreter with matplotlib),
# HTTP_FANOUT_ARGS (extra arguments for http_fanout).
set -euo pipefail

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }

all_suites=(engine http cpu memory numaflow plot)
quick=0
build_first=1
only=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-build) build_first=0 ;;
    --only)
      [[ $# -ge 2 ]] || {
        echo "run.sh: --only needs a suite: ${all_suites[*]}" >&2
        exit 2
      }
      only+=("$2")
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "run.sh: unknown argument: $1 (see --help)" >&2
      exit 2
      ;;
  esac
  shift
done
for s in "${only[@]}"; do
  [[ " ${all_suites[*]} " == *" $s "* ]] || {
    echo "run.sh: unknown suite '$s'; suites: ${all_suites[*]}" >&2
    exit 2
  }
done
# In the usual order whatever order --only named them in, so plot comes after the rest.
suites=()
for s in "${all_suites[@]}"; do
  if [[ ${#only[@]} -eq 0 || " ${only[*]} " == *" $s "* ]]; then suites+=("$s"); fi
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="${BUILD_DIR:-build-release}"
results=bench/results
mkdir -p "$results/tmp"
jobs="${JOBS:-$(nproc)}"
started=$SECONDS

say() { printf '\n== [%4ds] %s\n' "$((SECONDS - started))" "$*"; }
wants() { [[ " ${suites[*]} " == *" $1 "* ]]; }

# The first interpreter that has matplotlib: a python3 from a version manager often lacks
# the Debian package that scripts/setup.sh installs.
pick_python() {
  local p
  for p in "${PYTHON:-}" python3 /usr/bin/python3; do
    [[ -n $p ]] || continue
    if command -v "$p" > /dev/null 2>&1 && "$p" -c 'import matplotlib' 2> /dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

model="$(grep -m1 '^model name' /proc/cpuinfo 2> /dev/null | cut -d: -f2- | sed 's/^ *//')"
echo "run.sh: suites: ${suites[*]}$([[ $quick == 1 ]] && echo ' (quick)')"
echo "run.sh: machine: $(nproc) CPUs, ${model:-unknown CPU}, load $(cut -d' ' -f1-3 /proc/loadavg)"

targets=()
wants engine && targets+=(bench_engine)
wants memory && targets+=(bench_memory)
wants cpu && targets+=(distance_matrix)
if [[ $build_first == 1 ]] && { [[ ${#targets[@]} -gt 0 ]] || wants numaflow; }; then
  say "configure $build (Release)"
  if [[ -z ${BUILD_DIR:-} ]]; then
    cmake --preset release > /dev/null
  else
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_TESTS=OFF > /dev/null
  fi
  # http_fanout is built when the project has it; the suite is skipped otherwise.
  if wants numaflow && cmake --build "$build" --target help 2> /dev/null | grep -q '^http_fanout:'; then
    targets+=(http_fanout)
  fi
  if [[ ${#targets[@]} -gt 0 ]]; then
    say "build ${targets[*]}"
    nice cmake --build "$build" --target "${targets[@]}" -- -j"$jobs"
  fi
fi

need() {
  [[ -x $1 ]] || {
    echo "run.sh: $1 is missing (run without --no-build, or build it)" >&2
    return 1
  }
}

suite_engine() {
  need "$build/bench/engine/bench_engine"
  local reps=6
  [[ $quick == 1 ]] && reps=2
  "$build/bench/engine/bench_engine" --benchmark_repetitions="$reps" \
    --benchmark_report_aggregates_only=true \
    --benchmark_out="$results/engine.json" --benchmark_out_format=json
}

suite_http() {
  local args=()
  [[ $quick == 1 ]] && args+=(--quick)
  bash bench/http/run.sh "${args[@]}"
}

suite_cpu() {
  need "$build/samples/distance_matrix/distance_matrix"
  local reps=7 budget=600
  [[ $quick == 1 ]] && reps=3 budget=120
  python3 bench/cpu/cpu_scaling.py --binary "$build/samples/distance_matrix/distance_matrix" \
    --n 4000 --repetitions "$reps" --quiet-wait 30 --noise-budget "$budget" \
    --out "$results/cpu.json"
}

suite_memory() {
  need "$build/bench/memory/bench_memory"
  local sizes=1000000,10000000 unbounded=100000,1000000
  [[ $quick == 1 ]] && sizes=100000,1000000 unbounded=10000,100000
  "$build/bench/memory/bench_memory" --memory_sizes="$sizes" --memory_unbounded_sizes="$unbounded" \
    --benchmark_counters_tabular=true \
    --benchmark_out="$results/memory.json" --benchmark_out_format=json
}

suite_numaflow() {
  local bin
  bin="$(find "$build/samples" -name http_fanout -type f -perm -u+x 2> /dev/null | head -n1)"
  if [[ -z $bin ]]; then
    echo "run.sh: numaflow: no http_fanout in $build/samples (the sample is not there yet): skipped"
    return 0
  fi
  # 18 runs (rpu 10/100 x delay 0/200us/1s x 3 modes): 20 s each, or 3 s with --quick. The
  # program's own chart goes to scratch; the plot suite draws numaflow.png.
  local timing=(--duration 20s --window 5s)
  [[ $quick == 1 ]] && timing=(--duration 3s --window 1s)
  # shellcheck disable=SC2086 # HTTP_FANOUT_ARGS is a list of words on purpose
  "$bin" --table --json "${timing[@]}" --png "$results/tmp/numaflow_grid.png" \
    ${HTTP_FANOUT_ARGS:-} > "$results/tmp/numaflow.json"
  # Only a complete document replaces the last one.
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["grid"]' \
    "$results/tmp/numaflow.json" || {
    echo "run.sh: numaflow: http_fanout did not print a {\"grid\": [...]} document" >&2
    return 1
  }
  mv "$results/tmp/numaflow.json" "$results/numaflow.json"
}

suite_plot() {
  local py
  py="$(pick_python)" || {
    echo "run.sh: no python3 with matplotlib (bash scripts/setup.sh installs python3-matplotlib," \
      "or set PYTHON)" >&2
    return 1
  }
  "$py" bench/plot.py all --dir "$results"
}

failed=()
passed=()
for s in "${suites[@]}"; do
  say "$s"
  set +e
  (
    set -e
    "suite_$s"
  )
  rc=$?
  set -e
  if [[ $rc != 0 ]]; then
    echo "run.sh: suite '$s' failed (exit $rc); going on with the others" >&2
    failed+=("$s")
  else
    passed+=("$s")
  fi
done

say "summary"
# Headlines of the suites that ran now, not of files an earlier run left.
python3 - "$results" "${passed[@]}" << 'EOF' || true
import json
import os
import sys

results = sys.argv[1]
ran = set(sys.argv[2:])


def load(name):
    path = os.path.join(results, name)
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


cpu = load("cpu.json") if "cpu" in ran else None
if cpu and "pipeline_speedup" in cpu.get("summary", {}):
    s = cpu["summary"]
    print(f"cpu:    pipeline {s['pipeline_speedup']:.2f}x over sequential on {s['cores']} cores "
          f"(target >= {s['target_speedup']:.2f}x: {'met' if s['target_met'] else 'MISSED'})")
    if s.get("noisy_samples"):
        print(f"        {s['noisy_samples']} of {s['samples']} runs shared the CPUs with other "
              "processes" + (": not a figure to keep" if s["noisy_samples"] * 4 >= s["samples"]
                             else ""))
memory = load("memory.json") if "memory" in ran else None
for b in (memory or {}).get("benchmarks", []):
    if b["name"].startswith("pipeline/growth") and "pipeline_growth" in b:
        g = b["pipeline_growth"]
        print(f"memory: peak RSS x{g:.3f} from {b['small_items']:.0f} to {b['large_items']:.0f} "
              f"items (target <= 1.10: {'met' if g <= 1.10 else 'MISSED'})")
EOF
echo "run.sh: results in $results/ ($((SECONDS - started)) s)"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "run.sh: FAILED suites: ${failed[*]}" >&2
  exit 1
fi
