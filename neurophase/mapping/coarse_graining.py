"""Coarse-graining a conductance-based model file into its mean-field membrane (THEORY.md 6a).

The channels of an isopotential membrane interact only through the shared voltage, so the
voltage is the molecular field of their gates. :func:`coarse_grain` reads a model file's OWN
equations (parsed by Brian2 into sympy; nothing is typed per model), picks the order-parameter
gate ``m`` (the fastest activating gate of a depolarising conductance, or the one the model file
declares with ``[model] order_parameter``), holds every other gate at its resting value, and
derives from the current-balance equation ``dv/dt = 0`` the voltage ``V*(m, I)`` at which the
membrane current balances when a fraction ``m`` of the gates is open (Hodgkin & Huxley 1952,
Eq. 26). Everything else follows from the self-map ``g(m, I) = m_inf(V*(m, I))``:

- the self-consistent branches ``m = g(m, I)`` (all roots in (0, 1)) over an input grid, with
  their stability (stable where the loop gain ``dg/dm < 1``);
- the folds (spinodals), where the loop gain is 1: the input and voltage at which the rest
  branch ends (the current threshold of the fast subsystem) and where the excited branch ends;
- the mean-field parameters, read off and not fitted to any firing: ``T_eff = 2 k_V`` from a
  Boltzmann fit of the model's ``m_inf`` (only to read off a temperature), the field
  ``h(I) = V*(M = 0, I) - V_half`` and the coupling ``J_eff(I, M) = dV*/dM`` (``M = 2m - 1``),
  so that a Boltzmann gate gives exactly ``M = tanh((V*(M, I) - V_half) / (2 k_V))``;
- the reduced one-dimensional dynamics ``dm/dt = (m_inf(V*(m, I)) - m) / tau_m(V*(m, I))``, its
  potential ``U(m; I)`` (``dm/dt = -dU/dm``) and the barrier ``Delta U(I)`` between the rest
  branch and the saddle, which closes at the fold.

What is exact and what is not
-----------------------------
The fixed points, their stability and the folds are those of the *fast subsystem* (the voltage
and the order-parameter gate, the other gates frozen): a fixed point of ``(v, m)`` is a root of
``m = m_inf(V*(m, I))`` whichever variable is eliminated, the Jacobian determinant of the
``(v, m)`` system has the sign of ``1 - dg/dm`` and, for ohmic currents, its trace is negative
(``-g_total/C - 1/tau_m``), so stability and folds do not depend on any reduction (Rinzel 1985,
Lect. Notes Biomath. 58; Izhikevich 2007, *Dynamical Systems in Neuroscience*, ch. 5-6: the
fast subsystem and its saddle-node). The potential, the barrier and the reduced time scale
depend on the adiabatic elimination of the voltage (``v`` slaved to ``V*(m, I)``, valid when the
membrane time constant is short against ``tau_m``; Chow & White 1996, Biophys. J. 71:3013, make
the same one-dimensional reduction for Hodgkin-Huxley). In Hodgkin-Huxley at rest the membrane
time constant (about 1.5 ms) is longer than ``tau_m`` (about 0.24 ms), so these are the
mean-field picture's time scales, not the model's. For an instantaneous gate (Morris-Lecar,
Wang-Buzsaki ``m_inf``) the reduced dynamics is the voltage equation itself with
``m = m_inf(v)``, written in ``m``: ``dm/dt = m_inf'(v) dv/dt``.

Functions
---------
coarse_grain
    Model (loaded model file) -> :class:`CoarseGrainedMembrane`.

Classes
-------
CoarseGrainedMembrane
    Every derived quantity with its unit, provenance, ``to_dataset()``, ``activation()``.
GateInfo, Fold
    A gate of the model, and one fold of the fast subsystem.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy
from scipy.optimize import brentq, curve_fit
from scipy.special import expit, logit

from neurophase.docstrings import template
from neurophase.errors import ParameterError
from neurophase.mapping._symbolic import SymbolicModel, numpy_function
from neurophase.neurons.derived import DerivedActivation, self_consistent_roots

if TYPE_CHECKING:
    import xarray as xr
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

__all__ = ["coarse_grain", "CoarseGrainedMembrane", "GateInfo", "Fold"]

_M = """m : float or array_like, dimensionless
    Open probability of the order-parameter gate."""
_CURRENT_NUMBERS = """current : float or array_like, input_unit
    Injected drive as plain numbers in ``input_unit``."""
_doc = template(
    m=_M,
    current_numbers=_CURRENT_NUMBERS,
    parameters_m_current_numbers=f"Parameters\n----------\n{_M}\n{_CURRENT_NUMBERS}",
    parameters_m_current_quantity=f"""Parameters
----------
{_M}
current : Quantity (input dimension)
    Injected drive, a quantity in the dimension of ``input_unit``.""",
)

#: Voltage range scanned for fixed points and folds (volts) and its spacing (0.01 mV).
_V_SCAN = np.arange(-0.200, 0.200 + 1e-9, 1e-5)
#: Default number of input levels and of order-parameter grid points.
_DEFAULT_INPUT_POINTS = 401
_DEFAULT_M_POINTS = 401
_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(64)

_EXACT_NOTE = (
    "exact (fast subsystem, any reduction): branches, their stability, folds, saddle voltage; "
    "adiabatic (v slaved to V*(m, I); Chow & White 1996): reduced dynamics, potential U(m; I), "
    "barrier, relaxation time")


@dataclasses.dataclass(frozen=True)
class GateInfo:
    """A gating variable of the model.

    Attributes
    ----------
    name : str
        Its name in the equations.
    kind : str
        ``"dynamic"`` (a differential equation) or ``"instantaneous"`` (a subexpression of v).
    activating : bool
        Its steady state increases with the voltage at rest.
    depolarising : bool
        Opening it depolarises the membrane at rest (d(dv/dt)/dx > 0: reversal above rest).
    rest_value : float
        Its value at rest.
    tau_rest : Quantity (time)
        Its time constant at the resting voltage (0 ms for an instantaneous gate).
    """

    name: str
    kind: str
    activating: bool
    depolarising: bool
    rest_value: float
    tau_rest: Quantity

    def describe(self) -> str:
        """One line: name, kind, role and time constant at rest (ms), for provenance attributes.

        Returns
        -------
        str
            E.g. ``"m (dynamic, activating, depolarising, tau at rest 0.238 ms)"``.
        """
        role = ("activating" if self.activating else "inactivating") + ", " + (
            "depolarising" if self.depolarising else "hyperpolarising")
        from brian2 import ms

        return f"{self.name} ({self.kind}, {role}, tau at rest {float(self.tau_rest / ms):.3g} ms)"


@dataclasses.dataclass(frozen=True)
class Fold:
    """A fold (spinodal) of the fast subsystem: loop gain ``dg/dm = 1``.

    Attributes
    ----------
    input : Quantity (input dimension)
        The injected drive at the fold.
    voltage : Quantity (voltage)
        The membrane potential at the fold.
    order_parameter : float
        ``m`` at the fold.
    loop_gain : float
        ``d m_inf(V*(m, I)) / dm`` there (1 up to the root-finding precision).
    kind : str
        ``"upper"``: a local maximum of the steady-state input, where a lower branch ends as
        the input rises (the rest branch's fold is the current threshold); ``"lower"``: a local
        minimum, where an upper branch ends as the input falls.
    """

    input: Quantity
    voltage: Quantity
    order_parameter: float
    loop_gain: float
    kind: str


class _FastSubsystem:
    """Lambdified functions of the fast subsystem, SI floats in and out (internal)."""

    def __init__(self, symbolic, gate, frozen):
        v, current = symbolic.v, symbolic.current
        m = sympy.Symbol("order_parameter_m", real=True)
        self.gate_kind = symbolic.gates[gate].kind
        keep = (gate,) if self.gate_kind == "instantaneous" else ()
        rate = symbolic.voltage_rate(keep=keep)
        rate = rate.xreplace({symbolic.symbol(gate): m})
        rate = rate.xreplace({symbolic.symbol(name): sympy.Float(value) for name, value in frozen.items()})
        extra = rate.free_symbols - {v, m, current}
        if extra:
            raise ParameterError(
                f"Model {symbolic.name!r}: after freezing the slow gates, dv/dt still depends on "
                f"{', '.join(sorted(str(s) for s in extra))}; give their values in slow_gates.")
        steady = symbolic.gates[gate].steady
        tau = symbolic.gates[gate].tau
        self.rate = numpy_function([v, m, current], rate)
        rate_v = sympy.diff(rate, v)
        rate_m = sympy.diff(rate, m)
        rate_i = sympy.diff(rate, current)
        self.rate_v = numpy_function([v, m, current], rate_v)
        self.rate_m = numpy_function([v, m, current], rate_m)
        self.rate_i = numpy_function([v, m, current], rate_i)
        self.steady = numpy_function([v], steady)
        self.steady_prime = numpy_function([v], sympy.diff(steady, v))
        self.tau = numpy_function([v], tau)
        self.linear_in_v = current not in rate_v.free_symbols and v not in rate_v.free_symbols
        if self.linear_in_v:
            self.v_star_closed = numpy_function([m, current], sympy.simplify(-rate.subs(v, 0) / rate_v))
        if current not in rate.free_symbols or sympy.diff(rate, current, 2) != 0:
            raise ParameterError(
                f"Model {symbolic.name!r}: the input {symbolic.current} does not enter dv/dt linearly; "
                "coarse-graining needs an injected current added to the membrane current.")
        balance = -rate.subs(current, 0) / rate_i
        self.capacitance = float(1.0 / rate_i) if not rate_i.free_symbols else None
        steady_input = balance.xreplace({m: steady})
        self.steady_input = numpy_function([v], steady_input)
        self.steady_input_prime = numpy_function([v], sympy.diff(steady_input, v))
        self._inverse_table = None

    # ----------------------------------------------------------------------------- V*
    def v_star(self, m, current):
        m, current = np.broadcast_arrays(np.asarray(m, float), np.asarray(current, float))
        if self.linear_in_v:
            return np.asarray(self.v_star_closed(m, current), dtype=float) + 0.0 * m
        return self._v_star_root(m, current)

    def _v_star_root(self, m, current):
        """Vectorised root of dv/dt = 0 in v at fixed (m, I); unique root required."""
        grid = _V_SCAN[::20]
        values = self.rate(grid[(None,) * m.ndim], m[..., None], current[..., None])
        sign = np.sign(values)
        change = sign[..., :-1] * sign[..., 1:] < 0
        count = change.sum(axis=-1)
        if np.any(count > 1):
            raise ParameterError(
                "Current balance has several voltages at a fixed order parameter, so V*(m, I) is not "
                "a function; choose the fast activating gate as the order parameter.")
        index = np.argmax(change, axis=-1)
        low, high = grid[index], grid[index + 1]
        f_low = np.take_along_axis(values, index[..., None], -1)[..., 0]
        for _ in range(60):
            middle = 0.5 * (low + high)
            f_middle = self.rate(middle, m, current)
            same = np.sign(f_middle) == np.sign(f_low)
            low, f_low, high = np.where(same, middle, low), np.where(same, f_middle, f_low), np.where(same, high,
                                                                                                      middle)
        return np.where(count == 1, 0.5 * (low + high), np.nan)

    def dv_star(self, m, current):
        """(dV*/dm, dV*/dI) by implicit differentiation of dv/dt(V*, m, I) = 0."""
        voltage = self.v_star(m, current)
        denominator = self.rate_v(voltage, m, current)
        return (-self.rate_m(voltage, m, current) / denominator,
                -self.rate_i(voltage, m, current) / denominator)

    # ------------------------------------------------------------------------ self-map
    def self_map(self, m, current):
        return self.steady(self.v_star(m, current))

    def self_map_derivatives(self, m, current):
        voltage = self.v_star(m, current)
        slope = self.steady_prime(voltage)
        d_m, d_i = self.dv_star(m, current)
        return slope * d_m, slope * d_i

    # ----------------------------------------------------------------- reduced dynamics
    def voltage_of_m(self, m):
        """Invert the (monotonic) steady state of the gate: v with m_inf(v) = m."""
        if self._inverse_table is None:
            with np.errstate(all="ignore"):
                values = logit(np.clip(self.steady(_V_SCAN), 1e-300, 1 - 1e-16))
            keep = np.isfinite(values) & np.r_[True, np.diff(values) > 0]
            self._inverse_table = (values[keep], _V_SCAN[keep])
        table_u, table_v = self._inverse_table
        voltage = np.interp(logit(m), table_u, table_v)
        for _ in range(3):
            voltage = voltage - (self.steady(voltage) - m) / self.steady_prime(voltage)
        return voltage

    def reduced_rate(self, m, current):
        """dm/dt of the one-dimensional reduction (1/s)."""
        m, current = np.broadcast_arrays(np.asarray(m, float), np.asarray(current, float))
        if self.gate_kind == "instantaneous":
            voltage = self.voltage_of_m(m)
            return self.steady_prime(voltage) * self.rate(voltage, m, current)
        voltage = self.v_star(m, current)
        return (self.steady(voltage) - m) / self.tau(voltage)


@dataclasses.dataclass(frozen=True)
class CoarseGrainedMembrane:
    """The mean-field membrane derived from a conductance-based model file.

    Scalars and arrays with a physical dimension are Brian2 quantities; order parameters are
    the open probability ``m`` of the order-parameter gate (``M = 2m - 1``). Arrays over the
    input grid have the length of ``inputs``; over ``(inputs, m_grid)`` that shape; branches are
    ``(inputs, n_branches)`` with NaN where a level has fewer roots.

    Attributes
    ----------
    model_name, model_hash, model_source, model_citation : str
        Provenance of the model file.
    voltage_variable, input_variable, input_unit : str
        The membrane potential, the injected-drive variable and its unit.
    order_parameter, order_parameter_kind : str
        The order-parameter gate and ``"dynamic"`` / ``"instantaneous"``.
    order_parameter_rule : str
        How it was chosen (default rule, the model file's declaration or the argument).
    gates : tuple of GateInfo
        Every gate the model has.
    frozen : dict
        Gate name -> the value it is held at (the "slow" gates).
    frozen_rule : str
        Where those values come from (e.g. the stable rest state at I = 0 uA/cm**2).
    rest_input, rest_voltage : Quantity
        The holding input and the resting potential there (full model, stable fixed point).
    rest_state : dict
        Every state variable at rest (voltage as a Quantity, gates as floats).
    rest_check : str
        Comparison of the computed rest with the model file's ``[initial]`` state.
    fixed_point_voltages : Quantity (voltage)
        All fixed points of the full model at ``rest_input``.
    fixed_point_stable : tuple of bool
        Their stability (all eigenvalues of the full model's Jacobian with negative real part).
    capacitance : Quantity
        ``1 / (d(dv/dt)/dI)``: the membrane capacitance in the input's unit (times s/V).
    v_half, k_v, temperature : Quantity
        Boltzmann fit ``m_inf ~ 1/(1 + exp(-(v - V_half)/k_V))`` of the gate's steady state over
        ``0.01 <= m_inf <= 0.99`` (least squares in m_inf), and ``T_eff = 2 k_V``.
    boltzmann_rms : float
        Root-mean-square deviation of that fit (0 for a Boltzmann gate).
    folds : tuple of Fold
        Every fold of the fast subsystem, by voltage.
    fold_up, fold_down : tuple or None
        ``(input in input_unit, m)`` of the fold where the rest branch ends (the current
        threshold of the fast subsystem) and of the fold where the branch it jumps to ends
        (None without folds).
    inputs : Quantity
        The input grid.
    branches, branch_stable, branch_loop_gain : ndarray
        Self-consistent ``m`` at each input (ascending), stability and loop gain.
    branch_voltage : Quantity
        ``V*`` on each branch.
    rest_branch, saddle_branch : ndarray
        ``m`` on the branch reached from rest and on the saddle above it (NaN past the fold).
    saddle_voltage : Quantity
        ``V*`` of the saddle (the voltage threshold of the fast subsystem).
    field, field_closed : Quantity
        ``h(I) = V*(M = 0, I) - V_half`` (the convention of THEORY 6a: the molecular field at
        ``M = 0``, ``m = 1/2``), and ``V*(m = 0, I) - V_half`` (gates all closed).
    m_grid : ndarray
        Order-parameter grid of the (input, m) arrays.
    voltage_star, coupling, loop_gain : Quantity / ndarray
        ``V*(m, I)``, ``J_eff = dV*/dM = (1/2) dV*/dm`` and ``dg/dm`` on (inputs, m_grid).
    potential : Quantity
        ``U(m; I) = -int dm/dt dm`` from ``m_grid[0]`` (unit 1/ms; adiabatic reduction).
    barrier : Quantity
        ``U(saddle) - U(rest)`` (1/ms; NaN where there is no saddle).
    relaxation_time : Quantity
        ``-1 / (d(dm/dt)/dm)`` on the rest branch (ms; adiabatic reduction).
    coupling_rest, field_rest : Quantity
        ``J_eff`` at the rest state and ``h`` at the holding input.
    loop_gain_max_rest : float
        Largest loop gain over ``m`` at the holding input (> 1: the ordered, bistable phase).
    saddle_voltage_rest, barrier_rest : Quantity
        The saddle voltage and the barrier at the holding input.
    notes : tuple of str
        What is exact, what depends on the reduction, what was simplified.
    """

    model_name: str
    model_hash: str
    model_source: str
    model_citation: str
    voltage_variable: str
    input_variable: str
    input_unit: str
    order_parameter: str
    order_parameter_kind: str
    order_parameter_rule: str
    gates: tuple
    frozen: dict
    frozen_rule: str
    rest_input: Quantity
    rest_voltage: Quantity
    rest_state: dict
    rest_check: str
    fixed_point_voltages: Quantity
    fixed_point_stable: tuple
    capacitance: Quantity
    v_half: Quantity
    k_v: Quantity
    temperature: Quantity
    boltzmann_rms: float
    folds: tuple
    fold_up: tuple | None
    fold_down: tuple | None
    inputs: Quantity
    branches: np.ndarray
    branch_stable: np.ndarray
    branch_loop_gain: np.ndarray
    branch_voltage: Quantity
    rest_branch: np.ndarray
    saddle_branch: np.ndarray
    saddle_voltage: Quantity
    field: Quantity
    field_closed: Quantity
    m_grid: np.ndarray
    voltage_star: Quantity
    coupling: Quantity
    loop_gain: np.ndarray
    potential: Quantity
    barrier: Quantity
    relaxation_time: Quantity
    coupling_rest: Quantity
    field_rest: Quantity
    loop_gain_max_rest: float
    saddle_voltage_rest: Quantity
    barrier_rest: Quantity
    notes: tuple
    _fast: object = dataclasses.field(default=None, repr=False, compare=False)
    _input_scale: float = dataclasses.field(default=1.0, repr=False, compare=False)

    # ------------------------------------------------------------------ functions
    def _si(self, current):
        return np.asarray(current, dtype=float) * self._input_scale

    def self_map(self, m: ArrayLike, current: ArrayLike) -> np.ndarray:
        """``g(m, I) = m_inf(V*(m, I))``: the gate's steady state at the balancing voltage.

        ``V*(m, I)`` solves the current balance ``dv/dt = 0`` with the other gates frozen
        (Hodgkin & Huxley 1952, Eq. 26; THEORY.md 6a).

        Parameters
        ----------
        m : float or array_like, dimensionless
            Open probability of the order-parameter gate, in (0, 1).
        current : float or array_like, input_unit
            Injected drive as plain numbers in ``input_unit``; broadcast against ``m``.

        Returns
        -------
        numpy.ndarray, dimensionless
            ``g``, the broadcast shape (NaN where ``V*`` is not unique).
        """
        return self._fast.self_map(m, self._si(current))

    @_doc
    def self_map_derivatives(self, m: ArrayLike, current: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """``(dg/dm, dg/dI)`` by implicit differentiation of the current balance.

        ``dg/dx = m_inf'(V*) dV*/dx`` with ``dV*/dx = -(d(dv/dt)/dx) / (d(dv/dt)/dv)``.

        %(parameters_m_current_numbers)s

        Returns
        -------
        loop_gain : numpy.ndarray, dimensionless
            ``dg/dm``.
        drive_gain : numpy.ndarray, 1 / input_unit
            ``dg/dI`` per ``input_unit``.
        """
        gain, drive = self._fast.self_map_derivatives(m, self._si(current))
        return gain, drive * self._input_scale

    @_doc
    def voltage_at(self, m: ArrayLike, current: Quantity) -> Quantity:
        """``V*(m, I)``: the voltage at which the membrane current balances.

        %(parameters_m_current_quantity)s

        Returns
        -------
        Quantity (voltage)
            ``V*``, the broadcast shape of ``m`` and ``current``.
        """
        from brian2 import volt

        from neurophase.units import to_magnitude

        level = to_magnitude(current, self.input_unit, name="current")
        return self._fast.v_star(m, self._si(level)) * volt

    @_doc
    def reduced_rate(self, m: ArrayLike, current: Quantity) -> Quantity:
        """``dm/dt`` of the one-dimensional (adiabatic) reduction.

        ``(m_inf(V*) - m) / tau_m(V*)`` for a dynamic gate; ``m_inf'(v) dv/dt`` at
        ``m_inf(v) = m`` for an instantaneous one (module docstring; Chow & White 1996).

        %(parameters_m_current_quantity)s

        Returns
        -------
        Quantity (frequency)
            ``dm/dt`` in 1/s, the broadcast shape of ``m`` and ``current``.
        """
        from brian2 import Hz

        from neurophase.units import to_magnitude

        level = to_magnitude(current, self.input_unit, name="current")
        return self._fast.reduced_rate(m, self._si(level)) * Hz

    # ------------------------------------------------ plain-number functions (SI, as self_map)
    @_doc
    def balance_voltage(self, m: ArrayLike, current: ArrayLike) -> np.ndarray:
        """``V*(m, I)`` as plain numbers (the voltage at which the membrane current balances).

        %(parameters_m_current_numbers)s

        Returns
        -------
        numpy.ndarray, volt
            ``V*`` in volts, the broadcast shape of ``m`` and ``current``.
        """
        return self._fast.v_star(m, self._si(current))

    def gate_rates(self, voltage: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Opening and closing rates ``(alpha, beta)`` of the order-parameter gate at ``voltage``.

        A two-state gate ``dx/dt = (x_inf - x)/tau_x`` opens at ``alpha = x_inf/tau_x`` and closes
        at ``beta = (1 - x_inf)/tau_x`` (Hodgkin & Huxley 1952, Eqs. 7 and 15: ``x_inf =
        alpha/(alpha + beta)``, ``tau_x = 1/(alpha + beta)``).

        Parameters
        ----------
        voltage : float or array_like, volt
            Membrane potential as plain numbers in volts.

        Returns
        -------
        alpha : numpy.ndarray, 1/second
            Opening rate per gate.
        beta : numpy.ndarray, 1/second
            Closing rate per gate.

        Raises
        ------
        ParameterError
            The order-parameter gate is instantaneous (it has no opening and closing rates).
        """
        if self.order_parameter_kind != "dynamic":
            raise ParameterError(
                f"The order-parameter gate {self.order_parameter!r} of {self.model_name!r} is instantaneous: "
                "it has no opening and closing rates, so its channel noise cannot be derived; use a model "
                "whose order-parameter gate has its own kinetics (e.g. hodgkin_huxley_1952).")
        voltage = np.asarray(voltage, dtype=float)
        steady = self._fast.steady(voltage)
        tau = self._fast.tau(voltage)
        return steady / tau, (1.0 - steady) / tau

    @_doc
    def fast_rates(self, voltage: ArrayLike, m: ArrayLike, current: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """``(dv/dt, dm/dt)`` of the fast subsystem (slow gates frozen at :attr:`frozen`).

        Parameters
        ----------
        voltage : float or array_like, volt
            Membrane potential as plain numbers in volts.
        %(m)s
        %(current_numbers)s

        Returns
        -------
        voltage_rate : numpy.ndarray, volt/second
            ``dv/dt``, the broadcast shape.
        gate_rate : numpy.ndarray, 1/second
            ``dm/dt = (m_inf(v) - m)/tau_m(v)`` (NaN for an instantaneous gate, ``m = m_inf(v)``).
        """
        voltage, m, current = np.broadcast_arrays(np.asarray(voltage, float), np.asarray(m, float),
                                                  np.asarray(current, float))
        rate_v = np.asarray(self._fast.rate(voltage, m, self._si(current)), dtype=float) + 0.0 * voltage
        if self.order_parameter_kind != "dynamic":
            return rate_v, np.full(voltage.shape, np.nan)
        rate_m = (self._fast.steady(voltage) - m) / self._fast.tau(voltage)
        return rate_v, np.asarray(rate_m, dtype=float)

    def activation(self) -> DerivedActivation:
        """The derived rate neurone of this membrane.

        Returns
        -------
        DerivedActivation
            :class:`~neurophase.neurons.derived.DerivedActivation` built on this membrane.
        """
        return DerivedActivation(self)

    # ----------------------------------------------------------------------- summary
    def summary(self) -> dict[str, Any]:
        """The N2 table row: plain numbers in stated units (keys name the unit).

        Returns
        -------
        dict
            Model, order parameter, rest input (``input_unit``), voltages and mean-field
            parameters in mV (``*_mV`` keys), loop gain, whether the rest is ordered, the barrier
            per ms and the fold inputs (``input_unit``) and voltages (NaN without folds).
        """
        from brian2 import mV

        unit = self.input_unit
        row = {
            "model": self.model_name,
            "order_parameter": f"{self.order_parameter} ({self.order_parameter_kind})",
            "rest_input": float(self._magnitude(self.rest_input)),
            "input_unit": unit,
            "rest_voltage_mV": float(self.rest_voltage / mV),
            "V_half_mV": float(self.v_half / mV),
            "k_V_mV": float(self.k_v / mV),
            "T_eff_mV": float(self.temperature / mV),
            "boltzmann_rms": self.boltzmann_rms,
            "J_eff_rest_mV": float(self.coupling_rest / mV),
            "h_rest_mV": float(self.field_rest / mV),
            "loop_gain_max_rest": self.loop_gain_max_rest,
            "ordered": bool(self.loop_gain_max_rest > 1.0),
            "saddle_voltage_rest_mV": float(self.saddle_voltage_rest / mV),
            "barrier_rest_per_ms": float(np.asarray(self.barrier_rest) * 1e-3),
            "fold_up_input": np.nan if self.fold_up is None else self.fold_up[0],
            "fold_up_voltage_mV": np.nan,
            "fold_down_input": np.nan if self.fold_down is None else self.fold_down[0],
            "fold_down_voltage_mV": np.nan,
        }
        for fold in self.folds:
            magnitude = float(self._magnitude(fold.input))
            if self.fold_up is not None and np.isclose(magnitude, self.fold_up[0]):
                row["fold_up_voltage_mV"] = float(fold.voltage / mV)
            if self.fold_down is not None and np.isclose(magnitude, self.fold_down[0]):
                row["fold_down_voltage_mV"] = float(fold.voltage / mV)
        return row

    def _magnitude(self, quantity):
        from neurophase.units import to_magnitude

        return to_magnitude(quantity, self.input_unit)

    # ----------------------------------------------------------------------- dataset
    def to_dataset(self) -> xr.Dataset:
        """The derived membrane as an xarray Dataset (units in attrs, provenance).

        Returns
        -------
        xarray.Dataset
            Dimensions ``input`` (the grid, in the model's input unit), ``branch`` (roots in
            increasing ``m``), ``m`` (the order-parameter grid) and ``fold``; voltages in mV,
            barrier and potential in 1/ms, times in ms; scalars are 0-d variables with units.
            Write it with :func:`neurophase.io.save_dataset`.
        """
        import xarray as xr
        from brian2 import ms, mV

        from neurophase.schema import provenance, quantity_coordinate, quantity_variable
        from neurophase.units import to_magnitude

        unit = self.input_unit
        inputs = self._magnitude(self.inputs)
        branch = np.arange(self.branches.shape[1])
        coords = {
            "input": quantity_coordinate("input", inputs, unit, long_name="injected drive"),
            "branch": xr.DataArray(branch, dims=("branch",)),
            "m": quantity_coordinate("m", self.m_grid, "1",
                                     long_name=f"open probability of the order-parameter gate {self.order_parameter}"),
            "fold": xr.DataArray(np.arange(len(self.folds)), dims=("fold",)),
        }

        def mv(values):
            return np.asarray(values / mV, dtype=float)

        per_ms = 1e-3
        variables = {
            "branch_m": quantity_variable(self.branches, "1", ("input", "branch"),
                                          long_name="self-consistent order parameter m = m_inf(V*(m, I))"),
            "branch_M": quantity_variable(2 * self.branches - 1, "1", ("input", "branch"),
                                          long_name="magnetisation M = 2m - 1"),
            "branch_stable": quantity_variable(np.where(np.isfinite(self.branches), self.branch_stable, np.nan),
                                               "1", ("input", "branch"),
                                               long_name="1: stable (loop gain < 1), 0: unstable"),
            "branch_loop_gain": quantity_variable(self.branch_loop_gain, "1", ("input", "branch"),
                                                  long_name="loop gain d m_inf(V*(m, I))/dm on the branch"),
            "branch_voltage": quantity_variable(mv(self.branch_voltage), "mV", ("input", "branch"),
                                                long_name="V* on the branch"),
            "rest_branch": quantity_variable(self.rest_branch, "1", ("input",),
                                             long_name="m on the branch reached from rest"),
            "saddle_branch": quantity_variable(self.saddle_branch, "1", ("input",),
                                               long_name="m of the saddle above the rest branch"),
            "saddle_voltage": quantity_variable(mv(self.saddle_voltage), "mV", ("input",),
                                                long_name="saddle voltage (voltage threshold of the fast subsystem)"),
            "field": quantity_variable(mv(self.field), "mV", ("input",),
                                       long_name="field h = V*(M = 0, I) - V_half"),
            "field_closed": quantity_variable(mv(self.field_closed), "mV", ("input",),
                                              long_name="V*(m = 0, I) - V_half"),
            "barrier": quantity_variable(np.asarray(self.barrier) * per_ms, "1/ms", ("input",),
                                         long_name="barrier U(saddle) - U(rest) of the reduced dynamics"),
            "relaxation_time": quantity_variable(np.asarray(self.relaxation_time / ms), "ms", ("input",),
                                                 long_name="relaxation time on the rest branch (reduced dynamics)"),
            "voltage_star": quantity_variable(mv(self.voltage_star), "mV", ("input", "m"),
                                              long_name="V*(m, I): current balance with the slow gates frozen"),
            "coupling": quantity_variable(mv(self.coupling), "mV", ("input", "m"),
                                          long_name="J_eff = dV*/dM"),
            "loop_gain": quantity_variable(self.loop_gain, "1", ("input", "m"),
                                           long_name="loop gain d m_inf(V*(m, I))/dm"),
            "potential": quantity_variable(np.asarray(self.potential) * per_ms, "1/ms", ("input", "m"),
                                           long_name="potential U(m; I) of dm/dt = -dU/dm"),
            "fold_input": quantity_variable(
                np.array([float(self._magnitude(f.input)) for f in self.folds]), unit, ("fold",),
                long_name="fold (spinodal) input"),
            "fold_voltage": quantity_variable(np.array([float(f.voltage / mV) for f in self.folds]), "mV",
                                              ("fold",), long_name="fold voltage"),
            "fold_m": quantity_variable(np.array([f.order_parameter for f in self.folds]), "1", ("fold",),
                                        long_name="m at the fold"),
            "fold_loop_gain": quantity_variable(np.array([f.loop_gain for f in self.folds]), "1", ("fold",),
                                                long_name="loop gain at the fold (1)"),
            "fold_upper": quantity_variable(np.array([f.kind == "upper" for f in self.folds], float), "1",
                                            ("fold",), long_name="1: a lower branch ends as the input rises"),
            "temperature": quantity_variable(float(self.temperature / mV), "mV", (),
                                             long_name="T_eff = 2 k_V (Boltzmann fit of m_inf)"),
            "v_half": quantity_variable(float(self.v_half / mV), "mV", (), long_name="V_half of the Boltzmann fit"),
            "k_v": quantity_variable(float(self.k_v / mV), "mV", (), long_name="k_V of the Boltzmann fit"),
            "boltzmann_rms": quantity_variable(self.boltzmann_rms, "1", (), long_name="rms error of the Boltzmann fit"),
            "rest_voltage": quantity_variable(float(self.rest_voltage / mV), "mV", (), long_name="resting potential"),
            "rest_input": quantity_variable(float(self._magnitude(self.rest_input)), unit, (),
                                            long_name="holding input of the rest state"),
            "capacitance": quantity_variable(
                np.nan if self.capacitance is None else float(to_magnitude(self.capacitance, f"{unit}*ms/mV")),
                f"{unit}*ms/mV", (), long_name="membrane capacitance 1 / (d(dv/dt)/dI)"),
            "coupling_rest": quantity_variable(float(self.coupling_rest / mV), "mV", (),
                                               long_name="J_eff at the rest state"),
            "field_rest": quantity_variable(float(self.field_rest / mV), "mV", (),
                                            long_name="h at the holding input"),
            "loop_gain_max_rest": quantity_variable(self.loop_gain_max_rest, "1", (),
                                                    long_name="max over m of the loop gain at the holding input"),
            "saddle_voltage_rest": quantity_variable(float(self.saddle_voltage_rest / mV), "mV", (),
                                                     long_name="saddle voltage at the holding input"),
            "barrier_rest": quantity_variable(float(np.asarray(self.barrier_rest)) * per_ms, "1/ms", (),
                                              long_name="barrier at the holding input"),
        }
        attrs = provenance(
            model_name=self.model_name, model_hash=self.model_hash, model_source=self.model_source,
            model_citation=self.model_citation, order_parameter=self.order_parameter,
            order_parameter_kind=self.order_parameter_kind, order_parameter_rule=self.order_parameter_rule,
            frozen=", ".join(f"{name} = {value:.7g}" for name, value in self.frozen.items()) or "none",
            frozen_rule=self.frozen_rule, rest_check=self.rest_check,
            gates="; ".join(gate.describe() for gate in self.gates),
            voltage_variable=self.voltage_variable, input_variable=self.input_variable,
            field_convention="h(I) = V*(M = 0, I) - V_half, M = 2m - 1 (THEORY.md 6a)",
            exactness=_EXACT_NOTE, notes=" | ".join(self.notes) or "none",
        )
        return xr.Dataset(variables, coords=coords, attrs=attrs)


# ------------------------------------------------------------------------------ the function
def coarse_grain(model: Any, inputs: Quantity | None = None, order_parameter: str | None = None,
                 slow_gates: str | dict[str, float] = "rest", rest_input: Quantity | None = None,
                 m_points: int = _DEFAULT_M_POINTS) -> CoarseGrainedMembrane:
    """Derive the mean-field membrane of a conductance-based model (THEORY.md 6a).

    Parameters
    ----------
    model : Model
        A loaded model file (``neurophase.micro.modelfile.load_model(name_or_path)``; the
        mapping layer sits below the simulator and takes the loaded object).
    inputs : Quantity (input dimension) or None, optional
        Input grid in the dimension of the model's input (e.g. ``np.arange(-10, 20, 0.1) *
        uA/cm**2``). Default: 401 levels spanning the folds and the holding input, with half
        their span on each side.
    order_parameter : str or None, optional
        The order-parameter gate. Default: the model file's ``[model] order_parameter`` if it
        declares one, else the fastest (smallest time constant at rest; instantaneous gates
        first) activating gate whose opening depolarises the membrane at rest (a conductance
        with its reversal above rest).
    slow_gates : "rest" or dict of str to float, optional
        ``"rest"``: every other gate is held at its value in the stable rest state of the full
        model at ``rest_input``; a dict ``{gate: value}`` holds the gates it names at those
        values instead (the others at rest).
    rest_input : Quantity (input dimension) or None, optional
        Holding input of the rest state (default 0 in the model's input unit). A model that
        fires at zero input (no stable fixed point) needs one at which it rests.
    m_points : int, optional
        Points of the order-parameter grid of the (input, m) arrays; default 401.

    Returns
    -------
    CoarseGrainedMembrane
        Every derived quantity with its unit and the model's provenance.

    Raises
    ------
    ParameterError
        The model is not a conductance-based spiking model, has no voltage-gated activating
        gate, names an order-parameter gate it does not have, has no stable rest at
        ``rest_input``, or the input grid is empty, non-finite or in the wrong unit.
    """
    from brian2 import second, volt

    from neurophase.units import parse_unit, to_magnitude

    if isinstance(model, (str, bytes)) or not hasattr(model, "equations"):
        raise ParameterError(
            f"coarse_grain needs a loaded model file, got {model!r}; load it first with "
            "neurophase.micro.modelfile.load_model(name_or_path).")
    kind = getattr(model, "kind", "spiking")
    if kind != "spiking":
        raise ParameterError(
            f"Model {model.name!r} is of kind {kind!r}: it has no membrane potential and no "
            "voltage-gated gate to coarse-grain. Use a conductance-based spiking model "
            "(e.g. hodgkin_huxley_1952).")
    if not model.input_variable or not model.input_unit:
        raise ParameterError(
            f"Model {model.name!r} does not say which variable carries the injected drive; add "
            "[equations] input = \"I_input\" and input_unit to its model file.")
    input_unit = model.input_unit
    scale = float(np.asarray(parse_unit(input_unit)))  # the input unit in SI
    symbolic = SymbolicModel(model)
    v = symbolic.v

    rest_level = 0.0 if rest_input is None else float(to_magnitude(rest_input, input_unit, name="rest_input"))
    if not np.isfinite(rest_level):
        raise ParameterError(f"rest_input must be finite; got {rest_input!r}.")
    rest_si = rest_level * scale

    # ---------------------------------------------------------------- the full model at rest
    dynamic = [name for name, gate in symbolic.gates.items() if gate.kind == "dynamic"]
    gate_table = ", ".join(sorted(symbolic.gates)) or "none"
    full_rate = symbolic.voltage_rate()
    rest_candidates = []
    if not symbolic.gates:
        raise ParameterError(
            f"Model {model.name!r} has no voltage-gated gate (its state variables: "
            f"{', '.join(symbolic.equations.diff_eq_names)}), so there is no channel order parameter "
            "to coarse-grain. Use a conductance-based model (Hodgkin-Huxley type) or add a gate.")
    if symbolic.others:
        raise ParameterError(
            f"Model {model.name!r} has state variable(s) {', '.join(symbolic.others)} that are neither "
            f"the voltage nor a gate (dx/dt linear in x with x_inf(v), tau(v)); its gates are "
            f"{gate_table}. Coarse-graining handles conductance-based models whose states are gates.")
    steady_voltage_rate = full_rate.xreplace({symbolic.symbol(name): symbolic.gates[name].steady for name in dynamic})
    steady_voltage_rate = steady_voltage_rate.xreplace({symbolic.current: sympy.Float(rest_si)})
    f_rest = numpy_function([v], steady_voltage_rate)
    fixed = _scan_roots(f_rest, _V_SCAN)
    states = [symbolic.voltage] + dynamic
    state_symbols = [symbolic.symbol(name) for name in states]
    rates = [full_rate] + [symbolic.expand(symbolic.derivatives[name]) for name in dynamic]
    jacobian = sympy.Matrix(rates).jacobian(state_symbols).xreplace({symbolic.current: sympy.Float(rest_si)})
    jacobian_function = numpy_function(state_symbols, jacobian)
    steady_functions = {name: numpy_function([v], symbolic.gates[name].steady) for name in symbolic.gates}
    tau_functions = {name: numpy_function([v], symbolic.gates[name].tau) for name in symbolic.gates}
    stability = []
    for voltage in fixed:
        point = [voltage] + [float(steady_functions[name](voltage)) for name in dynamic]
        eigenvalues = np.linalg.eigvals(np.asarray(jacobian_function(*point), dtype=float))
        stability.append(bool(np.all(eigenvalues.real < 0)))
        rest_candidates.append(point)
    stable = [index for index, flag in enumerate(stability) if flag]
    where = f"at {rest_level:g} {input_unit}"
    if not stable:
        found = ", ".join(f"{voltage * 1e3:.2f} mV" for voltage in fixed) or "none"
        raise ParameterError(
            f"Model {model.name!r} has no stable resting state {where} (fixed points: {found}, all "
            "unstable: it fires by itself). Give a holding input at which it rests, e.g. "
            f"rest_input = -0.1 * {input_unit} (or --rest-input), below its rheobase.")
    rest_index = stable[0]
    rest_voltage = fixed[rest_index]
    rest_values = {name: float(steady_functions[name](rest_voltage)) for name in symbolic.gates}
    rest_check = _check_initial(model, symbolic, rest_voltage, rest_values, rest_level)

    # ---------------------------------------------------------------------------- gates
    slope_rates = {}
    rest_point = {symbolic.symbol(name): sympy.Float(rest_values[name]) for name in dynamic}
    rest_point[v] = sympy.Float(rest_voltage)
    rest_point[symbolic.current] = sympy.Float(rest_si)
    infos = []
    for name, gate in symbolic.gates.items():
        if gate.kind == "dynamic":
            effect = sympy.diff(full_rate, symbolic.symbol(name))
        else:
            effect = sympy.diff(symbolic.voltage_rate(keep=(name,)), symbolic.symbol(name))
            effect = symbolic.expand(effect)
        value = _evaluate(effect, rest_point)
        slope_rates[name] = value
        activating = float(numpy_function([v], sympy.diff(gate.steady, v))(rest_voltage)) > 0
        tau_rest = float(tau_functions[name](rest_voltage))
        infos.append(GateInfo(name, gate.kind, activating, value > 0, rest_values[name], tau_rest * second))
    infos = tuple(infos)
    declared = order_parameter or getattr(model, "order_parameter", None)
    listing = "; ".join(info.describe() for info in infos)
    if declared:
        if declared not in symbolic.gates:
            raise ParameterError(
                f"Model {model.name!r} has no gate {declared!r}; its gates are: {listing}. Choose one of "
                f"{', '.join(sorted(symbolic.gates))} as the order parameter.")
        gate = declared
        rule = ("given as order_parameter" if order_parameter else "declared by the model file "
                "([model] order_parameter)")
    else:
        candidates = [info for info in infos if info.activating and info.depolarising]
        if not candidates:
            raise ParameterError(
                f"Model {model.name!r} has no voltage-gated activating gate of a depolarising "
                f"conductance (its gates: {listing}), so it has no channel order parameter; "
                "declare one with [model] order_parameter = \"<gate>\" or use a conductance-based "
                "model with a sodium- or calcium-type activation gate.")
        gate = min(candidates, key=lambda info: (float(info.tau_rest / second), info.name)).name
        rule = "default: the fastest activating gate of a depolarising conductance"

    frozen = {name: rest_values[name] for name in dynamic if name != gate}
    frozen_rule = f"the stable rest state of the full model {where}"
    if slow_gates != "rest":
        if not isinstance(slow_gates, dict):
            raise ParameterError("slow_gates must be 'rest' or a dict {gate: value}.")
        for name, value in slow_gates.items():
            if name not in frozen:
                raise ParameterError(
                    f"slow_gates names {name!r}, which is not a frozen gate of {model.name!r} "
                    f"(frozen gates: {', '.join(frozen) or 'none'}).")
            value = float(value)
            if not 0.0 <= value <= 1.0:
                raise ParameterError(f"slow_gates[{name!r}] = {value} must lie in [0, 1].")
            frozen[name] = value
        frozen_rule += "; given values for " + ", ".join(slow_gates)
    fast = _FastSubsystem(symbolic, gate, frozen)
    m_rest = rest_values[gate]

    # ------------------------------------------------------------------- Boltzmann reading
    v_half, k_v, rms = _boltzmann_fit(fast.steady, fast.steady_prime, model.name, gate)

    # ----------------------------------------------------------------------------- folds
    slope = fast.steady_input_prime(_V_SCAN)
    fold_voltages = _scan_roots(fast.steady_input_prime, _V_SCAN, values=slope)
    folds = []
    for voltage in fold_voltages:
        m_fold = float(fast.steady(voltage))
        level = float(fast.steady_input(voltage))
        gain = float(fast.self_map_derivatives(m_fold, level)[0])
        curvature = (fast.steady_input_prime(voltage + 1e-6) - fast.steady_input_prime(voltage - 1e-6))
        folds.append(Fold(level / scale * parse_unit(input_unit), voltage * volt, m_fold, gain,
                          "upper" if curvature < 0 else "lower"))
    folds = tuple(folds)
    fold_up = fold_down = None
    up_voltage = None
    for fold in folds:
        voltage = float(fold.voltage / volt)
        if fold.kind == "upper" and voltage > rest_voltage:
            fold_up = (float(to_magnitude(fold.input, input_unit)), fold.order_parameter)
            up_voltage = voltage
            break
    if up_voltage is not None:
        for fold in folds:
            if fold.kind == "lower" and float(fold.voltage / volt) > up_voltage:
                fold_down = (float(to_magnitude(fold.input, input_unit)), fold.order_parameter)
                break

    # ------------------------------------------------------------------------ input grid
    if inputs is None:
        levels = _default_grid(fast, fold_up, rest_level, rest_voltage, scale)
    else:
        levels = np.atleast_1d(np.asarray(to_magnitude(inputs, input_unit, name="inputs"), dtype=float))
        if levels.ndim != 1 or levels.size == 0 or not np.all(np.isfinite(levels)):
            raise ParameterError(
                f"inputs must be a non-empty 1-D grid of finite values in {input_unit}; got "
                f"{levels.size} value(s).")
    levels_si = levels * scale

    # -------------------------------------------------------------------------- branches
    roots, stable_roots, gains = self_consistent_roots(fast.self_map, levels_si,
                                                        self_map_slope=lambda m, i: fast.self_map_derivatives(m, i)[0])
    m_up = np.inf if fold_up is None else fold_up[1]
    with np.errstate(all="ignore"):
        below = stable_roots & (roots <= m_up + 1e-12)
        rest_branch = np.where(below.any(axis=1), np.nanmax(np.where(below, roots, -np.inf), axis=1), np.nan)
        unstable_above = np.isfinite(roots) & ~stable_roots & (roots > rest_branch[:, None])
        saddle_branch = np.where(unstable_above.any(axis=1),
                                 np.nanmin(np.where(unstable_above, roots, np.inf), axis=1), np.nan)
    branch_voltage = np.where(np.isfinite(roots), fast.v_star(np.nan_to_num(roots, nan=0.5), levels_si[:, None]),
                              np.nan)
    saddle_voltage = np.where(np.isfinite(saddle_branch),
                              fast.v_star(np.nan_to_num(saddle_branch, nan=0.5), levels_si), np.nan)

    # -------------------------------------------------------- mean-field parameters on a grid
    finite = roots[np.isfinite(roots)]
    u_low = float(logit(max(min(finite.min() if finite.size else m_rest, m_rest), 1e-12))) - 1.5
    u_high = float(logit(min(max(finite.max() if finite.size else 0.5, 0.5), 1 - 1e-12))) + 1.5
    m_grid = expit(np.linspace(max(u_low, -25.0), min(u_high, 25.0), int(m_points)))
    voltage_star = fast.v_star(m_grid[None, :], levels_si[:, None])
    d_m, _ = fast.dv_star(m_grid[None, :], levels_si[:, None])
    coupling = 0.5 * d_m
    loop = fast.steady_prime(voltage_star) * d_m
    field = fast.v_star(0.5, levels_si) - v_half
    field_closed = fast.v_star(0.0, levels_si) - v_half

    # ------------------------------------------------------------------ reduced dynamics
    flow = fast.reduced_rate(m_grid[None, :], levels_si[:, None])
    potential = -_cumulative_trapezoid(flow, m_grid)
    barrier = _barrier(fast, rest_branch, saddle_branch, levels_si)
    relaxation = _relaxation_time(fast, rest_branch, levels_si)

    # --------------------------------------------------------------------- at the holding input
    d_m_rest, _ = fast.dv_star(m_rest, rest_si)
    coupling_rest = 0.5 * float(d_m_rest)
    field_rest = float(fast.v_star(0.5, rest_si)) - v_half
    dense = expit(np.linspace(-25, 25, 20001))
    loop_rest = fast.steady_prime(fast.v_star(dense, rest_si)) * fast.dv_star(dense, rest_si)[0]
    rest_roots, rest_stable, _ = self_consistent_roots(fast.self_map, [rest_si])
    saddle_rest = np.nan
    candidates = rest_roots[0][np.isfinite(rest_roots[0]) & ~rest_stable[0] & (rest_roots[0] > m_rest * (1 + 1e-9))]
    if candidates.size:
        saddle_rest = float(candidates.min())
    saddle_voltage_rest = float(fast.v_star(saddle_rest, rest_si)) if np.isfinite(saddle_rest) else np.nan
    barrier_rest = float(_barrier(fast, np.array([m_rest]), np.array([saddle_rest]), np.array([rest_si]))[0])

    notes = [_EXACT_NOTE]
    if not fast.linear_in_v:
        notes.append("current balance is nonlinear in v at fixed m: V*(m, I) is a numerical root")
    if fast.gate_kind == "instantaneous":
        notes.append(f"{gate} is instantaneous: the reduced dynamics is dv/dt written in m = {gate}(v)")
    notes.extend(symbolic.notes)

    unit = parse_unit(input_unit)
    hz = 1.0 / second
    return CoarseGrainedMembrane(
        model_name=model.name,
        model_hash=getattr(model, "content_hash", "unknown"),
        model_source=getattr(model, "source", "<unknown>"),
        model_citation=getattr(model, "citation", ""),
        voltage_variable=symbolic.voltage,
        input_variable=model.input_variable,
        input_unit=input_unit,
        order_parameter=gate,
        order_parameter_kind=fast.gate_kind,
        order_parameter_rule=rule,
        gates=infos,
        frozen=frozen,
        frozen_rule=frozen_rule,
        rest_input=rest_level * unit,
        rest_voltage=rest_voltage * volt,
        rest_state={symbolic.voltage: rest_voltage * volt, **{name: rest_values[name] for name in dynamic}},
        rest_check=rest_check,
        fixed_point_voltages=np.asarray(fixed) * volt,
        fixed_point_stable=tuple(stability),
        capacitance=(fast.capacitance / scale * unit * second / volt) if fast.capacitance is not None else None,
        v_half=v_half * volt,
        k_v=k_v * volt,
        temperature=2 * k_v * volt,
        boltzmann_rms=rms,
        folds=folds,
        fold_up=fold_up,
        fold_down=fold_down,
        inputs=levels * unit,
        branches=roots,
        branch_stable=stable_roots,
        branch_loop_gain=gains,
        branch_voltage=branch_voltage * volt,
        rest_branch=rest_branch,
        saddle_branch=saddle_branch,
        saddle_voltage=saddle_voltage * volt,
        field=field * volt,
        field_closed=field_closed * volt,
        m_grid=m_grid,
        voltage_star=voltage_star * volt,
        coupling=coupling * volt,
        loop_gain=loop,
        potential=potential * hz,
        barrier=barrier * hz,
        relaxation_time=relaxation * second,
        coupling_rest=coupling_rest * volt,
        field_rest=field_rest * volt,
        loop_gain_max_rest=float(np.nanmax(loop_rest)),
        saddle_voltage_rest=saddle_voltage_rest * volt,
        barrier_rest=barrier_rest * hz,
        notes=tuple(notes),
        _fast=fast,
        _input_scale=scale,
    )


# ------------------------------------------------------------------------------- helpers
def _evaluate(expression, point):
    """A sympy expression at a point {symbol: number}, through numpy (exprel included)."""
    symbols = sorted(expression.free_symbols, key=str)
    if not symbols:
        return float(expression)
    missing = [str(symbol) for symbol in symbols if symbol not in point]
    if missing:
        raise ParameterError(f"cannot evaluate an expression of {', '.join(missing)} at rest.")
    return float(numpy_function(symbols, expression)(*[float(point[symbol]) for symbol in symbols]))


def _scan_roots(function, grid, values=None):
    """Every sign change of ``function`` on ``grid``, refined by Brent's method."""
    with np.errstate(all="ignore"):
        values = np.asarray(function(grid) if values is None else values, dtype=float)
    finite = np.isfinite(values)
    change = np.nonzero(finite[:-1] & finite[1:] & (np.sign(values[:-1]) * np.sign(values[1:]) < 0))[0]
    roots = []
    for index in change:
        roots.append(brentq(lambda x: float(function(np.asarray(x))), grid[index], grid[index + 1],
                            xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200))
    exact = np.nonzero(finite & (values == 0))[0]
    roots.extend(grid[exact])
    return sorted(roots)


def _check_initial(model, symbolic, rest_voltage, rest_values, rest_level):
    """Compare the computed rest with the model file's [initial] state (where it is the rest)."""
    from brian2 import mV

    initial = getattr(model, "initial", {}) or {}
    if symbolic.voltage not in initial:
        return "the model file has no initial voltage to compare with"
    initial_v = float(initial[symbolic.voltage] / mV)
    gaps = [f"{symbolic.voltage}: {initial_v:.5g} mV in [initial], {rest_voltage * 1e3:.5g} mV computed"]
    agree = abs(initial_v - rest_voltage * 1e3) < 0.05
    for name, value in rest_values.items():
        if name in initial:
            gaps.append(f"{name}: {float(initial[name]):.5g} vs {value:.5g}")
            agree = agree and abs(float(initial[name]) - value) < 2e-3
    verdict = "agrees with" if agree else "differs from"
    if rest_level != 0:
        verdict += " (holding input != 0, so [initial] need not be this rest)"
    return f"computed rest {verdict} the model file's [initial] state ({'; '.join(gaps)})"


def _boltzmann_fit(steady, steady_prime, model_name, gate):
    """Least-squares Boltzmann fit of m_inf over 0.01 <= m_inf <= 0.99 (volts)."""
    try:
        low = brentq(lambda x: float(steady(np.asarray(x))) - 0.01, -0.3, 0.3, xtol=1e-12)
        high = brentq(lambda x: float(steady(np.asarray(x))) - 0.99, -0.3, 0.3, xtol=1e-12)
        half = brentq(lambda x: float(steady(np.asarray(x))) - 0.5, -0.3, 0.3, xtol=1e-12)
    except ValueError:
        raise ParameterError(
            f"Model {model_name!r}: the steady state of gate {gate!r} does not run from 0.01 to 0.99 "
            "between -300 and 300 mV, so no Boltzmann temperature can be read off; is it a gate?"
        ) from None
    grid = np.linspace(low, high, 2001)
    target = steady(grid)
    slope = float(steady_prime(np.asarray(half)))
    guess = (half * 1e3, 1.0 / (4.0 * slope) * 1e3)
    (v_half, k_v), _ = curve_fit(lambda x, a, b: expit((x - a) / b), grid * 1e3, target, p0=guess,
                                 maxfev=20000)
    rms = float(np.sqrt(np.mean((expit((grid * 1e3 - v_half) / k_v) - target) ** 2)))
    return v_half * 1e-3, k_v * 1e-3, rms


def _default_grid(fast, fold_up, rest_level, rest_voltage, scale):
    if fold_up is not None:
        # around the threshold of the fast subsystem: the rest branch, its fold and the saddle
        width = fold_up[0] - rest_level
        if fast.capacitance is not None:
            width = max(width, fast.capacitance * 1e-3 / 1e-3 / scale)  # C x 1 mV / 1 ms
        return np.linspace(rest_level - 2.0 * abs(width), fold_up[0] + 2.0 * abs(width), _DEFAULT_INPUT_POINTS)
    window = np.linspace(rest_voltage - 0.02, rest_voltage + 0.04, 601)
    steady_inputs = fast.steady_input(window) / scale
    low, high = float(np.nanmin(steady_inputs)), float(np.nanmax(steady_inputs))
    low, high = min(low, rest_level), max(high, rest_level)
    return np.linspace(low, high, _DEFAULT_INPUT_POINTS)


def _cumulative_trapezoid(values, grid):
    increments = 0.5 * (values[..., 1:] + values[..., :-1]) * np.diff(grid)
    return np.concatenate([np.zeros(values.shape[:-1] + (1,)), np.cumsum(increments, axis=-1)], axis=-1)


def _barrier(fast, lower, upper, levels_si):
    """``-int_{lower}^{upper} dm/dt dm`` by 64-point Gauss-Legendre (NaN without a saddle)."""
    lower = np.asarray(lower, float)
    upper = np.asarray(upper, float)
    valid = np.isfinite(lower) & np.isfinite(upper)
    result = np.full(lower.shape, np.nan)
    if not valid.any():
        return result
    a, b = lower[valid], upper[valid]
    nodes = 0.5 * (b - a)[:, None] * _GAUSS_NODES[None, :] + 0.5 * (b + a)[:, None]
    flow = fast.reduced_rate(nodes, levels_si[valid][:, None])
    result[valid] = -0.5 * (b - a) * np.sum(_GAUSS_WEIGHTS[None, :] * flow, axis=1)
    return result


def _relaxation_time(fast, branch, levels_si):
    """``-1/(d(dm/dt)/dm)`` at ``branch`` (s), centred difference; NaN where there is no branch."""
    branch = np.asarray(branch, float)
    result = np.full(branch.shape, np.nan)
    valid = np.isfinite(branch)
    if not valid.any():
        return result
    m = branch[valid]
    step = 1e-6 * np.minimum(m, 1 - m)
    derivative = (fast.reduced_rate(m + step, levels_si[valid]) - fast.reduced_rate(m - step,
                                                                                    levels_si[valid])) / (2 * step)
    result[valid] = -1.0 / derivative
    return result
