"""A current-clamp Recording in the neurophase Dataset schema (the same as simulations).

Functions
---------
recording_dataset
    Detect spikes, run quality control and compute per-step firing statistics; return an
    :class:`xarray.Dataset` with dims ``input`` (step current, pA) and ``trial`` (repeated
    steps at the same current: both test steps of a dual-step sweep, repeated sweeps).

Variables (dims ``(input, trial)``; padding where a level has fewer trials is NaN, with
``sweep = -1`` and ``qc_pass = 0``)
    ``spike_count`` (1), ``rate`` (Hz, steady-state rule of
    :func:`neurophase.mapping.firing.spike_statistics`), ``count_rate`` (Hz, spikes over the
    whole step duration), ``first_spike_latency`` (ms), ``cv_isi`` (1), ``adaptation_index``
    (1, :func:`neurophase.recordings.features.adaptation_index`), ``baseline_potential`` (mV,
    liquid-junction corrected), ``noise`` (mV), ``holding_current`` (pA), ``step_start`` (s),
    ``step_duration`` (ms), ``depolarisation_block`` (1), ``spontaneous_spikes`` (1),
    ``qc_pass`` (1: 1 passes, 0 excluded), ``sweep`` (sweep number), ``step_label`` and
    ``qc_reason`` (text).

Attributes
    Provenance (:func:`neurophase.schema.provenance`) with ``source_file``, ``file_hash``
    (SHA-256 of the file, or JSON of every file's hash), ``file_format``, ``protocol``,
    ``cell``, ``sampling_rate`` (Hz), ``voltage_unit_in_file``, ``current_unit_in_file``,
    ``current_source``, ``liquid_junction_potential`` (mV), the spike-detection and QC
    settings, and ``excluded``: a JSON list of ``{sweep, step, input_pA, reason}`` for every
    excluded step.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from neurophase.errors import RecordingError

# spike-train statistics shared with the simulations (one rule for both)
from neurophase.mapping.firing import spike_statistics
from neurophase.recordings import qc
from neurophase.recordings.features import adaptation_index
from neurophase.recordings.spikes import DEFAULT_SPIKE_SETTINGS, detect_spikes, spikes_in_windows
from neurophase.schema import provenance, quantity_coordinate, quantity_variable

__all__ = ["recording_dataset", "step_spike_times"]


def _picoamperes(value, name):
    from neurophase.recordings.base import as_picoamperes

    return float(as_picoamperes(value, name))


def step_spike_times(recording, spike_settings=None):
    """Spike peak indices of every sweep (list of int arrays), with the given detector settings."""
    settings = {**DEFAULT_SPIKE_SETTINGS, **(spike_settings or {})}
    return [detect_spikes(sweep.voltage, recording.sampling_rate, **settings) if sweep.voltage.size else
            np.empty(0, dtype=int) for sweep in recording.sweeps]


def recording_dataset(recording, spike_settings=None, qc_settings=None, current_resolution="1 pA",
                      transient=None):
    """Turn a :class:`~neurophase.recordings.base.Recording` into a schema Dataset.

    Parameters
    ----------
    recording : Recording
    spike_settings : dict, optional
        Overrides of :data:`neurophase.recordings.spikes.DEFAULT_SPIKE_SETTINGS`.
    qc_settings : dict, optional
        Overrides of :data:`neurophase.recordings.qc.DEFAULT_QC_SETTINGS`.
    current_resolution : Quantity or str
        Steps whose currents differ by less are trials of the same ``input`` level.
    transient : Quantity or str, optional
        Excluded start of each step for the steady-state ``rate`` and ``cv_isi``; default
        the first 20% of the step (rule of :func:`neurophase.mapping.firing.spike_statistics`).

    Returns
    -------
    xarray.Dataset
    """
    unknown = set(spike_settings or {}) - set(DEFAULT_SPIKE_SETTINGS)
    if unknown:
        raise RecordingError(f"Unknown spike setting(s) {sorted(unknown)}; known: {sorted(DEFAULT_SPIKE_SETTINGS)}.")
    limits = qc.qc_limits(**(qc_settings or {}))
    resolution = _picoamperes(current_resolution, "current_resolution")
    if resolution <= 0:
        raise RecordingError("current_resolution must be positive, e.g. '1 pA'.")
    rate = recording.sampling_rate
    junction = recording.liquid_junction_potential
    peaks_per_sweep = step_spike_times(recording, spike_settings)
    baseline_stop = recording.baseline_end()
    baselines, noises = [], []
    for sweep in recording.sweeps:
        median, noise = qc.baseline_statistics(qc.baseline_segment(sweep, baseline_stop))
        baselines.append(median - junction)
        noises.append(noise)
    recording_baseline = float(np.nanmedian(baselines)) if np.any(np.isfinite(baselines)) else np.nan

    rows = []
    spike_owner, spike_time = [], []
    for sweep, peaks, baseline, noise in zip(recording.sweeps, peaks_per_sweep, baselines, noises):
        if not sweep.steps:
            continue
        starts = [step.start for step in sweep.steps]
        stops = [step.stop for step in sweep.steps]
        for step, inside in zip(sweep.steps, spikes_in_windows(peaks, starts, stops)):
            reasons, block, spontaneous = qc.step_quality(
                sweep, step, peaks, baseline + junction if np.isfinite(baseline) else baseline, noise,
                recording_baseline + junction, baseline_stop, rate, limits)
            if not np.isfinite(baseline) and not reasons:
                reasons.append("no baseline before the step")
            number = len(rows)
            times = inside / rate
            spike_owner.extend([number] * inside.size)
            spike_time.extend(times.tolist())
            rows.append({
                "sweep": sweep.index, "label": step.label, "amplitude": step.amplitude, "holding": step.holding,
                "start": step.start / rate, "stop": step.stop / rate, "baseline": baseline, "noise": noise,
                "block": int(block), "spontaneous": spontaneous, "reasons": reasons,
                "adaptation": adaptation_index(times), "complete": step.stop <= sweep.voltage.size,
            })
    if not rows:
        raise RecordingError(f"{recording.source_file}: no test steps to analyse (no step protocol).")
    n_steps = len(rows)
    starts = np.array([row["start"] for row in rows])
    stops = np.array([row["stop"] for row in rows])
    transient_seconds = None
    if transient is not None:
        from neurophase.units import parse_quantity, to_magnitude

        transient_seconds = float(to_magnitude(parse_quantity(transient, name="transient"), "second", name="transient"))
    statistics = spike_statistics(np.asarray(spike_owner, dtype=int), np.asarray(spike_time, dtype=float), n_steps,
                                  starts, stops, transient=transient_seconds, time_unit="second", dimension="step")

    incomplete = ~np.array([row["complete"] for row in rows])
    if incomplete.any():  # a step cut short by a truncated file has no valid statistics
        statistics = statistics.copy()
        for name in ("spike_count", "rate", "first_spike_latency", "cv_isi"):
            values = statistics[name].values.copy()
            values[incomplete] = np.nan
            statistics[name].values = values
        for row, cut in zip(rows, incomplete):
            if cut:
                row["adaptation"] = np.nan
    amplitudes = np.array([row["amplitude"] for row in rows])
    keys = np.round(amplitudes / resolution).astype(np.int64)
    levels, level_of_step = np.unique(keys, return_inverse=True)
    trial_of_step = np.zeros(n_steps, dtype=int)
    for level in range(levels.size):
        members = np.flatnonzero(level_of_step == level)
        trial_of_step[members] = np.arange(members.size)
    n_levels, n_trials = levels.size, int(trial_of_step.max()) + 1
    input_values = np.array([amplitudes[level_of_step == level].mean() for level in range(n_levels)])

    def grid(values, fill=np.nan, dtype=float):
        table = np.full((n_levels, n_trials), fill, dtype=dtype)
        table[level_of_step, trial_of_step] = values
        return table

    dims = ("input", "trial")
    excluded = [
        {"sweep": int(row["sweep"]), "step": row["label"], "input_pA": round(float(row["amplitude"]), 3),
         "reason": "; ".join(row["reasons"])}
        for row in rows if row["reasons"]
    ]
    count_rate = statistics["spike_count"].values / (stops - starts)
    variables = {
        "spike_count": quantity_variable(grid(statistics["spike_count"].values), "1", dims,
                                         long_name="spikes in the step window"),
        "rate": quantity_variable(grid(statistics["rate"].values), "Hz", dims,
                                  long_name="steady-state firing rate", rule=statistics["rate"].attrs["rule"]),
        "count_rate": quantity_variable(grid(count_rate), "Hz", dims,
                                        long_name="spike count divided by the step duration"),
        "first_spike_latency": quantity_variable(grid(statistics["first_spike_latency"].values), "ms", dims,
                                                 long_name="first spike peak time after step onset"),
        "cv_isi": quantity_variable(grid(statistics["cv_isi"].values), "1", dims,
                                    long_name="coefficient of variation of the ISIs (steady state)"),
        "adaptation_index": quantity_variable(grid([row["adaptation"] for row in rows]), "1", dims,
                                              long_name="mean normalised difference of consecutive ISIs"),
        "baseline_potential": quantity_variable(grid([row["baseline"] for row in rows]), "mV", dims,
                                                long_name="median potential before the first step, LJP-corrected"),
        "noise": quantity_variable(grid([row["noise"] for row in rows]), "mV", dims,
                                   long_name="robust standard deviation of the baseline"),
        "holding_current": quantity_variable(grid([row["holding"] for row in rows]), "pA", dims,
                                             long_name="holding current before the step"),
        "step_start": quantity_variable(grid(starts), "second", dims, long_name="step onset from sweep start"),
        "step_duration": quantity_variable(grid((stops - starts) * 1e3), "ms", dims, long_name="step duration"),
        "depolarisation_block": quantity_variable(grid([row["block"] for row in rows], 0), "1", dims,
                                                  long_name="1 if the step ends in depolarisation block"),
        "spontaneous_spikes": quantity_variable(grid([row["spontaneous"] for row in rows], 0), "1", dims,
                                                long_name="spikes in the baseline and the sweep tail"),
        "qc_pass": xr.DataArray(grid([0 if row["reasons"] else 1 for row in rows], 0, np.int64), dims=dims,
                                attrs={"units": "1", "long_name": "1 if the step passed quality control"}),
        "sweep": xr.DataArray(grid([row["sweep"] for row in rows], -1, np.int64), dims=dims,
                              attrs={"units": "1", "long_name": "sweep number in the file (-1: no step)"}),
        "step_label": xr.DataArray(grid([row["label"] for row in rows], "", object), dims=dims,
                                   attrs={"long_name": "epoch or window of the step"}),
        "qc_reason": xr.DataArray(grid(["; ".join(row["reasons"]) for row in rows], "", object), dims=dims,
                                  attrs={"long_name": "why the step was excluded (empty: passed)"}),
    }
    hashes = recording.file_hashes
    attrs = provenance(
        source_file=recording.source_file,
        file_hash=next(iter(hashes.values())) if len(hashes) == 1 else json.dumps(hashes),
        file_format=recording.file_format, protocol=recording.protocol, cell=recording.cell,
        sampling_rate=float(rate), sampling_rate_units="Hz", voltage_unit_in_file=recording.voltage_unit,
        current_unit_in_file=recording.current_unit, current_source=recording.current_source,
        liquid_junction_potential=float(junction), liquid_junction_potential_units="mV",
        source_files=json.dumps([str(path) for path in recording.source_files]),
        spike_detection=json.dumps({**DEFAULT_SPIKE_SETTINGS, **(spike_settings or {})}),
        quality_control=json.dumps({key: str(value) for key, value in {**qc.DEFAULT_QC_SETTINGS,
                                                                        **(qc_settings or {})}.items()}),
        excluded=json.dumps(excluded), n_excluded=len(excluded), n_steps=n_steps,
        **{f"file_{key}": value for key, value in recording.extra.items()},
    )
    dataset = xr.Dataset(
        variables,
        coords={"input": quantity_coordinate("input", input_values, "pA",
                                             long_name="injected current during the step"),
                "trial": ("trial", np.arange(n_trials))},
        attrs=attrs,
    )
    return dataset
