"""Model files: Brian2 equations, parameters with units, initial state and metadata.

A model file is TOML with these tables (unknown tables or keys are an error, so a typo never
passes silently)::

    [model]                       # required
    name = "hodgkin_huxley_1952"  # required; equals the file stem for library models
    kind = "spiking"              # required: "spiking" or "ising_membrane"
    title = "..."                 # required
    citation = "..."              # required: where the equations and values come from
    description = "..."           # optional
    class = "2"                   # optional: excitability class ("1", "2", "3")
    order_parameter = "m"         # optional: the gate whose open fraction is the order parameter
                                  # of the coarse-graining (neurophase.mapping.coarse_grain);
                                  # default: the fastest activating gate of a depolarising
                                  # conductance. Declare it where that choice is ambiguous.

    [simulation]                  # optional
    dt = "0.01 ms"                # recommended time step
    max_dt = "0.05 ms"            # the largest time step the model is accurate at
    method = "exponential_euler"  # Brian2 integration method

    [equations]                   # required
    model = '''dv/dt = ... : volt'''   # Brian2 equations
    threshold = "v > -20*mV"      # spiking models: required
    reset = ""                    # optional
    refractory = "v > -20*mV"     # optional (a duration or a condition)
    input = "I_input"             # spiking models: the injected-drive parameter
    input_unit = "uA/cm**2"       # its unit (must match the equations)
    update = '''...'''            # ising_membrane: the per-step update code

    [parameters]                  # values with units, as strings: Cm = "1 uF/cm**2"
    [initial]                     # initial state: v = "-65 mV"

    [channels.Na]                 # optional: exact Markov channel-state counts (spiking models)
    gates = { m = 3, h = 1 }      # independent two-state gates, rates alpha_m, beta_m, ...
    number = "N_Na"               # channel count, an expression of [parameters]

The ``[channels]`` tables (format and algorithm in :mod:`neurophase.micro.channels`) add, per
channel type ``C``, integer counts of channels in every kinetic state, updated every step by
exact multinomial draws; the equations use ``C_open`` (the open fraction) in the conductance.

    [fit]                         # optional: the parameters a fit may change, with bounds
    tau_m = { low = "5 ms", high = "100 ms", scale = "log" }    # scale: "linear" or "log"
    E_L = { low = "-90 mV", high = "-50 mV" }                   # (default "linear")

``[fit]`` declares which parameters ``neurophase fit`` (:mod:`neurophase.fit`) may change and
the physiological range it searches by default: every key is a parameter of ``[parameters]``,
``low`` and ``high`` carry units of that parameter's dimension with ``low < high``, and
``scale = "log"`` (positive bounds only) searches the logarithm of the parameter, as for
conductances, resistances and time constants that span decades. The bounds are where the
search looks, not physical limits; the command line's ``--param NAME LOW HIGH UNIT`` replaces
them for one fit. :func:`model_text` writes a Model back as a model file (the fitted cell's
``fitted.toml``).

Use :func:`load_model` with a library model name (see :func:`neurophase.resources.list_models`)
or a path to a file of one's own; both return a :class:`Model`.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING

from neurophase.errors import ModelFileError, NeurophaseError
from neurophase.micro.channels import channel_names, check_channel_rates, parse_channel_table
from neurophase.resources import list_models, models_directory
from neurophase.schema import content_hash
from neurophase.tomlfile import read_tables
from neurophase.units import parse_quantity

if TYPE_CHECKING:
    from brian2.units.fundamentalunits import Quantity

__all__ = ["Model", "FitRange", "load_model", "load_model_text", "model_text", "quantity_text", "display_unit",
           "FIT_SCALES"]

_ALLOWED = {
    "model": {"name", "kind", "title", "citation", "description", "class", "temperature", "order_parameter"},
    "simulation": {"dt", "max_dt", "method"},
    "equations": {"model", "threshold", "reset", "refractory", "input", "input_unit", "update"},
    "parameters": None,  # any name
    "initial": None,
    "channels": None,  # one table per channel type, checked by neurophase.micro.channels
    "fit": None,  # any parameter name -> {low, high, scale}
}
#: Search scales a ``[fit]`` range may use.
FIT_SCALES = ("linear", "log")
_REQUIRED_MODEL_KEYS = ("name", "kind", "title", "citation")
_KINDS = ("spiking", "ising_membrane")

# Names Brian2 provides inside equations without a namespace entry.
_BRIAN_BUILTINS = {
    "t", "dt", "i", "N", "xi", "rand", "randn", "exp", "log", "log10", "sqrt", "sin", "cos",
    "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "abs", "sign", "clip",
    "floor", "ceil", "int", "exprel", "True", "False", "inf", "pi", "e", "lastspike",
    "not_refractory", "timestep", "poisson",
}


@dataclasses.dataclass(frozen=True)
class FitRange:
    """The search range of one fittable parameter (a ``[fit]`` entry).

    Attributes
    ----------
    low, high : Quantity or float
        Bounds in the parameter's dimension, ``low < high``.
    scale : {"linear", "log"}
        ``"log"``: the search is uniform in the logarithm (both bounds positive).
    """

    low: Quantity | float
    high: Quantity | float
    scale: str = "linear"


@dataclasses.dataclass(frozen=True)
class Model:
    """A loaded model file. Values are Brian2 quantities; use :meth:`namespace` in Brian2.

    Attributes
    ----------
    name, kind, title, citation, description : str
        Metadata from ``[model]``.
    equations : str
        Brian2 equations (``[equations] model``).
    threshold, reset : str or None
        Brian2 spike condition and reset code.
    refractory : Quantity (time), str or None
        Refractoriness: a duration, or a Brian2 condition.
    input_variable, input_unit : str or None
        The parameter that carries the injected drive, and its unit string.
    update : str or None
        Per-step update code (Ising membranes).
    parameters, initial : dict
        Name -> Brian2 Quantity (or float for dimensionless values).
    channels : dict
        Markov channel types of ``[channels]``: name ->
        :class:`~neurophase.micro.channels.ChannelType` (empty for most models).
    dt, max_dt : Quantity or None
        Recommended and largest accurate time step.
    method : str or None
        Brian2 integration method.
    excitability_class : str or None
        Hodgkin's excitability class (``"1"``, ``"2"``, ``"3"``; ``class`` in ``[model]``).
    order_parameter : str or None
        The gate whose open fraction is the order parameter of the coarse-graining (None: the
        default rule of :func:`neurophase.mapping.coarse_grain`).
    fit : dict
        ``[fit]``: parameter name -> :class:`FitRange` (empty when the file has no ``[fit]``).
    source : str
        Path of the file, or ``"<string>"``.
    text : str
        The file's text; ``content_hash`` identifies it in provenance.
    """

    name: str
    kind: str
    title: str
    citation: str
    description: str
    equations: str
    threshold: str | None
    reset: str | None
    refractory: Quantity | str | None
    input_variable: str | None
    input_unit: str | None
    update: str | None
    parameters: dict
    initial: dict
    dt: Quantity | None
    max_dt: Quantity | None
    method: str | None
    excitability_class: str | None
    source: str
    text: str
    order_parameter: str | None = None
    channels: dict = dataclasses.field(default_factory=dict)
    fit: dict = dataclasses.field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """SHA-256 prefix of the file text (goes into Dataset provenance)."""
        return content_hash(self.text)

    def namespace(self, **overrides: Quantity | float | str) -> dict[str, Quantity | float]:
        """Parameters as a Brian2 namespace dict; ``overrides`` replace values (units checked).

        Parameters
        ----------
        **overrides : Quantity, float or str
            Parameter name -> value in the parameter's dimension (a string such as
            ``"120 mS/cm**2"`` is parsed).

        Returns
        -------
        dict of str to Quantity or float
            Every parameter of the model.

        Raises
        ------
        ModelFileError
            A name that is not a parameter of the model.
        UnitMismatchError
            A value of the wrong dimension.
        """
        namespace = dict(self.parameters)
        for key, value in overrides.items():
            if key not in namespace:
                raise ModelFileError(
                    f"Model {self.name!r} has no parameter {key!r}; its parameters are "
                    f"{', '.join(sorted(namespace))}."
                )
            namespace[key] = parse_quantity(value, expected=_unit_of(namespace[key]), name=key)
        return namespace

    def provenance(self) -> dict[str, str]:
        """Attributes describing this model for ``Dataset.attrs``.

        Returns
        -------
        dict of str to str
            ``model_name``, ``model_hash``, ``model_citation``, ``model_source``.
        """
        return {
            "model_name": self.name,
            "model_hash": self.content_hash,
            "model_citation": self.citation,
            "model_source": self.source,
        }


def _unit_of(value):
    from brian2.units.fundamentalunits import Quantity, get_unit

    if isinstance(value, Quantity):
        return get_unit(value.dim)
    return 1.0


def load_model(name_or_path: str | Path) -> Model:
    """Load a library model by name (e.g. ``"hodgkin_huxley_1952"``) or a model file by path.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A library model name (:func:`neurophase.resources.list_models`) or the path of a
        ``.toml`` model file.

    Returns
    -------
    Model
        The parsed, checked model.

    Raises
    ------
    ModelFileError
        Unknown name (the message lists the library), unreadable TOML, unknown or missing keys,
        unit errors in ``[parameters]``, or identifiers in the equations with no parameter.
    """
    candidate = Path(str(name_or_path))
    if candidate.suffix == ".toml" or candidate.exists():
        if not candidate.exists():
            raise ModelFileError(f"Model file {candidate} does not exist. Check the path.")
        return load_model_text(candidate.read_text(), source=str(candidate))
    library_file = models_directory() / f"{name_or_path}.toml"
    if not library_file.exists():
        known = ", ".join(list_models()) or "(none found)"
        raise ModelFileError(
            f"Unknown model {name_or_path!r}. Use one of the library models ({known}) or the path "
            "of a model file ending in .toml."
        )
    return load_model_text(library_file.read_text(), source=str(library_file))


def _quantities(data, table, where, what):
    """The values of ``data[table]`` as quantities; a unit error names ``what`` and the key."""
    values = {}
    for key, value in data.get(table, {}).items():
        try:
            values[key] = parse_quantity(value, name=key)
        except NeurophaseError as error:
            raise ModelFileError(f"{where}: {what} {key}: {error}") from error
    return values


def load_model_text(text: str, source: str = "<string>") -> Model:
    """Parse the text of a model file (see the module docstring for the format).

    Parameters
    ----------
    text : str
        The TOML text.
    source : str
        Where it came from (a path), named in error messages and in :attr:`Model.source`.

    Returns
    -------
    Model
        The parsed model, its units and identifiers checked.

    Raises
    ------
    ModelFileError
        Invalid TOML, unknown or missing keys, unit errors, unknown identifiers.
    """
    where = f"model file {source}"
    data = read_tables(text, where, _ALLOWED, ModelFileError,
                       "unknown table [{table}]. Allowed tables: " + ", ".join(f"[{name}]" for name in _ALLOWED) + ".",
                       table_hint="a table of key = value lines")
    meta = data.get("model")
    if meta is None:
        raise ModelFileError(f"{where}: the [model] table is missing; add name, kind, title, citation.")
    missing = [key for key in _REQUIRED_MODEL_KEYS if not str(meta.get(key, "")).strip()]
    if missing:
        raise ModelFileError(f"{where}: [model] is missing {', '.join(missing)}; add them.")
    if meta["kind"] not in _KINDS:
        raise ModelFileError(
            f"{where}: [model] kind = {meta['kind']!r} is not one of {', '.join(_KINDS)}."
        )
    equations = data.get("equations", {})
    if not str(equations.get("model", "")).strip():
        raise ModelFileError(f"{where}: [equations] model is missing; give the Brian2 equations.")
    parameters = _quantities(data, "parameters", where, "parameter")
    initial = _quantities(data, "initial", where, "initial value")
    simulation = data.get("simulation", {})
    timing = {}
    for key in ("dt", "max_dt"):
        if key in simulation:
            try:
                timing[key] = parse_quantity(simulation[key], expected="ms", name=key)
            except NeurophaseError as error:
                raise ModelFileError(f"{where}: [simulation] {key}: {error}") from error
    channels = parse_channel_table(data.get("channels"), where)
    if channels and meta["kind"] != "spiking":
        raise ModelFileError(f"{where}: [channels] needs kind = \"spiking\" (a membrane with a voltage).")
    refractory = equations.get("refractory")
    if isinstance(refractory, str) and _looks_like_duration(refractory):
        refractory = parse_quantity(refractory, expected="ms", name="refractory")
    model = Model(
        name=meta["name"],
        kind=meta["kind"],
        title=meta["title"],
        citation=meta["citation"],
        description=meta.get("description", ""),
        equations=equations["model"],
        threshold=equations.get("threshold") or None,
        reset=equations.get("reset") or None,
        refractory=refractory,
        input_variable=equations.get("input"),
        input_unit=equations.get("input_unit"),
        update=equations.get("update"),
        parameters=parameters,
        initial=initial,
        dt=timing.get("dt"),
        max_dt=timing.get("max_dt"),
        method=simulation.get("method"),
        excitability_class=str(meta["class"]) if "class" in meta else None,
        source=source,
        text=text,
        order_parameter=str(meta["order_parameter"]) if meta.get("order_parameter") else None,
        channels=channels,
        fit=_fit_ranges(data.get("fit", {}), parameters, where),
    )
    _check_identifiers(model, where)
    _check_dimensions(model, where)
    return model


def _fit_ranges(table, parameters, where):
    """``[fit]`` -> name -> :class:`FitRange`, every entry checked against ``[parameters]``."""
    from brian2.units.fundamentalunits import get_dimensions

    ranges = {}
    for name, entry in table.items():
        if name not in parameters:
            raise ModelFileError(
                f"{where}: [fit] names {name!r}, which is not in [parameters]; fittable parameters must "
                f"be parameters of the model ({', '.join(sorted(parameters))}).")
        if not isinstance(entry, dict) or not {"low", "high"} <= set(entry) or set(entry) - {"low", "high", "scale"}:
            raise ModelFileError(
                f"{where}: [fit] {name} must be a table {{ low = \"...\", high = \"...\", scale = \"linear\" "
                "or \"log\" }} with units, e.g. tau_m = { low = \"5 ms\", high = \"100 ms\", scale = \"log\" }.")
        scale = entry.get("scale", "linear")
        if scale not in FIT_SCALES:
            raise ModelFileError(f"{where}: [fit] {name} scale = {scale!r}; use \"linear\" or \"log\".")
        try:
            low = parse_quantity(entry["low"], name=f"[fit] {name} low")
            high = parse_quantity(entry["high"], name=f"[fit] {name} high")
        except NeurophaseError as error:
            raise ModelFileError(f"{where}: {error}") from error
        for bound in (low, high):
            if get_dimensions(bound) is not get_dimensions(parameters[name]):
                raise ModelFileError(
                    f"{where}: [fit] {name} bound {bound!s} has the wrong unit; {name} = {parameters[name]!s} "
                    f"has dimension {get_dimensions(parameters[name])!s}.")
        if float(_si(low)) >= float(_si(high)):
            raise ModelFileError(f"{where}: [fit] {name}: low ({low!s}) must be below high ({high!s}).")
        if scale == "log" and float(_si(low)) <= 0:
            raise ModelFileError(
                f"{where}: [fit] {name}: a log scale needs positive bounds (low = {low!s}); use scale = \"linear\".")
        ranges[name] = FitRange(low, high, scale)
    return ranges


def _si(value):
    import numpy as np

    return np.asarray(value, dtype=float)


def _looks_like_duration(text):
    return re.fullmatch(r"\s*[-+0-9.eE]+\s*\*?\s*[a-zA-Z]*s\s*", text) is not None


def _check_identifiers(model, where):
    """Every name used in the equations/conditions is a variable, a parameter or a Brian2 name."""
    from brian2 import Equations
    from brian2.units.fundamentalunits import Quantity

    from neurophase.units import _UNIT_NAMESPACE

    try:
        equations = Equations(model.equations)
    except Exception as error:  # Brian2 raises several types for syntax errors
        raise ModelFileError(f"{where}: the Brian2 equations do not parse: {error}") from error
    defined = (set(equations.names) | set(model.parameters) | _BRIAN_BUILTINS | set(_UNIT_NAMESPACE)
               | set(equations.stochastic_variables) | channel_names(model.channels))
    used = set(equations.identifiers)
    for code in (model.threshold, model.reset, model.update,
                 model.refractory if isinstance(model.refractory, str) else None):
        if code:
            used |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", code))
    missing = sorted(name for name in used - defined if not name.startswith("_"))
    if missing:
        raise ModelFileError(
            f"{where}: the equations use {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} neither a state variable nor a parameter. "
            "Add a value with its unit to [parameters] (e.g. gL = \"0.3 mS/cm**2\")."
        )
    if model.order_parameter and model.order_parameter not in equations.names:
        raise ModelFileError(
            f"{where}: [model] order_parameter = {model.order_parameter!r} is not a variable of the "
            f"equations; name one of its gates ({', '.join(sorted(equations.names))}).")
    if model.channels:
        check_channel_rates(model.channels, equations, model.parameters, where)
    if model.input_variable and model.input_variable not in equations.names | set(model.parameters):
        raise ModelFileError(
            f"{where}: [equations] input = {model.input_variable!r} is not a variable of the equations."
        )
    for name, value in model.initial.items():
        if name not in equations.names:
            raise ModelFileError(
                f"{where}: [initial] sets {name!r}, which is not a variable of the equations."
            )
        if name in equations and isinstance(value, (Quantity, float, int)):
            from brian2.units.fundamentalunits import get_dimensions

            if get_dimensions(value) is not equations[name].dim:
                raise ModelFileError(
                    f"{where}: [initial] {name} = {value!s} has the wrong unit; the equations "
                    f"declare {name} with dimension {equations[name].dim!s}."
                )


def _line_of(text, patterns):
    """1-based number of the first line of ``text`` matching the first pattern that matches any
    line (regexes, most specific first)."""
    lines = text.splitlines()
    for pattern in patterns:
        for number, line in enumerate(lines, start=1):
            if re.search(pattern, line):
                return number
    return None


def _check_dimensions(model, where):
    """Brian2's own unit checks of the equations, threshold, reset and update code, run once on
    a one-neurone group (numpy target, nothing compiled, about 20 ms), so that a dimensionally
    wrong model file fails when it is loaded, with its file and line, not deep inside a run."""
    import brian2
    from brian2.equations.equations import PARAMETER, SingleEquation
    from brian2.equations.unitcheck import check_units_statements
    from brian2.parsing.expressions import is_boolean_expression, parse_expression_dimensions
    from brian2.units.fundamentalunits import DimensionMismatchError
    from brian2.utils.stringtools import get_identifiers

    equations = brian2.Equations(model.equations)
    # linked variables (Ising ensembles) are linked only when a network is built: check them as
    # parameters of their declared unit
    plain = [SingleEquation(PARAMETER, equation.varname, equation.dim, equation.var_type,
                            flags=[flag for flag in equation.flags if flag != "linked"])
             if "linked" in equation.flags else equation for equation in equations.values()]
    refractory = model.refractory if model.refractory is not None else False
    # names the simulator adds at run time (neurophase.micro.ising: the coupling J and tau0)
    run_namespace = {}
    if model.kind == "ising_membrane":
        run_namespace = {name: value for name, value in (("J", 1.0), ("tau0", 1 * brian2.ms))
                         if name not in model.parameters}
    group = None
    part, line_patterns = "equations", []
    try:
        checked = brian2.Equations(plain)
        namespace = model.namespace()
        if model.channels:  # the Markov channel counts and fractions the simulator adds
            from neurophase.micro.channels import markov_scheme

            scheme = markov_scheme(model)
            checked = checked + brian2.Equations(scheme.equations())
            namespace.update(scheme.namespace())
        group = brian2.NeuronGroup(1, checked, refractory=refractory, namespace=namespace,
                                   codeobj_class=brian2.NumpyCodeObject, method=model.method or "euler",
                                   name="model_file_check*")
        try:
            group.equations.check_units(group, run_namespace=run_namespace)
        except DimensionMismatchError as error:
            found = re.search(r"variable '(\w+)'", str(error))
            if found:
                name = re.escape(found.group(1))
                line_patterns = [rf"^\s*d{name}\s*/\s*dt\s*=", rf"^\s*{name}\s*="]
            raise

        def resolved(code):
            # the code's names and those its subexpressions use (Brian2 expands them)
            names = (get_identifiers(code) | group.equations.identifiers) - {"True", "False"}
            variables = dict(group.variables)
            variables.update(group.resolve_all(names - set(group.variables), run_namespace=run_namespace,
                                               user_identifiers=set()))
            return variables

        if model.threshold:
            part, line_patterns = "threshold", [r"^\s*threshold\s*="]
            variables = resolved(model.threshold)
            parse_expression_dimensions(model.threshold, variables)
            if not is_boolean_expression(model.threshold, variables):
                raise ModelFileError(
                    f"{where}, line {_line_of(model.text, line_patterns)}: threshold = "
                    f"{model.threshold!r} is not a condition; write one such as 'v > -20*mV'.")
        if isinstance(model.refractory, str):
            part, line_patterns = "refractory", [r"^\s*refractory\s*="]
            parse_expression_dimensions(model.refractory, resolved(model.refractory))
        for label, code in (("reset", model.reset), ("update", model.update)):
            if code:
                part, line_patterns = label, [rf"^\s*{label}\s*="]
                variables = resolved(code)
                try:
                    check_units_statements(code, variables)
                except DimensionMismatchError:
                    # the first statement that fails (later ones may use earlier temporaries)
                    statements = [line for line in code.splitlines() if line.strip()]
                    for count in range(1, len(statements) + 1):
                        try:
                            check_units_statements("\n".join(statements[:count]), variables)
                        except DimensionMismatchError:
                            line_patterns = [re.escape(statements[count - 1].strip())] + line_patterns
                            break
                    raise
    except ModelFileError:
        raise
    except (DimensionMismatchError, SyntaxError, KeyError, TypeError, ValueError, AssertionError) as error:
        line = _line_of(model.text, line_patterns) if line_patterns else None
        message = " ".join(str(error).split()).rstrip(".")
        raise ModelFileError(
            f"{where}{f', line {line}' if line else ''} ({part}): {message}. Fix the units of "
            "that line (every term of a sum needs the same unit; a differential equation's "
            "right-hand side has the unit of its variable per second).") from None
    finally:
        if group is not None:
            group._network = "checked only"  # never simulated on purpose: no unused-object warning


# --------------------------------------------------------------------------------------------
# Writing a model file
# --------------------------------------------------------------------------------------------
#: Units a written model file prefers for a value of the same dimension (first match wins).
_DISPLAY_UNITS = ("mV", "ms", "pA", "nS", "pF", "Mohm", "Hz", "uF/cm**2", "mS/cm**2", "uA/cm**2", "um**2",
                  "nA", "uS", "nF")


def display_unit(value: Quantity | float) -> str:
    """The unit (text) a written model file uses for ``value``'s dimension ("1" if dimensionless).

    Parameters
    ----------
    value : Quantity (any dimension) or float
        A parameter value.

    Returns
    -------
    str
        A Brian2 unit string (e.g. ``"nS"``), ``"1"`` for a dimensionless value.

    Examples
    --------
    >>> from brian2 import nS
    >>> display_unit(3 * nS)
    'nS'
    """
    from brian2.units.fundamentalunits import Quantity, get_dimensions

    text = quantity_text(value)
    if not isinstance(value, Quantity) or get_dimensions(value).is_dimensionless:
        return "1"
    return text.split(" ", 1)[1].lstrip("* ")


def quantity_text(value: Quantity | float) -> str:
    """A Quantity as text that :func:`neurophase.units.parse_quantity` reads back exactly.

    Parameters
    ----------
    value : Quantity (any dimension) or float
        The value (12 significant digits are written).

    Returns
    -------
    str
        ``"<number> <unit>"`` in a usual unit of its dimension, else in SI base units.

    Examples
    --------
    >>> from brian2 import ms, mS, cm
    >>> quantity_text(20 * ms), quantity_text(0.1 * mS / cm**2), quantity_text(5.0)
    ('20 ms', '0.1 mS/cm**2', '5')
    """
    from brian2.units.fundamentalunits import Quantity, get_dimensions

    from neurophase.units import parse_unit

    if not isinstance(value, Quantity) or get_dimensions(value).is_dimensionless:
        return f"{float(value):.12g}"
    for unit_text in _DISPLAY_UNITS:
        unit = parse_unit(unit_text)
        if get_dimensions(unit) is get_dimensions(value):
            return f"{float(value / unit):.12g} {unit_text}"
    names = ("metre", "kilogram", "second", "amp", "kelvin", "mole", "candela")
    factors = [f"{name}**{power:g}" for name, power in zip(names, get_dimensions(value)._dims) if power]
    return f"{float(_si(value)):.12g} * {' * '.join(factors)}"


def _toml_string(text):
    text = str(text)
    if "\n" in text:
        if "'''" in text:
            raise ModelFileError("A model text field contains ''' and cannot be written as a TOML literal string.")
        return "'''\n" + text.strip("\n") + "\n'''"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def model_text(model: Model, header: str = "") -> str:
    """The text of a model file that :func:`load_model_text` reads back as ``model``.

    Parameters
    ----------
    model : Model
        E.g. a fitted model (``dataclasses.replace(model, parameters=...)``).
    header : str
        Comment lines written at the top (each prefixed with ``#``).

    Returns
    -------
    str
        TOML text of a model file.
    """
    if getattr(model, "channels", None):
        raise ModelFileError(f"Model {model.name!r} has [channels] tables, which model_text cannot write yet; "
                             "write its model file by hand.")
    lines = [f"# {line}".rstrip() for line in header.strip().splitlines()] if header.strip() else []
    lines += ["[model]", f"name = {_toml_string(model.name)}", f"kind = {_toml_string(model.kind)}",
              f"title = {_toml_string(model.title)}", f"citation = {_toml_string(model.citation)}"]
    if model.description:
        lines.append(f"description = {_toml_string(model.description)}")
    if model.excitability_class:
        lines.append(f"class = {_toml_string(model.excitability_class)}")
    if model.order_parameter:
        lines.append(f"order_parameter = {_toml_string(model.order_parameter)}")
    simulation = [(key, quantity_text(value)) for key, value in (("dt", model.dt), ("max_dt", model.max_dt))
                  if value is not None]
    if model.method:
        simulation.append(("method", model.method))
    if simulation:
        lines += ["", "[simulation]"] + [f"{key} = {_toml_string(value)}" for key, value in simulation]
    lines += ["", "[equations]", f"model = {_toml_string(model.equations)}"]
    for key, value in (("threshold", model.threshold), ("reset", model.reset), ("input", model.input_variable),
                       ("input_unit", model.input_unit), ("update", model.update)):
        if value:
            lines.append(f"{key} = {_toml_string(value)}")
    if model.refractory is not None:
        refractory = model.refractory if isinstance(model.refractory, str) else quantity_text(model.refractory)
        lines.append(f"refractory = {_toml_string(refractory)}")
    for table, values in (("parameters", model.parameters), ("initial", model.initial)):
        lines += ["", f"[{table}]"] + [f"{key} = {_toml_string(quantity_text(value))}" for key, value in values.items()]
    if model.fit:
        lines += ["", "[fit]"]
        for key, entry in model.fit.items():
            lines.append(f"{key} = {{ low = {_toml_string(quantity_text(entry.low))}, "
                         f"high = {_toml_string(quantity_text(entry.high))}, scale = {_toml_string(entry.scale)} }}")
    return "\n".join(lines) + "\n"
