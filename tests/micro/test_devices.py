"""OpenMP threads and compiler flags of C++ standalone builds (no compiler needed)."""

import sys
import types

import pytest

from neurophase.errors import ParameterError
from neurophase.micro import devices
from neurophase.micro.devices import (
    VECTORISATION_FLAGS,
    Brian2Device,
    available_cores,
    standalone_compile_flags,
    standalone_threads,
)


def test_threads_from_argument_environment_and_cores(monkeypatch):
    monkeypatch.delenv("NEUROPHASE_THREADS", raising=False)
    monkeypatch.setattr(devices, "available_cores", lambda: 6)
    assert standalone_threads() == 6
    assert standalone_threads(3) == 3
    monkeypatch.setenv("NEUROPHASE_THREADS", "2")
    assert standalone_threads() == 2
    assert standalone_threads(5) == 5  # the argument wins over the environment
    for bad in ("0", "-1", "two", "1.5"):
        monkeypatch.setenv("NEUROPHASE_THREADS", bad)
        with pytest.raises(ParameterError, match="NEUROPHASE_THREADS"):
            standalone_threads()
    monkeypatch.delenv("NEUROPHASE_THREADS")
    with pytest.raises(ParameterError, match="threads"):
        standalone_threads(0)
    # by default at least ELEMENTS_PER_THREAD neurones per thread; an explicit number is kept
    per = devices.ELEMENTS_PER_THREAD
    assert [standalone_threads(elements=n) for n in (1, per - 1, 2 * per, 5 * per, 100 * per)] == [1, 1, 2, 5, 6]
    assert standalone_threads(4, elements=10) == 4
    monkeypatch.setenv("NEUROPHASE_THREADS", "3")
    assert standalone_threads(elements=10) == 3


def test_a_dask_worker_gets_its_own_thread_count(monkeypatch):
    monkeypatch.delenv("NEUROPHASE_THREADS", raising=False)
    monkeypatch.setattr(devices, "available_cores", lambda: 8)
    worker = types.SimpleNamespace(state=types.SimpleNamespace(nthreads=1))
    monkeypatch.setitem(sys.modules, "distributed", types.SimpleNamespace(get_worker=lambda: worker))
    assert standalone_threads() == 1
    worker.state.nthreads = 3
    assert standalone_threads() == 3

    def outside():
        raise ValueError("No worker found")

    monkeypatch.setitem(sys.modules, "distributed", types.SimpleNamespace(get_worker=outside))
    assert standalone_threads() == 8


def test_available_cores_is_positive():
    assert available_cores() >= 1


def test_compile_flags_add_vectorisation_to_fast_math(monkeypatch):
    from brian2 import prefs

    monkeypatch.setitem(prefs, "codegen.cpp.extra_compile_args", None)
    monkeypatch.setitem(prefs, "codegen.cpp.extra_compile_args_gcc", ["-w", "-O3", "-ffast-math", "-march=native"])
    assert standalone_compile_flags() == ["-w", "-O3", "-ffast-math", "-march=native", *VECTORISATION_FLAGS]
    monkeypatch.setitem(prefs, "codegen.cpp.extra_compile_args_gcc", ["-O2"])
    assert standalone_compile_flags() == ["-O2"]  # no fast math: nothing added
    monkeypatch.setitem(prefs, "codegen.cpp.extra_compile_args", ["-O1"])
    assert standalone_compile_flags() == ["-O1"]  # an explicit list replaces everything, as in Brian2


def test_standalone_preferences_are_restored():
    from brian2 import prefs

    before = (prefs.devices.cpp_standalone.openmp_threads, list(prefs.codegen.cpp.extra_compile_args_gcc))
    previous = devices.standalone_preferences(3, ["--include=x.h"])
    assert prefs.devices.cpp_standalone.openmp_threads == 3
    assert prefs.codegen.cpp.extra_compile_args_gcc[-1] == "--include=x.h"
    devices.restore_preferences(previous)
    assert (prefs.devices.cpp_standalone.openmp_threads, list(prefs.codegen.cpp.extra_compile_args_gcc)) == before
    previous = devices.standalone_preferences(1)
    assert prefs.devices.cpp_standalone.openmp_threads == 0  # one thread: no OpenMP at all
    devices.restore_preferences(previous)


def test_brian2_device_checks_names_and_threads():
    with pytest.raises(ParameterError, match="target"):
        Brian2Device("fortran", "runtime")
    with pytest.raises(ParameterError, match="device"):
        Brian2Device("cython", "gpu")
    assert Brian2Device("cython", "cpp_standalone", threads=2).threads == 2
    assert Brian2Device("cython", "runtime").threads is None
