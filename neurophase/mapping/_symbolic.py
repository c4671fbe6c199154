"""A model file's equations as sympy expressions in SI numbers (used by coarse_graining).

Brian2 parses the equations (:class:`brian2.Equations`, ``brian2.parsing.sympytools.str_to_sympy``);
subexpressions are substituted, parameters and unit names replaced by their SI values, and the
result lambdified for numpy. Nothing here is specific to one model: the gating variables, their
steady states and time constants are read off the model's own equations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy

from neurophase.docstrings import template
from neurophase.errors import ParameterError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["SymbolicModel", "numpy_function", "exprel", "exprel_prime", "exprel_second"]


# ------------------------------------------------------------------- exprel and its derivatives
def _series_coefficients(order):
    from math import factorial

    if order == 0:
        return tuple(1.0 / factorial(k + 1) for k in range(15))
    if order == 1:
        return tuple((k + 1) / factorial(k + 2) for k in range(15))
    return tuple((k + 2) * (k + 1) / factorial(k + 3) for k in range(15))


_SERIES = {order: _series_coefficients(order)[::-1] for order in (0, 1, 2)}


def _series(x, order):
    """``sum_k c_k x**k`` of ``exprel`` (order 0), ``exprel'`` (1) or ``exprel''`` (2), |x| small."""
    total = np.zeros_like(x)
    for coefficient in _SERIES[order]:
        total = total * x + coefficient
    return total


_EXPREL_CLOSED_FORMS = {
    0: lambda x: np.expm1(x) / x,
    1: lambda x: (x * np.exp(x) - np.expm1(x)) / x**2,
    2: lambda x: (x**2 * np.exp(x) - 2 * x * np.exp(x) + 2 * np.expm1(x)) / x**3,
}


def _exprel_family(x, order):
    """``exprel`` (order 0) or its first or second derivative: the closed form, the series for ``|x| < 0.5``."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 0.5
    with np.errstate(all="ignore"):
        large = _EXPREL_CLOSED_FORMS[order](x)
    return np.where(small, _series(np.where(small, x, 0.0), order), large)


_doc = template(
    exprel_argument="""Parameters
----------
x : float or array_like, dimensionless
    Argument.

Returns
-------
numpy.ndarray, dimensionless
    The shape of ``x``.""",
    sympy_argument="""Parameters
----------
*args : sympy.Expr
    The single argument.""",
)


@_doc
def exprel(x: ArrayLike) -> np.ndarray:
    """``(exp(x) - 1) / x``, 1 at 0 (Brian2's ``exprel``).

    For ``|x| < 0.5`` the Taylor series ``sum_k x**k / (k + 1)!`` (15 terms) is used instead
    of the quotient, which loses digits there.

    %(exprel_argument)s
    """
    return _exprel_family(x, 0)


@_doc
def exprel_prime(x: ArrayLike) -> np.ndarray:
    """``d exprel / dx = (x exp(x) - expm1(x)) / x**2`` (1/2 at 0).

    The derivative of :func:`exprel` (the term-by-term derivative of its Taylor series,
    ``sum_k (k + 1) x**k / (k + 2)!``, for ``|x| < 0.5``).

    %(exprel_argument)s
    """
    return _exprel_family(x, 1)


@_doc
def exprel_second(x: ArrayLike) -> np.ndarray:
    """``d2 exprel / dx2 = (x**2 exp(x) - 2 x exp(x) + 2 expm1(x)) / x**3`` (1/3 at 0).

    The second derivative of :func:`exprel` (series ``sum_k (k + 2)(k + 1) x**k / (k + 3)!``
    for ``|x| < 0.5``).

    %(exprel_argument)s
    """
    return _exprel_family(x, 2)


@_doc
class _ExprelFunction(sympy.Function):
    """A one-argument sympy function of the exprel family whose derivative is ``_derivative_class``.

    %(sympy_argument)s
    """

    nargs = 1
    #: The class of the derivative (None: sympy's unevaluated ``Derivative``).
    _derivative_class: type[sympy.Function] | None = None

    def __new__(cls, *args: Any, **options: Any) -> sympy.Expr:
        return super().__new__(cls, *args, **options)

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        """The derivative with respect to the argument.

        Parameters
        ----------
        argindex : int
            Index of the argument (1, the only one).

        Returns
        -------
        sympy.Expr
            ``_derivative_class`` of the argument (:class:`ExprelPrime` for :class:`Exprel`,
            :class:`ExprelSecond` for :class:`ExprelPrime`).
        """
        if self._derivative_class is None:
            return super().fdiff(argindex)
        return self._derivative_class(self.args[0])


@_doc
class ExprelSecond(_ExprelFunction):
    """Second derivative of ``exprel`` (a sympy function that lambdifies to :func:`exprel_second`).

    %(sympy_argument)s
    """


@_doc
class ExprelPrime(_ExprelFunction):
    """First derivative of ``exprel`` (lambdifies to :func:`exprel_prime`).

    %(sympy_argument)s
    """

    _derivative_class = ExprelSecond


@_doc
class Exprel(_ExprelFunction):
    """Brian2's ``exprel`` with a derivative sympy can use (lambdifies to :func:`exprel`).

    %(sympy_argument)s
    """

    _derivative_class = ExprelPrime


_NUMPY_MODULES = [{"Exprel": exprel, "ExprelPrime": exprel_prime, "ExprelSecond": exprel_second}, "numpy"]


def numpy_function(arguments: Sequence[sympy.Symbol], expression: sympy.Expr) -> Callable[..., np.ndarray]:
    """``sympy.lambdify`` for numpy with the exprel family; a constant broadcasts to the inputs.

    Parameters
    ----------
    arguments : sequence of sympy.Symbol
        The function's arguments, in order.
    expression : sympy.Expr
        The expression (SI numbers).

    Returns
    -------
    callable
        ``function(*values) -> numpy.ndarray`` (floating-point warnings silenced).
    """
    raw = sympy.lambdify(arguments, expression, modules=_NUMPY_MODULES)
    if getattr(expression, "free_symbols", None):
        def function(*values):
            with np.errstate(all="ignore"):
                return raw(*values)

        return function

    def constant(*values):
        shape = np.broadcast(*[np.asarray(value) for value in values]).shape if values else ()
        return np.full(shape, float(expression))

    return constant


# ------------------------------------------------------------------------------- the model
@dataclasses.dataclass
class Gate:
    """A gating variable read off the equations.

    ``kind`` is ``"dynamic"`` (``dx/dt = (x_inf - x)/tau`` or alpha/beta form, linear in x) or
    ``"instantaneous"`` (a dimensionless subexpression of the voltage alone used by the voltage
    equation, e.g. Morris-Lecar's ``m_inf``). ``steady`` and ``tau`` are sympy expressions of
    the voltage symbol (``tau`` = 0 for instantaneous gates), in SI.

    Attributes
    ----------
    name : str
        The gating variable.
    kind : {"dynamic", "instantaneous"}
        How it follows the voltage.
    steady : sympy.Expr
        ``x_inf(v)``, dimensionless (``alpha/(alpha + beta)`` in the alpha/beta form, Hodgkin &
        Huxley 1952, J. Physiol. 117:500, Eq. 7 ff.).
    tau : sympy.Expr
        ``tau_x(v)`` in s (``1/(alpha + beta)``), 0 for an instantaneous gate.
    """

    name: str
    kind: str
    steady: Any
    tau: Any


class SymbolicModel:
    """The deterministic equations of a conductance-based model as SI sympy expressions.

    Parameters
    ----------
    model : Model
        A conductance-based model (a differential equation in volts).

    Attributes
    ----------
    voltage : str
        The membrane potential (the first differential equation in volts).
    v, current : sympy.Symbol
        The voltage symbol and the injected-drive symbol (the model's input variable), in SI.
    gates : dict
        name -> :class:`Gate`, dynamic and instantaneous.
    others : list of str
        State variables that are neither the voltage nor a gate (e.g. an adaptation current).
    notes : list of str
        What was changed to get a deterministic, differentiable system (stochastic terms
        dropped, ``clip`` bounds removed).
    """

    def __init__(self, model: Any) -> None:
        from brian2 import Equations
        from brian2.core.namespace import DEFAULT_CONSTANTS, DEFAULT_UNITS
        from brian2.equations.equations import DIFFERENTIAL_EQUATION, SUBEXPRESSION
        from brian2.parsing.sympytools import str_to_sympy
        from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity

        self.name = model.name
        self.notes = []
        equations = Equations(model.equations)
        self.equations = equations
        input_name = model.input_variable
        self.input_name = input_name
        voltages = [name for name in equations.diff_eq_names
                    if equations[name].dim is _volt_dimension()]
        if not voltages:
            raise ParameterError(
                f"Model {model.name!r} has no differential equation in volts, so it has no membrane "
                "potential to coarse-grain; use a conductance-based model file (e.g. "
                "hodgkin_huxley_1952)."
            )
        self.voltage = voltages[0]
        self.v = sympy.Symbol(self.voltage, real=True)
        self.current = sympy.Symbol(input_name or "I_input", real=True)

        values = {}
        for name, value in model.parameters.items():
            if name == input_name:
                continue
            if isinstance(value, Quantity):
                values[name] = float(np.asarray(value))
            else:
                values[name] = float(value)
        constants = {"pi": sympy.pi, "e": sympy.E, "inf": sympy.oo}
        self._numbers = {}
        for symbol_name in set().union(*[set(equations[name].identifiers) for name in equations.names]):
            if symbol_name in equations.names or symbol_name == input_name:
                continue
            if symbol_name in values:
                self._numbers[symbol_name] = sympy.Float(values[symbol_name])
            elif symbol_name in constants:
                self._numbers[symbol_name] = constants[symbol_name]
            elif symbol_name in DEFAULT_UNITS:
                self._numbers[symbol_name] = sympy.Float(float(np.asarray(DEFAULT_UNITS[symbol_name])))
            elif symbol_name in DEFAULT_CONSTANTS:
                self._numbers[symbol_name] = sympy.Float(float(DEFAULT_CONSTANTS[symbol_name].value))
        self.subexpressions = {}
        self.derivatives = {}
        self.dimensions = {}
        for name, equation in equations.items():
            self.dimensions[name] = equation.dim
            if equation.type == DIFFERENTIAL_EQUATION:
                deterministic, stochastic = equation.expr.split_stochastic()
                if stochastic:
                    self.notes.append(
                        f"the noise terms of d{name}/dt ({', '.join(sorted(stochastic))}) are dropped: "
                        "the deterministic (infinite channel number) limit is coarse-grained")
                self.derivatives[name] = self._to_sympy(str_to_sympy(str(deterministic)))
            elif equation.type == SUBEXPRESSION:
                self.subexpressions[name] = self._to_sympy(str_to_sympy(str(equation.expr)))
        self._subexpression_symbols = {sympy.Symbol(name, real=True): name for name in self.subexpressions}
        self._dimensionless = DIMENSIONLESS
        self._find_gates()

    # ----------------------------------------------------------------------- conversion
    def _to_sympy(self, expression):
        names = {type(node).__name__ for node in expression.atoms(sympy.Function)}
        if "clip" in names:
            note = ("clip() bounds are removed (they only matter for noisy gates; a deterministic "
                    "gate stays within [0, 1])")
            if note not in self.notes:
                self.notes.append(note)
        if names & {"exprel", "clip"}:
            expression = expression.replace(
                lambda node: isinstance(node, sympy.Function) and type(node).__name__ in ("exprel", "clip"),
                lambda node: Exprel(node.args[0]) if type(node).__name__ == "exprel" else node.args[0])
        symbols = {symbol: sympy.Symbol(symbol.name, real=True) for symbol in expression.free_symbols}
        expression = expression.xreplace(symbols)
        numbers = {symbol: self._numbers[symbol.name] for symbol in expression.free_symbols
                   if symbol.name in self._numbers}
        return expression.xreplace(numbers)

    def expand(self, expression: sympy.Expr, keep: Iterable[str] = ()) -> sympy.Expr:
        """Substitute subexpressions (except the names in ``keep``) until none is left.

        Parameters
        ----------
        expression : sympy.Expr
            An expression of the model's names.
        keep : iterable of str
            Subexpressions left as symbols.

        Returns
        -------
        sympy.Expr
            The expanded expression.

        Raises
        ------
        ParameterError
            Subexpressions that refer to each other in a circle.
        """
        keep = set(keep)
        table = {symbol: self.subexpressions[name] for symbol, name in self._subexpression_symbols.items()
                 if name not in keep}
        for _ in range(64):
            present = expression.free_symbols & set(table)
            if not present:
                return expression
            expression = expression.xreplace({symbol: table[symbol] for symbol in present})
        raise ParameterError(f"Model {self.name!r}: the subexpressions refer to each other in a circle.")

    def symbol(self, name: str) -> sympy.Symbol:
        """The real sympy symbol of a model name.

        Parameters
        ----------
        name : str
            A variable of the model.

        Returns
        -------
        sympy.Symbol
            ``Symbol(name, real=True)``.
        """
        return sympy.Symbol(name, real=True)

    # ----------------------------------------------------------------------------- gates
    def _find_gates(self):
        self.gates = {}
        self.others = []
        v = self.v
        for name, derivative in self.derivatives.items():
            if name == self.voltage:
                continue
            if self.dimensions[name] is not self._dimensionless:
                self.others.append(name)
                continue
            x = self.symbol(name)
            expression = self.expand(derivative)
            linear = sympy.diff(expression, x, 2)
            if linear != 0 and sympy.simplify(linear) != 0:
                self.others.append(name)
                continue
            rate = -sympy.diff(expression, x)
            source = expression.subs(x, 0)
            symbols = rate.free_symbols | source.free_symbols
            if not symbols <= {v} or v not in symbols:
                self.others.append(name)
                continue
            self.gates[name] = Gate(name, "dynamic", source / rate, 1 / rate)
        # instantaneous gates: dimensionless subexpressions of v alone reached from dv/dt
        reached, frontier = set(), set(self.equations[self.voltage].identifiers)
        while frontier:
            name = frontier.pop()
            if name in reached or name not in self.subexpressions:
                continue
            reached.add(name)
            frontier |= set(self.equations[name].identifiers)
        for name in sorted(reached):
            if self.dimensions[name] is not self._dimensionless:
                continue
            expression = self.expand(self.subexpressions[name])
            if expression.free_symbols == {v}:
                self.gates[name] = Gate(name, "instantaneous", expression, sympy.Integer(0))

    def voltage_rate(self, keep: Iterable[str] = ()) -> sympy.Expr:
        """``dv/dt`` (V/s) with every subexpression substituted except ``keep``.

        Parameters
        ----------
        keep : iterable of str
            Subexpressions left as symbols.

        Returns
        -------
        sympy.Expr, V/s
            The deterministic right-hand side of the voltage equation.
        """
        return self.expand(self.derivatives[self.voltage], keep=keep)


def _volt_dimension():
    from brian2 import volt

    return volt.dim
