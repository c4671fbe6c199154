"""The exact binomial sampler (neurophase.micro.binomial) against scipy.stats.binom.

Every branch of the sampler is exercised (Bernoulli sum for n <= 8, inversion for n p < 10,
Hormann's BTRS for n p >= 10, the p > 1/2 reflection) on the numpy and Cython targets (and on
C++ standalone in a subprocess, marked slow). Per case: the sample mean and variance within
5 standard errors of n p and n p (1 - p), and a chi-square goodness-of-fit test against the
binomial probabilities (bins merged until each expects >= 5 draws) with p-value > 1e-4. For a
correct sampler the chance that one of the 13 seeded cases fails by chance is about 13 x 1e-4
(chi-square) plus 13 x 2 x 6e-7 (moments): 0.13 %. The same chi-square test rejects a rounded
normal approximation at the sample size used for BTRS (tested), so it has the power to see
the error that Brian2's own BinomialFunction makes at large n p.
"""

import numpy as np
import pytest
from scipy import stats

from neurophase.testing import run_script_result

#: (n, p): Bernoulli sum, inversion, BTRS, reflected, extremes.
CASES = [(1, 0.3), (8, 0.45), (9, 0.2), (50, 0.1), (100000, 5e-5), (200, 0.06), (1000, 0.5),
         (100000, 0.02), (30, 0.9), (5000, 0.997), (2000, 0.7), (40, 0.25), (2_000_000_000, 0.3)]
SAMPLES = 40000


def chi_square_p_value(samples, n, p):
    """Chi-square goodness-of-fit p-value of integer ``samples`` against Binomial(n, p)."""
    samples = np.asarray(samples, dtype=np.int64)
    size = samples.size
    mean, sd = n * p, np.sqrt(n * p * (1 - p))
    low = int(max(0, np.floor(mean - 12 * sd - 2)))
    high = int(min(n, np.ceil(mean + 12 * sd + 2)))
    support = np.arange(low, high + 1)
    expected = size * stats.binom.pmf(support, n, p)
    expected[0] += size * stats.binom.cdf(low - 1, n, p)
    expected[-1] += size * stats.binom.sf(high, n, p)
    observed = np.bincount(np.clip(samples, low, high) - low, minlength=support.size).astype(float)
    # merge bins from both tails towards the centre until each expects >= 5
    edges, current_e, current_o = [], 0.0, 0.0
    for e, o in zip(expected, observed):
        current_e += e
        current_o += o
        if current_e >= 5:
            edges.append((current_e, current_o))
            current_e = current_o = 0.0
    if current_e > 0 and edges:
        e, o = edges.pop()
        edges.append((e + current_e, o + current_o))
    merged_e = np.array([e for e, _ in edges])
    merged_o = np.array([o for _, o in edges])
    if merged_e.size < 2:
        return 1.0
    statistic = np.sum((merged_o - merged_e) ** 2 / merged_e)
    return float(stats.chi2.sf(statistic, merged_e.size - 1))


def moment_z_scores(samples, n, p):
    """z-scores of the sample mean and variance against the binomial ones."""
    samples = np.asarray(samples, dtype=float)
    size = samples.size
    mean, variance = n * p, n * p * (1 - p)
    fourth = variance * (1 + 3 * (n - 2) * p * (1 - p))  # central fourth moment of the binomial
    z_mean = (samples.mean() - mean) / np.sqrt(variance / size)
    variance_se = np.sqrt((fourth - variance**2 * (size - 3) / (size - 1)) / size)
    z_variance = (samples.var(ddof=1) - variance) / variance_se if variance_se > 0 else 0.0
    return float(z_mean), float(z_variance)


def draw(target, cases, samples, seed):
    """``samples`` draws per case from one step of a network on ``target`` (a run, not a
    string assignment: Brian2 evaluates those with its numpy string-expression target)."""
    from brian2 import Network, NeuronGroup, ms, prefs
    from brian2 import seed as brian2_seed

    from neurophase.micro.binomial import binomial_namespace

    previous = prefs.codegen.target
    prefs.codegen.target = target
    try:
        brian2_seed(seed)
        group = NeuronGroup(len(cases) * samples, "n : integer\np : 1\nk : integer",
                            namespace=binomial_namespace(), dt=0.1 * ms)
        group.n = np.repeat([n for n, _ in cases], samples)
        group.p = np.repeat([p for _, p in cases], samples)
        operation = group.run_regularly("k = binomial_exact(n, p)")
        Network(group, operation).run(0.1 * ms)
        return np.asarray(group.k[:]).reshape(len(cases), samples)
    finally:
        prefs.codegen.target = previous


@pytest.mark.brian2
@pytest.mark.parametrize("target", ["numpy", "cython"])
def test_sampler_matches_the_binomial_law_on_every_branch(target):
    values = draw(target, CASES, SAMPLES, seed=11)
    for (n, p), row in zip(CASES, values):
        assert row.min() >= 0 and row.max() <= n, (n, p)
        z_mean, z_variance = moment_z_scores(row, n, p)
        assert abs(z_mean) < 5 and abs(z_variance) < 5, (n, p, z_mean, z_variance)
        assert chi_square_p_value(row, n, p) > 1e-4, (n, p)


@pytest.mark.brian2
def test_btrs_branch_with_a_million_draws_and_the_test_has_power():
    # n p = 300: the rejection branch. With 10^6 draws the chi-square test resolves pmf errors
    # of ~0.5 % near the mode; it must accept the sampler and reject a rounded normal law.
    n, p = 1000, 0.3
    values = draw("cython", [(n, p)], 1_000_000, seed=5)[0]
    assert chi_square_p_value(values, n, p) > 1e-4
    z_mean, z_variance = moment_z_scores(values, n, p)
    assert abs(z_mean) < 5 and abs(z_variance) < 5
    normal = np.rint(np.random.default_rng(5).normal(n * p, np.sqrt(n * p * (1 - p)), 1_000_000))
    assert chi_square_p_value(normal, n, p) < 1e-6


@pytest.mark.brian2
@pytest.mark.parametrize("target", ["numpy", "cython"])
def test_edge_values(target):
    from brian2 import Network, NeuronGroup, ms, prefs

    from neurophase.micro.binomial import binomial_namespace

    previous = prefs.codegen.target
    prefs.codegen.target = target
    try:
        group = NeuronGroup(7, "n : integer\np : 1\nk : integer", namespace=binomial_namespace(),
                            dt=0.1 * ms)
        group.n = [0, -3, 10, 10, 10, 10, 10]
        group.p = [0.5, 0.5, 0.0, -0.2, 1.0, 1.7, np.nan]
        operation = group.run_regularly("k = binomial_exact(n, p)")
        Network(group, operation).run(0.1 * ms)
        assert np.asarray(group.k[:]).tolist() == [0, 0, 0, 0, 10, 10, 0]
    finally:
        prefs.codegen.target = previous


STANDALONE = """
import json, numpy as np
from brian2 import NeuronGroup, Network, StateMonitor, ms, seed
from neurophase.micro.binomial import binomial_namespace
from neurophase.micro.devices import Brian2Device
cases = CASES
samples = 4000
with Brian2Device("cython", "cpp_standalone"):
    seed(3)
    group = NeuronGroup(len(cases) * samples, "n : integer\\np : 1\\nk : integer",
                        namespace=binomial_namespace(), dt=0.1 * ms)
    group.n = np.repeat([n for n, _ in cases], samples)
    group.p = np.repeat([p for _, p in cases], samples)
    group.run_regularly("k = binomial_exact(n, p)", when="start")
    monitor = StateMonitor(group, "k", record=True, when="end")
    Network(group, group.contained_objects[0], monitor).run(1 * ms)
    values = np.asarray(monitor.k[:])
print("RESULT" + json.dumps(values.reshape(len(cases), samples * 10).tolist()))
"""


@pytest.mark.brian2
@pytest.mark.slow
@pytest.mark.standalone_only
def test_sampler_matches_the_binomial_law_on_cpp_standalone():
    # 4000 neurones per case x 10 steps = 40000 draws per case from the C++ implementation.
    values = np.array(run_script_result(STANDALONE.replace("CASES", repr(CASES))))
    for (n, p), row in zip(CASES, values):
        z_mean, z_variance = moment_z_scores(row, n, p)
        assert abs(z_mean) < 5 and abs(z_variance) < 5, (n, p, z_mean, z_variance)
        assert chi_square_p_value(row, n, p) > 1e-4, (n, p)
