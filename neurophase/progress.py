"""Progress bars for long steps, shown on a terminal only; log lines otherwise.

:func:`progress_bar` wraps :mod:`tqdm` and is silent when standard error is not a terminal (CI,
pipes), so logs stay clean; there, commands write one line per finished step through the
:mod:`logging` logger ``"neurophase"`` (configured by :func:`neurophase.cli.main`).
:func:`brian2_report` gives a callable for the ``report=`` argument of :meth:`brian2.Network.run`,
so one long Brian2 run shows a bar too; inside :func:`inner_progress` every Brian2 run of
neurophase (:func:`neurophase.interrupts.run_network`) shows one on a terminal (the progress
inside one measurement of ``neurophase run``).
"""

from __future__ import annotations

import contextlib
import sys

__all__ = ["progress_bar", "brian2_report", "is_terminal", "inner_progress", "inner_report", "announce_start"]

_INNER = {"enabled": False, "log_start": False}


def is_terminal():
    """True when standard error is an interactive terminal."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def progress_bar(iterable=None, total=None, description="", enabled=None, unit="step"):
    """A tqdm bar over ``iterable``; ``enabled=None`` shows it only on a terminal."""
    from tqdm.auto import tqdm

    disable = (not is_terminal()) if enabled is None else (not enabled)
    return tqdm(iterable, total=total, desc=description, disable=disable, unit=unit,
                leave=False, dynamic_ncols=True)


def brian2_report(description="Brian2 run", enabled=None):
    """A ``report=`` callable for ``Network.run`` that drives a progress bar (percent complete).

    Brian2 calls it as ``report(elapsed, completed, start, duration)`` with ``completed`` the
    fraction of the run done; see the Brian2 documentation of ``Network.run``.
    """
    bar = progress_bar(total=100, description=description, enabled=enabled, unit="%")

    def report(elapsed, completed, start, duration):
        target = int(round(100 * float(completed)))
        if target > bar.n:
            bar.update(target - bar.n)
        if completed >= 1.0:
            bar.close()

    return report


@contextlib.contextmanager
def inner_progress(enabled=True, log_start=False):
    """Within the block, Brian2 runs without a ``report`` of their own show a bar on a terminal;
    with ``log_start``, elsewhere they write one log line (logger ``"neurophase"``, level INFO)
    when the simulation loop starts (after code generation and compilation)."""
    previous = dict(_INNER)
    _INNER.update(enabled=bool(enabled), log_start=bool(log_start))
    try:
        yield
    finally:
        _INNER.clear()
        _INNER.update(previous)


def announce_start(description, seconds):
    """The start line of a simulation that reports no progress while it runs (a C++ standalone
    program), inside :func:`inner_progress`: one log line (logger ``"neurophase"``, INFO)."""
    if not _INNER.get("enabled"):
        return
    if not (_INNER.get("log_start") or is_terminal()):
        return
    import logging

    logging.getLogger("neurophase").info("simulating %s: %g s of model time (C++ standalone, no progress "
                                         "bar)", description, float(seconds))


def inner_report(description):
    """A ``report=`` callable for one Brian2 run inside :func:`inner_progress` (see there), or
    None. Only on the runtime device: standalone binaries report nothing back while they run."""
    if not _INNER.get("enabled"):
        return None
    from brian2 import get_device
    from brian2.devices.device import RuntimeDevice

    if not isinstance(get_device(), RuntimeDevice):
        return None
    if is_terminal():
        return brian2_report(description, enabled=True)
    if not _INNER.get("log_start"):
        return None
    import logging

    logger = logging.getLogger("neurophase")
    started = []

    def report(elapsed, completed, start, duration):
        if not started:
            started.append(True)
            from brian2 import second

            logger.info("simulating %s: %g s of model time", description, float(duration / second))

    return report
