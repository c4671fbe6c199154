"""The feature layer against closed forms, and against eFEL on the shared recordings."""

import numpy as np
import pytest

from neurophase.fit.features import FEATURES, StepWindow, feature_dataset, pooled_features, step_features

INTERVAL = 5e-5


def _rc_trace(amplitude_mV, tau, sag=0.0, duration=0.6, start=0.1, stop=0.5, rest=-70.0):
    """RC response to a step (closed form), with an optional sag relaxing with 50 ms."""
    t = np.arange(0, duration, INTERVAL)
    inside = (t >= start) & (t < stop)
    response = amplitude_mV * (1 - np.exp(-(t - start) / tau)) * (1 - sag * (1 - np.exp(-(t - start) / 0.05)))
    return t, np.where(inside, rest + response, rest)


def test_subthreshold_features_match_the_rc_closed_form():
    _, voltage = _rc_trace(-10.0, 0.02)
    step = StepWindow(0, 0.1, 0.5, -100.0, 0.0, (0.0, 0.1))
    row = step_features(voltage, INTERVAL, np.array([]), [step])[0]
    # steady state after 20 tau: exp(-20) of 10 mV is negligible
    assert row["voltage_deflection"] == pytest.approx(-10.0, abs=1e-6)
    assert row["input_resistance"] == pytest.approx(100.0, rel=1e-6)  # 10 mV / 100 pA = 100 MOhm
    assert row["time_constant"] == pytest.approx(20.0, rel=1e-3)
    assert row["sag_ratio"] == pytest.approx(0.0, abs=1e-3)
    assert row["spike_rate"] == 0.0 and row["spike_count"] == 0.0
    assert np.isnan(row["first_spike_latency"]) and np.isnan(row["ap_width"])


def test_sag_ratio_matches_its_definition():
    _, voltage = _rc_trace(-10.0, 0.005, sag=0.3)
    step = StepWindow(0, 0.1, 0.5, -100.0, 0.0, (0.0, 0.1))
    row = step_features(voltage, INTERVAL, np.array([]), [step])[0]
    minimum = voltage.min()
    steady = np.mean(voltage[int(0.46 / INTERVAL):int(0.5 / INTERVAL)])
    assert row["sag_ratio"] == pytest.approx((steady - minimum) / (-70.0 - minimum), rel=1e-3)
    assert row["sag_ratio"] > 0.15  # a sag is seen (the ratio is below 0.3: the rise overlaps the sag)


def test_spike_train_features_of_a_geometric_train():
    # ISIs 10, 20, 40 ms: adaptation index (r - 1)/(r + 1) = 1/3; CV from the sample standard deviation
    times = 0.1 + np.cumsum([0.005, 0.010, 0.020, 0.040])
    step = StepWindow(0, 0.1, 0.6, 200.0, 0.0, (0.0, 0.1))
    row = step_features(None, INTERVAL, times, [step])[0]
    intervals = np.array([0.010, 0.020, 0.040])
    assert row["spike_count"] == 4 and row["spike_rate"] == pytest.approx(8.0)
    assert row["first_spike_latency"] == pytest.approx(5.0)
    assert row["adaptation_index"] == pytest.approx(1 / 3)
    assert row["isi_cv"] == pytest.approx(intervals.std(ddof=1) / intervals.mean())
    assert np.isnan(row["voltage_base"])  # no trace: explicitly undefined


def test_spike_shape_of_a_triangular_spike():
    # a linear rise from -50 to +30 mV in 1 ms (80 mV/ms) and a linear fall in 2 ms: threshold at the
    # foot (-50 mV), amplitude 80 mV, half-amplitude width = (1 + 2) / 2 ms = 1.5 ms
    t = np.arange(0, 0.05, INTERVAL)
    peak_time = 0.02
    voltage = np.full(t.size, -50.0)
    rise = (t >= peak_time - 0.001) & (t < peak_time)
    fall = (t >= peak_time) & (t < peak_time + 0.002)
    voltage[rise] = -50.0 + 80.0 * (t[rise] - (peak_time - 0.001)) / 0.001
    voltage[fall] = 30.0 - 80.0 * (t[fall] - peak_time) / 0.002
    step = StepWindow(0, 0.01, 0.04, 100.0, 0.0, None)
    row = step_features(voltage, INTERVAL, np.array([peak_time]), [step])[0]
    assert row["ap_threshold"] == pytest.approx(-50.0, abs=4.0 + 1e-9)  # one 0.05-ms sample of an 80 mV/ms rise
    assert row["ap_amplitude"] == pytest.approx(80.0, abs=4.0 + 1e-9)
    assert row["ap_width"] == pytest.approx(1.5, abs=0.05)


def test_pooled_features_and_explicit_undefined_flags():
    steps = [StepWindow(0, 0.1, 0.5, amplitude, 0.0, (0.0, 0.1)) for amplitude in (-100.0, -50.0)]
    rows = []
    for step, amplitude_mV in zip(steps, (-10.0, -5.0)):
        _, voltage = _rc_trace(amplitude_mV, 0.02)
        rows += step_features(voltage, INTERVAL, np.array([]), [step])
    dataset = feature_dataset(rows, steps)
    pooled = pooled_features(dataset)
    assert pooled["input_resistance_slope"] == pytest.approx(100.0, rel=1e-6)
    assert pooled["time_constant_mean"] == pytest.approx(20.0, rel=1e-3)
    assert np.isnan(pooled["rheobase"])  # never fires
    defined = dataset["defined"].sel(feature="first_spike_latency").values
    assert defined.tolist() == [0, 0]
    assert dataset["first_spike_latency"].attrs["defined_when"] == FEATURES["first_spike_latency"].defined_when


@pytest.mark.recordings
def test_features_agree_with_efel_on_the_shared_recordings(ephys_dir):
    efel = pytest.importorskip("efel", reason="eFEL (the test extra) is the independent implementation")
    from neurophase.fit.data import prepare_recordings
    from neurophase.recordings.read import read_recordings

    data = prepare_recordings(read_recordings([ephys_dir / "18713001.abf"]))
    ours = data.recorded_features()
    efel.reset()
    names = ["Spikecount", "time_to_first_spike", "AP_begin_voltage", "AP_amplitude", "AP_duration_half_width",
             "voltage_base", "steady_state_voltage_stimend", "ISI_CV"]
    compared = 0
    for step_number, sweep in zip(range(ours.sizes["step"]), data.sweeps):
        step = sweep.steps[0]
        time = np.arange(sweep.voltage.size) * data.interval * 1e3
        trace = {"T": time, "V": sweep.voltage, "stim_start": [step.start * 1e3], "stim_end": [step.stop * 1e3]}
        result = efel.get_feature_values([trace], names, raise_warnings=False)[0]
        row = ours.isel(step=step_number)
        count = int(row["spike_count"])
        assert count == pytest.approx(result["Spikecount"][0], abs=1)  # eFEL counts -20 mV crossings
        if count >= 1 and result["time_to_first_spike"] is not None:
            # eFEL times the threshold crossing, we time the peak: at most ~1 ms apart
            assert float(row["first_spike_latency"]) == pytest.approx(result["time_to_first_spike"][0], abs=1.5)
        if count >= 2 and result["AP_begin_voltage"] is not None:
            assert float(row["ap_threshold"]) == pytest.approx(np.mean(result["AP_begin_voltage"][:count]), abs=2.0)
            assert float(row["ap_amplitude"]) == pytest.approx(np.mean(result["AP_amplitude"][:count]), abs=3.0)
            assert float(row["ap_width"]) == pytest.approx(np.mean(result["AP_duration_half_width"][:count]),
                                                           rel=0.15)
            compared += 1
        if count == 0:
            # eFEL's voltage_base is the mean of 90-100% of the pre-stimulus time: a mean over a different
            # window than our median of the holding segment, so they agree to the baseline noise (~1 mV)
            assert float(row["steady_state_voltage"]) == pytest.approx(
                result["steady_state_voltage_stimend"][0], abs=0.5)
    assert compared >= 15
