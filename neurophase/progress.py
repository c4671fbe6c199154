"""Progress bars for long steps, shown on a terminal only.

:func:`progress_bar` wraps :mod:`tqdm` and is silent when standard error is not a terminal (CI,
pipes), so logs stay clean. :func:`brian2_report` gives a callable for the ``report=`` argument of
:meth:`brian2.Network.run`, so one long Brian2 run shows a bar too.
"""

from __future__ import annotations

import sys

from tqdm.auto import tqdm

__all__ = ["progress_bar", "brian2_report", "is_terminal"]


def is_terminal():
    """True when standard error is an interactive terminal."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def progress_bar(iterable=None, total=None, description="", enabled=None, unit="step"):
    """A tqdm bar over ``iterable``; ``enabled=None`` shows it only on a terminal."""
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
