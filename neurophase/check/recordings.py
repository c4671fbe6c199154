"""Prediction C5 on real recordings: does the derived activation describe measured f-I curves?

For every cell, the f-I curve (steady-state rate against step current, steps that passed
quality control, trial means) is fitted by the derived activation family and its rivals
(logistic, rectified tanh, softplus, ReLU, rectified power law) with
:class:`neurophase.neurons.fit.ActivationFit` (held-out error by K-fold cross-validation,
bootstrap confidence intervals); the verdicts go to ``verdicts.csv``, with figures and a
Markdown report.

Functions
---------
analyse_recordings
    Files -> (Datasets, verdicts); with ``out=`` also writes the output folder.
analyse_cell
    One :class:`~neurophase.recordings.base.Recording` -> :class:`CellAnalysis`.
measure_recordings
    The same as a registered measurement of an experiment file (``function = "recordings"``).
add_recordings_parser, run_recordings
    The ``neurophase recordings FILE... --out DIR`` command.

Verdicts (one set per cell; ids from THEORY.md section 7)
    ``C5`` *held-out RMSE excess of the derived activation over the best candidate (Hz)*:
    expected 0 (the derived family is the best or indistinguishable from it). The measured
    value is ``RMSE_derived - min_c RMSE_c`` over the held-out points; its interval is a
    percentile bootstrap over points of the same paired statistic (the same folds for every
    candidate; Efron & Tibshirani 1993, ch. 13). It holds when 0 is inside the interval.
    ``C1`` *onset exponent p of r = a (I - I_c)^p (1)*: expected 1/2 for a class-1
    (saddle-node on invariant circle) neurone (Ermentrout 1996, Neural Comput. 8:979;
    THEORY.md section 6). Fitted on the rising part of the f-I curve only (currents up to
    the first reaching 80% of the maximum rate), with the bootstrap interval of
    ActivationFit; it holds when 1/2 is inside. Not reported with fewer than three firing
    levels in that range.

Output folder (written through :func:`neurophase.io.staged_output`: all or nothing)
    ``verdicts.csv``, ``report.md``, ``features.csv``, ``<cell>.nc`` (the Dataset),
    ``<cell>_fi.png`` (f-I with fitted candidates), ``<cell>_traces.png`` (example steps with
    the detected spikes).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neurophase.check.compare import heldout_excess
from neurophase.check.verdicts import make_verdict, write_verdicts_csv
from neurophase.errors import NeurophaseError, ParameterError, RecordingError
from neurophase.neurons.fit import DEFAULT_CANDIDATES, ActivationFit
from neurophase.recordings.dataset import recording_dataset
from neurophase.recordings.features import fi_features
from neurophase.recordings.read import read_recordings
from neurophase.report import escape_cell

if TYPE_CHECKING:
    import xarray as xr
    from brian2.units.fundamentalunits import Quantity

    from neurophase.check.verdicts import Verdict
    from neurophase.recordings.base import Recording

logger = logging.getLogger("neurophase")

__all__ = ["analyse_recordings", "analyse_cell", "measure_recordings", "CellAnalysis", "add_recordings_parser",
           "run_recordings", "minimum_bootstrap"]


def minimum_bootstrap(confidence: float = 0.95) -> int:
    """Fewest bootstrap resamples that resolve both ends of a ``confidence`` percentile interval:
    ``ceil(2 / (1 - confidence))`` (40 at 95 %), so that at least one resample lies beyond each
    end (Efron & Tibshirani 1993, ch. 13, recommend 1000 or more for intervals; 200 is the
    default here, as a compromise with run time).

    Parameters
    ----------
    confidence : float, dimensionless
        Level of the interval, in (0, 1).

    Returns
    -------
    int
        The number of resamples.

    Examples
    --------
    >>> minimum_bootstrap()
    40
    """
    return int(math.ceil(round(2.0 / (1.0 - confidence), 9)))


@dataclasses.dataclass
class CellAnalysis:
    """Everything computed for one cell.

    Attributes
    ----------
    recording : Recording
        The cell's recording.
    dataset : xarray.Dataset
        Its f-I Dataset (:func:`neurophase.recordings.dataset.recording_dataset`).
    features : dict
        :func:`neurophase.recordings.features.fi_features` (currents in pA, rates in Hz).
    fit : ActivationFit or None
        The candidate activations fitted to the f-I curve (None: too few levels).
    onset_fit : ActivationFit or None
        The power law fitted to the rising part (C1).
    onset_range : (float, float), pA
        Currents of that rising part.
    verdicts : list of Verdict
        C5 (and C1) rows of the cell.
    notes : list of str
        Why a fit was not made.
    """

    recording: Recording
    dataset: xr.Dataset
    features: dict
    fit: Any = None
    onset_fit: Any = None
    onset_range: tuple = (math.nan, math.nan)
    verdicts: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)


def _fit_data(dataset, response):
    """The trial-mean f-I curve of the steps that passed quality control."""
    passed = dataset[[response]].where(dataset["qc_pass"] == 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = passed.mean("trial", keep_attrs=True)
    mean[response].attrs = dict(dataset[response].attrs)
    mean["input"].attrs = dict(dataset["input"].attrs)
    return mean.dropna("input")


def _add_fitted_curves(dataset, fit, prefix, candidates, span=None):
    """Add each fitted candidate's curve on a 200-point current grid to ``dataset`` (for the figures).

    Variables ``<prefix>_<candidate>`` (the response unit) on the coordinate ``<prefix>_input``
    (the unit of ``input``); ``attrs`` gain ``<prefix>_candidates``, ``<prefix>_heldout_rmse`` and
    ``<prefix>_best``. Curves fitted to these data: estimates, not predictions.
    """
    from neurophase.units import parse_unit

    unit = dataset["input"].attrs.get("units", "pA")
    low, high = span if span is not None else (float(np.nanmin(dataset["input"])), float(np.nanmax(dataset["input"])))
    grid = np.linspace(low, high, 200)
    dataset.coords[f"{prefix}_input"] = (f"{prefix}_input", grid, {"units": unit,
                                                                   "long_name": "current grid of the fitted curves"})
    response_unit = getattr(fit, "response_unit_", "Hz") or "Hz"
    for name in candidates:
        predicted = fit.predict(grid * parse_unit(unit), candidate=name)
        if hasattr(predicted, "dim"):  # a Brian2 Quantity
            predicted = predicted / parse_unit(response_unit)
        values = np.asarray(predicted, dtype=float)
        dataset[f"{prefix}_{name}"] = (f"{prefix}_input", values,
                                       {"units": response_unit, "long_name": f"{name} fitted to this cell"})
    dataset.attrs[f"{prefix}_candidates"] = [str(name) for name in candidates]
    dataset.attrs[f"{prefix}_heldout_rmse"] = [float(fit.scores_["heldout_rmse"].sel(candidate=name))
                                               for name in candidates]
    dataset.attrs[f"{prefix}_best"] = str(fit.best_)


def analyse_cell(recording: Recording, candidates: str | Sequence[str] = DEFAULT_CANDIDATES, response: str = "rate",
                 folds: int = 5, n_bootstrap: int = 200, random_state: int = 0,
                 spike_settings: dict[str, Any] | None = None,
                 qc_settings: dict[str, Any] | None = None) -> CellAnalysis:
    """Dataset, f-I features, fits and verdicts of one recording (see the module docstring).

    Parameters
    ----------
    recording : Recording
        One cell's current-clamp steps.
    candidates : str or sequence of str
        Activation candidates of :class:`~neurophase.neurons.fit.ActivationFit`.
    response : str
        ``"rate"`` (steady-state) or ``"count_rate"``.
    folds : int
        Cross-validation folds.
    n_bootstrap : int
        Bootstrap resamples of the intervals.
    random_state : int
        Seeds the folds and the bootstrap.
    spike_settings, qc_settings : dict, optional
        Overrides of the spike-detection and quality-control defaults.

    Returns
    -------
    CellAnalysis
        Dataset (with the fitted curves for the figures), features, fits, C5/C1 verdicts and notes.
    """
    dataset = recording_dataset(recording, spike_settings=spike_settings, qc_settings=qc_settings)
    features = fi_features(dataset, response=response)
    analysis = CellAnalysis(recording, dataset, features)
    cell = recording.cell
    data = _fit_data(dataset, response)
    n_levels = data.sizes["input"]
    firing_levels = int(np.count_nonzero(data[response].values > 0))
    minimum_points = 2 * folds if folds else 6
    if n_levels < max(minimum_points, 6) or firing_levels < 3:
        analysis.notes.append(
            f"not fitted: {n_levels} current levels passed quality control with {firing_levels} firing; "
            f"the fit needs at least {max(minimum_points, 6)} levels and 3 firing ones")
        return analysis
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = ActivationFit(candidates=candidates, folds=folds, n_bootstrap=n_bootstrap,
                            random_state=random_state).fit(data, response=response)
    analysis.fit = fit
    _add_fitted_curves(dataset, fit, "fit", fit.candidates_)
    if "derived" in fit.candidates_:
        excess, low, high = heldout_excess(fit.heldout_errors_, "derived", random_state=random_state)
        ranking = sorted(zip(fit.scores_["heldout_rmse"].values, fit.candidates_))
        order = ", ".join(f"{name} {value:.3g}" for value, name in ranking)
        analysis.verdicts.append(make_verdict(
            f"C5-{cell}", f"held-out RMSE excess of the derived activation over the best candidate "
            f"({fit.response_unit_}), {cell}", 0.0, excess, low, high,
            note=f"best {fit.best_}; held-out RMSE by candidate: {order}; {n_levels} levels, {folds}-fold"))
    # onset exponent: power law on the rising part of the curve only
    upper = features["slope_range"][1]
    if math.isfinite(upper):
        rising = data.where(data["input"] <= upper, drop=True)
        rising_firing = int(np.count_nonzero(rising[response].values > 0))
        if rising_firing >= 3 and rising.sizes["input"] >= 5:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                onset = ActivationFit(candidates=("power_law",), folds=min(folds, rising.sizes["input"] // 2),
                                      n_bootstrap=n_bootstrap, random_state=random_state).fit(rising, response=response)
            analysis.onset_fit = onset
            analysis.onset_range = (float(rising["input"].min()), float(upper))
            _add_fitted_curves(dataset, onset, "onset", ("power_law",), analysis.onset_range)
            exponent = onset.params_["power_law"]["exponent"].value
            low, high = onset.param_ci_["power_law"]["exponent"]
            analysis.verdicts.append(make_verdict(
                f"C1-{cell}", f"onset exponent p of r = a (I - I_c)^p on the rising f-I, {cell}", 0.5,
                exponent, low, high,
                note=f"currents {analysis.onset_range[0]:g} to {upper:g} pA, {rising_firing} firing levels"))
        else:
            analysis.notes.append(f"onset exponent not fitted: only {rising_firing} firing levels below "
                                  f"{upper:g} pA (needs 3)")
    return analysis


def _unique_cells(recordings):
    seen = {}
    for recording in recordings:
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in (recording.cell or "cell"))
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        recording.cell = name


def analyse_recordings(paths: Sequence[str | Path], out: str | Path | None = None, *,
                       candidates: str | Sequence[str] = DEFAULT_CANDIDATES, response: str = "rate", folds: int = 5,
                       n_bootstrap: int = 200, random_state: int = 0, spike_settings: dict[str, Any] | None = None,
                       qc_settings: dict[str, Any] | None = None, file_format: str | None = None,
                       on_error: str = "raise", figures: bool = True, failures: list[tuple[str, str]] | None = None,
                       progress: bool | None = None,
                       **reader_options: Any) -> tuple[list[xr.Dataset], list[Verdict]]:
    """Read recordings, build their Datasets, fit their f-I curves and write verdicts.

    Parameters
    ----------
    paths : sequence of str or pathlib.Path
        Files (ABF, NWB, CSV, Neo formats) or folders / groups of Igor ``.ibw`` files.
    out : str or pathlib.Path, optional
        Output folder (see the module docstring); nothing is written without it.
    candidates : str or sequence of str
        Passed to :class:`~neurophase.neurons.fit.ActivationFit`.
    folds : int
        Cross-validation folds.
    n_bootstrap : int
        Bootstrap resamples (at least :func:`minimum_bootstrap`).
    random_state : int
        Seeds the folds and the bootstrap.
    response : str
        ``"rate"`` (steady-state, default) or ``"count_rate"``.
    spike_settings, qc_settings : dict, optional
        Overrides of the spike-detection and quality-control defaults.
    file_format : str, optional
        Force a reader.
    on_error : {"raise", "report"}
        On an unreadable file: raise :class:`~neurophase.errors.RecordingError`, or list the
        file and its error in the report and go on with the others.
    figures : bool
        Draw the figures (with ``out``).
    failures : list, optional
        With ``on_error="report"``, ``(file, error message)`` pairs are appended to it.
    progress : bool, optional
        A bar over the cells (default: on a terminal only); one log line per cell (logger
        ``"neurophase"``) in every case.
    **reader_options : object
        E.g. ``liquid_junction_potential="14 mV"``, ``step_amplitudes``, ``step_windows``.

    Returns
    -------
    datasets : list of xarray.Dataset
        One per analysed cell.
    verdicts : list of Verdict
        The C5 and C1 rows of every cell.
    """
    if on_error not in ("raise", "report"):
        raise NeurophaseError(f"on_error={on_error!r} must be 'raise' or 'report'.")
    if not isinstance(n_bootstrap, int) or n_bootstrap < minimum_bootstrap():
        raise ParameterError(
            f"n_bootstrap = {n_bootstrap!r} is too few resamples for the 95% intervals of the verdicts; "
            f"use at least {minimum_bootstrap()} (default 200).")
    paths = [Path(path) for path in paths]
    if not paths:
        raise RecordingError("No recording files given.")
    recordings = []
    failures = failures if failures is not None else []
    if on_error == "raise":
        recordings = read_recordings(paths, file_format=file_format, **reader_options)
    else:
        singles = [path for path in paths if path.suffix.lower() != ".ibw"]
        igor = [path for path in paths if path.suffix.lower() == ".ibw"]
        groups = [[path] for path in singles] + ([igor] if igor else [])
        for group in groups:
            try:
                recordings.extend(read_recordings(group, file_format=file_format, **reader_options))
            except NeurophaseError as error:
                failures.append((", ".join(map(str, group)), str(error)))
    _unique_cells(recordings)
    analyses = []
    from neurophase.progress import progress_bar

    bar = progress_bar(recordings, description="cells", enabled=progress, unit="cell")
    for number, recording in enumerate(bar, start=1):
        bar.set_postfix_str(recording.cell)
        logger.info("[%d/%d] cell %s (%s)", number, len(recordings), recording.cell,
                    Path(recording.source_file).name)
        try:
            analyses.append(analyse_cell(recording, candidates=candidates, response=response, folds=folds,
                                         n_bootstrap=n_bootstrap, random_state=random_state,
                                         spike_settings=spike_settings, qc_settings=qc_settings))
        except NeurophaseError as error:
            if on_error == "raise":
                raise
            failures.append((recording.source_file, str(error)))
    if not analyses and failures:
        reasons = "; ".join(f"{name}: {' '.join(str(error).split())}" for name, error in failures)
        raise RecordingError(f"none of the {len(failures)} recording(s) could be analysed ({reasons}); "
                             "fix or leave out these files. Nothing was written.")
    verdicts = [verdict for analysis in analyses for verdict in analysis.verdicts]
    if out is not None:
        from neurophase.io import staged_output

        with staged_output(out) as staging:
            _write_outputs(staging, analyses, verdicts, failures, response, spike_settings, figures)
    return [analysis.dataset for analysis in analyses], verdicts


# --------------------------------------------------------------------------------------------
# Output folder
# --------------------------------------------------------------------------------------------
_FEATURE_COLUMNS = ("cell", "rheobase_pA", "last_silent_current_pA", "slope_Hz_per_pA", "slope_se_Hz_per_pA",
                    "max_rate_Hz", "saturation_current_pA", "adaptation_index", "block_onset_current_pA",
                    "n_levels", "n_excluded_steps", "best_candidate")


def _feature_row(analysis):
    features = analysis.features
    return {
        "cell": analysis.recording.cell, "rheobase_pA": features["rheobase"],
        "last_silent_current_pA": features["last_silent_current"], "slope_Hz_per_pA": features["slope"],
        "slope_se_Hz_per_pA": features["slope_se"], "max_rate_Hz": features["max_rate"],
        "saturation_current_pA": features["saturation_current"], "adaptation_index": features["adaptation_index"],
        "block_onset_current_pA": features["block_onset_current"], "n_levels": features["n_levels"],
        "n_excluded_steps": analysis.dataset.attrs["n_excluded"],
        "best_candidate": analysis.fit.best_ if analysis.fit is not None else "",
    }


def _format(value, digits=4):
    if isinstance(value, (float, np.floating)):
        return "nan" if not math.isfinite(value) else f"{value:.{digits}g}"
    return str(value)


def _write_outputs(folder, analyses, verdicts, failures, response, spike_settings, figures):
    from neurophase.io import save_dataset

    folder = Path(folder)
    write_verdicts_csv(verdicts, folder / "verdicts.csv")
    with (folder / "features.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=_FEATURE_COLUMNS)
        writer.writeheader()
        for analysis in analyses:
            writer.writerow({key: _format(value, 6) for key, value in _feature_row(analysis).items()})
    figure_captions = {}
    for analysis in analyses:
        cell = analysis.recording.cell
        save_dataset(analysis.dataset, folder / f"{cell}.nc")
        if figures:
            from neurophase.figures.recordings import plot_example_traces, plot_fi_curve

            fi_name, traces_name = f"{cell}_fi.png", f"{cell}_traces.png"
            plot_fi_curve(analysis, folder / fi_name, response=response)
            shown = plot_example_traces(analysis, folder / traces_name, spike_settings=spike_settings)
            figure_captions[cell] = [
                (fi_name, f"f-I curve of {cell}: {response} of every step (filled: passed quality control; "
                          "grey crosses: excluded), trial means (black) and every fitted candidate "
                          "(legend: held-out RMSE)."),
                (traces_name, f"Example steps of {cell} ({shown}); detected spikes marked with dots, the step "
                              "window shaded."),
            ]
    (folder / "report.md").write_text(_report(analyses, verdicts, failures, response, figure_captions))


def _report(analyses, verdicts, failures, response, figure_captions):
    lines = ["# Recordings: f-I curves against the derived activation (prediction C5)", ""]
    lines += [
        "Each cell's f-I curve is the trial-mean steady-state rate "
        f"(`{response}`) of the current steps that passed quality control, fitted by every candidate "
        "family with K-fold held-out error and bootstrap confidence intervals "
        "(`neurophase.neurons.fit.ActivationFit`, unweighted: two trials per level give no usable "
        "standard errors). Spikes: `neurophase.recordings.spikes` (peak above -20 mV, local prominence "
        ">= 20 mV within 40 ms, upstroke >= 5 mV/ms, 1 ms apart). Quality control: "
        "`neurophase.recordings.qc`.", "",
        "## Verdicts", "",
        "| id | quantity | expected | measured | CI | holds |", "|---|---|---|---|---|---|",
    ]
    for verdict in verdicts:
        lines.append(f"| {escape_cell(verdict.id)} | {escape_cell(verdict.quantity)} | {verdict.expected:g} | "
                     f"{verdict.measured:.4g} | [{verdict.ci_low:.4g}, {verdict.ci_high:.4g}] | "
                     f"{'yes' if verdict.holds else 'no'} |")
    if not verdicts:
        lines.append("| - | no cell could be fitted | | | | |")
    lines += ["", "Verdict notes:", ""]
    lines += [f"- {verdict.id}: {verdict.criterion}; {verdict.note}" for verdict in verdicts]
    if failures:
        lines += ["", "## Files not analysed", ""]
        lines += [f"- `{name}`: {error}" for name, error in failures]
    for analysis in analyses:
        recording, dataset, features = analysis.recording, analysis.dataset, analysis.features
        cell = recording.cell
        lines += ["", f"## Cell `{cell}`", ""]
        lines += [
            f"- files: {', '.join('`' + Path(p).name + '`' for p in recording.source_files)} "
            f"({recording.file_format}, protocol `{recording.protocol}`)",
            f"- sampling rate {recording.sampling_rate:g} Hz; voltage in file `{recording.voltage_unit}`, current "
            f"`{recording.current_unit}`; step amplitudes from {recording.current_source}",
            f"- liquid junction potential {recording.liquid_junction_potential:g} mV (subtracted from reported "
            "potentials)",
            f"- {recording.n_steps} test steps in {len(recording.sweeps)} sweeps; {dataset.attrs['n_excluded']} "
            "excluded",
            "",
            "| rheobase (pA) | last silent (pA) | slope (Hz/pA) | max rate (Hz) | saturation (pA) | "
            "adaptation index | block onset (pA) |",
            "|---|---|---|---|---|---|---|",
            f"| {_format(features['rheobase'])} | {_format(features['last_silent_current'])} | "
            f"{_format(features['slope'])} +- {_format(features['slope_se'])} | {_format(features['max_rate'])} | "
            f"{_format(features['saturation_current'])} | {_format(features['adaptation_index'])} | "
            f"{_format(features['block_onset_current'])} |",
        ]
        excluded = json.loads(dataset.attrs["excluded"])
        lines += ["", "Quality-control exclusions:", ""]
        if excluded:
            lines += ["| sweep | step | current (pA) | reason |", "|---|---|---|---|"]
            lines += [f"| {item['sweep']} | {escape_cell(item['step'])} | {item['input_pA']:g} | "
                      f"{escape_cell(item['reason'])} |" for item in excluded]
        else:
            lines.append("none")
        if analysis.fit is not None:
            lines += ["", "### Fit", "", analysis.fit.summary()]
        if analysis.onset_fit is not None:
            lines += ["", f"### Onset (power law on {analysis.onset_range[0]:g} to {analysis.onset_range[1]:g} pA)",
                      "", analysis.onset_fit.summary()]
        for note in analysis.notes:
            lines += ["", f"Note: {note}"]
        for name, caption in figure_captions.get(cell, []):
            lines += ["", f"![{caption}]({name})", "", f"*{name}*: {caption}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# As a measurement of an experiment file
# --------------------------------------------------------------------------------------------
def measure_recordings(paths: str | Path | Sequence[str | Path], candidates: str | Sequence[str] = DEFAULT_CANDIDATES,
                       response: str = "rate", folds: int = 5, n_bootstrap: int = 200, seed: int = 0,
                       liquid_junction_potential: Quantity | str | None = None,
                       file_format: str | None = None) -> tuple[list[Verdict], dict[str, xr.Dataset]]:
    """C5 (and C1 on recordings) as a measurement: ``(verdicts, datasets)`` like every ``measure_*``.

    Parameters
    ----------
    paths : str, pathlib.Path or sequence of them
        Recording files or folders (relative paths are relative to the working directory).
    candidates : str or sequence of str
        As in :func:`analyse_recordings`.
    response : str
        As in :func:`analyse_recordings`.
    folds : int
        Cross-validation folds.
    n_bootstrap : int
        Bootstrap resamples.
    seed : int
        :func:`analyse_recordings`'s ``random_state``.
    liquid_junction_potential : Quantity (voltage) or str, optional
        Subtracted from the recorded potentials (e.g. ``14 * mV``).
    file_format : str, optional
        Force a reader.

    Returns
    -------
    (list of Verdict, dict of Dataset)
        One Dataset per cell, named after the cell.
    """
    options = {} if liquid_junction_potential is None else {"liquid_junction_potential": liquid_junction_potential}
    if isinstance(paths, (str, Path)):
        paths = [paths]
    datasets, verdicts = analyse_recordings(paths, candidates=candidates, response=response, folds=folds,
                                            n_bootstrap=n_bootstrap, random_state=seed, file_format=file_format,
                                            figures=False, **options)
    return verdicts, {str(dataset.attrs.get("cell", f"cell{number}")): dataset
                      for number, dataset in enumerate(datasets)}


# --------------------------------------------------------------------------------------------
# The command line: its parser lives in the light module neurophase.check.recordings_command
# --------------------------------------------------------------------------------------------
from neurophase.check.recordings_command import add_recordings_parser, run_recordings  # noqa: E402
