"""One large firing-curve grid split into chunks, each ONE Brian2 network, run on an executor.

:func:`neurophase.micro.neurone.firing_curve` runs a whole grid as one network. A grid too large
for one process (memory, or the time of one core) is split by :func:`firing_curve_chunks` into
chunks of at most ``chunk_size`` neurones, run on any executor of :mod:`neurophase.sweep`
(serial, a local Dask cluster, a Dask scheduler) and merged into one Dataset.

How the grid is split
    Protocols with one neurone per level (``step``, ``pulse``) are split along ``input`` (every
    chunk holds whole levels, all their trials and noise levels); protocols in which every
    neurone walks through all levels (``staircase``, ``ramp``) are split along ``trial``. The
    split depends only on the grid and ``chunk_size``, never on the executor or the number of
    workers.

Seeds and what is identical
    Chunk ``k`` of a split into several chunks is seeded with
    ``numpy.random.SeedSequence([seed, k]).generate_state(1)[0]`` (independent streams, O'Neill
    2014; distinct from the seeds of neighbouring base seeds), a single chunk with ``seed``
    itself. So for given ``seed`` and ``chunk_size`` the merged Dataset is identical whatever
    runs it (serial, ``LocalCluster``, remote workers, any number of workers, any order of
    arrival, after a worker died and its chunk ran again): same values, coordinates and
    attributes except ``created`` and ``wall_time_seconds``. A deterministic model (no noise, no
    stochastic channels, no Poisson input) gives the unchunked values for every ``chunk_size``,
    because every neurone is integrated by the same code on its own state. With noise, another
    ``chunk_size`` draws other (equally valid) random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neurophase.errors import ParameterError, SimulationError

if TYPE_CHECKING:
    import xarray as xr
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

    from neurophase.micro.modelfile import Model

__all__ = ["firing_curve_chunks", "plan_chunks", "chunk_seed", "default_chunk_size", "VOLATILE_ATTRS"]

#: Attributes that differ between two runs of the same grid (time of creation, wall time).
VOLATILE_ATTRS = ("created", "wall_time_seconds")
_TRIAL_PROTOCOLS = ("staircase", "ramp")


def chunk_seed(seed: int, chunk: int, n_chunks: int) -> int:
    """The Brian2 seed of chunk ``chunk`` of ``n_chunks`` (see the module docstring).

    Parameters
    ----------
    seed : int
        The seed of the whole grid.
    chunk : int
        Chunk number, in ``range(n_chunks)``.
    n_chunks : int
        Number of chunks (1: ``seed`` itself).

    Returns
    -------
    int
        ``seed`` for a single chunk, else the first word of ``numpy.random.SeedSequence([seed,
        chunk])``.

    Examples
    --------
    >>> chunk_seed(7, 0, 1)
    7
    >>> chunk_seed(7, 0, 2) == chunk_seed(7, 0, 3) != chunk_seed(7, 1, 2)
    True
    """
    if n_chunks == 1:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), int(chunk)]).generate_state(1)[0])


def _grid_size(n_levels, seeds, n_sigma, protocol):
    per_neurone_levels = 1 if protocol in _TRIAL_PROTOCOLS else n_levels
    return int(per_neurone_levels) * int(seeds) * int(n_sigma)


def default_chunk_size(inputs: ArrayLike | Quantity, seeds: int, noise: ArrayLike | Quantity | None, protocol: str,
                       combinations: int = 1) -> int:
    """The default split: eight chunks of equal size, at least 100 neurones each. It depends on
    the grid only (never on the cluster), so a noisy grid draws the same numbers everywhere.

    Parameters
    ----------
    inputs : Quantity (input dimension) or array_like
        The input levels (only their number matters).
    seeds : int
        Trials per grid point.
    noise : Quantity or array_like, optional
        Noise amplitude(s) (only their number matters).
    protocol : str
        The protocol (staircase and ramp: one neurone per trial runs every level).
    combinations : int
        The number of parameter combinations of a parameter grid (:mod:`neurophase.micro.grid`).

    Returns
    -------
    int
        Neurones per chunk.

    Examples
    --------
    >>> import numpy as np
    >>> default_chunk_size(np.arange(1000), 2, None, "step")
    250
    """
    n_levels = int(np.size(np.asarray(inputs)))
    n_sigma = int(np.size(np.asarray(noise))) if noise is not None else 1
    return max(100, math.ceil(_grid_size(n_levels, seeds, n_sigma * int(combinations), protocol) / 8))


def plan_chunks(n_levels: int, seeds: int, n_sigma: int, protocol: str, chunk_size: int) -> tuple[str, list[slice]]:
    """``(axis, slices)``: the axis split (``"input"`` or ``"trial"``) and one slice per chunk
    (``n_sigma``: neurones per level and trial, i.e. noise levels x parameter combinations).

    Parameters
    ----------
    n_levels : int
        Input levels.
    seeds : int
        Trials per grid point.
    n_sigma : int
        Neurones per level and trial.
    protocol : str
        The protocol (staircase and ramp are split along ``trial``, the others along ``input``).
    chunk_size : int
        Largest number of neurones per chunk.

    Returns
    -------
    axis : str
        ``"input"`` or ``"trial"``.
    slices : list of slice
        One slice of that axis per chunk.

    Examples
    --------
    >>> plan_chunks(10, 2, 1, "step", 8)
    ('input', [slice(0, 4, None), slice(4, 8, None), slice(8, 10, None)])
    >>> plan_chunks(10, 6, 1, "staircase", 4)
    ('trial', [slice(0, 4, None), slice(4, 6, None)])
    """
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise ParameterError(f"chunk_size = {chunk_size} must be at least 1 (neurones per network).")
    if protocol in _TRIAL_PROTOCOLS:
        axis, length, per_unit = "trial", int(seeds), int(n_sigma)
    else:
        axis, length, per_unit = "input", int(n_levels), int(n_sigma) * int(seeds)
    step = max(1, chunk_size // max(per_unit, 1))
    return axis, [slice(start, min(start + step, length)) for start in range(0, length, step)]


def _run_chunk(job):
    """Worker side: one chunk = one :func:`~neurophase.micro.neurone.firing_curve` network.
    A diverged chunk comes back as ``("diverged", partial, failed_points, message)`` so that the
    other chunks are still merged."""
    from neurophase.micro.neurone import firing_curve

    model, inputs, options = job
    try:
        return ("ok", firing_curve(model, inputs, **options))
    except SimulationError as error:
        if error.partial is None:
            raise
        return ("diverged", error.partial, error.failed_points, str(error))


def _trace_name(dataset):
    names = [name for name, variable in dataset.data_vars.items()
             if "time" in variable.dims and name != "time"]
    return names[0] if names else None


def firing_curve_chunks(model: str | Path | Model, inputs: Quantity, chunk_size: int | None = None,
                        executor: Any = None, seed: int = 0, seeds: int = 1,
                        record_voltage: Sequence[int] | None = None, protocol: str = "step",
                        noise: Quantity | None = None, standalone_directory: str | Path | None = None,
                        **options: Any) -> xr.Dataset:
    """:func:`~neurophase.micro.neurone.firing_curve` of a large grid, in chunks on an executor.

    Parameters
    ----------
    model : str, pathlib.Path or Model
        As :func:`~neurophase.micro.neurone.firing_curve`.
    inputs : Quantity (the model's input dimension)
        Input levels, one-dimensional.
    seed : int
        Seed of the whole grid (each chunk's is :func:`chunk_seed`).
    seeds : int
        Trials per grid point.
    record_voltage : sequence of int, optional
        Indices into ``inputs`` of the recorded traces.
    protocol : str
        As :func:`~neurophase.micro.neurone.firing_curve`.
    noise : Quantity (input dimension, or input times time**0.5), optional
        As :func:`~neurophase.micro.neurone.firing_curve`.
    standalone_directory : None
        Must be None (each chunk builds in its own folder); given, it is an error.
    **options : object
        The other arguments of :func:`~neurophase.micro.neurone.firing_curve` (``progress``
        is ignored on workers).
    chunk_size : int, optional
        Largest number of neurones per network (default :func:`default_chunk_size`). It fixes
        the split, hence the random numbers of a noisy grid (see the module docstring).
    executor : str or executor, optional
        ``"serial"`` (default), ``"local"``, a Dask scheduler address, or an executor of
        :mod:`neurophase.sweep` (started here unless the caller entered it already).

    Returns
    -------
    xarray.Dataset
        As :func:`~neurophase.micro.neurone.firing_curve`, with attributes ``chunks``,
        ``chunk_size``, ``chunk_axis`` and ``chunk_seeds``.

    Raises
    ------
    SimulationError
        Some grid points diverged: ``error.partial`` is the merged Dataset of every chunk.
    """
    import datetime

    import xarray as xr
    from brian2.units.fundamentalunits import Quantity

    from neurophase.micro.neurone import resolve_model
    from neurophase.sweep import TaskFailure, get_executor

    if standalone_directory is not None:
        raise ParameterError("standalone_directory cannot be shared by several chunks; leave it out "
                             "(each chunk builds in its own temporary folder).")
    model = resolve_model(model, **(options.pop("equation_options", None) or {}))
    if not isinstance(inputs, Quantity) or np.ndim(np.asarray(inputs)) != 1:
        raise ParameterError("'inputs' must be a one-dimensional Brian2 quantity (e.g. "
                             "`np.arange(0, 20, 0.5) * uA/cm**2`) to be split into chunks.")
    from neurophase.micro.grid import parameter_grid

    n_levels = int(np.size(np.asarray(inputs)))
    seeds = int(seeds)
    # every noise level and parameter combination is one neurone per level and trial
    combinations = parameter_grid(model, options.get("parameters")).size
    n_outer = (int(np.size(np.asarray(noise))) if noise is not None else 1) * combinations
    total = _grid_size(n_levels, seeds, n_outer, protocol)
    if chunk_size is None:
        chunk_size = default_chunk_size(inputs, seeds, noise, protocol, combinations=combinations)
    axis, slices = plan_chunks(n_levels, seeds, n_outer, protocol, chunk_size)
    n_chunks = len(slices)
    record = [] if record_voltage is None else [int(index) for index in np.atleast_1d(record_voltage)]
    for index in record:
        if not 0 <= index < n_levels:
            raise ParameterError(f"record_voltage index {index} is outside 0..{n_levels - 1}.")
    options = dict(options, protocol=protocol, noise=noise)
    options["progress"] = False
    jobs, labels = [], []
    for number, part in enumerate(slices):
        chunk_options = dict(options, seed=chunk_seed(seed, number, n_chunks))
        if axis == "input":
            chunk_inputs = inputs[part]
            chunk_options["seeds"] = seeds
            local = [index - part.start for index in record if part.start <= index < part.stop]
            label = f"chunk {number} (inputs {part.start}..{part.stop - 1})"
        else:
            chunk_inputs = inputs
            chunk_options["seeds"] = part.stop - part.start
            local = record if part.start == 0 else []
            label = f"chunk {number} (trials {part.start}..{part.stop - 1})"
        chunk_options["record_voltage"] = local or None
        jobs.append((model, chunk_inputs, chunk_options))
        labels.append(label)

    # a scheduler name, or an executor that is not started yet, is started (and stopped) here
    runner = get_executor(executor) if isinstance(executor, str) or executor is None else executor
    owned = not getattr(runner, "active", True)
    results = [None] * n_chunks
    try:
        if owned:
            runner.__enter__()
        try:
            for number, outcome in runner.as_completed(_run_chunk, jobs, labels):
                results[number] = outcome
        except TaskFailure as failure:
            raise failure.error from None
    finally:
        if owned:
            runner.__exit__(None, None, None)

    datasets = [outcome[1] for outcome in results]
    traces = []
    for number, dataset in enumerate(datasets):
        name = _trace_name(dataset)
        if name is not None:
            traces.append((number, name, dataset[name]))
            # the trace's own coordinates (recorded_input, time) go with it, not into the concat
            datasets[number] = dataset.drop_vars([name] + [coordinate for coordinate in dataset[name].coords
                                                           if coordinate not in dataset["spike_count"].coords])
    if axis == "input":
        merged = xr.concat(datasets, dim="input", data_vars="all", coords="minimal",
                           compat="equals", combine_attrs="drop_conflicts")
    else:
        shifted = [dataset.drop_vars(["p_fire", "fano_factor"]).assign_coords(trial=dataset["trial"] + part.start)
                   for dataset, part in zip(datasets, slices)]
        merged = xr.concat(shifted, dim="trial", data_vars="minimal", coords="minimal",
                           compat="equals", combine_attrs="drop_conflicts")
    for coordinate in merged.coords:
        merged[coordinate].attrs = dict(datasets[0][coordinate].attrs)
    for variable in merged.data_vars:
        merged[variable].attrs = dict(datasets[0][variable].attrs)
    if axis == "trial":  # statistics across trials: of all trials, as firing_curve computes them
        from neurophase.micro.neurone import add_trial_statistics

        merged = add_trial_statistics(merged)
    if traces:
        name = traces[0][1]
        if axis == "input":
            combined = xr.concat([trace for _, _, trace in traces], dim="recorded_input",
                                 combine_attrs="override")
            # position of every recorded level in the concatenation, then the caller's order
            concatenated = [index for number, _, _ in traces for index in record
                            if slices[number].start <= index < slices[number].stop]
            combined = combined.isel(recorded_input=[concatenated.index(index) for index in record])
        else:
            combined = traces[0][2]
        merged[name] = combined
    first = datasets[0].attrs
    merged.attrs = dict(first)
    merged.attrs.update(
        created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        seed=int(seed), n_seeds=seeds, n_neurons=int(total),
        wall_time_seconds=round(sum(float(d.attrs.get("wall_time_seconds", 0.0)) for d in datasets), 3),
        chunks=n_chunks, chunk_size=int(chunk_size), chunk_axis=axis,
        chunk_seeds=("seed itself (one chunk)" if n_chunks == 1 else
                     "numpy.random.SeedSequence([seed, chunk]).generate_state(1)[0] per chunk"),
    )
    diverged = [outcome for outcome in results if outcome[0] == "diverged"]
    if diverged:
        failed = [point for outcome in diverged for point in outcome[2]]
        raise SimulationError(
            f"The simulation of {model.name!r} diverged (NaN or infinite state) at {len(failed)} grid "
            f"point(s) in {len(diverged)} of {n_chunks} chunks: {', '.join(failed[:10])}"
            f"{' ...' if len(failed) > 10 else ''}. Reduce dt or the input range; the finished points "
            "are in error.partial.", partial=merged, failed_points=failed)
    return merged
