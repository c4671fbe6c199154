"""Readers on files the tests write themselves (ABF1 with pyabf, NWB with pynwb, CSV), and bad input.

The synthetic sweeps (tests/recordings/synthetic.py) have spikes placed at the periodic
times of the leaky integrate-and-fire f-I closed form, so every count is known exactly.
"""

import datetime
import json

import numpy as np
import pytest
from brian2 import ms, pA

from neurophase.errors import RecordingError
from neurophase.io import load_dataset, save_dataset
from neurophase.recordings.dataset import recording_dataset
from neurophase.recordings.read import read_recording

CURRENTS = [0.0, 100.0, 160.0, 200.0, 250.0, 300.0]


def _write_abf1(path, voltages, sampling_rate, units="mV"):
    from pyabf.abfWriter import writeABF1

    writeABF1(np.asarray(voltages, dtype=np.float32), str(path), sampleRateHz=sampling_rate, units=units)
    return path


def _write_nwb(path, voltages, currents, sampling_rate, voltage_clamp=False):
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.icephys import CurrentClampSeries, CurrentClampStimulusSeries, VoltageClampSeries

    nwbfile = NWBFile(session_description="synthetic LIF steps", identifier="neurophase-test",
                      session_start_time=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
    device = nwbfile.create_device(name="amplifier")
    electrode = nwbfile.create_icephys_electrode(name="cellA", description="synthetic", device=device)
    for number, (voltage, current) in enumerate(zip(voltages, currents)):
        if voltage_clamp:
            nwbfile.add_acquisition(VoltageClampSeries(
                name=f"vc_{number}", data=current * 1e-12, unit="amperes", electrode=electrode, gain=1.0,
                rate=sampling_rate, sweep_number=np.uint32(number), starting_time=0.0))
            continue
        nwbfile.add_acquisition(CurrentClampSeries(
            name=f"cc_{number}", data=voltage * 1e-3, unit="volts", electrode=electrode, gain=1.0,
            rate=sampling_rate, sweep_number=np.uint32(number), starting_time=0.0, stimulus_description="lif_steps"))
        nwbfile.add_stimulus(CurrentClampStimulusSeries(
            name=f"stim_{number}", data=current * 1e-12, unit="amperes", electrode=electrode, gain=1.0,
            rate=sampling_rate, sweep_number=np.uint32(number), starting_time=0.0))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path


def _write_csv(path, voltages, currents, sampling_rate, time_unit="ms"):
    scale = 1e3 if time_unit == "ms" else 1.0
    lines = ["# protocol: lif_steps", f"sweep,time ({time_unit}),voltage (mV),current (pA)"]
    time = np.arange(voltages.shape[1]) / sampling_rate * scale
    for number, (voltage, current) in enumerate(zip(voltages, currents)):
        lines += [f"{number},{t:.6f},{v:.4f},{i:.3f}" for t, v, i in zip(time, voltage, current)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _check_counts(dataset, synthetic, expected_counts):
    np.testing.assert_allclose(dataset["input"].values, CURRENTS, atol=0.01)
    np.testing.assert_array_equal(dataset["spike_count"].values[:, 0], expected_counts)
    # steady-state rate of periodic spikes = the LIF closed form (inverse ISI; 0.1 ms sampling of
    # a 6-60 ms period gives < 2% error)
    firing = expected_counts >= 3
    np.testing.assert_allclose(dataset["rate"].values[firing, 0], synthetic.lif_rate(np.array(CURRENTS)[firing]),
                               rtol=0.02)


def test_abf1_needs_an_explicit_protocol_and_then_reads_it(tmp_path, synthetic):
    voltages, _, counts = synthetic.sweeps(CURRENTS)
    path = _write_abf1(tmp_path / "cell.abf", voltages, synthetic.SAMPLING_RATE)
    with pytest.raises(RecordingError, match="does not guess"):
        read_recording(path)
    window = np.array([[synthetic.STEP_START, synthetic.STEP_STOP]]) * 1000 * ms
    recording = read_recording(path, step_amplitudes=np.array(CURRENTS) * pA, step_windows=window)
    assert recording.file_format == "abf1" and recording.current_source == "explicit step_amplitudes argument"
    dataset = recording_dataset(recording)
    _check_counts(dataset, synthetic, counts)
    # ABF1 stores 16-bit integers: the baseline is -65 mV to within the quantisation step
    np.testing.assert_allclose(dataset["baseline_potential"].values[:, 0], synthetic.REST, atol=0.1)


def test_abf1_protocol_from_a_sidecar_file(tmp_path, synthetic):
    voltages, _, counts = synthetic.sweeps(CURRENTS)
    path = _write_abf1(tmp_path / "cell.abf", voltages, synthetic.SAMPLING_RATE)
    (tmp_path / "cell.abf.steps.json").write_text(json.dumps({
        "step_windows": [[f"{synthetic.STEP_START} s", f"{synthetic.STEP_STOP} s"]],
        "step_amplitudes": [f"{current} pA" for current in CURRENTS]}))
    dataset = recording_dataset(read_recording(path))
    _check_counts(dataset, synthetic, counts)
    assert "sidecar" in dataset.attrs["current_source"]


def test_abf1_amplitudes_without_units_are_refused(tmp_path, synthetic):
    voltages, _, _ = synthetic.sweeps(CURRENTS)
    path = _write_abf1(tmp_path / "cell.abf", voltages, synthetic.SAMPLING_RATE)
    with pytest.raises(Exception, match="step_amplitudes"):
        read_recording(path, step_amplitudes=CURRENTS, step_windows=[[200, 700]] * ms)


def test_nwb_written_with_pynwb_round_trips(tmp_path, synthetic):
    voltages, currents, counts = synthetic.sweeps(CURRENTS)
    path = _write_nwb(tmp_path / "cell.nwb", voltages, currents, synthetic.SAMPLING_RATE)
    recording = read_recording(path)
    assert recording.cell == "cellA" and recording.protocol == "lif_steps"
    assert recording.voltage_unit == "volts" and recording.current_unit == "amperes"
    dataset = recording_dataset(recording)
    _check_counts(dataset, synthetic, counts)
    # the 0 pA sweep has no visible step: its window is taken from the other sweeps
    assert dataset["step_start"].values[0, 0] == pytest.approx(synthetic.STEP_START, abs=1e-4)
    assert dataset["step_duration"].values[0, 0] == pytest.approx(500.0, abs=0.1)
    # the Dataset survives NetCDF with its units and exclusion record
    saved = load_dataset(save_dataset(dataset, tmp_path / "cell.nc"))
    assert saved["rate"].attrs["units"] == "Hz" and saved["input"].attrs["units"] == "pA"
    np.testing.assert_array_equal(saved["spike_count"].values, dataset["spike_count"].values)
    assert json.loads(saved.attrs["excluded"]) == []


def test_csv_with_units_in_the_header(tmp_path, synthetic):
    voltages, currents, counts = synthetic.sweeps(CURRENTS)
    path = _write_csv(tmp_path / "cell.csv", voltages, currents, synthetic.SAMPLING_RATE)
    recording = read_recording(path)
    assert recording.sampling_rate == pytest.approx(synthetic.SAMPLING_RATE, rel=1e-6)
    assert recording.protocol == "lif_steps"
    _check_counts(recording_dataset(recording), synthetic, counts)


def test_csv_in_volts_is_converted(tmp_path, synthetic):
    voltages, currents, counts = synthetic.sweeps(CURRENTS[:3])
    path = tmp_path / "volts.csv"
    _write_csv(path, voltages / 1e3, currents, synthetic.SAMPLING_RATE)
    path.write_text(path.read_text().replace("voltage (mV)", "voltage (volt)"))
    dataset = recording_dataset(read_recording(path))
    np.testing.assert_array_equal(dataset["spike_count"].values[:, 0], counts)


# ------------------------------------------------------------------------------- bad input
def test_corrupt_and_truncated_files_raise_clear_errors(tmp_path, synthetic):
    garbage = tmp_path / "garbage.abf"
    garbage.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(RecordingError, match="corrupt, truncated"):
        read_recording(garbage)
    voltages, currents, _ = synthetic.sweeps(CURRENTS)
    nwb = _write_nwb(tmp_path / "cell.nwb", voltages, currents, synthetic.SAMPLING_RATE)
    cut = tmp_path / "cut.nwb"
    cut.write_bytes(nwb.read_bytes()[: nwb.stat().st_size // 3])
    with pytest.raises(RecordingError, match="corrupt, truncated"):
        read_recording(cut)
    with pytest.raises(RecordingError, match="No such recording file"):
        read_recording(tmp_path / "absent.abf")


def test_truncated_abf_sweeps_are_listed_as_excluded(tmp_path, synthetic):
    voltages, _, counts = synthetic.sweeps(CURRENTS)
    path = _write_abf1(tmp_path / "cell.abf", voltages, synthetic.SAMPLING_RATE)
    data = path.read_bytes()
    # drop the last 1.5 sweeps of 16-bit samples: sweep 4 is cut, sweep 5 is gone
    path.write_bytes(data[: len(data) - 512 - int(1.5 * voltages.shape[1]) * 2])
    recording = read_recording(path, step_amplitudes=np.array(CURRENTS) * pA, step_windows=[[200, 700]] * ms)
    dataset = recording_dataset(recording)
    excluded = json.loads(dataset.attrs["excluded"])
    reasons = {item["sweep"]: item["reason"] for item in excluded}
    assert set(reasons) == {4, 5}
    assert reasons[4].startswith("truncated") and reasons[5].startswith("missing")
    # a step cut short has no spike count at all, rather than a wrong one
    assert np.isnan(dataset["spike_count"].values[4:, 0]).all()
    np.testing.assert_array_equal(dataset["qc_pass"].values[:4, 0], 1)
    np.testing.assert_array_equal(dataset["spike_count"].values[:4, 0], counts[:4])


def test_voltage_clamp_recordings_are_refused(tmp_path, synthetic):
    voltages, currents, _ = synthetic.sweeps(CURRENTS[:2])
    with pytest.raises(RecordingError, match="voltage-clamp"):
        read_recording(_write_nwb(tmp_path / "vc.nwb", voltages, currents, synthetic.SAMPLING_RATE,
                                  voltage_clamp=True))
    with pytest.raises(RecordingError, match="voltage-clamp"):
        read_recording(_write_abf1(tmp_path / "vc.abf", currents, synthetic.SAMPLING_RATE, units="pA"))


def test_file_without_step_protocol_is_refused(tmp_path, synthetic):
    voltages, currents, _ = synthetic.sweeps([0.0, 0.0])
    with pytest.raises(RecordingError, match="no step protocol"):
        read_recording(_write_csv(tmp_path / "flat.csv", voltages, currents, synthetic.SAMPLING_RATE))


def test_sweep_of_nan_is_an_excluded_step_not_a_silent_zero(tmp_path, synthetic):
    voltages, currents, counts = synthetic.sweeps(CURRENTS)
    voltages[3] = np.nan
    path = _write_nwb(tmp_path / "nan.nwb", voltages, currents, synthetic.SAMPLING_RATE)
    dataset = recording_dataset(read_recording(path))
    excluded = json.loads(dataset.attrs["excluded"])
    assert [(item["sweep"], item["input_pA"]) for item in excluded] == [(3, 200.0)]
    assert "non-finite" in excluded[0]["reason"]
    assert int(dataset["qc_pass"].sel(input=200.0, trial=0)) == 0
    np.testing.assert_array_equal(dataset["qc_pass"].values[[0, 1, 2, 4, 5], 0], 1)
