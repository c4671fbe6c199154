"""Firing-probability and escape-rate estimators: recovery of known parameters and interval coverage
by simulation (numpy draws from the model the estimator assumes)."""

import numpy as np
import pytest
from scipy.special import ndtr

from neurophase.errors import ParameterError
from neurophase.mapping.firing_probability import escape_rate, fit_pulse_response, pulse_response


def test_fit_recovers_threshold_width_floor_and_lapse():
    rng = np.random.default_rng(11)
    levels = np.linspace(0.0, 40.0, 33)
    truth = dict(threshold=17.0, width=3.0, floor=0.2, lapse=0.1)
    fired = rng.random((levels.size, 400)) < pulse_response(levels, **truth)[:, None]
    fit = fit_pulse_response(levels, fired, unit="uA/cm**2")
    # within 4 standard errors (SE = half the 95 % profile interval / 1.96): fails with probability ~1e-4
    for name, interval in (("width", fit.width_interval), ("threshold", fit.threshold_interval)):
        error = (interval[1] - interval[0]) / (2 * 1.96)
        assert abs(getattr(fit, name) - truth[name]) < 4 * error, (name, getattr(fit, name), interval)
    # floor and lapse within 4 binomial standard errors of the trials that set them
    assert fit.floor == pytest.approx(truth["floor"], abs=4 * np.sqrt(0.2 * 0.8 / (400 * 12)))
    assert fit.lapse == pytest.approx(truth["lapse"], abs=4 * np.sqrt(0.1 * 0.9 / (400 * 12)) / 0.8)
    np.testing.assert_allclose(fit.probability(levels), pulse_response(levels, fit.threshold, fit.width, fit.floor,
                                                                       fit.lapse))


def _coverage(replicates, seed):
    rng = np.random.default_rng(seed)
    levels = np.linspace(6.0, 20.0, 15)
    covered = 0
    for _ in range(replicates):
        fired = rng.random((levels.size, 20)) < ndtr((levels[:, None] - 13.0) / 2.0)
        fit = fit_pulse_response(levels, fired, floor=False, lapse=False)
        covered += fit.width_interval[0] < 2.0 < fit.width_interval[1]
    return covered / replicates


def test_width_profile_interval_covers_small():
    # 40 replicates: a 95 % interval covers >= 84 % (3 binomial standard deviations below 0.95)
    assert _coverage(40, 3) >= 0.84


@pytest.mark.slow
def test_width_profile_interval_coverage():
    # 400 replicates of 15 amplitudes x 20 trials: coverage within 3 standard deviations (1.1 %) of 95 %
    assert 0.95 - 0.033 <= _coverage(400, 4) <= 0.95 + 0.033


def test_unidentified_width_is_unbounded():
    levels = np.linspace(0.0, 10.0, 11)
    fired = np.tile(np.array([0, 1] * 5, dtype=float), (levels.size, 1))  # 50 % everywhere: no curve
    fit = fit_pulse_response(levels, fired)
    assert not fit.bounded


def test_fit_errors():
    with pytest.raises(ParameterError, match="0/1"):
        fit_pulse_response([1.0, 2.0, 3.0], np.full((3, 4), 0.5))
    with pytest.raises(ParameterError, match="three or more"):
        fit_pulse_response([1.0, 2.0], np.ones((2, 4)))
    with pytest.raises(ParameterError, match="transition"):
        fit_pulse_response([1.0, 2.0, 3.0], np.zeros((3, 4)))


def test_escape_rate_closed_form_and_coverage():
    rng = np.random.default_rng(2)
    rate, duration, covered, estimates = 2.5, 0.6, 0, []
    for _ in range(800):
        times = rng.exponential(1 / rate, 50)
        times[times > duration] = np.nan
        estimate, low, high, events, exposure = escape_rate(times, duration)
        assert estimate == pytest.approx(events / exposure)
        covered += low <= rate <= high
        estimates.append(estimate)
    # Garwood's interval on a censored exponential: coverage within 3 SD (0.8 %) of 95 %, or above
    assert covered / 800 >= 0.95 - 0.024
    # the ML estimate is consistent (mean within 3 standard errors of the rate, plus its O(1/events) bias)
    assert np.mean(estimates) == pytest.approx(rate, rel=3 * np.std(estimates) / np.sqrt(800) / rate + 0.05)
    with pytest.raises(ParameterError, match="between 0"):
        escape_rate([2.0], 1.0)
