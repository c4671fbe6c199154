"""The ``neurophase population`` subcommand: a recurrent population's rate over a (w, drive) grid,
simulated and predicted.

Usage::

    neurophase population MODEL --coupling START STOP STEP UNIT --drive START STOP STEP UNIT
                          [--noise SIGMA] [--size N_pop] [--indegree K] [--synapse delta|current]
                          [--synaptic-tau TAU] [--delay D] [--kick I] [--duration T]
                          [--transient T] [--seeds S] [--dt DT] [--transfer-drive START STOP STEP UNIT]
                          [--transfer-noise SIGMA ...] [--device cpp_standalone|runtime] --out DIR
                          [--overwrite]

Every (w, drive) point, started low and high, is one population of ONE Brian2 network
(:func:`neurophase.micro.network.simulate_populations`); the prediction is the derived population
mean field (:mod:`neurophase.mapping.population`: Siegert for the LIF, the uncoupled model's
measured transfer function otherwise, measured over ``--transfer-drive`` x ``--transfer-noise``).
Writes ``population_stationary.nc`` (measured and predicted rates), ``population_theory.nc``
(branches, folds, cusp), the figures, ``verdicts.csv`` (Q1 per coupling) and ``report.md`` into
``--out`` (only when the whole run succeeds; a folder holding files needs ``--overwrite``). Every
option is checked, with its name in the error, before anything is computed. From Python:
:func:`population_sweep`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from neurophase.docstrings import template
from neurophase.errors import ParameterError
from neurophase.subcommands import BRIAN2_DEVICES, add_grid_argument, add_output_arguments, parser_adder

if TYPE_CHECKING:
    import xarray as xr
    from brian2.units.fundamentalunits import Quantity

    from neurophase.check.verdicts import Verdict
    from neurophase.micro.modelfile import Model

__all__ = ["add_population_parser", "run_population", "population_sweep"]

_doc = template()


def population_sweep(model: str | Path | Model, couplings: Quantity, drives: Quantity, noise: Quantity,
                     size: int = 1000, indegree: int = 100, synapse: str = "delta",
                     synaptic_tau: Quantity | str | None = None, delay: Quantity | str = "1.5 ms",
                     kick: Quantity | None = None, duration: Quantity | str = "2 s",
                     transient: Quantity | str = "0.5 s", seeds: int = 1, dt: Quantity | None = None,
                     transfer_drives: Quantity | None = None, transfer_noises: Quantity | None = None,
                     transfer_seeds: int = 3, transfer_duration: Quantity | str = "3 s", seed: int = 0,
                     target: str = "cython", device: str = "cpp_standalone", out: str | Path | None = None,
                     progress: bool | None = None,
                     overwrite: bool = False) -> tuple[list[Verdict], dict[str, xr.Dataset]]:
    """Simulated and predicted population rates over a ``(w, drive)`` grid (the command's work).

    Everything is checked before anything is simulated (``out`` first); ``out`` is written only
    when the whole sweep succeeded.

    Parameters
    ----------
    model : str, Path or Model
        A library model or model file.
    couplings : Quantity
        Recurrent weights w, 1-D: a voltage (mV) for delta synapses, the model's input unit for
        current synapses.
    drives : Quantity
        External drives, 1-D, in the model's input unit.
    noise : Quantity
        White-noise amplitude of the drive (input unit x sqrt(second)), positive.
    size : int
        Neurones per population N_pop (>= 2).
    indegree : int
        Recurrent inputs per neurone K (1 .. N_pop - 1).
    synapse : {"delta", "current"}
        Delta (``v += w``) or exponential current synapses.
    synaptic_tau : Quantity or str, optional
        Decay time of current synapses (required for them).
    delay : Quantity or str
        Transmission delay (time, >= 0).
    kick : Quantity, optional
        Extra drive (input unit) for the first 100 ms of the high starts (default: the larger of
        the drive span and the largest absolute drive).
    duration, transient : Quantity or str
        Run time, and its start excluded from the rates (times; ``transient < duration``).
    seeds : int
        Populations per grid point and start (>= 1).
    dt : Quantity, optional
        Time step (default the model's).
    transfer_drives, transfer_noises : Quantity, optional
        Grid of the uncoupled transfer-function measurement (non-LIF models only): drives in the
        input unit, two or more white-noise amplitudes (input unit x sqrt(second)).
    transfer_seeds : int
        Seeds of that measurement.
    transfer_duration : Quantity or str
        Run time of that measurement.
    seed : int
        Random seed (the transfer measurement uses ``seed + 7``).
    target, device : str
        Brian2 code-generation target and device ("runtime" or "cpp_standalone").
    out : str or Path, optional
        Output folder (new or empty unless ``overwrite``), written only on success.
    progress : bool, optional
        False: no progress bar; None: a bar on a terminal.
    overwrite : bool
        Accept an ``out`` folder that holds files (files of the same name are replaced).

    Returns
    -------
    (list of Verdict, dict of str to xarray.Dataset)
        Q1 per coupling and branch; datasets ``stationary`` (measured and predicted rates, Hz),
        ``theory`` (branches, folds, cusp) and, for non-LIF models, ``transfer``.
    """
    import numpy as np

    from neurophase.check.population import population_prediction, stationary_sweep
    from neurophase.mapping.population import is_lif
    from neurophase.micro.modelfile import Model, load_model
    from neurophase.micro.network import coupling_unit, measure_transfer
    from neurophase.units import parse_unit, to_magnitude

    # ---- validate everything before simulating
    if out is not None:
        from neurophase.records import check_output_folder

        check_output_folder(out, overwrite=overwrite, resume_record=False)
    loaded = model if isinstance(model, Model) else load_model(model)
    if synapse not in ("delta", "current"):
        raise ParameterError(f"--synapse must be delta or current (the mean field is derived for "
                             f"those); got {synapse!r}.")
    w_unit = coupling_unit(loaded, synapse)
    w_grid = np.atleast_1d(to_magnitude(couplings, w_unit, name=f"coupling ({synapse} synapse)"))
    mu_grid = np.atleast_1d(to_magnitude(drives, loaded.input_unit, name="drive"))
    if w_grid.size == 0 or mu_grid.size == 0:
        raise ParameterError("The coupling and drive grids must not be empty; check START <= STOP.")
    white = f"{loaded.input_unit}*second**0.5"
    sigma = float(to_magnitude(noise, white, name="noise"))
    if not sigma > 0:
        raise ParameterError(f"--noise must be positive (white noise in {white}); got {sigma:g}.")
    size, indegree, seeds = int(size), int(indegree), int(seeds)
    if not 0 < indegree <= size - 1:
        raise ParameterError(f"--indegree K = {indegree} must lie between 1 and N_pop - 1 = {size - 1} "
                             "(sources are drawn within the population, no autapses); lower K or "
                             "raise --size.")
    if seeds < 1:
        raise ParameterError("--seeds must be at least 1.")
    if not is_lif(loaded) and (transfer_drives is None or transfer_noises is None):
        raise ParameterError(f"Model {loaded.name!r} is not a LIF, so its transfer function is measured "
                             "on the uncoupled model: give --transfer-drive START STOP STEP UNIT and "
                             "--transfer-noise (two or more amplitudes).")
    if kick is None:
        span = float(mu_grid.max() - mu_grid.min())
        kick = max(span, float(np.abs(mu_grid).max()), 1e-12) * parse_unit(loaded.input_unit)
    transfer = None
    if not is_lif(loaded):
        transfer = measure_transfer(loaded, transfer_drives, transfer_noises, seeds=transfer_seeds,
                                    duration=transfer_duration, transient=transient, dt=dt,
                                    target=target, device=device, seed=seed + 7, progress=progress)
    time_step = dt if dt is not None else loaded.dt
    theory = population_prediction(loaded, synapse=synapse, indegree=indegree, noise=noise,
                                   delay=delay, synaptic_tau=synaptic_tau, dt=time_step,
                                   transfer=transfer)
    common = dict(size=size, indegree=indegree, synapse=synapse, synaptic_tau=synaptic_tau,
                  delay=delay, noise=noise, dt=time_step, parameters=None, target=target,
                  device=device, progress=progress, seeds=seeds)
    verdicts, stationary, theory_ds = stationary_sweep(
        loaded, theory, w_grid, mu_grid, kick, common, stationary_duration=duration,
        transient=transient, seed=seed)
    datasets = {"stationary": stationary, "theory": theory_ds}
    if transfer is not None:
        datasets["transfer"] = transfer
    if out is not None:
        _write(out, verdicts, datasets)
    return verdicts, datasets


def _write(out, verdicts, datasets):
    import matplotlib.pyplot as plt

    from neurophase.check.verdicts import write_verdicts_csv
    from neurophase.io import save_dataset, staged_output
    from neurophase.plot import figures_for

    with staged_output(out) as stage:
        lines = ["# neurophase population", "", "| id | expected | measured | interval | holds |",
                 "|---|---|---|---|---|"]
        for verdict in verdicts:
            lines.append(f"| {verdict.id} | {verdict.expected:.4g} | {verdict.measured:.4g} | "
                         f"[{verdict.ci_low:.4g}, {verdict.ci_high:.4g}] | {verdict.holds} |")
        for name, dataset in datasets.items():
            save_dataset(dataset, stage / f"population_{name}.nc")
        lines.append("")
        for stem, figure, caption in figures_for("population", datasets, verdicts):
            figure.savefig(stage / f"population_{stem}.png", dpi=110, bbox_inches="tight")
            plt.close(figure)
            lines += [f"![{stem}](population_{stem}.png)", "", caption, ""]
        lines += ["## Notes", ""] + [f"- {verdict.id}: {verdict.criterion}. {verdict.note}"
                                     for verdict in verdicts]
        (stage / "report.md").write_text("\n".join(lines) + "\n")
        write_verdicts_csv(verdicts, stage / "verdicts.csv")


def _population_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``neurophase population`` on ``parser``."""
    parser.add_argument("model", help="library model name or model file (.toml)")
    add_grid_argument(parser, "--coupling", "recurrent weights w (mV for delta synapses, the input unit for current)",
                      required=True)
    add_grid_argument(parser, "--drive", "external drives in the model's input unit", required=True)
    parser.add_argument("--noise", required=True,
                        help="white-noise amplitude with unit, e.g. '5.657 pA*second**0.5'")
    parser.add_argument("--size", type=int, default=1000, help="neurones per population N_pop (>= 2)")
    parser.add_argument("--indegree", type=int, default=100, help="recurrent inputs per neurone K (1 .. N_pop - 1)")
    parser.add_argument("--synapse", default="delta", choices=("delta", "current"),
                        help="delta (v += w) or current (exponential)")
    parser.add_argument("--synaptic-tau", default=None, help="decay of current synapses, e.g. '2 ms'")
    parser.add_argument("--delay", default="1.5 ms", help="transmission delay")
    parser.add_argument("--kick", default=None, help="extra drive starting the high branch")
    parser.add_argument("--duration", default="2 s", help="run time")
    parser.add_argument("--transient", default="0.5 s", help="start excluded from the rates")
    parser.add_argument("--seeds", type=int, default=1, help="populations per grid point and start")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--dt", default=None, help="time step (default: the model's)")
    add_grid_argument(parser, "--transfer-drive",
                      "drives of the uncoupled transfer-function measurement (non-LIF models)")
    parser.add_argument("--transfer-noise", nargs="+", default=None,
                        help="white-noise amplitudes of that measurement (two or more, with units)")
    parser.add_argument("--device", default="cpp_standalone", choices=BRIAN2_DEVICES,
                        help="Brian2 device (default cpp_standalone: the compiled network is kept in the "
                             "build cache and a network of the same shape is not compiled again)")
    add_output_arguments(parser, "output folder, new or empty (written only if the run succeeds)",
                         quiet_help="no progress bar")


add_population_parser = parser_adder(
    "population", "recurrent population rate over a (w, drive) grid, simulated and predicted",
    "Every (w, drive) point, started low and high, is one population of one Brian2 "
    "network; the prediction is the derived population mean field.",
    _population_arguments)


@_doc
def run_population(args: argparse.Namespace) -> int:
    """Run ``neurophase population`` (the arguments of :func:`add_population_parser`).

    Every argument is checked before anything is computed (the output folder first), then
    :func:`population_sweep` simulates, predicts and writes ``--out``; Ctrl-C writes nothing.

    %(subcommand_run)s
    """
    from neurophase.progress import inner_progress
    from neurophase.records import check_output_folder

    check_output_folder(args.out, overwrite=args.overwrite, resume_record=False)
    settings = _checked_settings(args)
    with inner_progress(not args.quiet, log_start=True):
        verdicts, datasets = population_sweep(
            settings.pop("model"), size=args.size, indegree=args.indegree, synapse=args.synapse, seeds=args.seeds,
            seed=args.seed, device=args.device, out=args.out, overwrite=args.overwrite,
            progress=False if args.quiet else None, **settings)
    theory = datasets["theory"]
    print(f"derived cusp: w_c = {float(theory['cusp_coupling']):.4g} {theory['cusp_coupling'].attrs['units']}, "
          f"mu_c = {float(theory['cusp_drive']):.4g} {theory['cusp_drive'].attrs['units']}, "
          f"r_c = {float(theory['cusp_rate']):.4g} Hz")
    for verdict in verdicts:
        print(f"  {verdict.id:<40} {'holds' if verdict.holds else 'FAILS':<6} expected "
              f"{verdict.expected:.4g} Hz, measured {verdict.measured:.4g} Hz "
              f"[{verdict.ci_low:.4g}, {verdict.ci_high:.4g}]")
    print(f"wrote {args.out}")
    return 0


def _checked_settings(args):
    """The command line's quantities, each checked with its option's name (nothing is computed)."""
    import inspect

    import numpy as np

    from neurophase.check.population import stationary_sweep
    from neurophase.mapping.population import is_lif
    from neurophase.micro.commands import input_grid
    from neurophase.micro.modelfile import load_model
    from neurophase.micro.network import coupling_unit
    from neurophase.units import option_quantity, to_magnitude

    model = load_model(args.model)
    unit = model.input_unit
    white = f"{unit}*second**0.5"
    if args.size < 2:
        raise ParameterError(f"--size {args.size}: a population needs at least 2 neurones, e.g. --size 1000.")
    if not 1 <= args.indegree <= args.size - 1:
        raise ParameterError(f"--indegree {args.indegree} must lie between 1 and --size - 1 = {args.size - 1} "
                             "(sources are drawn within the population, no autapses); lower it or raise --size.")
    if args.seeds < 1:
        raise ParameterError(f"--seeds {args.seeds} must be at least 1.")
    if not 0 <= args.seed <= 2**32 - 8:
        raise ParameterError(f"--seed {args.seed} must be in 0 .. 2**32 - 8 (Brian2 seeds; the transfer "
                             "measurement uses seed + 7).")
    settings = {
        "model": model,
        "couplings": input_grid(*args.coupling, option="--coupling", expected=coupling_unit(model, args.synapse)),
        "drives": input_grid(*args.drive, option="--drive", expected=unit),
        "noise": option_quantity(args.noise, "--noise", white, f"5 {white}", sign="positive"),
        "synaptic_tau": option_quantity(args.synaptic_tau, "--synaptic-tau", "ms", "2 ms", sign="positive"),
        "delay": option_quantity(args.delay, "--delay", "ms", "1.5 ms", sign="non-negative"),
        "kick": option_quantity(args.kick, "--kick", unit, f"100 {unit}"),
        "duration": option_quantity(args.duration, "--duration", "second", "2 s", sign="positive"),
        "transient": option_quantity(args.transient, "--transient", "second", "0.5 s", sign="non-negative"),
        "dt": option_quantity(args.dt, "--dt", "ms", "0.05 ms", sign="positive"),
        "transfer_drives": None, "transfer_noises": None,
    }
    if args.synapse == "current" and settings["synaptic_tau"] is None:
        raise ParameterError("--synapse current needs --synaptic-tau, the decay of the synaptic current, "
                             "e.g. --synaptic-tau '2 ms'.")
    if not settings["transient"] < settings["duration"]:
        raise ParameterError(f"--transient {args.transient} must be shorter than --duration {args.duration} "
                             "(the rates are measured after it).")
    if settings["dt"] is not None:
        dt_ms = float(to_magnitude(settings["dt"], "ms"))
        if model.max_dt is not None and dt_ms > float(to_magnitude(model.max_dt, "ms")) * (1 + 1e-9):
            raise ParameterError(f"--dt {args.dt} exceeds model {model.name!r}'s largest stable time step "
                                 f"({float(to_magnitude(model.max_dt, 'ms')):g} ms); give a smaller --dt.")
        bin_ms = float(to_magnitude(inspect.signature(stationary_sweep).parameters["bin_width"].default, "ms"))
        if abs(bin_ms / dt_ms - round(bin_ms / dt_ms)) > 1e-6 * bin_ms / dt_ms:
            raise ParameterError(f"--dt {args.dt} must divide the {bin_ms:g} ms rate bins a whole number of "
                                 "times, e.g. --dt '0.05 ms'.")
    if args.transfer_drive is not None:
        settings["transfer_drives"] = input_grid(*args.transfer_drive, option="--transfer-drive", expected=unit)
    if args.transfer_noise is not None:
        values = [option_quantity(text, "--transfer-noise", white, f"5 {white}", sign="positive")
                  for text in args.transfer_noise]
        if len(values) < 2:
            raise ParameterError(f"--transfer-noise needs two or more amplitudes (the transfer function is "
                                 f"interpolated in the noise), e.g. --transfer-noise '2 {white}' '5 {white}'.")
        settings["transfer_noises"] = np.asarray([float(v / values[0]) for v in values]) * values[0]
    if not is_lif(model) and (args.transfer_drive is None or args.transfer_noise is None):
        raise ParameterError(f"Model {model.name!r} is not a LIF, so its transfer function is measured on the "
                             "uncoupled model: give --transfer-drive START STOP STEP UNIT and --transfer-noise "
                             "(two or more amplitudes).")
    return settings
