"""Q1-Q5 figures render from small datasets shaped like measure_population's output (``theory``,
``stationary``, ``ramps``, ``critical``, ``widom``, ``transfer``), nothing simulated, and draw the
networks' rates with intervals under the labelled derived mean field; no image comparison."""

import numpy as np
import xarray as xr

from neurophase.figures import population

RNG = np.random.default_rng(11)
W, MU = "mV", "pA"
W_C, MU_C, R_C = 0.2, 300.0, 8.0


def _theory_and_stationary():
    couplings = np.array([0.1, 0.3])
    drives = np.linspace(250.0, 350.0, 5)
    dense_w = np.linspace(0.1, 0.4, 7)
    span = np.sqrt(np.clip(dense_w - W_C, 0, None)) * 100
    fold_low = np.where(dense_w > W_C, MU_C - span, np.nan)
    fold_high = np.where(dense_w > W_C, MU_C + span / 2, np.nan)
    dense_mu = np.linspace(250.0, 350.0, 21)
    low = np.clip(0.1 * (dense_mu - 240.0), 0.1, None)
    high = np.where(dense_mu > 270.0, 40.0 + 0.1 * dense_mu, np.nan)
    branch = np.stack([np.stack([low, np.full(21, np.nan), np.full(21, np.nan)], axis=1),
                       np.stack([low, (low + np.nan_to_num(high)) / 2, high], axis=1)])
    stable = np.stack([np.array([1.0, 0.0, 0.0]) * np.ones((21, 1)), np.array([1.0, 0.0, 1.0]) * np.ones((21, 1))])
    theory = xr.Dataset({"fold_low": ("dense_coupling", fold_low, {"units": MU}),
                         "fold_high": ("dense_coupling", fold_high, {"units": MU}),
                         "branch_rate": (("coupling", "dense_drive", "branch"), branch, {"units": "Hz"}),
                         "branch_stable": (("coupling", "dense_drive", "branch"), stable, {"units": "1"}),
                         "cusp_coupling": ((), W_C, {"units": W}), "cusp_drive": ((), MU_C, {"units": MU}),
                         "cusp_rate": ((), R_C, {"units": "Hz"})},
                        coords={"dense_coupling": ("dense_coupling", dense_w, {"units": W}),
                                "coupling": ("coupling", couplings, {"units": W}),
                                "dense_drive": ("dense_drive", dense_mu, {"units": MU}), "branch": np.arange(3)})
    predicted = np.stack([np.interp(drives, dense_mu, low), np.interp(drives, dense_mu, np.nan_to_num(high))], -1)
    predicted = np.stack([predicted, predicted])
    measured = predicted * (1 + RNG.normal(0, 0.03, predicted.shape))
    stationary = xr.Dataset({"rate": (("coupling", "drive", "start"), measured, {"units": "Hz"}),
                             "rate_low": (("coupling", "drive", "start"), measured * 0.95, {"units": "Hz"}),
                             "rate_high": (("coupling", "drive", "start"), measured * 1.05, {"units": "Hz"}),
                             "predicted_rate": (("coupling", "drive", "start"), predicted, {"units": "Hz"}),
                             "bistable": (("coupling", "drive"), np.zeros((2, 5)), {"units": "1"})},
                            coords={"coupling": ("coupling", couplings, {"units": W}),
                                    "drive": ("drive", drives, {"units": MU}), "start": ["low", "high"]})
    return theory, stationary


def _ramps():
    fractions = np.array([0.8, 1.5])
    seeds = 2
    point = np.repeat(np.arange(2), seeds)
    time = np.linspace(0, 20000, 200)
    shape = 1 - np.abs(time / 10000 - 1)
    drive_at = 250.0 + 100.0 * shape[None, :] * np.ones((4, 1))
    fold_low = np.array([np.nan, 280.0])[point]
    fold_high = np.array([np.nan, 320.0])[point]
    rising = np.r_[np.diff(shape) > 0, False]
    switch_up = np.where(np.isfinite(fold_high), fold_high - 3, 300.0)
    switch_down = np.where(np.isfinite(fold_low), fold_low + 3, 300.0)
    on = np.where(rising[None, :], drive_at > switch_up[:, None], drive_at > switch_down[:, None])
    rate = np.where(on, 40.0, 2.0) + RNG.normal(0, 1, on.shape)
    return xr.Dataset({"rate": (("population", "time"), rate, {"units": "Hz"}),
                       "drive_at": (("population", "time"), drive_at, {"units": MU}),
                       "up_switch": ("population", switch_up + RNG.normal(0, 1, 4), {"units": MU}),
                       "down_switch": ("population", switch_down + RNG.normal(0, 1, 4), {"units": MU}),
                       "fold_low": ("population", fold_low, {"units": MU}),
                       "fold_high": ("population", fold_high, {"units": MU}),
                       "switch_level": ("population", np.full(4, 15.0), {"units": "Hz"})},
                      coords={"population": np.arange(4), "time": ("time", time, {"units": "ms"}),
                              "coupling": ("population", (fractions * W_C)[point], {"units": W}),
                              "point": ("population", point)},
                      attrs={"cusp_coupling": W_C, "cusp_drive": MU_C})


def _critical():
    offsets = np.array([-8.0, -4.0, -2.0, -1.0, 1.0, 2.0, 4.0, 8.0])
    fold_d = np.array([1.0, 2.0, 4.0, 8.0])
    cusp_rate = R_C + 3.0 * np.sign(offsets) * np.abs(offsets) ** (1 / 3)
    fold_rate = 20.0 - 2.0 * np.sqrt(fold_d)
    dense = np.linspace(-8.0, 8.0, 33)
    dense_fold = np.geomspace(0.25, 8.0, 20)
    rate = np.r_[cusp_rate, fold_rate] + RNG.normal(0, 0.05, 12)
    return xr.Dataset({"point_rate": ("grid_point", rate, {"units": "Hz"}),
                       "point_rate_error": ("grid_point", np.full(12, 0.05), {"units": "Hz"}),
                       "point_offset": ("grid_point", np.r_[offsets, -fold_d], {"units": MU}),
                       "point_kind": ("grid_point", np.array(["cusp"] * 8 + ["fold"] * 4)),
                       "point_escaped": ("grid_point", np.r_[np.zeros(11), 1.0], {"units": "1"}),
                       "dense_cusp_rate": ("dense_offset", R_C + 3.0 * np.sign(dense) * np.abs(dense) ** (1 / 3),
                                           {"units": "Hz"}),
                       "dense_fold_rate": ("dense_fold_distance", 20.0 - 2.0 * np.sqrt(dense_fold), {"units": "Hz"})},
                      coords={"dense_offset": ("dense_offset", dense, {"units": MU}),
                              "dense_fold_distance": ("dense_fold_distance", dense_fold, {"units": MU})},
                      attrs={"cusp_offset_rate": R_C, "cusp_rate": R_C, "cusp_exponent": 0.34,
                             "cusp_amplitude": 3.0, "fold_rate": 20.0, "fold_coupling": 1.5 * W_C,
                             "fold_exponent": 0.5, "cusp_coupling": W_C})


def _widom():
    fractions = np.array([0.5, 0.7, 0.9, 1.1])
    dense = np.linspace(0.5, 0.98, 25)
    predicted = 10.0 / (1 - fractions) ** 2
    trials = np.abs(predicted[:, None] * (1 + RNG.normal(0, 0.1, (4, 3))))
    tau = 0.005 / (1 - np.clip(fractions, None, 0.95))
    return xr.Dataset({"variance": ("widom_coupling", trials.mean(1), {"units": "Hz**2"}),
                       "variance_low": ("widom_coupling", trials.min(1), {"units": "Hz**2"}),
                       "variance_high": ("widom_coupling", trials.max(1), {"units": "Hz**2"}),
                       "trial_variance": (("widom_coupling", "trial"), trials, {"units": "Hz**2"}),
                       "correlation_time": ("widom_coupling", tau, {"units": "s"}),
                       "correlation_time_low": ("widom_coupling", tau * 0.9, {"units": "s"}),
                       "correlation_time_high": ("widom_coupling", tau * 1.1, {"units": "s"}),
                       "dense_variance_predicted": ("dense_fraction", 10.0 / (1 - dense) ** 2, {"units": "Hz**2"}),
                       "dense_relaxation_predicted": ("dense_fraction", 0.005 / (1 - dense), {"units": "s"})},
                      coords={"widom_coupling": ("widom_coupling", fractions * W_C, {"units": W}),
                              "trial": np.arange(3), "dense_fraction": ("dense_fraction", dense, {"units": "1"})},
                      attrs={"cusp_coupling": W_C, "slowing_exponent": -0.95})


def test_population_figures_draw_the_networks_over_the_derived_mean_field(check):
    theory, stationary = _theory_and_stationary()
    datasets = {"theory": theory, "stationary": stationary, "ramps": _ramps(), "critical": _critical(),
                "widom": _widom()}
    figures = population.figures(datasets, [])
    assert [stem for stem, _, _ in figures] == ["phase_diagram", "rate_vs_drive", "ramps", "exponents",
                                                "fluctuations"]
    check(figures, ["derived"], data_words=("network", "measured"))
    # the derived cusp sits where the theory puts it; the relaxation line is tau/(1 - F') in ms
    axis = figures[0][1].axes[0]
    star = next(line for line in axis.get_lines() if line.get_label().startswith("derived cusp"))
    assert np.allclose(star.get_xydata(), [[W_C, MU_C]])
    right = figures[4][1].axes[1]
    line = next(line for line in right.get_lines() if line.get_label().startswith("derived tau"))
    x, y = line.get_data()
    assert np.allclose(y, 5.0 / x)  # 0.005 s / (1 - w/w_c) in ms, x = 1 - w/w_c


def test_transfer_figure_draws_the_uncoupled_rates_with_intervals():
    drives = np.linspace(100.0, 400.0, 7)
    sigma = np.array([2.0, 6.0])
    truth = np.clip(0.1 * (drives[None, :] - 150.0), 0, None) + sigma[:, None]
    rate = truth[:, :, None] + RNG.normal(0, 0.5, (2, 7, 4))
    transfer = xr.Dataset({"rate": (("param_sigma", "input", "trial"), rate, {"units": "Hz"})},
                          coords={"param_sigma": ("param_sigma", sigma, {"units": "pA*second**0.5"}),
                                  "input": ("input", drives, {"units": MU})})
    ((stem, figure, caption),) = population.figures({"transfer": transfer}, [])
    (axis,) = figure.axes
    assert stem == "transfer" and caption and "\n" not in caption
    assert len(axis.containers) == 2  # one mean with its interval per noise level
    assert "(pA)" in axis.get_xlabel() and "(Hz)" in axis.get_ylabel()
