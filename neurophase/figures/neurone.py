"""Figures of C1-C4 on the simulated neurones.

Data are drawn as in :mod:`neurophase.figures.style` (trials faint, mean with its 95 % interval,
black), the prediction of the claim in red, curves fitted to the same data dashed blue and named
as fits. Inputs in the model's input unit, rates in Hz.
"""

from __future__ import annotations

import numpy as np

from neurophase.figures.style import DATA, FIT, PREDICTION, binomial_interval, pyplot, trials_and_interval

__all__ = ['plot_onset', 'plot_staircase', 'plot_temperature', 'plot_activation']


def _verdict(verdicts, id):
    return next((verdict for verdict in verdicts if verdict.id == id), None)


def _per_trial(variable, dim="input"):
    """(point, trial) values of a rate-like variable (a missing trial dimension becomes one trial)."""
    if "trial" not in variable.dims:
        return variable.transpose(dim).values[:, None]
    return variable.transpose(dim, "trial").values


def plot_onset(datasets, verdicts):
    """C1: f-I near onset with the joint power-law fit, against the class-1 exponent 1/2.

    Left: the f-I curve (stage-1 grid and the refined stage-2 levels used in the fit) with the
    fitted ``A (I - I_c)^x`` and the square-root onset the claim predicts (exponent 1/2; its
    amplitude and I_c, which the claim does not give, are matched to the fit at the window's
    upper end). Middle: the same on log-log axes against ``I - I_c``. Right: the fitted exponent
    in every window, narrowing towards onset, with its interval, against 1/2 and its tolerance.
    """
    plt = pyplot()
    figures = []
    models = [name.removeprefix("fi_") for name in datasets if name.startswith("fi_")]
    models += [name.removeprefix("onset_") for name in datasets
               if name.startswith("onset_") and name.removeprefix("onset_") not in models]
    for model in models:
        coarse, fine = datasets.get(f"fi_{model}"), datasets.get(f"onset_{model}")
        reference = coarse if coarse is not None else fine
        unit = reference["input"].attrs.get("units", "")
        fitted = fine is not None and "onset_exponent" in fine.attrs
        figure, axes = plt.subplots(1, 3 if fitted else 1, figsize=(13, 3.8) if fitted else (5.2, 3.8),
                                    squeeze=False)
        left = axes[0, 0]
        if coarse is not None:
            trials_and_interval(left, coarse["input"].values, _per_trial(coarse["rate"]),
                                "Brian2, stage-1 grid", ms=3)
        verdict = _verdict(verdicts, f"C1-{model}")
        if fitted:
            a, ic, x = (float(fine.attrs[k]) for k in ("onset_amplitude", "onset_critical_input", "onset_exponent"))
            upper = float(fine.attrs["onset_fit_upper"])
            width = upper - ic
            used = fine["used_in_fit"].values.astype(bool) if "used_in_fit" in fine else np.ones(fine.sizes["input"],
                                                                                              bool)
            fine_rate = _per_trial(fine["rate"])[:, 0]
            left.plot(fine["input"].values[used], fine_rate[used], "s", ms=3, color="tab:green",
                      label="Brian2, stage-2 levels in the fit")
            low = float(min(fine["input"].min(), ic))
            grid = np.linspace(low, upper, 300)
            above = np.clip(grid - ic, 0, None)
            amplitude_half = a * width**x / width**0.5
            left.plot(grid, a * above**x, **FIT, label=f"fit A (I - I_c)^x, x = {x:.3f}")
            left.plot(grid, amplitude_half * above**0.5, **PREDICTION,
                      label="predicted square-root onset (x = 1/2; A, I_c matched to the fit)")
            left.set_xlim(low - 0.05 * width, upper + 0.05 * width)
            shown = fine_rate[used & (fine["input"].values <= upper)]
            if shown.size and np.nanmax(shown) > 0:
                left.set_ylim(-0.05 * np.nanmax(shown), 1.15 * np.nanmax(shown))
            window = used & (fine["input"].values > ic) & (fine_rate > 0)
            middle = axes[0, 1]
            offset = fine["input"].values[window] - ic
            middle.plot(offset, fine_rate[window], "o", ms=3, color="k", label="Brian2, stage-2 levels")
            if offset.size:
                span = np.geomspace(offset.min(), offset.max(), 100)
                middle.plot(span, a * span**x, **FIT, label=f"fit, slope x = {x:.3f}")
                middle.plot(span, amplitude_half * span**0.5, **PREDICTION, label="predicted slope 1/2")
            middle.set_xscale("log")
            middle.set_yscale("log")
            middle.set_xlabel(f"I - I_c ({unit})")
            middle.set_ylabel("rate (Hz)")
            middle.legend(fontsize=6)
            right = axes[0, 2]
            widths = np.asarray(fine.attrs["window_width"], float)
            exponents = np.asarray(fine.attrs["window_exponent"], float)
            lows = np.asarray(fine.attrs["window_exponent_ci_low"], float)
            highs = np.asarray(fine.attrs["window_exponent_ci_high"], float)
            error = np.vstack([np.clip(exponents - lows, 0, None), np.clip(highs - exponents, 0, None)])
            right.errorbar(widths, exponents, yerr=np.where(np.isfinite(error), error, 0), **DATA,
                           label="fitted exponent per window (95 % CI)")
            right.plot(widths[-1:], exponents[-1:], "o", ms=9, mfc="none", color="tab:orange",
                       label="window of the verdict (narrowest)")
            tolerance = verdict.tolerance if verdict is not None and verdict.tolerance else 0.1
            right.axhspan(0.5 - tolerance, 0.5 + tolerance, color="0.88", zorder=0, label=f"tolerance +-{tolerance:g}")
            right.axhline(0.5, **PREDICTION, label="predicted x = 1/2 (class 1, saddle-node on a cycle)")
            right.set_xscale("log")
            right.set_xlabel(f"fit window width W ({unit})")
            right.set_ylabel("onset exponent x (1)")
            right.legend(fontsize=6)
        left.set_xlabel(f"input current I ({unit})")
        left.set_ylabel("rate (Hz)")
        left.set_title(model, fontsize=9)
        left.legend(fontsize=6)
        figure.tight_layout()
        if fitted:
            caption = (f"C1 ({model}): the rate rises continuously from zero at onset; the fitted exponent "
                       f"x = {x:.3f} (red: the predicted square root, x = 1/2) in every fit window (right), "
                       "so the reader can see whether it converges to 1/2 within the grey tolerance.")
        else:
            caption = f"C1 ({model}): f-I curve; the onset was not bracketed or not fitted, so no exponent is drawn."
        figures.append((f"onset_{model}", figure, caption))
    return figures


def plot_staircase(datasets, verdicts):
    """C2: up and down staircases over the predicted branches of a subcritical Hopf onset.

    The resting state is stable (rate 0, red line) up to the Hopf point; the firing branch exists
    down to the fold of limit cycles; between the two (shaded) both coexist, so the up staircase
    should jump to a finite rate near the Hopf point and the down staircase keep firing down to the
    fold. The measured thresholds are drawn with their bracket (one staircase step) as horizontal
    error bars.
    """
    plt = pyplot()
    figures = []
    for name, data in datasets.items():
        model = name.removeprefix("staircase_")
        unit = data["input"].attrs.get("units", "")
        levels = data["input"].values
        figure, axis = plt.subplots(figsize=(6.4, 4.0))
        colours = {"up": "tab:purple", "down": "tab:green"}
        for direction, marker in (("up", "^"), ("down", "v")):
            rate = data["rate"].sel(direction=direction)
            values = _per_trial(rate)
            axis.plot(levels, np.nanmean(values, axis=1), "-", lw=0.6, color=colours[direction], alpha=0.6)
            trials_and_interval(axis, levels, values, f"Brian2, {direction} staircase",
                                fmt=marker, color=colours[direction], ms=4, trial_label=None)
        hopf = float(data.attrs.get("reference_hopf", np.nan))
        fold = float(data.attrs.get("reference_fold_of_cycles", np.nan))
        if np.isfinite(hopf) and np.isfinite(fold):
            axis.axvspan(fold, hopf, color="0.9", zorder=0, label="predicted bistable range (fold to Hopf)")
        if np.isfinite(hopf):
            axis.plot([min(levels.min(), hopf), hopf], [0, 0], **PREDICTION, label="stable rest state (rate 0)")
            axis.axvline(hopf, color="tab:red", ls="--", lw=1, label="Hopf point (rest state loses stability)")
        if np.isfinite(fold):
            axis.axvline(fold, color="tab:red", ls=":", lw=1, label="fold of limit cycles (firing branch ends)")
        peak = float(np.nanmax(data["rate"].values)) if np.isfinite(data["rate"].values).any() else 1.0
        for direction, key, height in (("up", "C2-up", 0.55), ("down", "C2-down", 0.45)):
            verdict = _verdict(verdicts, f"{key}-{model}")
            threshold = float(data.attrs.get(f"{direction}_threshold", np.nan))
            if verdict is not None:
                threshold, low, high = verdict.measured, verdict.ci_low, verdict.ci_high
            else:
                low = high = threshold
            if np.isfinite(threshold):
                xerr = [[max(threshold - low, 0)], [max(high - threshold, 0)]]
                axis.errorbar([threshold], [height * peak], xerr=xerr,
                              fmt="|", ms=12, capsize=3, color=colours[direction],
                              label=f"measured {direction} threshold {threshold:.4g} {unit} (bracket)")
        axis.set_xlabel(f"input current I ({unit})")
        axis.set_ylabel("rate (Hz)")
        axis.set_title(model, fontsize=9)
        axis.legend(fontsize=6, loc="upper left")
        figure.tight_layout()
        figures.append((name, figure, f"C2 ({model}): the up staircase stays silent until near the Hopf point "
                        "(dashed red) and then jumps to a finite rate, the down staircase keeps firing down to the "
                        "fold of limit cycles (dotted red): a discontinuous onset with a bistable range (grey)."))
    return figures


def plot_temperature(datasets, verdicts):
    """C3: firing probability per noise level with its logistic fits, and beta = 1/w against 1/sigma.

    Right panel: the fitted inverse width with its interval against 1/sigma on log-log axes; the
    prediction is beta proportional to 1/sigma (noise plays temperature). For the LIF the derived
    line is the exact expectation of the estimator (the same logistic fit on a Monte Carlo of the
    same protocol, ``reference_width``); otherwise slope -1 with its amplitude matched to the data
    (weighted mean in log space), labelled so.
    """
    plt = pyplot()
    pulse, summary = datasets["pulse"], datasets["temperature"]
    unit = pulse["input"].attrs.get("units", "")
    sigma_unit = pulse["param_sigma"].attrs.get("units", f"{unit}*ms**0.5")
    amplitudes = pulse["input"].values
    sigma = summary["param_sigma"].values
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.0))
    colours = plt.cm.viridis(np.linspace(0, 0.85, sigma.size))
    grid = np.linspace(amplitudes.min(), amplitudes.max(), 300)
    for index, value in enumerate(sigma):
        fired = pulse["fired"].isel(param_sigma=index).transpose("input", "trial").values
        p, low, high = binomial_interval(np.nansum(fired, axis=1), np.sum(np.isfinite(fired), axis=1))
        left.errorbar(amplitudes, p, yerr=[np.clip(p - low, 0, None), np.clip(high - p, 0, None)],
                      **{**DATA, "color": colours[index], "ms": 3},
                      label=f"Brian2, sigma = {value:.3g} {sigma_unit} (95 % CP)")
        theta, width = float(summary["theta"].values[index]), float(summary["width"].values[index])
        left.plot(grid, 1 / (1 + np.exp(-(grid - theta) / width)), **{**FIT, "color": colours[index]},
                  label="logistic fits" if index == 0 else None)
        if "reference_p_fire" in pulse:
            left.plot(amplitudes, pulse["reference_p_fire"].isel(param_sigma=index).values, "-", lw=0.8,
                      color=colours[index], alpha=0.6, label="numpy Monte Carlo of the LIF" if index == 0 else None)
    left.set_xlabel(f"pulse amplitude A ({unit})")
    left.set_ylabel("firing probability (1)")
    left.legend(fontsize=6)
    inverse = 1.0 / sigma
    beta = summary["beta"].values
    beta_low, beta_high = 1.0 / summary["width_ci_high"].values, 1.0 / summary["width_ci_low"].values
    error = np.vstack([np.clip(beta - beta_low, 0, None), np.clip(beta_high - beta, 0, None)])
    right.errorbar(inverse, beta, yerr=np.where(np.isfinite(error), error, 0), **DATA,
                   label="Brian2: fitted beta = 1/w (95 % CI)")
    span = np.geomspace(inverse.min() / 1.2, inverse.max() * 1.2, 100)
    expected = float(summary.attrs.get("expected_slope", -1.0))
    if "reference_width" in summary.attrs:
        reference = 1.0 / np.asarray(summary.attrs["reference_width"], float)
        right.plot(inverse, reference, "-", **PREDICTION,
                   label=f"derived: the same fit on the exact LIF process (slope {expected:.3f})")
    else:
        ok = np.isfinite(beta) & (beta > 0)
        anchor = np.exp(np.mean(np.log(beta[ok]) + expected * np.log(inverse[ok]))) if ok.any() else np.nan
        right.plot(span, anchor * span ** (-expected), **PREDICTION,
                   label=f"predicted beta ~ (1/sigma)^{-expected:g} (amplitude matched)")
    slope = float(summary.attrs.get("slope", np.nan))
    ok = np.isfinite(beta) & (beta > 0)
    if np.isfinite(slope) and ok.any():
        intercept = np.mean(np.log(beta[ok]) + slope * np.log(inverse[ok]))
        right.plot(span, np.exp(intercept) * span ** (-slope), **FIT, label=f"measured slope {slope:.3f} (fit)")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel(f"1/sigma (1/({sigma_unit}))")
    right.set_ylabel(f"inverse width beta (1/{unit})")
    right.legend(fontsize=6)
    figure.tight_layout()
    return [("temperature", figure, f"C3 ({summary.attrs.get('model', '')}): the firing probability sharpens as "
             "the noise falls (left); the claim predicts that its inverse width beta grows in proportion to "
             "1/sigma (right: red line, "
             f"log-log slope {-expected:.3g}; measured {-slope:.3f}), i.e. that noise plays the temperature.")]


def plot_activation(datasets, verdicts):
    """C4: noisy f-I with the derived activation (fitted) over the data and its rivals faint."""
    plt = pyplot()
    figures = []
    for name, data in datasets.items():
        model = name.removeprefix("fi_")
        unit = data["input"].attrs.get("units", "")
        figure, axis = plt.subplots(figsize=(6.0, 4.0))
        trials_and_interval(axis, data["input"].values, _per_trial(data["rate"]), "Brian2, mean (95 % CI)")
        candidates = list(data.attrs.get("candidates", []))
        rmse = dict(zip(candidates, np.atleast_1d(data.attrs.get("heldout_rmse", [np.nan] * len(candidates)))))
        for candidate in candidates:
            if f"fit_{candidate}" not in data:
                continue
            label = f"{candidate} (held-out RMSE {float(rmse[candidate]):.3g} Hz)"
            if candidate == "derived":
                axis.plot(data["input"], data[f"fit_{candidate}"], **PREDICTION,
                          label=f"derived mean-field activation, parameters fitted (held-out RMSE "
                                f"{float(rmse[candidate]):.3g} Hz)")
            else:
                axis.plot(data["input"], data[f"fit_{candidate}"], lw=0.8, alpha=0.7, ls="--", label=label)
        axis.set_xlabel(f"input current I ({unit})")
        axis.set_ylabel("rate (Hz)")
        axis.set_title(model, fontsize=9)
        axis.legend(fontsize=6)
        figure.tight_layout()
        figures.append((name, figure, f"C4 ({model}): the derived activation (red; its free parameters fitted) "
                        "runs through the noisy f-I points as well as its rivals (dashed): compare the held-out "
                        "errors in the legend."))
    return figures
