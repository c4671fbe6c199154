"""The ``neurophase recordings FILE... --out DIR`` command.

Functions
---------
add_recordings_parser
    Add the ``recordings`` sub-command to an :mod:`argparse` sub-parser collection.
run_recordings
    Run it from parsed arguments; returns the exit status (0: every file analysed, 1: some
    files could not be read, listed in the report, 2: nothing could be analysed).
"""

from __future__ import annotations

import sys

from neurophase.errors import NeurophaseError

__all__ = ["add_recordings_parser", "run_recordings"]


def add_recordings_parser(subparsers):
    """Add ``recordings`` to ``subparsers`` (from ``ArgumentParser.add_subparsers``); return its parser."""
    parser = subparsers.add_parser(
        "recordings",
        help="f-I curves of current-clamp step recordings against the derived activation (C5)",
        description="Read current-clamp step recordings (ABF, NWB, CSV, Igor .ibw, Neo formats), detect spikes, "
                    "run quality control, fit the derived activation and its rivals to each cell's f-I curve, and "
                    "write verdicts.csv, features.csv, one NetCDF Dataset per cell, figures and report.md.",
    )
    parser.add_argument("files", nargs="+", help="recording files or folders (Igor waves of one cell: the folder)")
    parser.add_argument("--out", required=True, help="output folder (written all-or-nothing)")
    parser.add_argument("--response", default="rate", choices=("rate", "count_rate"),
                        help="rate to fit: steady-state 'rate' (default) or spikes/duration 'count_rate'")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap replicates (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of folds and bootstrap (default 0)")
    parser.add_argument("--liquid-junction-potential", default=None,
                        help="e.g. '14 mV': subtracted from reported potentials of every file")
    parser.add_argument("--format", dest="file_format", default=None,
                        choices=("abf", "igor", "nwb", "csv", "neo"), help="force the reader")
    parser.add_argument("--no-figures", action="store_true", help="skip the figures")
    parser.set_defaults(handler=run_recordings)
    return parser


def run_recordings(args):
    """Run the ``recordings`` command; return the exit status."""
    from neurophase.recordings.check import analyse_recordings

    options = {}
    if args.liquid_junction_potential:
        options["liquid_junction_potential"] = args.liquid_junction_potential
    failures = []
    try:
        datasets, verdicts = analyse_recordings(
            args.files, out=args.out, response=args.response, folds=args.folds, n_bootstrap=args.bootstrap,
            random_state=args.seed, file_format=args.file_format, on_error="report",
            figures=not args.no_figures, failures=failures, **options)
    except NeurophaseError as error:
        print(f"neurophase recordings: {error}", file=sys.stderr)
        return 2
    analysed = len(datasets)
    print(f"{analysed} cell(s) analysed, {len(verdicts)} verdict(s); see {args.out}/report.md")
    for verdict in verdicts:
        print(f"  {verdict.id}: measured {verdict.measured:.4g} [{verdict.ci_low:.4g}, {verdict.ci_high:.4g}], "
              f"expected {verdict.expected:g}: {'holds' if verdict.holds else 'does not hold'}")
    if analysed == 0:
        return 2
    for name, error in failures:
        print(f"  not analysed: {name}: {error}", file=sys.stderr)
    return 1 if failures else 0
