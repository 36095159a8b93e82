#!/usr/bin/env python3
"""Checks bench/plot.py on synthetic inputs of every shape it reads (no benchmark needed).

    python3 bench/plot_test.py           # exit 0 and "N passed, 0 failed" when every plot draws
    python3 bench/plot_test.py DIR       # the same, keeping the PNGs in DIR to look at

Works in a temporary folder; nothing under bench/results/ is touched.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def http_doc():
    rows = []
    for delay_us in (0, 1000, 200000):
        for strategy, in_flights in (("sequential", [1]), ("threadpool", [1, 10, 100, 1000]),
                                     ("async", [1, 10, 100, 1000])):
            if strategy == "sequential" and delay_us == 200000:
                continue  # the real grid leaves it out too: too slow to be worth running
            for n in in_flights:
                label = "1ms" if delay_us == 1000 else ("200ms" if delay_us else "0")
                rps = n * 1e6 / (delay_us + 80) if delay_us else 12000 + 100 * n ** 0.5
                rows.append({"name": f"{strategy}/inflight:{n}/delay:{label}/iterations:1/real_time",
                             "run_type": "iteration", "rps": rps, "p50_ms": 0.1, "p99_ms": 0.3,
                             "efficiency": 0.9, "in_flight": float(n), "delay_us": float(delay_us),
                             "errors": 0.0})
    return {"context": {}, "benchmarks": rows}


def cpu_doc():
    rows = [{"name": "sequential/threads:1", "run_type": "aggregate", "aggregate_name": "median",
             "executor": "sequential", "threads": 1, "speedup": 1.0, "real_time": 1000}]
    for executor, eff in (("threads", 0.5), ("threadpool", 0.8), ("pipeline", 0.95),
                          ("parallel_for", 0.9)):
        for t in (1, 2, 3, 4):
            rows.append({"name": f"{executor}/threads:{t}", "run_type": "aggregate",
                         "aggregate_name": "median", "executor": executor, "threads": t,
                         "speedup": 1 + (t - 1) * eff, "real_time": 1000 / (1 + (t - 1) * eff)})
    return {"context": {"num_cpus": 4, "cpu_model": "synthetic", "locations": 4000},
            "benchmarks": rows}


def memory_doc():
    rows = []
    for mode, base in (("loop", 4000), ("pipeline", 5200), ("unbounded", 5200)):
        for items in (1_000_000, 10_000_000):
            if mode == "unbounded" and items > 1_000_000:
                continue
            peak = base + (items // 11 if mode == "unbounded" else 10)
            rows.append({"name": f"{mode}/items:{items}/iterations:1/manual_time",
                         "run_type": "iteration", "items": float(items), "peak_rss_kb": peak})
    rows.append({"name": "pipeline/growth/iterations:1", "run_type": "iteration",
                 "pipeline_growth": 1.002, "loop_growth": 1.0, "small_items": 1e6,
                 "large_items": 1e7})
    return {"context": {}, "benchmarks": rows}


def numaflow_doc():
    grid = []
    for rpu in (10, 100):
        for delay_us in (0, 100000, 1000000):
            for mode in ("sequential", "threadpool", "async"):
                duration, window = 60, 5
                # sequential falls behind once delay x rate exceeds one second per second
                rate = rpu if mode != "sequential" else min(rpu, 1e6 / max(delay_us, 1))
                # the first window warms up; the others wobble a little
                windows = [{"index": i, "end_s": float(window * (i + 1)),
                            "count": int(rate * window * (0.8 if i == 0 else 1 - 0.02 * (i % 2))),
                            "errors": 0, "p50_ms": 0.3, "p99_ms": 1.1}
                           for i in range(duration // window)]
                sent = rpu * duration
                ok = sum(w["count"] for w in windows)
                grid.append({"mode": mode, "rpu": rpu, "delay_us": delay_us,
                             "duration_s": duration, "window_s": window, "sent": sent,
                             "ok": ok, "failed": 0, "throughput_rps": ok / duration,
                             "p50_ms": 0.3, "p99_ms": 1.2, "windows": windows})
    return {"grid": grid}


def engine_doc():
    rows = [{"name": f"BM_{n}/real_time", "run_type": "iteration", "ns_per_item": v}
            for n, v in (("Sluice/1/0", 1400), ("HandWiredFlowGraph/1", 1150),
                         ("ParallelPipeline/1", 390), ("PlainLoop/1", 1))]
    return {"context": {}, "benchmarks": rows}


def main():
    docs = {"http.json": http_doc(), "cpu.json": cpu_doc(), "memory.json": memory_doc(),
            "numaflow.json": numaflow_doc(), "engine.json": engine_doc()}
    pngs = ["http_inflight.png", "http_delay.png", "cpu_speedup.png", "memory.png",
            "numaflow.png", "engine.png"]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, doc in docs.items():
            with open(os.path.join(tmp, name), "w") as f:
                json.dump(doc, f)
        cmds = [["all", "--dir", tmp],
                ["numaflow", "--in", os.path.join(tmp, "numaflow.json"), "--out",
                 os.path.join(tmp, "single", "numaflow.png")]]
        for args in cmds:
            proc = subprocess.run([sys.executable, os.path.join(HERE, "plot.py"), *args],
                                  capture_output=True, text=True)
            ok = proc.returncode == 0
            print(f"{'ok  ' if ok else 'FAIL'} plot.py {' '.join(args[:1])}")
            if not ok:
                print(proc.stdout + proc.stderr)
            passed, failed = passed + ok, failed + (not ok)
        for png in pngs + [os.path.join("single", "numaflow.png")]:
            path = os.path.join(tmp, png)
            ok = os.path.exists(path) and open(path, "rb").read(8) == PNG_MAGIC
            print(f"{'ok  ' if ok else 'FAIL'} {png}")
            passed, failed = passed + ok, failed + (not ok)
        if len(sys.argv) > 1:  # keep the images to look at
            keep = sys.argv[1]
            os.makedirs(keep, exist_ok=True)
            for png in pngs:
                if os.path.exists(os.path.join(tmp, png)):
                    with open(os.path.join(tmp, png), "rb") as src, \
                            open(os.path.join(keep, png), "wb") as dst:
                        dst.write(src.read())
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
