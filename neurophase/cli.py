"""The ``neurophase`` command.

Subcommands
-----------
``run EXPERIMENT --out DIR``
    Run an experiment file (or a shipped one by name, e.g. ``quickstart``); see
    :mod:`neurophase.experiments`.
``models``
    List the library models with their titles and citations.
``experiments``
    List the shipped experiments.
``fi MODEL --input START STOP STEP UNIT ...``
    Firing-rate curve of a model (see :mod:`neurophase.micro.commands`).
``recordings FILE... --out DIR``
    Firing statistics of current-clamp recordings checked against the derived activations.
``coarse-grain MODEL --out DIR``
    The mean-field membrane derived from a conductance-based model file (THEORY.md 6a).
``population MODEL --coupling ... --drive ... --noise ... --out DIR``
    A recurrent population's rate over a (w, drive) grid, simulated and predicted (see
    :mod:`neurophase.check.population_command`).
``fit MODEL RECORDING... --out DIR``
    Fit a model to current-clamp step recordings (see :mod:`neurophase.check.fitting`).

Errors the user can fix are printed as one ``error:`` line and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from neurophase import __version__
from neurophase.errors import NeurophaseError

__all__ = ["main", "build_parser"]

# Subcommands contributed by other modules: name -> (module, add-parser function, run function).
_PLUGINS = {
    "fi": ("neurophase.micro.commands", "add_fi_parser", "run_fi"),
    "recordings": ("neurophase.check.recordings", "add_recordings_parser", "run_recordings"),
    "coarse-grain": ("neurophase.check.coarse_graining_command", "add_coarse_grain_parser", "run_coarse_grain"),
    "population": ("neurophase.check.population_command", "add_population_parser", "run_population"),
    "fit": ("neurophase.check.fitting", "add_fit_parser", "run_fit"),
}


def _run(args):
    from neurophase.experiments import run_experiment

    result = run_experiment(args.experiment, args.out, scheduler=args.scheduler,
                            progress=None if not args.quiet else False)
    verdicts = result["verdicts"]
    held = sum(verdict.holds for verdict in verdicts)
    print(f"{held} of {len(verdicts)} predictions hold; wrote {len(result['files'])} files to "
          f"{args.out} in {result['seconds']:.0f} s (see report.md and verdicts.csv).")
    for verdict in verdicts:
        print(f"  {verdict.id:<14} {'holds' if verdict.holds else 'FAILS':<6} "
              f"{verdict.quantity}: expected {verdict.expected:.4g}, measured {verdict.measured:.4g} "
              f"[{verdict.ci_low:.4g}, {verdict.ci_high:.4g}]")
    return 0


def _models(args):
    from neurophase.micro.modelfile import load_model
    from neurophase.resources import list_models

    for name in list_models():
        model = load_model(name)
        print(f"{name:<28} {model.title}  [{model.citation}]")
    return 0


def _experiments(args):
    from neurophase.experiments import load_experiment
    from neurophase.resources import list_experiments

    for name in list_experiments():
        experiment = load_experiment(name)
        print(f"{name:<20} {experiment.title}")
    return 0


def build_parser():
    """The argument parser of the ``neurophase`` command."""
    parser = argparse.ArgumentParser(
        prog="neurophase",
        description="Is the artificial neurone a mean-field model of the neural membrane? "
                    "Simulate, coarse-grain, check.",
    )
    parser.add_argument("--version", action="version", version=f"neurophase {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)

    run = subparsers.add_parser("run", help="run an experiment file into an output folder")
    run.add_argument("experiment", help="experiment file (.toml) or a shipped experiment name")
    run.add_argument("--out", required=True, help="output folder (written only if the run succeeds)")
    run.add_argument("--scheduler", default=None,
                     help="'serial' (default), 'local' (Dask on this machine) or a Dask scheduler "
                          "address such as tcp://host:8786")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.set_defaults(handler=_run)

    models = subparsers.add_parser("models", help="list the library models")
    models.set_defaults(handler=_models)
    experiments = subparsers.add_parser("experiments", help="list the shipped experiments")
    experiments.set_defaults(handler=_experiments)

    for module_name, add_name, run_name in _PLUGINS.values():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if hasattr(module, add_name) and hasattr(module, run_name):
            sub = getattr(module, add_name)(subparsers)
            sub.set_defaults(handler=getattr(module, run_name))
    return parser


def main(argv=None):
    """Entry point of the ``neurophase`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except NeurophaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
