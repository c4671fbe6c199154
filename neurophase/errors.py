"""Exceptions raised by neurophase.

Every error names what is wrong *and* how to fix it; the message is written for the
user who made the mistake, at the place where the mistake was made (Brian2 style).
"""

from __future__ import annotations

__all__ = [
    "NeurophaseError",
    "UnitMismatchError",
    "ModelFileError",
    "ExperimentFileError",
    "ParameterError",
    "SimulationError",
    "RecordingError",
    "InterruptedRunError",
    "OutputError",
    "SchedulerError",
]


class NeurophaseError(Exception):
    """Base class of every error neurophase raises on purpose."""


class UnitMismatchError(NeurophaseError, ValueError):
    """A quantity has the wrong physical dimension, or a unit string cannot be parsed."""


class ModelFileError(NeurophaseError, ValueError):
    """A model file (``models/*.toml``) is missing, malformed or inconsistent."""


class ExperimentFileError(NeurophaseError, ValueError):
    """An experiment file (``experiments/*.toml``) is malformed or names unknown keys."""


class ParameterError(NeurophaseError, ValueError):
    """A parameter value is outside its physical domain (e.g. a negative temperature)."""


class SimulationError(NeurophaseError, RuntimeError):
    """A simulation failed (e.g. diverged). ``partial`` holds what finished, if anything.

    Parameters
    ----------
    message : str
        What went wrong and how to fix it.
    partial : xarray.Dataset, optional
        The grid points that did finish, so that no computed data is lost.
    failed_points : list, optional
        Human-readable labels of the grid points that failed.
    """

    def __init__(self, message, partial=None, failed_points=None):
        super().__init__(message)
        self.partial = partial
        self.failed_points = list(failed_points or [])


class RecordingError(NeurophaseError, ValueError):
    """A recording file cannot be read as a current-clamp step recording."""


class InterruptedRunError(NeurophaseError, RuntimeError):
    """A run stopped before its end (Ctrl-C, a stop request, a time limit): never a result.

    Brian2 stops a network early on Ctrl-C and returns normally; neurophase checks every run
    (:func:`neurophase.interrupts.run_network`) and raises this instead of handing on a
    truncated simulation. ``completed`` is the fraction of the requested duration simulated.
    """

    def __init__(self, message, completed=None):
        super().__init__(message)
        self.completed = completed


class OutputError(NeurophaseError, ValueError):
    """An output path cannot be used: it is a folder where a file is needed (or the reverse),
    it is not writable, or it holds an older result that ``--overwrite`` was not given for."""


class SchedulerError(NeurophaseError, RuntimeError):
    """A Dask scheduler cannot be reached, has no workers, or lost a task's workers too often."""
