"""Recordings read through Neo: Igor Pro binary waves (``.ibw``) and any other Neo format.

Functions
---------
read_igor_sweeps
    Per-sweep, per-channel Igor ``.ibw`` files of one cell (Blue Brain / BluePyEfe layout:
    ``<cell>_Ch<channel>_<protocol>_<sweep>.ibw``) -> one Recording. Channels are told apart
    by the unit stored in each wave header (mV: membrane potential, pA: injected current),
    never by the channel number.
read_neo
    Any file ``neo.io.get_io`` reads: one Neo segment per sweep; in each segment the signal
    in a voltage unit is the membrane potential and the one in a current unit is the injected
    current.

In both, step windows and amplitudes come from the recorded current
(:func:`~neurophase.recordings.base.find_current_steps`, then
:func:`~neurophase.recordings.base.select_test_steps`); without a current signal an explicit
protocol (``step_amplitudes``, ``step_windows``) is required.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from neurophase.errors import RecordingError
from neurophase.recordings.base import (
    Recording,
    Sweep,
    as_millivolts,
    as_picoamperes,
    current_in_picoamperes,
    is_current_unit,
    is_voltage_unit,
    recording_from_sweeps,
    resolve_steps,
    voltage_in_millivolts,
)
from neurophase.records import file_sha256

__all__ = ["read_igor_sweeps", "read_neo"]

_SWEEP_NUMBER = re.compile(r"_(\d+)$")


def _unit_text(signal):
    return signal.units.dimensionality.string


def _read_igor_signal(path):
    import neo

    try:
        block = neo.io.IgorIO(str(path)).read_block()
        signal = block.segments[0].analogsignals[0]
    except Exception as error:
        raise RecordingError(
            f"{path}: Neo's IgorIO cannot read this file as an Igor binary wave ({type(error).__name__}: "
            f"{error}). The file is corrupt, truncated or not an .ibw wave."
        ) from error
    note = signal.annotations.get("note", b"")
    if isinstance(note, bytes):
        note = note.decode("latin-1", "replace")
    return signal, str(note)


def _note_fields(note):
    fields = {}
    for item in note.replace("\r", ";").split(";"):
        if ":" in item:
            key, value = item.split(":", 1)
            fields.setdefault(key.strip(), value.strip())
    return fields


def _sweep_key(path):
    match = _SWEEP_NUMBER.search(Path(path).stem)
    return int(match.group(1)) if match else Path(path).stem


def read_igor_sweeps(paths, liquid_junction_potential=None, holding_current=None, cell=None,
                     step_amplitudes=None, step_windows=None):
    """Read Igor ``.ibw`` waves of one cell and protocol as one Recording.

    Parameters
    ----------
    paths : list of path
        The voltage and current waves of every sweep. Waves with the same trailing sweep
        number (``..._181.ibw``) form one sweep.
    liquid_junction_potential : Quantity or str, optional
        E.g. ``14 * mV`` for the B6 cell (BluePyEfe example metadata); stored and used to
        correct reported potentials (``V - LJP``).
    holding_current : Quantity or str, optional
        Default: the median current of the first 1/64 of each sweep.
    cell : str, optional
        Default: the file-name prefix before ``_Ch``.
    step_amplitudes, step_windows : Quantity, optional
        Only for sweeps without a current wave.

    Returns
    -------
    Recording
    """
    paths = sorted(Path(path) for path in paths)
    by_sweep = {}
    units_seen = {}
    notes = {}
    sampling_rates = set()
    for path in paths:
        signal, note = _read_igor_signal(path)
        unit = _unit_text(signal)
        rate = float(signal.sampling_rate.rescale("Hz").magnitude)
        sampling_rates.add(round(rate, 6))
        entry = by_sweep.setdefault(_sweep_key(path), {})
        values = np.asarray(signal.magnitude, dtype=float).ravel()
        if is_voltage_unit(unit):
            kind = "voltage"
            values = voltage_in_millivolts(values, unit, path)
        elif is_current_unit(unit):
            kind = "current"
            values = current_in_picoamperes(values, unit, path)
        else:
            raise RecordingError(f"{path}: the wave is in {unit!r}, neither a voltage nor a current.")
        if kind in entry:
            raise RecordingError(
                f"{path}: sweep {_sweep_key(path)} has two {kind} waves ({entry[kind][1].name}, {path.name}); "
                "pass the files of one cell and one protocol only."
            )
        entry[kind] = (values, path)
        units_seen[kind] = unit
        notes.setdefault(kind, note)
    if len(sampling_rates) != 1:
        raise RecordingError(f"The waves have different sampling rates {sorted(sampling_rates)} Hz; "
                             "read them separately.")
    sampling_rate = sampling_rates.pop()
    keys = sorted(by_sweep, key=lambda key: (isinstance(key, str), key))
    missing_voltage = [key for key in keys if "voltage" not in by_sweep[key]]
    if missing_voltage:
        if all("voltage" not in by_sweep[key] for key in keys):
            raise RecordingError(
                "None of the waves is a membrane potential (all are currents): a voltage-clamp recording, or "
                "the voltage waves are missing. neurophase reads current-clamp recordings."
            )
    voltages = [by_sweep[key]["voltage"][0] if "voltage" in by_sweep[key] else np.empty(0) for key in keys]
    currents = [by_sweep[key]["current"][0] if "current" in by_sweep[key] else None for key in keys]
    holding = None if holding_current is None else float(as_picoamperes(holding_current, "holding_current"))
    steps, source, baseline_stop = resolve_steps(
        currents, sampling_rate, f"measured current waves ({units_seen.get('current')})", paths[0], len(keys),
        step_amplitudes, step_windows, holding_current, holding=holding)
    sweeps = []
    for number, (key, voltage, current, sweep_steps) in enumerate(zip(keys, voltages, currents, steps)):
        problem = "missing: no membrane-potential wave for this sweep" if voltage.size == 0 else ""
        sweeps.append(Sweep(key if isinstance(key, int) else number, voltage, current, sweep_steps, problem))
    first = paths[0]
    name_match = re.match(r"^(?P<cell>.+?)_Ch\d+_(?P<protocol>.+?)_\d+$", first.stem)
    fields = _note_fields(notes.get("voltage", notes.get("current", "")))
    protocol = fields.get("PATTERN") or (name_match["protocol"] if name_match else "")
    extra = {"recorded": fields.get("TIME", ""), "igor_note_fields": len(fields)}
    if not any(sweep.steps for sweep in sweeps):
        raise RecordingError(f"{first}: no current step away from the holding level: no step protocol.")
    return Recording(
        source_file=str(first), file_format="igor", protocol=protocol, sampling_rate=float(sampling_rate),
        sweeps=sweeps, voltage_unit=units_seen.get("voltage", ""), current_unit=units_seen.get("current", ""),
        current_source=source, cell=cell or (name_match["cell"] if name_match else first.stem),
        liquid_junction_potential=as_millivolts(liquid_junction_potential),
        source_files=[str(path) for path in paths],
        file_hashes={path.name: file_sha256(path) for path in paths}, extra=extra, baseline_stop=baseline_stop,
    )


def read_neo(path, step_amplitudes=None, step_windows=None, holding_current=None,
             liquid_junction_potential=None, cell=None):
    """Read any Neo-supported current-clamp file: one segment per sweep.

    Parameters
    ----------
    path : path
        A file Neo reads (``neo.io.get_io`` chooses the reader).
    step_amplitudes, step_windows, holding_current : Quantity, optional
        Explicit protocol when the file has no current signal.
    liquid_junction_potential : Quantity, optional
        Stored and used to correct reported potentials (``V - LJP``).
    cell : str, optional
        Default: the file name.

    Returns
    -------
    Recording
    """
    import neo

    path = Path(path)
    try:
        io = neo.io.get_io(str(path))
        block = io.read_block()
    except Exception as error:
        raise RecordingError(
            f"{path}: Neo cannot read this file ({type(error).__name__}: {error}). Check the format, or convert "
            "it to ABF, NWB or CSV (see neurophase.recordings.csv_format)."
        ) from error
    voltages, currents, rates = [], [], set()
    voltage_unit = current_unit = ""
    for segment in block.segments:
        voltage = current = None
        for signal in segment.analogsignals:
            unit = _unit_text(signal)
            rates.add(float(signal.sampling_rate.rescale("Hz").magnitude))
            values = np.asarray(signal.magnitude, dtype=float)[:, 0]
            if voltage is None and is_voltage_unit(unit):
                voltage, voltage_unit = voltage_in_millivolts(values, unit, path), unit
            elif current is None and is_current_unit(unit):
                current, current_unit = current_in_picoamperes(values, unit, path), unit
        if voltage is None:
            raise RecordingError(
                f"{path}: a segment has no signal in a voltage unit: a voltage-clamp recording or an unsupported "
                "layout. neurophase reads current-clamp recordings."
            )
        voltages.append(voltage)
        currents.append(current)
    if not voltages:
        raise RecordingError(f"{path}: the file holds no sweeps.")
    if len(rates) != 1:
        raise RecordingError(f"{path}: the signals have different sampling rates {sorted(rates)} Hz.")
    sampling_rate = rates.pop()
    return recording_from_sweeps(
        path, f"neo:{type(io).__name__}", str(block.name or ""), float(sampling_rate), range(len(voltages)),
        voltages, currents, f"recorded current signal ({current_unit})", voltage_unit, current_unit,
        cell or path.stem, liquid_junction_potential, step_amplitudes, step_windows, holding_current,
        prefer_arguments=step_amplitudes is not None)
