"""Axon Binary Format (ABF1 and ABF2) current-clamp step recordings, through pyabf.

Functions
---------
read_abf
    An ``.abf`` file -> :class:`~neurophase.recordings.base.Recording`.

Where the step amplitudes come from, in order
    1. the command waveform's epoch table (``abf.sweepEpochs``: levels and sample windows of
       every epoch of every sweep, in the DAC unit stored in the file), when it is valid;
    2. a recorded current channel (an ADC channel in a current unit), stepped by
       :func:`~neurophase.recordings.base.find_current_steps`;
    3. an explicit protocol: ``step_amplitudes`` and ``step_windows`` arguments, or a sidecar
       ``<file>.abf.steps.json`` (:func:`~neurophase.recordings.base.read_step_sidecar`).
       ABF1 files written by ``pyabf.abfWriter.writeABF1`` carry no epoch table and no
       command unit, so they need this.
    Otherwise :class:`~neurophase.errors.RecordingError` is raised: amplitudes are never
    assumed (for example the sweep amplitudes of 171116sh_0019 are not evenly spaced).

A recording whose recorded channel is a current (pA, nA) while the command is a voltage is a
voltage-clamp recording and is refused. A file whose epoch table has no step away from the
holding level is refused as "no step protocol". Sweeps that are shorter than the others or
hold non-finite samples are kept and flagged (quality control lists them as excluded).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurophase.errors import RecordingError
from neurophase.recordings.base import (
    Recording,
    Step,
    Sweep,
    current_in_picoamperes,
    find_current_steps,
    is_current_unit,
    is_voltage_unit,
    read_step_sidecar,
    select_test_steps,
    steps_from_arguments,
    voltage_in_millivolts,
)
from neurophase.records import file_sha256

__all__ = ["read_abf"]


def _clean(text):
    return str(text).replace("\x00", "").strip()


def _salvage_truncated(path, error):
    """Read the complete sweeps of a truncated ABF file (pyabf refuses a short data section).

    The header must be intact; the samples present are read and scaled exactly as pyabf does
    (int16 x gain + offset per channel), and the sweeps without all their samples are flagged
    by :func:`read_abf`. Anything else raises :class:`RecordingError`.
    """
    import pyabf

    message = (f"{path}: pyabf cannot read this file as ABF ({type(error).__name__}: {error}). The file is corrupt, "
               "truncated or not an Axon Binary Format file.")
    try:
        abf = pyabf.ABF(str(path), loadData=False)
        with open(path, "rb") as handle:
            handle.seek(abf.dataByteStart)
            raw = np.fromfile(handle, dtype=abf._dtype, count=abf.dataPointCount)
    except Exception:
        raise RecordingError(message) from error
    channels = abf.channelCount
    usable = (raw.size // channels) * channels
    if usable == 0 or usable >= abf.dataPointCount:
        raise RecordingError(message) from error
    data = raw[:usable].reshape(-1, channels).T.astype(np.float64)
    if abf._dtype == np.int16:
        for channel in range(channels):
            data[channel] = data[channel] * abf._dataGain[channel] + abf._dataOffset[channel]
    abf.data = data
    return abf


def _epoch_table_is_valid(abf, dac_unit):
    """True when the epoch table of sweep 0 is a usable step command in a current unit."""
    if not is_current_unit(dac_unit):
        return False
    try:
        abf.setSweep(0)
        epochs = abf.sweepEpochs
    except Exception:  # pyabf cannot build the waveform (e.g. ABF1 written without a protocol)
        return False
    p1s, p2s = np.asarray(epochs.p1s), np.asarray(epochs.p2s)
    levels = np.asarray(epochs.levels, dtype=float)
    if p1s.size < 2 or np.any(p1s < 0) or np.any(p2s > abf.sweepPointCount) or np.any(p2s < p1s):
        return False
    return bool(np.all(np.isfinite(levels)))


def _epoch_steps(abf, n_sweeps):
    """Candidate steps (every epoch but the pre-sweep holding one) of every sweep."""
    steps_per_sweep, types_per_sweep = [], []
    for sweep in range(n_sweeps):
        abf.setSweep(sweep)
        epochs = abf.sweepEpochs
        holding = float(epochs.levels[0])
        steps, types = [], {}
        for number in range(1, len(epochs.p1s)):
            start, stop = int(epochs.p1s[number]), int(epochs.p2s[number])
            if stop <= start:
                continue
            label = f"epoch {chr(ord('A') + number - 1)}"
            steps.append(Step(start, stop, float(epochs.levels[number]), holding, label))
            types[start] = str(epochs.types[number])
        steps_per_sweep.append(steps)
        types_per_sweep.append(types)
    return steps_per_sweep, types_per_sweep


def read_abf(path, step_amplitudes=None, step_windows=None, holding_current=None, channel=None,
             liquid_junction_potential=None, cell=None):
    """Read an ABF1 or ABF2 current-clamp step recording.

    Parameters
    ----------
    path : str or Path
    step_amplitudes, step_windows, holding_current : Quantity, optional
        Explicit protocol for files without a usable command (see the module docstring);
        ignored when the file has an epoch table (a conflict would be ambiguous, so it
        raises).
    channel : int, optional
        The ADC channel holding the membrane potential; default the first one in a voltage unit.
    liquid_junction_potential : Quantity, optional
        Recorded in the provenance; reported potentials are corrected by it.
    cell : str, optional
        Cell name; default the file name.

    Returns
    -------
    Recording
    """
    import pyabf

    path = Path(path)
    try:
        abf = pyabf.ABF(str(path), loadData=True)
    except Exception as error:
        abf = _salvage_truncated(path, error)
    version = "abf1" if abf.abfVersion["major"] == 1 else "abf2"
    adc_units = [_clean(unit) for unit in abf.adcUnits]
    dac_units = [_clean(unit) for unit in abf.dacUnits]
    if channel is None:
        voltage_channels = [number for number, unit in enumerate(adc_units) if is_voltage_unit(unit)]
        if not voltage_channels:
            current_channels = [number for number, unit in enumerate(adc_units) if is_current_unit(unit)]
            if current_channels:
                raise RecordingError(
                    f"{path}: every recorded channel is a current ({adc_units}) and the command is in "
                    f"{dac_units[:1]}: this is a voltage-clamp recording. neurophase analyses current-clamp "
                    "step recordings (membrane potential recorded, current injected)."
                )
            raise RecordingError(
                f"{path}: no recorded channel is a membrane potential (channel units {adc_units}); "
                "pass channel= to choose one."
            )
        channel = voltage_channels[0]
    if not is_voltage_unit(adc_units[channel]):
        raise RecordingError(
            f"{path}: channel {channel} is in {adc_units[channel]!r}, not a voltage: a voltage-clamp channel "
            "or the wrong channel. Pass the membrane-potential channel."
        )
    current_channel = next((number for number, unit in enumerate(adc_units)
                            if number != channel and is_current_unit(unit)), None)
    if abf.nOperationMode == 3:
        raise RecordingError(
            f"{path}: a gap-free recording has no step protocol. Record current steps in episodic mode, "
            "or cut the trace into sweeps and give step_windows and step_amplitudes."
        )
    n_sweeps = abf.sweepCount
    expected_length = abf.sweepPointCount
    sampling_rate = float(abf.sampleRate)
    voltages, currents, problems = [], [], []
    data = np.asarray(abf.data, dtype=float)
    available_points = data.shape[1] if data.ndim == 2 else 0
    for sweep in range(n_sweeps):
        first = sweep * expected_length
        segment = data[channel, first:first + expected_length] if available_points > first else np.empty(0)
        problem = ""
        if segment.size == 0:
            problem = "missing: no samples in the file for this sweep (truncated file)"
        elif segment.size < expected_length:
            problem = f"truncated: {segment.size} of {expected_length} samples"
        voltages.append(voltage_in_millivolts(segment, adc_units[channel], path))
        if current_channel is not None:
            current_segment = data[current_channel, first:first + expected_length]
            currents.append(current_in_picoamperes(current_segment, adc_units[current_channel], path))
        else:
            currents.append(None)
        problems.append(problem)
    sidecar = read_step_sidecar(path)
    explicit = step_amplitudes is not None or step_windows is not None or sidecar is not None
    command_unit = dac_units[0] if dac_units else ""
    if _epoch_table_is_valid(abf, command_unit):
        if explicit:
            raise RecordingError(
                f"{path}: the file has a command epoch table, and step amplitudes were also given "
                "explicitly (arguments or a .steps.json sidecar). Remove the explicit protocol: the file's own "
                "command is used."
            )
        steps_per_sweep, types_per_sweep = _epoch_steps(abf, n_sweeps)
        scale = float(current_in_picoamperes(1.0, command_unit, path))
        commands = []
        for sweep in range(n_sweeps):
            abf.setSweep(sweep)
            commands.append(np.asarray(abf.sweepC, dtype=float) * scale)
            for step in steps_per_sweep[sweep]:
                step.amplitude *= scale
                step.holding *= scale
        test_steps = select_test_steps(steps_per_sweep, sampling_rate=sampling_rate)
        for sweep, steps in enumerate(test_steps):
            wrong = sorted({types_per_sweep[sweep][step.start] for step in steps} - {"Step"})
            if wrong:
                raise RecordingError(
                    f"{path}: the varying epochs of the protocol are of type {wrong}, not steps: this is not a "
                    "step protocol (ramps and pulse trains do not give an f-I curve of steps)."
                )
        source = f"command epoch table (DAC unit {command_unit})"
        departures = [step.start for steps in steps_per_sweep for step in steps
                      if abs(step.amplitude - step.holding) > 1e-9]
        baseline_stop = min(departures) if departures else None
        currents = [c if c is not None else command for c, command in zip(currents, commands)]
    elif current_channel is not None and not explicit:
        detected = [find_current_steps(current, sampling_rate) for current in currents]
        baseline_stop = min((step.start for steps in detected for step in steps), default=None)
        test_steps = select_test_steps(detected, currents=currents, sampling_rate=sampling_rate)
        source = f"recorded current channel {current_channel} ({adc_units[current_channel]})"
    else:
        if sidecar is not None and step_amplitudes is None and step_windows is None:
            step_amplitudes = sidecar.get("step_amplitudes")
            step_windows = sidecar.get("step_windows")
            holding_current = sidecar.get("holding_current", holding_current)
            source = f"sidecar {path.name}.steps.json"
        else:
            source = "explicit step_amplitudes argument"
        test_steps = steps_from_arguments(n_sweeps, sampling_rate, step_amplitudes, step_windows,
                                          holding_current, source=str(path))
        baseline_stop = None
    if not any(test_steps):
        raise RecordingError(
            f"{path}: the protocol has no current step away from the holding level in any sweep: this file "
            "has no step protocol, so no f-I curve can be read from it."
        )
    sweeps = [Sweep(index, voltage, current, steps, problem)
              for index, (voltage, current, steps, problem)
              in enumerate(zip(voltages, currents, test_steps, problems))]
    from neurophase.recordings.base import as_millivolts

    return Recording(
        source_file=str(path), file_format=version, protocol=_clean(abf.protocol), sampling_rate=sampling_rate,
        sweeps=sweeps, voltage_unit=adc_units[channel],
        current_unit=(command_unit if "epoch" in source
                      else (adc_units[current_channel] if current_channel is not None else "pA")),
        current_source=source, cell=cell or path.stem,
        liquid_junction_potential=as_millivolts(liquid_junction_potential),
        source_files=[str(path)], file_hashes={path.name: file_sha256(path)},
        extra={"abf_version": str(abf.abfVersionString), "recorded": str(abf.abfDateTime),
               "creator": _clean(getattr(abf, "creator", "")), "channel": int(channel),
               "channel_name": _clean(abf.adcNames[channel])},
        baseline_stop=baseline_stop,
    )
