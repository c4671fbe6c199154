"""Firing statistics of a neurone model over a whole input grid, from ONE Brian2 network.

Every grid point (input level x noise level x swept model parameters x seed) is one neurone
of a single :class:`brian2.NeuronGroup` whose drive is a per-neurone variable, so a sweep of a
thousand currents is one build, one compile and one run (no Python loop around Brian2). Model
parameters given as arrays become per-neurone constants and ``param_<name>`` dimensions
(:mod:`neurophase.micro.grid`); models with Markov channels (a ``[channels]`` table) carry
channel-state counts updated every step (:mod:`neurophase.micro.channels`).

Functions
---------
firing_curve
    Model + input levels + protocol -> schema :class:`xarray.Dataset` (spike_count, rate,
    cv_isi, first_spike_latency, p_fire, fano_factor; optional voltage traces).
resolve_model
    A library name, a model-file path, a :class:`~neurophase.micro.modelfile.Model` or a
    Brian2 equations string (with ``threshold``, ``input`` and parameters) -> Model.
model_from_equations
    Build a :class:`~neurophase.micro.modelfile.Model` from a Brian2 equations string.

Noise
-----
``noise`` is either a current (Ornstein-Uhlenbeck current noise of that standard deviation
and correlation time ``noise_tau``, default 5 ms: ``dI/dt = -I/tau + sigma sqrt(2/tau) xi``,
Uhlenbeck & Ornstein 1930) or a current times ``sqrt(time)`` (white noise: the drive gets
``sigma xi(t)``, whose integral over a time ``T`` has variance ``sigma**2 T``). An array of
values adds a ``param_sigma`` dimension. Noisy runs use Euler-Maruyama (``method="euler"``)
unless the model's method handles stochastic equations.

Poisson conductance input
-------------------------
``poisson`` adds excitatory and inhibitory synaptic conductances driven by Poisson events
(:mod:`neurophase.micro.synaptic`), ``g_e (E_e - v) + g_i (E_i - v)`` in the input's unit, on
top of the protocol's drive; with ``inputs`` in Hz the excitatory rate is the swept input.

Spike detection
---------------
The model's threshold condition, with its refractoriness. Library conductance models use
``v > V_s`` as threshold and ``v > V_s`` as refractory condition: a spike is an upward
crossing, and the neurone cannot spike again until ``v`` has fallen back below ``V_s``. So a
spike is counted once however long it lasts, and small spikes (peaks below 0 mV in strongly
driven Hodgkin-Huxley) still count as long as they cross ``V_s``.

Spike recording
---------------
By default (``spike_record="sums"``) no spike time is stored. The reset code of every
neurone updates, at each spike, seven numbers per analysis window: the spike count and the
time of the first spike in the window; the count, first and last time of the spikes in the
steady-state window; and the sum of squared inter-spike intervals between consecutive
steady-state spikes. These are sufficient for every statistic of
:func:`neurophase.mapping.firing.spike_statistics` (the ISI sum telescopes to last - first;
see :func:`neurophase.mapping.firing.statistics_from_sums`). For protocols with one window
per level (staircase, ramp) a ``run_regularly`` operation starts a new window at each level
and a StateMonitor samples the sums just before, one sample per window. Memory is therefore
constant in the simulated duration (it grows with the number of windows, which the output
holds anyway). ``spike_record="times"`` keeps a SpikeMonitor instead; both give the same
statistics (tested).
"""

from __future__ import annotations

import re
import time as wallclock
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from neurophase.errors import ModelFileError, ParameterError, SimulationError, UnitMismatchError
from neurophase.interrupts import run_network
from neurophase.mapping.firing import (
    DEFAULT_TRANSIENT_FRACTION,
    fano_factor,
    p_fire,
    spike_statistics,
    statistics_from_sums,
    steady_state_window,
)
from neurophase.micro.build_cache import standalone_program
from neurophase.micro.channels import markov_scheme
from neurophase.micro.devices import Brian2Device
from neurophase.micro.grid import parameter_grid
from neurophase.micro.modelfile import Model, load_model, load_model_text
from neurophase.micro.protocols import plan_protocol
from neurophase.micro.synaptic import EVENT_CODE, poisson_conductance
from neurophase.schema import provenance, quantity_coordinate
from neurophase.units import dimension_text, parse_unit, to_magnitude

if TYPE_CHECKING:
    from brian2.units.fundamentalunits import Quantity

    from neurophase.micro.synaptic import PoissonConductance

__all__ = ["firing_curve", "resolve_model", "model_from_equations", "add_input_noise", "DEFAULT_NOISE_TAU"]

#: Correlation time of Ornstein-Uhlenbeck current noise when ``noise_tau`` is not given.
DEFAULT_NOISE_TAU = "5 ms"
_STOCHASTIC_METHODS = ("euler", "heun", "milstein")
_SPIKE_RECORDS = ("sums", "times")
#: Units in which recorded traces other than voltages are stored (first match of dimension).
_TRACE_UNITS = ("nS", "mS/cm**2", "pA", "uA/cm**2", "ms")
#: Per-neurone running sums of one analysis window, updated at every spike (``spike_record="sums"``).
_SUM_VARIABLES = ("grid_stat_count", "grid_stat_first", "grid_stat_steady_count",
                  "grid_stat_steady_first", "grid_stat_steady_last", "grid_stat_isi_square")
_SUM_EQUATIONS = """grid_stat_window_start : second (shared)
grid_stat_count : 1
grid_stat_first : second
grid_stat_steady_count : 1
grid_stat_steady_first : second
grid_stat_steady_last : second
grid_stat_isi_square : second**2
"""
#: Reset code that updates the sums at a spike (the rules of neurophase.mapping.firing).
_SUM_RESET = """grid_stat_in = int(t >= grid_stat_window_start)
grid_stat_steady = grid_stat_in * int(t >= grid_stat_window_start + grid_stat_transient)
grid_stat_first += (t - grid_stat_first) * grid_stat_in * int(grid_stat_count == 0)
grid_stat_count += grid_stat_in
grid_stat_isi_square += grid_stat_steady * int(grid_stat_steady_count > 0) * (t - grid_stat_steady_last)**2
grid_stat_steady_first += (t - grid_stat_steady_first) * grid_stat_steady * int(grid_stat_steady_count == 0)
grid_stat_steady_last += (t - grid_stat_steady_last) * grid_stat_steady
grid_stat_steady_count += grid_stat_steady"""


# ----------------------------------------------------------------------------------------- models
def _quantity_text(value):
    """A parameter value as text that :func:`neurophase.units.parse_quantity` reads back."""
    from brian2.units.fundamentalunits import Quantity

    if isinstance(value, str):
        return value
    if not isinstance(value, Quantity) or value.dim.is_dimensionless:
        return repr(float(value))
    names = ("metre", "kilogram", "second", "amp", "kelvin", "mole", "candela")
    exponents = value.dim._dims
    factors = [f"{name}**{exponent:g}" for name, exponent in zip(names, exponents) if exponent]
    return f"{float(np.asarray(value))!r} * {' * '.join(factors)}"


def model_from_equations(equations: str, threshold: str, input: str, input_unit: str,
                         parameters: dict[str, Quantity | float | str] | None = None,
                         initial: dict[str, Quantity | float | str] | None = None, reset: str | None = None,
                         refractory: Quantity | str | None = None, dt: Quantity | str | None = None,
                         max_dt: Quantity | str | None = None, method: str | None = None, name: str = "custom",
                         citation: str = "user-supplied equations") -> Model:
    """A :class:`~neurophase.micro.modelfile.Model` from a Brian2 equations string.

    Works like a model file (the same checks): every name the equations use must be a
    variable or a key of ``parameters``.

    Parameters
    ----------
    equations : str
        Brian2 equations.
    threshold : str
        Spike condition, e.g. ``"v > -20*mV"``.
    input : str
        The drive variable (a parameter line ``I : amp`` of the equations, or a key of
        ``parameters``).
    input_unit : str
        Its unit, e.g. ``"pA"``.
    parameters, initial : dict of str to Quantity, float or str, optional
        Name -> Quantity (any dimension) or string such as ``"20 ms"``.
    reset : str, optional
        Reset code, as in a model file.
    refractory : Quantity (time) or str, optional
        A duration or a Brian2 condition, as in a model file.
    dt, max_dt : Quantity (time) or str, optional
        Recommended and largest time step.
    method : str, optional
        Brian2 integration method.
    name : str
        The model's name (in provenance).
    citation : str
        Where the equations come from (in provenance).

    Returns
    -------
    Model
        The model, checked as a model file is.

    Examples
    --------
    >>> model = model_from_equations(
    ...     "dv/dt = (E_L - v + R_m * I_input) / tau_m : volt\\nI_input : amp",
    ...     threshold="v > -50*mV", reset="v = E_L", input="I_input", input_unit="pA",
    ...     parameters={"E_L": "-70 mV", "R_m": "100 Mohm", "tau_m": "10 ms"},
    ...     initial={"v": "-70 mV"})
    >>> model.input_unit, sorted(model.parameters)
    ('pA', ['E_L', 'R_m', 'tau_m'])
    """
    lines = ["[model]", f"name = {name!r}", 'kind = "spiking"',
             f"title = {('Brian2 equations: ' + name)!r}", f"citation = {citation!r}", ""]
    simulation = {"dt": dt, "max_dt": max_dt, "method": method}
    if any(value is not None for value in simulation.values()):
        lines.append("[simulation]")
        for key, value in simulation.items():
            if value is not None:
                text = value if key == "method" else _quantity_text(value)
                lines.append(f"{key} = {text!r}")
        lines.append("")
    lines += ["[equations]", f"model = '''\n{equations}\n'''", f"threshold = {threshold!r}",
              f"input = {input!r}", f"input_unit = {input_unit!r}"]
    if reset:
        lines.append(f"reset = {reset!r}")
    if refractory is not None:
        text = refractory if isinstance(refractory, str) else _quantity_text(refractory)
        lines.append(f"refractory = {text!r}")
    for table, values in (("parameters", parameters), ("initial", initial)):
        lines += ["", f"[{table}]"]
        for key, value in (values or {}).items():
            lines.append(f"{key} = {_quantity_text(value)!r}")
    return load_model_text("\n".join(lines) + "\n", source="<equations>")


def resolve_model(model: str | Path | Model, **equation_options: Any) -> Model:
    """A Model from a library name, a file path, a Model, or an equations string.

    An equations string (containing ``"dt ="``-style Brian2 equations, i.e. a ``/dt``) needs
    ``threshold``, ``input``, ``input_unit`` and ``parameters`` in ``equation_options``
    (see :func:`model_from_equations`).

    Parameters
    ----------
    model : str, pathlib.Path or Model
        Library model name, model file path, a loaded Model, or a Brian2 equations string.
    **equation_options : object
        Keyword arguments of :func:`model_from_equations` (equations strings only).

    Returns
    -------
    Model
        The model (``model`` itself when it is one).

    Raises
    ------
    ParameterError
        ``equation_options`` given with something other than an equations string.
    """
    if isinstance(model, Model):
        return model
    if isinstance(model, str) and "/dt" in model and ":" in model:
        return model_from_equations(model, **equation_options)
    if equation_options:
        raise ParameterError(
            f"Options {', '.join(sorted(equation_options))} only apply to an equations string; "
            "a library model or model file already defines them."
        )
    return load_model(model)


def _check_model(model):
    if model.kind != "spiking":
        raise ModelFileError(
            f"Model {model.name!r} is of kind {model.kind!r}; firing curves need a spiking model "
            "(use neurophase.micro.ising for Ising membranes)."
        )
    if not model.threshold:
        raise ModelFileError(
            f"Model {model.name!r} has no threshold, so no spike can be detected. Add "
            "[equations] threshold = \"v > -20*mV\" (and refractory = \"v > -20*mV\" for "
            "conductance models) to its model file."
        )
    if not model.input_variable or not model.input_unit:
        raise ModelFileError(
            f"Model {model.name!r} does not say which variable carries the drive. Add "
            "[equations] input = \"I_input\" and input_unit = \"uA/cm**2\" (for example)."
        )


# --------------------------------------------------------------------------------- equations
def _build_equations(model, plan, noise_kind, extra_lines=(), extra_current=None):
    """The model's equations with the input variable replaced by the protocol's drive (plus
    ``extra_current``, a term in the input's unit defined by ``extra_lines``)."""
    from brian2 import Equations
    from brian2.equations.equations import DIFFERENTIAL_EQUATION
    equations = Equations(model.equations)
    input_name = model.input_variable
    unit_text = dimension_text(parse_unit(model.input_unit).dim)
    if input_name in equations.names:
        if equations[input_name].type == DIFFERENTIAL_EQUATION:
            raise ModelFileError(
                f"Model {model.name!r}: the input {input_name!r} is a differential equation; it must "
                f"be a parameter line such as '{input_name} : {unit_text}'."
            )
        kept = [equation for name, equation in equations.items() if name != input_name]
    else:
        kept = list(equations.values())
    if noise_kind == "white":
        kept = add_input_noise(kept, input_name, "grid_noise_sigma * xi_grid")
    added = [f"grid_input_level : {unit_text} (constant)"]
    drive = plan.drive
    if noise_kind == "ou":
        added.append(f"dgrid_noise/dt = -grid_noise / grid_noise_tau + grid_noise_sigma * "
                     f"sqrt(2 / grid_noise_tau) * xi_grid : {unit_text}")
        drive = f"{drive} + grid_noise"
    if noise_kind is not None:
        sigma_unit = (unit_text if noise_kind == "ou" else
                      dimension_text((parse_unit(model.input_unit) * parse_unit("second") ** 0.5).dim))
        added.append(f"grid_noise_sigma : {sigma_unit} (constant)")
    added.extend(extra_lines)
    if extra_current:
        drive = f"{drive} + {extra_current}"
    added.append(f"{input_name} = {drive} : {unit_text}")
    return Equations(kept) + Equations("\n".join(added))


def add_input_noise(equations: list[Any], input_name: str, noise: str) -> list[Any]:
    """``equations`` with ``input_name`` read as ``(input_name + noise)`` in every differential
    equation that uses it: white noise added to the injected input, as a Langevin term.

    Parameters
    ----------
    equations : list of brian2.equations.equations.SingleEquation
        The model's equations.
    input_name : str
        The input variable (e.g. ``I``).
    noise : str
        Brian2 code in the input's unit times ``xi`` (e.g. ``"grid_noise_sigma * xi_grid"``).

    Returns
    -------
    list of brian2.equations.equations.SingleEquation
        The equations, the differential ones that use the input rewritten.
    """
    from brian2.equations.codestrings import Expression
    from brian2.equations.equations import DIFFERENTIAL_EQUATION, SingleEquation

    pattern = re.compile(rf"\b{re.escape(input_name)}\b")
    rewritten = []
    for equation in equations:
        if equation.type == DIFFERENTIAL_EQUATION and pattern.search(str(equation.expr)):
            code = pattern.sub(f"({input_name} + {noise})", str(equation.expr))
            equation = SingleEquation(equation.type, equation.varname, equation.dim,
                                      equation.var_type, Expression(code), equation.flags)
        rewritten.append(equation)
    return rewritten


def _voltage_variable(model, requested, built=None):
    """The variable to record (``requested``, checked against the built equations), or the
    model's membrane potential: its first differential equation in volts."""
    from brian2 import Equations, volt

    equations = Equations(model.equations)
    if requested is not None:
        if requested not in (built if built is not None else equations).names:
            raise ParameterError(f"Model {model.name!r} has no variable {requested!r} to record.")
        return requested
    for name in equations.diff_eq_names:
        if equations[name].dim is volt.dim:
            return name
    return sorted(equations.diff_eq_names)[0]


# ------------------------------------------------------------------------------------- inputs
def _is_frequency(inputs):
    from brian2.units.fundamentalunits import Quantity, get_dimensions

    return isinstance(inputs, Quantity) and get_dimensions(inputs) is get_dimensions(parse_unit("Hz"))


def _levels_in(inputs, unit, model):
    levels = np.atleast_1d(to_magnitude(inputs, unit, name="inputs"))
    if levels.ndim != 1 or levels.size == 0 or not np.all(np.isfinite(levels)):
        raise ParameterError("'inputs' must be a non-empty one-dimensional array of finite values.")
    if unit == "Hz" and np.any(levels < 0):
        raise ParameterError("Poisson input rates must not be negative.")
    return levels


def _input_levels(model, inputs):
    from brian2.units.fundamentalunits import Quantity

    if _is_frequency(inputs):
        raise UnitMismatchError(
            f"'inputs' are rates (Hz) but model {model.name!r} is driven by a current in "
            f"{model.input_unit}. To sweep a Poisson input rate, also give "
            "poisson={'weight_exc': 0.5 * nS} (the conductance per event, in the model's input "
            "unit per volt); otherwise give currents.")
    if not isinstance(inputs, Quantity):
        raise UnitMismatchError(
            f"'inputs' must be a Brian2 quantity in units of {model.input_unit} (model "
            f"{model.name!r}), e.g. `np.linspace(0, 20, 41) * {model.input_unit}` with the units "
            "from brian2; got plain numbers."
        )
    return _levels_in(inputs, model.input_unit, model)


def _noise_levels(model, noise):
    """(kind, sigma magnitudes in the noise unit, unit string, is_array)."""
    if noise is None:
        return None, np.array([0.0]), None, False
    from brian2.units.fundamentalunits import get_dimensions

    input_unit = parse_unit(model.input_unit)
    white_unit = input_unit * parse_unit("second") ** 0.5
    is_array = np.ndim(np.asarray(noise)) > 0
    if get_dimensions(noise) is get_dimensions(input_unit):
        unit_text, kind = model.input_unit, "ou"
    elif get_dimensions(noise) is get_dimensions(white_unit):
        unit_text, kind = f"{model.input_unit}*second**0.5", "white"
    else:
        raise UnitMismatchError(
            f"'noise' has dimension {get_dimensions(noise)!s}; give a current in "
            f"{model.input_unit} (Ornstein-Uhlenbeck noise of that standard deviation) or a "
            f"current times sqrt(time), e.g. `2 * {model.input_unit} * ms**0.5` (white noise)."
        )
    sigma = np.atleast_1d(to_magnitude(noise, unit_text, name="noise"))
    if np.any(sigma < 0) or not np.all(np.isfinite(sigma)):
        raise ParameterError("'noise' standard deviations must be finite and non-negative.")
    return kind, sigma, unit_text, is_array


# ----------------------------------------------------------------------------------- running
def firing_curve(model: str | Path | Model, inputs: Quantity, protocol: str = "step", duration: Quantity | None = None,
                 noise: Quantity | None = None, seeds: int = 1, target: str = "cython", device: str = "runtime",
                 record_voltage: Sequence[int] | None = None, dt: Quantity | None = None,
                 progress: bool | None = None, transient: Quantity | None = None, noise_tau: Quantity | None = None,
                 method: str | None = None, seed: int = 0, voltage_variable: str | None = None,
                 record_dt: Quantity | None = None, standalone_directory: str | Path | None = None,
                 equation_options: dict[str, Any] | None = None, parameters: dict[str, Any] | None = None,
                 spike_record: str = "sums", poisson: PoissonConductance | dict[str, Any] | None = None,
                 executor: Any = None, chunk_size: int | None = None, threads: int | None = None,
                 **protocol_options: Quantity) -> xr.Dataset:
    """Firing statistics of ``model`` for every input level, from one Brian2 network.

    Parameters
    ----------
    model : str, pathlib.Path or Model
        Library model name (``"hodgkin_huxley_1952"``), model file path, a loaded
        :class:`~neurophase.micro.modelfile.Model`, or a Brian2 equations string (then
        ``equation_options`` gives threshold, input, input_unit, parameters, ...; see
        :func:`model_from_equations`).
    inputs : Quantity (the model's input dimension, or frequency with ``poisson``)
        Input levels, checked against the model's input unit.
    protocol : {"step", "staircase", "ramp", "pulse"}
        See :mod:`neurophase.micro.protocols`.
    duration : Quantity (time), optional
        Run time (step, pulse) or time per level (staircase, ramp). Default 1 s for step,
        200 ms per level for staircase and ramp, 50 ms for pulse.
    noise : Quantity (input dimension, or input times time**0.5), optional
        Current-noise amplitude(s) (see the module docstring): a current (Ornstein-Uhlenbeck
        noise, Uhlenbeck & Ornstein 1930) or a current times ``sqrt(time)`` (white noise); an
        array adds ``param_sigma``.
    seeds : int
        Number of independent trials per grid point (the ``trial`` dimension).
    target : {"cython", "numpy"}
        Brian2 code-generation target for the runtime device.
    device : {"runtime", "cpp_standalone"}
        Brian2 device. ``cpp_standalone`` compiles the network once per structure (model and
        its parameters, protocol, grid shape, dt, monitors) into the build cache
        (:mod:`neurophase.micro.build_cache`) and runs the compiled program with this call's
        input levels, noise amplitudes, protocol times, duration and seed, so a second call
        that differs only in those does not compile. Brian2 is back on the runtime device
        afterwards.
    record_voltage : sequence of int, optional
        Indices into ``inputs`` whose voltage trace (trial 0, every noise level) is recorded,
        as ``voltage`` in mV (another variable, ``voltage_variable``, is stored under its own
        name, in nS, mS/cm**2, pA, uA/cm**2 or ms when its dimension is one of those, else in
        SI base units; gating variables are dimensionless).
    dt : Quantity (time), optional
        Time step; default the model's recommended dt. Larger than the model's ``max_dt``
        is an error.
    progress : bool, optional
        Progress bar for the run; ``None`` shows it on a terminal only.
    transient : Quantity (time), optional
        Excluded start of each counting window for rate and CV (default: its first 20%,
        see :mod:`neurophase.mapping.firing`).
    noise_tau : Quantity (time), optional
        Correlation time of Ornstein-Uhlenbeck noise (default 5 ms).
    method : str, optional
        Brian2 integration method (default: the model's; ``euler`` for noisy runs of models
        whose method cannot integrate stochastic equations; ``exponential_euler`` instead of
        ``exact`` when the protocol's drive changes in time, which is exact for linear
        equations with a drive constant within each step).
    seed : int
        Seed of Brian2's random numbers (noise, stochastic channels).
    voltage_variable : str, optional
        Variable recorded by ``record_voltage`` (default the first one in volts).
    record_dt : Quantity (time), optional
        Sampling step of voltage traces (default ``dt``).
    standalone_directory : str or pathlib.Path, optional
        Folder of the standalone build cache (default
        :func:`neurophase.micro.build_cache.cache_directory`: ``$NEUROPHASE_CACHE_DIR`` or the
        user cache folder).
    threads : int, optional
        OpenMP threads of the standalone program (default
        :func:`neurophase.micro.devices.standalone_threads`: ``$NEUROPHASE_THREADS``, else every
        core, at most one per 2000 neurones). Deterministic models give the same spikes for any
        number; random numbers (noise, Poisson input) depend on it, and match the runtime
        device's for the same seed with one thread only. The number used is in the Dataset's
        ``openmp_threads`` attribute.
    parameters : dict, optional
        Overrides of model parameters (units checked), e.g. ``{"N_Na": 600, "N_K": 180}``
        for the stochastic Hodgkin-Huxley model. A one-dimensional array (a Quantity array,
        numbers for a dimensionless parameter, or a list of strings with units) SWEEPS the
        parameter: it becomes a per-neurone constant and an output dimension
        ``param_<name>`` of the same network (several arrays span their outer product; see
        :mod:`neurophase.micro.grid`), e.g. ``{"N_Na": [100, 1000, 10000]}`` for the Markov
        channel model ``hodgkin_huxley_markov`` (whose channel counts are then per neurone,
        given as the coordinates ``channels_Na``, ``channels_K``).
    poisson : PoissonConductance or dict, optional
        Poisson conductance input added to the drive (see :mod:`neurophase.micro.synaptic`):
        excitatory and inhibitory synaptic conductances driven by Poisson events, e.g.
        ``{"rate_exc": 2000 * Hz, "weight_exc": 0.5 * nS}``. With ``inputs`` in Hz the grid
        sweeps the excitatory rate instead of a current (``rate_exc`` left out; step protocol).
    spike_record : {"sums", "times"}
        ``"sums"`` (default): every neurone accumulates, spike by spike, the running sums the
        statistics need (see *Spike recording* in the module docstring), so memory does not
        grow with the simulated duration. ``"times"``: a SpikeMonitor keeps every spike time
        and the statistics are computed afterwards (memory grows with the number of spikes;
        the results agree).
    executor : str or executor, optional
        With ``executor`` or ``chunk_size``, the grid is split into chunks of at most
        ``chunk_size`` neurones (default: eight equal chunks of at least 100), each one network, run on ``executor``
        (``"serial"``, ``"local"``, a Dask scheduler address, or an executor of
        :mod:`neurophase.sweep`) and merged: see :mod:`neurophase.micro.chunks` for the seeds
        and for what is identical to the unchunked run.
    chunk_size : int, optional
        Largest number of neurones per network when splitting.
    equation_options : dict, optional
        Keyword arguments of :func:`model_from_equations` when ``model`` is an equations
        string (``threshold``, ``input``, ``input_unit``, ``parameters`` ...).
    **protocol_options : Quantity
        Protocol options (``delay``, ``pulse_duration``, ``pulse_start``: time; ``baseline``:
        the input's dimension).

    Returns
    -------
    xarray.Dataset
        Dims ``input``, ``trial`` (and ``param_sigma`` for a noise array, ``param_<name>``
        for every swept parameter, ``direction`` = up/down for staircase and ramp); variables
        ``spike_count``, ``steady_spike_count``,
        ``rate``, ``cv_isi``, ``first_spike_latency``, ``p_fire``, ``fano_factor`` (and
        ``voltage``); provenance in ``attrs``.

    Raises
    ------
    UnitMismatchError
        ``inputs`` or ``noise`` in the wrong dimension.
    ModelFileError
        The model has no threshold or no input variable.
    ParameterError
        ``dt`` above the model's ``max_dt``; unknown protocol, target or device.
    SimulationError
        Some grid points diverged (NaN); ``error.partial`` holds the dataset with every
        finished point and ``error.failed_points`` names the failed ones.
    """
    if executor is not None or chunk_size is not None:
        from neurophase.micro.chunks import firing_curve_chunks

        return firing_curve_chunks(
            model, inputs, chunk_size=chunk_size, executor=executor, protocol=protocol,
            duration=duration, noise=noise, seeds=seeds, target=target, device=device,
            record_voltage=record_voltage, dt=dt, transient=transient, noise_tau=noise_tau,
            method=method, seed=seed, voltage_variable=voltage_variable, record_dt=record_dt,
            standalone_directory=standalone_directory, equation_options=equation_options,
            parameters=parameters, spike_record=spike_record, poisson=poisson, threads=threads,
            **protocol_options)
    from brian2 import Equations, Network, NeuronGroup, Quantity, SpikeMonitor, StateMonitor, TimedArray, ms, second
    from brian2 import seed as brian2_seed
    from brian2.units.fundamentalunits import get_dimensions

    model = resolve_model(model, **(equation_options or {}))
    _check_model(model)
    synaptic = poisson_conductance(poisson)
    rate_swept = synaptic is not None and _is_frequency(inputs)
    if rate_swept:
        if synaptic.rate_exc is not None:
            raise ParameterError(
                "inputs are rates (Hz), so the grid sweeps the excitatory Poisson rate; leave "
                "rate_exc out of poisson (it is the input).")
        if protocol != "step":
            raise ParameterError("A sweep of the Poisson input rate needs protocol='step'.")
        levels = _levels_in(inputs, "Hz", model)
        level_unit, level_name = "Hz", "excitatory Poisson input rate"
    else:
        levels = _input_levels(model, inputs)
        level_unit, level_name = model.input_unit, "injected drive"
    if synaptic is not None:
        synaptic_values = synaptic.magnitudes(model.input_unit)  # checks units and signs
        if not rate_swept and synaptic_values["rate_exc"] is None:
            raise ParameterError(
                "poisson needs rate_exc (e.g. `2000 * Hz`), or give inputs in Hz to sweep it.")
    noise_kind, sigmas, noise_unit, noise_is_array = _noise_levels(model, noise)
    seeds = int(seeds)
    if seeds < 1:
        raise ParameterError(f"seeds must be at least 1; got {seeds}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**32:
        raise ParameterError(f"seed = {seed!r} must be a whole number in 0 .. 2**32 - 1 (Brian2's seed).")
    if duration is None:
        duration = {"step": 1000, "staircase": 200, "ramp": 200, "pulse": 50}.get(protocol, 1000) * ms
    duration_s = float(to_magnitude(duration, "second", name="duration"))
    if not (np.isfinite(duration_s) and duration_s > 0):
        raise ParameterError(f"duration = {duration!s} must be a positive, finite time (e.g. 500 ms).")
    time_step = dt if dt is not None else (model.dt if model.dt is not None else 0.01 * ms)
    time_step_s = float(to_magnitude(time_step, "second", name="dt"))
    if not (np.isfinite(time_step_s) and time_step_s > 0):
        raise ParameterError(f"dt = {time_step!s} must be a positive, finite time step (e.g. 0.01 ms); "
                             "leave it out for the model's recommended step.")
    if time_step_s >= duration_s:
        raise ParameterError(f"dt = {time_step_s * 1e3:g} ms is not smaller than the duration "
                             f"{duration_s * 1e3:g} ms; give a longer duration or a smaller dt.")
    if model.max_dt is not None and time_step_s > float(model.max_dt / second) * (1 + 1e-9):
        raise ParameterError(
            f"dt = {time_step_s * 1e3:g} ms is too large for model {model.name!r}: it is accurate "
            f"only up to max_dt = {float(model.max_dt / ms):g} ms, so every grid point "
            f"({levels.size} input levels) would be wrong. Use dt <= {float(model.max_dt / ms):g} ms "
            f"(recommended {float(model.dt / ms) if model.dt is not None else 0.01:g} ms)."
        )
    plan = plan_protocol(protocol, np.zeros_like(levels) if rate_swept else levels,
                         model.input_unit, duration, transient=transient, **protocol_options)
    if spike_record not in _SPIKE_RECORDS:
        raise ParameterError(
            f"spike_record must be one of {', '.join(_SPIKE_RECORDS)}; got {spike_record!r}.")
    window_count = plan.window_edges.size - 1
    window_length = float(plan.window_edges[1] - plan.window_edges[0])
    window_transient = (plan.transient if plan.transient is not None
                        else DEFAULT_TRANSIENT_FRACTION * window_length)
    record_mode = spike_record
    if record_mode == "sums":
        problem = _sums_window_problem(plan, window_length, time_step_s)
        if problem:
            import warnings

            warnings.warn(f"spike_record='sums' cannot be used here ({problem}); spike times are "
                          "kept instead, so memory grows with the number of spikes. Give a level "
                          "duration that is a whole number of time steps.", stacklevel=2)
            record_mode = "times"
    integration = method or model.method or "euler"
    stochastic_model = re.search(r"\bxi(_\w+)?\b", model.equations) is not None
    if (noise_kind is not None or stochastic_model) and integration not in _STOCHASTIC_METHODS:
        integration = "euler"
    elif integration in ("exact", "linear") and (plan.drive != "grid_input_level"
                                                  or synaptic is not None):
        # Brian2's exact integrator needs a drive constant in time; exponential Euler is exact
        # for linear equations with a drive that is constant within each time step
        integration = "exponential_euler"

    swept = parameter_grid(model, parameters)
    n_sigma, n_levels = sigmas.size, levels.size
    per_replica = n_levels if plan.levels_per_neuron else 1
    # an "outer" index runs over (parameter combination, noise level)
    n_outer = swept.size * n_sigma
    n_neurons = n_outer * per_replica * seeds
    # neurone index = (((combination * n_sigma + sigma) * per_replica) + level) * seeds + trial
    grid = np.indices((n_outer, per_replica, seeds)).reshape(3, -1)
    outer_of_neuron, level_of_neuron, trial_of_neuron = grid
    sigma_of_neuron, combination_of_neuron = outer_of_neuron % n_sigma, outer_of_neuron // n_sigma

    namespace = model.namespace(**swept.overrides)
    namespace.pop(model.input_variable, None)
    for name in swept.names:
        namespace.pop(name)
    channels = markov_scheme(model)
    if channels is not None:
        channel_counts = channels.check_numbers(model.namespace(**swept.overrides), swept)
        namespace.update(channels.namespace())
    # The constants of this call (protocol times and levels, transient, noise and synaptic
    # constants) are (shared, constant) variables of the group, not namespace constants: their
    # values are then no part of the generated code, so a compiled standalone program and
    # Brian2's Cython cache serve every value (the model's own parameters stay constants).
    shared = {}
    timed_arrays = {}
    for name, value in plan.namespace.items():
        if isinstance(value, TimedArray):
            namespace[name] = timed_arrays[name] = value
        else:
            shared[name] = value
    if noise_kind == "ou":
        tau_ms = float(to_magnitude(noise_tau if noise_tau is not None else DEFAULT_NOISE_TAU, "ms",
                                    name="noise_tau"))
        if not (np.isfinite(tau_ms) and tau_ms > 0):
            raise ParameterError(f"noise_tau = {tau_ms:g} ms must be a positive, finite time (e.g. 5 ms).")
        shared["grid_noise_tau"] = parse_unit("ms") * tau_ms
    synaptic_lines, synaptic_current = [], None
    if synaptic is not None:
        synaptic_lines, synaptic_current = synaptic.equations(
            model.input_unit, _voltage_variable(model, None))
        shared.update(synaptic.namespace(model.input_unit))
    equations = _build_equations(model, plan, noise_kind, synaptic_lines, synaptic_current)
    if swept.names or channels is not None:
        extra = swept.equation_lines(dimension_text)
        if channels is not None:
            extra.append(channels.equations())
        equations = equations + Equations("\n".join(extra))
    reset = model.reset
    if record_mode == "sums":
        equations = equations + Equations(_SUM_EQUATIONS)
        shared["grid_stat_transient"] = window_transient * second
        reset = _SUM_RESET if not reset else f"{reset}\n{_SUM_RESET}"
    if shared:
        equations = equations + Equations("\n".join(
            f"{name} : {dimension_text(get_dimensions(value))} (shared, constant)" for name, value in shared.items()))
    input_unit = parse_unit(model.input_unit)
    record_indices = [] if record_voltage is None else [int(index) for index in np.atleast_1d(record_voltage)]
    for index in record_indices:
        if not 0 <= index < n_levels:
            raise ParameterError(f"record_voltage index {index} is outside 0..{n_levels - 1}.")
    voltage_name = _voltage_variable(model, voltage_variable, equations) if record_indices else None
    if plan.levels_per_neuron:
        recorded = [((outer * per_replica) + index) * seeds for outer in range(n_outer) for index in record_indices]
    else:
        recorded = [outer * seeds for outer in range(n_outer)] if record_indices else []
    record_step = record_dt if record_dt is not None else time_step_s * second

    # the values of this call, set on the group (runtime) or given to the compiled program
    values = {"grid_input_level": (levels[level_of_neuron] if plan.levels_per_neuron and not rate_swept
                                   else np.zeros(n_neurons)) * input_unit}
    if synaptic is not None:
        values["grid_rate_exc"] = (levels[level_of_neuron] if rate_swept
                                   else np.full(n_neurons, synaptic_values["rate_exc"])) * parse_unit("Hz")
    if noise_kind is not None:
        values["grid_noise_sigma"] = sigmas[sigma_of_neuron] * parse_unit(noise_unit)
    if record_mode == "sums":
        values["grid_stat_window_start"] = plan.window_edges[0] * second
    for name, unit in zip(swept.names, swept.units):  # swept model parameters, one value per neurone
        swept_values = swept.combination_values(name)[combination_of_neuron]
        values[name] = swept_values * parse_unit(unit) if unit != "1" else swept_values
    values.update(shared)
    refractory = model.refractory if model.refractory is not None else False

    def construct(builder=None):
        """The network of the grid; values set now (runtime) or declared as inputs (standalone)."""
        group = NeuronGroup(
            n_neurons, equations, threshold=model.threshold, reset=reset, refractory=refractory,
            method=integration, namespace=namespace, dt=time_step_s * second, name="grid_neurones",
        )
        for name, value in model.initial.items():
            setattr(group, name, value)
        if builder is None:
            for name, value in values.items():
                setattr(group, name, value)
        else:
            for name in values:
                builder.input(group, name, name)
            for name, timed_array in timed_arrays.items():
                builder.timed_array(timed_array, name)
            builder.apply_inputs()  # what follows may use the inputs and random numbers
        if synaptic is not None:
            group.run_regularly(EVENT_CODE, when="start", order=-1, name="grid_poisson_events")
        if noise_kind == "ou":
            group.grid_noise = "grid_noise_sigma * randn()"
        if channels is not None:
            channels.attach(group, plan.duration)  # run_regularly operations contained in the group
        monitors = {}
        if record_mode == "times":
            monitors["spikes"] = SpikeMonitor(group, record=True, name="grid_spikes")
        elif window_count > 1:
            group.run_regularly(
                "grid_stat_window_start = t\n" + "\n".join(f"{name} = 0 * {name}" for name in _SUM_VARIABLES),
                dt=window_length * second, when="start", order=1, name="grid_stat_windows")
            monitors["sums"] = StateMonitor(group, list(_SUM_VARIABLES), record=True,
                                            dt=window_length * second, when="start", order=0,
                                            name="grid_stat_samples")
        if record_indices:
            monitors["voltage"] = StateMonitor(group, voltage_name, record=recorded, name="grid_voltage",
                                               dt=record_step)
        network = Network(group, *monitors.values())
        if builder is not None:
            for name in (*_SUM_VARIABLES, *equations.diff_eq_names):
                if record_mode == "sums" or name not in _SUM_VARIABLES:
                    builder.output(group, name, f"state.{name}")
            if "spikes" in monitors:
                builder.output(monitors["spikes"], "i", "spikes.i")
                builder.output(monitors["spikes"], "t", "spikes.t")
            for key, names in (("sums", _SUM_VARIABLES), ("voltage", (voltage_name,))):
                if key in monitors:
                    builder.output(monitors[key], "t", f"{key}.t")
                    for name in names:
                        builder.output(monitors[key], name, f"{key}.{name}")
        return group, monitors, network

    started = wallclock.perf_counter()
    selected = Brian2Device(target, device, threads=threads, elements=n_neurons)  # checks the names
    build_information = {}
    if selected.standalone:
        description = {
            "builder": "neurophase.micro.neurone.firing_curve", "version": 1, "model": model.name,
            "model_hash": model.content_hash, "equations": str(equations), "threshold": model.threshold,
            "reset": reset, "refractory": str(refractory), "method": integration,
            "namespace": {name: (("TimedArray", value.values.shape, str(value.dim), float(value.dt))
                                 if isinstance(value, TimedArray) else value) for name, value in namespace.items()},
            "dt": time_step_s, "n_neurons": n_neurons, "initial": model.initial, "inputs": sorted(values),
            "poisson_events": EVENT_CODE if synaptic is not None else None, "noise": noise_kind,
            "record_mode": record_mode, "windows": window_count,
            "window_length": window_length if window_count > 1 else None,
            "recorded": recorded, "record_dt": record_step if record_indices else None, "voltage": voltage_name,
            # Markov channels: their code, and the duration that times their initial draw
            "channels": ((channels.initial_code(), channels.update_code(), float(plan.duration))
                         if channels is not None else None),
        }

        def build(builder):
            network = construct(builder)[2]
            builder.run(network, plan.duration * second, namespace=namespace)

        program = standalone_program(description, build, threads=selected.threads, directory=standalone_directory)
        inputs = dict(values)
        inputs.update({name: Quantity(timed_array.values, dim=timed_array.dim)
                       for name, timed_array in timed_arrays.items()})
        run = program.run(inputs, plan.duration * second, seed=seed,
                          what=f"{model.name!r} {protocol} ({n_neurons} neurones)")
        arrays = run.values
        build_information = {"standalone_build": "compiled now" if program.compiled else "from the build cache",
                             "standalone_build_key": program.key, "openmp_threads": program.threads,
                             "standalone_run_seconds": round(run.wall_seconds, 3),
                             "standalone_run_cpu_seconds": (round(run.cpu_seconds, 3) if run.cpu_seconds is not None
                                                            else None)}
    else:
        with selected:
            brian2_seed(seed)
            group, monitors, network = construct()
            report = None
            if progress is not False:
                from neurophase.progress import brian2_report, is_terminal

                if progress or (progress is None and is_terminal()):
                    report = brian2_report(f"{model.name} {protocol} ({n_neurons} neurones)", enabled=True)
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
                run_network(network, plan.duration * second,
                            f"{model.name!r} {protocol} ({n_neurons} neurones)", progress=progress,
                            report=report, report_period=1 * second, namespace=namespace)
            arrays = _runtime_arrays(group, monitors, equations, voltage_name)
    if record_mode == "times":
        spike_record_data = (arrays["spikes.i"].astype(np.int64), arrays["spikes.t"].astype(float))
    else:
        spike_record_data = _read_sums(arrays, plan.window_edges, time_step_s)
    finite = np.ones(n_neurons, dtype=bool)
    for name in equations.diff_eq_names:
        finite &= np.isfinite(arrays[f"state.{name}"].astype(float))
    voltage = None
    if record_indices:
        voltage = (arrays["voltage.t"].astype(float), arrays[f"voltage.{voltage_name}"].T,
                   equations[voltage_name].dim)
    elapsed = wallclock.perf_counter() - started

    dataset = _assemble(level_unit, level_name, plan, levels, sigmas, noise_kind, noise_unit,
                        noise_is_array, seeds,
                        record_mode, spike_record_data, n_neurons, finite, window_transient, swept)
    if voltage is not None:
        dataset = _attach_voltage(dataset, voltage, record_indices, levels, level_unit, plan, sigmas,
                                  noise_is_array, voltage_name, swept)
    if channels is not None:
        for channel in channels.types:
            counts = channel_counts[channel.name].reshape(swept.shape)
            dataset.coords[f"channels_{channel.name}"] = (
                swept.dims, counts, {"units": "1", "long_name": f"number of {channel.name} channels"})
    dataset.attrs.update(provenance(
        model_name=model.name, model_hash=model.content_hash, model_citation=model.citation,
        model_source=model.source, protocol=protocol,
        parameter_overrides=(", ".join(f"{key}={value!s}" for key, value in swept.overrides.items())
                             if swept.overrides else None),
        parameter_grid=swept.describe(),
        channel_kinetics=channels.describe() if channels is not None else None,
        seed=seed, n_seeds=seeds,
        brian2_device=device, brian2_target=target if device == "runtime" else "cpp",
        dt=f"{time_step_s * 1e3:g} ms", integration_method=integration,
        duration=f"{float(to_magnitude(duration, 'ms')):g} ms",
        noise_kind=noise_kind or "none",
        noise_tau=(f"{float(to_magnitude(noise_tau or DEFAULT_NOISE_TAU, 'ms')):g} ms"
                   if noise_kind == "ou" else None),
        noise_sigma=(f"{sigmas[0]:g} {noise_unit}" if noise_kind and not noise_is_array else None),
        transient_rule=("first 20% of each counting window" if transient is None
                        else f"first {float(to_magnitude(transient, 'ms')):g} ms of each window"),
        spike_rule=f"threshold {model.threshold!r}, refractory {model.refractory!s}",
        synaptic_input=(synaptic.describe(model.input_unit, swept=rate_swept)
                        if synaptic is not None else None),
        spike_record=("running sums per window (no spike times kept)" if record_mode == "sums"
                      else "spike times (SpikeMonitor)"),
        wall_time_seconds=round(elapsed, 3), n_neurons=n_neurons, **build_information,
        **{f"protocol_{key}": value for key, value in plan.options.items()},
    ))
    if not finite.all():
        failed = _failed_labels(dataset, finite, levels, sigmas, seeds, per_replica, level_unit,
                                noise_unit, plan, swept)
        raise SimulationError(
            f"The simulation of {model.name!r} diverged (NaN or infinite state) at "
            f"{len(failed)} of {n_neurons} grid points: {', '.join(failed[:10])}"
            f"{' ...' if len(failed) > 10 else ''}. Reduce dt (now {time_step_s * 1e3:g} ms) or the "
            "input range; the finished points are in error.partial.",
            partial=dataset, failed_points=failed,
        )
    return dataset


def _sums_window_problem(plan, window_length, time_step):
    """Why the running sums cannot reproduce ``plan``'s windows (None when they can).

    The sums assume what every protocol of :mod:`~neurophase.micro.protocols` gives: windows of
    equal length, the last one ending with the run and, with several windows, a clock of period
    ``window_length`` ticking on the group's time steps at every window start.
    """
    edges = plan.window_edges
    lengths = np.diff(edges)
    if not np.allclose(lengths, window_length, rtol=1e-9, atol=0):
        return "analysis windows of unequal length"
    if not np.isclose(edges[-1], plan.duration, rtol=1e-9, atol=0):
        return "the last analysis window does not end with the run"
    if edges.size > 2:
        steps = window_length / time_step
        if abs(steps - round(steps)) > 1e-6 * steps:
            return (f"a level lasts {window_length * 1e3:g} ms, not a whole number of "
                    f"{time_step * 1e3:g} ms steps")
        starts = edges[:-1] / window_length
        if not np.allclose(starts, np.round(starts), rtol=0, atol=1e-9):
            return "window starts are not multiples of the window length"
    return None


def _runtime_arrays(group, monitors, equations, voltage_name):
    """The arrays of a runtime run under the names of the standalone outputs (monitor samples as
    ``(samples, recorded neurones)``, as the standalone program writes them)."""
    arrays = {f"state.{name}": np.asarray(getattr(group, name + "_")[:])
              for name in (*_SUM_VARIABLES, *equations.diff_eq_names) if name in group.variables}
    if "spikes" in monitors:
        arrays["spikes.i"] = np.asarray(monitors["spikes"].i[:])
        arrays["spikes.t"] = np.asarray(monitors["spikes"].t_[:])
    for key, names in (("sums", _SUM_VARIABLES), ("voltage", (voltage_name,))):
        if key in monitors:
            arrays[f"{key}.t"] = np.asarray(monitors[key].t_[:])
            for name in names:
                arrays[f"{key}.{name}"] = np.asarray(getattr(monitors[key], name + "_")[:]).T
    return arrays


def _read_sums(arrays, edges, time_step):
    """The running sums of every (neurone, window), as arrays of shape (neurones, windows).

    With one window the sums are the group's final state; with several, window ``j`` is the
    StateMonitor sample at its end ``edges[j + 1]`` (taken before the next window resets
    them) and the last window is the final state.
    """
    final = {name: np.asarray(arrays[f"state.{name}"], dtype=float)[:, None] for name in _SUM_VARIABLES}
    if "sums.t" not in arrays:
        return final
    sample_times = np.asarray(arrays["sums.t"], dtype=float)
    columns = []
    for end in edges[1:-1]:
        match = np.flatnonzero(np.abs(sample_times - end) < 0.5 * time_step)
        if match.size != 1:
            raise SimulationError(
                f"Internal error: no unique sample of the spike sums at the window end {end:g} s "
                f"(samples at {sample_times.tolist()}); run again with spike_record='times'.")
        columns.append(int(match[0]))
    return {name: np.concatenate([np.asarray(arrays[f"sums.{name}"], dtype=float).T[:, columns], final[name]],
                                 axis=1)
            for name in _SUM_VARIABLES}


def _window_statistics(plan, record_mode, record_data, n_neurons, window_transient):
    """Statistics of every (neurone, window), flattened as ``neurone * n_windows + window``."""
    edges = plan.window_edges
    n_windows = edges.size - 1
    starts = np.tile(edges[:-1], n_neurons)
    stops = np.tile(edges[1:], n_neurons)
    if record_mode == "times":
        spike_indices, spike_times = record_data
        window = np.searchsorted(edges, spike_times, side="right") - 1
        valid = (window >= 0) & (window < n_windows)
        virtual = spike_indices[valid] * n_windows + window[valid]
        transient = None if plan.transient is None else np.full(starts.size, plan.transient)
        return spike_statistics(virtual, spike_times[valid], n_neurons * n_windows, starts,
                                stops, transient=transient, time_unit="second")
    sums = {name: values.ravel() for name, values in record_data.items()}
    steady_start, steady_stop = steady_state_window(starts, stops, window_transient)
    count, steady_count = sums["grid_stat_count"], sums["grid_stat_steady_count"]
    return statistics_from_sums(
        count, np.where(count > 0, sums["grid_stat_first"], np.nan), steady_count,
        np.where(steady_count > 0, sums["grid_stat_steady_first"], np.nan),
        np.where(steady_count > 0, sums["grid_stat_steady_last"], np.nan),
        sums["grid_stat_isi_square"], starts, steady_start, steady_stop)


def _assemble(level_unit, level_name, plan, levels, sigmas, noise_kind, noise_unit, noise_is_array, seeds,
              record_mode, record_data, n_neurons, finite, window_transient, swept):
    """Spike trains or running sums -> schema Dataset (vectorised over neurones and windows)."""
    n_windows = plan.window_edges.size - 1
    statistics = _window_statistics(plan, record_mode, record_data, n_neurons, window_transient)
    n_sigma, n_levels = sigmas.size, levels.size
    outer_shape, outer_dims = swept.shape + (n_sigma,), swept.dims + ("param_sigma",)
    broken = np.repeat(~finite, n_windows)
    variables = {}
    for name in ("spike_count", "steady_spike_count", "rate", "first_spike_latency", "cv_isi"):
        values = statistics[name].values.astype(float)
        values[broken] = np.nan
        if plan.levels_per_neuron:
            # neurone = (parameters..., sigma, level, trial), one window each
            array = values.reshape(outer_shape + (n_levels, seeds))
            dims = outer_dims + ("input", "trial")
        else:
            # neurone = (parameters..., sigma, trial), windows = (direction, position along the branch)
            array = values.reshape((-1, seeds, 2, n_levels))
            ordered = np.empty_like(array)
            ordered[:, :, 0, :] = array[:, :, 0, :]
            ordered[:, :, 1, :] = array[:, :, 1, ::-1]
            array = ordered.transpose(2, 0, 3, 1).reshape((2,) + outer_shape + (n_levels, seeds))
            dims = ("direction",) + outer_dims + ("input", "trial")
        variables[name] = xr.DataArray(array, dims=dims, attrs=dict(statistics[name].attrs))
    coords = {
        "input": quantity_coordinate("input", levels, level_unit, long_name=level_name),
        "trial": ("trial", np.arange(seeds)),
    }
    if noise_kind is not None:
        coords["param_sigma"] = quantity_coordinate("param_sigma", sigmas, noise_unit,
                                                    long_name=f"{noise_kind} current-noise amplitude")
    if not plan.levels_per_neuron:
        coords["direction"] = ("direction", ["up", "down"])
    coords.update(swept.coordinates())
    dataset = xr.Dataset(variables, coords=coords)
    if not noise_is_array:
        dataset = dataset.isel(param_sigma=0, drop=noise_kind is None)
    return add_trial_statistics(dataset)


def add_trial_statistics(dataset: xr.Dataset) -> xr.Dataset:
    """``p_fire`` and ``fano_factor`` over ``trial`` from ``spike_count`` (also used to merge
    chunks split along ``trial``, :mod:`neurophase.micro.chunks`).

    The estimators are :func:`neurophase.mapping.firing.p_fire` and
    :func:`neurophase.mapping.firing.fano_factor` (definitions and sources there).

    Parameters
    ----------
    dataset : xarray.Dataset
        Has ``spike_count`` with a ``trial`` dimension.

    Returns
    -------
    xarray.Dataset
        ``dataset`` itself, with ``p_fire`` (NaN where a trial failed) and ``fano_factor``
        (units "1") added.
    """
    dataset["p_fire"] = p_fire(dataset["spike_count"], dim="trial")
    dataset["fano_factor"] = fano_factor(dataset["spike_count"], dim="trial")
    dataset["p_fire"] = dataset["p_fire"].where(dataset["spike_count"].notnull().all("trial"))
    dataset["p_fire"].attrs = {"units": "1", "long_name": "fraction of trials with at least one spike"}
    return dataset


def _attach_voltage(dataset, voltage, record_indices, levels, level_unit, plan, sigmas, noise_is_array,
                    voltage_name, swept):
    from brian2 import volt

    times, values, dimension = voltage
    if dimension is volt.dim:
        name, unit, scale = "voltage", "mV", 1e3
        long_name = f"membrane variable {voltage_name}, trial 0"
    else:
        name, long_name = voltage_name, f"recorded variable {voltage_name}, trial 0"
        unit, scale = ("1", 1.0) if dimension.is_dimensionless else (dimension_text(dimension), 1.0)
        for candidate in () if dimension.is_dimensionless else _TRACE_UNITS:
            if parse_unit(candidate).dim is dimension:
                unit, scale = candidate, 1.0 / float(np.asarray(parse_unit(candidate)))
                break
    outer_shape, outer_dims = swept.shape + (sigmas.size,), swept.dims + ("param_sigma",)
    if plan.levels_per_neuron:
        array = values.reshape(outer_shape + (len(record_indices), -1))
        dims = outer_dims + ("recorded_input", "time")
        coords = {"recorded_input": quantity_coordinate(
            "recorded_input", levels[record_indices], level_unit,
            long_name="input level of the recorded trace")}
    else:
        array = values.reshape(outer_shape + (-1,))
        dims = outer_dims + ("time",)
        coords = {}
    coords["time"] = quantity_coordinate("time", times * 1e3, "ms")
    trace = xr.DataArray(array * scale, dims=dims, coords=coords,
                         attrs={"units": unit, "long_name": long_name})
    if not noise_is_array:
        trace = trace.isel(param_sigma=0, drop=True)
    dataset[name] = trace
    return dataset


def _failed_labels(dataset, finite, levels, sigmas, seeds, per_replica, level_unit, noise_unit, plan,
                   swept):
    labels = []
    for neuron in np.flatnonzero(~finite):
        outer_index, rest = divmod(int(neuron), per_replica * seeds)
        combination, sigma_index = divmod(outer_index, sigmas.size)
        level_index, trial = divmod(rest, seeds)
        if plan.levels_per_neuron:
            label = f"input={levels[level_index]:g} {level_unit}"
        else:
            label = f"{plan.name} run"
        if noise_unit is not None:
            label += f", sigma={sigmas[sigma_index]:g} {noise_unit}"
        if swept.names:
            label += f", {swept.label(combination)}"
        labels.append(f"{label}, trial {trial}")
    return labels
