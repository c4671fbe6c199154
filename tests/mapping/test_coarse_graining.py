"""Coarse-graining a model file into its mean-field membrane (THEORY.md 6a).

References used here are independent of neurophase's own solver: the Hodgkin-Huxley fast
subsystem typed from the paper and solved with scipy, direct integration of that subsystem,
and the Curie-Weiss closed forms of neurophase.meanfield (a separate, already tested solver).
"""

import numpy as np
import pytest
from brian2 import cm, mV, nA, uA
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, fsolve

from neurophase.errors import ModelFileError, ParameterError, UnitMismatchError
from neurophase.io import load_dataset, save_dataset
from neurophase.mapping import coarse_grain
from neurophase.meanfield import branches as curie_weiss_branches
from neurophase.meanfield import coercive_field
from neurophase.micro.modelfile import load_model, load_model_text
from neurophase.neurons import BistableUnit, get_activation

# ------------------------------------------------------------------ HH 1952 typed from the paper
# Hodgkin & Huxley (1952) Eqs. 12-13, 20-21, 23-24, 26 and Table 3, voltages shifted by -65 mV
# (the convention of models/hodgkin_huxley_1952.toml); mV, ms, uA/cm2, mS/cm2, uF/cm2.
G_NA, G_K, G_L, E_NA, E_K, E_L, C_M = 120.0, 36.0, 0.3, 50.0, -77.0, -54.387, 1.0


def alpha_m(v):
    x = -(v + 40.0) / 10.0
    return 1.0 / (np.expm1(x) / x)


def beta_m(v):
    return 4.0 * np.exp(-(v + 65.0) / 18.0)


def alpha_h(v):
    return 0.07 * np.exp(-(v + 65.0) / 20.0)


def beta_h(v):
    return 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0))


def alpha_n(v):
    x = -(v + 55.0) / 10.0
    return 0.1 / (np.expm1(x) / x)


def beta_n(v):
    return 0.125 * np.exp(-(v + 65.0) / 80.0)


def steady(alpha, beta, v):
    return alpha(v) / (alpha(v) + beta(v))


def ionic(v, m, h, n):
    return G_NA * m**3 * h * (v - E_NA) + G_K * n**4 * (v - E_K) + G_L * (v - E_L)


@pytest.fixture(scope="module")
def hh_rest():
    """Rest of the full 4-D model at I = 0 and the frozen h0, n0 (independent of neurophase)."""
    v_rest = brentq(lambda v: ionic(v, steady(alpha_m, beta_m, v), steady(alpha_h, beta_h, v),
                                    steady(alpha_n, beta_n, v)), -70.0, -60.0, xtol=1e-13)
    return v_rest, steady(alpha_h, beta_h, v_rest), steady(alpha_n, beta_n, v_rest)


def fast_rhs(state, current, h0, n0):
    v, m = state
    return np.array([(current - ionic(v, m, h0, n0)) / C_M, alpha_m(v) * (1 - m) - beta_m(v) * m])


def fast_jacobian(state, current, h0, n0, step=1e-6):
    columns = []
    for k in range(2):
        delta = np.zeros(2)
        delta[k] = step
        columns.append((fast_rhs(state + delta, current, h0, n0) - fast_rhs(state - delta, current, h0,
                                                                            n0)) / (2 * step))
    return np.array(columns).T


@pytest.fixture(scope="module")
def hh():
    return coarse_grain(load_model("hodgkin_huxley_1952"), inputs=np.linspace(-1.0, 1.0, 201) * uA / cm**2)


def test_hh_rest_and_frozen_gates_match_the_paper(hh, hh_rest):
    v_rest, h0, n0 = hh_rest
    assert float(hh.rest_voltage / mV) == pytest.approx(v_rest, abs=1e-7)
    assert hh.frozen["h"] == pytest.approx(h0, abs=1e-9) and hh.frozen["n"] == pytest.approx(n0, abs=1e-9)
    assert hh.order_parameter == "m"
    assert "agrees with" in hh.rest_check  # the model file's [initial] state is this rest


def test_hh_fold_and_saddle_against_an_independent_scipy_computation(hh, hh_rest):
    """The 2-D fast subsystem (v, m) with h, n frozen, solved by scipy: the fold is where a fixed
    point has a zero Jacobian determinant; the saddle at I = 0 is the fixed point with one
    positive eigenvalue."""
    _, h0, n0 = hh_rest

    def fold_conditions(unknowns):
        v, m, current = unknowns
        rhs = fast_rhs(np.array([v, m]), current, h0, n0)
        return [rhs[0], rhs[1], np.linalg.det(fast_jacobian(np.array([v, m]), current, h0, n0))]

    v_guess = -63.0
    v_fold, m_fold, i_fold = fsolve(fold_conditions, [v_guess, steady(alpha_m, beta_m, v_guess), 0.2], xtol=1e-11)
    assert np.allclose(fold_conditions([v_fold, m_fold, i_fold]), 0.0, atol=1e-7)
    assert hh.fold_up[0] == pytest.approx(i_fold, rel=1e-5)
    fold = next(f for f in hh.folds if f.kind == "upper")
    assert float(fold.voltage / mV) == pytest.approx(v_fold, abs=1e-4)
    assert fold.order_parameter == pytest.approx(m_fold, rel=1e-5)
    assert fold.loop_gain == pytest.approx(1.0, abs=1e-6)

    saddle = fsolve(lambda s: fast_rhs(s, 0.0, h0, n0), [-62.0, steady(alpha_m, beta_m, -62.0)], xtol=1e-13)
    eigenvalues = np.linalg.eigvals(fast_jacobian(saddle, 0.0, h0, n0))
    assert np.sum(eigenvalues.real > 0) == 1  # a saddle
    assert float(hh.saddle_voltage_rest / mV) == pytest.approx(saddle[0], abs=1e-5)
    index = int(np.argmin(np.abs(np.asarray(hh.inputs / (uA / cm**2)))))
    assert hh.saddle_branch[index] == pytest.approx(saddle[1], rel=1e-6)


def test_hh_branches_and_stability_agree_with_direct_integration(hh, hh_rest):
    """Start the frozen (v, m) subsystem next to every root at I = 0: stable roots attract, the
    saddle repels to the rest or the excited branch."""
    _, h0, n0 = hh_rest
    index = int(np.argmin(np.abs(np.asarray(hh.inputs / (uA / cm**2)))))
    roots = hh.branches[index][np.isfinite(hh.branches[index])]
    stable = hh.branch_stable[index][: roots.size]
    voltages = np.asarray(hh.branch_voltage[index][: roots.size] / mV)
    assert roots.size == 3 and stable.tolist() == [True, False, True]
    for m_root, v_root, is_stable in zip(roots, voltages, stable):
        for sign in (-1.0, 1.0):
            start = [v_root + sign * 0.05, m_root * (1 + sign * 0.002)]
            end = solve_ivp(lambda t, s: fast_rhs(s, 0.0, h0, n0), (0, 200), start, method="LSODA",
                            rtol=1e-9, atol=1e-12).y[:, -1]
            if is_stable:
                assert end[0] == pytest.approx(v_root, abs=1e-3)
            else:
                assert abs(end[0] - v_root) > 1.0
                target = voltages[0] if sign < 0 else voltages[2]
                assert end[0] == pytest.approx(target, abs=1e-3)


def test_barrier_against_the_reduced_dynamics_typed_from_the_paper(hh, hh_rest):
    """Delta U = -int_rest^saddle (m_inf(V*) - m)/tau_m(V*) dm with V*(m) the closed form of
    THEORY 6a for HH (h, n frozen), integrated by scipy.quad (1e-10 relative)."""
    from scipy.integrate import quad

    _, h0, n0 = hh_rest

    def reduced(m, current):
        g_na = G_NA * m**3 * h0
        v = (current + g_na * E_NA + G_K * n0**4 * E_K + G_L * E_L) / (g_na + G_K * n0**4 + G_L)
        return (alpha_m(v) * (1 - m) - beta_m(v) * m)  # per ms

    levels = np.asarray(hh.inputs / (uA / cm**2))
    for index in (0, 60, 110):
        rest, saddle = hh.rest_branch[index], hh.saddle_branch[index]
        expected = -quad(reduced, rest, saddle, args=(levels[index],), epsabs=0, epsrel=1e-11)[0]
        assert float(np.asarray(hh.barrier[index])) * 1e-3 == pytest.approx(expected, rel=1e-8)
        # the relaxation time at rest is -1/(dF/dm) of the same reduced flow
        step = 1e-7
        slope = (reduced(rest + step, levels[index]) - reduced(rest - step, levels[index])) / (2 * step)
        assert float(np.asarray(hh.relaxation_time[index])) * 1e3 == pytest.approx(-1 / slope, rel=1e-5)


def test_potential_extrema_are_the_branches(hh):
    """dm/dt = -dU/dm: U has its minima at the stable roots and its maximum at the saddle."""
    m_grid = hh.m_grid
    checked = 0
    for index in range(0, hh.inputs.size, 20):
        roots = hh.branches[index]
        finite = np.isfinite(roots)
        if finite.sum() != 3:
            continue
        potential = np.asarray(hh.potential[index])
        interior = np.arange(1, m_grid.size - 1)
        left, middle, right = potential[interior - 1], potential[interior], potential[interior + 1]
        minima = interior[(middle < left) & (middle < right)]
        maxima = interior[(middle > left) & (middle > right)]
        stable_roots = roots[finite & hh.branch_stable[index]]
        unstable_roots = roots[finite & ~hh.branch_stable[index]]
        spacing = np.log(m_grid[1] / m_grid[0]) * 1.5  # one grid step in log m (grid uniform in logit)
        assert len(minima) == 2 and len(maxima) == 1
        for found, expected in ((m_grid[minima], stable_roots), (m_grid[maxima], unstable_roots)):
            assert np.all(np.abs(np.log(found) - np.log(np.sort(expected))) < spacing)
        checked += 1
    assert checked >= 3
    # the barrier closes at the fold
    below = np.asarray(hh.inputs / (uA / cm**2)) < hh.fold_up[0]
    barrier = np.asarray(hh.barrier)
    assert np.all(barrier[below] > 0) and np.all(np.isnan(barrier[~below]))
    assert barrier[below][-1] < 1e-3 * barrier[below][0]


# ------------------------------------------------------------------- Boltzmann toy: Curie-Weiss
TOY = """
[model]
name = "boltzmann_toy"
kind = "spiking"
title = "A gate-controlled current source with a Boltzmann gate"
citation = "THEORY.md 6a (test model)"
{declared}

[equations]
model = '''
dv/dt = (g_L * (E_L - v) + I_max * m + I_input) / C_m : volt
dm/dt = (m_inf - m) / tau_m : 1
m_inf = 1 / (1 + exp(-(v - V_half) / k_V)) : 1
I_input : amp/meter**2
'''
threshold = "v > 0*mV"
input = "I_input"
input_unit = "uA/cm**2"

[parameters]
C_m = "1 uF/cm**2"
g_L = "0.1 mS/cm**2"
E_L = "-70 mV"
I_max = "2 uA/cm**2"
V_half = "-60 mV"
k_V = "2 mV"
tau_m = "1 ms"
"""
# J = I_max / (2 g_L) = 10 mV, T = 2 k_V = 4 mV, h = V*(M = 0) - V_half = I / g_L = 10 mV per uA/cm2


@pytest.fixture(scope="module")
def toy():
    model = load_model_text(TOY.format(declared=""), source="<toy>")
    return coarse_grain(model, inputs=np.linspace(-0.6, 0.6, 121) * uA / cm**2)


def test_boltzmann_gate_gives_exactly_curie_weiss(toy):
    levels = np.asarray(toy.inputs / (uA / cm**2))
    assert float(toy.temperature / mV) == pytest.approx(4.0, abs=1e-6)
    assert toy.boltzmann_rms < 1e-9
    assert np.allclose(np.asarray(toy.coupling / mV), 10.0, atol=1e-9)  # J_eff = dV*/dM, constant
    assert np.allclose(np.asarray(toy.field / mV), 10.0 * levels, atol=1e-9)
    M = 2 * toy.branches - 1
    v_star = np.asarray(toy.branch_voltage / mV)
    finite = np.isfinite(M)
    assert np.allclose(M[finite], np.tanh((v_star[finite] + 60.0) / 4.0), atol=1e-12)
    reference, reference_stable = curie_weiss_branches(4.0, 10.0 * levels, 10.0)
    assert np.array_equal(np.isfinite(reference), finite)
    assert np.allclose(M[finite], reference[finite], atol=1e-9)
    assert np.array_equal(toy.branch_stable[finite], reference_stable[finite])
    h_c = float(coercive_field(4.0, 10.0))
    folds = sorted(float(f.input / (uA / cm**2)) for f in toy.folds)
    assert folds == pytest.approx([-h_c / 10.0, h_c / 10.0], rel=1e-8)
    assert toy.fold_up[0] == pytest.approx(h_c / 10.0, rel=1e-8)
    assert toy.loop_gain_max_rest == pytest.approx(10.0 / 4.0, rel=1e-6)  # T_c / T at M = 0


def test_derived_activation_is_the_curie_weiss_hysteresis_loop(toy):
    unit = toy.activation()
    assert unit is not None and get_activation("derived_membrane", membrane=toy).parameters == unit.parameters
    sweep = np.r_[np.linspace(-0.6, 0.6, 61), np.linspace(0.6, -0.6, 61)]
    expected = BistableUnit(4.0, 10.0, initial="lower").respond(10.0 * sweep)
    assert np.allclose(2 * unit.respond(sweep) - 1, expected, atol=1e-9)
    levels = np.array([-0.5, -0.2, 0.1, 0.3, 0.5])
    value = unit.value(levels * uA / cm**2)
    fold = float(coercive_field(4.0, 10.0)) / 10.0  # uA/cm2
    lower = BistableUnit(4.0, 10.0, branch="lower").value(10.0 * levels)
    upper = BistableUnit(4.0, 10.0, branch="upper").value(10.0 * levels)
    assert np.allclose(2 * value - 1, np.where(levels <= fold, lower, upper), atol=1e-9)
    step = 1e-6
    numeric = (unit.value(levels + step) - unit.value(levels - step)) / (2 * step)
    assert np.allclose(unit.derivative(levels), numeric, rtol=1e-5)


def test_declared_order_parameter_and_wrong_declarations():
    model = load_model_text(TOY.format(declared='order_parameter = "m"'), source="<toy>")
    assert model.order_parameter == "m"
    assert coarse_grain(model).order_parameter_rule.startswith("declared")
    with pytest.raises(ModelFileError, match="order_parameter"):
        load_model_text(TOY.format(declared='order_parameter = "q"'), source="<toy>")


def test_library_models_coarse_grain():
    for name, gate in (("wang_buzsaki_1996", "m_inf"), ("morris_lecar_class1", "m_inf"),
                       ("connor_stevens_1977", "m")):
        membrane = coarse_grain(load_model(name))
        assert membrane.order_parameter == gate
        assert membrane.loop_gain_max_rest > 1.0 and membrane.fold_up is not None
        assert "agrees with" in membrane.rest_check


def test_morris_lecar_is_exactly_boltzmann_and_its_fold_is_the_iv_maximum():
    """ML's m_inf = (1 + tanh((v - V1)/V2))/2 is a Boltzmann curve with k_V = V2/2; with w frozen
    the fold is the local maximum of the instantaneous I-V curve, computed here directly."""
    membrane = coarse_grain(load_model("morris_lecar_class1"))
    assert float(membrane.k_v / mV) == pytest.approx(9.0, abs=1e-6)
    assert float(membrane.v_half / mV) == pytest.approx(-1.2, abs=1e-6)
    w0 = membrane.frozen["w"]

    def current(v):  # I_ion with m = m_inf(v), w = w0 (Morris & Lecar 1981; Rinzel & Ermentrout 1998)
        m = 0.5 * (1 + np.tanh((v + 1.2) / 18.0))
        return 2.0 * (v + 60.0) + 4.0 * m * (v - 120.0) + 8.0 * w0 * (v + 84.0)

    v = np.linspace(-60, 0, 600001)
    peak = np.argmax(np.where(v < -20, current(v), -np.inf))
    assert membrane.fold_up[0] == pytest.approx(current(v[peak]), rel=1e-7)


def test_dataset_round_trip(tmp_path, hh):
    path = save_dataset(hh.to_dataset(), tmp_path / "hh.nc")
    loaded = load_dataset(path)
    assert loaded["fold_input"].attrs["units"] == "uA/cm**2"
    assert float(loaded["temperature"]) == pytest.approx(float(hh.temperature / mV))
    assert loaded.attrs["order_parameter"] == "m" and loaded.attrs["model_hash"] == hh.model_hash


# ------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("name", ["leaky_integrate_and_fire", "adaptive_exponential_2005",
                                  "izhikevich_2003_regular_spiking", "ising_membrane", "ising_lattice"])
def test_models_without_an_activating_gate_are_refused(name):
    with pytest.raises(ParameterError, match=name):
        coarse_grain(load_model(name))


def test_bad_arguments():
    model = load_model("hodgkin_huxley_1952")
    with pytest.raises(ParameterError, match="gates are: m"):
        coarse_grain(model, order_parameter="q")
    with pytest.raises(ParameterError, match="load_model"):
        coarse_grain("hodgkin_huxley_1952")
    with pytest.raises(UnitMismatchError):
        coarse_grain(model, inputs=np.linspace(0, 1, 3) * nA)
    with pytest.raises(ParameterError, match="non-empty"):
        coarse_grain(model, inputs=np.array([]) * uA / cm**2)
    with pytest.raises(ParameterError, match="finite"):
        coarse_grain(model, inputs=np.array([0.0, np.nan]) * uA / cm**2)
    with pytest.raises(ParameterError, match="rest_input"):
        coarse_grain(load_model("traub_miles"))
