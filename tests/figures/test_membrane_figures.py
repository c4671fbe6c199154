"""The membrane figures render from small datasets and draw both the data and the prediction.

No image comparison: each figure must hold an error-bar container (the data with intervals), a
line labelled as the closed-form prediction, and axis labels that carry a unit in parentheses.
"""

import numpy as np
import pytest
import xarray as xr
from matplotlib.container import ErrorbarContainer

from neurophase.check.verdicts import make_verdict
from neurophase.figures import membrane
from neurophase.meanfield import critical_isotherm, spontaneous_magnetisation
from neurophase.plot import summary_figure, verdict_figure

RNG = np.random.default_rng(0)


def _noisy(values, trials=3, scale=0.01):
    values = np.asarray(values, float)
    return values[..., None] * (1 + scale * RNG.standard_normal(values.shape + (trials,)))


def _check(figures, prediction_words):
    assert figures
    for _, figure, caption in figures:
        assert caption
        axes = [axis for axis in figure.axes if axis.get_xlabel()]
        assert axes
        assert any(isinstance(c, ErrorbarContainer) for axis in axes for c in axis.containers)
        labels = [line.get_label() for axis in axes for line in axis.get_lines()]
        assert any(any(word in label for word in prediction_words) for label in labels), labels
        for axis in axes:
            assert "(" in axis.get_xlabel() and "(" in axis.get_ylabel(), (axis.get_xlabel(), axis.get_ylabel())


def test_independent_channels_figure():
    field = np.linspace(-2, 2, 9)
    T = np.array([0.5, 1.0])
    mean = np.tanh(field[None, :] / T[:, None])
    stats = xr.Dataset({"mean": (("param_T", "input", "trial"), _noisy(mean)),
                        "variance": (("param_T", "input", "trial"), _noisy((1 - mean**2) / 1000))},
                       coords={"param_T": T, "input": field}, attrs={"N": 1000})
    _check(membrane.plot_independent_channels({"independent_statistics": stats}, []), ["logistic"])


def test_critical_behaviour_figure():
    T = np.array([0.8, 0.9, 0.97, 1.0, 1.03, 1.2, 1.5, 2.0])
    mean_abs = np.where(T < 1, spontaneous_magnetisation(np.minimum(T, 0.999), 1.0), 0.05)
    chi = 1 / np.maximum(np.abs(T - 1), 0.2)
    relaxation = np.where(T > 1.05, 1 / (1 - 1 / np.maximum(T, 1.05)), np.nan)
    stats = xr.Dataset({"mean_abs": (("param_T", "trial"), _noisy(mean_abs)),
                        "susceptibility": (("param_T", "trial"), _noisy(chi)),
                        "variance": (("param_T", "trial"), _noisy(T * chi / 1000)),
                        "relaxation_time": (("param_T", "trial"), _noisy(relaxation))},
                       coords={"param_T": T}, attrs={"N": 1000, "tau0_ms": 1.0, "critical_temperature": 1.0})
    fields = np.array([0.01, 0.04, 0.16])
    isotherm = xr.Dataset({"mean": (("input", "trial"), _noisy(critical_isotherm(fields, 1.0)))},
                          coords={"input": fields})
    verdicts = [make_verdict("P3", "gamma", 1.0, 0.95, 0.9, 1.0, tolerance=0.15, rule="tolerance")]
    _check(membrane.plot_critical_behaviour({"critical_statistics": stats, "isotherm_statistics": isotherm},
                                            verdicts), ["Curie-Weiss"])


def test_quench_and_lattice_figures():
    stimulus = np.linspace(1.0, 1.9, 6)
    quench = xr.Dataset({"ordered_time_tau0_1ms": (("stimulus", "trial"), _noisy(500 * np.maximum(0, stimulus - 1)))},
                        coords={"stimulus": stimulus}, attrs={"theta_expected": 1.0, "slope_expected_ms": 500.0})
    _check(membrane.plot_quench({"quench_ordered_time": quench}, []), ["ReLU"])
    from neurophase.meanfield import onsager_magnetisation

    T = np.array([1.8, 2.0, 2.2])
    lattice = xr.Dataset({"mean_abs": (("param_T", "trial"), _noisy(onsager_magnetisation(T, 1.0)))},
                         coords={"param_T": T})
    _check(membrane.plot_lattice({"lattice_statistics": lattice}, []), ["Onsager"])


def test_verdict_plots_never_divide_by_the_expected_value():
    # expected 0 (as for many identity checks): drawn in units of the tolerance, finite, no warning
    verdicts = [make_verdict("zero", "q", 0.0, 0.01, 0.0, 0.02, tolerance=0.02, rule="tolerance"),
                make_verdict("fails", "q", 1.0, 2.0, 1.9, 2.1, tolerance=0.1, rule="tolerance"),
                make_verdict("interval-only", "q", 0.0, 0.1, -0.1, 0.3)]
    with np.errstate(all="raise"):
        figure = verdict_figure(verdicts)
        summary = summary_figure(verdicts)
    (axis,) = figure.axes
    assert [label.get_text() for label in axis.get_yticklabels()] == ["zero", "fails", "interval-only"]
    centres = [container.lines[0].get_xdata()[0] for container in axis.containers]
    assert centres == pytest.approx([0.5, 8.0, 0.5])  # (0.01 - 0)/0.02, clipped 10, 0.1/0.2
    assert [ax.get_title(loc="left") for ax in summary.axes] == ["hold (2)", "do not hold (1)"]
