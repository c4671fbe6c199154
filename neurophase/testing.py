"""Assertions for downstream tests (in the spirit of :mod:`xarray.testing`).

Functions
---------
assert_follows_schema
    A Dataset has units on every variable and the required variables.
assert_quantity_allclose
    Two values with units agree within a relative / absolute tolerance, dimensions checked.
assert_round_trips
    A Dataset survives NetCDF writing and reading with values, units and provenance intact.

Independent references (written from the papers, not from the model files), shared by the
tests and benchmarks/:

hodgkin_huxley_1952_rate_tuple
    The six HH 1952 rate functions (1/ms) of ``v`` in mV, modern convention.
neuron_hh_spike_times
    Spike times of single-compartment NEURON sections with the built-in ``hh`` mechanism.

run_script_result
    Run Python code in a fresh interpreter and return the JSON it prints after ``RESULT``
    (for Brian2 standalone builds, which change the process-wide device).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from neurophase.io import load_dataset, save_dataset
from neurophase.schema import validate_dataset
from neurophase.units import to_magnitude

__all__ = ["assert_follows_schema", "assert_quantity_allclose", "assert_round_trips",
           "hodgkin_huxley_1952_rate_tuple", "neuron_hh_spike_times", "run_script_result"]


def assert_follows_schema(dataset, required=()):
    """Raise AssertionError (with every problem listed) unless ``dataset`` follows the schema."""
    try:
        validate_dataset(dataset, required=required)
    except Exception as error:
        raise AssertionError(str(error)) from error


def assert_quantity_allclose(actual, desired, unit, rtol=1e-7, atol=0.0):
    """Compare two quantities in ``unit`` (a unit string); dimensions must match ``unit``.

    >>> from brian2 import mV, volt
    >>> assert_quantity_allclose(0.0651 * volt, 65.1 * mV, "mV")
    """
    np.testing.assert_allclose(to_magnitude(actual, unit), to_magnitude(desired, unit), rtol=rtol, atol=atol)


def assert_round_trips(dataset):
    """Write ``dataset`` to NetCDF, read it back, and check values, units and attrs."""
    with tempfile.TemporaryDirectory() as directory:
        path = save_dataset(dataset, Path(directory) / "round_trip.nc")
        loaded = load_dataset(path)
    xr.testing.assert_allclose(loaded, dataset)
    for name, variable in dataset.variables.items():
        assert loaded[name].attrs.get("units") == variable.attrs.get("units"), name
    for key, value in dataset.attrs.items():
        assert key in loaded.attrs, f"attribute {key!r} lost in the round trip"
    return loaded


def hodgkin_huxley_1952_rate_tuple(v):
    """HH 1952 rate functions ``(alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n)`` in 1/ms.

    The functions typed from A. L. Hodgkin & A. F. Huxley (1952), J. Physiol. 117:500, Eqs. 12,
    13, 20, 21, 23, 24 (:func:`neurophase.micro.references.hodgkin_huxley_1952_rates`, not the model
    file), at the modern membrane potential ``v`` (mV), as a tuple.

    >>> [round(float(rate), 5) for rate in hodgkin_huxley_1952_rate_tuple(-65.0)]
    [0.22356, 4.0, 0.07, 0.04743, 0.05821, 0.125]
    """
    from neurophase.micro.references import hodgkin_huxley_1952_rates as from_paper

    rates = from_paper(v)
    return tuple(rates[name] for name in ("alpha_m", "beta_m", "alpha_h", "beta_h", "alpha_n", "beta_n"))


def neuron_hh_spike_times(levels, duration_ms, dt_ms, threshold_mv=-30.0, use_tables=True):
    """Spike times (ms) of NEURON's built-in ``hh`` for constant currents ``levels`` (uA/cm2).

    One single-compartment section per level (side area 1e4 um2, cm = 1 uF/cm2, HH 1952
    conductances, ``el_hh = -54.387`` mV, ``celsius = 6.3``) with an ``IClamp`` from t = 0,
    fixed step ``dt_ms`` with Crank-Nicolson (``secondorder = 2``), started at rest
    (-64.99638 mV); spikes are ``NetCon`` upward crossings of ``threshold_mv``. ``use_tables``
    keeps hh.mod's rate tables (1 mV grid, linear interpolation; NEURON's default).
    M. L. Hines & N. T. Carnevale (1997), Neural Comput. 9:1179.

    Returns
    -------
    (list of ndarray, float)
        Spike times per level, and the wall-clock seconds of the run alone.
    """
    import time

    from neuron import h

    h.load_file("stdrun.hoc")
    h.celsius = 6.3
    h.dt = dt_ms
    h.steps_per_ms = 1.0 / dt_ms
    h.secondorder = 2
    h.usetable_hh = 1 if use_tables else 0
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
    started = time.perf_counter()
    h.continuerun(h.tstop)
    run_seconds = time.perf_counter() - started
    spike_times = [np.asarray(times, dtype=float).copy() for times in recorders]
    h.usetable_hh = 1
    return spike_times, run_seconds


def run_script_result(script, timeout=900):
    """Run ``script`` with this Python in a subprocess; return the JSON of its last ``RESULT`` line.

    Raises AssertionError with the end of the subprocess's stderr if it fails.

    >>> run_script_result("import json; print('RESULT' + json.dumps({'a': 1}))")
    {'a': 1}
    """
    import json
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               timeout=timeout)
    lines = [row for row in completed.stdout.splitlines() if row.startswith("RESULT")]
    if completed.returncode != 0 or not lines:
        raise AssertionError(f"script failed (status {completed.returncode}):\n{completed.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT"):])
