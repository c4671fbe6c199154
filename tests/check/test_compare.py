"""Verdicts C1 and C4 from fitted response curves (neurophase.check.compare)."""

import numpy as np
import pytest
from brian2 import Hz, pA

from neurophase.check.compare import derived_versus_best_verdict, heldout_difference, onset_exponent_verdict
from neurophase.errors import ParameterError
from neurophase.neurons.fit import RESPONSE_MODELS, ActivationFit

DRIVE = np.linspace(0.0, 300.0, 61)


def noisy(name, parameters, seed, sigma=1.0):
    values = RESPONSE_MODELS[name](DRIVE, *parameters)
    return (values + np.random.default_rng(seed).normal(0.0, sigma, DRIVE.size)) * Hz


def test_c4_holds_for_derived_data_and_fails_for_a_kinked_ramp():
    # Derived truth (K = 0.6): the derived candidate is the generating model, so its held-out
    # MSE cannot be significantly above the best rival's (a 95 % interval fails 2.5 % of the
    # time one-sided by chance; seeded).
    fit = ActivationFit(candidates=("derived", "logistic", "relu"), n_bootstrap=0, random_state=1)
    fit.fit(DRIVE * pA, noisy("derived", (50.0, 150.0, 40.0, 0.6), seed=4))
    verdict = derived_versus_best_verdict(fit)
    assert verdict.id == "C4" and verdict.holds and verdict.ci_low <= 0.0
    # A ReLU ramp: a smooth saturating curve misses the kink and the unbounded rise by a bias of
    # > 1 sigma RMSE (test_fit), so the paired difference of held-out MSE is ~ bias^2 > sigma^2,
    # far above its standard error ~ sigma^2 sqrt(2/61) -> the verdict does not hold.
    fit = ActivationFit(candidates=("derived", "relu"), n_bootstrap=0, random_state=1)
    fit.fit(DRIVE * pA, noisy("relu", (0.3, 120.0), seed=5))
    verdict = derived_versus_best_verdict(fit)
    assert not verdict.holds
    assert verdict.measured > 1.0 and verdict.ci_low > 0.0
    assert "relu" in verdict.quantity and "Hz**2" in verdict.quantity


def test_heldout_difference_is_paired():
    fit = ActivationFit(candidates=("logistic", "tanh"), n_bootstrap=0).fit(
        DRIVE * pA, noisy("logistic", (50.0, 150.0, 20.0), seed=6))
    assert heldout_difference(fit, "tanh", "tanh") == (0.0, 0.0)
    mean, _ = heldout_difference(fit, "tanh", "logistic")
    rmse = fit.scores_["heldout_rmse"]
    # mean of paired differences = difference of the pooled held-out MSEs
    expected = float(rmse.sel(candidate="tanh")) ** 2 - float(rmse.sel(candidate="logistic")) ** 2
    assert mean == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ParameterError, match="'relu' was not fitted"):
        heldout_difference(fit, "relu", "logistic")


def test_c1_onset_exponent_of_a_square_root_onset():
    # sqrt onset with sigma = 1 Hz on a ~50 Hz curve: the exponent's bootstrap SE is ~0.01, so a
    # wrong expectation (p = 1, a linear onset) lies far outside the 95 % interval.
    rates = noisy("power_law", (4.0, 120.0, 0.5), seed=8)
    fit = ActivationFit(candidates=("power_law",), n_bootstrap=60, random_state=2).fit(DRIVE * pA, rates)
    verdict = onset_exponent_verdict(fit)
    assert verdict.id == "C1" and verdict.holds
    assert verdict.ci_low < 0.5 < verdict.ci_high and verdict.ci_high - verdict.ci_low < 0.1
    assert not onset_exponent_verdict(fit, expected=1.0).holds
