"""Executors for independent pieces of work: in-process by default, Dask for many cores or machines.

A sweep in neurophase is first *vectorised*: a whole grid runs as one Brian2 network. What is
left to parallelise are independent networks (different measurements of an experiment, or
chunks of a very large grid, :func:`neurophase.micro.chunks.firing_curve_chunks`). Those are
handed to an executor injected by the caller (Elephant style), never hard-wired:

``"serial"`` (the default)
    Runs each task in this process, one after another. No server, no extra processes.
``"local"``
    A :class:`dask.distributed.LocalCluster` on this machine (one worker process per core).
``"tcp://host:port"``
    An existing Dask scheduler, e.g. started with ``dask scheduler`` and ``dask worker`` on
    other machines. The workers need neurophase installed; nothing else (no ``--preload``).

Every executor is a context manager and has ``as_completed(function, items, labels)``, which
yields ``(index, result)`` as each task finishes (in order for serial), so that callers write
results as they arrive; ``map`` returns all results in input order.

What a Dask run does about failures (nothing hangs silently):

- the scheduler address is checked with a plain TCP connection first (``connect_timeout``,
  default 10 s), so an unreachable scheduler is one clear error, not a 30 s ``OSError``;
- Brian2 is imported in each worker's main thread (:mod:`neurophase.dask_worker`), so a plain
  ``dask worker`` and a ``LocalCluster`` work on first use;
- a task whose worker dies is re-run on another worker by the scheduler (its
  ``distributed.scheduler.allowed-failures`` setting, 3 by default); after that, or when the
  scheduler has had no worker at all for ``worker_timeout`` seconds (default 120), the run
  stops with a :class:`~neurophase.errors.SchedulerError` naming the unfinished tasks;
- an error raised by a task is handed back as :class:`TaskFailure` naming the task.
"""

from __future__ import annotations

import queue
import socket
import time
from urllib.parse import urlsplit

from neurophase.errors import ParameterError, SchedulerError

__all__ = ["SerialExecutor", "DaskExecutor", "get_executor", "TaskFailure", "check_scheduler_address",
           "DEFAULT_WORKER_TIMEOUT"]

#: Seconds a Dask run waits while the scheduler has no worker before it gives up.
DEFAULT_WORKER_TIMEOUT = 120.0
#: Seconds to wait for the TCP connection to a scheduler.
DEFAULT_CONNECT_TIMEOUT = 10.0


class TaskFailure(Exception):
    """Task ``index`` (called ``label``) raised ``error``; ``error`` is also ``__cause__``."""

    def __init__(self, index, label, error):
        super().__init__(f"{label}: {type(error).__name__}: {error}")
        self.index, self.label, self.error = index, label, error


def _labels(items, labels):
    items = list(items)
    labels = [f"task {index}" for index in range(len(items))] if labels is None else list(labels)
    if len(labels) != len(items):
        raise ValueError("labels must have one entry per item")
    return items, labels


class SerialExecutor:
    """Runs tasks in this process, in order."""

    name = "serial"
    active = True  # nothing to start

    def map(self, function, items):
        """``[function(item) for item in items]``."""
        return [function(item) for item in items]

    def as_completed(self, function, items, labels=None):
        """Yield ``(index, function(item))`` in order; an exception becomes :class:`TaskFailure`."""
        items, labels = _labels(items, labels)
        for index, item in enumerate(items):
            try:
                result = function(item)
            except Exception as error:
                raise TaskFailure(index, labels[index], error) from error
            yield index, result

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


def _run_pickled(payload):
    """Worker side of :meth:`DaskExecutor.as_completed`: import Brian2 safely, then unpickle
    ``(function, item)`` (which may hold Brian2 quantities) and call it."""
    import pickle

    from neurophase.dask_worker import import_brian2

    import_brian2()
    function, item = pickle.loads(payload)
    return function(item)


def check_scheduler_address(address, timeout=DEFAULT_CONNECT_TIMEOUT):
    """Raise :class:`~neurophase.errors.SchedulerError` unless a TCP connection to the scheduler
    at ``address`` (``tcp://host:port``) opens within ``timeout`` seconds. Other protocols
    (``tls://``, ``ucx://``, ...) are left to Dask."""
    parts = urlsplit(address)
    if parts.scheme != "tcp":
        return
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
            pass
    except OSError as error:
        reason = "timed out" if isinstance(error, TimeoutError) else (error.strerror or str(error))
        raise SchedulerError(
            f"cannot reach the Dask scheduler at {address} ({reason}). Start one there with "
            f"`dask scheduler --port {parts.port}` (and `dask worker {address}`), or use "
            "--scheduler local (a cluster on this machine) or serial."
        ) from None


class DaskExecutor:
    """Runs tasks on a Dask cluster: a new local one, or an existing scheduler by address.

    Parameters
    ----------
    address : str or None
        ``None`` starts a :class:`~dask.distributed.LocalCluster` of process workers; otherwise
        the scheduler address (``"tcp://10.0.0.5:8786"``).
    workers : int, optional
        Number of local worker processes (default: one per core).
    worker_timeout : float, optional
        Seconds without any worker after which a run gives up (default
        :data:`DEFAULT_WORKER_TIMEOUT`).
    connect_timeout : float, optional
        Seconds to wait for the scheduler connection.
    """

    def __init__(self, address=None, workers=None, worker_timeout=None,
                 connect_timeout=DEFAULT_CONNECT_TIMEOUT):
        self.address = address
        self.workers = workers
        self.worker_timeout = float(DEFAULT_WORKER_TIMEOUT if worker_timeout is None else worker_timeout)
        self.connect_timeout = float(connect_timeout)
        self.name = address or "local"
        self._client = None
        self._cluster = None

    def __enter__(self):
        from dask.distributed import Client, LocalCluster

        from neurophase.dask_worker import Brian2Import

        try:
            if self.address is None:
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                             processes=True, dashboard_address=None)
                self._client = Client(self._cluster)
            else:
                check_scheduler_address(self.address, self.connect_timeout)
                self._client = Client(self.address, timeout=self.connect_timeout)
            self._client.register_plugin(Brian2Import())
        except SchedulerError:
            self.__exit__(None, None, None)
            raise
        except (OSError, TimeoutError) as error:
            self.__exit__(None, None, None)
            raise SchedulerError(
                f"cannot connect to the Dask scheduler {self.name} ({type(error).__name__}: {error}). "
                "Check that it is running and reachable, or use --scheduler serial."
            ) from None
        return self

    @property
    def active(self):
        """True inside ``with executor:`` (connected to a scheduler)."""
        return self._client is not None

    def map(self, function, items):
        """Submit ``function(item)`` for every item; the results in input order."""
        results = {}
        for index, result in self.as_completed(function, items):
            results[index] = result
        return [results[index] for index in range(len(results))]

    def _worker_count(self):
        try:
            return len(self._client.scheduler_info().get("workers", {}))
        except Exception:  # the scheduler itself is gone
            return 0

    def as_completed(self, function, items, labels=None):
        """Submit every task; yield ``(index, result)`` as each one finishes.

        Raises :class:`TaskFailure` for the first task that fails (its own exception, or a
        :class:`~neurophase.errors.SchedulerError` when its workers died too often or no
        worker was left for ``worker_timeout`` seconds); unfinished tasks are cancelled.
        """
        import cloudpickle
        from distributed import KilledWorker

        if self._client is None:
            raise RuntimeError("Use DaskExecutor as a context manager: `with DaskExecutor() as ex:`.")
        items, labels = _labels(items, labels)
        arrived = queue.Queue()
        futures = {}
        for index, item in enumerate(items):
            payload = cloudpickle.dumps((function, item))
            future = self._client.submit(_run_pickled, payload, pure=False)
            futures[future.key] = (index, future)
            future.add_done_callback(lambda done: arrived.put(done.key))
        pending = set(futures)
        without_workers_since = None
        try:
            while pending:
                try:
                    key = arrived.get(timeout=1.0)
                except queue.Empty:
                    if self._worker_count() == 0:
                        without_workers_since = without_workers_since or time.monotonic()
                        waited = time.monotonic() - without_workers_since
                        if waited > self.worker_timeout:
                            unfinished = sorted(futures[key][0] for key in pending)
                            names = ", ".join(labels[index] for index in unfinished)
                            index = unfinished[0]
                            raise TaskFailure(index, labels[index], SchedulerError(
                                f"the Dask scheduler {self.name} has had no worker for "
                                f"{waited:.0f} s, so {names} cannot finish. Start workers with "
                                f"`dask worker {self.name}` and run again, or use --scheduler "
                                "local or serial."))
                    else:
                        without_workers_since = None
                    continue
                if key not in pending:
                    continue
                pending.discard(key)
                index, future = futures[key]
                futures[key] = (index, None)  # the cluster may release the result once it is here
                if future.status == "finished":
                    yield index, future.result()
                    continue
                if future.status == "cancelled":
                    error = SchedulerError(f"{labels[index]} was cancelled on the Dask scheduler "
                                           f"{self.name}; run again.")
                else:
                    error = future.exception()
                    if isinstance(error, KilledWorker):
                        error = SchedulerError(
                            f"{labels[index]} was lost: the Dask workers running it died several "
                            "times (KilledWorker: out of memory, killed, or crashed). Check the "
                            "workers' memory and logs, and run again.")
                raise TaskFailure(index, labels[index], error) from error
        finally:
            unfinished = [futures[key][1] for key in pending]
            if unfinished:
                try:
                    self._client.cancel(unfinished)
                except Exception:  # the client may already be closing
                    pass

    def __exit__(self, *exc_info):
        if self._client is not None:
            try:
                self._client.close(timeout=10)
            except Exception:
                pass
        if self._cluster is not None:
            try:
                self._cluster.close(timeout=10)
            except Exception:
                pass
        self._client = self._cluster = None
        return False


def _validate_address(scheduler):
    parts = urlsplit(scheduler)
    if parts.scheme not in ("tcp", "tls", "ucx", "inproc", "ws", "wss"):
        return False
    if parts.scheme in ("tcp", "tls", "ws", "wss"):
        try:
            port = parts.port
        except ValueError:
            return False
        return bool(parts.hostname) and port is not None and 0 < port < 65536
    return True


def get_executor(scheduler=None, workers=None, worker_timeout=None):
    """The executor for ``scheduler``: ``None``/``"serial"``, ``"local"`` or a Dask address.

    Only the name is checked here (a wrong one raises
    :class:`~neurophase.errors.ParameterError`); the connection is made by ``with executor:``.
    """
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ParameterError(f"workers = {workers!r} must be a whole number >= 1 (or left out: one per core).")
    if worker_timeout is not None and not float(worker_timeout) > 0:
        raise ParameterError(f"worker_timeout = {worker_timeout!r} must be a positive number of seconds.")
    if scheduler in (None, "", "serial"):
        return SerialExecutor()
    if scheduler == "local":
        return DaskExecutor(None, workers=workers, worker_timeout=worker_timeout)
    if isinstance(scheduler, str) and "://" in scheduler and _validate_address(scheduler):
        return DaskExecutor(scheduler, workers=workers, worker_timeout=worker_timeout)
    raise ParameterError(
        f"Unknown scheduler {scheduler!r}: use 'serial' (default, in this process), 'local' (a Dask "
        "cluster on this machine) or a Dask scheduler address such as 'tcp://10.0.0.5:8786'."
    )
