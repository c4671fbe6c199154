"""The Ising channel membrane in Brian2: many channel ensembles in one network.

Every grid point (temperature, field protocol, trial) is its own ensemble of ``N`` two-state
channels (``s = +1`` open, ``-1`` closed) with heat-bath Glauber dynamics (Glauber 1963,
J. Math. Phys. 4:294). All ensembles live in ONE Brian2 network: one build, one compile, one
run per sweep. The channel equations and the per-step update code come from the model file
(``models/ising_membrane.toml``: all-to-all, ``models/ising_lattice.toml``: 2-D lattice).

Functions
---------
simulate_membrane
    Run a grid of ensembles under a temperature/field protocol; return the order parameter
    traces as a schema Dataset.
triangle_wave
    The periodic triangle 0 -> 1 -> 0 used by the field protocol (also for plotting).
protocol_temperature, protocol_field
    The temperature and field protocols in numpy (what every patch computes in Brian2).

Dynamics (exact discretisation of continuous-time Glauber dynamics)
    Each time step every channel is refreshed with probability ``q = 1 - exp(-dt/tau0)``; a
    refreshed channel is set open with the heat-bath probability ``1/(1 + exp(-2 h_i/T))``.
    The flip rate is then ``(1/tau0) P(opposite state) = (1/(2 tau0)) [1 - s tanh(h_i/T)]``,
    Glauber's rate. For ``J = 0`` every channel's marginal is exactly stationary at any ``dt``:
    ``M = tanh(h/T)`` and ``Var(M) = (1 - M**2)/N``.

    - all-to-all: ``h_i = J (M - s_i/N) + h`` (self-interaction excluded: the heat-bath step is
      then in detailed balance with ``H = -(J/N) sum_{i<j} s_i s_j - h sum_i s_i``; T_c = J).
      Because a fraction ``q`` of the channels refresh together, the stationary variance of
      ``M`` is ``(1 - M**2)/(N (1 - g)) x (2 - q)/(2 - q (1 - g))`` with
      ``g = J (1 - M**2)/T`` (linear response of the discrete-time map): exact at ``J = 0``,
      a relative bias of at most ``q/2`` at the critical point.
    - lattice: 2-D periodic square lattice, ``h_i = J (sum of the 4 neighbours) + h``; the two
      checkerboard colours refresh on alternate steps with ``q = 1 - exp(-2 dt/tau0)``, so no
      two neighbours refresh together (exact detailed balance; Newman and Barkema 1999, 4.5.1).

Protocols (per ensemble, changed without recompiling)
    ``T(t) = clip(T_0 + temperature_rate t, temperature_minimum, temperature_maximum)``
    ``h(t) = h_0 + field_amplitude triangle(t / field_period) + field_step [t >= step_time]``
    where ``T_0`` runs over the ``param_T`` grid and ``h_0`` over the ``input`` grid.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from neurophase.docstrings import template
from neurophase.errors import InterruptedRunError, ParameterError, SimulationError, UnitMismatchError
from neurophase.interrupts import run_network
from neurophase.micro.build_cache import standalone_program
from neurophase.micro.devices import Brian2Device
from neurophase.micro.modelfile import load_model
from neurophase.schema import provenance, quantity_coordinate, quantity_variable
from neurophase.units import to_magnitude

if TYPE_CHECKING:
    from pathlib import Path

    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

__all__ = [
    "simulate_membrane",
    "triangle_wave",
    "protocol_temperature",
    "protocol_field",
    "TOPOLOGIES",
]

_doc = template(
    parameters_time="""Parameters
----------
time_ms : float or array_like, ms
    Times.""",
    returns_protocol="""Returns
-------
numpy.ndarray, units of J
    The protocol's value at every time, the shape of ``time_ms``.""",
)

#: Supported channel topologies.
TOPOLOGIES = ("all_to_all", "lattice")

_PATCH_EQUATIONS = """
M : 1
T : 1
h : 1
temperature_offset : 1 (constant)
temperature_rate : second**-1 (constant)
temperature_minimum : 1 (constant)
temperature_maximum : 1 (constant)
field_offset : 1 (constant)
field_amplitude : 1 (constant)
field_period : second (constant)
field_step : 1 (constant)
step_time : second (constant)
"""

# Computed by every patch at the start of each time step, before the channels are refreshed.
_PATCH_PROTOCOL_CODE = """
T = clip(temperature_offset + temperature_rate * t, temperature_minimum, temperature_maximum)
h = field_offset + field_amplitude * (1.0 - abs(1.0 - 2.0 * (t / field_period - floor(t / field_period)))) + field_step * int(t >= step_time)
"""


def triangle_wave(phase: ArrayLike) -> np.ndarray:
    """Periodic triangle wave ``1 - |1 - 2 frac(phase)|``: 0 at integers, 1 at half-integers.

    The field-sweep shape of the protocol in the module docstring (a definition, no source).

    Parameters
    ----------
    phase : float or array_like, dimensionless
        Time in periods.

    Returns
    -------
    numpy.ndarray, dimensionless
        Values in [0, 1], the shape of ``phase``.

    Examples
    --------
    >>> triangle_wave([0.0, 0.25, 0.5, 0.75, 1.0]).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    phase = np.asarray(phase, dtype=float)
    return 1.0 - np.abs(1.0 - 2.0 * (phase - np.floor(phase)))


@_doc
def protocol_temperature(time_ms: ArrayLike, temperature_offset: float, temperature_rate_per_ms: float = 0.0,
                         temperature_minimum: float = 1e-3, temperature_maximum: float = np.inf) -> np.ndarray:
    """``T(t) = clip(T_0 + rate t, T_min, T_max)`` (numpy twin of the Brian2 patch code).

    The protocol of the module docstring (a definition, no source).

    %(parameters_time)s
    temperature_offset : float, units of J
        ``T_0``.
    temperature_rate_per_ms : float, units of J per ms
        ``dT/dt`` before clipping.
    temperature_minimum, temperature_maximum : float, units of J
        Clip bounds.

    %(returns_protocol)s

    Examples
    --------
    >>> protocol_temperature([0.0, 5.0, 20.0], 0.5, 0.1, temperature_maximum=1.5).tolist()
    [0.5, 1.0, 1.5]
    """
    time_ms = np.asarray(time_ms, dtype=float)
    return np.clip(temperature_offset + temperature_rate_per_ms * time_ms, temperature_minimum,
                   temperature_maximum)


@_doc
def protocol_field(time_ms: ArrayLike, field_offset: float, field_amplitude: float = 0.0,
                   field_period_ms: float = np.inf, field_step: float = 0.0,
                   step_time_ms: float = np.inf) -> np.ndarray:
    """``h(t) = h_0 + A triangle(t / period) + step [t >= t_step]`` (numpy twin of the patch code).

    The protocol of the module docstring (a definition, no source).

    %(parameters_time)s
    field_offset : float, units of J
        ``h_0``.
    field_amplitude : float, units of J
        ``A``, the amplitude of the triangle wave (:func:`triangle_wave`).
    field_period_ms : float, ms
        Its period (inf: no sweep).
    field_step : float, units of J
        Step added from ``step_time_ms`` on.
    step_time_ms : float, ms
        Time of the step (inf: none).

    %(returns_protocol)s

    Examples
    --------
    >>> protocol_field([0.0, 5.0, 10.0], -1.0, 2.0, 10.0).tolist()
    [-1.0, 1.0, -1.0]
    """
    time_ms = np.asarray(time_ms, dtype=float)
    phase = time_ms / field_period_ms if np.isfinite(field_period_ms) else np.zeros_like(time_ms)
    return (field_offset + field_amplitude * triangle_wave(phase)
            + field_step * (time_ms >= step_time_ms))


def _as_float_array(values, name):
    from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions

    try:
        dimensions = {get_dimensions(value) for value in np.atleast_1d(np.asarray(values, dtype=object))}
    except TypeError:
        dimensions = {DIMENSIONLESS}
    dimensions |= {get_dimensions(values)}
    if dimensions != {DIMENSIONLESS}:
        raise UnitMismatchError(
            f"{name} = {values!r} has a physical unit, but it is a dimensionless number in units of "
            "the coupling J (temperature T/J, field h/J); give plain numbers such as 0.5.")
    try:
        array = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError) as error:
        raise ParameterError(f"{name} must be numbers (reduced units of the coupling J); got {values!r}.") from error
    if array.ndim != 1 or array.size == 0:
        raise ParameterError(f"{name} must be a non-empty 1-D sequence of numbers; got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ParameterError(f"{name} contains non-finite values ({array}); give finite numbers.")
    return array


def _as_time(value, name):
    """A Brian2 time quantity -> milliseconds (float)."""
    from brian2.units.fundamentalunits import Quantity

    if not isinstance(value, Quantity):
        raise UnitMismatchError(
            f"{name} = {value!r} has no unit; give a Brian2 time quantity, e.g. {name}=1*ms "
            "(from brian2 import ms)."
        )
    return float(to_magnitude(value, "ms", name=name))


def _as_rate(value, name):
    """A rate (1/time) Brian2 quantity or 0 -> per millisecond."""
    from brian2.units.fundamentalunits import Quantity

    if not isinstance(value, Quantity):
        if float(value) == 0.0:
            return 0.0
        raise UnitMismatchError(
            f"{name} = {value!r} has no unit; give it per unit time, e.g. {name}=0.01/ms "
            "(temperature in units of J per millisecond)."
        )
    return float(to_magnitude(value, "1/ms", name=name))


def _topology_of(model, topology):
    if topology is None:
        names = model.equations
        topology = "lattice" if "neighbour_sum" in names else "all_to_all"
    if topology not in TOPOLOGIES:
        raise ParameterError(
            f"Unknown topology {topology!r}; use one of {', '.join(TOPOLOGIES)} "
            "(all_to_all with models/ising_membrane.toml, lattice with models/ising_lattice.toml)."
        )
    expected = "neighbour_sum" if topology == "lattice" else "M_ensemble"
    if expected not in model.equations:
        raise ParameterError(
            f"topology={topology!r} needs a model whose equations define {expected!r}; model "
            f"{model.name!r} does not. Use model='ising_lattice' for the lattice and "
            "model='ising_membrane' for all-to-all coupling."
        )
    return topology


def _initial_states(rng, n_ensembles, N, initial_magnetisation):
    """Independent channels with open probability (1 + m0)/2 per ensemble -> s in {-1, +1}."""
    p_open = 0.5 * (1.0 + initial_magnetisation)
    draws = rng.random((n_ensembles, N))
    return np.where(draws < p_open[:, None], 1.0, -1.0).ravel()


def _lattice_neighbours(n_ensembles, side):
    """Source and target indices of the 4 periodic neighbours (all ensembles, flat indices)."""
    row, column = np.divmod(np.arange(side * side), side)
    local_sources = []
    local_targets = []
    for d_row, d_column in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        neighbour = ((row + d_row) % side) * side + (column + d_column) % side
        local_sources.append(neighbour)
        local_targets.append(np.arange(side * side))
    local_sources = np.concatenate(local_sources)
    local_targets = np.concatenate(local_targets)
    offsets = (np.arange(n_ensembles) * side * side)[:, None]
    return (local_sources[None, :] + offsets).ravel(), (local_targets[None, :] + offsets).ravel()


def simulate_membrane(temperatures: ArrayLike, fields: ArrayLike, trials: int = 1, duration: Quantity | None = None,
                      model: str | Path = "ising_membrane", N: int | None = None, J: float | None = None,
                      tau0: Quantity | None = None, dt: Quantity | None = None, topology: str | None = None,
                      temperature_rate: Quantity | float = 0.0, temperature_minimum: float = 1e-3,
                      temperature_maximum: float | None = None, field_amplitude: float = 0.0,
                      field_period: Quantity | None = None, field_step: float = 0.0,
                      step_time: Quantity | None = None, initial_magnetisation: float | ArrayLike = 0.0,
                      record_every: int = 10, seed: int = 0, target: str = "cython", device: str = "runtime",
                      protocol: str | None = None, report: Callable[..., Any] | str | None = None,
                      threads: int | None = None) -> xr.Dataset:
    """Simulate a grid of Ising channel ensembles in one Brian2 network.

    The grid is ``temperatures x fields x trials``; each point is an ensemble of ``N`` channels
    (Glauber 1963 heat-bath dynamics, see the module docstring). ``T`` and ``h`` are in units of
    the coupling's energy scale (reduced units: with ``J = 1``, ``T = 1`` is the all-to-all
    critical temperature).

    Parameters
    ----------
    temperatures : array_like, units of J
        ``T_0`` of each ensemble row (dim ``param_T``); ``T(t) = clip(T_0 + temperature_rate t,
        temperature_minimum, temperature_maximum)``. Must be positive.
    fields : array_like, units of J
        ``h_0`` of each ensemble column (dim ``input``); ``h(t) = h_0 + field_amplitude
        triangle(t / field_period) + field_step [t >= step_time]``.
    trials : int
        Independent replicate ensembles per grid point (dim ``trial``).
    duration : Quantity (time), optional
        Simulated time (default ``200 tau0``).
    model : str or path
        Model file (library name or path); default ``"ising_membrane"`` (all-to-all).
    N : int, optional
        Channels per ensemble (default from the model file; a square of an even number for the
        lattice).
    J : float, optional, energy unit of T and h
        Coupling (default from the model file).
    tau0 : Quantity (time), optional
        Glauber time constant (default from the model file).
    dt : Quantity (time), optional
        Time step (default: the model file's ``dt``); must be below ``tau0/5``.
    topology : {"all_to_all", "lattice"}, optional
        Checked against the model (default: inferred from it).
    temperature_rate : Quantity (1/time) or 0
        dT/dt in units of J per time (e.g. ``0.01/ms``); 0 for a static temperature.
    temperature_minimum, temperature_maximum : float, units of J
        Clip bounds of ``T(t)``; the minimum must be positive.
    field_amplitude : float, units of J
        Amplitude of the triangle-wave ramp (0: static field).
    field_period : Quantity (time), optional
        Period of the triangle wave (one up-and-down sweep).
    field_step : float, units of J
        Field step added at ``step_time``.
    step_time : Quantity (time), optional
        Time of the field step.
    initial_magnetisation : float or array_like, dimensionless
        Mean of the independent initial channel states, one per ``param_T`` row or a scalar.
    record_every : int
        Record ``M`` of every ensemble every ``record_every`` time steps.
    seed : int
        Seeds the initial states and Brian2's random numbers (``brian2.seed``).
    target : {"cython", "numpy"}
        Brian2 code-generation target (runtime device).
    device : {"runtime", "cpp_standalone"}
        Brian2 device. ``cpp_standalone`` compiles the whole network as one C++ program once
        per structure (model, N, J, tau0, dt, grid shape, ``record_every``) into the build cache
        (:mod:`neurophase.micro.build_cache`) and runs it with this call's temperatures, fields,
        protocol, initial states, duration and seed; later calls that differ only in those do
        not compile. With one thread Brian2 draws the same random numbers on both devices: for
        the same seed the trajectories are identical (tested).
    threads : int, optional
        OpenMP threads of the standalone program (default
        :func:`neurophase.micro.devices.standalone_threads`: at most one per 2000 channels).
        The random numbers, hence the trajectories, depend on the number of threads (each
        thread has its own generator); statistics do not.
    protocol : str, optional
        Name stored in the provenance (default: a description of the protocol).
    report : callable or str, optional
        Passed to ``brian2.Network.run`` (progress reporting; runtime device only, a
        standalone binary reports nothing).

    Returns
    -------
    xarray.Dataset
        ``order_parameter(param_T, input, trial, time)``, ``temperature(param_T, time)`` and
        ``field(input, time)`` (units "1"), ``time`` in ms; attrs with provenance (model name
        and hash, protocol, seed, device, target, dt, N, J, tau0, topology, method).

    Raises
    ------
    ParameterError
        Non-positive temperature, ``N < 1``, ``dt >= tau0/5``, unknown topology, an odd or
        non-square lattice size, bad ``record_every``.
    UnitMismatchError
        A time given without a unit or with the wrong dimension.

    Examples
    --------
    >>> from brian2 import ms
    >>> data = simulate_membrane([2.0], [0.0, 0.5], N=200, J=0.0, duration=2 * ms,
    ...                          target="numpy", seed=1)
    >>> data.order_parameter.dims
    ('param_T', 'input', 'trial', 'time')
    """
    import brian2

    started = _time.perf_counter()
    model_object = load_model(model)
    if model_object.kind != "ising_membrane":
        raise ParameterError(
            f"Model {model_object.name!r} is of kind {model_object.kind!r}; simulate_membrane needs "
            "an 'ising_membrane' model file (e.g. 'ising_membrane' or 'ising_lattice')."
        )
    topology = _topology_of(model_object, topology)
    defaults = model_object.parameters
    N = int(defaults["N"]) if N is None else N
    if not float(N).is_integer() or N < 1:
        raise ParameterError(f"N = {N!r} channels per ensemble; give an integer N >= 1.")
    N = int(N)
    side = None
    if topology == "lattice":
        side = int(round(math.sqrt(N)))
        if side * side != N or side % 2 or side < 2:
            raise ParameterError(
                f"The lattice needs N = L*L channels with L even (checkerboard updates on a periodic "
                f"lattice); N = {N} is not. Use e.g. N = {max(2, 2 * round(math.sqrt(N) / 2)) ** 2}."
            )
    J = float(defaults["J"]) if J is None else float(J)
    if not math.isfinite(J):
        raise ParameterError(f"J = {J} must be finite.")
    tau0_ms = _as_time(defaults["tau0"] if tau0 is None else tau0, "tau0")
    if tau0_ms <= 0:
        raise ParameterError(f"tau0 = {tau0_ms} ms must be positive.")
    if dt is not None:
        dt_ms = _as_time(dt, "dt")
    else:  # the model file's dt, but never above tau0/20
        dt_ms = tau0_ms / 20
        if model_object.dt is not None:
            dt_ms = min(_as_time(model_object.dt, "dt"), dt_ms)
    if not 0 < dt_ms < tau0_ms / 5:
        raise ParameterError(
            f"dt = {dt_ms:g} ms is not much smaller than tau0 = {tau0_ms:g} ms (need dt < tau0/5 = "
            f"{tau0_ms / 5:g} ms). Use a smaller dt, e.g. dt = {tau0_ms / 20:g}*ms."
        )
    duration_ms = 200 * tau0_ms if duration is None else _as_time(duration, "duration")
    if duration_ms <= 0:
        raise ParameterError(f"duration = {duration_ms} ms must be positive.")
    record_every = int(record_every)
    if record_every < 1:
        raise ParameterError(f"record_every = {record_every}; give an integer >= 1.")

    temperatures = _as_float_array(temperatures, "temperatures")
    fields = _as_float_array(fields, "fields")
    trials = int(trials)
    if trials < 1:
        raise ParameterError(f"trials = {trials}; give an integer >= 1.")
    temperature_minimum = float(temperature_minimum)
    temperature_maximum = np.inf if temperature_maximum is None else float(temperature_maximum)
    rate_per_ms = _as_rate(temperature_rate, "temperature_rate")
    lowest = min(float(np.min(temperatures)), temperature_minimum)
    if np.any(temperatures <= 0) or temperature_minimum <= 0 or temperature_maximum <= 0:
        raise ParameterError(
            f"Temperatures must be positive (got minimum {lowest:g}); T is the gating noise in units "
            "of J. For the zero-temperature limit use a small positive T (e.g. 1e-3)."
        )
    period_ms = np.inf if field_period is None else _as_time(field_period, "field_period")
    if period_ms <= 0:
        raise ParameterError(f"field_period = {period_ms} ms must be positive.")
    step_time_ms = np.inf if step_time is None else _as_time(step_time, "step_time")
    initial = np.broadcast_to(np.asarray(initial_magnetisation, dtype=float), temperatures.shape)
    if np.any(np.abs(initial) > 1):
        raise ParameterError("initial_magnetisation must lie in [-1, 1] (it is the mean channel state).")
    shape = (temperatures.size, fields.size, trials)
    n_ensembles = int(np.prod(shape))
    total = n_ensembles * N
    selected = Brian2Device(target, device, threads=threads, elements=total)  # checks the names
    grid_T, grid_h, _ = np.meshgrid(temperatures, fields, np.arange(trials), indexing="ij")
    grid_initial = np.broadcast_to(initial[:, None, None], shape).ravel()
    states = _initial_states(np.random.default_rng(int(seed)), n_ensembles, N, grid_initial)
    # the values of this call: set on the groups (runtime) or given to the compiled program
    patch_values = {
        "temperature_offset": grid_T.ravel(), "temperature_rate": rate_per_ms / brian2.ms,
        "temperature_minimum": temperature_minimum,
        "temperature_maximum": temperature_maximum if np.isfinite(temperature_maximum) else 1e300,
        "field_offset": grid_h.ravel(), "field_amplitude": float(field_amplitude),
        "field_period": (period_ms if np.isfinite(period_ms) else 1e300) * brian2.ms,
        "field_step": float(field_step),
        "step_time": (step_time_ms if np.isfinite(step_time_ms) else 1e300) * brian2.ms,
        "M": states.reshape(n_ensembles, N).mean(axis=1)}
    namespace = {"J": J, "tau0": tau0_ms * brian2.ms}
    clock_dt = dt_ms * brian2.ms

    def construct(builder=None):
        """The network; values set now (runtime) or declared as inputs (standalone)."""
        clock = brian2.Clock(dt=clock_dt, name="membrane_clock")
        patch = brian2.NeuronGroup(n_ensembles, _PATCH_EQUATIONS, clock=clock, name="patch", namespace={})
        patch.run_regularly(_PATCH_PROTOCOL_CODE, when="start", order=0, name="patch_protocol")
        channels = brian2.NeuronGroup(total, model_object.equations, clock=clock, name="channels",
                                      namespace=namespace)
        ensemble_index = np.repeat(np.arange(n_ensembles), N)
        channels.h_ensemble = brian2.linked_var(patch, "h", index=ensemble_index)
        channels.T_ensemble = brian2.linked_var(patch, "T", index=ensemble_index)
        objects = [patch, channels]
        if topology == "all_to_all":
            channels.ensemble_size = N
            channels.M_ensemble = brian2.linked_var(patch, "M", index=ensemble_index)
        else:
            row, column = np.divmod(np.arange(N), side)
            channels.colour = np.tile((row + column) % 2, n_ensembles)
            sources, targets = _lattice_neighbours(n_ensembles, side)
            neighbours = brian2.Synapses(channels, channels, "neighbour_sum_post = s_pre : 1 (summed)",
                                         name="neighbours", clock=clock)
            neighbours.connect(i=sources, j=targets)
            objects.append(neighbours)
        to_patch = brian2.Synapses(channels, patch, f"M_post = s_pre / {float(N)!r} : 1 (summed)",
                                   name="to_patch", clock=clock)
        to_patch.connect(i=np.arange(total), j=ensemble_index)
        objects.append(to_patch)
        if builder is None:
            channels.s = states
            for name, value in patch_values.items():
                setattr(patch, name, value)
        else:
            builder.input(channels, "s")
            for name in patch_values:
                builder.input(patch, name)
        # The channels are refreshed after the summed variables are computed (slot "groups",
        # order -1 for targets of order 0), so each refresh sees the current M / neighbour sums.
        channels.run_regularly(model_object.update, when="groups", order=1, name="channel_refresh")
        monitor = brian2.StateMonitor(patch, ["M", "T", "h"], record=True,
                                      dt=record_every * clock_dt, name="order_parameter_monitor",
                                      when="groups", order=0)
        objects.append(monitor)
        return monitor, brian2.Network(*objects)

    what = f"the Ising membrane ({n_ensembles} ensembles x {N} channels)"
    try:
        if selected.standalone:
            description = {
                "builder": "neurophase.micro.ising.simulate_membrane", "version": 1,
                "model": model_object.name, "model_hash": model_object.content_hash, "topology": topology,
                "N": N, "ensembles": n_ensembles, "namespace": namespace, "dt": clock_dt,
                "record_every": record_every, "patch_equations": _PATCH_EQUATIONS,
                "protocol_code": _PATCH_PROTOCOL_CODE, "inputs": ["channels.s", *sorted(patch_values)]}

            def build(builder):
                monitor, network = construct(builder)
                for name in ("t", "M", "T", "h"):
                    builder.output(monitor, name, name)
                builder.run(network, duration_ms * brian2.ms, namespace=namespace)

            program = standalone_program(description, build, threads=selected.threads)
            built = _time.perf_counter()
            inputs = {f"patch.{name}": value for name, value in patch_values.items()}
            inputs["channels.s"] = states
            run = program.run(inputs, duration_ms * brian2.ms, seed=int(seed), what=what)
            first = built  # no separate first step: the build time is code generation and compilation
            finished = _time.perf_counter()
            time_ms = run["t"] * 1e3
            recorded = {name: run[name].T for name in ("M", "T", "h")}
        else:
            with selected:
                brian2.seed(int(seed))
                monitor, network = construct()
                built = _time.perf_counter()
                run_network(network, clock_dt, what, progress=False, namespace=namespace)
                first = _time.perf_counter()
                run_network(network, duration_ms * brian2.ms - clock_dt, what, namespace=namespace,
                            report=report)
                finished = _time.perf_counter()
                time_ms = np.asarray(monitor.t / brian2.ms)
                recorded = {name: np.asarray(getattr(monitor, name)) for name in ("M", "T", "h")}
    except (ParameterError, UnitMismatchError, SimulationError, InterruptedRunError):
        raise
    except Exception as error:
        raise SimulationError(
            f"The Brian2 run of {n_ensembles} ensembles x {N} channels failed: "
            f"{type(error).__name__}: {error}. Check the model file and the protocol; try "
            "target='numpy' to rule out a compiler problem."
        ) from error
    order = recorded["M"].reshape(shape + (time_ms.size,))
    temperature_trace = recorded["T"].reshape(shape + (time_ms.size,))[:, 0, 0, :]
    field_trace = recorded["h"].reshape(shape + (time_ms.size,))[0, :, 0, :]
    description = protocol or _describe_protocol(rate_per_ms, field_amplitude, period_ms,
                                                 field_step, step_time_ms)
    coordinates = {
        "param_T": quantity_coordinate("param_T", temperatures, "1",
                                       long_name="temperature at t = 0 (units of J)"),
        "input": quantity_coordinate("input", fields, "1",
                                     long_name="external field h at t = 0 (units of J)"),
        "trial": xr.DataArray(np.arange(trials), dims=("trial",),
                              attrs={"long_name": "replicate ensemble"}),
        "time": quantity_coordinate("time", time_ms, "ms", long_name="time"),
    }
    dataset = xr.Dataset(
        {
            "order_parameter": quantity_variable(
                order, "1", ("param_T", "input", "trial", "time"),
                long_name="magnetisation M = mean channel state (2 p_open - 1)"),
            "temperature": quantity_variable(temperature_trace, "1", ("param_T", "time"),
                                             long_name="temperature T(t) (units of J)"),
            "field": quantity_variable(field_trace, "1", ("input", "time"),
                                       long_name="external field h(t) (units of J)"),
        },
        coords=coordinates,
    )
    dataset.attrs.update(provenance(
        model_name=model_object.name, model_hash=model_object.content_hash,
        model_citation=model_object.citation, protocol=description, seed=int(seed),
        brian2_device=device, brian2_target=target if device == "runtime" else "cpp", dt=f"{dt_ms!r} ms",
        integration_method="heat-bath Glauber", N=N, J=J, tau0=f"{tau0_ms!r} ms",
        topology=topology, record_every=record_every,
        self_interaction="excluded" if topology == "all_to_all" else "none (nearest neighbours)",
        wall_seconds_build=round(built - started, 3), wall_seconds_first_step=round(first - built, 3),
        wall_seconds_run=round(finished - first, 3), channel_steps=float(total) * duration_ms / dt_ms,
    ))
    return dataset


def _describe_protocol(rate_per_ms, field_amplitude, period_ms, field_step, step_time_ms):
    parts = []
    parts.append("static temperature" if rate_per_ms == 0 else
                 f"temperature ramp {rate_per_ms:g} J/ms (clipped)")
    if field_amplitude and np.isfinite(period_ms):
        parts.append(f"triangle field sweep amplitude {field_amplitude:g}, period {period_ms:g} ms")
    elif not field_step:
        parts.append("static field")
    if field_step and np.isfinite(step_time_ms):
        parts.append(f"field step {field_step:g} at {step_time_ms:g} ms")
    return "; ".join(parts)
