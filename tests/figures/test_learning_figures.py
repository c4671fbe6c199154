"""C6 figures render from small datasets shaped like measure_learning's output; no image comparison."""

import numpy as np
import xarray as xr

from neurophase.check.verdicts import make_verdict
from neurophase.figures import learning

RNG = np.random.default_rng(3)


def _datasets():
    T = np.array([1.0, 0.3, 0.1])
    limit = xr.Dataset({name: ("param_T", np.exp(-1 / T) * scale, {"long_name": name})
                        for name, scale in (("difference_J0", 1.0), ("difference_coupled", 1.0), ("bound_J0", 2.0),
                                            ("delta_rule_difference", 0.0 * T + 1.0))},
                       coords={"param_T": T})
    bound = np.array([600.0, 900.0, 1300.0])
    perceptron = xr.Dataset({"novikoff_bound": ("trial", bound), "mistakes": ("trial", [8.0, 12.0, 9.0]),
                             "rosenblatt_mistakes": ("trial", [8.0, 12.0, 9.0]),
                             "low_T_mistakes": ("trial", [8.0, 12.0, 9.0])}, coords={"trial": [0, 1, 2]})
    names = ["derived", "derived_J0", "logistic", "relu"]
    accuracy = 0.9 + RNG.normal(0, 0.01, (4, 5))
    single = xr.Dataset({"test_accuracy": (("activation", "trial"), accuracy)},
                        coords={"activation": names, "trial": np.arange(5)})
    return {"limit": limit, "perceptron": perceptron, "single_separable": single}


def test_accuracy_figure_draws_differences_against_zero_and_the_tolerance(check):
    verdicts = [make_verdict(f"C6-single-vs-{name}", "d", 0.0, 0.0, -0.01, 0.01, tolerance=0.02, rule="tolerance")
                for name in ("logistic", "relu")]
    figures = {stem: (stem, figure, caption) for stem, figure, caption in learning.plot_learning(_datasets(), verdicts)}
    assert set(figures) == {"limit", "perceptron", "accuracy"}
    check([figures["accuracy"]], ["prediction: no difference"], data_words=("seeds",))
    (axis,) = figures["accuracy"][1].axes
    # the rivals are compared, not the derived unit with itself; the tolerance band is +-0.02
    assert [label.get_text() for label in axis.get_xticklabels()] == ["derived - logistic", "derived - relu"]
    band = next(patch for patch in axis.patches if patch.get_label().startswith("tolerance"))
    low, high = band.get_extents().transformed(axis.transData.inverted()).intervaly
    assert np.allclose([low, high], [-0.02, 0.02])


def test_perceptron_and_limit_figures_draw_their_bounds():
    figures = {stem: figure for stem, figure, _ in learning.plot_learning(_datasets(), [])}
    (axis,) = figures["perceptron"].axes
    bound = next(line for line in axis.get_lines() if line.get_label().startswith("Novikoff bound"))
    x, y = bound.get_data()
    assert np.allclose(x, y)  # updates = (R/gamma)^2
    assert "(updates)" in axis.get_xlabel() and "(updates)" in axis.get_ylabel()
    labels = [line.get_label() for line in figures["limit"].axes[0].get_lines()]
    assert "bound_J0" in labels and "difference_J0" in labels
