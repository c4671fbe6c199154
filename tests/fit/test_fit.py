"""Fitting: parameter recovery from synthetic cells (ABF1, NWB, CSV), resumable checkpoints, bad input."""

import json
from pathlib import Path

import numpy as np
import pytest
from brian2 import Mohm, ms, mV, pA

from neurophase.cli import main
from neurophase.fit.fitter import fit_model
from neurophase.recordings.read import read_recording

from . import synthetic_cells as cells

pytestmark = pytest.mark.brian2

AMPLITUDES = [-80.0, -40.0, 150.0, 200.0, 250.0, 300.0, 350.0, 400.0]
LIF_TRUTH = {"tau_m": 25 * ms, "R_m": 150 * Mohm, "E_L": -68 * mV, "V_threshold": -48 * mV, "V_reset": -62 * mV}


@pytest.fixture(scope="module")
def lif_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lif_cell")
    voltage, current = cells.simulate_cell("leaky_integrate_and_fire", LIF_TRUTH, AMPLITUDES)
    return {"abf": cells.write_abf1(folder / "lif.abf", voltage, AMPLITUDES),
            "nwb": cells.write_nwb(folder / "lif.nwb", voltage, current),
            "csv": cells.write_csv(folder / "lif.csv", voltage, current)}


def _fit(path, generations=24, population=32, **options):
    parameters = {"tau_m": ("5 ms", "60 ms", "log"), "R_m": ("50 Mohm", "400 Mohm", "log"),
                  "V_threshold": ("-58 mV", "-38 mV", "linear")}
    fixed = {"E_L": LIF_TRUTH["E_L"], "V_reset": LIF_TRUTH["V_reset"]}
    from dataclasses import replace

    from neurophase.micro.modelfile import load_model

    model = load_model("leaky_integrate_and_fire")
    model = replace(model, parameters={**model.parameters, **fixed})
    return fit_model(model, [read_recording(path)], parameters=parameters, generations=generations,
                     population=population, seed=3, dt=0.1 * ms, settle="100 ms", n_bootstrap=200, **options)
# features only (the default objectives)


@pytest.mark.parametrize("kind", ["abf", pytest.param("nwb", marks=pytest.mark.slow),
                                  pytest.param("csv", marks=pytest.mark.slow)])
def test_three_lif_parameters_are_recovered_from_every_file_format(lif_files, kind):
    from neurophase.check.fitting import fit_verdicts

    result = _fit(lif_files[kind])
    truth = {"tau_m": 25.0, "R_m": 150.0, "V_threshold": -48.0}
    # small CI version (32 x 24 candidates): within 10% of the truth or inside the bootstrap interval
    rows = {verdict.id: verdict for verdict in fit_verdicts(result, truth=truth)}
    for name in truth:
        assert rows[f"R-{name}"].holds, (name, result.values[name], result.intervals[name])
    # held-out f-I: the synthetic cell is the model, so the held-out rates agree within one spike per step
    assert rows["F1-fI"].measured <= 2.0
    assert rows["F2"].measured <= 2.0  # closed-form LIF count from the fitted parameters


def test_a_stopped_fit_resumes_to_exactly_the_uninterrupted_result(lif_files, tmp_path):
    from neurophase.errors import ParameterError

    checkpoint = tmp_path / "fit_checkpoint.pkl"
    with pytest.raises(ParameterError, match="resume"):
        _fit(lif_files["abf"], generations=4, population=8, checkpoint=checkpoint, stop_after=2)
    assert checkpoint.exists()
    resumed = _fit(lif_files["abf"], generations=4, population=8, checkpoint=checkpoint, resume=True)
    whole = _fit(lif_files["abf"], generations=4, population=8)
    np.testing.assert_array_equal(resumed.archive["values"], whole.archive["values"])
    np.testing.assert_array_equal(resumed.archive["objectives"], whole.archive["objectives"])
    assert resumed.values == whole.values
    with pytest.raises(ParameterError, match="seed"):
        fit_model("leaky_integrate_and_fire", [read_recording(lif_files["abf"])], generations=4, population=8,
                  seed=99, checkpoint=checkpoint, resume=True)


def test_a_fit_stopped_during_the_refinement_resumes_to_the_uninterrupted_result(lif_files, tmp_path):
    from neurophase.errors import ParameterError

    checkpoint = tmp_path / "fit_checkpoint.pkl"
    with pytest.raises(ParameterError, match="1 of 3 refinement iterations"):
        _fit(lif_files["abf"], generations=2, population=8, refine=3, checkpoint=checkpoint, stop_after=3)
    resumed = _fit(lif_files["abf"], generations=2, population=8, refine=3, checkpoint=checkpoint, resume=True)
    whole = _fit(lif_files["abf"], generations=2, population=8, refine=3)
    # 2 generations of 8, then 3 refinement iterations of 8 (labelled generations 2, 3, 4)
    assert whole.archive["values"].shape == (40, 3)
    np.testing.assert_array_equal(np.unique(whole.archive["generation"]), [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(resumed.archive["values"], whole.archive["values"])
    assert resumed.values == whole.values
    norm = np.linalg.norm(whole.archive["objectives"], axis=1)
    unrefined = _fit(lif_files["abf"], generations=2, population=8, refine=0)
    np.testing.assert_array_equal(unrefined.archive["values"], whole.archive["values"][:16])
    assert norm.min() <= np.linalg.norm(unrefined.archive["objectives"], axis=1).min()
    # stopped at the end of the generations, before the refinement started
    with pytest.raises(ParameterError, match="0 of 3 refinement iterations"):
        _fit(lif_files["abf"], generations=2, population=8, refine=3, checkpoint=tmp_path / "b.pkl", stop_after=2)
    # a finished fit extended by one generation: the refinement is run again from the longer search
    longer = _fit(lif_files["abf"], generations=3, population=8, refine=3, checkpoint=checkpoint, resume=True)
    whole_longer = _fit(lif_files["abf"], generations=3, population=8, refine=3)
    assert longer.archive["values"].shape == (48, 3)
    np.testing.assert_array_equal(longer.archive["values"], whole_longer.archive["values"])


def test_the_command_writes_a_loadable_fitted_model(lif_files, tmp_path):
    out = tmp_path / "fit"
    status = main(["fit", "leaky_integrate_and_fire", str(lif_files["abf"]), "--param", "R_m", "50", "400", "Mohm",
                   "--log", "R_m", "--generations", "2", "--population", "8", "--dt", "0.1 ms", "--out", str(out)])
    assert status == 0
    for name in ("fitted.toml", "report.md", "verdicts.csv", "fit_parameters.nc", "fit_fi.png", "fit_traces.png",
                 "fit_pareto.png"):
        assert (out / name).exists(), name
    from neurophase.io import load_dataset
    from neurophase.micro.modelfile import load_model
    from neurophase.micro.neurone import firing_curve

    fitted = load_model(out / "fitted.toml")
    parameters = load_dataset(out / "fit_parameters.nc")
    assert float(fitted.parameters["R_m"] / Mohm) == pytest.approx(float(parameters["R_m"].sel(estimate="fit")))
    curve = firing_curve(fitted, [0, 400] * pA, duration=200 * ms, dt=0.1 * ms, progress=False)
    assert curve["spike_count"].values[0, 0] == 0 and curve["spike_count"].values[1, 0] > 0


def _bad(arguments, capsys):
    status = main(arguments)
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    return status, errors, captured.err


@pytest.mark.parametrize("param, message", [
    (["no_such", "1", "2", "ms"], "has no parameter 'no_such'"),
    (["tau_m", "1", "2", "mV"], "not in a unit of tau_m"),
    (["tau_m", "30", "10", "ms"], "must be below HIGH"),
])
def test_bad_parameters_are_one_error_line_and_nothing_written(lif_files, tmp_path, capsys, param, message):
    out = tmp_path / "out"
    status, errors, text = _bad(["fit", "leaky_integrate_and_fire", str(lif_files["abf"]), "--param", *param,
                                 "--out", str(out)], capsys)
    assert status == 2 and len(errors) == 1 and message in errors[0], text
    assert not out.exists()


def test_a_recording_without_current_steps_is_refused(tmp_path, capsys):
    voltage = np.full((2, 2000), -65.0)
    path = cells.write_csv(tmp_path / "flat.csv", voltage, np.zeros_like(voltage))
    status, errors, text = _bad(["fit", "leaky_integrate_and_fire", str(path), "--out", str(tmp_path / "o")], capsys)
    assert status == 2 and len(errors) == 1 and "step" in errors[0], text
    assert not (tmp_path / "o").exists()


def test_resuming_with_other_settings_is_refused_and_the_checkpoint_kept(lif_files, tmp_path, capsys):
    out = tmp_path / "fit"
    common = ["fit", "leaky_integrate_and_fire", str(lif_files["abf"]), "--generations", "1", "--population", "8",
              "--dt", "0.1 ms", "--out", str(out)]
    assert main(common) == 0
    checkpoint = (out / "fit_checkpoint.pkl").read_bytes()
    status, errors, text = _bad(common + ["--seed", "5", "--resume"], capsys)
    assert status == 2 and len(errors) == 1 and "seed" in errors[0], text
    status, errors, text = _bad(common, capsys)  # not resuming over an existing checkpoint either
    assert status == 2 and "--resume" in errors[0]
    assert (out / "fit_checkpoint.pkl").read_bytes() == checkpoint
    assert json.loads(json.dumps(sorted(p.name for p in Path(out).iterdir())))
