"""The generic ``sweep`` measurement: any model, any grid, verdicts declared in the experiment file.

A user's own model file can be swept, reduced to firing statistics and checked against values
the user states, without writing Python::

    [[measurement]]
    function = "sweep"
    label = "my_cell"
    model = "models/my_cell.toml"            # a model file (or a library model name)
    inputs = { start = "0 pA", stop = "300 pA", step = "10 pA" }
    protocol = "step"                         # step, staircase, ramp or pulse
    duration = "1 s"
    seeds = 4
    noise = "20 pA"                           # optional current noise (see firing_curve)
    parameters = { g_L = "0.05 mS/cm**2" }    # optional overrides of model parameters
    fit = ["derived", "logistic", "relu"]     # optional activation fits (estimates, not derivations)

    [[measurement.verdicts]]
    id = "my-rheobase"
    quantity = "rheobase"
    expected = "120 pA"
    tolerance = "15 pA"                       # in the unit of the quantity
    rule = "tolerance"                        # tolerance, equivalence or interval
    note = "rheobase of the cell this model was built from (Smith 2020, Fig. 2)"

Quantities a verdict can name (:data:`QUANTITIES`; units follow the Dataset):

``rheobase``
    The first firing level of the trial-mean rate (interval: the level bracket).
``rate_at:<input>``
    Trial-mean rate at one input level, e.g. ``"rate_at:200 pA"`` (Student-t interval over trials).
``p_fire_at:<input>``
    Fraction of trials that fired at one level (Wilson score interval).
``max_rate``
    Largest trial-mean rate of the grid (Student-t interval over trials at that level).
``onset_exponent``
    Exponent of ``f = A (I - I_c)^x`` near onset (:func:`neurophase.mapping.fi_curve.onset_exponent`,
    bootstrap interval).
``fit.<candidate>.<parameter>``
    A parameter of a fitted activation (:class:`neurophase.neurons.fit.ActivationFit`, bootstrap
    interval), e.g. ``fit.logistic.theta``. A fitted value is an estimate: a verdict on it tests a
    fit, not a derivation.
``heldout_rmse.<candidate>``
    Cross-validated error of a fitted candidate (interval: mean +- 1.96 s.e. over folds).

Every expected value and tolerance is checked against the quantity's dimension before anything
runs; a wrong unit or an unknown quantity stops the run with a message naming the verdict.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from neurophase.check.verdicts import RULES, Verdict, make_verdict
from neurophase.errors import ParameterError
from neurophase.units import parse_quantity, parse_unit, to_magnitude

if TYPE_CHECKING:
    import xarray as xr
    from brian2.units.fundamentalunits import Quantity

    from neurophase.micro.modelfile import Model

__all__ = ["measure_sweep", "QUANTITIES"]

#: Quantities a declared verdict may name (prefixes for the parametrised ones).
QUANTITIES = ("rheobase", "rate_at:", "p_fire_at:", "max_rate", "onset_exponent", "fit.", "heldout_rmse.")
_VERDICT_KEYS = {"id", "quantity", "expected", "tolerance", "rule", "note", "relative"}


def _declared(verdicts, input_unit, fit):
    """Check the declared verdicts before simulating; return them with their units resolved."""
    checked = []
    for number, declaration in enumerate(verdicts or (), start=1):
        where = f"sweep verdict {number}"
        if not isinstance(declaration, dict):
            raise ParameterError(f"{where} must be a table ([[measurement.verdicts]]).")
        unknown = sorted(set(declaration) - _VERDICT_KEYS)
        missing = [key for key in ("id", "quantity", "expected") if key not in declaration]
        if unknown or missing:
            raise ParameterError(f"{where}: " + (f"unknown key(s) {', '.join(unknown)}; " if unknown else "")
                                 + (f"missing {', '.join(missing)}; " if missing else "")
                                 + f"allowed: {', '.join(sorted(_VERDICT_KEYS))}.")
        quantity = str(declaration["quantity"])
        unit = _unit_of(quantity, input_unit, fit, where)
        rule = declaration.get("rule")
        if rule is not None and rule not in RULES:
            raise ParameterError(f"{where}: rule {rule!r} is not one of {', '.join(RULES)}.")
        expected = _in_unit(declaration["expected"], unit, f"{where} expected")
        relative = bool(declaration.get("relative", False))
        tolerance = declaration.get("tolerance")
        if tolerance is not None:
            tolerance = _in_unit(tolerance, "1" if relative else unit, f"{where} tolerance")
            if not tolerance >= 0:
                raise ParameterError(f"{where}: tolerance must be >= 0.")
        elif rule in ("tolerance", "equivalence"):
            raise ParameterError(f"{where}: rule {rule!r} needs a tolerance.")
        checked.append({"id": str(declaration["id"]), "quantity": quantity, "unit": unit, "expected": expected,
                        "tolerance": tolerance, "relative": relative, "rule": rule,
                        "note": str(declaration.get("note", ""))})
    return checked


def _in_unit(value, unit, name):
    quantity = parse_quantity(value, name=name) if isinstance(value, str) else value
    return float(to_magnitude(quantity, unit, name=name))


def _unit_of(quantity, input_unit, fit, where):
    """The unit string of a declared quantity (checks that it is known)."""
    if quantity == "rheobase":
        return input_unit
    if quantity in ("max_rate",) or quantity.startswith("rate_at:"):
        if quantity.startswith("rate_at:"):
            _in_unit(quantity.partition(":")[2], input_unit, f"{where} level")
        return "Hz"
    if quantity.startswith("p_fire_at:"):
        _in_unit(quantity.partition(":")[2], input_unit, f"{where} level")
        return "1"
    if quantity == "onset_exponent":
        return "1"
    match = re.fullmatch(r"fit\.(\w+)\.(\w+)", quantity) or re.fullmatch(r"heldout_rmse\.(\w+)", quantity)
    if match:
        from neurophase.neurons.fit import RESPONSE_MODELS

        candidate = match.group(1)
        if not fit or candidate not in fit:
            raise ParameterError(f"{where}: {quantity!r} needs {candidate!r} in the measurement's fit list "
                                 f"(fit = {list(fit or [])}).")
        if quantity.startswith("heldout_rmse."):
            return "Hz"
        model = RESPONSE_MODELS[candidate]
        if match.group(2) not in model.parameter_names:
            raise ParameterError(f"{where}: {candidate} has no parameter {match.group(2)!r}; its parameters are "
                                 f"{', '.join(model.parameter_names)}.")
        units = dict(zip(model.parameter_names, model.parameter_units(input_unit, "Hz")))
        unit = units[match.group(2)]
        if "**p" in unit:
            raise ParameterError(f"{where}: {quantity!r} has a unit that depends on the fitted exponent; "
                                 "declare a verdict on fit.power_law.exponent or theta instead.")
        return unit
    raise ParameterError(f"{where}: unknown quantity {quantity!r}; use one of {', '.join(QUANTITIES)} "
                         "(see neurophase.check.sweep).")


def _level_index(dataset, text, input_unit, where):
    level = _in_unit(text, input_unit, where)
    levels = dataset["input"].values
    index = int(np.argmin(np.abs(levels - level)))
    if not math.isclose(levels[index], level, rel_tol=1e-9, abs_tol=1e-12 * max(1.0, abs(level))):
        raise ParameterError(f"{where}: {text} is not a level of the input grid.")
    return index


def _measure(declared, dataset, input_unit, fitted, onset):
    """(measured, low, high, how) of one declared quantity."""
    from neurophase.mapping.fi_curve import rheobase
    from neurophase.statistics import mean_interval

    quantity, where = declared["quantity"], f"sweep verdict {declared['id']}"
    rate = dataset["rate"]
    if quantity == "rheobase":
        found = rheobase(dataset)
        unit = parse_unit(input_unit)
        value, low, high = (float(np.asarray(q / unit)) for q in (found.value, found.low, found.high))
        return value, low, high, "first firing level; interval: the level bracket (last silent, first firing]"
    if quantity.startswith("rate_at:"):
        index = _level_index(dataset, quantity.partition(":")[2], input_unit, where)
        estimate, low, high = mean_interval(rate.isel(input=index).values)
        return estimate, low, high, "trial-mean rate, Student-t 95 % interval over trials"
    if quantity == "max_rate":
        mean = rate.mean("trial").values
        index = int(np.nanargmax(mean))
        estimate, low, high = mean_interval(rate.isel(input=index).values)
        return estimate, low, high, f"largest trial-mean rate (at level {dataset['input'].values[index]:g})"
    if quantity.startswith("p_fire_at:"):
        index = _level_index(dataset, quantity.partition(":")[2], input_unit, where)
        fired = (dataset["spike_count"].isel(input=index).values > 0)
        n, k = fired.size, int(fired.sum())
        p = k / n
        z = 1.959964
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
        return p, centre - half, centre + half, f"{k} of {n} trials fired; Wilson score interval (Wilson 1927)"
    if quantity == "onset_exponent":
        return (onset.exponent, *onset.exponent_interval,
                f"onset fit on {onset.n_points} points, bootstrap interval ({onset.n_bootstrap} resamples)")
    if quantity.startswith("heldout_rmse."):
        candidate = quantity.partition(".")[2]
        value = float(fitted.scores_["heldout_rmse"].sel(candidate=candidate))
        se = float(fitted.scores_["heldout_rmse_se"].sel(candidate=candidate))
        return value, value - 1.959964 * se, value + 1.959964 * se, "cross-validated RMSE +- 1.96 s.e. (a fit)"
    _, candidate, parameter = quantity.split(".")
    value = fitted.params_[candidate][parameter].value
    low, high = fitted.param_ci_[candidate][parameter]
    return value, low, high, f"fitted {candidate} parameter, bootstrap interval (an estimate from a fit)"


def measure_sweep(model: str | Model, inputs: Quantity, protocol: str = "step", duration: Quantity | None = None,
                  seeds: int = 1, noise: Quantity | None = None, noise_tau: Quantity | None = None,
                  parameters: Mapping[str, Any] | None = None, dt: Quantity | None = None,
                  fit: str | Sequence[str] | None = None, verdicts: Sequence[Mapping[str, Any]] = (), folds: int = 5,
                  n_bootstrap: int = 200, seed: int = 0, target: str = "cython", device: str = "runtime",
                  pulse_duration: Quantity | None = None,
                  pulse_start: Quantity | None = None) -> tuple[list[Verdict], dict[str, xr.Dataset]]:
    """Sweep a model over an input grid in ONE Brian2 network and check declared verdicts.

    Parameters
    ----------
    model : str or Model
        A library model name, the path of a model file or a loaded spiking model.
    inputs : Quantity (input dimension)
        Input levels in the model's input dimension.
    protocol : {"step", "staircase", "ramp", "pulse"}, optional
        See :mod:`neurophase.micro.protocols`; default "step". A staircase or ramp keeps its
        up branch.
    duration : Quantity (time) or None, optional
        Run time (or time per level); default as in :func:`~neurophase.micro.neurone.firing_curve`.
    seeds : int, optional
        Trials per level; default 1.
    noise : Quantity (input dimension) or None, optional
        Current noise (see :func:`~neurophase.micro.neurone.firing_curve`).
    noise_tau : Quantity (time) or None, optional
        Noise correlation time (see :func:`~neurophase.micro.neurone.firing_curve`).
    parameters : mapping of str to Quantity or None, optional
        Overrides of model parameters, with units.
    dt : Quantity (time) or None, optional
        Time step (default the model's).
    fit : str, sequence of str or None, optional
        Activation candidates to fit to the trial-mean rate (estimates, labelled as fits).
    verdicts : sequence of mapping, optional
        Declared verdicts (see the module docstring), checked before the simulation runs.
    folds, n_bootstrap : int, optional
        Cross-validation folds and bootstrap resamples of the fits and the onset exponent.
    seed : int, optional
        Seeds the simulation and the resampling; default 0.
    target : str, optional
        Brian2 code-generation target ("cython" or "numpy").
    device : str, optional
        Brian2 device ("runtime" or "cpp_standalone").
    pulse_duration, pulse_start : Quantity (time) or None, optional
        Pulse-protocol timing.

    Returns
    -------
    (list of Verdict, dict of Dataset)
        The verdicts and ``{"sweep": Dataset}`` (with the fitted candidates' predictions as
        ``fit_<candidate>`` variables when ``fit`` is given).
    """
    from neurophase.micro.neurone import firing_curve, resolve_model
    from neurophase.neurons.fit import RESPONSE_MODELS

    resolved = resolve_model(model)
    input_unit = resolved.input_unit
    if resolved.kind != "spiking" or not input_unit:
        raise ParameterError(f"sweep needs a spiking model with an input; {resolved.name!r} is of kind "
                             f"{resolved.kind!r}.")
    fit = [fit] if isinstance(fit, str) else list(fit or [])
    unknown = [name for name in fit if name not in RESPONSE_MODELS]
    if unknown:
        raise ParameterError(f"sweep: unknown fit candidate(s) {', '.join(unknown)}; choose from "
                             f"{', '.join(sorted(RESPONSE_MODELS))}.")
    declared = _declared(verdicts, input_unit, fit)
    options = {key: value for key, value in (("pulse_duration", pulse_duration), ("pulse_start", pulse_start))
               if value is not None}
    dataset = firing_curve(resolved, inputs, protocol=protocol, duration=duration, noise=noise, noise_tau=noise_tau,
                           seeds=int(seeds), parameters=parameters, dt=dt, seed=seed, target=target, device=device,
                           progress=False, **options)
    if "direction" in dataset.dims:
        dataset = dataset.sel(direction="up", drop=True)
    fitted = onset = None
    if fit:
        import warnings

        from neurophase.neurons.fit import ActivationFit

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fitted = ActivationFit(candidates=fit, folds=folds, n_bootstrap=n_bootstrap,
                                   random_state=seed).fit(dataset[["rate"]])
        for name in fitted.candidates_:
            prediction = fitted.predict(dataset["input"].values * parse_unit(input_unit), candidate=name)
            dataset[f"fit_{name}"] = ("input", np.asarray(prediction / parse_unit("Hz"), dtype=float),
                                      {"units": "Hz", "long_name": f"{name} fit (an estimate)"})
    if any(item["quantity"] == "onset_exponent" for item in declared):
        from neurophase.mapping.fi_curve import onset_exponent

        onset = onset_exponent(dataset, n_bootstrap=n_bootstrap, random_state=seed)
    results = []
    for item in declared:
        measured, low, high, how = _measure(item, dataset, input_unit, fitted, onset)
        note = (f"{resolved.name}: {dataset.sizes['input']} levels, {int(seeds)} trial(s), protocol {protocol}; "
                f"{how}; units {item['unit']}. {item['note']}").strip()
        results.append(make_verdict(item["id"], f"{item['quantity']} ({item['unit']})", item["expected"], measured,
                                    low, high, tolerance=item["tolerance"], relative=item["relative"],
                                    rule=item["rule"], note=note))
    dataset.attrs["declared_verdicts"] = len(declared)
    return results, {"sweep": dataset}
