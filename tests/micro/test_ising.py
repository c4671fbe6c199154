"""The Brian2 Ising channel membrane against closed forms (numpy target: no compilation).

Reduced units: J = 1 (all-to-all T_c = J), tau0 = 1 ms, dt = 0.05 ms, records every 0.5 ms.
"""

import numpy as np
import pytest
from brian2 import ms, mV

from neurophase.errors import ParameterError, UnitMismatchError
from neurophase.mapping.order_parameter import stationary_statistics
from neurophase.meanfield import finite_size_curie_weiss
from neurophase.micro.ising import simulate_membrane
from neurophase.testing import assert_follows_schema

pytestmark = pytest.mark.brian2

N_INDEPENDENT = 400
TRIALS_INDEPENDENT = 4
FIELDS = [-1.0, -0.3, 0.0, 0.5, 1.5]
TEMPERATURE = 1.0
DISCARD_MS = 10.0


@pytest.fixture(scope="module")
def independent():
    """J = 0: 5 fields x 4 trials x 400 channels, 200 ms (numpy target, ~2 s)."""
    return simulate_membrane([TEMPERATURE], FIELDS, trials=TRIALS_INDEPENDENT, N=N_INDEPENDENT, J=0.0,
                             duration=200 * ms, seed=11, target="numpy")


def _stationary(data):
    return data.order_parameter.sel(time=slice(DISCARD_MS, None))


def _record_correlation(data, tau_ms):
    """Lag-1 correlation of the recorded M for an exponential autocorrelation exp(-t/tau)."""
    interval = float(np.diff(data["time"].values[:2])[0])
    return np.exp(-interval / tau_ms)


def test_dataset_follows_the_schema(independent):
    assert_follows_schema(independent, required=("order_parameter",))
    assert independent.order_parameter.dims == ("param_T", "input", "trial", "time")
    assert independent["time"].attrs["units"] == "ms"
    assert independent.attrs["model_name"] == "ising_membrane"
    assert independent.attrs["integration_method"] == "heat-bath Glauber"
    assert independent.attrs["N"] == N_INDEPENDENT


def test_independent_channels_follow_tanh(independent):
    # J = 0: every channel's stationary law is exact at any dt, so <M> = tanh(h/T).
    # Standard error of the time average from the exact variance (1 - m^2)/N and the exact
    # AR(1) correlation a = exp(-0.5 ms / tau0) of the records: Var(mean) = Var (1+a)/(1-a) / n.
    stationary = _stationary(independent)
    expected = np.tanh(np.asarray(FIELDS) / TEMPERATURE)
    a = _record_correlation(independent, 1.0)
    samples = stationary.sizes["time"] * TRIALS_INDEPENDENT
    standard_error = np.sqrt((1 - expected**2) / N_INDEPENDENT * (1 + a) / (1 - a) / samples)
    measured = stationary.mean(("trial", "time")).isel(param_T=0).values
    # 4 standard errors per point (5 points: false-failure probability ~ 3e-4)
    assert np.all(np.abs(measured - expected) < 4 * standard_error), (measured, expected, standard_error)


def test_independent_channels_binomial_variance(independent):
    # Var(M) = (1 - m^2)/N. The sample variance of n AR(1)-correlated near-Gaussian samples has
    # relative variance 2 (1 + a^2)/(1 - a^2) / n (chi-square with the effective degrees of
    # freedom n (1 - a^2)/(1 + a^2)); averaged over 5 fields x 4 trials, the tolerance is
    # 4 standard errors of that average.
    stationary = _stationary(independent)
    expected = (1 - np.tanh(np.asarray(FIELDS) / TEMPERATURE) ** 2) / N_INDEPENDENT
    variance = stationary.var("time", ddof=1).isel(param_T=0).transpose("input", "trial").values
    ratio = variance / expected[:, None]
    a = _record_correlation(independent, 1.0)
    n = stationary.sizes["time"]
    relative_error = np.sqrt(2 * (1 + a**2) / (1 - a**2) / n / ratio.size)
    assert abs(ratio.mean() - 1) < 4 * relative_error, (ratio.mean(), relative_error)


def test_coupled_membrane_above_tc_matches_meanfield():
    # J = 1, T = 1.5 > T_c: <M>(h) solves M = tanh((M + h)/T). Tolerance: 4 standard errors
    # (from the measured variances and autocorrelation times, Sokal 1997) plus the exact
    # finite-N offset of <M> (enumeration of the N = 1000 Curie-Weiss law, O(1/N)).
    from neurophase.meanfield import magnetisation

    N, temperature, fields = 1000, 1.5, [0.05, 0.2, 0.5]
    data = simulate_membrane([temperature], fields, trials=4, N=N, J=1.0, duration=150 * ms, seed=5,
                             target="numpy")
    statistics = stationary_statistics(data.order_parameter).isel(param_T=0)
    measured = statistics["mean"].mean("trial").values
    standard_error = np.sqrt((statistics["standard_error"] ** 2).mean("trial").values / 4)
    expected = np.asarray(magnetisation(temperature, np.asarray(fields), 1.0), dtype=float)
    finite_n = np.array([finite_size_curie_weiss(N, temperature, h)["mean"] for h in fields])
    tolerance = 4 * standard_error + np.abs(finite_n - expected)
    assert np.all(np.abs(measured - expected) < tolerance), (measured, expected, tolerance)


def test_relaxation_after_field_step_shows_critical_slowing_down():
    # After h: 0.2 -> 0 the trial-averaged M decays as exp(-t/tau) towards 0 (the h = 0 mean,
    # exact by symmetry), tau = tau0/(1 - T_c/T) (linearised mean-field dynamics). 32 ensembles
    # of 2000 channels per temperature; fit over 3 tau. The 15 % tolerance covers the noise of
    # the averaged trace (sqrt(T chi/N/32) ~ 0.004 against amplitudes 0.2/(T - 1)) and the
    # O(M^2) nonlinearity of tanh (a 4 % faster start at M = 0.2).
    from scipy.optimize import curve_fit

    temperatures = np.array([2.0, 3.0])
    step_ms = 30.0
    data = simulate_membrane(temperatures, [0.2], trials=32, N=2000, J=1.0, duration=(step_ms + 10) * ms,
                             field_step=-0.2, step_time=step_ms * ms, record_every=2, seed=3,
                             target="numpy")
    expected_tau = 1.0 / (1.0 - 1.0 / temperatures)
    for index, tau in enumerate(expected_tau):
        trace = data.order_parameter.isel(param_T=index, input=0).mean("trial")
        after = trace.sel(time=slice(step_ms, step_ms + 3 * tau))
        elapsed = after["time"].values - step_ms
        (amplitude, fitted), _ = curve_fit(lambda t, A, k: A * np.exp(-t / k), elapsed, after.values,
                                           p0=(after.values[0], tau))
        assert abs(fitted - tau) < 0.15 * tau, (temperatures[index], fitted, tau)


def test_lattice_orders_like_onsager_below_tc_and_disorders_above():
    # 2-D lattice, L = 32: at T = 1.5 J (well below 2.269 J) <|M|> is Onsager-Yang's
    # (1 - sinh(2J/T)^-4)^(1/8) = 0.9865 within 0.05 (finite-L corrections are ~1e-3 this far
    # from T_c); at T = 3.5 J, M ~ 0: sqrt(T chi/N) ~ 0.05, so <|M|> < 0.1.
    from neurophase.meanfield import onsager_magnetisation

    data = simulate_membrane([1.5, 3.5], [0.0], trials=2, N=1024, J=1.0, duration=60 * ms,
                             model="ising_lattice", initial_magnetisation=1.0, seed=2, target="numpy")
    assert data.attrs["topology"] == "lattice"
    magnitude = np.abs(data.order_parameter.sel(time=slice(20, None))).mean(("trial", "time", "input"))
    assert abs(float(magnitude.sel(param_T=1.5)) - float(onsager_magnetisation(1.5, 1.0))) < 0.05
    assert float(magnitude.sel(param_T=3.5)) < 0.1


def test_same_seed_reproduces_and_different_seeds_differ():
    settings = dict(temperatures=[1.2], fields=[0.1], trials=2, N=100, J=1.0, duration=5 * ms, target="numpy")
    first = simulate_membrane(seed=7, **settings).order_parameter.values
    again = simulate_membrane(seed=7, **settings).order_parameter.values
    other = simulate_membrane(seed=8, **settings).order_parameter.values
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 0.05  # independent runs differ by ~ several 1/sqrt(N)


@pytest.mark.parametrize(
    "overrides, error, message",
    [
        (dict(temperatures=[-1.0]), ParameterError, "positive"),
        (dict(N=0), ParameterError, "N >= 1"),
        (dict(dt=0.5 * ms), ParameterError, "tau0/5"),
        (dict(topology="hexagonal"), ParameterError, "topology"),
        (dict(topology="lattice"), ParameterError, "ising_lattice"),
        (dict(model="ising_lattice", N=100 + 21), ParameterError, "L even"),
        (dict(tau0=1.0), UnitMismatchError, "tau0"),
        (dict(duration=5 * mV), UnitMismatchError, "duration"),
        (dict(record_every=0), ParameterError, "record_every"),
    ],
)
def test_bad_input_raises_a_clear_error(overrides, error, message):
    settings = dict(temperatures=[1.0], fields=[0.0], N=16, duration=1 * ms, target="numpy")
    settings.update(overrides)
    with pytest.raises(error, match=message):
        simulate_membrane(**settings)


def test_finite_size_reference_matches_closed_forms():
    # The exact finite-N enumeration used for tolerances: binomial at J = 0, and the
    # Curie-Weiss law chi = 1/(T - T_c) for large N above T_c (N Var(M)/T -> chi within 1 %).
    independent = finite_size_curie_weiss(500, 1.0, 0.3, coupling=0.0)
    assert independent["mean"] == pytest.approx(np.tanh(0.3), rel=1e-10)
    assert independent["variance"] == pytest.approx((1 - np.tanh(0.3) ** 2) / 500, rel=1e-10)
    coupled = finite_size_curie_weiss(20000, 2.0, 0.0)
    assert 20000 * coupled["variance"] / 2.0 == pytest.approx(1.0 / (2.0 - 1.0), rel=0.01)
