"""Synaptic propagation on every OpenMP thread for pathways partitioned by target.

Brian2's C++ standalone device runs the ``on_pre`` code of a pathway that writes a neurone
variable (``v_post += w``) on the master OpenMP thread only: without knowing the connectivity it
cannot exclude two threads adding to the same neurone at once. In a recurrent network that is
most of the work of a time step (measured on the Brunel 2000 network with two threads: the two
pathways took 16 % of all samples on the master thread while the other thread waited, and the
run was no faster than with one thread).

Brian2 splits the synapses of a pathway among the ``T`` threads' spike queues by index: thread
``k`` owns ``k*(n//T) ... (k+1)*(n//T) - 1`` (the last one up to ``n - 1``). When no target
neurone has synapses in two threads' parts (with fixed in-degree generated target by target,
:func:`neurophase.micro.network.fixed_indegree`, this holds whenever the boundaries fall between
neurones), every neurone's inputs come from one thread's queue only. Each thread can then run
the synapses of its own queue without any lock, and every neurone receives its inputs in the
same order as on the master thread: results are identical to the bit (tested against Brian2's
own template). :func:`target_partitioned_codeobject` checks that condition on the actual targets
and thread count and returns the code-object class whose ``synapses`` template does this
(``templates/synapses.cpp``), or None where the condition fails, the device is not standalone or
there is one thread (Brian2's template is used then).

Memory order (:func:`source_ordered`): a spike queues the synapses of its source neurone, and
the propagation reads each queued synapse's target from the synapse arrays. With the synapses in
target order those of one source are scattered over the whole array (a cache miss per synaptic
event: 8.8 million synapses are 70 MB of indices); ordered by source *within each thread's part*
they are consecutive. The permutation keeps every synapse in its thread's part, and a neurone's
inputs within a step arrive in the order of the spiking sources whatever the order of the
synapses, so the results are identical to the bit (tested), only faster.

Functions
---------
target_partitioned_codeobject
    The code-object class for a pathway's ``codeobj_class``, or None.
partitioned_by_target
    Whether every target's synapses lie in one thread's part of the queue.
source_ordered
    The synapses ordered by source within each thread's part of the queue.
queue_parts
    Brian2's split of a pathway's synapses among the threads' queues.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

__all__ = ["target_partitioned_codeobject", "partitioned_by_target", "source_ordered", "queue_parts"]


def queue_parts(synapses: int, threads: int) -> np.ndarray:
    """Brian2's split of ``synapses`` synapses among ``threads`` spike queues: thread ``k`` owns
    ``k*(n//T) ... (k+1)*(n//T) - 1`` and the last thread the rest (Brian2's
    ``SynapticPathway`` in the C++ standalone device; one part without OpenMP).

    Parameters
    ----------
    synapses : int
        Synapses of the pathway.
    threads : int
        OpenMP threads (>= 1).

    Returns
    -------
    numpy.ndarray of int
        ``threads + 1`` part boundaries, from 0 to ``synapses``.

    Examples
    --------
    >>> queue_parts(10, 3).tolist()
    [0, 3, 6, 10]
    """
    synapses, threads = int(synapses), max(1, int(threads))
    part = synapses // threads
    return np.concatenate([np.arange(threads) * part, [synapses]]).astype(np.int64)


def partitioned_by_target(targets: np.ndarray, threads: int) -> bool:
    """True when, under Brian2's split of ``len(targets)`` synapses among ``threads`` queues
    (:func:`queue_parts`), no target neurone has synapses in two queues.

    Parameters
    ----------
    targets : numpy.ndarray of int
        Target neurone of every synapse, in synapse order.
    threads : int
        OpenMP threads of the build.

    Returns
    -------
    bool
        Every target's synapses lie in one part (in any order within it).
    """
    targets = np.asarray(targets)
    n, threads = targets.size, int(threads)
    if threads < 1:
        return False
    if n == 0 or threads == 1:
        return True
    if n // threads == 0:
        return False
    boundaries = queue_parts(n, threads)
    size = int(targets.max()) + 1
    parts_of_target = np.zeros(size, dtype=np.int64)
    for start, stop in zip(boundaries[:-1], boundaries[1:]):
        parts_of_target += np.bincount(targets[start:stop], minlength=size) > 0
    return bool(parts_of_target.max() <= 1)


def source_ordered(sources: np.ndarray, targets: np.ndarray, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """The synapses ordered by source within each thread's part of the queue (:func:`queue_parts`;
    stable: the order of a source's synapses is kept). Same connections, same thread of every
    synapse, identical results, consecutive memory for the synapses of one spike (module
    docstring).

    Parameters
    ----------
    sources, targets : numpy.ndarray of int
        Source and target of every synapse.
    threads : int
        OpenMP threads of the build (1 without OpenMP and on the runtime device).

    Returns
    -------
    sources, targets : numpy.ndarray
        The permuted arrays.

    Examples
    --------
    >>> source_ordered(np.array([2, 0, 1, 0]), np.array([0, 0, 1, 1]), 2)
    (array([0, 2, 0, 1]), array([0, 0, 1, 1]))
    """
    sources, targets = np.asarray(sources), np.asarray(targets)
    order = np.empty(sources.size, dtype=np.int64)
    boundaries = queue_parts(sources.size, threads)
    for start, stop in zip(boundaries[:-1], boundaries[1:]):
        order[start:stop] = start + _stable_order(sources[start:stop])
    return sources[order], targets[order]


def _stable_order(values):
    """``np.argsort(values, kind="stable")`` for integers, by numpy's radix sort of 16-bit keys
    (one pass below 65536 distinct offsets, two passes below 2**32; about three times faster
    than a merge sort of 64-bit keys on millions of synapses)."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = values - values.min()
    largest = int(offsets.max())
    if largest < 1 << 16:
        return np.argsort(offsets.astype(np.uint16), kind="stable")
    if largest < 1 << 32:
        order = np.argsort((offsets & 0xFFFF).astype(np.uint16), kind="stable")  # least significant first
        return order[np.argsort((offsets[order] >> 16).astype(np.uint16), kind="stable")]
    return np.argsort(values, kind="stable")


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
