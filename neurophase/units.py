"""Physical units at the boundaries: Brian2 quantities in, unit strings out.

Every user-facing value enters neurophase as a :class:`brian2.units.Quantity` (or a string
such as ``"1.5 ms"`` in a model or experiment file) and leaves it as plain numbers together
with a unit string in ``attrs["units"]``. The unit strings use Brian2's own syntax
(``"mV"``, ``"uA/cm**2"``, ``"Hz"``, ``"1"`` for dimensionless), so that
:func:`parse_unit` turns them back into Brian2 units: a round trip
Quantity -> Dataset -> NetCDF -> Quantity loses nothing.

Functions
---------
parse_quantity
    ``"-65 mV"`` -> ``-65*mV``.
parse_unit
    ``"uA/cm**2"`` -> the Brian2 unit ``uA/cm**2``.
to_magnitude
    A quantity expressed as a float array in a given unit, with a dimension check.
to_quantity
    The inverse: numbers plus a unit string -> Quantity.
parse_grid
    ``{"start": "0 pA", "stop": "500 pA", "step": "10 pA"}`` (or ``"num"``) -> a Quantity array.
option_quantity
    A command-line option's text -> a finite Quantity of the right dimension (and sign), with
    errors that name the option and show a correct example.
setting_units
    Decorator declaring the unit of each keyword setting of a measurement function, so that an
    experiment file's settings are checked before anything runs.
"""

from __future__ import annotations

import ast
import numbers
import operator
import re
from typing import Any

import numpy as np
from brian2.units import allunits, stdunits
from brian2.units.fundamentalunits import (
    DIMENSIONLESS,
    Quantity,
    fail_for_dimension_mismatch,
    get_dimensions,
)

from neurophase.errors import UnitMismatchError

__all__ = [
    "dimension_text",
    "parse_quantity",
    "parse_unit",
    "to_magnitude",
    "to_quantity",
    "has_dimension_of",
    "format_quantity",
    "parse_grid",
    "GRID_KEYS",
    "ACCEPTED_FORMS",
    "setting_units",
    "option_quantity",
]

#: The keys of a grid table: ``start``, ``stop`` and either ``step`` or ``num``.
GRID_KEYS = (("start", "stop", "step"), ("start", "stop", "num"))

_UNIT_NAMESPACE = {}
for _module in (allunits, stdunits):
    for _name in dir(_module):
        _value = getattr(_module, _name)
        if isinstance(_value, Quantity) and not _name.startswith("_"):
            _UNIT_NAMESPACE[_name] = _value
# Common spellings that Brian2 does not define as names.
for _alias, _full in (("s", "second"), ("m", "metre"), ("A", "amp"), ("K", "kelvin"),
                      ("mol", "mole"), ("kg", "kilogram"), ("g", "gram")):
    _UNIT_NAMESPACE.setdefault(_alias, _UNIT_NAMESPACE[_full])
_UNIT_NAMESPACE.setdefault("uS", _UNIT_NAMESPACE["usiemens"])
_UNIT_NAMESPACE.setdefault("mS", _UNIT_NAMESPACE["msiemens"])
_UNIT_NAMESPACE.setdefault("nS", _UNIT_NAMESPACE["nsiemens"])
_UNIT_NAMESPACE.setdefault("pS", _UNIT_NAMESPACE["psiemens"])
for _prefix in ("", "k", "M", "G"):
    _UNIT_NAMESPACE.setdefault(f"{_prefix}Ohm", _UNIT_NAMESPACE[f"{_prefix}ohm"])

#: A number, optionally followed (with or without a space or a ``*``) by a unit expression.
_NUMBER_THEN_UNIT = re.compile(
    r"(?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(?:\*\s*)?(?P<unit>[A-Za-z(].*)?")

#: The spellings the command line and the experiment files accept (documented in ``--help``).
ACCEPTED_FORMS = ("2 s", "2s", "2*second", "2 * ms", "-65 mV", "1.5e2 pA", "0.5 uA/cm**2", "0.5 uA/cm2",
                  "0.5 uA/cm^2", "0.1 nS", "100 Mohm", "100 MOhm", "2 pA*ms**0.5")

_BINARY = {
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Add: operator.add,
    ast.Sub: operator.sub,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def _evaluate(node, text):
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, text)
    if isinstance(node, ast.Constant) and isinstance(node.value, numbers.Real):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in _UNIT_NAMESPACE:
            return _UNIT_NAMESPACE[node.id]
        raise UnitMismatchError(
            f"Unknown unit {node.id!r} in {text!r}. Use a Brian2 unit name such as "
            "mV, ms, Hz, pA, nS, uF/cm**2 (write powers with ** and products with *)."
        )
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _evaluate(node.left, text)
        right = _evaluate(node.right, text)
        try:
            return _BINARY[type(node.op)](left, right)
        except Exception as error:  # dimension mismatch in a sum, for example
            raise UnitMismatchError(f"Cannot evaluate {text!r}: {error}") from error
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand, text))
    raise UnitMismatchError(
        f"Cannot read {text!r} as a quantity: only numbers, Brian2 unit names and "
        "the operators * / ** + - are allowed (e.g. '1.5 ms', '-65*mV', '1 uF/cm**2')."
    )


def parse_quantity(text, expected=None, name=None):
    """Read a quantity written as text, e.g. ``"1.5 ms"``, ``"-65*mV"`` or ``"0.3"``.

    A number may be followed by its unit with a space, a ``*`` or nothing (``"2 s"``, ``"2*s"``,
    ``"2s"``); powers are written ``**`` or ``^``; Brian2's area units ``cm2``, ``um2`` exist as
    names (``"uA/cm2"`` equals ``"uA/cm**2"``); ``Ohm`` is accepted for ``ohm``
    (:data:`ACCEPTED_FORMS` lists examples). Numbers pass through.

    Parameters
    ----------
    text : str or number or Quantity
        The value to read.
    expected : Quantity or str, optional
        A unit whose dimension the result must have; a mismatch raises
        :class:`~neurophase.errors.UnitMismatchError` naming ``name``.
    name : str, optional
        The parameter name used in error messages.

    Examples
    --------
    >>> from brian2 import mV
    >>> bool(parse_quantity("-65 mV") == -65 * mV)
    True
    >>> float(parse_quantity("1 uF/cm**2") / parse_unit("uF/cm**2"))
    1.0
    """
    label = f"{name!r}" if name else "value"
    if isinstance(text, (Quantity, numbers.Real, np.ndarray)) and not isinstance(text, bool):
        value = text
    elif isinstance(text, str):
        stripped = text.strip()
        if not stripped:
            raise UnitMismatchError(f"Empty value for {label}: write a number with a unit, e.g. '1 ms'.")
        stripped = stripped.replace("^", "**")
        leading = _NUMBER_THEN_UNIT.fullmatch(stripped)
        if leading and leading.group("unit"):
            # "1.5 ms", "1.5ms", "1.5*ms", "1 uF/cm**2": a number followed by a unit expression
            stripped = f"({leading.group('number')}) * ({leading.group('unit')})"
        try:
            tree = ast.parse(stripped, mode="eval")
        except SyntaxError as error:
            raise UnitMismatchError(
                f"Cannot read {text!r} for {label} as a quantity (syntax error). "
                "Write a number and a Brian2 unit, e.g. '1.5 ms' or '-65*mV'."
            ) from error
        value = _evaluate(tree, text)
    else:
        raise UnitMismatchError(
            f"{label} must be a number, a Brian2 quantity or a string such as '1.5 ms'; got {type(text).__name__}."
        )
    if expected is not None:
        expected_unit = parse_unit(expected) if isinstance(expected, str) else expected
        if not has_dimension_of(value, expected_unit):
            raise UnitMismatchError(
                f"{label} = {text!r} has dimension {get_dimensions(value)!s} but must have the "
                f"dimension of {expected if isinstance(expected, str) else expected_unit!s} "
                f"({get_dimensions(expected_unit)!s}). Fix its unit."
            )
    return value


def parse_unit(text):
    """Turn a unit string written in Brian2 syntax into a Brian2 unit.

    ``"1"`` and ``""`` mean dimensionless. ``"uA/(cm^2)"`` (Brian2's own ``str`` of a unit)
    is accepted too.

    >>> from brian2 import uA, cm
    >>> bool(parse_unit("uA/cm**2") == uA / cm**2)
    True
    >>> parse_unit("1")
    1.0
    """
    if isinstance(text, Quantity):
        return text
    if text is None or str(text).strip() in ("", "1", "dimensionless"):
        return 1.0
    cleaned = str(text).strip().replace("^", "**")
    # Brian2 writes products with a space ("pA s"): make them explicit
    cleaned = re.sub(r"(?<=[A-Za-z0-9_)])\s+(?=[A-Za-z(])", "*", cleaned)
    value = parse_quantity(cleaned)
    if isinstance(value, numbers.Real) and not isinstance(value, Quantity):
        raise UnitMismatchError(f"{text!r} is a number, not a unit; use '1' for dimensionless.")
    return value


def has_dimension_of(value, unit):
    """True when ``value`` has the physical dimension of ``unit`` (both may be plain numbers)."""
    return get_dimensions(value) is get_dimensions(unit)


def to_magnitude(value, unit, name=None):
    """Express ``value`` in ``unit`` (a unit string or a Brian2 unit) as a float ndarray.

    Raises :class:`~neurophase.errors.UnitMismatchError` when the dimensions differ; a plain
    number is accepted only for a dimensionless unit.

    >>> from brian2 import mV, volt
    >>> float(to_magnitude(0.01 * volt, "mV"))
    10.0
    """
    unit_quantity = parse_unit(unit) if isinstance(unit, str) or unit is None else unit
    label = f"{name!r}" if name else "value"
    if isinstance(value, str):
        value = parse_quantity(value, name=name)
    try:
        fail_for_dimension_mismatch(value, unit_quantity)
    except Exception:
        raise UnitMismatchError(
            f"{label} has dimension {get_dimensions(value)!s}, expected the dimension of "
            f"{unit!s} ({get_dimensions(unit_quantity)!s}). Pass it with a unit, e.g. "
            f"`values * {unit}` using brian2's units."
        ) from None
    return np.asarray(value / unit_quantity, dtype=float)


def to_quantity(values, unit):
    """Numbers in ``unit`` (a unit string) -> a Brian2 Quantity (plain array if dimensionless)."""
    unit_quantity = parse_unit(unit)
    if get_dimensions(unit_quantity) is DIMENSIONLESS:
        return np.asarray(values, dtype=float) * float(unit_quantity)
    return np.asarray(values, dtype=float) * unit_quantity


def format_quantity(value, unit, digits=4):
    """Short human-readable text of ``value`` in ``unit``, e.g. ``'12.5 pA'``."""
    magnitude = to_magnitude(value, unit)
    unit_text = "" if unit in ("1", "", None) else f" {unit}"
    if magnitude.ndim == 0:
        return f"{float(magnitude):.{digits}g}{unit_text}"
    return f"{np.array2string(magnitude, precision=digits)}{unit_text}"


def parse_grid(table, name="grid"):
    """An evenly spaced grid written as a table, e.g. in an experiment file.

    ``{"start": "0 pA", "stop": "500 pA", "step": "10 pA"}`` gives 0, 10, ..., 500 pA (the stop
    is included when it lies on the grid); ``{"start": ..., "stop": ..., "num": 37}`` gives
    ``numpy.linspace(start, stop, num)``. Start, stop and step are quantities (or strings) of one
    dimension.

    Examples
    --------
    >>> from brian2 import pA
    >>> grid = parse_grid({"start": "0 pA", "stop": "20 pA", "step": "10 pA"})
    >>> [float(value / pA) for value in grid]
    [0.0, 10.0, 20.0]
    >>> len(parse_grid({"start": "1 ms", "stop": "2 ms", "num": 5}))
    5
    """
    keys = tuple(sorted(table))
    if keys not in (tuple(sorted(option)) for option in GRID_KEYS):
        raise UnitMismatchError(
            f"{name} = {table!r} is not a grid: write {{start = \"0 pA\", stop = \"500 pA\", step = \"10 pA\"}} "
            "or {start = ..., stop = ..., num = 51}.")
    start = parse_quantity(table["start"], name=f"{name}.start")
    unit_dimension = get_dimensions(start)
    stop = parse_quantity(table["stop"], expected=start if unit_dimension is not DIMENSIONLESS else None,
                          name=f"{name}.stop")
    unit = Quantity(1.0, dim=unit_dimension)
    first, last = float(np.asarray(start / unit)), float(np.asarray(stop / unit))
    if not (np.isfinite(first) and np.isfinite(last)):
        raise UnitMismatchError(f"{name}: start and stop must be finite numbers.")
    if "num" in table:
        count = table["num"]
        if not isinstance(count, numbers.Integral) or count < 1:
            raise UnitMismatchError(f"{name}.num = {count!r} must be a positive whole number of points.")
        return np.linspace(first, last, int(count)) * unit
    step = float(np.asarray(parse_quantity(table["step"], expected=start if unit_dimension is not DIMENSIONLESS
                                           else None, name=f"{name}.step") / unit))
    if not np.isfinite(step) or step <= 0 or last < first:
        raise UnitMismatchError(f"{name}: step must be positive and stop >= start (got start {first:g}, "
                                f"stop {last:g}, step {step:g}).")
    count = int(np.floor((last - first) / step * (1 + 1e-12) + 1e-9)) + 1
    return np.round(first + step * np.arange(count), 12) * unit

_NOT_FINITE = re.compile(r"(?<![A-Za-z_])(nan|inf|infinity)(?![A-Za-z_0-9])", re.IGNORECASE)


def option_quantity(text, option, unit, example, sign=None):
    """Read the value of a command-line option such as ``--duration "30 ms"``.

    Every error is a :class:`~neurophase.errors.ParameterError` (the command line prints it as
    one ``error:`` line) that names ``option`` and shows ``example``: text that is not a
    quantity, a non-finite number (``nan``, ``inf``), a dimension other than that of ``unit``,
    or a value of the wrong ``sign``.

    Parameters
    ----------
    text : str or None
        What the user typed; None (the option was not given) passes through as None.
    option : str
        The option's name, e.g. ``"--duration"``.
    unit : str
        A unit of the expected dimension, e.g. ``"ms"`` (Brian2 syntax).
    example : str
        A correct value for the messages, e.g. ``"30 ms"``.
    sign : {None, "positive", "non-negative"}
        Also require ``value > 0`` or ``value >= 0``.

    Returns
    -------
    Quantity or None
        The value (all its elements, if it is an array) with the dimension of ``unit``.

    Examples
    --------
    >>> from brian2 import ms
    >>> bool(option_quantity("30 ms", "--duration", "ms", "30 ms", sign="positive") == 30 * ms)
    True
    """
    from neurophase.errors import ParameterError

    if text is None:
        return None
    fix = f"e.g. {option} '{example}'"
    if isinstance(text, str) and _NOT_FINITE.search(text):
        raise ParameterError(f"{option} {text!r} is not a finite number; give a finite value with its unit, {fix}.")
    try:
        value = parse_quantity(text, name=option)
    except UnitMismatchError as error:
        reason = " ".join(str(error).split()).rstrip(".")
        raise ParameterError(f"{option} {text!r} cannot be read ({reason}); {fix}.") from None
    expected = parse_unit(unit)
    if not has_dimension_of(value, expected):
        raise ParameterError(
            f"{option} {text!r} has dimension {get_dimensions(value)!s}, not that of {unit} "
            f"({get_dimensions(expected)!s}); give it in {unit} or another unit of that dimension, {fix}.")
    magnitude = np.asarray(value / expected, dtype=float)
    if not np.all(np.isfinite(magnitude)):
        raise ParameterError(f"{option} {text!r} is not a finite number; give a finite value with its unit, {fix}.")
    if sign == "positive" and not np.all(magnitude > 0):
        raise ParameterError(f"{option} {text!r} must be positive, {fix}.")
    if sign == "non-negative" and not np.all(magnitude >= 0):
        raise ParameterError(f"{option} {text!r} must not be negative, {fix}.")
    return value


def setting_units(numbers=(), **units):
    """Declare the physical unit of keyword settings of a measurement function.

    :mod:`neurophase.experiments` checks every setting of an experiment file against it before
    anything runs (a temperature written ``"1 mV"`` is an error, not 0.001). Settings that are
    not declared are checked against their default: a number means a dimensionless number, a
    quantity means that dimension, ``None`` means no check.

    Parameters
    ----------
    numbers : sequence of str
        Declared settings that the function takes as plain numbers in the declared unit (a
        quantity in the experiment file is converted to that number). The others take Brian2
        quantities of the declared dimension (a plain number is refused unless the unit is
        ``"1"``).
    **units
        Setting name -> unit string (``"ms"``, ``"1/ms"``, ``"mV"``) or a callable
        ``check(value, name) -> value`` raising :class:`~neurophase.errors.NeurophaseError`.

    Examples
    --------
    >>> @setting_units(numbers=("step",), duration="ms", step="mV")
    ... def measure(duration=None, step=1.0):
    ...     return duration
    >>> measure.setting_units, measure.setting_numbers
    ({'duration': 'ms', 'step': 'mV'}, ('step',))
    """
    unknown = sorted(set(numbers) - set(units))
    if unknown:
        raise ValueError(f"numbers names undeclared settings: {unknown}")

    def decorate(function):
        function.setting_units = dict(units)
        function.setting_numbers = tuple(numbers)
        return function

    return decorate


_SI_BASE_UNITS = ("metre", "kilogram", "second", "amp", "kelvin", "mole", "candela")


def dimension_text(dimension: Any) -> str:
    """A unit string for a Brian2 dimension, in SI base units, that Brian2's equation parser and
    :func:`parse_unit` read back (e.g. a variable declaration ``I : amp / metre**2``).

    Parameters
    ----------
    dimension : brian2 Dimension
        E.g. ``get_dimensions(1 * uA / cm**2)``.

    Returns
    -------
    str
        Positive powers joined by ``*``, then each negative power after a ``/``; ``"1"`` for a
        dimensionless quantity.

    >>> from brian2 import cm, get_dimensions, uA
    >>> dimension_text(get_dimensions(uA / cm**2))
    'amp / metre**2'
    """
    powers = list(zip(_SI_BASE_UNITS, dimension._dims))
    numerator = [f"{name}**{power:g}" if power != 1 else name for name, power in powers if power > 0]
    denominator = [f"{name}**{-power:g}" if power != -1 else name for name, power in powers if power < 0]
    return " / ".join([" * ".join(numerator) or "1", *denominator])
