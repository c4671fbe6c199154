"""Exact stochastic ion channels: Markov channel-state counts updated by multinomial draws.

A model file may declare Markov channels in a ``[channels]`` table (format below); each
neurone then carries, per channel type, the NUMBER of channels in every kinetic state, and
the conductance of the type is ``g_max * (channels in the open state) / (number of channels)``.
This is the Markov chain ("channel-state") model of finite channel numbers (Skaugen & Walloe
1979, Acta Physiol. Scand. 107:343; Chow & White 1996, Biophys. J. 71:3013; J. H. Goldwyn &
E. Shea-Brown 2011, PLoS Comput. Biol. 7:e1002247, Fig. 1 and Eqs. 6-7), the reference against
which Langevin approximations such as Fox's (``models/hodgkin_huxley_stochastic.toml``) are
judged.

Kinetic scheme
--------------
A channel of a type is made of independent two-state gates: ``a_x`` gates of kind ``x`` (HH
sodium: three ``m`` gates and one ``h`` gate; potassium: four ``n`` gates). A closed ``x`` gate
opens at rate ``alpha_x(v)``, an open one closes at ``beta_x(v)`` (the model's own rate
subexpressions, which must be called ``alpha_<gate>`` and ``beta_<gate>``, in Hz). A state is
the number of open gates of each kind, ``k_x = 0..a_x``: Na has the 8 states ``m0h0 .. m3h1``,
K the 5 states ``n0 .. n4``; state ``k_x -> k_x + 1`` at rate ``(a_x - k_x) alpha_x`` and
``k_x -> k_x - 1`` at ``k_x beta_x``. The channel conducts in the state with every gate open
(``m3h1``, ``n4``).

One time step (exact for the voltage held fixed over the step)
-----------------------------------------------------------------
Over a step ``dt`` at fixed ``v`` one gate is a two-state chain with the transition
probabilities (solution of its master equation)

    P(closed -> open) = alpha dt exprel(-(alpha + beta) dt) = alpha/(alpha+beta) (1 - exp(-(alpha+beta) dt)),
    P(open -> closed) = beta dt exprel(-(alpha + beta) dt).

The gates of a channel are independent, so a channel with ``k`` of its ``a`` x-gates open has
``j`` open after the step with probability ``q_kj = sum_c B(c; k, P_oc) B(j - k + c; a - k, P_co)``
(``c`` closings, ``B`` the binomial probability); gates of different kinds move independently,
so updating the counts kind by kind is exact. Channels are independent given ``v``, so the
``n_s`` channels of a state ``s`` are spread over the destinations by a multinomial draw,
sampled as conditional binomials with ``binomial_exact``
(:func:`neurophase.micro.binomial.binomial_function`)
(exact at every ``n p``). Given ``v`` over ``[t, t + dt]`` the new counts therefore have exactly
the law of the continuous-time chain, several transitions within a step included; there is no
restriction on ``dt`` from the kinetics. The approximation is the splitting of the coupled
process: at each step the counts move first, with the rates at ``v(t)`` (a Brian2
``run_regularly`` operation at ``when="start"``), then ``v`` is integrated with the conductances
held at the new counts (exponential Euler, exact for a membrane equation linear in ``v`` with
constant conductances and a drive constant within the step). This Lie splitting has an error
O(dt); the tests compare with an exact Gillespie simulation (time-dependent rates by thinning)
and show the convergence as ``dt`` shrinks.

The initial counts are drawn from the stationary law at the initial voltage, the product of
binomials ``prod_x B(k_x; a_x, x_inf(v))`` with ``x_inf = alpha_x / (alpha_x + beta_x)``, by
one multinomial draw per neurone (an operation that runs once, at ``t = 0``).

Model-file table
----------------
::

    [channels.Na]
    gates = { m = 3, h = 1 }   # gate kinds and how many of each a channel has
    number = "N_Na"            # channel count: an expression of [parameters], rounded
    [channels.K]
    gates = { n = 4 }
    number = "K_per_Na * N_Na"

The equations then use, for every type ``C``: ``C_open`` (the fraction of channels in the
open state, dimensionless), and may use ``C_total`` (the channel count), the state counts
``C_m0h0 ...`` (integers) and ``C_<gate>_fraction`` (the fraction of open gates of a kind,
the stochastic counterpart of the gating variable). Channel numbers are per-neurone when the
number's parameters are swept (``parameters={"N_Na": [...]}`` in
:func:`~neurophase.micro.neurone.firing_curve`), so channel number, input and seed are
dimensions of ONE network.

Functions
---------
markov_scheme
    The :class:`MarkovScheme` of a model with a ``[channels]`` table (None otherwise).
channel_noise_firing
    Firing statistics over (channel number x input x trial) of a Markov model, one network.
voltage_clamp
    Channel (or gate) open fractions of any conductance model held at fixed voltages.
parse_channel_table, channel_names
    Model-file support: read and check ``[channels]``; the names it defines.
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import math
import re
import time as wallclock
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neurophase.docstrings import COMMON, template
from neurophase.errors import ModelFileError, ParameterError

if TYPE_CHECKING:
    import xarray as xr
    from brian2 import Equations, NeuronGroup
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

    from neurophase.micro.grid import ParameterGrid
    from neurophase.micro.modelfile import Model

__all__ = ["ChannelType", "MarkovScheme", "markov_scheme", "parse_channel_table", "channel_names",
           "channel_noise_firing", "voltage_clamp", "MAX_CHANNELS"]

#: Largest channel count of one type per neurone (counts are 32-bit integers in Brian2).
_doc = template(
    parameters_model="Parameters\n----------\n" + COMMON["model"],
    parameters_namespace="""Parameters
----------
namespace : dict
    The model's namespace (overrides applied).""",
    returns_abstract_code="""Returns
-------
str
    Brian2 abstract code.""",
)

MAX_CHANNELS = 2**31 - 1
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")


# ------------------------------------------------------------------------------ the scheme
@dataclasses.dataclass(frozen=True)
class ChannelType:
    """One channel type of a ``[channels]`` table.

    Attributes
    ----------
    name : str
        Type name (``"Na"``); prefixes every generated variable.
    gates : tuple of (str, int)
        Gate kinds and their multiplicity, in the order of the table (``(("m", 3), ("h", 1))``).
    number : str
        Expression of model parameters giving the channel count (rounded to an integer).
    """

    name: str
    gates: tuple
    number: str

    @property
    def states(self) -> list[tuple[int, ...]]:
        """Every state, as a tuple of open-gate counts (first gate slowest), e.g. (0, 0) .. (3, 1)."""
        return list(itertools.product(*(range(power + 1) for _, power in self.gates)))

    @property
    def open_state(self) -> tuple[int, ...]:
        """The conducting state: every gate open."""
        return tuple(power for _, power in self.gates)

    def state_variable(self, state: tuple[int, ...]) -> str:
        """Brian2 name of the count of channels in ``state``, e.g. ``Na_m3h1``.

        Parameters
        ----------
        state : tuple of int
            Open-gate counts, one per gate kind (an element of :attr:`states`).

        Returns
        -------
        str
            The count variable's name.
        """
        return f"{self.name}_" + "".join(f"{gate}{count}" for (gate, _), count in zip(self.gates, state))

    @property
    def total_variable(self) -> str:
        """Brian2 name of the channel count (``Na_total``)."""
        return f"{self.name}_total"

    @property
    def open_variable(self) -> str:
        """Brian2 name of the open fraction (``Na_open``)."""
        return f"{self.name}_open"

    def fraction_variable(self, gate: str) -> str:
        """Brian2 name of the fraction of open gates of kind ``gate`` (``Na_m_fraction``).

        Parameters
        ----------
        gate : str
            A gate kind of this type.

        Returns
        -------
        str
            The variable's name.
        """
        return f"{self.name}_{gate}_fraction"

    def names(self) -> set[str]:
        """Every Brian2 name this type defines.

        Returns
        -------
        set of str
            State counts, total, open fraction and gate fractions.
        """
        return ({self.state_variable(state) for state in self.states}
                | {self.total_variable, self.open_variable}
                | {self.fraction_variable(gate) for gate, _ in self.gates})


def parse_channel_table(table: Mapping[str, Any] | None, where: str = "model file") -> dict[str, ChannelType]:
    """Read a ``[channels]`` table into ``{name: ChannelType}``; errors name the fix.

    Parameters
    ----------
    table : mapping or None
        The parsed TOML ``[channels]`` table (None: no table).
    where : str
        The file, for error messages.

    Returns
    -------
    dict of str to ChannelType
        Empty for no table.

    Raises
    ------
    ModelFileError
        A malformed table (the message names the fix).

    Examples
    --------
    >>> types = parse_channel_table({"K": {"gates": {"n": 4}, "number": "N_K"}})
    >>> [types["K"].state_variable(state) for state in types["K"].states]
    ['K_n0', 'K_n1', 'K_n2', 'K_n3', 'K_n4']
    """
    if table is None:
        return {}
    if not isinstance(table, dict) or not table:
        raise ModelFileError(f"{where}: [channels] must hold one table per channel type, e.g. "
                             "[channels.K] with gates = { n = 4 } and number = \"N_K\".")
    types = {}
    for name, entry in table.items():
        if not _NAME.fullmatch(name):
            raise ModelFileError(f"{where}: channel type name {name!r} must be letters and digits "
                                 "(it prefixes Brian2 variable names), e.g. Na or K.")
        if not isinstance(entry, dict):
            raise ModelFileError(f"{where}: [channels.{name}] must be a table with gates and number.")
        unknown = sorted(set(entry) - {"gates", "number"})
        if unknown:
            raise ModelFileError(f"{where}: unknown key(s) {', '.join(unknown)} in [channels.{name}]; "
                                 "allowed keys: gates, number.")
        gates = entry.get("gates")
        if not isinstance(gates, dict) or not gates:
            raise ModelFileError(f"{where}: [channels.{name}] needs gates = {{ m = 3, h = 1 }} (gate "
                                 "kinds and how many of each one channel has).")
        parsed = []
        for gate, power in gates.items():
            if not _NAME.fullmatch(gate):
                raise ModelFileError(f"{where}: gate name {gate!r} in [channels.{name}] must be letters "
                                     "and digits.")
            if isinstance(power, bool) or not isinstance(power, int) or not 1 <= power <= 8:
                raise ModelFileError(f"{where}: [channels.{name}] gate {gate} = {power!r}: the number of "
                                     "gates of a kind must be an integer from 1 to 8.")
            parsed.append((gate, power))
        number = entry.get("number")
        if not isinstance(number, str) or not number.strip():
            raise ModelFileError(f"{where}: [channels.{name}] needs number = \"N_{name}\" (an expression "
                                 "of parameters giving the number of channels).")
        types[name] = ChannelType(name, tuple(parsed), number.strip())
    return types


def channel_names(types: Mapping[str, ChannelType]) -> set[str]:
    """Every Brian2 name the channel types define (for the model-file identifier check).

    Parameters
    ----------
    types : mapping of str to ChannelType
        What :func:`parse_channel_table` returned.

    Returns
    -------
    set of str
        The union of :meth:`ChannelType.names`.
    """
    names = set()
    for channel in types.values():
        names |= channel.names()
    return names


def check_channel_rates(types: Mapping[str, ChannelType], equations: Equations, parameters: Mapping[str, Any],
                        where: str = "model file") -> None:
    """Every gate has ``alpha_<gate>`` and ``beta_<gate>`` rates in Hz, and numbers use parameters.

    Parameters
    ----------
    types : mapping of str to ChannelType
        What :func:`parse_channel_table` returned.
    equations : brian2.Equations
        The model's equations.
    parameters : mapping
        The model's parameters (names are what matters).
    where : str
        The file, for error messages.

    Raises
    ------
    ModelFileError
        A missing rate, a rate not in Hz, or a channel number using a name that is no parameter.
    """
    from brian2 import Hz
    from brian2.units.fundamentalunits import get_dimensions

    for channel in types.values():
        for gate, _ in channel.gates:
            for rate in (f"alpha_{gate}", f"beta_{gate}"):
                if rate not in equations.names:
                    raise ModelFileError(
                        f"{where}: [channels.{channel.name}] gate {gate} needs its rate {rate} (Hz) as "
                        f"a subexpression of the equations, e.g. '{rate} = ... / ms : Hz'.")
                if equations[rate].dim is not get_dimensions(Hz):
                    raise ModelFileError(f"{where}: the rate {rate} of gate {gate} must be in Hz.")
        for identifier in _expression_names(channel.number, where, channel.name):
            if identifier not in parameters:
                raise ModelFileError(
                    f"{where}: [channels.{channel.name}] number = {channel.number!r} uses {identifier!r}, "
                    "which is not a parameter; add it to [parameters] (e.g. N_Na = \"6000\").")


_ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Load,
                  ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)


def _expression_names(text, where, channel):
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise ModelFileError(f"{where}: [channels.{channel}] number = {text!r} is not an expression: "
                             f"{error}.") from error
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ModelFileError(f"{where}: [channels.{channel}] number = {text!r} may use only "
                                 "parameters, numbers and + - * / **.")
    return sorted({node.id for node in ast.walk(tree) if isinstance(node, ast.Name)})


def _binomial_terms(count, probability, complement):
    """Polynomial terms ``{j: "text"}`` of B(j; count, probability) as Brian2 code."""
    terms = {}
    for j in range(count + 1):
        factors = []
        coefficient = math.comb(count, j)
        if coefficient != 1:
            factors.append(str(coefficient))
        factors.extend([probability] * j + [complement] * (count - j))
        terms[j] = " * ".join(factors) if factors else "1"
    return terms


def _transition_terms(k, power, p_oc, s_oc, p_co, s_co):
    """``{j: code}``: probability that a channel with ``k`` of ``power`` gates open has ``j`` open
    after the step (``c`` closings among the ``k`` open, ``j - k + c`` openings among the rest)."""
    closings = _binomial_terms(k, p_oc, s_oc)
    openings = _binomial_terms(power - k, p_co, s_co)
    result = {}
    for j in range(power + 1):
        parts = []
        for c in range(0, k + 1):
            o = j - k + c
            if 0 <= o <= power - k:
                pieces = [text for text in (closings[c], openings[o]) if text != "1"]
                parts.append(" * ".join(pieces) if pieces else "1")
        result[j] = " + ".join(f"({part})" for part in parts)
    return result


@dataclasses.dataclass(frozen=True)
class MarkovScheme:
    """The generated Brian2 code of a model's Markov channels.

    Use :func:`markov_scheme` to build it; :meth:`attach` adds it to a NeuronGroup whose
    equations include :meth:`equations`. The kinetics are those of the module docstring (Skaugen
    & Walloe 1979; Goldwyn & Shea-Brown 2011, Eqs. 6-7).

    Attributes
    ----------
    types : tuple of ChannelType
        The model's channel types.
    """

    types: tuple

    # ---- equations ---------------------------------------------------------------------
    def equations(self) -> str:
        """Brian2 equation lines: integer state counts, totals, open and gate fractions.

        Returns
        -------
        str
            Equation lines, newline-separated.
        """
        lines = []
        for channel in self.types:
            for state in channel.states:
                lines.append(f"{channel.state_variable(state)} : integer")
            lines.append(f"{channel.total_variable} : integer")
            lines.append(f"{channel.open_variable} = 1.0 * {channel.state_variable(channel.open_state)}"
                         f" / {channel.total_variable} : 1")
            for index, (gate, power) in enumerate(channel.gates):
                weighted = " + ".join(f"{state[index]} * {channel.state_variable(state)}"
                                      for state in channel.states if state[index])
                lines.append(f"{channel.fraction_variable(gate)} = 1.0 * ({weighted}) / "
                             f"({power} * {channel.total_variable}) : 1")
        return "\n".join(lines)

    # ---- code ----------------------------------------------------------------------------
    @_doc
    def initial_code(self) -> str:
        """Code run once at t = 0: channel totals, then counts from the stationary law at ``v``.

        The stationary law is the product of binomials ``prod_x B(k_x; a_x, x_inf(v))`` with
        ``x_inf = alpha_x / (alpha_x + beta_x)`` (Hodgkin & Huxley 1952, J. Physiol. 117:500, for
        the independent gates; Goldwyn & Shea-Brown 2011, PLoS Comput. Biol. 7:e1002247).

        %(returns_abstract_code)s
        """
        lines = []
        for channel in self.types:
            prefix = f"markov_{channel.name}"
            lines.append(f"{channel.total_variable} = int(floor({channel.number} + 0.5))")
            for gate, _ in channel.gates:
                lines.append(f"{prefix}_{gate}_inf = alpha_{gate} / (alpha_{gate} + beta_{gate})")
            for gate, _ in channel.gates:
                lines.append(f"{prefix}_{gate}_notinf = 1 - {prefix}_{gate}_inf")
            states = channel.states
            probabilities = []
            for state in states:
                factors = []
                for (gate, power), count in zip(channel.gates, state):
                    term = _binomial_terms(power, f"{prefix}_{gate}_inf", f"{prefix}_{gate}_notinf")[count]
                    factors.append(f"({term})")
                probabilities.append(" * ".join(factors))
            for index, state in enumerate(states):
                lines.append(f"{prefix}_pi{index} = {probabilities[index]}")
            drawn = []
            for index, state in enumerate(states):
                variable = channel.state_variable(state)
                remaining = " - ".join([channel.total_variable] + drawn)
                if index == len(states) - 1:
                    lines.append(f"{variable} = {remaining}")
                    break
                mass = " - ".join(["1.0"] + [f"{prefix}_pi{j}" for j in range(index)])
                lines.append(f"{variable} = binomial_exact({remaining}, "
                             f"clip({prefix}_pi{index} / ({mass}), 0, 1))")
                drawn.append(variable)
        return "\n".join(lines)

    @_doc
    def update_code(self) -> str:
        """Code run every step: each gate kind moves every state's channels by a multinomial draw.

        The multinomial of a state's ``n`` channels over its destinations is drawn as: the
        number that leave, ``binomial(n, sum_j q_kj)`` (j != k), then the leavers split over the
        destinations by conditional binomials ``binomial(rest, q_kj / sum_{i >= j} q_ki)``, the
        last destination taking the remainder. This is the multinomial law exactly; most
        steps move few channels, so most of the splitting draws have ``n = 0`` and cost nothing.
        The one-gate transition probabilities are those of the module docstring (the solution of
        the two-state master equation; Goldwyn & Shea-Brown 2011, PLoS Comput. Biol.
        7:e1002247, Eqs. 6-7).

        %(returns_abstract_code)s
        """
        lines = []
        for channel in self.types:
            for index, (gate, power) in enumerate(channel.gates):
                prefix = f"markov_{channel.name}_{gate}"
                lines.append(f"{prefix}_relax = dt * exprel(-(alpha_{gate} + beta_{gate}) * dt)")
                lines.append(f"{prefix}_pco = alpha_{gate} * {prefix}_relax")
                lines.append(f"{prefix}_poc = beta_{gate} * {prefix}_relax")
                lines.append(f"{prefix}_sco = 1 - {prefix}_pco")
                lines.append(f"{prefix}_soc = 1 - {prefix}_poc")
                destinations = {}
                for k in range(power + 1):
                    terms = _transition_terms(k, power, f"{prefix}_poc", f"{prefix}_soc",
                                              f"{prefix}_pco", f"{prefix}_sco")
                    others = [j for j in range(power + 1) if j != k]
                    destinations[k] = others
                    for j in others:
                        lines.append(f"{prefix}_q{k}{j} = {terms[j]}")
                    lines.append(f"{prefix}_leave{k} = " + " + ".join(f"{prefix}_q{k}{j}" for j in others))
                    for position, j in enumerate(others[:-1]):
                        mass = " + ".join(f"{prefix}_q{k}{i}" for i in others[position:])
                        lines.append(f"{prefix}_c{k}{j} = {prefix}_q{k}{j} / ({mass})")
                moves = {}  # (source state, destination count) -> temporary name
                for state in channel.states:
                    source = channel.state_variable(state)
                    k = state[index]
                    others = destinations[k]
                    leaving = f"markov_{source}_{gate}_leave"
                    lines.append(f"{leaving} = binomial_exact({source}, {prefix}_leave{k})")
                    taken = []
                    for position, j in enumerate(others):
                        name = f"markov_{source}_{gate}{j}"
                        remaining = " - ".join([leaving] + taken)
                        if position == len(others) - 1:
                            lines.append(f"{name} = {remaining}")
                        else:
                            lines.append(f"{name} = binomial_exact({remaining}, {prefix}_c{k}{j})")
                        taken.append(name)
                        moves[(state, j)] = name
                for state in channel.states:
                    variable = channel.state_variable(state)
                    k = state[index]
                    arriving = []
                    for other in range(power + 1):
                        if other == k:
                            continue
                        origin = state[:index] + (other,) + state[index + 1:]
                        arriving.append(moves[(origin, k)])
                    lines.append(f"{variable} = {variable} - markov_{variable}_{gate}_leave + "
                                 + " + ".join(arriving))
        return "\n".join(lines)

    def namespace(self) -> dict[str, Any]:
        """Brian2 names the generated code needs (the exact binomial sampler).

        Returns
        -------
        dict
            :func:`neurophase.micro.binomial.binomial_namespace`.
        """
        from neurophase.micro.binomial import binomial_namespace

        return binomial_namespace()

    def attach(self, group: NeuronGroup, duration: Quantity | float) -> list[Any]:
        """Add the initial draw (once, at t = 0) and the per-step update to ``group``.

        Returns the two Brian2 objects (add them to the Network). ``duration`` (seconds, or a
        Quantity) is the run length: the initial operation's clock ticks only at t = 0.

        Parameters
        ----------
        group : brian2.NeuronGroup
            A group whose equations include :meth:`equations`.
        duration : Quantity (time) or float, s
            The run length.

        Returns
        -------
        list of brian2.CodeRunner
            The initial and the per-step operation.
        """
        from brian2 import second

        seconds = float(duration / second) if hasattr(duration, "dim") else float(duration)
        initial = group.run_regularly(self.initial_code(), dt=max(seconds, 1e-3) * 2 * second,
                                      when="start", order=-20, name=f"{group.name}_markov_initial")
        update = group.run_regularly(self.update_code(), when="start", order=-10,
                                     name=f"{group.name}_markov_update")
        return [initial, update]

    # ---- checks ----------------------------------------------------------------------------
    @_doc
    def channel_numbers(self, namespace: Mapping[str, Any], grid: ParameterGrid | None = None) -> dict[str, np.ndarray]:
        """Channel count of every type at every parameter combination (rounded as in Brian2).

        %(parameters_namespace)s
        grid : ParameterGrid, optional
            Swept parameters (their values replace the namespace's, one per combination).

        Returns
        -------
        dict
            Type name -> int64 array over the grid's combinations.
        """
        values = dict(namespace)
        size = grid.size if grid is not None else 1
        if grid is not None:
            from neurophase.units import parse_unit

            for name, unit in zip(grid.names, grid.units):
                magnitudes = grid.combination_values(name)
                values[name] = magnitudes * parse_unit(unit) if unit != "1" else magnitudes
        counts = {}
        for channel in self.types:
            tree = ast.parse(channel.number, mode="eval")
            result = eval(compile(tree, "<channel number>", "eval"), {"__builtins__": {}}, values)  # noqa: S307 - checked AST
            from brian2.units.fundamentalunits import get_dimensions

            if not get_dimensions(result).is_dimensionless:
                raise ModelFileError(
                    f"The channel number {channel.number!r} of type {channel.name} has dimension "
                    f"{get_dimensions(result)!s}; it must be a pure number (e.g. density * area).")
            number = np.broadcast_to(np.asarray(result, dtype=float), (size,))
            counts[channel.name] = np.floor(number + 0.5).astype(np.int64)
        return counts

    @_doc
    def check_numbers(self, namespace: Mapping[str, Any], grid: ParameterGrid | None = None) -> dict[str, np.ndarray]:
        """Raise ParameterError unless every type has 1 .. MAX_CHANNELS channels everywhere.

        %(parameters_namespace)s
        grid : ParameterGrid, optional
            Swept parameters.

        Returns
        -------
        dict
            :meth:`channel_numbers`.

        Raises
        ------
        ParameterError
            A channel count below 1 or above :data:`MAX_CHANNELS`.
        """
        counts = self.channel_numbers(namespace, grid)
        for channel in self.types:
            bad = (counts[channel.name] < 1) | (counts[channel.name] > MAX_CHANNELS)
            if np.any(bad):
                where = (f" at {grid.label(int(np.flatnonzero(bad)[0]))}" if grid is not None and grid.names
                         else "")
                raise ParameterError(
                    f"The number of {channel.name} channels ({channel.number} = "
                    f"{int(counts[channel.name][bad][0])}{where}) must be between 1 and "
                    f"{MAX_CHANNELS}; give channel numbers N >= 1 (e.g. 100 to 100000).")
        return counts

    def describe(self) -> str:
        """Provenance text.

        Returns
        -------
        str
            Gates, state counts and channel-number expression of every type.
        """
        parts = []
        for channel in self.types:
            gates = " ".join(f"{gate}^{power}" for gate, power in channel.gates)
            parts.append(f"{channel.name}: {gates}, {len(channel.states)} states, N = {channel.number}")
        return ("exact Markov channel-state counts (multinomial over one step at fixed v, "
                "binomial_exact sampler; counts then v, exponential Euler): " + "; ".join(parts))


@_doc
def markov_scheme(model: Model) -> MarkovScheme | None:
    """The :class:`MarkovScheme` of ``model``'s ``[channels]`` table, or None if it has none.

    %(parameters_model)s

    Returns
    -------
    MarkovScheme or None
        None when the model declares no Markov channels.
    """
    types = getattr(model, "channels", None)
    if not types:
        return None
    return MarkovScheme(tuple(types.values()))


# ------------------------------------------------------------------------------ simulations
def channel_noise_firing(model: str | Path | Model = "hodgkin_huxley_markov", amplitudes: Quantity | None = None,
                         channel_numbers: ArrayLike | None = None, seeds: int = 1, protocol: str = "pulse",
                         number_parameter: str | None = None, **options: Any) -> xr.Dataset:
    """Firing statistics over (channel number x input x trial) of a Markov channel model.

    A thin layer over :func:`~neurophase.micro.neurone.firing_curve` that sweeps the
    channel-number parameter: every (N, input, trial) is one neurone of ONE Brian2 network.

    Parameters
    ----------
    model : str, pathlib.Path or Model
        A model with a ``[channels]`` table (default the library's ``hodgkin_huxley_markov``,
        whose K channel count is ``K_per_Na * N_Na``).
    amplitudes : Quantity (the model's input dimension)
        Input levels (pulse amplitudes for ``protocol="pulse"``, steady drive for ``"step"``).
    channel_numbers : array_like, dimensionless
        Values of the channel-number parameter (for ``hodgkin_huxley_markov``: numbers of Na
        channels, e.g. ``np.geomspace(100, 1e5, 7)``); rounded to whole channels.
    seeds : int
        Trials per (N, input).
    protocol : {"pulse", "step", "staircase", "ramp"}
        ``"pulse"``: a brief pulse (``pulse_duration``, e.g. ``0.5 * ms``, at ``pulse_start``)
        then free run to ``duration``; spikes counted from the pulse onset, so ``p_fire`` is the
        firing probability per trial. ``"step"``: a constant (e.g. sub-threshold) drive for
        ``duration``; ``rate`` is the spontaneous (channel-noise) firing rate after the
        transient. Spikes are accumulated in running sums, so memory is flat in ``duration``.
    number_parameter : str, optional
        The swept parameter (default: the first parameter named by a channel type's number,
        ``N_Na`` for the library model).
    **options : object
        Passed to ``firing_curve`` (``duration``, ``pulse_duration``, ``pulse_start``,
        ``baseline``, ``dt``, ``seed``, ``device``, ``target``, ``transient``, ``parameters``
        for other fixed parameters, ...).

    Returns
    -------
    xarray.Dataset
        Dims ``param_<number_parameter>``, ``input``, ``trial``; ``spike_count``, ``p_fire``,
        ``first_spike_latency``, ``rate``, ... (see ``firing_curve``), coordinates
        ``channels_<type>`` with the channel counts, provenance including the kinetics.

    Raises
    ------
    ModelFileError
        The model declares no Markov channels.
    ParameterError
        A channel number below 1 (or above :data:`MAX_CHANNELS`), a pulse that does not end
        before the run, or an empty list of channel numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2 import uA, cm, ms
    >>> data = channel_noise_firing(amplitudes=np.array([0.0, 20.0]) * uA / cm**2,
    ...                             channel_numbers=[100, 10000], seeds=3, pulse_duration=0.5 * ms,
    ...                             duration=20 * ms, progress=False)  # doctest: +SKIP
    >>> data["p_fire"].dims  # doctest: +SKIP
    ('param_N_Na', 'input')
    """
    from neurophase.micro.modelfile import Model
    from neurophase.micro.neurone import firing_curve, resolve_model

    model = model if isinstance(model, Model) else resolve_model(model)
    scheme = markov_scheme(model)
    if scheme is None:
        raise ModelFileError(
            f"Model {model.name!r} declares no Markov channels ([channels] table), so it has no "
            "channel number to sweep; use hodgkin_huxley_markov or add [channels] to the model file.")
    if number_parameter is None:
        names = []
        for channel in scheme.types:
            names += _expression_names(channel.number, model.source, channel.name)
        number_parameter = names[0]
    if number_parameter not in model.parameters:
        raise ParameterError(f"Model {model.name!r} has no parameter {number_parameter!r} to sweep.")
    if channel_numbers is None or np.size(channel_numbers) == 0:
        raise ParameterError("Give channel_numbers, e.g. [100, 1000, 10000, 100000].")
    numbers = np.atleast_1d(np.asarray(channel_numbers, dtype=float))
    if numbers.ndim != 1 or not np.all(np.isfinite(numbers)) or np.any(numbers < 0.5):
        raise ParameterError(
            f"channel_numbers must be finite numbers >= 1 (a neurone needs at least one channel); "
            f"got {numbers.tolist()}.")
    if amplitudes is None:
        raise ParameterError("Give amplitudes (the input levels, with units).")
    parameters = dict(options.pop("parameters", None) or {})
    parameters[number_parameter] = numbers
    return firing_curve(model, amplitudes, protocol=protocol, seeds=seeds, parameters=parameters,
                        **options)


def voltage_clamp(model: str | Path | Model, voltages: Quantity, duration: Quantity, seeds: int = 1,
                  holding: Quantity | None = None, record: dict[str, str] | None = None,
                  record_dt: Quantity | None = None, parameters: dict[str, Any] | None = None,
                  dt: Quantity | None = None, seed: int = 0, target: str = "cython", device: str = "runtime",
                  standalone_directory: str | Path | None = None, method: str | None = None) -> xr.Dataset:
    """Channel open fractions of a conductance model with its membrane potential clamped.

    Every (swept parameter x command voltage x trial) is one neurone of ONE network. The
    model's membrane equation (its first differential equation in volts) is replaced by a
    clamp: ``v`` is held at ``holding`` (default: the command voltage) until t = 0, where the
    channels start from their stationary state at the holding voltage (Markov counts drawn
    from the product-binomial law; gating variables with ``alpha_x``/``beta_x`` rates set to
    ``x_inf``), then at the command voltage. For Markov channels the counts then have, at every
    recorded time, exactly the law of the continuous-time chain (the step transitions are
    exact at fixed voltage, for any ``dt``).

    Parameters
    ----------
    model : str, pathlib.Path or Model
        A conductance model (library name, file, Model).
    voltages : Quantity (voltage)
        Command voltages (a ``voltage`` dimension).
    duration : Quantity (time)
        Recorded time after the command step.
    seeds : int
        Trials per grid point.
    holding : Quantity (voltage), optional
        Holding voltage before t = 0 (default: the command voltage, i.e. stationary start).
    record : dict, optional
        Output name -> Brian2 expression of the model's variables (dimensionless), e.g.
        ``{"Na_open": "m_open**3 * h_open"}`` for the Fox model. Default: every Markov type's
        open fraction ``C_open`` and gate fractions ``C_<gate>_fraction``.
    record_dt : Quantity (time), optional
        Sampling step (default ``dt``); samples are taken at the end of each step.
    parameters : dict, optional
        Overrides; arrays sweep (``param_<name>`` dimensions, as in ``firing_curve``).
    dt : Quantity (time), optional
        Time step (default the model's ``dt``; under clamp the Markov update is exact at any
        ``dt``, so the model's ``max_dt`` does not apply).
    seed : int
        Brian2 seed.
    target : {"cython", "numpy"}
        Code-generation target of the runtime device.
    device : {"runtime", "cpp_standalone"}
        Brian2 device (see :class:`~neurophase.micro.devices.Brian2Device`).
    standalone_directory : str or pathlib.Path, optional
        Project folder of the standalone device.
    method : str, optional
        Integration method of the remaining differential equations (default the model's).

    Returns
    -------
    xarray.Dataset
        Dims (``param_*``, ``voltage``, ``trial``, ``time``); one variable per ``record`` entry
        (units ``"1"``); coordinates ``voltage`` (mV) and ``time`` (ms after the step, the
        first sample one ``record_dt`` after it); provenance.
    """
    import xarray as xr
    from brian2 import Equations, Network, NeuronGroup, StateMonitor, ms, second
    from brian2 import seed as brian2_seed
    from brian2 import volt as brian2_volt

    from neurophase.micro.devices import Brian2Device
    from neurophase.micro.grid import parameter_grid
    from neurophase.micro.neurone import resolve_model
    from neurophase.schema import provenance, quantity_coordinate
    from neurophase.units import dimension_text, to_magnitude

    model = resolve_model(model)
    levels = np.atleast_1d(to_magnitude(voltages, "mV", name="voltages"))
    if levels.ndim != 1 or levels.size == 0 or not np.all(np.isfinite(levels)):
        raise ParameterError("'voltages' must be a non-empty one-dimensional array of finite voltages.")
    duration_s = float(to_magnitude(duration, "second", name="duration"))
    seeds = int(seeds)
    if duration_s <= 0 or seeds < 1:
        raise ParameterError("duration must be positive and seeds at least 1.")
    time_step = dt if dt is not None else (model.dt if model.dt is not None else 0.01 * ms)
    step_s = float(to_magnitude(time_step, "second", name="dt"))
    sample_s = step_s if record_dt is None else float(to_magnitude(record_dt, "second", name="record_dt"))
    ratio = sample_s / step_s
    if sample_s <= 0 or abs(ratio - round(ratio)) > 1e-6 * ratio:
        raise ParameterError(f"record_dt must be a whole number of time steps ({step_s * 1e3:g} ms).")
    holding_mV = None if holding is None else float(to_magnitude(holding, "mV", name="holding"))

    equations = Equations(model.equations)
    voltage_name = next((name for name in equations.diff_eq_names
                         if equations[name].dim is brian2_volt.dim), None)
    if voltage_name is None:
        raise ModelFileError(f"Model {model.name!r} has no membrane equation in volts to clamp.")
    kept = [equation for name, equation in equations.items() if name != voltage_name]
    scheme = markov_scheme(model)
    if record is None:
        if scheme is None:
            raise ParameterError(
                f"Model {model.name!r} has no Markov channels; say what to record, e.g. "
                "record={'Na_open': 'm_open**3 * h_open'}.")
        record = {}
        for channel in scheme.types:
            record[channel.open_variable] = channel.open_variable
            for gate, _ in channel.gates:
                record[channel.fraction_variable(gate)] = channel.fraction_variable(gate)
    swept = parameter_grid(model, parameters)
    lines = [f"{voltage_name} : volt", "clamp_command : volt (constant)"]
    lines += swept.equation_lines(dimension_text)
    recorded = {}
    for index, (name, expression) in enumerate(record.items()):
        recorded[name] = f"clamp_record_{index}"
        lines.append(f"clamp_record_{index} = {expression} : 1")
    if scheme is not None:
        lines.append(scheme.equations())
    full = Equations(kept) + Equations("\n".join(lines))
    namespace = model.namespace(**swept.overrides)
    for name in swept.names:
        namespace.pop(name)
    if scheme is not None:
        scheme.check_numbers(model.namespace(**swept.overrides), swept)
        namespace.update(scheme.namespace())
    gates = [name for name in full.diff_eq_names
             if f"alpha_{name}" in full.names and f"beta_{name}" in full.names]

    n_neurons = swept.size * levels.size * seeds
    combination, level_index, _ = np.indices((swept.size, levels.size, seeds)).reshape(3, -1)
    integration = method or model.method or "euler"
    if re.search(r"\bxi(_\w+)?\b", model.equations) and integration not in ("euler", "heun", "milstein"):
        integration = "euler"
    started = wallclock.perf_counter()
    with Brian2Device(target, device, standalone_directory):
        brian2_seed(seed)
        group = NeuronGroup(n_neurons, full, method=integration, namespace=namespace,
                            dt=step_s * second, name="clamp_neurones")
        for name, value in model.initial.items():
            if name in full.names and name != voltage_name:
                setattr(group, name, value)
        swept.assign(group, combination)
        command = levels[level_index]
        start = command if holding_mV is None else np.full(n_neurons, holding_mV)
        setattr(group, voltage_name, start * 1e-3 * brian2_volt)
        group.clamp_command = command * 1e-3 * brian2_volt
        for gate in gates:
            setattr(group, gate, f"alpha_{gate} / (alpha_{gate} + beta_{gate})")
        objects = [group]
        if scheme is not None:
            objects.extend(scheme.attach(group, duration_s))
        objects.append(group.run_regularly(f"{voltage_name} = clamp_command",
                                           dt=2 * max(duration_s, 1e-3) * second, when="start",
                                           order=-15, name="clamp_command_step"))
        monitor = StateMonitor(group, list(recorded.values()), record=True, dt=sample_s * second,
                               when="end", name="clamp_monitor")
        objects.append(monitor)
        from neurophase.interrupts import run_network

        run_network(Network(*objects), duration_s * second,
                    f"the voltage clamp of {model.name!r} ({n_neurons} neurones)", namespace=namespace)
        times = np.asarray(monitor.t_[:], dtype=float) + step_s
        traces = {name: np.asarray(getattr(monitor, variable)[:], dtype=float)
                  for name, variable in recorded.items()}
    elapsed = wallclock.perf_counter() - started
    shape = swept.shape + (levels.size, seeds, times.size)
    dims = swept.dims + ("voltage", "trial", "time")
    coords = {"voltage": quantity_coordinate("voltage", levels, "mV", long_name="command voltage"),
              "trial": ("trial", np.arange(seeds)),
              "time": quantity_coordinate("time", times * 1e3, "ms", long_name="time after the command step")}
    coords.update(swept.coordinates())
    variables = {name: xr.DataArray(values.reshape(shape), dims=dims,
                                    attrs={"units": "1", "long_name": f"{record[name]} under voltage clamp"})
                 for name, values in traces.items()}
    dataset = xr.Dataset(variables, coords=coords)
    if scheme is not None:
        counts = scheme.channel_numbers(model.namespace(**swept.overrides), swept)
        for channel in scheme.types:
            dataset.coords[f"channels_{channel.name}"] = (
                swept.dims, counts[channel.name].reshape(swept.shape),
                {"units": "1", "long_name": f"number of {channel.name} channels"})
    dataset.attrs.update(provenance(
        model_name=model.name, model_hash=model.content_hash, model_citation=model.citation,
        model_source=model.source, protocol="voltage clamp",
        holding=f"{holding_mV:g} mV" if holding_mV is not None else "the command voltage",
        parameter_overrides=(", ".join(f"{key}={value!s}" for key, value in swept.overrides.items())
                             if swept.overrides else None),
        parameter_grid=swept.describe(),
        channel_kinetics=scheme.describe() if scheme is not None else None,
        seed=seed, n_seeds=seeds, brian2_device=device,
        brian2_target=target if device == "runtime" else "cpp", dt=f"{step_s * 1e3:g} ms",
        integration_method=integration, duration=f"{duration_s * 1e3:g} ms",
        wall_time_seconds=round(elapsed, 3), n_neurons=n_neurons))
    return dataset
