"""Recorded current-clamp stimuli replayed to many parameter sets of one model, in ONE Brian2 network.

A fit evaluates many candidate parameter sets of a model, each on every sweep of a recording. Here
all of them are neurones of one :class:`brian2.NeuronGroup`: neurone ``candidate * n_sweeps +
sweep`` has the candidate's parameter values as per-neurone constants and is driven by the current
of its sweep, replayed with the sweep's own timing from a two-dimensional
:class:`brian2.TimedArray` (``replay_stimulus(t, replay_sweep)``). The network is built and compiled
once; every further evaluation only changes the parameter values:

- runtime device (Cython by default): the network is stored at ``t = 0`` after the build
  (:meth:`brian2.Network.store`) and each evaluation restores it, sets the parameter arrays and
  runs again. The generated code is identical from one evaluation to the next, so the compiled
  extension modules are reused from Brian2's cache (nothing is compiled after the first run).
- ``device="cpp_standalone"``: the C++ project is generated and compiled once; every further
  evaluation re-runs the same binary with the new parameter arrays given as ``run_args``
  (``device.run(run_args={group.tau_m: values, ...})``, Brian2 >= 2.6), without code generation
  or compilation.

Classes
-------
ReplayNetwork
    Build once, :meth:`ReplayNetwork.run` many times (a context manager; :meth:`close` resets
    Brian2 to the runtime device on the standalone device).
ReplayResult
    Spike times and voltage traces of every (candidate, sweep).

Functions
---------
resample_stimulus
    A recorded current (per sweep, at the recording's sampling interval) on the simulation's
    time grid (bin means when the recording is sampled finer than ``dt``).

Settling
    Each evaluation first runs ``settle`` (default 200 ms, rounded to whole voltage samples) with
    every sweep's first current value (the holding current) so that a candidate starts from its own
    resting state, whatever its parameters (the model file's ``[initial]`` state is the rest of the
    library parameters only). Settling and sweep are ONE run (one code generation per
    evaluation); what the monitors saw during the settling is dropped, and spike and trace times
    are relative to the sweep start.

Integration
    The model's method, except ``exact`` (linear equations with a constant drive), which becomes
    ``exponential_euler``: exact for linear equations whose drive is constant within each time
    step, as the replayed current is.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time as wallclock
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from neurophase.errors import ModelFileError, ParameterError
from neurophase.interrupts import run_network
from neurophase.micro.modelfile import Model, load_model
from neurophase.units import dimension_text, parse_unit, to_magnitude

if TYPE_CHECKING:
    from pathlib import Path

    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

__all__ = ["ReplayNetwork", "ReplayResult", "resample_stimulus", "DEFAULT_SETTLE", "MAX_TRACE_BYTES"]

#: Settling time before the replayed sweep (see the module docstring).
DEFAULT_SETTLE = "200 ms"
#: Largest memory the recorded voltage traces may take (bytes); beyond it the build is refused.
MAX_TRACE_BYTES = 4 * 1024**3


@dataclasses.dataclass
class ReplayResult:
    """What one evaluation of a :class:`ReplayNetwork` recorded.

    Attributes
    ----------
    n_candidates, n_sweeps : int
        Parameter sets and recorded sweeps of the evaluation.
    spike_neurone : ndarray of int
        Neurone of every spike (``candidate * n_sweeps + sweep``).
    spike_time : ndarray of float
        Spike times in seconds from the sweep start.
    voltage : ndarray or None
        ``(n_candidates, n_sweeps, n_samples)`` membrane potential in mV (float32), sampled every
        ``record_dt`` from the sweep start.
    record_dt : float
        Seconds between voltage samples.
    finite : ndarray of bool
        ``(n_candidates, n_sweeps)``: False where the state diverged (NaN or infinite); such a
        candidate is invalid and must be reported, not dropped.
    wall_seconds : float
        Wall time of the evaluation (simulation and read-out).
    neurone_steps : int
        Neurones times integration steps simulated (settling included).
    fallback : bool
        The run was repeated with the numpy target after a division by zero (see
        :meth:`ReplayNetwork.run`).
    """

    n_candidates: int
    n_sweeps: int
    spike_neurone: np.ndarray
    spike_time: np.ndarray
    voltage: np.ndarray | None
    record_dt: float
    finite: np.ndarray
    wall_seconds: float
    neurone_steps: int
    fallback: bool = False

    def spike_times(self, candidate: int, sweep: int) -> np.ndarray:
        """Spike times (s from the sweep start) of one candidate on one sweep.

        Parameters
        ----------
        candidate : int
            Candidate index, in ``range(n_candidates)``.
        sweep : int
            Sweep index, in ``range(n_sweeps)``.

        Returns
        -------
        numpy.ndarray, s
            Sorted spike times.
        """
        neurone = candidate * self.n_sweeps + sweep
        return np.sort(self.spike_time[self.spike_neurone == neurone])

    def spike_trains(self) -> list[list[np.ndarray]]:
        """All spike trains as a nested list ``[candidate][sweep] -> sorted times (s)``.

        Returns
        -------
        list of list of numpy.ndarray, s
            ``n_candidates`` lists of ``n_sweeps`` sorted spike-time arrays.
        """
        order = np.lexsort((self.spike_time, self.spike_neurone))
        neurones, times = self.spike_neurone[order], self.spike_time[order]
        bounds = np.searchsorted(neurones, np.arange(self.n_candidates * self.n_sweeps + 1))
        return [[times[bounds[c * self.n_sweeps + s]:bounds[c * self.n_sweeps + s + 1]]
                 for s in range(self.n_sweeps)] for c in range(self.n_candidates)]


def resample_stimulus(current: ArrayLike, sampling_interval: float, dt: float, n_steps: int) -> np.ndarray:
    """Recorded currents on the simulation grid ``k dt``, ``k = 0 .. n_steps - 1``.

    When the recording is sampled at least as finely as ``dt``, step ``k`` gets the mean of the
    recorded samples in ``[k dt, (k + 1) dt)`` (so no sample is dropped and measured noise is
    averaged, not aliased); otherwise the recorded sample holding at ``k dt`` (a zero-order hold,
    the amplifier's own output). Past the end of a sweep the last sample is held.

    Parameters
    ----------
    current : array_like, any one current unit
        ``(n_sweeps, n_samples)`` in any unit (plain numbers).
    sampling_interval, dt : float, s
        Recording and simulation steps.
    n_steps : int
        Simulation steps.

    Returns
    -------
    numpy.ndarray, unit of ``current``
        ``(n_sweeps, n_steps)``.

    Examples
    --------
    >>> resample_stimulus(np.array([[0.0, 2.0, 4.0, 6.0]]), 0.1, 0.2, 3).tolist()
    [[1.0, 5.0, 6.0]]
    """
    current = np.atleast_2d(np.asarray(current, dtype=float))
    n_samples = current.shape[1]
    if sampling_interval <= dt * (1 + 1e-9):
        edges = np.floor(np.arange(n_steps + 1) * dt / sampling_interval + 1e-9).astype(np.int64)
        edges = np.clip(edges, 0, n_samples)
        padded = np.concatenate([np.zeros((current.shape[0], 1)), np.cumsum(current, axis=1)], axis=1)
        counts = np.diff(edges)
        sums = padded[:, edges[1:]] - padded[:, edges[:-1]]
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        last = current[:, -1:]
        values = np.where(np.isnan(values), last, values)
        return values
    index = np.minimum(np.floor(np.arange(n_steps) * dt / sampling_interval + 1e-9).astype(np.int64), n_samples - 1)
    return current[:, index]


def _seconds(value, name):
    from neurophase.units import parse_quantity

    if isinstance(value, str):
        value = parse_quantity(value, name=name)
    return float(to_magnitude(value, "second", name=name))


class ReplayNetwork:
    """Candidates x sweeps of one model as ONE Brian2 network, built once and re-run.

    Parameters
    ----------
    model : str, pathlib.Path or Model
        A model whose input is a current (``input_unit`` such as ``"pA"``); a model driven by a
        current density needs a membrane area first (the error says how).
    currents : Quantity (current)
        ``(n_sweeps, n_samples)`` injected current of every sweep (recorded command or measured
        current), sampled every ``sampling_interval`` from the sweep start.
    sampling_interval : Quantity (time) or str
        Time between current samples.
    n_candidates : int
        Parameter sets evaluated per run.
    fitted : sequence of str
        Model parameters that become per-neurone constants (the ones a fit changes).
    duration : Quantity (time) or str, optional
        Replayed time of every sweep (default: the whole sweep).
    dt : Quantity (time) or str, optional
        Integration step; default the model's ``dt``; above its ``max_dt`` is an error.
    method : str, optional
        Brian2 integration method (default: the model's, see *Integration*).
    record_voltage : bool
        Record the membrane potential of every neurone.
    record_dt : Quantity (time) or str, optional
        Sampling step of the voltage traces (default ``sampling_interval`` rounded to a multiple
        of ``dt``, so traces and recording share their sampling).
    settle : Quantity (time) or str
        Settling time before each sweep (module docstring).
    parameters : dict, optional
        Fixed overrides of model parameters (units checked), for the parameters not fitted.
    target : {"cython", "numpy"}
        Code generation target on the runtime device.
    device : {"runtime", "cpp_standalone"}
        Brian2 device (the standalone program is built once and re-run with new values).
    directory : str, optional
        Project folder of the standalone device (default a temporary folder, removed by
        :meth:`close`).

    Examples
    --------
    >>> from brian2 import pA, ms, Mohm
    >>> currents = np.repeat([[0.0], [300.0]], 2000, axis=1) * pA
    >>> with ReplayNetwork("leaky_integrate_and_fire", currents, 0.1 * ms, 2, ["R_m"],
    ...                    record_voltage=False, target="numpy", settle="0 ms") as replay:
    ...     result = replay.run({"R_m": [100, 50] * Mohm})
    >>> [len(result.spike_times(c, 1)) > 0 for c in range(2)]   # 30 mV drive fires, 15 mV does not
    [True, False]
    """

    def __init__(self, model: str | Path | Model, currents: Quantity, sampling_interval: Quantity | str,
                 n_candidates: int, fitted: Sequence[str], duration: Quantity | str | None = None,
                 dt: Quantity | str | None = None,
                 method: str | None = None, record_voltage: bool = True, record_dt: Quantity | str | None = None,
                 settle: Quantity | str = DEFAULT_SETTLE, parameters: dict[str, Any] | None = None,
                 target: str = "cython", device: str = "runtime", directory: str | None = None) -> None:
        from brian2.units.fundamentalunits import Quantity, get_dimensions

        from neurophase.micro.devices import DEVICES, TARGETS

        self.model = model if isinstance(model, Model) else load_model(model)
        if self.model.kind != "spiking" or not self.model.threshold:
            raise ModelFileError(f"Model {self.model.name!r} is not a spiking model with a threshold; "
                                 "only spiking models can be fitted to current-clamp recordings.")
        if not self.model.input_variable or not self.model.input_unit:
            raise ModelFileError(f"Model {self.model.name!r} does not name its input; add [equations] input and "
                                 "input_unit to its model file.")
        if get_dimensions(parse_unit(self.model.input_unit)) is not get_dimensions(parse_unit("pA")):
            raise ModelFileError(
                f"Model {self.model.name!r} is driven by a current density ({self.model.input_unit}), but a "
                "recording injects a current (pA). Write a copy of the model file whose input is a current: "
                "replace the input line by 'I_input = I_injected / area : amp/meter**2' and 'I_injected : amp', "
                "set input = \"I_injected\", input_unit = \"pA\" and add the membrane area to [parameters].")
        if target not in TARGETS:
            raise ParameterError(f"target must be one of {', '.join(TARGETS)}; got {target!r}.")
        if device not in DEVICES:
            raise ParameterError(f"device must be one of {', '.join(DEVICES)}; got {device!r}.")
        self.target, self.device = target, device
        self.fitted = list(fitted)
        unknown = [name for name in self.fitted if name not in self.model.parameters]
        if unknown:
            raise ParameterError(
                f"Model {self.model.name!r} has no parameter(s) {', '.join(unknown)}; its parameters are "
                f"{', '.join(sorted(self.model.parameters))}.")
        self.n_candidates = int(n_candidates)
        if self.n_candidates < 1:
            raise ParameterError(f"n_candidates must be at least 1; got {n_candidates}.")
        if not isinstance(currents, Quantity):
            raise ParameterError("currents must be a Brian2 quantity (e.g. values * pA).")
        current_values = np.atleast_2d(to_magnitude(currents, self.model.input_unit, name="currents"))
        if current_values.shape[1] < 1 or not np.all(np.isfinite(current_values)):
            raise ParameterError("currents must be finite, with at least one sample per sweep.")
        self.n_sweeps = current_values.shape[0]
        interval = _seconds(sampling_interval, "sampling_interval")
        if interval <= 0:
            raise ParameterError("sampling_interval must be positive.")
        step = dt if dt is not None else (self.model.dt if self.model.dt is not None else 0.01 * parse_unit("ms"))
        self.dt = _seconds(step, "dt")
        if self.model.max_dt is not None and self.dt > _seconds(self.model.max_dt, "max_dt") * (1 + 1e-9):
            raise ParameterError(
                f"dt = {self.dt * 1e3:g} ms is larger than model {self.model.name!r}'s max_dt = "
                f"{_seconds(self.model.max_dt, 'max_dt') * 1e3:g} ms; use a smaller dt.")
        total = current_values.shape[1] * interval
        self.duration = total if duration is None else _seconds(duration, "duration")
        if not 0 < self.duration <= total * (1 + 1e-9):
            raise ParameterError(f"duration must lie in (0, {total * 1e3:g} ms], the length of the sweeps.")
        self.settle = _seconds(settle, "settle")
        if self.settle < 0:
            raise ParameterError("settle must not be negative.")
        self.n_run = int(round(self.duration / self.dt))
        self.record_voltage = bool(record_voltage)
        if record_dt is None:
            self.record_every = max(1, int(round(interval / self.dt)))
        else:
            self.record_every = max(1, int(round(_seconds(record_dt, "record_dt") / self.dt)))
        # whole voltage samples of settling, so that sample k of a trace is at k record_dt from the sweep start
        self.n_settle = int(round(self.settle / (self.dt * self.record_every))) * self.record_every
        self.record_dt = self.record_every * self.dt
        n_neurones = self.n_candidates * self.n_sweeps
        trace_bytes = 8 * n_neurones * ((self.n_settle + self.n_run) // self.record_every + 1)
        if self.record_voltage and trace_bytes > MAX_TRACE_BYTES:
            raise ParameterError(
                f"Recording the voltage of {n_neurones} neurones every {self.record_dt * 1e3:g} ms over "
                f"{self.duration:g} s needs {trace_bytes / 1024**3:.1f} GiB; use a larger record_dt, fewer "
                "candidates (population) or fewer sweeps.")
        self.parameter_overrides = dict(parameters or {})
        self._namespace = self.model.namespace(**self.parameter_overrides)
        for name in self.fitted:
            self._namespace.pop(name)
        stimulus = resample_stimulus(current_values, interval, self.dt, self.n_run)
        if self.n_settle:
            stimulus = np.concatenate([np.repeat(stimulus[:, :1], self.n_settle, axis=1), stimulus], axis=1)
        self._stimulus = stimulus
        self._method = method or self.model.method or "euler"
        if self._method in ("exact", "linear"):
            self._method = "exponential_euler"
        self._built = False
        self._temporary = None
        self._directory = directory
        self._twin = None
        self._arguments = dict(model=self.model, currents=currents, sampling_interval=sampling_interval,
                               n_candidates=n_candidates, fitted=self.fitted, duration=duration, dt=dt, method=method,
                               record_voltage=record_voltage, record_dt=record_dt, settle=settle,
                               parameters=parameters, target=target, device=device, directory=directory)
        self.runs = 0

    # ------------------------------------------------------------------------------ building
    def _equations(self):
        from brian2 import Equations
        from brian2.equations.equations import DIFFERENTIAL_EQUATION

        equations = Equations(self.model.equations)
        input_name = self.model.input_variable
        unit_text = dimension_text(parse_unit(self.model.input_unit).dim)
        if input_name in equations.names and equations[input_name].type == DIFFERENTIAL_EQUATION:
            raise ModelFileError(f"Model {self.model.name!r}: the input {input_name!r} must be a parameter line "
                                 f"such as '{input_name} : {unit_text}', not a differential equation.")
        kept = [equation for name, equation in equations.items() if name != input_name]
        added = ["replay_sweep : integer (constant)",
                 f"{input_name} = replay_stimulus(t, replay_sweep) : {unit_text}"]
        for name in self.fitted:
            value = self.model.parameters[name]
            dimension = getattr(value, "dim", None)
            text = "1" if dimension is None or dimension.is_dimensionless else dimension_text(dimension)
            added.append(f"{name} : {text} (constant)")
        return Equations(kept) + Equations("\n".join(added))

    def _build(self):
        from brian2 import Network, NeuronGroup, SpikeMonitor, StateMonitor, TimedArray, prefs, second, set_device
        from brian2.devices.device import RuntimeDevice, get_device

        if not isinstance(get_device(), RuntimeDevice):
            raise ParameterError("Brian2 is already on a standalone device (set by other code); call "
                                 "brian2.device.reinit() and brian2.set_device('runtime') first.")
        if self.device == "cpp_standalone":
            directory = self._directory
            if directory is None:
                self._temporary = tempfile.TemporaryDirectory(prefix="neurophase_replay_")
                directory = self._temporary.name
            self._directory = directory
            set_device("cpp_standalone", directory=directory, build_on_run=False, with_output=False)
        else:
            self._previous_target = prefs.codegen.target
            prefs.codegen.target = self.target
        unit = parse_unit(self.model.input_unit)
        stimulus = TimedArray(self._stimulus.T * unit, dt=self.dt * second, name="replay_stimulus")
        self._namespace["replay_stimulus"] = stimulus
        n_neurones = self.n_candidates * self.n_sweeps
        refractory = self.model.refractory if self.model.refractory is not None else False
        group = NeuronGroup(n_neurones, self._equations(), threshold=self.model.threshold,
                            reset=self.model.reset, refractory=refractory, method=self._method,
                            dt=self.dt * second, namespace=self._namespace, name="replay_neurones")
        for name, value in self.model.initial.items():
            setattr(group, name, value)
        group.replay_sweep = np.tile(np.arange(self.n_sweeps), self.n_candidates)
        self._group = group
        self._spikes = SpikeMonitor(group, name="replay_spikes")
        objects = [group, self._spikes]
        self._voltage_name = self._membrane_variable()
        if self.record_voltage:
            self._monitor = StateMonitor(group, self._voltage_name, record=True, dt=self.record_dt * second,
                                         name="replay_voltage")
            objects.append(self._monitor)
        self._network = Network(*objects, name="replay_network")
        self._built = True

    def _membrane_variable(self):
        from brian2 import Equations, volt

        equations = Equations(self.model.equations)
        for name in equations.diff_eq_names:
            if equations[name].dim is volt.dim:
                return name
        raise ModelFileError(f"Model {self.model.name!r} has no membrane potential (a differential equation in volt).")

    def _values(self, values):
        """Parameter arrays per neurone (candidate values repeated over the sweeps), as quantities."""
        from brian2.units.fundamentalunits import get_unit

        missing = [name for name in self.fitted if name not in values]
        extra = sorted(set(values) - set(self.fitted))
        if missing or extra:
            raise ParameterError(f"run() needs exactly the fitted parameters {self.fitted}; missing {missing}, "
                                 f"unexpected {extra}.")
        arrays = {}
        for name in self.fitted:
            reference = self.model.parameters[name]
            dimension = getattr(reference, "dim", None)
            unit = 1.0 if dimension is None or dimension.is_dimensionless else get_unit(dimension)
            magnitude = np.asarray(to_magnitude(values[name], unit, name=name), dtype=float).ravel()
            if magnitude.size != self.n_candidates or not np.all(np.isfinite(magnitude)):
                raise ParameterError(f"{name}: give {self.n_candidates} finite values (one per candidate).")
            arrays[name] = np.repeat(magnitude, self.n_sweeps) * unit
        return arrays

    # ------------------------------------------------------------------------------- running
    def run(self, values: Mapping[str, Quantity | ArrayLike]) -> ReplayResult:
        """Simulate every candidate on every sweep; ``values``: name -> ``n_candidates`` quantities.

        A candidate whose state diverges is flagged in :attr:`ReplayResult.finite`. Brian2's Cython
        code divides with Python semantics (``cdivision=False``), so a diverging candidate of a
        model with a rate function such as ``1/exprel(x)`` raises ZeroDivisionError for the whole
        network instead of giving inf; that run is then repeated on a twin network with the numpy
        target (IEEE arithmetic: inf and NaN, flagged per candidate), built on first need, and
        :attr:`ReplayResult.fallback` is set. The C++ standalone device uses IEEE arithmetic itself.

        Parameters
        ----------
        values : mapping of str to Quantity or array_like
            Every fitted parameter -> ``n_candidates`` values in its dimension (numbers for a
            dimensionless parameter).

        Returns
        -------
        ReplayResult
            Spikes, voltage traces and the finite flags of every candidate and sweep.
        """
        from brian2.core.base import BrianObjectException

        try:
            return self._run(values)
        except BrianObjectException as error:
            if self.device != "runtime" or self.target == "numpy" or "division" not in str(error).lower() + repr(
                    getattr(error, "__cause__", "")).lower():
                raise
        if self._twin is None:
            self._twin = ReplayNetwork(**{**self._arguments, "target": "numpy"})
        try:
            result = self._twin.run(values)
        finally:
            from brian2 import prefs

            prefs.codegen.target = self.target
        result.fallback = True
        return result

    def _run(self, values):
        from brian2 import device, prefs, second

        started = wallclock.perf_counter()
        if not self._built:
            self._build()
        if self.device == "runtime":
            prefs.codegen.target = self.target
        arrays = self._values(values)
        if self.device == "runtime":
            if self.runs == 0:
                self._network.store("replay_initial")
            else:
                self._network.restore("replay_initial")
            for name, array in arrays.items():
                setattr(self._group, name, array)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                run_network(self._network, (self.n_settle + self.n_run) * self.dt * second,
                            f"replay of {self.n_candidates} candidates x {self.n_sweeps} sweeps",
                            progress=False, namespace=self._namespace)
        elif self.runs == 0:
            for name, array in arrays.items():
                setattr(self._group, name, array)
            self._network.run((self.n_settle + self.n_run) * self.dt * second, namespace=self._namespace)
            device.build(directory=self._directory, compile=True, run=True, with_output=False)
        else:
            device.run(directory=self._directory, with_output=False,
                       run_args={getattr(self._group, name): array for name, array in arrays.items()})
        self.runs += 1
        return self._collect(wallclock.perf_counter() - started)

    def _collect(self, elapsed):
        neurone = np.asarray(self._spikes.i[:], dtype=np.int64)
        times = np.asarray(self._spikes.t_[:], dtype=float) - self.n_settle * self.dt
        after = times >= -0.5 * self.dt  # spikes of the settling period are not part of the sweep
        neurone, times = neurone[after], times[after]
        voltage = None
        if self.record_voltage:
            raw = np.asarray(getattr(self._monitor, self._voltage_name + "_")[:], dtype=float)
            first = self.n_settle // self.record_every
            samples = self.n_run // self.record_every
            raw = raw[:, first:first + samples]
            with np.errstate(over="ignore", invalid="ignore"):  # a diverged candidate's trace becomes inf/NaN
                voltage = (raw * 1e3).astype(np.float32).reshape(self.n_candidates, self.n_sweeps, -1)
        finite = np.ones(self.n_candidates * self.n_sweeps, dtype=bool)
        for name in self._group.equations.diff_eq_names:
            finite &= np.isfinite(np.asarray(getattr(self._group, name + "_")[:], dtype=float))
        if voltage is not None:
            finite &= np.all(np.isfinite(voltage.reshape(finite.size, -1)), axis=1)
        return ReplayResult(
            n_candidates=self.n_candidates, n_sweeps=self.n_sweeps, spike_neurone=neurone, spike_time=times,
            voltage=voltage, record_dt=self.record_dt, finite=finite.reshape(self.n_candidates, self.n_sweeps),
            wall_seconds=elapsed, neurone_steps=self.n_candidates * self.n_sweeps * (self.n_settle + self.n_run))

    @property
    def project_directory(self) -> str | None:
        """The standalone project folder (None on the runtime device)."""
        return self._directory if self.device == "cpp_standalone" else None

    def close(self) -> None:
        """Release the network; on the standalone device reset Brian2 to the runtime device."""
        from brian2 import device, prefs
        from brian2.devices.device import reset_device

        if self.device == "cpp_standalone" and self._built:
            device.reinit()
            reset_device("runtime")
        elif self._built:
            prefs.codegen.target = self._previous_target
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None
        if self._twin is not None:
            self._twin.close()
            self._twin = None
            prefs.codegen.target = self._previous_target
        self._built = False

    def __enter__(self) -> ReplayNetwork:
        return self

    def __exit__(self, *exc_info: Any) -> bool:
        self.close()
        return False
