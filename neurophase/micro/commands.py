"""The ``neurophase fi`` subcommand: the firing-rate curve of a model from the command line.

Usage::

    neurophase fi MODEL --input START STOP STEP UNIT [--protocol step|staircase|ramp|pulse]
                  [--noise SIGMA] [--noise-tau TAU] [--poisson-exc RATE WEIGHT]
                  [--poisson-inh RATE WEIGHT] [--duration D] [--seeds K] [--dt DT]
                  [--target cython|numpy] [--device cpp_standalone|runtime] [--threads N]
                  [--spike-record sums|times] [--out FILE.nc]

``MODEL`` is a library model name (``neurophase models`` lists them) or a model file. The
default device is C++ standalone through the build cache (:mod:`neurophase.micro.build_cache`):
the first run of a model, protocol and grid shape compiles (a few seconds), later runs with
other currents, durations or seeds start the compiled program at once; ``--device runtime``
uses Brian2's Cython runtime instead (README, *Speed*, says why standalone is the default).
``--input 0 20 0.5 uA/cm**2`` sweeps 0, 0.5, ..., 20 uA/cm2 (STOP included). Quantities such
as ``--duration "500 ms"`` or ``--noise "2 uA/cm**2"`` are written with their unit. The
command prints a table (input, rate, CV, latency), the rheobase and the onset type, and
writes the Dataset to ``--out`` if given. ``--poisson-exc "2000 Hz" "0.5 nS"`` adds Poisson
conductance input (:mod:`neurophase.micro.synaptic`); with ``--input`` in Hz and
``--poisson-exc input "0.5 nS"`` the grid sweeps the excitatory Poisson rate instead of a
current. It is :func:`neurophase.micro.neurone.firing_curve`
with the same arguments.

Functions
---------
add_fi_parser
    Register the ``fi`` subcommand on an ``argparse`` subparsers object.
run_fi
    Run it from parsed arguments; returns the exit status.
"""

from __future__ import annotations

import numpy as np

from neurophase.errors import NeurophaseError, ParameterError
from neurophase.units import parse_quantity, parse_unit

__all__ = ["add_fi_parser", "run_fi", "input_grid"]


def input_grid(start, stop, step, unit):
    """Levels ``start, start + step, ..., stop`` (stop included within step/1000) as a Quantity.

    >>> levels = input_grid("0", "1", "0.25", "pA")
    >>> [round(float(value), 2) for value in np.asarray(levels / parse_unit("pA"))]
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    try:
        start, stop, step = float(start), float(stop), float(step)
    except ValueError as error:
        raise ParameterError(
            f"--input needs three numbers and a unit, e.g. --input 0 20 0.5 uA/cm**2 ({error})."
        ) from None
    if step <= 0 or stop < start:
        raise ParameterError("--input needs STEP > 0 and STOP >= START, e.g. --input 0 20 0.5 pA.")
    count = int(np.floor((stop - start) / step + 1e-3)) + 1
    return (start + step * np.arange(count)) * parse_unit(unit)


def add_fi_parser(subparsers):
    """Add the ``fi`` subcommand to ``subparsers``; returns its parser."""
    parser = subparsers.add_parser(
        "fi", help="firing-rate curve of a model (one Brian2 network for the whole grid)",
        description="Firing statistics of a library model or model file over an input grid.",
    )
    parser.add_argument("model", help="library model name (see `neurophase models`) or a .toml file")
    parser.add_argument("--input", nargs=4, required=True, metavar=("START", "STOP", "STEP", "UNIT"),
                        help="input levels START..STOP (inclusive) by STEP, in UNIT (e.g. uA/cm**2)")
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
    parser.add_argument("--device", default="cpp_standalone", choices=("runtime", "cpp_standalone"),
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
    parser.add_argument("--out", default=None, help="write the Dataset to this NetCDF file")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    return parser


def _optional_quantity(text, name, expected=None):
    return None if text is None else parse_quantity(text, expected=expected, name=name)


def run_fi(args):
    """Run ``neurophase fi`` from parsed ``args``; returns 0 (errors raise NeurophaseError)."""
    import gc

    from neurophase.io import save_dataset
    from neurophase.micro.neurone import firing_curve

    inputs = input_grid(*args.input)
    # Brian2 runs a full garbage collection at every network run; the objects the imports made
    # live as long as the command anyway, so leave them out of it during the run (about 1 s of
    # CPU time per runtime command measured here)
    gc.freeze()
    try:
        dataset = firing_curve(
            args.model, inputs, protocol=args.protocol,
            duration=_optional_quantity(args.duration, "--duration", "ms"),
            noise=_optional_quantity(args.noise, "--noise"),
            noise_tau=_optional_quantity(args.noise_tau, "--noise-tau", "ms"),
            seeds=args.seeds, seed=args.seed, dt=_optional_quantity(args.dt, "--dt", "ms"),
            target=args.target, device=args.device, progress=False if args.quiet else None,
            spike_record=args.spike_record, poisson=_poisson_option(args), threads=args.threads,
        )
    finally:
        gc.unfreeze()
    if args.out:
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
    from neurophase.mapping.fi_curve import onset_type

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
