"""In-network bisection of current thresholds (neurophase.micro.thresholds)."""

import numpy as np
import pytest
from brian2 import cm, ms, mV, uA

from neurophase.errors import ParameterError
from neurophase.mapping import coarse_grain
from neurophase.micro.modelfile import load_model
from neurophase.micro.thresholds import escape_voltage, threshold_bisection


@pytest.mark.brian2
def test_frozen_fast_subsystem_fires_exactly_above_the_derived_fold():
    """HH with h, n frozen at rest (the fast subsystem simulated by Brian2) against the fold and
    the saddle derived algebraically by coarse_grain: a step fires only above the fold, and a step
    of length T needs dI ~ 1/T**2 more (the passage near a saddle-node takes pi/sqrt(a dI);
    Strogatz 1994, section 4.3), so halving T multiplies the excess by about 4; the trajectories
    bracketing a 0.1 ms pulse threshold part at the saddle voltage."""
    model = load_model("hodgkin_huxley_1952")
    membrane = coarse_grain(model)
    dataset = threshold_bisection(model, membrane.rest_state, np.array([0.1, 50.0, 100.0]) * ms,
                                  np.array([200.0, 2.0, 2.0]) * uA / cm**2, variants={"frozen": membrane.frozen},
                                  trial_duration=130 * ms, steps=18)
    assert dataset["bracket_valid"].values.all()
    fold = membrane.fold_up[0]
    short, long = dataset["threshold_low"].values[0, 1:]
    assert fold < long < short < 1.5 * fold
    assert 2.5 < (short - fold) / (long - fold) < 5.5
    traces = dataset["voltage"].values[0, 0]
    voltage, low, high = escape_voltage(dataset["time"].values, traces[0], traces[1], after=1.1,
                                        separation=0.1, onset=0.001)
    assert voltage == pytest.approx(float(membrane.saddle_voltage_rest / mV), abs=0.5)
    # the bracket is ~2**-18 of the initial one
    width = dataset["threshold_high"].values - dataset["threshold_low"].values
    np.testing.assert_allclose(width[0], np.array([200.0, 2.0, 2.0]) / 2**18, rtol=1e-6)


def test_escape_voltage_of_two_parting_exponentials():
    time = np.linspace(0, 10, 10001)
    low = -60 - 1e-6 * np.exp(2 * time)
    high = -60 + 1e-6 * np.exp(2 * time)
    voltage, lower, upper = escape_voltage(time, low, high, after=0.0, separation=0.1, onset=0.001)
    assert voltage == pytest.approx(-60.0, abs=1e-9) and lower == pytest.approx(-60.0, abs=1e-9)


def test_bad_settings_are_refused():
    model = load_model("hodgkin_huxley_1952")
    rest = {"v": -65 * mV}
    with pytest.raises(ParameterError, match="longer than the trial"):
        threshold_bisection(model, rest, [5.0] * ms, [1.0] * uA / cm**2, trial_duration=4 * ms)
    with pytest.raises(ParameterError, match="upper_bounds"):
        threshold_bisection(model, rest, [0.1] * ms, [-1.0] * uA / cm**2, trial_duration=10 * ms)
    with pytest.raises(ParameterError, match="whole numbers of time steps"):
        threshold_bisection(model, rest, [0.105] * ms, [1.0] * uA / cm**2, trial_duration=10 * ms)
