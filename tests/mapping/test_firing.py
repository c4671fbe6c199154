"""Spike-train statistics against closed forms (periodic trains) and Poisson-process theory."""

import numpy as np
import pytest
from brian2 import ms, mV, second

from neurophase.errors import NeurophaseError, UnitMismatchError
from neurophase.mapping.firing import fano_factor, p_fire, spike_statistics


def test_periodic_trains_give_exact_rate_latency_and_zero_cv():
    # Neurone k fires periodically with period T_k from latency L_k: rate = 1/T_k exactly, CV = 0.
    periods = np.array([10.0, 7.3, 25.0])  # ms
    latencies = np.array([3.0, 1.1, 12.5])  # ms
    indices, times = [], []
    for neuron, (period, latency) in enumerate(zip(periods, latencies)):
        train = np.arange(latency, 1000.0, period)
        indices.append(np.full(train.size, neuron))
        times.append(train)
    statistics = spike_statistics(np.concatenate(indices), np.concatenate(times) * ms, 4,
                                  start=0 * ms, stop=1000 * ms)
    np.testing.assert_allclose(statistics["rate"].values[:3], 1000.0 / periods, rtol=1e-9)
    np.testing.assert_allclose(statistics["first_spike_latency"].values[:3], latencies, rtol=1e-12)
    np.testing.assert_allclose(statistics["cv_isi"].values[:3], 0.0, atol=1e-6)
    expected_counts = [np.arange(latency, 1000.0, period).size for period, latency in zip(periods, latencies)]
    np.testing.assert_array_equal(statistics["spike_count"].values[:3], expected_counts)
    # the neurone without spikes
    assert statistics["rate"].values[3] == 0.0
    assert np.isnan(statistics["first_spike_latency"].values[3])
    assert np.isnan(statistics["cv_isi"].values[3])
    assert statistics["rate"].attrs["units"] == "Hz"
    assert statistics["first_spike_latency"].attrs["units"] == "ms"


def test_transient_is_excluded_from_the_steady_state_rate():
    # A burst at 5 ms intervals during the first 100 ms, then 20 ms intervals: with a 200 ms
    # transient the steady rate is exactly 50 Hz; counting all spikes would give more.
    burst = np.arange(0.0, 100.0, 5.0)
    tonic = np.arange(100.0, 1000.0, 20.0)
    times = np.r_[burst, tonic]
    statistics = spike_statistics(np.zeros(times.size, int), times, 1, 0.0, 1000.0,
                                  transient=200.0, time_unit="ms")
    assert statistics["rate"].values[0] == pytest.approx(50.0, rel=1e-12)
    assert statistics["spike_count"].values[0] == times.size
    # the default transient is the first 20% of the window: here also 200 ms
    default = spike_statistics(np.zeros(times.size, int), times * ms, 1, 0 * ms, 1000 * ms)
    assert default["rate"].values[0] == pytest.approx(50.0, rel=1e-12)


def test_a_train_that_stops_falls_back_to_count_over_window():
    # Four spikes at 10 ms intervals early in the steady window, then silence for 700 ms: the
    # train is not still firing, so the rate is 4 spikes / 0.8 s = 5 Hz (not 100 Hz).
    times = np.array([250.0, 260.0, 270.0, 280.0])
    statistics = spike_statistics(np.zeros(4, int), times, 1, 0.0, 1000.0, time_unit="ms")
    assert statistics["rate"].values[0] == pytest.approx(5.0)


def test_per_neurone_windows_and_unit_conversion():
    # Two sweeps with different windows; times given in seconds via time_unit.
    indices = np.array([0, 0, 0, 1, 1, 1])
    times = np.array([0.1, 0.2, 0.3, 1.05, 1.15, 1.25])
    statistics = spike_statistics(indices, times, 2, start=[0.0, 1.0], stop=[0.35, 1.3],
                                  transient=[0.0, 0.0], time_unit="second")
    np.testing.assert_allclose(statistics["rate"].values, [10.0, 10.0])
    np.testing.assert_allclose(statistics["first_spike_latency"].values, [100.0, 50.0])
    seconds = spike_statistics(indices, times * second, 2, start=[0.0, 1.0] * second,
                               stop=[0.35, 1.3] * second, transient=[0.0, 0.0] * second)
    np.testing.assert_allclose(seconds["rate"].values, statistics["rate"].values)


def test_poisson_trains_rate_cv_and_fano_match_theory():
    # Homogeneous Poisson process of rate 40 Hz (seeded): rate, CV = 1 and Fano factor = 1.
    generator = np.random.default_rng(12345)
    rate, duration, n_neurons = 40.0, 20.0, 50
    indices, times = [], []
    counts = generator.poisson(rate * duration, n_neurons)
    for neuron, count in enumerate(counts):
        times.append(np.sort(generator.uniform(0, duration, count)))
        indices.append(np.full(count, neuron))
    statistics = spike_statistics(np.concatenate(indices), np.concatenate(times) * second,
                                  n_neurons, 0 * second, duration * second, transient=0 * second)
    # The pooled rate over 50 x 20 s has standard error sqrt(40 / 1000 s) = 0.2 Hz: 4 SE = 0.8 Hz.
    assert statistics["rate"].values.mean() == pytest.approx(rate, abs=0.8)
    # The CV of ~800 exponential ISIs has SE ~ 1/sqrt(800) = 0.035 per train; the mean of 50
    # trains has SE 0.005: 4 SE = 0.02 (plus the ddof bias, O(1/800)).
    assert statistics["cv_isi"].values.mean() == pytest.approx(1.0, abs=0.02)
    # Fano factor across trials: counts in 1 s windows of one long train are Poisson, F = 1.
    # The sample F of 50 counts has SE sqrt(2/49) = 0.20 per neurone; the mean of 20 repeats
    # (distinct windows) has SE 0.045: 4 SE = 0.18.
    window_counts = np.stack([np.histogram(train, bins=np.arange(0, duration + 1e-9, 1.0))[0]
                              for train in times[:50]])
    assert np.mean(fano_factor(window_counts.T, axis=0)) == pytest.approx(1.0, abs=0.18)


def test_fano_factor_and_p_fire_of_known_counts():
    counts = np.array([[0, 0, 1, 3], [2, 2, 2, 2], [0, 0, 0, 0]], dtype=float)
    # rows: mean 1, sample variance 2 -> F = 2; constant -> F = 0; all zero -> undefined
    np.testing.assert_allclose(fano_factor(counts, axis=1), [2.0, 0.0, np.nan])
    np.testing.assert_allclose(p_fire(counts, axis=1), [0.5, 1.0, 0.0])


def test_bad_input_is_named():
    with pytest.raises(UnitMismatchError, match="time_unit"):
        spike_statistics([0], [1.0], 1, 0.0, 2.0)
    with pytest.raises(UnitMismatchError, match="spike_times"):
        spike_statistics([0], [1.0] * mV, 1, 0 * ms, 2 * ms)
    with pytest.raises(NeurophaseError, match="0..1"):
        spike_statistics([2], [1.0] * ms, 2, 0 * ms, 2 * ms)
    with pytest.raises(NeurophaseError, match="differ in length"):
        spike_statistics([0, 1], [1.0] * ms, 2, 0 * ms, 2 * ms)
