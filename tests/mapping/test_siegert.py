"""The Siegert rate of the LIF against an independent quadrature, NNMT, and published limits.

References: Siegert (1951), Phys. Rev. 81:617; Brunel & Hakim (1999), Neural Comput. 11:1621,
Eq. 21 and the weak-noise limit of their section 4; Brunel (2000), J. Comput. Neurosci. 8:183,
Eq. 21; Fourcaud & Brunel (2002), Neural Comput. 14:2057, Eq. 4.33; Gerstner et al. (2014),
Neuronal Dynamics, Eq. 1.11 (deterministic limit); published first-passage times of the
Ornstein-Uhlenbeck process: OEIS A249417, A249418, A250719 (J.-F. Alcover 2014, after S. R. Finch,
"Ornstein-Uhlenbeck Process", 2004).
"""

import math

import numpy as np
import pytest
from scipy import integrate, special

from neurophase.errors import ParameterError
from neurophase.mapping.siegert import (
    FOURCAUD_BRUNEL_ALPHA,
    fourcaud_brunel_shift,
    siegert_cv_squared_si,
    siegert_rate,
    siegert_rate_si,
)

TAU, THETA, RESET, REFRACTORY = 0.020, 0.020, 0.010, 0.002   # Brunel (2000) neurone
# (mu, sigma) in volts: sub-threshold, near threshold, supra-threshold, strongly driven, weak noise
POINTS = [(0.015, 0.005), (0.019, 0.0005), (0.025, 0.001), (0.040, 0.010), (0.0, 0.002),
          (-0.010, 0.005), (0.012, 0.002), (0.030, 0.001), (0.020, 0.004)]


def quadrature_rate(mu, sigma, tau=TAU, theta=THETA, reset=RESET, refractory=REFRACTORY):
    """Direct adaptive quadrature of exp(u^2) (1 + erf u), written as exp(u^2) erfc(-u)."""
    lower, upper = (reset - mu) / sigma, (theta - mu) / sigma
    integral, _ = integrate.quad(lambda u: math.exp(u * u) * special.erfc(-u), lower, upper,
                                 epsabs=0, epsrel=1e-12, limit=500)
    return 1.0 / (refractory + tau * math.sqrt(math.pi) * integral)


@pytest.mark.parametrize("mu, sigma", POINTS)
def test_siegert_matches_direct_quadrature(mu, sigma):
    expected = quadrature_rate(mu, sigma)
    measured = float(siegert_rate_si(mu, sigma, TAU, THETA, RESET, REFRACTORY))
    assert measured == pytest.approx(expected, rel=1e-9)


def test_siegert_is_vectorised_and_stable_far_from_threshold():
    mu = np.linspace(-0.05, 0.2, 400)
    rates = siegert_rate_si(mu, 0.001, TAU, THETA, RESET, REFRACTORY)
    assert np.all(np.isfinite(rates)) and np.all(rates >= 0)
    assert np.all(np.diff(rates) >= -1e-12)            # increasing in the mean input
    assert rates[0] == 0.0 or rates[0] < 1e-300         # far below threshold: no overflow, ~0
    assert rates[-1] < 1 / REFRACTORY


def test_deterministic_limit():
    """sigma -> 0 above threshold: 1/(t_ref + tau ln((mu - V_r)/(mu - theta)))."""
    for mu in (0.025, 0.04, 0.1):
        expected = 1 / (REFRACTORY + TAU * math.log((mu - RESET) / (mu - THETA)))
        assert float(siegert_rate_si(mu, 1e-6, TAU, THETA, RESET, REFRACTORY)) == pytest.approx(expected, rel=1e-4)


def test_weak_noise_arrhenius_limit():
    """y_th >> 1: r tau ~ y_th exp(-y_th^2) / sqrt(pi) (Brunel & Hakim 1999, section 4)."""
    mu, sigma = 0.010, 0.0025                           # y_th = 4, y_r = 0
    y = (THETA - mu) / sigma
    expected = y * math.exp(-y * y) / (math.sqrt(math.pi) * TAU)
    measured = float(siegert_rate_si(mu, sigma, TAU, THETA, RESET, REFRACTORY))
    # next order of the asymptotic series: relative correction 1/(2 y^2) = 3 %
    assert measured == pytest.approx(expected, rel=0.05)


def test_units_and_errors():
    from brian2 import Hz, ms, mV

    rate = siegert_rate(15 * mV, 5 * mV, 20 * ms, 20 * mV, 10 * mV, 2 * ms)
    assert float(rate / Hz) == pytest.approx(quadrature_rate(0.015, 0.005), rel=1e-9)
    with pytest.raises(ParameterError):
        siegert_rate_si(0.01, 0.0, TAU, THETA, RESET, REFRACTORY)
    with pytest.raises(ParameterError):
        siegert_rate_si(0.01, 0.001, TAU, 0.01, 0.02, REFRACTORY)


def test_fourcaud_brunel_constant():
    assert FOURCAUD_BRUNEL_ALPHA == pytest.approx(math.sqrt(2) * 1.4603545088095868, rel=1e-12)
    assert fourcaud_brunel_shift(0.002, 0.02) == pytest.approx(FOURCAUD_BRUNEL_ALPHA / 2 * math.sqrt(0.1))


def test_cv_limits_and_quadrature():
    # far below threshold the output is Poisson (CV -> 1); strongly driven it is regular (CV -> 0)
    assert siegert_cv_squared_si(-0.005, 0.005, TAU, THETA, 0.0, REFRACTORY) == pytest.approx(1.0, abs=0.01)
    assert siegert_cv_squared_si(0.060, 0.001, TAU, THETA, 0.0, REFRACTORY) < 0.01
    # independent evaluation of the double integral with the plain integrand
    mu, sigma = 0.015, 0.005
    rate = quadrature_rate(mu, sigma)
    inner = lambda x: integrate.quad(lambda y: math.exp(y * y) * special.erfc(-y) ** 2, -20, x,  # noqa: E731
                                     limit=300)[0]
    outer = integrate.quad(lambda x: math.exp(x * x) * inner(x), (RESET - mu) / sigma,
                           (THETA - mu) / sigma, limit=300)[0]
    expected = 2 * math.pi * (rate * TAU) ** 2 * outer
    assert siegert_cv_squared_si(mu, sigma, TAU, THETA, RESET, REFRACTORY) == pytest.approx(expected, rel=1e-6)


def test_against_nnmt():
    """NNMT (Layer et al. 2022) implements the same formulas independently."""
    delta = pytest.importorskip("nnmt.lif.delta")
    exp = pytest.importorskip("nnmt.lif.exp")
    mu = np.array([point[0] for point in POINTS])
    sigma = np.array([point[1] for point in POINTS])
    reference = delta._firing_rates_for_given_input(mu, sigma, RESET, THETA, TAU, REFRACTORY)
    np.testing.assert_allclose(siegert_rate_si(mu, sigma, TAU, THETA, RESET, REFRACTORY), reference,
                               rtol=1e-10)
    shifted = exp._firing_rate_shift(mu, sigma, RESET, THETA, TAU, REFRACTORY, 0.001)
    np.testing.assert_allclose(siegert_rate_si(mu, sigma, TAU, THETA, RESET, REFRACTORY,
                                               synaptic_tau=0.001), shifted, rtol=1e-10)


# Published mean first-passage times of dX = -X dt + sqrt(2) dW (OEIS, decimal expansions after
# Finch 2004): E(T_{1,0}) from 0 up to 1 (A249417), E(T_{0,1}) from 1 down to 0 (A249418) and
# E(T_{0,2}) from 2 down to 0 (A250719); the last two are, by X -> -X, passages from -1 and -2
# up to 0. As an LIF in Brunel's form tau dV = (mu - V) dt + sigma sqrt(tau) dW: tau = 1 s,
# mu = 0, sigma = sqrt(2), reset = start, threshold = level, no refractory time, so 1/rate is
# the first-passage time from reset to threshold (Siegert 1951).
PUBLISHED_PASSAGE_TIMES = [  # (reset, threshold, E(T) in units of tau, OEIS entry)
    (0.0, 1.0, 2.0934066496783218069201618112500818286, "A249417"),
    (-1.0, 0.0, 0.9019080126528065006394312084437767428, "A249418"),
    (-2.0, 0.0, 1.4252045655377997189597366456151217122, "A250719"),
]


@pytest.mark.parametrize("reset, threshold, passage_time, entry", PUBLISHED_PASSAGE_TIMES)
def test_siegert_against_published_ornstein_uhlenbeck_passage_times(reset, threshold, passage_time, entry):
    rate = float(siegert_rate_si(0.0, math.sqrt(2.0), 1.0, threshold, reset, 0.0))
    # the implementation agrees with adaptive quadrature to 1e-9 (above); the table has 100 digits
    assert 1.0 / rate == pytest.approx(passage_time, rel=1e-9), entry
