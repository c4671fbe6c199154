"""Figures of the coarse-grained membrane (THEORY.md 6a) and of N1/N2.

Functions
---------
membrane_figures
    One derived membrane (a ``derived_<model>`` Dataset): self-consistent branches against the
    input with the folds (stable solid, unstable dashed) and the potential landscape U(m; I).
table_figures
    N2 (``coarse_graining_table``): the branches of every model and the derived table.
threshold_figures
    N1 (``coarse_graining_threshold``): branches with the measured thresholds overlaid,
    strength-duration curves, and predicted against measured thresholds.
table_rows
    The N2 table (plain numbers, units in the keys) from ``derived_<model>`` datasets.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["membrane_figures", "table_figures", "threshold_figures", "draw_branches", "draw_potential",
           "table_rows"]


def draw_branches(axis, dataset, title=None):
    """Branches m(I) (stable solid, unstable dashed) and the folds of one derived dataset."""
    inputs = dataset["input"].values
    unit = dataset["input"].attrs["units"]
    m = dataset["branch_m"].values
    stable = dataset["branch_stable"].values
    for column in range(m.shape[1]):
        for flag, style in ((1.0, "-"), (0.0, "--")):
            values = np.where(stable[:, column] == flag, m[:, column], np.nan)
            # a column holds the k-th root, which changes branch where roots appear or vanish:
            # break the line where it jumps
            with np.errstate(all="ignore"):
                jump = np.abs(np.diff(np.log(values))) > 0.3
            values = values.copy()
            values[1:][jump] = np.nan
            axis.plot(inputs, values, style, color="tab:blue" if flag else "tab:red", lw=1.4,
                      label=None)
    axis.plot([], [], "-", color="tab:blue", label="stable branch (derived)")
    axis.plot([], [], "--", color="tab:red", label="unstable branch (saddle, derived)")
    folds = dataset["fold_input"].values
    inside = (folds >= inputs.min()) & (folds <= inputs.max())
    if inside.any():
        axis.plot(folds[inside], dataset["fold_m"].values[inside], "kx", ms=8, label="fold (loop gain 1)")
    axis.set_yscale("log")
    axis.set_xlabel(f"injected drive I ({unit})")
    axis.set_ylabel(f"order parameter: open probability of {dataset.attrs.get('order_parameter', 'm')}")
    axis.set_title(title or dataset.attrs.get("model_name", ""), fontsize=9)


def draw_potential(axis, dataset, count=4):
    """U(m; I) at ``count`` inputs from the holding input to the fold (each shifted to 0 at rest)."""
    inputs = dataset["input"].values
    unit = dataset["input"].attrs["units"]
    m = dataset["m"].values
    holding = float(dataset["rest_input"])
    folds = dataset["fold_input"].values[dataset["fold_upper"].values > 0.5]
    above = folds[folds > holding]
    end = above.min() if above.size else inputs.max()
    chosen = np.linspace(max(holding, inputs.min()), min(end, inputs.max()), count)
    shown = []
    for level in chosen:
        index = int(np.argmin(np.abs(inputs - level)))
        potential = dataset["potential"].values[index]
        rest = dataset["rest_branch"].values[index]
        saddle = dataset["saddle_branch"].values[index]
        offset = np.interp(rest, m, potential) if np.isfinite(rest) else 0.0
        line, = axis.plot(m, potential - offset, lw=1.3, label=f"I = {inputs[index]:.3g} {unit}")
        for point, marker in ((rest, "o"), (saddle, "s")):
            if np.isfinite(point):
                axis.plot(point, np.interp(point, m, potential) - offset, marker, color=line.get_color(), ms=5)
        shown.append(potential - offset)
    # zoom on the barrier: rest to beyond the saddle, and a few barrier heights
    rests = dataset["rest_branch"].values
    saddles = dataset["saddle_branch"].values
    low = np.nanmin(rests) / 1.5 if np.isfinite(rests).any() else m.min()
    high = min(1.5 * np.nanmax(saddles), 0.99) if np.isfinite(saddles).any() else m.max()
    axis.set_xscale("log")
    axis.set_xlim(low, high)
    barrier = np.nanmax(np.abs(dataset["barrier"].values)) if np.isfinite(dataset["barrier"].values).any() else np.nan
    if np.isfinite(barrier) and barrier > 0:
        axis.set_ylim(-2.5 * barrier, 2.0 * barrier)
    axis.set_xlabel(f"order parameter: open probability of {dataset.attrs.get('order_parameter', 'm')}")
    axis.set_ylabel(f"U(m; I) - U(rest) ({dataset['potential'].attrs['units']})")
    axis.set_title(f"{dataset.attrs.get('model_name', '')}: potential (o rest, s saddle)", fontsize=9)
    axis.legend(fontsize=7)


def membrane_figures(dataset):
    """Branches with folds, and the potential landscape, of one derived membrane."""
    name = dataset.attrs.get("model_name", "model")
    figure, axis = plt.subplots(figsize=(5.6, 4))
    draw_branches(axis, dataset)
    axis.legend(fontsize=7)
    figure.tight_layout()
    branches = (f"branches_{name}", figure,
                f"{name}: every self-consistent state m = m_inf(V*(m, I)) of the derived membrane (slow gates "
                f"at rest); "
                "the rest branch ends at the fold (x), where the spike threshold of the fast subsystem lies.")
    figure, axis = plt.subplots(figsize=(5.6, 4))
    draw_potential(axis, dataset)
    figure.tight_layout()
    landscape = (f"potential_{name}", figure,
                 f"{name}: potential U(m; I) of the reduced dynamics dm/dt = -dU/dm for inputs from the holding "
                 "input to the fold; the barrier between rest (o) and saddle (s) closes at the fold.")
    return [branches, landscape]


def table_rows(datasets):
    """The N2 table from ``derived_<model>`` datasets: list of dicts (plain numbers, units in keys)."""
    rows = []
    for key, dataset in datasets.items():
        if not key.startswith("derived_"):
            continue
        folds = dataset["fold_input"].values
        upper = dataset["fold_upper"].values > 0.5
        rows.append({
            "model": dataset.attrs.get("model_name", key[8:]),
            "gate": f"{dataset.attrs.get('order_parameter')} ({dataset.attrs.get('order_parameter_kind')})",
            "T_eff (mV)": float(dataset["temperature"]),
            "V_half (mV)": float(dataset["v_half"]),
            "J_eff at rest (mV)": float(dataset["coupling_rest"]),
            "h at holding (mV)": float(dataset["field_rest"]),
            "max loop gain": float(dataset["loop_gain_max_rest"]),
            "holding": f"{float(dataset['rest_input']):g} {dataset['rest_input'].attrs['units']}",
            "rest (mV)": float(dataset["rest_voltage"]),
            "saddle (mV)": float(dataset["saddle_voltage_rest"]),
            "folds": "; ".join(f"{value:.4g} {dataset['fold_input'].attrs['units']} at {voltage:.4g} mV"
                               f" ({'rest ends' if is_upper else 'excited ends'})"
                               for value, voltage, is_upper in zip(folds, dataset["fold_voltage"].values, upper)),
        })
    return rows


def _derived(datasets):
    return {key[8:]: value for key, value in datasets.items() if key.startswith("derived_")}


def table_figures(datasets, verdicts):
    """N2: the branches of every model in one grid, and the derived table as a figure."""
    derived = _derived(datasets)
    figures = []
    if not derived:
        return figures
    columns = 3
    rows = int(np.ceil(len(derived) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False)
    for axis, (name, dataset) in zip(axes.ravel(), derived.items()):
        draw_branches(axis, dataset, title=name)
    for axis in axes.ravel()[len(derived):]:
        axis.axis("off")
    axes.ravel()[0].legend(fontsize=6)
    figure.tight_layout()
    figures.append(("branches", figure,
                    "N2: self-consistent branches m = m_inf(V*(m, I)) of each library model's derived membrane "
                    "(stable solid, unstable dashed, folds x). Two folds = an ordered, bistable fast subsystem."))
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False)
    for axis, (name, dataset) in zip(axes.ravel(), derived.items()):
        draw_potential(axis, dataset)
    for axis in axes.ravel()[len(derived):]:
        axis.axis("off")
    figure.tight_layout()
    figures.append(("potentials", figure,
                    "N2: potential landscape U(m; I) of the reduced one-dimensional dynamics for inputs from the "
                    "holding input up to the fold: the barrier between rest (o) and saddle (s) closes at the fold."))
    rows_data = table_rows(datasets)
    keys = ["model", "gate", "T_eff (mV)", "J_eff at rest (mV)", "h at holding (mV)", "max loop gain",
            "rest (mV)", "saddle (mV)"]
    cells = [[row[key] if isinstance(row[key], str) else f"{row[key]:.4g}" for key in keys] for row in rows_data]
    figure, axis = plt.subplots(figsize=(12, 0.45 * len(cells) + 1.0))
    axis.axis("off")
    table = axis.table(cellText=cells, colLabels=keys, loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.scale(1, 1.3)
    figures.append(("table", figure,
                    "N2: derived mean-field parameters (nothing fitted to firing): temperature T_eff = 2 k_V, coupling "
                    "J_eff = dV*/dM at rest, field h = V*(M=0) - V_half, largest loop gain (> 1: ordered), rest "
                    "and saddle."))
    return figures


def threshold_figures(datasets, verdicts):
    """N1: branches with measured thresholds, strength-duration curves, predicted vs measured."""
    derived = _derived(datasets)
    figures = []
    names = [name for name in derived if f"thresholds_{name}" in datasets]
    if not names:
        return figures
    columns = 3
    rows = int(np.ceil(len(names) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False)
    for axis, name in zip(axes.ravel(), names):
        dataset = derived[name]
        rheobase = datasets[f"rheobase_{name}"]
        holding = float(rheobase.attrs.get("holding_input", 0.0))
        draw_branches(axis, dataset, title=name)
        full = float(rheobase["threshold"].sel(variant="full").values[0]) + holding
        frozen = float(rheobase["threshold"].sel(variant="frozen").values[0]) + holding
        axis.axvline(full, color="tab:green", lw=1.5, label="full model: long-step rheobase (measured)")
        axis.axvline(frozen, color="0.5", lw=1, ls=":", label="frozen subsystem: long-step threshold (simulated)")
        low, high = axis.get_xlim()
        axis.set_xlim(min(low, full - 0.1 * abs(full - low)), max(high, full + 0.1 * abs(high - full)))
    for axis in axes.ravel()[len(names):]:
        axis.axis("off")
    axes.ravel()[0].legend(fontsize=6)
    figure.tight_layout()
    figures.append(("branches_thresholds", figure,
                    "N1: derived branches and fold against the input, with the full model's measured long-step "
                    "rheobase (green) and the frozen subsystem's simulated threshold (dotted); the fold "
                    "predicts both."))

    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False)
    for axis, name in zip(axes.ravel(), names):
        pulses = datasets[f"thresholds_{name}"]
        unit = pulses["threshold"].attrs["units"]
        durations = pulses["duration"].values
        for variant, colour, label in (("full", "tab:green", "full model (measured)"),
                                       ("frozen", "0.4", "frozen fast subsystem (simulated)")):
            values = pulses["threshold"].sel(variant=variant).values
            low = pulses["threshold_low"].sel(variant=variant).values
            high = pulses["threshold_high"].sel(variant=variant).values
            axis.errorbar(durations, values, yerr=[values - low, high - values], fmt="o", color=colour,
                          label=label, capsize=2)
        fine = np.geomspace(durations.min(), durations.max(), 50)
        kick = pulses["predicted_kick_threshold"].values * durations
        axis.plot(fine, np.nanmean(kick) / fine, "-", color="tab:blue", label="C (V_saddle - V_rest)/d (derived)")
        fold = float(pulses.attrs.get("fold_up_above_holding", np.nan))
        if np.isfinite(fold) and fold > 0:
            axis.axhline(fold, color="k", ls="--", lw=1, label="fold current (derived)")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("pulse duration d (ms)")
        axis.set_ylabel(f"threshold amplitude above holding ({unit})")
        axis.set_title(name, fontsize=9)
    for axis in axes.ravel()[len(names):]:
        axis.axis("off")
    axes.ravel()[0].legend(fontsize=6)
    figure.tight_layout()
    figures.append(("strength_duration", figure,
                    "N1: pulse threshold against duration (bars: final bisection bracket) for the full model and its "
                    "frozen fast subsystem, with the derived kick-to-saddle line and the derived fold current."))

    figure, axes = plt.subplots(1, 3, figsize=(13.5, 4.2))
    rows_v = [v for v in verdicts if v.id.startswith("N1-voltage-")]
    axis = axes[0]
    for verdict in rows_v:
        colour = "tab:green" if verdict.holds else "tab:red"
        error = [[max(verdict.measured - verdict.ci_low, 0) if np.isfinite(verdict.ci_low) else 0],
                 [max(verdict.ci_high - verdict.measured, 0) if np.isfinite(verdict.ci_high) else 0]]
        axis.errorbar([verdict.expected], [verdict.measured], yerr=error, fmt="o", color=colour, capsize=2)
        axis.annotate(verdict.id[len("N1-voltage-"):], (verdict.expected, verdict.measured), fontsize=6,
                      xytext=(3, 3), textcoords="offset points")
    finite = [x for v in rows_v for x in (v.expected, v.measured) if np.isfinite(x)]
    if finite:
        line = np.linspace(0.0, 1.05 * max(finite), 10)
        axis.fill_between(line, 0.8 * line, 1.2 * line, color="0.85", label="20 % tolerance")
        axis.plot(line, line, "k-", lw=0.8, label="measured = derived")
    axis.set_xlabel("derived: V_saddle - V_rest (mV)")
    axis.set_ylabel("measured: escape voltage - V_rest (mV)")
    axis.legend(fontsize=7)
    for axis, (prefix, label) in zip(axes[1:], (("N1-pulse-", "brief-pulse threshold: measured / derived"),
                                                ("N1-rheobase-", "rheobase: measured / derived fold current"))):
        rows_v = [v for v in verdicts if v.id.startswith(prefix)]
        for row, verdict in enumerate(rows_v):
            scale = abs(verdict.expected) if verdict.expected else np.nan
            ratio = verdict.measured / scale
            colour = "tab:green" if verdict.holds else "tab:red"
            error = [[max(ratio - verdict.ci_low / scale, 0)], [max(verdict.ci_high / scale - ratio, 0)]]
            axis.errorbar([ratio], [row], xerr=error, fmt="o", color=colour, capsize=2)
        axis.axvspan(0.8, 1.2, color="0.85", label="20 % tolerance")
        axis.axvline(1.0, color="k", lw=0.8, label="measured = derived")
        axis.set_yticks(range(len(rows_v)))
        axis.set_yticklabels([v.id[len(prefix):] for v in rows_v], fontsize=7)
        axis.set_xscale("log")
        axis.set_xlabel(label)
        axis.legend(fontsize=7)
    figure.tight_layout()
    figures.append(("predicted_vs_measured", figure,
                    "N1: measured thresholds of the full models against the derived predictions (green: within the "
                    "20 % tolerance fixed before measuring, red: outside); bars are the bisection brackets."))
    return figures
