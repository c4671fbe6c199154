"""Fit throughput: candidates x sweeps in ONE Brian2 network against one candidate at a time.

1. The whole fit: ``neurophase.fit.fit_model`` of the LIF model (5 parameters) to a synthetic
   10-sweep cell (0.7-s sweeps at 10 kHz, tests/fit/synthetic_cells.py), 64 candidates x 20
   generations, dt 0.1 ms, Cython runtime: wall time split into simulation and features, and
   neurone-steps per second of the simulation.
2. The same candidate evaluations (the simulations alone), run as one network of all candidates
   per generation, then with a network of one candidate re-run for every candidate (the loop a
   naive fitter would write), both built and compiled once.

Usage::

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
    rng = np.random.default_rng(0)
    draws = [np.exp(rng.uniform(np.log(50), np.log(400), args.candidates)) for _ in range(args.generations)]
    from neurophase.fit.fitter import fit_model
    from neurophase.recordings.read import read_recording
    from tests.fit import synthetic_cells as cells

    amplitudes = list(np.linspace(-50, 450, args.sweeps))
    voltage, current = cells.simulate_cell("leaky_integrate_and_fire", {"R_m": 150 * Mohm}, amplitudes)
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = cells.write_nwb(Path(folder) / "cell.nwb", voltage, current)
        started = time.perf_counter()
        result = fit_model("leaky_integrate_and_fire", [read_recording(path)], generations=args.generations,
                           population=args.candidates, train_sweeps=list(range(args.sweeps)), dt=0.1 * ms,
                           settle="100 ms", n_bootstrap=0, refine=0)  # the generations alone, as printed
        total = time.perf_counter() - started
    timing = result.timing
    print(f"whole fit, {args.candidates} candidates x {args.sweeps} sweeps x {args.generations} generations: "
          f"{total:.1f} s wall (simulation {timing['evaluation_seconds']:.1f} s incl. the first build and "
          f"compile, features {timing['features_seconds']:.1f} s), "
          f"{timing['neurone_steps'] / timing['evaluation_seconds'] / 1e6:.2f} M neurone-steps/s simulated")
    currents = current
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
