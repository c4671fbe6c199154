"""Fitting neurone models to current-clamp recordings (between micro/recordings and check).

Modules
-------
features
    One feature layer for recorded and simulated steps (f-I, latency, ISI CV, adaptation,
    subthreshold, spike shape), per step and pooled.
data
    Recordings prepared for a fit: replayed stimulus, test steps, training and held-out sweeps.
objectives
    Feature z-scores and the grouped objective vector.
fitter
    :func:`~neurophase.fit.fitter.fit_model`: NSGA-II (pymoo) over candidates x sweeps in one Brian2
    network (:class:`neurophase.micro.replay.ReplayNetwork`), checkpoints, bootstrap intervals.
predict
    The fitted model's f-I by the path its kind allows (closed form, fitted f-I, derived threshold).

F1/F2 verdicts, outputs and the ``neurophase fit`` command are :mod:`neurophase.check.fitting`;
figures :mod:`neurophase.figures.fit`.
"""

from neurophase.fit.fitter import FitResult, fit_model

__all__ = ["fit_model", "FitResult"]
