#!/usr/bin/env python3
"""Strong and weak scaling of distance_matrix --mpi over 1, 2 and 4 ranks.

    python3 bench/mpi/scaling.py [--build build-release] [--locations 3000] [--repeat 3]

Strong: the same matrix (--locations) on 1, 2 and 4 ranks of one thread each. Weak: the
pairs per rank held constant (locations x sqrt(ranks)). Each point is run --repeat times;
the JSON keeps every run, the plot shows the median and the worst (slowest). Ranks run
with --oversubscribe --bind-to none: on a machine with fewer cores than ranks the extra
ranks share cores, so what the plot shows there is the overhead, not a speedup.
Writes bench/results/mpi_scaling.json and mpi_scaling.png.
"""
import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECONDS = re.compile(r": ([0-9.]+) s, ")


def run(program, ranks, locations):
    cmd = ["mpirun", "-np", str(ranks), "--oversubscribe", "--bind-to", "none"]
    if os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    cmd += [program, "--generate", str(locations), "--mpi", "-t", "1", "-o", os.devnull]
    env = dict(os.environ, OMPI_MCA_btl_vader_single_copy_mechanism="none")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        sys.exit(f"scaling.py: {' '.join(cmd)} failed ({out.returncode}):\n{out.stderr}")
    match = SECONDS.search(out.stderr)
    if not match:
        sys.exit(f"scaling.py: no timing in the output of {' '.join(cmd)}:\n{out.stderr}")
    return float(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build-release"))
    parser.add_argument("--locations", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    program = os.path.join(args.build, "samples", "distance_matrix", "distance_matrix")
    if not os.path.exists(program):
        sys.exit(f"scaling.py: {program} is not built (cmake --build --preset release)")

    results = {"cores": os.cpu_count(), "locations": args.locations, "strong": [], "weak": []}
    for kind in ("strong", "weak"):
        for ranks in (1, 2, 4):
            locations = args.locations
            if kind == "weak":
                locations = round(args.locations * math.sqrt(ranks))
            runs = [run(program, ranks, locations) for _ in range(args.repeat)]
            pairs = locations * (locations - 1) // 2
            point = {"ranks": ranks, "locations": locations, "pairs": pairs, "seconds": runs}
            results[kind].append(point)
            print(f"{kind:6} ranks {ranks}: {locations} locations, median "
                  f"{statistics.median(runs):.3f} s, worst {max(runs):.3f} s", flush=True)

    out_dir = os.path.join(ROOT, "bench", "results")
    with open(os.path.join(out_dir, "mpi_scaling.json"), "w") as f:
        json.dump(results, f, indent=2)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, kind in zip(axes, ("strong", "weak")):
        points = results[kind]
        ranks = [p["ranks"] for p in points]
        base = statistics.median(points[0]["seconds"])
        if kind == "strong":
            ideal = [base / r for r in ranks]
            title = f"strong: {args.locations} locations"
        else:
            ideal = [base] * len(ranks)
            title = f"weak: {args.locations} x sqrt(ranks) locations"
        ax.plot(ranks, [statistics.median(p["seconds"]) for p in points], "o-", label="median")
        ax.plot(ranks, [max(p["seconds"]) for p in points], "x--", label="worst")
        ax.plot(ranks, ideal, ":", color="grey", label="ideal")
        ax.axvline(results["cores"], color="red", linewidth=0.8, label=f"{results['cores']} cores")
        ax.set_xticks(ranks)
        ax.set_xlabel("ranks (1 thread each)")
        ax.set_ylabel("seconds")
        ax.set_title(title)
        ax.legend()
    fig.suptitle("distance_matrix --mpi (ranks beyond the cores share them)")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "mpi_scaling.png"), dpi=100)


if __name__ == "__main__":
    main()
