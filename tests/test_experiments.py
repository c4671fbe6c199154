"""Experiment files and the runner: validation before any work, outputs, no half-written folders."""

import numpy as np
import pytest
import xarray as xr

from neurophase import experiments
from neurophase.check.verdicts import make_verdict, read_verdicts_csv
from neurophase.cli import main
from neurophase.errors import ExperimentFileError, NeurophaseError
from neurophase.io import load_dataset
from neurophase.schema import provenance, quantity_coordinate, quantity_variable


def fake_measurement(amplitude=1.0, tau0=None, seed=None, fail=False):
    """A measurement with a known answer: M = tanh(h) sampled exactly."""
    if fail:
        raise RuntimeError("simulated failure")
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
                     "report.md", "summary_verdicts.png", "verdicts.csv"]
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
    with pytest.raises(NeurophaseError, match=r"'second' \(fake\) failed: RuntimeError: simulated failure"):
        experiments.run_experiment(path, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    # the first measurement's data is not lost
    partial = tmp_path / "out.partial"
    assert sorted(p.name for p in partial.iterdir()) == ["fake_curve.nc", "verdicts.csv"]
    assert load_dataset(partial / "fake_curve.nc")["order_parameter_mean"].values[4] == 0.0


def test_unknown_experiment_name_lists_the_shipped_ones():
    with pytest.raises(ExperimentFileError, match="shipped experiments"):
        experiments.load_experiment("no_such_experiment")
