"""ReplayNetwork: candidates x sweeps in one network, against the LIF closed form; no recompilation."""

import numpy as np
import pytest
from brian2 import Mohm, ms, mV, pA, pF, second  # noqa: F401

from neurophase.fit.predict import lif_step_count
from neurophase.micro.replay import ReplayNetwork, resample_stimulus

pytestmark = pytest.mark.brian2

AMPLITUDES = np.array([0.0, 250.0, 400.0])


def _currents():
    currents = np.zeros((AMPLITUDES.size, 6000))  # 0.6 s at 0.1 ms
    currents[:, 1000:6000] = AMPLITUDES[:, None]
    return currents * pA


def test_resample_averages_fine_samples_and_holds_coarse_ones():
    fine = np.arange(8.0)[None]
    assert resample_stimulus(fine, 0.1, 0.2, 4).tolist() == [[0.5, 2.5, 4.5, 6.5]]
    assert resample_stimulus(fine, 0.2, 0.1, 4).tolist() == [[0.0, 0.0, 1.0, 1.0]]


def test_every_candidate_on_every_sweep_matches_the_lif_closed_form():
    resistances = np.array([100.0, 150.0])
    with ReplayNetwork("leaky_integrate_and_fire", _currents(), 0.1 * ms, 2, ["R_m", "E_L"], dt=0.01 * ms,
                       record_voltage=False, settle="100 ms") as replay:
        result = replay.run({"R_m": resistances * Mohm, "E_L": [-70, -70] * mV})
    for candidate, resistance in enumerate(resistances):
        for sweep, amplitude in enumerate(AMPLITUDES):
            expected = lif_step_count(amplitude * 1e-12, 0.5, 0.02, resistance * 1e6, -0.07, -0.05, -0.07, 0.002)
            observed = result.spike_times(candidate, sweep)
            # dt = 0.01 ms against periods of 10-30 ms: the count is exact, the times within a few dt per spike
            assert observed.size == int(expected)
            if observed.size:
                drive = amplitude * 1e-12 * resistance * 1e6
                first = 0.1 + 0.02 * np.log(drive / (drive - 0.02))
                assert observed[0] == pytest.approx(first, abs=5e-5)
    assert result.finite.all()


def test_the_second_generation_compiles_nothing(monkeypatch):
    from brian2.codegen.runtime.cython_rt.extension_manager import cython_extension_manager

    loads = []
    original = cython_extension_manager._load_module
    monkeypatch.setattr(cython_extension_manager, "_load_module",
                        lambda *args, **kwargs: loads.append(1) or original(*args, **kwargs))
    with ReplayNetwork("leaky_integrate_and_fire", _currents(), 0.1 * ms, 2, ["R_m"], dt=0.1 * ms,
                       record_voltage=True, settle="50 ms") as replay:
        first = replay.run({"R_m": [100, 150] * Mohm})
        compiled = len(loads)
        second = replay.run({"R_m": [150, 100] * Mohm})
        assert len(loads) == compiled  # every extension module of the second run comes from the cache
    # the parameters of the second run were applied (candidates swapped -> spike trains swapped)
    for sweep in range(AMPLITUDES.size):
        np.testing.assert_allclose(second.spike_times(0, sweep), first.spike_times(1, sweep))
    assert first.voltage.shape == (2, 3, 6000)


@pytest.mark.standalone_only
@pytest.mark.slow
def test_standalone_reruns_the_built_binary_with_new_parameters(tmp_path):
    import os

    with ReplayNetwork("leaky_integrate_and_fire", _currents(), 0.1 * ms, 2, ["R_m"], dt=0.1 * ms,
                       record_voltage=False, settle="50 ms", device="cpp_standalone",
                       directory=str(tmp_path / "project")) as replay:
        first = replay.run({"R_m": [100, 150] * Mohm})
        binary = tmp_path / "project" / "main"
        built = os.stat(binary).st_mtime_ns
        second = replay.run({"R_m": [150, 100] * Mohm})
        assert os.stat(binary).st_mtime_ns == built  # not rebuilt
    for sweep in range(AMPLITUDES.size):
        np.testing.assert_allclose(second.spike_times(0, sweep), first.spike_times(1, sweep))
    assert first.spike_time.size > 0 and second.wall_seconds < first.wall_seconds


def test_density_driven_models_are_refused_with_the_fix():
    from neurophase.errors import ModelFileError

    with pytest.raises(ModelFileError, match="current density"):
        ReplayNetwork("wang_buzsaki_1996", _currents(), 0.1 * second / 1000, 1, [])


def test_a_diverging_candidate_is_flagged_not_fatal():
    from neurophase.micro.neurone import model_from_equations

    # a = +1 grows as exp(t / 1 ms) and overflows; 1/exprel(-v/mV) then divides by zero, which Brian2's
    # Cython code raises (cdivision=False) for the whole network
    model = model_from_equations(
        "dv/dt = a * v / ms + I_input / (100 * pF) - 0.001 * mV / ms / exprel(-v / mV) : volt\nI_input : amp",
        threshold="v > v_max", parameters={"a": "-1", "v_max": "1000000 volt"}, input="I_input", input_unit="pA",
        initial={"v": "1 mV"}, method="euler", dt="0.1 ms")
    with ReplayNetwork(model, np.zeros((1, 10000)) * pA, 0.1 * ms, 2, ["a"], settle="0 ms",
                       dt=0.1 * ms) as replay:
        result = replay.run({"a": np.array([-1.0, 1.0])})
    assert result.finite.tolist() == [[True], [False]]
    assert result.fallback
