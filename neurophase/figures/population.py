"""Figures of the population measurement (Q1-Q5): the derived mean field drawn over the networks.

:func:`figures` takes the Datasets and verdicts of
:func:`neurophase.check.population.measure_population` and returns ``(stem, figure, caption)``:
the phase diagram ``(w, drive)`` with the measured bistable region over the derived one; rate
against drive with the derived branches; the up/down ramps over the folds; the exponent fits at
the cusp and at a fold; ``N_pop Var(r)`` and the correlation time along the Widom line.
"""

from __future__ import annotations

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["figures"]


def _unit(variable):
    unit = variable.attrs.get("units", "1")
    return "" if unit in ("1", "") else f" ({unit})"


def _seed_interval(values, point, unique):
    """Mean over the seeds of every grid point and its 95 % Student-t error bars (0 where undefined)."""
    from neurophase.statistics import mean_interval

    estimates, errors = [], []
    for p in unique:
        members = values[point == p]
        members = members[np.isfinite(members)]
        if members.size == 0:
            estimates.append(np.nan)
            errors.append((0.0, 0.0))
            continue
        estimate, low, high = mean_interval(members) if members.size > 1 else (members[0], np.nan, np.nan)
        estimates.append(float(estimate))
        errors.append((max(estimate - low, 0.0) if np.isfinite(low) else 0.0,
                       max(high - estimate, 0.0) if np.isfinite(high) else 0.0))
    return np.array(estimates), np.array(errors).T


def _phase_diagram(datasets):
    theory, stationary = datasets["theory"], datasets["stationary"]
    ramps = datasets.get("ramps")
    figure, axis = plt.subplots(figsize=(6.2, 4.4))
    w = theory["dense_coupling"].values
    low, high = theory["fold_low"].values, theory["fold_high"].values
    inside = np.isfinite(low) & np.isfinite(high)
    axis.fill_between(w[inside], low[inside], high[inside], color="tab:blue", alpha=0.18,
                      label="derived bistable region")
    axis.plot(w[inside], low[inside], color="tab:blue", lw=1.5, label="derived folds")
    axis.plot(w[inside], high[inside], color="tab:blue", lw=1.5)
    axis.plot(float(theory["cusp_coupling"]), float(theory["cusp_drive"]), "*", color="k", ms=13,
              label="derived cusp (w_c, mu_c)", zorder=5)
    if ramps is not None:
        point = ramps["point"].values
        couplings = ramps["coupling"].values
        up, down = ramps["up_switch"].values, ramps["down_switch"].values
        unique = np.unique(point)
        mean_w = np.array([couplings[point == p][0] for p in unique])
        axis.scatter(couplings, up, marker="^", color="tab:red", alpha=0.35, s=14)
        axis.scatter(couplings, down, marker="v", color="tab:green", alpha=0.35, s=14)
        mean_up, error_up = _seed_interval(up, point, unique)
        mean_down, error_down = _seed_interval(down, point, unique)
        axis.errorbar(mean_w, mean_up, yerr=error_up, fmt="^-", color="tab:red", capsize=2,
                      label="measured up switch (ramp; seed mean, 95% interval)")
        axis.errorbar(mean_w, mean_down, yerr=error_down, fmt="v-", color="tab:green", capsize=2,
                      label="measured down switch (ramp; seed mean, 95% interval)")
        open_loop = np.isfinite(mean_up) & np.isfinite(mean_down) & (mean_up > mean_down)
        axis.fill_between(mean_w, np.where(open_loop, mean_down, np.nan),
                          np.where(open_loop, mean_up, np.nan), color="tab:red", alpha=0.15,
                          hatch="//", label="measured bistable region (ramps)")
    rate = stationary["rate"].values
    separated = (rate[..., 1] - rate[..., 0]) > 0.5 * np.maximum(rate[..., 1], 1e-9)
    grid_w, grid_mu = np.meshgrid(stationary["coupling"].values, stationary["drive"].values, indexing="ij")
    axis.scatter(grid_w[separated], grid_mu[separated], marker="s", facecolor="none", edgecolor="k",
                 s=28, label="grid point: low and high starts stay apart")
    axis.set_xlabel("recurrent weight w" + _unit(theory["dense_coupling"]))
    axis.set_ylabel("external drive" + _unit(theory["fold_low"]))
    axis.legend(fontsize=7, loc="best")
    figure.tight_layout()
    return ("phase_diagram", figure,
            "Phase diagram (w, drive): the derived bistable wedge (blue, folds from r = phi(mu(r), "
            "sigma(r)), cusp as a star) under the measured one (up/down ramp switches, hatched; squares: "
            "stationary grid points whose low and high starts stay apart).")


def _rate_vs_drive(datasets):
    theory, stationary = datasets["theory"], datasets["stationary"]
    couplings = stationary["coupling"].values
    count = couplings.size
    figure, axes = plt.subplots(1, count, figsize=(3.2 * count, 3.4), squeeze=False, sharey=True)
    dense = theory["dense_drive"].values
    for index, axis in enumerate(axes[0]):
        rates = theory["branch_rate"].isel(coupling=index).values
        stable = theory["branch_stable"].isel(coupling=index).values.astype(bool)
        for branch in range(rates.shape[1]):
            axis.plot(dense, np.where(stable[:, branch], rates[:, branch], np.nan), color="k", lw=1.4,
                      label="derived stable" if branch == 0 else None)
            axis.plot(dense, np.where(~stable[:, branch], rates[:, branch], np.nan), color="k", lw=1,
                      ls="--", label="derived unstable" if branch == 1 else None)
        drive = stationary["drive"].values
        for start, marker, colour in ((0, "o", "tab:green"), (1, "^", "tab:red")):
            value = stationary["rate"].values[index, :, start]
            low = stationary["rate_low"].values[index, :, start]
            high = stationary["rate_high"].values[index, :, start]
            error = np.vstack([np.clip(value - low, 0, None), np.clip(high - value, 0, None)])
            error = np.where(np.isfinite(error), error, 0.0)
            axis.errorbar(drive, value, yerr=error, fmt=marker, color=colour, ms=4, capsize=2,
                          label=f"network, {'low' if start == 0 else 'high'} start")
        axis.set_title(f"w = {couplings[index]:.3g}{_unit(stationary['coupling'])}", fontsize=9)
        axis.set_xlabel("drive" + _unit(stationary["drive"]))
        axis.set_yscale("symlog", linthresh=1.0)
    axes[0, 0].set_ylabel("population rate (Hz)")
    axes[0, 0].legend(fontsize=6)
    figure.tight_layout()
    return ("rate_vs_drive", figure,
            "Q1: stationary population rate against drive (mean and 95% interval; green: started low, "
            "red: started high) over the derived fixed points (solid stable, dashed unstable).")


def _ramps(datasets):
    ramps = datasets["ramps"]
    point = ramps["point"].values
    unique = np.unique(point)
    columns = min(4, unique.size)
    rows = int(np.ceil(unique.size / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(3.1 * columns, 2.7 * rows), squeeze=False)
    w_c = float(ramps.attrs.get("cusp_coupling", np.nan))
    for axis, p in zip(axes.ravel(), unique):
        members = np.flatnonzero(point == p)
        for rank, population in enumerate(members):
            drive = ramps["drive_at"].values[population]
            rate = np.convolve(ramps["rate"].values[population], np.ones(10) / 10, mode="same")
            rising = np.r_[np.diff(drive) > 0, False]
            falling = np.r_[np.diff(drive) < 0, False]
            alpha = 1.0 if rank == 0 else 0.3
            axis.plot(drive[rising], rate[rising], color="tab:red", lw=0.8, alpha=alpha,
                      label="up ramp" if rank == 0 else None)
            axis.plot(drive[falling], rate[falling], color="tab:blue", lw=0.8, alpha=alpha,
                      label="down ramp" if rank == 0 else None)
        for name, marker, colour, label in (("up_switch", "^", "tab:red", "measured up switch"),
                                            ("down_switch", "v", "tab:blue", "measured down switch")):
            if name in ramps:
                mean, error = _seed_interval(ramps[name].values[members], np.zeros(members.size), [0])
                level = float(ramps["switch_level"].values[members[0]]) if "switch_level" in ramps else np.nan
                if np.isfinite(mean[0]) and np.isfinite(level):
                    axis.errorbar(mean, [level], xerr=error, fmt=marker, color=colour, ms=5, capsize=2,
                                  zorder=4, label=f"{label} (seed mean, 95% interval)")
        for name, style in (("fold_low", "--"), ("fold_high", ":")):
            value = float(ramps[name].values[members[0]])
            if np.isfinite(value):
                axis.axvline(value, color="k", ls=style, lw=1,
                             label="derived lower fold" if name == "fold_low" else "derived upper fold")
        coupling = float(ramps["coupling"].values[members[0]])
        axis.set_title(f"w = {coupling:.3g}{_unit(ramps['coupling'])} ({coupling / w_c:.2f} w_c)", fontsize=8)
        axis.set_xlabel("drive" + _unit(ramps["drive_at"]), fontsize=8)
        axis.set_ylabel("rate (Hz)", fontsize=8)
    for axis in axes.ravel()[unique.size:]:
        axis.axis("off")
    entries = {}  # one legend for every panel: a panel below w_c has no folds to label
    for axis in axes.ravel():
        for handle, label in zip(*axis.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    axes[0, 0].legend(list(entries.values()), list(entries), fontsize=6)
    figure.tight_layout()
    return ("ramps", figure,
            "Q2/Q3: slow up (red) and down (blue) drive ramps, rate smoothed over 50 ms (first seed "
            "solid, others faint), measured switches with 95% intervals, derived folds (dashed lower, "
            "dotted upper): the loop opens above w_c.")


def _exponents(datasets):
    critical = datasets["critical"]
    kind = critical["point_kind"].values
    offset = critical["point_offset"].values
    rate = critical["point_rate"].values
    error = critical["point_rate_error"].values
    figure, (left, right) = plt.subplots(1, 2, figsize=(9.6, 3.8))
    cusp = kind == "cusp"
    r_c = float(critical.attrs.get("cusp_offset_rate", np.nan))
    r_c_mf = float(critical.attrs.get("cusp_rate", np.nan))          # derived r_c
    dense = critical["dense_offset"].values
    dense_rate = critical["dense_cusp_rate"].values
    for side, marker in ((1, "o"), (-1, "s")):
        select = cusp & (np.sign(offset) == side)
        left.errorbar(np.abs(offset[select]), np.abs(rate[select] - r_c), yerr=error[select], fmt=marker,
                      color="tab:red", ms=4, capsize=2,
                      label=f"network, drive {'above' if side > 0 else 'below'} mu_c")
        select_dense = np.sign(dense) == side
        left.plot(np.abs(dense[select_dense]), np.abs(dense_rate[select_dense] - r_c_mf), color="k",
                  ls="-" if side > 0 else "--", lw=1,
                  label=f"derived mean field ({'above' if side > 0 else 'below'})")
    exponent = critical.attrs.get("cusp_exponent", np.nan)
    amplitude = critical.attrs.get("cusp_amplitude", np.nan)
    x = np.geomspace(max(np.min(np.abs(offset[cusp & (offset != 0)])), 1e-12), np.max(np.abs(offset[cusp])), 20)
    left.plot(x, amplitude * x**exponent, color="tab:red", lw=1, alpha=0.7,
              label=f"fit: exponent {exponent:.3g}")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("|drive - mu_c|" + _unit(critical["point_offset"]))
    left.set_ylabel("|r - r_c| (Hz)")
    left.set_title("at the derived w_c (expected 1/3 asymptotically)", fontsize=9)
    left.legend(fontsize=6)
    fold = kind == "fold"
    r_f = float(critical.attrs.get("fold_rate", np.nan))
    escaped = critical["point_escaped"].values > 0
    use = fold & ~escaped
    right.errorbar(np.abs(offset[use]), r_f - rate[use], yerr=error[use], fmt="o", color="tab:red", ms=4,
                   capsize=2, label="network (low branch)")
    if (fold & escaped).any():
        right.plot(np.abs(offset[fold & escaped]), np.full((fold & escaped).sum(), np.nan), "x")
    distance = critical["dense_fold_distance"].values
    right.plot(distance, r_f - critical["dense_fold_rate"].values, color="k", lw=1,
               label="derived mean field")
    right.plot(distance, (r_f - critical["dense_fold_rate"].values[-1]) * (distance / distance[-1]) ** 0.5,
               color="0.6", ls=":", label="slope 1/2")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("mu_f - drive" + _unit(critical["point_offset"]))
    right.set_ylabel("r_f - r (Hz)")
    right.set_title(f"below the fold at {critical.attrs.get('fold_coupling', np.nan):.3g}, "
                    f"fit {critical.attrs.get('fold_exponent', np.nan):.3g}", fontsize=9)
    right.legend(fontsize=6)
    figure.tight_layout()
    return ("exponents", figure,
            "Q4: log-log rate against distance from the derived critical drive at w_c (left; r_c fitted) "
            "and from the derived upper fold above w_c (right; r_f derived), network with 95% intervals "
            "over the derived mean field.")


def _fluctuations(datasets):
    widom = datasets["widom"]
    w_c = float(widom.attrs.get("cusp_coupling", np.nan))
    fraction = widom["widom_coupling"].values / w_c
    figure, (left, right) = plt.subplots(1, 2, figsize=(9.6, 3.8))
    trials = widom["trial_variance"].values
    for column in range(trials.shape[1]):
        left.plot(fraction, trials[:, column], "o", color="tab:red", alpha=0.25, ms=3,
                  label="network, single seeds" if column == 0 else None)
    value = widom["variance"].values
    error = np.vstack([np.clip(value - widom["variance_low"].values, 0, None),
                       np.clip(widom["variance_high"].values - value, 0, None)])
    left.errorbar(fraction, value, yerr=np.where(np.isfinite(error), error, 0), fmt="o-", color="tab:red",
                  capsize=2, label="network, mean and 95% interval")
    left.plot(widom["dense_fraction"].values, widom["dense_variance_predicted"].values, color="k",
              label="derived linear noise (diverges at w_c)")
    left.axvline(1.0, color="0.5", ls=":", lw=1)
    left.set_yscale("log")
    left.set_xlabel("w / w_c along the Widom line (1)")
    left.set_ylabel("N_pop Var(r) (Hz^2)")
    left.legend(fontsize=6)
    below = fraction < 1 - 1e-9
    tau = widom["correlation_time"].values
    tau_error = np.vstack([np.clip(tau - widom["correlation_time_low"].values, 0, None),
                           np.clip(widom["correlation_time_high"].values - tau, 0, None)])
    distance = 1 - fraction
    right.errorbar(distance[below], tau[below] * 1e3, yerr=np.where(np.isfinite(tau_error[:, below]),
                                                                    tau_error[:, below], 0) * 1e3,
                   fmt="o", color="tab:red", capsize=2, label="network correlation time")
    dense = 1 - widom["dense_fraction"].values
    right.plot(dense, widom["dense_relaxation_predicted"].values * 1e3, color="k",
               label="derived tau / (1 - F')")
    right.set_xscale("log")
    right.set_yscale("log")
    right.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    right.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    right.set_xlabel("distance to the cusp (w_c - w) / w_c (1)")
    right.set_ylabel("relaxation time (ms)")
    right.set_title(f"slope {widom.attrs.get('slowing_exponent', np.nan):.3g} (derived -1 asymptotically)",
                    fontsize=9)
    right.legend(fontsize=6)
    figure.tight_layout()
    return ("fluctuations", figure,
            "Q5 and Q4c: finite-size variance of the population rate (left) and its correlation time "
            "(right) along the Widom line, network (seeds faint, mean with 95% interval) over the derived "
            "linear-noise and relaxation-time predictions.")


def _transfer(datasets):
    transfer = datasets["transfer"]
    figure, axis = plt.subplots(figsize=(5.4, 3.8))
    from neurophase.figures.style import trials_and_interval

    rate = transfer["rate"].transpose("param_sigma", "input", "trial").values
    for index, sigma in enumerate(transfer["param_sigma"].values):
        trials_and_interval(axis, transfer["input"].values, rate[index],
                            f"sigma = {sigma:.3g}{_unit(transfer['param_sigma'])} (seed mean, 95% interval)",
                            trial_label="seeds" if index == 0 else None, color=f"C{index}", fmt="o-", ms=2.5,
                            lw=0.8)
    axis.set_xlabel("mean drive" + _unit(transfer["input"]))
    axis.set_ylabel("rate (Hz)")
    axis.legend(fontsize=6)
    figure.tight_layout()
    return ("transfer", figure,
            "The uncoupled model's transfer function phi(mu, sigma) (mean over seeds) from which the "
            "population mean field is derived; nothing measured on the coupled networks enters it.")


def figures(datasets, verdicts):
    """All population figures that the given Datasets allow (see the module docstring)."""
    result = []
    for needed, function in ((("theory", "stationary"), _phase_diagram),
                             (("theory", "stationary"), _rate_vs_drive), (("ramps",), _ramps),
                             (("critical",), _exponents), (("widom",), _fluctuations),
                             (("transfer",), _transfer)):
        if all(name in datasets for name in needed):
            result.append(function(datasets))
    return result
