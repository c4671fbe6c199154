"""Benchmark: the whole ``neurophase fi`` command against the same sweep in NEURON 9, process against process.

The job (issue 13): Hodgkin-Huxley 1952, 1000 constant currents 0, 0.02, ..., 19.98 uA/cm2,
1 s each, dt = 0.025 ms (4e7 neurone-steps)::

    neurophase fi hodgkin_huxley_1952 --input 0 19.98 0.02 uA/cm**2 --duration "1 s" --dt 0.025*ms

and a small sweep (the README example, 41 currents, 1 s, the model's dt 0.01 ms)::

    neurophase fi hodgkin_huxley_1952 --input 0 20 0.5 uA/cm**2 --duration "1 s"

Every row is one process started from here and timed by the wall clock from start to exit, with
its CPU time (user + system, every process it started included: the parallel ``make`` of a cold
build counts all its compiler processes) and the peak resident memory of the largest process it
started (``RUSAGE_CHILDREN`` of a wrapper, so the standalone binary counts too). On a machine
shared with other work the wall-clock times grow with the load, the CPU times of single-threaded
work hardly: they approximate the wall-clock times of an idle machine.

``neurophase --device cpp_standalone``, cache states
    *warm*: the build is in the cache and this command line ran before (the cold row), so the
    command starts the compiled program before importing Brian2 (:mod:`neurophase.micro.ahead`);
    *warm, new*: the build is in the cache but the command line is new (``--seed 1``), so the
    program starts only once the command has computed its inputs; *cold*: the cache already holds the
    precompiled standard headers (built by the first build of any network) but not this
    network, so the command generates and compiles it; *first ever*: an empty cache folder,
    so the command also precompiles the headers (once per machine, compiler and flags).
``neurophase --device runtime``
    Brian2's Cython runtime; *warm*: the Cython cache holds the code objects; *cold*: an
    empty Cython cache (``codegen.runtime.cython.cache_dir`` set in a ``brian_preferences``
    file in the working folder).
``fi alone``
    The same command with only the ``fi`` subcommand's module imported (a small driver around
    :func:`neurophase.micro.commands.run_fi`): what the command costs once the command line
    imports each subcommand's modules only when it runs (issue 13, item 1).
``NEURON``
    A self-contained NEURON script, the one a NEURON user writes for the same sweep: one
    single-compartment section per current with the built-in ``hh`` (rate tables, Crank-
    Nicolson ``secondorder = 2``, ``celsius = 6.3``, ``el_hh = -54.387`` mV, 100 um2 x 100),
    an ``IClamp`` and a ``NetCon`` at -30 mV each, fixed step 0.025 ms; it prints the spike
    count of every current. It is the file ``neurophase/_neuron_hh.py`` (the code of
    :func:`neurophase.testing.neuron_hh_spike_times` too), run by its path: the NEURON process
    imports no neurophase. Run with one thread (the reference of the issue) and with
    ``ParallelContext.nthread(2)``.

Printed: a table of wall-clock time and peak memory per row, the ratios NEURON /
neurophase for the job (warm, cold, first ever), the inner-loop ratio (NEURON's
``continuerun`` against the standalone binary's own run, both reported by the processes), and
the largest difference of spike counts between neurophase and NEURON over the 1000 currents.
All rows of one invocation run under the same machine load, one after the other; wall-clock
figures from a machine shared with other work are inflated, the ratios much less so.

Run: ``python benchmarks/whole_command.py`` (about 2-3 minutes on 2 idle cores);
``--quick`` runs the small sweep only and a 200-current job.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from _runs import environment, load_average, tagged_result, temporary_folder

JOB = ["hodgkin_huxley_1952", "--input", "0", "19.98", "0.02", "uA/cm**2", "--duration", "1 s", "--dt",
       "0.025*ms"]
QUICK_JOB = ["hodgkin_huxley_1952", "--input", "0", "19.9", "0.1", "uA/cm**2", "--duration", "1 s", "--dt",
             "0.025*ms"]
SMALL = ["hodgkin_huxley_1952", "--input", "0", "20", "0.5", "uA/cm**2", "--duration", "1 s"]

#: Runs a command, then prints its wall-clock time and the peak RSS of the largest process it started.
WRAPPER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
completed = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print("MEASURED" + json.dumps({"wall": wall, "status": completed.returncode, "cpu": usage.ru_utime + usage.ru_stime,
                               "peak_mb": usage.ru_maxrss / 1024,
                               "stdout": completed.stdout[-20000:], "stderr": completed.stderr[-3000:]}))
"""

#: The inner loop of neurophase: the job in-process from a warm cache, the binary's own wall time.
INNER_SCRIPT = """
import json, sys
import numpy as np
from brian2 import ms, second
from neurophase.micro.commands import input_grid
from neurophase.micro.neurone import firing_curve
start, stop, step, duration, dt, threads = sys.argv[1:7]
levels = input_grid(start, stop, step, "uA/cm**2")
options = dict(duration=float(duration) * second, dt=float(dt) * ms, device="cpp_standalone", progress=False,
               threads=int(threads))
firing_curve("hodgkin_huxley_1952", levels, **options)  # the build, if not in the cache yet
data = firing_curve("hodgkin_huxley_1952", levels, **options)
print("INNER" + json.dumps({"run": data.attrs["standalone_run_seconds"], "build": data.attrs["standalone_build"],
                            "run_cpu": data.attrs["standalone_run_cpu_seconds"],
                            "threads": data.attrs["openmp_threads"],
                            "counts": data["spike_count"].values[:, 0].tolist()}))
"""


#: ``neurophase fi`` with only the fi subcommand's module imported: what the command costs once the
#: command line imports each subcommand's modules only when it runs (issue 13, item 1).
FI_ONLY = """
import argparse, sys
from neurophase.errors import NeurophaseError
from neurophase.micro.commands import add_fi_parser, run_fi
parser = argparse.ArgumentParser(prog="neurophase")
add_fi_parser(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
try:
    sys.exit(run_fi(args))
except NeurophaseError as error:
    print(f"error: {error}", file=sys.stderr)
    sys.exit(2)
"""


def _neuron_script():
    """The path of :mod:`neurophase._neuron_hh`, the NEURON user's script for the same sweep.

    It imports numpy and NEURON only; run by its path with ``-P`` (its folder, holding
    neurophase's ``io.py``, stays off ``sys.path``), the NEURON process imports no neurophase.
    """
    import importlib.util

    return importlib.util.find_spec("neurophase._neuron_hh").origin


def _neurophase_command():
    script = Path(sys.executable).parent / ("neurophase.exe" if os.name == "nt" else "neurophase")
    return [str(script)] if script.exists() else [sys.executable, "-m", "neurophase.cli"]


def _measure(command, env=None, cwd=None):
    result = tagged_result([sys.executable, "-c", WRAPPER, *command], "MEASURED", env=env, cwd=cwd,
                           label="wrapper")
    if result["status"] != 0:
        raise RuntimeError(f"{' '.join(command)} failed (status {result['status']}):\n{result['stderr']}")
    return result


def _levels(job):
    index = job.index("--input")
    return job[index + 1:index + 4]


def run_benchmark(job, small, threads):
    """All rows; returns (rows, the inner-loop runs of the job with one thread and every core)."""
    from neurophase.micro.devices import available_cores

    neurophase = _neurophase_command()
    rows, extras = [], None
    with temporary_folder("neurophase_whole_command_") as work:
        rows.append(("neurophase --help (start-up)", "-", _measure([*neurophase, "--help"])))
        for label, sweep in (("job", job), ("small", small)):
            # standalone: first ever (empty cache), cold (headers precompiled), warm
            first_cache = work / f"first_{label}"
            rows.append((f"{label}: neurophase cpp_standalone", "first ever", _measure(
                [*neurophase, "fi", *sweep, "--device", "cpp_standalone"],
                environment(NEUROPHASE_CACHE_DIR=first_cache, NEUROPHASE_THREADS=threads))))
            cold_cache = work / f"cold_{label}"
            _measure([*neurophase, "fi", "hodgkin_huxley_1952", "--input", "1", "2", "1", "uA/cm**2", "--duration",
                      "1 ms", "--device", "cpp_standalone", "--quiet"],
                     environment(NEUROPHASE_CACHE_DIR=cold_cache, NEUROPHASE_THREADS=threads))  # headers only
            rows.append((f"{label}: neurophase cpp_standalone", "cold", _measure(
                [*neurophase, "fi", *sweep, "--device", "cpp_standalone"],
                environment(NEUROPHASE_CACHE_DIR=cold_cache, NEUROPHASE_THREADS=threads))))
            # the build cached, but this command line never ran (--seed 1: another line, no record of
            # neurophase.micro.ahead; the deterministic HH gives the same counts for any seed)
            rows.append((f"{label}: neurophase cpp_standalone", "warm, new", _measure(
                [*neurophase, "fi", *sweep, "--device", "cpp_standalone", "--seed", "1"],
                environment(NEUROPHASE_CACHE_DIR=cold_cache, NEUROPHASE_THREADS=threads))))
            rows.append((f"{label}: neurophase cpp_standalone", "warm", _measure(
                [*neurophase, "fi", *sweep, "--device", "cpp_standalone"],
                environment(NEUROPHASE_CACHE_DIR=cold_cache, NEUROPHASE_THREADS=threads))))
            rows.append((f"{label}: fi alone, cpp_standalone", "warm", _measure(
                [sys.executable, "-c", FI_ONLY, "fi", *sweep, "--device", "cpp_standalone"],
                environment(NEUROPHASE_CACHE_DIR=cold_cache, NEUROPHASE_THREADS=threads))))
            # runtime: cold (empty Cython cache), warm
            cython_folder = work / f"cython_{label}"
            cython_folder.mkdir()
            (cython_folder / "brian_preferences").write_text(
                f"codegen.runtime.cython.cache_dir = '{cython_folder / 'cache'}'\n")
            rows.append((f"{label}: neurophase runtime (Cython)", "cold", _measure(
                [*neurophase, "fi", *sweep, "--device", "runtime"], cwd=cython_folder)))
            rows.append((f"{label}: neurophase runtime (Cython)", "warm", _measure(
                [*neurophase, "fi", *sweep, "--device", "runtime"], cwd=cython_folder)))
            if label == "job":
                start, stop, step = _levels(sweep)
                duration_ms = 1000.0
                for neuron_threads in (1, 2):
                    result = _measure([sys.executable, "-P", _neuron_script(), start, stop, step, str(duration_ms),
                                       "0.025", str(neuron_threads)])
                    report = [line for line in result["stdout"].splitlines() if line.startswith("NEURON")][-1]
                    result["neuron"] = json.loads(report[len("NEURON"):])
                    rows.append((f"job: NEURON 9 ({neuron_threads} thread{'s' if neuron_threads > 1 else ''})",
                                 "-", result))
                extras = []
                for inner_threads in sorted({1, available_cores()}):
                    extras.append(tagged_result(
                        [sys.executable, "-c", INNER_SCRIPT, start, stop, step, "1", "0.025", str(inner_threads)],
                        "INNER", env=environment(NEUROPHASE_CACHE_DIR=cold_cache), label="inner loop run"))
    return rows, extras


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 200-current job instead of 1000")
    parser.add_argument("--threads", type=int, default=None,
                        help="NEUROPHASE_THREADS for the standalone command rows (default: neurophase's default)")
    arguments = parser.parse_args(argv)
    job = QUICK_JOB if arguments.quick else JOB
    from neurophase.micro.devices import available_cores, standalone_threads

    threads = (f"{arguments.threads} OpenMP thread(s)" if arguments.threads else
               f"the default OpenMP threads ({standalone_threads(elements=1000)} for 1000 neurones)")
    print(f"neurophase fi {' '.join(job)}  vs NEURON 9, whole processes; {available_cores()} cores, "
          f"standalone with {threads}; {load_average()} at start")
    rows, inners = run_benchmark(job, SMALL, arguments.threads)
    print(f"{'command':<42} {'cache':<11} {'wall (s)':>9} {'CPU (s)':>8} {'peak RSS (MB)':>14}")
    for label, cache, result in rows:
        print(f"{label:<42} {cache:<11} {result['wall']:>9.2f} {result['cpu']:>8.2f} {result['peak_mb']:>14.0f}")
    measured = {(label, cache): result for label, cache, result in rows}
    neuron = measured[("job: NEURON 9 (1 thread)", "-")]
    neuron2 = measured[("job: NEURON 9 (2 threads)", "-")]
    for cache in ("warm", "warm, new", "cold", "first ever"):
        ours = measured[("job: neurophase cpp_standalone", cache)]
        print(f"whole command, NEURON / neurophase ({cache}): wall {neuron['wall'] / ours['wall']:.2f}x "
              f"(NEURON 2 threads: {neuron2['wall'] / ours['wall']:.2f}x); CPU time {neuron['cpu'] / ours['cpu']:.2f}x")
    alone = measured[("job: fi alone, cpp_standalone", "warm")]
    print(f"whole command with only the fi module imported (lazy imports, item 1), NEURON / neurophase (warm): "
          f"wall {neuron['wall'] / alone['wall']:.2f}x, CPU time {neuron['cpu'] / alone['cpu']:.2f}x")
    runtime = measured[("job: neurophase runtime (Cython)", "warm")]
    print(f"whole command, NEURON / neurophase runtime device (warm): wall {neuron['wall'] / runtime['wall']:.2f}x, "
          f"CPU time {neuron['cpu'] / runtime['cpu']:.2f}x")
    for inner in inners:
        print(f"inner loop: NEURON run {neuron['neuron']['run']:.2f} s (2 threads {neuron2['neuron']['run']:.2f} s), "
              f"neurophase binary {inner['run']:.2f} s with {inner['threads']} thread(s): "
              f"{neuron['neuron']['run'] / inner['run']:.2f}x "
              f"(vs NEURON 2 threads {neuron2['neuron']['run'] / inner['run']:.2f}x); CPU time: NEURON "
              f"{neuron['neuron']['run_cpu']:.2f} s, neurophase {inner['run_cpu']:.2f} s "
              f"({neuron['neuron']['run_cpu'] / inner['run_cpu']:.2f}x)")
    counts = [abs(a - b) for a, b in zip(inners[0]["counts"], neuron["neuron"]["counts"])]
    start, _, step = (float(value) for value in _levels(job))
    apart = [start + step * index for index, count in enumerate(counts) if count > 1]
    print(f"spike counts vs NEURON over {len(counts)} currents: max |difference| {max(counts):g}, "
          f"{sum(count == 0 for count in counts)} identical, {len(apart)} apart by more than one spike"
          + (f" (currents {min(apart):g} to {max(apart):g} uA/cm2)" if apart else ""))
    print(f"{load_average()} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
