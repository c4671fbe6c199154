"""Experiment files and the runner: validation before any work, outputs, no half-written folders,
results written as they arrive, resume after an interruption."""

import os
import stat

import numpy as np
import pytest
import xarray as xr

from neurophase import experiments
from neurophase.check.verdicts import make_verdict, read_verdicts_csv
from neurophase.cli import main
from neurophase.errors import ExperimentFileError, InterruptedRunError, NeurophaseError, OutputError
from neurophase.io import load_dataset
from neurophase.records import read_manifest, verify_manifest
from neurophase.schema import provenance, quantity_coordinate, quantity_variable
from neurophase.units import setting_units

CALLS = []
INTERRUPTED_AMPLITUDES = set()


@setting_units(tau0="ms")
def fake_measurement(amplitude=1.0, tau0=None, seed=None, fail=False, temperature=0.5):
    """A measurement with a known answer: M = tanh(h) sampled exactly."""
    CALLS.append(amplitude)
    if fail:
        raise RuntimeError("simulated failure")
    if amplitude in INTERRUPTED_AMPLITUDES:  # what run_network raises after Brian2 stopped on Ctrl-C
        raise InterruptedRunError("the Brian2 run of a fake network stopped at 1 s of 10 s")
    h = np.linspace(-2, 2, 9)
    dataset = xr.Dataset(
        {"order_parameter_mean": quantity_variable(amplitude * np.tanh(h), "1", ("input",))},
        coords={"input": quantity_coordinate("input", h, "1")},
        attrs=provenance(model_name="fake", seed=seed),
    )
    slope = float(np.gradient(dataset["order_parameter_mean"].values, h)[4])
    verdict = make_verdict("T1", "slope at h = 0", 1.0, slope, slope - 0.02, slope + 0.02)
    return [verdict], {"curve": dataset}


@pytest.fixture
def fake_registry(monkeypatch):
    monkeypatch.setitem(experiments.MEASUREMENTS, "fake", "fake:fake")
    real = experiments._resolve
    monkeypatch.setattr(experiments, "_resolve",
                        lambda name, folder="": fake_measurement if name == "fake" else real(name, folder))


def _write(tmp_path, body):
    path = tmp_path / "experiment.toml"
    path.write_text('[experiment]\nname = "t"\ntitle = "A test"\n' + body)
    return path


def test_run_writes_every_output(tmp_path, fake_registry):
    path = _write(tmp_path, '[execution]\nseed = 7\n[[measurement]]\nfunction = "fake"\ntau0 = "1 ms"\n')
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["fake_curve.nc", "fake_curve_order_parameter_mean.png", "fake_verdicts.png",
                     "manifest.json", "report.md", "summary_verdicts.png", "verdicts.csv"]
    assert verify_manifest(out) == []  # every file has its SHA-256 in the manifest
    assert not (tmp_path / "out.partial").exists()  # the resume record is gone after success
    rows = read_verdicts_csv(out / "verdicts.csv")
    # central difference of tanh at 0 with step 0.5: tanh(0.5)/0.5 = 0.9242
    assert rows[0]["measured"] == pytest.approx(np.tanh(0.5) / 0.5, rel=1e-6)
    assert rows[0]["holds"] is False
    loaded = load_dataset(out / "fake_curve.nc")
    assert loaded.attrs["seed"] == 7 and loaded.attrs["experiment"] == "t"
    report = (out / "report.md").read_text()
    assert "![" in report and "fake_verdicts.png" in report and "0 of 1 checked predictions hold" in report


@pytest.mark.parametrize(
    "body, message",
    [
        ('[[measurement]]\nfunction = "fake"\namplitde = 2\n',
         r"unknown setting\(s\) amplitde.*Allowed settings: amplitude"),
        ('[[measurement]]\nfunction = "nonsense"\n', r"function = 'nonsense'.*Known measurements"),
        ('[executon]\nscheduler = "serial"\n[[measurement]]\nfunction = "fake"\n', r"unknown key or table 'executon'"),
        ('[execution]\nschedular = "local"\n[[measurement]]\nfunction = "fake"\n', r"unknown key\(s\) schedular"),
        ("", r"no \[\[measurement\]\] entries"),
    ],
)
def test_bad_experiment_files_fail_before_writing(tmp_path, fake_registry, capsys, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(ExperimentFileError, match=message):
        experiments.load_experiment(path)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert "error:" in capsys.readouterr().err
    assert not out.exists()


def test_failed_measurement_leaves_no_output(tmp_path, fake_registry):
    path = _write(tmp_path, '[[measurement]]\nfunction = "fake"\n[[measurement]]\nfunction = "fake"\n'
                            'label = "second"\nfail = true\n')
    with pytest.raises(NeurophaseError, match=r"'second' \(fake\) failed: RuntimeError: simulated failure.*"
                                              r"1 finished measurement\(s\) are kept in .*out.partial"):
        experiments.run_experiment(path, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    # the first measurement's data is not lost: it was written when it finished
    partial = tmp_path / "out.partial"
    assert sorted(p.name for p in partial.iterdir()) == ["fake", "manifest.json"]
    assert sorted(p.name for p in (partial / "fake").iterdir()) == ["curve.nc", "verdicts.json"]
    assert load_dataset(partial / "fake" / "curve.nc")["order_parameter_mean"].values[4] == 0.0


def _two_measurements(tmp_path, second=""):
    return _write(tmp_path, '[execution]\nseed = 3\n[[measurement]]\nfunction = "fake"\n'
                            '[[measurement]]\nfunction = "fake"\nlabel = "second"\namplitude = 2.0\n' + second)


@pytest.fixture
def interrupted_second():
    """The second measurement (amplitude 2) is stopped as by Ctrl-C until the fixture's set is cleared."""
    INTERRUPTED_AMPLITUDES.add(2.0)
    yield INTERRUPTED_AMPLITUDES
    INTERRUPTED_AMPLITUDES.clear()


def test_resume_skips_finished_measurements_and_equals_an_uninterrupted_run(tmp_path, fake_registry,
                                                                             interrupted_second):
    path = _two_measurements(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(InterruptedRunError, match=r"'second' \(fake\) was interrupted.*--resume"):
        experiments.run_experiment(path, out, progress=False)
    assert not out.exists() and (tmp_path / "out.partial" / "fake").is_dir()
    # a new run without --resume refuses to throw the finished work away
    with pytest.raises(OutputError, match=r"1 finished measurement.*--resume.*--overwrite"):
        experiments.run_experiment(path, out, progress=False)
    # resume (the interruption is over): only the second measurement runs again
    interrupted_second.clear()
    reference = tmp_path / "reference"
    experiments.run_experiment(path, reference, progress=False)
    CALLS.clear()
    result = experiments.run_experiment(path, out, progress=False, resume=True)
    assert CALLS == [2.0] and result["resumed"] == ["fake"]
    assert not (tmp_path / "out.partial").exists()
    assert read_verdicts_csv(out / "verdicts.csv") == read_verdicts_csv(reference / "verdicts.csv")
    for name in ("fake_curve.nc", "second_curve.nc"):
        resumed, uninterrupted = load_dataset(out / name), load_dataset(reference / name)
        for dataset in (resumed, uninterrupted):
            dataset.attrs.pop("created")
        xr.testing.assert_identical(resumed, uninterrupted)
    assert (read_manifest(out)["measurements"]["fake"]["settings_hash"]
            == read_manifest(reference)["measurements"]["fake"]["settings_hash"])


def test_resume_runs_again_what_changed_or_was_damaged(tmp_path, fake_registry, interrupted_second):
    path = _two_measurements(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(InterruptedRunError):
        experiments.run_experiment(path, out, progress=False)
    recorded = tmp_path / "out.partial" / "fake" / "curve.nc"
    recorded.write_bytes(recorded.read_bytes()[:-10] + b"0123456789")  # checksum no longer matches
    interrupted_second.clear()
    CALLS.clear()
    result = experiments.run_experiment(path, out, progress=False, resume=True)
    assert CALLS == [1.0, 2.0] and result["resumed"] == []
    # another seed: another settings hash, so it runs again too
    interrupted_second.add(2.0)
    with pytest.raises(InterruptedRunError):
        experiments.run_experiment(path, tmp_path / "o2", progress=False)
    interrupted_second.clear()
    changed = _write(tmp_path, '[execution]\nseed = 4\n[[measurement]]\nfunction = "fake"\n')
    CALLS.clear()
    assert experiments.run_experiment(changed, tmp_path / "o2", progress=False, resume=True)["resumed"] == []
    assert CALLS == [1.0]


def test_output_folder_with_an_older_result_needs_overwrite(tmp_path, fake_registry, capsys):
    path = _write(tmp_path, '[[measurement]]\nfunction = "fake"\n')
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    (out / "notes.txt").write_text("mine")
    (out / "fake_extra.png").write_bytes(b"old")
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    capsys.readouterr()
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "already holds an older result" in error and "--overwrite" in error
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before  # nothing touched
    assert main(["run", str(path), "--out", str(out), "--quiet", "--overwrite"]) == 0
    names = {p.name for p in out.iterdir()}
    assert "notes.txt" in names and "fake_extra.png" in names  # not the old result's: kept
    assert verify_manifest(out) == []


def test_output_files_share_one_mode(tmp_path, fake_registry):
    path = _write(tmp_path, '[[measurement]]\nfunction = "fake"\n')
    out = tmp_path / "out"
    previous = os.umask(0o022)
    try:
        experiments.run_experiment(path, out, progress=False)
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert set(modes.values()) == {0o644}, modes  # NetCDF files were 0600 (tempfile)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755


@pytest.mark.parametrize(
    "setting, message",
    [
        ('temperature = "1 mV"', r"temperature = '1 mV' has dimension V, but fake takes a plain number"),
        ('temperature = "1"', None),
        ('tau0 = 1', r"tau0 = 1 .*takes a quantity with its unit, such as '1 ms'"),
        ('tau0 = "1 mV"', r"tau0 = '1 mV' has dimension V"),
        ('tau0 = "1 msec"', r"tau0 = '1 msec' cannot be read \(Unknown unit 'msec'"),
        ('amplitude = [1, 2]', None),  # a list where a number is expected: the function decides
        ('fail = "yes"', r"fail = 'yes' must be true or false"),
    ],
)
def test_settings_are_checked_against_the_unit_the_function_takes(tmp_path, fake_registry, setting, message):
    path = _write(tmp_path, f'[[measurement]]\nfunction = "fake"\n{setting}\n')
    if message is None:
        experiments.load_experiment(path)
        return
    with pytest.raises(ExperimentFileError, match=message):
        experiments.load_experiment(path)


def test_quantities_become_numbers_where_the_function_takes_numbers_in_a_unit():
    """measure_gating takes voltage_range as numbers of mV: "-0.1 volt" is -100."""
    measurement = experiments.Measurement("gating", "g", {}, {})
    from neurophase.units import parse_quantity

    settings = {"voltage_range": [parse_quantity("-0.1 volt"), parse_quantity("20 mV")], "voltage_step": 2.0}
    checked = experiments._check_setting_units("gating", settings, {}, "here")
    assert checked["voltage_range"] == pytest.approx([-100.0, 20.0]) and checked["voltage_step"] == 2.0
    with pytest.raises(ExperimentFileError, match=r"temperature: .*not a temperature"):
        experiments._check_setting_units("gating", {"temperature": parse_quantity("1 mV")}, {}, "here")
    assert experiments._check_setting_units("gating", {"temperature": "6.3 celsius"}, {}, "x")
    assert measurement.label == "g"


@pytest.mark.parametrize("execution, message", [
    ("seed = -1", r"seed = -1 must be a whole number"),
    ("workers = 0", r"workers = 0 must be a whole number >= 1"),
    ('scheduler = "tcp:/nowhere"', r"Unknown scheduler 'tcp:/nowhere'"),
])
def test_execution_table_is_checked(tmp_path, fake_registry, execution, message):
    path = _write(tmp_path, f'[execution]\n{execution}\n[[measurement]]\nfunction = "fake"\n')
    with pytest.raises(ExperimentFileError, match=message):
        experiments.load_experiment(path)


def test_report_tables_escape_pipes(tmp_path, fake_registry, monkeypatch):
    def measurement(seed=None):
        verdict = make_verdict("T|1", "|M| at h = 0", 0.0, 0.0, -0.1, 0.1)
        return [verdict], {}

    monkeypatch.setattr(experiments, "_resolve", lambda name, folder="": measurement)
    path = _write(tmp_path, '[[measurement]]\nfunction = "fake"\n')
    experiments.run_experiment(path, tmp_path / "out", progress=False)
    rows = [line for line in (tmp_path / "out" / "report.md").read_text().splitlines()
            if line.startswith("| T")]
    assert rows == [r"| T\|1 | \|M\| at h = 0 | 0 | 0 | [-0.1, 0.1] | **yes** | expected value inside the "
                    r"confidence interval |"]
    # 7 columns: a pipe inside a cell would have made more
    assert len(rows[0].replace(r"\|", "").split("|")) == 9


def test_log_lines_per_measurement_when_not_on_a_terminal(tmp_path, fake_registry, capsys):
    path = _two_measurements(tmp_path, "")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" finished")[0] for line in lines if "finished" in line] == [
        "neurophase: [1/2] fake (fake)", "neurophase: [2/2] second (fake)"]


def test_unknown_experiment_name_lists_the_shipped_ones():
    with pytest.raises(ExperimentFileError, match="shipped experiments"):
        experiments.load_experiment("no_such_experiment")
