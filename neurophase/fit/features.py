"""Electrophysiological features of current steps: ONE layer for recordings and simulations.

The same function, :func:`step_features`, computes the features of a recorded sweep and of a
simulated one: it takes a membrane-potential trace, the spike times in it and the step windows of
the protocol, whatever produced them. Spike times come from
:func:`neurophase.recordings.spikes.detect_spikes` on the trace (recordings, and simulations of
models that draw the action potential, e.g. conductance-based models) or from the model's
threshold (integrate-and-fire models, whose trace is reset and has no spike shape; their spike
shape features are undefined).

Per-step features (``FEATURES``; units in the table)
    ``spike_count`` and ``spike_rate`` (count / step duration; always defined, 0 without spikes);
    ``first_spike_latency`` (first spike after step onset; >= 1 spike); ``isi_cv`` (standard
    deviation / mean of the inter-spike intervals, sample standard deviation; >= 3 spikes);
    ``adaptation_index`` (:func:`neurophase.recordings.features.adaptation_index`, Allen Institute
    2017 definition; >= 3 spikes); ``voltage_base`` (median potential over the last
    ``baseline`` (100 ms) before the step during which the current is at the holding level;
    undefined when that segment is shorter than 5 ms, e.g. a step that follows another step);
    ``steady_state_voltage`` (mean over the last 10% of the step; eFEL
    ``steady_state_voltage_stimend``), ``voltage_deflection`` (steady state - base) and
    ``input_resistance`` (deflection / current increment, MOhm) on steps without spikes with an
    increment of at least 5 pA; ``time_constant`` (single exponential ``V_inf + A exp(-t/tau)``
    fitted by least squares from step onset to the potential's minimum, hyperpolarising steps
    without spikes and a deflection of at least 2 mV); ``sag_ratio`` ((V_ss - V_min) / (V_base -
    V_min), eFEL ``sag_ratio1``, same steps); ``ap_threshold`` (potential where dV/dt first
    exceeds 10 mV/ms in the 3 ms before a spike peak, eFEL ``AP_begin_voltage`` with its default
    derivative threshold), ``ap_amplitude`` (peak - threshold, eFEL ``AP_amplitude``) and
    ``ap_width`` (full width at half of that amplitude, eFEL ``AP_duration_half_width``), each the
    mean over the spikes of the step, only where the trace draws the spikes.

Undefined values
    A feature that does not exist for a step (the latency of a step without spikes, the sag of a
    depolarising step) is NaN **and** flagged: the Dataset has ``defined`` (step x feature, 1 or
    0) and every variable says when it is defined in ``attrs["defined_when"]``; the objectives
    (:mod:`neurophase.fit.objectives`) treat a feature defined on one side only as an explicit
    mismatch, never by dropping it.

Pooled features (:func:`pooled_features`)
    Over the steps of one cell: the f-I features of
    :func:`neurophase.recordings.features.fi_features` (rheobase, initial slope = gain, maximum
    rate = saturation, from the step table grouped by current level), the input resistance as the
    least-squares slope of the deflection against the current increment over hyperpolarising
    steps, and the mean and standard error of every per-step feature over the steps where it is
    defined.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from neurophase.recordings.features import adaptation_index
from neurophase.schema import quantity_variable

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["FEATURES", "Feature", "StepWindow", "step_features", "feature_dataset", "pooled_features",
           "AP_DERIVATIVE_THRESHOLD", "MIN_INCREMENT", "BASELINE_DURATION"]

#: dV/dt (mV/ms) whose first crossing before a peak marks the spike threshold (eFEL's default).
AP_DERIVATIVE_THRESHOLD = 10.0
#: Smallest current increment (pA) at which an input resistance is computed.
MIN_INCREMENT = 5.0
#: Longest baseline before a step (s), and the shortest usable one.
BASELINE_DURATION, MIN_BASELINE = 0.1, 0.005
#: Smallest hyperpolarising deflection (mV) for the time constant and the sag.
MIN_DEFLECTION = 2.0


@dataclasses.dataclass(frozen=True)
class Feature:
    """One per-step feature: unit, meaning, when it is defined, and its objective group.

    ``floor`` is the smallest scale of its z-score (the feature's measurement resolution; see
    :mod:`neurophase.fit.objectives`), ``relative_floor`` a fraction of the recorded value
    added to it (the rate's floor, one spike per step duration, is set by the objectives).

    Attributes
    ----------
    unit : str
        Unit string of its values (Brian2 syntax).
    long_name : str
        What it is, in words.
    defined_when : str
        When a step has it (otherwise NaN and flagged).
    group : str
        Objective group (``"none"``: not an objective).
    floor : float, the feature's unit
        Smallest scale of its z-score.
    relative_floor : float, dimensionless
        Fraction of the recorded value added to ``floor``.
    shape : bool
        A spike-shape feature (needs a trace that draws the spikes).
    """

    unit: str
    long_name: str
    defined_when: str
    group: str
    floor: float = 0.0
    relative_floor: float = 0.0
    shape: bool = False


#: The per-step features (the order is the ``feature`` coordinate of the Dataset).
FEATURES = {
    "spike_count": Feature("1", "spikes in the step", "always", "none"),
    "spike_rate": Feature("Hz", "spike count / step duration", "always", "f-I"),
    "first_spike_latency": Feature("ms", "first spike time after step onset", "spike_count >= 1",
                                   "spike timing", floor=2.0, relative_floor=0.05),
    "isi_cv": Feature("1", "coefficient of variation of the inter-spike intervals", "spike_count >= 3",
                      "spike timing", floor=0.05),
    "adaptation_index": Feature("1", "mean normalised difference of consecutive ISIs", "spike_count >= 3",
                                "spike timing", floor=0.02),
    "voltage_base": Feature("mV", "median potential before the step at the holding current",
                            "a holding segment of >= 5 ms before the step", "none"),
    "steady_state_voltage": Feature("mV", "mean potential over the last 10% of the step", "spike_count == 0",
                                    "subthreshold", floor=1.0),
    "voltage_deflection": Feature("mV", "steady-state potential - base potential",
                                  "spike_count == 0 and voltage_base defined", "subthreshold", floor=1.0),
    "input_resistance": Feature("Mohm", "voltage deflection / current increment",
                                "voltage_deflection defined and |increment| >= 5 pA", "none"),
    "time_constant": Feature("ms", "exponential time constant from step onset to the minimum",
                             "hyperpolarising, spike_count == 0, deflection <= -2 mV", "subthreshold",
                             floor=1.0, relative_floor=0.1),
    "sag_ratio": Feature("1", "(V_ss - V_min) / (V_base - V_min)",
                         "hyperpolarising, spike_count == 0, deflection <= -2 mV", "subthreshold", floor=0.03),
    "ap_threshold": Feature("mV", "potential where dV/dt first exceeds 10 mV/ms before the peak (mean)",
                            "spike_count >= 1 and the trace draws the spikes", "spike shape", floor=2.0, shape=True),
    "ap_amplitude": Feature("mV", "peak - threshold potential (mean)",
                            "spike_count >= 1 and the trace draws the spikes", "spike shape", floor=3.0, shape=True),
    "ap_width": Feature("ms", "full width at half amplitude (mean)",
                        "spike_count >= 1 and the trace draws the spikes", "spike shape", floor=0.1,
                        relative_floor=0.1, shape=True),
}
_NAMES = tuple(FEATURES)


@dataclasses.dataclass(frozen=True)
class StepWindow:
    """A test step of a sweep, in seconds from the sweep start and pA.

    ``baseline`` is the ``(start, stop)`` of the holding segment before the step, or None.

    Attributes
    ----------
    sweep : int
        Global number of its sweep.
    start, stop : float, s
        Step onset and end, from the sweep start.
    amplitude : float, pA
        Current during the step.
    holding : float, pA
        Holding current around it.
    baseline : (float, float) or None, s
        The holding segment before the step.
    label : str
        Name of the step in the protocol (may be empty).
    """

    sweep: int
    start: float
    stop: float
    amplitude: float
    holding: float
    baseline: tuple | None
    label: str = ""

    @property
    def increment(self) -> float:
        """Current increment over the holding current (pA)."""
        return self.amplitude - self.holding

    @property
    def duration(self) -> float:
        """Step duration (s)."""
        return self.stop - self.start


def _exponential_time_constant(time, voltage):
    """Least-squares ``V_inf + A exp(-t / tau)`` (tau in s), or NaN if the fit fails."""
    from scipy.optimize import curve_fit

    if time.size < 8:
        return np.nan
    span = max(time[-1] - time[0], 1e-6)
    start = (voltage[-1], voltage[0] - voltage[-1], span / 3.0)

    def model(t, v_inf, amplitude, tau):
        return v_inf + amplitude * np.exp(-(t - time[0]) / tau)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parameters, _ = curve_fit(model, time, voltage, p0=start, maxfev=2000,
                                      bounds=([-np.inf, -np.inf, span / 500.0], [np.inf, np.inf, 50 * span]))
    except (RuntimeError, ValueError):
        return np.nan
    return float(parameters[2])


def _smooth(voltage, samples):
    if samples <= 1 or voltage.size < samples:
        return voltage
    kernel = np.ones(samples) / samples
    return np.convolve(voltage, kernel, mode="same")


def _spike_shapes(voltage, interval, peaks):
    """Threshold, amplitude and half-width of every spike (peak sample indices)."""
    derivative = np.diff(voltage) / (interval * 1e3)  # mV/ms between samples k and k+1
    back = max(2, int(round(0.003 / interval)))
    thresholds, amplitudes, widths = [], [], []
    for peak in peaks:
        first = max(0, peak - back)
        rising = derivative[first:peak]
        above = np.flatnonzero(rising >= AP_DERIVATIVE_THRESHOLD)
        if above.size == 0:
            continue
        onset = first + int(above[0])
        threshold = float(voltage[onset])
        amplitude = float(voltage[peak]) - threshold
        if amplitude <= 0:
            continue
        half = threshold + amplitude / 2.0
        # rising crossing of the half level (interpolated) between onset and peak
        segment = voltage[onset:peak + 1]
        up = np.flatnonzero(segment >= half)
        if up.size == 0:
            continue
        k = onset + int(up[0])
        t_up = k - (voltage[k] - half) / max(voltage[k] - voltage[k - 1], 1e-12) if k > onset else float(k)
        tail = voltage[peak:min(voltage.size, peak + int(round(0.01 / interval)))]
        down = np.flatnonzero(tail < half)
        if down.size == 0:
            continue
        j = peak + int(down[0])
        t_down = j - 1 + (voltage[j - 1] - half) / max(voltage[j - 1] - voltage[j], 1e-12)
        thresholds.append(threshold)
        amplitudes.append(amplitude)
        widths.append((t_down - t_up) * interval * 1e3)
    return thresholds, amplitudes, widths


def step_features(voltage: np.ndarray | None, interval: float, spike_times: ArrayLike, steps: Sequence[StepWindow],
                  spike_shape: bool = True) -> list[dict[str, float]]:
    """Per-step features of one sweep (definitions in the module docstring).

    Parameters
    ----------
    voltage : numpy.ndarray or None, mV
        Membrane potential in mV, sampled every ``interval`` from the sweep start (None: only the
        spike-train features are computed, the others are undefined).
    interval : float, s
        Seconds between samples.
    spike_times : array_like, s
        Spike times (s from the sweep start): peaks of detected spikes, or threshold crossings.
    steps : sequence of StepWindow
        The test steps of this sweep.
    spike_shape : bool
        The trace draws the action potentials (spike-shape features are computed); False for
        reset models.

    Returns
    -------
    list of dict
        One dict per step: feature name -> value (NaN where undefined).

    Examples
    --------
    >>> t = np.arange(0, 0.6, 1e-4)
    >>> v = np.where(t < 0.1, -70.0, -70.0 - 10.0 * (1 - np.exp(-(t - 0.1) / 0.02)))
    >>> step = StepWindow(0, 0.1, 0.5, -100.0, 0.0, (0.0, 0.1))
    >>> row = step_features(v, 1e-4, np.array([]), [step])[0]
    >>> round(row["input_resistance"], 3), round(row["time_constant"], 2), row["spike_rate"]
    (100.0, 20.0, 0.0)
    """
    spike_times = np.sort(np.asarray(spike_times, dtype=float))
    rows = []
    for step in steps:
        row = dict.fromkeys(_NAMES, np.nan)
        inside = spike_times[(spike_times >= step.start) & (spike_times < step.stop)]
        count = inside.size
        row["spike_count"] = float(count)
        row["spike_rate"] = count / step.duration
        if count >= 1:
            row["first_spike_latency"] = (inside[0] - step.start) * 1e3
        if count >= 3:
            intervals = np.diff(inside)
            row["isi_cv"] = float(np.std(intervals, ddof=1) / np.mean(intervals))
            row["adaptation_index"] = float(adaptation_index(inside))
        if voltage is not None:
            _subthreshold(row, voltage, interval, step, count)
            if spike_shape and count >= 1:
                peaks = _peaks_near(voltage, interval, inside)
                thresholds, amplitudes, widths = _spike_shapes(voltage, interval, peaks)
                if thresholds:
                    row["ap_threshold"] = float(np.mean(thresholds))
                    row["ap_amplitude"] = float(np.mean(amplitudes))
                    row["ap_width"] = float(np.mean(widths))
        rows.append(row)
    return rows


def _peaks_near(voltage, interval, times):
    """The trace maximum within 2 ms after each spike time (a detected peak is its own maximum)."""
    reach = max(1, int(round(0.002 / interval)))
    peaks = []
    for time in times:
        start = int(round(time / interval))
        if start >= voltage.size:
            continue
        stop = min(voltage.size, start + reach + 1)
        peaks.append(start + int(np.argmax(voltage[start:stop])))
    return np.asarray(peaks, dtype=int)


def _subthreshold(row, voltage, interval, step, count):
    first, last = int(round(step.start / interval)), int(round(step.stop / interval))
    last = min(last, voltage.size)
    if last - first < 10:
        return
    base = np.nan
    if step.baseline is not None:
        b0, b1 = int(round(step.baseline[0] / interval)), int(round(step.baseline[1] / interval))
        if b1 - b0 >= max(2, int(round(MIN_BASELINE / interval))):
            base = float(np.median(voltage[b0:b1]))
    row["voltage_base"] = base
    if count > 0:
        return
    tail = max(1, int(round(0.1 * (last - first))))
    steady = float(np.mean(voltage[last - tail:last]))
    row["steady_state_voltage"] = steady
    if not np.isfinite(base):
        return
    deflection = steady - base
    row["voltage_deflection"] = deflection
    if abs(step.increment) >= MIN_INCREMENT:
        row["input_resistance"] = deflection / step.increment * 1e3  # mV/pA = GOhm -> MOhm
    if step.increment < 0 and deflection <= -MIN_DEFLECTION:
        trace = voltage[first:last]
        smooth = _smooth(trace, max(1, int(round(0.001 / interval))))
        minimum_index = int(np.argmin(smooth[: max(2, trace.size - tail)]))
        minimum = float(smooth[minimum_index])
        row["sag_ratio"] = (steady - minimum) / (base - minimum) if base > minimum else np.nan
        stop = max(minimum_index, 8)
        time = np.arange(stop) * interval
        tau = _exponential_time_constant(time, trace[:stop])
        row["time_constant"] = tau * 1e3 if np.isfinite(tau) else np.nan


def feature_dataset(rows: Sequence[dict[str, float]], steps: Sequence[StepWindow], source: str = "") -> xr.Dataset:
    """Per-step feature rows (``step_features``) -> Dataset with dim ``step``.

    Variables: every feature of :data:`FEATURES` (units in attrs, ``defined_when``), ``defined``
    (step x feature, 1 where the value exists); coordinates ``sweep``, ``current`` (the step
    amplitude, pA), ``increment`` (pA), ``step_start`` and ``step_duration`` (s).

    Parameters
    ----------
    rows : sequence of dict
        :func:`step_features` rows, one per step (units of :data:`FEATURES`).
    steps : sequence of StepWindow
        The steps, in the same order.
    source : str
        ``attrs["source"]`` (e.g. ``"recorded"``).

    Returns
    -------
    xarray.Dataset
        The table above.
    """
    n_steps = len(rows)
    table = np.array([[row[name] for name in _NAMES] for row in rows], dtype=float).reshape(n_steps, len(_NAMES))
    variables = {}
    for column, name in enumerate(_NAMES):
        spec = FEATURES[name]
        variables[name] = quantity_variable(table[:, column], spec.unit, ("step",), long_name=spec.long_name,
                                            defined_when=spec.defined_when, objective_group=spec.group)
    variables["defined"] = xr.DataArray(np.isfinite(table).astype(np.int8), dims=("step", "feature"),
                                        attrs={"units": "1", "long_name": "1 where the feature exists for the step"})
    coords = {
        "step": ("step", np.arange(n_steps)),
        "feature": ("feature", list(_NAMES)),
        "sweep": ("step", np.array([step.sweep for step in steps], dtype=np.int64)),
        "current": ("step", np.array([step.amplitude for step in steps], dtype=float),
                    {"units": "pA", "long_name": "current during the step"}),
        "increment": ("step", np.array([step.increment for step in steps], dtype=float),
                      {"units": "pA", "long_name": "step current - holding current"}),
        "step_start": ("step", np.array([step.start for step in steps], dtype=float), {"units": "second"}),
        "step_duration": ("step", np.array([step.duration for step in steps], dtype=float), {"units": "second"}),
    }
    return xr.Dataset(variables, coords=coords, attrs={"source": source})


def _fi_table(dataset, resolution=1.0):
    """The step table grouped by current level into the (input, trial) schema of recordings."""
    current = dataset["current"].values
    keys = np.round(current / resolution).astype(np.int64)
    levels, level_of = np.unique(keys, return_inverse=True)
    trial = np.zeros(current.size, dtype=int)
    for level in range(levels.size):
        members = np.flatnonzero(level_of == level)
        trial[members] = np.arange(members.size)
    shape = (levels.size, int(trial.max()) + 1 if trial.size else 1)

    def grid(values, fill=np.nan):
        out = np.full(shape, fill, dtype=float)
        out[level_of, trial] = values
        return out

    inputs = np.array([current[level_of == level].mean() for level in range(levels.size)])
    return xr.Dataset(
        {"spike_count": (("input", "trial"), grid(dataset["spike_count"].values)),
         "rate": (("input", "trial"), grid(dataset["spike_rate"].values)),
         "adaptation_index": (("input", "trial"), grid(dataset["adaptation_index"].values)),
         "qc_pass": (("input", "trial"), grid(np.ones(current.size), 0.0).astype(np.int64))},
        coords={"input": inputs, "trial": np.arange(shape[1])})


def pooled_features(dataset: xr.Dataset) -> dict[str, Any]:
    """Cell-level features of a per-step feature Dataset (module docstring).

    Parameters
    ----------
    dataset : xarray.Dataset
        :func:`feature_dataset` of the cell's steps.

    Returns
    -------
    dict
        ``rheobase`` (pA), ``fi_gain`` (Hz/pA), ``max_rate`` (Hz), ``saturation_current`` (pA),
        ``input_resistance_slope`` (MOhm), and ``<feature>_mean`` / ``<feature>_se`` for every
        per-step feature (NaN where no step defines it; ``<feature>_n`` counts the steps).
    """
    from neurophase.recordings.features import fi_features

    pooled = {}
    if dataset.sizes["step"]:
        fi = fi_features(_fi_table(dataset))
        pooled.update(rheobase=fi["rheobase"], fi_gain=fi["slope"], max_rate=fi["max_rate"],
                      saturation_current=fi["saturation_current"])
    else:
        pooled.update(rheobase=np.nan, fi_gain=np.nan, max_rate=np.nan, saturation_current=np.nan)
    deflection = dataset["voltage_deflection"].values
    increment = dataset["increment"].values
    usable = np.isfinite(deflection) & (increment <= -MIN_INCREMENT)
    if usable.sum() >= 2 and np.ptp(increment[usable]) > 0:
        slope = np.polyfit(increment[usable], deflection[usable], 1)[0]
        pooled["input_resistance_slope"] = float(slope * 1e3)
    elif usable.sum() == 1:
        pooled["input_resistance_slope"] = float(deflection[usable][0] / increment[usable][0] * 1e3)
    else:
        pooled["input_resistance_slope"] = np.nan
    for name in _NAMES:
        values = dataset[name].values
        values = values[np.isfinite(values)]
        pooled[f"{name}_n"] = int(values.size)
        pooled[f"{name}_mean"] = float(values.mean()) if values.size else np.nan
        pooled[f"{name}_se"] = float(values.std(ddof=1) / np.sqrt(values.size)) if values.size >= 2 else np.nan
    return pooled
