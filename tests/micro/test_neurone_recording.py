"""Spike recording: per-neurone running sums (the default) against kept spike times.

The default ``spike_record="sums"`` accumulates, in each neurone's reset code, the sums that
the statistics of :func:`neurophase.mapping.firing.spike_statistics` need; ``"times"`` keeps a
SpikeMonitor and computes the same statistics afterwards from the spike trains, with the
vectorised code tested against hand-made trains in tests/mapping/test_firing.py. The two are
different algorithms over the same spikes (same seed, same network), so they must agree to
rounding: counts exactly, times and rates to 1e-9 relative. Memory against duration is
measured in benchmarks/hh_fi_sweep.py, not here.
"""

import numpy as np
import pytest
from brian2 import Hz, cm, ms, nS, pA, uA

from neurophase.micro.neurone import firing_curve

pytestmark = [pytest.mark.brian2, pytest.mark.slow]

STATISTICS = ("spike_count", "steady_spike_count", "rate", "first_spike_latency", "cv_isi",
              "fano_factor", "p_fire")


def _both(model, inputs, **options):
    sums = firing_curve(model, inputs, progress=False, spike_record="sums", **options)
    times = firing_curve(model, inputs, progress=False, spike_record="times", **options)
    return sums, times


def _assert_same(sums, times):
    assert sums.attrs["spike_record"].startswith("running sums")
    assert times.attrs["spike_record"].startswith("spike times")
    assert float(times["spike_count"].sum()) > 0
    for name in STATISTICS:
        np.testing.assert_allclose(sums[name].values, times[name].values, rtol=1e-9, atol=1e-12,
                                   equal_nan=True, err_msg=name)


def test_noisy_lif_steps_and_trials_agree_with_spike_times():
    # OU noise at two amplitudes x 3 trials x 5 levels (sub- and supra-threshold), a delay,
    # so that spikes before the window, a transient and irregular ISIs all occur
    sums, times = _both("leaky_integrate_and_fire", np.linspace(0, 800, 5) * pA,
                        duration=300 * ms, noise=np.array([0.0, 40.0]) * pA, seeds=3,
                        delay=20 * ms)
    _assert_same(sums, times)
    assert np.nanmax(sums["cv_isi"].sel(param_sigma=40.0).values) > 0.05


def test_pulse_firing_probability_agrees_with_spike_times():
    sums, times = _both("leaky_integrate_and_fire", np.linspace(0, 8000, 9) * pA, protocol="pulse",
                        seeds=4, noise=60 * pA)
    _assert_same(sums, times)
    assert 0 < float(sums["p_fire"].mean()) < 1


def test_staircase_windows_agree_with_spike_times():
    # one window per level and direction, restarted by a clock of the level duration
    sums, times = _both("hodgkin_huxley_1952", np.linspace(4, 12, 5) * uA / cm**2,
                        protocol="staircase", duration=100 * ms)
    _assert_same(sums, times)
    assert sums["spike_count"].sizes["direction"] == 2


def test_ramp_windows_agree_with_spike_times():
    sums, times = _both("hodgkin_huxley_1952", np.linspace(4, 12, 5) * uA / cm**2,
                        protocol="ramp", duration=100 * ms)
    _assert_same(sums, times)


def test_poisson_conductance_input_agrees_with_spike_times():
    # the Poisson events are drawn in the same order on both runs (same seed, same network
    # apart from the monitors), so the spike trains are the same
    sums, times = _both("leaky_integrate_and_fire", np.array([0.0, 100.0]) * pA, seeds=4,
                        duration=300 * ms, poisson={"rate_exc": 4000 * Hz, "weight_exc": 0.6 * nS})
    _assert_same(sums, times)


def test_dimensionless_state_variables_can_be_recorded():
    dataset = firing_curve("hodgkin_huxley_1952", np.array([10.0]) * uA / cm**2, duration=20 * ms,
                           record_voltage=[0], voltage_variable="m", progress=False)
    assert dataset["m"].attrs["units"] == "1"
    assert 0.0 < float(dataset["m"].min()) < 0.1 < 0.9 < float(dataset["m"].max()) <= 1.0


def test_level_duration_off_the_time_grid_falls_back_to_spike_times():
    # 100.005 ms per level is not a whole number of 0.01 ms steps: window edges would fall
    # between steps of the sums' clock, so spike times are kept instead (and said so)
    with pytest.warns(UserWarning, match="not a whole number of 0.01 ms steps"):
        dataset = firing_curve("leaky_integrate_and_fire", np.array([200.0, 400.0]) * pA,
                               protocol="staircase", duration=100.005 * ms, progress=False)
    assert dataset.attrs["spike_record"].startswith("spike times")


def test_unknown_spike_record_is_rejected_by_name():
    with pytest.raises(Exception, match="spike_record must be one of sums, times"):
        firing_curve("leaky_integrate_and_fire", np.array([1.0]) * pA, spike_record="counts")
