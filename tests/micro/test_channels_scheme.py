"""The generated Markov channel code (neurophase.micro.channels) against independent algebra.

No Brian2 run: the generated statements are executed in Python with the binomial sampler
replaced by its expectation ``n p``. Every statement is linear in the draws before it, so
this gives the exact expected counts after one step, which must equal ``counts @ expm(Q dt)``
with ``Q`` the generator of the full channel chain (8 Na states, 5 K states) written here from
the kinetic scheme (Goldwyn & Shea-Brown 2011, Fig. 1), for any rates and ``dt``. The initial
draw's expectation must be ``N`` times the stationary law, the null vector of ``Q``.
"""

import math

import numpy as np
import pytest
from scipy.linalg import expm, null_space

from neurophase.errors import ModelFileError, ParameterError
from neurophase.micro.channels import markov_scheme, parse_channel_table
from neurophase.micro.modelfile import load_model, load_model_text
from neurophase.testing import hodgkin_huxley_1952_rate_tuple


def generator(gates, rates):
    """Generator matrix of a channel of independent gates; states ordered like the scheme."""
    import itertools

    states = list(itertools.product(*(range(power + 1) for _, power in gates)))
    index = {state: position for position, state in enumerate(states)}
    matrix = np.zeros((len(states), len(states)))
    for state in states:
        for position, (gate, power) in enumerate(gates):
            alpha, beta = rates[gate]
            k = state[position]
            if k < power:
                target = state[:position] + (k + 1,) + state[position + 1:]
                matrix[index[state], index[target]] += (power - k) * alpha
            if k > 0:
                target = state[:position] + (k - 1,) + state[position + 1:]
                matrix[index[state], index[target]] += k * beta
    matrix -= np.diag(matrix.sum(axis=1))
    return states, matrix


def run_expectation(code, variables):
    """Execute generated Brian2 statements in Python, binomial_exact -> its mean."""
    namespace = {
        "binomial_exact": lambda n, p: n * min(max(p, 0.0), 1.0) if p == p else 0.0,
        "exprel": lambda x: math.expm1(x) / x if x != 0 else 1.0,
        "clip": lambda x, low, high: min(max(x, low), high),
        "floor": math.floor, "int": int,
    }
    namespace.update(variables)
    for line in code.splitlines():
        name, expression = line.split(" = ", 1)
        value = eval(expression, {"__builtins__": {}}, namespace)  # noqa: S307 - our own code
        namespace[name.strip()] = value
    return namespace


@pytest.mark.parametrize("voltage", [-90.0, -65.0, -40.0, 0.0, 40.0])
@pytest.mark.parametrize("step_ms", [0.01, 0.2, 3.0])
def test_one_step_mean_is_the_matrix_exponential(voltage, step_ms):
    scheme = markov_scheme(load_model("hodgkin_huxley_markov"))
    a_m, b_m, a_h, b_h, a_n, b_n = (float(rate) for rate in hodgkin_huxley_1952_rate_tuple(voltage))
    rates = {"m": (a_m, b_m), "h": (a_h, b_h), "n": (a_n, b_n)}
    variables = {"dt": step_ms}
    for gate, (alpha, beta) in rates.items():
        variables[f"alpha_{gate}"], variables[f"beta_{gate}"] = alpha, beta
    generator_state = np.random.default_rng(int(step_ms * 100) + int(voltage) + 200)
    starts = {}
    for channel in scheme.types:
        counts = generator_state.integers(0, 1000, size=len(channel.states)).astype(float)
        starts[channel.name] = counts
        for state, count in zip(channel.states, counts):
            variables[channel.state_variable(state)] = count
    result = run_expectation(scheme.update_code(), variables)
    for channel in scheme.types:
        states, matrix = generator(channel.gates, rates)
        assert states == channel.states
        expected = starts[channel.name] @ expm(matrix * step_ms)
        obtained = np.array([result[channel.state_variable(state)] for state in states])
        np.testing.assert_allclose(obtained, expected, rtol=1e-9, atol=1e-9 * expected.sum())
        assert obtained.sum() == pytest.approx(starts[channel.name].sum(), rel=1e-12)


@pytest.mark.parametrize("voltage", [-80.0, -64.99638, -30.0, 20.0])
def test_initial_draw_mean_is_the_stationary_law(voltage):
    scheme = markov_scheme(load_model("hodgkin_huxley_markov"))
    a_m, b_m, a_h, b_h, a_n, b_n = (float(rate) for rate in hodgkin_huxley_1952_rate_tuple(voltage))
    rates = {"m": (a_m, b_m), "h": (a_h, b_h), "n": (a_n, b_n)}
    variables = {"N_Na": 6000.0, "K_per_Na": 0.3}
    for gate, (alpha, beta) in rates.items():
        variables[f"alpha_{gate}"], variables[f"beta_{gate}"] = alpha, beta
    result = run_expectation(scheme.initial_code(), variables)
    assert result["Na_total"] == 6000 and result["K_total"] == 1800
    for channel in scheme.types:
        states, matrix = generator(channel.gates, rates)
        stationary = null_space(matrix.T)[:, 0]
        stationary /= stationary.sum()
        obtained = np.array([result[channel.state_variable(state)] for state in states])
        np.testing.assert_allclose(obtained, result[channel.total_variable] * stationary, rtol=1e-9,
                                   atol=1e-9)


def test_states_and_generated_names():
    model = load_model("hodgkin_huxley_markov")
    scheme = markov_scheme(model)
    na, k = scheme.types
    assert [na.state_variable(state) for state in na.states] == [
        "Na_m0h0", "Na_m0h1", "Na_m1h0", "Na_m1h1", "Na_m2h0", "Na_m2h1", "Na_m3h0", "Na_m3h1"]
    assert na.open_state == (3, 1) and k.open_state == (4,)
    assert "Na_open = 1.0 * Na_m3h1 / Na_total : 1" in scheme.equations()
    assert markov_scheme(load_model("hodgkin_huxley_1952")) is None
    assert "multinomial" in scheme.describe()


GOOD = load_model("hodgkin_huxley_markov").text


@pytest.mark.parametrize("change, message", [
    (('gates = { n = 4 }', 'gates = { n = 0 }'), r"gate n = 0.*integer from 1 to 8"),
    (('gates = { n = 4 }', 'gates = { q = 4 }'), r"gate q needs its rate alpha_q"),
    (('number = "K_per_Na * N_Na"', 'number = "K_per_Na * N_Ka"'), r"uses 'N_Ka', which is not a parameter"),
    (('number = "K_per_Na * N_Na"', 'nmber = "K_per_Na * N_Na"'), r"unknown key\(s\) nmber"),
    (('number = "K_per_Na * N_Na"', 'number = "__import__(1)"'), r"only parameters, numbers"),
    (('g_K * K_open', 'g_K * K_opn'), r"use K_opn, which is neither"),
])
def test_channel_table_errors_name_the_fix(change, message):
    with pytest.raises(ModelFileError, match=message):
        load_model_text(GOOD.replace(*change))


def test_channel_table_needs_a_spiking_membrane():
    with pytest.raises(ModelFileError, match="gates"):
        parse_channel_table({"Na": {"number": "N"}})
    with pytest.raises(ModelFileError, match=r"letters and digits"):
        parse_channel_table({"N a": {"gates": {"m": 1}, "number": "N"}})


def test_channel_numbers_below_one_are_refused_before_simulating():
    from brian2 import cm, ms, uA

    from neurophase.micro.channels import channel_noise_firing
    from neurophase.micro.neurone import firing_curve

    density = uA / cm**2
    with pytest.raises(ParameterError, match=r"channel_numbers must be finite numbers >= 1"):
        channel_noise_firing(amplitudes=np.array([1.0]) * density, channel_numbers=[100, 0])
    with pytest.raises(ParameterError, match=r"number of K channels .* = 0 at N_Na=1\) must be between 1"):
        firing_curve("hodgkin_huxley_markov", np.array([1.0]) * density, parameters={"N_Na": [1, 10]},
                     duration=1 * ms)
    with pytest.raises(ModelFileError, match="declares no Markov channels"):
        channel_noise_firing("hodgkin_huxley_1952", amplitudes=np.array([1.0]) * density,
                             channel_numbers=[100])
    with pytest.raises(ParameterError, match="pulse must end before the run"):
        channel_noise_firing(amplitudes=np.array([1.0]) * density, channel_numbers=[100],
                             pulse_duration=1 * ms, duration=5.5 * ms)
