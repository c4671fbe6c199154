"""The ``neurophase coarse-grain`` subcommand: a model file -> its derived mean-field membrane.

Usage::

    neurophase coarse-grain MODEL [--input START STOP STEP UNIT] [--order-parameter GATE]
                            [--rest-input Q] [--channels N [N ...] [--channel-model MODEL] ...] --out DIR
                            [--overwrite]

``MODEL`` is a library model name or a model file. Every option is checked before anything is
computed, ``--out`` first (a new or empty folder; one holding files needs ``--overwrite``).
Writes into ``DIR`` (only when everything succeeded): ``<model>_coarse_grained.nc`` (every
derived quantity with its unit and provenance,
:meth:`neurophase.mapping.CoarseGrainedMembrane.to_dataset`), ``report.md`` (a readable table of
the derived parameters, the folds, the gates, what is exact and what is not) and the figures
(branches and folds against the input, potential landscape). The same from Python:
``neurophase.mapping.coarse_grain(load_model(MODEL), inputs=..., order_parameter=...)``.

With ``--channels`` it also runs the channel-noise simulations and verdicts N3-N5 (THEORY.md
6b; :func:`neurophase.check.coarse_graining.measure_channel_noise_pulse` and
:func:`~neurophase.check.coarse_graining.measure_channel_noise_escape`): the exact Markov channel
model of the same kinetics (the library counterpart, ``hodgkin_huxley_markov`` for
``hodgkin_huxley_1952``, or the model file given with ``--channel-model``) is simulated at the
given channel numbers, one network for the pulses (N x amplitude x trial) and one for the
spontaneous escape (N x trial), and ``verdicts.csv`` (the columns of every verdict table), the
datasets ``channel_noise_*.nc`` and their figures are written beside the derived membrane.

Functions
---------
add_coarse_grain_parser, run_coarse_grain
    Register and run the subcommand.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from neurophase.docstrings import template
from neurophase.errors import ParameterError
from neurophase.subcommands import add_grid_argument, add_output_arguments, parser_adder

if TYPE_CHECKING:
    from neurophase.mapping.coarse_graining import CoarseGrainedMembrane

__all__ = ["add_coarse_grain_parser", "run_coarse_grain", "write_report"]

_doc = template()


def _coarse_grain_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``neurophase coarse-grain`` on ``parser``."""
    parser.add_argument("model", help="library model name (see `neurophase models`) or a .toml file")
    add_grid_argument(parser, "--input", "input grid START..STOP (inclusive) by STEP in UNIT, e.g. -2 4 0.01 "
                                         "uA/cm**2 (default: around the fold)")
    parser.add_argument("--order-parameter", default=None, metavar="GATE",
                        help="the order-parameter gate (default: the model file's, else the fastest "
                             "activating gate of a depolarising conductance)")
    parser.add_argument("--rest-input", default=None, metavar="Q",
                        help='holding input of the rest state, e.g. "-0.05 nA" (default 0)')
    parser.add_argument("--channels", nargs="+", type=float, default=None, metavar="N",
                        help="channel numbers (of the order-parameter gate's channel type) for the channel-noise "
                             "simulations and verdicts N3-N5, e.g. 100 1000 10000 100000")
    noise = parser.add_argument_group("channel noise (with --channels)")
    noise.add_argument("--channel-model", default=None, metavar="MODEL",
                       help="the Markov channel model to simulate: a library name or a model file with a [channels] "
                            "table and the same kinetics (default: the library counterpart, e.g. "
                            "hodgkin_huxley_markov for hodgkin_huxley_1952)")
    add_grid_argument(noise, "--pulse-amplitudes",
                      "pulse amplitudes (default: 25 levels from 0 to 6 x the derived pulse threshold)")
    noise.add_argument("--pulse-duration", default="0.5 ms", metavar="Q", help='pulse duration (default "0.5 ms")')
    noise.add_argument("--pulse-start", default="20 ms", metavar="Q",
                       help='pulse onset in each trial (default "20 ms": the counts relax first)')
    noise.add_argument("--duration", default="30 ms", metavar="Q",
                       help='length of a pulse trial; spikes are counted from the onset (default "30 ms")')
    noise.add_argument("--trials", type=int, default=40, metavar="K",
                       help="pulse trials per (N, amplitude), even; half train the N5 fit (default 40)")
    noise.add_argument("--escape-duration", default="1 s", metavar="Q",
                       help='length of a spontaneous-escape trial (default "1 s")')
    noise.add_argument("--escape-trials", type=int, default=40, metavar="K",
                       help="spontaneous-escape trials per N (default 40)")
    noise.add_argument("--drive", default=None, metavar="Q",
                       help="constant sub-threshold drive of the escape trials and baseline of the pulses "
                            "(default: the holding input)")
    noise.add_argument("--seed", type=int, default=0, help="Brian2 seed (default 0)")
    add_output_arguments(parser, "output folder, new or empty (written only if all succeeds)",
                         quiet_help="print nothing but errors")


add_coarse_grain_parser = parser_adder(
    "coarse-grain", "derive the mean-field membrane (J, h, T, branches, folds) of a model file",
    "Coarse-grain a conductance-based model file into its mean-field membrane "
    "(THEORY.md 6a): nothing is fitted.",
    _coarse_grain_arguments)


@_doc
def run_coarse_grain(args: argparse.Namespace) -> int:
    """Run ``neurophase coarse-grain`` (the arguments of :func:`add_coarse_grain_parser`).

    %(subcommand_run)s
    """
    import matplotlib.pyplot as plt

    from neurophase.figures.coarse_graining import membrane_figures
    from neurophase.io import save_dataset, staged_output
    from neurophase.mapping import coarse_grain
    from neurophase.micro.commands import input_grid
    from neurophase.micro.modelfile import load_model
    from neurophase.records import check_output_folder
    from neurophase.units import option_quantity

    # every argument is checked before anything is computed or simulated
    check_output_folder(args.out, overwrite=args.overwrite, resume_record=False)
    model = load_model(args.model)
    unit = model.input_unit
    inputs = None if args.input is None else input_grid(*args.input, option="--input", expected=unit)
    rest_input = option_quantity(args.rest_input, "--rest-input", unit, f"-0.05 {unit}")
    durations = _check_channel_options(args, unit) if args.channels is not None else None
    membrane = coarse_grain(model, inputs=inputs, order_parameter=args.order_parameter, rest_input=rest_input)
    channel_results = None
    if args.channels is not None:
        channel_results = _run_channels(args, model, rest_input, durations)
    dataset = membrane.to_dataset()
    out = Path(args.out)
    with staged_output(out) as stage:
        netcdf = stage / f"{model.name}_coarse_grained.nc"
        save_dataset(dataset, netcdf)
        figures = []
        for stem, figure, caption in membrane_figures(dataset):
            figure.savefig(stage / f"{stem}.png", dpi=110, bbox_inches="tight")
            plt.close(figure)
            figures.append((f"{stem}.png", caption))
        channel_section = None
        if channel_results is not None:
            channel_section = _write_channels(stage, channel_results)
        write_report(stage / "report.md", membrane, netcdf.name, figures, channel_section=channel_section)
    if not args.quiet:
        row = membrane.summary()
        print(f"{model.name}: order parameter {row['order_parameter']}, T_eff {row['T_eff_mV']:.4g} mV, "
              f"J_eff at rest {row['J_eff_rest_mV']:.4g} mV, h {row['h_rest_mV']:.4g} mV, "
              f"max loop gain {row['loop_gain_max_rest']:.4g}; rest branch ends at "
              f"{row['fold_up_input']:.5g} {membrane.input_unit} ({row['fold_up_voltage_mV']:.4g} mV).")
        if channel_results is not None:
            verdicts = channel_results["verdicts"]
            held = sum(verdict.holds for verdict in verdicts)
            print(f"channel noise: {held} of {len(verdicts)} verdicts hold ("
                  + ", ".join(f"{v.id} {'holds' if v.holds else 'fails'}" for v in verdicts) + ")")
        print(f"wrote {out}/ ({netcdf.name}, report.md, {len(figures)} figures"
              + (", verdicts.csv, channel_noise_*.nc" if channel_results is not None else "") + ")")
    return 0


def _check_channel_options(args, unit):
    """The channel-noise options on their own (before anything is computed); returns durations in ms."""
    import numpy as np

    from neurophase.micro.commands import input_grid
    from neurophase.units import option_quantity, to_magnitude

    numbers = np.asarray(args.channels, dtype=float)
    shown = " ".join(f"{number:g}" for number in numbers)
    if np.any(~np.isfinite(numbers)) or np.any(numbers < 1) or np.any(numbers != np.rint(numbers)):
        raise ParameterError(f"--channels needs whole channel numbers N >= 1, e.g. --channels 100 1000 10000; "
                             f"got {shown}.")
    if np.unique(numbers).size != numbers.size:
        raise ParameterError(f"--channels lists a channel number twice ({shown}); give each N once.")
    if numbers.size < 2:
        raise ParameterError(f"--channels needs at least two channel numbers (N3 and N4 are slopes over N), "
                             f"e.g. --channels 100 1000 10000; got {shown}.")
    if not 0 <= args.seed < 2**32 - 1:
        raise ParameterError(f"--seed {args.seed} must be in 0 .. 2**32 - 2 (Brian2 seeds; the escape trials use "
                             "seed + 1).")
    durations = {}
    for option, example in (("pulse_duration", "0.5 ms"), ("pulse_start", "20 ms"), ("duration", "30 ms"),
                            ("escape_duration", "1 s")):
        name = f"--{option.replace('_', '-')}"
        value = option_quantity(getattr(args, option), name, "ms", example,
                                sign="non-negative" if option == "pulse_start" else "positive")
        durations[option] = float(to_magnitude(value, "ms"))
    if durations["pulse_start"] + durations["pulse_duration"] >= durations["duration"]:
        raise ParameterError(
            f"The pulse ({args.pulse_start} + {args.pulse_duration}) does not end before the trial does "
            f"(--duration {args.duration}); lengthen --duration or shorten the pulse.")
    if args.trials < 4 or args.trials % 2:
        raise ParameterError(f"--trials must be an even number >= 4 (half train, half held out); got {args.trials}.")
    if args.escape_trials < 1:
        raise ParameterError(f"--escape-trials must be at least 1; got {args.escape_trials}.")
    if args.pulse_amplitudes is not None:
        amplitudes = input_grid(*args.pulse_amplitudes, option="--pulse-amplitudes", expected=unit)
        if amplitudes.size < 4:
            raise ParameterError(f"--pulse-amplitudes {' '.join(args.pulse_amplitudes)} gives {amplitudes.size} "
                                 f"amplitude(s); give at least 4, e.g. --pulse-amplitudes 0 40 2 {unit}.")
    option_quantity(args.drive, "--drive", unit, f"0 {unit}")
    return durations


def _run_channels(args, model, rest_input, durations):
    """Run N3-N5 (THEORY.md 6b) with checked options; nothing is written here."""
    import numpy as np

    from neurophase.check.coarse_graining import (
        channel_reduction,
        measure_channel_noise_escape,
        measure_channel_noise_pulse,
    )
    from neurophase.micro.commands import input_grid
    from neurophase.units import option_quantity, parse_unit, to_magnitude

    numbers = np.asarray(args.channels, dtype=float)
    unit = model.input_unit
    drive = rest_input if args.drive is None else option_quantity(args.drive, "--drive", unit, f"0 {unit}")
    reduction = channel_reduction(model, args.channel_model, drive)  # errors before any simulation
    unit_text = reduction.membrane.input_unit
    if args.pulse_amplitudes is not None:
        amplitudes = input_grid(*args.pulse_amplitudes, option="--pulse-amplitudes", expected=unit_text)
    else:
        from brian2 import ms

        threshold = float(to_magnitude(reduction.noise.pulse_threshold(durations["pulse_duration"] * ms), unit_text))
        amplitudes = np.linspace(0.0, 6.0 * threshold, 25) * parse_unit(unit_text)
    channel_model = reduction.channel_model
    pulse_verdicts, pulse_data = measure_channel_noise_pulse(
        model, channel_model, numbers, amplitudes, pulse_duration=args.pulse_duration, pulse_start=args.pulse_start,
        duration=args.duration, trials=args.trials, drive=drive, seed=args.seed)
    escape_verdicts, escape_data = measure_channel_noise_escape(
        model, channel_model, numbers, drive=drive, duration=args.escape_duration, trials=args.escape_trials,
        seed=args.seed + 1)
    return {"verdicts": pulse_verdicts + escape_verdicts, "pulse": (pulse_verdicts, pulse_data),
            "escape": (escape_verdicts, escape_data), "channel_model": channel_model.name}


def _write_channels(stage, results):
    """Datasets, figures and verdicts.csv of the channel-noise run; returns the report section."""
    import matplotlib.pyplot as plt

    from neurophase.check.verdicts import write_verdicts_csv
    from neurophase.figures.coarse_graining import escape_figures, pulse_figures
    from neurophase.io import save_dataset
    from neurophase.report import verdict_table

    lines = ["## Channel noise (THEORY.md 6b: N3-N5)", "",
             f"Simulated: `{results['channel_model']}` (exact Markov channel counts); predicted: the gate chain "
             "derived from the model file, nothing fitted.", "", verdict_table(results["verdicts"]), ""]
    for verdict in results["verdicts"]:
        lines += [f"- **{verdict.id}**: {verdict.note}", ""]
    for key, plotter in (("pulse", pulse_figures), ("escape", escape_figures)):
        verdicts, datasets = results[key]
        for name, dataset in datasets.items():
            save_dataset(dataset, stage / f"channel_noise_{key}_{name}.nc")
        for stem, figure, caption in plotter(datasets, verdicts):
            figure.savefig(stage / f"{stem}.png", dpi=110, bbox_inches="tight")
            plt.close(figure)
            lines += [f"![{stem}.png]({stem}.png)", "", caption, ""]
    write_verdicts_csv(results["verdicts"], stage / "verdicts.csv")
    return "\n".join(lines)


def write_report(path: str | Path, membrane: CoarseGrainedMembrane, netcdf_name: str,
                 figures: Sequence[tuple[str, str]], channel_section: str | None = None) -> Path:
    """``report.md``: the derived parameters as a table, the folds, the gates and the figures.

    Parameters
    ----------
    path : str or Path
        The file to write.
    membrane : CoarseGrainedMembrane
        The derived membrane.
    netcdf_name : str
        The name of its NetCDF file (linked from the report).
    figures : sequence of (str, str)
        ``(file name, caption)`` of every figure.
    channel_section : str, optional
        The channel-noise section (Markdown) of a ``--channels`` run.

    Returns
    -------
    Path
        ``path``.
    """
    from brian2 import ms, mV

    from neurophase.units import to_magnitude

    row = membrane.summary()
    unit = membrane.input_unit
    lines = [
        f"# Coarse-grained membrane of `{membrane.model_name}`",
        "",
        f"Model file `{membrane.model_source}` (hash `{membrane.model_hash}`). {membrane.model_citation}",
        "",
        "Derived from the model's own equations (THEORY.md 6a): nothing is fitted to firing. "
        f"Data with units: `{netcdf_name}`.",
        "",
        "| quantity | value | meaning |",
        "|---|---|---|",
        f"| order-parameter gate | {row['order_parameter']} | {membrane.order_parameter_rule} |",
        f"| frozen gates | {', '.join(f'{g} = {v:.5g}' for g, v in membrane.frozen.items()) or 'none'} | "
        f"{membrane.frozen_rule} |",
        f"| holding input | {row['rest_input']:g} {unit} | rest state of the full model |",
        f"| resting potential | {row['rest_voltage_mV']:.5g} mV | {membrane.rest_check} |",
        f"| V_half, k_V | {row['V_half_mV']:.4g} mV, {row['k_V_mV']:.4g} mV | Boltzmann fit of the gate's "
        f"steady state (rms {row['boltzmann_rms']:.2g}), only to read off T |",
        f"| T_eff = 2 k_V | {row['T_eff_mV']:.4g} mV | temperature |",
        f"| J_eff at rest | {row['J_eff_rest_mV']:.4g} mV | coupling dV*/dM at the rest state |",
        f"| h at the holding input | {row['h_rest_mV']:.4g} mV | field V*(M = 0) - V_half |",
        f"| max loop gain at the holding input | {row['loop_gain_max_rest']:.4g} | > 1: ordered, bistable "
        "fast subsystem |",
        f"| saddle voltage at the holding input | {row['saddle_voltage_rest_mV']:.5g} mV | voltage threshold "
        "of the fast subsystem |",
        f"| barrier at the holding input | {row['barrier_rest_per_ms']:.4g} 1/ms | U(saddle) - U(rest), "
        "reduced dynamics |",
        "",
        "## Folds (loop gain 1)",
        "",
        f"| input ({unit}) | voltage (mV) | m | loop gain | kind |",
        "|---|---|---|---|---|",
    ]
    for fold in membrane.folds:
        kind = ("a lower branch ends as the input rises" if fold.kind == "upper"
                else "an upper branch ends as the input falls")
        lines.append(f"| {float(to_magnitude(fold.input, unit)):.6g} | {float(fold.voltage / mV):.5g} | "
                     f"{fold.order_parameter:.5g} | {fold.loop_gain:.6f} | {kind} |")
    lines += ["", "## Gates", "", "| gate | kind | activating | depolarising | value at rest | tau at rest (ms) |",
              "|---|---|---|---|---|---|"]
    for gate in membrane.gates:
        lines.append(f"| {gate.name} | {gate.kind} | {gate.activating} | {gate.depolarising} | "
                     f"{gate.rest_value:.5g} | {float(gate.tau_rest / ms):.4g} |")
    lines += ["", "## What is exact", ""] + [f"- {note}" for note in membrane.notes]
    lines += ["", "## Figures", ""]
    for filename, caption in figures:
        lines += [f"![{filename}]({filename})", "", caption, ""]
    if channel_section:
        lines += ["", channel_section]
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)
