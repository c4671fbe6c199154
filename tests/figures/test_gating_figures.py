"""P2 and P8 figures render from small datasets shaped like the measurements' output and draw the
data with intervals under the Boltzmann / tanh / Curie-Weiss predictions; no image comparison."""

import numpy as np
import xarray as xr

from neurophase.check.verdicts import make_verdict
from neurophase.figures import gating

RNG = np.random.default_rng(2)


def test_gating_figure_draws_the_boltzmann_curves(check):
    voltage = np.linspace(-100, 20, 25)
    gates = ["m", "h"]
    v_half, k = np.array([-40.0, -62.0]), np.array([9.5, -7.0])
    boltzmann = 1 / (1 + np.exp(-(voltage[None, :] - v_half[:, None]) / k[:, None]))
    curves = xr.Dataset({"x_inf": (("gate", "voltage"), boltzmann + 0.005),
                         "boltzmann_fit": (("gate", "voltage"), boltzmann),
                         "residual": (("gate", "voltage"), np.full((2, 25), 0.005)),
                         "v_half": ("gate", v_half), "slope_factor": ("gate", k),
                         "gating_charge": ("gate", [2.5, 3.4])},
                        coords={"gate": gates, "voltage": voltage},
                        attrs={"residual_tolerance": 0.02, "model_name": "hh"})
    simulated = voltage[::4]
    expected = 1 / (1 + np.exp(-(simulated[None, :] - v_half[:, None]) / k[:, None]))
    channel = xr.Dataset({"p_open": (("gate", "voltage_sim", "trial"),
                                     expected[:, :, None] + RNG.normal(0, 0.005, (2, simulated.size, 4))),
                          "standard_error": (("gate", "voltage_sim"), np.full(expected.shape, 0.005)),
                          "p_open_expected": (("gate", "voltage_sim"), expected)},
                         coords={"gate": gates, "voltage_sim": simulated})
    figures = gating.plot_gating({"gating_curves": curves, "gating_channel": channel}, [])
    check(figures, ["Boltzmann"])
    assert len(figures[0][1].axes) == 4  # curve and residual per gate


def test_zero_temperature_figure_draws_tanh_and_the_branches(check):
    fields = np.linspace(-1.5, 1.5, 13)
    T = np.array([0.5, 0.1])
    tanh = np.tanh(fields[None, :] / T[:, None])
    noisy = tanh[:, :, None] + RNG.normal(0, 0.01, (2, 13, 3))
    upper, lower = np.where(fields[None, :] > -0.8, 1.0, -1.0) * np.ones((2, 1)), np.where(
        fields[None, :] < 0.8, -1.0, 1.0) * np.ones((2, 1))
    data = xr.Dataset({"M_J0": (("param_T", "input", "trial"), noisy),
                       "M_up_start": (("param_T", "input", "trial"), np.repeat(upper[:, :, None], 3, axis=2)),
                       "M_down_start": (("param_T", "input", "trial"), np.repeat(lower[:, :, None], 3, axis=2)),
                       "M_upper": (("param_T", "input"), upper), "M_lower": (("param_T", "input"), lower),
                       "tanh_closed_form": (("param_T", "input"), tanh)},
                      coords={"param_T": T, "input": fields}, attrs={"J": 1.0})
    verdicts = [make_verdict(f"P8-J0-T{t:g}", "d", 0.1 * t, 0.1 * t, 0.09 * t, 0.11 * t, tolerance=0.01,
                             rule="tolerance") for t in T]
    figures = gating.plot_zero_temperature({"zero_temperature_response": data}, verdicts)
    check(figures, ["closed form", "Curie-Weiss"])
