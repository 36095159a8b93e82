#!/usr/bin/env bash
# HTTP strategies benchmark, with wrk as the ceiling.
#
#   bash bench/http/run.sh           # full grid (several minutes)
#   bash bench/http/run.sh --quick   # in-flight {1,10,100,1000} x delay {0,1ms,200ms}
#
# 1. builds bench_http and sluice-http-server (Release, preset "release": build-release/)
# 2. runs bench_http -> bench/results/http.json
# 3. starts sluice-http-server on a free port, runs wrk -t2 -c64 -d5s on /bytes?n=100,
#    then bench_http's async/inflight:64/delay:0 case; their scratch output (wrk text,
#    server log, the 64-connection JSON) goes to bench/results/tmp/ (git-ignored)
# 4. prints a table and "async / wrk at 64 connections, zero delay = X"
#
# Environment: JOBS (build parallelism, default 1), WRK_DURATION (default 5s).
set -euo pipefail

quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h | --help)
      sed -n '2,14p' "$0"
      exit 0
      ;;
    *)
      echo "run.sh: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
build=build-release
results=bench/results
scratch="$results/tmp"
mkdir -p "$results" "$scratch"

command -v wrk > /dev/null || {
  echo "run.sh: wrk not found on PATH" >&2
  exit 1
}

echo "== build ($build)"
cmake --preset release > /dev/null
nice cmake --build "$build" --target bench_http sluice-http-server -- -j"${JOBS:-1}"

bench="$build/bench/http/bench_http"
server_bin="$build/nodes/http_server/sluice-http-server"

if [[ $quick == 1 ]]; then
  filter='^[a-z]+/inflight:(1|10|100|1000)/delay:(0|1ms|200ms)/'
else
  filter='.'
fi

echo "== bench_http (filter: $filter)"
"$bench" --benchmark_filter="$filter" --benchmark_format=json \
  --benchmark_out="$results/http.json" --benchmark_out_format=json > /dev/null

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
echo "== sluice-http-server on port $port"
"$server_bin" --port "$port" > "$scratch/http_server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2> /dev/null || true; wait "$server_pid" 2> /dev/null || true' EXIT
for _ in $(seq 100); do
  if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then break; fi
  sleep 0.05
done

echo "== wrk -t2 -c64 -d${WRK_DURATION:-5s}"
wrk -t2 -c64 -d"${WRK_DURATION:-5s}" "http://127.0.0.1:$port/bytes?n=100" | tee "$scratch/http_wrk.txt"
kill "$server_pid" 2> /dev/null || true
wait "$server_pid" 2> /dev/null || true
trap - EXIT

echo "== bench_http async/inflight:64/delay:0"
"$bench" --benchmark_filter='^async/inflight:64/delay:0/' --benchmark_format=json \
  --benchmark_out="$scratch/http_c64.json" --benchmark_out_format=json > /dev/null

python3 - "$results/http.json" "$scratch/http_c64.json" "$scratch/http_wrk.txt" << 'EOF'
import json
import re
import sys

grid_path, c64_path, wrk_path = sys.argv[1:4]


def load(path):
    with open(path) as f:
        return json.load(f)["benchmarks"]


def delay_text(us):
    us = int(us)
    if us == 0:
        return "0"
    if us % 1_000_000 == 0:
        return f"{us // 1_000_000}s"
    if us % 1000 == 0:
        return f"{us // 1000}ms"
    return f"{us}us"


rows = load(grid_path)
print()
print(f"{'strategy':<11} {'in-flight':>9} {'delay':>6} {'rps':>10} {'p50 ms':>9} "
      f"{'p99 ms':>9} {'efficiency':>10} {'errors':>7}  note")
for b in rows:
    strategy = b["name"].split("/")[0]
    eff = "n/a" if int(b["delay_us"]) == 0 else f"{b['efficiency']:.3f}"
    print(f"{strategy:<11} {int(b['in_flight']):>9} {delay_text(b['delay_us']):>6} "
          f"{b['rps']:>10.0f} {b['p50_ms']:>9.3f} {b['p99_ms']:>9.3f} {eff:>10} "
          f"{int(b['errors']):>7}  {b.get('label', '')}")

with open(wrk_path) as f:
    m = re.search(r"Requests/sec:\s*([0-9.]+)", f.read())
wrk_rps = float(m.group(1)) if m else 0.0
c64 = load(c64_path)[0]
print()
print(f"wrk -t2 -c64 (sluice-http-server, /bytes?n=100): {wrk_rps:.0f} req/s")
print(f"async inflight:64 delay:0 (in-process server):     {c64['rps']:.0f} req/s, "
      f"p50 {c64['p50_ms']:.3f} ms, p99 {c64['p99_ms']:.3f} ms, errors {int(c64['errors'])}")
ratio = c64["rps"] / wrk_rps if wrk_rps > 0 else float("nan")
print(f"async / wrk at 64 connections, zero delay = {ratio:.2f}")
if any(int(b["errors"]) for b in rows + [c64]):
    print("WARNING: some cases had errors (see the errors column)")
EOF
