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
the run with a message naming it and listing what is allowed, and nothing is written.

:func:`run_experiment` writes into the output folder (through
:func:`neurophase.io.staged_output`, so a failed run leaves nothing half-written):

- ``<label>_<dataset>.nc``: every Dataset, with units and provenance in attrs;
- ``<label>_<figure>.png``: the figures;
- ``report.md``: every figure with its caption, the verdict table, the settings;
- ``verdicts.csv``: one row per checked prediction (``id, quantity, expected, measured,
  ci_low, ci_high, holds``).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import time
import tomllib
from pathlib import Path

import numpy as np

from neurophase.errors import ExperimentFileError, NeurophaseError
from neurophase.resources import experiments_directory, list_experiments

__all__ = ["MEASUREMENTS", "Experiment", "Measurement", "load_experiment", "run_experiment"]

#: Measurement name -> "module:function". Each function takes keyword settings and returns
#: ``(verdicts, datasets)``: a list of :class:`~neurophase.check.verdicts.Verdict` and a dict
#: name -> xarray.Dataset.
MEASUREMENTS = {
    "independent_channels": "neurophase.check.membrane:measure_independent_channels",
    "critical_behaviour": "neurophase.check.membrane:measure_critical_behaviour",
    "hysteresis": "neurophase.check.membrane:measure_hysteresis",
    "quench": "neurophase.check.membrane:measure_quench",
    "lattice": "neurophase.check.membrane:measure_lattice",
    "learning": "neurophase.check.learning:measure_learning",
    "gating": "neurophase.check.gating:measure_gating",
    "zero_temperature": "neurophase.check.gating:measure_zero_temperature",
    "neurone_class1_onset": "neurophase.check.neurone:measure_class1_onset",
    "neurone_class2_bistability": "neurophase.check.neurone:measure_class2_bistability",
    "neurone_noise_temperature": "neurophase.check.neurone:measure_noise_temperature",
    "neurone_activation_fit": "neurophase.check.neurone:measure_activation_fit",
    "recordings": "neurophase.check.recordings:measure_recordings",
    "sweep": "neurophase.check.sweep:measure_sweep",
    "coarse_graining_table": "neurophase.check.coarse_graining:measure_coarse_graining_table",
    "coarse_graining_threshold": "neurophase.check.coarse_graining:measure_spike_threshold",
    "population": "neurophase.check.population:measure_population",
    "fitting": "neurophase.check.fitting:measure_fitting",
}

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
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ExperimentFileError(f"{where} is not valid TOML: {error}. Fix the syntax.") from error
    for table, content in data.items():
        if table not in _ALLOWED:
            raise ExperimentFileError(
                f"{where}: unknown key or table {table!r}. Allowed: "
                f"{', '.join('[' + name + ']' for name in ('experiment', 'execution'))} and "
                "[[measurement]] entries."
            )
        allowed = _ALLOWED[table]
        if allowed is not None:
            if not isinstance(content, dict):
                raise ExperimentFileError(f"{where}: [{table}] must be a table.")
            unknown = sorted(set(content) - allowed)
            if unknown:
                raise ExperimentFileError(
                    f"{where}: unknown key(s) {', '.join(unknown)} in [{table}]. Allowed keys: "
                    f"{', '.join(sorted(allowed))}."
                )
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
        measurements.append(Measurement(function=function, label=label, settings=settings, folder=folder))
    seed = execution.get("seed")
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


def _fail_keeping_finished(experiment, results, failed, out, error):
    """Save the measurements that finished to ``<out>.partial`` and raise a clear error."""
    from neurophase.check.verdicts import write_verdicts_csv
    from neurophase.io import save_dataset, staged_output

    out = Path(out)
    kept = ""
    if results:
        partial = out.with_name(out.name + ".partial")
        with staged_output(partial) as stage:
            verdicts = []
            for measurement, (found, datasets, _) in zip(experiment.measurements, results):
                verdicts.extend(found)
                for name, dataset in datasets.items():
                    save_dataset(dataset, stage / f"{measurement.label}_{name}.nc")
            write_verdicts_csv(verdicts, stage / "verdicts.csv")
        kept = (f" The {len(results)} measurement(s) that finished before it were saved in {partial}.")
    raise NeurophaseError(
        f"Measurement {failed.label!r} ({failed.function}) failed: {type(error).__name__}: {error}."
        f"{kept} The output folder {out} was not written; fix the cause and run again."
    ) from error


def run_experiment(path_or_name, out, scheduler=None, progress=None):
    """Run an experiment file and write its results into the folder ``out``.

    Parameters
    ----------
    path_or_name : str or Path
        An experiment file, or the name of a shipped one (``"quickstart"``).
    out : str or Path
        Output folder; created if needed. Written only when the whole run succeeds.
    scheduler : str, optional
        Overrides ``[execution] scheduler`` (see :mod:`neurophase.sweep`).
    progress : bool, optional
        Show progress bars (default: only on a terminal).

    Returns
    -------
    dict
        ``verdicts`` (list of Verdict), ``files`` (written paths), ``seconds`` (wall time).
    """
    from neurophase.check.verdicts import write_verdicts_csv
    from neurophase.io import save_dataset, staged_output
    from neurophase.plot import figures_for, summary_figure
    from neurophase.progress import progress_bar
    from neurophase.report import write_report
    from neurophase.schema import content_hash
    from neurophase.sweep import get_executor

    experiment = load_experiment(path_or_name)
    chosen = scheduler if scheduler is not None else experiment.scheduler
    started = time.perf_counter()
    jobs = [(measurement, experiment.seed) for measurement in experiment.measurements]
    with get_executor(chosen, workers=experiment.workers) as executor:
        if executor.name == "serial":
            results = []
            bar = progress_bar(jobs, description="measurements", enabled=progress, unit="measurement")
            for job in bar:
                bar.set_postfix_str(job[0].label)
                try:
                    results.append(_run_measurement(job))
                except Exception as error:
                    _fail_keeping_finished(experiment, results, job[0], out, error)
        else:
            results = executor.map(_run_measurement, jobs)
    out = Path(out)
    written = []
    all_verdicts = []
    sections = []
    with staged_output(out) as stage:
        for measurement, (verdicts, datasets, seconds) in zip(experiment.measurements, results):
            all_verdicts.extend(verdicts)
            files = []
            for name, dataset in datasets.items():
                dataset.attrs.setdefault("experiment", experiment.name)
                dataset.attrs.setdefault("experiment_hash", content_hash(experiment.text))
                filename = f"{measurement.label}_{name}.nc"
                save_dataset(dataset, stage / filename)
                files.append(filename)
            figures = []
            for stem, figure, caption in figures_for(measurement.function, datasets, verdicts):
                filename = f"{measurement.label}_{stem}.png"
                figure.savefig(stage / filename, dpi=110, bbox_inches="tight")
                import matplotlib.pyplot as plt

                plt.close(figure)
                figures.append((filename, caption))
            sections.append({"measurement": measurement, "verdicts": verdicts, "datasets": files,
                             "figures": figures, "seconds": seconds})
        write_verdicts_csv(all_verdicts, stage / "verdicts.csv")
        summary = summary_figure(all_verdicts)
        if summary is not None:
            import matplotlib.pyplot as plt

            summary.savefig(stage / "summary_verdicts.png", dpi=110, bbox_inches="tight")
            plt.close(summary)
        seconds = time.perf_counter() - started
        write_report(stage / "report.md", experiment, sections, all_verdicts,
                     scheduler=chosen or "serial", seconds=seconds,
                     summary=("summary_verdicts.png" if summary is not None else None))
        written = sorted(path.name for path in stage.iterdir())
    return {"verdicts": all_verdicts, "files": [out / name for name in written], "seconds": seconds}
