#!/usr/bin/env bash
# HTTP strategies benchmark, with wrk as the ceiling, all against one server process.
#
#   bash bench/http/run.sh           # full grid (a few minutes)
#   bash bench/http/run.sh --quick   # in-flight {1,10,100,1000} x delay {0,1ms,200ms}, 1 round
#
# 1. builds bench_http and sluice-http-server (Release; preset "release": build-release/)
# 2. starts ONE sluice-http-server (descriptor limit raised to the hard limit), so that the
#    client has the process's descriptors to itself: 10,000 connections need 10,000 here
#    and 10,000 there, not 20,000 in one process
# 3. the ceiling, in ROUNDS rounds: wrk -t1 -c64 and wrk -t2 -c64 (-d WRK_DURATION, --latency)
#    on /delay?us=0&n=100, then bench_http's threadpool/, async/ and curl_multi/
#    inflight:64/delay:0 on the same URL (curl_multi: a bare libcurl loop, no sluice), and
#    the async case again with its pipeline on one thread; medians of the rounds are
#    compared (interleaving the rounds spreads the machine's noise over every side)
# 4. bench_http's whole grid against that server (a line per case as it ends) ->
#    bench/results/http.json, with the wrk rounds and the comparison added under
#    "wrk_comparison"
# 5. prints the table, "async / wrk at 64 connections, zero delay = X", and the same for
#    curl_multi / wrk (libcurl's own ceiling here) and async / curl_multi (sluice's cost)
# Scratch output (wrk text, server log, per-round JSON) goes to bench/results/tmp/
# (git-ignored).
#
# Environment: BUILD (build folder, default build-release), JOBS (build parallelism,
# default 1), WRK_DURATION (default 5s), ROUNDS (default 3; 1 with --quick).
set -euo pipefail

quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h | --help)
      sed -n '2,24p' "$0"
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
build="${BUILD:-build-release}"
results=bench/results
scratch="$results/tmp"
mkdir -p "$results" "$scratch"
rounds="${ROUNDS:-$([[ $quick == 1 ]] && echo 1 || echo 3)}"
wrk_duration="${WRK_DURATION:-5s}"

command -v wrk > /dev/null || {
  echo "run.sh: wrk not found on PATH" >&2
  exit 1
}

echo "== build ($build)"
if [[ $build == build-release ]]; then
  cmake --preset release > /dev/null
elif [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
fi
nice cmake --build "$build" --target bench_http sluice-http-server -- -j"${JOBS:-1}"

bench="$build/bench/http/bench_http"
server_bin="$build/nodes/http_server/sluice-http-server"

if [[ $quick == 1 ]]; then
  filter='^[a-z_]+/inflight:(1|10|100|1000)/delay:(0|1ms|200ms)/'
else
  filter='.'
fi

# Each process gets the hard limit as its soft limit (the server raises its own too).
ulimit -n "$(ulimit -Hn)" 2> /dev/null || true

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
server_url="http://127.0.0.1:$port"
echo "== sluice-http-server on port $port (descriptor limit $(ulimit -n))"
"$server_bin" --port "$port" > "$scratch/http_server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2> /dev/null || true; wait "$server_pid" 2> /dev/null || true' EXIT
for _ in $(seq 100); do
  if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then break; fi
  sleep 0.05
done

url="$server_url/delay?us=0&n=100"
rm -f "$scratch"/http_wrk_t*_r*.txt "$scratch"/http_wrk_t*_r*.cpu "$scratch"/http_c64_r*.json \
  "$scratch"/http_c64_1t_r*.json
for round in $(seq "$rounds"); do
  for t in 1 2; do
    echo "== round $round: wrk -t$t -c64 -d$wrk_duration --latency $url"
    # bash's time keyword: wrk's own CPU (user, system), to set beside bench_http's per request.
    TIMEFORMAT='%U %S'
    { time wrk -t"$t" -c64 -d"$wrk_duration" --latency "$url" \
      > "$scratch/http_wrk_t${t}_r$round.txt"; } 2> "$scratch/http_wrk_t${t}_r$round.cpu"
    grep -E "Requests/sec" "$scratch/http_wrk_t${t}_r$round.txt"
  done
  echo "== round $round: bench_http (threadpool|async|curl_multi)/inflight:64/delay:0"
  "$bench" --server="$server_url" \
    --benchmark_filter='^(threadpool|async|curl_multi)/inflight:64/delay:0/' \
    --benchmark_format=json --benchmark_out="$scratch/http_c64_r$round.json" \
    --benchmark_out_format=json > /dev/null
  echo "== round $round: bench_http async/inflight:64/delay:0 --pipeline-threads=1"
  "$bench" --server="$server_url" --pipeline-threads=1 \
    --benchmark_filter='^async/inflight:64/delay:0/' --benchmark_format=json \
    --benchmark_out="$scratch/http_c64_1t_r$round.json" --benchmark_out_format=json > /dev/null
done

echo "== bench_http grid (filter: $filter), a line per case as it ends"
"$bench" --server="$server_url" --benchmark_filter="$filter" \
  --benchmark_out="$results/http.json" --benchmark_out_format=json |
  awk '/^[a-z_]+\/inflight:/ {
    rps = ""
    for (i = 2; i <= NF; i++) if ($i ~ /^rps=/) rps = substr($i, 5)
    sub(/\/iterations.*/, "", $1)
    print "  " $1 ": " rps " req/s"
    fflush()
  }'

kill "$server_pid" 2> /dev/null || true
wait "$server_pid" 2> /dev/null || true
trap - EXIT

python3 - "$results/http.json" "$scratch" "$rounds" "$wrk_duration" << 'EOF'
import json
import re
import statistics
import sys

sys.path.insert(0, "bench")  # run.sh works from the project root
from bench_format import delay_text  # noqa: E402

grid_path, scratch, rounds, wrk_duration = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


def ms(value, unit):
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def parse_wrk(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s*([0-9.]+)", text).group(1))
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    user, system = (float(x) for x in open(path[: -len(".txt")] + ".cpu").read().split()[-2:])
    lat = dict(re.findall(r"^\s*(50|99)%\s+([0-9.]+(?:us|ms|s))", text, re.M))
    out = {"rps": rps, "requests": requests, "cpu_us_per_req": (user + system) * 1e6 / requests}
    for p, v in lat.items():
        m = re.match(r"([0-9.]+)(us|ms|s)", v)
        out[f"p{p}_ms"] = ms(m.group(1), m.group(2))
    errors = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    socket_errors = re.search(r"Socket errors:.*", text)
    out["errors"] = int(errors.group(1)) if errors else 0
    if socket_errors:
        out["socket_errors"] = socket_errors.group(0)
    return out


with open(grid_path) as f:
    grid = json.load(f)
rows = grid["benchmarks"]

wrk = {1: [], 2: []}
c64 = {"async": [], "threadpool": [], "curl_multi": [], "async_one_thread": []}
for r in range(1, rounds + 1):
    for t in (1, 2):
        wrk[t].append(parse_wrk(f"{scratch}/http_wrk_t{t}_r{r}.txt"))
    with open(f"{scratch}/http_c64_r{r}.json") as f:
        for b in json.load(f)["benchmarks"]:
            c64[b["name"].split("/")[0]].append(b)
    with open(f"{scratch}/http_c64_1t_r{r}.json") as f:
        c64["async_one_thread"].extend(json.load(f)["benchmarks"])


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def listed(values):
    return ", ".join("%.0f" % v for v in values)


wrk_rps = {t: median([w["rps"] for w in wrk[t]]) for t in (1, 2)}
ceiling_threads = max(wrk_rps, key=lambda t: wrk_rps[t])
ceiling = wrk_rps[ceiling_threads]
async_rps = median([b["rps"] for b in c64["async"]])
pool_rps = median([b["rps"] for b in c64["threadpool"]])
curl_rps = median([b["rps"] for b in c64["curl_multi"]])
round_keys = ("rps", "p50_ms", "p99_ms", "errors", "cpu_us_per_req", "io_cpu_us_per_req")
comparison = {
    "url": "/delay?us=0&n=100",
    "connections": 64,
    "rounds": rounds,
    "wrk_flags": {t: f"-t{t} -c64 -d{wrk_duration} --latency" for t in (1, 2)},
    "wrk_rounds": {f"t{t}": wrk[t] for t in (1, 2)},
    "async_rounds": [{k: b[k] for k in round_keys} for b in c64["async"]],
    "threadpool_rounds": [{k: b[k] for k in round_keys} for b in c64["threadpool"]],
    "curl_multi_rounds": [{k: b[k] for k in round_keys} for b in c64["curl_multi"]],
    "async_one_thread_rounds": [{k: b[k] for k in round_keys} for b in c64["async_one_thread"]],
    "wrk_t1_rps_median": wrk_rps[1],
    "wrk_t2_rps_median": wrk_rps[2],
    "ceiling_rps": ceiling,
    "ceiling": f"wrk -t{ceiling_threads}",
    "async_rps_median": async_rps,
    "threadpool_rps_median": pool_rps,
    "curl_multi_rps_median": curl_rps,
    "async_one_thread_rps_median": median([b["rps"] for b in c64["async_one_thread"]]),
    "async_over_wrk": async_rps / ceiling if ceiling > 0 else float("nan"),
    "curl_multi_over_wrk": curl_rps / ceiling if ceiling > 0 else float("nan"),
    "async_over_curl_multi": async_rps / curl_rps if curl_rps > 0 else float("nan"),
    "wrk_t1_cpu_us_per_req_median": median([w["cpu_us_per_req"] for w in wrk[1]]),
    "async_cpu_us_per_req_median": median([b["cpu_us_per_req"] for b in c64["async"]]),
    "async_io_cpu_us_per_req_median": median([b["io_cpu_us_per_req"] for b in c64["async"]]),
    "curl_multi_cpu_us_per_req_median": median([b["cpu_us_per_req"] for b in c64["curl_multi"]]),
}
grid["wrk_comparison"] = comparison
with open(grid_path, "w") as f:
    json.dump(grid, f, indent=2)
    f.write("\n")

print()
print(f"{'strategy':<11} {'in-flight':>9} {'delay':>6} {'requests':>9} {'rps':>10} {'p50 ms':>9} "
      f"{'p99 ms':>9} {'efficiency':>10} {'warm-up ms':>10} {'errors':>7}  note")
for b in rows:
    strategy = b["name"].split("/")[0]
    eff = "n/a" if int(b["delay_us"]) == 0 else f"{b['efficiency']:.3f}"
    print(f"{strategy:<11} {int(b['in_flight']):>9} {delay_text(b['delay_us']):>6} "
          f"{int(b['requests']):>9} {b['rps']:>10.0f} {b['p50_ms']:>9.3f} {b['p99_ms']:>9.3f} "
          f"{eff:>10} {b.get('warmup_ms', float('nan')):>10.1f} {int(b['errors']):>7}  "
          f"{b.get('label', '')}")

print()
print(f"64 connections, zero delay, /delay?us=0&n=100, one sluice-http-server, "
      f"medians of {rounds} round(s):")
for t in (1, 2):
    p50 = median([w.get("p50_ms", float("nan")) for w in wrk[t]])
    p99 = median([w.get("p99_ms", float("nan")) for w in wrk[t]])
    print(f"  wrk -t{t} -c64:                     {wrk_rps[t]:>8.0f} req/s, p50 {p50:.3f} ms, p99 {p99:.3f} ms "
          f"(rounds: {listed(w['rps'] for w in wrk[t])})")
for name in ("threadpool", "async", "async_one_thread", "curl_multi"):
    bs = c64[name]
    print(f"  {name + ' (bench_http)':<33} {median([b['rps'] for b in bs]):>8.0f} req/s, "
          f"p50 {median([b['p50_ms'] for b in bs]):.3f} ms, "
          f"p99 {median([b['p99_ms'] for b in bs]):.3f} ms "
          f"(rounds: {listed(b['rps'] for b in bs)})")
print(f"async / wrk at 64 connections, zero delay = {comparison['async_over_wrk']:.2f} "
      f"(ceiling: {comparison['ceiling']}, the faster wrk)")
print(f"client CPU per request: wrk -t1 {comparison['wrk_t1_cpu_us_per_req_median']:.1f} us, "
      f"async {comparison['async_cpu_us_per_req_median']:.1f} us, of which "
      f"{comparison['async_io_cpu_us_per_req_median']:.1f} us on the http::Client's I/O thread; "
      f"bare libcurl {comparison['curl_multi_cpu_us_per_req_median']:.1f} us")
print(f"curl_multi / wrk = {comparison['curl_multi_over_wrk']:.2f} (what libcurl alone reaches here), "
      f"async / curl_multi = {comparison['async_over_curl_multi']:.2f} (what sluice keeps of it)")

def find(strategy, n, us):
    for b in rows:
        if b["name"].startswith(f"{strategy}/inflight:{n}/delay:{delay_text(us)}/"):
            return b
    return None

for label, n, us in (("200 ms, 1,000 in flight", 1000, 200_000),
                     ("1 s, 10,000 in flight", 10_000, 1_000_000)):
    b = find("async", n, us)
    if b is not None:
        print(f"async efficiency at {label} = {b['efficiency']:.3f}")
if any(int(b["errors"]) for b in rows + c64["async"] + c64["threadpool"] + c64["curl_multi"]):
    print("WARNING: some cases had errors (see the errors column)")
EOF
