"""The one Dataset schema shared by simulations and recordings.

Every layer of neurophase passes :class:`xarray.Dataset` objects of this shape, so that a
firing-rate curve from a Brian2 simulation and one from a current-clamp recording go through
the same mapping, fitting and checking code.

Dimensions
    ``input``   the swept drive (current, field h, ...), a coordinate with ``attrs["units"]``;
    ``trial``   repeated runs (seeds or recorded sweeps at the same level);
    ``time``    for traces (order parameter, voltage), with ``attrs["units"]``;
    ``param_*`` any further swept parameter (``param_T``, ``param_sigma``, ...).

Variables (all optional; each carries ``attrs["units"]`` in Brian2 syntax, see
:mod:`neurophase.units`)
    ``spike_count``, ``rate``, ``cv_isi``, ``fano_factor``, ``p_fire``,
    ``first_spike_latency``, ``order_parameter``, ``order_parameter_mean``,
    ``order_parameter_var``, ...

Provenance (``Dataset.attrs``)
    ``neurophase_version``, ``created``, ``model_name``, ``model_hash``, ``protocol``,
    ``seed``, ``brian2_device``, ``brian2_target``, ``dt``, ``integration_method``,
    ``source_file`` (recordings). Attribute values are strings or numbers so that NetCDF
    stores them as they are.
"""

from __future__ import annotations

import datetime
import hashlib
import platform

import numpy as np
import xarray as xr

from neurophase.errors import NeurophaseError
from neurophase.units import parse_unit, to_magnitude

__all__ = [
    "KNOWN_VARIABLES",
    "provenance",
    "quantity_coordinate",
    "quantity_variable",
    "validate_dataset",
    "content_hash",
]

#: Variables with a fixed meaning, and the dimension their unit must have.
KNOWN_VARIABLES = {
    "spike_count": "1",
    "rate": "Hz",
    "cv_isi": "1",
    "fano_factor": "1",
    "p_fire": "1",
    "first_spike_latency": "ms",
    "order_parameter": "1",
    "order_parameter_mean": "1",
    "order_parameter_var": "1",
}


def content_hash(text):
    """SHA-256 (first 16 hex digits) of a text or bytes: identifies a model or protocol version."""
    if isinstance(text, str):
        text = text.encode()
    return hashlib.sha256(text).hexdigest()[:16]


def provenance(**fields):
    """Provenance attributes for a new Dataset: version, time, platform, plus ``fields``.

    ``None`` values are dropped; every other value is stored as a string or a number, as
    NetCDF requires.
    """
    from neurophase import __version__

    attrs = {
        "neurophase_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
    }
    try:
        import brian2

        attrs["brian2_version"] = brian2.__version__
    except ImportError:  # pragma: no cover - brian2 is a hard dependency
        pass
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, (bool, np.bool_)):
            value = int(value)
        if not isinstance(value, (str, int, float, np.integer, np.floating)):
            value = str(value)
        attrs[key] = value
    return attrs


def quantity_coordinate(name, values, unit, long_name=None):
    """A coordinate (dims ``(name,)``) holding ``values`` expressed in ``unit``.

    ``values`` may be a Brian2 Quantity (checked against ``unit``) or plain numbers already in
    ``unit``.
    """
    magnitude = to_magnitude(values, unit, name=name) if _has_units(values) else np.asarray(values, float)
    attrs = {"units": unit}
    if long_name:
        attrs["long_name"] = long_name
    return xr.DataArray(magnitude, dims=(name,), attrs=attrs, name=name)


def quantity_variable(values, unit, dims, long_name=None, **attrs):
    """A data variable with ``attrs["units"]``; Quantity input is converted to ``unit``."""
    magnitude = to_magnitude(values, unit) if _has_units(values) else np.asarray(values, float)
    all_attrs = {"units": unit, **attrs}
    if long_name:
        all_attrs["long_name"] = long_name
    return xr.DataArray(magnitude, dims=dims, attrs=all_attrs)


def _has_units(values):
    from brian2.units.fundamentalunits import Quantity

    return isinstance(values, Quantity)


def validate_dataset(dataset, required=()):
    """Check a Dataset against the schema; raise :class:`NeurophaseError` listing every problem.

    Checks that every data variable and every non-index coordinate with a physical meaning
    has a parsable ``attrs["units"]``, that known variables have the right dimension, and that
    ``required`` variables are present.
    """
    problems = []
    for name in required:
        if name not in dataset:
            problems.append(f"missing variable {name!r}")
    for name, variable in list(dataset.data_vars.items()) + list(dataset.coords.items()):
        if variable.dtype.kind not in "fiub":
            continue
        if name in dataset.coords and variable.dtype.kind in "iub":
            continue  # integer labels (trial, seed, sweep numbers) are counts, not quantities
        unit = variable.attrs.get("units")
        if unit is None:
            problems.append(f"{name!r} has no attrs['units'] (use '1' for dimensionless)")
            continue
        try:
            parsed = parse_unit(unit)
        except NeurophaseError as error:
            problems.append(f"{name!r} has an unparsable unit {unit!r}: {error}")
            continue
        if name in KNOWN_VARIABLES:
            try:
                to_magnitude(parsed, KNOWN_VARIABLES[name])
            except NeurophaseError:
                problems.append(
                    f"{name!r} is in {unit!r} but must have the dimension of {KNOWN_VARIABLES[name]!r}"
                )
    if problems:
        raise NeurophaseError("Dataset does not follow the neurophase schema: " + "; ".join(problems))
    return dataset
