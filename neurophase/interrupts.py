"""Runs that stop early are errors, never results; Ctrl-C stops neurophase cleanly.

Brian2 turns Ctrl-C (SIGINT) during :meth:`brian2.Network.run` into a stop request: the run
ends after the current time step and *returns normally* (``brian2/__init__.py``,
``_InterruptHandler``; ``Network.run`` then sets ``t`` to the time reached). A caller that does
not look would hand a truncated simulation on as a result (rates of 0 Hz over the requested
duration). So every Brian2 run in neurophase goes through :func:`run_network`, which compares
the time reached with the requested duration (and Brian2's stop flags and completed fraction,
which the standalone device reads back from the binary) and raises
:class:`~neurophase.errors.InterruptedRunError` when the run fell short.

The command line (:func:`neurophase.cli.main`) installs :func:`handle_interrupts`:

first Ctrl-C
    a running Brian2 network stops after its current time step (:func:`run_network` then
    raises); anywhere else a :class:`KeyboardInterrupt` is raised at once. Either way the
    code that catches it saves what is *complete* (finished measurements, as a resume record,
    never as the final output) and the command exits with status 130.
second Ctrl-C
    :class:`KeyboardInterrupt` at once, and :func:`interrupt_forced` is true: nothing more is
    saved (temporary files are still removed on the way out).
third Ctrl-C
    the process exits immediately (status 130).

Status 130 (128 + SIGINT) is what a shell reports for a command stopped by Ctrl-C, so scripts
can tell an interrupted run from bad input (status 2) and from a failed prediction (status 0).

Functions
---------
run_network
    ``network.run(duration)`` followed by :func:`check_run_complete`.
check_run_complete
    Raise :class:`~neurophase.errors.InterruptedRunError` if a run stopped short.
handle_interrupts
    Context manager: the SIGINT handling above, for the duration of a command.
deferred_interrupts
    Context manager: a first Ctrl-C inside waits for the block to finish (writing a result).
interrupt_requested, interrupt_forced
    Whether Ctrl-C was pressed once / twice since :func:`handle_interrupts` started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

from neurophase.errors import InterruptedRunError

__all__ = ["run_network", "check_run_complete", "handle_interrupts", "deferred_interrupts", "external_run",
           "interrupt_requested", "interrupt_forced", "EXIT_INTERRUPTED"]

#: Exit status of a command stopped by Ctrl-C (128 + SIGINT, the shell convention).
EXIT_INTERRUPTED = 130


class _State:
    presses = 0
    active = False
    saved = None  # the SIGINT handler to restore
    deferring = 0  # depth of deferred_interrupts blocks
    pending = False  # a first Ctrl-C arrived inside such a block
    external = 0  # depth of external_run blocks (a child process polled for interrupts)


def interrupt_requested():
    """True once Ctrl-C was pressed while :func:`handle_interrupts` is active."""
    return _State.presses > 0


def interrupt_forced():
    """True once Ctrl-C was pressed twice: stop at once, save nothing more."""
    return _State.presses > 1


def _brian2_network_class():
    module = sys.modules.get("brian2.core.network")
    return None if module is None else module.Network


def _handler(signum, frame):
    _State.presses += 1
    if _State.presses == 1:
        if _State.deferring:
            _State.pending = True  # raised when the block ends
            return
        if _State.external:
            return  # the polling loop stops the child process and raises InterruptedRunError
        network = _brian2_network_class()
        if network is not None and network._globally_running and not network._globally_stopped:
            # stop after the current time step; run_network raises InterruptedRunError
            network._globally_stopped = True
            return
        raise KeyboardInterrupt
    if _State.presses == 2:
        raise KeyboardInterrupt
    os.write(2, b"interrupted: stopped at once (Ctrl-C pressed three times).\n")
    os._exit(EXIT_INTERRUPTED)


def _in_main_thread():
    return threading.current_thread() is threading.main_thread()


def _take_over():
    """Make :func:`_handler` the SIGINT handler (Brian2 installs its own when it is imported)."""
    if not _State.active or not _in_main_thread():
        return
    current = signal.getsignal(signal.SIGINT)
    if current is _handler:
        return
    if getattr(current, "previous_handler", None) is _handler:
        # Brian2 was imported inside handle_interrupts and wrapped our handler: unwrap it,
        # and give it back, wrapping the handler we will restore, on the way out
        current.previous_handler = _State.saved
        _State.saved = current
    signal.signal(signal.SIGINT, _handler)


@contextlib.contextmanager
def handle_interrupts():
    """SIGINT handling of a neurophase command (see the module docstring); restores the previous
    handler on exit. Outside the main thread it does nothing (signals go to the main thread)."""
    if not _in_main_thread() or _State.active:
        yield
        return
    _State.presses = 0
    _State.saved = signal.getsignal(signal.SIGINT)
    _State.active = True
    signal.signal(signal.SIGINT, _handler)
    try:
        yield
    finally:
        current = signal.getsignal(signal.SIGINT)
        if getattr(current, "previous_handler", None) is _handler:
            current.previous_handler = _State.saved
        else:
            signal.signal(signal.SIGINT, _State.saved if _State.saved is not None else signal.default_int_handler)
        _State.active = False
        _State.presses = 0
        _State.saved = None
        _State.pending = False


@contextlib.contextmanager
def external_run():
    """A block that runs a child process (a C++ standalone binary) and polls
    :func:`interrupt_requested`: a first Ctrl-C inside it only records the request, so the
    caller stops the child and raises :class:`~neurophase.errors.InterruptedRunError`; a second
    Ctrl-C still raises :class:`KeyboardInterrupt` at once."""
    _take_over()
    _State.external += 1
    try:
        yield
    finally:
        _State.external -= 1


@contextlib.contextmanager
def deferred_interrupts():
    """A block that a first Ctrl-C does not cut short (writing a finished result): the
    :class:`KeyboardInterrupt` is raised when the block ends. A second Ctrl-C still stops at once."""
    _State.deferring += 1
    try:
        yield
    finally:
        _State.deferring -= 1
    if _State.pending and not _State.deferring:
        _State.pending = False
        raise KeyboardInterrupt


def _second():
    from brian2 import second

    return second


def _seconds(value):
    return float(value / _second())


def check_run_complete(network, start, duration, what):
    """Raise :class:`~neurophase.errors.InterruptedRunError` unless ``network`` simulated the whole
    ``duration`` (s) from ``start`` (s).

    The run is incomplete when ``network.t`` fell short of ``start + duration`` by half a time
    step or more, when Brian2's stop flags are set (``Network.stop()``, Ctrl-C), or when the
    device reports a completed fraction below 1 (standalone binaries write it to
    ``results/last_run_info.txt``); a run is also not accepted once Ctrl-C was pressed.
    """
    from brian2 import get_device

    network_class = type(network)
    reached = _seconds(network.t) - start
    fraction = getattr(get_device(), "_last_run_completed_fraction", None)
    stopped = bool(getattr(network, "_stopped", False)
                   or getattr(network_class, "_globally_stopped", False))
    step = min((_seconds(clock.dt) for clock in getattr(network, "_clocks", ()) or ()), default=0.0)
    short = reached < duration - 0.5 * step - 1e-12 * max(duration, 1.0)
    if fraction is not None and duration > 0:
        short = short or float(fraction) < 1.0 - 1e-9
    if short or stopped or interrupt_requested():
        done = max(0.0, min(reached, duration))
        if fraction is not None and duration > 0:
            done = min(done, float(fraction) * duration)
        raise InterruptedRunError(
            f"the Brian2 run of {what} stopped at {done:.6g} s of {duration:.6g} s "
            f"({100 * done / duration if duration > 0 else 100:.0f} %, stopped by Ctrl-C or a stop "
            "request); a truncated simulation is not a result, so nothing was kept from it: run it "
            "again to the end.",
            completed=done / duration if duration > 0 else 1.0,
        )


def run_network(network, duration, what, progress=None, **options):
    """``network.run(duration, **options)``, then :func:`check_run_complete`.

    Parameters
    ----------
    network : brian2.Network
    duration : Quantity
        Simulated time of this run.
    what : str
        The simulation in words, for the error message (e.g. ``"'hodgkin_huxley_1952' step
        (400 neurones)"``).
    progress : bool, optional
        ``False``: no progress bar; ``None``: a bar on a terminal inside
        :func:`neurophase.progress.inner_progress` when ``report`` is not given.
    **options
        Passed to :meth:`brian2.Network.run` (``namespace``, ``report``, ...).

    Raises
    ------
    InterruptedRunError
        The run stopped before ``duration`` (Ctrl-C, ``Network.stop``), or failed while an
        interrupt was pending (a compiler or standalone binary killed by Ctrl-C).
    """
    _take_over()
    if options.get("report") is None and progress is not False:
        from neurophase.progress import inner_report

        report = inner_report(what)
        if report is not None:
            options["report"] = report
            options.setdefault("report_period", 1.0 * _second())
    start = _seconds(network.t)
    requested = _seconds(duration)
    try:
        network.run(duration, **options)
    except KeyboardInterrupt:
        raise
    except Exception as error:
        if interrupt_requested():
            raise InterruptedRunError(
                f"the Brian2 run of {what} was interrupted by Ctrl-C ({type(error).__name__}); "
                "nothing was kept from it.", completed=None) from error
        raise
    check_run_complete(network, start, requested, what)
