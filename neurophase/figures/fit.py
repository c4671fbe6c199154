"""Figures of a model fit: recorded vs fitted traces, f-I overlay, Pareto front.

Functions
---------
fit_figures
    One :class:`~neurophase.fit.fitter.FitResult` -> ``(stem, figure, caption)`` triples.
plot_fitting
    The experiment measurement ``fitting``: f-I overlay of every fit from its saved features.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["fit_figures", "plot_fitting"]


def _traces(result):
    data, replay = result.data, result.best_replay
    order = result.train + result.held_out
    chosen = []
    for split, numbers in (("train", result.train), ("held-out", result.held_out)):
        ordered = sorted(numbers, key=lambda n: data.select([n])[0].steps[0].amplitude)
        if ordered:
            picks = sorted({ordered[0], ordered[len(ordered) // 2], ordered[-1]})
            chosen += [(split, number) for number in picks]
    figure, axes = plt.subplots(len(chosen), 1, figsize=(8, 1.8 * len(chosen) + 0.5), sharex=True, squeeze=False)
    for axis, (split, number) in zip(axes[:, 0], chosen):
        sweep = data.select([number])[0]
        time = np.arange(sweep.voltage.size) * data.interval
        axis.plot(time, sweep.voltage, color="0.3", lw=0.6, label="recorded (data)")
        position = order.index(number)
        trace = replay.voltage[0, position]
        axis.plot(np.arange(trace.size) * replay.record_dt, trace, color="C3", lw=0.6, alpha=0.8,
                  label="fitted model (prediction)" if split == "held-out" else "fitted model")
        axis.set_xlim(0, data.duration)
        axis.set_ylabel("V (mV)")
        axis.set_title(f"{split} sweep {sweep.label}: step {sweep.steps[0].amplitude:.0f} pA", fontsize=8)
    axes[0, 0].legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("time from sweep start (s)")
    figure.tight_layout()
    return figure


def _fi(result, verdicts):
    from neurophase.fit.predict import predict_fi

    recorded, simulated = result.recorded, result.simulated
    train = np.isin(recorded["sweep"].values, result.train)
    figure, axis = plt.subplots(figsize=(6, 4))
    current = recorded["current"].values
    axis.plot(current[train], recorded["spike_rate"].values[train], "o", color="0.2", label="recorded, training steps")
    axis.plot(current[~train], recorded["spike_rate"].values[~train], "o", mfc="white", color="0.2",
              label="recorded, held-out steps")
    order = np.argsort(current)
    axis.plot(current[order], simulated["spike_rate"].values[order], "-", color="C3",
              label="fitted model, replayed stimulus (F1)")
    duration = float(np.median(recorded["step_duration"].values))
    grid = np.linspace(current.min(), current.max(), 80)
    prediction = predict_fi(result.fitted_model, grid, duration)
    if prediction["rates"] is not None:
        axis.plot(grid, prediction["rates"], "--", color="C0", label=f"{prediction['path']} from rest (F2)")
    elif np.isfinite(prediction["rheobase"]):
        axis.axvline(prediction["rheobase"], ls="--", color="C0", label="derived threshold (fold, F2)")
    axis.set_xlabel("step current (pA)")
    axis.set_ylabel("spike rate over the step (Hz)")
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


def _pareto(result):
    objectives = result.archive["objectives"]
    valid = ~result.archive["diverged"]
    groups = list(result.target.groups)
    figure, axis = plt.subplots(figsize=(5, 4))
    if len(groups) < 2:
        axis.plot(result.archive["generation"][valid], objectives[valid, 0], ".", ms=3)
        axis.set_xlabel("generation")
        axis.set_ylabel(f"{groups[0]} RMS z")
        return figure
    x, y = objectives[valid, 0], objectives[valid, 1]
    front = np.ones(x.size, dtype=bool)
    for k in range(x.size):
        dominated = (objectives[valid] <= objectives[valid][k]).all(axis=1) & (objectives[valid] <
                                                                                objectives[valid][k]).any(axis=1)
        front[k] = not dominated.any()
    axis.loglog(x, y, ".", color="0.7", ms=3, label="every evaluated candidate")
    axis.loglog(x[front], y[front], "o", color="C3", ms=4, label="non-dominated (Pareto front)")
    norm = np.linalg.norm(objectives, axis=1)
    norm[~valid] = np.inf
    best = int(np.argmin(norm))
    axis.loglog(objectives[best, 0], objectives[best, 1], "*", color="k", ms=12, label="selected fit")
    axis.set_xlabel(f"{groups[0]} RMS z")
    axis.set_ylabel(f"{groups[1]} RMS z")
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


def fit_figures(result, verdicts):
    """Traces, f-I overlay and Pareto front of one fit."""
    return [
        ("fit_traces", _traces(result),
         "Recorded (grey) and fitted-model (red) membrane potential on training and held-out sweeps: the fitted "
         "model should follow spike timing and subthreshold responses, including on sweeps it never saw."),
        ("fit_fi", _fi(result, verdicts),
         "Spike rate against step current: recorded training (filled) and held-out (open) steps, the fitted "
         "model's replay (red line, F1) and its predicted f-I from rest (dashed, F2) drawn over the data."),
        ("fit_pareto", _pareto(result),
         "Objective vectors of every evaluated candidate (grey), the Pareto front (red) and the selected fit "
         "(star): the spread of the front is the trade-off the model cannot resolve."),
    ]


def plot_fitting(datasets, verdicts):
    """f-I of every fit of an experiment (from its saved per-step features) with the fitted model over it.

    Recorded rates are drawn per step with the exact Poisson (Garwood) 95 % interval of the step's
    spike count divided by its duration (training filled, held-out open); the fitted model's replay
    of the same stimuli (F1) and, when the dataset holds it, the fitted model's predicted f-I from
    rest (``predicted_rate``, F2) or its derived threshold (``predicted_rheobase``) are drawn over them.
    """
    from neurophase.figures.style import FIT, PREDICTION, poisson_interval

    figures = []
    for name, dataset in datasets.items():
        if not name.endswith("_features"):
            continue
        figure, axis = plt.subplots(figsize=(5.5, 4))
        current = dataset["current"].values
        unit = dataset["current"].attrs.get("units", "pA")
        split = dataset["split"].values
        recorded = dataset["spike_rate"].sel(source="recorded").values
        fitted = dataset["spike_rate"].sel(source="fitted").values
        duration = np.asarray(dataset["step_duration"].values, dtype=float)  # seconds
        if "spike_count" in dataset:
            count = dataset["spike_count"].sel(source="recorded").values
        else:
            count = np.rint(recorded * duration)
        low, high = poisson_interval(count)
        error = np.vstack([np.clip(recorded - low / duration, 0, None), np.clip(high / duration - recorded, 0, None)])
        train = split == "train"
        for selection, face, label in ((train, "0.2", "recorded, training steps (95% Poisson)"),
                                       (~train, "white", "recorded, held-out steps (95% Poisson)")):
            if selection.any():
                axis.errorbar(current[selection], recorded[selection], yerr=error[:, selection], fmt="o",
                              color="0.2", mfc=face, ms=4, capsize=2, zorder=3, label=label)
        order = np.argsort(current)
        axis.plot(current[order], fitted[order], **FIT, label="fitted model, replayed stimulus (F1)")
        if "predicted_rate" in dataset:
            path = dataset.attrs.get("prediction_path", "prediction")
            axis.plot(dataset["prediction_current"].values, dataset["predicted_rate"].values, **PREDICTION,
                      label=f"predicted f-I from rest ({path}, F2)")
        elif np.isfinite(float(dataset.attrs.get("predicted_rheobase", np.nan))):
            axis.axvline(float(dataset.attrs["predicted_rheobase"]), **PREDICTION,
                         label="predicted threshold (derived fold, F2)")
        axis.set_xlabel(f"step current ({unit})")
        axis.set_ylabel("spike rate over the step (Hz)")
        axis.set_title(name.removesuffix("_features"), fontsize=8)
        axis.legend(fontsize=7)
        figure.tight_layout()
        figures.append((name.removesuffix("_features") + "_fi", figure,
                        "Recorded f-I (training filled, held-out open, 95% Poisson intervals) with the fitted "
                        "model's replay (F1) and its predicted f-I or threshold from rest (F2) drawn over it."))
    return figures
