"""The ``neurophase recordings FILE... --out DIR`` command (prediction C5 on recordings:
:mod:`neurophase.check.recordings`).

Functions
---------
add_recordings_parser
    Add the ``recordings`` sub-command to an :mod:`argparse` sub-parser collection.
run_recordings
    Run it from parsed arguments; returns the exit status (0: every file analysed, 1: some
    files could not be read, listed in the report and on standard error, 2: bad arguments or
    nothing could be analysed: one ``error:`` line with every file's reason, nothing written).

Every argument is checked before any file is read; ``--out`` must be a new or empty folder
(or ``--overwrite``). This module imports only :mod:`argparse` at module level (fast
``neurophase --help``); the analysis is imported by :func:`run_recordings`.
"""

from __future__ import annotations

import argparse
import sys

from neurophase.docstrings import template
from neurophase.errors import ParameterError
from neurophase.subcommands import add_output_arguments, parser_adder

__all__ = ["add_recordings_parser", "run_recordings"]

_doc = template()


def _recordings_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``neurophase recordings`` on ``parser``."""
    parser.add_argument("files", nargs="+", help="recording files or folders (Igor waves of one cell: the folder)")
    add_output_arguments(parser, "output folder (new or empty; written all-or-nothing)",
                         "replace an older result in --out")
    parser.add_argument("--response", default="rate", choices=("rate", "count_rate"),
                        help="rate to fit: steady-state 'rate' (default) or spikes/duration 'count_rate'")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    parser.add_argument("--bootstrap", type=int, default=200,
                        help="bootstrap replicates of the 95%% intervals (default 200, at least 40)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of folds and bootstrap (default 0)")
    parser.add_argument("--liquid-junction-potential", default=None,
                        help="e.g. '14 mV': subtracted from reported potentials of every file")
    parser.add_argument("--format", dest="file_format", default=None,
                        choices=("abf", "igor", "nwb", "csv", "neo"), help="force the reader")
    parser.add_argument("--no-figures", action="store_true", help="skip the figures")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or progress log lines")
    parser.set_defaults(handler=run_recordings)


add_recordings_parser = parser_adder(
    "recordings", "f-I curves of current-clamp step recordings against the derived activation (C5)",
    "Read current-clamp step recordings (ABF, NWB, CSV, Igor .ibw, Neo formats), detect spikes, "
    "run quality control, fit the derived activation and its rivals to each cell's f-I curve, and "
    "write verdicts.csv, features.csv, one NetCDF Dataset per cell, figures and report.md.",
    _recordings_arguments)


@_doc
def run_recordings(args: argparse.Namespace) -> int:
    """Run the ``recordings`` command (the arguments of :func:`add_recordings_parser`).

    Exit status 1 when some files could not be read (see the module docstring).

    %(subcommand_run)s
    """
    from pathlib import Path

    from neurophase.check.recordings import minimum_bootstrap
    from neurophase.records import check_output_folder

    if args.folds < 2:
        raise ParameterError(f"--folds {args.folds} must be at least 2 (K-fold cross-validation).")
    least = minimum_bootstrap()
    if args.bootstrap < least:
        raise ParameterError(
            f"--bootstrap {args.bootstrap} is too few resamples for a 95% interval (its 2.5% and 97.5% "
            f"percentiles need at least {least}); use --bootstrap {least} or more (default 200).")
    if not 0 <= args.seed < 2**32:
        raise ParameterError(f"--seed {args.seed} must be in 0 .. 2**32 - 1.")
    missing = [name for name in args.files if not Path(name).exists()]
    if missing:
        raise ParameterError(f"no such recording file or folder: {', '.join(missing)}; check the path(s).")
    check_output_folder(args.out, overwrite=args.overwrite, resume_record=False)
    options = {}
    if args.liquid_junction_potential:
        from neurophase.units import parse_quantity

        parse_quantity(args.liquid_junction_potential, expected="mV", name="--liquid-junction-potential")
        options["liquid_junction_potential"] = args.liquid_junction_potential
    from neurophase.check.recordings import analyse_recordings

    failures = []
    datasets, verdicts = analyse_recordings(
        args.files, out=args.out, response=args.response, folds=args.folds, n_bootstrap=args.bootstrap,
        random_state=args.seed, file_format=args.file_format, on_error="report",
        figures=not args.no_figures, failures=failures, progress=False if args.quiet else None,
        **options)
    print(f"{len(datasets)} cell(s) analysed, {len(verdicts)} verdict(s); see {args.out}/report.md")
    for verdict in verdicts:
        print(f"  {verdict.id}: measured {verdict.measured:.4g} [{verdict.ci_low:.4g}, {verdict.ci_high:.4g}], "
              f"expected {verdict.expected:g}: {'holds' if verdict.holds else 'does not hold'}; "
              f"{verdict.decided_by()}")
    for name, error in failures:
        print(f"not analysed: {name}: {' '.join(str(error).split())}", file=sys.stderr)
    return 1 if failures else 0
