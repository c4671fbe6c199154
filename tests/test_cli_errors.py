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
    (base / "corrupt.abf").write_bytes(b"ABF " + bytes(range(256)) * 3)  # a header and nothing after it
    (base / "fit_interrupted").mkdir()
    (base / "fit_interrupted" / "fit_checkpoint.pkl").write_bytes(b"an earlier fit")
    (base / "fit_finished").mkdir()
    (base / "fit_finished" / "fit_checkpoint.pkl").write_bytes(b"an earlier fit")
    (base / "fit_finished" / "report.md").write_text("# an earlier fit")
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


# ----------------------------------------------- the commands merged after issue 8: fit, coarse-grain, population
def _coarse_grain(base, *extra, out="cg_new"):
    return ["coarse-grain", "hodgkin_huxley_1952", *extra, "--out", base / out]


_CHANNELS = ("--channels", "100", "1000")


def _population(base, *extra, out="population_new", model="leaky_integrate_and_fire"):
    return ["population", model, "--coupling", "0", "0.2", "0.2", "mV", "--drive", "100", "200", "100", "pA",
            "--noise", "20 pA*second**0.5", "--size", "50", "--indegree", "10", *extra, "--out", base / out]


def _fit(base, *extra, out="fit_new", recording="missing.abf"):
    return ["fit", "leaky_integrate_and_fire", base / recording, *extra, "--out", base / out]


_HH_POPULATION = ("--transfer-drive", "0", "10", "5", "uA/cm**2")

#: (command line in the fixture folder, the one error line it must give). Every one is refused before
#: anything is simulated (the autouse fixture fails any Brian2 run) and writes nothing.
LATER_COMMANDS = {
    # coarse-grain: --out first, then every option with its name
    "cg-out-existing-dir": (lambda b: _coarse_grain(b, out="existing_dir"),
                            r"--out .*existing_dir already holds files; choose a new folder, or add --overwrite"),
    "cg-out-existing-file": (lambda b: _coarse_grain(b, out="existing_file.txt"), r"is a file; give a folder"),
    "cg-out-under-a-file": (lambda b: _coarse_grain(b, out="existing_file.txt/new"), r"existing_file.txt is a file"),
    "cg-input-nan": (lambda b: _coarse_grain(b, "--input", "nan", "4", "0.01", "uA/cm**2"),
                     r"--input nan 4 0.01: START, STOP and STEP must be finite"),
    "cg-input-inf": (lambda b: _coarse_grain(b, "--input", "0", "inf", "0.01", "uA/cm**2"), r"must be finite"),
    "cg-input-negative-step": (lambda b: _coarse_grain(b, "--input", "0", "4", "-0.01", "uA/cm**2"),
                               r"--input needs STEP > 0 and STOP >= START"),
    "cg-input-wrong-unit": (lambda b: _coarse_grain(b, "--input", "0", "4", "0.01", "mV"),
                            r"--input is in mV, which is not a unit of uA/cm\*\*2"),
    "cg-input-unknown-unit": (lambda b: _coarse_grain(b, "--input", "0", "4", "0.01", "parsec"),
                              r"--input unit 'parsec' cannot be read"),
    "cg-rest-input-wrong-unit": (lambda b: _coarse_grain(b, "--rest-input", "1 mV"),
                                 r"--rest-input '1 mV' has dimension .*, not that of uA/cm\*\*2"),
    "cg-rest-input-nan": (lambda b: _coarse_grain(b, "--rest-input", "nan"), r"--rest-input 'nan' is not a finite"),
    "cg-unknown-model": (lambda b: ["coarse-grain", "no_such_model", "--out", b / "cg_new"],
                         r"Unknown model 'no_such_model'"),
    "cg-missing-model-file": (lambda b: ["coarse-grain", b / "missing.toml", "--out", b / "cg_new"],
                              r"missing.toml does not exist"),
    "cg-model-without-gates": (lambda b: ["coarse-grain", "leaky_integrate_and_fire", "--out", b / "cg_new"],
                               r"has no voltage-gated gate"),
    "cg-channels-zero": (lambda b: _coarse_grain(b, "--channels", "0", "100"), r"--channels needs whole channel"),
    "cg-channels-nan": (lambda b: _coarse_grain(b, "--channels", "nan", "100"), r"--channels needs whole channel"),
    "cg-channels-fraction": (lambda b: _coarse_grain(b, "--channels", "100.5", "1000"),
                             r"--channels needs whole channel"),
    "cg-channels-one": (lambda b: _coarse_grain(b, "--channels", "100"), r"--channels needs at least two"),
    "cg-channels-twice": (lambda b: _coarse_grain(b, "--channels", "100", "100"), r"lists a channel number twice"),
    "cg-duration-zero": (lambda b: _coarse_grain(b, *_CHANNELS, "--duration", "0 ms"),
                         r"--duration '0 ms' must be positive"),
    "cg-duration-nan": (lambda b: _coarse_grain(b, *_CHANNELS, "--duration", "nan"),
                        r"--duration 'nan' is not a finite number"),
    "cg-duration-wrong-unit": (lambda b: _coarse_grain(b, *_CHANNELS, "--duration", "30 mV"),
                               r"--duration '30 mV' has dimension"),
    "cg-escape-duration-inf": (lambda b: _coarse_grain(b, *_CHANNELS, "--escape-duration", "inf*second"),
                               r"--escape-duration 'inf\*second' is not a finite"),
    "cg-pulse-after-trial": (lambda b: _coarse_grain(b, *_CHANNELS, "--duration", "20 ms"),
                             r"does not end before the trial"),
    "cg-trials-odd": (lambda b: _coarse_grain(b, *_CHANNELS, "--trials", "5"), r"--trials must be an even"),
    "cg-escape-trials-negative": (lambda b: _coarse_grain(b, *_CHANNELS, "--escape-trials", "-1"),
                                  r"--escape-trials must be at least 1"),
    "cg-seed-negative": (lambda b: _coarse_grain(b, *_CHANNELS, "--seed", "-1"), r"--seed -1 must be in"),
    "cg-pulse-amplitudes-wrong-unit": (lambda b: _coarse_grain(b, *_CHANNELS, "--pulse-amplitudes", "0", "40", "2",
                                                               "mV"), r"--pulse-amplitudes is in mV"),
    "cg-pulse-amplitudes-nan": (lambda b: _coarse_grain(b, *_CHANNELS, "--pulse-amplitudes", "0", "nan", "2",
                                                        "uA/cm**2"), r"--pulse-amplitudes 0 nan 2: START"),
    "cg-drive-wrong-unit": (lambda b: _coarse_grain(b, *_CHANNELS, "--drive", "1 ms"), r"--drive '1 ms' has dimension"),
    # population
    "population-out-existing-dir": (lambda b: _population(b, out="existing_dir"), r"already holds files"),
    "population-out-existing-file": (lambda b: _population(b, out="existing_file.txt"), r"is a file; give a folder"),
    "population-coupling-nan": (lambda b: _population(b, "--coupling", "nan", "1", "1", "mV"),
                                r"--coupling nan 1 1: START, STOP and STEP must be finite"),
    "population-coupling-wrong-unit": (lambda b: _population(b, "--coupling", "0", "1", "1", "ms"),
                                       r"--coupling is in ms, which is not a unit of mV"),
    "population-drive-wrong-unit": (lambda b: _population(b, "--drive", "0", "1", "1", "mV"),
                                    r"--drive is in mV, which is not a unit of pA"),
    "population-noise-zero": (lambda b: _population(b, "--noise", "0 pA*second**0.5"), r"--noise .* must be positive"),
    "population-noise-nan": (lambda b: _population(b, "--noise", "nan"), r"--noise 'nan' is not a finite number"),
    "population-noise-not-white": (lambda b: _population(b, "--noise", "1 pA"),
                                   r"--noise '1 pA' has dimension A, not that of pA\*second\*\*0.5"),
    "population-size-zero": (lambda b: _population(b, "--size", "0"), r"--size 0: a population needs at least 2"),
    "population-indegree-too-large": (lambda b: _population(b, "--indegree", "50"),
                                      r"--indegree 50 must lie between 1 and --size - 1 = 49"),
    "population-seeds-zero": (lambda b: _population(b, "--seeds", "0"), r"--seeds 0 must be at least 1"),
    "population-seed-negative": (lambda b: _population(b, "--seed", "-1"), r"--seed -1 must be in"),
    "population-duration-zero": (lambda b: _population(b, "--duration", "0 s"), r"--duration '0 s' must be positive"),
    "population-duration-wrong-unit": (lambda b: _population(b, "--duration", "1 mV"),
                                       r"--duration '1 mV' has dimension"),
    "population-transient-too-long": (lambda b: _population(b, "--duration", "0.3 s", "--transient", "0.5 s"),
                                      r"--transient 0.5 s must be shorter than --duration 0.3 s"),
    "population-dt-zero": (lambda b: _population(b, "--dt", "0 ms"), r"--dt '0 ms' must be positive"),
    "population-dt-negative": (lambda b: _population(b, "--dt=-0.1 ms"), r"--dt '-0.1 ms' must be positive"),
    "population-dt-above-max-dt": (lambda b: _population(b, "--dt", "1 ms"), r"largest stable time step"),
    "population-dt-not-dividing-the-bins": (lambda b: _population(b, "--dt", "0.03 ms"), r"must divide the 5 ms"),
    "population-delay-negative": (lambda b: _population(b, "--delay=-1 ms"), r"--delay '-1 ms' must not be negative"),
    "population-unknown-synapse": (lambda b: _population(b, "--synapse", "gap"), r"invalid choice: 'gap'"),
    "population-current-synapse-without-tau": (lambda b: _population(b, "--synapse", "current", "--coupling", "0",
                                                                     "1", "1", "pA"),
                                               r"--synapse current needs --synaptic-tau"),
    "population-kick-wrong-unit": (lambda b: _population(b, "--kick", "1 mV"), r"--kick '1 mV' has dimension"),
    "population-unknown-model": (lambda b: _population(b, model="no_such_model"), r"Unknown model 'no_such_model'"),
    "population-hh-without-transfer": (
        lambda b: _population(b, "--drive", "0", "10", "10", "uA/cm**2", "--noise", "1 uA/cm**2*second**0.5",
                              model="hodgkin_huxley_1952"), r"is not a LIF, .* give --transfer-drive"),
    "population-one-transfer-noise": (
        lambda b: _population(b, "--drive", "0", "10", "10", "uA/cm**2", "--noise", "1 uA/cm**2*second**0.5",
                              *_HH_POPULATION, "--transfer-noise", "1 uA/cm**2*second**0.5",
                              model="hodgkin_huxley_1952"), r"--transfer-noise needs two or more amplitudes"),
    # fit: --out, then the numbers, then the recordings
    "fit-out-existing-dir": (lambda b: _fit(b, out="existing_dir"), r"already holds files"),
    "fit-out-existing-file": (lambda b: _fit(b, out="existing_file.txt"), r"is a file; give a folder"),
    "fit-out-under-a-file": (lambda b: _fit(b, out="existing_file.txt/new"), r"existing_file.txt is a file"),
    "fit-out-holds-an-interrupted-fit": (lambda b: _fit(b, out="fit_interrupted"),
                                         r"holds the checkpoint of an earlier fit; add --resume"),
    "fit-out-holds-a-finished-fit": (lambda b: _fit(b, out="fit_finished"),
                                     r"holds the result and the checkpoint of an earlier fit"),
    "fit-resume-without-checkpoint": (lambda b: _fit(b, "--resume"), r"--resume: there is no checkpoint"),
    "fit-resume-and-overwrite": (lambda b: _fit(b, "--resume", "--overwrite", out="fit_interrupted"),
                                 r"give only one"),
    "fit-generations-zero": (lambda b: _fit(b, "--generations", "0"), r"--generations 0 must be at least 1"),
    "fit-generations-negative": (lambda b: _fit(b, "--generations", "-3"), r"--generations -3 must be at least 1"),
    "fit-population-three": (lambda b: _fit(b, "--population", "3"), r"--population 3 must be at least 4"),
    "fit-seed-negative": (lambda b: _fit(b, "--seed", "-1"), r"--seed -1 must be in 0 .. 2\*\*32 - 1"),
    "fit-dt-zero": (lambda b: _fit(b, "--dt", "0 ms"), r"--dt '0 ms' must be positive"),
    "fit-dt-negative": (lambda b: _fit(b, "--dt=-0.1 ms"), r"--dt '-0.1 ms' must be positive"),
    "fit-dt-nan": (lambda b: _fit(b, "--dt", "nan"), r"--dt 'nan' is not a finite number"),
    "fit-dt-wrong-unit": (lambda b: _fit(b, "--dt", "0.1 mV"), r"--dt '0.1 mV' has dimension"),
    "fit-junction-potential-wrong-unit": (lambda b: _fit(b, "--liquid-junction-potential", "14 ms"),
                                          r"--liquid-junction-potential '14 ms' has dimension s"),
    "fit-param-nan": (lambda b: _fit(b, "--param", "R_m", "nan", "400", "Mohm"),
                      r"--param R_m nan 400: LOW and HIGH must be finite"),
    "fit-param-inf": (lambda b: _fit(b, "--param", "R_m", "50", "inf", "Mohm"), r"must be finite"),
    "fit-param-text": (lambda b: _fit(b, "--param", "R_m", "low", "400", "Mohm"), r"LOW and HIGH must be numbers"),
    "fit-param-unknown-unit": (lambda b: _fit(b, "--param", "R_m", "50", "400", "parsec"),
                               r"--param R_m: the unit 'parsec' cannot be read"),
    "fit-log-without-param": (lambda b: _fit(b, "--log", "R_m"), r"--log R_m: give a --param"),
    "fit-unknown-model": (lambda b: ["fit", "no_such_model", b / "missing.abf", "--out", b / "fit_new"],
                          r"Unknown model 'no_such_model'"),
    "fit-missing-recording": (lambda b: _fit(b), r"No such recording file: .*missing.abf"),
    "fit-corrupt-recording": (lambda b: _fit(b, recording="corrupt.abf"), r"corrupt.abf: .*cannot read"),
    "fit-recording-of-unknown-format": (lambda b: _fit(b, recording="existing_file.txt"), r"existing_file.txt"),
}


@pytest.mark.brian2
@pytest.mark.parametrize("case", sorted(LATER_COMMANDS))
def test_fit_coarse_grain_and_population_refuse_bad_input(folder, case):
    build, match = LATER_COMMANDS[case]
    assert_cli_refuses(build(folder), folder, match)


def test_an_unwritable_out_is_refused_before_anything_runs(folder, tmp_path):
    """A parent that cannot be written is refused by trying it (os.access says yes to root everywhere)."""
    import os
    import tempfile

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        unwritable = None
        for candidate in (locked, Path("/sys"), Path("/proc")):  # /sys and /proc refuse folders even to root
            try:
                os.rmdir(tempfile.mkdtemp(dir=candidate))
            except OSError:
                unwritable = candidate
                break
        if unwritable is None:
            pytest.skip("no unwritable folder on this machine")
        for argv in (_coarse_grain(folder), _population(folder), _fit(folder)):
            argv[-1] = unwritable / "neurophase_out"
            assert_cli_refuses(argv, folder, r"cannot write into .*; choose another output path")
    finally:
        locked.chmod(0o755)


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


_BAD_GRIDS = [["nan", "1", "1"], ["0", "inf", "1"], ["0", "1", "0"], ["0", "1", "-1"], ["1", "0", "1"], ["a", "1", "1"]]
_BAD_OUTS = ["existing_dir", "existing_file.txt", "existing_file.txt/new"]


@st.composite
def coarse_grain_arguments(draw, base):
    extra = []
    mutation = draw(st.sampled_from(["out", "input", "input_unit", "rest", "model", "channels", "time", "trials",
                                     "seed", "amplitudes", "drive", "option"]))
    out = draw(_name.map(lambda text: f"cg_{text}"))
    if mutation == "out":
        out = draw(st.sampled_from(_BAD_OUTS))
    elif mutation == "input":
        extra = ["--input", *draw(st.sampled_from(_BAD_GRIDS)), "uA/cm**2"]
    elif mutation == "input_unit":
        extra = ["--input", "0", "4", "0.5", draw(st.sampled_from(_BAD_UNITS))]
    elif mutation == "rest":
        extra = ["--rest-input", draw(st.sampled_from(_BAD_TIMES))]  # none of them is a current density
    elif mutation == "model":
        return ["coarse-grain", draw(st.sampled_from(["no_such_model", str(base / "missing.toml"),
                                                      str(base / "wrong_units.toml"), "leaky_integrate_and_fire"])),
                "--out", str(base / out)]
    elif mutation == "channels":
        extra = ["--channels", *draw(st.sampled_from([["0", "10"], ["nan", "10"], ["inf", "10"], ["-5", "10"],
                                                      ["10"], ["10", "10"], ["10.5", "100"]]))]
    else:
        extra = list(_CHANNELS)
        if mutation == "time":
            extra += [draw(st.sampled_from(["--duration", "--pulse-duration", "--escape-duration"])),
                      draw(st.sampled_from(_BAD_TIMES))]
        elif mutation == "trials":
            extra += draw(st.sampled_from([["--trials", "0"], ["--trials", "3"], ["--trials", "x"],
                                           ["--escape-trials", "0"], ["--escape-trials", "-2"]]))
        elif mutation == "seed":
            extra += ["--seed", draw(st.sampled_from(["-1", str(2**32), "seed"]))]
        elif mutation == "amplitudes":
            extra += ["--pulse-amplitudes", *draw(st.sampled_from(_BAD_GRIDS + [["0", "1", "0.5"]])), "uA/cm**2"]
        elif mutation == "drive":
            extra += ["--drive", draw(st.sampled_from(_BAD_TIMES))]
        else:
            extra += ["--" + draw(_name.map(lambda text: "zz" + text.lower()))]
    return ["coarse-grain", "hodgkin_huxley_1952", *extra, "--out", str(base / out)]


@st.composite
def population_arguments(draw, base):
    grid = {"coupling": ["0", "0.2", "0.2", "mV"], "drive": ["100", "200", "100", "pA"]}
    extra = []
    mutation = draw(st.sampled_from(["out", "grid", "grid_unit", "noise", "counts", "time", "synapse", "kick",
                                     "model", "option"]))
    out = draw(_name.map(lambda text: f"population_{text}"))
    model = "leaky_integrate_and_fire"
    if mutation == "out":
        out = draw(st.sampled_from(_BAD_OUTS))
    elif mutation == "grid":
        grid[draw(st.sampled_from(sorted(grid)))][:3] = draw(st.sampled_from(_BAD_GRIDS))
    elif mutation == "grid_unit":
        grid[draw(st.sampled_from(sorted(grid)))][3] = draw(st.sampled_from(_BAD_UNITS))
    elif mutation == "noise":
        extra = ["--noise", draw(st.sampled_from(["0 pA*second**0.5", "nan", "1 pA", "abc", "inf*pA*second**0.5"]))]
    elif mutation == "counts":
        extra = draw(st.sampled_from([["--size", "0"], ["--size", "1"], ["--indegree", "0"], ["--indegree", "50"],
                                      ["--seeds", "0"], ["--seed", "-1"], ["--seed", str(2**32)], ["--size", "x"]]))
    elif mutation == "time":
        option = draw(st.sampled_from(["--duration", "--transient", "--delay", "--dt", "--synaptic-tau"]))
        value = draw(st.sampled_from(_BAD_TIMES))
        if option in ("--transient", "--delay") and value == "0 ms":
            value = "-1 ms"  # zero is allowed there
        extra = [f"{option}={value}"]
    elif mutation == "synapse":
        extra = draw(st.sampled_from([["--synapse", "gap"], ["--synapse", "current"]]))  # current without a tau
    elif mutation == "kick":
        extra = ["--kick", draw(st.sampled_from(["1 mV", "nan", "abc"]))]
    elif mutation == "model":
        model = draw(st.sampled_from(["no_such_model", str(base / "missing.toml"), "hodgkin_huxley_1952"]))
    else:
        extra = ["--" + draw(_name.map(lambda text: "zz" + text.lower()))]
    return ["population", model, "--coupling", *grid["coupling"], "--drive", *grid["drive"], "--noise",
            "20 pA*second**0.5", "--size", "50", "--indegree", "10", *extra, "--out", str(base / out)]


@st.composite
def fit_arguments(draw, base):
    recording = "missing.abf"
    extra = []
    mutation = draw(st.sampled_from(["out", "numbers", "dt", "param", "log", "recording", "model", "option"]))
    out = draw(_name.map(lambda text: f"fit_{text}"))
    if mutation == "out":
        out = draw(st.sampled_from(_BAD_OUTS + ["fit_interrupted", "fit_finished"]))
        extra = draw(st.sampled_from([[], ["--overwrite", "--resume"]]))
    elif mutation == "numbers":
        extra = draw(st.sampled_from([["--generations", "0"], ["--generations", "-1"], ["--population", "3"],
                                      ["--seed", "-1"], ["--seed", str(2**32)], ["--population", "many"]]))
    elif mutation == "dt":
        extra = [draw(st.sampled_from(["--dt", "--liquid-junction-potential"])) + "=" + draw(st.sampled_from(
            ["0 ms", "-1 ms", "nan", "1 parsec", "abc", "1e400 ms", "1 nA"]))]
        if extra[0] == "--liquid-junction-potential=0 ms":
            extra = ["--liquid-junction-potential=1 ms"]
    elif mutation == "param":
        extra = ["--param", "R_m", *draw(st.sampled_from([["nan", "1"], ["1", "inf"], ["a", "1"]])),
                 draw(st.sampled_from(["Mohm", "parsec"]))]
    elif mutation == "log":
        extra = ["--log", draw(_name)]
    elif mutation == "recording":
        recording = draw(st.sampled_from(["corrupt.abf", "existing_file.txt", "existing_dir", "missing.abf"]))
    elif mutation == "model":
        return ["fit", draw(st.sampled_from(["no_such_model", str(base / "wrong_units.toml")])),
                str(base / recording), "--out", str(base / out)]
    else:
        extra = ["--" + draw(_name.map(lambda text: "zz" + text.lower()))]
    return ["fit", "leaky_integrate_and_fire", str(base / recording), *extra, "--out", str(base / out)]


@st.composite
def bad_arguments(draw, base):
    kind = draw(st.sampled_from(["fi", "fi", "fi", "run", "recordings", "coarse-grain", "population", "fit", "top"]))
    if kind == "coarse-grain":
        return draw(coarse_grain_arguments(base))
    if kind == "population":
        return draw(population_arguments(base))
    if kind == "fit":
        return draw(fit_arguments(base))
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
