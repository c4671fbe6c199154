"""Recordings prepared for a fit: the replayed stimulus, the test steps, the recorded features.

Functions
---------
prepare_recordings
    Recordings -> :class:`FitData`: every usable sweep with its injected current (the recorded
    command or measured current; for files without one, the step protocol read from the file or
    its sidecar, at the holding current elsewhere), its membrane potential (liquid-junction
    corrected), its test steps as :class:`~neurophase.fit.features.StepWindow` (with the holding
    segment before each step as its baseline), and its features.
split_sweeps
    Training and held-out sweeps: given, or every other sweep in order of step current.

Excluded sweeps (a truncated sweep, NaN samples, no test step) are listed with their reason in
``FitData.excluded``, never dropped silently.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from neurophase.docstrings import template
from neurophase.errors import ParameterError, RecordingError
from neurophase.fit.features import BASELINE_DURATION, StepWindow, feature_dataset, step_features
from neurophase.recordings.spikes import detect_spikes

if TYPE_CHECKING:
    import xarray as xr

    from neurophase.recordings.base import Recording, Sweep

__all__ = ["FitSweep", "FitData", "prepare_recordings", "split_sweeps", "sweep_current"]

#: Docstring entries (:mod:`neurophase.docstrings`): the Parameters section of the methods that
#: take sweep numbers.
_doc = template(parameters_numbers="""Parameters
----------
numbers : sequence of int, optional
    Global sweep numbers (default every sweep).""")


@dataclasses.dataclass
class FitSweep:
    """One usable sweep: global number, file, sweep in the file, current (pA), voltage (mV), steps.

    Attributes
    ----------
    number : int
        Global sweep number (over every file of the fit, in the order given).
    source : str
        The file.
    index : int
        The sweep's index in its file.
    current : numpy.ndarray, pA
        Injected current, one value per sample.
    voltage : numpy.ndarray, mV
        Membrane potential (liquid-junction corrected).
    steps : list of StepWindow
        Its test steps.
    """

    number: int
    source: str
    index: int
    current: np.ndarray
    voltage: np.ndarray
    steps: list

    @property
    def label(self) -> str:
        """``file#index``, the sweep in words."""
        return f"{Path(self.source).name}#{self.index}"


@dataclasses.dataclass
class FitData:
    """Sweeps of one cell ready to replay, with their recorded features.

    Attributes
    ----------
    sweeps : list of FitSweep
        The usable sweeps.
    interval : float
        Sampling interval (s), shared by every sweep.
    duration : float
        Replayed time (s): to the end of the latest step, plus 20 ms.
    excluded : list of dict
        ``{source, sweep, reason}`` of every sweep left out.
    sources : list of str
        The files (with their SHA-256 in ``hashes``).
    hashes : dict of str to str
        File -> SHA-256 of its content.
    cell : str
        The cell's name.
    """

    sweeps: list
    interval: float
    duration: float
    excluded: list
    sources: list
    hashes: dict
    cell: str

    @_doc
    def currents(self, numbers: Sequence[int] | None = None) -> np.ndarray:
        """``(n, n_samples)`` currents (pA) of the sweeps ``numbers`` (default all), padded with the last value.

        %(parameters_numbers)s

        Returns
        -------
        numpy.ndarray, pA
            One row per sweep, ``duration / interval`` samples.
        """
        chosen = self.select(numbers)
        length = int(round(self.duration / self.interval))
        out = np.empty((len(chosen), length))
        for row, sweep in enumerate(chosen):
            values = sweep.current[:length]
            out[row, :values.size] = values
            out[row, values.size:] = values[-1]
        return out

    @_doc
    def select(self, numbers: Sequence[int] | None = None) -> list[FitSweep]:
        """The sweeps with global numbers ``numbers``, in that order.

        %(parameters_numbers)s

        Returns
        -------
        list of FitSweep
            The sweeps.
        """
        if numbers is None:
            return list(self.sweeps)
        by_number = {sweep.number: sweep for sweep in self.sweeps}
        return [by_number[number] for number in numbers]

    @_doc
    def recorded_features(self, numbers: Sequence[int] | None = None) -> xr.Dataset:
        """Per-step features of the recorded sweeps (detected spikes), as a Dataset.

        %(parameters_numbers)s

        Returns
        -------
        xarray.Dataset
            :func:`~neurophase.fit.features.feature_dataset` of every step, ``source="recorded"``.
        """
        rows, steps = [], []
        for sweep in self.select(numbers):
            peaks = detect_spikes(sweep.voltage, 1.0 / self.interval)
            rows += step_features(sweep.voltage, self.interval, peaks * self.interval, sweep.steps, spike_shape=True)
            steps += sweep.steps
        return feature_dataset(rows, steps, source="recorded")


def sweep_current(sweep: Sweep, n_samples: int) -> np.ndarray:
    """The injected current of a Recording sweep (pA): recorded, else rebuilt from its steps.

    Parameters
    ----------
    sweep : Sweep
        A sweep of a :class:`~neurophase.recordings.base.Recording`.
    n_samples : int
        Samples wanted.

    Returns
    -------
    numpy.ndarray, pA
        ``n_samples`` values: the recorded current, or the holding current with its steps.
    """
    if sweep.current is not None and np.size(sweep.current) >= n_samples:
        return np.asarray(sweep.current[:n_samples], dtype=float)
    holding = sweep.steps[0].holding if sweep.steps else 0.0
    current = np.full(n_samples, float(holding))
    for step in sweep.steps:
        current[step.start:min(step.stop, n_samples)] = step.amplitude
    return current


def _baseline(current, start, holding, interval):
    """``(start, stop)`` seconds of the holding segment just before sample ``start`` (or None)."""
    if start <= 0:
        return None
    window = max(1, int(round(0.001 / interval)))
    segment = current[:start]
    smooth = np.convolve(segment, np.ones(window) / window, mode="same") if segment.size > window else segment
    differences = np.diff(current[np.isfinite(current)])
    noise = 1.4826 * np.median(np.abs(differences - np.median(differences))) if differences.size else 0.0
    tolerance = max(2.0, 6.0 * noise)
    away = np.abs(smooth - holding) > tolerance
    away[-window:] = False  # the smoothing window straddles the step edge
    earlier = np.flatnonzero(away)
    first = int(earlier[-1]) + 1 if earlier.size else 0
    first = max(first, start - int(round(BASELINE_DURATION / interval)))
    if start - first < 2:
        return None
    return (first * interval, start * interval)


def prepare_recordings(recordings: Sequence[Recording]) -> FitData:
    """Recordings of one cell -> :class:`FitData` (see the module docstring).

    Parameters
    ----------
    recordings : sequence of Recording
        The cell's recordings, all at one sampling rate.

    Returns
    -------
    FitData
        The usable sweeps and the excluded ones with their reasons.

    Raises
    ------
    RecordingError
        No recording, different sampling rates, or no sweep with a current step.
    """
    if not recordings:
        raise RecordingError("No recording to fit: give at least one current-clamp step recording.")
    rates = {round(recording.sampling_rate, 6) for recording in recordings}
    if len(rates) > 1:
        raise RecordingError(
            f"The recordings are sampled at different rates ({sorted(rates)} Hz); fit recordings of one "
            "sampling rate together (or resample them first).")
    interval = 1.0 / recordings[0].sampling_rate
    sweeps, excluded, hashes = [], [], {}
    for recording in recordings:
        source = recording.source_file
        hashes.update(recording.file_hashes)
        for sweep in recording.sweeps:
            reason = ""
            if sweep.problem:
                reason = sweep.problem
            elif not sweep.steps:
                reason = "no test step"
            elif not np.all(np.isfinite(sweep.voltage)):
                reason = "non-finite voltage samples"
            elif any(step.stop > sweep.voltage.size for step in sweep.steps):
                reason = "a step runs past the end of the sweep"
            if reason:
                excluded.append({"source": source, "sweep": int(sweep.index), "reason": reason})
                continue
            n_samples = sweep.voltage.size
            current = sweep_current(sweep, n_samples)
            steps = [StepWindow(len(sweeps), step.start * interval, step.stop * interval, float(step.amplitude),
                                float(step.holding), _baseline(current, step.start, step.holding, interval),
                                step.label) for step in sweep.steps]
            sweeps.append(FitSweep(len(sweeps), source, int(sweep.index), current,
                                   np.asarray(sweep.voltage, dtype=float) - recording.liquid_junction_potential,
                                   steps))
    if not sweeps:
        reasons = "; ".join("{source} sweep {sweep}: {reason}".format(**entry) for entry in excluded[:5])
        raise RecordingError(
            f"No sweep of the recording(s) has a usable current step ({reasons}); a fit needs current-clamp "
            "step sweeps.")
    last_stop = max(step.stop for sweep in sweeps for step in sweep.steps)
    shortest = min(sweep.voltage.size for sweep in sweeps) * interval
    duration = min(last_stop + 0.02, max(shortest, last_stop))
    cell = recordings[0].cell or "cell"
    return FitData(sweeps, interval, duration, excluded, [recording.source_file for recording in recordings],
                   hashes, cell)


def split_sweeps(data: FitData, train: Sequence[int] | None = None) -> tuple[list[int], list[int]]:
    """``(train, held_out)`` global sweep numbers.

    Parameters
    ----------
    data : FitData
        The prepared recordings.
    train : sequence of int, optional
        Training sweeps (global numbers, in the order the files and their sweeps were given).
        Default: every other sweep in order of the first step's current, starting with the lowest,
        so that both sets span the whole current range.

    Returns
    -------
    train, held_out : list of int
        Sorted global sweep numbers.

    Raises
    ------
    ParameterError
        An unknown sweep number, or no training sweep.
    """
    numbers = [sweep.number for sweep in data.sweeps]
    if train is None:
        order = sorted(data.sweeps, key=lambda sweep: (sweep.steps[0].amplitude, sweep.number))
        train = [sweep.number for sweep in order[0::2]]
    train = sorted({int(number) for number in train})
    unknown = [number for number in train if number not in numbers]
    if unknown:
        raise ParameterError(
            f"--train-sweeps names sweep(s) {unknown} that are not usable sweeps of the recording(s); the usable "
            f"sweeps are {numbers[0]}..{numbers[-1]} (excluded: {[e['sweep'] for e in data.excluded]}).")
    if not train:
        raise ParameterError("No training sweep: give at least one with --train-sweeps.")
    held_out = [number for number in numbers if number not in train]
    return train, held_out
