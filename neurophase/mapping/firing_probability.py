"""Firing-probability and escape-rate estimators (fits to firing data, labelled as such).

Firing probability against pulse amplitude: a probit with a spontaneous floor and a lapse.

After a brief pulse of amplitude ``A`` a neurone with noisy channels fires with probability

    psi(A) = gamma + (1 - gamma) (1 - lambda) Phi((A - A50) / sigma)

where ``Phi`` is the standard normal distribution function, ``sigma`` the width (the quantity
THEORY.md 6b predicts to scale as ``N^(-1/2)``), ``gamma`` the probability of a spontaneous
spike in the counting window (independent of the pulse) and ``lambda`` the fraction of the
other trials that cannot respond at all (refractory after a spontaneous spike just before the
pulse). This is the psychometric function with guess and lapse rates of F. A. Wichmann &
N. J. Hill (2001), Percept. Psychophys. 63:1293, fitted by binomial maximum likelihood; the
intervals are profile-likelihood intervals (:func:`neurophase.statistics.profile_likelihood_interval`).
The width and threshold are ESTIMATED from firing data here (a fit, labelled as such), to be
compared with the values derived in :mod:`neurophase.mapping.channel_noise`.

Escape rate from first-passage times: every trial starts at rest and its first spike ends a
waiting time; a trial without a spike by the end is censored there. For exponential waiting
times the maximum-likelihood rate is ``events / exposure`` (exposure: the summed time at risk;
e.g. J. D. Kalbfleisch & R. L. Prentice 2002, *The Statistical Analysis of Failure Time Data*,
sec. 3.2), with the exact Poisson interval of F. Garwood (1936), Biometrika 28:437.

Functions
---------
fit_pulse_response
    Trials of 0/1 outcomes over amplitudes -> :class:`PulseResponseFit`.
pulse_response
    ``psi(A)`` for given parameters.
escape_rate
    First-spike times with censoring -> rate, interval, events, exposure.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

from neurophase.errors import ParameterError

__all__ = ["PulseResponseFit", "fit_pulse_response", "pulse_response", "escape_rate"]


def pulse_response(amplitudes: ArrayLike, threshold: float, width: float, floor: float = 0.0,
                   lapse: float = 0.0) -> np.ndarray:
    """``psi(A) = floor + (1 - floor)(1 - lapse) Phi((A - threshold)/width)``.

    Parameters
    ----------
    amplitudes : array_like, amplitude unit
        Pulse amplitudes as plain numbers.
    threshold, width : float, amplitude unit
        ``A50`` and ``sigma`` in the same unit.
    floor, lapse : float, dimensionless
        ``gamma`` and ``lambda``.

    Returns
    -------
    numpy.ndarray, dimensionless
        The firing probability at every amplitude.
    """
    amplitudes = np.asarray(amplitudes, dtype=float)
    return floor + (1.0 - floor) * (1.0 - lapse) * ndtr((amplitudes - threshold) / width)


@dataclasses.dataclass(frozen=True)
class PulseResponseFit:
    """Maximum-likelihood probit with floor and lapse (values in ``unit``; ``sigma`` > 0).

    Attributes
    ----------
    threshold, width, floor, lapse : float
        ``A50``, ``sigma`` (in ``unit``), ``gamma``, ``lambda``.
    threshold_interval, width_interval : tuple of float
        Profile-likelihood intervals (``inf`` where the data do not bound the parameter).
    confidence : float
        Their coverage.
    log_likelihood : float
        At the maximum (binomial, without the constant).
    trials : int
        Number of 0/1 outcomes used.
    unit : str
        Unit of the amplitudes.
    """

    threshold: float
    width: float
    floor: float
    lapse: float
    threshold_interval: tuple
    width_interval: tuple
    confidence: float
    log_likelihood: float
    trials: int
    unit: str

    def probability(self, amplitudes: ArrayLike) -> np.ndarray:
        """The fitted ``psi`` at ``amplitudes``.

        Parameters
        ----------
        amplitudes : array_like, unit
            Amplitudes as plain numbers in :attr:`unit`.

        Returns
        -------
        numpy.ndarray, dimensionless
            The fitted firing probability.
        """
        return pulse_response(amplitudes, self.threshold, self.width, self.floor, self.lapse)

    @property
    def bounded(self) -> bool:
        """True when the width interval is finite on both sides."""
        return bool(np.all(np.isfinite(self.width_interval)))


def fit_pulse_response(amplitudes: ArrayLike, fired: ArrayLike, unit: str = "1", floor: bool = True,
                       lapse: bool = True, confidence: float = 0.95) -> PulseResponseFit:
    """Fit ``psi(A)`` to 0/1 outcomes by binomial maximum likelihood, with profile intervals.

    Parameters
    ----------
    amplitudes : array_like, unit
        Pulse amplitudes (numbers in ``unit``), one per row of ``fired``.
    fired : array_like, dimensionless
        Outcomes, shape ``(amplitudes, trials)``: 1 fired, 0 not, NaN missing.
    unit : str
        Unit of the amplitudes (kept for the report).
    floor, lapse : bool
        Fit ``gamma`` and ``lambda`` (else they are 0).
    confidence : float, dimensionless
        Coverage of the profile-likelihood intervals.

    Returns
    -------
    PulseResponseFit

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> levels = np.linspace(0, 20, 21)
    >>> fired = rng.random((21, 200)) < 0.1 + 0.9 * ndtr((levels[:, None] - 10) / 2)
    >>> fit = fit_pulse_response(levels, fired, unit="uA/cm**2", lapse=False)
    >>> bool(fit.width_interval[0] < 2 < fit.width_interval[1]), round(fit.floor, 1)
    (True, 0.1)
    """
    from scipy import optimize

    from neurophase.statistics import profile_likelihood_interval

    levels = np.asarray(amplitudes, dtype=float).ravel()
    outcomes = np.asarray(fired, dtype=float)
    if outcomes.ndim == 1:
        outcomes = outcomes[:, None]
    if outcomes.shape[0] != levels.size:
        raise ParameterError(f"fired has {outcomes.shape[0]} rows for {levels.size} amplitudes.")
    finite = np.isfinite(outcomes)
    if np.any((outcomes[finite] != 0) & (outcomes[finite] != 1)):
        raise ParameterError("fired must hold 0/1 outcomes (NaN for a missing trial).")
    successes = np.where(finite, outcomes, 0.0).sum(axis=1)
    counts = finite.sum(axis=1).astype(float)
    keep = counts > 0
    levels, successes, counts = levels[keep], successes[keep], counts[keep]
    if levels.size < 3 or np.unique(levels).size < 3:
        raise ParameterError("A pulse-response fit needs outcomes at three or more amplitudes.")
    if successes.sum() == 0 or successes.sum() == counts.sum():
        raise ParameterError("Every trial fired, or none did: the amplitudes do not cover the transition.")
    span = float(np.ptp(levels))
    low_a, high_a = float(levels.min()) - span, float(levels.max()) + span
    log_low, log_high = math.log(span * 1e-4), math.log(span * 1e2)
    bounds = [(low_a, high_a), (log_low, log_high), (0.0, 0.999 if floor else 0.0),
              (0.0, 0.999 if lapse else 0.0)]

    def negative_log_likelihood(parameters):
        threshold, log_width, gamma, lam = parameters
        p = pulse_response(levels, threshold, math.exp(log_width), gamma, lam)
        p = np.clip(p, 1e-12, 1.0 - 1e-12)
        return -float(np.sum(successes * np.log(p) + (counts - successes) * np.log1p(-p)))

    rate = successes / counts
    base = float(rate[np.argmin(levels)]) if floor else 0.0
    top = float(rate[np.argmax(levels)])
    middle = base + 0.5 * (top - base)
    order = np.argsort(levels)
    crossing = levels[order][np.argmax(rate[order] >= middle)]
    starts = []
    for centre in (crossing, float(np.median(levels))):
        for width in (span / 20, span / 5, span / 50):
            starts.append([centre, math.log(width), min(base, 0.9) if floor else 0.0,
                           min(max(1.0 - top, 0.0), 0.9) if lapse else 0.0])
    best = None
    for start in starts:
        result = optimize.minimize(negative_log_likelihood, np.clip(start, [b[0] for b in bounds],
                                                                    [b[1] for b in bounds]),
                                   method="SLSQP", bounds=bounds)
        if best is None or result.fun < best.fun:
            best = result
    estimate = best.x
    free = [index for index, bound in enumerate(bounds) if bound[0] != bound[1]]

    def reduced(parameters):
        full = np.array([0.0, 0.0, 0.0, 0.0])
        full[free] = parameters
        return negative_log_likelihood(full)

    free_bounds = [bounds[i] for i in free]
    _, width_low, width_high = profile_likelihood_interval(reduced, estimate[free], free.index(1), confidence,
                                                           bounds=free_bounds)
    _, threshold_low, threshold_high = profile_likelihood_interval(reduced, estimate[free], free.index(0),
                                                                   confidence, bounds=free_bounds)

    def edge(value, bound):
        return value if np.isfinite(value) and abs(value - bound) > 1e-9 * max(1.0, abs(bound)) else (
            -np.inf if value <= bound else np.inf)

    width_interval = (math.exp(width_low) if np.isfinite(width_low) and width_low > log_low + 1e-9 else 0.0,
                      math.exp(width_high) if np.isfinite(width_high) and width_high < log_high - 1e-9 else np.inf)
    threshold_interval = (edge(threshold_low, low_a), edge(threshold_high, high_a))
    return PulseResponseFit(
        threshold=float(estimate[0]), width=math.exp(float(estimate[1])), floor=float(estimate[2]),
        lapse=float(estimate[3]), threshold_interval=threshold_interval, width_interval=width_interval,
        confidence=float(confidence), log_likelihood=-float(best.fun), trials=int(counts.sum()), unit=str(unit))


def escape_rate(first_spike_times: ArrayLike, duration: float,
                confidence: float = 0.95) -> tuple[float, float, float, float, float]:
    """Escape rate from first-spike times of trials censored at ``duration``.

    Parameters
    ----------
    first_spike_times : array_like, time unit
        Time of the first spike of every trial from its start (NaN: no spike by ``duration``),
        in any time unit; the rate is per that unit.
    duration : float, time unit
        Length of every trial, same unit.
    confidence : float, dimensionless
        Coverage of the Garwood interval.

    Returns
    -------
    rate, low, high : float, 1/time unit
        ``events / exposure`` and its exact Poisson interval.
    events : float, dimensionless
        The number of trials with a spike.
    exposure : float, time unit
        The summed time at risk.

    Examples
    --------
    >>> rate, low, high, events, exposure = escape_rate([1.0, 3.0, float("nan")], 4.0)
    >>> rate, events, exposure
    (0.25, 2.0, 8.0)
    """
    from scipy.stats import chi2

    times = np.asarray(first_spike_times, dtype=float).ravel()
    duration = float(duration)
    if not duration > 0:
        raise ParameterError(f"duration must be positive; got {duration}.")
    fired = np.isfinite(times)
    if np.any(times[fired] < 0) or np.any(times[fired] > duration * (1 + 1e-12)):
        raise ParameterError("first-spike times must lie between 0 and the trial duration.")
    events = float(np.count_nonzero(fired))
    exposure = float(np.sum(np.where(fired, times, duration)))
    if exposure <= 0:
        raise ParameterError("The trials have no time at risk.")
    low = chi2.ppf((1 - confidence) / 2, 2 * events) / 2 if events > 0 else 0.0
    high = chi2.ppf((1 + confidence) / 2, 2 * events + 2) / 2
    return events / exposure, float(low) / exposure, float(high) / exposure, events, exposure
