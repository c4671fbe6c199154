"""Recurrent populations in one Brian2 network: connectivity, bad input, and rates against Siegert.

The mean-field reference is the Siegert rate of the LIF (:mod:`neurophase.mapping.siegert`, tested
against quadrature and NNMT in ``tests/mapping/test_siegert.py``) made self-consistent with
``mu = mu_ext + K w tau r``, ``sigma^2 = sigma_ext^2 + K w^2 tau r`` (Brunel 2000, Eqs. 4-5).
"""

import numpy as np
import pytest
from brian2 import cm, ms, mV, nS, pA, second, uA

from neurophase.errors import ParameterError, UnitMismatchError
from neurophase.mapping.population import LIFTransfer, MeasuredTransfer, PopulationTheory
from neurophase.micro.modelfile import load_model
from neurophase.micro.network import fixed_indegree, input_capacitance, measure_transfer, simulate_populations

LIF = load_model("leaky_integrate_and_fire")
NOISE = 5.657 * pA * second**0.5          # sigma_V = R sigma_I / sqrt(tau_m) = 4 mV


def test_fixed_indegree_is_exact_within_populations_without_autapses():
    size, indegree, populations = 50, 7, 3
    sources, targets = fixed_indegree(size, indegree, populations, seed=3)
    assert sources.size == targets.size == size * populations * indegree
    assert np.all(np.bincount(targets, minlength=size * populations) == indegree)
    assert np.all(sources // size == targets // size)            # within the population
    assert not np.any(sources == targets)                        # no autapses
    pairs = sources * (size * populations) + targets
    assert np.unique(pairs).size == pairs.size                   # no multapses
    # sources uniform over the other neurones: each neurone is a source of indegree/(size-1)
    # of the others on average; chi-square over 150 neurones, 149 dof: mean 149, sd 17
    counts = np.bincount(sources, minlength=size * populations)
    expected = indegree * size / size
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert chi2 < 149 + 5 * 17


def test_fixed_indegree_refuses_too_large_k():
    with pytest.raises(ParameterError, match="indegree"):
        fixed_indegree(10, 10, 1)
    sources, targets = fixed_indegree(10, 10, 1, autapses=True)
    assert np.all(np.bincount(targets) == 10)


def test_input_capacitance_from_equations():
    assert float(input_capacitance(LIF) / pA / ms * mV) == pytest.approx(200.0)   # tau_m / R_m
    wb = input_capacitance("wang_buzsaki_1996")
    assert float(wb / (uA * ms / mV / cm**2)) == pytest.approx(1.0)                 # C_m


@pytest.mark.parametrize("options, error", [
    ({"size": 50, "indegree": 50}, ParameterError),                       # K > N_pop - 1
    ({"noise": -1 * pA * second**0.5}, ParameterError),                   # negative noise
    ({"couplings": np.array([0.1]) * pA}, UnitMismatchError),             # delta synapse takes mV
    ({"couplings": np.array([0.1]) * mV, "synapse": "current", "synaptic_tau": 2 * ms},
     UnitMismatchError),                                                  # current synapse takes pA
    ({"couplings": np.array([0.1]) * mV, "synapse": "conductance", "synaptic_tau": 2 * ms,
      "reversal": 0 * mV}, UnitMismatchError),                            # conductance takes nS
    ({"drives": np.array([]) * pA}, ParameterError),                      # empty drive grid
    ({"drives": np.array([100.0]) * mV}, UnitMismatchError),              # drive not a current
    ({"initial": ("high",)}, ParameterError),                             # high start needs a kick
])
def test_bad_input_is_refused_before_simulating(options, error):
    settings = dict(couplings=np.array([0.1]) * mV, drives=np.array([150.0]) * pA, size=50,
                    indegree=10, noise=NOISE, duration=100 * ms, transient=20 * ms)
    settings.update(options)
    couplings = settings.pop("couplings")
    drives = settings.pop("drives")
    with pytest.raises(error):
        simulate_populations(LIF, couplings, drives, **settings)


@pytest.mark.brian2
def test_small_network_rate_matches_siegert():
    """N = 400, K = 80, 2 s: network rates against the self-consistent Siegert rate.

    Tolerance 7%: the binned-rate standard error over 1.5 s of 400 neurones is about 2% at these
    rates (N Var(r) ~ r / (1 - F')^2 per second), finite K = 80 and the diffusion approximation of
    0.1 mV jumps add about 2% (Brunel 2000), the discrete-monitoring correction leaves about 1%.
    """
    couplings = np.array([0.0, 0.1]) * mV
    drives = np.array([150.0, 170.0]) * pA
    data = simulate_populations(LIF, couplings, drives, size=400, indegree=80, noise=NOISE,
                                duration=2 * second, transient=0.5 * second, dt=0.1 * ms, seed=5,
                                progress=False)
    theory = PopulationTheory(LIF, "delta", 80, noise=NOISE, monitoring_dt=0.1 * ms)
    for population in range(data.sizes["population"]):
        w, mu = float(data["coupling"][population]), float(data["drive"][population])
        expected = theory.rate_map.stable_branch(w, mu, 0.0).rate
        assert float(data["mean_rate"][population]) == pytest.approx(expected, rel=0.07)
    # the population-rate series is complete: bins of 5 ms over the whole run
    assert data.sizes["time"] == 400
    np.testing.assert_allclose(data["rate"].isel(time=slice(100, None)).mean("time"), data["mean_rate"],
                               rtol=1e-9)


@pytest.mark.brian2
@pytest.mark.slow
def test_current_and_conductance_synapses_run_and_excite():
    """Current synapses raise the rate by the mean recurrent input K w tau_s r; conductance ones run."""
    data = simulate_populations(LIF, np.array([0.0, 20.0]) * pA, np.array([150.0]) * pA, size=200,
                                indegree=40, synapse="current", synaptic_tau=2 * ms, noise=NOISE,
                                duration=1 * second, transient=0.3 * second, dt=0.1 * ms, progress=False)
    uncoupled, coupled = data["mean_rate"].values
    assert coupled > uncoupled
    conductance = simulate_populations(LIF, np.array([0.0, 0.2]) * nS, np.array([150.0]) * pA, size=100,
                                       indegree=20, synapse="conductance", synaptic_tau=2 * ms,
                                       reversal=0 * mV, noise=NOISE, duration=0.5 * second,
                                       transient=0.1 * second, dt=0.1 * ms, progress=False)
    assert conductance["mean_rate"].values[1] > conductance["mean_rate"].values[0]


@pytest.mark.brian2
def test_ramp_and_kick_drive_traces():
    data = simulate_populations(LIF, np.array([0.05]) * mV, ramp=(100 * pA, 200 * pA), size=50,
                                indegree=10, noise=NOISE, duration=1.5 * second, ramp_hold=0.5 * second,
                                transient=0.1 * second, dt=0.1 * ms, progress=False)
    drive = data["drive_at"].values[0]
    times = data["time"].values * 1e-3
    np.testing.assert_allclose(drive[times < 0.5], 100.0)
    assert drive.max() == pytest.approx(200.0, abs=0.6)
    assert times[np.argmax(drive)] == pytest.approx(1.0, abs=0.005)
    assert data["rate"].values[0, (times > 0.95) & (times < 1.05)].mean() > data["rate"].values[0, times < 0.5].mean()


@pytest.mark.brian2
def test_measured_transfer_matches_the_lif_closed_form():
    """phi measured on the uncoupled LIF (one network) against the Siegert formula at the same dt.

    8 seeds x 3 s per point: the standard error of a mean rate of 5-40 Hz is 1-3%; the spline may
    depart from the means by about one standard error; tolerance 3 standard errors plus 2%.
    """
    drives = np.arange(120.0, 221.0, 10.0) * pA
    noises = np.array([4.0, 6.0]) * pA * second**0.5
    data = measure_transfer(LIF, drives, noises, seeds=8, duration=3 * second, transient=0.5 * second,
                            dt=0.1 * ms, progress=False)
    measured = MeasuredTransfer(data)
    closed = LIFTransfer(LIF, monitoring_dt=1e-4)
    for i, mu in enumerate(measured.means):
        for j, sigma in enumerate(measured.stds):
            expected = float(closed(mu, sigma))
            if expected < 5:
                continue
            tolerance = 3 * measured.measured_error[i, j] + 0.02 * expected
            assert float(measured(mu, sigma)) == pytest.approx(expected, abs=tolerance)


def test_fixed_indegree_from_an_inhibitory_block():
    """Brunel (2000) layout: every neurone of a population of 8 E + 4 I receives 3 inputs from its
    population's I block (neurones 8-11), never from itself."""
    sources, targets = fixed_indegree(12, 3, 2, seed=1, source_start=8, source_size=4)
    assert np.all(np.bincount(targets, minlength=24) == 3)
    local = sources % 12
    assert np.all((local >= 8) & (local < 12))
    assert np.all(sources // 12 == targets // 12)
    assert not np.any(sources == targets)
