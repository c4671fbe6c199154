"""P2 (Boltzmann gating) and P8 (zero temperature is the perceptron): neurophase.check.gating.

References and independent values:

- Hodgkin & Huxley (1952), J. Physiol. 117:500-544, rate functions Eqs. 12-13 (n), 20-21 (m),
  23-24 (h), in the paper's convention (V from rest, depolarisation negative). At rest (V = 0)
  they are closed forms: alpha_m = 2.5/(e^2.5 - 1), beta_m = 4, alpha_h = 0.07,
  beta_h = 1/(e^3 + 1), alpha_n = 0.1/(e - 1), beta_n = 0.125 (1/ms). The model file's
  [initial] gating values (its resting state, v = -64.99638 mV) must be x_inf there.
- Two-state Boltzmann gating 1/(1 + exp(-z e (V - V_half)/kT)) (Hille 2001, Ion Channels of
  Excitable Membranes, 3rd ed., ch. 2; Bezanilla 2000, Physiol. Rev. 80:555): the fitted
  V_half and k are checked against an independent fit written here (scipy curve_fit of the
  logistic in its exp form on the paper-typed rate functions), z_eff = kT/(e|k|) against
  CODATA constants at 6.3 C. No published fit values are asserted: HH's m_inf, h_inf, n_inf are
  not Boltzmann curves; over -100..20 mV the measured max residuals are 0.013 (m), 0.009 (h),
  0.041 (n): the stated 0.02 tolerance holds for m and h and fails for n, which is reported.
- The J = 0 heat-bath membrane: M = tanh(h/T) exactly (Glauber 1963), Var(M) = (1 - M^2)/N,
  lag-one correlation exp(-dt/tau0) per step: closed-form standard errors (4 of them = the
  tolerances).
- Curie-Weiss branches and h_c(T) = J m* - T artanh(m*), m* = sqrt(1 - T/J) (Stanley 1971,
  ch. 6; THEORY.md section 3), h_c(T_c/2) = 0.2664 J; T -> 0 expansion
  h_c = J - (T/2)(1 + ln(4J/T)) + O(T^2 ln T) (derived in the module docstring), checked here by
  a brentq root of the saddle-node condition written independently.
"""

import math

import numpy as np
import pytest
from scipy import constants
from scipy.optimize import brentq, curve_fit

from neurophase import meanfield, statistics
from neurophase.check import gating
from neurophase.errors import ParameterError
from neurophase.mapping import boltzmann
from neurophase.micro import gating as micro_gating
from neurophase.micro import references

pytestmark = [pytest.mark.brian2, pytest.mark.slow]

HH_REST_INITIAL = {"m": 0.05295509, "h": 0.5959941, "n": 0.3177324}  # models/hodgkin_huxley_1952.toml [initial]


@pytest.fixture(scope="module")
def p2():
    return gating.measure_gating(seed=3)


@pytest.fixture(scope="module")
def p8():
    return gating.measure_zero_temperature(seed=5)


def _by_id(verdicts):
    return {verdict.id: verdict for verdict in verdicts}


# ---------------------------------------------------------------------------------------------
# P2 without simulation
# ---------------------------------------------------------------------------------------------
def test_paper_rate_functions_at_rest_are_the_closed_forms():
    rates = references.hodgkin_huxley_1952_rates(-65.0)  # V = 0 in the paper's convention
    assert rates["alpha_m"] == pytest.approx(2.5 / (math.exp(2.5) - 1), rel=1e-12)
    assert rates["beta_m"] == pytest.approx(4.0, rel=1e-12)
    assert rates["alpha_h"] == pytest.approx(0.07, rel=1e-12)
    assert rates["beta_h"] == pytest.approx(1 / (math.exp(3) + 1), rel=1e-12)
    assert rates["alpha_n"] == pytest.approx(0.1 / (math.exp(1) - 1), rel=1e-12)
    assert rates["beta_n"] == pytest.approx(0.125, rel=1e-12)
    # removable singularities (alpha_m at v = -40 mV, alpha_n at v = -55 mV) take their limits 1, 0.1
    assert references.hodgkin_huxley_1952_rates(-40.0)["alpha_m"] == pytest.approx(1.0, rel=1e-12)
    assert references.hodgkin_huxley_1952_rates(-55.0)["alpha_n"] == pytest.approx(0.1, rel=1e-12)


@pytest.mark.parametrize("model", ["hodgkin_huxley_1952", "hodgkin_huxley_stochastic"])
def test_model_file_gating_functions_follow_the_paper_and_its_rest_state(model):
    voltage = np.arange(-100.0, 20.5, 0.5)
    curves = micro_gating.gating_functions(model, voltage)
    assert sorted(curves) == ["h", "m", "n"]
    rates = references.hodgkin_huxley_1952_rates(voltage)
    for gate in "mhn":
        # float64 evaluation of the same formulas: rounding level
        np.testing.assert_allclose(curves[gate]["alpha"], rates[f"alpha_{gate}"], rtol=1e-12)
        np.testing.assert_allclose(curves[gate]["beta"], rates[f"beta_{gate}"], rtol=1e-12)
    rest = micro_gating.gating_functions(model, [-64.99638])
    for gate, value in HH_REST_INITIAL.items():
        # the file's [initial] values are given to 7 significant digits
        assert rest[gate]["inf"][0] == pytest.approx(value, abs=2e-7)


def test_boltzmann_fit_recovers_an_exact_boltzmann_and_gating_charge():
    voltage = np.linspace(-100, 20, 121)
    for v_half, slope in ((-40.0, 9.0), (-62.0, -7.0)):
        fitted = boltzmann.fit_boltzmann(voltage, 1 / (1 + np.exp(-(voltage - v_half) / slope)))
        assert fitted == pytest.approx((v_half, slope), abs=1e-8)


def test_unknown_gate_is_refused():
    with pytest.raises(ParameterError, match="gates are: h, m, n"):
        micro_gating.gating_functions("hodgkin_huxley_1952", [-60.0], gates=["q"])


# ---------------------------------------------------------------------------------------------
# P2 measurement
# ---------------------------------------------------------------------------------------------
def test_p2_fits_agree_with_an_independent_fit_and_report_honestly(p2):
    verdicts, datasets = p2
    found = _by_id(verdicts)
    curves = datasets["gating_curves"]
    voltage = curves["voltage"].values
    assert voltage[0] == -100 and voltage[-1] == 20
    rates = references.hodgkin_huxley_1952_rates(voltage)
    thermal = constants.k * (constants.zero_Celsius + 6.3) / constants.e * 1e3  # mV at 6.3 C
    assert curves.attrs["thermal_voltage_mV"] == pytest.approx(thermal, rel=1e-12)
    assert thermal == pytest.approx(24.08, abs=0.01)
    for gate in "mhn":
        inf = rates[f"alpha_{gate}"] / (rates[f"alpha_{gate}"] + rates[f"beta_{gate}"])
        start = (-40.0, 10.0) if gate != "h" else (-60.0, -7.0)
        (v_half, slope), _ = curve_fit(lambda v, a, b: 1 / (1 + np.exp(-(v - a) / b)), voltage, inf, p0=start)
        residual = inf - 1 / (1 + np.exp(-(voltage - v_half) / slope))
        row = curves.sel(gate=gate)
        # two optimisers of the same least-squares problem: agree to well below 1e-4 mV
        assert float(row["v_half"]) == pytest.approx(v_half, abs=1e-4)
        assert float(row["slope_factor"]) == pytest.approx(slope, abs=1e-4)
        assert float(row["gating_charge"]) == pytest.approx(thermal / abs(slope), rel=1e-5)
        assert float(row["max_abs_residual"]) == pytest.approx(np.max(np.abs(residual)), abs=1e-6)
        assert float(row["rmse"]) == pytest.approx(np.sqrt(np.mean(residual**2)), abs=1e-6)
        verdict = found[f"P2-{gate}"]
        assert verdict.measured == pytest.approx(np.max(np.abs(residual)), abs=1e-6)
        assert verdict.holds == (np.max(np.abs(residual)) <= 0.02)
    # measured here (not published): m and h are within 0.02 of a Boltzmann, n is not
    assert found["P2-m"].holds and found["P2-h"].holds and not found["P2-n"].holds
    assert found["P2-model"].holds and found["P2-model"].measured < 1e-12


def test_p2_two_state_membrane_reproduces_the_logistic(p2):
    verdicts, datasets = p2
    found = _by_id(verdicts)
    channel = datasets["gating_channel"]
    for gate in "mhn":
        verdict = found[f"P2-{gate}-channel"]
        assert verdict.holds, verdict
        # the tolerance is 4 closed-form standard errors; N = 1000, 4 trials: a few 1e-3
        assert 1e-3 < verdict.tolerance < 0.015
        row = channel.sel(gate=gate)
        z = (row["p_open"].mean("trial") - row["p_open_expected"]) / row["standard_error"]
        assert float(np.max(np.abs(z))) < 4.0
        # the field is (V - V_half)/(2k): at T = 1 the J = 0 logistic 1/(1 + exp(-2h)) is the Boltzmann curve
        curve = datasets["gating_curves"].sel(gate=gate)
        expected_field = (channel["voltage_sim"] - curve["v_half"]) / (2 * curve["slope_factor"])
        np.testing.assert_allclose(row["field"], expected_field, rtol=1e-12)
        np.testing.assert_allclose(row["p_open_expected"], 1 / (1 + np.exp(-2 * expected_field)), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# P8
# ---------------------------------------------------------------------------------------------
def test_coercive_field_closed_form_and_its_zero_temperature_limit():
    from neurophase.meanfield import coercive_field

    assert float(coercive_field(0.5, 1.0)) == pytest.approx(0.2664, abs=5e-5)  # THEORY.md section 3
    for T in (0.5, 0.2, 0.1, 0.05, 0.01):
        # independent: the lower branch M < 0 ends where dh/dM = 0 on h(M) = T artanh(M) - M (J = 1)
        turning = brentq(lambda M: T / (1 - M * M) - 1.0, -1 + 1e-15, 0.0)
        independent = T * math.atanh(turning) - turning
        assert float(coercive_field(T, 1.0)) == pytest.approx(independent, abs=1e-10)
        assert meanfield.coercive_field_numeric(T, 1.0) == pytest.approx(independent, abs=1e-8)
    # T -> 0: h_c = J - (T/2)(1 + ln(4J/T)) + O(T^2 ln T)
    for T in (0.05, 0.01, 0.001):
        expansion = 1.0 - 0.5 * T * (1 + math.log(4 / T))
        assert float(coercive_field(T, 1.0)) == pytest.approx(expansion, abs=2 * T**2 * math.log(4 / T))


def test_sampled_mean_standard_error_matches_a_direct_sum():
    # Var(mean) of an AR(1) with unit variance and correlation rho: sum over the covariance matrix
    rho, n = 0.6, 50
    lag = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    direct = math.sqrt(np.sum(rho**lag) / n**2 / 4)
    assert statistics.sampled_mean_standard_error(1.0, rho, n, trials=4) == pytest.approx(direct, rel=1e-12)


def test_p8_verdicts_hold_and_expected_values_are_the_closed_forms(p8):
    verdicts, datasets = p8
    found = _by_id(verdicts)
    for verdict in verdicts:
        assert verdict.holds, verdict
    temperatures = (0.5, 0.2, 0.1, 0.05)
    for T in temperatures:
        assert found[f"P8-J0-T{T:g}"].expected == pytest.approx(1 - math.tanh(0.2 / T), rel=1e-12)
        assert f"P8-hysteresis-T{T:g}" in found and f"P8-J1-T{T:g}" in found
    # the deviation from sign(h) shrinks with T: measured, J = 0
    measured = [found[f"P8-J0-T{T:g}"].measured for T in temperatures]
    assert all(a > b for a, b in zip(measured, measured[1:]))
    assert measured[-1] < 2e-3  # closed form 6.7e-4 plus 4 standard errors (8e-4)
    # hysteresis: at T = 0.05 both branches are saturated, M_upper - M_lower = 2 to 1e-5
    assert found["P8-hysteresis-T0.05"].expected == pytest.approx(2.0, abs=1e-5)
    assert found["P8-hysteresis-T0.5"].expected == pytest.approx(
        2 * brentq(lambda M: M - math.tanh(M / 0.5), 0.5, 1.0), abs=0.02)  # h ~ 0: ~ 2 M0(T_c/2)
    assert found["P8-sign"].measured < 2e-3


def test_p8_response_is_tanh_at_j0_and_bistable_at_j1(p8):
    _, datasets = p8
    data = datasets["zero_temperature_response"]
    fields = data["input"].values
    N, trials = 500, data.sizes["trial"]
    for index, T in enumerate(data["param_T"].values):
        mean = data["M_J0"].isel(param_T=index).mean("trial").values
        exact = np.tanh(fields / T)
        # 4 closed-form standard errors: binomial (1 - M^2)/N, correlation exp(-0.5) per record,
        # at least 40 records (MSER never cuts more than half of the 80)
        error = statistics.sampled_mean_standard_error((1 - exact**2) / N, math.exp(-0.5), 40, trials)
        assert np.all(np.abs(mean - exact) <= 4 * error + 1e-12)
    lowest = data.sizes["param_T"] - 1
    up = data["M_up_start"].isel(param_T=lowest).mean("trial").values
    down = data["M_down_start"].isel(param_T=lowest).mean("trial").values
    h_c = float(data["coercive_field"].isel(param_T=lowest))
    inside = np.abs(fields) < h_c
    # T = 0.05: inside the loop the unit remembers its start, outside it is sign(h)
    assert np.all(up[inside] > 0.999) and np.all(down[inside] < -0.999)
    assert np.all(np.abs(up[~inside] - np.sign(fields[~inside])) < 1e-3)
    assert np.all(np.abs(down[~inside] - np.sign(fields[~inside])) < 1e-3)


def test_p8_rejects_a_zero_field():
    with pytest.raises(ParameterError, match="h = 0"):
        gating.measure_zero_temperature(fields=(-1.0, 0.0, 1.0))


def test_datasets_save_and_figures_render(p2, p8, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurophase.io import save_dataset
    from neurophase.plot import figures_for

    for name, (verdicts, datasets) in (("gating", p2), ("zero_temperature", p8)):
        for key, dataset in datasets.items():
            assert save_dataset(dataset, tmp_path / f"{key}.nc").exists()
        figures = figures_for(name, datasets, verdicts)
        assert [stem for stem, _, _ in figures] == [name, "verdicts"]
        for _, figure, caption in figures:
            assert caption
            plt.close(figure)
