"""Quality control of current-clamp steps: what is measured, and why a step is excluded.

Every test step is kept in the Dataset; a step that fails a check gets ``qc_pass = 0`` and a
reason, and is listed in ``Dataset.attrs["excluded"]`` (JSON) and the report. Excluded steps
are left out of the f-I fit; nothing is dropped silently.

Functions
---------
baseline_segment
    The pre-step baseline window of a sweep.
baseline_statistics
    Baseline potential (median) and noise (robust standard deviation) of a sweep.
depolarisation_block
    Whether a step ends in depolarisation block.
step_quality
    All checks of one step -> list of reasons (empty: the step passes).

Checks and default limits (:data:`DEFAULT_QC_SETTINGS`)
    * sweep missing or truncated, step window past the end of the sweep;
    * non-finite samples (NaN, inf) in the step window or the baseline;
    * baseline potential above ``max_baseline_potential`` (-40 mV: a depolarised, unhealthy or
      unclamped cell), or more than ``max_baseline_deviation`` (5 mV) from the median baseline
      of the recording (drift between sweeps);
    * baseline noise above ``max_noise`` (2 mV robust standard deviation);
    * spontaneous firing: a spike in the baseline or in the tail of the sweep after the
      last step (more than ``recovery`` = 100 ms after it ended);
    * depolarisation block: spiking stops before the step ends while the membrane stays
      depolarised (median V of the last quarter of the step above ``block_potential``,
      -35 mV, with no spike there).

Noise estimate
    ``1.4826 x median(|V - median(V)|)`` over the baseline: the median absolute deviation
    scaled to the standard deviation of Gaussian noise (Hampel 1974, J. Am. Stat. Assoc.
    69:383; Rousseeuw & Croux 1993, J. Am. Stat. Assoc. 88:1273), insensitive to an odd
    spike or artefact in the baseline.
"""

from __future__ import annotations

import numpy as np

from neurophase.units import parse_quantity, to_magnitude

__all__ = [
    "DEFAULT_QC_SETTINGS",
    "baseline_segment",
    "baseline_statistics",
    "depolarisation_block",
    "step_quality",
    "qc_limits",
]

#: Default limits (Brian2-syntax text).
DEFAULT_QC_SETTINGS = {
    "max_baseline_potential": "-40 mV",
    "max_baseline_deviation": "5 mV",
    "max_noise": "2 mV",
    "block_potential": "-35 mV",
    "block_fraction": 0.25,
    "recovery": "100 ms",
}


def qc_limits(**overrides):
    """The QC limits as plain numbers (mV, seconds, fractions), defaults updated by ``overrides``.

    Examples
    --------
    >>> qc_limits(max_noise="0.5 mV")["max_noise"]
    0.5
    """
    unknown = set(overrides) - set(DEFAULT_QC_SETTINGS)
    if unknown:
        from neurophase.errors import ParameterError

        raise ParameterError(f"Unknown QC setting(s) {sorted(unknown)}; known: {sorted(DEFAULT_QC_SETTINGS)}.")
    settings = {**DEFAULT_QC_SETTINGS, **overrides}
    units = {"max_baseline_potential": "mV", "max_baseline_deviation": "mV", "max_noise": "mV",
             "block_potential": "mV", "recovery": "second"}
    limits = {}
    for key, value in settings.items():
        if key in units:
            quantity = parse_quantity(value, name=key) if isinstance(value, str) else value
            limits[key] = float(to_magnitude(quantity, units[key], name=key))
        else:
            limits[key] = float(value)
    return limits


def baseline_segment(sweep, baseline_stop):
    """The membrane potential before the first current step of the protocol (mV)."""
    stop = int(min(max(baseline_stop, 0), sweep.voltage.size))
    return sweep.voltage[:stop]


def baseline_statistics(voltage):
    """Median and robust standard deviation (mV) of a baseline segment; NaN if empty or not finite.

    Examples
    --------
    >>> median, noise = baseline_statistics(np.array([-65.0, -64.0, -66.0, -65.0, 20.0]))
    >>> float(median), round(float(noise), 4)
    (-65.0, 1.4826)
    """
    voltage = np.asarray(voltage, dtype=float)
    if voltage.size == 0 or not np.all(np.isfinite(voltage)):
        return np.nan, np.nan
    median = float(np.median(voltage))
    return median, float(1.4826 * np.median(np.abs(voltage - median)))


def depolarisation_block(voltage, start, stop, peaks, limits):
    """True when the step ends in depolarisation block (see the module docstring).

    Parameters
    ----------
    voltage : ndarray
        mV.
    start, stop : int
        Step window.
    peaks : ndarray of int
        Spike peak indices of the sweep.
    limits : dict
        From :func:`qc_limits`.
    """
    length = stop - start
    tail_start = stop - int(round(limits["block_fraction"] * length))
    tail = voltage[tail_start:stop]
    if tail.size == 0 or not np.all(np.isfinite(tail)):
        return False
    spikes_in_tail = np.count_nonzero((peaks >= tail_start) & (peaks < stop))
    return bool(spikes_in_tail == 0 and np.median(tail) > limits["block_potential"])


def step_quality(sweep, step, peaks, baseline, noise, recording_baseline, baseline_stop, sampling_rate,
                 limits):
    """Every failed check of one step, as human-readable reasons (empty list: it passes).

    Returns
    -------
    reasons : list of str
    block : bool
        Depolarisation block.
    spontaneous : int
        Spikes in the baseline and the sweep tail.
    """
    reasons = []
    if sweep.problem:
        reasons.append(sweep.problem)
    if step.stop > sweep.voltage.size:
        reasons.append(
            f"truncated: the step window ends at sample {step.stop} but the sweep has {sweep.voltage.size}")
        return reasons, False, 0
    window = sweep.voltage[step.start:step.stop]
    base = baseline_segment(sweep, baseline_stop)
    n_bad = int(np.count_nonzero(~np.isfinite(window))) + int(np.count_nonzero(~np.isfinite(base)))
    if n_bad:
        reasons.append(f"{n_bad} non-finite samples (NaN/inf) in the step window or baseline")
        return reasons, False, 0
    if np.isfinite(baseline):
        if baseline > limits["max_baseline_potential"]:
            reasons.append(f"baseline potential {baseline:.1f} mV above {limits['max_baseline_potential']:g} mV")
        if np.isfinite(recording_baseline) and abs(baseline - recording_baseline) > limits["max_baseline_deviation"]:
            reasons.append(f"baseline {baseline:.1f} mV is {abs(baseline - recording_baseline):.1f} mV from the "
                           f"recording's median baseline {recording_baseline:.1f} mV (drift)")
    if np.isfinite(noise) and noise > limits["max_noise"]:
        reasons.append(f"baseline noise {noise:.2f} mV above {limits['max_noise']:g} mV")
    last_stop = max(s.stop for s in sweep.steps)
    tail_start = last_stop + int(round(limits["recovery"] * sampling_rate))
    spontaneous = int(np.count_nonzero(peaks < baseline_stop) + np.count_nonzero(peaks >= tail_start))
    if spontaneous:
        reasons.append(f"spontaneous firing outside the steps ({spontaneous} spikes in the baseline or tail)")
    block = depolarisation_block(sweep.voltage, step.start, step.stop, peaks, limits)
    if block:
        reasons.append("depolarisation block: spiking stops and the membrane stays above "
                       f"{limits['block_potential']:g} mV in the last {100 * limits['block_fraction']:g}% of the step")
    return reasons, block, spontaneous
