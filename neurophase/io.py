"""NetCDF input/output with units and provenance, and safe writing of output folders.

Functions
---------
save_dataset
    Write a schema Dataset to NetCDF atomically (a temporary file renamed into place).
load_dataset
    Read it back (units and provenance intact).
to_quantity
    A Dataset variable or coordinate as a Brian2 Quantity, from its ``attrs["units"]``.
staged_output
    A context manager giving a staging folder that is moved into place only when the work
    inside succeeds, so that a failed run never leaves a half-written output folder.
share_mode
    Give a file written through :mod:`tempfile` (mode 0600) the mode of any other output file
    (0666 minus the umask, usually 0644).

Every file neurophase writes is first written under a temporary name and renamed into place, so
an interrupted or failed write never leaves a file that looks complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import xarray as xr

from neurophase import units
from neurophase.errors import NeurophaseError, OutputError
from neurophase.schema import validate_dataset

__all__ = ["save_dataset", "load_dataset", "to_quantity", "staged_output", "share_mode"]


def share_mode(path, directory=False):
    """Set ``path`` to the mode a plain ``open``/``mkdir`` would give it (0666/0777 minus the
    umask): :mod:`tempfile` creates files 0600 and folders 0700, and every output should share
    one mode."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if directory else 0o666) & ~mask)


def save_dataset(dataset, path):
    """Validate ``dataset`` and write it to ``path`` (NetCDF4) atomically; return the path."""
    validate_dataset(dataset)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".nc.part", dir=path.parent)
    os.close(handle)
    try:
        dataset.to_netcdf(temporary)
        share_mode(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def load_dataset(path):
    """Read a NetCDF file written by :func:`save_dataset` (fully loaded, file closed)."""
    path = Path(path)
    if not path.exists():
        raise NeurophaseError(f"No such dataset file: {path}. Check the path.")
    with xr.open_dataset(path) as opened:
        return opened.load()


def to_quantity(variable):
    """A DataArray with ``attrs["units"]`` as a Brian2 Quantity (values in SI internally)."""
    unit = variable.attrs.get("units")
    if unit is None:
        raise NeurophaseError(
            f"{variable.name!r} has no attrs['units']; set it (e.g. '1' for dimensionless) first."
        )
    return units.to_quantity(variable.values, unit)


@contextlib.contextmanager
def staged_output(directory):
    """Yield a staging folder; on success its files are moved into ``directory``.

    If the body raises (or is interrupted), the staging folder is deleted and ``directory`` is
    left exactly as it was (or absent), so a failed run leaves nothing half-written. A new
    ``directory`` appears at once (the staging folder is renamed); into an existing one the
    files are moved one by one, replacing files of the same name and keeping the others.

    Raises
    ------
    OutputError
        ``directory`` exists and is not a folder (checked before anything is done), or its
        parent cannot be created or written.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"{directory} is a file, not a folder; give a folder for the results.")
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    except OSError as error:
        raise OutputError(f"cannot write into {directory.parent} ({error.strerror or error}); choose another "
                          "output path.") from None
    try:
        yield staging
        share_mode(staging, directory=True)
        if not directory.exists():
            os.replace(staging, directory)
            return
        for item in staging.iterdir():
            target = directory / item.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(item, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
