"""Confidence intervals: the one place neurophase turns repeated measurements into an interval.

Every verdict's interval comes from here, so its coverage is tested once
(``tests/test_statistics.py`` simulates it at the trial counts the experiments use).

Functions
---------
mean_interval
    Mean and its Student-t interval (exact for normal trials; the right choice for the
    average of a few independent seeds, where percentile bootstraps under-cover).
bootstrap_interval
    Any statistic of independent samples, with a bias-corrected and accelerated (BCa) or
    percentile bootstrap interval (Efron & Tibshirani 1993, *An Introduction to the
    Bootstrap*, ch. 13-14; DiCiccio & Efron 1996, Stat. Sci. 11:189).
regression_slope_interval
    Least-squares slope with its Student-t interval (weighted when standard errors are given).
trial_interval
    Any statistic of the trial-averaged values, with a delete-one jackknife Student-t interval
    over independent trials (seeds): the interval the membrane and gating verdicts use.
profile_likelihood_interval
    One parameter of a maximum-likelihood fit, with its likelihood-ratio (profile) interval
    (Wilks 1938; Venzon & Moolgavkar 1988): the interval of the firing-probability widths.
sampled_mean_standard_error
    Standard error of the time average of stationary AR(1) series (closed form).

Why not a percentile bootstrap over 4-6 trials: its coverage at a nominal 95 % is about 80 %
there (the bootstrap distribution of a mean of n values is too narrow by ``sqrt((n - 1)/n)``
and its tails are truncated to the observed range). The Student-t interval of a mean covers
at its nominal level for normal trials and within a few percent for the moderately skewed
per-seed statistics measured here; BCa needs more samples (about 20 or more) to do as well.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from neurophase.errors import ParameterError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import xarray as xr
    from numpy.typing import ArrayLike

__all__ = ["mean_interval", "bootstrap_interval", "regression_slope_interval", "sampled_mean_standard_error",
           "trial_interval", "profile_likelihood_interval", "Interval"]


class Interval(tuple):
    """``(estimate, low, high)`` with names; unpacks like a tuple.

    Parameters
    ----------
    estimate : float or numpy.ndarray
        The point estimate, in the unit of the samples.
    low, high : float or numpy.ndarray
        The ends of the interval (same unit and shape; NaN where there is no interval).

    Examples
    --------
    >>> interval = Interval(2.0, 1.5, 2.5)
    >>> interval.low, interval == (2.0, 1.5, 2.5)
    (1.5, True)
    """

    __slots__ = ()

    def __new__(cls, estimate: float | np.ndarray, low: float | np.ndarray, high: float | np.ndarray) -> Interval:
        return super().__new__(cls, (estimate, low, high))

    @property
    def estimate(self) -> float | np.ndarray:
        """The point estimate (from all samples)."""
        return self[0]

    @property
    def low(self) -> float | np.ndarray:
        """Lower end of the interval."""
        return self[1]

    @property
    def high(self) -> float | np.ndarray:
        """Upper end of the interval."""
        return self[2]


def _check_confidence(confidence):
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ParameterError(f"confidence must be between 0 and 1 (e.g. 0.95); got {confidence!r}.")
    return confidence


def _samples(values, axis, dim):
    """``values`` as a float array with the sample axis last (DataArray: ``dim``)."""
    if dim is not None:
        if dim not in getattr(values, "dims", ()):
            raise ParameterError(f"The values have no {dim!r} dimension to average over; "
                                 f"their dimensions are {getattr(values, 'dims', ())}.")
        values = values.transpose(..., dim).values
        axis = -1
    array = np.asarray(values, dtype=float)
    return np.moveaxis(array, axis, -1)


def mean_interval(values: ArrayLike | xr.DataArray, confidence: float = 0.95, axis: int = -1,
                  dim: str | None = None) -> Interval:
    """Mean over ``axis`` (or the DataArray dimension ``dim``) and its Student-t interval.

    ``mean +- t_{(1+c)/2, n-1} s / sqrt(n)`` (Student 1908; e.g. Wasserman 2004, *All of
    Statistics*, sec. 6.3.2). NaN samples are left out per row; a row with fewer than two
    samples gets a NaN interval.

    Parameters
    ----------
    values : array_like or xarray.DataArray, any unit
        Independent samples (e.g. one value per seed).
    confidence : float, optional
        Central probability of the interval, in (0, 1); default 0.95.
    axis : int, optional
        Sample axis of an array; default the last.
    dim : str or None, optional
        Sample dimension of a DataArray (overrides ``axis``).

    Returns
    -------
    Interval
        ``(estimate, low, high)`` in the unit of ``values``, arrays of the remaining shape
        (floats for 1-D input).

    Examples
    --------
    >>> estimate, low, high = mean_interval([1.0, 2.0, 3.0])
    >>> float(estimate), round(float(high - estimate), 4)
    (2.0, 2.4841)
    """
    from scipy import stats

    confidence = _check_confidence(confidence)
    array = _samples(values, axis, dim)
    count = np.sum(np.isfinite(array), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(np.where(np.isfinite(array), array, np.nan), axis=-1) if array.size else np.nan
        finite = np.where(np.isfinite(array), array, np.nan)
        deviations = np.nansum((finite - np.expand_dims(mean, -1)) ** 2, axis=-1)
        spread = np.sqrt(deviations / np.maximum(count - 1, 1))
        half = stats.t.ppf(0.5 + confidence / 2, np.maximum(count - 1, 1)) * spread / np.sqrt(count)
    half = np.where(count >= 2, half, np.nan)
    return Interval(_scalar(mean), _scalar(mean - half), _scalar(mean + half))


def bootstrap_interval(values: ArrayLike | xr.DataArray, statistic: Callable[..., ArrayLike] = np.mean,
                       confidence: float = 0.95, n_resamples: int = 2000, method: str = "BCa", seed: int = 0,
                       axis: int = -1, dim: str | None = None, paired: bool = False) -> Interval:
    """A statistic of independent samples and its bootstrap interval.

    Resamples the samples along ``axis`` with replacement (``scipy.stats.bootstrap``) and
    returns the BCa interval (default; Efron 1987, JASA 82:171) or the percentile interval.
    The point estimate is the statistic of all samples.

    Parameters
    ----------
    values : array_like or xarray.DataArray, any unit
        Samples along ``axis`` (or ``dim``).
    statistic : callable, optional
        ``statistic(array, axis=-1) -> array`` (vectorised, like ``numpy.mean``, the default).
    confidence : float, optional
        Central probability, in (0, 1); default 0.95.
    n_resamples : int, optional
        Bootstrap resamples (``>= 1``); default 2000.
    method : {"BCa", "percentile", "basic"}, optional
        Interval construction.
    seed : int, optional
        Seeds the resampling (row ``i`` of a batch uses ``seed + i``); default 0.
    axis : int, optional
        Sample axis of an array; default the last.
    dim : str or None, optional
        Sample dimension of a DataArray (overrides ``axis``).
    paired : bool, optional
        ``values`` is a 2-D array ``(variables, samples)`` whose columns are resampled together
        (e.g. the held-out errors of several candidates at the same points) and
        ``statistic(matrix, axis=-1)`` reduces it to one number per resample. Columns with a
        non-finite entry are left out.

    Returns
    -------
    Interval
        ``(estimate, low, high)`` in the unit of the statistic, arrays of the remaining shape
        (floats for 1-D input); NaN interval where fewer than two samples are finite or all
        samples are equal (a degenerate bootstrap distribution).

    Examples
    --------
    >>> estimate, low, high = bootstrap_interval(np.arange(20.0), seed=1)
    >>> float(estimate), bool(low < 9.5 < high)
    (9.5, True)
    """
    from scipy import stats

    confidence = _check_confidence(confidence)
    if int(n_resamples) < 1:
        raise ParameterError(f"n_resamples must be at least 1; got {n_resamples!r}.")
    if method not in ("BCa", "percentile", "basic"):
        raise ParameterError(f"method must be 'BCa', 'percentile' or 'basic'; got {method!r}.")
    array = _samples(values, axis, dim)
    if paired:
        return _paired_bootstrap(array, statistic, confidence, int(n_resamples), method, seed)
    flat = array.reshape(-1, array.shape[-1]) if array.ndim > 1 else array[None, :]
    estimate = np.full(flat.shape[0], np.nan)
    low = np.full(flat.shape[0], np.nan)
    high = np.full(flat.shape[0], np.nan)
    for row, samples in enumerate(flat):
        samples = samples[np.isfinite(samples)]
        if samples.size == 0:
            continue
        estimate[row] = float(statistic(samples, axis=-1))
        if samples.size < 2 or np.all(samples == samples[0]):
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            result = stats.bootstrap((samples,), statistic, confidence_level=confidence,
                                     n_resamples=int(n_resamples), method=method,
                                     random_state=np.random.default_rng(seed + row), vectorized=True)
        low[row], high[row] = result.confidence_interval
    shape = array.shape[:-1]
    return Interval(*(_scalar(part.reshape(shape)) for part in (estimate, low, high)))


def trial_interval(values: xr.DataArray, statistic: Callable[[xr.DataArray], ArrayLike], confidence: float = 0.95,
                   dim: str = "trial") -> Interval:
    """``statistic(mean over trials)`` and its jackknife Student-t interval over the trials.

    The trials (independent seeds) are left out one at a time; the delete-one estimates
    ``theta_(i)`` give the jackknife standard error ``sqrt((n - 1)/n sum (theta_(i) - mean)^2)``
    (Tukey 1958; Efron & Stein 1981, Ann. Stat. 9:586) and the interval is
    ``estimate +- t_{(1+c)/2, n-1} se``. For the mean itself this is exactly the Student-t interval
    of :func:`mean_interval`; for smooth statistics of the mean (fitted exponents, intercepts,
    ratios) its coverage at 4-6 trials is near nominal (``tests/test_statistics.py``), where a
    percentile bootstrap of 4-6 trials covers about 80 %.

    Parameters
    ----------
    values : xarray.DataArray, any unit
        Per-trial values with the dimension ``dim``.
    statistic : callable
        DataArray (without ``dim``) -> float or array.
    confidence : float, optional
        Central probability, in (0, 1); default 0.95.
    dim : str, optional
        The trial dimension; default "trial".

    Returns
    -------
    Interval
        ``(estimate, low, high)`` in the unit of the statistic; a NaN interval with fewer than
        two trials.

    Examples
    --------
    >>> import xarray as xr
    >>> data = xr.DataArray([1.0, 2.0, 3.0], dims=("trial",))
    >>> estimate, low, high = trial_interval(data, lambda mean: float(mean))
    >>> float(estimate), round(float(high - estimate), 4)
    (2.0, 2.4841)
    """
    from scipy import stats

    confidence = _check_confidence(confidence)
    if dim not in getattr(values, "dims", ()):
        raise ParameterError(f"trial_interval needs a {dim!r} dimension; got {getattr(values, 'dims', ())}.")
    count = values.sizes[dim]
    estimate = np.asarray(statistic(values.mean(dim)), dtype=float)
    if count < 2:
        nan = np.full_like(estimate, np.nan)
        return Interval(_scalar(estimate), _scalar(nan), _scalar(nan))
    total = values.sum(dim)
    leave_out = np.array([np.asarray(statistic((total - values.isel({dim: i})) / (count - 1)), dtype=float)
                          for i in range(count)])
    spread = np.sqrt((count - 1) / count * np.sum((leave_out - leave_out.mean(axis=0)) ** 2, axis=0))
    half = stats.t.ppf(0.5 + confidence / 2, count - 1) * spread
    return Interval(_scalar(estimate), _scalar(estimate - half), _scalar(estimate + half))


def _paired_bootstrap(matrix, statistic, confidence, n_resamples, method, seed):
    from scipy import stats

    if matrix.ndim != 2:
        raise ParameterError(f"paired=True needs a 2-D array (variables, samples); got shape {matrix.shape}.")
    matrix = matrix[:, np.all(np.isfinite(matrix), axis=0)]
    if matrix.shape[1] == 0:
        return Interval(np.nan, np.nan, np.nan)
    estimate = float(statistic(matrix, axis=-1))
    if matrix.shape[1] < 2:
        return Interval(estimate, np.nan, np.nan)

    def joint(*rows, axis=-1):
        return statistic(np.stack(rows, axis=-2), axis=-1)

    with np.errstate(invalid="ignore", divide="ignore"):
        result = stats.bootstrap(tuple(matrix), joint, paired=True, confidence_level=confidence,
                                 n_resamples=n_resamples, method=method,
                                 random_state=np.random.default_rng(seed), vectorized=True)
    low, high = result.confidence_interval
    return Interval(estimate, float(low), float(high))


def regression_slope_interval(x: ArrayLike, y: ArrayLike, standard_errors: ArrayLike | None = None,
                              confidence: float = 0.95) -> Interval:
    """Slope of a straight-line fit of ``y`` on ``x`` with its Student-t interval.

    Ordinary least squares, or weighted least squares with weights ``1/se**2`` when
    ``standard_errors`` are given; the slope's standard error is the usual
    ``sqrt(residual variance / S_xx)`` with ``n - 2`` degrees of freedom (e.g. Draper & Smith
    1998, *Applied Regression Analysis*, ch. 1 and 9). Points with non-finite values are left out.

    Parameters
    ----------
    x : array_like, any unit
        Abscissae, 1-D.
    y : array_like, any unit
        Ordinates at ``x`` (at least 3 usable points).
    standard_errors : array_like or None, optional
        Standard errors of ``y`` (unit of ``y``); points with a non-positive or non-finite one
        are left out. Default: unweighted.
    confidence : float, optional
        Central probability, in (0, 1); default 0.95.

    Returns
    -------
    Interval
        ``(slope, low, high)`` as floats, in the unit of ``y`` per unit of ``x``.

    Examples
    --------
    >>> slope, low, high = regression_slope_interval([0, 1, 2, 3], [1.0, 3.1, 4.9, 7.0])
    >>> round(slope, 2), bool(low < 2 < high)
    (1.98, True)
    """
    from scipy import stats

    confidence = _check_confidence(confidence)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    weights = np.ones_like(x) if standard_errors is None else 1.0 / np.asarray(standard_errors, float) ** 2
    keep = np.isfinite(x) & np.isfinite(y) & np.isfinite(weights) & (weights > 0)
    x, y, weights = x[keep], y[keep], weights[keep]
    if x.size < 3:
        raise ParameterError(f"A slope with an interval needs at least 3 points; got {x.size}.")
    x_mean = np.sum(weights * x) / np.sum(weights)
    y_mean = np.sum(weights * y) / np.sum(weights)
    sxx = np.sum(weights * (x - x_mean) ** 2)
    slope = np.sum(weights * (x - x_mean) * (y - y_mean)) / sxx
    residuals = y - y_mean - slope * (x - x_mean)
    variance = np.sum(weights * residuals**2) / (x.size - 2)
    half = stats.t.ppf(0.5 + confidence / 2, x.size - 2) * np.sqrt(variance / sxx)
    return Interval(float(slope), float(slope - half), float(slope + half))


def sampled_mean_standard_error(variance: ArrayLike, correlation: ArrayLike, samples: ArrayLike,
                                trials: int = 1) -> np.ndarray | float:
    """Standard error of the mean of ``trials`` independent stationary AR(1) series.

    Each series has ``samples`` values with variance ``variance`` and lag-one correlation
    ``correlation``: ``Var(mean) = (variance/n) [1 + 2 sum_{k<n} (1 - k/n) rho^k]``
    (e.g. M. B. Priestley 1981, Spectral Analysis and Time Series, Eq. 5.3.5), divided by the
    number of trials. Broadcasts over arrays.

    Parameters
    ----------
    variance : float or array_like, (unit of the series)**2
        Stationary variance of one series (negative values count as 0).
    correlation : float or array_like, dimensionless
        Lag-one correlation ``rho``.
    samples : int or array_like
        Values per series ``n`` (at least 1 is used).
    trials : int, optional
        Independent series averaged; default 1.

    Returns
    -------
    numpy.ndarray or float, unit of the series
        The standard error, the broadcast shape (a float for scalar input).

    Examples
    --------
    >>> round(float(sampled_mean_standard_error(1.0, 0.0, 100)), 6)
    0.1
    """
    variance, correlation, samples = np.broadcast_arrays(np.asarray(variance, float),
                                                         np.asarray(correlation, float),
                                                         np.asarray(samples, float))
    result = np.empty(variance.shape)
    for index in np.ndindex(variance.shape):
        n = max(int(samples[index]), 1)
        lag = np.arange(1, n)
        factor = 1.0 + 2.0 * np.sum((1.0 - lag / n) * correlation[index] ** lag)
        result[index] = np.sqrt(max(variance[index], 0.0) / n * factor / trials)
    return result if result.shape else float(result)


def profile_likelihood_interval(negative_log_likelihood: Callable[[np.ndarray], float], estimate: ArrayLike,
                                index: int, confidence: float = 0.95,
                                bounds: Sequence[tuple[float | None, float | None]] | None = None,
                                span: float = 20.0, method: str = "SLSQP") -> Interval:
    """A parameter of a maximum-likelihood fit with its profile-likelihood interval.

    The interval is ``{theta: 2 [l(theta_hat) - max_nuisance l(theta, nuisance)] <= q}`` with
    ``q`` the ``confidence`` quantile of chi-square with one degree of freedom (S. S. Wilks 1938,
    Ann. Math. Stat. 9:60; D. J. Venzon & S. H. Moolgavkar 1988, Appl. Stat. 37:87; Y. Pawitan
    2001, *In All Likelihood*, sec. 3.4 and 9.3): invariant under reparametrisation and bounded
    by the data, unlike a Wald interval near the edge of a parameter space. The nuisance
    parameters are re-fitted at every trial value (``scipy.optimize.minimize`` with ``method``,
    from the previous optimum and from the estimate) and each end is located by Brent's method.

    Parameters
    ----------
    negative_log_likelihood : callable
        ``-ln L(parameters)`` of a 1-D parameter array.
    estimate : array_like, parameter units
        The maximum-likelihood estimate (all parameters).
    index : int
        The parameter of interest.
    confidence : float, dimensionless
        Coverage of the interval (asymptotically).
    bounds : sequence of (low, high), optional
        Bounds of every parameter (None: unbounded); an end beyond its bound is returned as
        that bound's side infinity (the data do not bound it there).
    span : float, dimensionless
        The search for each end goes at most ``span`` times ``max(1, |estimate|)`` away.
    method : str
        Bounded minimiser of the nuisance parameters (SLSQP: few evaluations and, unlike
        scipy's L-BFGS-B, no multithreaded BLAS calls on tiny problems).

    Returns
    -------
    Interval
        ``(estimate, low, high)``; ``-inf``/``inf`` where the likelihood does not fall by ``q/2``.

    Examples
    --------
    The mean of normal data with known unit variance: the profile interval is the exact
    ``mean +- 1.96 / sqrt(n)``.

    >>> data = np.array([0.3, -1.2, 0.8, 1.5, 0.1])
    >>> nll = lambda p: 0.5 * np.sum((data - p[0]) ** 2)
    >>> estimate, low, high = profile_likelihood_interval(nll, [data.mean()], 0)
    >>> round(high - estimate, 4), round(float(1.959964 / np.sqrt(5)), 4)
    (0.8765, 0.8765)
    """
    from scipy import optimize, stats

    confidence = _check_confidence(confidence)
    estimate = np.asarray(estimate, dtype=float).copy()
    size = estimate.size
    if not 0 <= int(index) < size:
        raise ParameterError(f"index {index} is not a parameter of a {size}-parameter fit.")
    index = int(index)
    bounds = [(None, None)] * size if bounds is None else [tuple(bound) for bound in bounds]
    if len(bounds) != size:
        raise ParameterError(f"bounds has {len(bounds)} entries for {size} parameters.")
    quantile = float(stats.chi2.ppf(confidence, 1))
    minimum = float(negative_log_likelihood(estimate))
    others = [i for i in range(size) if i != index]
    other_bounds = [bounds[i] for i in others]
    state = {"nuisance": estimate[others].copy()}

    def profile(value):
        full = estimate.copy()
        full[index] = value
        if not others:
            return float(negative_log_likelihood(full))

        def objective(nuisance):
            full[others] = nuisance
            return float(negative_log_likelihood(full))

        best = None
        for start in (state["nuisance"], estimate[others]):
            result = optimize.minimize(objective, start, method=method, bounds=other_bounds)
            if best is None or result.fun < best.fun:
                best = result
        state["nuisance"] = best.x
        return float(best.fun)

    def excess(value):
        return 2.0 * (profile(value) - minimum) - quantile

    ends = []
    scale = span * max(1.0, abs(estimate[index]))
    for direction in (-1.0, 1.0):
        state["nuisance"] = estimate[others].copy()
        limit = bounds[index][0 if direction < 0 else 1]
        far = estimate[index] + direction * scale
        if limit is not None:
            far = max(far, limit) if direction < 0 else min(far, limit)
        inner, step = estimate[index], direction * max(1e-3 * scale / span, 1e-12)
        found = None
        while abs(inner + step - estimate[index]) <= abs(far - estimate[index]):
            outer = inner + step
            if excess(outer) > 0:
                found = optimize.brentq(excess, inner, outer, xtol=1e-10 * max(1.0, abs(outer)))
                break
            inner, step = outer, 2.0 * step
        if found is None and excess(far) > 0:
            found = optimize.brentq(excess, inner, far, xtol=1e-10 * max(1.0, abs(far)))
        ends.append(found if found is not None else direction * np.inf)
    return Interval(float(estimate[index]), float(ends[0]), float(ends[1]))


def _scalar(array):
    array = np.asarray(array, dtype=float)
    return float(array) if array.ndim == 0 else array
