"""Bad input to firing_curve: each error names the problem, the grid points and the fix."""

import numpy as np
import pytest
from brian2 import cm, ms, mV, pA, second, uA

from neurophase.errors import ModelFileError, ParameterError, SimulationError, UnitMismatchError
from neurophase.micro.modelfile import load_model_text
from neurophase.micro.neurone import firing_curve, model_from_equations

NO_THRESHOLD = '''
[model]
name = "no_threshold"
kind = "spiking"
title = "a leaky membrane without a spike condition"
citation = "test"

[equations]
model = """
dv/dt = (E_L - v + R_m * I_input) / tau_m : volt
I_input : amp
"""
input = "I_input"
input_unit = "pA"

[parameters]
E_L = "-70 mV"
R_m = "100 Mohm"
tau_m = "10 ms"
'''


def test_a_model_without_threshold_is_refused_before_building():
    model = load_model_text(NO_THRESHOLD)
    with pytest.raises(ModelFileError, match="no threshold.*threshold = "):
        firing_curve(model, [100.0] * pA, target="numpy")


def test_a_time_step_too_large_names_the_limit_and_the_grid():
    with pytest.raises(ParameterError, match=r"max_dt = 0.05 ms.*3 input levels.*dt <= 0.05 ms"):
        firing_curve("hodgkin_huxley_1952", np.array([1.0, 5.0, 10.0]) * uA / cm**2, dt=0.1 * ms)


def test_inputs_in_the_wrong_dimension_name_the_expected_unit():
    with pytest.raises(UnitMismatchError, match="'inputs'.*uA/cm\\*\\*2"):
        firing_curve("hodgkin_huxley_1952", np.array([1.0, 2.0]) * mV)
    with pytest.raises(UnitMismatchError, match="plain numbers"):
        firing_curve("leaky_integrate_and_fire", np.array([1.0, 2.0]))
    with pytest.raises(UnitMismatchError, match="'noise'"):
        firing_curve("leaky_integrate_and_fire", [100.0] * pA, noise=1 * mV)


@pytest.mark.brian2
def test_a_diverging_grid_point_is_named_and_finished_points_are_kept():
    # dv/dt = I v / (mV ms) grows without bound for I > 0 (v overflows to infinity in 1 s)
    # and decays for I <= 0.
    model = model_from_equations(
        "dv/dt = I_input * v / (mV * ms) : volt\nI_input : volt", threshold="v > 1*volt",
        refractory="v > 1*volt", input="I_input", input_unit="mV", initial={"v": "1 mV"},
        dt="0.01 ms", method="euler", name="runaway")
    with pytest.raises(SimulationError, match=r"1 of 3 grid points: input=1 mV") as caught:
        firing_curve(model, np.array([-1.0, 0.0, 1.0]) * mV, duration=1 * second, target="numpy")
    error = caught.value
    assert error.failed_points == ["input=1 mV, trial 0"]
    partial = error.partial
    assert np.isnan(partial["rate"].values[2, 0])
    np.testing.assert_array_equal(partial["rate"].values[:2, 0], [0.0, 0.0])
    assert partial.attrs["model_name"] == "runaway"
