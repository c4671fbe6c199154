"""Bad input on the command line: one `error:` line, exit status 2, nothing written, nothing simulated.

One named test per case of issue 8, then a hypothesis fuzz test that drives `neurophase.cli.main`
in this process with random bad arguments of every subcommand (at least 500 cases).
"""

import socket
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurophase.cli import build_parser, main
from neurophase.testing import assert_cli_refuses

FI = ["fi", "leaky_integrate_and_fire", "--input", "0", "100", "50", "pA", "--duration", "10 ms"]


@pytest.fixture(autouse=True)
def no_simulation(monkeypatch):
    """Any Brian2 run fails the test: bad input must be refused before anything is simulated."""
    import brian2

    def refuse(*args, **kwargs):
        raise AssertionError("a simulation was started although the input is bad")

    monkeypatch.setattr(brian2.Network, "run", refuse)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A working folder with the files the bad inputs point at (created once, never changed)."""
    base = tmp_path_factory.mktemp("cli")
    (base / "existing_dir").mkdir()
    (base / "existing_dir" / "keep.txt").write_text("keep")
    (base / "existing.nc").write_bytes(b"older result")
    (base / "existing_file.txt").write_text("a file")
    (base / "wrong_units.toml").write_text(
        Path(__file__).resolve().parents[1].joinpath("models", "leaky_integrate_and_fire.toml").read_text()
        .replace("dv/dt = (E_L - v + R_m * I_input) / tau_m", "dv/dt = (E_L - v + I_input) / tau_m"))
    (base / "temperature_mV.toml").write_text(
        '[experiment]\nname = "t"\ntitle = "T in mV"\n[[measurement]]\nfunction = "hysteresis"\n'
        'temperature = "1 mV"\n')
    (base / "broken.toml").write_text("[experiment\nname = ")
    return base


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ------------------------------------------------------------------------- the cases of issue 8
def test_fi_input_nan(folder):
    assert_cli_refuses(["fi", "leaky_integrate_and_fire", "--input", "nan", "500", "10", "pA"], folder,
                       r"--input nan 500 10: START, STOP and STEP must be finite")


def test_fi_input_inf(folder):
    assert_cli_refuses(["fi", "leaky_integrate_and_fire", "--input", "0", "inf", "10", "pA"], folder,
                       r"must be finite numbers \(not nan or inf\)")


def test_fi_dt_zero(folder):
    assert_cli_refuses(FI + ["--dt", "0 ms"], folder, r"--dt '0 ms' must be a positive, finite time")


def test_fi_model_file_with_a_dimensionally_wrong_equation(folder):
    line = assert_cli_refuses(["fi", folder / "wrong_units.toml", "--input", "0", "1", "1", "pA"], folder)
    # reworded with the file and the line of the equation, not 62 lines of Brian2 traceback
    assert "wrong_units.toml, line 18 (equations)" in line
    assert "('E_L - v' has unit V; 'I_input' has unit A)" in line


def test_fi_out_existing_directory_is_refused_before_simulating(folder):
    assert_cli_refuses(FI + ["--out", folder / "existing_dir"], folder, r"is a folder; give a file name")


def test_fi_out_existing_file_needs_overwrite(folder):
    assert_cli_refuses(FI + ["--out", folder / "existing.nc"], folder,
                       r"already exists; choose a new name, or add --overwrite")


def test_unreachable_scheduler(folder):
    address = f"tcp://127.0.0.1:{_free_port()}"
    for argv in (FI + ["--scheduler", address],
                 ["run", "quickstart", "--out", folder / "new_out", "--scheduler", address]):
        assert_cli_refuses(argv, folder, rf"cannot reach the Dask scheduler at {address} \(.*refused\)")


def test_temperature_in_millivolts_is_an_error_not_a_thousandth(folder):
    assert_cli_refuses(["run", folder / "temperature_mV.toml", "--out", folder / "new_out"], folder,
                       r"setting temperature = '1 mV' has dimension V, but hysteresis takes a plain number")


def test_run_out_is_an_existing_file(folder):
    assert_cli_refuses(["run", "quickstart", "--out", folder / "existing_file.txt"], folder,
                       r"is a file; give a folder")


def test_usage_errors_are_one_line_too(folder):
    assert_cli_refuses(["fi", "leaky_integrate_and_fire"], folder, r"the following arguments are required: --input")
    assert_cli_refuses(["frobnicate"], folder, r"invalid choice: 'frobnicate'")
    assert_cli_refuses([], folder, r"required: command")


def test_help_and_version_are_not_errors(capsys):
    assert main(["--version"]) == 0 and "neurophase" in capsys.readouterr().out
    assert main(["fi", "--help"]) == 0 and "--scheduler" in capsys.readouterr().out


def test_a_subcommand_that_cannot_be_imported_fails_loudly(monkeypatch):
    from neurophase import cli

    monkeypatch.setitem(cli._PLUGINS, "broken", ("neurophase.no_such_module", "add", "run"))
    with pytest.raises(ModuleNotFoundError, match="neurophase.no_such_module"):
        build_parser()


# ------------------------------------------------------------------------------------ fuzzing
_BAD_NUMBERS = ["nan", "inf", "-inf", "abc", "", "1e999", "0x", "--"]
_BAD_TIMES = ["0 ms", "-1 ms", "nan", "inf*ms", "1 mV", "abc", "", "1 parsec", "-ms", "2 ms ms", "1e400 ms"]
_BAD_UNITS = ["mV", "parsec", "", "1/0", "pA pA", "Hz*", "kelvin", "second"]
_name = st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=12)


@st.composite
def fi_arguments(draw, base):
    argv = list(FI)
    mutations = draw(st.lists(st.sampled_from([
        "number", "order", "unit", "dt", "duration", "model", "seeds", "seed", "protocol", "out_dir",
        "out_exists", "out_suffix", "noise", "noise_tau", "scheduler", "chunk", "option", "poisson",
        "workers"]), min_size=1, max_size=3, unique=True))
    for mutation in mutations:
        if mutation == "number":
            argv[3 + draw(st.integers(0, 2))] = draw(st.sampled_from(_BAD_NUMBERS))
        elif mutation == "order":
            start = draw(st.floats(-1e3, 1e3))
            argv[3:6] = [str(start), str(start - draw(st.floats(1e-3, 1e3))), "1"]
        elif mutation == "unit":
            argv[6] = draw(st.sampled_from(_BAD_UNITS) | _name.map(lambda text: "zz" + text))
        elif mutation == "dt":
            argv += ["--dt", draw(st.sampled_from(_BAD_TIMES))]
        elif mutation == "duration":
            argv[8] = draw(st.sampled_from(_BAD_TIMES))
        elif mutation == "model":
            argv[1] = draw(_name.map(lambda text: "no_model_" + text)
                           | _name.map(lambda text: str(base / f"missing_{text}.toml"))
                           | st.just(str(base / "wrong_units.toml")) | st.just("ising_membrane"))
        elif mutation == "seeds":
            argv += ["--seeds", draw(st.sampled_from(["0", "-2", "x", "1.5"]))]
        elif mutation == "seed":
            argv += ["--seed", draw(st.sampled_from(["-1", str(2**32), "seed"]))]
        elif mutation == "protocol":
            argv += ["--protocol", draw(_name.filter(lambda text: text not in ("step", "staircase", "ramp", "pulse")))]
        elif mutation == "out_dir":
            argv += ["--out", str(base / "existing_dir")]
        elif mutation == "out_exists":
            argv += ["--out", str(base / "existing.nc")]
        elif mutation == "out_suffix":
            argv += ["--out", str(base / f"result_{draw(_name)}.txt")]
        elif mutation == "noise":
            argv += ["--noise", draw(st.sampled_from(["1 mV", "-1 pA", "abc", "nan", "1 Hz"]))]
        elif mutation == "noise_tau":
            argv += ["--noise", "10 pA", "--noise-tau", draw(st.sampled_from(_BAD_TIMES))]
        elif mutation == "scheduler":
            argv += ["--scheduler", draw(st.sampled_from(["bogus", "tcp://", "tcp://host:port", "http:/x", "local:"]))]
        elif mutation == "chunk":
            argv += ["--chunk-size", draw(st.sampled_from(["0", "-5", "many"]))]
        elif mutation == "workers":
            argv += ["--workers", draw(st.sampled_from(["0", "2"]))]  # 2 without --scheduler local
        elif mutation == "option":
            argv += ["--" + draw(_name.map(lambda text: "zz" + text.lower()))]
        elif mutation == "poisson":
            argv += ["--poisson-inh", "1000 Hz", "0.5 nS"]  # without --poisson-exc
    return argv


@st.composite
def run_arguments(draw, base):
    argv = ["run", "quickstart", "--out", str(base / f"out_{draw(_name)}")]
    mutation = draw(st.sampled_from(["experiment", "file", "broken", "out_file", "scheduler", "timeout",
                                     "temperature"]))
    if mutation == "experiment":
        argv[1] = draw(_name.map(lambda text: "no_experiment_" + text))
    elif mutation == "file":
        argv[1] = str(base / f"missing_{draw(_name)}.toml")
    elif mutation == "broken":
        argv[1] = str(base / "broken.toml")
    elif mutation == "out_file":
        argv[3] = str(base / draw(st.sampled_from(["existing_file.txt", "existing.nc"])))
    elif mutation == "scheduler":
        argv += ["--scheduler", draw(st.sampled_from(["bogus", "tcp://", "tcp://h:99999", "udp://x:1"]))]
    elif mutation == "timeout":
        argv += ["--scheduler", "local", "--worker-timeout", draw(st.sampled_from(["0", "-1", "never"]))]
    else:
        argv[1] = str(base / "temperature_mV.toml")
    return argv


@st.composite
def recordings_arguments(draw, base):
    argv = ["recordings", str(base / "missing.abf"), "--out", str(base / f"cells_{draw(_name)}")]
    mutation = draw(st.sampled_from(["none", "bootstrap", "folds", "seed", "out_file", "junction", "format"]))
    if mutation != "none":
        argv[1] = str(base / "existing_file.txt")  # exists; the option below is what is wrong
    if mutation == "bootstrap":
        argv += ["--bootstrap", draw(st.sampled_from(["0", "-1", "39", "x"]))]
    elif mutation == "folds":
        argv += ["--folds", draw(st.sampled_from(["0", "1", "-4"]))]
    elif mutation == "seed":
        argv += ["--seed", "-1"]
    elif mutation == "out_file":
        argv[3] = str(base / "existing_file.txt")
    elif mutation == "junction":
        argv += ["--liquid-junction-potential", draw(st.sampled_from(["1 ms", "abc", "14 parsec"]))]
    elif mutation == "format":
        argv += ["--format", draw(_name.map(lambda text: "zz" + text))]
    return argv


@st.composite
def bad_arguments(draw, base):
    kind = draw(st.sampled_from(["fi", "fi", "fi", "run", "recordings", "top"]))
    if kind == "fi":
        return draw(fi_arguments(base))
    if kind == "run":
        return draw(run_arguments(base))
    if kind == "recordings":
        return draw(recordings_arguments(base))
    return draw(st.sampled_from([[], ["--nonsense"], ["models", "extra"], ["experiments", "--x"]])
                | _name.map(lambda text: ["zz" + text]))


@pytest.mark.brian2
@settings(max_examples=500, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_bad_arguments_are_refused_in_one_line(folder, data):
    argv = data.draw(bad_arguments(folder))
    assert_cli_refuses(argv, folder)


def test_a_refused_model_file_leaves_no_brian2_debug_log(folder, tmp_path):
    """Brian2 keeps /tmp/brian_debug_*.log after an unhandled error; a handled one leaves none."""
    import os
    import subprocess
    import sys

    (tmp_path / "tmp").mkdir()
    completed = subprocess.run(
        [sys.executable, "-m", "neurophase.cli", "fi", str(folder / "wrong_units.toml"), "--input", "0", "1", "1",
         "pA"], capture_output=True, text=True, timeout=300, env=dict(os.environ, TMPDIR=str(tmp_path / "tmp")))
    assert completed.returncode == 2 and completed.stdout == ""
    assert len(completed.stderr.splitlines()) == 1 and completed.stderr.startswith("error: model file")
    assert list((tmp_path / "tmp").iterdir()) == []
