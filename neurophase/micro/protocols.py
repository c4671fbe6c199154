"""Stimulus protocols: how the swept drive reaches every neurone of one Brian2 network.

A protocol turns the grid of input levels into (a) a Brian2 expression for the deterministic
drive, (b) the run duration and (c) the analysis windows in which spikes are counted. The
network itself is built by :mod:`neurophase.micro.neurone`; noise is added there.

Protocols
---------
``step``
    Constant drive ``I_k`` from ``delay`` (default 0) to the end: one neurone per level (f-I).
``staircase``
    One neurone per seed first settles for ``duration`` at the lowest level (not analysed),
    then steps quasi-statically through the levels up, then back down, each level held for
    ``duration``; the down branch starts on whatever state the up branch
    reached, so a bistable neurone shows hysteresis (Rinzel & Miller 1980; Guckenheimer &
    Labouriau 1993).
``ramp``
    As ``staircase`` but the drive changes linearly (slope = level spacing / ``duration``);
    the window of level ``I_k`` is the interval in which the drive runs from
    ``I_k - spacing/2`` to ``I_k + spacing/2``. Needs equally spaced levels.
``pulse``
    A brief pulse of amplitude ``I_k`` (``pulse_duration``, default 1 ms, starting at
    ``pulse_start``, default 5 ms) on a ``baseline`` (default 0); spikes are counted from the
    pulse onset to the end of the run, for the firing probability.

Functions
---------
plan_protocol
    A :class:`ProtocolPlan` for a named protocol.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from neurophase.errors import ParameterError
from neurophase.units import to_magnitude

if TYPE_CHECKING:
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

__all__ = ["PROTOCOLS", "ProtocolPlan", "plan_protocol"]

PROTOCOLS = ("step", "staircase", "ramp", "pulse")

_OPTIONS = {
    "step": {"delay"},
    "staircase": set(),
    "ramp": set(),
    "pulse": {"pulse_duration", "pulse_start", "baseline"},
}


@dataclasses.dataclass
class ProtocolPlan:
    """What the network builder needs from a protocol (all times in seconds).

    Attributes
    ----------
    name : str
        Protocol name.
    levels_per_neuron : bool
        True when each neurone holds one level (``step``, ``pulse``); False when every
        neurone runs through all levels (``staircase``, ``ramp``).
    drive : str
        Brian2 expression of the deterministic drive, in the input's unit. It may use the
        per-neurone variable ``grid_input_level`` and the names in ``namespace``.
    namespace : dict
        Extra Brian2 names (TimedArrays, constants with units).
    duration : float
        Total run time.
    window_edges : ndarray
        Edges of the analysis windows of one neurone (``n_windows + 1`` values).
    window_input_index : ndarray of int
        The level index each window belongs to.
    window_direction : ndarray of int
        0 for the up branch (and single-level protocols), 1 for the down branch.
    transient : float or None
        Excluded start of every window for the steady-state statistics (None: default rule).
    options : dict
        The protocol's options as resolved (defaults filled in), as plain numbers: times in
        seconds (``delay``, ``pulse_duration``, ``pulse_start``, ``settle``), ``baseline`` in the
        input's unit, ``ramp_slope_per_second`` in the input's unit per second.
    """

    name: str
    levels_per_neuron: bool
    drive: str
    namespace: dict
    duration: float
    window_edges: np.ndarray
    window_input_index: np.ndarray
    window_direction: np.ndarray
    transient: float | None
    options: dict


def _seconds(value, name):
    return float(to_magnitude(value, "second", name=name))


def plan_protocol(name: str, levels: ArrayLike, input_unit: str, duration: Quantity,
                  transient: Quantity | None = None, **options: Quantity) -> ProtocolPlan:
    """Plan protocol ``name`` for ``levels`` (numbers in ``input_unit``).

    Parameters
    ----------
    name : str
        One of :data:`PROTOCOLS`.
    levels : array_like, unit ``input_unit``
        Input levels as numbers in ``input_unit``.
    input_unit : str
        Unit string of the levels (e.g. ``"uA/cm**2"``).
    duration : Quantity (time)
        ``step``/``pulse``: the run duration. ``staircase``/``ramp``: the time per level.
    transient : Quantity (time), optional
        Excluded start of each window for the steady-state rate and CV.
    **options : Quantity
        ``delay`` (time; step); ``pulse_duration``, ``pulse_start`` (time), ``baseline`` (the
        input's dimension) (pulse).

    Returns
    -------
    ProtocolPlan
        The drive expression and namespace, the run duration and the analysis windows.

    Examples
    --------
    >>> from brian2 import ms
    >>> plan = plan_protocol("staircase", np.array([1.0, 2.0, 3.0]), "pA", 100 * ms)
    >>> plan.window_input_index.tolist(), plan.window_direction.tolist()
    ([0, 1, 2, 2, 1, 0], [0, 0, 0, 1, 1, 1])
    >>> round(plan.duration, 6)  # a settling level, three up, three down
    0.7
    """
    from brian2 import TimedArray, second

    from neurophase.units import parse_unit

    if name not in PROTOCOLS:
        raise ParameterError(f"Unknown protocol {name!r}; use one of {', '.join(PROTOCOLS)}.")
    unknown = sorted(set(options) - _OPTIONS[name])
    if unknown:
        allowed = ", ".join(sorted(_OPTIONS[name])) or "none"
        raise ParameterError(
            f"Protocol {name!r} has no option(s) {', '.join(unknown)}; its options are: {allowed}."
        )
    levels = np.asarray(levels, dtype=float)
    n_levels = levels.size
    duration_s = _seconds(duration, "duration")
    if duration_s <= 0:
        raise ParameterError(f"duration must be positive; got {duration!s}.")
    transient_s = None if transient is None else _seconds(transient, "transient")
    unit = parse_unit(input_unit)

    if name == "step":
        delay = _seconds(options.get("delay", 0 * second), "delay")
        if not 0 <= delay < duration_s:
            raise ParameterError(f"delay must lie in [0, duration); got {delay} s.")
        drive = "grid_input_level * int(t >= grid_delay)" if delay > 0 else "grid_input_level"
        return ProtocolPlan(name, True, drive, {"grid_delay": delay * second}, duration_s,
                            np.array([delay, duration_s]), np.array([0]), np.array([0]),
                            transient_s, {"delay": delay})
    if name == "pulse":
        pulse_duration = _seconds(options.get("pulse_duration", 1e-3 * second), "pulse_duration")
        pulse_start = _seconds(options.get("pulse_start", 5e-3 * second), "pulse_start")
        baseline = options.get("baseline", 0 * unit)
        baseline_value = float(to_magnitude(baseline, input_unit, name="baseline"))
        if pulse_start + pulse_duration >= duration_s:
            raise ParameterError(
                "The pulse must end before the run does: pulse_start + pulse_duration "
                f"({pulse_start + pulse_duration:g} s) >= duration ({duration_s:g} s). Lengthen duration."
            )
        drive = ("grid_baseline + grid_input_level * int(t >= grid_pulse_start) "
                 "* int(t < grid_pulse_stop)")
        namespace = {"grid_baseline": baseline_value * unit,
                     "grid_pulse_start": pulse_start * second,
                     "grid_pulse_stop": (pulse_start + pulse_duration) * second}
        return ProtocolPlan(name, True, drive, namespace, duration_s,
                            np.array([pulse_start, duration_s]), np.array([0]), np.array([0]),
                            0.0 if transient_s is None else transient_s,
                            {"pulse_duration": pulse_duration, "pulse_start": pulse_start,
                             "baseline": baseline_value})

    # staircase and ramp: hold the first level for one `duration` (settling, not analysed),
    # then up through the levels, then down
    edges = (1 + np.arange(2 * n_levels + 1)) * duration_s
    input_index = np.r_[np.arange(n_levels), np.arange(n_levels)[::-1]]
    direction = np.r_[np.zeros(n_levels, int), np.ones(n_levels, int)]
    total = (2 * n_levels + 1) * duration_s
    if name == "staircase":
        values = np.r_[levels[0], levels[input_index], levels[0]]
        staircase = TimedArray(values * unit, dt=duration_s * second, name="grid_staircase")
        return ProtocolPlan(name, False, "grid_staircase(t)", {"grid_staircase": staircase},
                            total, edges, input_index, direction, transient_s,
                            {"settle": duration_s})
    spacing = np.diff(levels)
    if n_levels < 2 or not np.allclose(spacing, spacing[0], rtol=1e-6, atol=0):
        raise ParameterError(
            "The ramp protocol needs at least two equally spaced input levels (e.g. "
            "--input 0 10 0.5 uA/cm**2); use 'staircase' for uneven levels."
        )
    step = spacing[0]
    up_time = n_levels * duration_s
    drive = ("grid_ramp_start + grid_ramp_slope * clip(grid_ramp_up_time - "
             "abs(t - grid_ramp_settle - grid_ramp_up_time), 0*second, grid_ramp_up_time)")
    namespace = {"grid_ramp_start": (levels[0] - step / 2) * unit,
                 "grid_ramp_slope": step / duration_s * unit / second,
                 "grid_ramp_up_time": up_time * second,
                 "grid_ramp_settle": duration_s * second}
    return ProtocolPlan(name, False, drive, namespace, total, edges, input_index,
                        direction, transient_s, {"ramp_slope_per_second": step / duration_s,
                                                 "settle": duration_s})
