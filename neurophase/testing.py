"""Assertions for downstream tests (in the spirit of :mod:`xarray.testing`).

Functions
---------
assert_follows_schema
    A Dataset has units on every variable and the required variables.
assert_quantity_allclose
    Two values with units agree within a relative / absolute tolerance, dimensions checked.
assert_round_trips
    A Dataset survives NetCDF writing and reading with values, units and provenance intact.
assert_cli_refuses
    A ``neurophase`` command line is refused as the command-line rules require: exit status 2,
    one ``error:`` line, no traceback, nothing written.

Independent references (written from the papers, not from the model files), shared by the
tests and benchmarks/:

hodgkin_huxley_1952_rate_tuple
    The six HH 1952 rate functions (1/ms) of ``v`` in mV, modern convention.
neuron_hh_spike_times
    Spike times of single-compartment NEURON sections with the built-in ``hh`` mechanism.
hodgkin_huxley_gillespie
    Exact stochastic simulation (Gillespie, with thinning for voltage-dependent rates) of HH
    1952 with finite numbers of Markov Na and K channels, in numpy: the reference for
    :mod:`neurophase.micro.channels`.

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
           "hodgkin_huxley_1952_rate_tuple", "neuron_hh_spike_times", "hodgkin_huxley_gillespie",
           "run_script_result", "assert_cli_refuses"]


def _listing(folder):
    folder = Path(folder)
    return {str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in folder.rglob("*")}


def assert_cli_refuses(argv, folder, match=None):
    """Run ``neurophase.cli.main(argv)`` in this process and check that it refuses the input: exit
    status 2, exactly one line on standard error starting with ``error:`` (matching the regex
    ``match``), nothing on standard output, no traceback, and ``folder`` (where any output
    would go) unchanged. Returns the error line.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     assert_cli_refuses(["fi", "no_such_model", "--input", "0", "1", "1", "pA"], folder)
    "error: Unknown model 'no_such_model'..."
    """
    import contextlib
    import io
    import re

    from neurophase.cli import main

    before = _listing(folder)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(item) for item in argv])
    lines = err.getvalue().splitlines()
    assert status == 2, f"exit status {status} for {argv}; stderr: {err.getvalue()!r}"
    assert len(lines) == 1 and lines[0].startswith("error: "), f"stderr of {argv}: {err.getvalue()!r}"
    assert "Traceback" not in err.getvalue()
    assert out.getvalue() == "", f"stdout of {argv}: {out.getvalue()!r}"
    assert _listing(folder) == before, f"{argv} wrote into {folder}"
    if match is not None:
        assert re.search(match, lines[0]), f"{lines[0]!r} does not match {match!r}"
    return lines[0]


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
    M. L. Hines & N. T. Carnevale (1997), Neural Comput. 9:1179. The NEURON code is
    :mod:`neurophase._neuron_hh`, the script that ``benchmarks/whole_command.py`` runs.

    Returns
    -------
    (list of ndarray, float)
        Spike times per level, and the wall-clock seconds of the run alone.
    """
    from neurophase._neuron_hh import hh_sweep

    spike_times, run_seconds, _ = hh_sweep(levels, duration_ms, dt_ms, threshold_mv, use_tables)
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


def hodgkin_huxley_gillespie(amplitudes, n_na, n_k, trials, duration, pulse_start=None,
                             pulse_duration=None, baseline=0.0, count_from=None, threshold=-30.0,
                             v_initial=-64.99638, seed=0, horizon=0.1):
    """Exact stochastic simulation of HH 1952 with ``n_na`` Na and ``n_k`` K Markov channels.

    An independent reference for :mod:`neurophase.micro.channels` (numpy only; no Brian2, no
    model file). Channels: Na in the 8 states ``(k, j)`` (``k`` open m gates of 3, ``j`` open h
    gate), K in the 5 states ``k`` (open n gates of 4), with the transitions ``k -> k + 1`` at
    ``(gates - k) alpha`` and ``k -> k - 1`` at ``k beta`` (Skaugen & Walloe 1979; Goldwyn &
    Shea-Brown 2011, Fig. 1); rates typed from Hodgkin & Huxley (1952)
    (:func:`hodgkin_huxley_1952_rate_tuple`); conductances ``g_Na (open Na)/n_na``, ``g_K (open
    K)/n_k`` with g_Na = 120, g_K = 36, g_L = 0.3 mS/cm2, E_Na = 50, E_K = -77, E_L = -54.387 mV,
    C = 1 uF/cm2.

    Algorithm: the channel transitions form a Poisson process whose rates depend on the
    voltage, which between transitions obeys a LINEAR equation with constant coefficients,
    solved exactly (``v(t) = v_inf + (v_0 - v_inf) exp(-G t / C)``, monotone in ``t``). The next
    transition is found by thinning (P. A. W. Lewis & G. S. Shedler 1979, Naval Res. Logist.
    Q. 26:403; the exact form of D. T. Gillespie's 1977 SSA, J. Phys. Chem. 81:2340, for
    time-dependent propensities): over a window of at most ``horizon`` ms (cut at the edges of
    the drive) every HH rate is monotone in ``v`` and ``v`` is monotone in time, so the
    propensities are bounded by their values at the window's ends; candidates are drawn at the
    bound and accepted with probability (true propensity)/(bound). Nothing is discretised: the
    only error is floating-point rounding. The initial counts are drawn from the stationary
    (product-binomial) law at ``v_initial``.

    Spikes are upward crossings of ``threshold`` (mV), located exactly; the neurone cannot
    spike again until ``v`` has fallen back below it (as the library models' refractory
    condition).

    Parameters
    ----------
    amplitudes : array
        Drive levels (uA/cm2): the pulse amplitude with ``pulse_start``/``pulse_duration``,
        else a constant drive from t = 0.
    n_na, n_k : int
        Channel numbers.
    trials : int
        Independent runs per amplitude.
    duration : float
        Run time (ms).
    pulse_start, pulse_duration : float, optional
        A pulse of the amplitude on ``baseline`` (ms).
    baseline : float
        Drive outside the pulse (uA/cm2).
    count_from : float, optional
        Spikes are counted from this time (ms); default the pulse start, or 0.
    threshold, v_initial : float
        mV.
    seed : int
        numpy seed.
    horizon : float
        Longest thinning window (ms); affects speed only, not the result.

    Returns
    -------
    dict
        ``spike_count`` and ``first_spike_time`` (ms, NaN without spike), arrays of shape
        (amplitudes, trials); ``events`` (accepted transitions), ``iterations``.
    """
    generator = np.random.default_rng(seed)
    amplitudes = np.atleast_1d(np.asarray(amplitudes, dtype=float))
    runs = amplitudes.size * trials
    level = np.repeat(amplitudes, trials)
    g_na, g_k, g_l, e_na, e_k, e_l, capacitance = 120.0, 36.0, 0.3, 50.0, -77.0, -54.387, 1.0
    pulsed = pulse_start is not None
    if pulsed and pulse_duration is None:
        raise ValueError("pulse_duration is needed with pulse_start")
    edges = np.array(sorted({float(duration)} | ({float(pulse_start), float(pulse_start + pulse_duration)}
                                                 if pulsed else set())))
    count_start = count_from if count_from is not None else (pulse_start if pulsed else 0.0)

    # transitions: (source state, destination state, rate index, multiplicity); Na state
    # index = k + 4 j (0..7), K state index = 8 + k (8..12); rates (alpha_m, beta_m, alpha_h,
    # beta_h, alpha_n, beta_n)
    transitions = []
    for j in range(2):
        for k in range(4):
            if k < 3:
                transitions.append((k + 4 * j, k + 1 + 4 * j, 0, 3 - k))
            if k > 0:
                transitions.append((k + 4 * j, k - 1 + 4 * j, 1, k))
            transitions.append((k + 4 * j, k + 4 * (1 - j), 3 if j else 2, 1))
    for k in range(5):
        if k < 4:
            transitions.append((8 + k, 9 + k, 4, 4 - k))
        if k > 0:
            transitions.append((8 + k, 7 + k, 5, k))
    source, destination, rate_index, multiplicity = (np.array(column) for column in zip(*transitions))

    def rates(v):
        return np.stack(hodgkin_huxley_1952_rate_tuple(v), axis=1)  # (runs, 6)

    # stationary initial counts
    a_m, b_m, a_h, b_h, a_n, b_n = (float(rate) for rate in hodgkin_huxley_1952_rate_tuple(v_initial))
    m, h, n = a_m / (a_m + b_m), a_h / (a_h + b_h), a_n / (a_n + b_n)
    from scipy.stats import binom

    na_probability = np.array([binom.pmf(k, 3, m) * (h if j else 1 - h) for j in range(2) for k in range(4)])
    k_probability = binom.pmf(np.arange(5), 4, n)
    counts = np.zeros((runs, 13), dtype=np.int64)
    counts[:, :8] = generator.multinomial(n_na, na_probability / na_probability.sum(), size=runs)
    counts[:, 8:] = generator.multinomial(n_k, k_probability / k_probability.sum(), size=runs)

    t = np.zeros(runs)
    v = np.full(runs, float(v_initial))
    above = v > threshold
    spike_count = np.zeros(runs, dtype=np.int64)
    first_spike = np.full(runs, np.nan)
    events = iterations = 0
    active = np.flatnonzero(t < duration)
    while active.size:
        iterations += 1
        ta, va, ca = t[active], v[active], counts[active]
        conductance_na = g_na * ca[:, 7] / n_na
        conductance_k = g_k * ca[:, 12] / n_k
        total = conductance_na + conductance_k + g_l
        if pulsed:
            inside = (ta >= pulse_start) & (ta < pulse_start + pulse_duration)
            drive = baseline + level[active] * inside
        else:
            drive = level[active]
        v_inf = (conductance_na * e_na + conductance_k * e_k + g_l * e_l + drive) / total
        relaxation = total / capacitance
        next_edge = edges[np.searchsorted(edges, ta, side="right").clip(max=edges.size - 1)]
        window = np.minimum(horizon, next_edge - ta)
        v_end = v_inf + (va - v_inf) * np.exp(-relaxation * window)
        bound = np.maximum(rates(va), rates(v_end))
        weights = ca[:, source] * multiplicity  # (runs, transitions)
        bound_total = (weights * bound[:, rate_index]).sum(axis=1)
        with np.errstate(divide="ignore"):
            wait = generator.exponential(size=active.size) / bound_total
        step = np.minimum(wait, window)
        v_new = v_inf + (va - v_inf) * np.exp(-relaxation * step)
        # spikes: v is monotone over the step, so an upward crossing is v_old <= thr < v_new
        crossing = (~above[active]) & (v_new > threshold)
        if np.any(crossing):
            with np.errstate(divide="ignore", invalid="ignore"):
                crossing_time = ta + np.log((va - v_inf) / (threshold - v_inf)) / relaxation
            counted = crossing & (crossing_time >= count_start)
            indices = active[counted]
            spike_count[indices] += 1
            first = np.isnan(first_spike[indices])
            first_spike[indices[first]] = crossing_time[counted][first]
        above[active] = np.where(crossing, True, above[active] & (v_new > threshold))
        t[active] = ta + step
        v[active] = v_new
        # candidate events: accept with probability (true propensity)/(bound) and choose the
        # transition with the same uniform
        candidate = wait < window
        if np.any(candidate):
            chosen = active[candidate]
            true = weights[candidate] * rates(v_new[candidate])[:, rate_index]
            cumulative = np.cumsum(true, axis=1)
            target = generator.random(chosen.size) * bound_total[candidate]
            accepted = target < cumulative[:, -1]
            if np.any(accepted):
                which = np.argmax(cumulative[accepted] > target[accepted, None], axis=1)
                runs_accepted = chosen[accepted]
                np.subtract.at(counts, (runs_accepted, source[which]), 1)
                np.add.at(counts, (runs_accepted, destination[which]), 1)
                events += int(accepted.sum())
        active = active[t[active] < duration - 1e-12]
    return {
        "spike_count": spike_count.reshape(amplitudes.size, trials),
        "first_spike_time": first_spike.reshape(amplitudes.size, trials),
        "events": events,
        "iterations": iterations,
    }
