"""Figures of C6 (learning with the derived activation; Rosenblatt as T -> 0)."""

from __future__ import annotations

import numpy as np

from neurophase.figures.style import finished, label_axis
from neurophase.statistics import mean_interval

__all__ = ["plot_learning"]


def plot_learning(datasets, verdicts):
    """The T -> 0 limit, the Novikoff bound, and held-out accuracy per activation."""
    import matplotlib.pyplot as plt

    figures = []
    if "limit" in datasets:
        limit = datasets["limit"]
        figure, axis = plt.subplots(figsize=(5.2, 3.8))
        T = limit["param_T"].values
        floor = 1e-18
        for name, style in (("difference_J0", "o-"), ("difference_coupled", "s-"), ("bound_J0", "k--"),
                            ("delta_rule_difference", "^:")):
            axis.loglog(T, np.maximum(limit[name].values, floor), style, ms=4, label=limit[name].attrs["long_name"])
        label_axis(axis, "temperature T (reduced units)", "max per-sample update difference (1)")
        figures.append(finished(
            figure, "limit",
            "T -> 0: largest difference between the derived unit's update on T x cross-entropy and "
            "Rosenblatt's rule (values below 1e-18 drawn at 1e-18), the closed-form bound at J = 0, "
            "and the squared-error delta rule, which tends to the whole Rosenblatt update instead."))
    if "perceptron" in datasets:
        data = datasets["perceptron"]
        figure, axis = plt.subplots(figsize=(5.2, 4.0))
        bound = data["novikoff_bound"].values
        axis.loglog(bound, data["mistakes"].values, "o", color="k", label="perceptron (Novikoff form), one seed each")
        axis.loglog(bound, data["rosenblatt_mistakes"].values, "x", color="tab:blue", label="Rosenblatt's rule")
        axis.loglog(bound, np.maximum(data["low_T_mistakes"].values, 0.5), "+", ms=10, color="tab:green",
                    label="derived unit, low T")
        span = np.geomspace(bound.min() / 1.5, bound.max() * 1.5, 50)
        axis.fill_between(span, 0.5, span, color="0.92", zorder=0)
        axis.loglog(span, span, "-", color="tab:red", lw=1.4, label="Novikoff bound: updates <= (R/gamma)^2")
        label_axis(axis, "Novikoff bound (R/gamma)^2 of the seed's set (updates)", "updates until separated (updates)")
        figures.append(finished(
            figure, "perceptron",
            "Perceptron convergence: every seed's number of updates lies below the red line, the "
            "Novikoff bound (R/gamma)^2 computed with the teacher's margin (grey: allowed); the "
            "low-T derived unit makes the same updates as Rosenblatt's rule."))
    names = [name for name in ("single_separable", "net_two_moons", "net_xor") if name in datasets]
    if names:
        labels = {"single_separable": "single", "net_two_moons": "moons", "net_xor": "xor"}
        figure, axes = plt.subplots(1, len(names), figsize=(4.4 * len(names), 3.8), squeeze=False)
        for axis, name in zip(axes[0], names):
            accuracy = datasets[name]["test_accuracy"]
            rivals = [str(a) for a in accuracy["activation"].values if not str(a).startswith("derived")]
            derived = accuracy.sel(activation="derived").values
            tolerance = None
            for k, rival in enumerate(rivals):
                difference = derived - accuracy.sel(activation=rival).values
                axis.plot(np.full(difference.size, k) + np.linspace(-0.12, 0.12, difference.size), difference,
                          ".", color="0.6", ms=4, label="single seeds" if k == 0 else None)
                mean, low, high = mean_interval(difference)
                axis.errorbar(k, mean, yerr=[[max(mean - low, 0)], [max(high - mean, 0)]], fmt="o", color="k",
                              capsize=3, label="mean over seeds (95 % Student-t)" if k == 0 else None)
                verdict = next((v for v in verdicts if v.id == f"C6-{labels[name]}-vs-{rival}"), None)
                if verdict is not None and verdict.tolerance:
                    tolerance = verdict.tolerance
            if tolerance:
                axis.axhspan(-tolerance, tolerance, color="0.9", zorder=0, label=f"tolerance +-{tolerance:g}")
            axis.axhline(0.0, color="tab:red", lw=1.4, label="prediction: no difference")
            axis.set_xticks(range(len(rivals)))
            axis.set_xticklabels([f"derived - {rival}" for rival in rivals], rotation=30, fontsize=7, ha="right")
            axis.set_title(name, fontsize=9)
            label_axis(axis, "paired comparison (derived - rival activation)",
                       "held-out accuracy difference (fraction)")
        figures.append(finished(
            figure, "accuracy",
            "Held-out accuracy of the derived unit minus each standard activation (paired seeds): the "
            "claim is that the derived activation learns as well, i.e. every mean lies in the grey "
            "tolerance band around 0 (red)."))
    return figures
