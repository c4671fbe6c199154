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
pulse_figures
    N3 and N5 (``coarse_graining_pulse``): firing probability against amplitude per channel
    number with the derived curves, the width against N (log-log) with the derived line, the
    collapse in ``(A - A*) sqrt(N)``, and the held-out Brier scores.
escape_figures
    N4 (``coarse_graining_escape``): ln(escape rate) against N with the diffusion (Kramers),
    WKB and exact-chain predictions, and the two barriers against the drive.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from neurophase.figures.style import binomial_interval, finished, label_axis  # noqa: E402

__all__ = ["membrane_figures", "table_figures", "threshold_figures", "draw_branches", "draw_potential",
           "table_rows", "pulse_figures", "escape_figures"]


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
    axis.set_ylabel(f"order parameter m: open probability of {dataset.attrs.get('order_parameter', 'm')} (1)")
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
    axis.set_xlabel(f"order parameter m: open probability of {dataset.attrs.get('order_parameter', 'm')} (1)")
    axis.set_ylabel(f"U(m; I) - U(rest) ({dataset['potential'].attrs['units']})")
    axis.set_title(f"{dataset.attrs.get('model_name', '')}: potential (o rest, s saddle)", fontsize=9)
    axis.legend(fontsize=7)


def membrane_figures(dataset):
    """Branches with folds, and the potential landscape, of one derived membrane."""
    name = dataset.attrs.get("model_name", "model")
    figure, axis = plt.subplots(figsize=(5.6, 4))
    draw_branches(axis, dataset)
    axis.legend(fontsize=7)
    branches = finished(figure, f"branches_{name}",
                        f"{name}: every self-consistent state m = m_inf(V*(m, I)) of the derived membrane (slow gates "
                        "at rest); the rest branch ends at the fold (x), where the spike threshold of the fast "
                        "subsystem lies.")
    figure, axis = plt.subplots(figsize=(5.6, 4))
    draw_potential(axis, dataset)
    landscape = finished(figure, f"potential_{name}",
                         f"{name}: potential U(m; I) of the reduced dynamics dm/dt = -dU/dm for inputs from the "
                         "holding input to the fold; the barrier between rest (o) and saddle (s) closes at the fold.")
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


def _panels(count, columns=3, width=4.2, height=3.4, **options):
    """A figure with room for ``count`` panels, ``columns`` to a row, each ``width`` x ``height``
    inches; ``axes`` always 2-D (``options`` go to ``plt.subplots``, e.g. ``sharey``)."""
    rows = int(np.ceil(count / columns))
    return plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False, **options)


def _panels_finished(figure, axes, used, stem, caption, **legend):
    """Hide the panels of :func:`_panels` after the first ``used``, draw the legend on the first
    (with ``legend`` options; none without them) and return the figure's entry."""
    for axis in axes.ravel()[used:]:
        axis.axis("off")
    if legend:
        axes.ravel()[0].legend(**legend)
    return finished(figure, stem, caption)


def _derived(datasets):
    return {key[8:]: value for key, value in datasets.items() if key.startswith("derived_")}


def table_figures(datasets, verdicts):
    """N2: the branches of every model in one grid, and the derived table as a figure."""
    derived = _derived(datasets)
    figures = []
    if not derived:
        return figures
    figure, axes = _panels(len(derived))
    for axis, (name, dataset) in zip(axes.ravel(), derived.items()):
        draw_branches(axis, dataset, title=name)
    figures.append(_panels_finished(
        figure, axes, len(derived), "branches",
        "N2: self-consistent branches m = m_inf(V*(m, I)) of each library model's derived membrane "
        "(stable solid, unstable dashed, folds x). Two folds = an ordered, bistable fast subsystem.", fontsize=6))
    figure, axes = _panels(len(derived))
    for axis, (name, dataset) in zip(axes.ravel(), derived.items()):
        draw_potential(axis, dataset)
    figures.append(_panels_finished(
        figure, axes, len(derived), "potentials",
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
    figure, axes = _panels(len(names))
    for axis, name in zip(axes.ravel(), names):
        dataset = derived[name]
        rheobase = datasets[f"rheobase_{name}"]
        holding = float(rheobase.attrs.get("holding_input", 0.0))
        draw_branches(axis, dataset, title=name)
        # the thresholds at the height of the fold where rest ends, with their bisection brackets
        upper = dataset["fold_upper"].values > 0.5
        height = (float(dataset["fold_m"].values[upper][0]) if upper.any()
                  else float(np.nanmedian(dataset["branch_m"].values)))
        full = float(rheobase["threshold"].sel(variant="full").values[0]) + holding
        for variant, colour, label, factor in (
                ("full", "tab:green", "full model: long-step rheobase (measured, bracket)", 1.0),
                ("frozen", "0.4", "frozen subsystem: long-step threshold (simulated, bracket)", 1.25)):
            value = float(rheobase["threshold"].sel(variant=variant).values[0]) + holding
            low_b = float(rheobase["threshold_low"].sel(variant=variant).values[0]) + holding
            high_b = float(rheobase["threshold_high"].sel(variant=variant).values[0]) + holding
            axis.errorbar([value], [height * factor], xerr=[[max(value - low_b, 0.0)], [max(high_b - value, 0.0)]],
                          fmt="o" if variant == "full" else "s", color=colour, capsize=3, ms=5, zorder=4,
                          label=label)
            axis.axvline(value, color=colour, lw=0.8, ls=":", zorder=1)
        low, high = axis.get_xlim()
        axis.set_xlim(min(low, full - 0.1 * abs(full - low)), max(high, full + 0.1 * abs(high - full)))
    figures.append(_panels_finished(
        figure, axes, len(names), "branches_thresholds",
        "N1: derived branches and fold against the input, with the full model's measured long-step "
        "rheobase (green) and the frozen subsystem's simulated threshold (dotted); the fold "
        "predicts both.", fontsize=6))

    figure, axes = _panels(len(names))
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
        label_axis(axis, "pulse duration d (ms)", f"threshold amplitude above holding ({unit})", legend_fontsize=None)
        axis.set_title(name, fontsize=9)
    figures.append(_panels_finished(
        figure, axes, len(names), "strength_duration",
        "N1: pulse threshold against duration (bars: final bisection bracket) for the full model and its "
        "frozen fast subsystem, with the derived kick-to-saddle line and the derived fold current.", fontsize=6))

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
    for axis, (prefix, label) in zip(axes[1:], (("N1-pulse-", "brief-pulse threshold: measured / derived (1)"),
                                                ("N1-rheobase-", "rheobase: measured / derived fold current (1)"))):
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
    figures.append(finished(
        figure, "predicted_vs_measured",
        "N1: measured thresholds of the full models against the derived predictions (green: within the "
        "20 % tolerance fixed before measuring, red: outside); bars are the bisection brackets."))
    return figures


# ------------------------------------------------------------------------------------------
# N3-N5: channel noise
# ------------------------------------------------------------------------------------------
def _channel_dimension(dataset):
    return next(name for name in dataset.dims if name.startswith("param_"))


def pulse_figures(datasets, verdicts):
    """N3/N5: P(fire) against amplitude per N, width scaling and collapse, held-out errors."""
    from scipy.special import ndtr

    pulse, widths, heldout = datasets.get("pulse"), datasets.get("widths"), datasets.get("heldout")
    if pulse is None or widths is None:
        return []
    dimension = _channel_dimension(pulse)
    numbers = pulse[dimension].values
    unit = pulse.attrs.get("input_unit", pulse["input"].attrs.get("units", ""))
    levels = pulse["input"].values
    fired = pulse["fired"].transpose(dimension, "input", "trial").values
    successes, trials = fired.sum(axis=2), np.full(fired.shape[:2], fired.shape[2])
    probability, low, high = binomial_interval(successes, trials)
    figures = []

    # 1. firing probability against amplitude, one panel per N
    columns = min(5, numbers.size)
    figure, axes = _panels(numbers.size, columns, 3.0, 2.6, sharey=True)
    rows = axes.shape[0]
    for index, (axis, number) in enumerate(zip(axes.ravel(), numbers)):
        axis.errorbar(levels, probability[index],
                      yerr=np.vstack([probability[index] - low[index], high[index] - probability[index]]), fmt="o",
                      ms=3,
                      color="k", capsize=1.5, lw=0.8, label="Markov simulation (95 % CP)")
        fine = pulse["amplitude"].values
        axis.plot(fine, pulse["derived_curve"].values[index], "-", color="tab:blue", lw=1.6,
                  label="derived P(fire | A, N) (nothing fitted)")
        axis.plot(fine, pulse["probit_curve"].values[index], "--", color="0.5", lw=1.0,
                  label="probit with floor and lapse (fit, N3)")
        axis.plot(fine, pulse["fitted_curve"].values[index], ":", color="tab:orange", lw=1.2,
                  label="logistic fitted to training trials (N5)")
        axis.set_xscale("symlog", linthresh=10.0)
        axis.set_title(f"N = {number:g}", fontsize=8)
        axis.set_ylim(-0.03, 1.03)
        if index % columns == 0:
            axis.set_ylabel("P(fire) (1)")
        if index >= (rows - 1) * columns:
            axis.set_xlabel(f"pulse amplitude A ({unit})")
    figures.append(_panels_finished(
        figure, axes, numbers.size, "pulse_probability",
        "N3/N5: firing probability after a brief pulse against its amplitude, per channel number N "
        "(points: exact Markov channels, 95 % Clopper-Pearson), with the derived curve (blue, nothing "
        "fitted) over the data; the spontaneous floor and the refractory ceiling dominate at small N.",
        fontsize=5.5, loc="upper left"))

    # 2. width against N, and the collapse
    figure, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    axis = axes[0]
    width = widths["width"].values
    usable = widths["usable"].values > 0.5
    width_low, width_high = widths["width_low"].values, widths["width_high"].values
    axis.errorbar(numbers[usable], width[usable], yerr=np.vstack([width[usable] - width_low[usable],
                                                                  width_high[usable] - width[usable]]),
                  fmt="o", color="k", capsize=2, label="measured width (probit ML, 95 % profile)")
    if (~usable).any():
        axis.plot(numbers[~usable], np.clip(width[~usable], 1e-3, None), "o", mfc="none", color="0.6",
                  label="width not bounded by the data (left out)")
    line = np.geomspace(numbers.min(), numbers.max(), 50)
    constant = float(pulse.attrs.get("derived_width_constant", np.nan))
    axis.plot(line, constant / np.sqrt(line), "-", color="tab:blue", lw=1.6,
              label=f"derived C_A / sqrt(N), C_A = {constant:.3g}")
    exponent = widths.attrs.get("exponent", np.nan)
    if np.isfinite(exponent) and usable.any():
        anchor = np.flatnonzero(usable)[-1]
        axis.plot(line, width[anchor] * (line / numbers[anchor]) ** exponent, "--", color="0.4", lw=1,
                  label=f"measured power law, exponent {exponent:.3f}")
        axis.plot(line, width[anchor] * (line / numbers[anchor]) ** -0.5, ":", color="tab:green", lw=1,
                  label="slope -1/2 through the largest N")
    axis.set_xscale("log")
    axis.set_yscale("log")
    label_axis(axis, "channel number N (channels)", f"width sigma of P(fire) ({unit})", legend_fontsize=6.5)
    threshold = float(pulse.attrs.get("derived_threshold", np.nan))
    thresholds = widths["threshold"].values
    colours = plt.cm.viridis(np.linspace(0, 1, numbers.size))
    scales = width[usable] * np.sqrt(numbers[usable])
    limit = max(6 * constant if np.isfinite(constant) else 0.0, 4 * float(np.nanmax(scales)) if scales.size else 0.0,
                1e-9)
    for axis, centre, title in ((axes[1], np.full(numbers.size, threshold), "derived threshold A*"),
                                (axes[2], thresholds, "measured A50 per N (shape only)")):
        for index in np.flatnonzero(usable):
            axis.plot((levels - centre[index]) * np.sqrt(numbers[index]), probability[index], "o", ms=3,
                      color=colours[index], alpha=0.8, label=f"N = {numbers[index]:g}")
        span = np.linspace(-limit, limit, 400)
        axis.plot(span, ndtr(span / constant), "-", color="tab:blue", lw=1.8, label="derived Phi(x / C_A)")
        axis.set_xlabel(f"(A - {'A*' if axis is axes[1] else 'A50'}) sqrt(N) ({unit} x channel^0.5)")
        axis.set_ylabel("P(fire) (1)")
        axis.set_title(f"collapse about the {title}", fontsize=9)
        axis.set_xlim(-limit, limit)
    axes[2].legend(fontsize=6)
    figures.append(finished(figure, "width_scaling", "N3: the width of P(fire) against N (log-log; open circles: "
                            "not bounded by the data) with the derived line C_A/sqrt(N), and the data collapsed in "
                            "(A - A*) sqrt(N) onto the derived Phi(x / C_A): if channel number is the temperature, "
                            "every N falls on the blue curve."))

    # 3. held-out errors
    if heldout is not None:
        figure, axes = plt.subplots(1, 2, figsize=(11, 4))
        styles = {"derived": ("tab:blue", "-o", "derived (nothing fitted)"),
                  "fitted_logistic": ("tab:orange", "-s", "logistic fitted per N (fit)"),
                  "null_base_rate": ("0.5", "--^", "null: training base rate"),
                  "null_step_at_derived_threshold": ("tab:red", ":v", "null: step at the derived A*")}
        for name, (colour, style, label) in styles.items():
            if name in heldout:
                axes[0].plot(numbers, heldout[name].values, style, color=colour, label=label, ms=4)
        axes[0].set_xscale("log")
        label_axis(axes[0], "channel number N (channels)", "mean held-out Brier score per trial (1)",
                   legend_fontsize=7)
        axis = axes[1]
        names = [name for name in styles if f"pooled_{name}" in heldout.attrs]
        for row, name in enumerate(names):
            mean, low_b, high_b = heldout.attrs[f"pooled_{name}"]
            axis.errorbar([mean], [row], xerr=[[mean - low_b], [high_b - mean]], fmt="o", color=styles[name][0],
                          capsize=3)
        axis.set_yticks(range(len(names)))
        axis.set_yticklabels([styles[name][2] for name in names], fontsize=7)
        axis.set_xlabel("held-out Brier score, all N, 95 % bootstrap (1)")
        ratio = heldout.attrs.get("ratio_derived_fitted", np.nan)
        axis.set_title(f"derived / fitted = {ratio:.3g}", fontsize=9)
        figures.append(finished(
            figure, "heldout_errors",
            "N5: held-out Brier score per trial of the derived P(fire | A, N) against a logistic fitted "
            "to the training trials and two null models, per N and pooled (lower is better)."))
    return figures


def escape_figures(datasets, verdicts):
    """N4: ln(escape rate) against N with the three derived predictions; barriers against the drive."""
    rates, barriers = datasets.get("rates"), datasets.get("barriers")
    if rates is None:
        return []
    dimension = _channel_dimension(rates)
    numbers = rates[dimension].values
    figures = []
    figure, axis = plt.subplots(figsize=(6.4, 4.6))
    rate = rates["rate"].values
    seen = rates["events"].values > 0
    axis.errorbar(numbers[seen], rate[seen], yerr=np.vstack([rate[seen] - rates["rate_low"].values[seen],
                                                             rates["rate_high"].values[seen] - rate[seen]]),
                  fmt="o", color="k", capsize=2, label="escape rate, Markov simulation (95 % Garwood)")
    if (~seen).any():
        axis.plot(numbers[~seen], rates["rate_high"].values[~seen], "v", color="k", mfc="none",
                  label="no escape: 95 % upper bound")
    axis.plot(numbers, rates["steady_rate"].values, "s", mfc="none", color="0.5", ms=5,
              label="steady count rate (includes recovery)")
    attrs = rates.attrs
    axis.plot(numbers, rates["rate_kramers_diffusion"].values, "-", color="tab:blue", lw=1.5,
              label=f"derived: Kramers, diffusion (slope {attrs.get('slope_diffusion', np.nan):.3g})")
    axis.plot(numbers, rates["rate_kramers_wkb"].values, "--", color="tab:purple", lw=1.5,
              label=f"derived: Kramers, WKB (slope {attrs.get('slope_wkb', np.nan):.3g})")
    axis.plot(numbers, rates["rate_exact_chain"].values, ":", color="tab:red", lw=2,
              label=f"derived: exact chain 1/MFPT (slope {attrs.get('slope_exact', np.nan):.3g})")
    slope = attrs.get("slope", np.nan)
    if np.isfinite(slope) and seen.sum() >= 2:
        weights = rates["events"].values[seen]
        intercept = np.average(np.log(rate[seen]) - slope * numbers[seen], weights=weights)
        axis.plot(numbers, np.exp(intercept + slope * numbers), "-", color="0.6", lw=0.8,
                  label=f"measured: ln(rate) fit, slope {slope:.3g}")
    axis.set_yscale("log")
    top = np.nanmax(np.r_[rates["rate_high"].values, rates["steady_rate"].values]) * 3
    axis.set_ylim(max(np.nanmin(rate[seen]) / 1e3, 1e-4) if seen.any() else 1e-4, top)
    axis.set_title(f"drive {attrs.get('drive', 0):g} {attrs.get('input_unit', '')}", fontsize=9)
    label_axis(axis, "channel number N (channels)", "rate (Hz)", legend_fontsize=6.5)
    figures.append(finished(
        figure, "escape_rates",
        "N4: spontaneous escape rate from rest against the channel number (log scale) with the derived "
        "gate-chain predictions (Kramers with the diffusion and WKB barriers, exact first passage); "
        "Kramers: ln(rate) falls linearly in N with slope -a Delta Phi."))
    if barriers is not None:
        figure, axes = plt.subplots(1, 2, figsize=(11, 4))
        drives = barriers["drive"].values
        unit = barriers["drive"].attrs.get("units", "")
        axes[0].plot(drives, barriers["barrier_diffusion"].values, "-", color="tab:blue", label="Delta Phi_diff")
        axes[0].plot(drives, barriers["barrier_wkb"].values, "--", color="tab:purple", label="Delta Phi_WKB")
        axes[0].set_yscale("log")
        axes[0].axvline(barriers.attrs.get("measured_drive", np.nan), color="k", lw=0.8, label="measured drive")
        label_axis(axes[0], f"constant drive ({unit})", "barrier per gate (1)", legend_fontsize=7)
        with np.errstate(all="ignore"):
            excess = barriers["barrier_wkb"].values / barriers["barrier_diffusion"].values - 1
        axes[1].plot(drives, 100 * excess, "-", color="k")
        axes[1].axvline(barriers.attrs.get("measured_drive", np.nan), color="k", lw=0.8)
        label_axis(axes[1], f"constant drive ({unit})", "Delta Phi_WKB / Delta Phi_diff - 1 (%)", legend_fontsize=None)
        figures.append(finished(
            figure, "barriers",
            "N4: the derived barrier of the gate chain against the drive, diffusion against WKB: they "
            "part only where the barrier is wide (Keener & Newby 2011); both close at the fold."))
    return figures
