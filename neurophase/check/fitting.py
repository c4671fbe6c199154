"""F1 and F2 on a fitted cell: held-out sweeps and the fitted model's f-I, as verdict rows.

Functions
---------
fit_verdicts
    A :class:`~neurophase.fit.fitter.FitResult` -> verdict rows (F1-fI, F1-features, F2, and
    parameter recovery rows when the true parameters are known).
write_fit_outputs
    The output folder of ``neurophase fit``: ``fit_parameters.nc``, ``fit_features.nc``,
    ``fit_archive.nc``, ``fitted.toml``, figures, ``report.md``, ``verdicts.csv``.
measure_fitting
    The experiment measurement (``experiments/fitting.toml``): fit each recording with each model.
add_fit_parser, run_fit
    The ``neurophase fit`` command: ``--out`` and every option checked before anything is read;
    a checkpoint after every generation (``OUT/fit_checkpoint.pkl``); Ctrl-C writes no result
    and ``--resume`` continues from the checkpoint; ``--overwrite`` starts a new fit in a used
    ``--out``.

Verdict rules (fixed before any fit was run)
    ``F1-fI``: root-mean-square difference between the fitted model's and the cell's spike rates
    on the held-out steps, expected 0 Hz, rule ``tolerance`` with tolerance one spike per step
    duration (2 Hz for 500-ms steps): the resolution of a rate counted over one step, below which
    no model can be asked to agree. Interval: BCa bootstrap over the held-out steps.
    ``F1-features``: RMS of the held-out z-scores of the other features (latency, ISI CV,
    adaptation, subthreshold, spike shape where used), expected 0, tolerance 2 (two measurement
    scales, see :mod:`neurophase.fit.objectives`), rule ``tolerance``.
    ``F2``: the fitted model's predicted f-I (closed form, or the fitted f-I; see
    :mod:`neurophase.fit.predict`) against the recorded rates of the held-out steps, as F1-fI;
    for conductance models the derived threshold (the fold) against the recorded rheobase of the
    held-out steps, tolerance the current spacing of those steps (the resolution of a recorded
    rheobase). Nothing of the held-out steps was used to set the prediction.
    ``R-<parameter>`` (synthetic cells): the fitted value against the true one, rule
    ``interval_or_tolerance`` with a relative tolerance of 10%: holds when the true value is
    inside the bootstrap interval or within 10% of the fit (the acceptance of issue 12).
"""

from __future__ import annotations

import argparse
import json
import time as wallclock
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neurophase.check.verdicts import make_verdict, write_verdicts_csv
from neurophase.docstrings import template
from neurophase.errors import ParameterError
from neurophase.subcommands import BRIAN2_DEVICES, add_output_arguments, parser_adder

if TYPE_CHECKING:
    import xarray as xr
    from brian2.units.fundamentalunits import Quantity

    from neurophase.check.verdicts import Verdict
    from neurophase.fit.fitter import FitResult

__all__ = ["fit_verdicts", "write_fit_outputs", "measure_fitting", "add_fit_parser", "run_fit", "held_out_errors"]

_doc = template()


def _rms_interval(squares, seed=0):
    from neurophase.statistics import bootstrap_interval

    squares = np.asarray(squares, dtype=float)
    squares = squares[np.isfinite(squares)]
    if squares.size == 0:
        return np.nan, np.nan, np.nan

    def rms(values, axis=-1):
        return np.sqrt(np.mean(values, axis=axis))

    estimate, low, high = bootstrap_interval(squares, statistic=rms, n_resamples=2000, seed=seed)
    return float(estimate), float(low), float(high)


def held_out_errors(result: FitResult) -> dict[str, Any]:
    """Per held-out step: the recorded and the fitted model's rate, and the feature z-scores.

    Parameters
    ----------
    result : FitResult
        A finished fit (:func:`neurophase.fit.fitter.fit_model`).

    Returns
    -------
    dict
        ``current`` (pA), ``duration`` (s), ``recorded_rate`` and ``simulated_rate`` (Hz): arrays
        over the held-out steps; ``z``: feature name -> z-scores of the fitted model on those steps
        (in units of the feature's recorded spread, :mod:`neurophase.fit.objectives`; empty
        without held-out steps).
    """
    from neurophase.fit.objectives import Target

    held = np.isin(result.recorded["sweep"].values, result.held_out)
    recorded, simulated = result.recorded.isel(step=held), result.simulated.isel(step=held)
    target = Target.from_dataset(recorded, result.held_out, result.spike_shape) if held.any() else None
    z = None
    if target is not None:
        values = np.array([simulated[name].values for name in target.features])[None]
        z = dict(zip(target.features, target.z_scores(values)[0]))
    return {"current": recorded["current"].values, "duration": recorded["step_duration"].values,
            "recorded_rate": recorded["spike_rate"].values, "simulated_rate": simulated["spike_rate"].values,
            "z": z or {}}


def fit_verdicts(result: FitResult, truth: dict[str, float] | None = None, label: str = "") -> list[Verdict]:
    """Verdict rows of one fit (rules fixed in the module docstring).

    Parameters
    ----------
    result : FitResult
        A finished fit.
    truth : dict of str to float, optional
        Known true parameter values of a synthetic cell, each in the unit of its fit range
        (``result.ranges``, e.g. Mohm for ``R_m``): adds one ``R-<name>`` row per parameter.
    label : str
        Prefix of every row's quantity (e.g. the cell and model of an experiment).

    Returns
    -------
    list of Verdict
        ``F1-fI`` (Hz), ``F1-features`` (z), ``F2`` (Hz, or pA for the derived threshold), and
        the ``R-`` rows.
    """
    from neurophase.fit.predict import predict_fi

    prefix = f"{label}: " if label else ""
    verdicts = []
    errors = held_out_errors(result)
    n_held = errors["current"].size
    duration = float(np.median(errors["duration"])) if n_held else np.nan
    resolution = 1.0 / duration if n_held else np.nan
    model_name = result.model.name
    if n_held:
        squares = (errors["simulated_rate"] - errors["recorded_rate"]) ** 2
        estimate, low, high = _rms_interval(squares)
        verdicts.append(make_verdict(
            "F1-fI", f"{prefix}held-out rate RMS error of {model_name} (Hz)", 0.0, estimate, low, high,
            tolerance=resolution, rule="tolerance",
            note=(f"{n_held} held-out steps; tolerance = one spike per {duration * 1e3:g} ms step (the count "
                  "resolution of a recorded rate). holds: the fitted model reproduces the held-out f-I within "
                  "that resolution. Expected value: the recorded rates themselves (nothing fitted to them).")))
        rest = [values for name, values in errors["z"].items() if name != "spike_rate"]
        if rest:
            squares_z = np.concatenate([values[np.isfinite(values)] ** 2 for values in rest])
            estimate, low, high = _rms_interval(squares_z)
            used = [name for name in errors["z"] if name != "spike_rate"]
            verdicts.append(make_verdict(
                "F1-features", f"{prefix}held-out feature RMS z of {model_name}", 0.0, estimate, low, high,
                tolerance=2.0, rule="tolerance",
                note=(f"features {', '.join(used)} on the held-out steps; z in units of the feature's recorded "
                      "spread or resolution; tolerance 2 = two such units. holds: the held-out features are "
                      "reproduced within two measurement scales.")))
        prediction = predict_fi(result.fitted_model, errors["current"], duration)
        if prediction["rates"] is not None:
            squares = (np.asarray(prediction["rates"]) - errors["recorded_rate"]) ** 2
            estimate, low, high = _rms_interval(squares)
            verdicts.append(make_verdict(
                "F2", f"{prefix}{prediction['path']} of fitted {model_name} vs held-out f-I: rate RMS (Hz)", 0.0,
                estimate, low, high, tolerance=resolution, rule="tolerance",
                note=(f"path: {prediction['note']}. Compared with the recorded rates of the {n_held} held-out steps "
                      "(not used to fit). Tolerance as F1-fI. holds: the fitted model's f-I predicts the cell's.")))
        else:
            firing = errors["recorded_rate"] > 0
            currents = np.sort(np.unique(errors["current"]))
            spacing = float(np.median(np.diff(currents))) if currents.size > 1 else np.nan
            recorded_rheobase = float(errors["current"][firing].min()) if firing.any() else np.nan
            verdicts.append(make_verdict(
                "F2", f"{prefix}derived threshold (fold) of fitted {model_name} vs held-out rheobase (pA)",
                recorded_rheobase, prediction["rheobase"], np.nan, np.nan, tolerance=spacing, rule="tolerance",
                note=(f"path: {prediction['note']}. Tolerance: the current spacing of the held-out steps "
                      f"({spacing:g} pA), the resolution of the recorded rheobase. holds: the derived spinodal "
                      "predicts the cell's threshold. Derived from the fitted model, nothing fitted to the f-I.")))
    for name, true_value in (truth or {}).items():
        fitted = result.values[name]
        low, high = result.intervals[name]
        unit = next(r.unit for r in result.ranges if r.name == name)
        verdicts.append(make_verdict(
            f"R-{name}", f"{prefix}recovered {name} ({unit})", float(true_value), fitted, low, high, tolerance=0.1,
            relative=True, rule="interval_or_tolerance",
            note=(f"synthetic cell with known parameters; interval: {_interval_text(result)}. holds: the true value "
                  "is within 10% of the fit or inside the interval (issue 12 acceptance).")))
    return verdicts


# ---------------------------------------------------------------------------------------------- outputs
def _interval_text(result):
    from neurophase.fit.fitter import INTERVAL_METHODS

    return INTERVAL_METHODS[result.interval_method]


def _parameter_dataset(result):
    import xarray as xr

    from neurophase.schema import provenance

    variables = {}
    for r in result.ranges:
        low, high = result.intervals[r.name]
        variables[r.name] = xr.DataArray(
            np.array([result.values[r.name], low, high, r.low, r.high]), dims=("estimate",),
            attrs={"units": r.unit, "scale": r.scale, "long_name": f"fitted {r.name}"})
    attrs = provenance(model_name=result.model.name, model_hash=result.model.content_hash, cell=result.data.cell,
                       source_files=json.dumps(result.data.sources), file_hashes=json.dumps(result.data.hashes),
                       train_sweeps=json.dumps(result.train), held_out_sweeps=json.dumps(result.held_out),
                       generations=result.generations, settings=json.dumps(result.settings, default=str),
                       settings_hash=result.settings_hash, optimiser="pymoo NSGA-II",
                       interval=_interval_text(result), refinement_iterations=result.refined)
    return xr.Dataset(variables, coords={"estimate": ["fit", "ci_low", "ci_high", "range_low", "range_high"]},
                      attrs=attrs)


def _features_dataset(result):
    import xarray as xr

    split = np.where(np.isin(result.recorded["sweep"].values, result.train), "train", "held_out")
    combined = xr.concat([result.recorded, result.simulated], dim=xr.DataArray(["recorded", "fitted"],
                                                                                dims="source", name="source"))
    combined = combined.assign_coords(split=("step", split))
    combined.attrs = {"cell": result.data.cell, "model_name": result.fitted_model.name,
                      "excluded": json.dumps(result.data.excluded)}
    return combined


def _archive_dataset(result):
    import xarray as xr

    archive = result.archive
    variables = {
        "objectives": xr.DataArray(archive["objectives"], dims=("candidate", "group"), attrs={"units": "1"}),
        "diverged": xr.DataArray(archive["diverged"].astype(np.int8), dims=("candidate",), attrs={"units": "1"}),
        "generation": xr.DataArray(archive["generation"].astype(np.int64), dims=("candidate",), attrs={"units": "1"}),
        "feature_rms_z": xr.DataArray(archive["feature_rms"], dims=("candidate", "feature"), attrs={"units": "1"}),
    }
    for k, r in enumerate(result.ranges):
        variables[r.name] = xr.DataArray(archive["values"][:, k], dims=("candidate",), attrs={"units": r.unit})
    return xr.Dataset(variables, coords={"group": list(result.target.groups), "feature": list(result.target.features)})


def _report(result, verdicts, figures, seconds):
    from neurophase.report import verdict_table

    lines = [f"# Fit of `{result.model.name}` to cell {result.data.cell}", "",
             f"Recordings: {', '.join(Path(s).name for s in result.data.sources)}; training sweeps {result.train}, "
             f"held-out sweeps {result.held_out}; excluded: {result.data.excluded or 'none'}.",
             f"NSGA-II (pymoo), population {result.settings['population']}, {result.generations} generations, then "
             f"{result.refined} CMA-ES refinement iterations, seed "
             f"{result.settings['seed']}, dt {result.settings['dt_ms']:g} ms, Brian2 {result.settings['device']}; "
             f"objectives (RMS z per group): {', '.join(result.target.groups)}; features: "
             f"{', '.join(result.target.features)}.",
             f"Wall time {seconds:.0f} s; simulation {result.timing['evaluation_seconds']:.0f} s for "
             f"{result.timing['neurone_steps']:.3g} neurone-steps.", "",
             "## Fitted parameters", "",
             f"| parameter | fitted | 95% interval ({result.interval_method}) | unit | search range | scale |",
             "|---|---|---|---|---|---|"]
    for name, value, low, high, unit, range_low, range_high, scale in result.parameter_table():
        lines.append(f"| {name} | {value:.4g} | [{low:.4g}, {high:.4g}] | {unit} | [{range_low:g}, {range_high:g}] "
                     f"| {scale} |")
    lines += ["", f"Interval: {_interval_text(result)}; it is conditional on the candidates the search evaluated "
              "(see neurophase.fit.fitter).",
              "", "## Verdicts", "", verdict_table(verdicts), ""]
    for verdict in verdicts:
        lines.append(f"- **{verdict.id}** ({verdict.quantity}): {verdict.note}")
    lines += ["", "## Figures", ""]
    for stem, caption in figures:
        lines += [f"![{caption}]({stem}.png)", "", caption, ""]
    lines += ["`fitted.toml` is the fitted cell as a model file: `neurophase fi fitted.toml --input 0 300 10 pA "
              "--out fi.nc` runs it like any library model."]
    return "\n".join(lines) + "\n"


def write_fit_outputs(result: FitResult, folder: str | Path, verdicts: list[Verdict],
                      seconds: float = 0.0) -> list[str]:
    """Write every output of one fit into ``folder``.

    Parameters
    ----------
    result : FitResult
        A finished fit.
    folder : str or Path
        An existing folder (``neurophase fit`` gives a staging folder, moved into place only
        when everything is written).
    verdicts : list of Verdict
        The rows of :func:`fit_verdicts`.
    seconds : float
        Wall-clock duration of the fit (s), for the report.

    Returns
    -------
    list of str
        The names of the files in ``folder``, sorted.
    """
    import matplotlib.pyplot as plt

    from neurophase.figures.fit import fit_figures
    from neurophase.io import save_dataset
    from neurophase.micro.modelfile import model_text

    folder = Path(folder)
    save_dataset(_parameter_dataset(result), folder / "fit_parameters.nc")
    _features_dataset(result).to_netcdf(folder / "fit_features.nc")
    save_dataset(_archive_dataset(result), folder / "fit_archive.nc")
    header = (f"Fitted by neurophase fit ({result.generations} generations, seed {result.settings['seed']}) to "
              f"{', '.join(Path(s).name for s in result.data.sources)}.\nIntervals: fit_parameters.nc and report.md.")
    (folder / "fitted.toml").write_text(model_text(result.fitted_model, header=header))
    captions = []
    for stem, figure, caption in fit_figures(result, verdicts):
        figure.savefig(folder / f"{stem}.png", dpi=110)
        plt.close(figure)
        captions.append((stem, caption))
    write_verdicts_csv(verdicts, folder / "verdicts.csv")
    (folder / "report.md").write_text(_report(result, verdicts, captions, seconds))
    return sorted(path.name for path in folder.iterdir())


# -------------------------------------------------------------------------------------------- measurement
def measure_fitting(recordings: str | Path | Sequence[str | Path],
                    models: Sequence[str] = ("leaky_integrate_and_fire", "adaptive_exponential_2005"),
                    generations: int = 20, population: int = 32, seed: int = 0, dt: Quantity | str | None = None,
                    train_sweeps: Sequence[int] | None = None,
                    liquid_junction_potential: Quantity | str | None = None, ephys_dir: str | Path | None = None,
                    trace_objective: bool = False) -> tuple[list[Verdict], dict[str, xr.Dataset]]:
    """F1/F2 of every model fitted to every cell (the ``fitting`` measurement).

    Relative paths are read from ``ephys_dir`` (default ``$NEUROPHASE_EPHYS_DIR``, else
    ``../shared/data/ephys`` from the working folder): the data are never copied into the repository.

    Parameters
    ----------
    recordings : str, Path or sequence of them
        Recording files or folders, one cell each.
    models : sequence of str
        Library models (or model files) fitted to every cell; their input must be a current.
    generations, population : int
        NSGA-II generations (>= 1) and candidates per generation (>= 4).
    seed : int
        Seed of the optimiser.
    dt : Quantity or str, optional
        Integration step, a time (default each model's).
    train_sweeps : sequence of int, optional
        Training sweeps (default every other sweep by current).
    liquid_junction_potential : Quantity or str, optional
        A voltage subtracted from the recorded potential (folders of Igor files only).
    ephys_dir : str or Path, optional
        Folder of relative recording paths.
    trace_objective : bool
        Add the voltage-trace error as an objective group.

    Returns
    -------
    (list of Verdict, dict of str to xarray.Dataset)
        The rows of :func:`fit_verdicts` per cell and model, and the fitted parameters and
        features of every fit (``<cell>_<model>_parameters``, ``<cell>_<model>_features``).
    """
    import os

    from neurophase.fit.fitter import fit_model
    from neurophase.recordings.read import read_recordings

    folder = Path(ephys_dir or os.environ.get("NEUROPHASE_EPHYS_DIR") or "../shared/data/ephys")
    verdicts, datasets = [], {}
    for path in ([recordings] if isinstance(recordings, (str, Path)) else recordings):
        path = Path(path) if Path(path).is_absolute() else folder / path
        if not path.exists():
            raise ParameterError(f"Recording {path} not found: set ephys_dir (or NEUROPHASE_EPHYS_DIR) to the folder "
                                 "of the shared recordings.")
        options = {}
        if liquid_junction_potential is not None and Path(path).is_dir():
            options["liquid_junction_potential"] = liquid_junction_potential
        cell_recordings = read_recordings([path], **options)
        for model in models:
            result = fit_model(model, cell_recordings, generations=generations, population=population, seed=seed,
                               dt=dt, train_sweeps=train_sweeps, trace_objective=trace_objective)
            label = f"{result.data.cell} {model}"
            verdicts += fit_verdicts(result, label=label)
            key = f"{result.data.cell}_{model}"
            datasets[f"{key}_parameters"] = _parameter_dataset(result)
            features = _features_dataset(result)
            features["objective_groups"] = ("group", list(result.target.groups))
            datasets[f"{key}_features"] = _with_prediction(_numeric(features), result)
    return verdicts, datasets


def _with_prediction(dataset, result, points=60):
    """Add the fitted model's F2 prediction (:func:`neurophase.fit.predict.predict_fi`) for the figure.

    ``predicted_rate`` (Hz) on ``points`` currents spanning the recorded steps (pA) when the path
    predicts rates; attrs ``prediction_path`` and ``predicted_rheobase`` (pA, NaN if none).
    """
    from neurophase.fit.predict import predict_fi

    current = np.asarray(result.recorded["current"].values, dtype=float)
    duration = float(np.median(result.recorded["step_duration"].values))
    grid = np.linspace(current.min(), current.max(), points)
    prediction = predict_fi(result.fitted_model, grid, duration)
    if prediction["rates"] is not None:
        dataset = dataset.assign_coords(prediction_current=("prediction_current", grid,
                                                            {"units": "pA", "long_name": "step current"}))
        dataset["predicted_rate"] = (("prediction_current",), np.asarray(prediction["rates"], dtype=float),
                                     {"units": "Hz", "long_name": f"{prediction['path']} of the fitted model "
                                                                  "from rest (F2)"})
    dataset.attrs["prediction_path"] = prediction["path"]
    dataset.attrs["predicted_rheobase"] = float(prediction["rheobase"])
    return dataset


def _numeric(dataset):
    """Drop text variables and give unit-less variables a unit, as the schema's writer requires."""
    for name in list(dataset.data_vars):
        if dataset[name].dtype.kind in "OUS":
            dataset = dataset.drop_vars(name)
        elif "units" not in dataset[name].attrs:
            dataset[name].attrs["units"] = "1"
    return dataset


# ------------------------------------------------------------------------------------------------ command
def _fit_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``neurophase fit`` on ``parser``."""
    parser.add_argument("model", help="library model name or model file (its input must be a current)")
    parser.add_argument("recordings", nargs="+", help="ABF, NWB, CSV or Igor files (or a folder) of one cell")
    parser.add_argument("--param", nargs=4, action="append", metavar=("NAME", "LOW", "HIGH", "UNIT"),
                        help="fit NAME between LOW and HIGH (in UNIT); repeat for more. Without --param every "
                             "parameter of the model's [fit] table is fitted; with it, exactly the given ones")
    parser.add_argument("--log", action="append", default=[], metavar="NAME",
                        help="search NAME on a log scale (default: the scale of its [fit] entry, else linear)")
    parser.add_argument("--train-sweeps", nargs="+", type=int, default=None,
                        help="training sweeps (numbers in file order); default every other sweep by current")
    parser.add_argument("--generations", type=int, default=20, help="NSGA-II generations (>= 1, default 20)")
    parser.add_argument("--population", type=int, default=32, help="candidates per generation (>= 4, default 32)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the optimiser (0 .. 2**32 - 1, default 0)")
    parser.add_argument("--dt", default=None, help="integration step, e.g. '0.05 ms' (default the model's)")
    parser.add_argument("--device", default="runtime", choices=BRIAN2_DEVICES)
    parser.add_argument("--liquid-junction-potential", default=None, help="e.g. '14 mV' (subtracted from V)")
    parser.add_argument("--trace-objective", action="store_true",
                        help="add the voltage-trace error with spikes cut out as an objective group")
    parser.add_argument("--resume", action="store_true",
                        help="continue the fit checkpointed in --out (same settings; a larger --generations extends "
                             "a finished fit)")
    add_output_arguments(parser, "output folder (results written only when the fit finishes)",
                         "start a new fit in an --out folder that holds files or an earlier fit's checkpoint")


add_fit_parser = parser_adder(
    "fit", "fit a neurone model to current-clamp step recordings (NSGA-II over feature z-scores)",
    "Fit MODEL's parameters to RECORDING(s) of one cell; writes fitted parameters with intervals, "
    "fitted.toml, figures, report.md and verdicts.csv (F1 held-out, F2 predicted f-I). After every "
    "generation OUT/fit_checkpoint.pkl keeps the fit: an interrupted fit continues with --resume.",
    _fit_arguments)


#: The checkpoint file of ``neurophase fit`` inside ``--out``.
CHECKPOINT_NAME = "fit_checkpoint.pkl"


def _check_fit_output(out, resume, overwrite):
    """Refuse, before anything is read, an ``--out`` that the fit cannot use (see :func:`run_fit`)."""
    from neurophase.errors import OutputError
    from neurophase.records import check_output_folder

    out = Path(out)
    checkpoint = out / CHECKPOINT_NAME
    if resume and overwrite:
        raise ParameterError("--resume continues the fit in --out and --overwrite starts a new one; give only one.")
    if resume:
        if out.exists() and not out.is_dir():
            raise OutputError(f"--out {out} is a file; --resume needs the folder of an interrupted fit.")
        if not checkpoint.is_file():
            raise OutputError(f"--resume: there is no checkpoint to resume ({checkpoint}); run without --resume.")
        check_output_folder(out, overwrite=True, resume_record=False)  # writable
        return
    if checkpoint.exists() and not overwrite:
        finished = any(path.name != CHECKPOINT_NAME for path in out.iterdir())
        raise OutputError(
            f"--out {out} holds {'the result and ' if finished else ''}the checkpoint of an earlier fit; add --resume "
            "to continue it (same settings), --overwrite to start a new fit there, or choose a new folder.")
    check_output_folder(out, overwrite=overwrite, resume_record=False)


def _parameter_options(args):
    """``--param`` and ``--log`` as the ``parameters`` argument of :func:`~neurophase.fit.fitter.fit_model`."""
    import math

    from neurophase.errors import NeurophaseError
    from neurophase.units import parse_unit

    overrides = None
    if args.param:
        overrides = {}
        for name, low, high, unit in args.param:
            example = f"e.g. --param {name} 10 100 {unit}"
            try:
                low_value, high_value = float(low), float(high)
            except ValueError:
                raise ParameterError(f"--param {name}: LOW and HIGH must be numbers (got {low!r}, {high!r}), "
                                     f"{example}.") from None
            if not (math.isfinite(low_value) and math.isfinite(high_value)):
                raise ParameterError(f"--param {name} {low} {high}: LOW and HIGH must be finite numbers, {example}.")
            try:
                unit_value = parse_unit(unit)
            except NeurophaseError as error:
                reason = " ".join(str(error).split()).rstrip(".")
                raise ParameterError(f"--param {name}: the unit {unit!r} cannot be read ({reason}).") from None
            # without --log the scale is the model's [fit] scale for that parameter (linear if undeclared)
            overrides[name] = (low_value * unit_value, high_value * unit_value) + (
                ("log",) if name in args.log else ())
    unknown_log = [name for name in args.log if not overrides or name not in overrides]
    if unknown_log:
        raise ParameterError(f"--log {' '.join(unknown_log)}: give a --param NAME LOW HIGH UNIT range for each "
                             "parameter searched on a log scale.")
    return overrides


@_doc
def run_fit(args: argparse.Namespace) -> int:
    """Run ``neurophase fit`` (the arguments of :func:`add_fit_parser`).

    Checked before anything is read or simulated: ``--out`` (new or empty; with files or an
    earlier fit's checkpoint only with ``--overwrite``; ``--resume`` needs the checkpoint),
    the numbers and quantities of the options. After every generation the checkpoint
    ``OUT/fit_checkpoint.pkl`` is replaced; the results are written (all at once) only when
    the fit finishes. Ctrl-C leaves the checkpoint of the generations finished so far, and the
    same command with ``--resume`` continues it to exactly the uninterrupted result (an
    interrupted fit raises :class:`~neurophase.errors.InterruptedRunError`, exit status 130).

    %(subcommand_run)s
    """
    from neurophase.errors import InterruptedRunError
    from neurophase.fit.fitter import fit_model
    from neurophase.interrupts import interrupt_forced
    from neurophase.io import staged_output
    from neurophase.micro.modelfile import load_model
    from neurophase.recordings.read import read_recordings
    from neurophase.units import option_quantity

    started = wallclock.perf_counter()
    _check_fit_output(args.out, args.resume, args.overwrite)
    if args.generations < 1:
        raise ParameterError(f"--generations {args.generations} must be at least 1.")
    if args.population < 4:
        raise ParameterError(f"--population {args.population} must be at least 4 (NSGA-II needs parents to mate).")
    if not 0 <= args.seed < 2**32:
        raise ParameterError(f"--seed {args.seed} must be in 0 .. 2**32 - 1.")
    dt = option_quantity(args.dt, "--dt", "ms", "0.05 ms", sign="positive")
    options = {}
    if args.liquid_junction_potential:
        options["liquid_junction_potential"] = option_quantity(args.liquid_junction_potential,
                                                               "--liquid-junction-potential", "mV", "14 mV")
    model = load_model(args.model)
    overrides = _parameter_options(args)
    recordings = read_recordings(args.recordings, **options)
    out = Path(args.out)
    checkpoint = out / CHECKPOINT_NAME
    reached = [0]

    def progress(generation, generations, best, seconds):
        reached[0] = generation
        step = (f"generation {generation}/{generations}" if generation <= generations else
                f"refinement iteration {generation - generations}")
        print(f"{step}: best objective norm {best:.3g} ({seconds:.0f} s)", flush=True)

    try:
        result = fit_model(model, recordings, parameters=overrides, train_sweeps=args.train_sweeps,
                           generations=args.generations, population=args.population, seed=args.seed,
                           checkpoint=checkpoint, resume=args.resume, overwrite=args.overwrite, dt=dt,
                           device=args.device, progress=progress, trace_objective=args.trace_objective)
    except (KeyboardInterrupt, InterruptedRunError) as error:
        if interrupt_forced() or not checkpoint.is_file() or not (reached[0] or args.resume):
            raise
        cause = " ".join(str(error).split()).split("; ")[0] if str(error) else "stopped by Ctrl-C"
        kept = f"generation {reached[0]} of {args.generations}" if reached[0] else "the fit so far"
        raise InterruptedRunError(
            f"{cause}; nothing was written but the checkpoint {checkpoint} ({kept}): run the same command with "
            "--resume to continue the fit.") from None
    verdicts = fit_verdicts(result)
    with staged_output(out) as staging:
        write_fit_outputs(result, staging, verdicts, seconds=wallclock.perf_counter() - started)
    for name, value, low, high, unit, *_ in result.parameter_table():
        print(f"  {name:<14} {value:.4g} {unit}  [{low:.4g}, {high:.4g}]")
    for verdict in verdicts:
        print(f"  {verdict.id:<12} {'holds' if verdict.holds else 'FAILS':<6} {verdict.quantity}: measured "
              f"{verdict.measured:.4g} [{verdict.ci_low:.4g}, {verdict.ci_high:.4g}], expected {verdict.expected:.4g}")
    print(f"wrote {out} (report.md, fitted.toml, verdicts.csv) in {wallclock.perf_counter() - started:.0f} s")
    return 0
