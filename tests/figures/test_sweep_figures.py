"""The sweep figure renders from a small Dataset shaped like measure_sweep's output and draws each
declared expected value that lies on the rate-input plane; no image comparison."""

import numpy as np
import xarray as xr

from neurophase.check.verdicts import make_verdict
from neurophase.figures.sweep import declared_quantity, plot_sweep


def test_sweep_figure_draws_the_declared_values(check):
    levels = np.linspace(0, 300, 13)
    rate = np.where(levels >= 75, 0.8 * (levels - 50), 0.0)
    data = xr.Dataset({"rate": (("input", "trial"), rate[:, None] + np.array([[-1.0, 1.0]]), {"units": "Hz"}),
                       "fit_logistic": ("input", rate, {"units": "Hz"})},
                      coords={"input": ("input", levels, {"units": "pA"})})
    verdicts = [make_verdict("rheobase", "rheobase (pA)", 65.0, 75.0, 50.0, 75.0, tolerance=15.0, rule="tolerance"),
                make_verdict("rate-150", "rate_at:150 pA (Hz)", 80.0, 80.0, 78.0, 82.0, tolerance=1.0,
                             rule="tolerance"),
                make_verdict("theta", "fit.logistic.theta (pA)", 100.0, 101.0, 99.0, 103.0, tolerance=5.0,
                             rule="tolerance")]
    figures = plot_sweep({"sweep": data}, verdicts)
    check(figures, ["expected"], data_words=("simulated",))
    (axis,) = figures[0][1].axes
    marker = next(c for c in axis.containers if c.get_label().startswith("rate-150"))
    assert marker.lines[0].get_xdata()[0] == 150.0 and marker.lines[0].get_ydata()[0] == 80.0
    assert "2 declared value(s)" in figures[0][2]  # the fitted-parameter verdict is left to the verdict figure
    assert declared_quantity(verdicts[2]) == ("fit.logistic.theta", "")
