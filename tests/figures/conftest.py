"""Shared check of the figure tests: data with intervals, a labelled prediction, units on the axes."""

import matplotlib
import pytest
from matplotlib.container import ErrorbarContainer

matplotlib.use("Agg")


def check_figures(figures, prediction_words, data_words=("Brian2", "recorded", "simulated", "measured")):
    """Each figure: a caption, an error-bar container (data with intervals), a line whose label
    names the prediction, a legend entry naming the data, and axis labels with a unit in parentheses."""
    import matplotlib.pyplot as plt

    assert figures
    for stem, figure, caption in figures:
        assert caption and stem
        labelled = [axis for axis in figure.axes if axis.get_xlabel()]
        assert labelled, stem
        axes = figure.axes  # panels sharing an x axis label only the bottom one
        assert any(isinstance(c, ErrorbarContainer) for axis in axes for c in axis.containers), stem
        lines = [line.get_label() for axis in axes for line in axis.get_lines()]
        assert any(any(word in label for word in prediction_words) for label in lines), (stem, lines)
        legend = [text.get_text() for axis in axes if axis.get_legend() for text in axis.get_legend().get_texts()]
        assert any(any(word in label for word in data_words) for label in legend), (stem, legend)
        assert any(any(word in label for word in prediction_words) for label in legend), (stem, legend)
        for axis in figure.axes:  # every axis label carries its unit (panels in a row may share the y label)
            for label in (axis.get_xlabel(), axis.get_ylabel()):
                assert not label or "(" in label, (stem, label)
        assert any(axis.get_ylabel() for axis in labelled), stem
        plt.close(figure)


@pytest.fixture
def check():
    return check_figures


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure a test leaves open (figures not passed through the check)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
