"""Synaptic propagation on every OpenMP thread (neurophase.micro.parallel_synapses).

The partition condition is checked against hand-made target lists; the network test runs the same
recurrent LIF network (delta synapses, Poisson input, refractory gating: every code path of the
template) on the C++ standalone device with two threads, once with the target-partitioned
template and once with Brian2's own (master-thread) template, and requires identical population
rates: each neurone receives its inputs in the same order, so no floating-point difference is
allowed.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurophase.micro import network, parallel_synapses
from neurophase.micro.network import fixed_indegree
from neurophase.micro.parallel_synapses import (
    partitioned_by_target,
    queue_parts,
    source_ordered,
    target_partitioned_codeobject,
)


def test_partition_condition_on_hand_made_targets() -> None:
    # 8 synapses, 2 threads: queue boundary between synapse 3 and 4
    assert partitioned_by_target(np.array([0, 0, 1, 1, 2, 2, 3, 3]), 2)
    assert not partitioned_by_target(np.array([0, 0, 0, 1, 1, 1, 2, 2]), 2)  # target 1 on both sides
    assert partitioned_by_target(np.array([1, 0, 1, 0, 3, 2, 2, 3]), 2)      # any order within a part
    assert not partitioned_by_target(np.array([1, 0, 2, 0, 3, 2, 1, 3]), 2)  # targets 1 and 2 in both
    assert partitioned_by_target(np.array([5, 5, 5]), 1)
    # 3 threads, 9 synapses: boundaries at 3 and 6; the last queue takes the remainder
    assert partitioned_by_target(np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2]), 3)
    assert not partitioned_by_target(np.array([0, 0, 1, 1, 1, 1, 2, 2, 2, 2]), 3)


def test_fixed_indegree_targets_are_partitioned_when_the_split_falls_between_neurones() -> None:
    _, targets = fixed_indegree(100, 10, 2, seed=3)
    assert partitioned_by_target(targets, 2)        # 2000 synapses, boundary at 1000 = neurone 100
    assert partitioned_by_target(targets, 4)        # boundaries at 500, 1000, 1500
    assert not partitioned_by_target(targets, 3)    # 666 is inside neurone 66's ten synapses
    assert target_partitioned_codeobject(targets, 3, "cpp_standalone") is None
    assert target_partitioned_codeobject(targets, 2, "runtime") is None
    assert target_partitioned_codeobject(targets, 1, "cpp_standalone") is None
    assert target_partitioned_codeobject(targets, 2, "cpp_standalone") is not None


def test_source_order_keeps_every_synapse_in_its_queue_and_makes_each_sources_synapses_consecutive() -> None:
    sources, targets = fixed_indegree(100, 10, 2, seed=3)
    for threads in (1, 2, 3, 4):
        ordered_sources, ordered_targets = source_ordered(sources, targets, threads)
        bounds = queue_parts(sources.size, threads)
        assert bounds[0] == 0 and bounds[-1] == sources.size and np.all(np.diff(bounds) >= sources.size // threads)
        for start, stop in zip(bounds[:-1], bounds[1:]):
            before = sorted(zip(sources[start:stop].tolist(), targets[start:stop].tolist()))
            after = list(zip(ordered_sources[start:stop].tolist(), ordered_targets[start:stop].tolist()))
            assert sorted(after) == before                       # same synapses in the same queue
            assert np.all(np.diff(ordered_sources[start:stop]) >= 0)
            for source in np.unique(sources[start:stop]):        # stable: a source's targets in order
                mine = ordered_targets[start:stop][ordered_sources[start:stop] == source]
                assert np.all(np.diff(mine) > 0)
        assert partitioned_by_target(ordered_targets, threads) == partitioned_by_target(targets, threads)


@pytest.mark.parametrize("span", [1000, 70_000, 5_000_000_000])
def test_the_radix_order_is_numpys_stable_argsort(span) -> None:
    values = np.random.default_rng(span).integers(-span // 3, span, 200_000)
    values[:50] = values[50]                                 # ties: stability matters
    np.testing.assert_array_equal(parallel_synapses._stable_order(values), np.argsort(values, kind="stable"))


def _run(monkeypatch, tmp_path, partitioned: bool):
    from brian2 import Hz, ms, mV, pA, second

    monkeypatch.setenv("NEUROPHASE_THREADS", "2")
    if not partitioned:
        monkeypatch.setattr(network, "target_partitioned_codeobject", lambda *args: None)
    data = network.simulate_populations(
        "leaky_integrate_and_fire", np.array([0.1]) * mV, np.array([0.0]) * pA, size=400, indegree=80,
        inhibitory_size=100, inhibitory_indegree=20, inhibition=5.0, poisson_rate=20000 * Hz,
        poisson_weight=0.1 * mV, delay=1.5 * ms, duration=0.3 * second, transient=0.1 * second,
        bin_width=1 * ms, dt=0.1 * ms, parameters={"V_reset": "-60 mV"}, device="cpp_standalone",
        seed=5, progress=False, standalone_directory=str(tmp_path / ("on" if partitioned else "off")))
    # a second network in one process gets numbered names (pop_recurrent_pre_codeobject_1.cpp)
    [source] = (tmp_path / ("on" if partitioned else "off") / "code_objects").glob(
        "pop_recurrent_pre_codeobject*.cpp")
    code = source.read_text()
    return data, code


def test_two_threads_give_the_same_rates_as_the_master_thread_template(monkeypatch, tmp_path) -> None:
    parallel, parallel_code = _run(monkeypatch, tmp_path, partitioned=True)
    monkeypatch.undo()
    serial, serial_code = _run(monkeypatch, tmp_path, partitioned=False)
    assert "queue[omp_get_thread_num()]->peek()" in parallel_code
    assert "#pragma omp master" in serial_code
    rate = float(serial["mean_rate"][0])
    assert rate > 5.0, "the network must fire for the comparison to mean anything"
    np.testing.assert_array_equal(parallel["rate"].values, serial["rate"].values)
    assert float(parallel["mean_rate"][0]) == pytest.approx(rate, rel=0, abs=0)


@pytest.mark.parametrize("device", ["cpp_standalone", "runtime"])
def test_the_source_order_of_the_synapses_changes_no_spike(monkeypatch, tmp_path, device) -> None:
    """Each neurone's inputs of a step arrive in the order of the spiking sources whatever the
    order of the synapses: the rates must be identical to the bit with and without it."""
    from brian2 import ms, mV, pA, second

    def run(label):
        return network.simulate_populations(
            "leaky_integrate_and_fire", np.array([0.2]) * mV, np.array([150.0, 170.0]) * pA, size=300,
            indegree=60, noise=5.657 * pA * second**0.5, delay=1.5 * ms, duration=0.3 * second,
            transient=0.1 * second, bin_width=1 * ms, dt=0.1 * ms, device=device, seed=11, progress=False,
            standalone_directory=str(tmp_path / label) if device == "cpp_standalone" else None)

    monkeypatch.setenv("NEUROPHASE_THREADS", "2")
    ordered = run("ordered")
    monkeypatch.setattr(network, "source_ordered", lambda sources, targets, threads: (sources, targets))
    unordered = run("unordered")
    assert float(unordered["mean_rate"].min()) > 5.0, "the populations must fire for the comparison to mean anything"
    np.testing.assert_array_equal(ordered["rate"].values, unordered["rate"].values)
