"""The membrane measurements (P1, P3-P7, P9-P12, lattice) at small N, checked against closed forms.

Each test runs one measurement function on a small grid and checks its verdict numbers against
the Curie-Weiss closed forms (THEORY.md sections 3-5) with tolerances set by the small N and the
few trials used here, and shows that the same measured value FAILS against a wrong expected value
under the verdict's own rule (a verdict that could not fail would test nothing).
"""

import math

import numpy as np
import pytest
from brian2 import ms

from neurophase.check import membrane
from neurophase.check.verdicts import make_verdict

pytestmark = [pytest.mark.brian2, pytest.mark.slow]


def _against(verdict, wrong_expected):
    """The same measurement and rule against another expected value."""
    return make_verdict(verdict.id, verdict.quantity, wrong_expected, verdict.measured, verdict.ci_low,
                        verdict.ci_high, tolerance=verdict.tolerance, rule="tolerance")


def test_independent_channels_give_the_logistic_and_the_binomial_variance():
    verdicts, datasets = membrane.measure_independent_channels(
        N=400, trials=3, temperatures=(1.0,), fields=tuple(np.linspace(-2.0, 2.0, 9)), duration=60 * ms)
    found = {verdict.id: verdict for verdict in verdicts}
    gain = found["P1-T1"]
    # exact at J = 0 for any N: gain x T = 2; the fit of 9 trial-mean points with binomial noise of
    # sd sqrt(p(1-p)/N)/sqrt(samples) ~ 0.005 moves it by about 1 %
    assert gain.measured == pytest.approx(2.0, rel=0.03)
    assert not _against(gain, 1.0).holds            # a logistic of the wrong gain is rejected
    variance = found["P11-J0"]
    # Var(M) N / (1 - M^2) = 1 exactly at J = 0; the sample variance over 60 tau0 is biased low by
    # about 2 tau_int / window ~ 3 % and scatters by a few percent over 3 trials
    assert variance.measured == pytest.approx(1.0, abs=0.1)
    assert variance.ci_low < variance.measured < variance.ci_high
    stats = datasets["independent_statistics"]
    # the stationary mean M(h) is tanh(h/T) within 4 binomial standard errors of a trial mean
    mean = stats["mean"].isel(param_T=0).mean("trial").values
    field = stats["input"].values
    error = np.sqrt((1 - np.tanh(field) ** 2) / 400 / 3 / 10)  # >= 10 independent samples per trace
    assert np.all(np.abs(mean - np.tanh(field)) < 4 * error + 0.01)


def test_critical_behaviour_at_small_n():
    verdicts, _ = membrane.measure_critical_behaviour(
        N=500, trials=4, duration=150 * ms, temperatures_below=(0.7, 0.8, 0.9), temperatures_near=(0.97, 1.0, 1.03),
        temperatures_above=(1.2, 1.4, 1.7, 2.0), critical_fields=(0.02, 0.05, 0.1, 0.2))
    found = {verdict.id: verdict for verdict in verdicts}
    assert set(found) == {"P3", "P4", "P4-peak", "P5", "P5-M0", "P6", "P11", "P12"}
    # gamma = 1, T_c = 1, M0(0.7) = root of M = tanh(M/0.7) (scipy here), delta = 3, relaxation
    # x (1 - T_c/T) = 1: at N = 500 the finite-size rounding (N^-1/2 = 0.045 in T, N^-1/4 = 0.21 in M)
    # widens each, so the bounds here are those of the exact finite-N distribution plus the noise
    from scipy.optimize import brentq

    m0 = brentq(lambda m: m - math.tanh(m / 0.7), 0.1, 1.0)
    assert found["P5-M0"].expected == pytest.approx(m0, abs=1e-3)
    assert found["P5-M0"].measured == pytest.approx(m0, abs=0.03)
    assert found["P3"].measured == pytest.approx(1.0, abs=0.3)
    assert found["P4"].measured == pytest.approx(1.0, abs=0.1)
    assert found["P11"].measured == pytest.approx(1.0, abs=0.25)
    assert found["P12"].measured == pytest.approx(1.0, abs=0.35)
    assert 1.5 < 1 / (1 / found["P6"].measured) < 5.0
    # the same M0 against the T = 0 value 1 fails under its tolerance 0.02
    assert not _against(found["P5-M0"], 1.0).holds


def test_hysteresis_switching_field_approaches_the_coercive_field():
    verdicts, datasets = membrane.measure_hysteresis(N=1000, trials=2)
    (verdict,) = verdicts
    # h_c(T_c/2) = J m* - T artanh(m*), m* = sqrt(1/2): 0.2664 (THEORY.md section 3)
    m_star = math.sqrt(0.5)
    closed = m_star - 0.5 * math.atanh(m_star)
    assert verdict.expected == pytest.approx(closed, abs=1e-6) == pytest.approx(0.2664, abs=1e-4)
    # finite N = 1000 switches early by activation over the vanishing barrier: within 15 %
    assert verdict.measured == pytest.approx(closed, rel=0.15)
    assert not _against(verdict, 0.5).holds


def test_quench_gives_a_relu_with_the_closed_form_slope_and_threshold():
    verdicts, _ = membrane.measure_quench(N=400, trials=2, tau0_values=[1 * ms])
    found = {verdict.id: verdict for verdict in verdicts}
    # slope kappa/r = 1/0.002 per ms = 500 ms per unit x, threshold (T_rest - T_c)/kappa = 1
    assert found["P9-slope"].expected == pytest.approx(500.0)
    assert found["P9-threshold"].expected == pytest.approx(1.0)
    assert found["P9-slope"].measured == pytest.approx(500.0, rel=0.15)
    assert found["P9-threshold"].measured == pytest.approx(1.0, abs=0.15)
    assert not _against(found["P9-slope"], 1000.0).holds     # doubling r halves the slope: rejected


def test_lattice_beta_is_not_mean_field():
    verdicts, _ = membrane.measure_lattice(N=256, trials=2, duration=150 * ms)
    found = {verdict.id: verdict for verdict in verdicts}
    # the 2-D lattice is Onsager's, beta = 1/8: the mean-field 1/2 must FAIL, a result not a bug
    assert not found["P5-lattice"].holds
    assert found["P5-lattice"].measured < 0.3
    # <|M|> at T = 1.8 J: Onsager-Yang (1 - sinh(2J/T)^-4)^(1/8) = 0.9616, finite L = 16 within 0.05
    onsager = (1 - math.sinh(2 / 1.8) ** -4) ** 0.125
    assert found["P5-lattice-M"].expected == pytest.approx(onsager, abs=1e-4)
    assert found["P5-lattice-M"].measured == pytest.approx(onsager, abs=0.05)
