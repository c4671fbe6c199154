"""Recurrently coupled populations of any spiking model: many independent populations, ONE network.

Every grid point (coupling ``w``, drive, initial state, seed) is a population of ``size``
neurones of the same model; all of them are rows of a single :class:`brian2.NeuronGroup` and
all their recurrent synapses are one :class:`brian2.Synapses` object, so a whole phase diagram
is one build, one compile and one run (no Python loop around Brian2).

Connectivity
------------
Fixed in-degree: every neurone receives exactly ``indegree`` synapses from distinct neurones of
its own population, drawn uniformly without replacement (no autapses unless ``autapses=True``),
built with numpy and handed to Brian2 as ``i``/``j`` arrays. The weight of a synapse is the
coupling of its population, stored once per neurone (``pop_weight``), not per synapse. All
synapses have the transmission delay ``delay``.

Synapses
--------
``"delta"``
    ``v_post += w`` (``w`` in volts) on the model's membrane variable; inputs arriving during an
    absolute refractory period (``(unless refractory)`` equations) are discarded, as in Brunel
    (2000) and NEST's ``iaf_psc_delta``.
``"current"``
    Exponential current: ``dI_syn/dt = -I_syn / tau_s``, ``I_syn += w`` (``w`` in the model's
    input unit), added to the input.
``"conductance"``
    Exponential conductance: ``dg_syn/dt = -g_syn / tau_s``, ``g_syn += w`` (``w`` in input unit
    per volt, e.g. ``mS/cm**2`` for a current density), current ``g_syn (E_syn - v)``.

External drive
--------------
A constant (or ramped) input in the model's input unit plus Gaussian white noise
``sigma xi(t)`` (``noise`` in input unit x sqrt(time), as in
:func:`neurophase.micro.neurone.firing_curve`), and optionally Poisson input: events at
``poisson_rate`` of weight ``poisson_weight`` through the same kind of synapse as the recurrent
ones (drawn each step as ``poisson(rate dt)`` events, exact for a Poisson process).

Ramps and initial states
------------------------
``ramp=(low, high)`` (per coupling) replaces the constant drive by a triangle: ``low`` for
``ramp_hold``, then linearly up to ``high`` at mid-run and back down to ``low`` at the end, the
slow up/down protocol for hysteresis. ``initial="high"`` adds ``kick`` to the drive during the
first ``kick_duration`` so that a bistable population starts on its upper branch.

Recording
---------
Memory does not grow with the number of spikes: every spike adds one to a counter neurone of its
population (a Synapses ``on_pre: count += 1`` into a group with one neurone per population), and
a StateMonitor samples the counters every ``bin_width``; the binned population rate
``A_k = (count_{k+1} - count_k) / (size bin_width)`` is the output (its size is the number of
bins, which the output holds anyway).

Functions
---------
simulate_populations
    The network run -> Dataset (``rate`` over ``population`` x ``time``, per-population
    settings as coordinates, ``mean_rate`` over the stationary window).
fixed_indegree
    The numpy connectivity (sources and targets).
input_capacitance
    ``1 / (d(dv/dt)/d input)``: the charge (per area) that moves the membrane by one volt, used
    to express a delta synapse as a current.
"""

from __future__ import annotations

import re
import time as wallclock
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from neurophase.docstrings import COMMON, template
from neurophase.errors import ModelFileError, ParameterError, SimulationError, UnitMismatchError
from neurophase.interrupts import run_network
from neurophase.mapping.population import membrane_capacitance
from neurophase.micro.devices import Brian2Device
from neurophase.micro.neurone import add_input_noise, resolve_model
from neurophase.micro.parallel_synapses import source_ordered, target_partitioned_codeobject
from neurophase.schema import provenance, quantity_coordinate, quantity_variable
from neurophase.units import dimension_text, parse_unit, to_magnitude

if TYPE_CHECKING:
    from brian2.units.fundamentalunits import Quantity

    from neurophase.micro.modelfile import Model

__all__ = ["simulate_populations", "measure_transfer", "fixed_indegree", "input_capacitance", "SYNAPSE_KINDS",
           "coupling_unit", "membrane_variable"]

SYNAPSE_KINDS = ("delta", "current", "conductance")
_STOCHASTIC_METHODS = ("euler", "heun", "milstein")

_doc = template(parameters_model="Parameters\n----------\n" + COMMON["model"])


@_doc
def membrane_variable(model: Model) -> str:
    """The model's membrane potential: its first differential equation in volts.

    %(parameters_model)s

    Returns
    -------
    str
        The variable's name.

    Raises
    ------
    ModelFileError
        No differential equation in volts.
    """
    from brian2 import Equations, volt

    equations = Equations(model.equations)
    for name in equations.diff_eq_names:
        if equations[name].dim is volt.dim:
            return name
    raise ModelFileError(f"Model {model.name!r} has no membrane potential (no differential "
                         "equation in volts), so it cannot receive synapses.")


def coupling_unit(model: Model, synapse: str) -> str:
    """The unit string a coupling must have for ``synapse`` on ``model``.

    Parameters
    ----------
    model : Model
        A loaded model (its ``input_unit`` matters).
    synapse : {"delta", "current", "conductance"}
        The synapse kind.

    Returns
    -------
    str
        ``"mV"`` (delta), the input unit (current), the input unit per volt (conductance).

    Raises
    ------
    ParameterError
        An unknown synapse kind.
    """
    if synapse == "delta":
        return "mV"
    if synapse == "current":
        return model.input_unit
    if synapse == "conductance":
        return {"pA": "nS", "nA": "nS", "uA/cm**2": "mS/cm**2"}.get(model.input_unit,
                                                                   f"({model.input_unit})/volt")
    raise ParameterError(f"synapse must be one of {', '.join(SYNAPSE_KINDS)}; got {synapse!r}.")


def input_capacitance(model: str | Path | Model, parameters: dict[str, Any] | None = None) -> Quantity:
    """``1 / (d(dv/dt)/d input)`` of ``model`` (a library name, file or Model), as a Quantity.

    See :func:`neurophase.mapping.population.membrane_capacitance`.

    Parameters
    ----------
    model : str, pathlib.Path or Model
        Library model name, model file or Model.
    parameters : dict, optional
        Overrides of model parameters (units checked).

    Returns
    -------
    Quantity (input unit x time / voltage: capacitance, or capacitance per area)
        The capacitance seen by the input.

    Examples
    --------
    >>> print(input_capacitance("leaky_integrate_and_fire"))
    200. pF
    """
    return membrane_capacitance(resolve_model(model), parameters)


def fixed_indegree(size: int, indegree: int, populations: int, seed: int = 0, autapses: bool = False,
                   chunk: int = 512, source_start: int = 0, source_size: int | None = None,
                   stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sources and targets (global neurone indices) of fixed in-degree connectivity.

    Population ``p`` occupies neurones ``p*stride ... p*stride + size - 1`` (``stride`` defaults
    to ``size``). Every one of its ``size`` neurones receives ``indegree`` synapses from distinct
    neurones of the source block ``p*stride + source_start ... + source_size - 1`` of the same
    population (default: the population itself), drawn uniformly without replacement as the
    ``indegree`` smallest of i.i.d. uniform keys (an exchangeable draw: every subset is equally
    likely); a neurone is never its own source unless ``autapses``.

    Parameters
    ----------
    size : int
        Target neurones per population.
    indegree : int
        Synapses per target neurone.
    populations : int
        Number of populations.
    seed : int
        Seed of the draw (numpy ``default_rng``).
    autapses : bool
        Allow a neurone to be its own source.
    chunk : int
        Target neurones drawn per batch (memory only; the result does not depend on it).
    source_start : int
        First source neurone, relative to the population's first neurone.
    source_size : int, optional
        Number of source neurones (default ``size``).
    stride : int, optional
        Neurones between the starts of two populations (default ``size``).

    Returns
    -------
    sources, targets : numpy.ndarray of int64
        Synapse ``s`` goes from ``sources[s]`` to ``targets[s]``; targets in increasing order.
    """
    size, indegree, populations = int(size), int(indegree), int(populations)
    source_size = size if source_size is None else int(source_size)
    stride = size if stride is None else int(stride)
    source_start = int(source_start)
    overlap = source_start < size and source_start + source_size > 0
    available = source_size if (autapses or not overlap) else source_size - 1
    if indegree > available:
        raise ParameterError(
            f"indegree K = {indegree} exceeds the {available} possible sources (a block of "
            f"{source_size} neurones{'' if autapses or not overlap else ', the neurone itself excluded'}); "
            f"use K <= {available} or a larger population.")
    if indegree < 0:
        raise ParameterError(f"indegree must be >= 0; got {indegree}.")
    rng = np.random.default_rng(seed)
    sources = np.empty(size * populations * indegree, dtype=np.int64)
    targets = np.empty(size * populations * indegree, dtype=np.int64)
    if indegree == 0:
        return sources, targets
    position = 0
    for population in range(populations):
        offset = population * stride
        for start in range(0, size, chunk):
            rows = np.arange(start, min(start + chunk, size))
            keys = rng.random((rows.size, source_size))
            if not autapses:
                own = rows - source_start
                inside = (own >= 0) & (own < source_size)
                keys[np.flatnonzero(inside), own[inside]] = 2.0
            if indegree < source_size:
                chosen = np.argpartition(keys, indegree - 1, axis=1)[:, :indegree]
            else:
                chosen = np.broadcast_to(np.arange(source_size), (rows.size, source_size))
            count = chosen.size
            sources[position:position + count] = (chosen + offset + source_start).ravel()
            targets[position:position + count] = np.repeat(rows + offset, indegree)
            position += count
    return sources, targets


def _magnitudes(values, unit, name):
    array = np.atleast_1d(to_magnitude(values, unit, name=name)).astype(float)
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)):
        raise ParameterError(f"{name} must be a non-empty one-dimensional grid of finite values "
                             f"(in {unit}); got {array.size} values.")
    return array


def simulate_populations(model: str | Path | Model, couplings: Quantity, drives: Quantity | None = None, *,
                         size: int = 1000, indegree: int = 100, synapse: str = "delta",
                         synaptic_tau: Quantity | str | None = None, reversal: Quantity | str | None = None,
                         delay: Quantity | str = "1.5 ms", noise: Quantity | None = None,
                         poisson_rate: Quantity | None = None, poisson_weight: Quantity | None = None,
                         seeds: int = 1, duration: Quantity | str = "2 s", transient: Quantity | str = "0.5 s",
                         bin_width: Quantity | str = "5 ms", paired: bool = False,
                         initial: Sequence[str] = ("low",), kick: Quantity | None = None,
                         kick_duration: Quantity | str = "100 ms", ramp: tuple[Quantity, Quantity] | None = None,
                         ramp_hold: Quantity | str = "0.5 s", dt: Quantity | None = None, method: str | None = None,
                         target: str = "cython", device: str = "runtime", seed: int = 0,
                         parameters: dict[str, Any] | None = None, autapses: bool = False,
                         inhibitory_size: int = 0, inhibitory_indegree: int = 0, inhibition: float = 0.0,
                         progress: bool | None = None, standalone_directory: str | Path | None = None) -> xr.Dataset:
    """Simulate recurrently coupled populations, one per grid point, in ONE Brian2 network.

    Parameters
    ----------
    model : str, pathlib.Path or Model
        Library model name, model file or :class:`~neurophase.micro.modelfile.Model`.
    couplings : Quantity (voltage, input dimension, or input per voltage)
        Synaptic weights ``w`` (``mV`` for ``"delta"``, the input unit for ``"current"``, input
        unit per volt for ``"conductance"``).
    drives : Quantity (the model's input dimension), optional
        Constant external drives in the model's input unit (ignored with ``ramp``).
    size, indegree : int
        Neurones per population ``N_pop`` and recurrent inputs per neurone ``K``.
    synapse : {"delta", "current", "conductance"}
        Synapse model (module docstring).
    synaptic_tau, reversal : Quantity (time), Quantity (voltage), optional
        Decay time (current and conductance synapses) and reversal potential (conductance).
    delay : Quantity (time) or str
        Transmission delay of every synapse.
    noise : Quantity (input dimension x time**0.5), optional
        White-noise amplitude in input unit x sqrt(second) (e.g. ``pA * second**0.5``).
    poisson_rate, poisson_weight : Quantity (frequency), Quantity (as ``couplings``), optional
        External Poisson input through the same synapse kind (rate per neurone, weight).
    seeds : int
        Independent populations (connectivity and noise) per grid point.
    duration, transient, bin_width : Quantity (time) or str
        Run time; start excluded from ``mean_rate``; width of the population-rate bins.
    paired : bool
        ``couplings`` and ``drives`` are zipped (equal lengths) instead of crossed.
    initial : sequence of {"low", "high"}
        Initial states; ``"high"`` adds ``kick`` to the drive for ``kick_duration``.
    kick : Quantity (the model's input dimension), optional
        Extra drive that starts an ``initial="high"`` population on its upper branch (needed
        then).
    kick_duration : Quantity (time) or str
        How long the kick lasts.
    ramp : (Quantity, Quantity) (input dimension), optional
        ``(low, high)`` drives of a triangular up-down ramp, each scalar or one per coupling.
    ramp_hold : Quantity (time) or str
        Time at ``low`` before the ramp starts.
    dt : Quantity (time), optional
        As in :func:`neurophase.micro.neurone.firing_curve`.
    method, target, device : str, optional
        As in :func:`neurophase.micro.neurone.firing_curve`.
    seed : int
        Seed of the connectivity, the initial states and Brian2's random numbers.
    parameters : dict, optional
        Overrides of model parameters (units checked).
    progress : bool, optional
        Progress bar (runtime device); None shows it on a terminal only.
    standalone_directory : str or pathlib.Path, optional
        Project folder of the standalone device (default: the persistent project folder of this
        network's shape in the build cache, so that a repeated network is not compiled again;
        see :class:`~neurophase.micro.devices.Brian2Device`).
    autapses : bool
        Allow a neurone to be its own input.
    inhibitory_size, inhibitory_indegree, inhibition : int, int, float
        An inhibitory part of every population (Brunel 2000): ``inhibitory_size`` more neurones
        of the same model; every neurone (excitatory or inhibitory) then also receives
        ``inhibitory_indegree`` synapses from the inhibitory part, of weight ``-inhibition x w``;
        its ``indegree`` excitatory synapses come from the ``size`` excitatory neurones. Rates
        are per neurone of the whole population.

    Returns
    -------
    xarray.Dataset
        ``rate`` (population, time) in Hz: the binned population activity; ``drive_at``
        (population, time): the external drive at each bin centre; ``mean_rate`` (population):
        the mean over ``time >= transient``; coordinates ``coupling``, ``drive``, ``initial``,
        ``seed`` per population; provenance in attrs.

    Raises
    ------
    ParameterError
        ``indegree > size - 1``, negative noise, an empty grid, a bad synapse kind, ...
    UnitMismatchError
        A coupling unit that does not match the synapse, a drive not in the input unit.
    SimulationError
        A population diverged.
    """
    from brian2 import Equations, Network, NeuronGroup, StateMonitor, Synapses, second
    from brian2 import seed as brian2_seed

    model = resolve_model(model)
    if model.kind != "spiking" or not model.threshold or not model.input_variable:
        raise ModelFileError(f"Model {model.name!r} is not a spiking model with a threshold and an "
                             "input variable; populations need one.")
    if synapse not in SYNAPSE_KINDS:
        raise ParameterError(f"synapse must be one of {', '.join(SYNAPSE_KINDS)}; got {synapse!r}.")
    w_unit = coupling_unit(model, synapse)
    try:
        weights = _magnitudes(couplings, w_unit, "couplings")
    except UnitMismatchError as error:
        raise UnitMismatchError(
            f"A {synapse} synapse takes couplings in {w_unit} (the model's input is in "
            f"{model.input_unit}); {error}") from None
    size, indegree, seeds = int(size), int(indegree), int(seeds)
    inhibitory_size, inhibitory_indegree = int(inhibitory_size), int(inhibitory_indegree)
    inhibition = float(inhibition)
    if inhibitory_size < 0 or inhibitory_indegree < 0 or inhibition < 0:
        raise ParameterError("inhibitory_size, inhibitory_indegree and inhibition must be >= 0.")
    if inhibitory_indegree > max(inhibitory_size - 1, 0):
        raise ParameterError(
            f"inhibitory_indegree {inhibitory_indegree} exceeds the {max(inhibitory_size - 1, 0)} "
            "possible inhibitory sources; lower it or raise inhibitory_size.")
    if size < 2:
        raise ParameterError(f"size (neurones per population) must be at least 2; got {size}.")
    if indegree > (size if autapses else size - 1) or indegree < 0:
        raise ParameterError(
            f"indegree K = {indegree} must lie between 0 and the {size - (0 if autapses else 1)} "
            f"possible sources of a population of size {size}; lower K or raise the size.")
    if seeds < 1:
        raise ParameterError(f"seeds must be at least 1; got {seeds}.")
    initial = [initial] if isinstance(initial, str) else list(initial)
    if not initial or any(state not in ("low", "high") for state in initial):
        raise ParameterError(f"initial must list 'low' and/or 'high'; got {initial!r}.")
    if "high" in initial and kick is None:
        raise ParameterError("initial='high' needs kick, the extra drive (in the input unit) "
                             "applied for kick_duration to start on the upper branch.")
    input_unit = model.input_unit
    if ramp is not None:
        low, high = ramp
        ramp_low = np.broadcast_to(_magnitudes(low, input_unit, "ramp low"), weights.shape)
        ramp_high = np.broadcast_to(_magnitudes(high, input_unit, "ramp high"), weights.shape)
        if np.any(ramp_high <= ramp_low):
            raise ParameterError("A ramp needs high > low.")
        levels = ramp_low.copy()
        paired = True
    else:
        if drives is None:
            raise ParameterError("Give drives (a grid of constant drives) or a ramp.")
        try:
            levels = _magnitudes(drives, input_unit, "drives")
        except UnitMismatchError as error:
            raise UnitMismatchError(f"drives must be in the model's input unit {input_unit}; "
                                    f"{error}") from None
    if paired and ramp is None and levels.size != weights.size:
        raise ParameterError(f"paired=True needs as many drives as couplings "
                             f"({levels.size} != {weights.size}).")
    white_unit = f"{input_unit}*second**0.5"
    sigma = 0.0
    if noise is not None:
        try:
            sigma = float(to_magnitude(noise, white_unit, name="noise"))
        except UnitMismatchError as error:
            raise UnitMismatchError(f"noise is white-noise amplitude in {white_unit} (e.g. "
                                    f"`5 * pA * second**0.5`); {error}") from None
        if sigma < 0 or not np.isfinite(sigma):
            raise ParameterError(f"noise must be a finite, non-negative amplitude; got {sigma:g} "
                                 f"{white_unit}.")
    if (poisson_rate is None) != (poisson_weight is None):
        raise ParameterError("Give both poisson_rate and poisson_weight, or neither.")
    external_rate = external_weight = 0.0
    if poisson_rate is not None:
        external_rate = float(to_magnitude(poisson_rate, "Hz", name="poisson_rate"))
        external_weight = float(to_magnitude(poisson_weight, w_unit, name="poisson_weight"))
        if external_rate < 0:
            raise ParameterError("poisson_rate must not be negative.")
    timing = {}
    for name, value in (("duration", duration), ("transient", transient), ("bin_width", bin_width),
                        ("delay", delay), ("kick_duration", kick_duration), ("ramp_hold", ramp_hold)):
        timing[name] = float(to_magnitude(value, "second", name=name))
    if timing["duration"] <= 0 or timing["bin_width"] <= 0 or timing["delay"] < 0:
        raise ParameterError("duration and bin_width must be positive and delay >= 0.")
    if not 0 <= timing["transient"] < timing["duration"]:
        raise ParameterError("transient must lie in [0, duration).")
    time_step = dt if dt is not None else (model.dt if model.dt is not None else 0.1 * 1e-3 * second)
    time_step_s = float(to_magnitude(time_step, "second", name="dt"))
    if model.max_dt is not None and time_step_s > float(model.max_dt / second) * (1 + 1e-9):
        raise ParameterError(f"dt = {time_step_s * 1e3:g} ms exceeds model {model.name!r}'s max_dt "
                             f"{float(model.max_dt / second) * 1e3:g} ms; use a smaller dt.")
    steps_per_bin = timing["bin_width"] / time_step_s
    if abs(steps_per_bin - round(steps_per_bin)) > 1e-6 * steps_per_bin:
        raise ParameterError("bin_width must be a whole number of time steps.")
    tau_s = None
    if synapse in ("current", "conductance"):
        if synaptic_tau is None:
            raise ParameterError(f"A {synapse} synapse needs synaptic_tau (e.g. '2 ms').")
        tau_s = float(to_magnitude(synaptic_tau, "second", name="synaptic_tau"))
        if tau_s <= 0:
            raise ParameterError("synaptic_tau must be positive.")
    reversal_v = None
    if synapse == "conductance":
        if reversal is None:
            raise ParameterError("A conductance synapse needs reversal (e.g. '0 mV').")
        reversal_v = float(to_magnitude(reversal, "volt", name="reversal"))
    kick_value = 0.0 if kick is None else float(to_magnitude(kick, input_unit, name="kick"))

    # grid of populations: (point, initial, seed), point = (coupling, drive) crossed or paired
    if paired:
        point_w, point_mu = weights, levels
        point_low = ramp_low if ramp is not None else None
        point_high = ramp_high if ramp is not None else None
    else:
        point_w = np.repeat(weights, levels.size)
        point_mu = np.tile(levels, weights.size)
        point_low = point_high = None
    grid = np.indices((point_w.size, len(initial), seeds)).reshape(3, -1)
    point_of, initial_of, seed_of = grid
    n_populations = point_of.size
    stride = size + inhibitory_size
    n_neurons = n_populations * stride
    population_of_neuron = np.repeat(np.arange(n_populations), stride)

    voltage = membrane_variable(model)
    equations = Equations(model.equations)
    input_name = model.input_variable
    unit_text = dimension_text(parse_unit(input_unit).dim)
    kept = [equation for name, equation in equations.items() if name != input_name]
    if sigma > 0:
        kept = add_input_noise(kept, input_name, "pop_noise_sigma * xi_pop")
    lines = [f"pop_level : {unit_text} (constant)", f"pop_high : {unit_text} (constant)",
             f"pop_kick : {unit_text} (constant)", "pop_index : integer (constant)"]
    if ramp is not None:
        drive_code = ("pop_level + (pop_high - pop_level) * clip(1 - abs((t - pop_ramp_hold) / "
                      "pop_ramp_half - 1), 0, 1)")
    else:
        drive_code = "pop_level"
    if "high" in initial:
        drive_code += " + pop_kick * int(t < pop_kick_end)"
    w_dim = parse_unit(w_unit).dim
    if synapse == "delta":
        lines.append(f"pop_weight : {dimension_text(w_dim)} (constant)")
    elif synapse == "current":
        lines += [f"pop_weight : {unit_text} (constant)",
                  f"dpop_I_syn/dt = -pop_I_syn / pop_tau_s : {unit_text}"]
        drive_code += " + pop_I_syn"
    else:
        lines += [f"pop_weight : {dimension_text(w_dim)} (constant)",
                  f"dpop_g_syn/dt = -pop_g_syn / pop_tau_s : {dimension_text(w_dim)}"]
        drive_code += f" + pop_g_syn * (pop_E_syn - {voltage})"
    if sigma > 0:
        lines.append(f"pop_noise_sigma : {dimension_text(parse_unit(white_unit).dim)} (shared, constant)")
    lines.append(f"{input_name} = {drive_code} : {unit_text}")
    full_equations = Equations(kept) + Equations("\n".join(lines))
    refractory_gate = "(unless refractory)" in model.equations.replace("  ", " ")
    if synapse == "delta":
        on_pre = (f"{voltage}_post += pop_weight_post * int(not_refractory_post)" if refractory_gate
                  else f"{voltage}_post += pop_weight_post")
        external_code = (f"{voltage} += pop_external_weight * poisson(pop_external_rate * dt)"
                         + (" * int(not_refractory)" if refractory_gate else ""))
    elif synapse == "current":
        on_pre = "pop_I_syn_post += pop_weight_post"
        external_code = "pop_I_syn += pop_external_weight * poisson(pop_external_rate * dt)"
    else:
        on_pre = "pop_g_syn_post += pop_weight_post"
        external_code = "pop_g_syn += pop_external_weight * poisson(pop_external_rate * dt)"

    integration = method or model.method or "euler"
    stochastic = sigma > 0 or re.search(r"\bxi(_\w+)?\b", model.equations) is not None
    if stochastic and integration not in _STOCHASTIC_METHODS:
        integration = "euler"
    elif integration in ("exact", "linear") and (ramp is not None or "high" in initial
                                                 or synapse != "delta"):
        integration = "exponential_euler"
    namespace = model.namespace(**(parameters or {}))
    namespace.pop(input_name, None)
    namespace.update({
        "pop_kick_end": timing["kick_duration"] * second,
        "pop_ramp_hold": timing["ramp_hold"] * second,
        "pop_ramp_half": max(0.5 * (timing["duration"] - timing["ramp_hold"]), 1e-9) * second,
        "pop_external_rate": external_rate * parse_unit("Hz"),
        "pop_external_weight": external_weight * parse_unit(w_unit),
        "pop_inhibition": inhibition,
    })
    if tau_s is not None:
        namespace["pop_tau_s"] = tau_s * second
    if reversal_v is not None:
        namespace["pop_E_syn"] = reversal_v * parse_unit("volt")

    build_started = wallclock.perf_counter()
    sources, targets = fixed_indegree(stride, indegree, n_populations, seed=seed, autapses=autapses,
                                      source_start=0, source_size=size)
    inhibitory_sources = inhibitory_targets = None
    if inhibitory_size and inhibitory_indegree:
        inhibitory_sources, inhibitory_targets = fixed_indegree(
            stride, inhibitory_indegree, n_populations, seed=seed + 104729, autapses=autapses,
            source_start=size, source_size=inhibitory_size)
    connectivity_seconds = wallclock.perf_counter() - build_started
    started = wallclock.perf_counter()
    unit_in = parse_unit(input_unit)
    # a repeated network of the same shape reuses its compiled project (Brian2Device, project=)
    project = {"builder": "populations/1", "model": model.content_hash, "parameters": _canonical_parameters(parameters),
               "synapse": synapse, "method": integration, "neurones": n_neurons, "populations": n_populations,
               "indegree": indegree, "inhibitory": [inhibitory_size, inhibitory_indegree],
               "poisson": external_rate > 0, "ramp": ramp is not None, "dt": time_step_s}
    with Brian2Device(target, device, standalone_directory, project=project) as selected:
        brian2_seed(seed)
        group = NeuronGroup(n_neurons, full_equations, threshold=model.threshold, reset=model.reset,
                            refractory=model.refractory if model.refractory is not None else False,
                            method=integration, namespace=namespace, dt=time_step_s * second,
                            name="pop_neurones")
        for name, value in model.initial.items():
            setattr(group, name, value)
        population_point = point_of[population_of_neuron]
        group.pop_index = population_of_neuron
        group.pop_level = point_mu[population_point] * unit_in if point_low is None else \
            point_low[population_point] * unit_in
        group.pop_high = (point_high[population_point] if point_high is not None
                          else point_mu[population_point]) * unit_in
        group.pop_kick = np.where(np.asarray(initial)[initial_of[population_of_neuron]] == "high",
                                  kick_value, 0.0) * unit_in
        group.pop_weight = point_w[population_point] * parse_unit(w_unit)
        if sigma > 0:
            group.pop_noise_sigma = sigma * parse_unit(white_unit)
        objects = [group]
        queues = selected.threads or 1  # spike queues of a pathway (one per OpenMP thread)
        if indegree > 0:
            # ordered by source within each queue: same results, consecutive memory per spike
            sources, targets = source_ordered(sources, targets, queues)
            recurrent = Synapses(group, group, on_pre=on_pre, delay=timing["delay"] * second,
                                 namespace=namespace, name="pop_recurrent",
                                 codeobj_class=target_partitioned_codeobject(targets, selected.threads, device))
            recurrent.connect(i=sources, j=targets)
            objects.append(recurrent)
        del sources, targets
        if inhibitory_sources is not None:
            inhibitory_sources, inhibitory_targets = source_ordered(inhibitory_sources, inhibitory_targets, queues)
            inhibitory_code = on_pre.replace("+= pop_weight_post", "-= pop_inhibition * pop_weight_post")
            inhibitory = Synapses(group, group, on_pre=inhibitory_code, delay=timing["delay"] * second,
                                  namespace=namespace, name="pop_recurrent_inhibitory",
                                  codeobj_class=target_partitioned_codeobject(inhibitory_targets,
                                                                              selected.threads, device))
            inhibitory.connect(i=inhibitory_sources, j=inhibitory_targets)
            objects.append(inhibitory)
            del inhibitory_sources, inhibitory_targets
        if external_rate > 0:
            objects.append(group.run_regularly(external_code, when="start", order=-1,
                                               name="pop_poisson_input"))
        counter = NeuronGroup(n_populations, "pop_count : 1", name="pop_counter")
        counting = Synapses(group, counter, on_pre="pop_count_post += 1", name="pop_counting")
        counting.connect(i=np.arange(n_neurons), j=population_of_neuron)
        samples = StateMonitor(counter, "pop_count", record=True, dt=timing["bin_width"] * second,
                               when="end", name="pop_samples")
        objects += [counter, counting, samples]
        network = Network(*objects)
        report = None
        if device == "runtime" and progress is not False:
            from neurophase.progress import brian2_report, is_terminal

            if progress or (progress is None and is_terminal()):
                report = brian2_report(f"{model.name} populations ({n_populations} x {size})",
                                       enabled=True)
        with np.errstate(over="ignore", invalid="ignore"):
            run_network(network, timing["duration"] * second,
                        f"{model.name!r} populations ({n_populations} x {size})", progress=progress,
                        report=report, report_period=1 * second, namespace=namespace)
        counts = np.asarray(samples.pop_count_[:], dtype=float)  # (populations, samples)
        sample_times = np.asarray(samples.t_[:], dtype=float)
        final_count = np.asarray(counter.pop_count_[:], dtype=float)
        state = np.asarray(getattr(group, voltage + "_")[:], dtype=float)
        finite = np.isfinite(state).reshape(n_populations, stride).all(axis=1)
    elapsed = wallclock.perf_counter() - started

    bin_s = timing["bin_width"]
    edges = np.concatenate([sample_times, [timing["duration"]]])
    totals = np.concatenate([counts, final_count[:, None]], axis=1)
    spikes = np.diff(totals, axis=1)
    widths = np.diff(edges)
    keep = widths > 0.5 * bin_s  # a last partial bin shorter than half a bin is dropped
    spikes, widths, starts = spikes[:, keep], widths[keep], edges[:-1][keep]
    rate = spikes / (stride * widths)
    centres = starts + 0.5 * widths
    drive_at = _drive_trace(centres, point_mu, point_low, point_high, point_of, initial_of, initial,
                            kick_value, timing, ramp is not None)
    stationary = starts >= timing["transient"] - 1e-12
    mean_rate = (spikes[:, stationary].sum(axis=1)
                 / (stride * max(widths[stationary].sum(), 1e-300)))
    rate[~finite] = np.nan
    mean_rate[~finite] = np.nan
    population = np.arange(n_populations)
    coords = {
        "population": ("population", population),
        "time": quantity_coordinate("time", centres * 1e3, "ms", long_name="bin centre"),
        "coupling": ("population", point_w[point_of], {"units": w_unit,
                                                        "long_name": f"{synapse} synaptic weight w"}),
        "drive": ("population", (point_mu if point_low is None else point_low)[point_of],
                  {"units": input_unit, "long_name": "external drive (ramp: its low end)"}),
        "initial": ("population", np.asarray(initial)[initial_of]),
        "seed": ("population", seed_of),
        "point": ("population", point_of),
    }
    if ramp is not None:
        coords["ramp_high"] = ("population", point_high[point_of],
                               {"units": input_unit, "long_name": "ramp top drive"})
    dataset = xr.Dataset(
        {"rate": quantity_variable(rate, "Hz", ("population", "time"),
                                   long_name="population rate in the bin"),
         "drive_at": quantity_variable(drive_at, input_unit, ("population", "time"),
                                       long_name="external drive at the bin centre"),
         "mean_rate": quantity_variable(mean_rate, "Hz", ("population",),
                                        long_name="population rate after the transient")},
        coords=coords)
    dataset.attrs.update(provenance(
        model_name=model.name, model_hash=model.content_hash, model_citation=model.citation,
        model_source=model.source, protocol="ramp" if ramp is not None else "constant",
        seed=seed, n_seeds=seeds, population_size=size, indegree=indegree, synapse=synapse,
        synaptic_tau=None if tau_s is None else f"{tau_s * 1e3:g} ms",
        reversal=None if reversal_v is None else f"{reversal_v * 1e3:g} mV",
        delay=f"{timing['delay'] * 1e3:g} ms", autapses=bool(autapses),
        noise=f"{sigma:g} {white_unit}", coupling_unit=w_unit, input_unit=input_unit,
        poisson_input=(f"{external_rate:g} Hz x {external_weight:g} {w_unit}"
                       if external_rate > 0 else None),
        kick=f"{kick_value:g} {input_unit} for {timing['kick_duration'] * 1e3:g} ms",
        duration=f"{timing['duration'] * 1e3:g} ms", transient=f"{timing['transient'] * 1e3:g} ms",
        bin_width=f"{bin_s * 1e3:g} ms", ramp_hold=(f"{timing['ramp_hold'] * 1e3:g} ms"
                                                     if ramp is not None else None),
        dt=f"{time_step_s * 1e3:g} ms", integration_method=integration, brian2_device=device,
        brian2_target=target if device == "runtime" else "cpp",
        parameter_overrides=(", ".join(f"{k}={v!s}" for k, v in parameters.items())
                             if parameters else None),
        connectivity="fixed in-degree within each population, no multapses"
                     + ("" if autapses else ", no autapses"),
        recording="per-population spike counters sampled every bin (no spike times kept)",
        wall_time_seconds=round(elapsed, 3), connectivity_seconds=round(connectivity_seconds, 3),
        n_neurons=n_neurons, n_synapses=n_neurons * (indegree + inhibitory_indegree),
        inhibitory=(f"{inhibitory_size} inhibitory neurones per population, in-degree "
                    f"{inhibitory_indegree}, weight -{inhibition:g} w") if inhibitory_size else None,
    ))
    if not finite.all():
        raise SimulationError(
            f"{int((~finite).sum())} of {n_populations} populations of {model.name!r} diverged "
            f"(NaN state). Reduce dt (now {time_step_s * 1e3:g} ms) or the couplings.",
            partial=dataset, failed_points=[int(p) for p in np.flatnonzero(~finite)])
    return dataset


def _canonical_parameters(parameters):
    """Parameter overrides as sorted text (part of a project description)."""
    return sorted((str(name), str(value)) for name, value in (parameters or {}).items())


def _drive_trace(times, point_mu, point_low, point_high, point_of, initial_of, initial, kick_value,
                 timing, is_ramp):
    """The external drive of every population at ``times`` (numpy mirror of the Brian2 code)."""
    if is_ramp:
        low = point_low[point_of][:, None]
        high = point_high[point_of][:, None]
        half = max(0.5 * (timing["duration"] - timing["ramp_hold"]), 1e-9)
        shape = np.clip(1 - np.abs((times[None, :] - timing["ramp_hold"]) / half - 1), 0, 1)
        drive = low + (high - low) * shape
    else:
        drive = np.repeat(point_mu[point_of][:, None], times.size, axis=1)
    kicked = (np.asarray(initial)[initial_of] == "high")[:, None] & (times[None, :] < timing["kick_duration"])
    return drive + kick_value * kicked


def measure_transfer(model: str | Path | Model, drives: Quantity, noises: Quantity, seeds: int = 4,
                     duration: Quantity | str = "4 s", transient: Quantity | str = "0.5 s",
                     dt: Quantity | None = None, target: str = "cython", device: str = "runtime", seed: int = 0,
                     parameters: dict[str, Any] | None = None, progress: bool | None = None) -> xr.Dataset:
    """The transfer function ``phi(mu, sigma)`` of the UNCOUPLED model, for the population mean field.

    One :func:`~neurophase.micro.neurone.firing_curve` network holds the whole grid: every drive
    x white-noise amplitude x seed is one neurone (step protocol, rate after ``transient``).
    Pass the result to :class:`neurophase.mapping.population.MeasuredTransfer`.

    Parameters
    ----------
    model : str, pathlib.Path or Model
        Library model name, model file or Model.
    drives : Quantity (the model's input dimension)
        Mean input currents in the model's input unit.
    noises : Quantity (input dimension x time**0.5)
        White-noise amplitudes (input unit x sqrt(second)); at least two.
    seeds : int
        Neurones (trials) per (drive, noise).
    duration, transient : Quantity (time) or str
        Run time, and the excluded start of the rate window.
    dt : Quantity (time), optional
        Time step (default the model's).
    target, device : str
        As in :func:`~neurophase.micro.neurone.firing_curve`.
    seed : int
        Brian2 seed.
    parameters : dict, optional
        Overrides of model parameters.
    progress : bool, optional
        Progress bar.

    Returns
    -------
    xarray.Dataset
        :func:`~neurophase.micro.neurone.firing_curve`'s Dataset over ``input`` x
        ``param_sigma`` x ``trial`` (``rate`` is ``phi(mu, sigma)``).

    Raises
    ------
    ParameterError
        Fewer than two, or non-positive, noise amplitudes.
    """
    from neurophase.micro.neurone import firing_curve

    model = resolve_model(model)
    white = f"{model.input_unit}*second**0.5"
    sigmas = np.atleast_1d(to_magnitude(noises, white, name="noises"))
    if sigmas.size < 2 or np.any(sigmas <= 0):
        raise ParameterError("noises must hold at least two positive white-noise amplitudes.")
    return firing_curve(model, drives, protocol="step", duration=duration, noise=noises,
                        seeds=seeds, dt=dt, target=target, device=device, seed=seed,
                        transient=transient, parameters=parameters, progress=progress)
