"""Neurodata Without Borders (NWB 2) intracellular current-clamp recordings, through pynwb.

Functions
---------
read_nwb
    An ``.nwb`` file -> :class:`~neurophase.recordings.base.Recording`.

Layout read
    Every :class:`pynwb.icephys.CurrentClampSeries` in ``acquisition`` is one sweep (membrane
    potential); its current is the :class:`pynwb.icephys.CurrentClampStimulusSeries` in
    ``stimulus`` with the same ``sweep_number`` (or, without sweep numbers, in the same order).
    Values are ``data x conversion (+ offset)`` in the series' ``unit`` (NWB stores SI units:
    volts, amperes), converted to mV and pA. Step windows and amplitudes come from the
    stimulus waveform (:func:`~neurophase.recordings.base.find_current_steps`). A file whose
    acquisition holds :class:`pynwb.icephys.VoltageClampSeries` only is a voltage-clamp
    recording and is refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurophase.errors import RecordingError
from neurophase.recordings.base import current_in_picoamperes, recording_from_sweeps, voltage_in_millivolts

__all__ = ["read_nwb"]


def _values(series):
    data = np.asarray(series.data[:], dtype=float).ravel()
    offset = float(getattr(series, "offset", 0.0) or 0.0)
    return data * float(series.conversion) + offset


def _sort_key(series, position):
    number = getattr(series, "sweep_number", None)
    return (int(number) if number is not None else position)


def read_nwb(path, step_amplitudes=None, step_windows=None, holding_current=None, liquid_junction_potential=None,
             cell=None):
    """Read the current-clamp sweeps of an NWB file (layout in the module docstring).

    Parameters
    ----------
    path : path
        The ``.nwb`` file.
    step_amplitudes, step_windows, holding_current : Quantity, optional
        Explicit protocol when the file has no stimulus series.
    liquid_junction_potential : Quantity, optional
        Stored and used to correct reported potentials (``V - LJP``).
    cell : str, optional
        Default: the intracellular electrode's name, else the file name.

    Returns
    -------
    Recording
    """
    from pynwb import NWBHDF5IO
    from pynwb.icephys import CurrentClampSeries, CurrentClampStimulusSeries, VoltageClampSeries

    path = Path(path)
    try:
        io = NWBHDF5IO(str(path), mode="r", load_namespaces=True)
        nwbfile = io.read()
    except Exception as error:
        raise RecordingError(
            f"{path}: pynwb cannot read this file as NWB ({type(error).__name__}: {error}). The file is corrupt, "
            "truncated or not an NWB 2 (HDF5) file."
        ) from error
    try:
        acquisition = list(nwbfile.acquisition.values())
        voltage_series = [s for s in acquisition if isinstance(s, CurrentClampSeries)]
        if not voltage_series:
            if any(isinstance(s, VoltageClampSeries) for s in acquisition):
                raise RecordingError(
                    f"{path}: the acquisition holds VoltageClampSeries only: a voltage-clamp recording. neurophase "
                    "reads current-clamp step recordings (CurrentClampSeries)."
                )
            raise RecordingError(f"{path}: no CurrentClampSeries in the acquisition group: nothing to analyse.")
        stimulus_series = [s for s in nwbfile.stimulus.values() if isinstance(s, CurrentClampStimulusSeries)]
        voltage_series = [s for _, s in sorted(enumerate(voltage_series), key=lambda item: _sort_key(item[1], item[0]))]
        stimulus_by_number = {getattr(s, "sweep_number", None): s for s in stimulus_series}
        rates = {float(s.rate) for s in voltage_series if s.rate is not None}
        if len(rates) != 1:
            raise RecordingError(f"{path}: the sweeps have sampling rates {sorted(rates)} Hz; they must share one "
                                 "(timestamps-only series are not supported).")
        sampling_rate = rates.pop()
        voltages, currents, numbers = [], [], []
        voltage_unit = voltage_series[0].unit
        current_unit = stimulus_series[0].unit if stimulus_series else ""
        for position, series in enumerate(voltage_series):
            number = getattr(series, "sweep_number", None)
            voltages.append(voltage_in_millivolts(_values(series), series.unit, path))
            numbers.append(int(number) if number is not None else position)
            stimulus = stimulus_by_number.get(number) if number is not None else None
            if stimulus is None and len(stimulus_series) == len(voltage_series):
                stimulus = stimulus_series[position]
            currents.append(current_in_picoamperes(_values(stimulus), stimulus.unit, path)
                            if stimulus is not None else None)
        electrode = getattr(voltage_series[0], "electrode", None)
        electrode_name = electrode.name if electrode is not None else ""
        protocol = str(getattr(voltage_series[0], "stimulus_description", "") or nwbfile.protocol or "")
        identifier = str(nwbfile.identifier)
    finally:
        io.close()
    return recording_from_sweeps(
        path, "nwb", protocol, sampling_rate, numbers, voltages, currents,
        f"CurrentClampStimulusSeries ({current_unit})", voltage_unit, current_unit, cell or electrode_name or path.stem,
        liquid_junction_potential, step_amplitudes, step_windows, holding_current,
        extra={"nwb_identifier": identifier})
