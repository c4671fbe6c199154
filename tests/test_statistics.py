"""Coverage of the intervals in neurophase.statistics, simulated at the trial counts the experiments use."""

import numpy as np
import pytest

from neurophase.check.verdicts import make_verdict
from neurophase.statistics import bootstrap_interval, mean_interval, regression_slope_interval


def _coverage(interval, sampler, truth, repeats, seed):
    rng = np.random.default_rng(seed)
    samples = sampler(rng, repeats)  # shape (repeats, n)
    _, low, high = interval(samples)
    return float(np.mean((low <= truth) & (truth <= high)))


@pytest.mark.parametrize("n", [4, 6, 10])
def test_student_interval_of_a_mean_covers_at_its_nominal_level(n):
    # 4000 repeats: the standard error of a coverage of 0.95 is sqrt(0.95 * 0.05 / 4000) = 0.0034,
    # so +-0.015 is more than 4 standard errors.
    coverage = _coverage(lambda s: mean_interval(s, axis=-1), lambda rng, r: rng.normal(3.0, 2.0, (r, n)),
                         3.0, 4000, seed=n)
    assert abs(coverage - 0.95) < 0.015


def test_student_interval_stays_near_nominal_for_skewed_trials():
    # exponential trials (skewness 2, much more than any per-seed statistic measured here):
    # the t interval is known to under-cover a little at n = 6 (about 0.90-0.92)
    coverage = _coverage(lambda s: mean_interval(s, axis=-1), lambda rng, r: rng.exponential(1.0, (r, 6)),
                         1.0, 4000, seed=1)
    assert 0.88 < coverage < 0.95


def test_percentile_bootstrap_of_few_trials_undercovers_which_is_why_it_is_not_used():
    # the reason for mean_interval: a percentile bootstrap of 5 normal trials covers ~0.8
    rng = np.random.default_rng(2)
    hits = 0
    repeats = 400
    for _ in range(repeats):
        sample = rng.normal(0.0, 1.0, 5)
        _, low, high = bootstrap_interval(sample, method="percentile", n_resamples=500, seed=0)
        hits += low <= 0.0 <= high
    # binomial standard error at p = 0.8, 400 repeats: 0.02; bound at about 4 standard errors
    assert hits / repeats < 0.88


def test_bca_interval_covers_with_enough_samples():
    rng = np.random.default_rng(3)
    hits = 0
    repeats = 300
    for _ in range(repeats):
        sample = rng.normal(1.0, 1.0, 30)
        _, low, high = bootstrap_interval(sample, n_resamples=999, seed=0)
        hits += low <= 1.0 <= high
    # expected ~0.94; binomial standard error 0.014 at 300 repeats; accept 0.89-0.99
    assert 0.89 < hits / repeats < 0.99


def test_regression_slope_interval_covers():
    rng = np.random.default_rng(4)
    x = np.linspace(0, 1, 6)
    hits = 0
    repeats = 2000
    for _ in range(repeats):
        y = 2.0 - 0.5 * x + rng.normal(0, 0.1, x.size)
        _, low, high = regression_slope_interval(x, y)
        hits += low <= -0.5 <= high
    # binomial standard error 0.005: +-0.02 is 4 standard errors
    assert abs(hits / repeats - 0.95) < 0.02


def test_mean_interval_on_a_dataarray_and_degenerate_rows():
    import xarray as xr

    data = xr.DataArray([[1.0, 2.0, 3.0], [5.0, np.nan, np.nan]], dims=("input", "trial"))
    estimate, low, high = mean_interval(data, dim="trial")
    assert estimate.tolist() == [2.0, 5.0]
    assert np.isclose(high[0] - 2.0, 4.302653 * 1.0 / np.sqrt(3), rtol=1e-6)  # t_{0.975, 2} s / sqrt(3)
    assert np.isnan(low[1]) and np.isnan(high[1])


def test_verdict_rules_differ_as_documented():
    # a noisy measurement with a wide interval: passes 'interval', fails 'equivalence'
    wide = dict(expected=0.5, measured=0.6, ci_low=0.2, ci_high=1.0, tolerance=0.15)
    assert make_verdict("X", "q", rule="interval", **{k: v for k, v in wide.items() if k != "tolerance"}).holds
    assert make_verdict("X", "q", rule="tolerance", **wide).holds
    assert not make_verdict("X", "q", rule="equivalence", **wide).holds
    # a precise measurement just off: fails 'interval' and 'tolerance' alike
    narrow = dict(expected=0.5, measured=0.7, ci_low=0.68, ci_high=0.72, tolerance=0.15)
    assert not make_verdict("X", "q", rule="tolerance", **narrow).holds
    with pytest.raises(ValueError):
        make_verdict("X", "q", 1.0, 1.0, 0.9, 1.1, rule="tolerance")


@pytest.mark.parametrize("n", [4, 6])
def test_jackknife_trial_interval_of_a_nonlinear_statistic_covers_near_nominal(n):
    # the statistic the membrane verdicts use: a power-law exponent fitted to trial-averaged
    # curves y = x^0.5 (1 + noise); coverage of the true exponent 0.5 over 1000 repeats, binomial
    # standard error 0.007: accept 0.91-0.98 (the jackknife is first-order accurate)
    import xarray as xr

    from neurophase.statistics import trial_interval

    rng = np.random.default_rng(10 + n)
    x = np.linspace(0.1, 1.0, 8)

    def exponent(mean):
        return np.polyfit(np.log(x), np.log(mean.values), 1)[0]

    hits = 0
    repeats = 1000
    for _ in range(repeats):
        trials = x[None, :] ** 0.5 * (1 + 0.05 * rng.standard_normal((n, x.size)))
        _, low, high = trial_interval(xr.DataArray(trials, dims=("trial", "x")), exponent)
        hits += low <= 0.5 <= high
    assert 0.91 < hits / repeats < 0.98


def test_jackknife_interval_of_the_mean_is_the_student_interval():
    import xarray as xr

    from neurophase.statistics import trial_interval

    data = xr.DataArray(np.random.default_rng(5).normal(size=(6, 3)), dims=("trial", "x"))
    jack = trial_interval(data, lambda mean: mean.values)
    student = mean_interval(data.values, axis=0)
    for a, b in zip(jack, student):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_profile_likelihood_interval_with_a_nuisance_parameter_has_its_closed_form():
    """Normal data, unknown variance: the profile interval of the mean is
    |mean - mu| <= s_ML sqrt(exp(q/n) - 1) (q the chi-square quantile; Pawitan 2001, sec. 3.4)."""
    from scipy import stats

    from neurophase.statistics import profile_likelihood_interval

    data = np.random.default_rng(8).normal(3.0, 2.0, 25)
    n = data.size

    def nll(parameters):
        mu, log_sigma = parameters
        return n * log_sigma + 0.5 * np.sum((data - mu) ** 2) / np.exp(2 * log_sigma)

    s_ml = data.std()
    estimate, low, high = profile_likelihood_interval(nll, [data.mean(), np.log(s_ml)], 0)
    half = s_ml * np.sqrt(np.exp(stats.chi2.ppf(0.95, 1) / n) - 1)
    assert estimate == pytest.approx(data.mean())
    assert low == pytest.approx(data.mean() - half, rel=1e-6)
    assert high == pytest.approx(data.mean() + half, rel=1e-6)
    # a bounded parameter whose likelihood does not fall far enough: that end is infinite
    flat = profile_likelihood_interval(lambda p: 0.01 * (p[0] - 1.0) ** 2, [1.0], 0, bounds=[(0.0, 5.0)])
    assert flat.low == -np.inf and flat.high == np.inf
