#!/usr/bin/env bash
# The GPU path on a real device, in one command:
#   bash scripts/gpu_check.sh
# Builds what it needs (Release, into build-gpu-check/), runs every gpu test with
# SLUICE_REQUIRE_GPU=1 (a CUDA test that cannot run fails instead of skipping), the transfer
# benchmark from 64 KiB to 256 MiB (3 repetitions) and image_loader on 2,000 images with
# --device cuda, then writes one JSON summary to build-gpu-check/gpu_check.json (and stdout):
# device, driver and runtime versions, tests passed, GB/s of the stage and of the bare
# cudaMemcpyAsync loop per batch size (median and worst of the repetitions) with their
# ratio, images/s. Exits non-zero when anything failed — and at once, before building,
# on a machine without a usable NVIDIA GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build-gpu-check
started=$(date +%s)

fail() {
  echo "gpu_check: $*" >&2
  exit 1
}

# --- 1. Fail fast: a driver, a GPU, a toolkit, python3 (from scripts/setup.sh). ---
command -v nvidia-smi >/dev/null 2>&1 ||
  fail "no nvidia-smi: no NVIDIA driver on this machine, so no GPU to check"
gpus=$(nvidia-smi -L 2>&1) || fail "nvidia-smi -L failed: $gpus"
grep -q '^GPU ' <<<"$gpus" || fail "nvidia-smi lists no GPU: $gpus"
cuda_root=${CUDAToolkit_ROOT:-/usr/local/cuda}
[ -f "$cuda_root/include/cuda_runtime_api.h" ] ||
  fail "no CUDA toolkit under $cuda_root (set CUDAToolkit_ROOT)"
command -v python3 >/dev/null 2>&1 || fail "python3 missing: run scripts/setup.sh"
query=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -n 1)
echo "gpu_check: ${query} (toolkit under $cuda_root)" >&2

# --- 2. Build (Release): the gpu tests, the transfer benchmark, image_loader. ---
jobs=$(nproc 2>/dev/null || echo 4)
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
mkdir -p "$out"
cmake -S . -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_CUDA=ON \
  -DSLUICE_BUILD_TESTS=ON -DSLUICE_BUILD_BENCH=ON -DSLUICE_BUILD_SAMPLES=ON \
  -DCUDAToolkit_ROOT="$cuda_root" "${launcher[@]}" >"$out/configure.log" 2>&1 ||
  { tail -n 30 "$out/configure.log" >&2; fail "configure failed (log: $out/configure.log)"; }
grep -q 'CUDA backend on' "$out/configure.log" ||
  fail "the CUDA backend was not configured (see $out/configure.log)"
targets=(gpu_buffer_pool_test gpu_transfer_stage_test gpu_device_test gpu_pipeline_test
  gpu_cuda_test gpu_transfer_bench image_loader)
cmake --build "$out" -j "$jobs" --target "${targets[@]}" >"$out/build.log" 2>&1 ||
  { tail -n 40 "$out/build.log" >&2; fail "build failed (log: $out/build.log)"; }
echo "gpu_check: built in $(($(date +%s) - started)) s" >&2

# --- 3. Tests: a skip of a CUDA test is a failure here. ---
status=0
SLUICE_REQUIRE_GPU=1 ctest --test-dir "$out" -L gpu -j "$jobs" --timeout 300 \
  --output-on-failure --output-junit "$PWD/$out/gpu_tests.xml" >"$out/ctest.log" 2>&1 || status=1
tail -n 15 "$out/ctest.log" >&2

# --- 4. The transfer benchmark, 64 KiB .. 256 MiB, stage vs bare loop. ---
bench_ok=1
"$out/bench/gpu/gpu_transfer_bench" --device=cuda --benchmark_repetitions=3 \
  --benchmark_min_time=0.2 --benchmark_out="$out/transfer_bench.json" \
  --benchmark_out_format=json >"$out/transfer_bench.log" 2>&1 || { bench_ok=0; status=1; }
tail -n 10 "$out/transfer_bench.log" >&2

# --- 5. image_loader on the GPU. ---
loader_ok=1
"$out/samples/image_loader/image_loader" --device cuda --images 2000 --json \
  --cache "$out/image-cache" >"$out/image_loader.json" 2>"$out/image_loader.log" ||
  { loader_ok=0; status=1; }

# --- 6. One JSON summary. ---
python3 - "$out" "$query" "$status" "$bench_ok" "$loader_ok" "$(($(date +%s) - started))" <<'PY'
import json, statistics, sys
import xml.etree.ElementTree as ET

out, query, status, bench_ok, loader_ok, seconds = sys.argv[1:7]
name, _, driver = (p.strip() for p in query.rpartition(","))
summary = {"device": name, "driver_version": driver, "seconds": int(seconds)}

def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        return {"error": f"{path}: {e}"}

# Tests, from ctest's JUnit file.
tests = {"passed": 0, "failed": 0, "skipped": 0, "failed_names": [], "skipped_names": []}
try:
    for case in ET.parse(f"{out}/gpu_tests.xml").getroot().iter("testcase"):
        status_attr = case.get("status", "")
        if case.find("failure") is not None or status_attr == "fail":
            tests["failed"] += 1
            tests["failed_names"].append(case.get("name"))
        elif case.find("skipped") is not None or status_attr in ("notrun", "disabled"):
            tests["skipped"] += 1
            tests["skipped_names"].append(case.get("name"))
        else:
            tests["passed"] += 1
except (OSError, ET.ParseError) as e:
    tests["error"] = str(e)
summary["tests"] = tests

# Benchmark: GB/s per batch size, median and worst of the repetitions.
bench = load_json(f"{out}/transfer_bench.json")
ctx = bench.get("context", {})
summary["cuda_runtime_version"] = ctx.get("cuda_runtime_version")
summary["cuda_driver_version"] = ctx.get("cuda_driver_version")
summary["transfer_backend"] = ctx.get("transfer_backend")
runs = {}
errors = []
for b in bench.get("benchmarks", []):
    if b.get("run_type") != "iteration":
        continue
    if b.get("error_occurred"):
        errors.append(f'{b.get("run_name")}: {b.get("error_message")}')
        continue
    parts = b["run_name"].split("/")
    kind, size = parts[0], int(parts[1])
    variant = kind if kind == "bare" else f"{kind}/c{parts[2]}"
    runs.setdefault(size, {}).setdefault(variant, []).append(b)

sizes = []
for size in sorted(runs):
    row = {"bytes": size, "batch": f"{size >> 10} KiB" if size < 1 << 20 else f"{size >> 20} MiB"}
    for variant, reps in sorted(runs[size].items()):
        gbps = [r["GBps"] for r in reps]
        entry = {"median_gbps": round(statistics.median(gbps), 3), "worst_gbps": round(min(gbps), 3)}
        turnaround = [r["turnaround_us"] for r in reps if "turnaround_us" in r]
        if turnaround:
            entry["turnaround_us_median"] = round(statistics.median(turnaround), 1)
        row[variant] = entry
    bare = row.get("bare", {}).get("median_gbps")
    for variant in ("stage/c1", "stage/c2", "stage_two_copies/c1", "stage_two_copies/c2"):
        if bare and variant in row:
            row[variant]["ratio_to_bare"] = round(row[variant]["median_gbps"] / bare, 3)
            if variant.startswith("stage/"):
                per_batch = lambda g: size / (g * 1e9) * 1e6
                row[variant]["gap_us_per_batch"] = round(
                    per_batch(row[variant]["median_gbps"]) - per_batch(bare), 1)
    sizes.append(row)
summary["transfer"] = {
    "note": "stage = TransferStage on producer-staged (pinned) batches, like for like with the "
            "bare pinned cudaMemcpyAsync loop; stage_two_copies = from pageable memory "
            "(memcpy to pinned + DMA); cN = copies queued on the stream; target >= 0.9x bare "
            "from 4 MiB up",
    "sizes": sizes,
    "errors": errors if bench_ok == "1" else errors + ["gpu_transfer_bench exited non-zero"],
}

# image_loader.
loader = load_json(f"{out}/image_loader.json")
summary["image_loader"] = {
    "ok": loader_ok == "1" and loader.get("wrong") == 0,
    "images_per_s": loader.get("images_per_s"),
    "verified": loader.get("ok"),
    "failed": loader.get("failed"),
    "device_detail": loader.get("device_detail"),
    "error": loader.get("error"),
}
summary["passed"] = status == "0" and tests["failed"] == 0 and not errors

with open(f"{out}/gpu_check.json", "w") as f:
    json.dump(summary, f, indent=2)
print(json.dumps(summary, indent=2))
sys.exit(0 if summary["passed"] else 1)
PY
