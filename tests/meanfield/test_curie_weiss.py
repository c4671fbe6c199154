"""Curie-Weiss statics against closed forms, analytic limits and an exact finite-N enumeration.

Reduced units throughout (T, h, J in one energy unit). No randomness except the hypothesis
property tests, whose assertions hold for every drawn value.
"""

import numpy as np
import pytest
from brian2 import ms, mV
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import gammaln

from neurophase.errors import ParameterError, UnitMismatchError
from neurophase.meanfield import (
    branches,
    coercive_field,
    critical_isotherm,
    critical_temperature,
    finite_size_variance,
    fit_power_law,
    free_energy,
    landau_free_energy,
    magnetisation,
    relaxation_time,
    spontaneous_magnetisation,
    susceptibility,
)


# ---------------------------------------------------------------------------------------------
# coercive field and branch structure
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("J, z", [(1.0, 1), (0.25, 4), (2.0, 1)])
def test_coercive_field_at_half_critical_temperature_is_0_2664_zJ(J, z):
    # THEORY.md section 3: h_c(T_c/2) = 0.2664 zJ (sqrt(1/2) - artanh(sqrt(1/2))/2 = 0.266419...).
    critical = z * J
    assert round(float(coercive_field(critical / 2, J, z)) / critical, 4) == 0.2664
    closed_form = np.sqrt(0.5) - 0.5 * np.arctanh(np.sqrt(0.5))
    assert abs(float(coercive_field(critical / 2, J, z)) / critical - closed_form) < 1e-14


@pytest.mark.parametrize("T", [0.1, 0.5, 0.9, 0.99])
def test_three_roots_exactly_inside_the_coercive_field(T):
    # The branch structure changes at the spinodal: 3 roots (2 stable) for |h| < h_c, 1 outside.
    # 1e-6 relative margins are far outside the bisection precision (1e-15).
    field = float(coercive_field(T, 1.0))
    fields = np.array([-1.001, -0.999, 0.0, 0.999, 1.001]) * field
    roots, stable = branches(T, fields, 1.0)
    assert np.isfinite(roots).sum(axis=-1).tolist() == [1, 3, 3, 3, 1]
    assert stable.sum(axis=-1).tolist() == [1, 2, 2, 2, 1]


def test_zero_temperature_limit_is_the_sign_function():
    # T = 0: M = sign(zJ M + h): +-1 both for |h| < zJ, the middle branch is the T -> 0 limit -h/zJ.
    roots, stable = branches(0.0, np.array([-2.0, -0.5, 0.0, 0.5, 2.0]), 1.0)
    np.testing.assert_array_equal(roots[0], [-1.0, np.nan, np.nan])
    np.testing.assert_array_equal(roots[1], [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(roots[2], [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(stable[2], [True, False, True])
    np.testing.assert_array_equal(roots[4], [1.0, np.nan, np.nan])
    np.testing.assert_array_equal(magnetisation(0.0, [-0.3, 0.0, 0.3], 1.0), [-1.0, 1.0, 1.0])
    # J = 0, T = 0: the Heaviside / sign limit of tanh(h/T), with tanh(0) = 0 at h = 0
    np.testing.assert_array_equal(magnetisation(0.0, [-0.3, 0.0, 0.3], 0.0), [-1.0, 0.0, 1.0])
    # and a tiny positive T agrees with it away from h = 0 (error < 2 exp(-2 |h|/T))
    np.testing.assert_allclose(magnetisation(1e-3, [-0.3, 0.3], 0.0), [-1.0, 1.0], atol=2 * np.exp(-600))


def test_independent_channels_give_tanh():
    T = np.array([0.1, 1.0, 3.0])[:, None]
    h = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(magnetisation(T, h, 0.0), np.tanh(h / T), rtol=0, atol=1e-14)


def test_branches_satisfy_self_consistency_to_1e_10():
    T = np.array([1e-3, 0.2, 0.5, 0.999999, 1.0, 1.000001, 1.5, 5.0])[:, None, None]
    h = np.array([-1.0, -0.2, -1e-6, 0.0, 1e-6, 0.05, 0.3, 2.0])[None, :, None]
    J = np.array([0.0, 0.5, 1.0])[None, None, :]
    roots, stable = branches(T, h, J)
    assert roots.shape == (8, 8, 3, 3)
    residual = roots - np.tanh((J[..., None] * roots + h[..., None]) / T[..., None])
    assert np.nanmax(np.abs(np.where(np.isfinite(roots), residual, 0.0))) < 1e-10
    # ascending, NaN only as padding, at least one root everywhere
    assert np.all(np.isfinite(roots[..., 0]))
    assert np.all(np.diff(roots, axis=-1)[np.isfinite(np.diff(roots, axis=-1))] > 0)


def test_stability_is_the_sign_of_the_free_energy_curvature():
    # f''(M) from a central second difference of free_energy (an independent evaluation of f),
    # step 1e-4: truncation ~ f'''' dM^2 / 12 ~ 1e-8, rounding ~ 1e-16 / 1e-8 = 1e-8; the
    # non-marginal roots chosen below have |f''| > 1e-3.
    T = np.array([0.3, 0.6, 0.9, 1.3])[:, None]
    h = np.array([-0.1, 0.0, 0.05, 0.2])[None, :]
    J = 1.0
    roots, stable = branches(T, h, J)
    step = 1e-4
    M = np.nan_to_num(roots)
    T3, h3 = T[..., None], h[..., None]
    curvature = (free_energy(M + step, T3, h3, J) - 2 * free_energy(M, T3, h3, J)
                 + free_energy(M - step, T3, h3, J)) / step**2
    present = np.isfinite(roots)
    assert np.all(np.abs(curvature[present]) > 1e-3)
    np.testing.assert_array_equal(stable[present], curvature[present] > 0)
    # and the roots are stationary points: f'(M) = 0 (central first difference, error ~ 1e-8)
    slope = (free_energy(M + step, T3, h3, J) - free_energy(M - step, T3, h3, J)) / (2 * step)
    assert np.max(np.abs(slope[present])) < 1e-7


def test_equilibrium_branch_is_the_global_free_energy_minimum():
    # Brute force over a fine M grid (spacing 1e-5: the minimum of f is located to 1e-5).
    grid = np.linspace(-1, 1, 200001)
    for T, h in [(0.5, 0.05), (0.5, -0.05), (0.8, 0.01), (1.5, 0.3), (0.5, 0.0)]:
        energy = free_energy(grid, T, h, 1.0)
        best = grid[np.argmin(energy)]
        if h == 0:  # symmetric: both minima are global, the convention is +M0
            best = abs(best)
        assert abs(float(magnetisation(T, h, 1.0)) - best) < 2e-5


# ---------------------------------------------------------------------------------------------
# critical behaviour
# ---------------------------------------------------------------------------------------------
def test_spontaneous_magnetisation_tends_to_landau_near_critical_temperature():
    # M0 = sqrt(3 t) (1 + O(t)), t = (T_c - T)/T_c: the ratio error shrinks linearly in t.
    reduced = np.array([1e-2, 1e-4, 1e-6, 1e-8])
    T = 1.0 - reduced
    ratio = spontaneous_magnetisation(T, 1.0) / np.sqrt(3 * reduced)
    np.testing.assert_allclose(spontaneous_magnetisation(T, 1.0, approximation="landau"), np.sqrt(3 * reduced),
                               rtol=1e-7)  # rounding of 1 - (1 - t) at t = 1e-8
    error = np.abs(ratio - 1.0)
    assert np.all(error < reduced), error
    assert np.all(np.diff(error) < 0)
    assert spontaneous_magnetisation(1.0, 1.0) == 0.0 and spontaneous_magnetisation(2.0, 1.0) == 0.0
    assert spontaneous_magnetisation(0.0, 1.0) == 1.0


def test_exponent_beta_is_one_half():
    reduced = np.geomspace(1e-8, 1e-6, 7)
    fit = fit_power_law(reduced, spontaneous_magnetisation(1.0 - reduced, 1.0))
    assert abs(fit.exponent - 0.5) < 1e-5
    assert abs(fit.prefactor - np.sqrt(3.0)) < 1e-4  # M0 = sqrt(3 t)


def test_exponent_delta_is_three_on_the_critical_isotherm():
    fields = np.geomspace(1e-9, 1e-6, 7)
    fit = fit_power_law(fields, critical_isotherm(fields, 1.0))
    assert abs(1.0 / fit.exponent - 3.0) < 1e-3
    assert abs(fit.prefactor - 3.0 ** (1 / 3)) < 1e-3  # M = (3 h / T_c)^(1/3)
    np.testing.assert_allclose(critical_isotherm(-fields, 1.0), -critical_isotherm(fields, 1.0), rtol=1e-12)
    np.testing.assert_allclose(critical_isotherm(1e-9, 2.0, approximation="landau"), (1.5e-9) ** (1 / 3))


@pytest.mark.parametrize("J, z", [(1.0, 1), (0.25, 4)])
def test_susceptibility_is_curie_weiss_above_critical_temperature(J, z):
    T = np.array([1.001, 1.1, 1.5, 3.0, 10.0])
    np.testing.assert_allclose(susceptibility(T, 0.0, J, z), 1.0 / (T - critical_temperature(J, z)), rtol=1e-12)
    assert susceptibility(1.0, 0.0, 1.0) == np.inf


def test_susceptibility_is_the_derivative_of_the_magnetisation():
    # Central difference with dh = 1e-6 (truncation ~ M''' dh^2 ~ 1e-11, rounding ~ 1e-10) on
    # each branch, below and above T_c.
    dh = 1e-6
    for T, h, branch in [(0.5, 0.1, "upper"), (0.5, 0.1, "lower"), (0.8, -0.02, "equilibrium"), (1.3, 0.2, "upper")]:
        numeric = (magnetisation(T, h + dh, 1.0, branch=branch) - magnetisation(T, h - dh, 1.0,
                                                                                branch=branch)) / (2 * dh)
        assert abs(float(susceptibility(T, h, 1.0, branch=branch)) - numeric) < 1e-7 * max(1.0, abs(numeric))


def test_landau_free_energy_is_the_expansion_of_the_free_energy():
    # f(M) - f(0) - Landau = O((T - T_c)^2 M^2, (T - T_c) M^4, h M^3, M^6): at T = T_c (1 + 1e-3),
    # M = 0.01, h <= 1e-4 the remainder is < 1e-10 plus the (T - T_c) h M / T_c term (1e-9), while
    # each Landau term is >= 5e-8.
    T, J, M = 1.001, 1.0, 0.01
    for h in (0.0, 1e-4):
        exact = free_energy(M, T, h, J) - free_energy(0.0, T, h, J)
        landau = landau_free_energy(M, T, h, J)
        assert abs(exact - landau) < 1e-10 + abs(T - 1.0) * h * M, (exact, landau)


# ---------------------------------------------------------------------------------------------
# dynamics-related statics and finite size
# ---------------------------------------------------------------------------------------------
def test_relaxation_time_is_critical_slowing_down():
    T = np.array([1.01, 1.5, 2.0, 5.0])
    np.testing.assert_allclose(relaxation_time(T, 1.0, 1.0), 1.0 / (1.0 - 1.0 / T), rtol=1e-12)
    assert relaxation_time(1.0, 1.0, 1.0) == np.inf
    assert relaxation_time(0.0, 1.0, 2.0) == 2.0  # saturated: only the bare flip time
    # below T_c: tau0 / (1 - beta zJ (1 - M0^2)) with M0 from the exact root
    M0 = float(spontaneous_magnetisation(0.5, 1.0))
    assert abs(float(relaxation_time(0.5, 1.0, 1.0)) - 1.0 / (1.0 - 2.0 * (1 - M0**2))) < 1e-12
    with_units = relaxation_time(2.0, 1.0, 3 * ms)
    assert abs(float(with_units / ms) - 6.0) < 1e-12


def _exact_curie_weiss_moments(N, T, h, J):
    """Mean and variance of M for N all-to-all channels by enumerating the N + 1 levels.

    p(M) ~ binom(N, N(1+M)/2) exp(N beta (J M^2/2 + h M)) (Curie-Weiss with J/N scaling).
    """
    up = np.arange(N + 1)
    M = 2 * up / N - 1
    log_weight = gammaln(N + 1) - gammaln(up + 1) - gammaln(N - up + 1) + N * (J * M**2 / 2 + h * M) / T
    weight = np.exp(log_weight - log_weight.max())
    weight /= weight.sum()
    mean = weight @ M
    return mean, weight @ (M - mean) ** 2


@pytest.mark.parametrize("T, h, J", [(2.0, 0.0, 1.0), (1.5, 0.2, 1.0), (1.0, 0.5, 0.0), (0.6, 0.3, 1.0)])
def test_finite_size_variance_matches_exact_enumeration(T, h, J):
    # Gaussian (large-N) fluctuation result vs the exact distribution: relative corrections are
    # O(1/N) (times chi^2 near T_c); at N = 4000 and these points they are below 2 %.
    N = 4000
    _, variance = _exact_curie_weiss_moments(N, T, h, J)
    predicted = float(finite_size_variance(T, h, J, N))
    assert abs(predicted / variance - 1.0) < 0.02, (predicted, variance)
    if J == 0:
        assert abs(predicted - (1 - np.tanh(h / T) ** 2) / N) < 1e-15


# ---------------------------------------------------------------------------------------------
# argument checking
# ---------------------------------------------------------------------------------------------
def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ParameterError, match="negative"):
        magnetisation(-0.1, 0.0, 1.0)
    with pytest.raises(ParameterError, match="J >= 0"):
        branches(1.0, 0.0, -1.0)
    with pytest.raises(ParameterError, match="N"):
        finite_size_variance(2.0, 0.0, 1.0, 0)
    with pytest.raises(ParameterError, match="branch"):
        magnetisation(1.0, 0.0, 1.0, branch="middle")
    with pytest.raises(ParameterError, match="NaN"):
        magnetisation(np.nan, 0.0, 1.0)
    with pytest.raises(UnitMismatchError, match="reduced units"):
        magnetisation(1.0, 5 * mV, 1.0)
    with pytest.raises(UnitMismatchError, match="time"):
        relaxation_time(2.0, 1.0, 5 * mV)
    with pytest.raises(ParameterError, match="exact"):
        critical_isotherm(0.1, 0.0, approximation="landau")


# ---------------------------------------------------------------------------------------------
# properties (hypothesis)
# ---------------------------------------------------------------------------------------------
temperatures = st.floats(0.0, 5.0)
fields = st.floats(-3.0, 3.0)
couplings = st.floats(0.0, 3.0)


@settings(max_examples=80, deadline=None)
@given(T=temperatures, h=fields, J=couplings)
def test_magnetisation_is_bounded_and_odd(T, h, J):
    for branch in ("upper", "lower", "equilibrium"):
        value = float(magnetisation(T, h, J, branch=branch))
        assert -1.0 <= value <= 1.0
    # odd symmetry M(T, -h) = -M(T, h) (the upper branch maps onto the lower one)
    assert float(magnetisation(T, -h, J, branch="upper")) == pytest.approx(
        -float(magnetisation(T, h, J, branch="lower")), abs=1e-12)
    if h != 0:
        assert float(magnetisation(T, -h, J)) == pytest.approx(-float(magnetisation(T, h, J)), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(T=st.floats(0.01, 5.0), J=couplings, low=fields, width=st.floats(1e-3, 2.0))
def test_equilibrium_magnetisation_is_monotone_in_the_field(T, J, low, width):
    values = magnetisation(T, np.linspace(low, low + width, 11), J)
    assert np.all(np.diff(values) >= -1e-12)
