"""The recordings check (C5/C1 verdicts, report, figures) and its command line."""

import argparse
import csv
import json

import numpy as np
import pytest
import xarray as xr

from neurophase.check.compare import heldout_excess
from neurophase.check.recordings import add_recordings_parser, analyse_recordings, run_recordings
from neurophase.check.verdicts import read_verdicts_csv
from neurophase.errors import RecordingError

CURRENTS = np.arange(0.0, 400.0, 20.0)


def _class1_csv(path, synthetic):
    voltages, currents, counts = synthetic.sweeps(CURRENTS, rate_function=synthetic.class1_rate)
    time = np.arange(voltages.shape[1]) / synthetic.SAMPLING_RATE
    lines = ["sweep,time (s),voltage (mV),current (pA)"]
    for number, (voltage, current) in enumerate(zip(voltages, currents)):
        lines += [f"{number},{t:.5f},{v:.3f},{i:.1f}" for t, v, i in zip(time, voltage, current)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_heldout_excess_is_paired_and_zero_for_the_best():
    errors = xr.DataArray([[1.0, 4.0, 1.0, 4.0], [4.0, 4.0, 4.0, 4.0]], dims=("candidate", "point"),
                          coords={"candidate": ["relu", "derived"]})
    excess, low, high = heldout_excess(errors, "derived", n_resamples=500)
    # RMSE relu = sqrt(2.5), derived = 2: excess = 2 - sqrt(2.5)
    assert excess == pytest.approx(2.0 - np.sqrt(2.5))
    assert 0.0 <= low <= excess <= high <= 1.0  # resampled excess lies between 0 and 2 - 1


def test_class1_cell_gives_exponent_one_half_and_writes_every_output(tmp_path, synthetic):
    path = _class1_csv(tmp_path / "class1.csv", synthetic)
    out = tmp_path / "out"
    datasets, verdicts = analyse_recordings([path], out=out, n_bootstrap=40, folds=5, random_state=1)
    assert len(datasets) == 1
    # steady-state rates of the periodic trains equal the closed form (0.1 ms sampling: < 1%)
    rate = datasets[0]["rate"].values[:, 0]
    expected = synthetic.class1_rate(CURRENTS)
    firing = datasets[0]["spike_count"].values[:, 0] >= 3
    np.testing.assert_allclose(rate[firing], expected[firing], rtol=0.01)
    by_id = {verdict.id.split("-")[0]: verdict for verdict in verdicts}
    assert set(by_id) == {"C5", "C1"}
    onset = by_id["C1"]
    # power law on the rising part of an exact a sqrt(I - I_c) curve: p = 1/2 up to the 1%
    # rate error above and the 20 pA spacing of the threshold estimate
    assert onset.measured == pytest.approx(0.5, abs=0.05)
    assert onset.ci_low <= onset.measured <= onset.ci_high
    rows = read_verdicts_csv(out / "verdicts.csv")
    assert [row["id"] for row in rows] == [verdict.id for verdict in verdicts]
    assert rows[1]["measured"] == pytest.approx(onset.measured, rel=1e-5)
    report = (out / "report.md").read_text()
    for expected_text in ("## Verdicts", "class1_fi.png", "class1_traces.png", "Quality-control exclusions",
                          "| derived |"):
        assert expected_text in report
    assert (out / "class1_fi.png").stat().st_size > 10000 and (out / "class1.nc").exists()
    with (out / "features.csv").open() as handle:
        features = list(csv.DictReader(handle))
    assert float(features[0]["rheobase_pA"]) == 120.0  # first level above I_c = 100 pA


def test_failed_run_leaves_no_output_folder(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("sweep,time (s),voltage (mV)\n0,0.0,-65\n0,0.1,-65\n")
    with pytest.raises(RecordingError):
        analyse_recordings([bad], out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_command_line_reports_unreadable_files_and_analyses_the_rest(tmp_path, synthetic, capsys):
    good = _class1_csv(tmp_path / "good.csv", synthetic)
    bad = tmp_path / "broken.abf"
    bad.write_bytes(b"not an abf file" * 100)
    parser = argparse.ArgumentParser(prog="neurophase")
    add_recordings_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "out"
    args = parser.parse_args(["recordings", str(good), str(bad), "--out", str(out), "--bootstrap", "40",
                              "--no-figures"])
    assert args.handler is run_recordings
    status = run_recordings(args)
    assert status == 1  # one file could not be read
    captured = capsys.readouterr()
    assert "broken.abf" in captured.err and "1 cell(s) analysed" in captured.out
    report = (out / "report.md").read_text()
    assert "## Files not analysed" in report and "broken.abf" in report
    dataset = xr.open_dataset(out / "good.nc")
    assert dataset["input"].attrs["units"] == "pA" and json.loads(dataset.attrs["excluded"]) == []
    dataset.close()
