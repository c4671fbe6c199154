"""The generic sweep measurement and experiments users write themselves.

Reference: the leaky integrate-and-fire closed forms (Gerstner et al. 2014, Neuronal Dynamics,
Eq. 1.11): rheobase theta / R and f = 1 / (t_ref + tau_m ln(R I / (R I - theta))), for the example
model file experiments/examples/fast_lif.toml (theta = 13 mV, R = 200 Mohm, tau_m = 10 ms,
t_ref = 2 ms), computed here independently of the simulation.
"""

import math
from pathlib import Path

import numpy as np
import pytest
from brian2 import ms, pA

from neurophase.check.sweep import measure_sweep
from neurophase.errors import NeurophaseError, ParameterError
from neurophase.experiments import load_experiment, run_experiment

pytestmark = pytest.mark.brian2

EXAMPLES = Path(__file__).resolve().parents[2] / "experiments" / "examples"
MODEL = EXAMPLES / "fast_lif.toml"


def lif_rate(current_pA, theta_mV=13.0, resistance_Mohm=200.0, tau_ms=10.0, refractory_ms=2.0):
    drive = resistance_Mohm * current_pA * 1e-3  # mV
    return 1e3 / (refractory_ms + tau_ms * math.log(drive / (drive - theta_mV)))


def test_declared_verdicts_hold_and_a_wrong_expected_value_fails():
    declared = [
        {"id": "rheobase", "quantity": "rheobase", "expected": 65 * pA, "tolerance": 5 * pA, "rule": "tolerance"},
        {"id": "rate", "quantity": "rate_at:130 pA", "expected": f"{lif_rate(130.0)} Hz", "tolerance": "1 Hz",
         "rule": "tolerance"},
        # the same measurement against a wrong expected value (the rate at 120 pA) must fail
        {"id": "wrong", "quantity": "rate_at:130 pA", "expected": f"{lif_rate(120.0)} Hz", "tolerance": "1 Hz",
         "rule": "tolerance"},
        {"id": "p", "quantity": "p_fire_at:60 pA", "expected": 0.0, "tolerance": 0.01, "rule": "tolerance"},
    ]
    verdicts, datasets = measure_sweep(str(MODEL), np.arange(50.0, 140.1, 5.0) * pA, duration=500 * ms, seeds=2,
                                       verdicts=declared)
    found = {verdict.id: verdict for verdict in verdicts}
    assert lif_rate(130.0) == pytest.approx(112.0, abs=0.05)
    # rheobase 65 pA exactly: the first firing level of a 5 pA grid is 70 pA (65 itself never reaches threshold)
    assert found["rheobase"].measured == 70.0 and found["rheobase"].holds
    assert (found["rheobase"].ci_low, found["rheobase"].ci_high) == (65.0, 70.0)
    # deterministic: both trials equal; dt = 0.01 ms quantises the 8.93 ms period by < 0.2 %
    assert found["rate"].measured == pytest.approx(lif_rate(130.0), rel=2e-3) and found["rate"].holds
    assert not found["wrong"].holds
    assert found["p"].measured == 0.0 and found["p"].holds
    assert datasets["sweep"].attrs["declared_verdicts"] == 4


def test_bad_declarations_are_refused_before_simulating():
    inputs = np.arange(0.0, 50.0, 10.0) * pA
    with pytest.raises(ParameterError, match="unknown quantity"):
        measure_sweep(str(MODEL), inputs, verdicts=[{"id": "x", "quantity": "spikiness", "expected": 1}])
    with pytest.raises(NeurophaseError, match="expected"):
        measure_sweep(str(MODEL), inputs, verdicts=[{"id": "x", "quantity": "rheobase", "expected": "65 mV"}])
    with pytest.raises(ParameterError, match="fit list"):
        measure_sweep(str(MODEL), inputs, verdicts=[{"id": "x", "quantity": "fit.logistic.theta", "expected": "1 pA"}])
    with pytest.raises(ParameterError, match="needs a tolerance"):
        measure_sweep(str(MODEL), inputs, verdicts=[{"id": "x", "quantity": "rheobase", "expected": "65 pA",
                                                     "rule": "tolerance"}])


def test_the_worked_example_runs_from_its_file(tmp_path):
    experiment = load_experiment(EXAMPLES / "sweep_example.toml")
    (measurement,) = experiment.measurements
    # the model path is resolved beside the experiment file, the grid is a Quantity array
    assert Path(measurement.settings["model"]) == MODEL
    assert measurement.settings["inputs"].size == 61
    result = run_experiment(EXAMPLES / "sweep_example.toml", tmp_path / "out")
    assert [(v.id, v.holds) for v in result["verdicts"]] == [("rheobase", True), ("rate-130pA", True)]
    assert (tmp_path / "out" / "fast_lif_sweep.nc").exists()


def test_a_measurement_of_ones_own_is_imported_from_beside_the_experiment_file(tmp_path):
    (tmp_path / "my_measurements.py").write_text(
        "from neurophase.check.verdicts import make_verdict\n"
        "def measure_constant(value=1.0):\n"
        "    return [make_verdict('mine', 'a constant', 1.0, value, value, value, tolerance=0.1,\n"
        "                         rule='tolerance')], {}\n")
    (tmp_path / "mine.toml").write_text(
        '[experiment]\nname = "mine"\ntitle = "own measurement"\n\n'
        '[[measurement]]\nfunction = "my_measurements:measure_constant"\nvalue = 1.05\n')
    result = run_experiment(tmp_path / "mine.toml", tmp_path / "out")
    assert [(v.id, v.holds, v.measured) for v in result["verdicts"]] == [("mine", True, 1.05)]
    (tmp_path / "bad.toml").write_text(
        '[experiment]\nname = "bad"\ntitle = "bad"\n\n[[measurement]]\nfunction = "my_measurements:missing"\n')
    with pytest.raises(NeurophaseError, match="no callable"):
        load_experiment(tmp_path / "bad.toml")
