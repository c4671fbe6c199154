"""A large grid in chunks (one network each) merged into one Dataset: what is identical to what.

The independent reference of a chunked deterministic grid is the unchunked run (every neurone is
integrated on its own state by the same code); for a noisy grid it is the same split run again,
on another executor (tests/test_dask.py runs it on real Dask workers).
"""

import numpy as np
import pytest
import xarray as xr

from neurophase.errors import SimulationError
from neurophase.micro.chunks import VOLATILE_ATTRS, chunk_seed, plan_chunks
from neurophase.micro.neurone import firing_curve, model_from_equations
from neurophase.sweep import SerialExecutor

pytestmark = pytest.mark.brian2
CHUNK_ATTRS = ("chunks", "chunk_size", "chunk_axis", "chunk_seeds")


def _comparable(dataset, drop=()):
    dataset = dataset.copy()
    for name in VOLATILE_ATTRS + tuple(drop):
        dataset.attrs.pop(name, None)
    return dataset


def _lif(inputs_pA, **options):
    """The LIF grid on the numpy target (no compilation), 0.1 ms steps (the model's max_dt)."""
    from brian2 import ms, pA

    options.setdefault("duration", 60 * ms)
    return firing_curve("leaky_integrate_and_fire", np.asarray(inputs_pA, float) * pA, target="numpy",
                        dt=0.1 * ms, **options)


def test_deterministic_grid_in_chunks_equals_the_single_network():
    levels = np.arange(150.0, 400.0, 25.0)
    whole = _lif(levels, seeds=2, record_voltage=[7, 2, 3])
    chunked = _lif(levels, seeds=2, record_voltage=[7, 2, 3], chunk_size=6)  # 3 levels x 2 trials each
    assert chunked.attrs["chunks"] == 4 and chunked.attrs["chunk_axis"] == "input"
    xr.testing.assert_identical(_comparable(chunked, CHUNK_ATTRS), _comparable(whole))
    # first-spike latencies are the LIF closed form tau_m ln(R I / (R I - theta)) (Gerstner et al.
    # 2014, Eq. 1.11 without t_ref); 0.1 ms steps: within one step
    drive = 100e6 * levels * 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(drive > 0.02, 20.0 * np.log(drive / (drive - 0.02)), np.nan)
    np.testing.assert_allclose(chunked["first_spike_latency"].values[:, 0], expected, atol=0.11)


def test_parameter_grids_are_split_with_the_inputs():
    from brian2 import ms

    levels = np.arange(200.0, 400.0, 50.0)
    parameters = {"tau_m": np.array([10.0, 20.0, 40.0]) * ms}
    whole = _lif(levels, parameters=parameters)
    chunked = _lif(levels, parameters=parameters, chunk_size=6)  # 2 levels x 3 values of tau_m
    assert chunked.attrs["chunks"] == 2 and chunked.attrs["n_neurons"] == whole.attrs["n_neurons"] == 12
    xr.testing.assert_identical(_comparable(chunked, CHUNK_ATTRS), _comparable(whole))


def test_noisy_grid_depends_on_the_split_only_not_on_the_executor():
    from brian2 import pA

    levels = np.arange(150.0, 350.0, 50.0)
    options = dict(seeds=3, seed=9, noise=40 * pA, chunk_size=3)
    by_name = _lif(levels, executor="serial", **options)
    by_object = _lif(levels, executor=SerialExecutor(), **options)
    xr.testing.assert_identical(_comparable(by_name), _comparable(by_object))
    # one chunk is exactly the unchunked run with the same seed
    single = _lif(levels, seeds=3, seed=9, noise=40 * pA, chunk_size=1000)
    whole = _lif(levels, seeds=3, seed=9, noise=40 * pA)
    assert single.attrs["chunks"] == 1
    xr.testing.assert_identical(_comparable(single, CHUNK_ATTRS), _comparable(whole))
    # chunks are seeded independently: the split changes the draws, not the statistics' meaning
    assert not np.array_equal(by_name["first_spike_latency"].values, whole["first_spike_latency"].values)
    assert chunk_seed(9, 0, 1) == 9 and len({chunk_seed(9, k, 4) for k in range(4)}) == 4


def test_staircase_grids_are_split_along_trials():
    from brian2 import ms

    assert plan_chunks(5, 4, 1, "staircase", 2)[0] == "trial"
    levels = np.arange(150.0, 350.0, 50.0)
    whole = _lif(levels, seeds=3, protocol="staircase", duration=30 * ms)
    chunked = _lif(levels, seeds=3, protocol="staircase", duration=30 * ms, chunk_size=1)
    assert chunked.attrs["chunks"] == 3 and chunked.attrs["chunk_axis"] == "trial"
    xr.testing.assert_identical(_comparable(chunked, CHUNK_ATTRS), _comparable(whole))


def test_diverging_chunks_are_reported_with_every_finished_point():
    from brian2 import ms, pA

    # dv/dt = v I / (pA ms), Euler with 0.1 ms steps: v grows by 91 per step at 900 pA, past 1e308 in 20 ms
    model = model_from_equations("dv/dt = v * I_input / (pA * ms) : 1\nI_input : amp", threshold="v > v_max",
                                 input="I_input", input_unit="pA", parameters={"v_max": "1e300"},
                                 initial={"v": "1"}, name="runaway", method="euler", dt="0.1 ms")
    with pytest.raises(SimulationError, match=r"diverged .* at 2 grid point\(s\) in 1 of 2 chunks") as caught:
        firing_curve(model, np.array([0.0, -1.0, 900.0, 1000.0]) * pA, duration=20 * ms, target="numpy",
                     chunk_size=2)
    partial = caught.value.partial
    assert partial.sizes["input"] == 4
    assert np.isfinite(partial["spike_count"].values[:2]).all() and np.isnan(partial["spike_count"].values[2:]).all()
