"""Persistent project folders of one-off standalone builds (Brian2Device(project=...)).

A recurrent network built a second time with the same shape regenerates its code in the same
folder; Brian2 rewrites only changed files and make recompiles only those. The tests check
that the second build of the same shape compiles no code object again (every object file
but main.o keeps its modification time), that its results equal those of a build in a fresh
temporary folder (new drives included: values do not reach the compiled code), that the data
files of a run do not stay in the cache, and that a folder locked by another process is not
shared; and that Brian2's compiler-flag checks are kept for later processes.
"""

from __future__ import annotations

import fcntl
import os

import numpy as np
import pytest

from neurophase.micro import build_cache
from neurophase.micro.network import simulate_populations


def _run(drives_pA, **options):
    from brian2 import ms, mV, pA, second

    return simulate_populations(
        "leaky_integrate_and_fire", np.array([0.2]) * mV, np.asarray(drives_pA, dtype=float) * pA,
        size=60, indegree=12, noise=5.657 * pA * second**0.5, delay=1.5 * ms, dt=0.1 * ms,
        duration=0.3 * second, transient=0.1 * second, bin_width=5 * ms, device="cpp_standalone",
        seed=3, progress=False, **options)


def _compiled(folder):
    """Modification times of every object file of a project folder but ``main.o`` (Brian2 writes
    the clock resets of ``main.cpp`` in the iteration order of a set of clocks, which may
    change between builds: that file alone may be compiled again, and the binary linked)."""
    return {str(path.relative_to(folder)): path.stat().st_mtime_ns for path in folder.rglob("*.o")
            if path.name != "main.o"}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROPHASE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NEUROPHASE_THREADS", "1")
    return tmp_path / "cache" / "projects"


def test_a_repeated_network_reuses_its_compiled_project_and_gives_a_fresh_builds_results(cache, tmp_path):
    first = _run([150.0, 170.0])
    [folder] = [path for path in cache.iterdir() if path.is_dir()]
    compiled = _compiled(folder)
    assert len(compiled) >= 10 and (folder / "main").exists()
    assert list((cache.parent / "flags").glob("*.json"))   # Brian2's flag checks kept for later
    # the data of the run are not kept in the cache
    assert not (folder / "static_arrays").exists() and not (folder / "results").exists()

    again = _run([150.0, 170.0])
    other = _run([120.0, 190.0])                     # new values: in data files, not in the code
    assert [path for path in cache.iterdir() if path.is_dir()] == [folder]
    assert _compiled(folder) == compiled             # nothing compiled or linked again
    fresh = _run([120.0, 190.0], standalone_directory=str(tmp_path / "fresh"))
    np.testing.assert_array_equal(again["rate"].values, first["rate"].values)
    np.testing.assert_array_equal(other["rate"].values, fresh["rate"].values)
    assert not np.array_equal(other["mean_rate"].values, first["mean_rate"].values)
    assert first["mean_rate"].values.min() > 1.0     # the populations fire: the test compares spikes


def test_a_project_folder_in_use_by_another_process_is_not_shared(cache):
    first = _run([160.0])
    [folder] = [path for path in cache.iterdir() if path.is_dir()]
    compiled = _compiled(folder)
    with open(folder.with_name(folder.name + ".lock"), "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # as another process would
        stamp = os.stat(folder).st_mtime_ns
        second = _run([160.0])                       # built in a temporary folder instead
        assert os.stat(folder).st_mtime_ns == stamp and _compiled(folder) == compiled
    np.testing.assert_array_equal(second["rate"].values, first["rate"].values)


def test_a_folder_whose_last_build_did_not_end_is_rebuilt_from_scratch(cache):
    first = _run([160.0])
    [folder] = [path for path in cache.iterdir() if path.is_dir()]
    assert not (folder / "neurophase_incomplete").exists()          # a complete build leaves no marker
    (folder / "neurophase_incomplete").touch()                      # as a build killed mid-way would
    objects = [path for path in folder.rglob("*.o")]
    for path in objects:                                            # half-written objects, newer than sources
        path.write_bytes(b"truncated")
    again = _run([160.0])
    np.testing.assert_array_equal(again["rate"].values, first["rate"].values)
    assert all(path.stat().st_size > 100 for path in objects if path.exists())
    assert not (folder / "neurophase_incomplete").exists()


def test_the_project_key_depends_on_the_description_and_the_threads(cache):
    one = build_cache.project_directory({"neurones": 100}, threads=1)
    assert one == build_cache.project_directory({"neurones": 100}, threads=1)
    assert one != build_cache.project_directory({"neurones": 101}, threads=1)
    assert one != build_cache.project_directory({"neurones": 100}, threads=2)
    assert one.parent == cache


def test_compiler_flag_checks_are_remembered_for_later_processes(cache, monkeypatch):
    from brian2.codegen import cpp_prefs

    table = {("g++ -pthread", "-O3"): True, ("g++ -pthread", "-fno-such-flag"): False}
    monkeypatch.setattr(cpp_prefs, "_compiler_flag_compatibility", dict(table))
    build_cache.remember_flag_checks()
    [stored] = (cache.parent / "flags").glob("*.json")
    monkeypatch.setattr(cpp_prefs, "_compiler_flag_compatibility", {})   # a new process
    build_cache.recall_flag_checks()
    assert cpp_prefs._compiler_flag_compatibility == table

    def no_test_compilation(compiler, flag):
        raise AssertionError(f"flag {flag} compiled again")

    monkeypatch.setattr(cpp_prefs, "_determine_flag_compatibility", no_test_compilation)

    class Compiler:
        compiler_type = "unix"
        executables = {"compiler_cxx": ["g++", "-pthread"]}

    assert cpp_prefs.has_flag(Compiler(), "-O3") is True
    assert cpp_prefs.has_flag(Compiler(), "-fno-such-flag") is False
    stored.write_text("not json")                                        # a damaged file is ignored
    monkeypatch.setattr(cpp_prefs, "_compiler_flag_compatibility", {})
    build_cache.recall_flag_checks()
    assert cpp_prefs._compiler_flag_compatibility == {}
