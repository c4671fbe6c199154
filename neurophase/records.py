"""Resume records and manifests: what an experiment run has finished, with checksums.

An experiment run (:func:`neurophase.experiments.run_experiment` into ``OUT``) writes each
measurement as soon as it finishes (serial or Dask) into the *resume record* ``OUT.partial``::

    OUT.partial/
        manifest.json               one entry per finished measurement (below)
        <label>/<dataset>.nc        its Datasets
        <label>/verdicts.json       its verdicts, every field (floats round-trip exactly)

and only when every measurement has finished assembles ``OUT`` (Datasets, figures, report,
``verdicts.csv`` and ``manifest.json``) and deletes the record. A measurement enters the record
atomically: its files go to a hidden folder that is renamed into place, then the manifest is
replaced (written to a temporary file and renamed), so an interrupted write leaves no entry.

Manifest entry of a measurement::

    "<label>": {"function": ..., "settings_hash": ..., "seconds": ...,
                "files": {"<relative path>": "<sha256>", ...}}

``settings_hash`` is the SHA-256 of the measurement's function, its settings as written in the
experiment file, the seed it receives, the neurophase version, and the content of the model files
it names and of its function's source file (:func:`settings_hash`).
``neurophase run --resume`` reuses an entry only when its settings hash equals the new one and
every file's SHA-256 matches (:meth:`ResumeRecord.finished`); anything else runs again.

The manifest of a finished output folder has the same ``measurements`` and, under ``files``,
the SHA-256 of every file in the folder (:func:`verify_manifest` checks a folder against it).

:func:`check_output_folder` and :func:`check_output_file` refuse, before anything runs, an output
path that is of the wrong kind, not writable, or holds an older result (without ``overwrite``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from neurophase.errors import NeurophaseError, OutputError
from neurophase.io import share_mode

__all__ = ["ResumeRecord", "settings_hash", "file_sha256", "write_manifest", "read_manifest",
           "verify_manifest", "MANIFEST", "verdicts_to_json", "verdicts_from_json", "check_output_folder",
           "check_output_file", "record_problem"]

MANIFEST = "manifest.json"
_FORMAT = 1


def file_sha256(path):
    """SHA-256 (hex) of the bytes of ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _canonical(value):
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def settings_hash(function, settings, seed, inputs=None):
    """SHA-256 of what determines a measurement's result: function name, settings as written in
    the experiment file (TOML values), the seed it is given, the neurophase version, and
    ``inputs`` (name -> SHA-256 of files it reads: model files, the function's source file).

    A change elsewhere in the code is not seen: after updating neurophase, start again
    (``--overwrite``) rather than resume."""
    from neurophase import __version__

    text = json.dumps({"function": function, "settings": _canonical(settings), "seed": seed,
                       "neurophase": __version__, "inputs": _canonical(inputs or {})},
                      sort_keys=True, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def verdicts_to_json(verdicts):
    """Verdicts as JSON text (every field; floats round-trip exactly)."""
    return json.dumps([dataclasses.asdict(verdict) for verdict in verdicts], indent=1)


def verdicts_from_json(text):
    """The inverse of :func:`verdicts_to_json`."""
    from neurophase.check.verdicts import Verdict

    return [Verdict(**fields) for fields in json.loads(text)]


def _write_json_atomically(data, path):
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(data, stream, indent=1)
            stream.write("\n")
        share_mode(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_manifest(folder, measurements):
    """Write ``folder/manifest.json``: ``measurements`` (label -> entry) and the SHA-256 of every
    other file in ``folder`` (recursively)."""
    folder = Path(folder)
    files = {path.relative_to(folder).as_posix(): file_sha256(path)
             for path in sorted(folder.rglob("*")) if path.is_file() and path.name != MANIFEST}
    _write_json_atomically({"format": _FORMAT, "measurements": measurements, "files": files},
                           folder / MANIFEST)


def read_manifest(folder):
    """The manifest of ``folder`` as a dict, or None when there is none or it cannot be read."""
    path = Path(folder) / MANIFEST
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == _FORMAT else None


def verify_manifest(folder):
    """Files of ``folder`` whose SHA-256 differs from its manifest, or that are missing
    (an empty list: the folder is complete and unchanged)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return [MANIFEST]
    bad = []
    for name, digest in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file() or file_sha256(path) != digest:
            bad.append(name)
    return bad


class ResumeRecord:
    """The resume record ``OUT.partial`` of an experiment run (see the module docstring).

    Parameters
    ----------
    folder : Path
        The record folder (created on the first :meth:`add`).
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        manifest = read_manifest(self.folder) if self.folder.is_dir() else None
        self.entries = dict(manifest["measurements"]) if manifest else {}

    def __len__(self):
        return len(self.entries)

    def exists(self):
        """True when the folder exists (even without a finished measurement)."""
        return self.folder.exists()

    def finished(self, label, expected_hash):
        """True when ``label`` is recorded with ``expected_hash`` and all its files are intact."""
        entry = self.entries.get(label)
        if entry is None or entry.get("settings_hash") != expected_hash:
            return False
        for name, digest in entry.get("files", {}).items():
            path = self.folder / name
            if not path.is_file() or file_sha256(path) != digest:
                return False
        return True

    def load(self, label):
        """``(verdicts, datasets, seconds)`` of a finished measurement."""
        from neurophase.io import load_dataset

        entry = self.entries[label]
        verdicts = verdicts_from_json((self.folder / label / "verdicts.json").read_text())
        datasets = {}
        for name in entry["files"]:
            if name.endswith(".nc"):
                datasets[Path(name).stem] = load_dataset(self.folder / name)
        return verdicts, datasets, float(entry.get("seconds", 0.0))

    def dataset_files(self, label):
        """Dataset name -> file of a finished measurement, in the recorded order."""
        return {Path(name).stem: self.folder / name for name in self.entries[label]["files"]
                if name.endswith(".nc")}

    def add(self, label, function, hash_, verdicts, datasets, seconds):
        """Write one finished measurement into the record (atomically, see module docstring)."""
        from neurophase.io import save_dataset

        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / label
        staging = Path(tempfile.mkdtemp(prefix=f".{label}.", dir=self.folder))
        try:
            files = {}
            for name, dataset in datasets.items():
                path = save_dataset(dataset, staging / f"{name}.nc")
                files[f"{label}/{name}.nc"] = file_sha256(path)
            (staging / "verdicts.json").write_text(verdicts_to_json(verdicts))
            files[f"{label}/verdicts.json"] = file_sha256(staging / "verdicts.json")
            share_mode(staging, directory=True)
            if final.exists():
                shutil.rmtree(final)
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.entries[label] = {"function": function, "settings_hash": hash_,
                               "seconds": round(float(seconds), 3), "files": files}
        self._write()

    def discard(self, label):
        """Forget ``label`` (and delete its files), e.g. when its settings changed."""
        if label in self.entries:
            del self.entries[label]
            self._write()
        shutil.rmtree(self.folder / label, ignore_errors=True)

    def _write(self):
        _write_json_atomically({"format": _FORMAT, "measurements": self.entries, "files": {}},
                               self.folder / MANIFEST)

    def remove(self):
        """Delete the whole record (after a successful run)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def check_output_folder(out, overwrite=False, resume=False, resume_record=True):
    """Refuse an output folder that cannot be written or would silently replace a result.

    ``out`` may be absent or an empty folder. A folder with files needs ``overwrite``; a file
    is never accepted. With ``resume_record`` (experiment runs), the resume record
    ``out.partial`` of an interrupted run needs ``resume`` (continue it) or ``overwrite`` (start
    again). The nearest existing parent must be writable.
    """
    out = Path(out)
    partial = out.with_name(out.name + ".partial")
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file; give a folder (new or empty) for the results.")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        what = "an older result" if (out / MANIFEST).exists() or (out / "verdicts.csv").exists() else "files"
        raise OutputError(
            f"--out {out} already holds {what}; choose a new folder, or add --overwrite to replace it.")
    if resume_record and partial.exists() and not (resume or overwrite):
        count = len(ResumeRecord(partial))
        raise OutputError(
            f"{partial} holds {count} finished measurement(s) of an interrupted run; add --resume to "
            "continue it, or --overwrite to start again.")
    _check_writable(out)


def _check_writable(path):
    parent = Path(path).absolute()
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"cannot create {path}: {parent} is a file; choose another output path.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write into {parent} (permission denied); choose another output path.")
    try:  # os.access says yes to root almost everywhere (sysfs, /proc): create and remove a folder
        os.rmdir(tempfile.mkdtemp(prefix=".neurophase-probe.", dir=parent))
    except OSError as error:
        raise OutputError(f"cannot write into {parent} ({error.strerror or error}); choose another "
                          "output path.") from None


def check_output_file(out, overwrite=False, suffixes=(".nc",)):
    """Refuse an output file path that is a folder, cannot be written, has an unexpected suffix
    or (without ``overwrite``) already exists."""
    out = Path(out)
    if out.is_dir():
        raise OutputError(f"--out {out} is a folder; give a file name such as {out / 'result.nc'}.")
    if suffixes and out.suffix.lower() not in suffixes:
        raise OutputError(f"--out {out} must end in {' or '.join(suffixes)} (a NetCDF file).")
    if out.exists() and not overwrite:
        raise OutputError(f"--out {out} already exists; choose a new name, or add --overwrite to replace it.")
    _check_writable(out)


def record_problem(error):
    """The text of a measurement failure for messages (type and message, one line)."""
    text = " ".join(str(error).split()).rstrip(".")
    return f"{type(error).__name__}: {text}" if not isinstance(error, NeurophaseError) else text
