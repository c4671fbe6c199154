"""Benchmark: time and peak memory of Hodgkin-Huxley f-I sweeps from 10^2 to 10^5 grid points, 0.2 to 4 s.

Every point is :func:`neurophase.micro.neurone.firing_curve` on the C++ standalone device
(HH 1952, currents spread over 0-20 uA/cm2, dt = 0.025 ms, default running sums, no spike
times kept) in a fresh Python process, so that its peak memory is its own:

``cold``
    the first duration of each grid size: the network is generated and compiled (the cache
    already holds the precompiled headers, built by an untimed warm-up);
``warm``
    every duration, from the cache.

Printed per point: the OpenMP threads (neurophase's default for the grid size), the wall-clock
time of the call (build included when cold), the binary's wall-clock and CPU time (all threads),
neurone-steps per second of the binary (wall clock), the peak resident memory of the
Python process and of the standalone binary (``ru_maxrss`` of the process and of its
children: the Python process keeps its memory while the binary runs, so their sum bounds
the total), and per grid size the ratio of the peak memory at the longest to the shortest
duration (target: 1.00, memory flat in the simulated duration; target for 10^5 points:
Python + binary below 1 GB).

Run: ``python benchmarks/scaling.py`` (about 5-8 minutes on 2 idle cores, most of it the
10^5 x 4 s point: 1.6e10 neurone-steps); ``--quick`` stops at 10^4 points and 1 s.
"""

from __future__ import annotations

import argparse
import sys

from _runs import environment, load_average, tagged_result, temporary_folder

DT_MS = 0.025

POINT = """
import json, resource, sys, time
import numpy as np
from brian2 import cm, ms, second, uA
from neurophase.micro.neurone import firing_curve
size, duration = int(sys.argv[1]), float(sys.argv[2])
started = time.perf_counter()
data = firing_curve("hodgkin_huxley_1952", np.linspace(0.0, 20.0, size) * uA / cm**2, duration=duration * second,
                    dt=%r * ms, device="cpp_standalone", progress=False)
wall = time.perf_counter() - started
print("POINT" + json.dumps({
    "wall": wall, "run": data.attrs["standalone_run_seconds"], "build": data.attrs["standalone_build"],
    "run_cpu": data.attrs["standalone_run_cpu_seconds"],
    "threads": data.attrs["openmp_threads"], "spikes": float(data["spike_count"].sum()),
    "python_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "binary_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
""" % DT_MS


def _point(size, duration, cache):
    return tagged_result([sys.executable, "-c", POINT, str(size), str(duration)], "POINT",
                         env=environment(NEUROPHASE_CACHE_DIR=cache), label=f"{size} x {duration} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^2 to 10^4 points, 0.2 and 1 s")
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    parser.add_argument("--durations", type=float, nargs="*", default=None)
    arguments = parser.parse_args(argv)
    sizes = arguments.sizes or ([100, 1000, 10000] if arguments.quick else [100, 1000, 10000, 100000])
    durations = arguments.durations or ([0.2, 1.0] if arguments.quick else [0.2, 1.0, 4.0])
    print(f"HH 1952 f-I sweeps, C++ standalone, dt {DT_MS} ms; {load_average()} at start")
    with temporary_folder("neurophase_scaling_") as cache:
        _point(2, 0.001, cache)  # precompiles the headers into this cache (untimed)
        print(f"{'points':>7} {'duration (s)':>12} {'cache':>6} {'threads':>7} {'wall (s)':>9} {'run (s)':>8} "
              f"{'run CPU (s)':>11} {'steps/s':>9} {'python (MB)':>11} {'binary (MB)':>11} {'sum (MB)':>9}")
        summary = []
        for size in sizes:
            measured = []
            for index, duration in enumerate(durations):
                runs = [("cold", _point(size, duration, cache))] if index == 0 else []
                runs.append(("warm", _point(size, duration, cache)))
                for state, result in runs:
                    steps = size * round(duration * 1e3 / DT_MS) / result["run"]
                    total = result["python_mb"] + result["binary_mb"]
                    print(f"{size:>7} {duration:>12g} {state:>6} {result['threads']:>7} {result['wall']:>9.2f} "
                          f"{result['run']:>8.2f} {result['run_cpu']:>11.2f} {steps:>9.3g} "
                          f"{result['python_mb']:>11.0f} {result['binary_mb']:>11.1f} {total:>9.0f}")
                    if state == "warm":
                        measured.append(result)
            growth_binary = measured[-1]["binary_mb"] / measured[0]["binary_mb"]
            growth_python = measured[-1]["python_mb"] / measured[0]["python_mb"]
            summary.append((size, growth_python, growth_binary, max(r["python_mb"] + r["binary_mb"] for r in measured)))
        print(f"peak memory at {durations[-1]:g} s / at {durations[0]:g} s (target 1.00) and the largest total:")
        for size, python, binary, largest in summary:
            print(f"{size:>7} points: python {python:.2f}x, binary {binary:.2f}x; largest python + binary "
                  f"{largest:.0f} MB" + ("  (target < 1024 MB)" if size >= 100000 else ""))
    print(f"{load_average()} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
