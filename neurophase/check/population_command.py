"""The ``neurophase population`` subcommand: a recurrent population's rate over a (w, drive) grid,
simulated and predicted.

Usage::

    neurophase population MODEL --coupling START STOP STEP UNIT --drive START STOP STEP UNIT
                          [--noise SIGMA] [--size N_pop] [--indegree K] [--synapse delta|current]
                          [--synaptic-tau TAU] [--delay D] [--kick I] [--duration T]
                          [--transient T] [--seeds S] [--dt DT] [--transfer-drive START STOP STEP UNIT]
                          [--transfer-noise SIGMA ...] [--device runtime|cpp_standalone] --out DIR

Every (w, drive) point, started low and high, is one population of ONE Brian2 network
(:func:`neurophase.micro.network.simulate_populations`); the prediction is the derived population
mean field (:mod:`neurophase.mapping.population`: Siegert for the LIF, the uncoupled model's
measured transfer function otherwise, measured over ``--transfer-drive`` x ``--transfer-noise``).
Writes ``population_stationary.nc`` (measured and predicted rates), ``population_theory.nc``
(branches, folds, cusp), the figures, ``verdicts.csv`` (Q1 per coupling) and ``report.md`` into
``--out`` (only when the whole run succeeds). From Python: :func:`population_sweep`.
"""

from __future__ import annotations

from neurophase.errors import ParameterError

__all__ = ["add_population_parser", "run_population", "population_sweep"]


def population_sweep(model, couplings, drives, noise, size=1000, indegree=100, synapse="delta",
                     synaptic_tau=None, delay="1.5 ms", kick=None, duration="2 s",
                     transient="0.5 s", seeds=1, dt=None, transfer_drives=None,
                     transfer_noises=None, transfer_seeds=3, transfer_duration="3 s", seed=0,
                     target="cython", device="runtime", out=None, progress=None):
    """Simulated and predicted population rates over a ``(w, drive)`` grid (the command's work).

    Parameters
    ----------
    model : str or Model
        A library model or model file.
    couplings, drives : Quantity
        The grid (``couplings`` in mV for delta synapses, the input unit for current synapses;
        ``drives`` in the input unit).
    noise : Quantity
        White-noise amplitude of the drive (input unit x sqrt(second)).
    kick : Quantity, optional
        Extra drive for the first 100 ms of the high starts (default: the larger of the drive
        span and the largest absolute drive).
    transfer_drives, transfer_noises : Quantity
        Grid of the uncoupled transfer-function measurement (non-LIF models only).
    out : str or Path, optional
        Output folder (written only on success).

    Returns
    -------
    (list of Verdict, dict of Dataset)
    """
    import numpy as np

    from neurophase.check.population import population_prediction, stationary_sweep
    from neurophase.mapping.population import is_lif
    from neurophase.micro.modelfile import Model, load_model
    from neurophase.micro.network import coupling_unit, measure_transfer
    from neurophase.units import parse_unit, to_magnitude

    loaded = model if isinstance(model, Model) else load_model(model)
    # ---- validate everything before simulating
    if synapse not in ("delta", "current"):
        raise ParameterError(f"--synapse must be delta or current (the mean field is derived for "
                             f"those); got {synapse!r}.")
    w_unit = coupling_unit(loaded, synapse)
    w_grid = np.atleast_1d(to_magnitude(couplings, w_unit, name=f"coupling ({synapse} synapse)"))
    mu_grid = np.atleast_1d(to_magnitude(drives, loaded.input_unit, name="drive"))
    if w_grid.size == 0 or mu_grid.size == 0:
        raise ParameterError("The coupling and drive grids must not be empty; check START <= STOP.")
    white = f"{loaded.input_unit}*second**0.5"
    sigma = float(to_magnitude(noise, white, name="noise"))
    if not sigma > 0:
        raise ParameterError(f"--noise must be positive (white noise in {white}); got {sigma:g}.")
    size, indegree, seeds = int(size), int(indegree), int(seeds)
    if not 0 < indegree <= size - 1:
        raise ParameterError(f"--indegree K = {indegree} must lie between 1 and N_pop - 1 = {size - 1} "
                             "(sources are drawn within the population, no autapses); lower K or "
                             "raise --size.")
    if seeds < 1:
        raise ParameterError("--seeds must be at least 1.")
    if not is_lif(loaded) and (transfer_drives is None or transfer_noises is None):
        raise ParameterError(f"Model {loaded.name!r} is not a LIF, so its transfer function is measured "
                             "on the uncoupled model: give --transfer-drive START STOP STEP UNIT and "
                             "--transfer-noise (two or more amplitudes).")
    if kick is None:
        span = float(mu_grid.max() - mu_grid.min())
        kick = max(span, float(np.abs(mu_grid).max()), 1e-12) * parse_unit(loaded.input_unit)
    transfer = None
    if not is_lif(loaded):
        transfer = measure_transfer(loaded, transfer_drives, transfer_noises, seeds=transfer_seeds,
                                    duration=transfer_duration, transient=transient, dt=dt,
                                    target=target, device=device, seed=seed + 7, progress=progress)
    time_step = dt if dt is not None else loaded.dt
    theory = population_prediction(loaded, synapse=synapse, indegree=indegree, noise=noise,
                                   delay=delay, synaptic_tau=synaptic_tau, dt=time_step,
                                   transfer=transfer)
    common = dict(size=size, indegree=indegree, synapse=synapse, synaptic_tau=synaptic_tau,
                  delay=delay, noise=noise, dt=time_step, parameters=None, target=target,
                  device=device, progress=progress, seeds=seeds)
    verdicts, stationary, theory_ds = stationary_sweep(
        loaded, theory, w_grid, mu_grid, kick, common, stationary_duration=duration,
        transient=transient, seed=seed)
    datasets = {"stationary": stationary, "theory": theory_ds}
    if transfer is not None:
        datasets["transfer"] = transfer
    if out is not None:
        _write(out, verdicts, datasets)
    return verdicts, datasets


def _write(out, verdicts, datasets):
    import matplotlib.pyplot as plt

    from neurophase.check.verdicts import write_verdicts_csv
    from neurophase.io import save_dataset, staged_output
    from neurophase.plot import figures_for

    with staged_output(out) as stage:
        lines = ["# neurophase population", "", "| id | expected | measured | interval | holds |",
                 "|---|---|---|---|---|"]
        for verdict in verdicts:
            lines.append(f"| {verdict.id} | {verdict.expected:.4g} | {verdict.measured:.4g} | "
                         f"[{verdict.ci_low:.4g}, {verdict.ci_high:.4g}] | {verdict.holds} |")
        for name, dataset in datasets.items():
            save_dataset(dataset, stage / f"population_{name}.nc")
        lines.append("")
        for stem, figure, caption in figures_for("population", datasets, verdicts):
            figure.savefig(stage / f"population_{stem}.png", dpi=110, bbox_inches="tight")
            plt.close(figure)
            lines += [f"![{stem}](population_{stem}.png)", "", caption, ""]
        lines += ["## Notes", ""] + [f"- {verdict.id}: {verdict.criterion}. {verdict.note}"
                                     for verdict in verdicts]
        (stage / "report.md").write_text("\n".join(lines) + "\n")
        write_verdicts_csv(verdicts, stage / "verdicts.csv")


def add_population_parser(subparsers):
    """Add the ``population`` subcommand to ``subparsers``; returns its parser."""
    parser = subparsers.add_parser(
        "population", help="recurrent population rate over a (w, drive) grid, simulated and predicted",
        description="Every (w, drive) point, started low and high, is one population of one Brian2 "
                    "network; the prediction is the derived population mean field.")
    parser.add_argument("model", help="library model name or model file (.toml)")
    parser.add_argument("--coupling", nargs=4, required=True, metavar=("START", "STOP", "STEP", "UNIT"),
                        help="recurrent weights w (mV for delta synapses, the input unit for current)")
    parser.add_argument("--drive", nargs=4, required=True, metavar=("START", "STOP", "STEP", "UNIT"),
                        help="external drives in the model's input unit")
    parser.add_argument("--noise", required=True,
                        help="white-noise amplitude with unit, e.g. '5.657 pA*second**0.5'")
    parser.add_argument("--size", type=int, default=1000, help="neurones per population N_pop")
    parser.add_argument("--indegree", type=int, default=100, help="recurrent inputs per neurone K")
    parser.add_argument("--synapse", default="delta", help="delta (v += w) or current (exponential)")
    parser.add_argument("--synaptic-tau", default=None, help="decay of current synapses, e.g. '2 ms'")
    parser.add_argument("--delay", default="1.5 ms", help="transmission delay")
    parser.add_argument("--kick", default=None, help="extra drive starting the high branch")
    parser.add_argument("--duration", default="2 s", help="run time")
    parser.add_argument("--transient", default="0.5 s", help="start excluded from the rates")
    parser.add_argument("--seeds", type=int, default=1, help="populations per grid point and start")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--dt", default=None, help="time step (default: the model's)")
    parser.add_argument("--transfer-drive", nargs=4, default=None, metavar=("START", "STOP", "STEP", "UNIT"),
                        help="drives of the uncoupled transfer-function measurement (non-LIF models)")
    parser.add_argument("--transfer-noise", nargs="+", default=None,
                        help="white-noise amplitudes of that measurement (two or more, with units)")
    parser.add_argument("--device", default="runtime", choices=("runtime", "cpp_standalone"))
    parser.add_argument("--out", required=True, help="output folder (written only if the run succeeds)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run_population(args):
    """Run ``neurophase population`` from parsed ``args``; returns 0."""
    import numpy as np

    from neurophase.micro.commands import input_grid
    from neurophase.units import parse_quantity

    def quantity(text, name):
        return None if text is None else parse_quantity(text, name=name)

    couplings = input_grid(*args.coupling)
    drives = input_grid(*args.drive)
    transfer_drives = None if args.transfer_drive is None else input_grid(*args.transfer_drive)
    transfer_noises = None
    if args.transfer_noise is not None:
        values = [parse_quantity(text, name="--transfer-noise") for text in args.transfer_noise]
        transfer_noises = np.asarray([float(v / values[0]) for v in values]) * values[0]
    verdicts, datasets = population_sweep(
        args.model, couplings, drives, parse_quantity(args.noise, name="--noise"), size=args.size,
        indegree=args.indegree, synapse=args.synapse,
        synaptic_tau=quantity(args.synaptic_tau, "--synaptic-tau"), delay=parse_quantity(args.delay, name="--delay"),
        kick=quantity(args.kick, "--kick"), duration=parse_quantity(args.duration, name="--duration"),
        transient=parse_quantity(args.transient, name="--transient"), seeds=args.seeds,
        dt=quantity(args.dt, "--dt"), transfer_drives=transfer_drives, transfer_noises=transfer_noises,
        seed=args.seed, device=args.device, out=args.out, progress=False if args.quiet else None)
    theory = datasets["theory"]
    print(f"derived cusp: w_c = {float(theory['cusp_coupling']):.4g} {theory['cusp_coupling'].attrs['units']}, "
          f"mu_c = {float(theory['cusp_drive']):.4g} {theory['cusp_drive'].attrs['units']}, "
          f"r_c = {float(theory['cusp_rate']):.4g} Hz")
    for verdict in verdicts:
        print(f"  {verdict.id:<40} {'holds' if verdict.holds else 'FAILS':<6} expected "
              f"{verdict.expected:.4g} Hz, measured {verdict.measured:.4g} Hz "
              f"[{verdict.ci_low:.4g}, {verdict.ci_high:.4g}]")
    print(f"wrote {args.out}")
    return 0
