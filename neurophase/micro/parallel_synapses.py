"""Synaptic propagation on every OpenMP thread for pathways partitioned by target.

Brian2's C++ standalone device runs the ``on_pre`` code of a pathway that writes a neurone
variable (``v_post += w``) on the master OpenMP thread only: without knowing the connectivity it
cannot exclude two threads adding to the same neurone at once. In a recurrent network that is
most of the work of a time step (measured on the Brunel 2000 network with two threads: the two
pathways took 16 % of all samples on the master thread while the other thread waited, and the
run was no faster than with one thread).

Brian2 splits the synapses of a pathway among the ``T`` threads' spike queues by index: thread
``k`` owns ``k*(n//T) ... (k+1)*(n//T) - 1`` (the last one up to ``n - 1``). When the synapses
are ordered by target (:func:`neurophase.micro.network.fixed_indegree` makes them so) and no
target has synapses on both sides of a boundary, every neurone's inputs come from one thread's
queue only. Each thread can then run the synapses of its own queue without any lock, and every
neurone receives its inputs in the same order as on the master thread: results are identical to
the bit (tested against Brian2's own template). :func:`target_partitioned_codeobject` checks that
condition on the actual targets and thread count and returns the code-object class whose
``synapses`` template does this (``templates/synapses.cpp``), or None where the condition fails,
the device is not standalone or there is one thread (Brian2's template is used then).

Functions
---------
target_partitioned_codeobject
    The code-object class for a pathway's ``codeobj_class``, or None.
partitioned_by_target
    Whether every target's synapses lie in one thread's part of the queue.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

__all__ = ["target_partitioned_codeobject", "partitioned_by_target"]


def partitioned_by_target(targets: np.ndarray, threads: int) -> bool:
    """True when, under Brian2's split of ``len(targets)`` synapses among ``threads`` queues, no
    target neurone has synapses in two queues.

    Parameters
    ----------
    targets : numpy.ndarray of int
        Target neurone of every synapse, in synapse order.
    threads : int
        OpenMP threads of the build.

    Returns
    -------
    bool
        The targets are non-decreasing and every queue boundary falls between two targets.
    """
    targets = np.asarray(targets)
    n, threads = targets.size, int(threads)
    if threads < 1:
        return False
    if n == 0 or threads == 1:
        return True
    if np.any(np.diff(targets) < 0):
        return False
    part = n // threads
    if part == 0:
        return False
    boundaries = np.arange(1, threads) * part
    return bool(np.all(targets[boundaries - 1] != targets[boundaries]))


@functools.cache
def _codeobject_class() -> type:
    from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject

    class TargetPartitionedCodeObject(CPPStandaloneCodeObject):
        """A C++ standalone code object whose ``synapses`` template runs on every thread."""

        templater = CPPStandaloneCodeObject.templater.derive("neurophase.micro", templates_dir="templates")

    return TargetPartitionedCodeObject


def target_partitioned_codeobject(targets: np.ndarray, threads: int | None, device: str) -> Any | None:
    """The ``codeobj_class`` for a pathway with these ``targets``, or None for Brian2's default.

    Parameters
    ----------
    targets : numpy.ndarray of int
        Target neurone of every synapse, in the order given to ``Synapses.connect``.
    threads : int or None
        OpenMP threads of the standalone build (None or below 2: no OpenMP split).
    device : str
        ``"runtime"`` or ``"cpp_standalone"``.

    Returns
    -------
    type or None
        A subclass of Brian2's ``CPPStandaloneCodeObject`` when the device is standalone, there
        are at least two threads and :func:`partitioned_by_target` holds; else None.
    """
    if device != "cpp_standalone" or threads is None or int(threads) < 2:
        return None
    if not partitioned_by_target(targets, int(threads)):
        return None
    return _codeobject_class()
