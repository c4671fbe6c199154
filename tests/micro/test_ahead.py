"""A repeated ``fi`` command line starts its compiled program before Brian2 is imported
(neurophase.micro.ahead); the results are those of a fresh run, to the bit."""

import json
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from neurophase.cli import build_parser, main
from neurophase.micro import ahead, build_cache

# white current noise and two trials per level: the random numbers (seed) enter every value
FI = ["fi", "leaky_integrate_and_fire", "--duration", "300 ms", "--noise", "30 pA*second**0.5",
      "--seeds", "2", "--seed", "5", "--quiet"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(build_cache.CACHE_VARIABLE, str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def taken(monkeypatch):
    """Records, per run, whether it took a binary started ahead."""
    outcomes = []
    original = build_cache._take_ahead

    def spy(*arguments):
        launch = original(*arguments)
        outcomes.append(launch is not None)
        return launch

    monkeypatch.setattr(build_cache, "_take_ahead", spy)
    return outcomes


def _fi(folder, name, levels):
    path = folder / f"{name}.nc"
    assert main([*FI, "--input", *levels, "pA", "--out", str(path)]) == 0
    return xr.load_dataset(path)


def _assert_same_values(first, second):
    assert sorted(first.data_vars) == sorted(second.data_vars)
    for name in first.data_vars:
        np.testing.assert_array_equal(first[name].values, second[name].values, err_msg=name)
    np.testing.assert_array_equal(first["input"].values, second["input"].values)


def _args(levels):
    return build_parser().parse_args([*FI, "--input", *levels, "pA"])


def test_a_repeated_command_line_takes_the_binary_started_ahead_and_gets_a_fresh_runs_results(cache, taken):
    first = _fi(cache, "first", ["0", "700", "100"])
    assert taken == [False]                      # nothing recorded yet: no head start
    record = ahead.record_path(_args(["0", "700", "100"]))
    assert record.is_file()
    assert ahead.record_path(_args(["50", "750", "100"])) == record   # same count and unit
    assert ahead.record_path(_args(["0", "800", "100"])) != record    # another grid shape

    shifted = _fi(cache, "shifted", ["50", "750", "100"])
    assert taken == [False, True]                # other levels, same shape: started ahead and taken
    record.unlink()
    fresh = _fi(cache, "fresh", ["50", "750", "100"])
    assert taken == [False, True, False]
    _assert_same_values(shifted, fresh)
    assert float(fresh["rate"].max()) > 5.0     # the grid fires: the comparison is not of zeros
    assert not np.array_equal(first["rate"].values, shifted["rate"].values)
    assert fresh.attrs["standalone_build"] == "from the build cache"


def test_a_record_that_does_not_fit_the_run_is_not_taken(cache, taken):
    levels = ["0", "700", "100"]
    _fi(cache, "first", levels)
    record = ahead.record_path(_args(levels))
    with np.load(record) as stored:
        contents = {name: stored[name] for name in stored.files}
    meta = json.loads(str(contents["meta"]))
    meta["seed"] += 1                            # a record that predicts the wrong seed
    contents["meta"] = np.array(json.dumps(meta))
    with open(record, "wb") as file:
        np.savez(file, **contents)
    assert ahead.start_fi(_args(levels))
    ahead.cancel()
    wrong = _fi(cache, "wrong", levels)
    assert taken == [False, False]               # started ahead, not taken: killed, run afresh
    assert ahead.record_path(_args(levels)).is_file()
    record.unlink()
    fresh = _fi(cache, "fresh", levels)
    _assert_same_values(wrong, fresh)


def test_starting_ahead_imports_neither_brian2_nor_xarray(cache):
    levels = ["0", "700", "100"]
    _fi(cache, "first", levels)
    code = (
        "import sys\n"
        "from neurophase.cli import build_parser\n"
        "from neurophase.micro import ahead\n"
        f"args = build_parser().parse_args({[*FI, '--input', *levels, 'pA']!r})\n"
        "started = ahead.start_fi(args)\n"
        "ahead.cancel()\n"
        "print(started, sorted(name for name in ('brian2', 'xarray', 'sympy', 'scipy') if name in sys.modules))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split("\n")[0] == "True []"


def test_a_command_line_without_a_record_or_with_a_broken_one_starts_nothing(cache):
    args = _args(["0", "700", "100"])
    assert not ahead.start_fi(args)
    record = ahead.record_path(args)
    record.parent.mkdir(parents=True)
    record.write_bytes(b"not a record")
    assert not ahead.start_fi(args)
    assert not ahead.start_fi(_args(["0", "nan", "100"]))
    assert ahead.record_path(build_parser().parse_args(["fi", "no_such_model", "--input", "0", "1", "1", "pA"])) is None
