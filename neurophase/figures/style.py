"""Shared drawing conventions of the figures: data black with intervals, trials faint, predictions red.

Every figure module draws measured points with :func:`trials_and_interval` (each trial faint, the
trial mean with its 95 % Student-t interval, :func:`neurophase.statistics.mean_interval`) and
the prediction as a line in :data:`PREDICTION` style, so data and prediction read the same way
in every figure.
"""

from __future__ import annotations

import numpy as np

from neurophase.statistics import mean_interval

__all__ = ["DATA", "TRIAL", "PREDICTION", "FIT", "pyplot", "trials_and_interval", "binomial_interval",
           "poisson_interval", "label_axis", "finished"]

#: measured points: trial mean with its interval
DATA = dict(fmt="o", ms=4, capsize=2, color="k", zorder=3)
#: individual trials, drawn faintly behind the mean
TRIAL = dict(marker=".", ls="none", color="0.6", ms=3, alpha=0.6, zorder=1)
#: the closed-form or derived prediction
PREDICTION = dict(color="tab:red", lw=1.4, zorder=2)
#: a curve fitted to the data being shown (an estimate, not a prediction)
FIT = dict(color="tab:blue", lw=1.0, ls="--", zorder=2)


def pyplot():
    """matplotlib.pyplot on the Agg backend (no screen needed)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def label_axis(axis, xlabel, ylabel, legend_fontsize=6):
    """Label both axes (each a quantity with its unit) and, unless ``legend_fontsize`` is None,
    draw the legend (call it after everything labelled is drawn).

    Parameters
    ----------
    axis : matplotlib Axes
    xlabel, ylabel : str
        The labels, e.g. ``"field h (units of J)"``.
    legend_fontsize : float or None, optional
        Font size of the legend; default 6 (the figures' small legends), None: no legend.
    """
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    if legend_fontsize is not None:
        axis.legend(fontsize=legend_fontsize)


def finished(figure, stem, caption):
    """Lay ``figure`` out tightly and return its entry ``(stem, figure, caption)`` of a figure list.

    Parameters
    ----------
    figure : matplotlib Figure
    stem : str
        File name stem of the figure.
    caption : str
        What the figure shows, for the report.

    Returns
    -------
    (str, matplotlib Figure, str)
        The entry of the list every figure function returns (see :mod:`neurophase.figures`).
    """
    figure.tight_layout()
    return stem, figure, caption


def trials_and_interval(axis, x, per_trial, label, transform=None, trial_label="trials", **style):
    """Draw every trial faintly, then the trial mean with its 95 % Student-t interval.

    Parameters
    ----------
    axis : matplotlib Axes
    x : array, shape (point,)
        Abscissae in the axis' unit.
    per_trial : array, shape (point, trial)
        Measured values; with one trial only the points are drawn (no interval exists).
    label : str
        Legend label of the mean (name it as data, e.g. "Brian2, mean +- 95 % CI").
    transform : callable, optional
        Applied to the per-trial values before averaging.
    trial_label : str or None, optional
        Legend label of the faint trials.
    **style
        Overrides of :data:`DATA` (e.g. ``color``).

    Returns
    -------
    numpy.ndarray
        The trial means.
    """
    values = np.asarray(per_trial, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if transform is not None:
        values = transform(values)
    x = np.asarray(x, dtype=float)
    if values.shape[1] > 1:
        for column in range(values.shape[1]):
            axis.plot(x, values[:, column], **TRIAL, label=trial_label if column == 0 else None)
        estimate, low, high = (np.atleast_1d(v) for v in mean_interval(values, axis=1))
        error = np.vstack([np.clip(estimate - low, 0, None), np.clip(high - estimate, 0, None)])
        error = np.where(np.isfinite(error), error, 0.0)
    else:
        estimate, error = values[:, 0], np.zeros((2, values.shape[0]))
    axis.errorbar(x, estimate, yerr=error, **{**DATA, **style}, label=label)
    return estimate


def binomial_interval(successes, trials, confidence=0.95):
    """Clopper-Pearson interval of a proportion (Clopper & Pearson 1934, Biometrika 26, 404).

    Parameters
    ----------
    successes, trials : array of int
        Counts (dimensionless); ``trials`` > 0.
    confidence : float, optional

    Returns
    -------
    (p, low, high) : arrays
        The observed proportion and the interval bounds.
    """
    from scipy.stats import beta

    successes, trials = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    alpha = 1.0 - confidence
    with np.errstate(all="ignore"):
        low = np.where(successes > 0, beta.ppf(alpha / 2, successes, trials - successes + 1), 0.0)
        high = np.where(successes < trials, beta.ppf(1 - alpha / 2, successes + 1, trials - successes), 1.0)
    return successes / trials, low, high


def poisson_interval(counts, confidence=0.95):
    """Exact (Garwood) interval of a Poisson mean from one observed count (Garwood 1936, Biometrika 28, 437).

    Parameters
    ----------
    counts : array of int
        Observed counts (dimensionless), >= 0.
    confidence : float, optional

    Returns
    -------
    (low, high) : arrays
        ``chi2(alpha/2; 2k)/2`` (0 for k = 0) and ``chi2(1 - alpha/2; 2k + 2)/2``.
    """
    from scipy.stats import chi2

    counts = np.asarray(counts, dtype=float)
    alpha = 1.0 - confidence
    with np.errstate(all="ignore"):
        low = np.where(counts > 0, chi2.ppf(alpha / 2, 2 * counts) / 2, 0.0)
    high = chi2.ppf(1 - alpha / 2, 2 * counts + 2) / 2
    return low, high
