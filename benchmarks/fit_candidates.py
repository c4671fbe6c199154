"""Fit throughput: candidates x sweeps in ONE Brian2 network against one candidate at a time.

Prints the wall time and neurone-steps per second of NSGA-II-sized evaluations (default 64
candidates x 10 sweeps x 20 generations of the LIF model on a synthetic 0.7-s step protocol, dt
0.1 ms, Cython runtime) next to the same evaluations run with a network of one candidate, re-run
for every candidate (the loop a naive fitter would write). Usage::

    python benchmarks/fit_candidates.py [--candidates 64] [--sweeps 10] [--generations 20]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from brian2 import Mohm, ms, pA, second

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from neurophase.micro.replay import ReplayNetwork  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--candidates", type=int, default=64)
    parser.add_argument("--sweeps", type=int, default=10)
    parser.add_argument("--generations", type=int, default=20)
    args = parser.parse_args()
    rate = 10000.0
    currents = np.zeros((args.sweeps, int(0.7 * rate)))
    currents[:, int(0.1 * rate):int(0.6 * rate)] = np.linspace(-50, 450, args.sweeps)[:, None]
    rng = np.random.default_rng(0)
    draws = [np.exp(rng.uniform(np.log(50), np.log(400), args.candidates)) for _ in range(args.generations)]
    options = dict(dt=0.1 * ms, record_voltage=True, settle="100 ms")
    for label, per_run in (("one network, all candidates", args.candidates), ("one candidate at a time", 1)):
        started = time.perf_counter()
        steps = 0
        with ReplayNetwork("leaky_integrate_and_fire", currents * pA, 1 / rate * second, per_run, ["R_m"],
                           **options) as replay:
            first = time.perf_counter()
            for generation, values in enumerate(draws):
                for chunk in range(0, args.candidates, per_run):
                    result = replay.run({"R_m": values[chunk:chunk + per_run] * Mohm})
                    steps += result.neurone_steps
                if generation == 0:
                    first = time.perf_counter() - first
        total = time.perf_counter() - started
        print(f"{label:<30} {total:8.1f} s wall ({first:.1f} s first generation incl. build/compile), "
              f"{steps / total / 1e6:8.2f} M neurone-steps/s")


if __name__ == "__main__":
    main()
