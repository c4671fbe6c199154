"""Whole-recording plausibility: refuse what is not a current-clamp membrane potential in mV.

Quality control (:mod:`neurophase.recordings.qc`) judges single steps of a sound recording. Some
files are wrong as a whole, and step-by-step QC would exclude every step without saying why
(or, worse, analyse them): :func:`check_plausible` refuses them, with the reason, when they are
read (:func:`neurophase.recordings.read.read_recording`).

Voltage clamp
    In voltage clamp the "voltage" channel is the command: a few exact levels (holding and
    steps) and nothing between them. A membrane potential in current clamp, digitised with 12
    or more bits, has noise and relaxes continuously after every step, so it takes hundreds of
    distinct values in every sweep even without spikes. A recording whose voltage takes at most
    :data:`MAX_COMMAND_LEVELS` distinct values (to 1 uV) in every sweep is refused as voltage
    clamp. (A voltage channel stored in a current unit is refused by the readers already.)
Voltage units
    Membrane potentials lie within +-200 mV (reversal potentials of the usual ions, Hille 2001,
    *Ion Channels of Excitable Membranes*, 3rd ed., ch. 1; overshoots below +60 mV). Values that
    all lie within +-1 mV (a "resting potential" of -0.07 mV) are volts written in a column
    labelled mV; values beyond +-1000 mV are millivolts (or microvolts) labelled as volts. Both
    are refused with the unit to write instead.
Current units
    Patch-clamp step currents lie between about 1 pA and 100 nA. Steps larger than 1 uA
    (10**6 pA) mean a current unit too small by 10**3 or more; steps all smaller than 10**-3 pA
    (but not zero) mean amperes written as pA.
"""

from __future__ import annotations

import numpy as np

from neurophase.errors import RecordingError

__all__ = ["check_plausible", "MAX_COMMAND_LEVELS"]

#: At most this many distinct voltage values (to 1 uV) in every sweep: a command, not a cell.
MAX_COMMAND_LEVELS = 8
_SMALLEST_VOLTAGE_SPAN = 1.0  # mV: all |V| below this -> volts labelled mV
_LARGEST_VOLTAGE = 1000.0  # mV: any |V| above this -> mV labelled V
_LARGEST_STEP = 1e6  # pA (1 uA)
_SMALLEST_STEP = 1e-3  # pA


def check_plausible(recording):
    """Raise :class:`~neurophase.errors.RecordingError` when ``recording`` (voltages converted to
    mV, currents to pA by its reader) is not a plausible current-clamp recording (module
    docstring); return it otherwise."""
    where = recording.source_file
    sweeps = [sweep for sweep in recording.sweeps if sweep.voltage is not None and np.size(sweep.voltage)]
    finite = [np.asarray(sweep.voltage, dtype=float) for sweep in sweeps]
    finite = [values[np.isfinite(values)] for values in finite]
    finite = [values for values in finite if values.size]
    if not finite:
        return recording
    long_sweeps = [values for values in finite if values.size > 10 * MAX_COMMAND_LEVELS]
    if long_sweeps:
        levels = [np.unique(np.round(values, 3)).size for values in long_sweeps]
        if max(levels) <= MAX_COMMAND_LEVELS:
            raise RecordingError(
                f"{where}: the voltage channel ({recording.voltage_unit!r}) takes only {max(levels)} "
                "distinct values per sweep, a command waveform rather than a membrane potential: this "
                "looks like a voltage-clamp recording, and neurophase analyses current-clamp steps only.")
    largest = max(float(np.max(np.abs(values))) for values in finite)
    median = float(np.median(np.concatenate(finite)))
    if largest < _SMALLEST_VOLTAGE_SPAN:
        raise RecordingError(
            f"{where}: every voltage lies within +-{_SMALLEST_VOLTAGE_SPAN:g} mV (median {median:.3g} mV) "
            f"when read as {recording.voltage_unit!r}; a membrane potential does not (rest is about "
            "-70 mV). The values look like volts: label the channel 'V' (e.g. 'voltage (V)').")
    if largest > _LARGEST_VOLTAGE:
        raise RecordingError(
            f"{where}: voltages reach {largest:.3g} mV (median {median:.3g} mV) when read as "
            f"{recording.voltage_unit!r}; membrane potentials lie within +-200 mV. The values look like "
            "millivolts labelled as volts: label the channel 'mV'.")
    increments = np.array([abs(step.amplitude - step.holding) for sweep in recording.sweeps
                           for step in sweep.steps], dtype=float)
    increments = increments[np.isfinite(increments)]
    if increments.size:
        if increments.max() > _LARGEST_STEP:
            raise RecordingError(
                f"{where}: current steps reach {increments.max():.3g} pA when read as "
                f"{recording.current_unit!r}, beyond any patch-clamp step (about 1 pA to 100 nA); "
                "check the current unit (pA written as A or nA?).")
        nonzero = increments[increments > 0]
        if nonzero.size and nonzero.max() < _SMALLEST_STEP:
            raise RecordingError(
                f"{where}: every current step is below {_SMALLEST_STEP:g} pA when read as "
                f"{recording.current_unit!r}; the values look like amperes: label the channel 'A'.")
    return recording
