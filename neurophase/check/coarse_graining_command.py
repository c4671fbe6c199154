"""The ``neurophase coarse-grain`` subcommand: a model file -> its derived mean-field membrane.

Usage::

    neurophase coarse-grain MODEL [--input START STOP STEP UNIT] [--order-parameter GATE]
                            [--rest-input Q] [--channels N ...] --out DIR

``MODEL`` is a library model name or a model file. Writes into ``DIR`` (only when everything
succeeded): ``<model>_coarse_grained.nc`` (every derived quantity with its unit and provenance,
:meth:`neurophase.mapping.CoarseGrainedMembrane.to_dataset`), ``report.md`` (a readable table of
the derived parameters, the folds, the gates, what is exact and what is not) and the figures
(branches and folds against the input, potential landscape). The same from Python:
``neurophase.mapping.coarse_grain(load_model(MODEL), inputs=..., order_parameter=...)``.

It lives in ``check`` because it loads model files (``micro``) and, with ``--channels``, is to run
the channel-noise simulations and verdicts N3-N5 (THEORY.md 6b), which are not in this version:
``_run_channels`` is the place where they go.

Functions
---------
add_coarse_grain_parser, run_coarse_grain
    Register and run the subcommand.
"""

from __future__ import annotations

from pathlib import Path

from neurophase.errors import ParameterError

__all__ = ["add_coarse_grain_parser", "run_coarse_grain", "write_report"]


def add_coarse_grain_parser(subparsers):
    """Add ``coarse-grain`` to ``subparsers``; returns its parser."""
    parser = subparsers.add_parser(
        "coarse-grain", help="derive the mean-field membrane (J, h, T, branches, folds) of a model file",
        description="Coarse-grain a conductance-based model file into its mean-field membrane "
                    "(THEORY.md 6a): nothing is fitted.")
    parser.add_argument("model", help="library model name (see `neurophase models`) or a .toml file")
    parser.add_argument("--input", nargs=4, default=None, metavar=("START", "STOP", "STEP", "UNIT"),
                        help="input grid START..STOP (inclusive) by STEP in UNIT, e.g. -2 4 0.01 uA/cm**2 "
                             "(default: around the fold)")
    parser.add_argument("--order-parameter", default=None, metavar="GATE",
                        help="the order-parameter gate (default: the model file's, else the fastest "
                             "activating gate of a depolarising conductance)")
    parser.add_argument("--rest-input", default=None, metavar="Q",
                        help='holding input of the rest state, e.g. "-0.05 nA" (default 0)')
    parser.add_argument("--channels", nargs="+", type=int, default=None, metavar="N",
                        help="channel numbers for the channel-noise simulations N3-N5 (not in this version)")
    parser.add_argument("--out", required=True, help="output folder (written only if everything succeeds)")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return parser


def run_coarse_grain(args):
    """Run ``neurophase coarse-grain`` from parsed ``args``; returns 0 (errors raise NeurophaseError)."""
    import matplotlib.pyplot as plt
    import numpy as np

    from neurophase.figures.coarse_graining import membrane_figures
    from neurophase.io import save_dataset, staged_output
    from neurophase.mapping import coarse_grain
    from neurophase.micro.commands import input_grid
    from neurophase.micro.modelfile import load_model
    from neurophase.units import parse_quantity

    model = load_model(args.model)
    inputs = None
    if args.input is not None:
        start, stop, step, unit = args.input
        try:
            numbers = [float(start), float(stop), float(step)]
        except ValueError:
            raise ParameterError(
                f"--input needs three numbers and a unit, e.g. --input -2 4 0.01 {model.input_unit}.") from None
        if not all(np.isfinite(numbers)):
            raise ParameterError(f"--input has a non-finite value ({start} {stop} {step}); give finite numbers.")
        inputs = input_grid(start, stop, step, unit)
    rest_input = None if args.rest_input is None else parse_quantity(args.rest_input, name="--rest-input")
    if args.channels is not None:
        if any(number < 1 for number in args.channels):
            raise ParameterError(f"--channels needs channel numbers N >= 1; got {args.channels}.")
        _run_channels(args)
    membrane = coarse_grain(model, inputs=inputs, order_parameter=args.order_parameter, rest_input=rest_input)
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
        write_report(stage / "report.md", membrane, netcdf.name, figures)
    if not args.quiet:
        row = membrane.summary()
        print(f"{model.name}: order parameter {row['order_parameter']}, T_eff {row['T_eff_mV']:.4g} mV, "
              f"J_eff at rest {row['J_eff_rest_mV']:.4g} mV, h {row['h_rest_mV']:.4g} mV, "
              f"max loop gain {row['loop_gain_max_rest']:.4g}; rest branch ends at "
              f"{row['fold_up_input']:.5g} {membrane.input_unit} ({row['fold_up_voltage_mV']:.4g} mV).")
        print(f"wrote {out}/ ({netcdf.name}, report.md, {len(figures)} figures)")
    return 0


def _run_channels(args):
    """Channel-noise simulations and verdicts N3-N5 (THEORY.md 6b): not in this version."""
    raise ParameterError(
        "--channels (the channel-noise simulations N3-N5) is not available in this version; run "
        "without it to get the derived membrane.")


def write_report(path, membrane, netcdf_name, figures):
    """``report.md``: the derived parameters as a table, the folds, the gates and the figures."""
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
    Path(path).write_text("\n".join(lines) + "\n")
    return path
