"""Current-clamp step recordings stored as CSV text.

Functions
---------
read_csv
    A CSV file -> :class:`~neurophase.recordings.base.Recording`.

Format (long, one row per sample; the unit of each column is part of its header, in
parentheses, and is read, never assumed)::

    sweep,time (s),voltage (mV),current (pA)
    0,0.0000,-65.1,0
    0,0.0001,-65.0,0
    ...

``sweep`` is an integer sweep number; ``time`` starts at each sweep's beginning and must be
evenly sampled (the sampling rate is ``1 / median(diff(time))``); ``current`` may be omitted,
in which case the protocol must be given (``step_amplitudes``, ``step_windows``). Lines
starting with ``#`` are comments; ``# protocol: <name>`` names the protocol.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from neurophase.errors import RecordingError
from neurophase.recordings.base import current_in_picoamperes, recording_from_sweeps, voltage_in_millivolts
from neurophase.units import parse_unit, to_magnitude

__all__ = ["read_csv"]

_HEADER = re.compile(r"^\s*(?P<name>[A-Za-z_]+)\s*(\((?P<unit>[^)]*)\))?\s*$")


def read_csv(path, step_amplitudes=None, step_windows=None, holding_current=None, liquid_junction_potential=None,
             cell=None):
    """Read a CSV current-clamp recording (format in the module docstring).

    Returns
    -------
    Recording
    """
    path = Path(path)
    protocol = ""
    header = None
    try:
        with path.open() as handle:
            for line in handle:
                if line.startswith("#"):
                    if line[1:].strip().lower().startswith("protocol:"):
                        protocol = line.split(":", 1)[1].strip()
                    continue
                header = line.strip()
                break
            table = np.loadtxt(handle, delimiter=",", ndmin=2)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise RecordingError(f"{path}: cannot read this file as numeric CSV ({error}). See neurophase.recordings."
                             "csv_format for the format.") from error
    if not header:
        raise RecordingError(f"{path}: empty file, or no header line such as "
                             "'sweep,time (s),voltage (mV),current (pA)'.")
    columns = {}
    for position, text in enumerate(header.split(",")):
        match = _HEADER.match(text)
        if not match:
            raise RecordingError(f"{path}: cannot read the column header {text!r}; write e.g. 'voltage (mV)'.")
        columns[match["name"].lower()] = (position, (match["unit"] or "").strip())
    for required in ("sweep", "time", "voltage"):
        if required not in columns:
            raise RecordingError(
                f"{path}: no {required!r} column; the header must be like 'sweep,time (s),voltage (mV),current (pA)'.")
    if table.shape[1] != len(columns):
        raise RecordingError(f"{path}: {table.shape[1]} values per row but {len(columns)} columns in the header.")
    sweep_numbers = table[:, columns["sweep"][0]].astype(int)
    time_unit = columns["time"][1]
    if not time_unit:
        raise RecordingError(f"{path}: the time column has no unit; write 'time (s)' or 'time (ms)'.")
    time_scale = float(to_magnitude(parse_unit({"s": "second"}.get(time_unit, time_unit)), "second", name="time"))
    voltage_unit = columns["voltage"][1]
    current_unit = columns["current"][1] if "current" in columns else ""
    voltages, currents, numbers, intervals = [], [], [], []
    for number in np.unique(sweep_numbers):
        rows = table[sweep_numbers == number]
        times = rows[:, columns["time"][0]] * time_scale
        if times.size > 1:
            intervals.append(float(np.median(np.diff(times))))
        numbers.append(int(number))
        voltages.append(voltage_in_millivolts(rows[:, columns["voltage"][0]], voltage_unit, path))
        currents.append(current_in_picoamperes(rows[:, columns["current"][0]], current_unit, path)
                        if "current" in columns else None)
    if not intervals or min(intervals) <= 0:
        raise RecordingError(f"{path}: the time column must increase within each sweep.")
    if np.ptp(intervals) > 1e-6 * max(intervals):
        raise RecordingError(f"{path}: the sweeps have different sampling intervals {sorted(set(intervals))} s.")
    sampling_rate = 1.0 / float(np.median(intervals))
    return recording_from_sweeps(
        path, "csv", protocol, sampling_rate, numbers, voltages, currents, f"current column ({current_unit})",
        voltage_unit, current_unit, cell or path.stem, liquid_junction_potential, step_amplitudes, step_windows,
        holding_current)
