"""Model parameters as grid dimensions of one Brian2 network.

A model parameter is normally a constant of the Brian2 namespace. Given as a one-dimensional
array (``parameters={"N_Na": [100, 1000, 10000]}``), it becomes a per-neurone constant instead
(a ``name : unit (constant)`` line of the equations) and a dimension ``param_<name>`` of the
output, so that a sweep over, say, the channel number, the input and the seed is still ONE
network (one build, one compile, one run). Several arrays span their outer product, in the
order given; one-dimensional :class:`xarray.DataArray` values along the same dimension are swept
together instead (linked, e.g. the Na and K channel numbers of one membrane area).

Classes and functions
---------------------
ParameterGrid
    Scalar overrides and swept parameters of one run, with the neurone layout.
parameter_grid
    ``parameters`` dict (values with units, strings, or arrays of either) -> ParameterGrid.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from neurophase.errors import ModelFileError, ParameterError, UnitMismatchError
from neurophase.units import parse_quantity, parse_unit, to_magnitude

if TYPE_CHECKING:
    from brian2 import NeuronGroup
    from brian2.units.fundamentalunits import Dimension

    from neurophase.micro.modelfile import Model

__all__ = ["ParameterGrid", "parameter_grid"]


@dataclasses.dataclass(frozen=True)
class ParameterGrid:
    """The parameters of one run: scalar overrides and swept (grid) parameters.

    Attributes
    ----------
    overrides : dict
        Name -> Quantity (or float) replacing the model's value for every neurone.
    names : tuple of str
        Swept parameters.
    values : tuple of ndarray
        Their values, as numbers in ``units``.
    units : tuple of str
        Unit strings (Brian2 syntax; ``"1"`` for dimensionless).
    dimensions : tuple of str
        The output dimension of each swept parameter: ``param_<name>``, or a shared
        ``param_<dim>`` for parameters given as DataArrays along the same ``dim`` (linked).
    labels : dict
        Dimension -> (values, unit) of its coordinate when it is not a parameter's own.
    """

    overrides: dict
    names: tuple = ()
    values: tuple = ()
    units: tuple = ()
    dimensions: tuple = ()
    labels: dict = dataclasses.field(default_factory=dict)

    @property
    def dims(self) -> tuple[str, ...]:
        """Output dimension names, in order of first appearance."""
        return tuple(dict.fromkeys(self.dimensions))

    @property
    def shape(self) -> tuple[int, ...]:
        """Lengths of the swept dimensions (``()`` when nothing is swept)."""
        return tuple(len(self.values[self.dimensions.index(dim)]) for dim in self.dims)

    @property
    def size(self) -> int:
        """Number of parameter combinations (1 when nothing is swept)."""
        return int(np.prod(self.shape, dtype=int)) if self.names else 1

    def combination_values(self, name: str) -> np.ndarray:
        """The value of swept parameter ``name`` at every combination (row-major order).

        Parameters
        ----------
        name : str
            A swept parameter (one of :attr:`names`).

        Returns
        -------
        numpy.ndarray, unit of the parameter (``units``)
            ``size`` values, combination by combination.
        """
        index = self.names.index(name)
        axis = self.dims.index(self.dimensions[index])
        positions = np.indices(self.shape).reshape(len(self.shape), -1)[axis]
        return np.asarray(self.values[index], dtype=float)[positions]

    def equation_lines(self, dimension_text: Callable[[Dimension], str]) -> list[str]:
        """``name : unit (constant)`` lines; ``dimension_text(dim)`` spells a Brian2 unit.

        Parameters
        ----------
        dimension_text : callable
            Brian2 dimension -> the unit text of an equation line (e.g. ``"amp/metre**2"``).

        Returns
        -------
        list of str
            One Brian2 equation line per swept parameter.
        """
        return [f"{name} : {dimension_text(parse_unit(unit).dim) if unit != '1' else '1'} (constant)"
                for name, unit in zip(self.names, self.units)]

    def assign(self, group: NeuronGroup, combination_of_neuron: np.ndarray) -> None:
        """Set every swept parameter of ``group`` from each neurone's combination index.

        Parameters
        ----------
        group : brian2.NeuronGroup
            A group whose equations hold :meth:`equation_lines`.
        combination_of_neuron : numpy.ndarray of int
            The combination index of every neurone of ``group``.
        """
        for name, unit in zip(self.names, self.units):
            values = self.combination_values(name)[combination_of_neuron]
            setattr(group, name, values * parse_unit(unit) if unit != "1" else values)

    def coordinates(self) -> dict[str, Any]:
        """Coordinates of the swept dimensions (and of linked parameters), with units.

        Returns
        -------
        dict
            Coordinate name -> :func:`neurophase.schema.quantity_coordinate` (or a
            ``(dim, values, attrs)`` tuple for a linked parameter), ``attrs["units"]`` set.
        """
        from neurophase.schema import quantity_coordinate

        coordinates = {}
        for name, values, unit, dim in zip(self.names, self.values, self.units, self.dimensions):
            label = f"model parameter {name}"
            if dim == f"param_{name}":
                coordinates[dim] = quantity_coordinate(dim, values, unit, long_name=label)
            else:
                coordinate = quantity_coordinate(dim, values, unit, long_name=label)
                coordinates[f"param_{name}"] = (dim, coordinate.values, coordinate.attrs)
        for dim, (values, unit) in self.labels.items():
            coordinates[dim] = quantity_coordinate(dim, values, unit, long_name=f"swept dimension {dim}")
        return coordinates

    def label(self, combination: int) -> str:
        """``"N_Na=100"``-style text of combination number ``combination``.

        Parameters
        ----------
        combination : int
            Combination index, in ``range(size)``.

        Returns
        -------
        str
            ``name=value unit`` of every swept parameter, comma-separated.
        """
        parts = []
        for name, unit in zip(self.names, self.units):
            value = self.combination_values(name)[combination]
            parts.append(f"{name}={value:g}" + ("" if unit == "1" else f" {unit}"))
        return ", ".join(parts)

    def describe(self) -> str | None:
        """Provenance text of the swept parameters (None when nothing is swept).

        Returns
        -------
        str or None
            ``name in [values] unit along dim`` of every swept parameter.
        """
        if not self.names:
            return None
        return "; ".join(f"{name} in [{', '.join(f'{value:g}' for value in values)}]"
                         + ("" if unit == "1" else f" {unit}") + f" along {dim}"
                         for name, values, unit, dim in zip(self.names, self.values, self.units,
                                                            self.dimensions))


def _model_unit_text(model, name):
    """The unit string the model file writes for parameter ``name`` ("1" if dimensionless)."""
    from brian2.units.fundamentalunits import get_dimensions

    value = model.parameters[name]
    if get_dimensions(value).is_dimensionless:
        return "1"
    try:
        raw = tomllib.loads(model.text).get("parameters", {}).get(name)
    except tomllib.TOMLDecodeError:  # pragma: no cover - the model loaded, so its text parses
        raw = None
    if isinstance(raw, str):
        match = re.fullmatch(r"\s*[-+0-9.eE]+\s*\*?\s*(.+?)\s*", raw)
        if match:
            try:
                unit = parse_unit(match.group(1))
                if get_dimensions(unit) is get_dimensions(value):
                    return match.group(1)
            except Exception:  # noqa: BLE001 - fall back to SI base units below
                pass
    names = ("metre", "kilogram", "second", "amp", "kelvin", "mole", "candela")
    return " * ".join(f"{unit}**{power:g}" for unit, power in zip(names, get_dimensions(value)._dims)
                      if power)


def _is_array(value):
    if isinstance(value, str):
        return False
    return np.ndim(np.asarray(value, dtype=object) if isinstance(value, (list, tuple)) else value) >= 1


def _swept_magnitudes(model, name, value, unit):
    """Numbers in ``unit`` of one swept parameter (checked dimension)."""
    from brian2.units.fundamentalunits import Quantity

    items = list(value) if isinstance(value, (list, tuple)) else None
    if items is not None and any(isinstance(item, str) for item in items):
        return np.array([float(to_magnitude(parse_quantity(item, name=name), unit, name=name))
                         for item in items])
    if items is not None and items and all(isinstance(item, Quantity) for item in items):
        return np.array([float(to_magnitude(item, unit, name=name)) for item in items])
    if unit == "1":
        try:
            return np.asarray(to_magnitude(np.asarray(value) if items is not None else value, "1",
                                           name=name), dtype=float)
        except UnitMismatchError as error:
            raise UnitMismatchError(f"Parameter {name!r} of model {model.name!r} is dimensionless; "
                                    f"give plain numbers ({error})") from None
    if not isinstance(value, Quantity):
        raise UnitMismatchError(
            f"Parameter {name!r} of model {model.name!r} has the unit {unit}; give the swept values "
            f"with it, e.g. `np.array([...]) * {unit}` (brian2 units) or a list of strings such as "
            f"['1 {unit}', '2 {unit}'].")
    return np.asarray(to_magnitude(value, unit, name=name), dtype=float)


def parameter_grid(model: Model, parameters: dict[str, Any] | None) -> ParameterGrid:
    """Split ``parameters`` into scalar overrides and swept arrays; check names and units.

    Parameters
    ----------
    model : Model
        The model whose parameters are set.
    parameters : dict or None
        Name -> value. A scalar (Quantity, number or string such as ``"120 mS/cm**2"``)
        overrides the model's value; a one-dimensional array (a Quantity array, a list of
        numbers for a dimensionless parameter, or a list of strings with units) sweeps it
        along its own dimension ``param_<name>``. One-dimensional :class:`xarray.DataArray`
        values (numbers in ``attrs["units"]``, the schema's convention) along the same
        dimension ``dim`` are swept TOGETHER (linked, not crossed) along ``param_<dim>``,
        whose coordinate is the DataArray's own coordinate if it has one, else the first
        parameter's values; e.g. ``{"N_Na": xr.DataArray(n, dims="N"), "N_K":
        xr.DataArray(0.3 * n, dims="N")}`` sweeps both channel numbers of the Fox model at
        the HH density ratio.

    Returns
    -------
    ParameterGrid
        The overrides, the swept parameters (numbers in their model-file units) and their
        output dimensions.

    Raises
    ------
    ModelFileError
        A name that is not a parameter of the model.
    UnitMismatchError
        A value with the wrong dimension.
    ParameterError
        An empty, multi-dimensional or non-finite array, a repeated value, or linked
        parameters of different lengths.

    Examples
    --------
    >>> from neurophase.micro.modelfile import load_model
    >>> grid = parameter_grid(load_model("hodgkin_huxley_stochastic"),
    ...                       {"N_Na": [60, 600], "N_K": 180})
    >>> grid.dims, grid.size, float(grid.overrides["N_K"])
    (('param_N_Na',), 2, 180.0)
    >>> import xarray as xr
    >>> linked = parameter_grid(load_model("hodgkin_huxley_stochastic"),
    ...                         {"N_Na": xr.DataArray([60, 600], dims="N"),
    ...                          "N_K": xr.DataArray([18, 180], dims="N")})
    >>> linked.dims, linked.size, linked.combination_values("N_K").tolist()
    (('param_N',), 2, [18.0, 180.0])
    """
    import xarray as xr

    overrides, names, values, units, dimensions, labels = {}, [], [], [], [], {}
    for name, value in (parameters or {}).items():
        if name not in model.parameters:
            raise ModelFileError(
                f"Model {model.name!r} has no parameter {name!r}; its parameters are "
                f"{', '.join(sorted(model.parameters))}.")
        unit = _model_unit_text(model, name)
        if isinstance(value, xr.DataArray):
            if value.ndim != 1:
                raise ParameterError(f"The DataArray sweeping {name!r} must be one-dimensional; it has "
                                     f"dims {value.dims}.")
            dim = str(value.dims[0])
            dimension = dim if dim.startswith("param_") else f"param_{dim}"
            given = value.attrs.get("units", "1")
            magnitudes = np.asarray(to_magnitude(np.asarray(value.values, float) * parse_unit(given)
                                                 if given not in ("1", "") else np.asarray(value.values, float),
                                                 unit, name=name), dtype=float)
            if dim in value.coords and dimension not in labels:
                coordinate = value.coords[dim]
                labels[dimension] = (np.asarray(coordinate.values, float), coordinate.attrs.get("units", "1"))
        elif _is_array(value):
            magnitudes = _swept_magnitudes(model, name, value, unit)
            dimension = f"param_{name}"
        else:
            overrides[name] = value
            continue
        magnitudes = np.asarray(magnitudes, dtype=float)
        if magnitudes.ndim != 1 or magnitudes.size == 0 or not np.all(np.isfinite(magnitudes)):
            raise ParameterError(
                f"The swept values of parameter {name!r} must be a non-empty one-dimensional "
                "array of finite numbers.")
        if np.unique(magnitudes).size != magnitudes.size:
            raise ParameterError(
                f"The swept values of parameter {name!r} repeat a value; give each value once "
                "(use more seeds for more trials).")
        if dimension in dimensions:
            length = len(values[dimensions.index(dimension)])
            if magnitudes.size != length:
                raise ParameterError(
                    f"Parameters swept together along {dimension!r} need equal lengths; {name!r} has "
                    f"{magnitudes.size} values, the others {length}.")
        names.append(name)
        values.append(magnitudes)
        units.append(unit)
        dimensions.append(dimension)
    for dimension in list(labels):
        owners = [name for name, dim in zip(names, dimensions) if dim == dimension]
        if len(owners) == 1 and dimension == f"param_{owners[0]}":
            labels.pop(dimension)  # the parameter's own values label its dimension
    for dimension in dict.fromkeys(dimensions):
        owners = [index for index, dim in enumerate(dimensions) if dim == dimension]
        if dimension not in labels and not any(dimension == f"param_{names[index]}" for index in owners):
            labels[dimension] = (values[owners[0]], units[owners[0]])
    # scalar overrides are checked (dimension, name) by Model.namespace
    model.namespace(**overrides)
    return ParameterGrid(overrides, tuple(names), tuple(values), tuple(units), tuple(dimensions), labels)
