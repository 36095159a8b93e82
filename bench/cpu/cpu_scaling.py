#!/usr/bin/env python3
"""CPU scaling: the distance_matrix sample at N locations, every executor at 1..nproc threads.

    python3 bench/cpu/cpu_scaling.py --binary BUILD/samples/distance_matrix/distance_matrix \
        [--n 4000] [--repetitions 7] [--max-threads NPROC] [--quiet-wait 60] \
        [--max-other 0.1] [--retries 3] [--out bench/results/cpu.json]

Each run is `distance_matrix --generate N --output /dev/null -e EXECUTOR -t THREADS`; its
time is the one the program prints (the executor's run, without generating the input).
A repetition runs every (executor, threads) case once; figures are medians over
repetitions, and speedup is median(sequential) / median(case). The target: the pipeline
executor at nproc threads reaches >= 0.9 x nproc.

On a shared machine, other processes' CPU time during each run is measured (/proc/stat
less the run's own rusage); a run during which they used more than --max-other cores is
taken again, after waiting (--quiet-wait) for them to settle, within --noise-budget
seconds in all. The JSON keeps, per sample, what the others used.

The JSON follows Google Benchmark's layout (context, benchmarks with run_type "aggregate"
and aggregate_name "median"), plus a "summary" object with the target check.
"""
import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

EXECUTORS = ["sequential", "threads", "threadpool", "pipeline", "parallel_for"]
TIME_RE = re.compile(r"thread[s]?: ([0-9.]+) s,")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


TICK = os.sysconf("SC_CLK_TCK")


def busy_seconds():
    """CPU seconds spent so far by everyone (all cores, idle and iowait excluded)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is already in user).
    # irq and softirq are left out: a run's own cross-thread wake-ups land there, and they
    # are the run's cost, not another process's interference.
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = fields[:8]
    return (user + nice + system + steal) / TICK


def busy_cores(seconds=0.5):
    """Cores' worth of CPU time spent (by anyone) over `seconds`."""
    before = busy_seconds()
    time.sleep(seconds)
    return (busy_seconds() - before) / seconds


def wait_for_quiet(limit_s, threshold):
    """Waits (up to limit_s) until other processes use less than `threshold` cores."""
    start = time.monotonic()
    busy = busy_cores()
    while busy > threshold and time.monotonic() - start < limit_s:
        time.sleep(2)
        busy = busy_cores()
    return busy


def run_once(binary, n, executor, threads):
    """One run: (seconds the program reports, cores' worth of CPU that other processes
    used meanwhile)."""
    cmd = [binary, "--generate", str(n), "--output", "/dev/null", "-e", executor, "-t", str(threads)]
    busy0 = busy_seconds()
    wall0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - wall0
    others = max(0.0, busy_seconds() - busy0 - usage.ru_utime - usage.ru_stime) / wall
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {stderr.strip()}")
    m = TIME_RE.search(stderr)
    if not m:
        raise RuntimeError(f"no time in the output of {' '.join(cmd)}: {stderr.strip()}")
    return float(m.group(1)), others


def run_quiet(args, executor, threads, deadline):
    """A run during which other processes stayed under --max-other cores, retried (after
    waiting for quiet) up to --retries times while the waiting budget lasts; the last try
    is kept if none was quiet."""
    for attempt in range(args.retries + 1):
        left = deadline - time.monotonic()
        if args.quiet_wait > 0 and left > 0:
            wait_for_quiet(min(args.quiet_wait, left), args.max_other)
        seconds, others = run_once(args.binary, args.n, executor, threads)
        if others <= args.max_other or time.monotonic() >= deadline:
            break
    return seconds, others, attempt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True, help="the distance_matrix executable")
    ap.add_argument("--n", type=int, default=4000, help="locations (default 4000)")
    ap.add_argument("--repetitions", type=int, default=7)
    ap.add_argument("--max-threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--executors", default=",".join(EXECUTORS))
    ap.add_argument("--quiet-wait", type=float, default=0,
                    help="before each run, wait up to this many seconds for other processes to "
                    "use less than --max-other cores (default 0: do not wait)")
    ap.add_argument("--max-other", type=float, default=0.1,
                    help="cores' worth of CPU other processes may use during a run before it is "
                    "taken again (default 0.1)")
    ap.add_argument("--retries", type=int, default=3,
                    help="runs taken again at most, per sample, when others were busy (default 3)")
    ap.add_argument("--noise-budget", type=float, default=600,
                    help="seconds, in all, that waiting and retries may add (default 600)")
    ap.add_argument("--out", default="bench/results/cpu.json")
    args = ap.parse_args()

    executors = [e for e in args.executors.split(",") if e]
    unknown = [e for e in executors if e not in EXECUTORS]
    if unknown:
        sys.exit(f"cpu_scaling: unknown executor(s): {', '.join(unknown)}")
    if "sequential" not in executors:
        executors.insert(0, "sequential")  # the baseline of every speedup
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"cpu_scaling: {args.binary} is not an executable")

    cases = [("sequential", 1)]
    for t in range(1, args.max_threads + 1):
        cases += [(e, t) for e in executors if e != "sequential"]

    samples = {case: [] for case in cases}
    others = {case: [] for case in cases}
    retried = 0
    load_start = os.getloadavg()
    deadline = time.monotonic() + args.noise_budget
    print(f"cpu_scaling: N={args.n}, {len(cases)} cases x {args.repetitions} repetitions, "
          f"threads 1..{args.max_threads}", file=sys.stderr, flush=True)
    for rep in range(args.repetitions):
        for case in cases:
            seconds, busy, attempts = run_quiet(args, *case, deadline)
            samples[case].append(seconds)
            others[case].append(round(busy, 3))
            retried += attempts
        seq = samples[("sequential", 1)][-1]
        line = " ".join(f"{e}/{t}={seq / samples[(e, t)][-1]:.2f}x" for e, t in cases
                        if t == args.max_threads)
        noisy = max(max(o[-1] for o in others.values()), 0)
        print(f"cpu_scaling: repetition {rep + 1}/{args.repetitions}: sequential {seq:.3f} s; "
              f"{line}; others used up to {noisy:.2f} cores", file=sys.stderr, flush=True)

    pairs = args.n * (args.n - 1) // 2
    seq_median = statistics.median(samples[("sequential", 1)])
    benchmarks = []
    for executor, threads in cases:
        s = samples[(executor, threads)]
        med = statistics.median(s)
        speedup = seq_median / med
        benchmarks.append({
            "name": f"{executor}/threads:{threads}",
            "run_name": f"{executor}/threads:{threads}",
            "run_type": "aggregate",
            "aggregate_name": "median",
            "repetitions": len(s),
            "threads": threads,
            "real_time": med * 1e3,
            "time_unit": "ms",
            "executor": executor,
            "min_ms": min(s) * 1e3,
            "max_ms": max(s) * 1e3,
            "samples_ms": [round(x * 1e3, 3) for x in s],
            "other_cores": others[(executor, threads)],
            "pairs_per_second": pairs / med,
            "speedup": speedup,
            "efficiency": speedup / threads,
        })

    cores = args.max_threads
    pipeline = next((b for b in benchmarks if b["name"] == f"pipeline/threads:{cores}"), None)
    noisy = sum(o > args.max_other for v in others.values() for o in v)
    summary = {"cores": cores, "target_speedup": 0.9 * cores, "noisy_samples": noisy,
               "samples": sum(len(v) for v in samples.values())}
    if pipeline:
        summary["pipeline_speedup"] = pipeline["speedup"]
        summary["target_met"] = pipeline["speedup"] >= 0.9 * cores
    doc = {
        "context": {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "host_name": socket.gethostname(),
            "executable": args.binary,
            "num_cpus": os.cpu_count(),
            "cpu_model": cpu_model(),
            "load_avg_start": [round(x, 2) for x in load_start],
            "load_avg_end": [round(x, 2) for x in os.getloadavg()],
            "max_other_cores": args.max_other,
            "runs_retried_for_noise": retried,
            "locations": args.n,
            "pairs": pairs,
            "repetitions": args.repetitions,
        },
        "benchmarks": benchmarks,
        "summary": summary,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")

    print(f"\n{'executor':<13} {'threads':>7} {'median s':>9} {'min s':>7} {'speedup':>8} "
          f"{'efficiency':>10}")
    for b in benchmarks:
        print(f"{b['executor']:<13} {b['threads']:>7} {b['real_time'] / 1e3:>9.3f} "
              f"{b['min_ms'] / 1e3:>7.3f} {b['speedup']:>7.2f}x {b['efficiency']:>10.2f}")
    if pipeline:
        verdict = "met" if summary["target_met"] else "MISSED"
        print(f"\npipeline at {cores} threads: {pipeline['speedup']:.2f}x over sequential "
              f"(target >= {0.9 * cores:.2f}x: {verdict})")
    if noisy:
        # Medians absorb a few such runs; a quarter or more moves them.
        level = "WARNING" if noisy * 4 >= summary["samples"] else "note"
        print(f"{level}: {noisy} of {summary['samples']} runs had other processes using more "
              f"than {args.max_other} cores (per run: other_cores in the JSON); "
              "run again on an idle machine if many did")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
