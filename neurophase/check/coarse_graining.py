"""N1 and N2: the derived mean-field membrane against the full conductance-based models.

THEORY.md 6a derives, from a model file alone, the fast subsystem of the order-parameter gate
(every other gate held at rest) and its folds (:func:`neurophase.mapping.coarse_grain`). These
measurements check what that derivation predicts, with nothing fitted to any firing.

Functions
---------
measure_coarse_graining_table
    N2: per library conductance model, the order-parameter gate, T_eff, J_eff at rest, h at the
    holding input, the largest loop gain and the folds; a verdict row per model on the predicted
    ordered (bistable fast subsystem) phase.
measure_spike_threshold
    N1: the derived saddle voltage, brief-pulse charge and fold current against the full model's
    escape voltage, brief-pulse threshold and long-step rheobase (in-network bisection,
    :func:`neurophase.micro.thresholds.threshold_bisection`), for every library conductance model.

What is predicted, decided before measuring (N1)
------------------------------------------------
1. *Voltage threshold.* The saddle of the frozen fast subsystem at the holding input is the
   voltage the state must cross to fire when the slow gates do not move (exact for the fast
   subsystem, no reduction). Measured: the escape voltage of the full model at its threshold for
   the shortest pulse (the mean of the sub- and suprathreshold trajectories when they first
   differ by 0.1 mV, :func:`~neurophase.micro.thresholds.escape_voltage`; the method is checked
   on the frozen subsystem, where it returns the saddle). Compared as depolarisations from rest.
2. *Brief-pulse threshold.* A pulse of duration d short against every time constant moves the
   voltage by A d / C and leaves the gates behind; to fire, the kick must reach the saddle:
   ``A* = C (V_saddle - V_rest) / d`` (exact as d -> 0 for an instantaneous order-parameter gate;
   a gate with its own time constant lags, which raises the measured value).
3. *Rheobase.* With the slow gates frozen, a step fires if and only if it exceeds the fold
   current where the rest branch ends (exact for the fast subsystem; the frozen network's long
   step threshold is reported next to it as a check of the numerics). Measured: the smallest
   long step that evokes a spike in the full model, where the slow gates do move.

Rule for all three: ``tolerance``, 20 % of the expected value (of the depolarisation, the
amplitude, the current above the holding input). Why 20 %: the prediction freezes gates whose
time constants at rest are 1-10 ms while the escape takes 1-3 ms, a first-order effect of
roughly that size; a larger error means the frozen fast subsystem does not locate the threshold.
The bisection brackets are far narrower (reported as the interval), so the statistics play no
part: the model is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from neurophase.check.verdicts import Verdict, make_verdict
from neurophase.errors import ParameterError

if TYPE_CHECKING:
    import xarray as xr
    from brian2.units.fundamentalunits import Quantity

__all__ = ["LIBRARY_CONDUCTANCE_MODELS", "measure_coarse_graining_table", "measure_spike_threshold",
           "PULSE_TRIALS", "STEP_DURATIONS"]

#: The library's conductance-based models (the ones with a voltage-gated activating gate).
LIBRARY_CONDUCTANCE_MODELS = ("hodgkin_huxley_1952", "wang_buzsaki_1996", "connor_stevens_1977",
                              "morris_lecar_class1", "morris_lecar_class2", "traub_miles")
#: Trial length of the pulse bisection (pulse start + pulse + time for a near-threshold spike).
PULSE_TRIALS = {"hodgkin_huxley_1952": "100 ms", "wang_buzsaki_1996": "150 ms", "connor_stevens_1977": "150 ms",
                "morris_lecar_class1": "400 ms", "morris_lecar_class2": "300 ms", "traub_miles": "150 ms"}
#: Long-step duration for the rheobase.
STEP_DURATIONS = {"hodgkin_huxley_1952": "200 ms", "wang_buzsaki_1996": "300 ms", "connor_stevens_1977": "300 ms",
                  "morris_lecar_class1": "1000 ms", "morris_lecar_class2": "1000 ms", "traub_miles": "300 ms"}
_RELATIVE_TOLERANCE = 0.2


def _membranes(models, holding, inputs=None):
    from neurophase.mapping import coarse_grain
    from neurophase.micro.modelfile import load_model

    holding = dict(holding or {})
    inputs = dict(inputs or {})
    unknown = sorted((set(holding) | set(inputs)) - set(models))
    if unknown:
        raise ParameterError(f"holding/inputs name model(s) {', '.join(unknown)} that are not in models.")
    result = {}
    for name in models:
        model = load_model(name)
        grid = inputs.get(name)
        if grid is not None:
            grid = _grid(grid, model.input_unit, name)
        result[name] = (model, coarse_grain(model, inputs=grid, rest_input=holding.get(name)))
    return result


def _grid(values, unit, name):
    """``[start, stop, step]`` with units (strings, or the Quantity array an experiment file makes of
    them) -> a Quantity grid (stop included)."""
    from neurophase.units import parse_unit, to_magnitude

    if isinstance(values, str) or np.ndim(values) != 1 or len(values) != 3:
        raise ParameterError(f"inputs.{name} must be [start, stop, step] with units, e.g. "
                             f"[\"-5 {unit}\", \"5 {unit}\", \"0.05 {unit}\"].")
    start, stop, step = (float(to_magnitude(value, unit, name=f"inputs.{name}")) for value in values)
    if not step > 0 or stop <= start:
        raise ParameterError(f"inputs.{name} needs step > 0 and stop > start.")
    count = int(np.floor((stop - start) / step + 1e-6)) + 1
    return (start + step * np.arange(count)) * parse_unit(unit)


def measure_coarse_graining_table(models: Sequence[str] = LIBRARY_CONDUCTANCE_MODELS,
                                  holding: Mapping[str, Quantity | str] | None = None,
                                  inputs: Mapping[str, Sequence[Quantity | str]] | None = None
                                  ) -> tuple[list[Verdict], dict[str, xr.Dataset]]:
    """N2: the derived mean-field parameters of every library conductance model.

    Parameters
    ----------
    models : sequence of str, optional
        Library model names; default :data:`LIBRARY_CONDUCTANCE_MODELS`.
    holding : mapping of str to Quantity or str, or None, optional
        Model -> holding input of the rest state, in the model's input dimension (a model that
        fires at zero input needs one); default 0.
    inputs : mapping of str to sequence of Quantity or str, or None, optional
        Model -> ``[start, stop, step]`` input grid with units, in the model's input dimension
        (default: around the fold).

    Returns
    -------
    (list of Verdict, dict of Dataset)
        One N2 row per model: is the fast subsystem in the ordered phase (a loop gain above 1,
        hence two folds and a bistable region) at the holding input? Expected 1 (THEORY N2:
        excitable models sit in the ordered phase); measured 1 or 0; derived, nothing simulated.
        Datasets ``derived_<model>`` (:meth:`CoarseGrainedMembrane.to_dataset`).
    """
    verdicts, datasets = [], {}
    for name, (model, membrane) in _membranes(models, holding, inputs).items():
        row = membrane.summary()
        ordered = 1.0 if row["ordered"] else 0.0
        unit = membrane.input_unit
        note = (
            f"DERIVED from the model file, nothing fitted or simulated. Order parameter {row['order_parameter']} "
            f"({membrane.order_parameter_rule}); other gates frozen at {membrane.frozen_rule}. "
            f"T_eff = 2 k_V = {row['T_eff_mV']:.3g} mV (Boltzmann fit of m_inf, rms {row['boltzmann_rms']:.2g}), "
            f"V_half = {row['V_half_mV']:.4g} mV, J_eff at rest = {row['J_eff_rest_mV']:.4g} mV, "
            f"h = {row['h_rest_mV']:.4g} mV at {row['rest_input']:g} {unit}; max loop gain "
            f"{row['loop_gain_max_rest']:.4g}; "
            f"fold where rest ends: {row['fold_up_input']:.5g} {unit} at {row['fold_up_voltage_mV']:.4g} mV; "
            f"excited branch ends at {row['fold_down_input']:.5g} {unit} ({row['fold_down_voltage_mV']:.4g} mV); "
            f"saddle at the holding input {row['saddle_voltage_rest_mV']:.4g} mV. holds: the fast subsystem is "
            "ordered (bistable) at the holding input, as N2 predicts for an excitable model.")
        verdicts.append(make_verdict(
            f"N2-{name}", f"ordered fast subsystem at the holding input (max loop gain > 1: 1 = yes), {name}",
            1.0, ordered, ordered, ordered, tolerance=0.0, rule="tolerance", note=note))
        datasets[f"derived_{name}"] = membrane.to_dataset()
    return verdicts, datasets


def measure_spike_threshold(models: Sequence[str] = LIBRARY_CONDUCTANCE_MODELS,
                            holding: Mapping[str, Quantity | str] | None = None,
                            pulse_durations: Sequence[Quantity | str] | None = None,
                            pulse_trials: Mapping[str, Quantity | str] | None = None,
                            step_durations: Mapping[str, Quantity | str] | None = None, bisection_steps: int = 22,
                            step_bisection_steps: int = 12,
                            target: str = "cython") -> tuple[list[Verdict], dict[str, xr.Dataset]]:
    """N1: derived saddle, brief-pulse charge and fold against the full model's thresholds.

    Two Brian2 networks per model (:func:`neurophase.micro.thresholds.threshold_bisection`): the
    pulse durations (``bisection_steps`` steps, short trials) and the long step
    (``step_bisection_steps`` steps, long trials); each holds the full model and its frozen
    fast subsystem (every gate but the order parameter frozen at rest), two neurones per
    configuration. The predictions, the tolerance and the rule are fixed in the module docstring.

    Parameters
    ----------
    models : sequence of str, optional
        Library model names; default :data:`LIBRARY_CONDUCTANCE_MODELS`.
    holding : mapping of str to Quantity or str, or None, optional
        Model -> holding input (baseline of every trial and rest of the derivation), in the
        model's input dimension; default 0.
    pulse_durations : sequence of Quantity (time) or str, or None, optional
        Pulse durations; the first is the brief pulse of the verdicts (default 0.1, 0.2, 0.5, 1 ms).
    pulse_trials, step_durations : mapping of str to Quantity (time) or str, or None, optional
        Model -> trial length of the pulse search, and -> long-step duration (defaults
        :data:`PULSE_TRIALS`, :data:`STEP_DURATIONS`).
    bisection_steps, step_bisection_steps : int, optional
        Halvings of the initial brackets; defaults 22 and 12.
    target : str, optional
        Brian2 code-generation target ("cython" or "numpy").

    Returns
    -------
    (list of Verdict, dict of Dataset)
        Per model the rows ``N1-voltage-``, ``N1-pulse-``, ``N1-rheobase-`` and the datasets
        ``thresholds_<model>`` (pulse search), ``rheobase_<model>`` (step search) and
        ``derived_<model>``.
    """
    from brian2 import ms, mV

    from neurophase.micro.thresholds import escape_voltage, threshold_bisection
    from neurophase.units import parse_quantity, parse_unit, to_magnitude

    durations = pulse_durations if pulse_durations is not None else ["0.1 ms", "0.2 ms", "0.5 ms", "1 ms"]
    durations_ms = np.array([float(to_magnitude(parse_quantity(d) if isinstance(d, str) else d, "ms",
                                                name="pulse_durations")) for d in durations])
    if durations_ms.size == 0 or np.any(durations_ms <= 0):
        raise ParameterError("pulse_durations must be a non-empty list of positive durations, e.g. [\"0.1 ms\"].")
    trials = {**PULSE_TRIALS, **(pulse_trials or {})}
    steps_long = {**STEP_DURATIONS, **(step_durations or {})}
    verdicts, datasets = [], {}
    for name, (model, membrane) in _membranes(models, holding).items():
        unit_text = model.input_unit
        unit = parse_unit(unit_text)
        holding_level = float(to_magnitude(membrane.rest_input, unit_text))
        v_rest = float(membrane.rest_voltage / mV)
        v_saddle = float(membrane.saddle_voltage_rest / mV)
        capacitance = float(to_magnitude(membrane.capacitance * mV / ms, unit_text))  # input per (mV/ms)
        fold = np.nan if membrane.fold_up is None else membrane.fold_up[0] - holding_level
        kick = capacitance * max(v_saddle - v_rest, 5.0) if np.isfinite(v_saddle) else capacitance * 20.0
        upper = 4.0 * kick / durations_ms + 2.0 * (abs(fold) if np.isfinite(fold) else 0.0)
        variants = {"full": {}, "frozen": dict(membrane.frozen)}
        trial = parse_quantity(trials[name]) if isinstance(trials[name], str) else trials[name]
        pulses = threshold_bisection(model, membrane.rest_state, durations_ms * ms, upper * unit,
                                     baseline=membrane.rest_input, variants=variants,
                                     trial_duration=trial, steps=bisection_steps, target=target,
                                     rising_counts=True)
        step = parse_quantity(steps_long[name]) if isinstance(steps_long[name], str) else steps_long[name]
        step_ms = float(to_magnitude(step, "ms", name="step_durations"))
        step_upper = 4.0 * max(abs(fold) if np.isfinite(fold) else 0.0, capacitance * 1.0)  # C x 1 mV/ms
        rheobase = threshold_bisection(model, membrane.rest_state, np.array([step_ms]) * ms,
                                       np.array([step_upper]) * unit, baseline=membrane.rest_input,
                                       variants=variants, trial_duration=(step_ms + 1.0) * ms,
                                       steps=step_bisection_steps, target=target)
        # ---------------------------------------------------------------- escape voltages
        time = pulses["time"].values
        escape = np.full((2, durations_ms.size, 3), np.nan)
        for k in range(2):
            for j, duration in enumerate(durations_ms):
                traces = pulses["voltage"].values[k, j]
                if pulses["bracket_valid"].values[k, j] > 0.5:
                    escape[k, j] = escape_voltage(time, traces[0], traces[1], after=1.0 + duration,
                                                  separation=0.1, onset=0.001)
        pulses["escape_voltage"] = (("variant", "duration"), escape[..., 0],
                                    {"units": "mV", "long_name": "escape voltage (mean of the bracketing "
                                                                 "trajectories where they part by 0.1 mV)"})
        pulses["escape_voltage_low"] = (("variant", "duration"), escape[..., 1], {"units": "mV"})
        pulses["escape_voltage_high"] = (("variant", "duration"), escape[..., 2], {"units": "mV"})
        pulses["predicted_kick_threshold"] = (("duration",), capacitance * (v_saddle - v_rest) / durations_ms,
                                              {"units": unit_text,
                                               "long_name": "C (V_saddle - V_rest) / d (derived)"})
        pulses.attrs.update({"fold_up_above_holding": fold, "input_unit": unit_text,
                             "saddle_voltage_mV": v_saddle, "rest_voltage_mV": v_rest,
                             "holding_input": holding_level})
        rheobase.attrs.update({"fold_up_above_holding": fold, "input_unit": unit_text,
                               "holding_input": holding_level})
        datasets[f"thresholds_{name}"] = pulses
        datasets[f"rheobase_{name}"] = rheobase
        datasets[f"derived_{name}"] = membrane.to_dataset()

        full, frozen = 0, 1
        valid = pulses["bracket_valid"].values
        low = pulses["threshold_low"].values
        high = pulses["threshold_high"].values
        middle = pulses["threshold"].values
        frozen_step = rheobase["threshold"].values[frozen, 0]
        common = (f"holding input {holding_level:g} {unit_text}, rest {v_rest:.4g} mV; frozen gates "
                  f"{', '.join(f'{g} = {v:.4g}' for g, v in membrane.frozen.items()) or 'none'}; order parameter "
                  f"{membrane.order_parameter}. Rule and 20 % tolerance fixed before measuring (module "
                  "docstring of neurophase.check.coarse_graining).")
        # 1. voltage threshold
        measured_v = escape[full, 0, 0] - v_rest
        graded = ""
        if valid[full, 0] > 0.5 and not np.isfinite(escape[full, 0, 0]):
            graded = ("The bracketing trajectories of the full model never part by 0.1 mV: its response is "
                      "graded (a quasi-threshold, FitzHugh 1955), not all-or-none, so it has no escape voltage "
                      "and the spike count only says whether the graded peak crossed the detection level. ")
        verdicts.append(make_verdict(
            f"N1-voltage-{name}",
            f"depolarisation to threshold (mV): saddle of the frozen fast subsystem vs escape voltage at the "
            f"{durations_ms[0]:g} ms pulse threshold, {name}",
            v_saddle - v_rest, measured_v, escape[full, 0, 1] - v_rest, escape[full, 0, 2] - v_rest,
            tolerance=_RELATIVE_TOLERANCE, relative=True, rule="tolerance",
            note=(f"DERIVED expected (fixed point of the fast subsystem, exact, nothing fitted): V_saddle = "
                  f"{v_saddle:.4g} mV. Measured: escape voltage of the full model {escape[full, 0, 0]:.4g} mV; "
                  f"the same estimator on the frozen subsystem gives {escape[frozen, 0, 0]:.4g} mV (check of the "
                  f"method: it should be the saddle). Interval: range of the mean trajectory while the bracketing "
                  f"trajectories part (0.001 to 0.1 mV). {graded}holds: the saddle locates the voltage threshold "
                  f"within 20 % of the depolarisation. {common}")))
        # 2. brief-pulse threshold
        predicted = capacitance * (v_saddle - v_rest) / durations_ms[0]
        measured = middle[full, 0] if valid[full, 0] > 0.5 else np.nan
        verdicts.append(make_verdict(
            f"N1-pulse-{name}",
            f"threshold amplitude of a {durations_ms[0]:g} ms pulse ({unit_text}): C (V_saddle - V_rest)/d vs "
            f"full model, {name}",
            predicted, measured, low[full, 0], high[full, 0], tolerance=_RELATIVE_TOLERANCE, relative=True,
            rule="tolerance",
            note=(f"DERIVED expected: the kick that puts v on the saddle, C = {capacitance:.4g} {unit_text} per "
                  f"mV/ms, nothing fitted. Measured: in-network bisection ({bisection_steps} halvings; interval = "
                  f"final bracket). The frozen fast subsystem's own threshold is {middle[frozen, 0]:.5g} "
                  f"{unit_text} (it differs from the kick prediction by the lag of the order-parameter gate). "
                  f"Strength-duration thresholds (full / frozen) at "
                  + ", ".join(f"{d:g} ms: {middle[full, j]:.4g} / {middle[frozen, j]:.4g}"
                              for j, d in enumerate(durations_ms))
                  + f". holds: within 20 %. {common}")))
        # 3. rheobase
        measured_r = rheobase["threshold"].values[full, 0] if rheobase["bracket_valid"].values[full,
                                                                                               0] > 0.5 else np.nan
        verdicts.append(make_verdict(
            f"N1-rheobase-{name}",
            f"rheobase above the holding input ({unit_text}): fold of the frozen fast subsystem vs full model's "
            f"{step_ms:g} ms step, {name}",
            fold, measured_r, rheobase["threshold_low"].values[full, 0], rheobase["threshold_high"].values[full, 0],
            tolerance=_RELATIVE_TOLERANCE, relative=True, rule="tolerance",
            note=(f"DERIVED expected: the fold (loop gain 1) where the rest branch ends, {fold:.5g} {unit_text} "
                  f"above holding, at {float(to_magnitude(_fold_voltage(membrane), 'mV')):.4g} mV; nothing fitted. "
                  f"Measured: smallest {step_ms:g} ms step with a spike, in-network bisection "
                  f"({step_bisection_steps} halvings; interval = final bracket). The frozen subsystem's own "
                  f"{step_ms:g} ms step threshold is {frozen_step:.5g} {unit_text} (check of the fold: it can only "
                  f"exceed it by the finite step length). holds: within 20 %. {common}")))
    return verdicts, datasets


def _fold_voltage(membrane):
    from brian2 import volt

    from neurophase.units import to_magnitude

    if membrane.fold_up is None:
        return np.nan * volt
    for fold in membrane.folds:
        if np.isclose(float(to_magnitude(fold.input, membrane.input_unit)), membrane.fold_up[0]):
            return fold.voltage
    return np.nan * volt
