"""Compile once, run many: a persistent cache of Brian2 C++ standalone builds.

Generating and compiling the C++ project of a network takes 5-30 s, but what is compiled
depends only on the network's *structure* (equations, sizes, monitors, time step), not on the
values it runs with. This module builds a network once per structure, keeps the compiled
program in a cache folder, and runs the same binary again with new values, from this or any
later process:

values
    Every variable a builder declares with :meth:`StandaloneBuilder.input` (per-neurone
    ``(constant)`` or ``(shared, constant)`` parameters, initial states) and the values of
    TimedArrays (:meth:`StandaloneBuilder.timed_array`) are written to files and given to the
    binary on its command line, Brian2's ``run_args`` mechanism (``set_from_command_line``,
    Brian2 >= 2.6): the generated ``main.cpp`` sets them at the point where the builder called
    :meth:`StandaloneBuilder.apply_inputs`, after the network's own initialisation.
duration
    The generated ``network.run(<duration>, ...)`` line reads the duration from the command
    line (``neurophase.duration=``); nothing else in Brian2's generated code depends on it
    (checked by a test: the code of two durations is identical).
seed
    ``neurophase.seed=`` seeds Brian2's random-number generators exactly as
    ``brian2.seed(seed)`` does (one generator per OpenMP thread, generator ``i`` seeded with
    ``seed + i``), at the same point, before any random number is drawn by code placed after
    :meth:`~StandaloneBuilder.apply_inputs`.

Key
    SHA-256 of the builder's ``description`` (everything the generated code depends on: for
    :func:`neurophase.micro.neurone.firing_curve` the model file's hash and parameter values,
    the built equations, the protocol's structure, the grid shape, dt, monitors), the Brian2
    version, the compiler and its version, the compiler flags, the OpenMP threads, the CPU
    model and instruction-set flags (when a flag tunes for the build machine, ``-march=native``)
    and the format version of this module. Input values, durations and seeds are not part
    of it.
Folder
    ``$NEUROPHASE_CACHE_DIR`` if set, else the user cache folder
    (``platformdirs.user_cache_dir("neurophase")``: ``$XDG_CACHE_HOME/neurophase`` or
    ``~/.cache/neurophase`` on Linux), subfolder ``standalone/<key>`` (about 1 MB each:
    sources, binary, ``manifest.json``). Deleting the folder is always safe.
Concurrency
    A build happens in a private staging folder and is renamed to ``<key>`` only when
    complete (an atomic rename), so a process never sees half a build; an exclusive file lock
    per key makes a second process that needs the same build wait for the first instead of
    compiling it again (where file locks do not work, e.g. some network file systems, both
    compile and the second rename is dropped). Within a process builds run one at a time
    (Brian2's device is global). Every run writes its inputs and results in its own temporary
    folder, so any number of processes and threads may run the same binary at once.
Project folders
    Networks built once per call (:class:`~neurophase.micro.devices.Brian2Device` with
    ``project``, e.g. the recurrent populations of :mod:`neurophase.micro.network`) keep their
    Brian2 project in ``projects/<key>`` (:func:`project_directory`) instead: their values are
    in the generated code, so a later build of the same project regenerates it, Brian2 rewrites
    only the files whose text changed and make recompiles only those.

Using it, from a network builder::

    def build(builder):                  # called only when the key is not in the cache
        group = NeuronGroup(n, equations, namespace=namespace, name="cells")
        builder.input(group, "I")        # value given per run
        builder.apply_inputs()           # inputs and seed are set here in main.cpp
        group.v = "E_L + 5*mV*rand()"    # initialisation that may use them
        builder.output(group, "v")
        builder.run(Network(group), 1 * second, namespace=namespace)

    program = standalone_program({"builder": "cells/1", "n": n, ...}, build, threads=2)
    result = program.run({"cells.I": currents}, duration=2 * second, seed=7)
    result["cells.v"]                    # numpy array (SI units)

Functions
---------
standalone_program
    The compiled program of a network description: from the cache, or built now.
cache_directory
    The folder of the build cache.
build_key
    The cache key of a description (what :func:`standalone_program` looks up).

Classes
-------
StandaloneBuilder
    Handed to a build function: declares inputs and outputs and runs the network once.
StandaloneProgram
    A compiled program in the cache; :meth:`StandaloneProgram.run` runs it with new values.
StandaloneRun
    The outputs of one run (mapping name -> numpy array) with its timings.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neurophase.docstrings import template
from neurophase.errors import InterruptedRunError, ParameterError, SimulationError, UnitMismatchError
from neurophase.micro.devices import (
    restore_preferences,
    standalone_compile_flags,
    standalone_preferences,
    standalone_threads,
)

if TYPE_CHECKING:
    from brian2 import Network, TimedArray
    from brian2.units.fundamentalunits import Quantity

__all__ = ["standalone_program", "cache_directory", "build_key", "project_directory", "StandaloneBuilder",
           "StandaloneProgram", "StandaloneRun", "start_ahead", "cancel_ahead", "last_run",
           "precompiled_header_flags", "recall_flag_checks", "remember_flag_checks", "CACHE_VARIABLE",
           "FORMAT"]

_doc = template(
    input_name="""name : str, optional
    The input's name in :meth:`StandaloneProgram.run`.""",
    returns_input_name="""Returns
-------
str
    The input's name.""",
)

#: Environment variable naming the cache folder (default: the user cache folder).
CACHE_VARIABLE = "NEUROPHASE_CACHE_DIR"
#: Version of the cache layout and of the code inserted into main.cpp (part of every key).
FORMAT = 2
_MANIFEST = "manifest.json"
_DURATION_ARGUMENT = "neurophase.duration="
_SEED_ARGUMENT = "neurophase.seed="
#: Inserted into main.cpp where the builder applies its inputs: reads (and removes from the
#: argument list) the run duration and the seed, seeds every generator as brian2.seed does.
_ARGUMENT_CODE = """
double _neurophase_duration = -1.0;
{
    std::vector<std::string> _neurophase_rest;
    for (const auto& _argument : args) {
        if (_argument.rfind("%(duration)s", 0) == 0) {
            _neurophase_duration = std::stod(_argument.substr(%(duration_length)d));
        } else if (_argument.rfind("%(seed)s", 0) == 0) {
            const unsigned long _seed = std::stoul(_argument.substr(%(seed_length)d));
            for (size_t _i = 0; _i < brian::_random_generators.size(); _i++)
                brian::_random_generators[_i].seed(_seed + _i);
        } else {
            _neurophase_rest.push_back(_argument);
        }
    }
    args = _neurophase_rest;
}
if (!(_neurophase_duration >= 0.0)) {
    std::cerr << "neurophase: no run duration (argument %(duration)s<seconds>)" << std::endl;
    return 2;
}
""" % {"duration": _DURATION_ARGUMENT, "duration_length": len(_DURATION_ARGUMENT),
       "seed": _SEED_ARGUMENT, "seed_length": len(_SEED_ARGUMENT)}
_DURATION_NAME = "_neurophase_duration"
#: Brian2's device is global to a process: one build at a time per process (threads of a Dask
#: worker, for example); the file lock of each key orders processes.
_BUILDING = threading.Lock()


# ------------------------------------------------------------------------------------ the key
def cache_directory(directory: str | Path | None = None) -> Path:
    """The folder holding the builds: ``directory``, else ``$NEUROPHASE_CACHE_DIR``, else
    ``<user cache folder>/neurophase``; builds are in its ``standalone`` subfolder.

    Parameters
    ----------
    directory : str or pathlib.Path, optional
        The cache folder.

    Returns
    -------
    pathlib.Path
        ``<cache folder>/standalone`` (not created here).
    """
    if directory is None:
        directory = os.environ.get(CACHE_VARIABLE, "").strip() or None
    if directory is None:
        import platformdirs

        directory = platformdirs.user_cache_dir("neurophase", appauthor=False)
    return Path(directory).expanduser() / "standalone"


@functools.lru_cache(maxsize=None)
def _compiler_identity():
    """The C++ compiler make will call (``$CXX``, else ``g++``) and its version line."""
    compiler = os.environ.get("CXX", "").strip() or "g++"
    try:
        completed = subprocess.run([*compiler.split(), "--version"], capture_output=True, text=True, timeout=60)
        version = (completed.stdout or completed.stderr).strip().splitlines()[0] if completed.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError, IndexError):
        version = ""
    return compiler, version


@functools.lru_cache(maxsize=None)
def _cpu_identity():
    """Vendor, model name and a hash of the instruction-set flags of this machine's CPU."""
    fields = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                name, _, value = line.partition(":")
                name = name.strip()
                if name in ("vendor_id", "model name", "flags", "Features", "CPU implementer", "CPU part") \
                        and name not in fields:
                    fields[name] = value.strip()
                if not line.strip() and fields:
                    break
    except OSError:
        pass
    if not fields:
        try:
            brand = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                                   text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            brand = ""
        fields["model name"] = brand or platform.processor()
    flags = fields.pop("flags", None) or fields.pop("Features", "")
    fields["isa"] = hashlib.sha256(" ".join(sorted(flags.split())).encode()).hexdigest()[:16]
    return tuple(sorted(fields.items()))


def _toolchain(flags, threads):
    """What the compiled code depends on besides the network: Brian2, compiler, flags, threads, CPU."""
    from importlib.metadata import version

    from brian2 import prefs

    compiler, compiler_version = _compiler_identity()
    machine = platform.machine()
    tuned = any("native" in flag for flag in flags)
    return {
        "brian2": version("brian2"),
        "compiler": compiler, "compiler_version": compiler_version,
        "flags": list(flags), "openmp_threads": int(threads),
        "machine": machine, "cpu": [list(item) for item in _cpu_identity()] if tuned else None,
        "system": platform.system(),
        "preferences": {name: _canonical(prefs[name]) for name in (
            "core.default_float_dtype", "core.default_integer_dtype", "codegen.loop_invariant_optimisations",
            "codegen.cpp.define_macros", "codegen.cpp.include_dirs", "codegen.cpp.library_dirs",
            "codegen.cpp.libraries", "codegen.cpp.extra_link_args", "codegen.cpp.headers",
            "codegen.cpp.compiler", "devices.cpp_standalone.extra_make_args_unix")},
    }


def _canonical(value):
    """``value`` as JSON-serialisable plain data (quantities as [SI value, dimension exponents])."""
    from brian2.units.fundamentalunits import Quantity

    if isinstance(value, Quantity):
        return {"value": _canonical(np.asarray(value)), "dimensions": _exponents(value.dim)}
    if isinstance(value, np.ndarray):
        return {"dtype": value.dtype.str, "shape": list(value.shape), "values": value.ravel().tolist()}
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in sorted(value.items(), key=lambda pair: str(pair[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    if isinstance(value, type):
        return value.__name__
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _exponents(dimension):
    """The seven SI base-unit exponents of a Brian2 dimension, as plain floats."""
    return [float(exponent) for exponent in dimension._dims]


def build_key(description: dict[str, Any], threads: int | None = None, flags: Iterable[str] | None = None) -> str:
    """The cache key (32 hex digits) of a network ``description`` built with ``threads`` OpenMP
    threads and compiler ``flags`` (defaults: :func:`~neurophase.micro.devices.standalone_threads`,
    :func:`~neurophase.micro.devices.standalone_compile_flags`).

    Parameters
    ----------
    description : dict
        What the generated code depends on (see :func:`standalone_program`).
    threads : int, optional
        OpenMP threads.
    flags : iterable of str, optional
        Compiler flags.

    Returns
    -------
    str
        The first 32 hex digits of the SHA-256 of the description, the format, the toolchain
        (compiler, CPU, Brian2 version, flags) and the threads.
    """
    threads = standalone_threads(threads)
    flags = standalone_compile_flags() if flags is None else list(flags)
    payload = {"format": FORMAT, "description": _canonical(description), "toolchain": _toolchain(flags, threads)}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def project_directory(description: dict[str, Any], threads: int | None = None,
                      directory: str | Path | None = None) -> Path:
    """The persistent project folder of a one-off standalone build of ``description``
    (:class:`~neurophase.micro.devices.Brian2Device` with ``project``):
    ``<cache>/projects/<build_key(description, threads)>``, the key including the toolchain and
    the threads as the keys of this cache do.

    Parameters
    ----------
    description : dict
        What the generated code depends on.
    threads : int, optional
        OpenMP threads.
    directory : str or pathlib.Path, optional
        The cache folder (as in :func:`cache_directory`).

    Returns
    -------
    pathlib.Path
        The folder (not created here).
    """
    return cache_directory(directory).parent / "projects" / build_key(description, threads)


# ------------------------------------------------------------------------------------ building
class StandaloneBuilder:
    """What a build function of :func:`standalone_program` uses to declare its network.

    The build function creates its Brian2 objects as usual (Brian2 is on the C++ standalone
    device while it runs), then declares which variables get new values on every run
    (:meth:`input`, :meth:`timed_array`), which arrays are read back (:meth:`output`), and runs
    the network once (:meth:`run`). Values assigned from Python are compiled into the program:
    give every value that may change between runs as an input instead, and never assign an
    input after :meth:`apply_inputs`.

    Parameters
    ----------
    threads : int
        The OpenMP threads of this build (also the attribute ``threads``).
    """

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._inputs, self._timed_arrays, self._outputs = {}, {}, {}
        self._applied = False
        self._ran = False

    @_doc
    def input(self, group: Any, variable: str, name: str | None = None) -> str:
        """Declare ``group.variable`` (a non-dynamic, writable array variable: a per-neurone or
        shared ``(constant)`` parameter, or an initial state) as a value given per run, under
        ``name`` (default ``"<group name>.<variable>"``). Returns the name.

        Parameters
        ----------
        group : brian2.Group
            A NeuronGroup or Synapses of the network.
        variable : str
            One of its variables.
        %(input_name)s

        %(returns_input_name)s

        Raises
        ------
        ParameterError
            No such variable, or one that cannot be set per run.
        """
        from brian2.core.variables import ArrayVariable, DynamicArrayVariable

        self._check_open()
        try:
            var = group.variables[variable]
        except KeyError:
            raise ParameterError(f"{group.name} has no variable {variable!r} to take as an input.") from None
        if not isinstance(var, ArrayVariable) or isinstance(var, DynamicArrayVariable) or var.read_only:
            raise ParameterError(f"{group.name}.{variable} cannot be set per run (only writable, fixed-size "
                                 "array variables can; declare it in the equations as a parameter).")
        name = name or f"{group.name}.{variable}"
        self._inputs[name] = var
        return name

    @_doc
    def timed_array(self, timed_array: TimedArray, name: str | None = None) -> str:
        """Declare the values of ``timed_array`` (same shape; its ``dt`` stays compiled in) as a
        value given per run, under ``name`` (default ``"<name>.values"``). Returns the name.

        Parameters
        ----------
        timed_array : brian2.TimedArray
            A TimedArray the network uses.
        %(input_name)s

        %(returns_input_name)s
        """
        self._check_open()
        name = name or f"{timed_array.name}.values"
        self._timed_arrays[name] = timed_array
        return name

    def output(self, owner: Any, variable: str, name: str | None = None) -> str:
        """Read ``owner.variable`` (a group's state variable or a monitor's recorded array) after
        every run, under ``name`` (default ``"<owner name>.<variable>"``). Returns the name.

        Parameters
        ----------
        owner : brian2.Group or monitor
            A group or monitor of the network.
        variable : str
            One of its array variables.
        name : str, optional
            The output's name in :class:`StandaloneRun`.

        Returns
        -------
        str
            The output's name.

        Raises
        ------
        ParameterError
            No such variable, or one not stored in an array.
        """
        from brian2.core.variables import ArrayVariable

        try:
            var = owner.variables[variable]
        except KeyError:
            raise ParameterError(f"{owner.name} has no variable {variable!r} to read back.") from None
        if not isinstance(var, ArrayVariable):
            raise ParameterError(f"{owner.name}.{variable} is not stored in an array; it cannot be read back.")
        name = name or f"{owner.name}.{variable}"
        self._outputs[name] = (owner, var)
        return name

    def apply_inputs(self) -> None:
        """Mark the point of ``main.cpp`` where the inputs and the seed take their run values.

        Code generated before this point (object creation, values assigned from Python) sees
        the compiled values; initialisations that use an input or random numbers must come
        after it. Called by :meth:`run` if the build function did not call it.
        """
        from brian2 import device

        self._check_open()
        device.insert_code("main", _ARGUMENT_CODE)
        device.apply_run_args()
        self._applied = True

    def run(self, network: Network, duration: Quantity, namespace: dict[str, Any] | None = None) -> None:
        """Run ``network`` once for ``duration`` (the value only matters for this build's check;
        every run of the program gives its own). ``namespace`` as in :meth:`brian2.Network.run`
        (give it explicitly: the caller's local variables are not looked up).

        Parameters
        ----------
        network : brian2.Network
            The network to compile.
        duration : Quantity (time)
            A run duration (replaced by each run's own).
        namespace : dict, optional
            Brian2 names of the run (default empty).

        Raises
        ------
        SimulationError
            Brian2's generated run call was not found (unsupported Brian2 version).
        """
        from brian2 import device

        self._check_open()
        if not self._applied:
            self.apply_inputs()
        network.run(duration, namespace={} if namespace is None else namespace)
        replaced = 0
        for action, arguments in device.main_queue:
            if action != "run_network" or arguments[0] is not network:
                continue
            lines = arguments[1]
            for index, line in enumerate(lines):
                stripped = line.strip()
                if stripped.startswith(f"{network.name}.run(") and "," in stripped:
                    head, _, rest = stripped.partition(",")
                    lines[index] = f"{network.name}.run({_DURATION_NAME},{rest}"
                    replaced += 1
        if replaced != 1:
            raise SimulationError(
                f"Internal error: Brian2's generated run call for {network.name!r} was not found "
                f"({replaced} matches); this Brian2 version is not supported by the build cache. "
                "Use device='runtime'.")
        self._ran = True

    def _check_open(self):
        if self._ran:
            raise ParameterError("The network of a standalone build runs once; declare everything before run().")

    def _manifest(self, device):
        inputs = {}
        for name, var in self._inputs.items():
            inputs[name] = {"target": f"{var.owner.name}.{var.name}", "dtype": np.dtype(var.dtype).str,
                            "shape": [int(var.size)], "dimensions": _exponents(var.dim)}
        for name, timed_array in self._timed_arrays.items():
            values = np.asarray(timed_array.values)
            inputs[name] = {"target": f"{timed_array.name}.values", "dtype": values.dtype.str,
                            "shape": [int(size) for size in values.shape], "dimensions": _exponents(timed_array.dim)}
        outputs = {}
        for name, (owner, var) in self._outputs.items():
            size = var.size
            columns = int(size[1]) if isinstance(size, tuple) and len(size) == 2 else None
            if columns is not None and columns == 0 and hasattr(owner, "record"):
                columns = int(np.asarray(owner.record).size)
            outputs[name] = {"file": device.get_array_filename(var), "dtype": np.dtype(var.dtype).str,
                             "columns": columns, "dimensions": _exponents(var.dim)}
        return {"inputs": inputs, "outputs": outputs, "threads": self.threads}


@contextlib.contextmanager
def _exclusive(path):
    """An exclusive lock on the file ``path`` (released when the block ends or the process dies)."""
    handle = open(path, "a+b")
    try:
        try:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except ImportError:  # Windows
            import msvcrt

            while True:
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    time.sleep(0.5)
        yield
    finally:
        handle.close()  # closing releases the lock


#: Standard headers that Brian2's generated C++ files include, precompiled once per compiler and
#: flags (:func:`_precompiled_header`): parsing them is about half of the compile time of a build.
_PRECOMPILED_HEADERS = ("algorithm", "cassert", "climits", "cmath", "csignal", "cstdlib", "ctime", "fstream",
                        "iostream", "iterator", "limits", "map", "random", "set", "stdint.h", "string", "tuple",
                        "utility", "vector")


def _precompiled_header(root, flags, openmp):
    """The header of :data:`_PRECOMPILED_HEADERS`, precompiled with GCC for ``flags`` (and
    ``-fopenmp``, which Brian2 adds for OpenMP builds; built once under
    ``<root>/../precompiled/<hash>``); None when the compiler is not GCC or the precompilation
    fails. GCC uses a ``.gch`` file only if it was compiled with compatible flags and otherwise
    reads the header itself, so the result never depends on it."""
    from brian2 import prefs

    compiler, version = _compiler_identity()
    if not any(name in version for name in ("g++", "GCC", "gcc")) or "clang" in version.lower():
        return None
    macros = [f"-D{name}" if value is None else f"-D{name}={value}"
              for name, value in prefs.codegen.cpp.define_macros]
    arguments = [*macros, *flags, *(["-fopenmp"] if openmp else [])]
    folder = root.parent / "precompiled" / hashlib.sha256(
        json.dumps([compiler, version, arguments]).encode()).hexdigest()[:16]
    header, compiled = folder / "neurophase_std.h", folder / "neurophase_std.h.gch"
    if compiled.is_file():
        return header
    folder.mkdir(parents=True, exist_ok=True)
    with _exclusive(folder / "lock"):
        if compiled.is_file():
            return header
        if (folder / "failed").exists():
            return None
        header.write_text("".join(f"#include <{name}>\n" for name in _PRECOMPILED_HEADERS))
        partial = folder / f"partial-{os.getpid()}.gch"
        try:
            completed = subprocess.run([*compiler.split(), "-x", "c++-header", *arguments, str(header), "-o",
                                        str(partial)], capture_output=True, timeout=600)
        except (OSError, subprocess.SubprocessError):
            completed = None
        if completed is None or completed.returncode != 0:
            partial.unlink(missing_ok=True)
            (folder / "failed").write_text("precompilation failed; builds read the headers themselves\n")
            return None
        os.replace(partial, compiled)
    return header


#: Files of Brian2's standalone project that hold no per-step work: set-up, file input and
#: output, the list of code objects, the main program. The simulation loop's work is in
#: ``code_objects/`` (state updates, thresholds, resets, synaptic propagation with the spike
#: queue of ``brianlib``, monitors) and in ``brianlib/randomkit``, which keep Brian2's flags.
SUPPORT_OBJECTS = ("main.o", "objects.o", "network.o", "run.o", "synapses_classes.o")
#: Optimisation level of :data:`SUPPORT_OBJECTS` (Brian2 uses -O3 for every file).
SUPPORT_OPTIMISATION = "-O1"


def _lighten_support_files(makefile):
    """Compile :data:`SUPPORT_OBJECTS` at :data:`SUPPORT_OPTIMISATION` instead of Brian2's -O3:
    ``objects.cpp`` alone (array set-up and file input/output, no per-step work) takes about 40 %
    of the compile time of a small network at -O3 and half of that at -O1 (benchmarks/README.md,
    *Whole command*). A GNU make target-specific variable; a makefile without an
    ``OPTIMISATIONS`` line (another Brian2 version) is left as it is."""
    text = makefile.read_text()
    if "\nOPTIMISATIONS = " not in "\n" + text or " -O3" not in text:
        return
    makefile.write_text(text + "\n# neurophase: support files without per-step work compiled at "
                        f"{SUPPORT_OPTIMISATION}\n{' '.join(SUPPORT_OBJECTS)}: "
                        f"OPTIMISATIONS := $(subst -O3,{SUPPORT_OPTIMISATION},$(OPTIMISATIONS))\n")


def precompiled_header_flags(threads: int, directory: str | Path | None = None) -> list[str]:
    """The compiler flag that includes the precompiled standard headers (built once per compiler,
    flags and OpenMP setting under ``<cache>/precompiled``), for any standalone build with
    ``threads`` OpenMP threads; empty when the compiler is not GCC, the precompilation failed, or
    Brian2's ``codegen.cpp.extra_compile_args`` overrides the flags.

    Parameters
    ----------
    threads : int
        OpenMP threads of the build (1: without OpenMP).
    directory : str or pathlib.Path, optional
        Cache folder (default :func:`cache_directory`).

    Returns
    -------
    list of str
        ``["--include=<header>"]`` or ``[]``.
    """
    from brian2 import prefs

    if prefs.codegen.cpp.extra_compile_args is not None:
        return []
    root = cache_directory(directory)
    root.mkdir(parents=True, exist_ok=True)
    header = _precompiled_header(root, standalone_compile_flags(), openmp=threads > 1)
    return [] if header is None else [f"--include={header}"]


def _flag_file(directory=None):
    compiler, version = _compiler_identity()
    digest = hashlib.sha256(f"{compiler}\n{version}".encode()).hexdigest()[:16]
    return cache_directory(directory).parent / "flags" / f"{digest}.json"


def recall_flag_checks(directory: str | Path | None = None) -> None:
    """Give Brian2 the answers of earlier processes to "does the compiler accept this flag?".

    Brian2 checks every compiler flag of a C++ build by compiling a test program, once per flag
    and process (``brian2.codegen.cpp_prefs.has_flag``; about 0.1 s each, 0.8 s for the flags of
    a standalone build here). The answers are kept per compiler and version in
    ``<cache>/flags/<hash>.json`` (:func:`remember_flag_checks`) and put in Brian2's own table
    here, so a later process compiles no test program for a flag already checked. Without that
    table (another Brian2 version) nothing happens.

    Parameters
    ----------
    directory : str or pathlib.Path, optional
        The cache folder (as in :func:`cache_directory`).
    """
    try:
        from brian2.codegen import cpp_prefs

        known = cpp_prefs._compiler_flag_compatibility
        stored = json.loads(_flag_file(directory).read_text())
        for compiler, flag, accepted in stored:
            known.setdefault((str(compiler), str(flag)), bool(accepted))
    except (ImportError, AttributeError, OSError, ValueError, TypeError):
        return


def remember_flag_checks(directory: str | Path | None = None) -> None:
    """Store Brian2's answers to its compiler-flag checks of this process for later processes
    (:func:`recall_flag_checks`); written under a temporary name and renamed, errors ignored.

    Parameters
    ----------
    directory : str or pathlib.Path, optional
        The cache folder (as in :func:`cache_directory`).
    """
    try:
        from brian2.codegen import cpp_prefs

        entries = sorted([compiler, flag, bool(accepted)]
                         for (compiler, flag), accepted in cpp_prefs._compiler_flag_compatibility.items())
        if not entries:
            return
        path = _flag_file(directory)
        text = json.dumps(entries)
        if path.is_file() and path.read_text() == text:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_text(text)
        os.replace(partial, path)
    except (ImportError, AttributeError, OSError, TypeError, ValueError):
        return


def _build(staging, build, threads, compile=True):
    """Run ``build`` on the standalone device in ``staging`` and compile (unless ``compile`` is
    False); returns the manifest."""
    from brian2 import device, get_device, set_device
    from brian2.devices.device import RuntimeDevice, reset_device

    if not isinstance(get_device(), RuntimeDevice):
        raise ParameterError(
            f"Brian2 is on the {type(get_device()).__name__} device (set by other code); neurophase "
            "selects its device per run: call brian2.device.reinit() and brian2.set_device('runtime') first.")
    extra_flags = precompiled_header_flags(threads, staging.parent.parent) if compile else []
    previous = standalone_preferences(threads, extra_flags)
    recall_flag_checks(staging.parent.parent)
    try:
        set_device("cpp_standalone", directory=str(staging), build_on_run=False, with_output=False)
        builder = StandaloneBuilder(threads)
        build(builder)
        if not builder._ran:
            raise ParameterError("The build function of a standalone program must call builder.run(network, ...).")
        try:
            device.build(directory=str(staging), compile=False, run=False, with_output=False)
            if compile:
                _lighten_support_files(staging / "makefile")
                # a build in the cache is compiled once, never again in place: the header
                # dependencies that make would first extract from every source file (about 0.5 s
                # of preprocessing) are of no use; an empty list newer than every source skips it
                (staging / "make.deps").write_text("")
                from brian2.codegen.cpp_prefs import get_compiler_and_args

                device.compile_source(str(staging), get_compiler_and_args()[0], False, False)
        except RuntimeError as error:
            raise SimulationError(
                f"Compiling the C++ standalone program failed ({error}). It needs a C++ compiler "
                f"({_compiler_identity()[0]}, or $CXX) and make; install them or use device='runtime'.") from error
        remember_flag_checks(staging.parent.parent)
        return builder._manifest(device)
    finally:
        device.reinit()
        reset_device("runtime")
        restore_preferences(previous)


def _load(entry):
    manifest_path = entry / _MANIFEST
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("format") != FORMAT or not (entry / manifest["program"]).is_file():
        return None
    return StandaloneProgram(entry, manifest)


def standalone_program(description: dict[str, Any], build: Callable[[StandaloneBuilder], None],
                       threads: int | None = None, directory: str | Path | None = None) -> StandaloneProgram:
    """The compiled C++ standalone program of a network: from the cache, or built now.

    Parameters
    ----------
    description : dict
        Everything the generated code depends on, as plain data or Brian2 quantities (it is
        hashed into the key; values given per run must not be in it). Two networks with the
        same description must generate the same code: pass everything ``build`` uses.
    build : callable
        ``build(builder)`` creates the Brian2 objects and uses the
        :class:`StandaloneBuilder` (called only when the key is not in the cache).
    threads : int, optional
        OpenMP threads (default :func:`~neurophase.micro.devices.standalone_threads`).
    directory : str or pathlib.Path, optional
        Cache folder (default :func:`cache_directory`).

    Returns
    -------
    StandaloneProgram
        ``program.compiled`` is True when this call built it.
    """
    threads = standalone_threads(threads)
    flags = standalone_compile_flags()
    key = build_key(description, threads, flags)
    root = cache_directory(directory)
    root.mkdir(parents=True, exist_ok=True)
    entry = root / key
    program = _load(entry)
    if program is not None:
        return program
    with _BUILDING, _exclusive(root / f"{key}.lock"):
        program = _load(entry)  # built by another process while this one waited
        if program is not None:
            return program
        for stale in root.glob(f"{key}.building-*"):  # left by a process killed while building
            shutil.rmtree(stale, ignore_errors=True)
        if entry.exists():  # incomplete or from another format: rebuild
            shutil.rmtree(entry, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{key}.building-", dir=root))
        try:
            started = time.perf_counter()
            manifest = _build(staging, build, threads)
            for path in list(staging.glob("*.o")) + list(staging.glob("code_objects/*.o")):
                path.unlink()
            compiler, compiler_version = _compiler_identity()
            manifest.update(
                format=FORMAT, key=key, program="main.exe" if os.name == "nt" else "main",
                build_seconds=round(time.perf_counter() - started, 3), created=time.strftime("%Y-%m-%dT%H:%M:%S"),
                description=_canonical(description), toolchain=_toolchain(flags, threads))
            (staging / _MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
            try:
                os.rename(staging, entry)
            except OSError:  # another process (without a working lock, e.g. on NFS) finished first
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    program = _load(entry)
    if program is None:
        raise SimulationError(f"The standalone build {entry} could not be read back; delete that folder and run again.")
    program.compiled = True
    return program


# ------------------------------------------------------------------------------------- running
@dataclasses.dataclass
class StandaloneRun:
    """The outputs of one run of a :class:`StandaloneProgram`.

    Attributes
    ----------
    values : dict
        Output name -> numpy array in SI units (a monitor's recorded variable as
        ``(samples, recorded indices)``).
    wall_seconds : float
        Wall-clock time of the binary (start, run, writing the results).
    run_seconds : float
        Brian2's own time of the network run (CPU time without OpenMP, wall time with it).
    cpu_seconds : float or None
        CPU time (user + system, every thread) of the binary; None where the system does not
        report it.
    """

    values: dict
    wall_seconds: float
    run_seconds: float
    cpu_seconds: float | None = None

    def __getitem__(self, name):
        return self.values[name]


class StandaloneProgram:
    """A compiled network in the build cache (see :func:`standalone_program`).

    Parameters
    ----------
    directory : str or pathlib.Path
        Its folder (``<cache>/standalone/<key>``), the attribute ``directory`` (a Path).
    manifest : dict
        Inputs (name -> target, dtype, shape, dimensions), outputs (name -> results file,
        dtype, columns), threads, key, toolchain, description, build time.

    Attributes
    ----------
    compiled : bool
        True when the call that returned it compiled it.
    """

    def __init__(self, directory: str | Path, manifest: dict[str, Any]) -> None:
        self.directory = Path(directory)
        self.manifest = manifest
        self.compiled = False

    @property
    def key(self) -> str:
        """The cache key (:func:`build_key`)."""
        return self.manifest["key"]

    @property
    def threads(self) -> int:
        """The OpenMP threads it was built with."""
        return int(self.manifest["threads"])

    @property
    def inputs(self) -> list[str]:
        """Names of the values each run needs."""
        return sorted(self.manifest["inputs"])

    def run(self, inputs: dict[str, Any], duration: Quantity, seed: int | None = None,
            timeout: float | None = None, what: str | None = None) -> StandaloneRun:
        """Run the program with ``inputs`` (name -> Quantity, array or scalar; a scalar fills the
        whole variable) for ``duration`` (a time Quantity) with ``seed`` (int; None: a random
        seed, as ``brian2.seed()``). Returns a :class:`StandaloneRun`.

        ``what`` names the simulation in words for the start log line and for errors. A Ctrl-C
        while the binary runs (under :func:`neurophase.interrupts.handle_interrupts`) stops it at
        once: a standalone program cannot stop after its current step and hand back a part.

        Parameters
        ----------
        inputs : dict of str to Quantity, array or scalar
            A value for every name of :attr:`inputs`, in the dimension of its variable.
        duration : Quantity (time)
            Run duration.
        seed : int, optional
            Seed of every random generator, in 0 .. 2**32 - 1.
        timeout : float, optional, s
            Wall-clock limit of the binary.
        what : str, optional
            The simulation in words.

        Returns
        -------
        StandaloneRun
            The outputs (SI units) and the times of the run.

        Raises
        ------
        ParameterError
            An input is missing, unknown, or of the wrong size.
        UnitMismatchError
            An input or the duration has the wrong dimension.
        SimulationError
            The binary failed.
        InterruptedRunError
            The run stopped before its end (Ctrl-C, or the binary reports a fraction below 1).
        """
        from neurophase.units import to_magnitude

        expected = self.manifest["inputs"]
        missing, unknown = sorted(set(expected) - set(inputs)), sorted(set(inputs) - set(expected))
        if missing or unknown:
            raise ParameterError(f"The standalone program {self.key} takes the inputs {', '.join(sorted(expected))}; "
                                 f"missing {missing or 'none'}, unknown {unknown or 'none'}.")
        duration_s = float(to_magnitude(duration, "second", name="duration"))
        if not (np.isfinite(duration_s) and duration_s >= 0):
            raise ParameterError(f"duration = {duration!s} must be a finite, non-negative time.")
        if seed is not None:
            seed = int(seed)
            if not 0 <= seed < 2**32:
                raise ParameterError(f"seed = {seed} must be a whole number in 0 .. 2**32 - 1.")
        arrays = {name: _input_array(inputs[name], expected[name], name) for name in sorted(expected)}
        from neurophase.progress import announce_start

        label = what or f"the standalone program {self.key}"
        announce_start(label, duration_s)
        launch = _take_ahead(self.key, arrays, duration_s, seed)
        if launch is None:
            launch = _Launch(self, arrays, duration_s, seed)
        _LAST_RUN.clear()
        _LAST_RUN.update(key=self.key, arrays=arrays, duration=duration_s, seed=seed)
        return launch.finish(timeout, label)


class _Launch:
    """One start of a program's binary with its input files, in its own temporary folder."""

    def __init__(self, program, arrays, duration_s, seed):
        self.program, self.arrays, self.duration, self.seed = program, arrays, duration_s, seed
        expected = program.manifest["inputs"]
        self.scratch = Path(tempfile.mkdtemp(prefix="neurophase_run_"))
        try:
            self.results = self.scratch / "results"
            self.results.mkdir()
            arguments = [str(program.directory / program.manifest["program"]), "--results_dir",
                         str(self.results) + os.sep]
            for index, name in enumerate(sorted(expected)):
                path = self.scratch / f"input_{index}.dat"
                arrays[name].tofile(path)
                arguments.append(f"{expected[name]['target']}={path}")
            arguments.append(f"{_DURATION_ARGUMENT}{duration_s!r}")
            if seed is not None:
                arguments.append(f"{_SEED_ARGUMENT}{seed}")
            environment = dict(os.environ)
            environment.setdefault("LD_BIND_NOW", "1")  # Brian2's default run environment
            # OpenMP threads that wait at the end of a step sleep instead of spinning: on a machine
            # busy with other work a spinning thread takes the core from the thread it waits for
            # (measured: 5-10 times slower); set OMP_WAIT_POLICY=active for an idle machine
            environment.setdefault("OMP_WAIT_POLICY", "passive")
            self.cpu = _children_cpu_seconds()
            self.started = time.perf_counter()
            with open(self.scratch / "stdout", "wb") as stdout, open(self.scratch / "stderr", "wb") as stderr:
                self.process = subprocess.Popen(arguments, cwd=program.directory, stdout=stdout, stderr=stderr,
                                                env=environment)
        except BaseException:
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise

    def matches(self, key, arrays, duration_s, seed):
        """True when this launch runs program ``key`` with exactly these inputs, duration and seed."""
        return (key == self.program.key and duration_s == self.duration and seed == self.seed
                and sorted(arrays) == sorted(self.arrays)
                and all(arrays[name].dtype == self.arrays[name].dtype and arrays[name].shape == self.arrays[name].shape
                        and arrays[name].tobytes() == self.arrays[name].tobytes() for name in arrays))

    def cancel(self):
        """Stop the binary (if it still runs) and delete the folder."""
        try:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def finish(self, timeout, label):
        """Wait for the binary (polling for Ctrl-C) and read its outputs: a :class:`StandaloneRun`."""
        from neurophase.interrupts import external_run, interrupt_requested

        try:
            with external_run():
                returncode = _wait_binary(self.process, timeout, interrupt_requested)
            wall = time.perf_counter() - self.started
            cpu = None if self.cpu is None else _children_cpu_seconds() - self.cpu
            stdout = (self.scratch / "stdout").read_text(errors="replace")
            problems = [line for line in (self.scratch / "stderr").read_text(errors="replace").splitlines()
                        if line.strip()]
            if interrupt_requested():
                raise InterruptedRunError(
                    f"the C++ standalone run of {label} was interrupted by Ctrl-C and stopped; nothing "
                    "was kept from it.", completed=None)
            if returncode != 0 or problems:
                raise SimulationError(
                    f"The standalone program {self.program.directory} failed (exit status {returncode}): "
                    f"{' | '.join(problems[-5:]) or stdout[-500:]}. If it was built on another "
                    "machine or the folder was changed, delete the folder and run again.")
            run_seconds, fraction = (float(value) for value in (self.results / "last_run_info.txt").read_text().split())
            if fraction < 1.0:
                raise InterruptedRunError(
                    f"The standalone run stopped at {fraction:.1%} of its duration (interrupted); no result "
                    "is returned for a cut-short run. Run again.", completed=fraction)
            values = {name: _read_output(self.results, spec) for name, spec in self.program.manifest["outputs"].items()}
        finally:
            self.cancel()
        return StandaloneRun(values, wall, run_seconds, cpu)


# --------------------------------------------------------------------------- starting ahead
#: The run started ahead (:func:`start_ahead`) that no run has taken yet (at most one).
_AHEAD: list[_Launch] = []
_AHEAD_LOCK = threading.Lock()
#: Program key, input arrays, duration and seed of the last :meth:`StandaloneProgram.run`.
_LAST_RUN: dict[str, Any] = {}


def start_ahead(key: str, arrays: dict[str, np.ndarray], duration: float, seed: int | None,
                directory: str | Path | None = None) -> bool:
    """Start the cached program ``key`` now with ``arrays``, before the run that needs it is known.

    A caller that can predict a coming :meth:`StandaloneProgram.run` (the ``fi`` command, from
    the record of an earlier identical command line, :mod:`neurophase.micro.ahead`) starts the
    binary while it imports Brian2 and builds the network description. The run that follows
    takes this process only when its program key, duration, seed and every input array are
    identical to the byte (:meth:`_Launch.matches`); otherwise the process is killed and the run
    starts its own. The results are therefore exactly those of a run started at that point; only
    the waiting is shorter. Nothing here imports Brian2.

    Parameters
    ----------
    key : str
        The program's cache key.
    arrays : dict of str to numpy.ndarray
        Every input, as the raw array the binary reads (SI values, the manifest's dtype and shape).
    duration : float, s
        Run duration.
    seed : int or None
        The seed.
    directory : str or pathlib.Path, optional
        Cache folder (default :func:`cache_directory`).

    Returns
    -------
    bool
        True when the binary was started; False when the program is not in the cache or the
        arrays do not fit its manifest.
    """
    program = _load(cache_directory(directory) / key)
    if program is None or program.key != key:
        return False
    expected = program.manifest["inputs"]
    if sorted(expected) != sorted(arrays) or any(
            arrays[name].dtype != np.dtype(expected[name]["dtype"])
            or arrays[name].shape != tuple(expected[name]["shape"]) for name in arrays):
        return False
    cancel_ahead()
    with _AHEAD_LOCK:
        _AHEAD.append(_Launch(program, arrays, float(duration), seed))
    return True


def cancel_ahead() -> None:
    """Stop a run started ahead that no run took (its process killed, its folder deleted)."""
    with _AHEAD_LOCK:
        launches = list(_AHEAD)
        _AHEAD.clear()
    for launch in launches:
        launch.cancel()


def _take_ahead(key, arrays, duration_s, seed):
    """The run started ahead if it is exactly this one (else it is cancelled): a _Launch or None."""
    with _AHEAD_LOCK:
        launches = list(_AHEAD)
        _AHEAD.clear()
    taken = None
    for launch in launches:
        if taken is None and launch.matches(key, arrays, duration_s, seed):
            taken = launch
        else:
            launch.cancel()
    return taken


def last_run() -> dict[str, Any]:
    """Program key (``key``), input arrays (``arrays``), duration (``duration``, s) and seed
    (``seed``) of the last :meth:`StandaloneProgram.run` of this process (empty before any).

    Returns
    -------
    dict
        A copy.
    """
    return dict(_LAST_RUN)


def _wait_binary(process, timeout, interrupt_requested):
    """Wait for the standalone binary ``process`` to end, polling for Ctrl-C: on a request (or any
    exception, such as the KeyboardInterrupt of a second press) it is terminated, never left
    running. Returns its exit status."""
    deadline = None if timeout is None else time.monotonic() + float(timeout)
    try:
        while True:
            try:
                return process.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                if interrupt_requested():
                    process.terminate()
                    return process.wait()
                if deadline is not None and time.monotonic() > deadline:
                    process.kill()
                    process.wait()
                    raise subprocess.TimeoutExpired(process.args, timeout) from None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _children_cpu_seconds():
    """User + system CPU time of the finished child processes of this process (None on Windows)."""
    try:
        import resource
    except ImportError:
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _input_array(value, spec, name):
    """``value`` as the raw array the binary reads for input ``spec`` (units checked)."""
    from brian2.units.fundamentalunits import Quantity, get_dimensions, get_or_create_dimension

    expected = get_or_create_dimension(spec["dimensions"])
    if isinstance(value, Quantity) or not expected.is_dimensionless:
        if get_dimensions(value) is not expected:
            raise UnitMismatchError(f"Input {name} has dimension {get_dimensions(value)!s}; it needs {expected!s}.")
    array = np.asarray(value, dtype=np.dtype(spec["dtype"]))
    shape = tuple(spec["shape"])
    if array.size == 1:
        array = np.full(shape, array.ravel()[0], dtype=array.dtype)
    elif array.shape != shape and array.size == int(np.prod(shape)) and len(shape) == 1:
        array = array.ravel()
    if array.shape != shape:
        raise ParameterError(f"Input {name} needs shape {shape} (or one value); got {np.shape(value)}.")
    return np.ascontiguousarray(array)


def _read_output(results, spec):
    path = results / spec["file"]
    data = np.fromfile(path, dtype=np.dtype(spec["dtype"])) if path.exists() else np.array([], spec["dtype"])
    columns = spec.get("columns")
    if columns is not None:
        data = data.reshape(-1, columns) if columns else data.reshape(0, 0)
    return data
