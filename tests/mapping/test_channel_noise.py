"""The gate chain of THEORY.md 6b against closed forms, an independent Gillespie simulation of the
same chain, the exact stationary law, Laplace asymptotics and Brian2's frozen fast subsystem."""

import numpy as np
import pytest
from scipy.special import logsumexp

from neurophase.errors import ParameterError
from neurophase.mapping.channel_noise import (
    diffusion_quasi_potential,
    gate_noise,
    log_first_passage_times,
    model_gate_rates,
    wkb_quasi_potential,
)


@pytest.fixture(scope="module")
def hh_membrane():
    from neurophase.mapping import coarse_grain
    from neurophase.micro.modelfile import load_model

    return coarse_grain(load_model("hodgkin_huxley_1952"))


@pytest.fixture(scope="module")
def hh_noise(hh_membrane):
    return gate_noise(hh_membrane, 3)


# ------------------------------------------------------------------ closed forms on toy chains
def test_quasi_potentials_of_independent_gates_against_closed_forms():
    # constant rates (no feedback): birth alpha (1 - m), death beta m
    alpha, beta = 0.7, 2.3

    def birth(m):
        return alpha * (1 - np.asarray(m))

    def death(m):
        return beta * np.asarray(m)

    def wkb(m):  # relative entropy of Binomial(n, p), up to a constant (its exact large deviations)
        return m * np.log(beta / alpha) + m * np.log(m) + (1 - m) * np.log(1 - m)

    def diffusion(m):  # -2 int (alpha - (alpha + beta) m) / (alpha + (beta - alpha) m) dm
        s, d = alpha + beta, beta - alpha
        return 2 * s * m / d - 4 * alpha * beta / d**2 * np.log(alpha + d * m)

    for low, high in ((0.05, 0.3), (0.2, 0.9), (0.6, 0.1)):
        assert wkb_quasi_potential(birth, death, low, high) == pytest.approx(wkb(high) - wkb(low), rel=1e-10, abs=1e-13)
        assert diffusion_quasi_potential(birth, death, low, high) == pytest.approx(diffusion(high) - diffusion(low),
                                                                                  rel=1e-10, abs=1e-13)


def test_first_passage_sum_against_closed_forms():
    # symmetric walk with unit rates reflected at 0: T(k -> K) = (K(K+1) - k(k+1)) / 2
    for top in (1, 4, 30):
        times = np.exp(log_first_passage_times(np.zeros(top + 1), np.zeros(top + 1)))
        k = np.arange(top)
        np.testing.assert_allclose(times, (top * (top + 1) - k * (k + 1)) / 2, rtol=1e-12)
    # biased walk, birth b, death d: T(0 -> K) = sum_y sum_{z<=y} (d/b)^(y-z) / b
    b, d, top = 3.0, 1.0, 12
    expected = sum(sum((d / b) ** (y - z) for z in range(y + 1)) / b for y in range(top))
    times = np.exp(log_first_passage_times(np.full(top + 1, np.log(b)), np.full(top + 1, np.log(d))))
    assert times[0] == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ParameterError, match="positive"):
        log_first_passage_times(np.zeros(4), np.array([0.0, -np.inf, 0.0, 0.0]))


def _gillespie_first_passage(birth, death, start, top, rng):
    """Direct simulation of the chain (Gillespie 1977), all trajectories at once."""
    state = start.copy()
    time = np.zeros(state.size)
    active = state < top
    while active.any():
        index = np.flatnonzero(active)
        up, down = birth[state[index]], death[state[index]]
        total = up + down
        time[index] += rng.exponential(1.0 / total)
        state[index] += np.where(rng.random(index.size) * total < up, 1, -1)
        active[index] = state[index] < top
    return time


@pytest.mark.parametrize("channels", [20, 100])
def test_exact_mean_first_passage_against_gillespie(hh_noise, channels):
    # the same birth-death chain (rates alpha(V*(k/n)), beta(V*(k/n))) simulated step by step
    rng = np.random.default_rng(20261202 + channels)
    n = 3 * channels
    top = int(np.ceil(hh_noise.absorbing * n))
    k = np.arange(top + 1)
    alpha, beta = hh_noise.rates(k / n)
    start = rng.binomial(n, hh_noise.rest, size=3000)
    start = np.minimum(start, top)
    times = _gillespie_first_passage((n - k) * alpha, k * beta, start, top, rng)
    measured, error = times.mean(), times.std(ddof=1) / np.sqrt(times.size)
    from brian2 import second

    exact = float(hh_noise.mean_first_passage_time([channels])[0] / second)
    # 4 standard errors (the binomial start beyond the absorbing state has mass < 1e-30 here)
    assert abs(measured - exact) < 4 * error, (measured, exact, error)


# ----------------------------------------------------------------- the HH gate chain
def test_hh_chain_states_and_loop_gain(hh_noise, hh_membrane):
    assert hh_noise.rest == pytest.approx(hh_membrane.rest_state["m"], rel=1e-8)
    assert hh_noise.rest < hh_noise.saddle < hh_noise.excited
    # the drift vanishes at the fixed points; its slope there gives the loop gain of the self-map
    assert abs(hh_noise.drift(hh_noise.rest)) < 1e-6 * hh_noise.diffusion(hh_noise.rest)
    assert abs(hh_noise.drift(hh_noise.saddle)) < 1e-6 * hh_noise.diffusion(hh_noise.saddle)
    gain, _ = hh_membrane.self_map_derivatives(hh_noise.rest, 0.0)
    assert hh_noise.loop_gain_rest == pytest.approx(float(gain), rel=1e-5)
    # linear-noise variance = m (1 - m) / ((1 - G) n): the Curie-Weiss T chi / N
    n = 3 * 1000
    assert hh_noise.stationary_variance([1000])[0] == pytest.approx(
        hh_noise.rest * (1 - hh_noise.rest) / ((1 - float(gain)) * n), rel=1e-5)


def test_wkb_barrier_and_linear_noise_variance_against_the_exact_stationary_law(hh_noise):
    n = 3 * 100000
    top = int(np.ceil(hh_noise.saddle * n)) + 1
    k = np.arange(top + 1)
    alpha, beta = hh_noise.rates(k / n)
    with np.errstate(divide="ignore"):
        log_pi = np.concatenate([[0.0], np.cumsum(np.log((n - k[:-1]) * alpha[:-1]) - np.log(k[1:] * beta[1:]))])
    rest, saddle = int(np.argmax(log_pi)), int(round(hh_noise.saddle * n))
    # -ln(pi(saddle)/pi(rest))/n -> Delta Phi_WKB; the O(1) prefactor leaves an O(1/n) relative gap
    assert (log_pi[rest] - log_pi[saddle]) / n == pytest.approx(hh_noise.barrier_wkb, rel=2e-3)
    # variance of m in the rest well (below the saddle) against the linear-noise variance
    well = k <= saddle
    weights = np.exp(log_pi[well] - logsumexp(log_pi[well]))
    mean = np.sum(weights * k[well] / n)
    variance = np.sum(weights * (k[well] / n - mean) ** 2)
    assert variance == pytest.approx(hh_noise.stationary_variance([100000])[0], rel=0.02)


def test_kramers_rate_is_the_large_n_limit_of_the_exact_first_passage(hh_noise):
    from brian2 import Hz

    numbers = np.array([4000, 8000, 16000, 32000])
    exact = np.asarray(hh_noise.exact_rate(numbers, start="rest") / Hz)
    for kind in ("wkb", "diffusion"):
        kramers = np.asarray(hh_noise.kramers_rate(numbers, kind) / Hz)
        gap = 1.0 - exact / kramers
        # Laplace's method is exact up to O(1/n): the gap shrinks like 1/N
        assert np.all(np.diff(np.abs(gap)) < 0)
        assert abs(gap[-1]) < 0.01
        np.testing.assert_allclose(gap * numbers, gap[-1] * numbers[-1], rtol=0.25)
    # the exact slope of ln(rate) tends to -a Delta Phi_WKB
    assert hh_noise.exact_slope([30000, 40000, 50000]) == pytest.approx(hh_noise.slope("wkb"), rel=2e-3)
    # the two barriers differ at third order in the (narrow) barrier width at zero drive
    assert hh_noise.barrier_wkb == pytest.approx(hh_noise.barrier_diffusion, rel=1e-3)


def test_wide_barrier_separates_diffusion_from_wkb(hh_membrane):
    # Keener & Newby (2011): the diffusion approximation underestimates a wide barrier
    from brian2 import cm, uA

    deep = gate_noise(hh_membrane, 3, drive=-8 * uA / cm**2)
    assert deep.barrier_wkb > 1.1 * deep.barrier_diffusion


def test_open_fraction_variances_against_sampling(hh_noise, hh_membrane):
    rng = np.random.default_rng(5)
    channels, h0 = 20000, hh_membrane.frozen["h"]
    chain, exact = hh_noise.open_fraction_variances([channels], {"h": 1})
    m = hh_noise.rest
    open_channels = rng.binomial(channels, m**3 * h0, size=4000) / channels
    gates = rng.binomial(3 * channels, m, size=4000) / (3 * channels)
    # sample variances within 4 standard errors (relative SE of a variance: sqrt(2/(n - 1)))
    assert np.var(open_channels, ddof=1) == pytest.approx(exact[0], rel=4 * np.sqrt(2 / 3999))
    assert np.var(gates**3 * h0, ddof=1) == pytest.approx(chain[0], rel=4 * np.sqrt(2 / 3999) + 0.01)
    assert chain[0] / exact[0] < 0.01  # the gate chain misses most of the channel-state noise


def test_model_gate_rates_of_the_markov_file_are_hodgkin_huxley(hh_membrane):
    from neurophase.micro.modelfile import load_model
    from neurophase.testing import hodgkin_huxley_1952_rate_tuple

    voltages = np.linspace(-0.09, 0.03, 25)
    alpha, beta = model_gate_rates(load_model("hodgkin_huxley_markov"), "m")(voltages)
    reference = hodgkin_huxley_1952_rate_tuple(voltages * 1e3)
    np.testing.assert_allclose(alpha, np.asarray(reference[0]) * 1e3, rtol=1e-9)
    np.testing.assert_allclose(beta, np.asarray(reference[1]) * 1e3, rtol=1e-9)
    alpha_d, beta_d = hh_membrane.gate_rates(voltages)
    np.testing.assert_allclose(alpha_d, alpha, rtol=1e-9)
    np.testing.assert_allclose(beta_d, beta, rtol=1e-9)


# --------------------------------------------------------------------------- brief pulses
def test_brief_pulse_threshold_tends_to_the_separatrix(hh_noise, hh_membrane):
    """d -> 0: A* d / C is the distance along v, at m = m_rest, to the saddle's stable manifold,
    computed here independently by integrating backwards from the saddle."""
    from brian2 import cm, ms, mV, uF, volt
    from scipy.integrate import solve_ivp

    from neurophase.units import to_magnitude

    def field(_, state):
        dv, dm = hh_membrane.fast_rates(state[0], state[1], 0.0)
        return [float(dv), float(dm)]

    v_s, m_s = float(hh_noise.saddle_voltage / volt), hh_noise.saddle
    step_v, step_m = 1e-7, 1e-7 * hh_noise.saddle
    f0 = np.array(field(0, [v_s, m_s]))
    jacobian = np.column_stack([(np.array(field(0, [v_s + step_v, m_s])) - f0) / step_v,
                                (np.array(field(0, [v_s, m_s + step_m])) - f0) / step_m])
    values, vectors = np.linalg.eig(jacobian)
    stable = vectors[:, np.argmin(values.real)].real
    stable = stable if stable[1] < 0 else -stable  # the branch that goes down in m

    def reach_rest_m(_, state):
        return state[1] - hh_noise.rest

    reach_rest_m.terminal = True
    start = np.array([v_s, m_s]) + 1e-6 * stable / np.linalg.norm(stable / [1e-3, m_s])
    backward = solve_ivp(lambda t, y: [-value for value in field(t, y)], (0, 0.05), start, events=reach_rest_m,
                         rtol=1e-10, atol=[1e-12, 1e-14], method="LSODA")
    v_separatrix = float(backward.y_events[0][0][0])
    capacitance = float(hh_membrane.capacitance / (uF / cm**2))
    distance_mV = (v_separatrix - float(hh_noise.rest_voltage / volt)) * 1e3
    for duration in (0.01, 0.02):
        level = float(to_magnitude(hh_noise.pulse_threshold(duration * ms), "uA/cm**2"))
        assert level * duration / capacitance == pytest.approx(distance_mV, rel=0.02 * duration / 0.01)
    # the kick of N1 (V_saddle) is exact only for an instantaneous gate: the m gate lags
    assert distance_mV > float((hh_noise.saddle_voltage - hh_noise.rest_voltage) / mV)


@pytest.mark.brian2
def test_pulse_threshold_and_sensitivity_against_brian2_frozen_subsystem(hh_noise, hh_membrane):
    """The numpy integration of the fast subsystem against Brian2 running the model file with h, n
    frozen (neurophase.micro.thresholds, in-network bisection), from the rest and from m0 +- delta
    with the pulse at t = 0 (m relaxes in 0.24 ms: a later pulse would see a smaller offset).
    Tolerances: 1 % on the threshold (dt = 5 us against LSODA), 3 % on the slope (the bisection
    bracket, 40 / 2**22, is 1e-4 of the threshold change over +- delta)."""
    from brian2 import cm, ms, uA, volt

    from neurophase.micro.modelfile import load_model
    from neurophase.micro.thresholds import threshold_bisection
    from neurophase.units import to_magnitude

    model = load_model("hodgkin_huxley_1952")
    delta = 0.05 * (hh_noise.saddle - hh_noise.rest)
    thresholds = []
    for m0 in (hh_noise.rest - delta, hh_noise.rest, hh_noise.rest + delta):
        state = dict(hh_membrane.rest_state)
        state["m"] = m0
        state["v"] = float(hh_membrane.balance_voltage(m0, 0.0)) * volt
        result = threshold_bisection(model, state, np.array([0.5]) * ms, np.array([40.0]) * uA / cm**2,
                                     variants={"frozen": dict(hh_membrane.frozen)}, trial_duration=25 * ms,
                                     pulse_start=0 * ms, steps=22, rising_counts=True, dt=0.005 * ms)
        thresholds.append(float(result["threshold"].values[0, 0]))
    numpy_rest = float(to_magnitude(hh_noise.pulse_threshold(0.5 * ms), "uA/cm**2"))
    assert thresholds[1] == pytest.approx(numpy_rest, rel=0.01)
    brian_slope = (thresholds[2] - thresholds[0]) / (2 * delta)
    assert hh_noise.threshold_sensitivity(0.5 * ms, step=delta) == pytest.approx(brian_slope, rel=0.03)


def test_derived_firing_probability_limits(hh_noise):
    from brian2 import cm, ms, uA

    levels = np.array([0.0, 6.0, 6.367, 7.0, 30.0]) * uA / cm**2
    p = hh_noise.firing_probability(levels, [1e5, 1e7], 0.5 * ms, 10 * ms)  # 1e7: Kramers, not the sum
    # large N: a step at A* (the probit width shrinks as N^-1/2), no spontaneous floor
    assert p[1, 0] < 1e-12 and p[1, -1] == pytest.approx(1.0)
    assert p[1, 2] == pytest.approx(0.5, abs=0.02)
    width = hh_noise.pulse_width([1e4, 4e4], 0.5 * ms)
    assert float(width[0] / width[1]) == pytest.approx(2.0, rel=1e-12)


def test_errors(hh_membrane):
    from brian2 import cm, uA

    from neurophase.mapping import coarse_grain
    from neurophase.micro.modelfile import load_model

    with pytest.raises(ParameterError, match="instantaneous"):
        gate_noise(coarse_grain(load_model("wang_buzsaki_1996")), 3)
    with pytest.raises(ParameterError, match="below the fold"):
        gate_noise(hh_membrane, 3, drive=1.0 * uA / cm**2)
    with pytest.raises(ParameterError, match="whole number"):
        gate_noise(hh_membrane, 0)
    with pytest.raises(ParameterError, match="N >= 1"):
        gate_noise(hh_membrane, 3).kramers_rate([0.5])
    with pytest.raises(ParameterError, match="kramers_rate"):
        gate_noise(hh_membrane, 3).mean_first_passage_time([2e6])
    with pytest.raises(ParameterError, match="no rate alpha_q"):
        model_gate_rates(load_model("hodgkin_huxley_markov"), "q")
