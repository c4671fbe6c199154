"""Hodgkin-Huxley 1952 (6.3 C) against published bifurcation values and periods, and NEURON.

Model: A. L. Hodgkin & A. F. Huxley (1952), J. Physiol. 117:500, Eq. 26 with the rate functions
of Eqs. 12, 13, 20, 21, 23, 24, in the modern convention v = u - 65 mV (u: depolarisation from
rest in the 1952 convention), so E_Na = 115 - 65, E_K = -12 - 65, E_L = 10.613 - 65 = -54.387 mV.

Published values (the same equations and constants, E_l = 10.613 mV in the 1952 convention):

* J. Rinzel & R. N. Miller (1980), Math. Biosci. 49:27: the rest state loses stability at a
  subcritical Hopf point I_2 ~ 9.78 uA/cm2 (two significant decimals; quoted in this form in
  the introduction of Hendrick 2026 below and in tests/micro/test_neurone_hh.py).
* C. Hendrick (2026), "Hopf Bifurcations and Bistability in the Hodgkin-Huxley Equations at the
  1952 Parameters: Computer-Assisted Proofs", preprint, doi:10.5281/zenodo.23047046, repository
  ChaseHendrick/hh-dynamics (paper/hh-dynamics.tex; program outputs data/certify_equilibria_hopf.txt
  and data/certify_bistability.txt). Proved in ball arithmetic (Arb):
  J_H1 in [9.775437995393, 9.775437995394] uA/cm2 with omega_1 in [0.586233813130,
  0.586233813131] rad/ms (period 10.717882808 ms); J_H2 in [154.522433665808, 154.522433665809];
  the rest state is stable below J_H1 and has two eigenvalues with Re > 0 between J_H1 and
  J_H2, and J_H1 is subcritical (first Lyapunov coefficient > 0); at J = 8 an orbitally
  stable spike train with period in [16.00771280383, 16.00771280384] ms coexists with the
  stable rest state (its theorems on the two orbits at J = 8 and on bistability).
  Numerical (its stage 2: scipy DOP853, rtol 1e-12): rest at J = 0 at u = 3.620669e-3 mV;
  the fold of limit cycles at J_LPC = 6.260321 with period 19.8952 ms; on the stable branch,
  period 19.6000 ms at J = 6.26490647 and 19.7500 ms at J = 6.26137681 (the branch
  is parametrised by the period, so the period is exact and J is printed to 1e-8).

Independent implementations: the Hopf points from the eigenvalues of the Jacobian at the
steady state (numpy, written here from the 1952 equations with the model file's constants),
and NEURON's built-in ``hh`` mechanism (set up as in benchmarks/hh_fi_sweep.py, run_neuron).

No published table of the f-I curve between 10 and 100 uA/cm2 was found; that range is checked
against NEURON here and against scipy (DOP853) in tests/micro/test_neurone_hh.py.
"""

import numpy as np
import pytest
from brian2 import cm, msiemens, mV, second, uA, ufarad
from scipy.optimize import brentq

from neurophase.micro.modelfile import load_model
from neurophase.micro.neurone import firing_curve
from neurophase.testing import hodgkin_huxley_1952_rate_tuple, neuron_hh_spike_times

pytestmark = [pytest.mark.brian2, pytest.mark.slow]

DENSITY = uA / cm**2
MODEL = load_model("hodgkin_huxley_1952")

# Rinzel & Miller 1980
HOPF_RINZEL_MILLER = 9.78
# Hendrick 2026, data/certify_equilibria_hopf.txt (proved enclosures, midpoints)
HOPF_1 = 9.7754379953935
OMEGA_1 = 0.5862338131305  # rad/ms
HOPF_2 = 154.5224336658085
# Hendrick 2026, data/certify_bistability.txt
REST_DEPOLARISATION = 3.620669e-3  # mV above -65 at J = 0 (numerical, 7 significant digits)
PERIOD_AT_8 = 16.007712803835  # ms, proved enclosure [16.00771280383, 16.00771280384]
FOLD_OF_CYCLES = 6.260321  # uA/cm2 (numerical)
PERIOD_AT_FOLD = 19.8952  # ms (numerical)
STABLE_BRANCH = {6.26490647: 19.60, 6.26137681: 19.75}  # uA/cm2 -> period in ms (numerical)

NEURON_LEVELS = np.array([10.0, 20.0, 40.0, 60.0, 80.0, 100.0])
LEVELS = np.concatenate([sorted(STABLE_BRANCH), [8.0], NEURON_LEVELS])


def _constants():
    """The model file's constants in mV, mS/cm2, uF/cm2."""
    p = MODEL.parameters
    density = msiemens / cm**2
    return {"C": float(p["C_m"] / (ufarad / cm**2)), "g_Na": float(p["g_Na"] / density),
            "g_K": float(p["g_K"] / density), "g_L": float(p["g_L"] / density),
            "E_Na": float(p["E_Na"] / mV), "E_K": float(p["E_K"] / mV), "E_L": float(p["E_L"] / mV)}


_rates = hodgkin_huxley_1952_rate_tuple  # written from the 1952 paper, not the model file


def _vector_field(state, current, k):
    v, m, h, n = state
    alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n = _rates(v)
    ionic = (k["g_Na"] * m**3 * h * (v - k["E_Na"]) + k["g_K"] * n**4 * (v - k["E_K"])
             + k["g_L"] * (v - k["E_L"]))
    return np.array([(current - ionic) / k["C"], alpha_m * (1 - m) - beta_m * m,
                     alpha_h * (1 - h) - beta_h * h, alpha_n * (1 - n) - beta_n * n])


def _gates_at(v):
    alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n = _rates(v)
    return alpha_m / (alpha_m + beta_m), alpha_h / (alpha_h + beta_h), alpha_n / (alpha_n + beta_n)


def steady_state(current, k):
    """The equilibrium (v, m, h, n) at ``current`` uA/cm2 (unique for 0 <= I <= 200, Hendrick
    2026, theorem on the equilibria): the zero of the steady-state I-V relation."""
    def net(v):
        return _vector_field((v, *_gates_at(v)), current, k)[0]
    v = brentq(net, -90.0, 0.0, xtol=1e-13, rtol=1e-15)
    return np.array([v, *_gates_at(v)])


def leading_eigenvalue(current, k):
    """The eigenvalue of largest real part of the Jacobian at the equilibrium (central
    differences, relative step 1e-6: truncation error ~1e-12 of the entries)."""
    state = steady_state(current, k)
    jacobian = np.empty((4, 4))
    for column in range(4):
        step = 1e-6 * max(1.0, abs(state[column]))
        shift = np.zeros(4)
        shift[column] = step
        jacobian[:, column] = (_vector_field(state + shift, current, k)
                               - _vector_field(state - shift, current, k)) / (2 * step)
    eigenvalues = np.linalg.eigvals(jacobian)
    return eigenvalues[np.argmax(eigenvalues.real)]


@pytest.fixture(scope="module")
def fi():
    """One Brian2 network for every level of this module (step from the model's rest state,
    1 s, the model's dt = 0.01 ms, rk2)."""
    return firing_curve("hodgkin_huxley_1952", LEVELS * DENSITY, duration=1 * second,
                        progress=False)


def _rate(dataset, level):
    return float(dataset["rate"].sel(input=level, method="nearest").isel(trial=0))


def test_rest_state_and_hopf_points_from_the_linearisation():
    k = _constants()
    rest = steady_state(0.0, k)
    # Hendrick's rest depolarisation is given to 7 significant digits (+/- 5e-10 mV)
    assert abs(rest[0] - (-65.0 + REST_DEPOLARISATION)) < 1e-8
    # the model file's [initial] state is that rest state, to the digits it prints
    initial = MODEL.initial
    np.testing.assert_allclose(float(initial["v"] / mV), rest[0], atol=5e-6)
    np.testing.assert_allclose([float(initial[name]) for name in "mhn"], rest[1:], atol=5e-8)

    # stable below J_H1 (J = 0, 6.26, 8), two unstable eigenvalues between J_H1 and J_H2
    assert all(leading_eigenvalue(level, k).real < 0 for level in (0.0, FOLD_OF_CYCLES, 8.0))
    assert all(leading_eigenvalue(level, k).real > 0 for level in (10.0, 20.0, 100.0, 150.0))
    assert leading_eigenvalue(160.0, k).real < 0

    # the crossing of the leading complex pair, to 1e-11 in I (brentq); the eigenvalue's real
    # part moves by 0.0188 /ms per uA/cm2 there, so Jacobian errors ~1e-10 shift I by ~1e-8
    hopf_1 = brentq(lambda level: leading_eigenvalue(level, k).real, 9.0, 11.0, xtol=1e-11)
    hopf_2 = brentq(lambda level: leading_eigenvalue(level, k).real, 140.0, 170.0, xtol=1e-11)
    omega_1 = leading_eigenvalue(hopf_1, k).imag
    # Rinzel & Miller's 9.78 is given to 0.01 (0.1%); the issue asks for 0.5%
    assert abs(hopf_1 - HOPF_RINZEL_MILLER) / HOPF_RINZEL_MILLER < 0.005
    # Hendrick's enclosures are 1e-12 wide; 1e-6 leaves room for the finite differences
    assert abs(hopf_1 - HOPF_1) < 1e-6
    assert abs(hopf_2 - HOPF_2) < 1e-5
    np.testing.assert_allclose(omega_1, OMEGA_1, rtol=1e-6)
    assert abs(2 * np.pi / omega_1 - 10.717882808) < 1e-5  # ms, the period printed there


def test_stable_spike_trains_have_the_published_periods(fi):
    # J = 8 lies in the bistable range (rest linearly stable, previous test); the step from the
    # rest state at J = 0 throws the neurone onto Hendrick's stable orbit.
    # The period is proved to 11 digits; rk2 at dt = 0.01 ms is within 0.002% of it (0.025 ms:
    # 0.01%), and the inverse mean ISI of ~50 spikes resolves the period to ~dt / 0.8 s.
    # Tolerance 0.1% (10x tighter than the 1%).
    np.testing.assert_allclose(_rate(fi, 8.0), 1e3 / PERIOD_AT_8, rtol=1e-3)
    # Just above the fold of cycles the stable branch is steep (dT/dJ ~ -40 ms per uA/cm2)
    # and the orbit attracts slowly (multiplier 0.6-0.8); measured deviation at dt = 0.01 ms
    # < 0.02%, at 0.025 ms < 0.2%. Tolerance 0.1%.
    for level, period in STABLE_BRANCH.items():
        np.testing.assert_allclose(_rate(fi, level), 1e3 / period, rtol=1e-3)
        # both points lie on the stable side of the fold (period below its 19.8952 ms)
        assert _rate(fi, level) > 1e3 / PERIOD_AT_FOLD
        assert float(fi["cv_isi"].sel(input=level, method="nearest").isel(trial=0)) < 1e-2
    # The Hopf point at 9.775 is subcritical: the orbits born there are unstable, and their
    # periods fall from 12.61 ms at J = 8.5 to 2 pi / omega_1 = 10.72 ms at J_H1 (Hendrick,
    # table of unstable orbits, stage 2 of data/certify_bistability.txt). The spike train just
    # above the Hopf point is not that oscillation: it is slower than every orbit of the family
    # (so Im(lambda) / 2 pi = 93.3 Hz does not predict the rate there).
    assert 1e3 / _rate(fi, 10.0) > 12.6126
    assert _rate(fi, 10.0) < 1e3 * OMEGA_1 / (2 * np.pi)


def _neuron_rates(levels, duration_ms, dt_ms, use_table):
    """Steady-state rates (Hz) of NEURON's built-in ``hh`` (benchmarks/hh_fi_sweep.py setup)."""
    trains, _ = neuron_hh_spike_times(levels, duration_ms, dt_ms, use_tables=use_table)
    rates = []
    for spikes in trains:
        steady = spikes[spikes >= 0.2 * duration_ms]  # the same 20% transient as firing_curve
        rates.append((steady.size - 1) / (steady[-1] - steady[0]) * 1e3)
    return np.array(rates)


def test_fi_between_10_and_100_matches_neuron_hh(fi):
    pytest.importorskip("neuron", reason="NEURON is not installed (pip install 'neuron>=9', part "
                        "of the [test] extra); the NEURON comparison is skipped")
    ours = np.array([_rate(fi, level) for level in NEURON_LEVELS])
    # The benchmark's setup: dt = 0.025 ms, Crank-Nicolson, rate tables. NEURON's hh.mod
    # tabulates its rate functions on a 1 mV grid (TABLE ... FROM -100 TO 100 WITH 200) and
    # interpolates linearly, which speeds its firing up by 0.1-0.2%: the 1%.
    np.testing.assert_allclose(ours, _neuron_rates(NEURON_LEVELS, 1000.0, 0.025, True), rtol=0.01)
    # Without the tables (usetable_hh = 0) and at dt = 0.01 ms the same mechanism is within
    # 0.003% of its own dt = 0.0025 ms rates, and ours are within 0.003% of those: 0.1%.
    np.testing.assert_allclose(ours, _neuron_rates(NEURON_LEVELS, 1000.0, 0.01, False), rtol=1e-3)
