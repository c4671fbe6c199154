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
threshold, amplitude, width, used only for models whose trace draws the spike): the root mean
square of the group's z-scores. Grouping keeps NSGA-II at 2-4 objectives, where its crowding
distance still ranks solutions (beyond about four objectives nearly every candidate is
non-dominated and the selection pressure vanishes: Ishibuchi, Tsukamoto & Nojima 2008, IEEE CEC,
"Evolutionary many-objective optimization: a short review"); the per-feature RMS is kept for the
report.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neurophase.fit.features import FEATURES

__all__ = ["Target", "MISMATCH_Z", "DIVERGED_OBJECTIVE", "GROUPS"]

#: z-score of a feature defined on one side only (recorded but not simulated).
MISMATCH_Z = 10.0
#: Objective value of a candidate whose simulation diverged.
DIVERGED_OBJECTIVE = 1.0e3
#: Objective groups in order.
GROUPS = ("f-I", "spike timing", "subthreshold", "spike shape")


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
    recorded, scale : ndarray
        ``(n_features, n_steps)``; recorded NaN where undefined.
    sweep_of_step : ndarray of int
        Position of each step's sweep in the training sweep list.
    """

    features: list
    groups: list
    recorded: np.ndarray
    scale: np.ndarray
    sweep_of_step: np.ndarray
    n_sweeps: int

    @classmethod
    def from_dataset(cls, dataset, sweep_numbers, spike_shape):
        """From a recorded per-step feature Dataset of the training sweeps (in ``sweep_numbers`` order)."""
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
        groups = [group for group in GROUPS if any(FEATURES[name].group == group for name in features)]
        return cls(features, groups, np.array(recorded), np.array(scale), sweep_of_step, len(sweep_numbers))

    def z_scores(self, simulated):
        """``(n_candidates, n_features, n_steps)`` z-scores; NaN where the recording has no value.

        ``simulated``: ``(n_candidates, n_features, n_steps)`` simulated feature values (NaN where
        the simulation does not define them), in the order of :attr:`features`.
        """
        simulated = np.asarray(simulated, dtype=float)
        defined = np.isfinite(self.recorded)[None]
        with np.errstate(invalid="ignore"):
            z = (simulated - self.recorded[None]) / self.scale[None]
        z = np.where(defined & ~np.isfinite(simulated), MISMATCH_Z, z)
        return np.where(defined, z, np.nan)

    def group_sums(self, z):
        """Sum of squared z and number of terms per (candidate, group, sweep) (for the bootstrap)."""
        n_candidates = z.shape[0]
        sums = np.zeros((n_candidates, len(self.groups), self.n_sweeps))
        counts = np.zeros((len(self.groups), self.n_sweeps))
        for g, group in enumerate(self.groups):
            rows = [k for k, name in enumerate(self.features) if FEATURES[name].group == group]
            block = z[:, rows, :]
            finite = np.isfinite(block)
            squared = np.where(finite, block, 0.0) ** 2
            for sweep in range(self.n_sweeps):
                columns = self.sweep_of_step == sweep
                sums[:, g, sweep] = squared[:, :, columns].sum(axis=(1, 2))
                counts[g, sweep] = finite[0][:, columns].sum()
        return sums, counts

    @staticmethod
    def objectives_from_sums(sums, counts):
        """RMS z per group from the per-sweep sums (any resampling of sweeps along the last axis)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(sums.sum(axis=-1) / np.maximum(counts.sum(axis=-1), 1))

    def objectives(self, z):
        """``(n_candidates, n_groups)`` objective vectors."""
        sums, counts = self.group_sums(z)
        return self.objectives_from_sums(sums, counts)

    def feature_rms(self, z):
        """``(n_candidates, n_features)`` RMS z per feature over the steps where it is used."""
        finite = np.isfinite(z)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(np.where(finite, z, 0.0).__pow__(2).sum(axis=2) / np.maximum(finite.sum(axis=2), 1))
