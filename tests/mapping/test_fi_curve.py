"""f-I curve features on curves with known answers (closed-form onsets), then on edge cases."""

import numpy as np
import pytest
import xarray as xr
from brian2 import cm, pA, uA
from hypothesis import given, settings
from hypothesis import strategies as st

from neurophase.errors import NeurophaseError
from neurophase.mapping.fi_curve import hysteresis_range, onset_exponent, onset_type, power_law_rate, rheobase


def _curve(levels, rates, unit="pA", trials=None):
    rates = np.asarray(rates, float)
    if trials is not None:
        return xr.Dataset({"rate": (("input", "trial"), rates, {"units": "Hz"})},
                          coords={"input": ("input", levels, {"units": unit}),
                                  "trial": np.arange(rates.shape[1])})
    return xr.Dataset({"rate": ("input", rates, {"units": "Hz"})},
                      coords={"input": ("input", levels, {"units": unit})})


def test_rheobase_bracket_and_trial_mean():
    levels = np.arange(0.0, 10.0, 1.0)
    rates = np.where(levels >= 4.0, 10.0 * levels, 0.0)
    result = rheobase(_curve(levels, rates))
    assert float(result.value / pA) == 4.0
    assert float(result.low / pA) == 3.0 and float(result.high / pA) == 4.0
    # two trials, one fires at level 3: the mean rate there is positive, so the rheobase is 3
    per_trial = np.stack([rates, rates], axis=1)
    per_trial[3, 1] = 5.0
    assert float(rheobase(_curve(levels, per_trial, trials=True)).value / pA) == 3.0
    # a rate threshold
    assert float(rheobase(_curve(levels, rates), rate_threshold=55.0).value / pA) == 6.0
    nothing = rheobase(_curve(levels, np.zeros(levels.size)))
    assert np.isnan(float(nothing.value / pA))


@settings(max_examples=40, deadline=None)
@given(critical=st.floats(0.05, 0.95), exponent=st.floats(0.5, 1.5),
       amplitude=st.floats(5.0, 200.0))
def test_continuous_onsets_are_never_called_discontinuous(critical, exponent, amplitude):
    # f = A (I - I_c)^x with x >= 1/2 and any I_c in a grid cell satisfies the bound of the rule
    # (module docstring of fi_curve), so the classification must say continuous.
    levels = np.round(np.arange(-1.0, 3.0, 0.1), 10)
    rates = power_law_rate(levels, amplitude, critical, exponent)
    assert onset_type(_curve(levels, rates)).kind == "continuous"


@settings(max_examples=40, deadline=None)
@given(critical=st.floats(0.05, 0.95), jump=st.floats(5.0, 100.0),
       relative_slope=st.floats(0.0, 1.0))
def test_jumps_are_called_discontinuous_with_the_right_size(critical, jump, relative_slope):
    # A class-2 curve: zero below I_c, jump + slope (I - I_c) above. A jump is resolvable on a
    # grid of spacing h only if it is large against slope x h: with slope <= 2 jump / (1 unit)
    # and h = 0.1, f_on / f_next >= 1 / 1.2 > 1.1 sqrt(1/2), so the rule must see it.
    slope = 2.0 * jump * relative_slope
    levels = np.round(np.arange(-1.0, 3.0, 0.1), 10)
    rates = np.where(levels >= critical, jump + slope * (levels - critical), 0.0)
    result = onset_type(_curve(levels, rates))
    assert result.kind == "discontinuous"
    first = levels[levels >= critical][0]
    assert float(result.jump) == pytest.approx(jump + slope * (first - critical))


def test_onset_at_the_grid_edge_is_undetermined():
    levels = np.arange(5.0)
    assert onset_type(_curve(levels, [10.0, 20, 30, 40, 50])).kind == "undetermined"
    assert onset_type(_curve(levels, [0.0, 0, 0, 0, 50])).kind == "undetermined"


@pytest.mark.parametrize("true_exponent", [0.5, 1.0])
def test_onset_exponent_recovers_the_power_law_with_noise(true_exponent):
    # f = 60 (I - 0.317)^x plus Gaussian noise of 0.3 Hz (seeded); the fitted exponent is within
    # 0.05 of the truth and the 95% bootstrap interval contains it.
    generator = np.random.default_rng(7)
    levels = np.linspace(0.0, 1.0, 41)
    rates = power_law_rate(levels, 60.0, 0.317, true_exponent)
    noisy = np.where(rates > 0, rates + generator.normal(0, 0.3, levels.size), 0.0)
    fit = onset_exponent(_curve(levels, noisy, unit="uA/cm**2"), n_bootstrap=100)
    assert fit.exponent == pytest.approx(true_exponent, abs=0.05)
    assert fit.exponent_interval[0] - 0.01 <= true_exponent <= fit.exponent_interval[1] + 0.01
    assert float(fit.critical_input / (uA / cm**2)) == pytest.approx(0.317, abs=0.025)


def test_onset_exponent_needs_a_silent_level():
    levels = np.linspace(1.0, 2.0, 11)
    with pytest.raises(NeurophaseError, match="silent level"):
        onset_exponent(_curve(levels, 10 * levels))


def test_hysteresis_range_of_a_bistable_curve():
    # Up branch jumps on at 9.5; down branch keeps firing down to 6.5 (HH-like).
    levels = np.arange(5.0, 11.01, 0.5)
    up = np.where(levels >= 9.5, 60 + levels, 0.0)
    down = np.where(levels >= 6.5, 50 + levels, 0.0)
    dataset = xr.Dataset(
        {"rate": (("direction", "input", "trial"), np.stack([up, down])[:, :, None], {"units": "Hz"})},
        coords={"input": ("input", levels, {"units": "uA/cm**2"}), "direction": ["up", "down"]})
    result = hysteresis_range(dataset)
    unit = uA / cm**2
    assert float(result.lower / unit) == 6.5 and float(result.lower_bracket[0] / unit) == 6.0
    assert float(result.upper / unit) == 9.5 and float(result.upper_bracket[0] / unit) == 9.0
    assert float(result.width / unit) == pytest.approx(3.0)
    with pytest.raises(NeurophaseError, match="staircase"):
        hysteresis_range(dataset.sel(direction="up"))


def test_curve_errors_name_the_fix():
    levels = np.arange(3.0)
    no_units = xr.Dataset({"rate": ("input", [0.0, 1, 2])}, coords={"input": levels})
    with pytest.raises(NeurophaseError, match="units"):
        rheobase(no_units)
    extra = xr.Dataset({"rate": (("input", "param_sigma"), np.zeros((3, 2)), {"units": "Hz"})},
                       coords={"input": ("input", levels, {"units": "pA"})})
    with pytest.raises(NeurophaseError, match="param_sigma"):
        rheobase(extra)
