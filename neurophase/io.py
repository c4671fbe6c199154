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
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import xarray as xr

from neurophase import units
from neurophase.errors import NeurophaseError
from neurophase.schema import validate_dataset

__all__ = ["save_dataset", "load_dataset", "to_quantity", "staged_output"]


def save_dataset(dataset, path):
    """Validate ``dataset`` and write it to ``path`` (NetCDF4) atomically; return the path."""
    validate_dataset(dataset)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".nc.part", dir=path.parent)
    os.close(handle)
    try:
        dataset.to_netcdf(temporary)
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

    If the body raises, the staging folder is deleted and ``directory`` is left exactly as it
    was (or absent), so a failed run leaves nothing half-written. Files already in
    ``directory`` that the run does not rewrite are kept.
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    directory.mkdir(parents=True, exist_ok=True)
    for item in staging.iterdir():
        target = directory / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(item, target)
    shutil.rmtree(staging, ignore_errors=True)
