"""Stimulus protocols: planned windows, and Brian2 runs checked against closed forms."""

import numpy as np
import pytest
from brian2 import Mohm, ms, nA, pA, second

from neurophase.errors import ParameterError
from neurophase.mapping.fi_curve import hysteresis_range
from neurophase.micro.modelfile import load_model
from neurophase.micro.neurone import firing_curve, model_from_equations
from neurophase.micro.protocols import plan_protocol

LIF = load_model("leaky_integrate_and_fire")
TAU = float(LIF.parameters["tau_m"] / second)
RESISTANCE = float(LIF.parameters["R_m"] / Mohm) * 1e6
THETA = 20e-3


def lif_rate(current):
    """Deterministic LIF rate (Gerstner et al. 2014, Neuronal Dynamics, Eq. 1.11)."""
    drive = RESISTANCE * np.asarray(current)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(drive > THETA, 1 / (2e-3 + TAU * np.log(drive / (drive - THETA))), 0.0)


def test_plans_and_their_option_errors():
    plan = plan_protocol("ramp", np.array([0.0, 1.0, 2.0]), "pA", 10 * ms)
    np.testing.assert_allclose(plan.window_edges, np.arange(1, 8) * 0.01)
    assert plan.options["ramp_slope_per_second"] == pytest.approx(100.0)
    with pytest.raises(ParameterError, match="equally spaced"):
        plan_protocol("ramp", np.array([0.0, 1.0, 3.0]), "pA", 10 * ms)
    with pytest.raises(ParameterError, match="no option.*pulse_width.*pulse_duration"):
        plan_protocol("pulse", np.array([1.0]), "pA", 50 * ms, pulse_width=1 * ms)
    with pytest.raises(ParameterError, match="Lengthen duration"):
        plan_protocol("pulse", np.array([1.0]), "pA", 5 * ms)
    with pytest.raises(ParameterError, match="Unknown protocol"):
        plan_protocol("chirp", np.array([1.0]), "pA", 5 * ms)


@pytest.mark.brian2
def test_pulse_threshold_of_the_lif_equals_the_charging_closed_form():
    # A pulse A of duration d from rest charges v - E_L to R A (1 - exp(-d/tau)) (Lapicque 1907):
    # it fires iff that exceeds theta, i.e. A > A* = theta / (R (1 - exp(-d / tau))) = 4.10 nA.
    threshold = THETA / (RESISTANCE * (1 - np.exp(-1e-3 / TAU)))
    amplitudes = threshold * np.array([0.9, 0.97, 1.03, 1.1]) / 1e-9 * nA
    dataset = firing_curve(LIF, amplitudes, protocol="pulse", duration=30 * ms,
                           pulse_duration=1 * ms, pulse_start=5 * ms, seeds=2)
    np.testing.assert_array_equal(dataset["p_fire"].values, [0.0, 0.0, 1.0, 1.0])
    # latency from the pulse onset: the crossing happens during the pulse, at
    # t = -tau ln(1 - theta / (R A)) (charging law), within one time step
    amplitude = float(amplitudes[3] / nA) * 1e-9
    expected = -TAU * np.log(1 - THETA / (RESISTANCE * amplitude)) * 1e3
    assert dataset["first_spike_latency"].values[3, 0] == pytest.approx(expected, abs=0.011)
    assert dataset.attrs["protocol"] == "pulse"


@pytest.mark.brian2
def test_lif_staircase_has_no_hysteresis_and_the_closed_form_rates():
    levels = np.arange(150.0, 401.0, 50.0)
    dataset = firing_curve(LIF, levels * pA, protocol="staircase", duration=200 * ms)
    result = hysteresis_range(dataset)
    assert float(result.width / pA) == 0.0
    expected = lif_rate(levels * 1e-12)
    for direction in ("up", "down"):
        # rates from ISIs inside each 200 ms level (transient excluded): dt-limited, < 1%
        np.testing.assert_allclose(dataset["rate"].sel(direction=direction).values[:, 0],
                                   expected, rtol=0.01, atol=1e-9)


@pytest.mark.brian2
def test_ornstein_uhlenbeck_noise_gives_the_filtered_voltage_variance():
    # A passive membrane tau_m dv/dt = -v + R I with OU current noise (std sigma, correlation
    # time tau_s) has Var(v) = (R sigma)^2 tau_s / (tau_s + tau_m) (Uhlenbeck & Ornstein 1930;
    # e.g. Gardiner, Handbook of Stochastic Methods, section 3.8.4 applied to the filtered OU).
    passive = model_from_equations(
        "dv/dt = (-v + R_m * I_input) / tau_m : volt\nI_input : amp", threshold="v > 1*volt",
        input="I_input", input_unit="pA", parameters={"R_m": "100 Mohm", "tau_m": "10 ms"},
        dt="0.05 ms", method="euler", name="passive_membrane")
    sigmas = np.array([10.0, 20.0, 40.0, 80.0])
    dataset = firing_curve(passive, [0.0] * pA, noise=sigmas * pA, noise_tau=5 * ms,
                           duration=20 * second, record_voltage=[0], record_dt=0.5 * ms, seed=11)
    assert dataset["voltage"].dims == ("param_sigma", "recorded_input", "time")
    assert dataset["param_sigma"].attrs["units"] == "pA"
    trace = dataset["voltage"].isel(recorded_input=0).sel(time=slice(100.0, None)).values * 1e-3
    expected = (RESISTANCE * sigmas * 1e-12) ** 2 * 5.0 / (5.0 + 10.0)
    ratio = trace.var(axis=1) / expected
    # each 19.9 s trace has ~19.9 s / (2 x 15 ms) ~ 660 independent samples of the variance:
    # SE sqrt(2/660) = 5.5% each, 2.8% for the mean of four: 4 SE = 11%
    assert ratio.mean() == pytest.approx(1.0, abs=0.11)
    assert np.all(np.abs(ratio - 1) < 0.25)
