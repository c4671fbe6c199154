"""Benchmark: OpenMP threads of the standalone program against grid size, with both wait policies.

What the defaults of :func:`neurophase.micro.devices.standalone_threads` (at least
``ELEMENTS_PER_THREAD`` neurones per thread) and of
:meth:`neurophase.micro.build_cache.StandaloneProgram.run` (``OMP_WAIT_POLICY=passive``) rest
on. For HH 1952 grids of 250 to 10^5 neurones (currents over 0-20 uA/cm2, dt = 0.025 ms, a
duration giving about 2e8 neurone-steps, at most 1 s), the binary's wall-clock and CPU time
with one thread and with every core, and with every core under each OpenMP wait policy:
``passive`` (a thread that reaches the end of a step first sleeps until the others are done)
and ``active`` (it spins; GCC's default).

Speed-up = wall(1 thread) / wall(threads); efficiency = speed-up / threads. On an idle machine
``active`` waits are the shortest; on a machine busy with other work a spinning thread takes the
core from the thread it waits for, and the step takes up to a scheduler time slice.

Run: ``python benchmarks/threads.py`` (about 3-5 minutes on 2 idle cores).
"""

from __future__ import annotations

import argparse
import sys

from _runs import environment, load_average, tagged_result, temporary_folder

DT_MS = 0.025

POINT = """
import json, sys
import numpy as np
from brian2 import cm, ms, second, uA
from neurophase.micro.neurone import firing_curve
size, duration, threads = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
options = dict(duration=duration * second, dt=%r * ms, device="cpp_standalone", threads=threads, progress=False)
levels = np.linspace(0.0, 20.0, size) * uA / cm**2
firing_curve("hodgkin_huxley_1952", levels, **options)  # the build, if not in the cache yet
data = firing_curve("hodgkin_huxley_1952", levels, **options)
print("POINT" + json.dumps({"wall": data.attrs["standalone_run_seconds"],
                            "cpu": data.attrs["standalone_run_cpu_seconds"],
                            "spikes": float(data["spike_count"].sum())}))
""" % DT_MS


def _point(size, duration, threads, cache, policy):
    return tagged_result([sys.executable, "-c", POINT, str(size), str(duration), str(threads)], "POINT",
                         env=environment(NEUROPHASE_CACHE_DIR=cache, OMP_WAIT_POLICY=policy),
                         label=f"{size} neurones, {threads} thread(s), {policy}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[250, 500, 1000, 2000, 5000, 20000, 100000])
    parser.add_argument("--steps", type=float, default=2e8, help="neurone-steps per point (duration <= 1 s)")
    arguments = parser.parse_args(argv)
    from neurophase.micro.devices import ELEMENTS_PER_THREAD, available_cores

    cores = available_cores()
    print(f"HH 1952, C++ standalone, {cores} cores, default: at least {ELEMENTS_PER_THREAD} neurones per thread; "
          f"{load_average()} at start")
    if cores < 2:
        print("one core: nothing to compare")
        return 0
    with temporary_folder("neurophase_threads_") as cache:
        print(f"{'neurones':>8} {'duration (s)':>12} {'1 thread wall/CPU (s)':>22} "
              f"{f'{cores} threads passive':>22} {f'{cores} threads active':>22} {'speed-up p/a':>13}")
        for size in arguments.sizes:
            duration = min(1.0, round(arguments.steps * DT_MS * 1e-3 / size, 3))
            single = _point(size, duration, 1, cache, "passive")
            passive = _point(size, duration, cores, cache, "passive")
            active = _point(size, duration, cores, cache, "active")
            if passive["spikes"] != single["spikes"] or active["spikes"] != single["spikes"]:
                print(f"  note: spike totals differ ({single['spikes']}, {passive['spikes']}, {active['spikes']})")
            print(f"{size:>8} {duration:>12g} {single['wall']:>11.3f} /{single['cpu']:>8.3f}  "
                  f"{passive['wall']:>11.3f} /{passive['cpu']:>8.3f}  {active['wall']:>11.3f} /{active['cpu']:>8.3f}  "
                  f"{single['wall'] / passive['wall']:>6.2f}/{single['wall'] / active['wall']:.2f}")
    print(f"{load_average()} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
