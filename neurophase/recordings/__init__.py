"""Current-clamp step recordings in the neurophase Dataset schema, and prediction C5 on them.

Modules
-------
read
    The in-memory :class:`~neurophase.recordings.read.Recording`, reader dispatch
    (:func:`~neurophase.recordings.read.read_recording`,
    :func:`~neurophase.recordings.read.read_recordings`) and step finding.
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
check
    :func:`~neurophase.recordings.check.analyse_recordings`: files -> Datasets, verdicts,
    figures and report.
figures
    The f-I and example-trace figures.
commands
    The ``neurophase recordings`` command line.
"""

from neurophase.recordings.check import analyse_recordings
from neurophase.recordings.dataset import recording_dataset
from neurophase.recordings.read import read_recording, read_recordings
from neurophase.recordings.spikes import detect_spikes

__all__ = ["analyse_recordings", "recording_dataset", "read_recording", "read_recordings", "detect_spikes"]
