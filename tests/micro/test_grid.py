"""Model parameters swept as grid dimensions of one network (neurophase.micro.grid).

Checked against the closed-form f-I curve of the leaky integrate-and-fire neurone,
f = 1 / (t_ref + tau ln(R I / (R I - theta))) (Gerstner et al. 2014, Neuronal Dynamics,
Eq. 1.11), evaluated at each swept (tau_m, R_m): every grid point must carry its own
parameters. Rates from 1 s of firing are exact up to one inter-spike interval of the counting
window (tolerance: 1 spike per window, i.e. 1.25 Hz in the 0.8 s steady window).
"""

import numpy as np
import pytest
import xarray as xr
from brian2 import Mohm, ms, mV, pA, second

from neurophase.errors import ModelFileError, ParameterError, UnitMismatchError
from neurophase.micro.grid import parameter_grid
from neurophase.micro.modelfile import load_model
from neurophase.micro.neurone import firing_curve
from neurophase.testing import assert_follows_schema, assert_round_trips

MODEL = load_model("leaky_integrate_and_fire")


def lif_rate(current_pA, tau_ms, resistance_mohm):
    theta, t_ref = 20e-3, 2e-3
    drive = resistance_mohm * 1e6 * np.asarray(current_pA) * 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        period = t_ref + tau_ms * 1e-3 * np.log(drive / (drive - theta))
    return np.where(drive > theta, 1.0 / period, 0.0)


@pytest.mark.brian2
def test_swept_parameters_each_reach_their_own_neurones():
    currents = np.array([150.0, 300.0, 600.0])
    taus = np.array([10.0, 20.0, 40.0])
    resistances = np.array([80.0, 120.0])
    data = firing_curve(MODEL, currents * pA, duration=1 * second, progress=False,
                        parameters={"tau_m": taus * ms, "R_m": resistances * Mohm},
                        record_voltage=[1], record_dt=1 * ms)
    assert_follows_schema(data)
    assert data["rate"].dims == ("param_tau_m", "param_R_m", "input", "trial")
    assert data["param_tau_m"].attrs["units"] == "ms" and data["param_R_m"].attrs["units"] == "Mohm"
    expected = lif_rate(currents[None, None, :], taus[:, None, None], resistances[None, :, None])
    np.testing.assert_allclose(data["rate"].values[..., 0], expected, atol=1.25)
    assert data["voltage"].dims == ("param_tau_m", "param_R_m", "recorded_input", "time")
    assert "tau_m in [10, 20, 40] ms" in data.attrs["parameter_grid"]
    assert_round_trips(data)


@pytest.mark.brian2
def test_linked_parameters_sweep_together():
    currents = np.array([300.0])
    taus, resistances = np.array([10.0, 40.0]), np.array([120.0, 80.0])
    data = firing_curve(MODEL, currents * pA, duration=1 * second, progress=False,
                        parameters={"tau_m": xr.DataArray(taus, dims="cell", attrs={"units": "ms"}),
                                    "R_m": xr.DataArray(resistances, dims="cell", attrs={"units": "Mohm"})})
    assert data["rate"].dims == ("param_cell", "input", "trial")
    assert data["param_R_m"].dims == ("param_cell",)
    np.testing.assert_allclose(data["rate"].values[:, 0, 0], lif_rate(300.0, taus, resistances), atol=1.25)


def test_parameter_grid_errors_name_the_fix():
    with pytest.raises(ModelFileError, match="has no parameter 'tau'"):
        parameter_grid(MODEL, {"tau": [1, 2]})
    with pytest.raises(UnitMismatchError, match=r"has the unit ms; give the swept values with it"):
        parameter_grid(MODEL, {"tau_m": [10, 20]})
    with pytest.raises(UnitMismatchError):
        parameter_grid(MODEL, {"tau_m": np.array([10, 20]) * mV})
    with pytest.raises(ParameterError, match="repeat a value"):
        parameter_grid(MODEL, {"tau_m": ["10 ms", "10 ms"]})
    with pytest.raises(ParameterError, match="need equal lengths"):
        parameter_grid(MODEL, {"tau_m": xr.DataArray([1.0, 2.0], dims="c", attrs={"units": "ms"}),
                               "R_m": xr.DataArray([1.0], dims="c", attrs={"units": "Mohm"})})
    grid = parameter_grid(MODEL, {"tau_m": ["10 ms", "20 ms"], "V_reset": "-65 mV"})
    assert grid.dims == ("param_tau_m",) and grid.values[0].tolist() == [10.0, 20.0]
    assert "V_reset" in grid.overrides
