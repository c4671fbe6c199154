"""Figures of C1-C4 on the simulated neurones."""

from __future__ import annotations

import numpy as np

__all__ = ['plot_onset', 'plot_staircase', 'plot_temperature', 'plot_activation']


def plot_onset(datasets, verdicts):
    import matplotlib.pyplot as plt

    figures = []
    for name, data in datasets.items():
        unit = data["input"].attrs.get("units", "")
        figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
        rate = data["rate"].mean("trial")
        left.plot(data["input"], rate, "o", ms=3, label="Brian2")
        if "onset_exponent" in data.attrs:
            a, ic, x = (data.attrs[k] for k in ("onset_amplitude", "onset_critical_input", "onset_exponent"))
            grid = np.linspace(float(data["input"].min()), data.attrs["onset_fit_upper"], 200)
            left.plot(grid, a * np.clip(grid - ic, 0, None) ** x, "-", label=f"fit x = {x:.3f}")
            above = (data["input"].values > ic) & (rate.values > 0)
            right.loglog(data["input"].values[above] - ic, rate.values[above], "o", ms=3)
            ref = data["input"].values[above] - ic
            if ref.size:
                right.loglog(ref, a * ref**0.5 * (rate.values[above][0] / (a * ref[0] ** 0.5)), "k--",
                             lw=0.8, label="slope 1/2")
                right.legend(fontsize=7)
            right.set_xlabel(f"I - I_c ({unit})")
            right.set_ylabel("rate (Hz)")
        left.set_xlabel(f"input ({unit})")
        left.set_ylabel("rate (Hz)")
        left.legend(fontsize=7)
        left.set_title(name.removeprefix("fi_"), fontsize=9)
        figure.tight_layout()
        figures.append((name, figure, f"C1: steady-state rate near onset ({name.removeprefix('fi_')}) with "
                        "the power-law fit (left) and on log-log axes against I - I_c with a slope-1/2 guide "
                        "(right)."))
    return figures

def plot_staircase(datasets, verdicts):
    import matplotlib.pyplot as plt

    figures = []
    for name, data in datasets.items():
        unit = data["input"].attrs.get("units", "")
        figure, axis = plt.subplots(figsize=(5.5, 3.5))
        for direction, marker in (("up", "^-"), ("down", "v-")):
            axis.plot(data["input"], data["rate"].sel(direction=direction).mean("trial"), marker, ms=4,
                      label=f"{direction} staircase")
        for key, style in (("reference_fold_of_cycles", ":"), ("reference_hopf", "--")):
            if np.isfinite(data.attrs.get(key, np.nan)):
                axis.axvline(data.attrs[key], color="k", ls=style, lw=0.8,
                             label=key.removeprefix("reference_").replace("_", " "))
        axis.set_xlabel(f"input ({unit})")
        axis.set_ylabel("rate (Hz)")
        axis.set_title(name.removeprefix("staircase_"), fontsize=9)
        axis.legend(fontsize=7)
        figure.tight_layout()
        figures.append((name, figure, f"C2: up and down staircases of {name.removeprefix('staircase_')}; "
                        "the down branch keeps firing below the up-branch onset (bistable range). Vertical "
                        "lines: fold of limit cycles and Hopf point (reference)."))
    return figures

def plot_temperature(datasets, verdicts):
    import matplotlib.pyplot as plt

    pulse, summary = datasets["pulse"], datasets["temperature"]
    unit = pulse["input"].attrs.get("units", "")
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    for index, sigma in enumerate(pulse["param_sigma"].values):
        left.plot(pulse["input"], pulse["fired"].isel(param_sigma=index).mean("trial"), "o-", ms=3,
                  label=f"sigma = {sigma:g}")
    left.set_xlabel(f"pulse amplitude ({unit})")
    left.set_ylabel("firing probability")
    left.legend(fontsize=7)
    sigma = summary["param_sigma"].values
    right.loglog(sigma, summary["beta"].values, "o", label="fitted beta")
    right.loglog(sigma, summary["beta"].values[0] * sigma[0] / sigma, "k--", lw=0.8, label="slope -1")
    right.set_xlabel(f"sigma ({pulse['param_sigma'].attrs.get('units', '')})")
    right.set_ylabel(f"beta (1/{unit})")
    right.legend(fontsize=7)
    figure.tight_layout()
    return [("temperature", figure, f"C3 ({summary.attrs.get('model', '')}): firing probability to a brief "
             "pulse for each noise amplitude (left) and the fitted inverse width beta against sigma on "
             f"log-log axes (right; measured slope {summary.attrs.get('slope', float('nan')):.3f}, "
             "expected -1).")]

def plot_activation(datasets, verdicts):
    import matplotlib.pyplot as plt

    figures = []
    for name, data in datasets.items():
        unit = data["input"].attrs.get("units", "")
        figure, axis = plt.subplots(figsize=(5.5, 3.8))
        rate = data["rate"]
        axis.errorbar(data["input"], rate.mean("trial"), yerr=rate.std("trial") / np.sqrt(rate.sizes["trial"]),
                      fmt="o", ms=3, color="k", label="Brian2 (mean +- s.e.)")
        rmse = dict(zip(data.attrs["candidates"], data.attrs["heldout_rmse"]))
        for candidate in data.attrs["candidates"]:
            axis.plot(data["input"], data[f"fit_{candidate}"], lw=1,
                      label=f"{candidate} (held-out RMSE {rmse[candidate]:.3g} Hz)")
        axis.set_xlabel(f"input ({unit})")
        axis.set_ylabel("rate (Hz)")
        axis.set_title(name.removeprefix("fi_"), fontsize=9)
        axis.legend(fontsize=6)
        figure.tight_layout()
        figures.append((name, figure, f"C4: noisy f-I of {name.removeprefix('fi_')} with every fitted candidate "
                        "(legend: held-out RMSE of the cross-validation)."))
    return figures
