"""Figures of the recordings check (matplotlib, Agg backend).

Functions
---------
plot_fi_curve
    f-I points of every step (passed and excluded) with every fitted candidate.
plot_example_traces
    A few example steps with their detected spikes.
plot_recordings
    The figures of the ``recordings`` measurement: per cell, the f-I steps with the fitted
    candidates and the onset power law drawn from the Dataset alone.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_fi_curve", "plot_example_traces", "plot_recordings"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_fi_curve(analysis, path, response="rate"):
    """Save the f-I figure of one :class:`~neurophase.check.recordings.CellAnalysis` to ``path``."""
    from brian2 import pA

    plt = _pyplot()
    dataset = analysis.dataset
    current = np.asarray(dataset["input"].values, dtype=float)
    values = np.asarray(dataset[response].values, dtype=float)
    passed = np.asarray(dataset["qc_pass"].values) == 1
    present = np.asarray(dataset["sweep"].values) >= 0
    figure, axis = plt.subplots(figsize=(6.4, 4.4))
    grid_x = np.repeat(current[:, None], values.shape[1], axis=1)
    axis.plot(grid_x[passed], values[passed], "o", color="tab:blue", alpha=0.5, label="steps (passed QC)")
    excluded = present & ~passed
    if excluded.any():
        axis.plot(grid_x[excluded], values[excluded], "x", color="grey", label="excluded steps")
    with np.errstate(invalid="ignore"):
        mean = np.array([np.mean(row[mask]) if mask.any() else np.nan for row, mask in zip(values, passed)])
    axis.plot(current, mean, "k.", markersize=8, label="trial mean")
    fit = analysis.fit
    if fit is not None:
        fine = np.linspace(current.min(), current.max(), 400)
        for name in fit.candidates_:
            predicted = fit.predict(fine * pA, candidate=name)
            rmse = float(fit.scores_["heldout_rmse"].sel(candidate=name))
            style = "-" if name == fit.best_ else "--"
            axis.plot(fine, _as_hertz(predicted), style, linewidth=2 if name == "derived" else 1.2,
                      label=f"{name} (held-out {rmse:.2g} Hz)")
    axis.set_xlabel(f"step current ({dataset['input'].attrs['units']})")
    axis.set_ylabel(f"{response} ({dataset[response].attrs['units']})")
    axis.set_title(f"{analysis.recording.cell}: f-I")
    axis.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_recordings(datasets, verdicts):
    """C5 and C1 on recordings: each cell's f-I steps with every fitted candidate over them.

    Steps that passed quality control are drawn faintly, the mean over them per current level with
    its 95 % Student-t interval in black; the derived activation (its parameters fitted) in red, the
    rival candidates dashed; the onset power law ``a (I - I_c)^p`` (fitted on the rising part) in
    blue with its exponent against the predicted 1/2. Needs the ``fit_*`` curves that
    :func:`neurophase.check.recordings.analyse_cell` adds; a cell that was not fitted shows its data.
    """
    from neurophase.figures.style import DATA, PREDICTION, TRIAL
    from neurophase.statistics import mean_interval

    plt = _pyplot()
    figures = []
    for name, dataset in datasets.items():
        response = "rate" if "rate" in dataset else next(iter(dataset.data_vars))
        unit = dataset["input"].attrs.get("units", "pA")
        current = np.asarray(dataset["input"].values, dtype=float)
        values = np.asarray(dataset[response].transpose("input", "trial").values, dtype=float)
        passed = (np.asarray(dataset["qc_pass"].transpose("input", "trial").values) == 1
                  if "qc_pass" in dataset else np.isfinite(values))
        figure, axis = plt.subplots(figsize=(6.4, 4.4))
        grid_x = np.repeat(current[:, None], values.shape[1], axis=1)
        axis.plot(grid_x[passed], values[passed], **{**TRIAL, "label": "recorded steps (passed QC)"})
        estimates, errors = [], []
        for row, mask in zip(values, passed):
            if mask.sum() >= 2:
                mean, low, high = mean_interval(row[mask])
                estimates.append(mean)
                errors.append((max(mean - low, 0), max(high - mean, 0)))
            else:
                estimates.append(row[mask][0] if mask.any() else np.nan)
                errors.append((0.0, 0.0))
        errors = np.asarray(errors, dtype=float).T
        axis.errorbar(current, estimates, yerr=np.where(np.isfinite(errors), errors, 0), **DATA,
                      label="recorded mean per level (95 % CI)")
        rmse = dict(zip(dataset.attrs.get("fit_candidates", []), dataset.attrs.get("fit_heldout_rmse", [])))
        for candidate in dataset.attrs.get("fit_candidates", []):
            if f"fit_{candidate}" not in dataset:
                continue
            label = f"{candidate} fitted (held-out RMSE {float(rmse.get(candidate, np.nan)):.2g} Hz)"
            style = PREDICTION if candidate == "derived" else dict(lw=0.9, ls="--", alpha=0.8)
            axis.plot(dataset["fit_input"].values, dataset[f"fit_{candidate}"].values, **style,
                      label=("derived mean-field activation, parameters " + label.split(" ", 1)[1])
                      if candidate == "derived" else label)
        if "onset_power_law" in dataset:
            exponent = next((v.measured for v in verdicts if v.id == f"C1-{name}"), np.nan)
            axis.plot(dataset["onset_input"].values, dataset["onset_power_law"].values, color="tab:blue", lw=1.6,
                      label=f"onset power law fitted, p = {exponent:.2f} (predicted 1/2)")
        axis.set_xlabel(f"step current I ({unit})")
        axis.set_ylabel(f"{response} ({dataset[response].attrs.get('units', 'Hz')})")
        axis.set_title(f"{name}: f-I", fontsize=9)
        axis.legend(fontsize=6, loc="upper left")
        figure.tight_layout()
        figures.append((f"fi_{name}", figure,
                        f"C5/C1 ({name}): recorded f-I steps (faint) and their means with 95 % intervals, with "
                        "the derived activation (red) and its rivals (dashed) fitted to them: the derived form "
                        "should run through the points no worse than the best rival (held-out RMSE in the legend)."))
    return figures


def _as_hertz(values):
    from brian2 import Hz
    from brian2.units.fundamentalunits import Quantity

    if isinstance(values, Quantity):
        return np.asarray(values / Hz, dtype=float)
    return np.asarray(values, dtype=float)


def _example_steps(dataset):
    """(sweep, step label, why shown) for up to four informative steps."""
    counts = np.asarray(dataset["spike_count"].values)
    passed = np.asarray(dataset["qc_pass"].values) == 1
    sweeps = np.asarray(dataset["sweep"].values)
    labels = np.asarray(dataset["step_label"].values)
    chosen = []
    firing = np.argwhere(passed & (counts > 0))
    if firing.size:
        order = firing[np.argsort(dataset["input"].values[firing[:, 0]], kind="stable")]
        for index, why in ((0, "rheobase"), (len(order) // 2, "middle"), (len(order) - 1, "strongest passed")):
            level, trial = order[index]
            item = (int(sweeps[level, trial]), str(labels[level, trial]), why)
            if item[:2] not in [c[:2] for c in chosen]:
                chosen.append(item)
    rejected = np.argwhere(~passed & (sweeps >= 0))
    if rejected.size:
        level, trial = rejected[0]
        chosen.append((int(sweeps[level, trial]), str(labels[level, trial]), "first excluded"))
    return chosen


def plot_example_traces(analysis, path, spike_settings=None):
    """Save example steps with detected spikes; return a text listing what is shown."""
    from neurophase.recordings.dataset import step_spike_times

    plt = _pyplot()
    recording = analysis.recording
    chosen = _example_steps(analysis.dataset)
    if not chosen:
        chosen = [(recording.sweeps[0].index, recording.sweeps[0].steps[0].label if recording.sweeps[0].steps else "",
                   "first sweep")]
    by_index = {sweep.index: sweep for sweep in recording.sweeps}
    sweeps = [by_index[sweep_index] for sweep_index, _, _ in chosen]
    peaks = step_spike_times(_Subset(recording, sweeps), spike_settings)
    figure, axes = plt.subplots(len(chosen), 1, figsize=(7.0, 1.9 * len(chosen)), squeeze=False)
    rate = recording.sampling_rate
    shown = []
    for axis, (sweep_index, label, why), sweep, sweep_peaks in zip(axes[:, 0], chosen, sweeps, peaks):
        step = next((s for s in sweep.steps if s.label == label), sweep.steps[0] if sweep.steps else None)
        margin = int(0.1 * rate)
        first = max(0, (step.start if step else 0) - margin)
        last = min(sweep.voltage.size, (step.stop if step else sweep.voltage.size) + margin)
        time = np.arange(first, last) / rate
        axis.plot(time, sweep.voltage[first:last], color="k", linewidth=0.6)
        inside = sweep_peaks[(sweep_peaks >= first) & (sweep_peaks < last)]
        axis.plot(inside / rate, sweep.voltage[inside], "o", color="tab:red", markersize=3)
        if step is not None:
            axis.axvspan(step.start / rate, step.stop / rate, color="tab:blue", alpha=0.08)
            amplitude = f"{step.amplitude:.4g} pA"
        else:
            amplitude = "?"
        axis.set_ylabel("V (mV)")
        axis.set_title(f"sweep {sweep_index}, {label}, {amplitude} ({why})", fontsize=8)
        shown.append(f"sweep {sweep_index} {label}: {why}")
    axes[-1, 0].set_xlabel("time from sweep start (s)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return "; ".join(shown)


class _Subset:
    """A Recording restricted to some sweeps (for re-detecting their spikes)."""

    def __init__(self, recording, sweeps):
        self.sampling_rate = recording.sampling_rate
        self.sweeps = sweeps
