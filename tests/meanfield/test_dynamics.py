"""Mean-field Glauber dynamics, hysteresis and quench protocol against closed forms."""

import numpy as np
import pytest
from brian2 import ms, mV

from neurophase.errors import ParameterError, UnitMismatchError
from neurophase.meanfield import (
    coercive_field,
    critical_isotherm,
    fit_power_law,
    hysteresis_loop,
    integrate_glauber,
    magnetisation,
    ordered_time,
    ordered_time_exponential,
    quench_temperature,
    quench_temperature_exponential,
    quench_threshold,
    relaxation_time,
    simulate_quench,
    spontaneous_magnetisation,
)


def _fitted_relaxation_time(times, deviation):
    """tau of deviation = A exp(-t / tau) by a log-linear least-squares fit."""
    slope, _ = np.polyfit(times, np.log(np.abs(deviation)), 1)
    return -1.0 / slope


@pytest.mark.parametrize("T", [1.25, 2.0, 4.0])
def test_relaxation_above_critical_temperature_is_tau0_over_one_minus_tc_over_t(T):
    # Start at M = 1e-4 (h = 0): the nonlinear correction to the decay rate is O(M^2) = 1e-8,
    # integration tolerance 1e-8 relative, so the fitted time agrees to 1e-5.
    times = np.linspace(0.0, 5.0 * float(relaxation_time(T, 1.0, 1.0)), 41)
    M = integrate_glauber(1e-4, times, T, 0.0, 1.0, 1.0)
    assert abs(_fitted_relaxation_time(times, M) / (1.0 / (1.0 - 1.0 / T)) - 1.0) < 1e-5


def test_relaxation_below_critical_temperature_about_the_ordered_state():
    # Linear relaxation about M0(T = 0.6) from a 1e-5 displacement: tau0 / (1 - beta zJ (1 - M0^2)).
    T = 0.6
    M0 = float(spontaneous_magnetisation(T, 1.0))
    expected = 1.0 / (1.0 - (1.0 - M0**2) / T)
    times = np.linspace(0.0, 5.0 * expected, 41)
    M = integrate_glauber(M0 + 1e-5, times, T, 0.0, 1.0, 1.0)
    assert abs(_fitted_relaxation_time(times, M - M0) / expected - 1.0) < 1e-4
    assert abs(float(relaxation_time(T, 1.0, 1.0)) / expected - 1.0) < 1e-12


def test_relaxation_with_units():
    times = np.linspace(0.0, 20.0, 21) * ms
    M = integrate_glauber(1e-4, times, 2.0, 0.0, 1.0, 2 * ms)  # tau = 2 ms / (1 - 1/2) = 4 ms
    assert abs(_fitted_relaxation_time(np.asarray(times / ms), M) - 4.0) < 1e-4
    with pytest.raises(UnitMismatchError, match="times"):
        integrate_glauber(0.0, np.linspace(0, 1, 3), 2.0, 0.0, 1.0, 2 * ms)
    with pytest.raises(UnitMismatchError, match="time"):
        integrate_glauber(0.0, np.linspace(0, 1, 3) * ms, 2.0, 0.0, 1.0, 2 * mV)


def test_fixed_points_of_the_ode_are_the_stable_branches():
    # Ensemble: two starts x three (T, h); after 60 tau (>= 10 relaxation times everywhere here)
    # the distance to the fixed point is < exp(-10) * 2 ~ 1e-4 ... in fact far smaller, 1e-8 used.
    T = np.array([0.5, 0.8, 1.5])
    h = np.array([0.1, -0.05, 0.3])
    starts = np.array([[0.99], [-0.99]])
    M = integrate_glauber(starts, [0.0, 200.0], T, h, 1.0, 1.0)[-1]
    np.testing.assert_allclose(M[0], magnetisation(T, h, 1.0, branch="upper"), atol=1e-8)
    np.testing.assert_allclose(M[1], magnetisation(T, h, 1.0, branch="lower"), atol=1e-8)
    assert M.shape == (2, 3)


def test_hysteresis_loop_switches_at_the_coercive_field_for_slow_ramps():
    # Switching lags the spinodal by a dynamic delay ~ (tau0 dh/dt)^(2/3) (saddle-node passage)
    # plus the O(tau0 dh/dt) time to reach M = 0: measured 11 % at ramp 1e3 tau0, 0.4 % at 1e5.
    # Asserted: within 2 % at ramp_time = 1e5 tau0 (measured 0.13 %, 0.38 %, 1.7 % at T = 0.25,
    # 0.5, 0.75: smaller h_c, larger relative delay), and the excess shrinks monotonically.
    T = np.array([0.25, 0.5, 0.75])
    expected = coercive_field(T, 1.0)
    excess = []
    for ramp_time in (1e3, 1e4, 1e5):
        loop = hysteresis_loop(T, 1.0, 1.0, ramp_time, 1.0)
        np.testing.assert_allclose(loop.coercive_field_down, -loop.coercive_field_up, rtol=1e-6)  # odd symmetry
        excess.append(loop.coercive_field_up / expected - 1.0)
    excess = np.array(excess)
    assert np.all(excess > 0) and np.all(np.diff(excess, axis=0) < 0)
    assert np.all(excess[-1] < 0.02), excess[-1]
    # shape: the up-ramp starts on the lower branch, ends on the upper
    assert loop.magnetisation_up.shape == (2001, 3)
    np.testing.assert_allclose(loop.magnetisation_up[0], magnetisation(T, -1.0, 1.0), atol=1e-12)
    np.testing.assert_allclose(loop.magnetisation_up[-1], magnetisation(T, 1.0, 1.0), atol=1e-3)


def test_loop_closes_above_critical_temperature():
    # T = 2 T_c: single branch; the only asymmetry is the lag dh/dt * tau * chi, with
    # tau = 2 tau0: crossing at h = dh/dt * 2 tau0 = 4e-4 for h_max = 1, ramp 1e4 tau0.
    loop = hysteresis_loop(2.0, 1.0, 1.0, 1e4, 1.0)
    assert abs(float(loop.coercive_field_up) - 2e-4 * 2.0) < 5e-5


# ---------------------------------------------------------------------------------------------
# quench protocol
# ---------------------------------------------------------------------------------------------
def test_ordered_time_is_the_time_spent_below_critical_temperature():
    # Independent check through quench_temperature: T(t_ordered) = T_c for x > theta.
    x = np.array([1.2, 1.5, 1.9])
    T_rest, T_c, kappa, r = 2.0, 1.0, 1.0, 0.5
    t_ordered = ordered_time(x, T_rest, T_c, kappa, r)
    np.testing.assert_allclose(quench_temperature(t_ordered, x, T_rest, kappa, r), T_c, rtol=1e-14)
    assert float(quench_threshold(T_rest, T_c, kappa)) == 1.0
    assert ordered_time(0.8, T_rest, T_c, kappa, r) == 0.0
    # doubling r halves the slope, theta unchanged (THEORY.md section 5)
    np.testing.assert_allclose(ordered_time(x, T_rest, T_c, kappa, 2 * r), t_ordered / 2)
    # exponential reheating: T(t_ordered) = T_c as well (the log-rectifier)
    t_exponential = ordered_time_exponential(x, T_rest, T_c, kappa, 3.0)
    np.testing.assert_allclose(quench_temperature_exponential(t_exponential, x, T_rest, kappa, 3.0), T_c, rtol=1e-14)
    assert ordered_time_exponential(0.9, T_rest, T_c, kappa, 3.0) == 0.0
    # units pass through
    assert abs(float(ordered_time(1.5, T_rest, T_c, kappa, 0.002 / ms) / ms) - 250.0) < 1e-9


def test_simulated_quench_tends_to_ordered_time_as_tau0_vanishes():
    # Threshold = M(T_c, h): in the adiabatic limit |M| > threshold exactly while T < T_c. The lag
    # is the relaxation time at the threshold crossing, tau0 / (1 - beta zJ (1 - M^2)) with
    # M = critical_isotherm(h) = 0.144, i.e. 48 tau0, plus 1e-4 for the output grid.
    x = np.linspace(0.9, 1.9, 11)
    expected = ordered_time(x, 2.0, 1.0, 1.0, 1.0)
    M = float(critical_isotherm(1e-3, 1.0))
    lag = 1.0 / (1.0 - (1 - M**2))
    errors = []
    for tau0 in (1e-5, 1e-4):
        measured = simulate_quench(x, 2.0, 1.0, 1.0, 1.0, tau0)
        errors.append(np.max(np.abs(measured - expected)))
        assert errors[-1] < lag * tau0 + 1e-4, (tau0, errors[-1])
    assert errors[0] < errors[1] / 5  # converges (linearly in tau0)


def test_quench_onset_grows_with_tau0():
    # P10: the smallest stimulus that orders (x grid step 0.002) rises with tau0. Linearised
    # growth while T < T_c predicts onset - theta ~ sqrt(2 r T_c tau0 ln(M_threshold/M_rest)):
    # exponent 1/2 in tau0 (measured 0.50 over tau0 = 1e-3 .. 1e-1; asserted within 0.1, the
    # nonlinear saturation and the field h bend the law slightly).
    x = np.linspace(1.0, 2.0, 501)
    tau0_values = np.array([1e-3, 1e-2, 1e-1])
    shifts = []
    for tau0 in tau0_values:
        ordered = simulate_quench(x, 2.0, 1.0, 1.0, 1.0, tau0)
        shifts.append(x[np.argmax(ordered > 0)] - 1.0)
    assert np.all(np.diff(shifts) > 0), shifts
    assert abs(fit_power_law(tau0_values, shifts).exponent - 0.5) < 0.1, shifts
    # with units: the same protocol in ms
    with_units = simulate_quench([1.5], 2.0, 1.0, 1.0 / ms, 1.0, 1e-4 * ms)
    assert abs(float(with_units[0] / ms) - 0.5) < 0.006


def test_quench_arguments_are_checked():
    with pytest.raises(ParameterError, match="disordered"):
        ordered_time(1.0, 0.5, 1.0, 1.0, 1.0)
    with pytest.raises(ParameterError, match="negative temperature"):
        simulate_quench([3.0], 2.0, 1.0, 1.0, 1.0, 1e-3)
    with pytest.raises(UnitMismatchError, match="1/time"):
        simulate_quench([1.5], 2.0, 1.0, 1.0, 1.0, 1 * ms)


def test_fit_power_law_recovers_a_known_exponent():
    x = np.geomspace(1e-4, 1e-1, 10)
    fit = fit_power_law(x, 0.7 * x**-1.75)
    assert abs(fit.exponent + 1.75) < 1e-12 and abs(fit.prefactor - 0.7) < 1e-12
    exponent, prefactor, _ = fit
    assert exponent == fit.exponent
    with pytest.raises(ParameterError, match="positive"):
        fit_power_law([1.0, -1.0], [1.0, 2.0])
