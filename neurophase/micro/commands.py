"""The ``neurophase fi`` subcommand: the firing-rate curve of a model from the command line.

Usage::

    neurophase fi MODEL --input START STOP STEP UNIT [--protocol step|staircase|ramp|pulse]
                  [--noise SIGMA] [--noise-tau TAU] [--poisson-exc RATE WEIGHT]
                  [--poisson-inh RATE WEIGHT] [--duration D] [--seeds K] [--dt DT]
                  [--target cython|numpy] [--device cpp_standalone|runtime] [--threads N]
                  [--spike-record sums|times] [--out FILE.nc] [--overwrite]
                  [--scheduler serial|local|tcp://host:port] [--chunk-size N] [--workers K]

``MODEL`` is a library model name (``neurophase models`` lists them) or a model file. The
default device is C++ standalone through the build cache (:mod:`neurophase.micro.build_cache`):
the first run of a model, protocol and grid shape compiles (a few seconds), later runs with
other currents, durations or seeds start the compiled program at once; ``--device runtime``
uses Brian2's Cython runtime instead (README, *Speed*, says why standalone is the default). A
command line that ran before starts its compiled program before Brian2 is imported
(:mod:`neurophase.micro.ahead`; the results are those of a fresh run).
``--input 0 20 0.5 uA/cm**2`` sweeps 0, 0.5, ..., 20 uA/cm2 (STOP included). Quantities such
as ``--duration "500 ms"`` or ``--noise "2 uA/cm**2"`` are written with their unit. The
command prints a table (input, rate, CV, latency), the rheobase and the onset type, and
writes the Dataset to ``--out`` if given. ``--poisson-exc "2000 Hz" "0.5 nS"`` adds Poisson
conductance input (:mod:`neurophase.micro.synaptic`); with ``--input`` in Hz and
``--poisson-exc input "0.5 nS"`` the grid sweeps the excitatory Poisson rate instead of a
current. It is :func:`neurophase.micro.neurone.firing_curve`
with the same arguments.

Every argument is checked before anything is simulated: finite input levels, positive time
step and duration, a known model whose equations are dimensionally consistent, and an
``--out`` file that is new (or ``--overwrite``) in a writable folder. The Dataset is written
only after the whole simulation finished (Ctrl-C: nothing is written, exit status 130).
``--scheduler local`` or an address splits the grid into chunks of at most ``--chunk-size``
neurones (default: eight equal chunks of at least 100 neurones), one network each, on Dask
workers, merged into one Dataset (:mod:`neurophase.micro.chunks`: identical to the same split
run serially).

This module imports only :mod:`argparse` at module level, so that building the command-line
parser stays fast; the simulation code is imported by :func:`run_fi`.

Functions
---------
add_fi_parser
    Register the ``fi`` subcommand on an ``argparse`` subparsers object.
run_fi
    Run it from parsed arguments; returns the exit status.
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

from neurophase.docstrings import template
from neurophase.errors import NeurophaseError, ParameterError
from neurophase.subcommands import BRIAN2_DEVICES, add_grid_argument, add_output_arguments, parser_adder

if TYPE_CHECKING:
    import numpy as np
    from brian2.units.fundamentalunits import Quantity

__all__ = ["add_fi_parser", "run_fi", "input_grid", "grid_numbers", "MAX_LEVELS"]

_doc = template()

#: Largest number of input levels of one ``--input`` grid (a typo such as a step of 1e-9 would
#: otherwise ask for billions of neurones).
MAX_LEVELS = 10_000_000


def input_grid(start: str | float, stop: str | float, step: str | float, unit: str, option: str = "--input",
               expected: str | None = None) -> Quantity:
    """Levels ``start, start + step, ..., stop`` (stop included within step/1000) as a Quantity.

    Parameters
    ----------
    start, stop, step : str or float, unit ``unit``
        The first level, the last (included when within ``step/1000``) and the spacing, as
        numbers (or their text, as typed after ``--input``) in ``unit``.
    unit : str
        A Brian2 unit string, e.g. ``"uA/cm**2"``.
    option : str
        The command-line option the four values were given with, named in every error.
    expected : str, optional
        A unit string whose dimension ``unit`` must have (e.g. the model's input unit).

    Returns
    -------
    Quantity (dimension of ``unit``)
        The levels, 1-D (at most :data:`MAX_LEVELS`).

    Examples
    --------
    >>> import numpy as np
    >>> from neurophase.units import parse_unit
    >>> levels = input_grid("0", "1", "0.25", "pA")
    >>> [round(float(value), 2) for value in np.asarray(levels / parse_unit("pA"))]
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    from brian2.units.fundamentalunits import get_dimensions

    from neurophase.units import has_dimension_of, parse_unit

    levels = grid_numbers(start, stop, step, option, expected)
    start, stop, step = float(start), float(stop), float(step)  # checked by grid_numbers
    try:
        unit_value = parse_unit(unit)
    except NeurophaseError as error:
        reason = " ".join(str(error).split()).rstrip(".")
        raise ParameterError(f"{option} unit {unit!r} cannot be read ({reason}).") from None
    if expected is not None and not has_dimension_of(unit_value, parse_unit(expected)):
        dimension = get_dimensions(parse_unit(expected))
        raise ParameterError(
            f"{option} is in {unit}, which is not a unit of {expected} (dimension {dimension}); "
            f"give it in {expected}, e.g. {option} {start:g} {stop:g} {step:g} {expected}.")
    return levels * unit_value


def grid_numbers(start: str | float, stop: str | float, step: str | float, option: str = "--input",
                 expected: str | None = None) -> np.ndarray:
    """The numbers ``start, start + step, ..., stop`` of a grid option (stop included within
    step/1000), checked: what :func:`input_grid` multiplies by the unit. Imports no Brian2
    (:mod:`neurophase.micro.ahead` rebuilds a command's input levels with it).

    Parameters
    ----------
    start, stop, step : str or float
        The first level, the last and the spacing, as numbers or their text.
    option : str
        The command-line option, named in every error.
    expected : str, optional
        A unit string shown in the examples of the errors.

    Returns
    -------
    numpy.ndarray
        The levels, 1-D (at most :data:`MAX_LEVELS`).

    Raises
    ------
    ParameterError
        Not three finite numbers, STEP <= 0, STOP < START, too many levels or an overflow.
    """
    import numpy as np

    try:
        start, stop, step = float(start), float(stop), float(step)
    except ValueError as error:
        raise ParameterError(
            f"{option} needs three numbers and a unit, e.g. {option} 0 20 0.5 {expected or 'uA/cm**2'} ({error})."
        ) from None
    if not all(math.isfinite(value) for value in (start, stop, step)):
        raise ParameterError(
            f"{option} {start:g} {stop:g} {step:g}: START, STOP and STEP must be finite numbers "
            f"(not nan or inf), e.g. {option} 0 20 0.5 {expected or 'pA'}.")
    if step <= 0 or stop < start:
        raise ParameterError(f"{option} needs STEP > 0 and STOP >= START, e.g. {option} 0 20 0.5 {expected or 'pA'}.")
    count = math.floor((stop - start) / step + 1e-3) + 1
    if count > MAX_LEVELS:
        raise ParameterError(
            f"{option} {start:g} {stop:g} {step:g} asks for {count:.3g} levels (at most {MAX_LEVELS:,}); "
            "use a larger STEP.")
    levels = start + step * np.arange(count)
    if not np.all(np.isfinite(levels)):
        raise ParameterError(f"{option} {start:g} {stop:g} {step:g} overflows; use smaller numbers.")
    return levels


def _fi_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``neurophase fi`` on ``parser``."""
    parser.add_argument("model", help="library model name (see `neurophase models`) or a .toml file")
    add_grid_argument(parser, "--input", "input levels START..STOP (inclusive) by STEP, in UNIT (e.g. uA/cm**2)",
                      required=True)
    parser.add_argument("--protocol", default="step", choices=("step", "staircase", "ramp", "pulse"))
    parser.add_argument("--noise", default=None,
                        help="noise amplitude with unit: a current for Ornstein-Uhlenbeck noise, "
                             "current*second**0.5 for white noise")
    parser.add_argument("--noise-tau", default=None, help="OU noise correlation time (default 5 ms)")
    parser.add_argument("--duration", default=None,
                        help="run time (step, pulse) or time per level (staircase, ramp), e.g. '1 s'")
    parser.add_argument("--seeds", type=int, default=1, help="trials per grid point")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--dt", default=None, help="time step (default: the model's)")
    parser.add_argument("--target", default="cython", choices=("cython", "numpy"))
    parser.add_argument("--device", default="cpp_standalone", choices=BRIAN2_DEVICES,
                        help="cpp_standalone (default: a C++ program, compiled once per model, protocol "
                             "and grid shape into the build cache) or runtime (Brian2's Cython runtime)")
    parser.add_argument("--threads", type=int, default=None,
                        help="OpenMP threads of cpp_standalone (default: $NEUROPHASE_THREADS, or every core)")
    parser.add_argument("--poisson-exc", nargs=2, default=None, metavar=("RATE", "WEIGHT"),
                        help='excitatory Poisson conductance input, e.g. "2000 Hz" "0.5 nS" '
                             '(RATE "input" when --input is in Hz: the grid sweeps it)')
    parser.add_argument("--poisson-inh", nargs=2, default=None, metavar=("RATE", "WEIGHT"),
                        help='inhibitory Poisson conductance input, e.g. "1000 Hz" "0.5 nS"')
    parser.add_argument("--spike-record", default="sums", choices=("sums", "times"),
                        help="sums (default): per-neurone running sums, memory independent of "
                             "the duration; times: keep every spike time (SpikeMonitor)")
    add_output_arguments(parser, "write the Dataset to this NetCDF file (.nc), only when the run finished",
                         "replace an existing --out file", out_required=False)
    parser.add_argument("--scheduler", default=None,
                        help="split the grid into chunks on 'local' (Dask on this machine) or a Dask "
                             "scheduler address (tcp://host:8786); default: one network, in this process")
    parser.add_argument("--chunk-size", type=int, default=None, metavar="N",
                        help="largest number of neurones per chunk (with --scheduler; it fixes the "
                             "random numbers of noisy grids)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes of --scheduler local (default: one per core)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no table")


add_fi_parser = parser_adder(
    "fi", "firing-rate curve of a model (one Brian2 network for the whole grid)",
    "Firing statistics of a library model or model file over an input grid.",
    _fi_arguments)


def _optional_quantity(text, name, expected=None):
    from neurophase.units import parse_quantity

    return None if text is None else parse_quantity(text, expected=expected, name=name)


def _positive_time(text, name):
    value = _optional_quantity(text, name, "ms")
    if value is not None:
        from neurophase.units import to_magnitude

        magnitude = float(to_magnitude(value, "ms", name=name))
        if not (math.isfinite(magnitude) and magnitude > 0):
            raise ParameterError(f"{name} {text!r} must be a positive, finite time, e.g. '0.01 ms'.")
    return value


def _import_brian2_without_pylab() -> None:
    """Import Brian2 without the ``from pylab import *`` of its ``__init__`` (matplotlib.pyplot:
    about 1 s of CPU time, a fifth of a warm ``fi`` command), which only re-exports plotting
    names that this command never uses. ``pylab`` is marked missing while Brian2 is imported
    (Brian2 then imports the numpy names itself) and restored right after, so a later
    ``import pylab`` works as usual. Only the ``fi`` command does this: it runs no user code."""
    import sys

    if "brian2" in sys.modules:
        return
    missing = object()
    saved = sys.modules.get("pylab", missing)
    sys.modules["pylab"] = None  # an import of pylab now raises ImportError at once
    try:
        import brian2  # noqa: F401
    finally:
        if saved is missing:
            sys.modules.pop("pylab", None)
        else:
            sys.modules["pylab"] = saved


@_doc
def run_fi(args: argparse.Namespace) -> int:
    """Run ``neurophase fi`` from parsed ``args`` (the arguments of :func:`add_fi_parser`).

    Everything is checked before the simulation starts; the Dataset is written (atomically)
    only after it finished.

    %(subcommand_run)s
    """
    from neurophase.micro import ahead

    # one network in this process on the standalone device: if this command line ran before, its
    # compiled program starts now, on another core, while Brian2 is imported (taken below only
    # if its inputs turn out identical to the byte; see neurophase.micro.ahead)
    serial = args.device == "cpp_standalone" and args.scheduler in (None, "serial") and args.chunk_size is None
    if serial:
        ahead.start_fi(args)
    try:
        return _run_fi(args, serial)
    finally:
        ahead.cancel()


def _run_fi(args, serial):
    _import_brian2_without_pylab()
    from neurophase.micro.neurone import resolve_model
    from neurophase.records import check_output_file

    if args.out:
        check_output_file(args.out, overwrite=args.overwrite)
    if args.seeds < 1:
        raise ParameterError(f"--seeds {args.seeds} must be at least 1.")
    if not 0 <= args.seed < 2**32:
        raise ParameterError(f"--seed {args.seed} must be in 0 .. 2**32 - 1.")
    if args.chunk_size is not None and args.chunk_size < 1:
        raise ParameterError(f"--chunk-size {args.chunk_size} must be at least 1 (neurones per chunk).")
    if args.workers is not None and args.workers < 1:
        raise ParameterError(f"--workers {args.workers} must be at least 1.")
    if (args.chunk_size is not None or args.workers is not None) and args.scheduler in (None, "serial"):
        if args.workers is not None:
            raise ParameterError("--workers needs --scheduler local.")
    executor = None
    if args.scheduler not in (None, "serial") or args.chunk_size is not None:
        from neurophase.sweep import get_executor

        executor = get_executor(args.scheduler, workers=args.workers)  # checks the name
    inputs = input_grid(*args.input)
    options = dict(
        protocol=args.protocol,
        duration=_positive_time(args.duration, "--duration"),
        noise=_optional_quantity(args.noise, "--noise"),
        noise_tau=_positive_time(args.noise_tau, "--noise-tau"),
        seeds=args.seeds, seed=args.seed, dt=_positive_time(args.dt, "--dt"),
        target=args.target, device=args.device, progress=False if args.quiet else None,
        spike_record=args.spike_record, poisson=_poisson_option(args), threads=args.threads,
    )
    model = resolve_model(args.model)
    if executor is not None:
        from neurophase.micro.chunks import default_chunk_size

        chunk_size = args.chunk_size or default_chunk_size(inputs, options["seeds"], options["noise"],
                                                           options["protocol"])
        options.update(executor=executor, chunk_size=chunk_size)
    # Brian2 runs a full garbage collection at every network run; the objects the imports made
    # live as long as the command anyway, so leave them out of it during the run (about 1 s of
    # CPU time per runtime command measured here)
    import gc

    from neurophase.micro.neurone import firing_curve
    from neurophase.progress import inner_progress

    gc.freeze()
    try:
        with inner_progress(not args.quiet, log_start=True):
            dataset = firing_curve(model, inputs, **options)
    finally:
        gc.unfreeze()
    if serial:
        from neurophase.micro import ahead

        ahead.remember_fi(args, model.input_unit)
    if args.out:
        from neurophase.io import save_dataset

        save_dataset(dataset, args.out)
    if not args.quiet:
        _print_summary(dataset, args)
        if args.out:
            print(f"wrote {args.out}")
        else:
            print("(use --out FILE.nc to keep the Dataset)")
    return 0


def _poisson_option(args):
    """``--poisson-exc`` / ``--poisson-inh`` -> the ``poisson`` argument of firing_curve."""
    from neurophase.units import parse_quantity

    if args.poisson_exc is None and args.poisson_inh is None:
        return None
    if args.poisson_exc is None:
        raise ParameterError('--poisson-inh needs --poisson-exc too (e.g. --poisson-exc "2000 Hz" "0.5 nS").')
    rate, weight = args.poisson_exc
    option = {"weight_exc": parse_quantity(weight, name="--poisson-exc WEIGHT")}
    if rate.strip().lower() != "input":
        option["rate_exc"] = parse_quantity(rate, name="--poisson-exc RATE")
    if args.poisson_inh is not None:
        option["rate_inh"] = parse_quantity(args.poisson_inh[0], name="--poisson-inh RATE")
        option["weight_inh"] = parse_quantity(args.poisson_inh[1], name="--poisson-inh WEIGHT")
    return option


def _print_summary(dataset, args):
    import numpy as np

    from neurophase.mapping.fi_curve import onset_type
    from neurophase.units import parse_unit

    unit = dataset["input"].attrs["units"]
    mean = dataset.mean("trial") if "trial" in dataset.dims else dataset
    if "param_sigma" in mean.dims:
        mean = mean.isel(param_sigma=0)
    directions = list(mean["direction"].values) if "direction" in mean.dims else [None]
    for direction in directions:
        view = mean if direction is None else mean.sel(direction=direction)
        title = f"{dataset.attrs.get('model_name')} {args.protocol}" + (f" ({direction})" if direction else "")
        print(title)
        print(f"{'input (' + unit + ')':>18} {'rate (Hz)':>10} {'CV ISI':>8} {'latency (ms)':>13} {'p_fire':>7}")
        for index in range(view.sizes["input"]):
            row = view.isel(input=index)
            print(f"{float(row['input']):>18.5g} {float(row['rate']):>10.3f} {float(row['cv_isi']):>8.3f} "
                  f"{float(row['first_spike_latency']):>13.3f} {float(row['p_fire']):>7.2f}")
    try:
        view = dataset.isel(param_sigma=0) if "param_sigma" in dataset.dims else dataset
        onset = onset_type(view)
        low = float(np.asarray(onset.rheobase.low / parse_unit(unit)))
        high = float(np.asarray(onset.rheobase.high / parse_unit(unit)))
        print(f"rheobase in ({low:g}, {high:g}] {unit}; onset {onset.kind}"
              + (f" (jump {float(onset.jump):.3g} Hz)" if onset.kind == "discontinuous" else ""))
    except NeurophaseError as error:  # summary only; the data are complete
        print(f"(no onset summary: {error})")
