"""Dask workers that can run neurophase on first use.

Brian2's ``__init__`` installs a SIGINT handler with :func:`signal.signal`, which Python allows in
the main thread only; a Dask worker runs tasks in a thread pool, so the first task that imports
Brian2 there fails with ``ValueError: signal only works in main thread of the main interpreter``
(seen with a plain ``dask worker`` and with a ``LocalCluster``). Two remedies, both applied by
:class:`neurophase.sweep.DaskExecutor`:

:class:`Brian2Import`
    a worker plugin, registered by the client on connection, that imports Brian2 in the
    worker's main thread (plugins are set up on the worker's event loop, which runs there)
    when the worker starts or when the plugin is registered;
:func:`import_brian2`
    the same import from any thread: outside the main thread, Brian2's handler installation
    is skipped (a worker thread never receives signals anyway). Every task neurophase ships
    calls it before unpickling its arguments (which may hold Brian2 quantities).

A worker started by hand may also preload this module: ``dask worker ADDRESS --preload
neurophase.dask_worker`` (:func:`dask_setup`); it is not needed with neurophase's executor.
"""

from __future__ import annotations

import signal
import sys
import threading

__all__ = ["import_brian2", "Brian2Import", "dask_setup"]


def import_brian2():
    """Import Brian2 from any thread (see the module docstring); returns the module."""
    if "brian2" in sys.modules:
        return sys.modules["brian2"]
    if threading.current_thread() is threading.main_thread():
        import brian2

        return brian2
    original = signal.signal

    def main_thread_only(signalnum, handler):
        if threading.current_thread() is threading.main_thread():
            return original(signalnum, handler)
        return signal.getsignal(signalnum)

    signal.signal = main_thread_only
    try:
        import brian2
    finally:
        signal.signal = original
    return brian2


def _plugin_base():
    from distributed.diagnostics.plugin import WorkerPlugin

    return WorkerPlugin


class Brian2Import(_plugin_base()):
    """Worker plugin: import Brian2 in the worker's main thread when the plugin is set up."""

    name = "neurophase-brian2-import"

    def setup(self, worker):
        import_brian2()


def dask_setup(worker):
    """Entry point of ``dask worker --preload neurophase.dask_worker``."""
    import_brian2()
