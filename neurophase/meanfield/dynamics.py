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

from typing import NamedTuple

import numpy as np
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, get_dimensions
from scipy import sparse
from scipy.integrate import solve_ivp

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


def integrate_glauber(M_initial, times, T, h, J, tau0, z=1, method="DOP853", rtol=1e-8, atol=1e-10):
    """Integrate ``tau0 dM/dt = -M + tanh((zJ M + h)/T)`` for an ensemble of membranes.

    Suzuki & Kubo (1968) mean-field Glauber equation (THEORY.md section 3), integrated by
    :func:`scipy.integrate.solve_ivp` over the whole ensemble at once (one state vector).

    Parameters
    ----------
    M_initial : float or array_like
        Magnetisation at ``times[0]``.
    times : array_like or Quantity
        Increasing output times; the integration runs from ``times[0]`` to ``times[-1]``.
    T, h : float, array_like, or callable
        Temperature (``>= 0``) and field; a callable is called with the time (a Quantity when
        ``tau0`` has units) and returns a value broadcastable to the ensemble.
    J : float or array_like
        Coupling (``>= 0``).
    tau0 : float, array_like or Quantity
        Microscopic flip time (same time unit as ``times``).
    z : float, optional
        Coupling number.
    method : str, optional
        A :func:`~scipy.integrate.solve_ivp` method; the implicit ones ("Radau", "BDF",
        "LSODA") get the exact (diagonal) Jacobian, useful when ``tau0`` is much shorter than
        the protocol.
    rtol, atol : float, optional
        Integration tolerances.

    Returns
    -------
    numpy.ndarray
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
    field_up, field_down : numpy.ndarray
        Field values (``points``) of the up-ramp (-h_max -> h_max) and the down-ramp.
    magnetisation_up, magnetisation_down : numpy.ndarray
        ``M`` along each ramp, shape ``(points,) + shape of T``.
    coercive_field_up, coercive_field_down : numpy.ndarray or float
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


def hysteresis_loop(T, J, h_max, ramp_time, tau0, z=1, points=2001, method="LSODA"):
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
    T : float or array_like
        Temperature(s), ``>= 0``; an array gives one loop per value (one ODE for all).
    J : float
        Coupling (``>= 0``).
    h_max : float
        Ramp amplitude (choose it above ``h_c(T)``, e.g. ``1.5 zJ``).
    ramp_time : float or Quantity
        Duration of each ramp (same unit as ``tau0``).
    tau0 : float or Quantity
        Microscopic flip time.
    z : float, optional
        Coupling number.
    points : int, optional
        Output points per ramp.
    method : str, optional
        ODE method (see :func:`integrate_glauber`).

    Returns
    -------
    HysteresisLoop

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


def quench_temperature(t, x, T_rest, kappa, r):
    """Quench with linear reheating: ``T(t) = min(T_rest, T_rest - kappa x + r t)`` (THEORY.md 5).

    Parameters
    ----------
    t : float, array_like or Quantity
        Time since the stimulus.
    x : float or array_like
        Stimulus strength (``kappa x < T_rest`` keeps ``T >= 0``).
    T_rest : float
        Resting temperature.
    kappa : float
        Temperature drop per unit stimulus.
    r : float or Quantity
        Reheating rate (temperature per unit time; ``1/time`` as a Quantity).

    Examples
    --------
    >>> [float(value) for value in quench_temperature(np.array([0.0, 0.5, 5.0]), 1.5, 2.0, 1.0, 1.0)]
    [0.5, 1.0, 2.0]
    """
    T_rest, kappa, _ = _check_quench(T_rest, kappa)
    _positive(r, "r")
    x = _reduced(x, "x")
    if np.any(T_rest - kappa * x < 0):
        raise ParameterError("kappa * x exceeds T_rest: the quench would reach a negative temperature; "
                             "use smaller stimuli or a smaller kappa.")
    rise = np.asarray(r * t, dtype=float)
    return _finish(np.minimum(T_rest, T_rest - kappa * x + rise))


def quench_temperature_exponential(t, x, T_rest, kappa, tau_heat):
    """Quench with exponential reheating: ``T(t) = T_rest - kappa x exp(-t/tau_heat)``.

    Examples
    --------
    >>> round(float(quench_temperature_exponential(np.log(2.0), 1.0, 2.0, 1.0, 1.0)), 12)
    1.5
    """
    T_rest, kappa, _ = _check_quench(T_rest, kappa)
    _positive(tau_heat, "tau_heat")
    x = _reduced(x, "x")
    if np.any(T_rest - kappa * x < 0):
        raise ParameterError("kappa * x exceeds T_rest: the quench would reach a negative temperature.")
    return _finish(T_rest - kappa * x * np.exp(-np.asarray(t / tau_heat, dtype=float)))


def quench_threshold(T_rest, T_c, kappa):
    """Stimulus threshold ``theta = (T_rest - T_c)/kappa`` of the quench (THEORY.md section 5).

    Examples
    --------
    >>> float(quench_threshold(2.0, 1.0, 0.5))
    2.0
    """
    T_rest, kappa, T_c = _check_quench(T_rest, kappa, T_c)
    return _finish((T_rest - T_c) / kappa)


def ordered_time(x, T_rest, T_c, kappa, r):
    """Time spent below ``T_c`` after a quench with linear reheating: a ReLU of the stimulus.

    ``T(t) = T_rest - kappa x + r t < T_c`` for ``t < (kappa/r)(x - theta)``, hence
    ``t_ordered = (kappa/r) max(0, x - theta)``, ``theta = (T_rest - T_c)/kappa`` (THEORY.md
    section 5, prediction P9): slope ``kappa/r``, threshold independent of ``r``. The adiabatic
    (``tau0 -> 0``) limit of :func:`simulate_quench`.

    Parameters
    ----------
    x : float or array_like
        Stimulus strength.
    T_rest, T_c, kappa : float
        Resting temperature (``> T_c``), critical temperature, drop per unit stimulus.
    r : float or Quantity
        Reheating rate; a Quantity (1/time) gives a time Quantity.

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


def ordered_time_exponential(x, T_rest, T_c, kappa, tau_heat):
    """Time below ``T_c`` for exponential reheating: a log-rectifier of the stimulus.

    From ``T(t) = T_rest - kappa x exp(-t/tau_heat) < T_c`` (THEORY.md section 5):
    ``t_ordered = tau_heat ln(kappa x / (T_rest - T_c))`` for ``kappa x > T_rest - T_c`` and 0
    otherwise.

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


def simulate_quench(x, T_rest, kappa, r, J, tau0, z=1, h=1e-3, M_threshold=None, initial_magnetisation=None,
                    points=4001, method="LSODA"):
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
    x : float or array_like
        Stimulus strengths (``kappa x <= T_rest``).
    T_rest : float
        Resting temperature (``> T_c = zJ``).
    kappa : float
        Temperature drop per unit stimulus.
    r : float or Quantity
        Reheating rate (temperature per unit time; ``1/time`` with units).
    J : float
        Coupling (``> 0``).
    tau0 : float or Quantity
        Flip time (same time unit as ``1/r``).
    z : float, optional
        Coupling number.
    h : float, optional
        Symmetry-breaking field (``> 0``).
    M_threshold : float, optional
        Order threshold on ``|M|``; default ``critical_isotherm(h, J, z)``.
    initial_magnetisation : float or array_like, optional
        ``M`` at the stimulus; default the equilibrium at ``T_rest`` and ``h``.
    points : int, optional
        Output points of the time grid (crossing times are interpolated between them).
    method : str, optional
        ODE method (LSODA copes with ``tau0`` much shorter than the reheating time).

    Returns
    -------
    numpy.ndarray or Quantity
        Ordered time, shape of ``x`` (a time Quantity when ``tau0`` and ``r`` have units).

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
    x = _reduced(x, "x")
    if np.any(T_rest - kappa * x < 0):
        raise ParameterError("kappa * x exceeds T_rest: the quench would reach a negative temperature; "
                             "use smaller stimuli or a smaller kappa.")
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
