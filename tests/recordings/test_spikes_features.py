"""Spike detection and firing features against closed forms and constructed traces."""

import numpy as np
import pytest
import xarray as xr

from neurophase.errors import UnitMismatchError
from neurophase.recordings.features import adaptation_index, fi_features
from neurophase.recordings.spikes import detect_spikes

RATE = 20000.0


def _trace(duration=1.0):
    return np.arange(int(duration * RATE)) / RATE


def _spikes(time, times, peak_height=100.0, width=0.0004):
    return peak_height * np.exp(-0.5 * ((time[:, None] - np.asarray(times)) / width) ** 2).sum(axis=1)


def test_detects_every_placed_spike_at_its_peak():
    time = _trace()
    times = np.array([0.1, 0.23, 0.31, 0.5, 0.77])
    voltage = -65.0 + _spikes(time, times) + 0.3 * np.random.default_rng(1).standard_normal(time.size)
    peaks = detect_spikes(voltage, RATE)
    assert peaks.size == times.size
    # noise of 0.3 mV on a Gaussian peak of 0.4 ms width moves the maximum by at most a few samples
    np.testing.assert_allclose(peaks / RATE, times, atol=3 / RATE)


def test_plateau_noise_near_zero_is_not_a_spike_but_crosses_zero_many_times():
    time = _trace()
    generator = np.random.default_rng(2)
    voltage = np.where((time > 0.2) & (time < 0.8), 0.0, -65.0) + 0.6 * generator.standard_normal(time.size)
    voltage += _spikes(time, [0.205])  # one onset spike, as in 171116sh_0019 at 1600 pA
    crossings = np.count_nonzero((voltage[1:] >= 0) & (voltage[:-1] < 0))
    assert crossings > 100  # the naive 0 mV count is meaningless here
    assert detect_spikes(voltage, RATE).size == 1


def test_small_spikes_peaking_below_zero_are_detected():
    time = _trace()
    voltage = -55.0 + _spikes(time, [0.2, 0.4, 0.6], peak_height=45.0)  # peaks at -10 mV
    assert np.max(voltage) < 0
    assert detect_spikes(voltage, RATE).size == 3


def test_slow_depolarising_bump_is_rejected_by_the_upstroke_rule():
    time = _trace()
    # 40 mV bump peaking at -15 mV, 40 ms wide: height and prominence pass, rise at most ~0.6 mV/ms
    voltage = -55.0 + 40.0 * np.exp(-0.5 * ((time - 0.5) / 0.04) ** 2)
    assert detect_spikes(voltage, RATE, prominence_window="400 ms").size == 0
    assert detect_spikes(voltage, RATE, prominence_window="400 ms", min_upstroke="0 mV/ms").size == 1


def test_nan_samples_never_hold_a_spike():
    time = _trace()
    voltage = -65.0 + _spikes(time, [0.3, 0.6])
    voltage[int(0.55 * RATE):int(0.65 * RATE)] = np.nan
    assert (detect_spikes(voltage, RATE) / RATE).tolist() == pytest.approx([0.3], abs=1e-4)


def test_settings_need_units():
    with pytest.raises(UnitMismatchError, match="min_amplitude"):
        detect_spikes(np.zeros(100), RATE, min_amplitude=20)
    with pytest.raises(UnitMismatchError, match="refractory"):
        detect_spikes(np.zeros(100), RATE, refractory="1 mV")


@pytest.mark.parametrize("ratio", [1.0, 1.5, 2.0, 0.8])
def test_adaptation_index_of_geometric_intervals(ratio):
    intervals = 0.01 * ratio ** np.arange(6)
    times = np.r_[0.0, np.cumsum(intervals)]
    assert adaptation_index(times) == pytest.approx((ratio - 1) / (ratio + 1), abs=1e-12)


def _fi_dataset(current, rate, qc_pass=None, block=None):
    rate = np.asarray(rate, dtype=float)[:, None]
    shape = rate.shape
    dims = ("input", "trial")
    return xr.Dataset(
        {
            "rate": (dims, rate, {"units": "Hz"}),
            "spike_count": (dims, rate * 0.5, {"units": "1"}),
            "qc_pass": (dims, np.ones(shape, int) if qc_pass is None else np.asarray(qc_pass)[:, None]),
            "depolarisation_block": (dims, np.zeros(shape, int) if block is None else np.asarray(block)[:, None]),
        },
        coords={"input": ("input", np.asarray(current, float), {"units": "pA"}), "trial": [0]},
    )


def test_fi_features_of_a_rectified_linear_curve_with_saturation():
    current = np.arange(0, 400, 25.0)
    rate = np.clip(0.2 * (current - 100.0), 0, 40.0)  # rheobase 125 pA (first positive), slope 0.2 Hz/pA
    features = fi_features(_fi_dataset(current, rate))
    assert features["rheobase"] == 125.0 and features["last_silent_current"] == 100.0
    assert features["slope"] == pytest.approx(0.2, rel=1e-12)
    assert features["max_rate"] == 40.0
    assert features["saturation_current"] == 300.0


def test_fi_features_ignore_excluded_steps_and_report_block_onset():
    current = np.arange(0, 400, 25.0)
    rate = np.clip(0.2 * (current - 100.0), 0, 40.0)
    rate[-3:] = 2.0  # block: the rate collapses
    qc_pass = np.r_[np.ones(13, int), np.zeros(3, int)]
    features = fi_features(_fi_dataset(current, rate, qc_pass, 1 - qc_pass))
    assert features["max_rate"] == 40.0
    assert features["block_onset_current"] == 325.0
    assert features["n_levels"] == 13
