"""Figures of C6 (learning with the derived activation; Rosenblatt as T -> 0)."""

from __future__ import annotations

import numpy as np

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
        axis.set_xlabel("temperature T")
        axis.set_ylabel("max per-sample difference")
        axis.legend(fontsize=6)
        figure.tight_layout()
        figures.append(("limit", figure,
                        "T -> 0: largest difference between the derived unit's update on T x cross-entropy and "
                        "Rosenblatt's rule (values below 1e-18 drawn at 1e-18), the closed-form bound at J = 0, "
                        "and the squared-error delta rule, which tends to the whole Rosenblatt update instead."))
    if "perceptron" in datasets:
        data = datasets["perceptron"]
        figure, axis = plt.subplots(figsize=(5.2, 3.5))
        trial = np.arange(data.sizes["trial"])
        axis.semilogy(trial, data["novikoff_bound"].values, "k_", ms=14, label="(R/gamma)^2")
        axis.semilogy(trial, data["mistakes"].values, "o", label="perceptron (Novikoff form)")
        axis.semilogy(trial, data["rosenblatt_mistakes"].values, "x", label="Rosenblatt's rule")
        axis.semilogy(trial, np.maximum(data["low_T_mistakes"].values, 0.5), "+", ms=10, label="derived unit, low T")
        axis.set_xlabel("seed")
        axis.set_ylabel("updates until separated")
        axis.legend(fontsize=7)
        figure.tight_layout()
        figures.append(("perceptron", figure,
                        "Updates until the training set is separated, against the Novikoff bound (R/gamma)^2 "
                        "computed with the teacher's margin."))
    names = [name for name in ("single_separable", "net_two_moons", "net_xor") if name in datasets]
    if names:
        figure, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.6), squeeze=False)
        for axis, name in zip(axes[0], names):
            accuracy = datasets[name]["test_accuracy"]
            labels = [str(a) for a in accuracy["activation"].values]
            for k, label in enumerate(labels):
                mean, low, high = mean_interval(accuracy.sel(activation=label).values)
                axis.errorbar(k, mean, yerr=[[mean - low], [high - mean]], fmt="o", capsize=3,
                              color="tab:red" if label.startswith("derived") else "tab:blue")
            axis.set_xticks(range(len(labels)))
            axis.set_xticklabels(labels, rotation=45, fontsize=7)
            axis.set_title(name, fontsize=9)
            axis.set_ylabel("held-out accuracy")
        figure.tight_layout()
        figures.append(("accuracy", figure,
                        "Held-out accuracy, mean over seeds with 95 % Student-t intervals; red: the "
                        "derived unit (J > 0, and J = 0 at T = 2, identical to the logistic)."))
    return figures
