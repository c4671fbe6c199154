"""Figure of the generic ``sweep`` measurement: the swept f-I curve with each declared expected value.

Data as in :mod:`neurophase.figures.style` (trials faint, trial mean with its 95 % Student-t
interval); the user's declared expectations in red where they live on the rate-input plane
(``rheobase``: a vertical line with its tolerance band; ``rate_at:<input>``: a marker with its
tolerance as an error bar; ``max_rate``: a horizontal line with its band); fitted activations
dashed and named as fits. Verdicts on other quantities (fitted parameters, exponents, p_fire)
appear in the verdict figure.
"""

from __future__ import annotations

from neurophase.figures.style import FIT, PREDICTION, pyplot, trials_and_interval

__all__ = ["plot_sweep", "declared_quantity"]


def declared_quantity(verdict):
    """``(name, argument)`` of a sweep verdict's quantity, e.g. ``("rate_at", "130 pA")``.

    >>> from types import SimpleNamespace
    >>> declared_quantity(SimpleNamespace(quantity="rate_at:130 pA (Hz)"))
    ('rate_at', '130 pA')
    """
    text = verdict.quantity.rsplit(" (", 1)[0].strip()
    name, _, argument = text.partition(":")
    return name, argument.strip()


def plot_sweep(datasets, verdicts):
    """The sweep's rate against input with every declared expectation that lies on that plane."""
    from neurophase.units import parse_quantity, to_magnitude

    plt = pyplot()
    figures = []
    for name, data in datasets.items():
        unit = data["input"].attrs.get("units", "")
        levels = data["input"].values
        rate = data["rate"]
        extra = [dim for dim in rate.dims if dim not in ("input", "trial")]
        if extra:  # one curve per extra grid point would hide the verdicts: show the first
            rate = rate.isel({dim: 0 for dim in extra})
        per_trial = rate.transpose("input", "trial").values if "trial" in rate.dims else rate.values[:, None]
        figure, axis = plt.subplots(figsize=(6.4, 4.2))
        trials_and_interval(axis, levels, per_trial, "simulated, trial mean (95 % CI)")
        for variable in data.data_vars:
            if variable.startswith("fit_") and data[variable].dims == ("input",):
                axis.plot(levels, data[variable].values, **{**FIT, "color": None},
                          label=f"{variable.removeprefix('fit_')} fitted (an estimate)")
        shown = 0
        for verdict in verdicts:
            quantity, argument = declared_quantity(verdict)
            tolerance = verdict.tolerance or 0.0
            colour = "tab:red"
            label = f"{verdict.id}: expected {verdict.expected:.4g}" + (f" +- {tolerance:.3g}" if tolerance else "")
            if quantity == "rheobase":
                axis.axvline(verdict.expected, **PREDICTION, ls="--", label=f"{label} {unit}")
                if tolerance:
                    axis.axvspan(verdict.expected - tolerance, verdict.expected + tolerance, color="tab:red",
                                 alpha=0.1, zorder=0)
            elif quantity == "max_rate":
                axis.axhline(verdict.expected, **PREDICTION, ls="--", label=f"{label} Hz")
                if tolerance:
                    axis.axhspan(verdict.expected - tolerance, verdict.expected + tolerance, color="tab:red",
                                 alpha=0.1, zorder=0)
            elif quantity == "rate_at":
                level = float(to_magnitude(parse_quantity(argument), unit))
                axis.errorbar([level], [verdict.expected], yerr=[[tolerance], [tolerance]], fmt="D", ms=6,
                              mfc="none", color=colour, capsize=4, zorder=4, label=f"{label} Hz at {argument}")
            else:
                continue
            shown += 1
        axis.set_xlabel(f"input ({unit})")
        axis.set_ylabel(f"rate ({data['rate'].attrs.get('units', 'Hz')})")
        axis.set_title(str(data.attrs.get("model", name)), fontsize=9)
        axis.legend(fontsize=6)
        figure.tight_layout()
        figures.append((f"{name}_rate", figure,
                        "The swept f-I curve (trials faint, mean with 95 % interval) with each declared expected "
                        "value in red (tolerance shaded or as an error bar): the data should meet each red mark "
                        f"within its tolerance ({shown} declared value(s) drawn here; the others are in the verdict "
                        "figure)."))
    return figures
