"""Figures of experiment results (matplotlib, Agg backend: no screen needed).

:func:`figures_for` returns ``(stem, figure, caption)`` triples for one measurement's Datasets;
each measurement may register a dedicated plotting function in :data:`PLOTTERS`, and every
measurement gets the verdict figure (measured value with its confidence interval against the
closed form) of :func:`verdict_figure`.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["figures_for", "verdict_figure", "PLOTTERS", "register_plotter"]

#: measurement name -> function(datasets, verdicts) -> list of (stem, figure, caption), or the
#: function's import path ``"package.module:function"`` (imported only when the figure is drawn)
PLOTTERS = {
    "gating": "neurophase.figures.gating:plot_gating",
    "zero_temperature": "neurophase.figures.gating:plot_zero_temperature",
    "neurone_class1_onset": "neurophase.figures.neurone:plot_onset",
    "neurone_class2_bistability": "neurophase.figures.neurone:plot_staircase",
    "neurone_noise_temperature": "neurophase.figures.neurone:plot_temperature",
    "neurone_activation_fit": "neurophase.figures.neurone:plot_activation",
    "learning": "neurophase.figures.learning:plot_learning",
    "coarse_graining_table": "neurophase.figures.coarse_graining:table_figures",
    "coarse_graining_threshold": "neurophase.figures.coarse_graining:threshold_figures",
}


def register_plotter(name):
    """Decorator registering a plotting function for the measurement ``name``."""

    def decorate(function):
        PLOTTERS[name] = function
        return function

    return decorate


def _label(variable):
    unit = variable.attrs.get("units", "1")
    name = variable.attrs.get("long_name", variable.name)
    return f"{name}" if unit in ("1", "") else f"{name} ({unit})"


def verdict_figure(verdicts):
    """Measured/expected with the CI scaled by the expected value, one row per verdict."""
    if not verdicts:
        return None
    figure, axis = plt.subplots(figsize=(6.4, 0.45 * len(verdicts) + 1.2))
    for row, verdict in enumerate(verdicts):
        scale = abs(verdict.expected) if verdict.expected else 1.0
        measured = verdict.measured / scale
        low, high = verdict.ci_low / scale, verdict.ci_high / scale
        colour = "tab:green" if verdict.holds else "tab:red"
        axis.errorbar(measured, row, xerr=[[max(measured - low, 0)], [max(high - measured, 0)]],
                      fmt="o", color=colour, capsize=3)
        if verdict.tolerance is not None and verdict.expected:
            tolerance = verdict.tolerance / scale
            axis.plot([1 - tolerance, 1 + tolerance], [row, row], color="0.7", lw=6, alpha=0.5,
                      solid_capstyle="butt", zorder=0)
    axis.axvline(1.0, color="k", lw=0.8)
    axis.set_yticks(range(len(verdicts)))
    axis.set_yticklabels([f"{v.id}: {v.quantity}"[:48] for v in verdicts], fontsize=8)
    axis.invert_yaxis()
    axis.set_xlabel("measured / expected (1 = closed form; grey band: stated tolerance)")
    figure.tight_layout()
    return figure


_PREFERRED = ("mean", "mean_abs", "switching_field", "order_parameter_mean", "rate", "p_fire")


def _generic(datasets, verdicts):
    figures = []
    for name, dataset in datasets.items():
        names = list(dataset.data_vars)
        # the physical observable first; bookkeeping variables (indices, sample counts) last
        ranked = [v for v in _PREFERRED if v in names]
        ranked += [v for v in names if v.startswith(("ordered_time", "rate", "order_parameter"))
                   and v not in ranked]
        ranked += [v for v in names if v not in ranked and "index" not in v and "samples" not in v]
        for variable_name in ranked:
            variable = dataset[variable_name]
            dims = [dim for dim in variable.dims if dim not in ("time",)]
            if "time" in variable.dims or not dims or variable.dtype.kind not in "fi":
                continue
            x_dim = "input" if "input" in dims else dims[0]
            figure, axis = plt.subplots(figsize=(5, 3.5))
            other = [dim for dim in dims if dim != x_dim]
            data = variable
            if "trial" in other:
                data = variable.mean("trial")
                other.remove("trial")
            series = data.transpose(x_dim, *other).values.reshape(data.sizes[x_dim], -1)
            x = dataset[x_dim].values if x_dim in dataset.coords else np.arange(data.sizes[x_dim])
            lines = axis.plot(x, series, "o-", ms=3)
            if len(other) == 1 and other[0] in dataset.coords and 1 < len(lines) <= 8:
                unit = dataset[other[0]].attrs.get("units", "1")
                axis.legend(lines, [f"{other[0]} = {value:.3g}{'' if unit == '1' else ' ' + unit}"
                                    for value in dataset[other[0]].values], fontsize=7)
            axis.set_xlabel(_label(dataset[x_dim]) if x_dim in dataset.coords else x_dim)
            axis.set_ylabel(_label(variable))
            figure.tight_layout()
            figures.append((f"{name}_{variable_name}", figure,
                            f"{variable.attrs.get('long_name', variable_name)} against {x_dim} "
                            f"(dataset `{name}`; mean over trials where there are several)."))
            break  # one overview figure per dataset
    return figures


def figures_for(measurement, datasets, verdicts):
    """All figures of one measurement: its registered plots (or a generic one) and the verdicts."""
    plotter = PLOTTERS.get(measurement, _generic)
    if isinstance(plotter, str):
        import importlib

        module_name, _, function_name = plotter.partition(":")
        plotter = getattr(importlib.import_module(module_name), function_name)
    figures = list(plotter(datasets, verdicts))
    figure = verdict_figure(verdicts)
    if figure is not None:
        figures.append(("verdicts", figure,
                        "Each checked prediction: measured value with its confidence interval, divided "
                        "by the closed-form value (vertical line at 1). Green: holds; red: does not."))
    return figures
