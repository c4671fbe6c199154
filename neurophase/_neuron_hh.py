"""NEURON's built-in ``hh`` over a sweep of constant currents: the script a NEURON user writes.

One single-compartment section per current (side area 1e4 um2, cm = 1 uF/cm2, HH 1952
conductances, ``el_hh = -54.387`` mV, ``celsius = 6.3``) with an ``IClamp`` from t = 0, fixed
step with Crank-Nicolson (``secondorder = 2``), started at rest (-64.99638 mV); spikes are
``NetCon`` upward crossings of a threshold. M. L. Hines & N. T. Carnevale (1997), Neural Comput.
9:1179.

This file imports numpy and NEURON only, never neurophase, so that it serves two callers from
one text: :func:`neurophase.testing.neuron_hh_spike_times` imports it, and
``benchmarks/whole_command.py`` runs it as a script by its path, a NEURON process without any
neurophase import::

    python -P _neuron_hh.py START STOP STEP DURATION_MS DT_MS THREADS

(``-P``: the folder of this file, which holds ``io.py``, stays off ``sys.path``). The script
prints ``<current> <rate> Hz`` per current, then ``NEURON`` followed by the JSON of the run's
wall-clock and CPU seconds and the spike counts.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def hh_sweep(levels, duration_ms, dt_ms, threshold_mv=-30.0, use_tables=True, threads=1):
    """Spike times (ms) of NEURON's ``hh`` for the constant currents ``levels`` (uA/cm2).

    ``use_tables`` keeps hh.mod's rate tables (1 mV grid, linear interpolation; NEURON's
    default); ``threads > 1`` runs with ``ParallelContext.nthread(threads)``.

    Returns
    -------
    (list of ndarray, float, float)
        Spike times per level, and the wall-clock and CPU seconds of the run alone.
    """
    from neuron import h

    h.load_file("stdrun.hoc")
    h.celsius = 6.3
    h.dt = dt_ms
    h.steps_per_ms = 1.0 / dt_ms
    h.secondorder = 2
    h.usetable_hh = 1 if use_tables else 0
    if threads > 1:
        h.ParallelContext().nthread(int(threads))
    area_cm2 = 1e-4  # L = 100 um, diam = 100/pi um: side area 1e4 um2
    keep, recorders = [], []
    for level in np.asarray(levels, dtype=float):
        section = h.Section()
        section.L, section.diam, section.nseg = 100.0, 100.0 / np.pi, 1
        section.cm = 1.0
        section.insert("hh")
        for segment in section:
            segment.hh.el = -54.387
            segment.hh.gnabar, segment.hh.gkbar, segment.hh.gl = 0.12, 0.036, 0.0003
        section.ena, section.ek = 50.0, -77.0
        clamp = h.IClamp(section(0.5))
        clamp.delay, clamp.dur = 0.0, 1e9
        clamp.amp = level * area_cm2 * 1e3  # uA/cm2 x cm2 -> uA -> nA
        times = h.Vector()
        connection = h.NetCon(section(0.5)._ref_v, None, sec=section)
        connection.threshold = threshold_mv
        connection.record(times)
        keep.append((section, clamp, connection))
        recorders.append(times)
    h.cvode_active(0)
    h.tstop = duration_ms
    h.finitialize(-64.99638)
    started, started_cpu = time.perf_counter(), time.process_time()
    h.continuerun(h.tstop)
    run_seconds, run_cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    spike_times = [np.array(times.to_python(), dtype=float) for times in recorders]  # also when empty
    h.usetable_hh = 1
    return spike_times, run_seconds, run_cpu_seconds


def _main(argv):
    start, stop, step, duration, dt, threads = map(float, argv[:6])
    levels = start + step * np.arange(int(np.floor((stop - start) / step + 1e-3)) + 1)
    spike_times, run, run_cpu = hh_sweep(levels, duration, dt, threads=int(threads))
    counts = [int(times.size) for times in spike_times]
    for level, count in zip(levels, counts):
        print(f"{level:g} {count / (duration / 1000.0):g} Hz")
    print("NEURON" + json.dumps({"run": run, "run_cpu": run_cpu, "counts": counts}))


if __name__ == "__main__":
    _main(sys.argv[1:])
