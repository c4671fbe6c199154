"""Declarative experiments: a TOML file of measurements, run end to end into one output folder.

An experiment file looks like this (``experiments/quickstart.toml`` is the full example)::

    [experiment]
    name = "quickstart"                 # required
    title = "..."                       # required
    description = "..."                 # optional, goes into the report

    [execution]                         # optional
    scheduler = "serial"                # "serial" (default), "local" (Dask on this machine) or
                                        # a Dask scheduler address "tcp://host:8786"
    seed = 20261128                     # base seed handed to every measurement that takes one

    [[measurement]]                     # one or more
    function = "independent_channels"   # a name from MEASUREMENTS, or "package.module:callable"
    label = "p1"                        # optional: prefix of its output files
    N = 2000                            # settings: keyword arguments of the function;
    tau0 = "1 ms"                       # strings with units become Brian2 quantities,
    levels = { start = "0 pA", stop = "500 pA", step = "10 pA" }   # grid tables Quantity arrays
    sigmas = ["1 pA", "2 pA"]           # and lists of quantities one Quantity array

A measurement of one's own is any callable ``f(**settings) -> (verdicts, datasets)`` named as
``"package.module:callable"``; the module is imported from the Python path or from the folder of
the experiment file (so ``my_measurements.py`` beside ``my_experiment.toml`` works; on a Dask
cluster the workers need it importable too). The generic ``sweep`` measurement
(:mod:`neurophase.check.sweep`) runs any model file over any grid and checks verdicts declared
in the file itself (``[[measurement.verdicts]]`` tables: id, quantity, expected, tolerance,
rule, note). ``experiments/README.md`` has a worked example.

Every key is checked before anything runs: an unknown table, key, measurement or setting stops
the run with a message naming it and listing what is allowed, and nothing is written. Every
setting is checked against the unit its function takes (declared with
:func:`neurophase.units.setting_units`, else read from the default: a number means a
dimensionless number), so ``temperature = "1 mV"`` is an error, not 0.001.

Each measurement is written as soon as it finishes (serial or Dask) into the resume record
``<out>.partial`` (:mod:`neurophase.records`); the output folder is assembled from it when all
have finished, and the record is then deleted. After a failure or Ctrl-C the record keeps the
finished measurements; ``run_experiment(..., resume=True)`` (``neurophase run --resume``) runs
only the others (an entry counts when its settings hash and every checksum match), so the
verdicts equal those of an uninterrupted run with the same seed.

:func:`run_experiment` writes into the output folder (through
:func:`neurophase.io.staged_output`, so a failed run leaves nothing half-written):

- ``<label>_<dataset>.nc``: every Dataset, with units and provenance in attrs;
- ``<label>_<figure>.png``: the figures;
- ``report.md``: every figure with its caption, the verdict table, the settings;
- ``verdicts.csv``: one row per checked prediction (``id, quantity, expected, measured,
  ci_low, ci_high, holds``);
- ``manifest.json``: the SHA-256 of every file and the settings hash of every measurement.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import logging
import re
import time
from pathlib import Path

import numpy as np

from neurophase.errors import ExperimentFileError, InterruptedRunError, NeurophaseError
from neurophase.resources import experiments_directory, list_experiments
from neurophase.tomlfile import read_tables

logger = logging.getLogger("neurophase")

__all__ = ["CATALOGUE", "MEASUREMENTS", "Experiment", "Measurement", "load_experiment", "run_experiment"]

#: Measurement name -> ("module:function" of the measurement, "module:function" of its figures).
#: A measurement function takes keyword settings and returns ``(verdicts, datasets)``: a list of
#: :class:`~neurophase.check.verdicts.Verdict` and a dict name -> xarray.Dataset; its figure
#: function takes ``(datasets, verdicts)`` and returns ``(stem, figure, caption)`` triples
#: (:mod:`neurophase.figures`).
CATALOGUE = {
    "independent_channels": ("neurophase.check.membrane:measure_independent_channels",
                             "neurophase.figures.membrane:plot_independent_channels"),
    "critical_behaviour": ("neurophase.check.membrane:measure_critical_behaviour",
                           "neurophase.figures.membrane:plot_critical_behaviour"),
    "hysteresis": ("neurophase.check.membrane:measure_hysteresis",
                   "neurophase.figures.membrane:plot_hysteresis"),
    "quench": ("neurophase.check.membrane:measure_quench",
               "neurophase.figures.membrane:plot_quench"),
    "lattice": ("neurophase.check.membrane:measure_lattice",
                "neurophase.figures.membrane:plot_lattice"),
    "learning": ("neurophase.check.learning:measure_learning",
                 "neurophase.figures.learning:plot_learning"),
    "gating": ("neurophase.check.gating:measure_gating",
               "neurophase.figures.gating:plot_gating"),
    "zero_temperature": ("neurophase.check.gating:measure_zero_temperature",
                         "neurophase.figures.gating:plot_zero_temperature"),
    "neurone_class1_onset": ("neurophase.check.neurone:measure_class1_onset",
                             "neurophase.figures.neurone:plot_onset"),
    "neurone_class2_bistability": ("neurophase.check.neurone:measure_class2_bistability",
                                   "neurophase.figures.neurone:plot_staircase"),
    "neurone_noise_temperature": ("neurophase.check.neurone:measure_noise_temperature",
                                  "neurophase.figures.neurone:plot_temperature"),
    "neurone_activation_fit": ("neurophase.check.neurone:measure_activation_fit",
                               "neurophase.figures.neurone:plot_activation"),
    "recordings": ("neurophase.check.recordings:measure_recordings",
                   "neurophase.figures.recordings:plot_recordings"),
    "sweep": ("neurophase.check.sweep:measure_sweep",
              "neurophase.figures.sweep:plot_sweep"),
    "coarse_graining_table": ("neurophase.check.coarse_graining:measure_coarse_graining_table",
                              "neurophase.figures.coarse_graining:table_figures"),
    "coarse_graining_threshold": ("neurophase.check.coarse_graining:measure_spike_threshold",
                                  "neurophase.figures.coarse_graining:threshold_figures"),
    "population": ("neurophase.check.population:measure_population",
                   "neurophase.figures.population:figures"),
    "coarse_graining_pulse": ("neurophase.check.coarse_graining:measure_channel_noise_pulse",
                              "neurophase.figures.coarse_graining:pulse_figures"),
    "coarse_graining_escape": ("neurophase.check.coarse_graining:measure_channel_noise_escape",
                               "neurophase.figures.coarse_graining:escape_figures"),
    "fitting": ("neurophase.check.fitting:measure_fitting",
                "neurophase.figures.fit:plot_fitting"),
}
#: Measurement name -> "module:function" of the measurement (see :data:`CATALOGUE`).
MEASUREMENTS = {name: measure for name, (measure, _) in CATALOGUE.items()}

_ALLOWED = {
    "experiment": {"name", "title", "description"},
    "execution": {"scheduler", "seed", "workers"},
    "measurement": None,
}


@dataclasses.dataclass(frozen=True)
class Measurement:
    """One ``[[measurement]]`` entry: the function name, its label and its parsed settings."""

    function: str
    label: str
    settings: dict
    folder: str = ""
    raw: dict = dataclasses.field(default_factory=dict)  # the settings as written (TOML values)

    def resolve(self):
        """The Python function behind :attr:`function`."""
        return _resolve(self.function, self.folder)


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A validated experiment file."""

    name: str
    title: str
    description: str
    scheduler: str | None
    seed: int | None
    workers: int | None
    measurements: tuple
    source: str
    text: str


def _resolve(name, folder=""):
    """The callable of a registered measurement name or of ``"package.module:callable"``."""
    import sys

    target = MEASUREMENTS.get(name, name)
    module_name, _, function_name = target.partition(":")
    added = bool(folder) and folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ExperimentFileError(
            f"Measurement {name!r}: cannot import module {module_name!r} ({error}). Put it on the Python path "
            "or beside the experiment file, or use a name from MEASUREMENTS.") from error
    finally:
        if added:
            sys.path.remove(folder)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ExperimentFileError(f"Measurement {name!r}: module {module_name!r} has no callable "
                                  f"{function_name!r}.")
    return function


def _parse_setting(value, key, where):
    from neurophase.units import GRID_KEYS, parse_grid, parse_quantity

    if isinstance(value, list):
        parsed = [_parse_setting(item, key, where) for item in value]
        return _as_quantity_array(parsed)
    if isinstance(value, dict):
        if tuple(sorted(value)) in (tuple(sorted(keys)) for keys in GRID_KEYS):
            try:
                return parse_grid(value, name=key)
            except NeurophaseError as error:
                raise ExperimentFileError(f"{where}: {error}") from error
        return {name: _parse_setting(item, f"{key}.{name}", where) for name, item in value.items()}
    if isinstance(value, str):
        try:
            return parse_quantity(value, name=key)
        except NeurophaseError:
            return value  # a plain word such as a target name
    return value


def _relative_to(value, folder):
    """A model-file path (``*.toml``) written relative to the experiment file, made absolute."""
    if isinstance(value, str) and value.endswith(".toml") and not Path(value).is_absolute():
        beside = Path(folder) / value
        if beside.exists():
            return str(beside)
    return value


def _as_quantity_array(items):
    """A list whose items are all quantities of one dimension becomes one Quantity array."""
    from brian2.units.fundamentalunits import Quantity, get_dimensions

    if items and all(isinstance(item, Quantity) and np.ndim(item) == 0 for item in items):
        dimension = get_dimensions(items[0])
        if all(get_dimensions(item) is dimension for item in items):
            return Quantity(np.array([float(np.asarray(item)) for item in items]), dim=dimension)
    return items


def load_experiment(path_or_name):
    """Read and validate an experiment file (a path, or the name of a shipped experiment)."""
    candidate = Path(str(path_or_name))
    if not candidate.exists():
        shipped = experiments_directory() / f"{path_or_name}.toml"
        if candidate.suffix != ".toml" and shipped.exists():
            candidate = shipped
        else:
            raise ExperimentFileError(
                f"No experiment file {str(path_or_name)!r}. Give the path of a .toml file or one of "
                f"the shipped experiments: {', '.join(list_experiments()) or '(none)'}."
            )
    text = candidate.read_text()
    where = f"experiment file {candidate}"
    data = read_tables(text, where, _ALLOWED, ExperimentFileError,
                       "unknown key or table {table!r}. Allowed: [experiment], [execution] and [[measurement]] "
                       "entries.", free_tables_are_tables=False)
    header = data.get("experiment")
    if not header or not header.get("name") or not header.get("title"):
        raise ExperimentFileError(f"{where}: [experiment] needs a name and a title.")
    entries = data.get("measurement")
    if not isinstance(entries, list) or not entries:
        raise ExperimentFileError(
            f"{where}: no [[measurement]] entries. Add at least one, e.g.\n"
            "[[measurement]]\nfunction = \"independent_channels\""
        )
    execution = data.get("execution", {})
    measurements = []
    labels = set()
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ExperimentFileError(f"{where}: measurement {number} must be a [[measurement]] table.")
        function = entry.get("function")
        if not isinstance(function, str) or (function not in MEASUREMENTS
                                             and not re.fullmatch(r"[\w.]+:\w+", function)):
            raise ExperimentFileError(
                f"{where}: measurement {number} has function = {function!r}, which is not known. "
                f"Known measurements: {', '.join(sorted(MEASUREMENTS))}; or name your own as "
                "\"package.module:callable\"."
            )
        label = str(entry.get("label", function))
        if label in labels:
            raise ExperimentFileError(
                f"{where}: two measurements share the label {label!r}; give each a distinct label."
            )
        labels.add(label)
        raw = {key: value for key, value in entry.items() if key not in ("function", "label")}
        folder = str(candidate.resolve().parent)
        _check_settings(function, raw, f"{where}, measurement {number} ({function})", folder)
        settings = {key: _relative_to(_parse_setting(value, key, where), folder) for key, value in raw.items()}
        settings = _check_setting_units(function, settings, raw, f"{where}, measurement {number} ({function})",
                                        folder)
        measurements.append(Measurement(function=function, label=label, settings=settings, folder=folder,
                                        raw=raw))
    seed = execution.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32):
        raise ExperimentFileError(f"{where}: [execution] seed = {seed!r} must be a whole number in 0 .. 2**32 - 1.")
    workers = execution.get("workers")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ExperimentFileError(f"{where}: [execution] workers = {workers!r} must be a whole number >= 1.")
    scheduler = execution.get("scheduler")
    if scheduler is not None:
        from neurophase.sweep import get_executor

        try:
            get_executor(scheduler)
        except NeurophaseError as error:
            raise ExperimentFileError(f"{where}: [execution] {error}") from None
    return Experiment(
        name=header["name"], title=header["title"], description=header.get("description", ""),
        scheduler=execution.get("scheduler"), seed=None if seed is None else int(seed),
        workers=execution.get("workers"), measurements=tuple(measurements),
        source=str(candidate), text=text,
    )


def _check_settings(function, settings, where, folder=""):
    signature = inspect.signature(_resolve(function, folder))
    parameters = signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    allowed = [name for name, p in parameters.items()
               if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
               and name not in ("progress",)]
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ExperimentFileError(
            f"{where}: unknown setting(s) {', '.join(unknown)}. Allowed settings: "
            f"{', '.join(allowed)}."
        )


def _setting_rule(function, name):
    """``(unit, numbers)`` for setting ``name`` of ``function``: the declared unit
    (:func:`neurophase.units.setting_units`) or the one its default implies; ``unit`` None means
    no check, ``"bool"`` a boolean, a callable a checker; ``numbers``: plain numbers are in
    ``unit``."""
    import numbers as numeric

    from brian2.units.fundamentalunits import Quantity

    declared = getattr(function, "setting_units", None) or {}
    if name in declared:
        return declared[name], name in (getattr(function, "setting_numbers", None) or ())
    parameter = inspect.signature(function).parameters.get(name)
    default = None if parameter is None else parameter.default

    def is_number(value):
        return isinstance(value, numeric.Real) and not isinstance(value, bool) and not isinstance(value, Quantity)

    if isinstance(default, bool):
        return "bool", False
    if isinstance(default, Quantity):
        return default, False
    if is_number(default):
        return "1", True
    if isinstance(default, (tuple, list)) and default and all(is_number(item) for item in default):
        return "1", True
    return None, False


def _check_setting_units(function, settings, raw, where, folder=""):
    """Check every setting against the unit its function takes; return the settings with
    quantities given for plain-number settings converted to those numbers (see
    :func:`_setting_rule`)."""
    from brian2.units.fundamentalunits import Quantity, get_dimensions, get_unit

    from neurophase.units import has_dimension_of, parse_quantity, parse_unit, to_magnitude

    resolved = _resolve(function, folder)
    checked = dict(settings)
    for name, value in settings.items():
        unit, numbers = _setting_rule(resolved, name)
        if unit is None:
            continue
        written = raw.get(name, value)
        if callable(unit) and not isinstance(unit, Quantity):
            try:
                unit(value, name)
            except NeurophaseError as error:
                raise ExperimentFileError(f"{where}: setting {name}: {error}") from None
            continue
        if unit == "bool":
            if not isinstance(value, bool):
                raise ExperimentFileError(f"{where}: setting {name} = {written!r} must be true or false.")
            continue
        unit_value = parse_unit(unit) if isinstance(unit, str) else unit
        unit_text = unit if isinstance(unit, str) else str(unit)
        if unit_text == "1":
            wanted = "a plain number (dimensionless)"
        elif numbers:
            wanted = f"a number of {unit_text} or a quantity such as '1 {unit_text}'"
        else:
            wanted = f"a quantity with its unit, such as '1 {unit_text}'"

        def one(item, text):
            if isinstance(item, (list, tuple)):
                texts = text if isinstance(text, (list, tuple)) and len(text) == len(item) else [text] * len(item)
                return [one(element, element_text) for element, element_text in zip(item, texts)]
            if isinstance(item, str):
                try:
                    parse_quantity(item, name=name)
                    problem = "is text"
                except NeurophaseError as error:
                    problem = f"cannot be read ({error})"
                raise ExperimentFileError(f"{where}: setting {name} = {text!r} {problem}; it takes {wanted}.")
            if isinstance(item, bool) or not isinstance(item, (int, float, Quantity)):
                raise ExperimentFileError(f"{where}: setting {name} = {text!r} is not a number; it takes {wanted}.")
            if not isinstance(item, Quantity):
                if numbers or has_dimension_of(item, unit_value):
                    return item
            elif has_dimension_of(item, unit_value):
                if not numbers:
                    return item
                magnitude = to_magnitude(item, unit_value, name=name)
                return float(magnitude) if np.ndim(magnitude) == 0 else magnitude.tolist()
            raise ExperimentFileError(
                f"{where}: setting {name} = {text!r} has dimension {get_unit(get_dimensions(item))!s}, "
                f"but {function} takes {wanted}. Fix its unit.")

        checked[name] = one(value, written)
    return checked


def _hash_inputs(measurement):
    """What besides the settings decides a measurement's result and can change between runs: the
    text of every model file it names and the source file of its function (SHA-256 each)."""
    from neurophase.records import file_sha256

    inputs = {}
    for key, value in sorted(measurement.settings.items()):
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if isinstance(item, str) and item.endswith(".toml") and Path(item).is_file():
                inputs[f"{key}:{Path(item).name}"] = file_sha256(item)
    try:
        source = inspect.getsourcefile(measurement.resolve())
    except TypeError:
        source = None
    if source:
        inputs["function source"] = file_sha256(source)
    return inputs


def _effective_seed(measurement, seed):
    """The seed ``_run_measurement`` hands to the measurement (None if it takes none)."""
    parameters = inspect.signature(measurement.resolve()).parameters
    if seed is not None and "seed" in parameters and "seed" not in measurement.settings:
        return seed
    return measurement.settings.get("seed")


def _run_measurement(job):
    """Run one measurement (top-level so that Dask can ship it to a worker)."""
    measurement, seed = job
    function = measurement.resolve()
    settings = dict(measurement.settings)
    if seed is not None and "seed" in inspect.signature(function).parameters and "seed" not in settings:
        settings["seed"] = seed
    started = time.perf_counter()
    verdicts, datasets = function(**settings)
    return list(verdicts), dict(datasets), time.perf_counter() - started


def _kept_text(record, out):
    if not len(record):
        return f"Nothing was finished, so nothing was kept; the output folder {out} was not written."
    return (f"The {len(record)} finished measurement(s) are kept in {record.folder}: run the same "
            f"command with --resume to continue. The output folder {out} was not written.")


def _run_pending(experiment, pending, executor, record, hashes, progress, out, finished_before):
    """Run ``pending`` measurements on ``executor``, writing each into ``record`` as it arrives."""
    from neurophase.interrupts import deferred_interrupts, interrupt_forced
    from neurophase.progress import progress_bar
    from neurophase.records import record_problem
    from neurophase.schema import content_hash
    from neurophase.sweep import TaskFailure

    total = len(experiment.measurements)
    jobs = [(measurement, experiment.seed) for measurement in pending]
    labels = [f"measurement {measurement.label!r} ({measurement.function})" for measurement in pending]
    bar = progress_bar(total=total, description="measurements", enabled=progress, unit="measurement")
    bar.update(finished_before)
    done = finished_before
    try:
        with executor:
            for index, (verdicts, datasets, seconds) in executor.as_completed(_run_measurement, jobs, labels):
                measurement = pending[index]
                for dataset in datasets.values():
                    dataset.attrs.setdefault("experiment", experiment.name)
                    dataset.attrs.setdefault("experiment_hash", content_hash(experiment.text))
                with deferred_interrupts():  # a first Ctrl-C lets this write finish
                    record.add(measurement.label, measurement.function, hashes[measurement.label],
                               verdicts, datasets, seconds)
                done += 1
                held = sum(verdict.holds for verdict in verdicts)
                bar.update(1)
                logger.info("[%d/%d] %s (%s) finished in %.1f s: %d of %d predictions hold",
                            done, total, measurement.label, measurement.function, seconds, held,
                            len(verdicts))
    except TaskFailure as failure:
        measurement, error = pending[failure.index], failure.error
        if isinstance(error, InterruptedRunError):
            raise InterruptedRunError(
                f"measurement {measurement.label!r} ({measurement.function}) was interrupted: "
                f"{error} {_kept_text(record, out)}") from error
        raise NeurophaseError(
            f"Measurement {measurement.label!r} ({measurement.function}) failed: "
            f"{record_problem(error)}. {_kept_text(record, out)} Fix the cause "
            "and run again.") from error
    except KeyboardInterrupt:
        how = "at once (second Ctrl-C)" if interrupt_forced() else "by Ctrl-C"
        raise InterruptedRunError(f"the run was stopped {how}. {_kept_text(record, out)}") from None
    finally:
        bar.close()


def _assemble(experiment, record, out, scheduler, started, overwrite):
    """Write the output folder from the finished record (datasets copied byte for byte, figures,
    verdicts.csv, report.md, manifest.json); return ``(verdicts, written file names, seconds)``."""
    import shutil

    import matplotlib.pyplot as plt

    from neurophase.check.verdicts import write_verdicts_csv
    from neurophase.io import staged_output
    from neurophase.plot import figures_for, summary_figure
    from neurophase.records import read_manifest, write_manifest
    from neurophase.report import write_report

    old = read_manifest(out) if overwrite and out.is_dir() else None
    all_verdicts, sections, measurements = [], [], {}
    with staged_output(out) as stage:
        for measurement in experiment.measurements:
            verdicts, datasets, seconds = record.load(measurement.label)
            all_verdicts.extend(verdicts)
            files = []
            for name, path in record.dataset_files(measurement.label).items():
                filename = f"{measurement.label}_{name}.nc"
                shutil.copyfile(path, stage / filename)
                files.append(filename)
            figures = []
            for stem, figure, caption in figures_for(measurement.function, datasets, verdicts):
                filename = f"{measurement.label}_{stem}.png"
                figure.savefig(stage / filename, dpi=110, bbox_inches="tight")
                plt.close(figure)
                figures.append((filename, caption))
            sections.append({"measurement": measurement, "verdicts": verdicts, "datasets": files,
                             "figures": figures, "seconds": seconds})
            entry = record.entries[measurement.label]
            measurements[measurement.label] = {"function": entry["function"],
                                               "settings_hash": entry["settings_hash"],
                                               "seconds": entry["seconds"], "datasets": files}
        write_verdicts_csv(all_verdicts, stage / "verdicts.csv")
        summary = summary_figure(all_verdicts)
        if summary is not None:
            summary.savefig(stage / "summary_verdicts.png", dpi=110, bbox_inches="tight")
            plt.close(summary)
        seconds = time.perf_counter() - started
        write_report(stage / "report.md", experiment, sections, all_verdicts,
                     scheduler=scheduler or "serial", seconds=seconds,
                     summary=("summary_verdicts.png" if summary is not None else None))
        write_manifest(stage, measurements)
        written = sorted(path.name for path in stage.iterdir())
    if old is not None:  # files of the older result that this run did not rewrite
        for name in set(old.get("files", {})) - set(written):
            stale = out / name
            if stale.is_file():
                stale.unlink()
    return all_verdicts, written, seconds


def run_experiment(path_or_name, out, scheduler=None, progress=None, resume=False, overwrite=False,
                   worker_timeout=None):
    """Run an experiment file and write its results into the folder ``out``.

    Parameters
    ----------
    path_or_name : str or Path
        An experiment file, or the name of a shipped one (``"quickstart"``).
    out : str or Path
        Output folder: absent or empty (or holding an older result, with ``overwrite``).
        Written only when the whole run succeeds.
    scheduler : str, optional
        Overrides ``[execution] scheduler`` (see :mod:`neurophase.sweep`).
    progress : bool, optional
        Progress bars (default: only on a terminal; log lines of the ``"neurophase"`` logger
        report each finished measurement in every case).
    resume : bool
        Continue from the resume record ``out.partial``: measurements recorded there with the
        same settings hash and intact checksums are not run again.
    overwrite : bool
        Replace an older result in ``out`` (files of its manifest that this run does not write
        are deleted; other files are kept), and discard a resume record instead of refusing.
    worker_timeout : float, optional
        Dask: seconds without any worker before the run gives up.

    Returns
    -------
    dict
        ``verdicts`` (list of Verdict), ``files`` (written paths), ``seconds`` (wall time),
        ``resumed`` (labels taken from the resume record).

    Raises
    ------
    OutputError
        ``out`` cannot be used (checked before anything runs).
    InterruptedRunError
        Ctrl-C or a Brian2 stop request: the finished measurements stay in ``out.partial``.
    NeurophaseError
        A measurement failed (its name and error in the message; the finished ones are kept).
    """
    from neurophase.progress import inner_progress
    from neurophase.records import ResumeRecord, check_output_folder, settings_hash
    from neurophase.sweep import get_executor

    experiment = load_experiment(path_or_name)
    out = Path(out)
    check_output_folder(out, overwrite=overwrite, resume=resume)
    chosen = scheduler if scheduler is not None else experiment.scheduler
    executor = get_executor(chosen, workers=experiment.workers, worker_timeout=worker_timeout)
    record = ResumeRecord(out.with_name(out.name + ".partial"))
    if record.exists() and not resume:  # overwrite: start again
        record.remove()
        record = ResumeRecord(record.folder)
    hashes = {measurement.label: settings_hash(measurement.function, measurement.raw,
                                               _effective_seed(measurement, experiment.seed),
                                               _hash_inputs(measurement))
              for measurement in experiment.measurements}
    finished = [measurement.label for measurement in experiment.measurements
                if resume and record.finished(measurement.label, hashes[measurement.label])]
    for label in list(record.entries):
        if label not in finished:  # changed settings, damaged files, or no longer in the file
            record.discard(label)
    for label in finished:
        logger.info("%s: taken from the resume record %s (settings and checksums match)", label,
                    record.folder)
    pending = [measurement for measurement in experiment.measurements if measurement.label not in finished]
    started = time.perf_counter()
    if pending:
        with inner_progress(progress is not False and getattr(executor, "name", "") == "serial"):
            _run_pending(experiment, pending, executor, record, hashes, progress, out, len(finished))
    verdicts, written, seconds = _assemble(experiment, record, out, chosen, started, overwrite)
    record.remove()
    logger.info("wrote %d files to %s", len(written), out)
    return {"verdicts": verdicts, "files": [out / name for name in written], "seconds": seconds,
            "resumed": finished}
