"""Objectives of a fit: feature z-scores against a recording, kept as a vector (one entry per group).

For every feature ``f`` of :data:`neurophase.fit.features.FEATURES` used in the fit and every
training step ``s`` where the recording defines it::

    z_fs = (simulated_fs - recorded_fs) / scale_fs
    scale_fs = max(sd_fs, floor_f + relative_floor_f |recorded_fs|)

``sd_fs`` is the sample standard deviation of the recorded feature over the repeated steps at the
same current (both test steps of a dual-step sweep, repeated sweeps), when there are at least two;
the floor is the feature's measurement resolution (one spike per step duration for the rate;
2 ms for the first-spike latency, 1 mV for potentials, ...; :data:`~neurophase.fit.features.FEATURES`),
so a single trial never gets a zero scale. This is the z-score of BluePyOpt/eFEL (Van Geit et al.
2016, Front. Neuroinform. 10:17; Druckmann et al. 2007, Front. Neurosci. 1:7), with the
experimental standard deviation replaced by the resolution where only one trial exists.

A feature the recording defines and the simulation does not (the model is silent where the cell
fires, or fires where the cell is silent on a subthreshold step) gets ``z = MISMATCH_Z``
explicitly; a feature the recording does not define is not used. A candidate whose simulation
diverged gets ``DIVERGED_OBJECTIVE`` on every objective and is flagged, never dropped.

The objective vector has one entry per group (``f-I``: rate; ``spike timing``: latency, ISI CV,
adaptation index; ``subthreshold``: steady state, deflection, time constant, sag; ``spike shape``:
threshold, amplitude, width, used only for models whose trace draws the spike; optionally (off by default)
``voltage trace``: the RMS voltage difference with the spikes cut out, :func:`trace_errors`, in
units of 1 mV): the root mean square of the group's z-scores. Grouping keeps NSGA-II at 2-5
objectives, where its crowding distance still ranks solutions (beyond about four objectives nearly every candidate is
non-dominated and the selection pressure vanishes: Ishibuchi, Tsukamoto & Nojima 2008, IEEE CEC,
"Evolutionary many-objective optimization: a short review"); the per-feature RMS is kept for the
report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from neurophase.docstrings import template
from neurophase.fit.features import FEATURES

if TYPE_CHECKING:
    import xarray as xr
    from numpy.typing import ArrayLike

    from neurophase.fit.features import StepWindow

__all__ = ["Target", "MISMATCH_Z", "DIVERGED_OBJECTIVE", "GROUPS", "TRACE_ERROR", "TRACE_SCALE", "trace_errors",
           "group_of"]

#: Docstring entries (:mod:`neurophase.docstrings`): the Parameters section of the methods that
#: take z-scores.
_doc = template(parameters_z="""Parameters
----------
z : numpy.ndarray, dimensionless
    :meth:`Target.z_scores`, ``(n_candidates, n_features, n_steps)``.""")

#: z-score of a feature defined on one side only (recorded but not simulated).
MISMATCH_Z = 10.0
#: Objective value of a candidate whose simulation diverged.
DIVERGED_OBJECTIVE = 1.0e3
#: Objective groups in order.
GROUPS = ("f-I", "spike timing", "subthreshold", "spike shape", "voltage trace")
#: Name of the voltage-trace error term (not a feature of one trace: a distance between two).
TRACE_ERROR = "voltage_trace_error"
#: Scale (mV) of the voltage-trace error's z-score: the voltage resolution the features also use.
TRACE_SCALE = 1.0
#: Time cut around every spike (recorded or simulated) from the trace error: (before, after), s.
SPIKE_CUT = (0.002, 0.005)


def group_of(name: str) -> str:
    """The objective group of a feature (or of the trace error).

    Parameters
    ----------
    name : str
        A feature of :data:`~neurophase.fit.features.FEATURES`, or :data:`TRACE_ERROR`.

    Returns
    -------
    str
        One of :data:`GROUPS` (or ``"none"``).
    """
    return "voltage trace" if name == TRACE_ERROR else FEATURES[name].group


def trace_errors(simulated: np.ndarray, simulated_interval: float, recorded: np.ndarray, recorded_interval: float,
                 steps: Sequence[StepWindow], simulated_spikes: ArrayLike, recorded_spikes: ArrayLike) -> np.ndarray:
    """RMS difference (mV) between a simulated and a recorded trace over each step, spikes cut out.

    For every step the samples from the start of its baseline (or of the step) to the end of the
    step are compared, except within 2 ms before and 5 ms after any recorded or simulated spike
    (a reset model draws no action potential and its reset differs from a real after-potential; the
    spike timing is scored by the features). The simulated trace is interpolated onto the
    recording's samples when the two are sampled differently. This is the trace objective of
    brian2modelfitting (Teska et al. 2020, eNeuro 7:ENEURO.0099-20.2020) with the spikes cut out,
    as the issue asks, expressed per step. NaN for a step with no sample left.

    Parameters
    ----------
    simulated : numpy.ndarray, mV
        Simulated membrane potential.
    simulated_interval : float, s
        Its sampling interval.
    recorded : numpy.ndarray, mV
        Recorded membrane potential.
    recorded_interval : float, s
        Its sampling interval.
    steps : sequence of StepWindow
        The sweep's test steps.
    simulated_spikes, recorded_spikes : array_like, s
        Spike times in each trace.

    Returns
    -------
    numpy.ndarray, mV
        One RMS difference per step.
    """
    n = recorded.size
    time = np.arange(n) * recorded_interval
    if abs(simulated_interval - recorded_interval) > 1e-12 or simulated.size != n:
        simulated = np.interp(time, np.arange(simulated.size) * simulated_interval, simulated)
    keep = np.ones(n, dtype=bool)
    for spike in np.concatenate([np.asarray(simulated_spikes, float), np.asarray(recorded_spikes, float)]):
        first = max(0, int((spike - SPIKE_CUT[0]) / recorded_interval))
        last = min(n, int((spike + SPIKE_CUT[1]) / recorded_interval) + 1)
        keep[first:last] = False
    errors = []
    for step in steps:
        start = step.baseline[0] if step.baseline is not None else step.start
        first, last = int(round(start / recorded_interval)), min(n, int(round(step.stop / recorded_interval)))
        inside = keep[first:last]
        if not inside.any():
            errors.append(np.nan)
            continue
        difference = simulated[first:last][inside] - recorded[first:last][inside]
        errors.append(float(np.sqrt(np.mean(difference ** 2))))
    return np.array(errors)


@dataclasses.dataclass
class Target:
    """The recorded features of the training steps and their z-score scales.

    Build with :meth:`from_dataset`; :meth:`z_scores` and :meth:`objectives` score simulations.

    Attributes
    ----------
    features : list of str
        Features used (recorded somewhere in the training steps, of a used group).
    groups : list of str
        Objective groups used, in :data:`GROUPS` order.
    recorded, scale : numpy.ndarray, units of each feature
        ``(n_features, n_steps)``; recorded NaN where undefined.
    sweep_of_step : numpy.ndarray of int
        Position of each step's sweep in the training sweep list.
    n_sweeps : int
        Number of training sweeps.
    """

    features: list
    groups: list
    recorded: np.ndarray
    scale: np.ndarray
    sweep_of_step: np.ndarray
    n_sweeps: int

    @classmethod
    def from_dataset(cls, dataset: xr.Dataset, sweep_numbers: Sequence[int], spike_shape: bool,
                     trace: bool = False) -> Target:
        """From a recorded per-step feature Dataset of the training sweeps (in ``sweep_numbers`` order).

        ``trace``: add the voltage-trace error (:func:`trace_errors`; recorded value 0, scale
        :data:`TRACE_SCALE`) as the ``voltage trace`` group.

        Parameters
        ----------
        dataset : xarray.Dataset
            :func:`~neurophase.fit.features.feature_dataset` of the recorded training steps.
        sweep_numbers : sequence of int
            The training sweeps' global numbers, in order.
        spike_shape : bool
            Use the spike-shape features (the model draws its spikes).
        trace : bool
            Add the voltage-trace group.

        Returns
        -------
        Target
            Recorded values and scales ``max(sd, floor + relative_floor |recorded|)`` (module
            docstring).
        """
        current = dataset["current"].values
        duration = dataset["step_duration"].values
        position = {number: k for k, number in enumerate(sweep_numbers)}
        sweep_of_step = np.array([position[int(number)] for number in dataset["sweep"].values], dtype=int)
        features, recorded, scale = [], [], []
        for name, spec in FEATURES.items():
            if spec.group == "none" or (spec.shape and not spike_shape):
                continue
            values = np.asarray(dataset[name].values, dtype=float)
            if not np.any(np.isfinite(values)):
                continue
            floor = (1.0 / duration) if name == "spike_rate" else spec.floor + spec.relative_floor * np.abs(values)
            spread = np.zeros_like(values)
            keys = np.round(current).astype(np.int64)
            for key in np.unique(keys):
                members = np.flatnonzero((keys == key) & np.isfinite(values))
                if members.size >= 2:
                    spread[members] = np.std(values[members], ddof=1)
            features.append(name)
            recorded.append(values)
            scale.append(np.maximum(np.nan_to_num(spread), floor))
        if trace:
            features.append(TRACE_ERROR)
            recorded.append(np.zeros(dataset.sizes["step"]))
            scale.append(np.full(dataset.sizes["step"], TRACE_SCALE))
        groups = [group for group in GROUPS if any(group_of(name) == group for name in features)]
        return cls(features, groups, np.array(recorded), np.array(scale), sweep_of_step, len(sweep_numbers))

    def z_scores(self, simulated: ArrayLike) -> np.ndarray:
        """``(n_candidates, n_features, n_steps)`` z-scores; NaN where the recording has no value.

        ``z = (simulated - recorded) / scale`` (the BluePyOpt/eFEL z-score, module docstring), and
        :data:`MISMATCH_Z` where the recording defines a feature the simulation does not.

        Parameters
        ----------
        simulated : array_like, units of each feature
            ``(n_candidates, n_features, n_steps)`` simulated feature values (NaN where the
            simulation does not define them), in the order of :attr:`features`.

        Returns
        -------
        numpy.ndarray, dimensionless
            The z-scores.
        """
        simulated = np.asarray(simulated, dtype=float)
        defined = np.isfinite(self.recorded)[None]
        with np.errstate(invalid="ignore"):
            z = (simulated - self.recorded[None]) / self.scale[None]
        z = np.where(defined & ~np.isfinite(simulated), MISMATCH_Z, z)
        return np.where(defined, z, np.nan)

    @_doc
    def group_sums(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sum of squared z and number of terms per (candidate, group, sweep) (for the bootstrap).

        %(parameters_z)s

        Returns
        -------
        sums : numpy.ndarray
            ``(n_candidates, n_groups, n_sweeps)`` sums of ``z**2``.
        counts : numpy.ndarray
            ``(n_groups, n_sweeps)`` numbers of terms.
        """
        n_candidates = z.shape[0]
        sums = np.zeros((n_candidates, len(self.groups), self.n_sweeps))
        counts = np.zeros((len(self.groups), self.n_sweeps))
        for g, group in enumerate(self.groups):
            rows = [k for k, name in enumerate(self.features) if group_of(name) == group]
            block = z[:, rows, :]
            finite = np.isfinite(block)
            squared = np.where(finite, block, 0.0) ** 2
            for sweep in range(self.n_sweeps):
                columns = self.sweep_of_step == sweep
                sums[:, g, sweep] = squared[:, :, columns].sum(axis=(1, 2))
                counts[g, sweep] = finite[0][:, columns].sum()
        return sums, counts

    @staticmethod
    def objectives_from_sums(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """RMS z per group from the per-sweep sums (any resampling of sweeps along the last axis).

        Parameters
        ----------
        sums : numpy.ndarray
            ``(..., n_groups, n_sweeps)`` sums of ``z**2`` (:meth:`group_sums`).
        counts : numpy.ndarray
            ``(n_groups, n_sweeps)`` numbers of terms.

        Returns
        -------
        numpy.ndarray, dimensionless
            ``sqrt(sum z**2 / count)`` per group.
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(sums.sum(axis=-1) / np.maximum(counts.sum(axis=-1), 1))

    @_doc
    def objectives(self, z: np.ndarray) -> np.ndarray:
        """``(n_candidates, n_groups)`` objective vectors.

        %(parameters_z)s

        Returns
        -------
        numpy.ndarray, dimensionless
            RMS z per group.
        """
        sums, counts = self.group_sums(z)
        return self.objectives_from_sums(sums, counts)

    @_doc
    def feature_rms(self, z: np.ndarray) -> np.ndarray:
        """``(n_candidates, n_features)`` RMS z per feature over the steps where it is used.

        %(parameters_z)s

        Returns
        -------
        numpy.ndarray, dimensionless
            RMS z per feature.
        """
        finite = np.isfinite(z)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(np.where(finite, z, 0.0).__pow__(2).sum(axis=2) / np.maximum(finite.sum(axis=2), 1))
