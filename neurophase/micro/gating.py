"""Steady-state gating functions of a conductance-based model file, evaluated by Brian2.

Functions
---------
gating_functions
    ``alpha_x``, ``beta_x`` and ``x_inf`` of every gate of a model file on a voltage grid: the
    expressions a simulation of that file uses.
model_temperature_kelvin
    The temperature a model file states (``[model] temperature``), in kelvin.
temperature_setting
    A temperature setting (quantity in kelvin, number of kelvin, "6.3 celsius") in kelvin,
    refusing anything that is not a temperature.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy import constants

from neurophase.errors import ParameterError
from neurophase.micro.modelfile import load_model

if TYPE_CHECKING:
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

    from neurophase.micro.modelfile import Model

__all__ = ["gating_functions", "model_temperature_kelvin", "temperature_setting"]


def temperature_setting(value: Quantity | str | float | None, name: str = "temperature") -> float | None:
    """A temperature in kelvin from a Brian2 quantity in kelvin, a number of kelvin, or text such
    as ``"6.3 celsius"`` / ``"279.45 kelvin"``; ``None`` passes through. Anything else (a voltage,
    a non-positive absolute temperature) raises, naming ``name``.

    Parameters
    ----------
    value : Quantity or str or float or None
        The setting: a Brian2 quantity in kelvin, a number of kelvin, or text in celsius or kelvin.
    name : str
        The setting's name, used in error messages.

    Returns
    -------
    float or None
        The absolute temperature in kelvin, or ``None`` when ``value`` is ``None``.

    >>> round(temperature_setting("6.3 celsius"), 2)
    279.45
    """
    if value is None:
        return None
    if isinstance(value, str):
        number, _, unit = value.strip().partition(" ")
        unit = unit.strip().lower()
        try:
            number = float(number)
        except ValueError:
            unit = ""
        if unit in ("celsius", "degc", "c"):
            kelvin = number + constants.zero_Celsius
        elif unit in ("kelvin", "k"):
            kelvin = number
        else:
            raise ParameterError(f"{name} = {value!r}: give it in celsius or kelvin, e.g. '6.3 celsius'.")
    else:
        from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions

        from neurophase.errors import UnitMismatchError
        from neurophase.units import parse_unit, to_magnitude

        dimensions = get_dimensions(value)
        if dimensions is DIMENSIONLESS:
            kelvin = float(value)
        elif dimensions is get_dimensions(parse_unit("kelvin")):
            kelvin = float(to_magnitude(value, "kelvin", name=name))
        else:
            raise UnitMismatchError(
                f"{name} = {value!s} is not a temperature; give it in kelvin (e.g. 279.45 * kelvin) or "
                "as text in celsius ('6.3 celsius').")
    if not (np.isfinite(kelvin) and kelvin > 0):
        raise ParameterError(f"{name} = {value!r} is not a positive absolute temperature.")
    return float(kelvin)


def model_temperature_kelvin(model: Model, temperature: Quantity | str | float | None = None) -> float:
    """The model's temperature in kelvin: ``temperature`` (see :func:`temperature_setting`: a
    Quantity in kelvin, a number of kelvin, or text such as "6.3 celsius"), else the model file's
    ``[model] temperature``.

    Parameters
    ----------
    model : Model
        A loaded model file.
    temperature : Quantity (temperature), str, float or None, optional
        Overrides the file's temperature: a Brian2 quantity in kelvin, a string "<number>
        celsius" / "<number> kelvin" (also "degC", "C", "K"), or a number read as kelvin.

    Returns
    -------
    float, K
        The temperature in kelvin.

    Raises
    ------
    ParameterError
        When neither the argument nor the file gives a temperature, or a string has another unit.
    """
    value = temperature
    if value is None:
        value = tomllib.loads(model.text).get("model", {}).get("temperature")
    if value is None:
        raise ParameterError(f"Model {model.name!r} states no temperature; pass temperature='6.3 celsius'.")
    return temperature_setting(value)


def gating_functions(model: str | Model, voltage_mV: ArrayLike,
                     gates: Sequence[str] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """``alpha_x``, ``beta_x`` (1/ms) and ``x_inf`` of every gate of ``model`` on a voltage grid.

    The model file's own equations are put into a Brian2 ``NeuronGroup`` (numpy target, one
    neurone per voltage, namespace from the file's parameters) and its ``alpha_x`` / ``beta_x``
    subexpressions are read back: exactly the expressions a simulation of that file uses.

    Parameters
    ----------
    model : str or Model
        Library name, path or loaded model.
    voltage_mV : array_like, mV
        Membrane potentials as plain numbers in mV, 1-D (one neurone each).
    gates : sequence of str or None, optional
        Gate names (default: every ``x`` with subexpressions ``alpha_x`` and ``beta_x``).

    Returns
    -------
    dict of str to dict of str to numpy.ndarray
        gate -> ``{"alpha": ..., "beta": ..., "inf": ...}``: the rates in 1/ms and
        ``x_inf = alpha / (alpha + beta)`` (dimensionless), each the length of ``voltage_mV``.
    """
    import brian2

    model = load_model(model) if isinstance(model, str) else model
    equations = brian2.Equations(model.equations)
    found = sorted(name[len("alpha_"):] for name in equations.subexpr_names
                   if name.startswith("alpha_") and f"beta_{name[len('alpha_'):]}" in equations.subexpr_names)
    gates = found if gates is None else list(gates)
    missing = [gate for gate in gates if gate not in found]
    if missing or not gates:
        raise ParameterError(
            f"Model {model.name!r} has no alpha_x/beta_x subexpressions for gate(s) {', '.join(missing) or '(none)'}; "
            f"its gates are: {', '.join(found) or '(none)'}.")
    voltages = [name for name in equations.diff_eq_names if equations[name].dim == brian2.volt.dim]
    if len(voltages) != 1:
        raise ParameterError(f"Model {model.name!r}: expected one membrane-potential state variable, found {voltages}.")
    voltage_mV = np.asarray(voltage_mV, dtype=float)
    group = brian2.NeuronGroup(voltage_mV.size, model.equations, namespace=model.namespace(),
                               method=model.method or "euler", codeobj_class=brian2.NumpyCodeObject,
                               name="gating_functions*")
    setattr(group, voltages[0], voltage_mV * brian2.mV)
    result = {}
    for gate in gates:
        alpha = np.asarray(getattr(group, f"alpha_{gate}")[:] * brian2.ms, dtype=float)
        beta = np.asarray(getattr(group, f"beta_{gate}")[:] * brian2.ms, dtype=float)
        result[gate] = {"alpha": alpha, "beta": beta, "inf": alpha / (alpha + beta)}
    group._network = "evaluated only"  # never simulated on purpose: silence Brian2's unused-object warning
    return result
