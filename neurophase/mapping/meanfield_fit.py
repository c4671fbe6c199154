"""Effective mean-field parameters estimated from stationary order-parameter curves.

Functions
---------
fit_self_consistency
    Fit ``M = tanh(beta (J_eff M + h + h_offset))`` (Curie-Weiss self-consistency) to one
    stationary ``M(h)`` curve: returns beta, J_eff, h_offset.
fit_meanfield
    The same for every temperature of a per-trial table, with jackknife intervals over trials.
susceptibility_from_fluctuations
    ``chi = N Var(M) / T`` (fluctuation-dissipation theorem).
susceptibility_from_slope
    ``chi = dM/dh`` by finite differences along the field axis.
critical_temperature_from_peak
    ``T_c`` as the (parabola-refined) maximum of ``N Var(|M|)`` against ``T``.
critical_temperature_from_inverse_susceptibility
    ``T_c`` as the zero of a straight line fitted to ``1/chi`` against ``T`` above ``T_c``
    (Curie-Weiss law ``chi = 1 / (T - T_c)``).
fit_relu
    ``slope max(0, x - threshold)`` by least squares (the quench response of THEORY.md section 5).
mean_field_parameters, fitted_mean_field_parameters
    ``beta, T, J``, field offset and central susceptibility read off a fitted derived
    activation (:class:`~neurophase.neurons.fit.ActivationFit`), in units of the drive.

Everything here is an ESTIMATE from simulated or recorded data; parameters DERIVED from a model
file are in :mod:`neurophase.mapping.coarse_graining`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from scipy import optimize

from neurophase.errors import ParameterError
from neurophase.statistics import trial_interval

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from neurophase.neurons.fit import ActivationFit, FittedParameter

__all__ = [
    "fit_self_consistency",
    "fit_meanfield",
    "susceptibility_from_fluctuations",
    "susceptibility_from_slope",
    "critical_temperature_from_peak",
    "critical_temperature_from_inverse_susceptibility",
    "mean_field_parameters",
    "fitted_mean_field_parameters",
    "fit_relu",
]

_CLIP = 1.0 - 1e-9


def fit_self_consistency(field: ArrayLike, magnetisation: ArrayLike,
                         initial: tuple[float, float, float] | None = None) -> dict[str, float]:
    """Fit ``M = tanh(beta (J_eff M + h + h_offset))`` to stationary points ``(h, M)``.

    The Curie-Weiss self-consistency equation (P. Weiss 1907, J. Phys. Theor. Appl. 6:661;
    H. E. Stanley 1971, Introduction to Phase Transitions and Critical Phenomena, Eq. 6.13)
    is linear in its parameters after ``artanh``: ``artanh M = a M + b h + c`` with
    ``beta = b``, ``J_eff = a / b``, ``h_offset = c / b``. The linear fit (weighted by
    ``(1 - M**2)**2``, the inverse variance of ``artanh M`` for equal errors in ``M``) gives
    the start; a nonlinear least-squares fit of the residual ``M - tanh(beta (J_eff M + h +
    h_offset))`` in ``M`` refines it. Works on any branch (also below ``T_c``), since the
    residual needs no solution of the self-consistency equation.

    Parameters
    ----------
    field : array_like, reduced units
        Fields ``h`` of the stationary points; at least 3 distinct values (non-finite points
        are dropped).
    magnetisation : array_like, dimensionless
        Stationary ``M`` at ``field`` (same number of points).
    initial : tuple of float or None, optional
        Starting ``(beta, J_eff, h_offset)``; default from the linear fit.

    Returns
    -------
    dict of str to float
        ``beta`` (1/field unit), ``J_eff``, ``h_offset`` and ``temperature`` (1/beta) in the
        field's unit, and ``rms_residual`` (in M).

    Examples
    --------
    >>> h = np.linspace(-1, 1, 9)
    >>> from scipy.optimize import brentq
    >>> M = np.array([brentq(lambda m: m - np.tanh((0.5 * m + x + 0.1) / 1.5), -1, 1) for x in h])
    >>> fit = fit_self_consistency(h, M)
    >>> [round(fit[key], 6) for key in ("beta", "J_eff", "h_offset")]
    [0.666667, 0.5, 0.1]
    """
    field = np.asarray(field, dtype=float).ravel()
    magnetisation = np.asarray(magnetisation, dtype=float).ravel()
    if field.shape != magnetisation.shape:
        raise ParameterError("field and magnetisation must have the same number of points.")
    good = np.isfinite(field) & np.isfinite(magnetisation)
    field, magnetisation = field[good], magnetisation[good]
    if np.unique(field).size < 3:
        raise ParameterError("The mean-field fit needs at least 3 distinct field values.")
    clipped = np.clip(magnetisation, -_CLIP, _CLIP)
    if initial is None:
        weight = (1 - clipped**2)
        design = np.column_stack([clipped, field, np.ones_like(field)]) * weight[:, None]
        (a, b, c), *_ = np.linalg.lstsq(design, np.arctanh(clipped) * weight, rcond=None)
        if b <= 0:
            b = 1.0 / max(np.ptp(field), 1e-12)
        initial = (b, a / b, c / b)

    def residual(parameters):
        beta, coupling, offset = parameters
        return magnetisation - np.tanh(beta * (coupling * magnetisation + field + offset))

    solution = optimize.least_squares(residual, np.asarray(initial, dtype=float), method="lm",
                                      xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=2000)
    beta, coupling, offset = solution.x
    return {
        "beta": float(beta),
        "J_eff": float(coupling),
        "h_offset": float(offset),
        "temperature": float(1.0 / beta) if beta != 0 else np.inf,
        "rms_residual": float(np.sqrt(np.mean(solution.fun**2))),
    }


def fit_meanfield(stationary_mean: xr.DataArray, confidence: float = 0.95) -> xr.Dataset:
    """Fit the self-consistency equation per temperature, with jackknife intervals over trials.

    Parameters
    ----------
    stationary_mean : xarray.DataArray
        Per-trial stationary ``M`` with dims ``input`` (the field, coordinate in reduced units)
        and ``trial``, optionally ``param_T``.
    confidence : float, optional
        Interval probability (:func:`neurophase.statistics.trial_interval`, a delete-one
        jackknife over trials); default 0.95.

    Returns
    -------
    xarray.Dataset
        ``beta``, ``J_eff``, ``h_offset`` and each ``*_ci_low`` / ``*_ci_high`` (over
        ``param_T`` if present); units "1".
    """
    for needed in ("input", "trial"):
        if needed not in stationary_mean.dims:
            raise ParameterError(f"fit_meanfield needs a {needed!r} dimension; got {stationary_mean.dims}.")
    data = stationary_mean if "param_T" in stationary_mean.dims else stationary_mean.expand_dims(param_T=[np.nan])
    names = ("beta", "J_eff", "h_offset")
    results = {name: [] for name in names}
    bounds = {name: ([], []) for name in names}
    field = data["input"].values
    for index in range(data.sizes["param_T"]):
        curve = data.isel(param_T=index)

        def statistic(mean, curve_field=field):
            fit = fit_self_consistency(curve_field, mean.transpose("input").values)
            return np.array([fit[name] for name in names])

        estimate, low, high = trial_interval(curve, statistic, confidence=confidence)
        for position, name in enumerate(names):
            results[name].append(estimate[position])
            bounds[name][0].append(low[position])
            bounds[name][1].append(high[position])
    variables = {}
    for name in names:
        variables[name] = xr.DataArray(results[name], dims=("param_T",), attrs={"units": "1"})
        variables[f"{name}_ci_low"] = xr.DataArray(bounds[name][0], dims=("param_T",), attrs={"units": "1"})
        variables[f"{name}_ci_high"] = xr.DataArray(bounds[name][1], dims=("param_T",), attrs={"units": "1"})
    result = xr.Dataset(variables, coords={"param_T": data["param_T"]})
    result.attrs["model"] = "M = tanh(beta (J_eff M + h + h_offset))"
    result.attrs["confidence"] = confidence
    if "param_T" not in stationary_mean.dims:
        result = result.isel(param_T=0, drop=True)
    return result


def susceptibility_from_fluctuations(variance: ArrayLike | xr.DataArray, temperature: ArrayLike | xr.DataArray,
                                     N: int | float) -> np.ndarray | xr.DataArray:
    """``chi = N Var(M) / T``: the fluctuation-dissipation theorem for ``M = (1/N) sum s_i``.

    With ``H = ... - h sum s_i``, ``d<M>/dh = beta N Var(M)`` (e.g. Stanley 1971, Eq. 3.27;
    Newman and Barkema 1999, Eq. 1.36).

    Parameters
    ----------
    variance : array_like or xarray.DataArray, dimensionless
        Stationary ``Var(M)``.
    temperature : array_like or xarray.DataArray, reduced units
        ``T`` (DataArrays align with ``variance`` by dimension name).
    N : int or float
        Number of channels.

    Returns
    -------
    numpy.ndarray or xarray.DataArray, reduced units (1 / energy)
        ``chi``, broadcast over the inputs (a DataArray if either input is one).

    Examples
    --------
    >>> float(susceptibility_from_fluctuations(0.001, 2.0, 1000))
    0.5
    """
    if isinstance(variance, xr.DataArray) or isinstance(temperature, xr.DataArray):
        return float(N) * variance / temperature  # xarray aligns by dimension name
    return np.asarray(N, dtype=float) * np.asarray(variance, dtype=float) / np.asarray(temperature, dtype=float)


def susceptibility_from_slope(field: ArrayLike, magnetisation: ArrayLike, axis: int = -1) -> np.ndarray:
    """``chi = dM/dh`` by second-order finite differences along ``axis`` (``numpy.gradient``).

    Parameters
    ----------
    field : array_like, reduced units
        The field values along ``axis`` (1-D, monotone).
    magnetisation : array_like, dimensionless
        ``M``, with the field axis at ``axis``.
    axis : int, optional
        The field axis of ``magnetisation``; default the last.

    Returns
    -------
    numpy.ndarray, 1 / field unit
        ``dM/dh``, the shape of ``magnetisation``.

    Examples
    --------
    >>> h = np.linspace(-0.1, 0.1, 5)
    >>> np.allclose(susceptibility_from_slope(h, 2 * h), 2.0)
    True
    """
    return np.gradient(np.asarray(magnetisation, dtype=float), np.asarray(field, dtype=float), axis=axis)


def critical_temperature_from_peak(temperature: ArrayLike, scaled_variance: ArrayLike) -> float:
    """``T`` at the maximum of ``N Var(|M|)``, refined by a parabola through the top 3 points.

    The finite-N peak lies within ``O(N**-1/2)`` of the Curie-Weiss ``T_c`` (the rounding scale
    of the transition; Botet, Jullien and Pfeuty 1982, Phys. Rev. Lett. 49:478).

    Parameters
    ----------
    temperature : array_like, reduced units
        Temperatures (any order; sorted here).
    scaled_variance : array_like
        ``N Var(|M|)`` at ``temperature`` (NaN ignored for the maximum).

    Returns
    -------
    float, reduced units
        The vertex of the parabola through the largest value and its neighbours (clipped to
        them), or the temperature of the largest value when it is at an end of the grid or the
        parabola does not open downwards.

    Examples
    --------
    >>> T = np.linspace(0.8, 1.2, 9)
    >>> round(critical_temperature_from_peak(T, -(T - 1.02) ** 2), 6)
    1.02
    """
    temperature = np.asarray(temperature, dtype=float)
    scaled_variance = np.asarray(scaled_variance, dtype=float)
    order = np.argsort(temperature)
    temperature, scaled_variance = temperature[order], scaled_variance[order]
    peak = int(np.nanargmax(scaled_variance))
    if peak == 0 or peak == temperature.size - 1:
        return float(temperature[peak])
    x = temperature[peak - 1: peak + 2]
    y = scaled_variance[peak - 1: peak + 2]
    curvature, slope, _ = np.polyfit(x, y, 2)
    if curvature >= 0:
        return float(temperature[peak])
    return float(np.clip(-slope / (2 * curvature), x[0], x[-1]))


def critical_temperature_from_inverse_susceptibility(temperature: ArrayLike,
                                                     susceptibility: ArrayLike) -> tuple[float, float]:
    """``T_c`` from the zero of a straight line fitted to ``1/chi`` against ``T`` (``T > T_c``).

    Curie-Weiss law ``chi = 1 / (T - T_c)`` (P. Weiss 1907; THEORY.md section 3), so ``1/chi``
    is linear in ``T`` with slope 1 and zero at ``T_c``.

    Parameters
    ----------
    temperature : array_like, reduced units
        Temperatures above ``T_c`` (at least 2).
    susceptibility : array_like, reduced units (1 / energy)
        ``chi`` at ``temperature``.

    Returns
    -------
    T_c : float, reduced units
        Zero of the fitted line.
    slope : float, dimensionless
        The fitted slope of ``1/chi`` against ``T`` (1 for the Curie-Weiss law).

    Examples
    --------
    >>> T = np.array([1.5, 2.0, 3.0])
    >>> [round(value, 9) for value in critical_temperature_from_inverse_susceptibility(T, 1 / (T - 1))]
    [1.0, 1.0]
    """
    temperature = np.asarray(temperature, dtype=float).ravel()
    inverse = 1.0 / np.asarray(susceptibility, dtype=float).ravel()
    slope, intercept = np.polyfit(temperature, inverse, 1)
    return float(-intercept / slope), float(slope)


def mean_field_parameters(theta: float, width: float, coupling_ratio: float,
                          drive_unit: str = "1") -> dict[str, FittedParameter]:
    """Mean-field parameters read off a fitted derived candidate, in units of the drive.

    These are ESTIMATES from firing data (a fit), not parameters derived from a model: any
    sigmoid-like family fits an f-I curve, so they do not test the mean-field claim; the
    derivation from a model file is :mod:`neurophase.mapping.coarse_graining`.

    The derived candidate r = r_max (1 + M)/2 with M = tanh(K M + (x - theta)/width) is the
    Curie-Weiss self-consistency M = tanh(beta (zJ M + h)) (THEORY.md section 3) read with the
    field measured in units of the drive, h = x - theta, so that

    * inverse temperature (gain) beta = 1/width (per drive unit), temperature T = width;
    * coupling zJ = K T = coupling_ratio * width (drive units), and T_c / T = K;
    * field offset: h = x - theta, i.e. the drive at which the membrane is unbiased is theta;
    * susceptibility at the centre chi(h = 0) = beta / (1 - K) = 1 / (T - zJ) (section 3).

    At K = 0 the candidate is the logistic r_max / (1 + exp(-(x - theta)/w)) with w = width/2
    (the factor 2 of p_open = logistic(2 beta h)).

    Parameters
    ----------
    theta, width : float, drive_unit
        Fitted values, numbers in ``drive_unit``.
    coupling_ratio : float, dimensionless
        Fitted K = zJ/T.
    drive_unit : str, optional
        Unit string of the drive (Brian2 syntax); default "1".

    Returns
    -------
    dict of str to FittedParameter
        ``name -> FittedParameter`` for ``beta``, ``temperature``, ``coupling``,
        ``field_offset`` and ``susceptibility_at_centre``.

    Examples
    --------
    >>> parameters = mean_field_parameters(100.0, 20.0, 0.5, "pA")
    >>> parameters["beta"].value, parameters["beta"].units
    (0.05, '1/pA')
    >>> parameters["coupling"].value, parameters["susceptibility_at_centre"].value
    (10.0, 0.1)
    """
    from neurophase.neurons.fit import FittedParameter, divide_units

    theta, width, coupling_ratio = float(theta), float(width), float(coupling_ratio)
    inverse_drive = divide_units("1", drive_unit, 1.0)
    return {
        "beta": FittedParameter(1.0 / width, inverse_drive),
        "temperature": FittedParameter(width, drive_unit),
        "coupling": FittedParameter(coupling_ratio * width, drive_unit),
        "field_offset": FittedParameter(-theta, drive_unit),
        "susceptibility_at_centre": FittedParameter(1.0 / (width * (1.0 - coupling_ratio)), inverse_drive),
    }


def fitted_mean_field_parameters(fit: ActivationFit) -> dict[str, FittedParameter]:
    """:func:`mean_field_parameters` of the derived candidate of a fitted ActivationFit.

    Parameters
    ----------
    fit : ActivationFit
        A fitted :class:`~neurophase.neurons.fit.ActivationFit`.

    Returns
    -------
    dict of str to FittedParameter
        As :func:`mean_field_parameters`, in the fit's drive unit; an empty dict if ``derived``
        was not a candidate (or the estimator is not fitted).

    Examples
    --------
    >>> from brian2 import pA, Hz
    >>> import numpy as np
    >>> from neurophase.neurons.fit import ActivationFit
    >>> x = np.linspace(0, 200, 21) * pA
    >>> y = 40 / (1 + np.exp(-(np.asarray(x / pA) - 100) / 10)) * Hz
    >>> fit = ActivationFit(candidates=("derived",), n_bootstrap=0).fit(x, y)
    >>> sorted(fitted_mean_field_parameters(fit))
    ['beta', 'coupling', 'field_offset', 'susceptibility_at_centre', 'temperature']
    """
    if "derived" not in getattr(fit, "params_", {}):
        return {}
    parameters = fit.params_["derived"]
    return mean_field_parameters(parameters["theta"].value, parameters["width"].value,
                                 parameters["coupling_ratio"].value, fit.drive_unit_)


def fit_relu(stimulus: ArrayLike, response: ArrayLike) -> tuple[float, float]:
    """Least-squares fit of ``response = slope max(0, stimulus - threshold)``.

    The quench response of THEORY.md section 5 (prediction P9). A straight line through the
    positive responses gives the start; Levenberg-Marquardt refines both parameters.

    Parameters
    ----------
    stimulus : array_like, stimulus units
        Stimulus strengths.
    response : array_like, response units
        Responses at ``stimulus``.

    Returns
    -------
    slope : float, response units per stimulus unit
        NaN with fewer than two positive responses.
    threshold : float, stimulus units
        NaN with fewer than two positive responses.

    Examples
    --------
    >>> x = np.linspace(0, 2, 9)
    >>> slope, threshold = fit_relu(x, 3 * np.maximum(0, x - 0.8))
    >>> round(slope, 6), round(threshold, 6)
    (3.0, 0.8)
    """
    stimulus = np.asarray(stimulus, dtype=float)
    response = np.asarray(response, dtype=float)
    positive = response > 0
    if positive.sum() < 2:
        return np.nan, np.nan
    slope, intercept = np.polyfit(stimulus[positive], response[positive], 1)
    start = np.array([slope, -intercept / slope if slope else np.median(stimulus)])

    def residual(parameters):
        return parameters[0] * np.maximum(0.0, stimulus - parameters[1]) - response

    solution = optimize.least_squares(residual, start, method="lm", xtol=1e-14, ftol=1e-14)
    return float(solution.x[0]), float(solution.x[1])
