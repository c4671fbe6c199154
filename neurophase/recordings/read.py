"""Reading current-clamp step recordings, whatever the file format: the dispatcher.

Functions
---------
read_recording
    Read one file (format from the extension, or ``file_format=``); Igor ``.ibw`` files are
    read as groups, see :func:`read_recordings`.
read_recordings
    Read several files; per-sweep Igor ``.ibw`` files of one cell are paired and grouped.

Each file format has its reader module (:mod:`~neurophase.recordings.abf`,
:mod:`~neurophase.recordings.nwb`, :mod:`~neurophase.recordings.csv_format`,
:mod:`~neurophase.recordings.neo_formats`); all return a
:class:`~neurophase.recordings.base.Recording`.
"""

from __future__ import annotations

import re
from pathlib import Path

from neurophase.errors import RecordingError
from neurophase.recordings.base import FORMATS

__all__ = ["read_recording", "read_recordings"]


def _format_of(path, file_format):
    if file_format is not None:
        if file_format not in set(FORMATS.values()) | {"neo"}:
            raise RecordingError(
                f"Unknown file_format {file_format!r}; use one of {sorted(set(FORMATS.values()) | {'neo'})}."
            )
        return file_format
    suffix = Path(path).suffix.lower()
    if suffix in FORMATS:
        return FORMATS[suffix]
    return "neo"


def read_recording(path, file_format=None, **options):
    """Read one current-clamp step recording.

    Parameters
    ----------
    path : str or Path
        An ``.abf``, ``.nwb``, ``.csv`` file, or any file Neo reads (``file_format="neo"``).
        Igor ``.ibw`` files hold one channel of one sweep: pass all files of a cell to
        :func:`read_recordings`.
    file_format : str, optional
        ``"abf"``, ``"igor"``, ``"nwb"``, ``"csv"`` or ``"neo"``; default from the extension.
    **options
        Passed to the reader (``step_amplitudes``, ``step_windows``,
        ``liquid_junction_potential``, ...; see each reader).

    Returns
    -------
    Recording

    Raises
    ------
    RecordingError
        The file cannot be read as a current-clamp step recording, or it is not plausible as
        one (voltage clamp, voltages or currents in a wrong unit:
        :mod:`neurophase.recordings.plausibility`).
    """
    from neurophase.recordings.plausibility import check_plausible

    return check_plausible(_read_one(path, file_format, **options))


def _read_one(path, file_format=None, **options):
    path = Path(path)
    if not path.exists():
        raise RecordingError(f"No such recording file: {path}. Check the path.")
    kind = _format_of(path, file_format)
    if kind == "abf":
        from neurophase.recordings.abf import read_abf

        return read_abf(path, **options)
    if kind == "nwb":
        from neurophase.recordings.nwb import read_nwb

        return read_nwb(path, **options)
    if kind == "csv":
        from neurophase.recordings.csv_format import read_csv

        return read_csv(path, **options)
    if kind == "igor":
        from neurophase.recordings.neo_formats import read_igor_sweeps

        return read_igor_sweeps([path], **options)
    from neurophase.recordings.neo_formats import read_neo

    return read_neo(path, **options)


_IGOR_NAME = re.compile(r"^(?P<cell>.+?)_Ch(?P<channel>\d+)_(?P<protocol>.+?)_(?P<sweep>\d+)$")


def read_recordings(paths, file_format=None, **options):
    """Read several recordings; Igor ``.ibw`` files are paired by sweep and grouped by cell.

    Igor files named ``<cell>_Ch<channel>_<protocol>_<sweep>.ibw`` (the Blue Brain / BluePyEfe
    convention) are grouped by ``(cell, protocol)``; each group becomes one Recording.
    A directory stands for the files in it.

    Returns
    -------
    list of Recording
    """
    expanded = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            expanded.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in FORMATS))
        else:
            expanded.append(path)
    if not expanded:
        raise RecordingError(f"No recording files in {list(map(str, paths))}.")
    recordings = []
    igor_groups = {}
    for path in expanded:
        kind = _format_of(path, file_format)
        if kind == "igor":
            match = _IGOR_NAME.match(path.stem)
            key = (match["cell"], match["protocol"]) if match else (path.stem, "")
            igor_groups.setdefault(key, []).append(path)
        else:
            recordings.append(read_recording(path, file_format=kind, **options))
    from neurophase.recordings.neo_formats import read_igor_sweeps
    from neurophase.recordings.plausibility import check_plausible

    for key in sorted(igor_groups):
        recordings.append(check_plausible(read_igor_sweeps(igor_groups[key], **options)))
    return recordings
