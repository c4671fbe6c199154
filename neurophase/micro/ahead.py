"""Start the compiled program of a repeated ``neurophase fi`` command before Brian2 is imported.

A warm ``fi`` command (its network already in the build cache, :mod:`neurophase.micro.build_cache`)
spends about as long importing Brian2 and building the network description as running the
compiled binary (benchmarks/README.md, *Whole command*). Once a command line has run, what its
binary needs is known without Brian2: the program's cache key, the duration, the seed, and every
input array, all of which except the input levels depend only on the command line. This module
keeps that knowledge as a *record* per command line and, when the same command line (with the
same or other ``--input`` numbers, same count and unit) comes again, starts the binary at once
(:func:`neurophase.micro.build_cache.start_ahead`) on the second core while the command imports
Brian2 and computes everything as usual.

Correctness does not rest on the record. The command then runs exactly as without it and hands
the program its inputs; the binary started ahead is used only if its program key, duration, seed
and every input array are identical to the byte with those (else it is killed and a fresh one
started). The results are therefore those of a run started at that moment. A record that is
missing, unreadable, from another version or for another model file only means no head start.

Record
    ``<cache folder>/ahead/<signature>.npz`` (one file, replaced atomically): the program key,
    duration and seed, the input arrays that are constant for the command line, and for the
    input levels (``grid_input_level``, or ``grid_rate_exc`` when a Poisson rate is swept) the
    neurone-to-level index and the two unit factors that turn ``--input`` numbers into the
    program's SI values the way :func:`neurophase.micro.neurone.firing_curve` does (checked on
    the arrays of the recorded run before the record is written).
Signature
    SHA-256 of the command line's options except the ``--input`` numbers (their count and unit
    are in), ``--out``, ``--overwrite`` and ``--quiet``; the model file's bytes; the versions of
    neurophase, Brian2 and numpy; ``$NEUROPHASE_THREADS``, ``$CXX``; the record format.

Functions
---------
start_fi
    Start the binary of an ``fi`` command line from its record (no Brian2 import).
remember_fi
    Write the record of an ``fi`` command line that has just run on the standalone device.
cancel
    Stop a binary started ahead that no run took.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from neurophase.docstrings import template
from neurophase.micro import build_cache

__all__ = ["start_fi", "remember_fi", "cancel", "signature", "record_path", "LEVEL_INPUTS", "RECORD_FORMAT"]

_doc = template(fi_args="""args : argparse.Namespace
    The parsed arguments of ``neurophase fi``.""")

#: Inputs of :func:`neurophase.micro.neurone.firing_curve`'s program that carry the input levels.
LEVEL_INPUTS = ("grid_input_level", "grid_rate_exc")
#: Version of the record layout (part of every signature).
RECORD_FORMAT = 1
#: Options of ``fi`` that do not change what the binary computes.
_IGNORED = ("input", "out", "overwrite", "quiet", "handler", "command")


def _levels(args):
    """The ``--input`` numbers as :func:`neurophase.micro.commands.input_grid` computes them
    (the same function), or None when they are not a valid grid (the command reports that)."""
    from neurophase.errors import ParameterError
    from neurophase.micro.commands import grid_numbers

    try:
        return grid_numbers(*args.input[:3])
    except (ParameterError, TypeError):
        return None


def _si_levels(numbers, factors, index=None):
    """The program's SI values of the levels ``numbers`` (one per neurone with ``index``), by the
    operations of :func:`~neurophase.micro.commands.input_grid` and ``firing_curve``: numbers x the
    option's unit, / the model's unit, one value per neurone, x the model's unit."""
    in_model_unit = (numbers * factors["cli"]) / factors["model"]
    return (in_model_unit if index is None else in_model_unit[index]) * factors["model"]


def _model_bytes(model):
    from neurophase.resources import models_directory

    path = Path(model)
    if not (path.suffix == ".toml" and path.is_file()):
        path = models_directory() / f"{model}.toml"
    try:
        return path.read_bytes()
    except OSError:
        return None


def _version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@_doc
def signature(args: Any) -> str | None:
    """The signature of an ``fi`` command line (see the module docstring), or None when it has
    none (an unreadable model or ``--input``).

    Parameters
    ----------
    %(fi_args)s

    Returns
    -------
    str or None
        64 hexadecimal digits.
    """
    levels = _levels(args)
    model = _model_bytes(args.model)
    if levels is None or model is None:
        return None
    options = {name: value for name, value in sorted(vars(args).items())
               if name not in _IGNORED and (value is None or isinstance(value, (str, int, float, bool, list, tuple)))}
    text = json.dumps({
        "options": options, "input_unit": str(args.input[3]), "levels": int(levels.size),
        "model": hashlib.sha256(model).hexdigest(),
        "versions": [_version(name) for name in ("neurophase", "brian2", "numpy")],
        "environment": [os.environ.get(name) for name in ("NEUROPHASE_THREADS", "CXX")],
        "format": [RECORD_FORMAT, build_cache.FORMAT],
    }, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@_doc
def record_path(args: Any) -> Path | None:
    """Where the record of an ``fi`` command line is (or would be) kept; None without a signature.

    Parameters
    ----------
    %(fi_args)s

    Returns
    -------
    pathlib.Path or None
        ``<cache folder>/ahead/<signature>.npz``.
    """
    key = signature(args)
    return None if key is None else build_cache.cache_directory().parent / "ahead" / f"{key}.npz"


@_doc
def start_fi(args: Any) -> bool:
    """Start the compiled program of the ``fi`` command line ``args`` from its record.

    Imports neither Brian2 nor xarray. Any problem (no record, another model file, a program
    no longer in the cache) only means no head start.

    Parameters
    ----------
    %(fi_args)s

    Returns
    -------
    bool
        True when the binary was started.
    """
    try:
        path = record_path(args)
        if path is None or not path.is_file():
            return False
        with np.load(path, allow_pickle=False) as stored:
            meta = json.loads(str(stored["meta"]))
            arrays = {}
            for name in meta["inputs"]:
                if name in meta["levels"]:
                    values = _si_levels(_levels(args), meta["levels"][name], stored[f"index.{name}"])
                    arrays[name] = np.ascontiguousarray(values, dtype=np.dtype(meta["dtypes"][name]))
                else:
                    arrays[name] = np.ascontiguousarray(stored[f"value.{name}"])
        return build_cache.start_ahead(meta["key"], arrays, meta["duration"], meta["seed"])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return False


@_doc
def remember_fi(args: Any, model_input_unit: str) -> bool:
    """Write the record of the ``fi`` command line ``args``, which has just run its network on the
    standalone device (the last :meth:`~neurophase.micro.build_cache.StandaloneProgram.run` of
    this process).

    Parameters
    ----------
    %(fi_args)s
    model_input_unit : str
        The model's input unit (the unit ``firing_curve`` converts the levels to).

    Returns
    -------
    bool
        True when a record was written; False when there is no standalone run, no signature, or
        the level inputs cannot be rebuilt to the byte from the ``--input`` numbers.
    """
    from neurophase.units import parse_unit

    run = build_cache.last_run()
    path = record_path(args)
    numbers = _levels(args)
    if not run or path is None or numbers is None:
        return False
    cli = float(parse_unit(str(args.input[3])))
    # the unit firing_curve converts each level input to: the model's input unit, Hz for rates
    model_factors = {"grid_input_level": float(parse_unit(model_input_unit)), "grid_rate_exc": float(parse_unit("Hz"))}
    meta = {"key": run["key"], "duration": run["duration"], "seed": run["seed"], "inputs": sorted(run["arrays"]),
            "levels": {}, "dtypes": {name: str(array.dtype) for name, array in run["arrays"].items()}}
    stored = {}
    for name, array in run["arrays"].items():
        factors = {"cli": cli, "model": model_factors[name]} if name in LEVEL_INPUTS else None
        index = _level_index(array, numbers, factors) if factors is not None else None
        if index is not None:
            meta["levels"][name] = factors
            stored[f"index.{name}"] = index
        else:
            stored[f"value.{name}"] = array
    stored["meta"] = np.array(json.dumps(meta))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f"{path.stem}.", suffix=".npz.part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **stored)
        os.chmod(staging, 0o644)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return True


def _level_index(array, numbers, factors):
    """The neurone-to-level index that rebuilds ``array`` to the byte from the ``--input`` numbers
    (None when it does not, or when the array holds one value for several levels: then it does
    not follow the levels and is kept as it is)."""
    if numbers.size > 1 and np.unique(array).size < 2:
        return None
    position = {value: index for index, value in enumerate(_si_levels(numbers, factors).tolist())}
    try:
        index = np.array([position[value] for value in array.tolist()], dtype=np.int64)
    except (KeyError, TypeError):
        return None
    rebuilt = _si_levels(numbers, factors, index).astype(array.dtype)
    return index if rebuilt.tobytes() == array.tobytes() else None


def cancel() -> None:
    """Stop a binary started ahead that no run took (see
    :func:`neurophase.micro.build_cache.cancel_ahead`)."""
    build_cache.cancel_ahead()
