"""Current-clamp step recordings in the neurophase Dataset schema.

Modules
-------
base
    The in-memory :class:`~neurophase.recordings.base.Recording`, unit helpers and step finding.
read
    Reader dispatch (:func:`~neurophase.recordings.read.read_recording`,
    :func:`~neurophase.recordings.read.read_recordings`).
abf, neo_formats, nwb, csv_format
    Readers: ABF1/ABF2 (pyabf), Igor ``.ibw`` and other Neo formats, NWB icephys (pynwb), CSV.
spikes
    Spike detection robust to depolarisation-block plateaus and small spikes.
qc
    Quality control: baseline, noise, block, spontaneous firing, truncated or NaN sweeps.
features
    Adaptation index; rheobase, slope, saturation of the f-I curve.
dataset
    :func:`~neurophase.recordings.dataset.recording_dataset`: Recording -> schema Dataset.

Prediction C5 on recordings (fits, verdicts, report, the ``neurophase recordings`` command) is
:mod:`neurophase.check.recordings`; its figures are :mod:`neurophase.figures.recordings`.
"""

from neurophase.recordings.dataset import recording_dataset
from neurophase.recordings.read import read_recording, read_recordings
from neurophase.recordings.spikes import detect_spikes

__all__ = ["recording_dataset", "read_recording", "read_recordings", "detect_spikes"]
