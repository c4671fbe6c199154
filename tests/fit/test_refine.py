"""The fit's local refinement (CMA-ES) and its profile-likelihood intervals against closed forms.

CMA-ES (Hansen 2016, arXiv:1604.00772) must find the known minimum of a rotated, ill-conditioned
quadratic inside the unit cube (condition number 1e3: the tilted-valley shape of correlated
adaptation parameters); the profile interval of a parameter whose total squared z-score is
exactly ``((x - x0) / s)**2`` must be Wilks' ``x0 +- sqrt(chi2_1(0.95)) s`` up to the grid step.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from neurophase.fit.fitter import PROFILE_DELTA, ParameterRange, _profile_intervals
from neurophase.fit.refine import cma_ask, cma_done, cma_start, cma_tell


def _tilted_quadratic(points, centre, rotation, scales):
    shifted = (points - centre) @ rotation.T
    return np.sqrt(np.sum((shifted / scales) ** 2, axis=1))


def test_cma_es_finds_the_minimum_of_a_tilted_ill_conditioned_valley() -> None:
    centre = np.array([0.30, 0.70, 0.55])
    angle = np.pi / 5
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0],
                         [0.0, 0.0, 1.0]])
    scales = np.array([1.0, np.sqrt(1e-3), 0.3])  # condition number 1e3 in the rotated plane
    state = cma_start(np.array([0.8, 0.2, 0.9]), sigma0=0.1, seed=3, tolerance=1e-6)
    for _ in range(400):
        samples = cma_ask(state, 12)
        assert np.all((samples >= 0.0) & (samples <= 1.0))
        cma_tell(state, _tilted_quadratic(samples, centre, rotation, scales))
        if cma_done(state):
            break
    # the mean converges to the minimiser; 1e-3 in every coordinate is 1e3 times the step-size tolerance
    np.testing.assert_allclose(state.mean, centre, atol=1e-3)
    assert state.best_norm[-1] < 1e-2


def test_cma_es_is_reproducible_from_its_seed_and_different_for_another() -> None:
    def run(seed):
        state = cma_start(np.full(2, 0.5), sigma0=0.2, seed=seed)
        for _ in range(5):
            samples = cma_ask(state, 8)
            cma_tell(state, np.linalg.norm(samples - 0.2, axis=1))
        return state.mean
    np.testing.assert_array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


def test_profile_interval_is_wilks_interval_of_a_quadratic_chi_square() -> None:
    assert PROFILE_DELTA == pytest.approx(chi2.ppf(0.95, 1), rel=1e-12)
    x0, s = 12.0, 0.8
    grid = np.linspace(8.0, 16.0, 8001)  # step 0.001
    z2 = ((grid - x0) / s) ** 2 + 4.0   # offset: only differences from the minimum matter
    archive = {"values": grid[:, None], "sums": z2[:, None, None] / 2 * np.ones((1, 1, 2)),
               "diverged": np.zeros(grid.size, dtype=bool)}
    ranges = [ParameterRange("tau_m", 8.0, 16.0, "ms", "linear")]
    low, high = _profile_intervals(archive, ranges, {"tau_m": x0})["tau_m"]
    half = np.sqrt(chi2.ppf(0.95, 1)) * s   # 1.568
    assert low == pytest.approx(x0 - half, abs=1e-3)
    assert high == pytest.approx(x0 + half, abs=1e-3)
    # a diverged candidate never widens it, and the interval always holds the fitted value
    archive["diverged"][0] = True
    archive["sums"][0] = 0.0
    assert _profile_intervals(archive, ranges, {"tau_m": x0})["tau_m"] == pytest.approx((low, high))
    assert _profile_intervals(archive, ranges, {"tau_m": 15.0})["tau_m"][1] == 15.0
