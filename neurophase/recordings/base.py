"""The in-memory form of a current-clamp step recording, and the helpers every reader shares.

Every reader (ABF, Igor through Neo, NWB, CSV; :mod:`neurophase.recordings.read` chooses one)
returns a :class:`Recording`: its sweeps, each with the membrane potential in mV, the injected
current in pA where the file has it, and the *test steps* of the sweep (window and amplitude)
read from the file, never assumed. The conversion to the neurophase Dataset schema is
:func:`neurophase.recordings.dataset.recording_dataset`.

Classes
-------
Step
    One current step: sample window ``[start, stop)``, amplitude and holding current (pA).
Sweep
    One sweep: voltage (mV), current (pA) or None, its steps.
Recording
    All sweeps of one cell and protocol, with provenance (file, hash, format, units read).

Functions
---------
find_current_steps
    Step windows and levels of a current waveform (command or measured), by thresholding
    against the holding current.
select_test_steps
    Keep the steps whose amplitude varies across sweeps (the test steps of an f-I protocol).
resolve_steps
    The test steps of every sweep: detected in the recorded current, or from arguments.
recording_from_sweeps
    One file's sweeps -> a :class:`Recording` with its steps and provenance (the shared end of
    the CSV, NWB and Neo readers).

Rules
-----
Test steps
    A step protocol's *test steps* are the step windows whose level varies from sweep to
    sweep (for example both 500 ms test steps of the 171116sh files, but not their fixed
    -100 pA step). With a single sweep, every step away from the holding current is a test
    step. A window present in some sweeps only (a 0 pA step cannot be seen in a measured
    current) is added to the others with the current measured inside it.
Current
    The step amplitude is the total injected current during the step (holding included); the
    holding current is kept separately, so that the increment is ``amplitude - holding``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from neurophase.errors import RecordingError, UnitMismatchError
from neurophase.records import file_sha256
from neurophase.units import parse_unit, to_magnitude

__all__ = [
    "Step",
    "Sweep",
    "Recording",
    "find_current_steps",
    "resolve_steps",
    "select_test_steps",
    "recording_from_sweeps",
    "voltage_in_millivolts",
    "current_in_picoamperes",
    "FORMATS",
    "as_millivolts",
    "as_picoamperes",
    "as_seconds",
    "steps_from_arguments",
    "read_step_sidecar",
]

#: File extensions and the format each one is read as.
FORMATS = {
    ".abf": "abf",
    ".ibw": "igor",
    ".nwb": "nwb",
    ".csv": "csv",
}


@dataclasses.dataclass
class Step:
    """One current step of a sweep.

    Attributes
    ----------
    start, stop : int
        Sample window ``[start, stop)`` of the step.
    amplitude : float
        Total injected current during the step, in pA.
    holding : float
        Holding current before the step, in pA.
    label : str
        Where the step came from (``"epoch B"``, ``"window 0"``, ...).
    """

    start: int
    stop: int
    amplitude: float
    holding: float = 0.0
    label: str = ""


@dataclasses.dataclass
class Sweep:
    """One sweep: membrane potential (mV), injected current (pA, or None), test steps.

    ``problem`` is set by a reader when the sweep is present in the file but unusable
    (truncated, missing); the sweep is then listed as excluded, not silently dropped.
    """

    index: int
    voltage: np.ndarray
    current: np.ndarray | None
    steps: list
    problem: str = ""


@dataclasses.dataclass
class Recording:
    """All sweeps of one cell and one protocol, with what was read from the file.

    Attributes
    ----------
    source_file : str
        The file (or, for per-sweep files, the first file; ``source_files`` lists all).
    file_format : str
        ``"abf1"``, ``"abf2"``, ``"igor"``, ``"nwb"``, ``"csv"``.
    protocol : str
        Protocol name read from the file ("" if the file has none).
    sampling_rate : float
        Samples per second (Hz).
    sweeps : list of Sweep
    voltage_unit, current_unit : str
        Units as stored in the file (the arrays are converted to mV and pA).
    current_source : str
        Where the step amplitudes came from (``"command epoch table"``, ``"measured current"``,
        ``"explicit step_amplitudes argument"`` ...).
    cell : str
        Cell name (from the file name when the file does not say).
    liquid_junction_potential : float
        In mV; reported potentials are corrected as ``V - liquid_junction_potential``.
    file_hashes : dict
        ``file name -> SHA-256``.
    extra : dict
        Further attributes for the Dataset (strings or numbers).
    baseline_stop : int or None
        First sample at which any sweep's current leaves the holding level: the baseline is
        ``[0, baseline_stop)``. None: the start of the earliest test step.
    """

    source_file: str
    file_format: str
    protocol: str
    sampling_rate: float
    sweeps: list
    voltage_unit: str = "mV"
    current_unit: str = "pA"
    current_source: str = ""
    cell: str = ""
    liquid_junction_potential: float = 0.0
    source_files: list = dataclasses.field(default_factory=list)
    file_hashes: dict = dataclasses.field(default_factory=dict)
    extra: dict = dataclasses.field(default_factory=dict)
    baseline_stop: int | None = None

    @property
    def sampling_interval(self):
        """Seconds between samples."""
        return 1.0 / self.sampling_rate

    def baseline_end(self):
        """``baseline_stop``, or the earliest test-step start when the reader did not set it."""
        if self.baseline_stop is not None:
            return int(self.baseline_stop)
        starts = [step.start for sweep in self.sweeps for step in sweep.steps]
        return int(min(starts)) if starts else 0

    @property
    def n_steps(self):
        """Number of test steps over all sweeps."""
        return sum(len(sweep.steps) for sweep in self.sweeps)


_VOLTAGE_CLAMP_HINT = ("A voltage channel in a current unit means a voltage-clamp recording: neurophase reads "
                       "current-clamp steps only.")


def _scale(unit_text, target, what, path):
    """Factor that converts numbers in ``unit_text`` (as stored in a file) to ``target``."""
    cleaned = str(unit_text).strip().replace("\x00", "")
    if cleaned in ("", "1", "dimensionless"):
        raise RecordingError(
            f"{path}: the {what} channel has no unit in the file. Give the unit explicitly "
            f"(e.g. voltage_unit='mV') so that it is read, not guessed."
        )
    aliases = {"volts": "volt", "volt": "volt", "V": "volt", "amperes": "amp", "A": "amp",
               "amps": "amp", "seconds": "second", "s": "second", "Hz": "Hz"}
    cleaned = aliases.get(cleaned, cleaned)
    try:
        unit = parse_unit(cleaned)
        return float(to_magnitude(unit, target))
    except UnitMismatchError as error:
        raise RecordingError(
            f"{path}: the {what} channel is in {unit_text!r}, which is not a {target}-like unit. "
            + (_VOLTAGE_CLAMP_HINT if what == 'voltage' else '')
        ) from error


def voltage_in_millivolts(values, unit, path="recording"):
    """``values`` stored in ``unit`` (a unit string from the file) as float mV."""
    return np.asarray(values, dtype=float) * _scale(unit, "mV", "voltage", path)


def current_in_picoamperes(values, unit, path="recording"):
    """``values`` stored in ``unit`` (a unit string from the file) as float pA."""
    return np.asarray(values, dtype=float) * _scale(unit, "pA", "current", path)


def _converts_to(unit, target, what):
    try:
        _scale(unit, target, what, "")
    except RecordingError:
        return False
    return True


def is_voltage_unit(unit):
    """True when ``unit`` (text) is a voltage unit."""
    return _converts_to(unit, "mV", "voltage")


def is_current_unit(unit):
    """True when ``unit`` (text) is a current unit."""
    return _converts_to(unit, "pA", "current")


# --------------------------------------------------------------------------------------------
# Steps from a current waveform
# --------------------------------------------------------------------------------------------
def find_current_steps(current, sampling_rate, holding=None, tolerance=None, min_duration=0.02,
                       max_gap=0.002):
    """Step windows and levels of a current trace (pA), by thresholding against the holding.

    Samples further than ``tolerance`` from the holding current are "in a step"; runs of
    such samples separated by less than ``max_gap`` are merged, and runs shorter than
    ``min_duration`` are dropped. The level of a step is the median current inside it, with
    1 ms trimmed from both edges. Adjacent steps with no holding segment between them are
    merged (use an epoch table when the file has one).

    Parameters
    ----------
    current : ndarray
        Current in pA (command or measured).
    sampling_rate : float
        Hz.
    holding : float, optional
        Holding current in pA; default the median of the first 1/64 of the trace (at
        least 20 samples), the pre-sweep holding segment of Axon files.
    tolerance : float, optional
        pA; default ``max(2 pA, 6 x robust noise)`` with the noise from the median absolute
        deviation of the first differences (so that it ignores the steps themselves).
    min_duration, max_gap : float
        Seconds.

    Returns
    -------
    list of Step

    Examples
    --------
    >>> trace = np.r_[np.zeros(100), np.full(300, 50.0), np.zeros(100)]
    >>> [(step.start, step.stop, step.amplitude) for step in find_current_steps(trace, 1000.0)]
    [(100, 400, 50.0)]
    """
    current = np.asarray(current, dtype=float)
    if current.size == 0 or not np.any(np.isfinite(current)):
        return []
    head = max(20, current.size // 64)
    if holding is None:
        holding = float(np.nanmedian(current[:head]))
    if tolerance is None:
        differences = np.diff(current[np.isfinite(current)])
        mad = np.median(np.abs(differences - np.median(differences))) if differences.size else 0.0
        noise = 1.4826 * mad / np.sqrt(2.0)
        tolerance = max(2.0, 6.0 * noise)
    away = np.abs(current - holding) > tolerance
    away &= np.isfinite(current)
    edges = np.flatnonzero(np.diff(np.r_[0, away.astype(np.int8), 0]))
    starts, stops = edges[0::2], edges[1::2]
    if starts.size == 0:
        return []
    gap = int(round(max_gap * sampling_rate))
    keep = np.r_[True, starts[1:] - stops[:-1] > gap]
    merged_starts = starts[keep]
    merged_stops = np.r_[stops[:-1][keep[1:]], stops[-1]]
    trim = int(round(0.001 * sampling_rate))
    steps = []
    for start, stop in zip(merged_starts, merged_stops):
        if (stop - start) / sampling_rate < min_duration:
            continue
        inner = current[start + trim:stop - trim] if stop - start > 4 * trim else current[start:stop]
        steps.append(Step(int(start), int(stop), float(np.nanmedian(inner)), float(holding),
                          f"window {len(steps)}"))
    return steps


def select_test_steps(steps_per_sweep, currents=None, sampling_rate=None, match_window=0.002,
                      level_tolerance=1.0):
    """Keep the test steps: the windows whose level varies across sweeps.

    Parameters
    ----------
    steps_per_sweep : list of list of Step
        Candidate steps of every sweep (an epoch table, or :func:`find_current_steps`).
    currents : list of ndarray, optional
        Current of each sweep (pA), used to measure the level of a window that was not
        detected in a sweep (a step at the holding current).
    sampling_rate : float, optional
        Hz, to express ``match_window``.
    match_window : float
        Seconds: windows of different sweeps whose starts differ by less are the same window.
    level_tolerance : float
        pA: a window whose levels span less than this does not vary.

    Returns
    -------
    list of list of Step
        The test steps of every sweep, sorted by start.

    Examples
    --------
    >>> first = [Step(10, 20, -100.0), Step(30, 40, 50.0)]
    >>> second = [Step(10, 20, -100.0), Step(30, 40, 75.0)]
    >>> [[step.amplitude for step in sweep] for sweep in select_test_steps([first, second])]
    [[50.0], [75.0]]
    """
    n_sweeps = len(steps_per_sweep)
    tolerance_samples = int(round(match_window * sampling_rate)) if sampling_rate else 0
    # cluster windows by their start sample
    windows = []  # (start, stop, label)
    for steps in steps_per_sweep:
        for step in steps:
            for window in windows:
                if abs(window[0] - step.start) <= tolerance_samples:
                    break
            else:
                windows.append((step.start, step.stop, step.label))
    windows.sort()
    table = [[None] * len(windows) for _ in range(n_sweeps)]
    for sweep_number, steps in enumerate(steps_per_sweep):
        for step in steps:
            for window_number, window in enumerate(windows):
                if abs(window[0] - step.start) <= tolerance_samples:
                    table[sweep_number][window_number] = step
    for sweep_number in range(n_sweeps):
        for window_number, (start, stop, label) in enumerate(windows):
            if table[sweep_number][window_number] is None and currents is not None:
                current = currents[sweep_number]
                if current is not None and stop <= len(current):
                    holdings = [s.holding for s in steps_per_sweep[sweep_number]] or [0.0]
                    table[sweep_number][window_number] = Step(
                        start, stop, float(np.nanmedian(current[start:stop])), float(holdings[0]), label)
    if n_sweeps == 1:
        chosen = list(range(len(windows)))
    else:
        chosen = []
        for window_number in range(len(windows)):
            levels = [table[s][window_number].amplitude for s in range(n_sweeps)
                      if table[s][window_number] is not None]
            if len(levels) >= 2 and np.ptp(levels) > level_tolerance:
                chosen.append(window_number)
        if not chosen:
            # every sweep repeats the same protocol: all non-holding windows are repeated steps
            chosen = [number for number in range(len(windows))
                      if any(table[s][number] is not None
                             and abs(table[s][number].amplitude - table[s][number].holding) > level_tolerance
                             for s in range(n_sweeps))]
    return [[table[s][number] for number in chosen if table[s][number] is not None] for s in range(n_sweeps)]


# --------------------------------------------------------------------------------------------
# Step protocol given explicitly (files without a command waveform)
# --------------------------------------------------------------------------------------------
def _as_magnitudes(values, unit, name, example):
    """Quantities, unit strings or arrays of either -> float array in ``unit``."""
    from brian2.units.fundamentalunits import Quantity

    if isinstance(values, Quantity):
        return np.asarray(to_magnitude(values, unit, name=name), dtype=float)
    if isinstance(values, str):
        from neurophase.units import parse_quantity

        return np.asarray(to_magnitude(parse_quantity(values, name=name), unit, name=name), dtype=float)
    array = np.asarray(values, dtype=object)
    if array.size and all(isinstance(item, (str, Quantity)) for item in array.ravel()):
        return np.vectorize(lambda item: float(_as_magnitudes(item, unit, name, example)),
                            otypes=[float])(array)
    raise UnitMismatchError(f"{name!r} needs units: pass a Brian2 quantity such as {example}.")


def as_picoamperes(values, name):
    return _as_magnitudes(values, "pA", name, "`[0, 50, 100] * pA`, or strings such as '50 pA'")


def as_seconds(values, name):
    return _as_magnitudes(values, "second", name, "`[[100, 600]] * ms`, or strings such as '100 ms'")


def steps_from_arguments(n_sweeps, sampling_rate, step_amplitudes, step_windows, holding_current=None,
                         source="recording"):
    """Test steps from an explicit protocol: amplitudes per sweep and windows per step.

    Parameters
    ----------
    n_sweeps : int
    sampling_rate : float
        Hz.
    step_amplitudes : Quantity or sequence of str
        Current of each sweep's step(s), shape ``(n_sweeps,)`` or ``(n_sweeps, n_windows)``.
    step_windows : Quantity or sequence of str
        ``(n_windows, 2)`` start and stop times of the step window(s), from sweep start.
    holding_current : Quantity or str, optional
        Default 0 pA.

    Returns
    -------
    list of list of Step

    Examples
    --------
    >>> from brian2 import pA, ms
    >>> steps = steps_from_arguments(2, 1000.0, [10, 20] * pA, [[100, 300]] * ms)
    >>> [(s[0].start, s[0].stop, s[0].amplitude) for s in steps]
    [(100, 300, 10.0), (100, 300, 20.0)]
    """
    if step_amplitudes is None or step_windows is None:
        raise RecordingError(
            f"{source}: the file has no usable command waveform or current channel, so the step "
            "amplitudes cannot be read from it. Give them explicitly: step_amplitudes (one per sweep, "
            "e.g. `[0, 50, 100] * pA`) and step_windows (e.g. `[[100, 600]] * ms`), or a sidecar "
            "file <name>.steps.json (see neurophase.recordings.abf). neurophase does not guess them."
        )
    amplitudes = np.atleast_1d(as_picoamperes(step_amplitudes, "step_amplitudes"))
    windows = np.atleast_2d(as_seconds(step_windows, "step_windows"))
    if windows.shape[1] != 2:
        raise RecordingError(f"step_windows must have shape (n_windows, 2); got {windows.shape}.")
    if amplitudes.ndim == 1:
        amplitudes = np.repeat(amplitudes[:, None], windows.shape[0], axis=1)
    if amplitudes.shape != (n_sweeps, windows.shape[0]):
        raise RecordingError(
            f"{source}: step_amplitudes has shape {amplitudes.shape} but the file has {n_sweeps} sweeps and "
            f"{windows.shape[0]} step window(s): give one amplitude per sweep (and window)."
        )
    if np.any(windows[:, 1] <= windows[:, 0]) or np.any(windows < 0):
        raise RecordingError(f"{source}: every step window needs 0 <= start < stop; got {windows.tolist()}.")
    holding = 0.0 if holding_current is None else float(as_picoamperes(holding_current, "holding_current"))
    samples = np.round(windows * sampling_rate).astype(int)
    return [
        [Step(int(start), int(stop), float(amplitudes[sweep, number]), holding, f"window {number}")
         for number, (start, stop) in enumerate(samples)]
        for sweep in range(n_sweeps)
    ]



def resolve_steps(currents, sampling_rate, recorded_source, path, n_sweeps, step_amplitudes=None,
                  step_windows=None, holding_current=None, holding=None, prefer_arguments=False):
    """Test steps of every sweep: detected in the recorded current, or taken from arguments.

    When every sweep has a current trace (and ``prefer_arguments`` is false), the steps are
    found by :func:`find_current_steps` and the varying test steps chosen by
    :func:`select_test_steps`; otherwise :func:`steps_from_arguments` takes the explicit
    ``step_amplitudes`` / ``step_windows`` and refuses to guess.

    Returns
    -------
    (list, str, float or None)
        Steps per sweep, where they were read from (for provenance), and the first step start
        (end of the baseline segment), or None when the steps came from arguments.
    """
    if not prefer_arguments and currents and all(current is not None for current in currents):
        detected = [find_current_steps(current, sampling_rate, holding=holding) for current in currents]
        baseline_stop = min((step.start for sweep_steps in detected for step in sweep_steps), default=None)
        steps = select_test_steps(detected, currents=currents, sampling_rate=sampling_rate)
        source = recorded_source
    else:
        steps = steps_from_arguments(n_sweeps, sampling_rate, step_amplitudes, step_windows, holding_current,
                                     source=str(path))
        source, baseline_stop = "explicit step_amplitudes argument", None
    if not any(steps):
        spans = [float(np.ptp(current[np.isfinite(current)])) for current in currents or []
                 if current is not None and np.isfinite(current).any()]
        hint = ""
        if spans and 0 < max(spans) < 1e-3:  # see neurophase.recordings.plausibility
            hint = (f" The current varies by at most {max(spans):.3g} pA: the values look like amperes; "
                    "label the channel 'A'.")
        raise RecordingError(f"{path}: no current step away from the holding level in any sweep: no step "
                             f"protocol.{hint}")
    return steps, source, baseline_stop


def recording_from_sweeps(path, file_format, protocol, sampling_rate, numbers, voltages, currents, recorded_source,
                          voltage_unit, current_unit, cell, liquid_junction_potential=None, step_amplitudes=None,
                          step_windows=None, holding_current=None, prefer_arguments=False, extra=None):
    """The :class:`Recording` of the sweeps read from one file ``path``.

    The steps come from :func:`resolve_steps` (the recorded ``currents``, else the explicit
    ``step_amplitudes`` / ``step_windows``); the provenance is ``path`` and its SHA-256.

    Parameters
    ----------
    path : Path
        The file read.
    file_format, protocol : str
        As in :class:`Recording`.
    sampling_rate : float, Hz
    numbers : sequence of int
        Sweep numbers.
    voltages, currents : list of numpy.ndarray (mV, pA)
        Per sweep; a current may be None (no current signal).
    recorded_source : str
        Where the recorded currents come from (provenance of the steps).
    voltage_unit, current_unit : str
        The units stored in the file.
    cell : str
        Cell name.
    liquid_junction_potential, step_amplitudes, step_windows, holding_current : Quantity, optional
        As the readers take them.
    prefer_arguments : bool, optional
        Take the steps from the arguments even when currents were recorded.
    extra : dict, optional
        Format-specific provenance.

    Returns
    -------
    Recording
    """
    steps, source, baseline_stop = resolve_steps(
        currents, sampling_rate, recorded_source, path, len(voltages), step_amplitudes, step_windows,
        holding_current, prefer_arguments=prefer_arguments)
    sweeps = [Sweep(number, voltage, current, sweep_steps)
              for number, voltage, current, sweep_steps in zip(numbers, voltages, currents, steps)]
    return Recording(
        source_file=str(path), file_format=file_format, protocol=protocol, sampling_rate=sampling_rate, sweeps=sweeps,
        voltage_unit=voltage_unit, current_unit=current_unit, current_source=source, cell=cell,
        liquid_junction_potential=as_millivolts(liquid_junction_potential), source_files=[str(path)],
        file_hashes={path.name: file_sha256(path)}, extra=dict(extra or {}), baseline_stop=baseline_stop,
    )


def read_step_sidecar(path):
    """The explicit step protocol of ``path`` from ``<path>.steps.json``, or None if absent.

    The sidecar is a JSON object whose values carry their units as text::

        {"step_windows": [["100 ms", "600 ms"]],
         "step_amplitudes": ["-50 pA", "0 pA", "50 pA"],
         "holding_current": "0 pA"}
    """
    import json

    sidecar = Path(str(path) + ".steps.json")
    if not sidecar.exists():
        sidecar = Path(path).with_suffix(".steps.json")
        if not sidecar.exists():
            return None
    try:
        content = json.loads(sidecar.read_text())
    except (OSError, ValueError) as error:
        raise RecordingError(f"{sidecar}: cannot read the step sidecar as JSON ({error}).") from error
    unknown = set(content) - {"step_windows", "step_amplitudes", "holding_current"}
    if unknown:
        raise RecordingError(
            f"{sidecar}: unknown keys {sorted(unknown)}; the keys are step_windows, step_amplitudes, holding_current."
        )
    return content


def as_millivolts(value, name="liquid_junction_potential"):
    """A Quantity (or text such as '14 mV') as float mV; None means 0."""
    if value is None:
        return 0.0
    from neurophase.units import parse_quantity

    if isinstance(value, str):
        value = parse_quantity(value, name=name)
    return float(to_magnitude(value, "mV", name=name))
