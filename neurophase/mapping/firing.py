"""Firing statistics of spike trains, vectorised over neurones, sweeps and trials.

The same functions serve Brian2 simulations (the ``i`` and ``t`` arrays of a
:class:`brian2.SpikeMonitor`) and recordings (spike times detected in each sweep), so that a
simulated and a recorded f-I curve are summarised by exactly the same rules.

Functions
---------
spike_statistics
    Per neurone (or sweep): all-spike count, steady-state rate, first-spike latency, ISI CV.
fano_factor
    Variance over mean of spike counts across trials (Fano 1947).
p_fire
    Fraction of trials with at least one spike.
steady_state_window
    The window ``[start + transient, stop)`` that the steady-state statistics use.

Rules (stated once, used everywhere)
------------------------------------
Counting window
    A spike at time ``t`` belongs to neurone ``k`` if ``start[k] <= t < stop[k]``.
Transient
    The steady-state window excludes the first ``transient`` after ``start``; by default
    (``transient=None``) the first ``transient_fraction = 0.2`` of the window.
Steady-state rate
    With ``n`` spikes in the steady-state window at times ``t_1 < ... < t_n``: if ``n >= 2``
    and the train has not stopped (the gap from ``t_n`` to the window end is at most twice the
    mean inter-spike interval), the rate is the inverse mean ISI ``(n - 1) / (t_n - t_1)``,
    which is exact for periodic firing and free of the +/- one-spike counting error; otherwise
    it is the count over the window length, ``n / (stop - start - transient)`` (Dayan & Abbott
    2001, Theoretical Neuroscience, section 1.2, spike-count rate).
ISI coefficient of variation
    ``std(ISI) / mean(ISI)`` over the ISIs inside the steady-state window, with the sample
    standard deviation (``ddof=1``); NaN with fewer than two ISIs (Softky & Koch 1993,
    J. Neurosci. 13:334, Eq. 1).
First-spike latency
    Time of the first spike at or after ``start``, minus ``start`` (transient included); NaN
    without a spike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from neurophase.docstrings import template
from neurophase.errors import NeurophaseError, UnitMismatchError
from neurophase.schema import quantity_variable
from neurophase.units import parse_unit, to_magnitude

if TYPE_CHECKING:
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

__all__ = ["spike_statistics", "statistics_from_sums", "fano_factor", "p_fire", "steady_state_window"]

_doc = template(parameters_trial_counts="""Parameters
----------
spike_counts : xarray.DataArray or array_like
    Counts; a DataArray is reduced over ``dim``, an array over ``axis``.
dim : str
    The trial dimension of a DataArray.
axis : int
    The trial axis of an array.""")

DEFAULT_TRANSIENT_FRACTION = 0.2


def _seconds(value, unit, name):
    """``value`` (a Quantity, or numbers in ``unit``) as float seconds."""
    from brian2.units.fundamentalunits import Quantity

    if isinstance(value, Quantity):
        return to_magnitude(value, "second", name=name)
    if isinstance(value, str):
        return to_magnitude(value, "second", name=name)
    if unit is None:
        raise UnitMismatchError(
            f"{name!r} was given as plain numbers without a unit. Pass a Brian2 quantity "
            f"(e.g. `values * ms`) or give `time_unit='ms'`."
        )
    return np.asarray(value, dtype=float) * float(parse_unit(unit) / parse_unit("second"))


def steady_state_window(start: ArrayLike, stop: ArrayLike, transient: ArrayLike | None = None,
                        transient_fraction: float = DEFAULT_TRANSIENT_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """The steady-state window ``[start + transient, stop)`` in seconds (arrays broadcast).

    Parameters
    ----------
    start, stop : float or array_like, s
        Window bounds in seconds.
    transient : float or array_like, optional, s
        Excluded initial part in seconds; ``None`` means ``transient_fraction`` of the window.
    transient_fraction : float, dimensionless
        Used when ``transient`` is None.

    Returns
    -------
    steady_start, steady_stop : numpy.ndarray, s
        The bounds (``steady_start`` never after ``stop``), broadcast together.

    Examples
    --------
    >>> [float(bound) for bound in steady_state_window(0.0, 1.0)]
    [0.2, 1.0]
    """
    start = np.asarray(start, dtype=float)
    stop = np.asarray(stop, dtype=float)
    if transient is None:
        transient = transient_fraction * (stop - start)
    steady_start = np.minimum(start + np.asarray(transient, dtype=float), stop)
    return steady_start, np.broadcast_to(stop, steady_start.shape).astype(float)


def spike_statistics(spike_indices: ArrayLike, spike_times: Quantity | ArrayLike, n_neurons: int,
                     start: Quantity | ArrayLike, stop: Quantity | ArrayLike,
                     transient: Quantity | ArrayLike | None = None, time_unit: str | None = None,
                     transient_fraction: float = DEFAULT_TRANSIENT_FRACTION, dimension: str = "neuron") -> xr.Dataset:
    """Spike count, steady-state rate, first-spike latency and ISI CV of every neurone.

    Vectorised: one sort of all spikes, no loop over neurones. The rules are in the module
    docstring.

    Parameters
    ----------
    spike_indices : array_like of int
        Neurone (or sweep) index of every spike, in ``0 .. n_neurons - 1`` (``SpikeMonitor.i``).
    spike_times : Quantity (time) or array_like
        Spike times (``SpikeMonitor.t``); plain numbers need ``time_unit``.
    n_neurons : int
        Number of neurones; those without spikes get count 0, rate 0 and NaN latency/CV.
    start, stop : Quantity (time) or array_like
        The counting window, a scalar or one value per neurone.
    transient : Quantity (time) or array_like, optional
        Excluded start of the window for rate and CV; default ``transient_fraction`` of it.
    time_unit : str, optional
        Unit of plain-number times (``"ms"``, ``"second"``).
    transient_fraction : float
        Default transient as a fraction of the window (0.2).
    dimension : str
        Name of the output dimension.

    Returns
    -------
    xarray.Dataset
        Variables ``spike_count`` (all spikes in the window), ``steady_spike_count``,
        ``rate`` (Hz), ``first_spike_latency`` (ms), ``cv_isi`` (1), over ``dimension``.

    Examples
    --------
    >>> from brian2 import ms
    >>> statistics = spike_statistics([0, 0, 0, 0, 1], [10, 30, 50, 70, 5] * ms, 3,
    ...                               start=0 * ms, stop=100 * ms, transient=0 * ms)
    >>> statistics["spike_count"].values.tolist(), statistics["rate"].values.tolist()
    ([4.0, 1.0, 0.0], [50.0, 10.0, 0.0])
    >>> statistics["first_spike_latency"].values.tolist()
    [10.0, 5.0, nan]
    """
    n_neurons = int(n_neurons)
    indices = np.asarray(spike_indices, dtype=np.int64).ravel()
    times = np.atleast_1d(_seconds(spike_times, time_unit, "spike_times")).astype(float).ravel()
    if indices.shape != times.shape:
        raise NeurophaseError(
            f"spike_indices ({indices.size}) and spike_times ({times.size}) differ in length; "
            "pass the i and t arrays of the same SpikeMonitor."
        )
    if indices.size and (indices.min() < 0 or indices.max() >= n_neurons):
        raise NeurophaseError(
            f"spike_indices must lie in 0..{n_neurons - 1} (n_neurons={n_neurons}); "
            f"got values from {indices.min()} to {indices.max()}."
        )
    start_s = np.broadcast_to(_seconds(start, time_unit, "start"), (n_neurons,)).astype(float)
    stop_s = np.broadcast_to(_seconds(stop, time_unit, "stop"), (n_neurons,)).astype(float)
    if np.any(stop_s <= start_s):
        raise NeurophaseError("Every window needs stop > start; check the start and stop arguments.")
    transient_s = None if transient is None else np.broadcast_to(
        _seconds(transient, time_unit, "transient"), (n_neurons,))
    steady_start, steady_stop = steady_state_window(start_s, stop_s, transient_s, transient_fraction)

    order = np.lexsort((times, indices))
    indices = indices[order]
    times = times[order]
    in_window = (times >= start_s[indices]) & (times < stop_s[indices])
    spike_count = np.bincount(indices[in_window], minlength=n_neurons).astype(float)

    first_spike_time = np.full(n_neurons, np.nan)
    window_indices = indices[in_window]
    window_times = times[in_window]
    if window_indices.size:
        first_position = np.flatnonzero(np.r_[True, np.diff(window_indices) != 0])
        first_spike_time[window_indices[first_position]] = window_times[first_position]

    steady = (times >= steady_start[indices]) & (times < steady_stop[indices])
    steady_indices = indices[steady]
    steady_times = times[steady]
    steady_count = np.bincount(steady_indices, minlength=n_neurons).astype(float)
    first_time = np.full(n_neurons, np.nan)
    last_time = np.full(n_neurons, np.nan)
    if steady_indices.size:
        boundaries = np.r_[True, np.diff(steady_indices) != 0]
        first_time[steady_indices[boundaries]] = steady_times[boundaries]
        last_boundaries = np.r_[np.diff(steady_indices) != 0, True]
        last_time[steady_indices[last_boundaries]] = steady_times[last_boundaries]
    same_train = steady_indices[1:] == steady_indices[:-1]
    intervals = np.diff(steady_times)[same_train]
    interval_owner = steady_indices[1:][same_train]
    interval_square_sum = np.bincount(interval_owner, weights=intervals**2, minlength=n_neurons)
    return statistics_from_sums(spike_count, first_spike_time, steady_count, first_time, last_time,
                                interval_square_sum, start_s, steady_start, steady_stop,
                                dimension=dimension)


def statistics_from_sums(spike_count: ArrayLike, first_spike_time: ArrayLike, steady_count: ArrayLike,
                         steady_first: ArrayLike, steady_last: ArrayLike, interval_square_sum: ArrayLike,
                         start: ArrayLike, steady_start: ArrayLike, steady_stop: ArrayLike,
                         dimension: str = "neuron") -> xr.Dataset:
    """The statistics of :func:`spike_statistics` from per-window running sums (times in s).

    A spike train enters only through these sums, which a simulation can accumulate spike by
    spike (constant memory per neurone whatever the duration, see
    :func:`neurophase.micro.neurone.firing_curve`): with ``n`` steady-state spikes at
    ``t_1 < ... < t_n``, the ISI sum telescopes to ``t_n - t_1`` and only the sum of squared
    ISIs must be accumulated; the rules are those in the module docstring.

    Parameters
    ----------
    spike_count : array_like
        Spikes in ``[start, stop)``.
    first_spike_time : array_like, s
        Time of the first of them (NaN without a spike).
    steady_count : array_like
        Spikes in the steady-state window ``[steady_start, steady_stop)``.
    steady_first, steady_last : array_like, s
        Times of the first and last of them (NaN without a spike).
    interval_square_sum : array_like, s**2
        Sum of the squared ISIs between consecutive steady-state spikes.
    start, steady_start, steady_stop : array_like, s
        Window bounds.
    dimension : str
        Name of the output dimension.

    Returns
    -------
    xarray.Dataset
        As :func:`spike_statistics`: ``spike_count``, ``steady_spike_count``, ``rate`` (Hz),
        ``first_spike_latency`` (ms), ``cv_isi`` over ``dimension``.

    Examples
    --------
    >>> statistics = statistics_from_sums(np.array([4.0]), np.array([0.01]), np.array([4.0]),
    ...     np.array([0.01]), np.array([0.07]), np.array([3 * 0.02**2]), np.array([0.0]),
    ...     np.array([0.0]), np.array([0.1]))
    >>> round(float(statistics["rate"][0]), 9), float(statistics["cv_isi"][0])
    (50.0, 0.0)
    """
    spike_count = np.asarray(spike_count, dtype=float)
    steady_count = np.asarray(steady_count, dtype=float)
    first_time = np.asarray(steady_first, dtype=float)
    last_time = np.asarray(steady_last, dtype=float)
    steady_start = np.asarray(steady_start, dtype=float)
    steady_stop = np.asarray(steady_stop, dtype=float)
    first_latency = np.asarray(first_spike_time, dtype=float) - np.asarray(start, dtype=float)
    n_intervals = np.maximum(steady_count - 1.0, 0.0)
    interval_sum = np.where(n_intervals >= 1, last_time - first_time, 0.0)
    interval_square_sum = np.asarray(interval_square_sum, dtype=float)

    window_length = steady_stop - steady_start
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_interval = interval_sum / n_intervals
        count_rate = np.where(window_length > 0, steady_count / window_length, np.nan)
        still_firing = (steady_stop - last_time) <= 2.0 * mean_interval
        interval_rate = n_intervals / (last_time - first_time)
        rate = np.where((n_intervals >= 1) & still_firing, interval_rate, count_rate)
        variance = (interval_square_sum - n_intervals * mean_interval**2) / (n_intervals - 1)
        cv = np.sqrt(np.maximum(variance, 0.0)) / mean_interval
    cv = np.where(n_intervals >= 2, cv, np.nan)

    dims = (dimension,)
    dataset = xr.Dataset(
        {
            "spike_count": quantity_variable(spike_count, "1", dims,
                                             long_name="spikes in [start, stop)"),
            "steady_spike_count": quantity_variable(steady_count, "1", dims,
                                                    long_name="spikes in the steady-state window"),
            "rate": quantity_variable(rate, "Hz", dims, long_name="steady-state firing rate",
                                      rule="inverse mean ISI if >= 2 spikes and still firing, "
                                           "else count / window; transient excluded"),
            "first_spike_latency": quantity_variable(first_latency * 1e3, "ms", dims,
                                                     long_name="first-spike latency"),
            "cv_isi": quantity_variable(cv, "1", dims,
                                        long_name="coefficient of variation of the ISIs"),
        }
    )
    return dataset


def _trial_axis(counts, dim):
    if isinstance(counts, xr.DataArray):
        if dim not in counts.dims:
            raise NeurophaseError(f"spike counts have no dimension {dim!r}; dims are {counts.dims}.")
        return counts
    return None


@_doc
def fano_factor(spike_counts: xr.DataArray | ArrayLike, dim: str = "trial",
                axis: int = -1) -> xr.DataArray | np.ndarray:
    """Fano factor ``Var(N) / E(N)`` of spike counts across trials (Fano 1947, Phys. Rev. 72:26).

    The variance is the sample variance (``ddof=1``); NaN where the mean count is zero or
    there are fewer than two trials.

    %(parameters_trial_counts)s

    Returns
    -------
    xarray.DataArray or numpy.ndarray, dimensionless
        The Fano factor, the trial dimension reduced (a DataArray for a DataArray).

    Examples
    --------
    >>> float(fano_factor(np.array([2.0, 4.0, 6.0])))
    1.0
    """
    labelled = _trial_axis(spike_counts, dim)
    if labelled is not None:
        if labelled.sizes[dim] < 2:
            return xr.full_like(labelled.isel({dim: 0}, drop=True), np.nan, dtype=float)
        mean = labelled.mean(dim)
        result = labelled.var(dim, ddof=1) / mean.where(mean > 0)
        result.attrs = {"units": "1", "long_name": "Fano factor of spike counts across trials"}
        return result
    counts = np.asarray(spike_counts, dtype=float)
    if counts.shape[axis] < 2:
        return np.full(np.delete(counts.shape, axis % counts.ndim), np.nan)
    mean = counts.mean(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mean > 0, counts.var(axis=axis, ddof=1) / mean, np.nan)


@_doc
def p_fire(spike_counts: xr.DataArray | ArrayLike, dim: str = "trial", axis: int = -1) -> xr.DataArray | np.ndarray:
    """Firing probability: the fraction of trials with at least one spike.

    Its binomial standard error is ``sqrt(p (1 - p) / n_trials)`` (the standard error of a
    binomial proportion, e.g. Agresti 2013, Categorical Data Analysis, 3rd ed., section 1.3).

    %(parameters_trial_counts)s

    Returns
    -------
    xarray.DataArray or numpy.ndarray, dimensionless
        The fraction in [0, 1], the trial dimension reduced.

    Examples
    --------
    >>> float(p_fire(np.array([0, 1, 3, 0])))
    0.5
    """
    labelled = _trial_axis(spike_counts, dim)
    if labelled is not None:
        result = (labelled > 0).mean(dim).astype(float)
        result.attrs = {"units": "1", "long_name": "fraction of trials with at least one spike"}
        return result
    counts = np.asarray(spike_counts, dtype=float)
    return (counts > 0).mean(axis=axis)
