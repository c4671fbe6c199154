"""Assertions for downstream tests (in the spirit of :mod:`xarray.testing`).

Functions
---------
assert_follows_schema
    A Dataset has units on every variable and the required variables.
assert_quantity_allclose
    Two values with units agree within a relative / absolute tolerance, dimensions checked.
assert_round_trips
    A Dataset survives NetCDF writing and reading with values, units and provenance intact.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from neurophase.io import load_dataset, save_dataset
from neurophase.schema import validate_dataset
from neurophase.units import to_magnitude

__all__ = ["assert_follows_schema", "assert_quantity_allclose", "assert_round_trips"]


def assert_follows_schema(dataset, required=()):
    """Raise AssertionError (with every problem listed) unless ``dataset`` follows the schema."""
    try:
        validate_dataset(dataset, required=required)
    except Exception as error:
        raise AssertionError(str(error)) from error


def assert_quantity_allclose(actual, desired, unit, rtol=1e-7, atol=0.0):
    """Compare two quantities in ``unit`` (a unit string); dimensions must match ``unit``.

    >>> from brian2 import mV, volt
    >>> assert_quantity_allclose(0.0651 * volt, 65.1 * mV, "mV")
    """
    np.testing.assert_allclose(to_magnitude(actual, unit), to_magnitude(desired, unit), rtol=rtol, atol=atol)


def assert_round_trips(dataset):
    """Write ``dataset`` to NetCDF, read it back, and check values, units and attrs."""
    with tempfile.TemporaryDirectory() as directory:
        path = save_dataset(dataset, Path(directory) / "round_trip.nc")
        loaded = load_dataset(path)
    xr.testing.assert_allclose(loaded, dataset)
    for name, variable in dataset.variables.items():
        assert loaded[name].attrs.get("units") == variable.attrs.get("units"), name
    for key, value in dataset.attrs.items():
        assert key in loaded.attrs, f"attribute {key!r} lost in the round trip"
    return loaded
