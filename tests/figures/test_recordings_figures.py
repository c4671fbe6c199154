"""The recordings figure renders from a small cell Dataset shaped like analyse_cell's output (with
the fitted curves it stores) and draws the recorded steps with intervals and the fitted derived form."""

import numpy as np
import xarray as xr

from neurophase.check.verdicts import make_verdict
from neurophase.figures.recordings import plot_recordings

RNG = np.random.default_rng(4)


def test_recordings_figure_draws_steps_and_fitted_candidates(check):
    current = np.linspace(0, 300, 7)
    truth = 0.3 * np.clip(current - 60, 0, None)
    rate = truth[:, None] + RNG.normal(0, 2, (7, 3))
    qc = np.ones((7, 3), int)
    qc[2, 1] = 0  # one excluded step
    grid = np.linspace(0, 300, 200)
    cell = xr.Dataset({"rate": (("input", "trial"), rate, {"units": "Hz"}),
                       "qc_pass": (("input", "trial"), qc),
                       "fit_derived": ("fit_input", 0.3 * np.clip(grid - 60, 0, None), {"units": "Hz"}),
                       "fit_relu": ("fit_input", 0.3 * np.clip(grid - 60, 0, None), {"units": "Hz"}),
                       "onset_power_law": ("onset_input", 2 * np.sqrt(grid[grid > 70] - 60), {"units": "Hz"})},
                      coords={"input": ("input", current, {"units": "pA"}), "fit_input": grid,
                              "onset_input": grid[grid > 70]},
                      attrs={"fit_candidates": ["derived", "relu"], "fit_heldout_rmse": [2.0, 2.1]})
    verdicts = [make_verdict("C1-cellA", "p", 0.5, 0.55, 0.4, 0.7)]
    figures = plot_recordings({"cellA": cell}, verdicts)
    check(figures, ["derived mean-field activation"], data_words=("recorded",))
    (axis,) = figures[0][1].axes
    assert any("p = 0.55" in line.get_label() for line in axis.get_lines())
    # the excluded step is not drawn among the trials
    trials = next(line for line in axis.get_lines() if line.get_label().startswith("recorded steps"))
    assert len(trials.get_xdata()) == qc.sum()
