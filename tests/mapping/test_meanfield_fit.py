"""Mean-field parameter estimation and susceptibility / T_c estimators with known answers."""

import numpy as np
import pytest
import xarray as xr
from scipy.optimize import brentq

from neurophase.mapping.meanfield_fit import (
    critical_temperature_from_inverse_susceptibility,
    critical_temperature_from_peak,
    fit_meanfield,
    fit_self_consistency,
    susceptibility_from_fluctuations,
    susceptibility_from_slope,
)


def _self_consistent(field, beta, coupling, offset):
    """Independent solution of M = tanh(beta (J M + h + h0)) by bracketing (beta J < 1: unique)."""
    return np.array([brentq(lambda m: m - np.tanh(beta * (coupling * m + h + offset)), -1, 1) for h in field])


def test_fit_recovers_exact_parameters():
    field = np.linspace(-1.5, 1.5, 13)
    magnetisation = _self_consistent(field, 1.25, 0.6, -0.15)
    fit = fit_self_consistency(field, magnetisation)
    assert fit["beta"] == pytest.approx(1.25, rel=1e-8)
    assert fit["J_eff"] == pytest.approx(0.6, rel=1e-8)
    assert fit["h_offset"] == pytest.approx(-0.15, abs=1e-9)


def test_fit_with_noise_over_trials_has_honest_intervals():
    # 6 trials with Gaussian noise sd 0.01 on each point: the bootstrap over trials gives
    # intervals that contain the true parameters, and the estimates lie within 5 % (beta, J)
    # and 0.02 (offset) of them (the noise of the trial mean is 0.004; the fit's parameter
    # errors are a few times that).
    rng = np.random.default_rng(7)
    field = np.linspace(-1.0, 1.0, 11)
    beta, coupling, offset = 1.5, 0.5, 0.1
    exact = _self_consistent(field, beta, coupling, offset)
    noisy = exact[:, None] + rng.normal(0.0, 0.01, size=(field.size, 6))
    data = xr.DataArray(noisy, dims=("input", "trial"), coords={"input": field})
    result = fit_meanfield(data)
    for name, truth, tolerance in (("beta", beta, 0.05 * beta), ("J_eff", coupling, 0.05 * coupling),
                                   ("h_offset", offset, 0.02)):
        assert abs(float(result[name]) - truth) < tolerance, name
        # the jackknife Student-t interval (6 trials) covers the truth
        assert float(result[f"{name}_ci_low"]) <= truth <= float(result[f"{name}_ci_high"]), name


def test_susceptibility_estimators_agree_with_curie_weiss():
    # Curie-Weiss above T_c: chi = 1/(T - T_c). Fluctuation form on Gaussian samples of variance
    # T chi / N (sampling error sqrt(2/n) = 1.4 % for n = 10^4; tolerance 6 % = 4 standard errors);
    # slope form on the exact M(h) near h = 0 (finite-difference error O(dh^2)).
    rng = np.random.default_rng(8)
    temperature, critical, N = 1.5, 1.0, 1000
    chi = 1.0 / (temperature - critical)
    samples = rng.normal(0.0, np.sqrt(temperature * chi / N), size=10_000)
    assert susceptibility_from_fluctuations(samples.var(ddof=1), temperature, N) == pytest.approx(chi, rel=0.06)
    field = np.linspace(-0.01, 0.01, 5)
    magnetisation = _self_consistent(field, 1 / temperature, critical, 0.0)
    assert susceptibility_from_slope(field, magnetisation)[2] == pytest.approx(chi, rel=1e-3)


def test_critical_temperature_estimators():
    temperature = np.array([1.2, 1.4, 1.7, 2.0])
    estimate, slope = critical_temperature_from_inverse_susceptibility(temperature, 1.0 / (temperature - 0.97))
    assert estimate == pytest.approx(0.97, abs=1e-12)
    assert slope == pytest.approx(1.0, abs=1e-12)
    grid = np.linspace(0.9, 1.1, 11)
    peak = critical_temperature_from_peak(grid, 5.0 - 30.0 * (grid - 0.987) ** 2)
    assert peak == pytest.approx(0.987, abs=1e-9)
