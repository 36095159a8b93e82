#!/usr/bin/env python3
"""Draws the benchmark results as PNGs.

    python3 bench/plot.py all [--dir bench/results]     # every plot whose JSON is there
    python3 bench/plot.py inflight --in http.json --out http_inflight.png
    python3 bench/plot.py delay    --in http.json --out http_delay.png
    python3 bench/plot.py cpu      --in cpu.json --out cpu_speedup.png
    python3 bench/plot.py memory   --in memory.json --out memory.png
    python3 bench/plot.py numaflow --in numaflow.json --out numaflow.png
    python3 bench/plot.py engine   --in engine.json --out engine.png

Inputs: Google Benchmark JSON from bench_http (entries STRATEGY/inflight:N/delay:D with
counters rps, p50_ms, p99_ms, in_flight, delay_us), bench/cpu/cpu_scaling.py, bench_memory
and bench_engine; and the grid `http_fanout --table --json` prints:
{"grid": [{"mode", "rpu", "delay_us", "windows": [{"end_s", "count", ...}], ...}]}.
Needs matplotlib (Debian: python3-matplotlib, installed by scripts/setup.sh).
"""
import argparse
import json
import math
import os
import re
import sys
from collections import defaultdict

from bench_format import delay_text

try:
    import matplotlib

    matplotlib.use("Agg")  # no display on build machines
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter
except ImportError:
    sys.exit("plot.py: matplotlib is missing (Debian: apt-get install python3-matplotlib, "
             "or bash scripts/setup.sh)")

# One colour per strategy/executor/mode across every plot, so a reader can follow one.
COLOURS = {
    "sequential": "#7f7f7f",
    "threadpool": "#1f77b4",
    "threads": "#9467bd",
    "pipeline": "#d62728",
    "async": "#d62728",
    "parallel_for": "#2ca02c",
    "loop": "#7f7f7f",
    "unbounded": "#ff7f0e",
    "curl_multi": "#8c564b",
}


def colour(name):
    return COLOURS.get(name)


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as e:
        raise SystemExit(f"plot.py: cannot read {path}: {e.strerror}")
    except json.JSONDecodeError as e:
        raise SystemExit(f"plot.py: {path} is not JSON: {e}")


def entries(doc):
    """Benchmark entries, one per case: the median aggregate where repetitions made one,
    else the iterations (averaged when a case ran more than once)."""
    rows = [b for b in doc.get("benchmarks", []) if not b.get("error_occurred")]
    medians = [b for b in rows if b.get("aggregate_name") == "median"]
    if medians:
        return medians
    by_name = defaultdict(list)
    for b in rows:
        if b.get("run_type", "iteration") == "iteration":
            by_name[b.get("run_name", b["name"])].append(b)
    out = []
    for name, group in by_name.items():
        merged = dict(group[0])
        for key, value in group[0].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                merged[key] = sum(g[key] for g in group) / len(group)
        merged["name"] = name
        out.append(merged)
    return out


def si(x, _pos=None):
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:g}{suffix}"
    return f"{x:g}"


def log_y(ax):
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(si))

    # A range within about a decade may have no major tick inside it: label some minor
    # ticks then, and none on wider ranges, where they would crowd.
    def minor(y, _pos):
        low, high = ax.get_ylim()
        if high / max(low, 1e-12) > 30:
            return ""
        return si(y) if f"{y:e}"[0] in "235" else ""

    ax.yaxis.set_minor_formatter(FuncFormatter(minor))
    ax.tick_params(axis="y", which="minor", labelsize=7)


def save(fig, out, top=1.0):
    # top < 1 keeps room for a suptitle above the subplots' own titles
    fig.tight_layout(rect=(0, 0, 1, top))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    print(f"plot.py: wrote {out}")


def http_rows(doc):
    rows = []
    for b in entries(doc):
        m = re.match(r"([a-z_]+)/inflight:(\d+)/delay:([^/]+)", b["name"])
        if not m or "rps" not in b:
            continue
        rows.append({
            "strategy": m.group(1),
            "in_flight": int(b.get("in_flight", m.group(2))),
            "delay_us": int(b.get("delay_us", 0)),
            "rps": b["rps"],
            "errors": int(b.get("errors", 0)),
        })
    if not rows:
        raise SystemExit("plot.py: no STRATEGY/inflight:N/delay:D entries with an rps counter")
    return rows


def grid_axes(n, width=4.6, height=3.4):
    cols = 2 if n == 4 else min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def plot_inflight(doc, out):
    rows = http_rows(doc)
    delays = sorted({r["delay_us"] for r in rows})
    fig, axes = grid_axes(len(delays))
    for ax, delay in zip(axes, delays):
        by_strategy = defaultdict(list)
        for r in rows:
            if r["delay_us"] == delay:
                by_strategy[r["strategy"]].append(r)
        for strategy, pts in sorted(by_strategy.items()):
            pts.sort(key=lambda r: r["in_flight"])
            ax.plot([p["in_flight"] for p in pts], [p["rps"] for p in pts], marker="o",
                    label=strategy, color=colour(strategy))
            for p in pts:
                if p["errors"]:
                    ax.annotate(f"{p['errors']} err", (p["in_flight"], p["rps"]), fontsize=7)
        ax.set_xscale("log")
        finish_rps_panel(ax, f"server delay {delay_text(delay)}", "requests in flight")
    fig.suptitle("HTTP throughput vs requests in flight, per strategy")
    save(fig, out, top=0.92)


def finish_rps_panel(ax, title, xlabel):
    """Log requests/s axis, labels, grid and legend of one HTTP panel."""
    log_y(ax)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("requests/s")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)


def plot_delay(doc, out):
    rows = http_rows(doc)
    delays = sorted({r["delay_us"] for r in rows})
    in_flights = sorted({r["in_flight"] for r in rows})
    fig, axes = grid_axes(len(in_flights))
    for ax, inflight in zip(axes, in_flights):
        by_strategy = defaultdict(dict)
        for r in rows:
            # sequential only ever has one request in flight: it belongs on every panel
            if r["in_flight"] == inflight or r["strategy"] == "sequential":
                by_strategy[r["strategy"]][r["delay_us"]] = r["rps"]
        for strategy, pts in sorted(by_strategy.items()):
            xs = [delays.index(d) for d in sorted(pts)]
            ax.plot(xs, [pts[d] for d in sorted(pts)], marker="o", label=strategy,
                    color=colour(strategy))
        ax.set_xticks(range(len(delays)), [delay_text(d) for d in delays])
        finish_rps_panel(ax, f"{inflight} in flight", "server delay per request")
    fig.suptitle("HTTP throughput vs I/O delay")
    save(fig, out, top=0.94)


def plot_cpu(doc, out):
    rows = [b for b in entries(doc) if "speedup" in b]
    if not rows:
        raise SystemExit("plot.py: no entries with a speedup counter")
    by_executor = defaultdict(list)
    for b in rows:
        by_executor[b.get("executor", b["name"].split("/")[0])].append(b)
    max_threads = max(int(b["threads"]) for b in rows)
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    ts = list(range(1, max_threads + 1))
    ax.plot(ts, ts, linestyle=":", color="black", label="ideal")
    ax.plot([max_threads], [0.9 * max_threads], marker="*", markersize=12, linestyle="none",
            color="gold", markeredgecolor="black", label=f"target {0.9 * max_threads:.1f}x")
    for executor, pts in by_executor.items():
        if executor == "sequential":
            continue
        pts.sort(key=lambda b: int(b["threads"]))
        ax.plot([int(b["threads"]) for b in pts], [b["speedup"] for b in pts], marker="o",
                label=executor, color=colour(executor))
    ctx = doc.get("context", {})
    ax.set_xticks(ts)
    ax.set_xlabel("threads")
    ax.set_ylabel("speedup over sequential (median)")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    n = ctx.get("locations")
    ax.set_title(f"distance_matrix{f', N = {n}' if n else ''}: speedup vs threads\n"
                 f"{ctx.get('num_cpus', '?')} CPUs, {ctx.get('cpu_model', '')}", fontsize=10)
    save(fig, out)


def plot_memory(doc, out):
    by_mode = defaultdict(list)
    growth = None
    for b in entries(doc):
        if "growth" in b["name"]:
            growth = b
            continue
        if "peak_rss_kb" in b:
            by_mode[b["name"].split("/")[0]].append(b)
    if not by_mode:
        raise SystemExit("plot.py: no entries with a peak_rss_kb counter")
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    labels = {"loop": "plain loop (floor)", "pipeline": "pipeline, default max_in_flight",
              "unbounded": "pipeline, max_in_flight = N (no back-pressure)"}
    for mode, pts in by_mode.items():
        pts.sort(key=lambda b: b["items"])
        xs = [b["items"] for b in pts]
        ys = [b["peak_rss_kb"] / 1024 for b in pts]
        ax.plot(xs, ys, marker="o", label=labels.get(mode, mode), color=colour(mode))
        for x, y in zip(xs, ys):
            ax.annotate(f"{y:.1f}", (x, y), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=7, color=colour(mode))
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(si))
    log_y(ax)
    ax.set_xlabel("items through the pipeline")
    ax.set_ylabel("peak RSS (MiB)")
    title = "Peak resident memory vs input size"
    if growth and "pipeline_growth" in growth:
        title += (f"\npipeline: x{growth['pipeline_growth']:.3f} from "
                  f"{si(growth['small_items'])} to {si(growth['large_items'])} items")
        if "pipeline_over_baseline_growth" in growth:
            title += f" (x{growth['pipeline_over_baseline_growth']:.3f} above the starting RSS)"
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, out)


def plot_numaflow(doc, out):
    cells = doc.get("grid")
    if not isinstance(cells, list) or not cells:
        raise SystemExit('plot.py: expected {"grid": [...]} with at least one cell')
    rpus = sorted({c["rpu"] for c in cells})
    delays = sorted({c["delay_us"] for c in cells})
    modes = list(dict.fromkeys(c["mode"] for c in cells))  # in the order the grid gives
    # Modes that keep up draw the same line: distinct dashes and markers keep each visible.
    styles = dict(zip(modes, [("-", "o"), ("--", "s"), ("-.", "^"), (":", "D")] * 4))
    fig, axes = plt.subplots(len(rpus), len(delays), figsize=(4.2 * len(delays), 3.0 * len(rpus)),
                             squeeze=False, sharex=True)
    for i, rpu in enumerate(rpus):
        for j, delay in enumerate(delays):
            ax = axes[i][j]
            for c in cells:
                if c["rpu"] != rpu or c["delay_us"] != delay:
                    continue
                windows = sorted(c.get("windows", []), key=lambda w: w["end_s"])
                dash, marker = styles[c["mode"]]
                ax.plot([w["end_s"] for w in windows], [w["count"] for w in windows],
                        linestyle=dash, marker=marker, markersize=4, label=c["mode"],
                        color=colour(c["mode"]))
                if c.get("failed"):
                    ax.text(0.02, 0.02, f"{c['mode']}: {c['failed']} failed",
                            transform=ax.transAxes, fontsize=7, color="red")
            # what a window would hold if every item sent were completed at once
            window_s = next((c.get("window_s") for c in cells if c.get("window_s")), None)
            if window_s:
                ax.axhline(rpu * window_s, linestyle=":", color="black", linewidth=0.8)
            ax.set_title(f"rpu {rpu}/s, delay {delay_text(delay)}", fontsize=9)
            ax.set_ylim(bottom=0)
            ax.grid(True, alpha=0.3)
            if i == len(rpus) - 1:
                ax.set_xlabel("time (s, window end)")
            if j == 0:
                ax.set_ylabel("items completed in window")
    handles, labels = [], []
    for ax in (a for row in axes for a in row):
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="upper right", ncol=len(modes))
    fig.suptitle("Items completed per window (dotted: input rate x window)", x=0.4)
    save(fig, out, top=1 - 0.5 / (3.0 * len(rpus)))


def plot_engine(doc, out):
    rows = [b for b in entries(doc) if "ns_per_item" in b]
    if not rows:
        raise SystemExit("plot.py: no entries with an ns_per_item counter")
    names = [re.sub(r"/real_time(_median)?$", "", b["name"]).removeprefix("BM_") for b in rows]
    fig, ax = plt.subplots(figsize=(7.0, 0.35 * len(rows) + 1.2))
    ax.barh(names, [b["ns_per_item"] for b in rows], color="#1f77b4")
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("ns per item (median)")
    ax.set_title("Engine overhead: per-item cost of trivial stages")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    save(fig, out)


PLOTS = {
    # name: (function, input file, output file) under the results folder
    "inflight": (plot_inflight, "http.json", "http_inflight.png"),
    "delay": (plot_delay, "http.json", "http_delay.png"),
    "cpu": (plot_cpu, "cpu.json", "cpu_speedup.png"),
    "memory": (plot_memory, "memory.json", "memory.png"),
    "numaflow": (plot_numaflow, "numaflow.json", "numaflow.png"),
    "engine": (plot_engine, "engine.json", "engine.png"),
}


def main():
    ap = argparse.ArgumentParser(description="Draws benchmark results as PNGs.")
    ap.add_argument("plot", choices=["all", *PLOTS])
    ap.add_argument("--in", dest="input", help="input JSON (default: DIR/<suite>.json)")
    ap.add_argument("--out", help="output PNG (default: DIR/<plot>.png)")
    ap.add_argument("--dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "results"),
                    help="results folder for defaults and for 'all' (default: bench/results)")
    args = ap.parse_args()

    if args.plot != "all":
        fn, default_in, default_out = PLOTS[args.plot]
        fn(load(args.input or os.path.join(args.dir, default_in)),
           args.out or os.path.join(args.dir, default_out))
        return
    if args.input or args.out:
        sys.exit("plot.py: 'all' takes --dir only")
    drawn = 0
    for name, (fn, default_in, default_out) in PLOTS.items():
        path = os.path.join(args.dir, default_in)
        if not os.path.exists(path):
            print(f"plot.py: {name}: no {path}, skipped")
            continue
        fn(load(path), os.path.join(args.dir, default_out))
        drawn += 1
    if drawn == 0:
        sys.exit(f"plot.py: no result files in {args.dir}")


if __name__ == "__main__":
    main()
