"""Executors for independent pieces of work: in-process by default, Dask for many cores or machines.

A sweep in neurophase is first *vectorised*: a whole grid runs as one Brian2 network. What is
left to parallelise are independent networks (different measurements of an experiment, or
chunks of a very large grid). Those are handed to an executor injected by the caller
(Elephant style), never hard-wired:

``"serial"`` (the default)
    Runs each task in this process, one after another. No server, no extra processes.
``"local"``
    A :class:`dask.distributed.LocalCluster` on this machine (one worker process per core).
``"tcp://host:port"``
    An existing Dask scheduler, e.g. a cluster started with ``dask scheduler`` and
    ``dask worker`` on other machines. The workers need neurophase installed.

All executors expose ``map(function, items) -> list`` (results in input order) and are context
managers that release their resources.
"""

from __future__ import annotations

from neurophase.errors import ExperimentFileError

__all__ = ["SerialExecutor", "DaskExecutor", "get_executor"]


class SerialExecutor:
    """Runs tasks in this process, in order."""

    name = "serial"

    def map(self, function, items):
        """``[function(item) for item in items]``."""
        return [function(item) for item in items]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


class DaskExecutor:
    """Runs tasks on a Dask cluster: a new local one, or an existing scheduler by address.

    Parameters
    ----------
    address : str or None
        ``None`` starts a :class:`~dask.distributed.LocalCluster` of process workers; otherwise
        the scheduler address (``"tcp://10.0.0.5:8786"``).
    workers : int, optional
        Number of local worker processes (default: one per core).
    """

    def __init__(self, address=None, workers=None):
        self.address = address
        self.workers = workers
        self.name = address or "local"
        self._client = None
        self._cluster = None

    def __enter__(self):
        from dask.distributed import Client, LocalCluster

        if self.address is None:
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                         processes=True, dashboard_address=None)
            self._client = Client(self._cluster)
        else:
            self._client = Client(self.address)
        return self

    def map(self, function, items):
        """Submit ``function(item)`` for every item; gather the results in order."""
        if self._client is None:
            raise RuntimeError("Use DaskExecutor as a context manager: `with DaskExecutor() as ex:`.")
        futures = self._client.map(function, list(items), pure=False)
        return self._client.gather(futures)

    def __exit__(self, *exc_info):
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None
        return False


def get_executor(scheduler=None, workers=None):
    """The executor for ``scheduler``: ``None``/``"serial"``, ``"local"`` or a Dask address."""
    if scheduler in (None, "", "serial"):
        return SerialExecutor()
    if scheduler == "local":
        return DaskExecutor(None, workers=workers)
    if isinstance(scheduler, str) and "://" in scheduler:
        return DaskExecutor(scheduler, workers=workers)
    raise ExperimentFileError(
        f"Unknown scheduler {scheduler!r}: use 'serial' (default, in this process), 'local' (a Dask "
        "cluster on this machine) or a Dask scheduler address such as 'tcp://10.0.0.5:8786'."
    )
