"""Poisson conductance input (neurophase.micro.synaptic) against Campbell's theorem and an
independent simulation.

* Campbell's theorem (N. Campbell 1909; S. O. Rice 1944, Bell Syst. Tech. J. 23:282, section
  1.4): shot noise of rate nu with exponential kernels w exp(-t/tau) has mean nu w tau and
  variance nu w**2 tau / 2. The conductance does not depend on the membrane, so its recorded
  traces test the event generation directly. With correlation time tau, a trace of length T
  estimates the mean with standard error sqrt(Var 2 tau / T) and the variance with relative
  standard error sqrt(2 tau / T) per trace (Gaussian approximation; n traces: / sqrt(n)).
  Discretisation biases (events at step starts, exact decay) are O(dt/tau) = 0.2%.
* A conductance-based LIF under excitatory and inhibitory Poisson input, simulated here by an
  independent numpy loop (forward Euler, its own random numbers), must give the same
  steady-state rate within 4 standard errors of the difference of the two trial means.
"""

import numpy as np
import pytest
from brian2 import Hz, cm, mS, nS, pA, second, uA

from neurophase.errors import ParameterError, UnitMismatchError
from neurophase.micro.neurone import firing_curve

pytestmark = [pytest.mark.brian2, pytest.mark.slow]

TAU_EXC = 5e-3  # s, the default
TAU_INH = 10e-3


def test_conductance_traces_follow_campbells_theorem():
    rate, weight, duration, traces = 5000.0, 0.2, 4.0, 8  # Hz, nS, s
    # the conductance is independent of the drive: 8 current levels give 8 independent traces
    dataset = firing_curve("leaky_integrate_and_fire", np.arange(traces) * 1.0 * pA,
                           duration=duration * second, progress=False,
                           poisson={"rate_exc": rate * Hz, "weight_exc": weight * nS},
                           record_voltage=list(range(traces)), voltage_variable="grid_g_exc",
                           record_dt=0.1e-3 * second)
    trace = dataset["grid_g_exc"]
    assert trace.attrs["units"] == "nS"
    steady = trace.where(trace["time"] >= 100.0, drop=True).values  # after 20 tau
    length = duration - 0.1
    mean_expected = rate * weight * TAU_EXC
    variance_expected = rate * weight**2 * TAU_EXC / 2
    mean_error = np.sqrt(variance_expected * 2 * TAU_EXC / length / traces)
    assert abs(steady.mean() - mean_expected) < 4 * mean_error + 0.002 * mean_expected
    variance_error = variance_expected * np.sqrt(2 * TAU_EXC / length / traces)
    assert abs(steady.var(axis=1).mean() - variance_expected) < 4 * variance_error + 0.002 * variance_expected


def _numpy_conductance_lif(n, duration, dt, rate_exc, w_exc, rate_inh, w_inh, seed):
    """Spike times of the library LIF (tau 20 ms, R 100 Mohm, E_L -70, threshold -50,
    reset -70 mV, 2 ms refractory with v clamped) driven by g_e (E 0 mV) and g_i (E -80 mV):
    an independent forward-Euler loop vectorised over n neurones."""
    rng = np.random.default_rng(seed)
    tau_m, resistance, rest, threshold, reset, refractory = 20e-3, 100e6, -70e-3, -50e-3, -70e-3, 2e-3
    v = np.full(n, rest)
    g_e = np.zeros(n)
    g_i = np.zeros(n)
    last_spike = np.full(n, -1.0)
    spikes = [[] for _ in range(n)]
    steps = int(round(duration / dt))
    for step in range(steps):
        time = step * dt
        g_e += w_exc * rng.poisson(rate_exc * dt, n)
        g_i += w_inh * rng.poisson(rate_inh * dt, n)
        current = g_e * (0.0 - v) + g_i * (-80e-3 - v)
        active = (time - last_spike) >= refractory - 1e-12
        v = np.where(active, v + dt * (rest - v + resistance * current) / tau_m, v)
        g_e -= dt * g_e / TAU_EXC
        g_i -= dt * g_i / TAU_INH
        fired = active & (v > threshold)
        for index in np.flatnonzero(fired):
            spikes[index].append(time + dt)
        v[fired] = reset
        last_spike[fired] = time + dt
    return spikes


def test_conductance_lif_rate_matches_an_independent_simulation():
    n, duration, dt = 200, 1.0, 1e-5
    drive = {"rate_exc": 4000 * Hz, "weight_exc": 0.6 * nS, "rate_inh": 1500 * Hz,
             "weight_inh": 0.8 * nS}
    dataset = firing_curve("leaky_integrate_and_fire", np.array([0.0]) * pA, seeds=n,
                           duration=duration * second, dt=dt * second, seed=3, progress=False,
                           poisson=drive)
    ours = dataset["steady_spike_count"].values.ravel() / (0.8 * duration)
    trains = _numpy_conductance_lif(n, duration, dt, 4000.0, 0.6e-9, 1500.0, 0.8e-9, seed=11)
    theirs = np.array([np.sum(np.asarray(train) >= 0.2 * duration) for train in trains]) / (0.8 * duration)
    assert ours.mean() > 5 and theirs.mean() > 5  # a firing regime, irregular (not a clock)
    assert np.nanmean(dataset["cv_isi"].values) > 0.3
    error = np.sqrt(ours.var(ddof=1) / n + theirs.var(ddof=1) / n)
    assert abs(ours.mean() - theirs.mean()) < 4 * error, (ours.mean(), theirs.mean(), error)


def test_sweeping_the_poisson_rate_gives_a_rising_curve_from_zero():
    dataset = firing_curve("leaky_integrate_and_fire", np.array([0.0, 2000, 6000, 12000]) * Hz,
                           duration=0.5 * second, progress=False, poisson={"weight_exc": 0.5 * nS})
    assert dataset["input"].attrs["units"] == "Hz"
    assert "swept" in dataset.attrs["synaptic_input"]
    rates = dataset["rate"].values.ravel()
    assert rates[0] == 0.0
    assert np.all(np.diff(rates) > 0)


def test_density_models_take_conductance_densities():
    # 3000 Hz x 0.05 mS/cm2 x 5 ms: Campbell mean 0.75 mS/cm2, variance 0.01875 (mS/cm2)^2; over
    # 1.9 s the mean's standard error is sqrt(0.01875 x 2 x 5 ms / 1.9 s) = 0.0099 mS/cm2
    dataset = firing_curve("hodgkin_huxley_1952", np.array([0.0]) * uA / cm**2,
                           duration=2 * second, progress=False, record_voltage=[0],
                           voltage_variable="grid_g_exc",
                           poisson={"rate_exc": 3000 * Hz, "weight_exc": 0.05 * mS / cm**2})
    assert "mS/cm**2" in dataset.attrs["synaptic_input"]
    trace = dataset["grid_g_exc"]
    assert trace.attrs["units"] == "mS/cm**2"
    mean = float(trace.where(trace["time"] >= 100.0, drop=True).mean())
    assert abs(mean - 0.75) < 4 * 0.0099 + 0.002 * 0.75
    assert float(dataset["spike_count"].sum()) > 0  # the drive makes HH fire


def test_bad_poisson_input_is_named():
    with pytest.raises(UnitMismatchError, match="weight_exc"):
        firing_curve("leaky_integrate_and_fire", np.array([0.0]) * pA,
                     poisson={"rate_exc": 1000 * Hz, "weight_exc": 1 * pA})
    with pytest.raises(ParameterError, match="leave rate_exc out"):
        firing_curve("leaky_integrate_and_fire", np.array([1000.0]) * Hz,
                     poisson={"rate_exc": 1000 * Hz, "weight_exc": 1 * nS})
    with pytest.raises(ParameterError, match="needs rate_exc"):
        firing_curve("leaky_integrate_and_fire", np.array([0.0]) * pA, poisson={"weight_exc": 1 * nS})
    with pytest.raises(ParameterError, match="needs weight_inh"):
        firing_curve("leaky_integrate_and_fire", np.array([0.0]) * pA,
                     poisson={"rate_exc": 1000 * Hz, "weight_exc": 1 * nS, "rate_inh": 500 * Hz})
    with pytest.raises(UnitMismatchError, match="To sweep a Poisson input rate"):
        firing_curve("leaky_integrate_and_fire", np.array([1000.0]) * Hz)
    with pytest.raises(ParameterError, match="Unknown Poisson input field"):
        firing_curve("leaky_integrate_and_fire", np.array([0.0]) * pA,
                     poisson={"rate": 1000 * Hz, "weight_exc": 1 * nS})
