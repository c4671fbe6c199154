"""Figures of P2 (gating functions) and P8 (the zero-temperature limit)."""

from __future__ import annotations

import numpy as np

from neurophase.figures.style import PREDICTION, trials_and_interval

__all__ = ['plot_gating', 'plot_zero_temperature']


def plot_gating(datasets, verdicts):
    import matplotlib.pyplot as plt

    curves, channel = datasets["gating_curves"], datasets["gating_channel"]
    gates = [str(g) for g in curves["gate"].values]
    figure, axes = plt.subplots(2, len(gates), figsize=(3.4 * len(gates), 5.0), sharex=True,
                                gridspec_kw={"height_ratios": [3, 1.4]}, squeeze=False)
    for column, gate in enumerate(gates):
        top, bottom = axes[0, column], axes[1, column]
        c = curves.sel(gate=gate)
        top.plot(curves["voltage"], c["x_inf"], "-", color="0.3", lw=1.5, label=f"{gate}_inf (model file)")
        top.plot(curves["voltage"], c["boltzmann_fit"], **PREDICTION,
                 label=f"two-state Boltzmann, V1/2 = {float(c['v_half']):.1f} mV, "
                       f"k = {float(c['slope_factor']):.2f} mV")
        ch = channel.sel(gate=gate)
        trials_and_interval(top, channel["voltage_sim"].values, ch["p_open"].transpose("voltage_sim", "trial").values,
                            "two-state membrane (Brian2, J = 0), mean (95 % CI)", ms=3, color="tab:blue")
        top.set_title(f"{gate}: z_eff = {float(c['gating_charge']):.2f} e", fontsize=9)
        top.legend(fontsize=6, loc="best", framealpha=0.9)
        bottom.plot(curves["voltage"], c["residual"], "k-", lw=1)
        bottom.plot(channel["voltage_sim"], ch["p_open"].mean("trial") - ch["p_open_expected"], "o", ms=3,
                    color="tab:blue")
        bottom.axhline(0, color="grey", lw=0.5)
        for limit in (-curves.attrs.get("residual_tolerance", 0.02), curves.attrs.get("residual_tolerance", 0.02)):
            bottom.axhline(limit, color="tab:red", lw=0.6, ls=":")
        bottom.set_xlabel("membrane potential V (mV)")
        if column == 0:
            top.set_ylabel("steady-state / open probability (1)")
            bottom.set_ylabel("residual (1)")
    figure.tight_layout()
    return [("gating", figure,
             f"P2 ({curves.attrs.get('model_name', '')}): each steady-state gating function of the model file (grey) "
             "lies on a two-state Boltzmann curve (red), and the open fraction of the Brian2 two-state membrane at "
             "J = 0 driven with h = (V - V_half)/(2k) (blue: trial mean with 95 % interval, trials faint) lies on "
             "it too. Bottom: residuals against the Boltzmann curve; dotted: the stated tolerance.")]

def plot_zero_temperature(datasets, verdicts):
    import matplotlib.pyplot as plt

    data = datasets["zero_temperature_response"]
    fields = data["input"].values
    temperatures = data["param_T"].values
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(12, 3.6))
    colours = plt.cm.viridis(np.linspace(0, 0.85, temperatures.size))
    for index, T in enumerate(temperatures):
        def trials(name):
            return data[name].isel(param_T=index).transpose("input", "trial").values

        trials_and_interval(left, fields, trials("M_J0"), f"Brian2, T = {T:g} J (mean, 95 % CI)", ms=3,
                            color=colours[index], trial_label="trials" if index == 0 else None)
        fine = np.linspace(fields.min(), fields.max(), 401)
        left.plot(fine, np.tanh(fine / T), "-", lw=1.0, color=colours[index],
                  label=f"closed form tanh(h/T), T = {T:g} J")
        trials_and_interval(middle, fields, trials("M_up_start"), f"Brian2, T = {T:g} J", fmt="v", ms=3,
                            color=colours[index], trial_label="trials" if index == 0 else None)
        trials_and_interval(middle, fields, trials("M_down_start"), None, fmt="^", ms=3, color=colours[index],
                            trial_label=None)
        for branch in ("M_upper", "M_lower"):
            middle.plot(fields, data[branch].isel(param_T=index), "-", lw=1.0, color=colours[index],
                        label=f"Curie-Weiss branches, T = {T:g} J" if branch == "M_upper" else None)
    for axis, title in ((left, "J = 0"), (middle, f"J = {data.attrs.get('J', 1):g}: start +1 (v), -1 (^)")):
        grid = np.linspace(fields.min(), fields.max(), 401)
        axis.plot(grid, np.sign(grid), "k:", lw=1, label="T -> 0 limit sign(h)")
        axis.set_xlabel("field h (units of J)")
        axis.set_ylabel("order parameter M (1)")
        axis.set_title(title, fontsize=9)
        axis.legend(fontsize=5.5, loc="center right", framealpha=0.9)
    floor = 1e-10  # saturated values (0 or float rounding) are drawn at this floor on the log axis
    for verdict_prefix, marker, label in (("P8-J0-T", "o", "J = 0"), (f"P8-J{data.attrs.get('J', 1):g}-T", "s",
                                                                      "J > 0 outside +-h_c")):
        rows = [v for v in verdicts if v.id.startswith(verdict_prefix)]
        if rows:
            T = [float(v.id.removeprefix(verdict_prefix)) for v in rows]
            measured = np.maximum([v.measured for v in rows], floor)
            right.errorbar(T, measured,
                           yerr=[np.maximum(measured - np.maximum([v.ci_low for v in rows], floor), 0),
                                 np.maximum(np.maximum([v.ci_high for v in rows], floor) - measured, 0)],
                           fmt=marker, ms=4, label=f"measured, {label}")
            right.plot(T, np.maximum([v.expected for v in rows], floor), "-", lw=0.8,
                       label=f"closed form, {label}")
    right.axhline(floor, color="grey", lw=0.5, ls=":")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xticks(temperatures)
    right.set_xticklabels([f"{t:g}" for t in temperatures])
    right.minorticks_off()
    right.set_xlabel("temperature T (units of J)")
    right.set_ylabel(f"max |M - sign(h)| (1; floor {floor:g})")
    right.legend(fontsize=6)
    figure.tight_layout()
    return [("zero_temperature", figure,
             "P8: membrane response M(h) for decreasing T at J = 0 (left, lines tanh(h/T)) and at J = 1 from both "
             "starts (middle, lines: Curie-Weiss upper and lower branches; the loop closes at +-h_c(T) -> J), with "
             "sign(h) dotted; right: max |M - sign(h)| outside the loop against its closed form "
             "(values below 1e-10, i.e. "
             "saturated to float rounding, drawn at 1e-10).")]
