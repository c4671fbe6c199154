"""The standalone build cache: compile once per structure, run with new values without compiling.

Three levels of checks:

- the key (no compiler): input values, durations, seeds and protocol times of
  ``firing_curve`` and ``simulate_membrane`` leave it unchanged; the structure (grid shape, dt,
  model parameters, protocol, monitors, threads, compiler, flags) changes it;
- the plumbing (no compiler; a stand-in program that records its command line): inputs are
  written with their dtype, shape and units checked, the duration and the seed reach the
  program, outputs are read back, a failing or cut-short run is an error, two processes that
  need the same build build it once;
- the real thing (one C++ build of a small Hodgkin-Huxley grid in a fresh cache): a second call
  with other input values, duration and seed runs without invoking the compiler and without
  touching the build folder, and gives exactly what a fresh build with those values gives; and
  the generated C++ code of two calls that differ only in values, duration and seed is
  identical (what makes the first point sufficient).
"""

import json
import stat
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from neurophase.errors import InterruptedRunError, ParameterError, SimulationError, UnitMismatchError
from neurophase.micro import build_cache
from neurophase.micro.build_cache import StandaloneProgram, build_key, standalone_program
from neurophase.testing import run_script_result


# ------------------------------------------------------------------------------------ the key
class _Captured(Exception):
    def __init__(self, description):
        super().__init__("captured")
        self.description = description


@pytest.fixture
def capture(monkeypatch):
    """Call firing_curve / simulate_membrane on the standalone device up to the cache lookup and
    return the key of what it would build (nothing is compiled or run)."""
    import neurophase.micro.ising as ising
    import neurophase.micro.neurone as neurone

    def fake(description, build, threads=None, directory=None):
        raise _Captured(build_key(description, threads=threads))

    monkeypatch.setattr(neurone, "standalone_program", fake)
    monkeypatch.setattr(ising, "standalone_program", fake)

    def key(function, *args, **kwargs):
        try:
            function(*args, device="cpp_standalone", **kwargs)
        except _Captured as captured:
            return captured.description
        except SimulationError as error:  # simulate_membrane wraps what happens in the build
            if isinstance(error.__cause__, _Captured):
                return error.__cause__.description
            raise
        raise AssertionError("the standalone program was not requested")

    return key


def test_firing_curve_key_ignores_values_and_follows_structure(capture):
    from brian2 import Hz, cm, ms, nS, pA, uA

    from neurophase.micro.neurone import firing_curve

    def hh(levels=np.linspace(0, 20, 11), **options):
        settings = {"duration": 200 * ms, "threads": 1, **options}
        return capture(firing_curve, "hodgkin_huxley_1952", levels * uA / cm**2, **settings)

    reference = hh()
    same = [hh(np.linspace(3, 13, 11)), hh(duration=1234 * ms), hh(seed=17), hh(transient=20 * ms),
            hh(delay=5 * ms) == hh(delay=50 * ms), hh(protocol="pulse", pulse_start=2 * ms)
            == hh(protocol="pulse", pulse_start=7 * ms, pulse_duration=3 * ms, baseline=1 * uA / cm**2)]
    assert same[:4] == [reference] * 4 and all(same[4:])
    different = [hh(np.linspace(0, 20, 12)), hh(dt=0.02 * ms), hh(parameters={"g_L": "0.31 mS/cm**2"}),
                 hh(delay=5 * ms), hh(protocol="staircase"), hh(record_voltage=[2]), hh(spike_record="times"),
                 hh(seeds=2), hh(threads=2), hh(noise=1 * uA / cm**2)]
    assert len({reference, *different}) == len(different) + 1
    # noise and Poisson input: amplitudes, rates and weights are values too
    assert hh(noise=1 * uA / cm**2, seed=1) == hh(noise=2 * uA / cm**2, noise_tau=3 * ms, seed=2)
    lif = [capture(firing_curve, "leaky_integrate_and_fire", rates * Hz, duration=100 * ms, threads=1,
                   poisson={"weight_exc": weight * nS, "rate_inh": 500 * Hz, "weight_inh": 0.5 * nS})
           for rates, weight in ((np.arange(5) * 1000.0, 0.5), (np.arange(5) * 700.0 + 10, 0.8))]
    assert lif[0] == lif[1]
    assert capture(firing_curve, "leaky_integrate_and_fire", [100.0, 200.0] * pA, threads=1) != \
        capture(firing_curve, "leaky_integrate_and_fire", [100.0, 200.0, 300.0] * pA, threads=1)


def test_membrane_key_ignores_values_and_follows_structure(capture):
    from brian2 import ms

    from neurophase.micro.ising import simulate_membrane

    def membrane(temperatures=(0.8, 1.2), fields=(0.0, 0.1), **options):
        settings = {"N": 64, "duration": 20 * ms, "threads": 1, **options}
        return capture(simulate_membrane, list(temperatures), list(fields), **settings)

    reference = membrane()
    assert {membrane((1.5, 2.0), (0.3, -0.2)), membrane(seed=9), membrane(duration=55 * ms),
            membrane(temperature_rate=0.01 / ms, field_amplitude=0.5, field_period=10 * ms),
            membrane(initial_magnetisation=0.4)} == {reference}
    different = [membrane(N=100), membrane(J=0.5), membrane(fields=(0.0, 0.1, 0.2)), membrane(trials=2),
                 membrane(record_every=5), membrane(dt=0.04 * ms)]
    assert len({reference, *different}) == len(different) + 1


def test_key_includes_the_toolchain(monkeypatch):
    description = {"builder": "test", "n": 3}
    reference = build_key(description, threads=1)
    assert build_key(description, threads=1) == reference
    assert build_key(description, threads=2) != reference
    assert build_key(description, threads=1, flags=["-O2"]) != reference
    assert build_key({"builder": "test", "n": 4}, threads=1) != reference
    monkeypatch.setattr(build_cache, "_compiler_identity", lambda: ("clang++", "clang version 17"))
    assert build_key(description, threads=1) != reference


# ---------------------------------------------------------------------------------- plumbing
def _stand_in(directory, inputs, outputs, behaviour="ok"):
    """A StandaloneProgram whose 'binary' is a Python script: it writes every input back as an
    output named out_<input> (x 2), echoes its duration and seed, and then behaves as told."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "main"
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(f"""
        import sys, os, json
        import numpy as np
        args = sys.argv[1:]
        assert args[0] == "--results_dir"
        results = args[1]
        values = dict(arg.split("=", 1) for arg in args[2:])
        spec = json.loads({json.dumps(json.dumps(inputs))})
        for name, item in spec.items():
            data = np.fromfile(values[item["target"]], dtype=item["dtype"])
            (data * 2).tofile(os.path.join(results, "out_" + item["target"]))
        extra = np.array([float(values["neurophase.duration"]), float(values.get("neurophase.seed", -1))])
        extra.tofile(os.path.join(results, "extra"))
        np.arange(6.0).tofile(os.path.join(results, "matrix"))
        behaviour = {behaviour!r}
        if behaviour == "fail":
            sys.exit(3)
        if behaviour == "stderr":
            print("Error reading 'x'", file=sys.stderr)
        fraction = "0.5" if behaviour == "interrupted" else "1"
        open(os.path.join(results, "last_run_info.txt"), "w").write("0.25 " + fraction)
    """))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    manifest = {"format": build_cache.FORMAT, "key": "0" * 32, "program": "main", "threads": 1,
                "inputs": inputs, "outputs": outputs}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return StandaloneProgram(directory, manifest)


_INPUTS = {"cells.I": {"target": "cells.I", "dtype": "<f8", "shape": [4], "dimensions": [0, 0, 0, 1, 0, 0, 0]},
           "cells.k": {"target": "cells.k", "dtype": "<i4", "shape": [4], "dimensions": [0] * 7}}
_OUTPUTS = {"I": {"file": "out_cells.I", "dtype": "<f8", "columns": None},
            "k": {"file": "out_cells.k", "dtype": "<i4", "columns": None},
            "extra": {"file": "extra", "dtype": "<f8", "columns": None},
            "matrix": {"file": "matrix", "dtype": "<f8", "columns": 3}}


def test_run_writes_inputs_passes_duration_and_seed_and_reads_outputs(tmp_path):
    from brian2 import ms, nA, pA

    program = _stand_in(tmp_path / "program", _INPUTS, _OUTPUTS)
    before = sorted(path.name for path in (tmp_path / "program").iterdir())
    run = program.run({"cells.I": [1.0, 2.0, 3.0, 4.0] * pA, "cells.k": 7}, duration=250 * ms, seed=42)
    np.testing.assert_allclose(run["I"], 2e-12 * np.array([1.0, 2.0, 3.0, 4.0]), rtol=1e-15)
    np.testing.assert_array_equal(run["k"], [14] * 4)  # a scalar fills the variable, int32 kept
    np.testing.assert_allclose(run["extra"], [0.25, 42.0], rtol=1e-15)
    np.testing.assert_array_equal(run["matrix"], np.arange(6.0).reshape(2, 3))
    assert run.run_seconds == 0.25 and run.wall_seconds > 0
    unseeded = program.run({"cells.I": 1 * nA, "cells.k": 0}, duration=1 * ms)
    assert unseeded["extra"][1] == -1.0  # no seed argument: Brian2's own random seed
    # the program folder is left as it was (inputs and results live in a temporary folder)
    assert sorted(path.name for path in (tmp_path / "program").iterdir()) == before


def test_run_refuses_bad_inputs(tmp_path):
    from brian2 import ms, mV, pA

    program = _stand_in(tmp_path / "program", _INPUTS, _OUTPUTS)
    good = {"cells.I": np.zeros(4) * pA, "cells.k": 1}
    with pytest.raises(ParameterError, match="missing .*cells.k"):
        program.run({"cells.I": good["cells.I"]}, duration=1 * ms)
    with pytest.raises(ParameterError, match="unknown .*cells.x"):
        program.run({**good, "cells.x": 1}, duration=1 * ms)
    with pytest.raises(UnitMismatchError, match="cells.I"):
        program.run({**good, "cells.I": np.zeros(4) * mV}, duration=1 * ms)
    with pytest.raises(UnitMismatchError, match="cells.I"):
        program.run({**good, "cells.I": np.zeros(4)}, duration=1 * ms)  # no unit
    with pytest.raises(ParameterError, match="shape"):
        program.run({**good, "cells.I": np.zeros(3) * pA}, duration=1 * ms)
    with pytest.raises(ParameterError, match="seed"):
        program.run(good, duration=1 * ms, seed=-1)
    with pytest.raises(UnitMismatchError):
        program.run(good, duration=1 * mV)


@pytest.mark.parametrize("behaviour, error, message", [
    ("fail", SimulationError, "exit status 3"), ("stderr", SimulationError, "Error reading"),
    ("interrupted", InterruptedRunError, "stopped at 50.0%")])
def test_a_failing_or_cut_short_run_is_an_error(tmp_path, behaviour, error, message):
    from brian2 import ms, pA

    program = _stand_in(tmp_path / "program", _INPUTS, _OUTPUTS, behaviour)
    with pytest.raises(error, match=message):
        program.run({"cells.I": 0 * pA, "cells.k": 0}, duration=1 * ms)


def _fake_build_worker(root, counter, queue):
    """In a child process: standalone_program with a build that takes a second and counts itself."""
    def fake(staging, build, threads, compile=True):
        import time

        with open(counter, "a") as handle:
            handle.write("built\n")
        time.sleep(1.0)
        (staging / "main").write_text("")
        return {"inputs": {}, "outputs": {}, "threads": threads}

    build_cache._build = fake
    program = standalone_program({"builder": "concurrency test"}, build=None, threads=1, directory=root)
    queue.put((program.key, program.compiled, str(program.directory)))


@pytest.mark.skipif(sys.platform == "win32", reason="fork start method")
def test_two_processes_needing_the_same_build_build_it_once(tmp_path):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    counter = tmp_path / "builds.txt"
    workers = [context.Process(target=_fake_build_worker, args=(tmp_path / "cache", counter, queue))
               for _ in range(3)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert counter.read_text().count("built") == 1
    assert len({key for key, _, _ in results}) == 1 and sum(compiled for _, compiled, _ in results) == 1
    folder = Path(results[0][2])
    assert (folder / "manifest.json").is_file()
    # no staging folder is left behind
    assert [path.name for path in folder.parent.iterdir() if ".building-" in path.name] == []


def test_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NEUROPHASE_CACHE_DIR", str(tmp_path / "mine"))
    assert build_cache.cache_directory() == tmp_path / "mine" / "standalone"
    assert build_cache.cache_directory(tmp_path / "given") == tmp_path / "given" / "standalone"
    monkeypatch.delenv("NEUROPHASE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert build_cache.cache_directory() == tmp_path / "xdg" / "neurophase" / "standalone"


# ---------------------------------------------------------------------------- the real thing
_GENERATED_CODE = """
import hashlib, json, tempfile
from pathlib import Path
import numpy as np
from brian2 import uA, cm, ms
import neurophase.micro.neurone as neurone
from neurophase.micro import build_cache

levels, duration, seed, delay = %r
folders = []
def codegen_only(description, build, threads=None, directory=None):
    staging = Path(tempfile.mkdtemp())
    build_cache._build(staging, build, 1, compile=False)
    folders.append(staging)
    raise RuntimeError("generated")

neurone.standalone_program = codegen_only
try:
    neurone.firing_curve("hodgkin_huxley_1952", np.array(levels) * uA / cm**2, duration=duration * ms, seed=seed,
                         delay=delay * ms, device="cpp_standalone", threads=1)
except RuntimeError:
    pass
folder = folders[0]
main = (folder / "main.cpp").read_text()
print("RESULT" + json.dumps({
    "sources": {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
                for path in sorted(folder.rglob("*")) if path.suffix in (".cpp", ".h") or path.name == "makefile"},
    "run_line": [line.strip() for line in main.splitlines() if "network.run(" in line],
    "seeded": "_random_generators[_i].seed(_seed + _i)" in main}))
"""


@pytest.mark.brian2
@pytest.mark.standalone_only
def test_generated_code_does_not_depend_on_values_duration_or_seed():
    """Each build in a fresh process (Brian2 numbers unnamed objects per process)."""
    first, second = (run_script_result(_GENERATED_CODE % (values,))
                     for values in (([1.0, 5.0, 9.0], 40, 0, 2), ([2.5, 7.5, 30.0], 95, 11, 6)))
    assert len(first["sources"]) > 10
    assert first["sources"] == second["sources"]
    assert len(first["run_line"]) == 1 and first["run_line"][0].startswith("network.run(_neurophase_duration, ")
    assert first["seeded"]


_REUSE = """
import json, os
from pathlib import Path
import numpy as np
from brian2 import uA, cm, ms
from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
from neurophase.micro.neurone import firing_curve

cache, fresh = Path(os.environ["CACHE_A"]), Path(os.environ["CACHE_B"])
options = dict(device="cpp_standalone", threads=int(os.environ["THREADS"]), dt=0.025 * ms, progress=False)
levels_a = np.array([0.0, 4.0, 8.0, 12.0, 16.0, 20.0]) * uA / cm**2
levels_b = np.array([2.0, 6.5, 9.0, 15.0, 40.0, 80.0]) * uA / cm**2
first = firing_curve("hodgkin_huxley_1952", levels_a, duration=100 * ms, seed=0, standalone_directory=cache, **options)
reference = firing_curve("hodgkin_huxley_1952", levels_b, duration=150 * ms, seed=3, standalone_directory=fresh,
                         **options)
entry = cache / "standalone" / first.attrs["standalone_build_key"]
snapshot = {str(path): (path.stat().st_mtime_ns, path.stat().st_size) for path in entry.rglob("*")}

def refuse(*args, **kwargs):
    raise AssertionError("the compiler was invoked")
CPPStandaloneDevice.compile_source = refuse
CPPStandaloneDevice.build = refuse
second = firing_curve("hodgkin_huxley_1952", levels_b, duration=150 * ms, seed=3, standalone_directory=cache,
                      **options)
after = {str(path): (path.stat().st_mtime_ns, path.stat().st_size) for path in entry.rglob("*")}
variables = ("spike_count", "rate", "cv_isi", "first_spike_latency", "steady_spike_count")
runtime = firing_curve("hodgkin_huxley_1952", levels_b, duration=150 * ms, seed=3, device="runtime",
                       dt=0.025 * ms, progress=False)
print("RESULT" + json.dumps({
    "builds": [first.attrs["standalone_build"], reference.attrs["standalone_build"], second.attrs["standalone_build"]],
    "keys": [first.attrs["standalone_build_key"], reference.attrs["standalone_build_key"],
             second.attrs["standalone_build_key"]],
    "untouched": snapshot == after, "object_files": len(list(entry.rglob("*.o"))),
    "identical": {name: bool(np.array_equal(second[name].values, reference[name].values, equal_nan=True))
                  for name in variables},
    "durations": [first.attrs["duration"], second.attrs["duration"]],
    "counts": second["spike_count"].values[:, 0].tolist(),
    "runtime_counts": runtime["spike_count"].values[:, 0].tolist(),
    "latency": second["first_spike_latency"].values[:, 0].tolist(),
    "runtime_latency": runtime["first_spike_latency"].values[:, 0].tolist()}))
"""


def _reuse(tmp_path, threads):
    environment = {"CACHE_A": str(tmp_path / "a"), "CACHE_B": str(tmp_path / "b"), "THREADS": str(threads)}
    script = "import os\nos.environ.update(" + repr(environment) + ")\n" + _REUSE
    result = run_script_result(script)
    assert result["builds"] == ["compiled now", "compiled now", "from the build cache"]
    assert len(set(result["keys"])) == 1
    assert result["untouched"] and result["object_files"] == 0
    assert result["durations"] == ["100 ms", "150 ms"]
    assert all(result["identical"].values()), result["identical"]
    counts, runtime = np.array(result["counts"]), np.array(result["runtime_counts"])
    assert counts.sum() > 15  # the comparison covers firing levels (HH fires above ~6.3 uA/cm2)
    assert np.all(np.abs(counts - runtime) <= 1), (counts, runtime)
    # the first spike is the same threshold crossing: within one time step (0.025 ms)
    np.testing.assert_allclose(result["latency"], result["runtime_latency"], atol=0.025 + 1e-9, equal_nan=True)


@pytest.mark.brian2
@pytest.mark.standalone_only
def test_second_call_with_new_values_reuses_the_build_and_equals_a_fresh_build(tmp_path):
    """Two compiles of a 6-neurone HH grid (about 10 s on 2 idle cores) and one runtime run."""
    _reuse(tmp_path, threads=2)


@pytest.mark.brian2
@pytest.mark.standalone_only
@pytest.mark.slow
def test_reuse_without_openmp(tmp_path):
    _reuse(tmp_path, threads=1)


_CONCURRENT = """
import json, os, sys
import numpy as np
from brian2 import uA, cm, ms
from neurophase.micro.neurone import firing_curve
data = firing_curve("hodgkin_huxley_1952", np.array([5.0, 10.0, 20.0]) * uA / cm**2, duration=50 * ms,
                    device="cpp_standalone", threads=1, standalone_directory=sys.argv[1], progress=False)
print("RESULT" + json.dumps({"build": data.attrs["standalone_build"], "counts": data["spike_count"].values.tolist()}))
"""


@pytest.mark.brian2
@pytest.mark.standalone_only
@pytest.mark.slow
def test_two_processes_compile_one_build(tmp_path):
    import subprocess

    processes = [subprocess.Popen([sys.executable, "-c", _CONCURRENT, str(tmp_path)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=900) for process in processes]
    results = [json.loads([line for line in out.splitlines() if line.startswith("RESULT")][-1][6:])
               for out, _ in outputs]
    assert sorted(result["build"] for result in results) == ["compiled now", "from the build cache"]
    assert results[0]["counts"] == results[1]["counts"]
    assert len([path for path in (tmp_path / "standalone").iterdir() if path.is_dir()]) == 1



_VARIANTS = """
import json, os
import numpy as np
from brian2 import Hz, cm, ms, nS, pA, uA
from neurophase.micro.neurone import firing_curve
os.environ["NEUROPHASE_CACHE_DIR"] = os.environ["VARIANT_CACHE"]
cases = {
    "staircase": ("leaky_integrate_and_fire", np.array([150.0, 250.0, 350.0]) * pA,
                  dict(protocol="staircase", duration=100 * ms)),
    "pulse_voltage": ("leaky_integrate_and_fire", np.array([2000.0, 5000.0, 9000.0]) * pA,
                      dict(protocol="pulse", duration=30 * ms, record_voltage=[1, 2])),
    "ou_noise": ("leaky_integrate_and_fire", np.array([150.0, 250.0]) * pA,
                 dict(duration=200 * ms, noise=50 * pA, seeds=3, seed=4)),
    "white_noise": ("leaky_integrate_and_fire", np.array([150.0, 250.0]) * pA,
                    dict(duration=200 * ms, noise=20 * pA * ms**0.5, seeds=3, seed=5)),
    "poisson_times": ("leaky_integrate_and_fire", np.array([0.0, 8000.0, 16000.0]) * Hz,
                      dict(duration=200 * ms, spike_record="times", seed=6,
                           poisson={"weight_exc": 0.5 * nS, "rate_inh": 1000 * Hz, "weight_inh": 0.5 * nS})),
    "hh_ramp": ("hodgkin_huxley_1952", np.arange(4.0, 20.0, 3.0) * uA / cm**2,
                dict(protocol="ramp", duration=100 * ms)),
}
result = {}
for name, (model, inputs, options) in cases.items():
    runtime = firing_curve(model, inputs, device="runtime", progress=False, **options)
    standalone = firing_curve(model, inputs, device="cpp_standalone", threads=1, progress=False, **options)
    entry = {"total": float(runtime["spike_count"].sum()),
             "count_difference": float(np.nanmax(np.abs(runtime["spike_count"].values
                                                        - standalone["spike_count"].values))),
             "rate_difference": float(np.nanmax(np.abs(runtime["rate"].values - standalone["rate"].values)))}
    if "voltage" in runtime:
        entry["voltage_difference"] = float(np.max(np.abs(runtime["voltage"].values - standalone["voltage"].values)))
        entry["voltage_shapes"] = [list(runtime["voltage"].shape), list(standalone["voltage"].shape)]
    result[name] = entry
print("RESULT" + json.dumps(result))
"""


@pytest.mark.brian2
@pytest.mark.standalone_only
@pytest.mark.slow
def test_every_input_and_output_kind_equals_the_runtime_device(tmp_path):
    """Staircase (TimedArray input, windows monitor), pulse with voltage traces, OU and white
    noise, Poisson input with spike times, HH ramp: with one thread the standalone program draws
    the same random numbers as the Cython runtime, so even the noisy grids give the same spikes."""
    script = f"import os\nos.environ['VARIANT_CACHE'] = {str(tmp_path)!r}\n" + _VARIANTS
    result = run_script_result(script)
    for name, entry in result.items():
        assert entry["total"] >= 2, (name, entry)  # every case fires (a pulse gives one spike per level at most)
        assert entry["count_difference"] <= 1, (name, entry)
    for name in ("staircase", "ou_noise", "white_noise", "poisson_times"):
        assert result[name]["count_difference"] == 0 and result[name]["rate_difference"] < 1e-9, name
    voltage = result["pulse_voltage"]
    assert voltage["voltage_shapes"][0] == voltage["voltage_shapes"][1]
    assert voltage["voltage_difference"] < 1e-6  # mV: the same linear update, rounding only
