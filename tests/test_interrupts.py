"""Runs that stop early are errors: Brian2's stop requests, Ctrl-C on `neurophase fi`."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from neurophase.errors import InterruptedRunError
from neurophase.interrupts import deferred_interrupts, handle_interrupts, run_network


def _network_stopping_at(stop_ms, how):
    """A one-neurone numpy network whose network_operation requests a stop at ``stop_ms``."""
    import brian2

    brian2.prefs.codegen.target = "numpy"
    group = brian2.NeuronGroup(1, "dv/dt = -v / (10*ms) : 1", method="exact", name="stopping*")
    network = brian2.Network(group)

    @brian2.network_operation(dt=1 * brian2.ms)
    def stop(t):
        if t >= stop_ms * brian2.ms:
            if how == "network":
                network.stop()
            else:  # what Brian2's own SIGINT handler does (brian2/__init__.py, _InterruptHandler)
                brian2.Network._globally_stopped = True

    network.add(stop)
    return network


@pytest.mark.brian2
@pytest.mark.parametrize("how", ["network", "global"])
def test_a_run_stopped_early_raises_instead_of_returning(how):
    import brian2

    previous = brian2.prefs.codegen.target
    try:
        network = _network_stopping_at(30.0, how)
        with pytest.raises(InterruptedRunError, match=r"stopped at 0\.03.* of 0\.1 s") as caught:
            run_network(network, 100 * brian2.ms, "a test network", namespace={})
        # Brian2 returned normally with t at the stop: the helper turned that into an error
        assert float(network.t / brian2.ms) == pytest.approx(31.0, abs=1.0)
        assert caught.value.completed == pytest.approx(0.3, abs=0.02)
        # a complete run passes (the stop flags are reset by the next run)
        complete = _network_stopping_at(1e9, how)
        run_network(complete, 20 * brian2.ms, "a test network", namespace={})
        assert float(complete.t / brian2.ms) == pytest.approx(20.0)
    finally:
        brian2.prefs.codegen.target = previous
        brian2.Network._globally_stopped = False


def test_deferred_block_finishes_before_the_interrupt():
    """A first Ctrl-C inside deferred_interrupts waits for the block; a second one does not."""
    finished = []
    with handle_interrupts():
        with pytest.raises(KeyboardInterrupt):
            with deferred_interrupts():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)  # the handler has run: nothing was raised inside the block
                finished.append("written")
    assert finished == ["written"]
    with handle_interrupts():
        with pytest.raises(KeyboardInterrupt):
            with deferred_interrupts():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
                os.kill(os.getpid(), signal.SIGINT)  # second press: at once
                time.sleep(0.05)
                finished.append("not reached")
    assert finished == ["written"]
    assert signal.getsignal(signal.SIGINT) is not None  # the previous handler is back


def _start_fi(tmp_path, out, *extra):
    environment = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir(exist_ok=True)
    command = [sys.executable, "-m", "neurophase.cli", "fi", "leaky_integrate_and_fire", "--input", "0",
               "500", "50", "pA", "--seeds", "2", "--duration", "200 s", "--out", str(out), *extra]
    # a later --duration replaces the first (argparse keeps the last)
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=environment, cwd=tmp_path)


def _wait_for_line(process, text, timeout=240):
    """Lines of the process's stderr up to the first one containing ``text``."""
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if text in line:
            return lines
    process.kill()
    raise AssertionError(f"no line with {text!r} on stderr: {''.join(lines)}")


@pytest.mark.brian2
@pytest.mark.parametrize("device, message", [
    ("runtime", "interrupted: the Brian2 run of 'leaky_integrate_and_fire' step (22 neurones) stopped at"),
    ("cpp_standalone", "interrupted: the C++ standalone run of 'leaky_integrate_and_fire' step (22 neurones) was "
                       "interrupted by Ctrl-C and stopped"),
])
def test_ctrl_c_during_fi_exits_130_and_writes_no_result(tmp_path, device, message):
    """The reproduction of issue 8: Ctrl-C at a few % of a 200 s run wrote rates of 0 Hz, rc 0
    (runtime: Brian2's own handler stops the loop; standalone: the binary is terminated)."""
    out = tmp_path / "x.nc"
    process = _start_fi(tmp_path, out, "--device", device, "--duration", "2000 s")
    _wait_for_line(process, "simulating 'leaky_integrate_and_fire' step")  # the simulation loop runs
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert not out.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["tmp"]  # no temporary file either
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(message), last
    assert "Traceback" not in stderr and "rate" not in stdout  # no table of truncated rates
    # Brian2 keeps its debug log only after an unhandled error; none is left behind
    assert not [path.name for path in (tmp_path / "tmp").iterdir() if path.name.startswith("brian_")]


@pytest.mark.brian2
@pytest.mark.parametrize("device", ["runtime", "cpp_standalone"])
def test_second_ctrl_c_stops_at_once(tmp_path, device):
    out = tmp_path / "x.nc"
    process = _start_fi(tmp_path, out, "--dt", "0.001 ms", "--device", device)
    _wait_for_line(process, "simulating")
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert not out.exists() and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("interrupted:")


SMALL_EXPERIMENT = """
[experiment]
name = "small"
title = "Three small Ising-membrane measurements"

[execution]
seed = 11

[[measurement]]
function = "independent_channels"
label = "first"
N = 200
trials = 3
temperatures = [1.0, 2.0]
duration = "40 ms"

[[measurement]]
function = "independent_channels"
label = "second"
N = 400
trials = 3
temperatures = [0.5, 1.0]
duration = "2000 ms"

[[measurement]]
function = "zero_temperature"
label = "third"
N = 100
trials = 2
temperatures = [0.5, 0.2]
"""


@pytest.mark.brian2
def test_ctrl_c_during_run_then_resume_equals_an_uninterrupted_run(tmp_path):
    import json

    import xarray as xr

    from neurophase.experiments import run_experiment
    from neurophase.io import load_dataset

    experiment = tmp_path / "small.toml"
    experiment.write_text(SMALL_EXPERIMENT)
    reference = tmp_path / "reference"
    run_experiment(experiment, reference, progress=False)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "neurophase.cli", "run", str(experiment), "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    _wait_for_line(process, "[1/3] first (independent_channels) finished")
    time.sleep(1.0)  # inside the second measurement (2 s of model time)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("interrupted: ") and "1 finished measurement(s) are kept in" in last
    assert not out.exists()
    manifest = json.loads((tmp_path / "out.partial" / "manifest.json").read_text())
    assert list(manifest["measurements"]) == ["first"]
    resumed = subprocess.run(command + ["--resume"], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "first: taken from the resume record" in resumed.stderr
    assert "[2/3] second" in resumed.stderr and "[1/3]" not in resumed.stderr
    assert not (tmp_path / "out.partial").exists()
    assert (out / "verdicts.csv").read_bytes() == (reference / "verdicts.csv").read_bytes()
    names = sorted(path.name for path in reference.glob("*.nc"))
    assert names == sorted(path.name for path in out.glob("*.nc"))
    for name in names:
        one, other = load_dataset(reference / name), load_dataset(out / name)
        for dataset in (one, other):  # the time of creation and wall times differ between runs
            for key in [key for key in dataset.attrs if key == "created" or key.startswith("wall_")]:
                dataset.attrs.pop(key)
        xr.testing.assert_identical(one, other)


def _fit_command(recording, out, generations, *extra):
    return [sys.executable, "-m", "neurophase.cli", "fit", "leaky_integrate_and_fire", str(recording), "--param",
            "R_m", "50", "400", "Mohm", "--log", "R_m", "--generations", str(generations), "--population", "8",
            "--dt", "0.1 ms", "--out", str(out), *extra]


@pytest.fixture(scope="module")
def fit_cell(tmp_path_factory):
    """A synthetic LIF cell (four steps) as an ABF file."""
    from brian2 import Mohm, ms, mV

    from .fit import synthetic_cells as cells

    amplitudes = [-40.0, 150.0, 250.0, 350.0]
    truth = {"tau_m": 25 * ms, "R_m": 150 * Mohm, "E_L": -68 * mV, "V_threshold": -48 * mV, "V_reset": -62 * mV}
    voltage, _ = cells.simulate_cell("leaky_integrate_and_fire", truth, amplitudes)
    return cells.write_abf1(tmp_path_factory.mktemp("cell") / "cell.abf", voltage, amplitudes)


def _interrupted_fit(tmp_path, recording):
    """Start a 30-generation fit, Ctrl-C after its first generation, check what is left; returns
    (output folder, environment)."""
    (tmp_path / "tmp").mkdir()
    environment = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))
    out = tmp_path / "fit"
    process = subprocess.Popen(_fit_command(recording, out, 30), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=environment, cwd=tmp_path)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # the first generation (and its checkpoint) is done
        line = process.stdout.readline()
        if not line or line.startswith("generation 1/30"):
            break
    assert line.startswith("generation 1/30"), process.communicate(timeout=60)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("interrupted: ") and "Traceback" not in stderr
    assert f"checkpoint {out / 'fit_checkpoint.pkl'} (generation " in last and "--resume" in last
    assert sorted(path.name for path in out.iterdir()) == ["fit_checkpoint.pkl"]  # no result, no temporary file
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fit", "tmp"]
    assert not [path.name for path in (tmp_path / "tmp").iterdir() if path.name.startswith("brian_")]
    return out, environment


@pytest.mark.brian2
def test_ctrl_c_during_fit_exits_130_and_keeps_only_the_checkpoint(tmp_path, fit_cell):
    """Ctrl-C in `neurophase fit`: exit 130, no result written, the per-generation checkpoint kept and
    named in the message with the way on (--resume)."""
    _interrupted_fit(tmp_path, fit_cell)


@pytest.mark.brian2
def test_an_interrupted_fit_resumes_to_the_result_of_an_uninterrupted_one(tmp_path, fit_cell):
    from neurophase.io import load_dataset

    out, environment = _interrupted_fit(tmp_path, fit_cell)
    # the documented way on: the same command with --resume (a smaller --generations ends it sooner)
    resumed = subprocess.run(_fit_command(fit_cell, out, 3, "--resume"), capture_output=True, text=True,
                             timeout=600, env=environment, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    whole = subprocess.run(_fit_command(fit_cell, tmp_path / "whole", 3), capture_output=True, text=True,
                           timeout=600, env=environment, cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    one, other = load_dataset(out / "fit_parameters.nc"), load_dataset(tmp_path / "whole" / "fit_parameters.nc")
    np.testing.assert_array_equal(one["R_m"].values, other["R_m"].values)  # the same fit, bit for bit
    assert (out / "fitted.toml").read_text() == (tmp_path / "whole" / "fitted.toml").read_text()


@pytest.mark.brian2
def test_ctrl_c_while_a_binary_started_ahead_runs_stops_it(tmp_path, monkeypatch):
    """A repeated fi command line starts its compiled program before importing Brian2
    (neurophase.micro.ahead); a Ctrl-C in that time kills it and leaves nothing behind."""
    import json

    import numpy as np

    from neurophase.cli import build_parser
    from neurophase.micro import ahead

    cache = tmp_path / "cache"
    environment = dict(os.environ, TMPDIR=str(tmp_path / "tmp"), NEUROPHASE_CACHE_DIR=str(cache))
    (tmp_path / "tmp").mkdir()
    line = ["fi", "leaky_integrate_and_fire", "--input", "0", "500", "50", "pA", "--seeds", "2", "--quiet"]
    short = subprocess.run([sys.executable, "-m", "neurophase.cli", *line, "--duration", "10 ms"],
                           env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert short.returncode == 0, short.stderr
    # the record of the short command line, given to a long one: its binary runs for 2000 s
    monkeypatch.setenv("NEUROPHASE_CACHE_DIR", str(cache))
    source = ahead.record_path(build_parser().parse_args([*line, "--duration", "10 ms"]))
    target = ahead.record_path(build_parser().parse_args([*line, "--duration", "2000 s"]))
    with np.load(source) as stored:
        contents = {name: stored[name] for name in stored.files}
    meta = json.loads(str(contents["meta"]))
    meta["duration"] = 2000.0
    contents["meta"] = np.array(json.dumps(meta))
    with open(target, "wb") as file:
        np.savez(file, **contents)
    process = subprocess.Popen([sys.executable, "-m", "neurophase.cli", *line, "--duration", "2000 s"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
                               cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not any((tmp_path / "tmp").glob("neurophase_run_*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert any((tmp_path / "tmp").glob("neurophase_run_*")), "no binary was started ahead"
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    running = subprocess.run(["pgrep", "-f", str(cache / "standalone")], capture_output=True, text=True)
    assert running.stdout.strip() == ""         # the binary was killed
    assert list((tmp_path / "tmp").iterdir()) == []
