"""Benchmark: a Hodgkin-Huxley 1952 f-I sweep, neurophase vs NEURON vs a naive Brian2 loop.

The sweep: ``--levels`` (default 1000) constant currents from 5 to 105 uA/cm2, ``--duration``
(default 1 s) each, dt = 0.025 ms, HH 1952 at 6.3 C, spikes = upward crossings of -30 mV.

Engines (each runs in its own process, so peak memory is measured separately):

``neurophase``
    :func:`neurophase.micro.neurone.firing_curve`: one Brian2 network (Cython target), one
    neurone per current. Code generation + compilation is timed apart, in a fresh Cython cache
    (a warm-up build of the same network with 2 neurones and 1 ms), then the sweep is timed.
``neurophase-cpp (1 thr)``, ``neurophase-cpp (N thr)``
    The same call with ``device="cpp_standalone"``, one OpenMP thread and every core: a
    first call in an empty build cache (code generation and the C++ build are the compile
    time), then the timed call from the cache; the run time is the binary's wall-clock time.
``neuron``
    NEURON 9 (``pip install neuron``): 1000 single-compartment sections with the built-in
    ``hh`` mechanism (``el_hh`` set to -54.387 mV, ``celsius = 6.3``), an ``IClamp`` each,
    ``NetCon`` threshold -30 mV, fixed step dt = 0.025 ms, Crank-Nicolson
    (``secondorder = 2``) so that its rates converge like neurophase's RK4.
``naive``
    One Brian2 run per current (a new 1-neurone network each time, code compiled once and
    cached): the loop the architecture forbids. Timed on ``--naive-levels`` currents (default
    25) and reported as throughput, which does not depend on the number of runs.

Figures printed: neurone-steps per second (neurones x time steps / wall time), compile time,
peak resident memory (``ru_maxrss``), and the rates of neurophase and NEURON compared level by
level (target: within 1 Hz).

Memory against simulated duration (``neurophase-memory``): the same sweep at 1x and 4x the
duration, once with the default ``spike_record="sums"`` (running sums per neurone, no spike
time kept) and once with ``spike_record="times"`` (a SpikeMonitor). Each run is its own
process; after a warm-up build, ``tracemalloc`` measures the peak of the memory allocated
during the sweep (numpy and Brian2 arrays included), which ``ru_maxrss`` cannot isolate from
the import and compile high-water mark. Target: the default does not grow with duration.

Run: ``python benchmarks/hh_fi_sweep.py`` (about 2-4 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time

import numpy as np
from _runs import tagged_result

DT_MS = 0.025
THRESHOLD_MV = -30.0


def _levels(count):
    return np.linspace(5.0, 105.0, count)


def _peak_memory_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_neurophase(levels, duration_s):
    from brian2 import cm, ms, prefs, second, uA

    prefs.codegen.runtime.cython.cache_dir = tempfile.mkdtemp(prefix="neurophase_bench_cache_")
    from neurophase.micro.neurone import firing_curve

    started = time.perf_counter()
    firing_curve("hodgkin_huxley_1952", levels[:2] * uA / cm**2, duration=1 * ms,
                 dt=DT_MS * ms, progress=False)
    compile_seconds = time.perf_counter() - started
    started = time.perf_counter()
    dataset = firing_curve("hodgkin_huxley_1952", levels * uA / cm**2, duration=duration_s * second,
                           dt=DT_MS * ms, progress=False)
    run_seconds = time.perf_counter() - started
    steps = levels.size * round(duration_s * 1e3 / DT_MS)
    return {"engine": "neurophase", "compile_seconds": compile_seconds, "run_seconds": run_seconds,
            "neurone_steps_per_second": steps / run_seconds, "peak_memory_mb": _peak_memory_mb(),
            "rates": dataset["rate"].values[:, 0].tolist(),
            "spike_counts": dataset["spike_count"].values[:, 0].tolist()}


def run_neurophase_memory(levels, duration_s, spike_record):
    import tracemalloc

    from brian2 import cm, ms, second, uA

    from neurophase.micro.neurone import firing_curve

    currents = levels * uA / cm**2
    firing_curve("hodgkin_huxley_1952", currents[:2], duration=1 * ms, dt=DT_MS * ms,
                 progress=False, spike_record=spike_record)
    tracemalloc.start()
    tracemalloc.reset_peak()
    dataset = firing_curve("hodgkin_huxley_1952", currents, duration=duration_s * second,
                           dt=DT_MS * ms, progress=False, spike_record=spike_record)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"engine": "neurophase-memory", "spike_record": spike_record, "duration": duration_s,
            "sweep_peak_mb": peak / 2**20, "peak_memory_mb": _peak_memory_mb(),
            "spikes": float(dataset["spike_count"].sum())}


def run_neurophase_standalone(levels, duration_s, threads):
    import shutil

    from brian2 import cm, ms, second, uA

    from neurophase.micro.neurone import firing_curve

    cache = tempfile.mkdtemp(prefix="neurophase_bench_build_cache_")
    options = dict(duration=duration_s * second, dt=DT_MS * ms, progress=False, device="cpp_standalone",
                   threads=threads, standalone_directory=cache)
    try:
        started = time.perf_counter()
        cold = firing_curve("hodgkin_huxley_1952", levels * uA / cm**2, **options)  # generate, compile, run
        cold_seconds = time.perf_counter() - started
        dataset = firing_curve("hodgkin_huxley_1952", levels * uA / cm**2, **options)  # from the build cache
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    run_seconds = float(dataset.attrs["standalone_run_seconds"])  # the binary's wall-clock time
    steps = levels.size * round(duration_s * 1e3 / DT_MS)
    return {"engine": f"neurophase-cpp ({threads} thr)",
            "compile_seconds": cold_seconds - float(cold.attrs["standalone_run_seconds"]),
            "run_seconds": run_seconds, "neurone_steps_per_second": steps / run_seconds,
            "peak_memory_mb": max(_peak_memory_mb(),
                                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0),
            "rates": dataset["rate"].values[:, 0].tolist(),
            "spike_counts": dataset["spike_count"].values[:, 0].tolist()}


def run_neuron(levels, duration_s):
    from neurophase.mapping.firing import spike_statistics
    from neurophase.testing import neuron_hh_spike_times

    trains, run_seconds = neuron_hh_spike_times(levels, duration_s * 1e3, DT_MS, THRESHOLD_MV)
    indices = np.concatenate([np.full(times.size, k) for k, times in enumerate(trains)])
    statistics = spike_statistics(indices, np.concatenate(trains), levels.size, 0.0,
                                  duration_s * 1e3, time_unit="ms")
    steps = levels.size * round(duration_s * 1e3 / DT_MS)
    return {"engine": "neuron", "compile_seconds": 0.0, "run_seconds": run_seconds,
            "neurone_steps_per_second": steps / run_seconds, "peak_memory_mb": _peak_memory_mb(),
            "rates": statistics["rate"].values.tolist(),
            "spike_counts": statistics["spike_count"].values.tolist()}


def run_naive(levels, duration_s):
    from brian2 import Network, NeuronGroup, SpikeMonitor, cm, ms, prefs, second, uA

    from neurophase.micro.modelfile import load_model

    prefs.codegen.target = "cython"
    model = load_model("hodgkin_huxley_1952")
    namespace = model.namespace()
    timings = []
    for index, level in enumerate(levels):
        started = time.perf_counter()
        group = NeuronGroup(1, model.equations, threshold=model.threshold,
                            refractory=model.refractory, method=model.method,
                            namespace=namespace, dt=DT_MS * ms)
        for name, value in model.initial.items():
            setattr(group, name, value)
        group.I_input = level * uA / cm**2
        monitor = SpikeMonitor(group)
        Network(group, monitor).run(duration_s * second)
        timings.append(time.perf_counter() - started)
    compile_seconds = timings[0] - float(np.median(timings[1:]))
    run_seconds = float(np.sum(timings[1:]))
    steps = (levels.size - 1) * round(duration_s * 1e3 / DT_MS)
    return {"engine": "naive", "compile_seconds": compile_seconds, "run_seconds": run_seconds,
            "neurone_steps_per_second": steps / run_seconds, "peak_memory_mb": _peak_memory_mb(),
            "runs": int(levels.size)}


def _child(arguments):
    levels = _levels(arguments.levels)
    if arguments.engine == "naive":
        levels = levels[:: max(1, levels.size // arguments.naive_levels)][: arguments.naive_levels]
    engines = {"neurophase": run_neurophase, "neuron": run_neuron, "naive": run_naive}
    if arguments.engine == "neurophase-memory":
        result = run_neurophase_memory(levels, arguments.duration, arguments.spike_record)
    elif arguments.engine.startswith("neurophase-cpp-"):
        result = run_neurophase_standalone(levels, arguments.duration, int(arguments.engine.rsplit("-", 1)[1]))
    else:
        result = engines[arguments.engine](levels, arguments.duration)
    print("RESULT" + json.dumps(result))


def _spawn(engine, arguments, duration=None, spike_record="sums"):
    command = [sys.executable, __file__, "--child", engine, "--levels", str(arguments.levels),
               "--duration", str(duration or arguments.duration),
               "--naive-levels", str(arguments.naive_levels), "--spike-record", spike_record]
    return tagged_result(command, "RESULT", label=engine)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=1.0, help="seconds per current")
    parser.add_argument("--naive-levels", type=int, default=25)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--skip-neuron", action="store_true")
    parser.add_argument("--spike-record", default="sums", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.child:
        arguments.engine = arguments.child
        return _child(arguments)

    print(f"HH 1952 f-I sweep: {arguments.levels} currents 5..105 uA/cm2, {arguments.duration:g} s, "
          f"dt {DT_MS} ms ({arguments.levels * round(arguments.duration * 1e3 / DT_MS):.3g} neurone-steps)")
    from neurophase.micro.devices import available_cores

    cores = available_cores()
    results = [_spawn("neurophase", arguments), _spawn("neurophase-cpp-1", arguments)]
    if cores > 1:
        results.append(_spawn(f"neurophase-cpp-{cores}", arguments))
    if not arguments.skip_neuron:
        results.append(_spawn("neuron", arguments))
    results.append(_spawn("naive", arguments))
    print(f"{'engine':<22} {'neurone-steps/s':>16} {'run (s)':>9} {'compile (s)':>12} {'peak RSS (MB)':>14}")
    for result in results:
        print(f"{result['engine']:<22} {result['neurone_steps_per_second']:>16.3g} "
              f"{result['run_seconds']:>9.2f} {result['compile_seconds']:>12.2f} "
              f"{result['peak_memory_mb']:>14.0f}")
    ours = results[0]
    naive = results[-1]
    ratio = ours['neurone_steps_per_second'] / naive['neurone_steps_per_second']
    print(f"neurophase / naive loop throughput: {ratio:.1f}x "
          f"(naive measured on {naive['runs']} runs)")
    if not arguments.skip_neuron:
        reference = next(result for result in results if result["engine"] == "neuron")
        difference = np.abs(np.array(ours["rates"]) - np.array(reference["rates"]))
        counts = np.abs(np.array(ours["spike_counts"]) - np.array(reference["spike_counts"]))
        ratios = ", ".join(f"{result['neurone_steps_per_second'] / reference['neurone_steps_per_second']:.2f}x "
                           f"({result['engine']})" for result in results if result["engine"].startswith("neurophase"))
        print(f"neurophase / NEURON throughput (inner loop): {ratios}")
        standalone = np.array(results[1]["spike_counts"])
        print(f"spike counts, C++ standalone vs Cython runtime: max |difference| "
              f"{int(np.abs(standalone - np.array(ours['spike_counts'])).max())}")
        print(f"rates vs NEURON: max |difference| {difference.max():.3f} Hz, mean {difference.mean():.3f} Hz, "
              f"{int((difference <= 1.0).sum())}/{difference.size} levels within 1 Hz; "
              f"spike counts differ by at most {int(counts.max())}")
    print("memory against simulated duration (peak allocated during the sweep; peak RSS of the process):")
    print(f"{'spike_record':<13} {'duration (s)':>12} {'spikes':>10} {'sweep peak (MB)':>16} {'peak RSS (MB)':>14}")
    for spike_record in ("sums", "times"):
        measured = [_spawn("neurophase-memory", arguments, duration=factor * arguments.duration,
                           spike_record=spike_record) for factor in (1, 4)]
        for result in measured:
            print(f"{spike_record:<13} {result['duration']:>12g} {result['spikes']:>10.0f} "
                  f"{result['sweep_peak_mb']:>16.2f} {result['peak_memory_mb']:>14.0f}")
        growth = measured[1]["sweep_peak_mb"] / measured[0]["sweep_peak_mb"]
        print(f"{spike_record:<13} 4x duration -> {growth:.2f}x sweep peak memory"
              + ("  (default; target 1.00x)" if spike_record == "sums" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
