"""Q1-Q5 helpers on synthetic data with known answers, and the ``neurophase population`` command."""

import math

import numpy as np
import pytest

from neurophase.check.population import batch_means, binned_variance, correlation_time
from neurophase.cli import main


def test_correlation_time_of_an_ar1_series_with_white_noise():
    """x_k = a x_{k-1} + e_k plus independent white noise: rho_k = c a^k for k >= 1, tau = -dt/ln a.

    200000 bins: the relative standard error of the fitted tau is about 1%; tolerance 5%.
    """
    rng = np.random.default_rng(1)
    dt, tau = 0.005, 0.05
    a = math.exp(-dt / tau)
    noise = rng.normal(size=200000)
    x = np.empty_like(noise)
    x[0] = 0.0
    for k in range(1, x.size):
        x[k] = a * x[k - 1] + noise[k]
    observed = x + 2.0 * rng.normal(size=x.size)      # the shot noise of a finite population
    assert correlation_time(observed, dt) == pytest.approx(tau, rel=0.05)


def test_batch_means_and_binned_variance():
    rate = np.arange(40.0).reshape(2, 20)
    stationary = np.arange(20) >= 4
    np.testing.assert_allclose(batch_means(rate, stationary, 4)[0], [5.5, 9.5, 13.5, 17.5])
    # averaging white noise over 5 bins divides its variance by 5
    rng = np.random.default_rng(0)
    series = rng.normal(size=(1, 100000))
    assert binned_variance(series, np.ones(100000, bool), 5)[0] == pytest.approx(0.2, rel=0.03)


@pytest.mark.parametrize("arguments, message", [
    (["--indegree", "60", "--size", "50"], "indegree"),
    (["--noise", "-1 pA*second**0.5"], "noise"),
    (["--coupling", "0.1", "0.2", "0.1", "pA"], "coupling"),
    (["--drive", "150", "100", "10", "pA"], "STOP"),
])
def test_command_refuses_bad_input_and_writes_nothing(arguments, message, tmp_path, capsys):
    base = {"--coupling": ["0.1", "0.2", "0.1", "mV"], "--drive": ["100", "150", "10", "pA"],
            "--noise": ["5.657 pA*second**0.5"], "--size": ["50"], "--indegree": ["10"]}
    index = 0
    while index < len(arguments):
        key = arguments[index]
        count = 4 if key in ("--coupling", "--drive") else 1
        base[key] = arguments[index + 1:index + 1 + count]
        index += 1 + count
    argv = ["population", "leaky_integrate_and_fire", "--out", str(tmp_path / "out")]
    for key, values in base.items():
        argv += [key, *values]
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 2
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.brian2
@pytest.mark.slow
def test_command_writes_rates_predictions_figures_and_verdicts(tmp_path, capsys):
    out = tmp_path / "lif"
    status = main(["population", "leaky_integrate_and_fire", "--coupling", "0.05", "0.1", "0.05", "mV",
                   "--drive", "150", "170", "20", "pA", "--noise", "5.657 pA*second**0.5",
                   "--size", "200", "--indegree", "40", "--duration", "1 s", "--transient", "0.3 s",
                   "--dt", "0.1 ms", "--out", str(out), "--quiet"])
    assert status == 0
    names = {path.name for path in out.iterdir()}
    assert {"verdicts.csv", "report.md", "population_stationary.nc", "population_theory.nc",
            "population_rate_vs_drive.png", "population_phase_diagram.png"} <= names
    from neurophase.check.verdicts import read_verdicts_csv
    from neurophase.io import load_dataset

    rows = read_verdicts_csv(out / "verdicts.csv")
    assert len(rows) == 2 and all(row["id"].startswith("Q1-") for row in rows)
    stationary = load_dataset(out / "population_stationary.nc")
    measured = stationary["rate"].values
    predicted = stationary["predicted_rate"].values
    # 200 neurones over 0.7 s: standard error about 4%; tolerance 15% (includes finite K = 40)
    np.testing.assert_allclose(measured, predicted, rtol=0.15)
    # the diagnosis: far below the cusp (K = 40) the transfer at the measured rate is the
    # measured rate within the same tolerance, and the stable fixed points have a gain in [1, 3)
    np.testing.assert_allclose(stationary["open_loop_rate"].values, measured, rtol=0.15)
    gain = stationary["loop_gain"].values
    assert np.all((gain >= 1.0) & (gain < 3.0)), gain
    assert stationary["loop_gain"].attrs["units"] == "1"
    assert "derived cusp" in capsys.readouterr().out
