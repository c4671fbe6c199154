"""Bad recordings and bad `neurophase recordings` arguments: refused with the reason, nothing written."""

import numpy as np
import pytest

from neurophase.cli import main
from neurophase.errors import RecordingError
from neurophase.recordings.plausibility import MAX_COMMAND_LEVELS, check_plausible
from neurophase.recordings.read import read_recording
from neurophase.testing import assert_cli_refuses

CURRENTS = [0.0, 100.0, 200.0, 300.0]


def _csv(path, voltages, currents, sampling_rate, voltage_unit="mV", current_unit="pA"):
    time = np.arange(voltages.shape[1]) / sampling_rate
    lines = [f"sweep,time (s),voltage ({voltage_unit}),current ({current_unit})"]
    for number, (voltage, current) in enumerate(zip(voltages, currents)):
        lines += [f"{number},{t:.5f},{v:.6g},{i:.6g}" for t, v, i in zip(time, voltage, current)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _voltage_clamp_csv(path, synthetic):
    """Voltage clamp: the 'voltage' is the command (-70 mV, steps to -50..-20 mV), the 'current'
    the clamp current of a 100 MOhm leak plus capacitive transients at the step edges."""
    _, steps, _ = synthetic.sweeps(CURRENTS)
    time = np.arange(steps.shape[1]) / synthetic.SAMPLING_RATE
    command = np.where(steps > 0, -70.0 + steps / 10.0, -70.0)
    transient = np.zeros_like(command)
    for edge in (synthetic.STEP_START, synthetic.STEP_STOP):
        transient += np.exp(-np.clip(time - edge, 0, None) / 0.001) * (time >= edge) * 500.0
    clamp_current = (command + 70.0) * 10.0 + transient * np.sign(steps.max(axis=1, keepdims=True))
    return _csv(path, command, clamp_current, synthetic.SAMPLING_RATE)


def test_voltage_clamp_like_csv_is_refused_with_the_reason(tmp_path, synthetic):
    path = _voltage_clamp_csv(tmp_path / "vc.csv", synthetic)
    with pytest.raises(RecordingError, match=rf"takes only [1-{MAX_COMMAND_LEVELS}] distinct values per sweep.*"
                                             r"voltage-clamp recording"):
        read_recording(path)
    assert_cli_refuses(["recordings", path, "--out", tmp_path / "out"], tmp_path,
                       r"none of the 1 recording\(s\) could be analysed \(.*vc.csv: .*voltage-clamp")


def test_volts_written_in_a_millivolt_column_are_refused(tmp_path, synthetic):
    voltages, currents, _ = synthetic.sweeps(CURRENTS)
    path = _csv(tmp_path / "volts.csv", voltages / 1e3, currents, synthetic.SAMPLING_RATE)
    with pytest.raises(RecordingError, match=r"within \+-1 mV \(median -0.06\d+ mV\).*look like volts: label the "
                                             r"channel 'V'"):
        read_recording(path)
    # the reverse: millivolts in a column labelled volts
    path = _csv(tmp_path / "millivolts.csv", voltages, currents, synthetic.SAMPLING_RATE, voltage_unit="volt")
    with pytest.raises(RecordingError, match=r"look like millivolts labelled as volts"):
        read_recording(path)
    # and amperes in a pA column
    path = _csv(tmp_path / "amperes.csv", voltages, currents * 1e-12, synthetic.SAMPLING_RATE)
    with pytest.raises(RecordingError, match=r"look like amperes"):
        read_recording(path)


def test_plausible_recordings_pass(tmp_path, synthetic):
    voltages, currents, _ = synthetic.sweeps(CURRENTS)
    recording = read_recording(_csv(tmp_path / "cell.csv", voltages, currents, synthetic.SAMPLING_RATE))
    assert check_plausible(recording) is recording


def test_every_file_bad_prints_every_reason_on_one_error_line(tmp_path, synthetic):
    voltages, currents, _ = synthetic.sweeps(CURRENTS)
    volts = _csv(tmp_path / "volts.csv", voltages / 1e3, currents, synthetic.SAMPLING_RATE)
    garbage = tmp_path / "garbage.abf"
    garbage.write_bytes(b"\x00" * 3000)
    line = assert_cli_refuses(["recordings", volts, garbage, "--out", tmp_path / "out"], tmp_path)
    assert "none of the 2 recording(s) could be analysed" in line
    assert "volts.csv: " in line and "look like volts" in line and "garbage.abf: " in line


def test_out_is_an_existing_file_and_no_staging_folder_is_left(tmp_path, synthetic):
    voltages, currents, _ = synthetic.sweeps(CURRENTS)
    cell = _csv(tmp_path / "cell.csv", voltages, currents, synthetic.SAMPLING_RATE)
    existing = tmp_path / "existing.txt"
    existing.write_text("not a folder")
    assert_cli_refuses(["recordings", cell, "--out", existing], tmp_path, r"existing.txt is a file; give a folder")


@pytest.mark.parametrize("bootstrap", ["0", "39"])
def test_too_few_bootstrap_resamples_are_refused(tmp_path, synthetic, bootstrap):
    """--bootstrap 0 gave a CI of [nan, nan] that flipped a verdict."""
    voltages, currents, _ = synthetic.sweeps(CURRENTS)
    cell = _csv(tmp_path / "cell.csv", voltages, currents, synthetic.SAMPLING_RATE)
    assert_cli_refuses(["recordings", cell, "--out", tmp_path / "out", "--bootstrap", bootstrap], tmp_path,
                       rf"--bootstrap {bootstrap} is too few resamples for a 95% interval.*at least 40")


def test_other_bad_arguments(tmp_path, synthetic):
    voltages, currents, _ = synthetic.sweeps(CURRENTS)
    cell = _csv(tmp_path / "cell.csv", voltages, currents, synthetic.SAMPLING_RATE)
    out = tmp_path / "out"
    assert_cli_refuses(["recordings", tmp_path / "absent.abf", "--out", out], tmp_path, r"no such recording file")
    assert_cli_refuses(["recordings", cell, "--out", out, "--folds", "1"], tmp_path, r"--folds 1 must be at least 2")
    assert_cli_refuses(["recordings", cell, "--out", out, "--liquid-junction-potential", "14 ms"], tmp_path,
                       r"--liquid-junction-potential")
    (tmp_path / "older").mkdir()
    (tmp_path / "older" / "report.md").write_text("an older result")
    assert_cli_refuses(["recordings", cell, "--out", tmp_path / "older"], tmp_path, r"--overwrite")


def test_some_files_bad_lists_them_on_stderr_and_logs_each_cell(tmp_path, synthetic, capsys):
    voltages, currents, _ = synthetic.sweeps(np.arange(0.0, 400.0, 50.0))
    cell = _csv(tmp_path / "cell.csv", voltages, currents, synthetic.SAMPLING_RATE)
    volts = _csv(tmp_path / "volts.csv", voltages[:3] / 1e3, currents[:3], synthetic.SAMPLING_RATE)
    status = main(["recordings", str(cell), str(volts), "--out", str(tmp_path / "out"), "--bootstrap", "40",
                   "--folds", "2", "--no-figures"])
    captured = capsys.readouterr()
    assert status == 1
    errors = captured.err.splitlines()
    assert "neurophase: [1/1] cell cell (cell.csv)" in errors  # a log line per cell: not a terminal
    assert [line for line in errors if line.startswith("not analysed")] == [
        line for line in errors if "volts.csv" in line]
    assert "1 cell(s) analysed" in captured.out
