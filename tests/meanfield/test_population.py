"""The model-free population mean field against the Curie-Weiss closed forms.

With ``phi(mu) = r_max / (1 + exp(-mu / T))`` and no noise dependence, ``r = F(r)`` is exactly the
Curie-Weiss self-consistency ``M = tanh(beta (J M + h))`` (``M = 2 r / r_max - 1``,
``J = a w r_max / 2``, ``h = mu_ext + J``, temperature ``2 T``): cusp at ``w_c = 4 T / (a r_max)``,
``mu_c = -2 T``, ``r_c = r_max / 2``, folds at ``mu_ext = -J -+ h_c(2T, J)`` with the coercive field
of THEORY.md section 3 (:func:`neurophase.meanfield.coercive_field`).
"""

import math

import numpy as np
import pytest

from neurophase.meanfield import coercive_field
from neurophase.meanfield.population import RateMap, binned_variance_factor

R_MAX, T, A = 100.0, 0.5, 0.02


def logistic_map():
    phi = lambda mean, std, filtered: R_MAX / (1 + np.exp(-np.asarray(mean) / T))  # noqa: E731
    return RateMap(phi, mean_gain=A, variance_gain=0.0, noise=1.0, rate_max=R_MAX,
                   drive_bounds=(-60.0, 60.0))


def test_cusp_is_the_curie_weiss_critical_point():
    cusp = logistic_map().cusp((1.0, 2.0))
    assert cusp.coupling == pytest.approx(4 * T / (A * R_MAX), rel=1e-7)
    assert cusp.drive == pytest.approx(-2 * T, abs=1e-6)
    assert cusp.rate == pytest.approx(R_MAX / 2, rel=1e-5)
    assert cusp.slope == pytest.approx(1.0, abs=1e-7)


@pytest.mark.parametrize("factor", [1.25, 2.0])
def test_folds_are_the_coercive_field(factor):
    rate_map = logistic_map()
    w = factor * 4 * T / (A * R_MAX)
    J = A * w * R_MAX / 2
    h_c = float(coercive_field(2 * T, J))
    low, high = rate_map.bistable_range(w)
    assert low == pytest.approx(-J - h_c, abs=1e-6)
    assert high == pytest.approx(-J + h_c, abs=1e-6)
    # at h = 0 (mu = -J) three fixed points, the middle one unstable at r_max / 2
    points = rate_map.fixed_points(w, -J)
    assert [p.stable for p in points] == [True, False, True]
    assert points[1].rate == pytest.approx(R_MAX / 2, rel=1e-9)
    # the upper state is the spontaneous magnetisation M0 with M0 = tanh(J M0 / 2T)
    m0 = points[2].rate * 2 / R_MAX - 1
    assert m0 == pytest.approx(math.tanh(J * m0 / (2 * T)), abs=1e-9)


def test_below_the_cusp_one_stable_fixed_point_and_slowing_down():
    rate_map = logistic_map()
    w_c = 4 * T / (A * R_MAX)
    assert rate_map.bistable_range(0.8 * w_c) is None
    drive, rate = rate_map.widom_point(0.8 * w_c)
    assert rate == pytest.approx(R_MAX / 2, rel=1e-5)        # h = 0 line: M = 0
    assert drive == pytest.approx(-A * 0.8 * w_c * R_MAX / 2, abs=1e-6)
    # F'(r) at M = 0 is T_c / T_ising = w / w_c, so the relaxation time is tau / (1 - w/w_c)
    for fraction in (0.5, 0.8, 0.95):
        w = fraction * w_c
        slope = float(rate_map.slope(R_MAX / 2, w, -A * w * R_MAX / 2))
        assert slope == pytest.approx(fraction, rel=1e-6)


def test_stable_branch_follows_the_flow():
    rate_map = logistic_map()
    w = 2 * 4 * T / (A * R_MAX)
    J = A * w * R_MAX / 2
    assert rate_map.stable_branch(w, -J, 0.0).rate < R_MAX / 2
    assert rate_map.stable_branch(w, -J, R_MAX).rate > R_MAX / 2


def test_binned_variance_factor_closed_forms():
    assert binned_variance_factor(0.0, 0.1, 0.02) == pytest.approx(1.0, rel=1e-6)
    # long bins: 1/(1 - F')^2 (fluctuation-dissipation)
    assert binned_variance_factor(0.6, 500.0, 0.02) == pytest.approx(1 / 0.4**2, rel=2e-3)
    # first-order low-pass, no delay: 1 + c Delta Var_Delta[OU] with lambda = 1 - F',
    # c = 1 - lambda^2 and an OU autocovariance exp(-|t| lambda/tau) / (2 lambda tau)
    for slope, delta, tau in ((0.5, 0.1, 0.02), (0.9, 0.05, 0.02), (-0.5, 0.01, 0.005)):
        lam = 1 - slope
        tau_c = tau / lam
        ou = (tau_c * delta - tau_c**2 * (1 - math.exp(-delta / tau_c))) / (lam * tau * delta**2)
        expected = 1 + (1 - lam**2) * delta * ou
        assert binned_variance_factor(slope, delta, tau) == pytest.approx(expected, rel=2e-4)


def test_loop_gain_predicts_how_far_a_transfer_error_moves_the_fixed_point():
    """A network whose transfer is F(r) - delta settles at r* - delta / (1 - F'(r*)) to first
    order; the residual is second order in delta (checked for two errors of 1 % and 2 % of r*)."""
    rate_map = logistic_map()
    w = 0.8 * 4 * T / (A * R_MAX)
    drive = -0.75                      # 0.05 above the Widom point (-0.8), where F'' != 0
    [point] = rate_map.fixed_points(w, drive)
    gain = float(rate_map.loop_gain(point.rate, w, drive))
    assert gain == pytest.approx(1.0 / (1.0 - point.slope), rel=1e-6)
    assert gain > 3.0                                     # near the cusp the loop amplifies
    shifts = []
    for fraction in (0.01, 0.02):
        delta = fraction * point.rate
        from scipy.optimize import brentq

        moved = brentq(lambda r: float(rate_map.value(r, w, drive)) - delta - r, 0.5 * point.rate, point.rate)
        # the open-loop value at the moved fixed point shows the transfer's error itself
        assert float(rate_map.value(moved, w, drive)) - moved == pytest.approx(delta, rel=1e-9)
        shifts.append((moved - point.rate) / (-delta * gain))
    # first order: the ratio is 1 + O(delta); halving delta halves the deviation from 1
    assert shifts[0] == pytest.approx(1.0, abs=0.05)
    assert abs(shifts[1] - 1.0) == pytest.approx(2 * abs(shifts[0] - 1.0), rel=0.2)
