"""Equilibration detection and autocorrelation times on synthetic series with known answers."""

import numpy as np
import pytest
import xarray as xr

from neurophase.mapping.order_parameter import (
    integrated_autocorrelation_time,
    mser_truncation,
    stationary_statistics,
)


def _ar1(rng, coefficient, shape):
    """Stationary AR(1) x_t = a x_{t-1} + e_t with unit innovations (vectorised over rows)."""
    noise = rng.normal(size=shape)
    series = np.empty(shape)
    series[..., 0] = noise[..., 0] / np.sqrt(1 - coefficient**2)
    for step in range(1, shape[-1]):  # recursion in time, vectorised over the traces
        series[..., step] = coefficient * series[..., step - 1] + noise[..., step]
    return series


@pytest.mark.parametrize("coefficient", [0.5, 0.8])
def test_autocorrelation_time_of_ar1(coefficient):
    # Known answer: tau_int = (1/2)(1 + a)/(1 - a), so 2 tau_int = (1 + a)/(1 - a).
    # 200 traces of 5000 samples; Sokal's estimator has relative variance ~ 2(2W + 1)/n per trace
    # (W ~ 6 tau_int), i.e. a standard error of the mean over traces below 1.2 %; the window
    # bias (-exp(-W/tau)) and the bias of the mean subtraction (~ -tau/n) are below 0.5 %.
    # Tolerance 5 % = 4 standard errors.
    rng = np.random.default_rng(1)
    traces = _ar1(rng, coefficient, (200, 5000))
    expected = 0.5 * (1 + coefficient) / (1 - coefficient)
    estimate = integrated_autocorrelation_time(traces).mean()
    assert estimate == pytest.approx(expected, rel=0.05)


def test_mser5_finds_the_end_of_an_exponential_transient():
    # x_t = 5 exp(-t/20) + AR(1) noise (a = 0.5, sd 1.15). MSER-5 (White 1997) cuts where the
    # transient sinks into the noise of a 5-sample batch mean (sd sqrt(1.33 x 3 / 5) = 0.89),
    # i.e. near t = 20 ln(5/0.89) = 35 samples: the median cut must lie in [15, 100] and 90 % of
    # the cuts in [15, 150]. The truncated means must be unbiased: |mean over 200 traces| < 4
    # standard errors (keeping the transient would bias it by +0.1, > 10 standard errors).
    rng = np.random.default_rng(2)
    length = 1000
    time = np.arange(length)
    traces = 5.0 * np.exp(-time / 20.0) + _ar1(rng, 0.5, (200, length))
    index = mser_truncation(traces)
    assert 15 <= np.median(index) <= 100
    assert np.mean((index >= 15) & (index <= 150)) >= 0.9
    truncated = np.array([trace[start:].mean() for trace, start in zip(traces, index)])
    standard_error = np.sqrt(3.0 * 1.0 / (1 - 0.25) / (length - np.median(index)) / len(traces))
    assert abs(truncated.mean()) < 4 * standard_error
    untruncated_bias = (5.0 * np.exp(-time / 20.0)).mean()
    assert untruncated_bias > 10 * standard_error  # the test can fail without truncation


def test_stationary_statistics_on_known_process():
    # AR(1) with a = 0.8 and unit innovations around mean 0.3, after a transient: variance
    # 1/(1 - a^2) = 2.778, tau_int = 4.5 samples; 8 trials x 4000 samples per grid point.
    # Tolerances: variance 4 x its standard error sqrt(2 (1 + a^2)/(1 - a^2)/n_total) = 3.4 %,
    # tau_int 10 % (pooled estimate over 8 traces), mean 4 standard errors.
    rng = np.random.default_rng(3)
    a = 0.8
    values = 0.3 + _ar1(rng, a, (2, 8, 4000))
    values[..., :100] += 10.0 * np.exp(-np.arange(100) / 10.0)
    data = xr.DataArray(values, dims=("input", "trial", "time"),
                        coords={"time": np.arange(4000) * 0.5}, attrs={"units": "1"})
    statistics = stationary_statistics(data)
    variance = 1 / (1 - a**2)
    n_total = 8 * 3600
    assert float(statistics["variance"].mean()) == pytest.approx(
        variance, rel=4 * np.sqrt(2 * (1 + a**2) / (1 - a**2) / n_total))
    assert float(statistics["autocorrelation_time"].mean()) == pytest.approx(0.5 * (1 + a) / (1 - a), rel=0.10)
    assert float(statistics["autocorrelation_time_ms"].mean()) == pytest.approx(
        0.5 * float(statistics["autocorrelation_time"].mean()))
    standard_error = np.sqrt(variance * (1 + a) / (1 - a) / n_total)
    assert abs(float(statistics["mean"].mean()) - 0.3) < 4 * standard_error
    assert np.all(statistics["equilibration_index"].values >= 100 * 0.5)  # most of the transient cut
