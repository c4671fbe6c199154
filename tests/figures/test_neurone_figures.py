"""C1-C4 figures render from small datasets shaped like the measurements' output (no simulation)
and draw the data with intervals and the prediction as a labelled line; no image comparison."""

import numpy as np
import xarray as xr

from neurophase.check.verdicts import make_verdict
from neurophase.figures import neurone

RNG = np.random.default_rng(1)
UNIT = "uA/cm**2"


def _input(values):
    return ("input", np.asarray(values, float), {"units": UNIT})


def test_onset_figure_draws_the_square_root_and_the_window_exponents(check):
    coarse_levels = np.linspace(0.0, 1.0, 11)
    coarse = xr.Dataset({"rate": (("input", "trial"), 20 * np.sqrt(np.clip(coarse_levels - 0.35, 0, None))[:, None],
                                  {"units": "Hz"})}, coords={"input": _input(coarse_levels)})
    fine_levels = 0.3 + np.geomspace(1e-3, 0.1, 12)
    rate = 20 * np.sqrt(np.clip(fine_levels - 0.3, 0, None))
    fine = xr.Dataset({"rate": (("input", "trial"), rate[:, None], {"units": "Hz"}),
                       "used_in_fit": ("input", np.ones(12, bool))}, coords={"input": _input(fine_levels)},
                      attrs={"onset_amplitude": 20.0, "onset_critical_input": 0.3, "onset_exponent": 0.51,
                             "onset_fit_upper": 0.4, "window_width": [0.1, 0.03], "window_exponent": [0.55, 0.51],
                             "window_exponent_ci_low": [0.53, 0.50], "window_exponent_ci_high": [0.57, 0.52]})
    verdicts = [make_verdict("C1-m", "x", 0.5, 0.51, 0.50, 0.52, tolerance=0.1, rule="tolerance")]
    figures = neurone.plot_onset({"fi_m": coarse, "onset_m": fine}, verdicts)
    assert [stem for stem, _, _ in figures] == ["onset_m"]
    assert len(figures[0][1].axes) == 3  # f-I, log-log, exponent per window
    check(figures, ["predicted"])


def test_staircase_figure_draws_the_predicted_branches(check):
    levels = np.linspace(5.5, 11.0, 12)
    up = np.where(levels >= 10.0, 70.0, 0.0)
    down = np.where(levels >= 6.5, 60.0, 0.0)
    data = xr.Dataset({"rate": (("direction", "input", "trial"), np.stack([up, down])[:, :, None], {"units": "Hz"})},
                      coords={"direction": ["up", "down"], "input": _input(levels)},
                      attrs={"up_threshold": 10.0, "down_threshold": 6.5, "reference_hopf": 9.78,
                             "reference_fold_of_cycles": 6.26})
    verdicts = [make_verdict("C2-up-hh", "up", 9.78, 10.0, 9.5, 10.0, tolerance=0.5, rule="tolerance"),
                make_verdict("C2-down-hh", "down", 6.26, 6.5, 6.0, 6.5, tolerance=0.5, rule="tolerance")]
    figures = neurone.plot_staircase({"staircase_hh": data}, verdicts)
    check(figures, ["Hopf", "stable rest state"])
    (axis,) = figures[0][1].axes
    assert any("fold of limit cycles" in line.get_label() for line in axis.get_lines())


def test_temperature_figure_draws_beta_against_inverse_sigma(check):
    amplitudes = np.linspace(500, 1300, 9)
    sigma = np.array([2.0, 4.0, 8.0])
    width = 6.0 * sigma
    p = 1 / (1 + np.exp(-(amplitudes[None, :] - 900) / width[:, None]))
    fired = (RNG.random((3, 9, 20)) < p[:, :, None]).astype(float)
    pulse = xr.Dataset({"fired": (("param_sigma", "input", "trial"), fired, {"units": "1"})},
                       coords={"param_sigma": ("param_sigma", sigma, {"units": "pA*second**0.5"}),
                               "input": ("input", amplitudes, {"units": "pA"})})
    summary = xr.Dataset({"beta": ("param_sigma", 1 / width), "width": ("param_sigma", width),
                          "theta": ("param_sigma", np.full(3, 900.0)),
                          "width_ci_low": ("param_sigma", 0.9 * width), "width_ci_high": ("param_sigma", 1.1 * width)},
                         coords={"param_sigma": pulse["param_sigma"]},
                         attrs={"model": "lif", "slope": -1.02, "expected_slope": -1.0})
    figures = neurone.plot_temperature({"pulse": pulse, "temperature": summary}, [])
    check(figures, ["predicted"])
    right = figures[0][1].axes[1]
    assert right.get_xscale() == "log" and "1/sigma" in right.get_xlabel()
    # the predicted line has slope 1 in beta against 1/sigma: beta * sigma constant along it
    line = next(line for line in right.get_lines() if line.get_label().startswith("predicted"))
    x, y = line.get_data()
    assert np.allclose(y * x ** -1, (y * x ** -1)[0])
    assert np.allclose((y / x)[0], np.exp(np.mean(np.log(1 / width) + np.log(sigma))), rtol=1e-9)


def test_activation_figure_draws_the_derived_activation_over_the_data(check):
    levels = np.linspace(-1, 3, 9)
    truth = 40 * np.log1p(np.exp(levels))
    data = xr.Dataset({"rate": (("input", "trial"), truth[:, None] + RNG.normal(0, 2, (9, 4)), {"units": "Hz"}),
                       "fit_derived": ("input", truth), "fit_logistic": ("input", truth * 1.01)},
                      coords={"input": _input(levels)},
                      attrs={"candidates": ["derived", "logistic"], "heldout_rmse": [2.0, 2.1]})
    check(neurone.plot_activation({"fi_m": data}, []), ["derived mean-field activation"])
