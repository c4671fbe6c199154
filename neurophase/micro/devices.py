"""The Brian2 code-generation target and device of one simulation (runtime or C++ standalone).

Classes
-------
Brian2Device
    Context manager: ``with Brian2Device("cython", "cpp_standalone"): ... network.run(...)``.

Functions
---------
standalone_threads
    The number of OpenMP threads of a C++ standalone build (argument, ``NEUROPHASE_THREADS``, or
    every core this process may use; one thread inside a Dask worker).
standalone_compile_flags
    The compiler flags of a C++ standalone build: Brian2's, plus the two that let GCC vectorise
    the state update (see *Compiler flags*).
available_cores
    The CPU cores this process may run on.

Compiler flags
--------------
Brian2 compiles with ``-O3 -ffast-math -fno-finite-math-only -march=native`` (its preference
``codegen.cpp.extra_compile_args_gcc``). Two flags are added for C++ standalone builds:

``-D__FAST_MATH__``
    glibc declares the vector variants of ``exp``, ``expm1``, ``log``, ``pow`` ... (libmvec) to
    the compiler only when ``__FAST_MATH__`` is defined, which ``-fno-finite-math-only`` (kept
    by Brian2 so that infinities and NaN behave) switches off. Defining it again lets GCC
    vectorise loops that call them (eight doubles per AVX-512 instruction) while keeping IEEE
    infinities and NaN. The vector functions are accurate to 4 ulp (glibc manual, "Known
    Maximum Errors in Math Functions") instead of < 1 ulp.
``--param=vect-max-version-for-alias-checks=100``
    Brian2's state variables are global arrays; GCC must check at run time that they do not
    overlap, and gives up above 10 checks (the boolean ``not_refractory`` array of a model
    with refractoriness alone brings 15).

Both together make the Hodgkin-Huxley state update about 4-5 times faster per core
(benchmarks/README.md). ``-march=native`` tunes the binary to this machine's CPU; the build
cache (:mod:`neurophase.micro.build_cache`) therefore includes the CPU model and its
instruction-set flags in its key, so a cache folder shared by machines of different types
(a Dask cluster on a shared home directory) holds one build per machine type, each built by a
worker of that type. Other flags: set Brian2's preference (e.g. ``-march=x86-64-v3`` for one
binary on every recent x86 machine); they are part of the key too.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from neurophase.errors import ParameterError

__all__ = ["Brian2Device", "TARGETS", "DEVICES", "THREADS_VARIABLE", "VECTORISATION_FLAGS", "ELEMENTS_PER_THREAD",
           "standalone_threads", "standalone_compile_flags", "available_cores"]

#: Code-generation targets of the runtime device.
TARGETS = ("cython", "numpy")
#: Brian2 devices.
DEVICES = ("runtime", "cpp_standalone")
_TARGETS, _DEVICES = TARGETS, DEVICES
#: Environment variable giving the OpenMP threads of C++ standalone builds.
THREADS_VARIABLE = "NEUROPHASE_THREADS"
#: Fewest neurones (or channels) per OpenMP thread in the default thread count (see
#: :func:`standalone_threads` and benchmarks/README.md).
ELEMENTS_PER_THREAD = 2000
#: Added to Brian2's GCC flags for C++ standalone builds (see *Compiler flags* above).
VECTORISATION_FLAGS = ("-D__FAST_MATH__", "--param=vect-max-version-for-alias-checks=100")


def available_cores() -> int:
    """The number of CPU cores this process may run on (its affinity mask, else all).

    Returns
    -------
    int
        At least 1.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _dask_worker_threads():
    """The threads of the Dask worker running this code, or None outside a worker."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        worker = distributed.get_worker()
    except (ValueError, AttributeError):
        return None
    threads = getattr(getattr(worker, "state", worker), "nthreads", None)
    return int(threads) if threads else 1


def standalone_threads(threads: int | str | None = None, elements: int | None = None) -> int:
    """OpenMP threads of a C++ standalone build.

    ``threads`` if given, else the environment variable ``NEUROPHASE_THREADS``, else every core
    this process may use (:func:`available_cores`), except inside a Dask worker, which gets its
    own thread count (one per worker in ``neurophase run --scheduler local``: the workers
    already use every core, and more threads than cores make every OpenMP time step wait).
    With ``elements`` (neurones or channels updated per time step) the default gives each
    thread at least :data:`ELEMENTS_PER_THREAD` of them: every time step ends with the threads
    waiting for each other, which costs more than a small grid's share of the work saves.

    Parameters
    ----------
    threads : int, str or None
        A whole number of threads >= 1 (or its text); None: the default rule above.
    elements : int, optional
        Neurones or channels updated per time step (caps the default thread count).

    Returns
    -------
    int
        The number of threads, >= 1.

    Raises
    ------
    ParameterError
        ``threads`` (or ``NEUROPHASE_THREADS``) is not a whole number >= 1.

    Examples
    --------
    >>> standalone_threads(3)
    3
    >>> standalone_threads(None, elements=10) if "NEUROPHASE_THREADS" not in os.environ else 1
    1
    """
    source = "threads"
    if threads is None and os.environ.get(THREADS_VARIABLE, "").strip():
        threads, source = os.environ[THREADS_VARIABLE].strip(), THREADS_VARIABLE
    if threads is None:
        worker = _dask_worker_threads()
        cores = worker if worker is not None else available_cores()
        if elements is not None:
            cores = min(cores, max(1, int(elements) // ELEMENTS_PER_THREAD))
        return cores
    try:
        value = int(threads)
        if value != float(threads):
            raise ValueError
    except (TypeError, ValueError):
        value = None
    if value is None or value < 1:
        raise ParameterError(f"{source} = {threads!r}: give a whole number of threads >= 1 "
                             f"(e.g. {available_cores()}, the cores of this machine).")
    return value


def standalone_compile_flags() -> list[str]:
    """GCC/Clang flags of a C++ standalone build: Brian2's preference plus
    :data:`VECTORISATION_FLAGS` when it contains ``-ffast-math`` (an explicit
    ``codegen.cpp.extra_compile_args`` replaces both, as in Brian2).

    Returns
    -------
    list of str
        The compiler flags.
    """
    from brian2 import prefs

    if prefs.codegen.cpp.extra_compile_args is not None:
        return list(prefs.codegen.cpp.extra_compile_args)
    flags = list(prefs.codegen.cpp.extra_compile_args_gcc)
    if "-ffast-math" in flags:
        flags += [flag for flag in VECTORISATION_FLAGS if flag not in flags]
    return flags


#: Marker of a project folder whose last build did not end normally (removed when it did).
_INCOMPLETE = "neurophase_incomplete"


class Brian2Device:
    """Select the Brian2 code-generation target and device for one run, then restore them.

    ``device="cpp_standalone"`` builds the whole network as one C++ project in ``directory``
    (default a temporary folder, removed afterwards) when the run is called
    (``build_on_run=True``: exactly one ``run`` per use), so results must be read inside the
    ``with`` block; on exit Brian2 is back on the runtime device with the previous target.
    The run time of the compiled binary alone is :attr:`last_run_seconds`. ``threads`` sets
    the OpenMP threads of the build (default :func:`standalone_threads`, for ``elements``
    neurones or channels if given) and the flags are
    :func:`standalone_compile_flags`, plus the precompiled standard headers of the build cache
    (:func:`~neurophase.micro.build_cache.precompiled_header_flags`: built once per compiler,
    flags and OpenMP setting; they about halve the compile time). Network builders that run the
    same network again with other values use :mod:`neurophase.micro.build_cache` instead, which
    compiles once.

    With ``project`` (a description of what the generated code depends on, e.g. the model,
    the synapse kinds and the sizes) and no ``directory``, the build goes to a persistent
    project folder ``<cache>/projects/<key>``
    (:func:`~neurophase.micro.build_cache.project_directory`) instead of a temporary one: the
    next build of the same project generates the code again, Brian2 rewrites only the files
    whose text changed and make recompiles only those, so a repeated network skips its
    compilation. The key only chooses the folder; what runs is always the code generated for
    this call. A folder in use by another process is not shared (this build then takes a
    temporary folder), and the data files of a run (``static_arrays``, ``results``) are removed
    on exit: only the compiled objects stay (a few MB per project; deleting them is always
    safe). A folder whose last build was killed or failed is emptied first (a half-written
    object file newer than its source would otherwise be linked).

    Parameters
    ----------
    target : str
        Code-generation target of the runtime device, one of :data:`TARGETS`.
    device : str
        One of :data:`DEVICES`.
    directory : str, optional
        Project folder of a standalone build (default: a temporary folder, removed on exit).
    threads : int, optional
        OpenMP threads of a standalone build (default :func:`standalone_threads`).
    elements : int, optional
        Neurones or channels per time step, for the default thread count.
    project : dict, optional
        Build in the persistent project folder of this description (above; standalone only).

    Examples
    --------
    >>> with Brian2Device("numpy", "runtime"):
    ...     pass
    """

    def __init__(self, target: str, device: str, directory: str | None = None, threads: int | None = None,
                 elements: int | None = None, project: dict[str, Any] | None = None) -> None:
        if target not in _TARGETS:
            raise ParameterError(f"target must be one of {', '.join(_TARGETS)}; got {target!r}.")
        if device not in _DEVICES:
            raise ParameterError(f"device must be one of {', '.join(_DEVICES)}; got {device!r}.")
        self.target, self.device, self.directory = target, device, directory
        self.threads = standalone_threads(threads, elements) if device == "cpp_standalone" else None
        self.project = project
        #: The persistent project folder of this build (None: temporary or given folder).
        self.project_folder: Path | None = None

    def __enter__(self) -> Brian2Device:
        from brian2 import get_device, prefs, set_device
        from brian2.devices.device import RuntimeDevice

        if not isinstance(get_device(), RuntimeDevice):
            raise ParameterError(
                f"Brian2 is on the {type(get_device()).__name__} device (set by other code); "
                "neurophase selects its device per run: call brian2.device.reinit() and "
                "brian2.set_device('runtime') first.")
        self._previous_target = prefs.codegen.target
        self._temporary = None
        self._project_lock = None
        if self.device == "runtime":
            prefs.codegen.target = self.target
        else:
            # the precompiled standard headers of the build cache halve this build's compile time
            from neurophase.micro.build_cache import precompiled_header_flags, recall_flag_checks

            self._previous_preferences = standalone_preferences(self.threads, precompiled_header_flags(self.threads))
            recall_flag_checks()  # no test compilation for a compiler flag checked before
            directory = self.directory
            if directory is None and self.project is not None:
                directory = self._take_project_folder()
            if directory is None:
                self._temporary = tempfile.TemporaryDirectory(prefix="neurophase_standalone_")
                directory = self._temporary.name
            set_device("cpp_standalone", directory=directory, build_on_run=True, with_output=False)
        return self

    def __exit__(self, *exc_info: Any) -> bool:
        from brian2 import device, prefs
        from brian2.devices.device import reset_device

        if self.device == "cpp_standalone":
            from neurophase.micro.build_cache import remember_flag_checks

            remember_flag_checks()
            device.reinit()
            reset_device("runtime")
            restore_preferences(self._previous_preferences)
            if self._temporary is not None:
                self._temporary.cleanup()
                self._temporary = None
            if self._project_lock is not None:
                for data in ("static_arrays", "results"):
                    shutil.rmtree(self.project_folder / data, ignore_errors=True)
                if exc_info[0] is None:  # built and run to the end: the objects are complete
                    (self.project_folder / _INCOMPLETE).unlink(missing_ok=True)
                self._project_lock.close()  # releases the lock
                self._project_lock = None
        prefs.codegen.target = self._previous_target
        return False

    def _take_project_folder(self):
        """The persistent folder of :attr:`project`, locked for this build; None (a temporary
        folder then) when another process holds it or it cannot be created."""
        from neurophase.micro.build_cache import project_directory

        folder = project_directory(self.project, self.threads)
        # Brian2 numbers the code objects of a network built while those of an earlier one are
        # still alive (``..._codeobject_1``): collect them, so that the names, and the code,
        # are those of the earlier build of this project
        gc.collect()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle = open(folder.with_name(folder.name + ".lock"), "a+b")
        except OSError:
            return None
        try:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (ImportError, OSError):  # no fcntl (Windows), or another process builds in it
            handle.close()
            return None
        if (folder / _INCOMPLETE).exists():
            # an earlier build here was killed or failed (a half-written object file could be
            # newer than its source, and make would link it): start from an empty folder
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)
        (folder / _INCOMPLETE).touch()
        self._project_lock, self.project_folder = handle, folder
        return str(folder)

    @property
    def standalone(self) -> bool:
        """True on the C++ standalone device."""
        return self.device == "cpp_standalone"

    @property
    def last_run_seconds(self) -> float | None:
        """Run time of the standalone binary (None on the runtime device)."""
        if not self.standalone:
            return None
        from brian2 import device

        return float(device._last_run_time)


def standalone_preferences(threads: int, extra_flags: Iterable[str] = ()) -> dict[str, Any]:
    """Set Brian2's OpenMP threads and compiler flags (:func:`standalone_compile_flags` plus
    ``extra_flags``) for a standalone build; returns the previous values for
    :func:`restore_preferences`. One thread builds without OpenMP (Brian2's
    ``openmp_threads = 0``), which is also what makes random numbers identical to the runtime
    device's for the same seed.

    Parameters
    ----------
    threads : int
        OpenMP threads (1: no OpenMP).
    extra_flags : iterable of str
        Compiler flags added to :func:`standalone_compile_flags`.

    Returns
    -------
    dict
        The previous values, by Brian2 preference name.
    """
    from brian2 import prefs

    previous = {"devices.cpp_standalone.openmp_threads": prefs.devices.cpp_standalone.openmp_threads,
                "codegen.cpp.extra_compile_args_gcc": list(prefs.codegen.cpp.extra_compile_args_gcc)}
    flags = standalone_compile_flags() + list(extra_flags)
    if prefs.codegen.cpp.extra_compile_args is None:
        prefs.codegen.cpp.extra_compile_args_gcc = flags
    prefs.devices.cpp_standalone.openmp_threads = 0 if threads == 1 else int(threads)
    _quiet_openmp_warning()
    return previous


class _OpenMPWarningFilter:
    """Drops Brian2's warning that OpenMP code "is not yet well tested" (printed on every OpenMP
    build); neurophase tests the spike counts of its OpenMP builds against the runtime device."""

    name = "brian2.devices.cpp_standalone.device.openmp"

    def filter(self, record):
        return record.name != self.name


def _quiet_openmp_warning():
    from brian2.utils.logger import BrianLogger

    handler = BrianLogger.console_handler
    if handler is not None and not any(isinstance(item, _OpenMPWarningFilter) for item in handler.filters):
        handler.addFilter(_OpenMPWarningFilter())


def restore_preferences(previous: dict[str, Any]) -> None:
    """Undo :func:`standalone_preferences`.

    Parameters
    ----------
    previous : dict
        What :func:`standalone_preferences` returned.
    """
    from brian2 import prefs

    for name, value in previous.items():
        prefs[name] = value
