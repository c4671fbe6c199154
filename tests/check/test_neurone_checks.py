"""Predictions C1-C4 on simulated neurones (neurophase.check.neurone), small grids.

References and independent values:

- C1: near a saddle-node on invariant circle the period is T = pi / sqrt(a (I - I_c)) (Ermentrout
  1996, Neural Comput. 8:979; Izhikevich 2007, Dynamical Systems in Neuroscience, ch. 6), so
  f ~ (I - I_c)^(1/2) only as I -> I_c; Wang & Buzsaki (1996), J. Neurosci. 16:6402, Fig. 1C:
  continuous onset near I_c ~ 0.16 uA/cm2 (the bracket asserted in
  tests/micro/test_neurone_wang_buzsaki.py). The joint (A, x, I_c) fitter is checked on the
  closed-form normal-form rate f = sqrt(a (I - I_c)) / pi.
- C2: Hodgkin-Huxley 1952: stable limit cycles from the fold of cycles I_1 = 6.26 uA/cm2, the rest
  state unstable above the subcritical Hopf point I_2 = 9.78 uA/cm2 (J. Rinzel & R. N. Miller 1980,
  Math. Biosci. 49:27); a swept drive escapes only after the Hopf point (S. M. Baer, T. Erneux &
  J. Rinzel 1989, SIAM J. Appl. Math. 49:55).
- Morris-Lecar Hopf current: checked against an eigenvalue computation of the rest state written
  here (scipy root of the fixed-point equation, numpy eigenvalues), independent of the closed-form
  trace criterion used by the module.
- C3: leaky integrate-and-fire with a pulse of amplitude A and duration d from rest: without noise
  V(t_end) - E_L = R A (1 - exp(-d/tau_m)), so the deterministic pulse threshold is
  A_c = (V_th - E_L) / (R (1 - exp(-d/tau_m))) (linear ODE, closed form). The firing probabilities
  are compared with an independent numpy Monte Carlo written here (Euler-Maruyama, the white-noise
  definition of neurophase.micro.neurone: tau dv/dt = E_L - v + R (I + sigma xi)), within binomial
  standard errors; the module's reference (exact OU steps) is checked against it too.
- C4: LIF deterministic f-I f = 1/(t_ref + tau_m ln(R I/(R I - theta))) (Gerstner et al. 2014,
  Neuronal Dynamics, Eq. 1.11; the model file's citation), which weak noise must reproduce far
  above rheobase.
"""

import math
from pathlib import Path

import numpy as np
import pytest
from brian2 import cm, ms, pA, uA
from scipy.optimize import brentq

from neurophase.check import neurone as checks
from neurophase.mapping.fi_curve import fit_onset_power_law
from neurophase.micro import references

pytestmark = [pytest.mark.brian2, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SADDLE_NODE_OF_CYCLES = 6.26  # uA/cm2, Rinzel & Miller 1980
HOPF = 9.78  # uA/cm2, Rinzel & Miller 1980


def test_onset_fitter_recovers_the_saddle_node_normal_form():
    # closed form f = sqrt(a (I - I_c)) / pi (Ermentrout 1996) on a geometric grid: x = 1/2, I_c exact
    a, critical = 2.0e4, 0.16007
    current = critical + np.geomspace(1e-4, 0.1, 15)
    rate = np.sqrt(a * (current - critical)) / np.pi
    result = fit_onset_power_law(current, rate, 0.15, current.min() - 1e-12)
    assert result["exponent"] == pytest.approx(0.5, abs=1e-6)
    assert result["critical_input"] == pytest.approx(critical, abs=1e-9)
    assert result["amplitude"] == pytest.approx(math.sqrt(a) / np.pi, rel=1e-5)


def test_c1_wang_buzsaki_onset_resolved_exponent_is_one_half():
    verdicts, datasets = checks.measure_class1_onset(
        grids={"wang_buzsaki_1996": {"levels": np.arange(0.13, 0.2701, 0.01) * uA / cm**2,
                                     "fit_width": 0.1 * uA / cm**2, "uniform": 12, "geometric": 8,
                                     "refine_duration": 6000 * ms}},
        duration=2000 * ms)
    (verdict,) = verdicts
    assert verdict.id == "C1-wang_buzsaki_1996"
    # issue acceptance |x - 1/2| <= 0.1; measured 0.522 in the closest window of the experiment
    # (12 s, 36 levels) and 0.577 by the coarse fit with I_c pinned to the grid
    assert verdict.measured == pytest.approx(0.5, abs=0.1) and verdict.holds
    assert verdict.ci_low <= verdict.measured <= verdict.ci_high
    data = datasets["onset_wang_buzsaki_1996"]
    # the fitted I_c lies inside the stage-2 bracket (last silent, first firing level), which is
    # inside the published onset region 0.16..0.17 uA/cm2; tolerance: its fit standard error x 3
    silent, firing = data.attrs["stage2_bracket"]
    assert 0.16 - 1e-9 <= silent < firing <= 0.17 + 1e-9
    assert silent - 1e-5 <= data.attrs["onset_critical_input"] <= firing
    # approaching onset the exponent moves toward 1/2 (wide windows include the curvature of the
    # f-I curve away from the normal form)
    exponents = data.attrs["window_exponent"]
    assert len(exponents) >= 2
    assert abs(exponents[-1] - 0.5) < abs(exponents[0] - 0.5)
    # every level used has >= 5 ISIs and is periodic (deterministic model): ISI CV < 1e-3
    used = data["used_in_fit"].values.astype(bool)
    assert np.all(data["steady_spike_count"].isel(trial=0).values[used] >= 6)
    assert np.nanmax(data["cv_isi"].isel(trial=0).values[used]) < 1e-3


def test_c2_hodgkin_huxley_staircase_against_rinzel_miller():
    verdicts, datasets = checks.measure_class2_bistability(
        grids={"hodgkin_huxley_1952": {"levels": np.arange(5.5, 11.001, 0.25) * uA / cm**2, "dwell": 200 * ms,
                                       "dt": 0.025 * ms}})
    found = {verdict.id.split("-")[1]: verdict for verdict in verdicts}
    assert set(found) == {"jump", "bistable", "width", "down", "up"}
    # finite rate at onset: the slowest stable cycle fires at ~50 Hz (a 19.9 ms period at the
    # fold, Rinzel & Miller 1980); a continuous onset could not exceed ~40 Hz at that level
    assert 45.0 < found["jump"].measured < 65.0 and found["jump"].holds
    # down threshold bracket (6.25, 6.5] contains the fold of cycles 6.26
    assert found["down"].ci_low <= SADDLE_NODE_OF_CYCLES <= found["down"].ci_high
    # the up threshold is at or after the Hopf point, within the slow-passage overshoot computed
    # from the linearisation (3 levels of 0.25 at 200 ms per level: 0.75 uA/cm2)
    assert found["up"].tolerance == pytest.approx(0.75)
    assert HOPF <= found["up"].measured <= HOPF + 0.75 and found["up"].holds
    # bistable width > 0, and Hopf - fold = 3.52 within the overshoot plus one step
    assert found["bistable"].holds and found["bistable"].ci_low > 0
    assert found["width"].expected == pytest.approx(HOPF - SADDLE_NODE_OF_CYCLES)
    assert found["width"].tolerance == pytest.approx(1.0) and found["width"].holds
    # a wrong expected width must fail: the same measurement against Hopf - 2 x fold
    from neurophase.check.verdicts import make_verdict

    wrong = make_verdict("C2-width", "w", HOPF - 2 * SADDLE_NODE_OF_CYCLES, found["width"].measured,
                         found["width"].ci_low, found["width"].ci_high, tolerance=1.0, rule="tolerance")
    assert not wrong.holds


def _morris_lecar_eigen_hopf():
    """Hopf current of morris_lecar_class2 from the eigenvalues of the rest state (independent)."""
    C, g_L, g_Ca, g_K = 20.0, 2.0, 4.4, 8.0
    E_L, E_Ca, E_K, V1, V2, V3, V4, phi = -60.0, 120.0, -84.0, -1.2, 18.0, 2.0, 30.0, 0.04

    def rhs(state, current):
        v, w = state
        m = 0.5 * (1 + math.tanh((v - V1) / V2))
        w_inf = 0.5 * (1 + math.tanh((v - V3) / V4))
        return np.array([(current - g_L * (v - E_L) - g_Ca * m * (v - E_Ca) - g_K * w * (v - E_K)) / C,
                         phi * (w_inf - w) * math.cosh((v - V3) / (2 * V4))])

    def leading_real_part(current):
        v = brentq(lambda x: rhs((x, 0.5 * (1 + math.tanh((x - V3) / V4))), current)[0], -80.0, 40.0)
        state = np.array([v, 0.5 * (1 + math.tanh((v - V3) / V4))])
        h = 1e-6
        jacobian = np.column_stack([(rhs(state + h * e, current) - rhs(state - h * e, current)) / (2 * h)
                                    for e in np.eye(2)])
        return float(np.max(np.linalg.eigvals(jacobian).real))

    return brentq(leading_real_part, 80.0, 100.0, xtol=1e-9)


def test_morris_lecar_hopf_current_matches_an_eigenvalue_computation():
    # parameters of the eigenvalue reference are those of models/morris_lecar_class2.toml
    reference = _morris_lecar_eigen_hopf()
    assert references.morris_lecar_hopf_current("morris_lecar_class2") == pytest.approx(reference, abs=1e-4)
    assert reference == pytest.approx(93.86, abs=0.01)


def test_morris_lecar_fold_of_cycles_separates_persistent_and_decaying_cycles():
    # The fold from the module (LSODA, 6 s per trial current) checked with another integrator
    # (DOP853) and 10 s runs, started on the stable cycle at Hopf + 2: 0.05 uA/cm2 above the fold
    # the cycle persists (amplitude > 60 mV), 0.05 below it decays to rest (< 1 mV). The fold lies
    # between the staircase's down threshold bracket (88, 89] of the C2 experiment and the Hopf point.
    from scipy.integrate import solve_ivp

    fold = references.morris_lecar_fold_of_cycles("morris_lecar_class2")
    hopf = references.morris_lecar_hopf_current("morris_lecar_class2")
    assert 88.0 < fold < 89.0 < hopf
    field, _ = references.morris_lecar_field("morris_lecar_class2")

    def amplitude(current, state, duration=10000.0):
        solution = solve_ivp(lambda t, y: field(y, current), (0.0, duration),
                             state, method="DOP853", rtol=1e-9, atol=1e-11, max_step=1.0,
                             dense_output=True)
        return solution, float(np.ptp(solution.sol(np.linspace(duration - 500.0, duration, 2001))[0]))

    settled, _ = amplitude(hopf + 2.0, [0.0, 0.3], 4000.0)
    on_cycle = settled.y[:, -1]
    assert amplitude(fold + 0.05, on_cycle)[1] > 60.0
    assert amplitude(fold - 0.05, on_cycle)[1] < 1.0


def _lif_pulse_euler(amplitudes_pa, sigmas, trials, seed, pulse_start=5.0, pulse_duration=5.0,
                     duration=20.0, dt=0.05):
    """Independent Monte Carlo of the LIF pulse protocol: P(spike in [pulse start, end)).

    Euler-Maruyama (the scheme Brian2 uses for noisy LIF runs): v += dt (E_L - v + R I)/tau
    + R sigma sqrt(dt)/tau N(0, 1); tau 20 ms, R 100 Mohm, E_L = V_reset = -70 mV, V_th = -50 mV
    (models/leaky_integrate_and_fire.toml); sigma in pA ms^0.5. Returns (sigma, amplitude) p.
    """
    rng = np.random.default_rng(seed)
    tau, resistance = 20.0, 0.1  # ms, mV/pA
    amplitudes = np.asarray(amplitudes_pa, float)[None, :, None]
    noise = resistance * np.asarray(sigmas, float)[:, None, None] * math.sqrt(dt) / tau
    v = np.full((len(sigmas), amplitudes.shape[1], trials), -70.0)
    fired = np.zeros(v.shape, dtype=bool)
    start, stop = round(pulse_start / dt), round((pulse_start + pulse_duration) / dt)
    for n in range(round(duration / dt)):
        current = amplitudes if start <= n < stop else 0.0
        v = v + dt * (-70.0 - v + resistance * current) / tau + noise * rng.standard_normal(v.shape)
        crossed = v > -50.0
        if n >= start:
            fired |= crossed
        v = np.where(crossed, -70.0, v)
    return fired.mean(axis=2)


def _agreement(p_a, n_a, p_b, n_b):
    """Binomial z-scores where both are informative, and exact two-sided binomial p-values.

    z uses the pooled probability (points with pooled p in [0.05, 0.95], where the normal
    approximation holds); the p-values test the count n_a p_a against Binomial(n_a, p_b) with p_b
    clipped to [0.5/n_b, 1 - 0.5/n_b] (the tails, where one miss in 50 is not a 5-sigma event).
    """
    from scipy.stats import binomtest

    pooled = (p_a * n_a + p_b * n_b) / (n_a + n_b)
    middle = (pooled >= 0.05) & (pooled <= 0.95)
    z = (p_a - p_b)[middle] / np.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))[middle]
    clipped = np.clip(p_b, 0.5 / n_b, 1 - 0.5 / n_b)
    p_values = np.array([binomtest(int(round(a * n_a)), n_a, b).pvalue
                         for a, b in zip(np.ravel(p_a), np.ravel(clipped))])
    return z, p_values


def test_c3_lif_pulse_against_an_independent_monte_carlo():
    sigmas, trials = (63.25, 126.5, 253.0), 50
    verdicts, datasets = checks.measure_noise_temperature(
        amplitudes=np.linspace(600.0, 1300.0, 29) * pA, sigmas=np.array(sigmas) * pA * ms**0.5, trials=trials,
        pulse_duration=5 * ms, duration=20 * ms, dt=0.05 * ms, n_bootstrap=60, reference_trials=1000)
    summary, pulse = datasets["temperature"], datasets["pulse"]
    levels = pulse["input"].values
    # deterministic pulse threshold A_c = 20 mV / (100 Mohm (1 - exp(-5/20))) = 904.2 pA; at the
    # smallest noise (voltage sd 0.8 mV at the pulse end) the logistic midpoint stays within 1 %
    closed_form = 20e-3 / (100e6 * (1 - math.exp(-5.0 / 20.0))) * 1e12
    assert closed_form == pytest.approx(904.2, abs=0.1)
    assert float(summary["theta"].values[0]) == pytest.approx(closed_form, rel=0.01)
    # Brian2 firing probabilities against the independent Euler-Maruyama Monte Carlo (4000 trials):
    # mean z^2 over the informative points (0.05 <= p <= 0.95, at least 20) is about 1 if they agree;
    # bound 2.0, the 99.9 % point of chi2_k / k for k = 30 (2.27 for k = 20); and no exact binomial
    # p-value below 0.05 / 87 (Bonferroni, family-wise 5 %)
    reference = _lif_pulse_euler(levels, sigmas, 4000, seed=7)
    brian = pulse["fired"].mean("trial").transpose("param_sigma", "input").values
    z, p_values = _agreement(brian, trials, reference, 4000)
    assert z.size >= 20 and np.mean(z**2) < 2.0
    assert p_values.min() > 0.05 / p_values.size
    # the module's reference (exact OU steps, 1000 trials) agrees with this one the same way
    module = pulse["reference_p_fire"].transpose("param_sigma", "input").values
    z_module, p_module = _agreement(module, 1000, reference, 4000)
    assert np.mean(z_module**2) < 2.0 and p_module.min() > 0.05 / p_module.size
    # beta decreases with sigma; the verdict's expected slope is the exact LIF expectation of the
    # estimator (full experiment: -1.074 +- 0.01, i.e. -1 up to the first passage after the pulse)
    assert np.all(np.diff(summary["beta"].values) < 0)
    (verdict,) = verdicts
    assert verdict.expected == pytest.approx(summary.attrs["reference_slope"])
    assert verdict.expected == pytest.approx(-1.0, abs=0.15)
    # Brian2 slope against the exact expectation: 0.2, about 2.5 s.e. of the slope with 50 trials
    assert verdict.measured == pytest.approx(verdict.expected, abs=0.2)
    assert verdict.ci_low < verdict.measured < verdict.ci_high


def test_c4_lif_fit_runs_and_weak_noise_rate_matches_the_closed_form():
    verdicts, datasets = checks.measure_activation_fit(
        grids={"leaky_integrate_and_fire": {"levels": np.arange(100.0, 500.1, 25.0) * pA, "noise": 2.0 * pA,
                                            "dt": 0.05 * ms}},
        seeds=2, duration=1000 * ms, n_bootstrap=20)
    assert [v.id for v in verdicts] == ["C4-leaky_integrate_and_fire", "C4-excess-leaky_integrate_and_fire"]
    data = datasets["fi_leaky_integrate_and_fire"]
    current = data["input"].values * 1e-12
    rate = data["rate"].mean("trial").values
    above = current >= 300e-12
    drive = 100e6 * current[above]
    expected = 1.0 / (2e-3 + 20e-3 * np.log(drive / (drive - 20e-3)))
    # 2 pA noise (0.2 mV) and dt = 0.05 ms: 2 % of the closed-form rate
    np.testing.assert_allclose(rate[above], expected, rtol=0.02)
    excess = verdicts[1]
    rmse = dict(zip(data.attrs["candidates"], data.attrs["heldout_rmse"]))
    assert excess.measured == pytest.approx(rmse["derived"] - min(rmse.values()), rel=1e-9, abs=1e-12)


def test_the_experiment_file_loads_and_validates():
    from neurophase.experiments import load_experiment

    experiment = load_experiment(ROOT / "experiments" / "neurones.toml")
    functions = [measurement.function for measurement in experiment.measurements]
    assert functions == ["neurone_class1_onset", "neurone_class2_bistability", "neurone_noise_temperature",
                         "neurone_noise_temperature", "neurone_activation_fit"]
    assert len({measurement.label for measurement in experiment.measurements}) == len(functions)
