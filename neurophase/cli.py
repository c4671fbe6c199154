"""The ``neurophase`` command.

Subcommands
-----------
``run EXPERIMENT --out DIR``
    Run an experiment file (or a shipped one by name, e.g. ``quickstart``); see
    :mod:`neurophase.experiments`. ``--resume`` continues an interrupted run from
    ``DIR.partial``; ``--overwrite`` replaces an older result in ``DIR``.
``models``
    List the library models with their titles and citations.
``experiments``
    List the shipped experiments.
``fi MODEL --input START STOP STEP UNIT ...``
    Firing-rate curve of a model (see :mod:`neurophase.micro.commands`).
``recordings FILE... --out DIR``
    Firing statistics of current-clamp recordings checked against the derived activations.
``coarse-grain MODEL --out DIR [--channels N ...]``
    The mean-field membrane derived from a conductance-based model file (THEORY.md 6a); with
    ``--channels`` also its channel-noise predictions N3-N5 against the exact Markov channel
    model (THEORY.md 6b).
``population MODEL --coupling ... --drive ... --noise ... --out DIR``
    A recurrent population's rate over a (w, drive) grid, simulated and predicted (see
    :mod:`neurophase.check.population_command`).
``fit MODEL RECORDING... --out DIR``
    Fit a model to current-clamp step recordings (see :mod:`neurophase.check.fitting`).

Rules every subcommand follows
    Input the user can fix (a bad argument, a missing file, an output that would overwrite an
    older result) is printed as ONE ``error:`` line naming the input and the fix, with exit
    status 2, before anything is simulated or written. Ctrl-C stops the command cleanly (see
    :mod:`neurophase.interrupts`): exit status 130, and a result cut short is never written as a
    result. Progress goes to standard error: bars on a terminal, one log line per step
    otherwise (the :mod:`logging` logger ``"neurophase"``).

Start-up
    Building the parser imports no subcommand's heavy dependencies (Brian2, xarray, scipy,
    pynwb, neo, dask): each subcommand module declares its parser with :mod:`argparse` alone
    and imports what it runs inside its run function, so ``neurophase --help`` and
    ``neurophase models`` answer at once (``tests/test_startup.py`` checks the imports).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from neurophase import __version__
from neurophase.errors import InterruptedRunError, NeurophaseError

__all__ = ["main", "build_parser"]

# Subcommands contributed by other modules: name -> (module, add-parser function, run function).
# The modules must be light to import (argparse only at module level); see the module docstring.
_PLUGINS = {
    "fi": ("neurophase.micro.commands", "add_fi_parser", "run_fi"),
    "recordings": ("neurophase.check.recordings_command", "add_recordings_parser", "run_recordings"),
    "coarse-grain": ("neurophase.check.coarse_graining_command", "add_coarse_grain_parser", "run_coarse_grain"),
    "population": ("neurophase.check.population_command", "add_population_parser", "run_population"),
    "fit": ("neurophase.check.fitting", "add_fit_parser", "run_fit"),
}

#: Exit statuses: bad input, interrupted (128 + SIGINT, the shell convention).
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A command-line argument that argparse refused (printed as one ``error:`` line)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block) and never exit by itself."""

    def error(self, message):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _print_verdicts(verdicts):
    for verdict in verdicts:
        print(f"  {verdict.id:<14} {'holds' if verdict.holds else 'FAILS':<6} "
              f"{verdict.quantity}: expected {verdict.expected:.4g}, measured {verdict.measured:.4g} "
              f"[{verdict.ci_low:.4g}, {verdict.ci_high:.4g}]; {verdict.decided_by()}")


def _run(args):
    from neurophase.experiments import run_experiment

    result = run_experiment(args.experiment, args.out, scheduler=args.scheduler,
                            progress=None if not args.quiet else False, resume=args.resume,
                            overwrite=args.overwrite, worker_timeout=args.worker_timeout)
    verdicts = result["verdicts"]
    held = sum(verdict.holds for verdict in verdicts)
    resumed = result.get("resumed", [])
    print(f"{held} of {len(verdicts)} predictions hold; wrote {len(result['files'])} files to "
          f"{args.out} in {result['seconds']:.0f} s"
          + (f" ({len(resumed)} measurement(s) taken from the resume record)" if resumed else "")
          + " (see report.md and verdicts.csv).")
    _print_verdicts(verdicts)
    return 0


def _models(args):
    from neurophase.resources import list_models, model_header

    for name in list_models():
        header = model_header(name)
        print(f"{name:<28} {header['title']}  [{header['citation']}]")
    return 0


def _experiments(args):
    from neurophase.resources import experiment_header, list_experiments

    for name in list_experiments():
        print(f"{name:<20} {experiment_header(name)['title']}")
    return 0


def build_parser():
    """The argument parser of the ``neurophase`` command (imports no heavy module)."""
    parser = _Parser(
        prog="neurophase",
        description="Is the artificial neurone a mean-field model of the neural membrane? "
                    "Simulate, coarse-grain, check.",
    )
    parser.add_argument("--version", action="version", version=f"neurophase {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = subparsers.add_parser("run", help="run an experiment file into an output folder")
    run.add_argument("experiment", help="experiment file (.toml) or a shipped experiment name")
    run.add_argument("--out", required=True, help="output folder (written only if the run succeeds)")
    run.add_argument("--scheduler", default=None,
                     help="'serial' (default), 'local' (Dask on this machine) or a Dask scheduler "
                          "address such as tcp://host:8786")
    run.add_argument("--resume", action="store_true",
                     help="continue an interrupted run: measurements already finished in "
                          "OUT.partial (same settings, checksums intact) are not run again")
    run.add_argument("--overwrite", action="store_true",
                     help="replace an older result in --out (by default that is an error)")
    run.add_argument("--worker-timeout", default=None, type=float, metavar="SECONDS",
                     help="Dask only: give up when the scheduler has had no worker for this long "
                          "(default 120)")
    run.add_argument("--quiet", action="store_true", help="no progress bars or progress log lines")
    run.set_defaults(handler=_run)

    models = subparsers.add_parser("models", help="list the library models")
    models.set_defaults(handler=_models)
    experiments = subparsers.add_parser("experiments", help="list the shipped experiments")
    experiments.set_defaults(handler=_experiments)

    for module_name, add_name, run_name in _PLUGINS.values():
        # a subcommand that cannot be imported is a broken installation: fail loudly
        module = importlib.import_module(module_name)
        sub = getattr(module, add_name)(subparsers)
        sub.set_defaults(handler=getattr(module, run_name))
    return parser


def _configure_logging(quiet):
    """One line per step on standard error when it is not a terminal (tqdm bars are shown on a
    terminal instead); nothing with ``--quiet``."""
    from neurophase.progress import is_terminal

    logger = logging.getLogger("neurophase")
    if getattr(logger, "_neurophase_cli_handler", None) is not None:
        logger.removeHandler(logger._neurophase_cli_handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("neurophase: %(message)s"))
    logger.addHandler(handler)
    logger._neurophase_cli_handler = handler
    logger.setLevel(logging.WARNING if quiet or is_terminal() else logging.INFO)
    logger.propagate = False
    return handler


def main(argv=None):
    """Entry point of the ``neurophase`` console script; returns the exit status.

    0: done (predictions that do not hold are results, not errors); 1: ``recordings`` with some
    files not analysed; 2: bad input (one ``error:`` line, nothing written); 130: interrupted.
    """
    from neurophase.interrupts import handle_interrupts

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as done:  # --help, --version
        return int(done.code or 0) if not isinstance(done.code, str) else EXIT_USAGE
    handler = _configure_logging(getattr(args, "quiet", False))
    try:
        with handle_interrupts():
            try:
                return int(args.handler(args) or 0)
            except InterruptedRunError as error:
                print(f"interrupted: {error}", file=sys.stderr)
                return EXIT_INTERRUPTED
            except KeyboardInterrupt:
                print("interrupted: stopped by Ctrl-C; nothing unfinished was written.", file=sys.stderr)
                return EXIT_INTERRUPTED
            except NeurophaseError as error:
                text = " ".join(str(error).split())
                print(f"error: {text}", file=sys.stderr)
                return EXIT_USAGE
            except BrokenPipeError:  # output piped into a reader that stopped (`| head`)
                import os

                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                return 1
    finally:
        logging.getLogger("neurophase").removeHandler(handler)
        logging.getLogger("neurophase")._neurophase_cli_handler = None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
