"""Mean-field Glauber dynamics of the channel membrane: relaxation, hysteresis, quenches.

For N -> infinity the Glauber (1963) single-flip dynamics of the Curie-Weiss membrane, with
flip rate ``w(s_i -> -s_i) = (1/(2 tau0)) [1 - s_i tanh((zJ M + h)/T)]``, gives the
deterministic equation for the magnetisation (Suzuki & Kubo 1968, J. Phys. Soc. Jpn. 24, 51;
THEORY.md section 3)::

    tau0 dM/dt = -M + tanh((zJ M + h) / T).

Its fixed points are the roots of :func:`neurophase.meanfield.branches`; about a stable one it
relaxes with ``tau0 / (1 - beta zJ (1 - M**2))`` (critical slowing-down above T_c).

Functions
---------
integrate_glauber
    The ODE for an ensemble of (T, h, J, M0) at once; T and h may depend on time.
hysteresis_loop
    Up- and down-ramps of the field below T_c and the measured switching fields.
quench_temperature, quench_temperature_exponential
    The quench protocol ``T(t) = min(T_rest, T_rest - kappa x + r t)`` and its exponential
    reheating variant ``T(t) = T_rest - kappa x exp(-t/tau_heat)`` (THEORY.md section 5).
quench_threshold
    ``theta = (T_rest - T_c)/kappa``: the stimulus at which the quench first reaches T_c.
ordered_time, ordered_time_exponential
    Time the quenched membrane spends below T_c: ``(kappa/r) max(0, x - theta)`` (the ReLU,
    P9) and ``tau_heat ln(kappa x/(T_rest - T_c))`` (a log-rectifier).
simulate_quench
    The ordered time from the Glauber ODE through the quench: its onset moves up with tau0 (P10).

Time arguments (``times``, ``tau0``, ``ramp_time``, ``r``) are either all plain numbers in one
time unit or all Brian2 quantities (then results carry units).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, get_dimensions
from scipy import sparse
from scipy.integrate import solve_ivp

from neurophase.docstrings import template
from neurophase.errors import ParameterError, SimulationError, UnitMismatchError
from neurophase.meanfield.curie_weiss import (
    _check_coupling,
    _check_temperature,
    _curvature_term,
    _finish,
    _reduced,
    _tanh_ratio,
    _time_scale,
    critical_isotherm,
    critical_temperature,
    magnetisation,
    relaxation_time,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

__all__ = [
    "integrate_glauber",
    "HysteresisLoop",
    "hysteresis_loop",
    "quench_temperature",
    "quench_temperature_exponential",
    "quench_threshold",
    "ordered_time",
    "ordered_time_exponential",
    "simulate_quench",
]

_KAPPA = """kappa : float or array_like, reduced units per stimulus unit
    Temperature drop per unit stimulus (``> 0``)."""
_doc = template(
    kappa=_KAPPA,
    quench_temperature_returns="""numpy.ndarray or numpy.float64, reduced units
    ``T(t)``, the broadcast shape of all arguments.""",
    ordered_time_arguments=f"""x : float or array_like, stimulus units
    Stimulus strength.
T_rest, T_c : float or array_like, reduced units
    Resting temperature (``> T_c``) and critical temperature.
{_KAPPA}""",
)


def _times_in(times, unit, name="times"):
    """``times`` as floats in seconds (if ``unit``) or as given; dimensions checked."""
    is_quantity = isinstance(times, Quantity) and get_dimensions(times) is not DIMENSIONLESS
    if unit is None:
        if is_quantity:
            raise UnitMismatchError(
                f"{name} has units but tau0 is a plain number: give both with units (e.g. 1*ms) or neither."
            )
        return _reduced(times, name)
    if not is_quantity:
        raise UnitMismatchError(
            f"tau0 has units, so {name} must be a Brian2 time quantity too (e.g. np.linspace(0, 50, 101)*ms)."
        )
    if get_dimensions(times) is not get_dimensions(unit):
        raise UnitMismatchError(f"{name} has dimension {get_dimensions(times)!s}; it must be a time.")
    return np.asarray(times / unit, dtype=float)


def integrate_glauber(M_initial: ArrayLike, times: ArrayLike | Quantity, T: ArrayLike | Callable,
                      h: ArrayLike | Callable, J: ArrayLike, tau0: ArrayLike | Quantity, z: ArrayLike = 1,
                      method: str = "DOP853", rtol: float = 1e-8, atol: float = 1e-10) -> np.ndarray:
    """Integrate ``tau0 dM/dt = -M + tanh((zJ M + h)/T)`` for an ensemble of membranes.

    Suzuki & Kubo (1968) mean-field Glauber equation (THEORY.md section 3), integrated by
    :func:`scipy.integrate.solve_ivp` over the whole ensemble at once (one state vector).

    Parameters
    ----------
    M_initial : float or array_like, dimensionless
        Magnetisation at ``times[0]``, in [-1, 1].
    times : array_like or Quantity (time)
        Strictly increasing 1-D output times; the integration runs from ``times[0]`` to
        ``times[-1]``. Plain numbers when ``tau0`` is a plain number (one common time unit),
        a Brian2 time quantity when ``tau0`` is one.
    T, h : float, array_like, or callable, reduced units
        Temperature (``>= 0``) and field; a callable is called with the time (a Quantity when
        ``tau0`` has units) and returns a value broadcastable to the ensemble.
    J : float or array_like, reduced units
        Coupling (``>= 0``).
    tau0 : float, array_like or Quantity (time)
        Microscopic flip time, ``> 0`` (same time unit as ``times``).
    z : float or array_like, optional
        Coupling number (dimensionless), default 1.
    method : str, optional
        A :func:`~scipy.integrate.solve_ivp` method; the implicit ones ("Radau", "BDF",
        "LSODA") get the exact (diagonal) Jacobian, useful when ``tau0`` is much shorter than
        the protocol.
    rtol, atol : float, optional
        Relative and absolute integration tolerances (on ``M``, dimensionless).

    Returns
    -------
    numpy.ndarray, dimensionless
        ``M`` at ``times``, shape ``(len(times),) + ensemble shape``, where the ensemble shape
        is the broadcast shape of ``M_initial``, ``T``, ``h``, ``J``, ``z`` and ``tau0``.

    Raises
    ------
    SimulationError
        If the integrator fails; ``partial`` holds the trajectory up to the failure.

    Examples
    --------
    >>> M = integrate_glauber(0.0, [0.0, 50.0], 1.0, 0.2, 0.0, 1.0)   # J = 0: M -> tanh(h/T)
    >>> bool(abs(M[-1] - np.tanh(0.2)) < 1e-8)
    True
    """
    tau_magnitude, unit = _time_scale(tau0)
    t = _times_in(times, unit)
    if t.ndim != 1 or t.size == 0:
        raise ParameterError("times must be a non-empty 1-D array.")
    if np.any(np.diff(t) <= 0):
        raise ParameterError("times must be strictly increasing.")
    J, z = _check_coupling(J, z)
    coupling = z * J

    def at(value, now, name):
        if callable(value):
            value = value(now * unit if unit is not None else now)
        return _check_temperature(value, name) if name == "T" else _reduced(value, name)

    M_initial = _reduced(M_initial, "M_initial")
    if np.any(np.abs(M_initial) > 1):
        raise ParameterError("M_initial must lie in [-1, 1] (a magnetisation).")
    shape = np.broadcast_shapes(M_initial.shape, at(T, t[0], "T").shape, at(h, t[0], "h").shape,
                                coupling.shape, tau_magnitude.shape)
    coupling_b = np.broadcast_to(coupling, shape)
    tau_b = np.broadcast_to(tau_magnitude, shape)
    start = np.broadcast_to(M_initial, shape).astype(float).ravel()
    if t.size == 1:
        return start.reshape((1,) + shape)

    def right_hand_side(now, state):
        M = state.reshape(shape)
        temperature = at(T, now, "T")
        field = at(h, now, "h")
        return ((-M + _tanh_ratio(coupling_b * M + field, temperature)) / tau_b).ravel()

    def jacobian(now, state):
        M = state.reshape(shape)
        temperature = np.broadcast_to(at(T, now, "T"), shape)
        field = np.broadcast_to(at(h, now, "h"), shape)
        diagonal = ((-1.0 + np.minimum(_curvature_term(M, temperature, field, coupling_b), 1e300)) / tau_b).ravel()
        # LSODA takes the packed banded form (one diagonal row); Radau and BDF a sparse matrix
        return diagonal[None, :] if method == "LSODA" else sparse.diags(diagonal)

    options = dict(method=method, t_eval=t, rtol=rtol, atol=atol)
    if method in ("Radau", "BDF", "LSODA"):
        options["jac"] = jacobian
    if method == "LSODA":
        options.update(lband=0, uband=0)
    solution = solve_ivp(right_hand_side, (t[0], t[-1]), start, **options)
    if not solution.success:
        partial = solution.y.T.reshape((-1,) + shape) if solution.y.size else None
        raise SimulationError(
            f"Glauber ODE integration failed ({solution.message}) after "
            f"t = {solution.t[-1] if solution.t.size else t[0]}; "
            "try method='LSODA' or 'Radau' for stiff problems (tau0 much shorter than the protocol).",
            partial=partial,
        )
    return solution.y.T.reshape((t.size,) + shape)


class HysteresisLoop(NamedTuple):
    """Result of :func:`hysteresis_loop`.

    Attributes
    ----------
    field_up, field_down : numpy.ndarray, reduced units
        Field values (``points``) of the up-ramp (-h_max -> h_max) and the down-ramp.
    magnetisation_up, magnetisation_down : numpy.ndarray, dimensionless
        ``M`` along each ramp, shape ``(points,) + shape of T``.
    coercive_field_up, coercive_field_down : numpy.ndarray or float, reduced units
        Field at which M crosses 0 on the up-ramp (positive) and on the down-ramp (negative);
        NaN where it does not cross (``h_max`` below the coercive field).
    """

    field_up: np.ndarray
    magnetisation_up: np.ndarray
    field_down: np.ndarray
    magnetisation_down: np.ndarray
    coercive_field_up: np.ndarray
    coercive_field_down: np.ndarray


def _first_zero_crossing(field, values, rising):
    """Field of the first sign change of ``values`` along axis 0 (linear interpolation)."""
    signed = values if rising else -values
    crossing = (signed[:-1] < 0) & (signed[1:] >= 0)
    found = crossing.any(axis=0)
    index = np.argmax(crossing, axis=0)
    before = np.take_along_axis(values, index[None], axis=0)[0]
    after = np.take_along_axis(values, index[None] + 1, axis=0)[0]
    field_before, field_after = field[index], field[index + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = before / (before - after)
    return np.where(found, field_before + fraction * (field_after - field_before), np.nan)


def hysteresis_loop(T: ArrayLike, J: float, h_max: float, ramp_time: float | Quantity, tau0: float | Quantity,
                    z: float = 1, points: int = 2001, method: str = "LSODA") -> HysteresisLoop:
    """Field ramps through the bistable region of the mean-field Glauber dynamics.

    The field rises linearly from ``-h_max`` to ``+h_max`` in ``ramp_time`` (starting on the
    lower branch) and then falls back in the same time (starting where the up-ramp ended).
    Below ``T_c`` the magnetisation stays on its branch until the branch ends at the spinodal
    ``+-h_c(T)`` (:func:`~neurophase.meanfield.coercive_field`) and then switches; the measured
    switching field (where ``M`` crosses 0) exceeds ``h_c`` by a dynamic delay that vanishes as
    ``(tau0 dh/dt)**(2/3)`` for slow ramps (saddle-node passage, e.g. Jung, Gray, Roy & Mandel
    1990, Phys. Rev. Lett. 65, 1873). Above ``T_c`` the loop closes.

    Parameters
    ----------
    T : float or array_like, reduced units
        Temperature(s), ``>= 0``; an array gives one loop per value (one ODE for all).
    J : float, reduced units
        Coupling (``>= 0``).
    h_max : float, reduced units
        Ramp amplitude, ``> 0`` (choose it above ``h_c(T)``, e.g. ``1.5 zJ``).
    ramp_time : float or Quantity (time)
        Duration of each ramp, ``> 0`` (same unit as ``tau0``: both plain numbers or both
        Brian2 quantities).
    tau0 : float or Quantity (time)
        Microscopic flip time.
    z : float, optional
        Coupling number (dimensionless), default 1.
    points : int, optional
        Output points per ramp (``>= 3``).
    method : str, optional
        ODE method (see :func:`integrate_glauber`).

    Returns
    -------
    HysteresisLoop
        Both ramps and the two measured switching fields (reduced units).

    Examples
    --------
    >>> loop = hysteresis_loop(0.5, 1.0, 1.0, 2000.0, 1.0)
    >>> bool(0.2664 < loop.coercive_field_up < 0.2664 * 1.1)
    True
    """
    T = _check_temperature(T)
    _check_coupling(J, z)
    h_max = float(_reduced(h_max, "h_max"))
    if h_max <= 0:
        raise ParameterError(f"h_max = {h_max} must be positive.")
    if int(points) < 3:
        raise ParameterError("points must be at least 3.")
    _, unit = _time_scale(tau0)
    duration = _times_in(ramp_time, unit, "ramp_time")
    if duration.ndim != 0 or duration <= 0:
        raise ParameterError("ramp_time must be one positive duration.")
    duration = float(duration)
    fraction = np.linspace(0.0, 1.0, int(points))
    times = fraction * duration
    rate = 2.0 * h_max / duration
    field_up = -h_max + 2.0 * h_max * fraction
    scale = unit if unit is not None else 1.0

    def up(now):
        return -h_max + rate * float(now / scale)

    def down(now):
        return h_max - rate * float(now / scale)

    start = magnetisation(T, -h_max, J, z, branch="lower")
    time_argument = times * unit if unit is not None else times
    M_up = integrate_glauber(start, time_argument, T, up, J, tau0, z=z, method=method)
    M_down = integrate_glauber(M_up[-1], time_argument, T, down, J, tau0, z=z, method=method)
    field_down = field_up[::-1].copy()
    return HysteresisLoop(
        field_up, M_up, field_down, M_down,
        _finish(_first_zero_crossing(field_up, M_up, rising=True)),
        _finish(_first_zero_crossing(field_down, M_down, rising=False)),
    )


# --------------------------------------------------------------------------------------
# quench protocol (THEORY.md section 5)
# --------------------------------------------------------------------------------------
def _positive(value, name):
    array = np.asarray(value, dtype=float)  # a Quantity gives its magnitude: only the sign matters
    if np.any(~(array > 0)):
        raise ParameterError(f"{name} must be positive; got {value!r}.")
    return value


def _check_quench(T_rest, kappa, T_c=None):
    T_rest = _check_temperature(T_rest, "T_rest")
    kappa = _reduced(kappa, "kappa")
    if np.any(kappa <= 0):
        raise ParameterError(f"kappa = {kappa} must be positive (temperature drop per unit stimulus).")
    if T_c is not None:
        T_c = _check_temperature(T_c, "T_c")
        if np.any(T_rest <= T_c):
            raise ParameterError(
                f"T_rest = {T_rest} must exceed T_c = {T_c}: the resting membrane is the disordered "
                "phase (otherwise it is ordered, i.e. spiking, at rest)."
            )
    return T_rest, kappa, T_c


def _check_stimulus(x, T_rest, kappa):
    """``x`` in reduced units, refused where ``kappa x > T_rest`` (the quench would reach ``T < 0``)."""
    x = _reduced(x, "x")
    if np.any(T_rest - kappa * x < 0):
        raise ParameterError("kappa * x exceeds T_rest: the quench would reach a negative temperature; "
                             "use smaller stimuli or a smaller kappa.")
    return x


@_doc
def quench_temperature(t: ArrayLike | Quantity, x: ArrayLike, T_rest: ArrayLike, kappa: ArrayLike,
                       r: ArrayLike | Quantity) -> np.ndarray | float:
    """Quench with linear reheating: ``T(t) = min(T_rest, T_rest - kappa x + r t)`` (THEORY.md 5).

    The stimulus lowers the temperature by ``kappa x`` at ``t = 0``; it then rises at the
    constant rate ``r`` until it is back at ``T_rest``.

    Parameters
    ----------
    t : float, array_like or Quantity (time)
        Time since the stimulus (``r t`` must be dimensionless: both plain or both quantities).
    x : float or array_like, stimulus units
        Stimulus strength (``kappa x <= T_rest`` keeps ``T >= 0``).
    T_rest : float or array_like, reduced units
        Resting temperature (``>= 0``).
    %(kappa)s
    r : float or Quantity (1/time)
        Reheating rate (temperature per unit time, ``> 0``).

    Returns
    -------
    %(quench_temperature_returns)s

    Examples
    --------
    >>> [float(value) for value in quench_temperature(np.array([0.0, 0.5, 5.0]), 1.5, 2.0, 1.0, 1.0)]
    [0.5, 1.0, 2.0]
    """
    T_rest, kappa, _ = _check_quench(T_rest, kappa)
    _positive(r, "r")
    x = _check_stimulus(x, T_rest, kappa)
    rise = np.asarray(r * t, dtype=float)
    return _finish(np.minimum(T_rest, T_rest - kappa * x + rise))


@_doc
def quench_temperature_exponential(t: ArrayLike | Quantity, x: ArrayLike, T_rest: ArrayLike, kappa: ArrayLike,
                                   tau_heat: ArrayLike | Quantity) -> np.ndarray | float:
    """Quench with exponential reheating: ``T(t) = T_rest - kappa x exp(-t/tau_heat)`` (THEORY.md 5).

    Parameters
    ----------
    t : float, array_like or Quantity (time)
        Time since the stimulus (same unit as ``tau_heat``).
    x : float or array_like, stimulus units
        Stimulus strength (``kappa x <= T_rest``).
    T_rest : float or array_like, reduced units
        Resting temperature (``>= 0``).
    %(kappa)s
    tau_heat : float or Quantity (time)
        Reheating time constant (``> 0``).

    Returns
    -------
    %(quench_temperature_returns)s

    Examples
    --------
    >>> round(float(quench_temperature_exponential(np.log(2.0), 1.0, 2.0, 1.0, 1.0)), 12)
    1.5
    """
    T_rest, kappa, _ = _check_quench(T_rest, kappa)
    _positive(tau_heat, "tau_heat")
    x = _check_stimulus(x, T_rest, kappa)
    return _finish(T_rest - kappa * x * np.exp(-np.asarray(t / tau_heat, dtype=float)))


@_doc
def quench_threshold(T_rest: ArrayLike, T_c: ArrayLike, kappa: ArrayLike) -> np.ndarray | float:
    """Stimulus threshold ``theta = (T_rest - T_c)/kappa`` of the quench (THEORY.md section 5).

    Parameters
    ----------
    T_rest : float or array_like, reduced units
        Resting temperature (``> T_c``).
    T_c : float or array_like, reduced units
        Critical temperature (``>= 0``).
    %(kappa)s

    Returns
    -------
    numpy.ndarray or numpy.float64, stimulus units
        ``theta``, shape ``broadcast(T_rest, T_c, kappa).shape``.

    Examples
    --------
    >>> float(quench_threshold(2.0, 1.0, 0.5))
    2.0
    """
    T_rest, kappa, T_c = _check_quench(T_rest, kappa, T_c)
    return _finish((T_rest - T_c) / kappa)


@_doc
def ordered_time(x: ArrayLike, T_rest: ArrayLike, T_c: ArrayLike, kappa: ArrayLike,
                 r: ArrayLike | Quantity) -> np.ndarray | float | Quantity:
    """Time spent below ``T_c`` after a quench with linear reheating: a ReLU of the stimulus.

    ``T(t) = T_rest - kappa x + r t < T_c`` for ``t < (kappa/r)(x - theta)``, hence
    ``t_ordered = (kappa/r) max(0, x - theta)``, ``theta = (T_rest - T_c)/kappa`` (THEORY.md
    section 5, prediction P9): slope ``kappa/r``, threshold independent of ``r``. The adiabatic
    (``tau0 -> 0``) limit of :func:`simulate_quench`.

    Parameters
    ----------
    %(ordered_time_arguments)s
    r : float or Quantity (1/time)
        Reheating rate (``> 0``); a Quantity gives a time Quantity.

    Returns
    -------
    numpy.ndarray, numpy.float64 or Quantity (time)
        ``t_ordered``, shape ``broadcast(x, T_rest, T_c, kappa, r).shape``, in ``1/r`` units.

    Examples
    --------
    >>> [float(value) for value in ordered_time(np.array([0.5, 1.0, 1.5]), 2.0, 1.0, 1.0, 0.5)]
    [0.0, 0.0, 1.0]
    """
    theta = quench_threshold(T_rest, T_c, kappa)
    _positive(r, "r")
    x = _reduced(x, "x")
    excess = np.maximum(0.0, x - theta)
    kappa = np.asarray(kappa, dtype=float)
    if isinstance(r, Quantity) and get_dimensions(r) is not DIMENSIONLESS:
        return (kappa * excess) / r
    return _finish(kappa * excess / np.asarray(r, dtype=float))


@_doc
def ordered_time_exponential(x: ArrayLike, T_rest: ArrayLike, T_c: ArrayLike, kappa: ArrayLike,
                             tau_heat: ArrayLike | Quantity) -> np.ndarray | float | Quantity:
    """Time below ``T_c`` for exponential reheating: a log-rectifier of the stimulus.

    From ``T(t) = T_rest - kappa x exp(-t/tau_heat) < T_c`` (THEORY.md section 5):
    ``t_ordered = tau_heat ln(kappa x / (T_rest - T_c))`` for ``kappa x > T_rest - T_c`` and 0
    otherwise.

    Parameters
    ----------
    %(ordered_time_arguments)s
    tau_heat : float or Quantity (time)
        Reheating time constant (``> 0``); a Quantity gives a time Quantity.

    Returns
    -------
    numpy.ndarray, numpy.float64 or Quantity (time)
        ``t_ordered``, shape ``broadcast(x, T_rest, T_c, kappa, tau_heat).shape``, in the unit
        of ``tau_heat``.

    Examples
    --------
    >>> round(float(ordered_time_exponential(4.0, 2.0, 1.0, 1.0, 1.0)), 12) == round(float(np.log(4.0)), 12)
    True
    """
    T_rest, kappa, T_c = _check_quench(T_rest, kappa, T_c)
    _positive(tau_heat, "tau_heat")
    x = _reduced(x, "x")
    with np.errstate(divide="ignore", invalid="ignore"):
        logarithm = np.log(kappa * x / (T_rest - T_c))
    logarithm = np.where(kappa * x > T_rest - T_c, logarithm, 0.0)
    if isinstance(tau_heat, Quantity) and get_dimensions(tau_heat) is not DIMENSIONLESS:
        return logarithm * tau_heat
    return _finish(logarithm * np.asarray(tau_heat, dtype=float))


def _time_above(times, values, threshold):
    """Total time with ``values > threshold`` along axis 0 (crossings linearly interpolated)."""
    excess = values - threshold
    left, right = excess[:-1], excess[1:]
    step = np.diff(times).reshape((-1,) + (1,) * (values.ndim - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        crossing_fraction = np.maximum(left, right) / np.abs(right - left)
    fraction = np.where((left > 0) & (right > 0), 1.0,
                        np.where((left <= 0) & (right <= 0), 0.0, crossing_fraction))
    return np.sum(fraction * step, axis=0)


def simulate_quench(x: ArrayLike, T_rest: float, kappa: float, r: float | Quantity, J: float,
                    tau0: ArrayLike | Quantity, z: float = 1, h: float = 1e-3, M_threshold: float | None = None,
                    initial_magnetisation: ArrayLike | None = None, points: int = 4001,
                    method: str = "LSODA") -> np.ndarray | float | Quantity:
    """Ordered time after a quench, from the mean-field Glauber ODE (THEORY.md section 5, P9, P10).

    Each stimulus ``x`` sets ``T(t) = min(T_rest, T_rest - kappa x + r t)``; the magnetisation
    obeys ``tau0 dM/dt = -M + tanh((zJ M + h)/T(t))`` from its resting value, and the ordered
    time is the time with ``|M| > M_threshold``. The small field ``h`` selects the ordered
    branch (and seeds the growth of order).

    The default threshold is the critical-isotherm magnetisation ``M(T_c, h)``: on the
    equilibrium branch ``M(T, h) > M(T_c, h)`` exactly when ``T < T_c``, so in the adiabatic
    limit ``tau0 -> 0`` the result equals :func:`ordered_time`. For finite ``tau0`` the order
    must grow from the resting value ``~ h/(T_rest - T_c)`` at the rate ``(T_c/T - 1)/tau0``, so
    stimuli just above ``theta`` (brief, shallow quenches) no longer order: the ReLU onset moves
    up with ``tau0`` (P10). Linearising the growth while ``T(t) < T_c`` (rate
    ``(T_c - T(t))/(T_c tau0)``) gives the scale of the shift,
    ``x_onset - theta ~ sqrt(2 r T_c tau0 ln(M_threshold / M_rest)) / kappa``: it grows as
    ``tau0**(1/2)`` (the full ODE gives 0.65-0.75 of this estimate at h = 1e-3).

    Parameters
    ----------
    x : float or array_like, stimulus units
        Stimulus strengths (``kappa x <= T_rest``).
    T_rest : float, reduced units
        Resting temperature (``> T_c = zJ``).
    kappa : float, reduced units per stimulus unit
        Temperature drop per unit stimulus (``> 0``).
    r : float or Quantity (1/time)
        Reheating rate (temperature per unit time, ``> 0``; a Quantity exactly when ``tau0`` is).
    J : float, reduced units
        Coupling (``> 0``).
    tau0 : float, array_like or Quantity (time)
        Flip time (same time unit as ``1/r``); an array broadcasts against ``x``.
    z : float, optional
        Coupling number (dimensionless), default 1.
    h : float, optional, reduced units
        Symmetry-breaking field (``> 0``).
    M_threshold : float or None, optional, dimensionless
        Order threshold on ``|M|`` in (0, 1); default ``critical_isotherm(h, J, z)``.
    initial_magnetisation : float, array_like or None, optional, dimensionless
        ``M`` at the stimulus; default the equilibrium at ``T_rest`` and ``h``.
    points : int, optional
        Output points of the time grid (crossing times are interpolated between them).
    method : str, optional
        ODE method (LSODA copes with ``tau0`` much shorter than the reheating time).

    Returns
    -------
    numpy.ndarray, numpy.float64 or Quantity (time)
        Ordered time, shape of ``x`` (a time Quantity when ``tau0`` and ``r`` have units,
        else in the time unit of ``tau0``).

    Examples
    --------
    >>> fast = simulate_quench([0.5, 1.5], 2.0, 1.0, 1.0, 1.0, 1e-4)
    >>> [round(float(value), 2) for value in fast]      # ordered_time: [0, 0.5]
    [0.0, 0.5]
    """
    _check_coupling(J, z)
    critical = float(critical_temperature(J, z))
    if critical <= 0:
        raise ParameterError("simulate_quench needs J > 0 (T_c = zJ > 0): without coupling nothing orders.")
    T_rest, kappa, _ = _check_quench(T_rest, kappa, critical)
    x = _check_stimulus(x, T_rest, kappa)
    h = float(_reduced(h, "h"))
    if h <= 0:
        raise ParameterError("h must be positive: it selects the ordered branch and seeds the growth of order.")
    tau_magnitude, unit = _time_scale(tau0)
    if unit is not None:
        if not (isinstance(r, Quantity) and get_dimensions(r) is get_dimensions(1 / unit)):
            raise UnitMismatchError("tau0 has units, so the reheating rate r must be a Quantity in 1/time "
                                    "(e.g. 0.002/ms).")
        rate = float(r * unit)
    else:
        if isinstance(r, Quantity) and get_dimensions(r) is not DIMENSIONLESS:
            raise UnitMismatchError("r has units but tau0 is a plain number: give both with units or neither.")
        rate = float(r)
    if rate <= 0:
        raise ParameterError(f"r = {r!r} must be positive.")
    threshold = float(critical_isotherm(h, J, z)) if M_threshold is None else float(M_threshold)
    if not 0 < threshold < 1:
        raise ParameterError(f"M_threshold = {threshold} must lie in (0, 1).")
    if initial_magnetisation is None:
        initial_magnetisation = magnetisation(T_rest, h, J, z)

    reheating_time = float(np.max(kappa * x)) / rate
    tail = 20.0 * float(relaxation_time(T_rest, J, float(np.max(tau_magnitude)), z=z, h=h))
    times = np.linspace(0.0, reheating_time + tail, int(points))

    def temperature(now):
        return np.minimum(T_rest, T_rest - kappa * x + rate * now)

    M = integrate_glauber(initial_magnetisation, times, temperature, h, J, tau_magnitude, z=z, method=method)
    result = _time_above(times, np.abs(M), threshold)
    result = np.broadcast_to(result, np.broadcast_shapes(result.shape, x.shape))
    result = _finish(np.array(result))
    return result * unit if unit is not None else result
