"""What the subcommands of the ``neurophase`` command share in their parsers.

Every subcommand module (:mod:`neurophase.micro.commands`, :mod:`neurophase.check.recordings_command`,
:mod:`neurophase.check.coarse_graining_command`, :mod:`neurophase.check.population_command`,
:mod:`neurophase.check.fitting`) has an ``add_*_parser(subparsers)`` function, made by
:func:`parser_adder` from the subcommand's name, help and argument declarations, and a
``run_*(args)`` function that runs it (:mod:`neurophase.cli` wires them; the run functions'
docstrings share the entry ``subcommand_run`` of :data:`neurophase.docstrings.COMMON`). This
module imports :mod:`argparse` alone, so every layer may import it and ``neurophase --help``
stays fast.

Functions
---------
parser_adder
    The ``add_*_parser`` function of a subcommand.
add_output_arguments
    ``--out``, ``--overwrite`` and ``--quiet``: where a subcommand writes, whether it may replace
    an older result, and whether it reports progress.
add_grid_argument
    An option that takes a grid ``START STOP STEP UNIT`` (read by
    :func:`neurophase.micro.commands.input_grid`).

Constants
---------
BRIAN2_DEVICES
    The choices of every ``--device`` option.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

__all__ = ["parser_adder", "add_output_arguments", "add_grid_argument", "BRIAN2_DEVICES"]

#: The Brian2 devices a subcommand can run on (the choices of ``--device``).
BRIAN2_DEVICES = ("runtime", "cpp_standalone")


def parser_adder(name: str, help: str, description: str,
                 arguments: Callable[[argparse.ArgumentParser], None]) -> Callable[[Any], argparse.ArgumentParser]:
    """The ``add_*_parser(subparsers)`` function of the subcommand ``name``.

    The function it returns adds the subcommand to ``subparsers`` (what
    ``ArgumentParser.add_subparsers()`` returned), lets ``arguments`` declare its arguments and
    returns the subcommand's parser; it carries its own numpydoc docstring and belongs to the
    module of ``arguments``.

    Parameters
    ----------
    name : str
        The subcommand, e.g. ``"fit"``.
    help : str
        Its line in ``neurophase --help``.
    description : str
        The text at the top of ``neurophase NAME --help``.
    arguments : callable
        ``arguments(parser)`` adds the subcommand's arguments (argparse alone: no heavy import).

    Returns
    -------
    callable
        ``add_<name>_parser(subparsers) -> argparse.ArgumentParser``.
    """

    def add_parser(subparsers: Any) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(name, help=help, description=description)
        arguments(parser)
        return parser

    add_parser.__name__ = add_parser.__qualname__ = f"add_{name.replace('-', '_')}_parser"
    add_parser.__module__ = arguments.__module__
    add_parser.__doc__ = f"""Add the ``{name}`` subcommand to ``subparsers``.

    Parameters
    ----------
    subparsers : argparse subparsers action
        What ``ArgumentParser.add_subparsers()`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The subcommand's parser.
    """
    return add_parser


def add_output_arguments(parser: argparse.ArgumentParser, out_help: str,
                         overwrite_help: str = "write into an --out folder that holds files (those of the same name "
                                               "are replaced)",
                         quiet_help: str | None = None, out_required: bool = True) -> None:
    """Add ``--out``, ``--overwrite`` and (when ``quiet_help`` is given) ``--quiet`` to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        A subcommand's parser.
    out_help : str
        Help of ``--out``: what is written there, and when.
    overwrite_help : str, optional
        Help of ``--overwrite`` (a flag); default: replacing files of an ``--out`` folder.
    quiet_help : str or None, optional
        Help of the flag ``--quiet``; None adds no ``--quiet``.
    out_required : bool, optional
        Whether ``--out`` must be given; default True (False: its default is None).
    """
    parser.add_argument("--out", required=out_required, default=None, help=out_help)
    parser.add_argument("--overwrite", action="store_true", help=overwrite_help)
    if quiet_help is not None:
        parser.add_argument("--quiet", action="store_true", help=quiet_help)


def add_grid_argument(parser: Any, option: str, help: str, required: bool = False) -> None:
    """Add ``option`` taking a grid ``START STOP STEP UNIT`` (STOP included) to ``parser``.

    The four words are read by :func:`neurophase.micro.commands.input_grid`, which names
    ``option`` in its errors.

    Parameters
    ----------
    parser : argparse.ArgumentParser or argparse argument group
        Where the option goes.
    option : str
        Its name, e.g. ``"--input"``.
    help : str
        Its help (what the grid's values are).
    required : bool, optional
        Whether it must be given; default False (its default is None).
    """
    parser.add_argument(option, nargs=4, required=required, default=None, metavar=("START", "STOP", "STEP", "UNIT"),
                        help=help)
