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

from neurophase.experiments import CATALOGUE  # noqa: E402

__all__ = ["figures_for", "verdict_figure", "summary_figure", "PLOTTERS", "register_plotter"]

#: measurement name -> function(datasets, verdicts) -> list of (stem, figure, caption), or the
#: function's import path ``"package.module:function"`` (imported only when the figure is drawn);
#: the library's measurements' from :data:`neurophase.experiments.CATALOGUE`
PLOTTERS = {name: figures for name, (_, figures) in CATALOGUE.items()}


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


def _standardised(verdict):
    """(centre, low, high, unit label) of a verdict on a common axis where |x| <= 1 means 'within'.

    With a tolerance: ``(value - expected) / tolerance`` (the band [-1, 1] is the stated tolerance);
    without: ``(value - expected) / half-width of the interval``. Never a division by the expected
    value, which may be 0.
    """
    expected, measured = verdict.expected, verdict.measured
    if verdict.tolerance:
        scale, label = abs(verdict.tolerance), "tolerance"
    else:
        half = 0.5 * (verdict.ci_high - verdict.ci_low)
        scale, label = (half if np.isfinite(half) and half > 0 else 1.0), "interval half-width"
    values = [(value - expected) / scale for value in (measured, verdict.ci_low, verdict.ci_high)]
    return values[0], min(values[1:]), max(values[1:]), label


def _forest(axis, verdicts, colour=None):
    for row, verdict in enumerate(verdicts):
        centre, low, high, _ = _standardised(verdict)
        shade = colour or ("tab:green" if verdict.holds else "tab:red")
        if np.isfinite(centre):
            axis.errorbar(np.clip(centre, -8, 8), row,
                          xerr=[[max(centre - low, 0) if np.isfinite(low) else 0],
                                [max(high - centre, 0) if np.isfinite(high) else 0]],
                          fmt="o", color=shade, capsize=3)
        else:
            axis.text(0, row, "no value", color=shade, fontsize=7, va="center", ha="center")
    axis.axvspan(-1, 1, color="0.85", zorder=0)
    axis.axvline(0, color="k", lw=0.8)
    axis.set_yticks(range(len(verdicts)))
    axis.set_yticklabels([verdict.id for verdict in verdicts], fontsize=7)
    axis.set_ylim(len(verdicts) - 0.5, -0.5)
    axis.set_xlim(-8.5, 8.5)


def verdict_figure(verdicts):
    """Every verdict as (measured - expected) in units of its tolerance (grey band: within it).

    Verdicts without a tolerance are drawn in units of their interval's half-width. Labels are
    the full verdict ids; ``report.md`` maps each id to its quantity. Values beyond +-8 are drawn
    at the edge.
    """
    if not verdicts:
        return None
    figure, axis = plt.subplots(figsize=(6.4, 0.32 * len(verdicts) + 1.3))
    _forest(axis, verdicts)
    axis.set_xlabel("(measured - expected) / tolerance (or interval half-width); grey: |x| <= 1")
    figure.tight_layout()
    return figure


def summary_figure(verdicts):
    """One experiment's verdicts as a forest plot, holding and failing rows in separate panels."""
    if not verdicts:
        return None
    holding = [verdict for verdict in verdicts if verdict.holds]
    failing = [verdict for verdict in verdicts if not verdict.holds]
    panels = [(rows, title) for rows, title in ((holding, f"hold ({len(holding)})"),
                                                (failing, f"do not hold ({len(failing)})")) if rows]
    heights = [max(len(rows), 1) for rows, _ in panels]
    figure, axes = plt.subplots(len(panels), 1, figsize=(6.8, 0.3 * sum(heights) + 1.6 * len(panels)),
                                gridspec_kw={"height_ratios": heights}, squeeze=False)
    for axis, (rows, title) in zip(axes[:, 0], panels):
        _forest(axis, rows)
        axis.set_title(title, fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("(measured - expected) / tolerance (or interval half-width); grey: |x| <= 1")
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
                        "Each checked prediction as measured minus expected, in units of its stated tolerance "
                        "(grey band: within it), with its interval. Green: holds; red: does not."))
    return figures
