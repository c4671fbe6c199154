"""Order-parameter statistics from traces: equilibration, stationary moments, uncertainty.

The input is the ``order_parameter(..., time)`` variable of a membrane Dataset (see
:func:`neurophase.micro.ising.simulate_membrane`) or any array whose last axis is time.

Functions
---------
mser_truncation
    The MSER-5 equilibration index of each trace (White 1997; Spratt 1998).
integrated_autocorrelation_time
    Sokal's windowed estimator of the integrated autocorrelation time (Sokal 1997).
stationary_statistics
    Per trace: equilibration index, stationary mean, variance, mean |M|, autocorrelation time,
    effective sample size, standard error; returned as a Dataset with units.
trial_mean_and_error
    Mean over trials and its standard error (sample standard deviation / sqrt(n)).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from neurophase.errors import ParameterError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "mser_truncation",
    "integrated_autocorrelation_time",
    "autocorrelation",
    "stationary_statistics",
    "trial_mean_and_error",
]


def mser_truncation(traces: ArrayLike, batch_size: int = 5, max_fraction: float = 0.5) -> np.ndarray:
    """Index where each trace becomes stationary, by the MSER-5 rule.

    The trace is cut into batches of ``batch_size`` samples (batch means ``Y_1..Y_m``); the
    truncation ``d`` (in batches) minimises the marginal standard error
    ``MSER(d) = sum_{j>d} (Y_j - mean_{j>d} Y)^2 / (m - d)^2``, searched over
    ``d <= max_fraction m`` (White 1997, Simulation 69:323, Eq. 1; Spratt 1998, MSER-5:
    White, Cobb and Spratt 2000, Proc. Winter Simulation Conf., 755). The index returned is
    ``d * batch_size`` in samples.

    Parameters
    ----------
    traces : array_like, any unit
        Time on the last axis (at least 4 batches); any leading axes are independent traces.
    batch_size : int, optional
        Samples per batch (5 for MSER-5).
    max_fraction : float, optional
        Largest fraction of the trace that may be discarded (0.5 as White recommends).

    Returns
    -------
    numpy.ndarray of int
        The first stationary sample of each trace, in samples (shape of the leading axes).

    Examples
    --------
    >>> trace = np.concatenate([np.linspace(5, 0, 50), np.zeros(450)]) + 0.01 * np.sin(np.arange(500))
    >>> int(mser_truncation(trace))
    50
    """
    traces = np.asarray(traces, dtype=float)
    if traces.ndim == 0:
        raise ParameterError("mser_truncation needs traces with time on the last axis.")
    batch_size = int(batch_size)
    batches = traces.shape[-1] // batch_size
    if batches < 4:
        raise ParameterError(
            f"A trace of {traces.shape[-1]} samples has fewer than 4 batches of {batch_size}; record "
            "more samples or use a smaller batch_size."
        )
    batch_means = traces[..., : batches * batch_size].reshape(traces.shape[:-1] + (batches, batch_size)).mean(-1)
    # Tail sums from each truncation point d (0..m-1): vectorised with reversed cumulative sums.
    reversed_means = batch_means[..., ::-1]
    tail_count = np.arange(1, batches + 1)[::-1].astype(float)  # m - d
    tail_sum = np.cumsum(reversed_means, axis=-1)[..., ::-1]
    tail_square = np.cumsum(reversed_means**2, axis=-1)[..., ::-1]
    tail_mean = tail_sum / tail_count
    squared_deviation = np.maximum(tail_square - tail_count * tail_mean**2, 0.0)
    statistic = squared_deviation / tail_count**2
    limit = max(1, int(max_fraction * batches))
    best = np.argmin(statistic[..., : limit + 1], axis=-1)
    return best * batch_size


def autocorrelation(traces: ArrayLike, centred: bool = False) -> np.ndarray:
    """Normalised autocorrelation function of each trace along the last axis (FFT, biased).

    The biased estimator ``C(t) = (1/n) sum_s x_s x_{s+t}`` (Sokal 1997, Eq. 3.12) by
    zero-padded FFT, divided by ``C(0)``.

    Parameters
    ----------
    traces : array_like, any unit
        Time on the last axis; leading axes are independent traces.
    centred : bool, optional
        True: the traces are already centred (the mean is not subtracted).

    Returns
    -------
    numpy.ndarray, dimensionless
        ``rho(t)`` for lags 0 .. n-1 in samples, the shape of ``traces`` (``rho(0) = 1``; all
        zeros for a constant trace).

    Examples
    --------
    >>> acf = autocorrelation(np.array([1.0, -1.0, 1.0, -1.0]))
    >>> float(acf[0]), float(acf[1])
    (1.0, -0.75)
    """
    traces = np.asarray(traces, dtype=float)
    length = traces.shape[-1]
    if not centred:
        traces = traces - traces.mean(axis=-1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * length)))
    spectrum = np.fft.rfft(traces, n=size, axis=-1)
    covariance = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=-1)[..., :length] / length
    variance = covariance[..., :1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(variance > 0, covariance / np.where(variance > 0, variance, 1.0), 0.0)


def integrated_autocorrelation_time(traces: ArrayLike, window_factor: float = 6.0,
                                    centred: bool = False) -> np.ndarray:
    """Integrated autocorrelation time ``tau_int = 1/2 + sum_{t=1}^{W} rho(t)`` in samples.

    Sokal's automatic window: the smallest ``W`` with ``W >= window_factor tau_int(W)``
    (A. D. Sokal 1997, "Monte Carlo methods in statistical mechanics", in Functional
    Integration, Plenum, Eqs. 3.18-3.19 and the windowing rule after Eq. 3.20). The variance
    of a mean of ``n`` samples is ``2 tau_int Var / n``. For an AR(1) series with coefficient
    ``a``, ``2 tau_int = (1 + a)/(1 - a)``.

    Parameters
    ----------
    traces : array_like, any unit
        Time on the last axis.
    window_factor : float, optional
        Sokal's ``c`` (4 to 10; 6 by default).
    centred : bool, optional
        The traces are already centred on their true (or pooled) mean: do not subtract each
        trace's own mean.

    Returns
    -------
    numpy.ndarray
        ``tau_int`` in samples for each trace (at least 0.5).
    """
    rho = autocorrelation(traces, centred=centred)
    partial = 0.5 + np.cumsum(rho[..., 1:], axis=-1)
    lags = np.arange(1, rho.shape[-1])
    acceptable = lags >= window_factor * partial
    has_window = acceptable.any(axis=-1)
    window = np.where(has_window, np.argmax(acceptable, axis=-1), rho.shape[-1] - 2)
    tau = np.take_along_axis(partial, window[..., None], axis=-1)[..., 0]
    return np.maximum(tau, 0.5)


def stationary_statistics(order_parameter: xr.DataArray, equilibration: str = "mser5",
                          discard: int | float | None = None, window_factor: float = 6.0,
                          pool_dim: str | None = "trial") -> xr.Dataset:
    """Stationary moments of each order-parameter trace after its equilibration.

    Parameters
    ----------
    order_parameter : xarray.DataArray
        Traces with a ``time`` dimension (e.g. ``dataset.order_parameter``); its
        ``attrs["units"]`` (default "1") and those of its ``time`` coordinate are carried over.
    equilibration : {"mser5", "fixed"}, optional
        ``"mser5"``: the MSER-5 index of each trace (White 1997), but never fewer than
        ``discard`` samples; ``"fixed"``: the first ``discard`` samples are dropped.
    discard : int, float or None, optional
        Samples (int) or fraction of the trace (float < 1) always discarded (default: 10 %).
    window_factor : float, optional
        Sokal's window constant for the autocorrelation time.
    pool_dim : str or None, optional
        If the traces have this dimension (default ``"trial"``), the MSER-5 index of each grid
        point is computed once, on the trace averaged over it, and applied to every trial.
        Choosing the truncation from each trace's own fluctuations would bias its variance low
        (MSER picks the cut that minimises the remaining variance); the average over
        independent trials keeps the transient and damps the fluctuations.

    Returns
    -------
    xarray.Dataset
        Over the non-time dimensions: ``equilibration_index`` (samples), ``mean``,
        ``variance``, ``mean_abs`` (mean of |M|), ``variance_abs``, ``autocorrelation_time``
        (of M, in samples and, as ``autocorrelation_time_ms``, in the time unit of the
        input), ``effective_samples`` and ``standard_error`` of the mean (Sokal 1997, Eq. 3.19).
    """
    if "time" not in order_parameter.dims:
        raise ParameterError("stationary_statistics needs traces with a 'time' dimension.")
    data = order_parameter.transpose(..., "time")
    values = np.asarray(data.values, dtype=float)
    length = values.shape[-1]
    if discard is None:
        discard = 0.1
    minimum = int(round(discard * length)) if isinstance(discard, float) and discard < 1 else int(discard)
    if equilibration == "mser5":
        if pool_dim is not None and pool_dim in data.dims:
            axis = data.dims.index(pool_dim)
            pooled = mser_truncation(values.mean(axis=axis, keepdims=True))
            start = np.maximum(np.broadcast_to(pooled, values.shape[:-1]), minimum)
        else:
            start = np.maximum(mser_truncation(values), minimum)
    elif equilibration == "fixed":
        start = np.full(values.shape[:-1], minimum, dtype=int)
    else:
        raise ParameterError(f"Unknown equilibration rule {equilibration!r}; use 'mser5' or 'fixed'.")
    if np.any(start >= length - 4):
        raise ParameterError("A trace has fewer than 4 samples after equilibration; run longer.")
    mask = np.arange(length) >= start[..., None]
    count = mask.sum(axis=-1)
    mean = np.where(mask, values, 0.0).sum(-1) / count
    absolute = np.abs(values)
    mean_abs = np.where(mask, absolute, 0.0).sum(-1) / count
    pooled = pool_dim is not None and pool_dim in data.dims and data.sizes[pool_dim] > 1
    if pooled:
        # Replicates share one distribution: centre on their common mean, so that the variance
        # and the autocorrelation are not biased low by ~2 tau_int/n (subtracting each short
        # trace's own mean; Sokal 1997, Eq. 3.14 ff.).
        axis = data.dims.index(pool_dim)
        reference = np.broadcast_to(mean.mean(axis=axis, keepdims=True), mean.shape)
        reference_abs = np.broadcast_to(mean_abs.mean(axis=axis, keepdims=True), mean.shape)
        divisor = count - 1.0 / data.sizes[pool_dim]
    else:
        reference, reference_abs, divisor = mean, mean_abs, count - 1.0
    variance = np.where(mask, (values - reference[..., None]) ** 2, 0.0).sum(-1) / divisor
    variance_abs = np.where(mask, (absolute - reference_abs[..., None]) ** 2, 0.0).sum(-1) / divisor
    # Autocorrelation time per trace on its stationary part (centred on the reference mean).
    padded = np.where(mask, values - reference[..., None], 0.0)
    tau = _tau_on_stationary_part(padded, start, window_factor, centred=True)
    effective = count / (2.0 * tau)
    standard_error = np.sqrt(variance / effective)
    dims = data.dims[:-1]
    coords = {name: coord for name, coord in data.coords.items() if "time" not in coord.dims}
    time = data["time"] if "time" in data.coords else None
    step = float(np.median(np.diff(time.values))) if time is not None and length > 1 else 1.0
    unit = data.attrs.get("units", "1")
    time_unit = time.attrs.get("units", "1") if time is not None else "1"

    def variable(array, units, long_name):
        return xr.DataArray(array, dims=dims, attrs={"units": units, "long_name": long_name})

    return xr.Dataset(
        {
            "equilibration_index": variable(start.astype(float), "1", "first stationary sample"),
            "mean": variable(mean, unit, "stationary mean of M"),
            "variance": variable(variance, "1" if unit == "1" else f"({unit})**2", "stationary variance of M"),
            "mean_abs": variable(mean_abs, unit, "stationary mean of |M|"),
            "variance_abs": variable(variance_abs, "1" if unit == "1" else f"({unit})**2",
                                     "stationary variance of |M|"),
            "autocorrelation_time": variable(tau, "1", "integrated autocorrelation time (samples)"),
            "autocorrelation_time_ms": variable(tau * step, time_unit,
                                                "integrated autocorrelation time"),
            "effective_samples": variable(effective, "1", "effective independent samples"),
            "standard_error": variable(standard_error, unit, "standard error of the stationary mean"),
        },
        coords=coords,
        attrs={"equilibration": equilibration, "window_factor": window_factor},
    )


def _tau_on_stationary_part(padded, start, window_factor, centred=False):
    """tau_int of the samples from ``start`` on (each trace rolled so its stationary part leads)."""
    flat = padded.reshape(-1, padded.shape[-1])
    starts = np.asarray(start).reshape(-1)
    length = flat.shape[-1]
    tau = np.empty(flat.shape[0])
    # Group traces by start index so each group is one vectorised FFT.
    for value in np.unique(starts):
        rows = starts == value
        tau[rows] = integrated_autocorrelation_time(flat[rows, value:length], window_factor, centred=centred)
    return tau.reshape(padded.shape[:-1])


def trial_mean_and_error(values: xr.DataArray, dim: str = "trial") -> tuple[xr.DataArray, xr.DataArray]:
    """Mean over ``dim`` and its standard error ``s / sqrt(n)`` (s: sample standard deviation).

    Parameters
    ----------
    values : xarray.DataArray
        Repeated measurements along ``dim`` (any unit; the results are in the same unit).
    dim : str, optional
        The dimension of independent repetitions; default "trial".

    Returns
    -------
    mean : xarray.DataArray
        Mean over ``dim``.
    error : xarray.DataArray
        ``s / sqrt(n)`` with ``ddof = 1`` (NaN with one repetition).

    Examples
    --------
    >>> data = xr.DataArray([1.0, 2.0, 3.0], dims=("trial",))
    >>> mean, error = trial_mean_and_error(data)
    >>> float(mean), round(float(error), 4)
    (2.0, 0.5774)
    """
    count = values.sizes[dim]
    mean = values.mean(dim)
    error = values.std(dim, ddof=1) / np.sqrt(count) if count > 1 else xr.full_like(mean, np.nan)
    return mean, error
