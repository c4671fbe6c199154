"""Verdicts from a fitted :class:`~neurophase.neurons.fit.ActivationFit`.

Functions
---------
heldout_difference
    Paired difference of held-out mean squared error between two candidates, with its
    standard error (the folds are shared, so the comparison is point by point).
derived_versus_best_verdict
    Prediction C4: the derived activation predicts held-out data no worse than the best of the
    standard families.
onset_exponent_verdict
    Prediction C1: the onset exponent p of the rectified power law equals the mean-field
    order-parameter exponent 1/2 (class-1 neurones, Ermentrout 1996).
heldout_excess
    Held-out RMSE of one candidate minus the smallest of all candidates, with a paired
    bootstrap interval over points (C4 on simulations, C5 on recordings).

These verdicts compare FITTED families: any sigmoid-like family fits an f-I curve, so they test
which shape describes the data, not that the mean-field parameters are right.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import norm

from neurophase.check.verdicts import Verdict, make_verdict
from neurophase.errors import NeurophaseError, ParameterError

if TYPE_CHECKING:
    import xarray as xr

    from neurophase.neurons.fit import ActivationFit

__all__ = ["heldout_difference", "derived_versus_best_verdict", "onset_exponent_verdict", "heldout_excess"]


def _require_fitted(fit, *candidates):
    if not hasattr(fit, "heldout_errors_"):
        raise NeurophaseError("The ActivationFit is not fitted yet: call .fit(data) first.")
    for candidate in candidates:
        if candidate not in fit.params_:
            raise ParameterError(
                f"Candidate {candidate!r} was not fitted (fitted: {list(fit.params_)}); include it in "
                "ActivationFit(candidates=...)."
            )


def heldout_difference(fit: ActivationFit, candidate: str, reference: str) -> tuple[float, float]:
    """Mean over points of (held-out squared error of ``candidate`` minus that of ``reference``).

    Every point was held out once, in the same fold for every candidate, so the differences
    d_i are paired; their mean estimates the difference of expected held-out MSE and its
    standard error is sd(d)/sqrt(n) (the paired comparison of predictive accuracy of
    Diebold & Mariano 1995, with independent points).

    Parameters
    ----------
    fit : ActivationFit
        A fitted estimator with both candidates.
    candidate, reference : str
        Candidate names; the difference is ``candidate - reference``.

    Returns
    -------
    mean : float
        Mean paired difference, in ``fit.heldout_errors_.attrs["units"]`` (response unit squared).
    standard_error : float
        ``sd(d)/sqrt(n)``, same unit.

    Raises
    ------
    NeurophaseError
        If ``fit`` is not fitted.
    ParameterError
        If a candidate was not fitted, or fewer than two held-out errors are finite.
    """
    _require_fitted(fit, candidate, reference)
    errors = fit.heldout_errors_
    difference = np.asarray(errors.sel(candidate=candidate) - errors.sel(candidate=reference), dtype=float)
    difference = difference[np.isfinite(difference)]
    if difference.size < 2:
        raise ParameterError("Held-out errors are missing (too few points for cross-validation).")
    return float(difference.mean()), float(difference.std(ddof=1) / math.sqrt(difference.size))


def derived_versus_best_verdict(fit: ActivationFit, id: str = "C4", confidence: float | None = None,
                                note: str = "") -> Verdict:
    """C4: is the derived activation significantly worse, on held-out data, than the best rival?

    The measured value is the paired difference of held-out MSE (:func:`heldout_difference`)
    between ``derived`` and the standard candidate with the smallest held-out RMSE, with a
    normal confidence interval. The expected value is 0 and the verdict holds when the
    interval's lower end is <= 0: the derived family is not significantly worse (it may be
    better, which also counts as agreement).

    Parameters
    ----------
    fit : ActivationFit
        Fitted with ``"derived"`` and at least one other candidate.
    id : str, optional
        Verdict id; default "C4".
    confidence : float or None, optional
        Level of the normal interval ``mean +- z se``; default ``fit.confidence``.
    note : str, optional
        The verdict's note; default the number of points, folds and the best candidate.

    Returns
    -------
    Verdict
        Expected 0, measured the mean difference (response unit squared), with the normal
        interval; ``holds`` when its lower end is <= 0.
    """
    _require_fitted(fit, "derived")
    rivals = [name for name in fit.params_ if name != "derived"]
    if not rivals:
        raise ParameterError("C4 needs at least one standard candidate besides 'derived'.")
    heldout = fit.scores_["heldout_rmse"]
    rival = min(rivals, key=lambda name: float(heldout.sel(candidate=name)))
    mean, standard_error = heldout_difference(fit, "derived", rival)
    level = float(fit.confidence if confidence is None else confidence)
    half_width = norm.ppf(0.5 + level / 2) * standard_error
    unit = fit.heldout_errors_.attrs["units"]
    return Verdict(
        id=id,
        quantity=f"held-out MSE of derived minus {rival} ({unit})",
        expected=0.0, measured=mean, ci_low=mean - half_width, ci_high=mean + half_width,
        holds=bool(mean - half_width <= 0.0),
        criterion=f"derived not significantly worse: lower end of the {100 * level:g}% interval <= 0",
        note=note or f"{fit.n_points_} points, {fit.folds}-fold cross-validation; best overall: {fit.best_}",
    )


def onset_exponent_verdict(fit: ActivationFit, expected: float = 0.5, id: str = "C1", tolerance: float | None = None,
                           note: str = "") -> Verdict:
    """C1: the power-law onset exponent p of r = a max(0, x - theta)^p against ``expected``.

    Mean-field order-parameter exponent beta = 1/2 (THEORY.md section 4); for a class-1
    (saddle-node on invariant circle) neurone f ~ (I - I_c)^(1/2) (Ermentrout & Kopell 1986;
    Ermentrout 1996). The interval is the bootstrap percentile interval of the fit.

    Parameters
    ----------
    fit : ActivationFit
        Fitted with the ``"power_law"`` candidate.
    expected : float, optional, dimensionless
        The predicted exponent; default 1/2.
    id : str, optional
        Verdict id; default "C1".
    tolerance : float or None, optional
        Absolute tolerance on the exponent (see :func:`~neurophase.check.verdicts.make_verdict`,
        default rule); None: expected inside the interval.
    note : str, optional
        The verdict's note; default the number of points, replicates and the best candidate.

    Returns
    -------
    Verdict
        Expected ``expected``, measured the fitted exponent, with its bootstrap interval.

    Examples
    --------
    >>> from brian2 import pA, Hz
    >>> current = np.linspace(0, 200, 41) * pA
    >>> rate = 6 * np.sqrt(np.maximum(0, np.asarray(current / pA) - 50)) * Hz
    >>> from neurophase.neurons.fit import ActivationFit
    >>> fit = ActivationFit(candidates=("power_law",), n_bootstrap=20).fit(current, rate)
    >>> verdict = onset_exponent_verdict(fit, tolerance=0.02)
    >>> verdict.holds, round(verdict.measured, 6)
    (True, 0.5)
    """
    _require_fitted(fit, "power_law")
    exponent = fit.params_["power_law"]["exponent"].value
    low, high = fit.param_ci_["power_law"]["exponent"]
    return make_verdict(
        id, "onset exponent p of a max(0, x - theta)^p", expected, exponent, low, high,
        tolerance=tolerance,
        note=note or f"{fit.n_points_} points, {fit.n_bootstrap} bootstrap replicates; best overall: {fit.best_}",
    )


def heldout_excess(heldout_errors: xr.DataArray, candidate: str = "derived", n_resamples: int = 2000,
                   confidence: float = 0.95, random_state: int = 0) -> tuple[float, float, float]:
    """Held-out RMSE of ``candidate`` minus the smallest held-out RMSE of all candidates.

    The points were held out in the same folds for every candidate, so they are resampled
    together (a paired percentile bootstrap over points, :func:`neurophase.statistics.bootstrap_interval`;
    Efron & Tibshirani 1993, ch. 13). The statistic is >= 0 by construction, so the interval
    contains 0 only when the candidate is the best in a fair share of resamples.

    Parameters
    ----------
    heldout_errors : xarray.DataArray
        Squared held-out errors, dims ``(candidate, point)`` (``ActivationFit.heldout_errors_``).
    candidate : str, optional
        The candidate whose excess is measured; default "derived".
    n_resamples : int, optional
        Bootstrap resamples of the points; default 2000.
    confidence : float, optional
        Central probability of the interval; default 0.95.
    random_state : int, optional
        Seeds the resampling; default 0.

    Returns
    -------
    excess, low, high : float
        Point estimate and percentile interval, in the units of the response (all NaN when
        ``candidate`` is not among the candidates).

    Examples
    --------
    >>> import xarray as xr
    >>> errors = xr.DataArray([[1.0, 1.0, 4.0], [4.0, 4.0, 4.0]], dims=("candidate", "point"),
    ...                       coords={"candidate": ["derived", "relu"]})
    >>> float(heldout_excess(errors)[0])
    0.0
    """
    from neurophase.statistics import bootstrap_interval

    names = [str(name) for name in heldout_errors["candidate"].values]
    if candidate not in names:
        return math.nan, math.nan, math.nan
    index = names.index(candidate)

    def excess(matrix, axis=-1):
        rmse = np.sqrt(np.mean(matrix, axis=axis))
        return rmse[..., index] - rmse.min(axis=-1)

    estimate, low, high = bootstrap_interval(np.asarray(heldout_errors.values, dtype=float), excess,
                                             confidence=confidence, n_resamples=n_resamples,
                                             method="percentile", seed=random_state, paired=True)
    return float(estimate), float(low), float(high)

