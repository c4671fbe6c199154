"""Local refinement of a fit: a batched CMA-ES in the unit cube, started at the best candidate.

NSGA-II (:mod:`neurophase.fit.fitter`) explores the whole parameter box and keeps the trade-offs
between objective groups, but its simulated-binary crossover and polynomial mutation do not
converge to the minimum of a narrow, tilted valley (correlated parameters, e.g. the adaptation
``a``, ``b`` and ``tau_w`` of AdEx) within a few dozen generations. The refinement minimises the
quantity the fit selects by, the Euclidean norm of the objective vector, from the best candidate
NSGA-II found, with the covariance matrix adaptation evolution strategy.

Method
    CMA-ES with weighted recombination, cumulative step-size adaptation and rank-one plus rank-mu
    covariance update, with the default constants of Hansen (2016), "The CMA Evolution Strategy:
    A Tutorial", arXiv:1604.00772, Table 1 and Fig. 7 (positive weights only). The population
    (lambda) is the fit's population, so every iteration is one run of the fit's
    :class:`~neurophase.micro.replay.ReplayNetwork`, as a generation is. The search starts at
    the candidate of smallest objective norm with step size ``sigma0`` (in unit-cube
    coordinates) and the identity covariance. Samples outside the cube are projected onto it and
    the projected points enter the update (repair by projection, Hansen 2016, appendix B.3).

Stopping
    After ``iterations`` iterations, or when ``sigma`` times the largest standard deviation of
    the sampling distribution falls below ``tolerance`` (unit-cube coordinates), or when the
    best norms of the last ``10 + ceil(30 n / lambda)`` iterations all lie within a relative
    1e-6 of each other (Hansen's TolHistFun, 2016, appendix B.3: the search has flattened). A
    window without improvement is not a reason to stop: while the distribution turns into a
    tilted valley the best norm can stay flat for a dozen iterations and then fall (measured on
    the test function of tests/fit/test_refine.py: an 8-iteration no-improvement rule stopped
    two of five seeds far from the minimum).

State
    :class:`CMAState` is plain numpy arrays, numbers and a numpy random generator, so it is
    pickled into the fit's checkpoint after every iteration and a resumed refinement draws the
    same samples as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["CMAState", "cma_start", "cma_ask", "cma_tell", "cma_done"]

#: Relative spread of the best norms over the history window below which the search stops.
FLAT_TOLERANCE = 1e-6


@dataclasses.dataclass
class CMAState:
    """The state of one CMA-ES run (Hansen 2016 notation).

    Attributes
    ----------
    mean : numpy.ndarray, unit-cube coordinates
        Mean ``m`` of the sampling distribution.
    sigma : float, unit-cube coordinates
        Step size.
    covariance : numpy.ndarray
        ``C`` (dimensionless; the sampling covariance is ``sigma**2 C``).
    path_sigma, path_c : numpy.ndarray
        Evolution paths ``p_sigma`` and ``p_c``.
    iteration : int
        Iterations told so far.
    best_norm : list of float
        Best objective norm of every iteration.
    random : numpy.random.Generator
        Draws the samples.
    tolerance : float, unit-cube coordinates
        Stop when ``sigma * sqrt(max diag C)`` is below it.
    samples : numpy.ndarray or None, unit-cube coordinates
        The points of the last :func:`cma_ask`, until :func:`cma_tell` uses them.
    population : int
        Samples per iteration (lambda), set by :func:`cma_tell`.
    """

    mean: np.ndarray
    sigma: float
    covariance: np.ndarray
    path_sigma: np.ndarray
    path_c: np.ndarray
    iteration: int
    best_norm: list
    random: np.random.Generator
    tolerance: float
    samples: np.ndarray | None = None
    population: int = 0


def _constants(n, lam):
    """Default strategy parameters of Hansen 2016, Table 1 (positive recombination weights)."""
    mu = lam // 2
    weights = np.log((lam + 1) / 2.0) - np.log(np.arange(1, mu + 1))
    weights /= weights.sum()
    mu_eff = 1.0 / np.sum(weights ** 2)
    c_sigma = (mu_eff + 2.0) / (n + mu_eff + 5.0)
    d_sigma = 1.0 + 2.0 * max(0.0, np.sqrt((mu_eff - 1.0) / (n + 1.0)) - 1.0) + c_sigma
    c_c = (4.0 + mu_eff / n) / (n + 4.0 + 2.0 * mu_eff / n)
    c_1 = 2.0 / ((n + 1.3) ** 2 + mu_eff)
    c_mu = min(1.0 - c_1, 2.0 * (mu_eff - 2.0 + 1.0 / mu_eff) / ((n + 2.0) ** 2 + mu_eff))
    chi_n = np.sqrt(n) * (1.0 - 1.0 / (4.0 * n) + 1.0 / (21.0 * n ** 2))  # E||N(0, I)||
    return mu, weights, mu_eff, c_sigma, d_sigma, c_c, c_1, c_mu, chi_n


def cma_start(mean: np.ndarray, sigma0: float, seed: int, tolerance: float = 1e-4) -> CMAState:
    """A CMA-ES state at ``mean`` with step size ``sigma0`` and identity covariance.

    Parameters
    ----------
    mean : numpy.ndarray, unit-cube coordinates
        Start (the best candidate so far).
    sigma0 : float, unit-cube coordinates
        Initial step size.
    seed : int
        Seeds the sample generator.
    tolerance : float, unit-cube coordinates
        Stopping step size (module docstring).

    Returns
    -------
    CMAState
        Iteration 0.
    """
    mean = np.asarray(mean, dtype=float).copy()
    n = mean.size
    return CMAState(mean=mean, sigma=float(sigma0), covariance=np.eye(n), path_sigma=np.zeros(n),
                    path_c=np.zeros(n), iteration=0, best_norm=[], random=np.random.default_rng(seed),
                    tolerance=float(tolerance))


def cma_ask(state: CMAState, lam: int) -> np.ndarray:
    """``lam`` samples ``m + sigma N(0, C)``, projected onto the unit cube.

    Parameters
    ----------
    state : CMAState
        The search state (its generator advances; the samples are kept for :func:`cma_tell`).
    lam : int
        Number of samples (the fit's population).

    Returns
    -------
    numpy.ndarray, unit-cube coordinates
        ``(lam, n)`` points in [0, 1].
    """
    n = state.mean.size
    eigenvalues, basis = np.linalg.eigh(state.covariance)
    root = basis * np.sqrt(np.maximum(eigenvalues, 0.0))
    normal = state.random.standard_normal((lam, n))
    state.samples = np.clip(state.mean + state.sigma * normal @ root.T, 0.0, 1.0)
    return state.samples.copy()


def cma_tell(state: CMAState, norms: np.ndarray) -> None:
    """Update the distribution with the objective norms of the last :func:`cma_ask` samples.

    Hansen 2016, Fig. 7: weighted recombination of the best half, cumulative step-size
    adaptation, rank-one and rank-mu covariance update (with the stall indicator ``h_sigma``).

    Parameters
    ----------
    state : CMAState
        Updated in place.
    norms : numpy.ndarray, dimensionless
        One objective norm per sample (``inf`` for a diverged simulation).
    """
    samples = state.samples
    lam, n = samples.shape
    mu, weights, mu_eff, c_sigma, d_sigma, c_c, c_1, c_mu, chi_n = _constants(n, lam)
    order = np.argsort(norms, kind="stable")[:mu]
    steps = (samples[order] - state.mean) / state.sigma  # y_i:lambda
    step = weights @ steps  # <y>_w
    eigenvalues, basis = np.linalg.eigh(state.covariance)
    eigenvalues = np.maximum(eigenvalues, 1e-300)
    inverse_root = basis @ np.diag(1.0 / np.sqrt(eigenvalues)) @ basis.T
    state.mean = state.mean + state.sigma * step
    state.path_sigma = ((1.0 - c_sigma) * state.path_sigma
                        + np.sqrt(c_sigma * (2.0 - c_sigma) * mu_eff) * inverse_root @ step)
    length = np.linalg.norm(state.path_sigma)
    generation = state.iteration + 1
    h_sigma = float(length / np.sqrt(1.0 - (1.0 - c_sigma) ** (2 * generation)) < (1.4 + 2.0 / (n + 1.0)) * chi_n)
    state.path_c = (1.0 - c_c) * state.path_c + h_sigma * np.sqrt(c_c * (2.0 - c_c) * mu_eff) * step
    rank_mu = (steps * weights[:, None]).T @ steps
    state.covariance = ((1.0 - c_1 - c_mu + (1.0 - h_sigma) * c_1 * c_c * (2.0 - c_c)) * state.covariance
                        + c_1 * np.outer(state.path_c, state.path_c) + c_mu * rank_mu)
    state.covariance = (state.covariance + state.covariance.T) / 2.0
    state.sigma = float(state.sigma * np.exp(min(1.0, c_sigma / d_sigma * (length / chi_n - 1.0))))
    state.iteration = generation
    state.population = lam
    state.best_norm.append(float(np.min(norms)))
    state.samples = None


def cma_done(state: CMAState) -> bool:
    """True when the step size fell below its tolerance or the best norms have flattened.

    Parameters
    ----------
    state : CMAState
        The search state.

    Returns
    -------
    bool
        ``sigma sqrt(max diag C) < tolerance``, or the best norms of the last
        ``10 + ceil(30 n / lambda)`` iterations within a relative :data:`FLAT_TOLERANCE` of each
        other (module docstring, Stopping).
    """
    if state.sigma * np.sqrt(np.max(np.diag(state.covariance))) < state.tolerance:
        return True
    window = 10 + int(np.ceil(30.0 * state.mean.size / max(state.population, 1)))
    best = np.asarray(state.best_norm[-window:], dtype=float)
    if len(state.best_norm) < window or not np.all(np.isfinite(best)):
        return False
    return bool(best.max() - best.min() <= FLAT_TOLERANCE * max(abs(best.min()), 1e-300))
