"""The Dataset schema and NetCDF round trip: Quantity -> Dataset -> NetCDF -> Quantity."""

import numpy as np
import pytest
import xarray as xr
from brian2 import Hz, ms, pA

from neurophase.errors import NeurophaseError
from neurophase.io import load_dataset, save_dataset, staged_output, to_quantity
from neurophase.schema import provenance, quantity_coordinate, quantity_variable, validate_dataset


def _example():
    currents = np.array([0.0, 50.0, 100.0]) * pA
    rates = np.array([[0.0, 0.0], [4.0, 6.0], [12.0, 10.0]]) * Hz
    return xr.Dataset(
        {
            "rate": quantity_variable(rates, "Hz", ("input", "trial")),
            "first_spike_latency": quantity_variable(np.full((3, 2), 12.5) * ms, "ms", ("input", "trial")),
        },
        coords={"input": quantity_coordinate("input", currents, "pA"), "trial": [0, 1]},
        attrs=provenance(model_name="test", seed=3, dt=0.025),
    )


def test_round_trip_through_netcdf_keeps_units_and_values(tmp_path):
    dataset = _example()
    path = save_dataset(dataset, tmp_path / "example.nc")
    loaded = load_dataset(path)
    rates = to_quantity(loaded["rate"])
    assert float(rates[1, 1] / Hz) == 6.0
    assert float(to_quantity(loaded["input"])[2] / pA) == pytest.approx(100.0)
    assert loaded.attrs["model_name"] == "test" and loaded.attrs["seed"] == 3
    assert "neurophase_version" in loaded.attrs and "created" in loaded.attrs


def test_missing_or_wrong_units_are_reported():
    dataset = _example()
    dataset["rate"].attrs["units"] = "ms"
    dataset["p_fire"] = (("input",), np.zeros(3))
    with pytest.raises(NeurophaseError, match=r"'rate' is in 'ms'.*'p_fire' has no attrs\['units'\]"):
        validate_dataset(dataset)


def test_staged_output_leaves_nothing_when_the_body_fails(tmp_path):
    out = tmp_path / "results"
    with pytest.raises(RuntimeError):
        with staged_output(out) as stage:
            (stage / "half.nc").write_text("partial")
            raise RuntimeError("simulation failed")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_staged_output_moves_files_into_place(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "keep.txt").write_text("older")
    with staged_output(out) as stage:
        (stage / "verdicts.csv").write_text("id\n")
    assert sorted(path.name for path in out.iterdir()) == ["keep.txt", "verdicts.csv"]
