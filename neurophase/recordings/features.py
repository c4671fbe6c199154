"""Firing features of current steps and of a cell's f-I curve.

Functions
---------
adaptation_index
    Spike-frequency adaptation of one spike train (Allen Cell Types definition).
fi_features
    Rheobase, initial slope, saturation, adaptation and depolarisation-block onset of an
    f-I Dataset (the steps that passed quality control).

Definitions
-----------
Adaptation index
    ``A = mean_k (ISI_{k+1} - ISI_k) / (ISI_{k+1} + ISI_k)`` over consecutive inter-spike
    intervals of one step (Allen Institute for Brain Science 2017, *Allen Cell Types Database
    technical white paper: Electrophysiology*, "adaptation index"; the ``norm_diff`` of the
    IPFX package; eFEL's ``adaptation_index2`` uses the same ratio). ``A = 0`` for regular
    firing, ``A > 0`` for slowing; for geometric ISIs ``ISI_k = ISI_0 r^k`` it is exactly
    ``(r - 1)/(r + 1)``. NaN with fewer than three spikes.
Rheobase
    The smallest step current at which the cell fires (mean spike count over trials >= 1
    is not required: at least one spike in at least half of the trials), reported with the
    largest silent current below it, which brackets the true threshold.
Initial slope (gain)
    Least-squares slope of rate against current from rheobase up to the first current at
    which the rate reaches ``saturation_fraction`` (80%) of its maximum (at least two
    levels), with its standard error; in Hz/pA.
Saturation
    The maximum trial-mean rate and the smallest current at which the rate reaches 95% of it.
Depolarisation-block onset
    The smallest current with a step in depolarisation block (quality control flags it).
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["adaptation_index", "fi_features"]


def adaptation_index(spike_times):
    """Adaptation index of one spike train (definition in the module docstring).

    Parameters
    ----------
    spike_times : array
        Spike times in any unit (sorted).

    Examples
    --------
    >>> round(float(adaptation_index(np.cumsum([0, 10, 20, 40, 80]))), 6)  # r = 2: (2-1)/(2+1)
    0.333333
    >>> float(adaptation_index([0.0, 0.1, 0.2, 0.3]))
    0.0
    >>> adaptation_index([0.0, 0.1])
    nan
    """
    intervals = np.diff(np.asarray(spike_times, dtype=float))
    if intervals.size < 2:
        return np.nan
    ratio = np.diff(intervals) / (intervals[1:] + intervals[:-1])
    return float(np.mean(ratio))


def _linear_fit(x, y):
    """Least-squares slope, intercept and slope standard error (NaN SE for two points)."""
    design = np.column_stack([x, np.ones_like(x)])
    coefficients, residuals, _, _ = np.linalg.lstsq(design, y, rcond=None)
    slope, intercept = coefficients
    n = x.size
    if n > 2:
        sse = float(np.sum((y - design @ coefficients) ** 2))
        slope_se = np.sqrt(sse / (n - 2) / np.sum((x - x.mean()) ** 2))
    else:
        slope_se = np.nan
    return float(slope), float(intercept), float(slope_se)


def fi_features(dataset, response="rate", saturation_fraction=0.8):
    """f-I features of one cell from a recording Dataset (steps with ``qc_pass == 1`` only).

    Parameters
    ----------
    dataset : xarray.Dataset
        From :func:`neurophase.recordings.dataset.recording_dataset`.
    response : str
        Rate variable (Hz) used for slope and saturation.
    saturation_fraction : float
        Upper end of the initial-slope range as a fraction of the maximum rate.

    Returns
    -------
    dict
        ``rheobase`` (pA), ``last_silent_current`` (pA), ``slope`` and ``slope_se`` (Hz/pA),
        ``slope_range`` (pA, pA), ``max_rate`` (Hz), ``saturation_current`` (pA),
        ``adaptation_index`` (median over passing steps with a value), ``block_onset_current``
        (pA), ``n_levels`` (current levels with at least one passing step). Missing values
        are NaN.
    """
    current = np.asarray(dataset["input"].values, dtype=float)
    passed = np.asarray(dataset["qc_pass"].values) == 1
    counts = np.where(passed, dataset["spike_count"].values, np.nan)
    rates = np.where(passed, dataset[response].values, np.nan)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        usable = passed.any(axis=1)
        fired_fraction = np.nansum(counts > 0, axis=1) / np.maximum(passed.sum(axis=1), 1)
        mean_rate = np.nanmean(np.where(passed, rates, np.nan), axis=1) if usable.any() else np.full(current.size,
                                                                                                     np.nan)
    features = {
        "rheobase": np.nan, "last_silent_current": np.nan, "slope": np.nan, "slope_se": np.nan,
        "slope_range": (np.nan, np.nan), "max_rate": np.nan, "saturation_current": np.nan,
        "adaptation_index": np.nan, "block_onset_current": np.nan, "n_levels": int(usable.sum()),
    }
    if "depolarisation_block" in dataset:
        blocked = (np.asarray(dataset["depolarisation_block"].values) == 1).any(axis=1)
        if blocked.any():
            features["block_onset_current"] = float(current[blocked].min())
    x, fraction, y = current[usable], fired_fraction[usable], mean_rate[usable]
    order = np.argsort(x)
    x, fraction, y = x[order], fraction[order], y[order]
    firing = fraction >= 0.5
    if firing.any():
        first = int(np.argmax(firing))
        features["rheobase"] = float(x[first])
        if first > 0:
            features["last_silent_current"] = float(x[first - 1])
        maximum = float(np.nanmax(y[first:]))
        features["max_rate"] = maximum
        if maximum > 0:
            features["saturation_current"] = float(x[first:][np.argmax(y[first:] >= 0.95 * maximum)])
            stop = first + int(np.argmax(y[first:] >= saturation_fraction * maximum))
            stop = max(stop, first + 1)
            segment = slice(first, stop + 1)
            if x[segment].size >= 2 and np.all(np.isfinite(y[segment])):
                slope, _, slope_se = _linear_fit(x[segment], y[segment])
                features.update(slope=slope, slope_se=slope_se,
                                slope_range=(float(x[segment][0]), float(x[segment][-1])))
    if "adaptation_index" in dataset:
        values = np.where(passed, dataset["adaptation_index"].values, np.nan)
        if np.any(np.isfinite(values)):
            features["adaptation_index"] = float(np.nanmedian(values))
    return features
