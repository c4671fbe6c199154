"""measure_fitting's features Dataset carries the fitted model's F2 prediction for the figure."""

from types import SimpleNamespace

import numpy as np
import xarray as xr

from neurophase.check.fitting import _with_prediction
from neurophase.micro.modelfile import load_model


def test_features_carry_the_closed_form_f2_prediction_of_a_fitted_lif():
    current = np.array([0.0, 100.0, 200.0, 300.0])
    recorded = xr.Dataset(coords={"current": ("step", current, {"units": "pA"}),
                                  "step_duration": ("step", np.full(4, 0.5), {"units": "second"})})
    result = SimpleNamespace(recorded=recorded, fitted_model=load_model("leaky_integrate_and_fire"))
    dataset = _with_prediction(xr.Dataset(), result, points=4)
    assert dataset.attrs["prediction_path"] == "closed form"
    assert np.allclose(dataset["prediction_current"].values, current)
    # library LIF (tau 20 ms, R 100 MOhm, threshold 20 mV above rest and reset, 2 ms refractory): at 300 pA,
    # R I = 30 mV, first spike at 20 ln 3 = 21.97 ms, then every 2 + 20 ln 3 = 23.97 ms: 20 spikes in 500 ms;
    # at 200 pA R I = 20 mV only reaches threshold asymptotically: no spike
    assert np.allclose(dataset["predicted_rate"].values, [0.0, 0.0, 0.0, 40.0])
    assert dataset["predicted_rate"].attrs["units"] == "Hz"
    assert np.isclose(dataset.attrs["predicted_rheobase"], 300.0)
