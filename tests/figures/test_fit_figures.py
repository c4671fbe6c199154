"""The F1/F2 figure renders from a small features Dataset shaped like measure_fitting's
``<cell>_<model>_features`` (recorded and fitted per step, with the F2 prediction that
measure_fitting adds), nothing fitted or simulated, and draws the recorded rates with intervals
under the fitted replay and the predicted f-I; no image comparison."""

import numpy as np
import pytest
import xarray as xr

from neurophase.figures.fit import plot_fitting
from neurophase.figures.style import poisson_interval

RNG = np.random.default_rng(12)


def _features(prediction=True):
    current = np.repeat(np.linspace(0.0, 300.0, 7), 2)
    duration = np.full(current.size, 0.5)
    truth = 0.2 * np.clip(current - 80.0, 0, None)
    counts = RNG.poisson(truth * duration)
    fitted = truth * 1.05
    dataset = xr.Dataset(
        {"spike_rate": (("source", "step"), np.stack([counts / duration, fitted]), {"units": "Hz"}),
         "spike_count": (("source", "step"), np.stack([counts, np.rint(fitted * duration)]), {"units": "1"})},
        coords={"source": ["recorded", "fitted"], "step": np.arange(current.size),
                "current": ("step", current, {"units": "pA"}), "step_duration": ("step", duration, {"units": "second"}),
                "split": ("step", np.where(np.arange(current.size) % 2 == 0, "train", "held_out"))},
        attrs={"prediction_path": "closed form", "predicted_rheobase": 85.0})
    if prediction:
        grid = np.linspace(0.0, 300.0, 60)
        dataset = dataset.assign_coords(prediction_current=("prediction_current", grid, {"units": "pA"}))
        dataset["predicted_rate"] = ("prediction_current", 0.2 * np.clip(grid - 80.0, 0, None), {"units": "Hz"})
    return dataset, counts, duration


def test_fitting_figure_draws_recorded_rates_with_intervals_under_the_fit_and_prediction(check):
    dataset, counts, duration = _features()
    figures = plot_fitting({"cellA_lif_parameters": xr.Dataset(), "cellA_lif_features": dataset}, [])
    assert [stem for stem, _, _ in figures] == ["cellA_lif_fi"]
    (axis,) = figures[0][1].axes
    # the error bars are the Garwood interval of each step's count over its duration
    container = axis.containers[0]
    segments = container.lines[2][0].get_segments()
    low, high = poisson_interval(counts[::2])
    assert np.allclose([segment[0][1] for segment in segments], low / duration[::2])
    assert np.allclose([segment[1][1] for segment in segments], high / duration[::2])
    assert any("replayed stimulus (F1)" in line.get_label() for line in axis.get_lines())
    check(figures, ["predicted f-I"], data_words=("recorded",))


def test_fitting_figure_draws_the_derived_threshold_when_no_rate_is_predicted(check):
    dataset, _, _ = _features(prediction=False)
    dataset.attrs["prediction_path"] = "derived threshold"
    check(plot_fitting({"cellA_hh_features": dataset}, []), ["derived fold"], data_words=("recorded",))


def test_poisson_interval_matches_the_garwood_table():
    # Garwood (1936): 95 % limits for 0, 1 and 10 observed events
    low, high = poisson_interval([0, 1, 10])
    assert low == pytest.approx([0.0, 0.0253, 4.795], abs=1e-3)
    assert high == pytest.approx([3.689, 5.572, 18.39], abs=1e-2)
