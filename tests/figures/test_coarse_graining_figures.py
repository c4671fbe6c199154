"""N1-N5 figures render from small datasets shaped like the coarse-graining measurements' output
(``derived_<model>``, ``thresholds_<model>``, ``rheobase_<model>``; ``pulse``, ``widths``,
``heldout``; ``rates``, ``barriers``), with nothing simulated or derived, and draw the data with
intervals under the labelled derived prediction; no image comparison."""

import numpy as np
import xarray as xr
from scipy.special import ndtr

from neurophase.check.verdicts import make_verdict
from neurophase.figures import coarse_graining

RNG = np.random.default_rng(14)
UNIT = "uA/cm**2"


def _derived(name="hh"):
    """A ``derived_<model>`` Dataset (CoarseGrainedMembrane.to_dataset) with an S-shaped branch set."""
    inputs = np.linspace(-4.0, 10.0, 29)
    rest = np.where(inputs <= 6.0, 0.05 * np.exp(0.1 * inputs), np.nan)
    saddle = np.where((inputs >= -2.0) & (inputs <= 6.0), 0.4 - 0.04 * inputs, np.nan)
    excited = np.where(inputs >= -2.0, 0.9 + 0.005 * inputs, np.nan)
    branches = np.stack([rest, saddle, excited], axis=1)
    stable = np.where(np.isfinite(branches), np.array([1.0, 0.0, 1.0]), np.nan)
    m = np.geomspace(1e-3, 0.99, 60)
    rest_ref = np.where(np.isfinite(rest), rest, 0.1)
    potential = 0.05 * (np.log(m)[None, :] - np.log(rest_ref)[:, None]) ** 2 - 0.02 * inputs[:, None] * m[None, :]
    scalar = {"temperature": (13.0, "mV"), "v_half": (-40.0, "mV"), "coupling_rest": (30.0, "mV"),
              "field_rest": (-25.0, "mV"), "loop_gain_max_rest": (2.5, "1"), "rest_voltage": (-65.0, "mV"),
              "saddle_voltage_rest": (-55.0, "mV"), "rest_input": (0.0, UNIT)}
    variables = {key: ((), value, {"units": unit}) for key, (value, unit) in scalar.items()}
    variables.update({
        "branch_m": (("input", "branch"), branches, {"units": "1"}),
        "branch_stable": (("input", "branch"), stable, {"units": "1"}),
        "rest_branch": ("input", rest, {"units": "1"}),
        "saddle_branch": ("input", saddle, {"units": "1"}),
        "barrier": ("input", np.where(np.isfinite(saddle), 0.02 * (6.0 - inputs) + 1e-4, np.nan), {"units": "1/ms"}),
        "potential": (("input", "m"), potential, {"units": "1/ms"}),
        "fold_input": ("fold", [-2.0, 6.0], {"units": UNIT}),
        "fold_voltage": ("fold", [-30.0, -58.0], {"units": "mV"}),
        "fold_m": ("fold", [0.88, 0.16], {"units": "1"}),
        "fold_upper": ("fold", [0.0, 1.0], {"units": "1"}),
    })
    return xr.Dataset(variables, coords={"input": ("input", inputs, {"units": UNIT}), "branch": np.arange(3),
                                         "m": ("m", m, {"units": "1"}), "fold": np.arange(2)},
                      attrs={"model_name": name, "order_parameter": "m", "order_parameter_kind": "activation"})


def _bisection(durations, threshold, width, holding):
    """A threshold_bisection Dataset (variants full and frozen) with brackets of ``width``."""
    threshold = np.asarray(threshold, float)
    low, high = threshold - width / 2, threshold + width / 2
    return xr.Dataset({"threshold": (("variant", "duration"), threshold, {"units": UNIT}),
                       "threshold_low": (("variant", "duration"), low, {"units": UNIT}),
                       "threshold_high": (("variant", "duration"), high, {"units": UNIT}),
                       "bracket_valid": (("variant", "duration"), np.ones(threshold.shape), {"units": "1"})},
                      coords={"variant": ["full", "frozen"], "duration": ("duration", durations, {"units": "ms"})},
                      attrs={"fold_up_above_holding": 6.0 - holding, "input_unit": UNIT, "holding_input": holding})


def test_branch_line_carries_its_unit_and_follows_the_dataset():
    figures = coarse_graining.table_figures({"derived_hh": _derived(), "derived_cs": _derived("cs")},
                                            [make_verdict("N2-hh", "ordered", 1.0, 1.0, 1.0, 1.0, tolerance=0.0)])
    assert [stem for stem, _, _ in figures] == ["branches", "potentials", "table"]
    branches = figures[0][1].axes[0]
    assert "(1)" in branches.get_ylabel() and UNIT in branches.get_xlabel()
    solid = [line for line in branches.get_lines() if line.get_linestyle() == "-" and len(line.get_xdata()) == 29]
    # the rest branch (column 0) is drawn where it is stable, unchanged
    rest = _derived()["branch_m"].values[:, 0]
    assert any(np.allclose(line.get_ydata(), rest, equal_nan=True) for line in solid)
    folds = next(line for line in branches.get_lines() if line.get_label().startswith("fold"))
    assert np.allclose(folds.get_xdata(), [-2.0, 6.0])
    for stem, figure, caption in figures[:2]:
        for axis in figure.axes:
            for label in (axis.get_xlabel(), axis.get_ylabel()):
                assert not label or "(" in label, (stem, label)
    table = figures[2][1].axes[0].tables[0]
    assert table.get_celld()[(1, 0)].get_text().get_text() == "hh"
    assert all("\n" not in caption for _, _, caption in figures)


def test_threshold_figures_draw_measured_brackets_over_the_fold_and_kick_line(check):
    durations = np.array([0.1, 0.2, 0.5, 1.0])
    kick = 1.0 * 10.0 / durations  # C (V_saddle - V_rest) / d with C = 1, 10 mV
    pulses = _bisection(durations, np.stack([1.1 * kick, 0.9 * kick]), 0.2, 0.0)
    pulses["predicted_kick_threshold"] = ("duration", kick, {"units": UNIT})
    rheobase = _bisection(np.array([100.0]), [[6.5], [6.2]], 0.4, 0.0)
    verdicts = [make_verdict("N1-voltage-hh", "v", 10.0, 11.0, 10.5, 11.5, tolerance=0.2, relative=True),
                make_verdict("N1-pulse-hh", "p", 100.0, 110.0, 109.9, 110.1, tolerance=0.2, relative=True),
                make_verdict("N1-rheobase-hh", "r", 6.0, 6.5, 6.3, 6.7, tolerance=0.2, relative=True)]
    figures = coarse_graining.threshold_figures(
        {"derived_hh": _derived(), "thresholds_hh": pulses, "rheobase_hh": rheobase}, verdicts)
    assert [stem for stem, _, _ in figures] == ["branches_thresholds", "strength_duration", "predicted_vs_measured"]
    check(figures, ["derived"], data_words=("measured", "simulated"))


def _pulse_data(numbers=(10.0, 40.0, 160.0, 640.0), trials=16):
    levels = np.linspace(2.0, 8.0, 9)
    fine = np.linspace(2.0, 8.0, 61)
    threshold, constant = 5.0, 8.0
    numbers = np.asarray(numbers)
    width = constant / np.sqrt(numbers)
    p = ndtr((levels[None, :] - threshold) / width[:, None])
    fired = (RNG.random((numbers.size, levels.size, trials)) < p[:, :, None]).astype(float)
    curve = ndtr((fine[None, :] - threshold) / width[:, None])
    dimension = "param_N_Na"
    pulse = xr.Dataset({"fired": ((dimension, "input", "trial"), fired, {"units": "1"}),
                        "derived_curve": ((dimension, "amplitude"), curve, {"units": "1"}),
                        "probit_curve": ((dimension, "amplitude"), curve, {"units": "1"}),
                        "fitted_curve": ((dimension, "amplitude"), curve, {"units": "1"})},
                       coords={dimension: (dimension, numbers, {"units": "1"}),
                               "input": ("input", levels, {"units": UNIT}), "amplitude": ("amplitude", fine)},
                       attrs={"derived_threshold": threshold, "derived_width_constant": constant,
                              "input_unit": UNIT})
    widths = xr.Dataset({"width": (dimension, width * 1.05, {"units": UNIT}),
                         "width_low": (dimension, width * 0.8, {"units": UNIT}),
                         "width_high": (dimension, width * 1.3, {"units": UNIT}),
                         "threshold": (dimension, np.full(numbers.size, threshold + 0.1), {"units": UNIT}),
                         "usable": (dimension, np.array([0.0, 1.0, 1.0, 1.0]), {"units": "1"})},
                        coords={dimension: pulse[dimension]}, attrs={"exponent": -0.48, "input_unit": UNIT})
    names = ["derived", "fitted_logistic", "null_base_rate", "null_step_at_derived_threshold"]
    heldout = xr.Dataset({name: (dimension, np.full(numbers.size, 0.05 * (k + 1)), {"units": "1"})
                          for k, name in enumerate(names)}, coords={dimension: pulse[dimension]},
                         attrs={"ratio_derived_fitted": 0.5,
                                **{f"pooled_{name}": [0.05 * (k + 1), 0.04 * (k + 1), 0.06 * (k + 1)]
                                   for k, name in enumerate(names)}})
    return pulse, widths, heldout, width, constant


def test_pulse_figures_draw_probabilities_widths_and_heldout_scores(check):
    pulse, widths, heldout, width, constant = _pulse_data()
    figures = coarse_graining.pulse_figures({"pulse": pulse, "widths": widths, "heldout": heldout}, [])
    assert [stem for stem, _, _ in figures] == ["pulse_probability", "width_scaling", "heldout_errors"]
    check(figures[:2], ["derived"], data_words=("Markov simulation", "measured"))
    # held-out scores: per N for every candidate, pooled with bootstrap intervals, units on the axes
    per_n, pooled = figures[2][1].axes
    assert {line.get_label() for line in per_n.get_lines()} >= {"derived (nothing fitted)",
                                                                  "logistic fitted per N (fit)"}
    assert len(pooled.containers) == 4
    assert all("(" in label for label in (per_n.get_xlabel(), per_n.get_ylabel(), pooled.get_xlabel()))
    # the derived width line is C_A / sqrt(N): at the grid's ends it equals the closed form
    axis = figures[1][1].axes[0]
    line = next(line for line in axis.get_lines() if line.get_label().startswith("derived C_A"))
    x, y = line.get_data()
    assert np.allclose(y, constant / np.sqrt(x), rtol=1e-12)
    assert np.isclose(x[0], 10.0) and np.isclose(x[-1], 640.0)


def test_escape_figures_draw_the_rates_over_the_three_derived_predictions(check):
    numbers = np.array([20.0, 30.0, 40.0, 50.0, 60.0])
    exact = 200.0 * np.exp(-0.1 * numbers)
    events = np.array([40.0, 25.0, 12.0, 5.0, 0.0])
    rate = np.where(events > 0, exact * 1.1, 0.0)
    dimension = "param_N_Na"
    rates = xr.Dataset({"rate": (dimension, rate, {"units": "Hz"}),
                        "rate_low": (dimension, rate * 0.7, {"units": "Hz"}),
                        "rate_high": (dimension, np.where(events > 0, rate * 1.4, 0.3), {"units": "Hz"}),
                        "events": (dimension, events, {"units": "1"}),
                        "steady_rate": (dimension, rate * 1.2, {"units": "Hz"}),
                        "rate_kramers_diffusion": (dimension, exact * 0.5, {"units": "Hz"}),
                        "rate_kramers_wkb": (dimension, exact * 0.6, {"units": "Hz"}),
                        "rate_exact_chain": (dimension, exact, {"units": "Hz"})},
                       coords={dimension: (dimension, numbers, {"units": "1"})},
                       attrs={"slope": -0.1, "slope_diffusion": -0.1, "slope_wkb": -0.1, "slope_exact": -0.1,
                              "drive": 0.0, "input_unit": UNIT})
    drives = np.linspace(-5.0, 5.9, 12)
    barriers = xr.Dataset({"barrier_diffusion": ("drive", 0.02 * (6 - drives), {"units": "1"}),
                           "barrier_wkb": ("drive", 0.021 * (6 - drives), {"units": "1"})},
                          coords={"drive": ("drive", drives, {"units": UNIT})}, attrs={"measured_drive": 0.0})
    figures = coarse_graining.escape_figures({"rates": rates, "barriers": barriers}, [])
    assert [stem for stem, _, _ in figures] == ["escape_rates", "barriers"]
    check(figures[:1], ["derived"], data_words=("Markov simulation",))
    axis = figures[0][1].axes[0]
    exact_line = next(line for line in axis.get_lines() if "exact chain" in line.get_label())
    assert np.allclose(exact_line.get_ydata(), exact)
    # the barrier figure is derived only (no data): both barriers drawn, units on every axis
    left, right = figures[1][1].axes
    assert {line.get_label() for line in left.get_lines()} >= {"Delta Phi_diff", "Delta Phi_WKB"}
    assert all("(" in label for axis in (left, right) for label in (axis.get_xlabel(), axis.get_ylabel()))
