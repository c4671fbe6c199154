"""The `neurophase fi` subcommand: arguments, output file, errors."""

import numpy as np
import pytest

from neurophase.cli import main
from neurophase.io import load_dataset
from neurophase.micro.commands import input_grid


def test_input_grid_includes_stop_and_rejects_bad_steps():
    from brian2 import pA

    np.testing.assert_allclose(np.asarray(input_grid("0", "20", "0.5", "pA") / pA),
                               np.arange(0, 20.01, 0.5))
    from neurophase.errors import ParameterError

    with pytest.raises(ParameterError, match="STEP > 0"):
        input_grid("0", "1", "0", "pA")


@pytest.mark.brian2
def test_fi_command_writes_the_closed_form_lif_curve(tmp_path, capsys):
    out = tmp_path / "lif.nc"
    status = main(["fi", "leaky_integrate_and_fire", "--input", "150", "450", "100", "pA",
                   "--duration", "500 ms", "--out", str(out)])
    assert status == 0
    dataset = load_dataset(out)
    drive = 100e6 * dataset["input"].values * 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(drive > 0.02, 1 / (2e-3 + 0.02 * np.log(drive / (drive - 0.02))), 0.0)
    # Gerstner et al. 2014, Eq. 1.11; dt-limited error < 0.3%
    np.testing.assert_allclose(dataset["rate"].values[:, 0], expected, rtol=0.01)
    printed = capsys.readouterr().out
    assert "rheobase in (150, 250] pA" in printed
    assert dataset.attrs["protocol"] == "step"


def test_fi_command_reports_a_unit_error_with_status_2(capsys):
    status = main(["fi", "leaky_integrate_and_fire", "--input", "1", "2", "1", "mV"])
    assert status == 2
    assert "'inputs'" in capsys.readouterr().err


@pytest.mark.brian2
def test_fi_command_sweeps_a_poisson_input_rate(tmp_path, capsys):
    out = tmp_path / "poisson.nc"
    status = main(["fi", "leaky_integrate_and_fire", "--input", "0", "12000", "6000", "Hz",
                   "--poisson-exc", "input", "0.5 nS", "--poisson-inh", "1000 Hz", "0.5 nS",
                   "--duration", "300 ms", "--spike-record", "times", "--out", str(out)])
    assert status == 0
    dataset = load_dataset(out)
    assert dataset["input"].attrs["units"] == "Hz"
    assert "inh 1000 Hz x 0.5 nS" in dataset.attrs["synaptic_input"]
    assert dataset.attrs["spike_record"].startswith("spike times")
    rates = dataset["rate"].values[:, 0]
    assert rates[0] == 0 and rates[1] > 0 and rates[2] > rates[1]
    assert "rheobase in (0, 6000] Hz" in capsys.readouterr().out
