"""Fit a neurone model to current-clamp step recordings: NSGA-II over feature z-scores.

:func:`fit_model` fits the declared (or given) parameters of a model file to the training sweeps
of one cell and scores the held-out sweeps.

Optimiser
    NSGA-II (Deb et al. 2002, IEEE Trans. Evol. Comput. 6:182) from pymoo (Blank & Deb 2020, IEEE
    Access 8:89497), searching the unit cube that maps to each parameter's range, linearly or in
    the logarithm (``[fit]`` scale). Why a multi-objective algorithm: the features of a cell
    conflict (a LIF cannot match both the rheobase and the gain of an adapting cell), and a
    weighted sum hides the trade-off behind weights nobody chose; NSGA-II keeps the whole Pareto
    front of the objective vector (:mod:`neurophase.fit.objectives`), which the report draws, and
    needs no gradient (spike counts are piecewise constant in the parameters). The final model is
    the archived candidate with the smallest Euclidean norm of its objective vector (a point of the
    Pareto front, since the norm is increasing in every objective).

Refinement
    NSGA-II explores but does not converge to the bottom of a narrow, tilted valley: on synthetic
    AdEx cells (6 parameters, 60 generations x 48) the selected candidate had an objective norm of
    1.9-2.5 where the true parameters score 0.30. After the generations, ``refine`` iterations of
    CMA-ES (Hansen 2016, arXiv:1604.00772; :mod:`neurophase.fit.refine`) minimise that same norm
    from the best candidate in the unit cube, ``population`` candidates per iteration; the
    candidates join the archive (their ``generation`` continues the count), so the selection
    and the bootstrap below see them.

Evaluation
    Each generation (and refinement iteration) is ONE run of a
    :class:`~neurophase.micro.replay.ReplayNetwork` holding every candidate x training sweep
    (built and compiled once for the whole fit). A population smaller than the network
    (duplicates removed by pymoo) is padded with copies of its first candidate, whose results are
    discarded.

Checkpoint
    After every generation ``checkpoint`` (a pickle, written atomically) holds the pymoo
    algorithm (population, objectives, its random generator state), the archive of every
    evaluated candidate, the generation reached, the refinement's state (with its random
    generator) and the settings with their hash. ``resume=True`` continues from it; a checkpoint
    made with other settings (model, parameter ranges, recordings, training sweeps, population,
    seed, time step, device) is refused with the differing setting named. The numbers of
    generations and of refinement iterations are not part of the hash: resuming with a larger
    ``generations`` extends a finished fit (its refinement is run again from the longer search).
    A resumed fit gives exactly the result of an uninterrupted one, also when it stopped during
    the refinement (tested).

Uncertainty
    ``interval="profile"`` (default): a likelihood-ratio (profile) interval read off the archive.
    Treating every z-score term as a standard normal error, the total ``S`` = sum of ``z**2`` over
    every training step and feature is -2 log-likelihood up to a constant, and the values of a
    parameter whose profile ``min S`` exceeds the smallest ``S`` by less than the 0.95 quantile
    of chi-squared with one degree of freedom (3.84) form its 95% interval (Wilks 1938, Ann. Math.
    Stat. 9:60; Venzon & Moolgavkar 1988, Appl. Stat. 37:87; the Delta chi-squared limits of Press
    et al. 2007, Numerical Recipes 3rd ed., section 15.6.5). The interval is the range of the
    parameter over the archived candidates with ``S <= min S + 3.84`` (widened to the fitted
    value): an inner approximation of the profile interval, as good as the archive samples that
    region (the refinement samples it densely around the optimum). Where a feature's measurement
    noise is below its z-scale (at least its resolution), its z-scores are smaller than standard
    normal errors and the interval errs wide. It measures how flat the objective is: on a
    synthetic AdEx cell (4 training sweeps) the optimum of the noisy data lies 12% from the true
    ``a`` while the truth's ``S`` exceeds the minimum by about 0.2, and the bootstrap below, with
    4 resampling units, gave an interval of +-1% that excluded the truth.

    ``interval="bootstrap"``: bootstrap over the training sweeps (Efron & Tibshirani 1993, ch. 6):
    each resample of the sweeps (with replacement) recomputes every archived candidate's objective
    vector from its per-sweep sums and selects the best candidate again; the 2.5 and 97.5
    percentiles of the selected parameter values give the interval (percentile method: the
    selection is a discontinuous statistic, for which BCa's acceleration estimate is unreliable).
    It costs no simulation, and it is conditional on the candidates the search evaluated: it
    measures how much the choice of sweeps moves the fit, not the full posterior.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import tempfile
import time as wallclock
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neurophase.errors import ModelFileError, ParameterError
from neurophase.fit.data import prepare_recordings, split_sweeps
from neurophase.fit.features import FEATURES, feature_dataset, step_features
from neurophase.fit.objectives import DIVERGED_OBJECTIVE, TRACE_ERROR, Target, trace_errors
from neurophase.fit.refine import cma_ask, cma_done, cma_start, cma_tell
from neurophase.io import share_mode
from neurophase.micro.modelfile import FIT_SCALES, FitRange, Model, display_unit, load_model, model_text
from neurophase.recordings.spikes import detect_spikes
from neurophase.units import parse_quantity, parse_unit, to_magnitude

if TYPE_CHECKING:
    import xarray as xr
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

    from neurophase.fit.data import FitData
    from neurophase.micro.replay import ReplayResult
    from neurophase.recordings.base import Recording

__all__ = ["fit_model", "FitResult", "ParameterRange", "parameter_ranges", "evaluate_model", "draws_spikes",
           "CHECKPOINT_VERSION"]

CHECKPOINT_VERSION = 1
_BOOTSTRAP_CANDIDATES = 300
#: Initial CMA-ES step size of the refinement (unit-cube coordinates) and its stopping step size.
REFINE_SIGMA = 0.1
REFINE_TOLERANCE = 1e-4
#: Ways of making the parameter intervals (module docstring, Uncertainty), with a description for outputs.
INTERVAL_METHODS = {"profile": "likelihood-ratio region of the evaluated candidates (95%, total z**2 within 3.84 "
                               "of its minimum)",
                    "bootstrap": "percentile bootstrap over training sweeps (95%)"}
#: Increase of the total squared z-score bounding the profile region: the 0.95 quantile of chi-squared
#: with one degree of freedom (scipy.stats.chi2.ppf(0.95, 1)).
PROFILE_DELTA = 3.841458820694124


@dataclasses.dataclass(frozen=True)
class ParameterRange:
    """A fitted parameter: bounds in ``unit`` and the search scale.

    Attributes
    ----------
    name : str
        The model parameter.
    low, high : float, unit ``unit``
        Search bounds.
    unit : str
        Unit of the bounds and values (the model file's).
    scale : {"linear", "log"}
        ``"log"``: the search is uniform in the logarithm.
    """

    name: str
    low: float
    high: float
    unit: str
    scale: str

    def decode(self, unit_values: ArrayLike) -> np.ndarray:
        """Unit-cube coordinates -> values in ``unit``.

        ``low + u (high - low)``, or ``exp(log low + u (log high - log low))`` on a log scale.

        Parameters
        ----------
        unit_values : array_like, dimensionless
            Coordinates in [0, 1].

        Returns
        -------
        numpy.ndarray, unit ``unit``
            Parameter values.
        """
        unit_values = np.asarray(unit_values, dtype=float)
        if self.scale == "log":
            return np.exp(np.log(self.low) + unit_values * (np.log(self.high) - np.log(self.low)))
        return self.low + unit_values * (self.high - self.low)

    def quantity(self, values: ArrayLike) -> Quantity:
        """Values in ``unit`` as a Brian2 quantity.

        Parameters
        ----------
        values : array_like, unit ``unit``
            Parameter values.

        Returns
        -------
        Quantity (the parameter's dimension)
            ``values * unit``.
        """
        return np.asarray(values, dtype=float) * parse_unit(self.unit)


def parameter_ranges(model: Model, overrides: Mapping[str, Sequence[Any]] | None = None,
                     names: Sequence[str] | None = None) -> list[ParameterRange]:
    """The fitted parameters of ``model``: its ``[fit]`` table, replaced or extended by ``overrides``.

    Parameters
    ----------
    model : Model
        The model to fit.
    overrides : dict, optional
        name -> ``(low, high)`` or ``(low, high, scale)`` with quantities or strings with units.
    names : sequence of str, optional
        Fit only these (default: every ``[fit]`` entry plus the overrides; with overrides only,
        exactly the overridden parameters).

    Returns
    -------
    list of ParameterRange
        One per fitted parameter, bounds in the model file's unit.

    Raises
    ------
    ParameterError
        A name that is not a parameter of the model, bounds in the wrong unit, low >= high, an
        unknown scale, a log scale with non-positive bounds, or nothing to fit.
    """
    from brian2.units.fundamentalunits import get_dimensions

    overrides = dict(overrides or {})
    ranges = {} if overrides and names is None else dict(model.fit)
    if names is not None:
        ranges = {name: model.fit[name] for name in names if name in model.fit}
    for name, entry in overrides.items():
        if name not in model.parameters:
            raise ParameterError(
                f"--param {name}: model {model.name!r} has no parameter {name!r}; its parameters are "
                f"{', '.join(sorted(model.parameters))}.")
        if len(entry) not in (2, 3):
            raise ParameterError(f"--param {name}: give LOW HIGH (and optionally a scale).")
        low, high = (parse_quantity(value, name=name) if isinstance(value, str) else value for value in entry[:2])
        reference = model.parameters[name]
        for bound in (low, high):
            if get_dimensions(bound) is not get_dimensions(reference):
                raise ParameterError(
                    f"--param {name}: the bound {bound!s} is not in a unit of {name} (= {reference!s}); give the "
                    f"bounds in {display_unit(reference)} or another unit of dimension {get_dimensions(reference)!s}.")
        scale = entry[2] if len(entry) == 3 else (model.fit[name].scale if name in model.fit else "linear")
        ranges[name] = FitRange(low, high, scale)
    if names is not None:
        missing = [name for name in names if name not in ranges]
        if missing:
            raise ParameterError(f"No range for {missing}: declare them in the model's [fit] table or give --param.")
    if not ranges:
        raise ParameterError(
            f"Model {model.name!r} declares no fittable parameter ([fit] table) and none was given: add "
            "--param NAME LOW HIGH UNIT for each parameter to fit.")
    result = []
    for name, entry in ranges.items():
        unit = display_unit(model.parameters[name])
        low = float(to_magnitude(entry.low, unit, name=name))
        high = float(to_magnitude(entry.high, unit, name=name))
        if not low < high:
            raise ParameterError(f"--param {name}: LOW ({low:g} {unit}) must be below HIGH ({high:g} {unit}).")
        if entry.scale not in FIT_SCALES:
            raise ParameterError(f"--param {name}: scale {entry.scale!r} is not one of {FIT_SCALES}.")
        if entry.scale == "log" and low <= 0:
            raise ParameterError(f"--param {name}: a log scale needs LOW > 0 (got {low:g} {unit}); use a linear scale.")
        result.append(ParameterRange(name, low, high, unit, entry.scale))
    return result


def draws_spikes(model: Model) -> bool:
    """True when the model's trace draws the action potential (no reset of the potential).

    Parameters
    ----------
    model : Model
        A spiking model (its equations and reset code are read).

    Returns
    -------
    bool
        The reset code assigns no voltage variable.
    """
    from brian2 import Equations, volt

    equations = Equations(model.equations)
    voltages = [name for name in equations.diff_eq_names if equations[name].dim is volt.dim]
    reset = model.reset or ""
    return not any(f"{name} =" in reset.replace("  ", " ") for name in voltages)


def _simulated_rows(result, candidate, sweeps, spike_shape, interval, recorded_spikes=None):
    """Per-step features of one candidate on ``sweeps`` (and its trace error when ``recorded_spikes``)."""
    rows = []
    for position, sweep in enumerate(sweeps):
        trace = None if result.voltage is None else result.voltage[candidate, position].astype(float)
        if spike_shape and trace is not None:
            times = detect_spikes(trace, 1.0 / result.record_dt) * result.record_dt
        else:
            times = result.spike_times(candidate, position)
        sweep_rows = step_features(trace, result.record_dt, times, sweep.steps, spike_shape=spike_shape)
        if recorded_spikes is not None and trace is not None:
            errors = trace_errors(trace, result.record_dt, sweep.voltage, interval, sweep.steps, times,
                                  recorded_spikes[position])
            for row, error in zip(sweep_rows, errors):
                row[TRACE_ERROR] = error
        rows += sweep_rows
    return rows


def _feature_array(rows, names):
    return np.array([[row.get(name, np.nan) for row in rows] for name in names], dtype=float)


def evaluate_model(model: Model, data: FitData, numbers: Sequence[int], values: Mapping[str, Quantity] | None = None,
                   dt: Quantity | None = None, device: str = "runtime", target: str = "cython",
                   settle: Quantity | str = "200 ms") -> tuple[xr.Dataset, ReplayResult]:
    """Replay sweeps ``numbers`` to one parameter set; per-step simulated features and traces.

    ``values`` (name -> quantity) are set as per-neurone constants, as in the fit's network, so the
    code compiled for the fit is reused.

    Parameters
    ----------
    model : Model
        The model.
    data : FitData
        The prepared recordings.
    numbers : sequence of int
        Global sweep numbers to replay.
    values : mapping of str to Quantity, optional
        Parameter values (one each), in the parameters' dimensions.
    dt : Quantity (time), optional
        Integration step.
    device, target : str
        Brian2 device and runtime target.
    settle : Quantity (time) or str
        Settling time before each sweep.

    Returns
    -------
    (xarray.Dataset, ReplayResult)
        The simulated per-step features (schema of :func:`~neurophase.fit.features.feature_dataset`)
        and the raw replay (voltage traces, spikes).
    """
    from neurophase.micro.replay import ReplayNetwork

    sweeps = data.select(numbers)
    currents = data.currents(numbers) * parse_unit("pA")
    spike_shape = draws_spikes(model)
    values = dict(values or {})
    with ReplayNetwork(model, currents, data.interval * parse_unit("second"), 1, list(values),
                       duration=data.duration * parse_unit("second"), dt=dt, device=device, target=target,
                       settle=settle) as replay:
        result = replay.run(values)
    rows = _simulated_rows(result, 0, sweeps, spike_shape, data.interval)
    steps = [step for sweep in sweeps for step in sweep.steps]
    return feature_dataset(rows, steps, source=f"simulated {model.name}"), result


@dataclasses.dataclass
class FitResult:
    """Everything a fit produced (see :func:`fit_model`).

    Attributes
    ----------
    model : Model
        The model as given.
    fitted_model : Model
        A copy with the selected parameter values (:func:`neurophase.micro.modelfile.model_text`
        writes it).
    ranges : list of ParameterRange
        The fitted parameters.
    values : dict of str to float
        Selected value of each (its range's unit): the archive member of smallest objective norm.
    intervals : dict of str to (float, float)
        Interval of each: the range over the likelihood-ratio region of the archive, or the
        bootstrap percentile interval (training sweeps resampled); ``fit_model(interval=...)``.
    data : FitData
        The prepared recordings.
    train, held_out : list of int
        Global sweep numbers.
    target : Target
        Recorded features and z-score scales of the training steps.
    archive : dict of str to numpy.ndarray
        Every evaluated candidate: unit-cube and physical values, objectives, divergence flags,
        per-sweep sums, per-feature RMS, generation.
    generations : int
        Generations run.
    settings : dict
        What determines the fit (model hash, ranges, recordings' hashes, seed, ...).
    settings_hash : str
        Hash of ``settings`` (checkpoints are refused when it differs).
    recorded, simulated : xarray.Dataset
        Per-step features of every sweep, recorded and of the fitted model.
    best_replay : ReplayResult
        The fitted model's replay (voltage of the first candidate only).
    timing : dict
        Seconds of evaluation, feature extraction and in total; neurone steps; numpy fallbacks.
    spike_shape : bool
        The spike-shape features were used.
    refined : int
        Refinement iterations run after the generations (their candidates are in the archive).
    interval_method : str
        How ``intervals`` were made (a key of :data:`INTERVAL_METHODS`, whose value describes it).
    """

    model: Model
    fitted_model: Model
    ranges: list
    values: dict
    intervals: dict
    data: FitData
    train: list
    held_out: list
    target: Target
    archive: dict
    generations: int
    settings: dict
    settings_hash: str
    recorded: xr.Dataset
    simulated: xr.Dataset
    best_replay: ReplayResult
    timing: dict
    spike_shape: bool
    refined: int = 0
    interval_method: str = "profile"

    def parameter_table(self) -> list[tuple[Any, ...]]:
        """Rows ``(name, value, low, high, unit, range low, range high, scale)``.

        Returns
        -------
        list of tuple
            One row per fitted parameter: name, value, interval low and high (the unit), the
            unit, the search range and its scale.
        """
        return [(r.name, self.values[r.name], *self.intervals[r.name], r.unit, r.low, r.high, r.scale)
                for r in self.ranges]


def _hash(settings):
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _write_checkpoint(path, content):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".part", dir=path.parent)
    os.close(handle)
    try:
        with open(temporary, "wb") as stream:
            pickle.dump(content, stream, protocol=pickle.HIGHEST_PROTOCOL)
        share_mode(temporary)  # mkstemp makes it private; every output file has the same mode
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _read_checkpoint(path, settings, settings_hash):
    try:
        with open(path, "rb") as stream:
            content = pickle.load(stream)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as error:
        raise ParameterError(
            f"Cannot read the checkpoint {path} ({error}); delete it to start the fit again.") from error
    if not isinstance(content, dict) or content.get("version") != CHECKPOINT_VERSION:
        raise ParameterError(f"{path} is not a neurophase fit checkpoint of this version; delete it to start again.")
    if content["settings_hash"] != settings_hash:
        old = content["settings"]
        differing = sorted(key for key in set(old) | set(settings) if old.get(key) != settings.get(key))
        raise ParameterError(
            f"The checkpoint {path} was made with other settings ({', '.join(differing)} differ); resume with the "
            "same model, parameters, recordings, training sweeps, population, seed and time step, or use another "
            "output folder to start a new fit.")
    return content


def _problem(n_var, n_obj):
    from pymoo.core.problem import Problem

    return Problem(n_var=n_var, n_obj=n_obj, xl=np.zeros(n_var), xu=np.ones(n_var))


def fit_model(model: str | Path | Model, recordings: Sequence[Recording],
              parameters: Mapping[str, Sequence[Any]] | None = None, names: Sequence[str] | None = None,
              train_sweeps: Sequence[int] | None = None, generations: int = 20, population: int = 32, seed: int = 0,
              checkpoint: str | Path | None = None, resume: bool = False, dt: Quantity | None = None,
              device: str = "runtime", target: str = "cython", settle: Quantity | str = "200 ms",
              n_bootstrap: int = 500, record_dt: Quantity | None = None,
              progress: Callable[[int, int, float, float], Any] | None = None, stop_after: int | None = None,
              trace_objective: bool = False, overwrite: bool = False, refine: int = 30,
              interval: str = "profile") -> FitResult:
    """Fit ``model`` to current-clamp step recordings of one cell.

    Parameters
    ----------
    model : str, pathlib.Path or Model
        Library name or model file; its input must be a current.
    recordings : list of Recording
        From :func:`neurophase.recordings.read.read_recordings` (one cell, one sampling rate).
    parameters : dict, optional
        name -> ``(low, high[, scale])`` (quantities or strings with units); default the model's
        ``[fit]`` table.
    names : sequence of str, optional
        Fit only these of the model's declared parameters.
    train_sweeps : sequence of int, optional
        Training sweeps (global numbers; see :func:`neurophase.fit.data.split_sweeps`).
    generations, population : int
        NSGA-II generations and population size (>= 4).
    seed : int
        Seeds pymoo's random generator (the whole fit is deterministic).
    checkpoint : str or pathlib.Path, optional
        Checkpoint file, written after every generation.
    resume : bool
        Continue from ``checkpoint`` (refused if its settings differ).
    dt : Quantity (time), optional
        Integration step (default the model's).
    device, target : str
        Brian2 device ("runtime" or "cpp_standalone") and runtime target.
    settle : Quantity (time) or str
        Settling time before each replayed sweep.
    n_bootstrap : int
        Bootstrap resamples of the training sweeps for the parameter intervals.
    record_dt : Quantity (time), optional
        Voltage sampling of the simulations (default the recording's interval).
    progress : callable, optional
        ``progress(generation, generations, best_norm, seconds)`` after each generation, and after
        each refinement iteration ``k`` with ``generation = generations + k``.
    stop_after : int, optional
        Stop after this many generations (and refinement iterations) of this call (the checkpoint
        stays; for tests of resuming).
    trace_objective : bool
        Add the voltage-trace error with spikes cut out as an objective group
        (:func:`neurophase.fit.objectives.trace_errors`). Off by default: a reset model (LIF, AdEx)
        cannot follow a real cell's after-potential, so on real recordings the trace error mostly
        measures that mismatch and pulls the fit away from the features; on recordings the model
        can reproduce (parameter recovery) it constrains the subthreshold dynamics strongly.
    overwrite : bool
        Start a new fit although ``checkpoint`` exists (it is replaced after the first
        generation); without it (and without ``resume``) an existing checkpoint is an error.
    refine : int
        Iterations of the local refinement after the NSGA-II generations (:mod:`neurophase.fit.refine`:
        a CMA-ES from the best candidate, ``population`` candidates per iteration, each one run of the
        fit's network, as a generation); 0 for none. It stops earlier when it has converged.
    interval : {"profile", "bootstrap"}
        How :attr:`FitResult.intervals` are made (module docstring, Uncertainty): the
        likelihood-ratio region of the archive (default) or the bootstrap over the training sweeps
        (``n_bootstrap`` resamples).

    Returns
    -------
    FitResult
        The selected values with their intervals, the archive, and the fitted model.
    """
    from pymoo.algorithms.moo.nsga2 import NSGA2

    from neurophase.micro.replay import ReplayNetwork

    model = model if isinstance(model, Model) else load_model(model)
    if not model.input_unit or parse_unit(model.input_unit).dim is not parse_unit("pA").dim:
        raise ModelFileError(
            f"Model {model.name!r} is driven by {model.input_unit or 'nothing'}, not a current: recordings inject "
            "pA. Give a model whose input is a current (e.g. leaky_integrate_and_fire, adaptive_exponential_2005, "
            "traub_miles).")
    ranges = parameter_ranges(model, parameters, names)
    if interval not in INTERVAL_METHODS:
        raise ParameterError(f"interval must be one of {', '.join(INTERVAL_METHODS)}; got {interval!r}.")
    generations, population, refine = int(generations), int(population), int(refine)
    if refine < 0:
        raise ParameterError(f"refine must be >= 0; got {refine}.")
    if generations < 1 or population < 4:
        raise ParameterError(f"generations must be >= 1 and population >= 4; got {generations}, {population}.")
    data = prepare_recordings(recordings)
    train, held_out = split_sweeps(data, train_sweeps)
    spike_shape = draws_spikes(model)
    recorded_train = data.recorded_features(train)
    target_values = Target.from_dataset(recorded_train, train, spike_shape, trace=bool(trace_objective))
    time_step = dt if dt is not None else model.dt
    dt_ms = float(to_magnitude(time_step, "ms", name="dt")) if time_step is not None else 0.01
    settings = {
        "model": model.name, "model_hash": model.content_hash,
        "parameters": [dataclasses.astuple(r) for r in ranges], "recordings": sorted(data.hashes.items()),
        "train_sweeps": train, "population": population, "seed": int(seed), "dt_ms": dt_ms, "device": device,
        "target": target, "settle": str(settle), "record_dt": str(record_dt), "features": target_values.features,
        "trace_objective": bool(trace_objective),
        "checkpoint_version": CHECKPOINT_VERSION,
    }
    settings_hash = _hash(settings)
    n_var, n_obj = len(ranges), len(target_values.groups)
    archive = {"unit": [], "values": [], "objectives": [], "diverged": [], "sums": [], "feature_rms": [],
               "generation": []}
    refined = {key: [] for key in archive}
    generation = 0
    algorithm = refinement = None
    if resume:
        if checkpoint is None or not Path(checkpoint).exists():
            raise ParameterError(f"--resume: there is no checkpoint to resume ({checkpoint}); run without --resume.")
        content = _read_checkpoint(checkpoint, settings, settings_hash)
        algorithm, archive, generation = content["algorithm"], content["archive"], content["generation"]
        if generation >= int(generations):  # a larger ``generations`` discards the refinement of the shorter fit
            refinement, refined = content.get("refinement"), content.get("refined", refined)
    elif checkpoint is not None and Path(checkpoint).exists() and not overwrite:
        raise ParameterError(
            f"A checkpoint of an earlier fit exists ({checkpoint}): pass --resume to continue it, or use another "
            "output folder (nothing was overwritten).")
    if algorithm is None:
        algorithm = NSGA2(pop_size=population, eliminate_duplicates=True)
        algorithm.setup(_problem(n_var, n_obj), seed=int(seed), termination=("n_gen", 10**9))
    all_sweeps = train + held_out
    sweeps = data.select(all_sweeps)
    train_positions = list(range(len(train)))
    recorded_spikes = [detect_spikes(sweep.voltage, 1.0 / data.interval) * data.interval
                       for sweep in sweeps[:len(train)]] if trace_objective else None
    timing = {"evaluation_seconds": 0.0, "neurone_steps": 0, "features_seconds": 0.0, "numpy_fallback_runs": 0}
    started = wallclock.perf_counter()
    run_this_call = 0
    record_voltage = True
    # one network for the training AND held-out sweeps: the held-out ones are simulated but never scored
    # during the search, and the final model is evaluated on all of them without a second compilation
    with ReplayNetwork(model, data.currents(all_sweeps) * parse_unit("pA"), data.interval * parse_unit("second"),
                       population, [r.name for r in ranges], duration=data.duration * parse_unit("second"),
                       dt=time_step, record_voltage=record_voltage, record_dt=record_dt, settle=settle,
                       device=device, target=target) as replay:
        def evaluate(unit_x):
            """Objectives of the candidates ``unit_x`` (at most ``population``): one network run."""
            n = unit_x.shape[0]
            if n > population:
                raise ParameterError(f"Internal: {n} > {population} candidates in one run.")
            padded = np.vstack([unit_x, np.repeat(unit_x[:1], population - n, axis=0)])
            physical = np.column_stack([r.decode(padded[:, k]) for k, r in enumerate(ranges)])
            values = {r.name: r.quantity(physical[:, k]) for k, r in enumerate(ranges)}
            tick = wallclock.perf_counter()
            result = replay.run(values)
            timing["evaluation_seconds"] += wallclock.perf_counter() - tick
            timing["neurone_steps"] += result.neurone_steps
            timing["numpy_fallback_runs"] += int(result.fallback)
            tick = wallclock.perf_counter()
            simulated = np.stack([_feature_array(_simulated_rows(result, c, sweeps[:len(train)], spike_shape,
                                                                 data.interval, recorded_spikes),
                                                 target_values.features)
                                  for c in range(n)])
            timing["features_seconds"] += wallclock.perf_counter() - tick
            z = target_values.z_scores(simulated)
            objectives = target_values.objectives(z)
            diverged = ~result.finite[:n, train_positions].all(axis=1)
            objectives[diverged] = DIVERGED_OBJECTIVE
            sums, _ = target_values.group_sums(z)
            return {"unit": unit_x, "values": physical[:n], "objectives": objectives, "diverged": diverged,
                    "sums": sums, "feature_rms": target_values.feature_rms(z)}

        def save(step):
            if checkpoint is not None:
                _write_checkpoint(checkpoint, {
                    "version": CHECKPOINT_VERSION, "settings": settings, "settings_hash": settings_hash,
                    "generation": generation, "algorithm": algorithm, "archive": archive,
                    "refinement": refinement, "refined": refined,
                    "population_x": np.asarray(algorithm.pop.get("X")),
                    "population_f": np.asarray(algorithm.pop.get("F")),
                    "random_state": algorithm.random_state.bit_generator.state})
            if progress is not None:
                best = np.min(np.linalg.norm(np.concatenate(archive["objectives"] + refined["objectives"]), axis=1))
                progress(step, generations, float(best), wallclock.perf_counter() - started)

        def calls_left():
            return stop_after is None or run_this_call < stop_after

        while generation < generations and calls_left():
            offspring = algorithm.ask()
            unit_x = np.clip(np.asarray(offspring.get("X"), dtype=float), 0.0, 1.0)
            scored = evaluate(unit_x)
            offspring.set("F", scored["objectives"])
            algorithm.tell(infills=offspring)
            for key, value in scored.items():
                archive[key].append(value)
            archive["generation"].append(np.full(unit_x.shape[0], generation))
            generation += 1
            run_this_call += 1
            save(generation)
        if generation >= generations and refine > 0 and calls_left():
            if refinement is None:
                merged = {key: np.concatenate(value) for key, value in archive.items()}
                norm = np.linalg.norm(merged["objectives"], axis=1)
                norm[merged["diverged"]] = np.inf
                refinement = cma_start(merged["unit"][int(np.argmin(norm))], REFINE_SIGMA,
                                       seed=[int(seed), generations], tolerance=REFINE_TOLERANCE)
            while refinement.iteration < refine and not cma_done(refinement) and calls_left():
                scored = evaluate(cma_ask(refinement, population))
                norm = np.linalg.norm(scored["objectives"], axis=1)
                norm[scored["diverged"]] = np.inf
                cma_tell(refinement, norm)
                for key, value in scored.items():
                    refined[key].append(value)
                refined["generation"].append(np.full(population, generations + refinement.iteration - 1))
                run_this_call += 1
                save(generations + refinement.iteration)
        finished = generation >= generations and (
            refine == 0 or (refinement is not None and (refinement.iteration >= refine or cma_done(refinement))))
        if finished:
            merged = {key: np.concatenate(value + refined[key]) for key, value in archive.items()}
            norm = np.linalg.norm(merged["objectives"], axis=1)
            norm[merged["diverged"]] = np.inf
            best = int(np.argmin(norm))
            best_values = {r.name: r.quantity(np.full(population, merged["values"][best, k]))
                           for k, r in enumerate(ranges)}
            best_replay = replay.run(best_values)
    if not finished:
        reached = (f"{generation} of {generations} generations" if generation < generations else
                   f"{generations} generations and {0 if refinement is None else refinement.iteration} of {refine} "
                   "refinement iterations")
        raise ParameterError(
            f"The fit stopped after {reached} (stop_after); the checkpoint {checkpoint} holds it: resume to finish.")
    _, counts = target_values.group_sums(target_values.z_scores(target_values.recorded[None]))
    fitted_values = {r.name: float(merged["values"][best, k]) for k, r in enumerate(ranges)}
    if interval == "profile":
        intervals = _profile_intervals(merged, ranges, fitted_values)
    else:
        intervals = _bootstrap_intervals(merged, norm, counts, ranges, n_bootstrap, seed)
    fitted_model = _fitted_model(model, ranges, fitted_values, data)
    rows = _simulated_rows(best_replay, 0, sweeps, spike_shape, data.interval)
    simulated_all = feature_dataset(rows, [step for sweep in sweeps for step in sweep.steps],
                                    source=f"simulated {fitted_model.name}")
    best_replay.voltage = best_replay.voltage[:1] if best_replay.voltage is not None else None
    recorded_all = data.recorded_features(all_sweeps)
    timing["total_seconds"] = wallclock.perf_counter() - started
    return FitResult(model=model, fitted_model=fitted_model, ranges=ranges, values=fitted_values,
                     intervals=intervals, data=data, train=train, held_out=held_out, target=target_values,
                     archive=merged, generations=generation, settings=settings, settings_hash=settings_hash,
                     recorded=recorded_all, simulated=simulated_all, best_replay=best_replay, timing=timing,
                     spike_shape=spike_shape, refined=0 if refinement is None else refinement.iteration,
                     interval_method=interval)


def _profile_intervals(archive, ranges, fitted_values):
    """Range of each parameter over the archived candidates whose total squared z-score is within
    :data:`PROFILE_DELTA` of the smallest (module docstring, Uncertainty), widened to the fitted value."""
    total = archive["sums"].sum(axis=(1, 2))  # sum of z**2 over every term of every training step
    total = np.where(archive["diverged"] | ~np.isfinite(total), np.inf, total)
    inside = total <= np.min(total) + PROFILE_DELTA
    intervals = {}
    for k, r in enumerate(ranges):
        values = archive["values"][inside, k]
        intervals[r.name] = (float(min(values.min(), fitted_values[r.name])),
                             float(max(values.max(), fitted_values[r.name])))
    return intervals


def _bootstrap_intervals(archive, norm, counts, ranges, n_bootstrap, seed):
    """Percentile intervals of the selected parameters over resamples of the training sweeps."""
    from neurophase.statistics import bootstrap_interval

    order = np.argsort(norm)[:_BOOTSTRAP_CANDIDATES]
    order = order[np.isfinite(norm[order])]
    sums = archive["sums"][order]  # (C, G, sweeps)
    values = archive["values"][order]
    n_sweeps = sums.shape[-1]
    intervals = {}
    for k, r in enumerate(ranges):
        def statistic(indices, axis=-1, column=k):
            chosen = np.asarray(np.round(indices), dtype=int)
            picked = sums[..., chosen]  # (C, G, batch..., n)
            total = picked.sum(axis=-1)
            count = counts[:, chosen].sum(axis=-1)  # (G, batch...)
            with np.errstate(invalid="ignore", divide="ignore"):
                objectives = np.sqrt(total / np.maximum(count, 1)[None])
            score = np.sqrt((objectives ** 2).sum(axis=1))  # (C, batch...)
            return values[np.argmin(score, axis=0), column]

        if n_sweeps < 2 or n_bootstrap < 1:
            intervals[r.name] = (np.nan, np.nan)
            continue
        estimate, low, high = bootstrap_interval(np.arange(n_sweeps, dtype=float), statistic=statistic,
                                                 n_resamples=int(n_bootstrap), method="percentile", seed=int(seed))
        intervals[r.name] = (float(low), float(high))
    return intervals


def _fitted_model(model, ranges, values, data):
    """The model with the fitted values, its [fit] ranges those of the fit, renamed and cited."""
    parameters = dict(model.parameters)
    for r in ranges:
        parameters[r.name] = values[r.name] * parse_unit(r.unit)
    fit = dict(model.fit)
    for r in ranges:
        fit[r.name] = FitRange(r.low * parse_unit(r.unit), r.high * parse_unit(r.unit), r.scale)
    files = ", ".join(f"{Path(source).name}" for source in data.sources)
    text = ", ".join(f"{r.name} = {values[r.name]:.6g} {r.unit}" for r in ranges)
    fitted = dataclasses.replace(
        model, name=f"{model.name}_fitted", title=f"{model.title}, fitted to cell {data.cell}",
        citation=f"{model.citation} Parameters fitted by neurophase fit to {files} ({text}).",
        description=(f"{model.description} " if model.description else "") + f"Fitted to {files}.",
        parameters=parameters, fit=fit, source="<fitted>", text="")
    return dataclasses.replace(fitted, text=model_text(fitted))


def feature_names(spike_shape: bool) -> list[str]:
    """Per-step features a fit uses for a model that does (not) draw spikes.

    Parameters
    ----------
    spike_shape : bool
        The model draws its spikes (spike-shape features are used).

    Returns
    -------
    list of str
        Names of :data:`~neurophase.fit.features.FEATURES` with an objective group.
    """
    return [name for name, spec in FEATURES.items() if spec.group != "none" and (spike_shape or not spec.shape)]
