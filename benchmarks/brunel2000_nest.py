"""Benchmark: the Brunel (2000) network in neurophase and in NEST 3, timed as whole processes.

The network (N. Brunel 2000, J. Comput. Neurosci. 8:183, model A, state "AI" of Fig. 8C):
8000 excitatory + 2000 inhibitory LIF neurones with delta synapses (``iaf_psc_delta``; tau_m
20 ms, threshold 20 mV and reset 10 mV above rest, refractory 2 ms, inputs during the refractory
period discarded), fixed in-degrees C_E = 800 from the excitatory and C_I = 200 from the
inhibitory neurones (no autapses, no multapses), J = 0.1 mV, g = 5, delay 1.5 ms, external
Poisson input at eta = nu_ext / nu_thr = 2 (nu_thr = theta / (J C_E tau_m) = 12.5 Hz, so
C_E nu_ext = 20 kHz of 0.1 mV events per neurone), 1 s at dt = 0.1 ms, all neurones starting
at rest.

Engines (each one its own Python process; the wall time of the whole process is what counts):

``neurophase``
    :func:`neurophase.micro.network.simulate_populations` with an inhibitory part
    (``inhibitory_size=2000, inhibitory_indegree=200, inhibition=5``), Poisson input drawn per
    neurone and step, on the C++ standalone device with ``--threads`` OpenMP threads (Brian2's
    code generation and C++ build included in the process time). It runs twice in one build
    folder (a fresh temporary one, or ``--build-dir``): the first run compiles the network, the
    second finds it compiled, as a user's second run of a network of the same shape does from the
    project folder in the build cache (``<cache>/projects``); both are printed.
``neurophase-cython``
    The same on Brian2's Cython runtime (compiled code cached in ``~/.cython`` after the first run).
``nest``
    NEST 3 (``pip install nest-simulator``): ``iaf_psc_delta``, one ``poisson_generator``
    (independent trains per target), ``fixed_indegree`` connections, ``local_num_threads``.

Printed: whole-process wall time, the simulator's own run time where it reports one, the mean
rate of all neurones, and the rate of the self-consistent Siegert mean field of the same network
(Brunel 2000, Eqs. 4-5 and 21: mu = C_E J tau (nu_ext + nu (1 - g/4)),
sigma^2 = J^2 C_E tau (nu_ext + nu (1 + g^2/4))) as the physics check of both.
Reference measured here when the issue was filed: NEST 11.1 s whole (8.7 s run) with 2 threads,
26.1 s with 1.

Run: ``python benchmarks/brunel2000_nest.py [--threads 2] [--engines neurophase,nest]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

N_E, N_I, C_E, C_I = 8000, 2000, 800, 200
J_MV, G, ETA, DELAY_MS, DURATION_S, DT_MS = 0.1, 5.0, 2.0, 1.5, 1.0, 0.1
TAU_MS, THETA_MV, RESET_MV, REFRACTORY_MS = 20.0, 20.0, 10.0, 2.0
NU_THRESHOLD = THETA_MV / (J_MV * C_E * TAU_MS * 1e-3)          # 12.5 Hz
POISSON_RATE = ETA * NU_THRESHOLD * C_E                          # 20 kHz per neurone

NEUROPHASE_CODE = r"""
import json, sys, time
started = time.perf_counter()
import numpy as np
from brian2 import Hz, mV, ms, pA, prefs, second
from neurophase.micro.network import simulate_populations
device, threads, build_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3] or None
if device == "cpp_standalone":
    prefs.devices.cpp_standalone.openmp_threads = threads
data = simulate_populations(
    "leaky_integrate_and_fire", np.array([%(J)r]) * mV, np.array([0.0]) * pA, size=%(NE)d,
    indegree=%(CE)d, inhibitory_size=%(NI)d, inhibitory_indegree=%(CI)d, inhibition=%(G)r,
    poisson_rate=%(RATE)r * Hz, poisson_weight=%(J)r * mV, delay=%(DELAY)r * ms,
    duration=%(DURATION)r * second, transient=0.2 * second, bin_width=1 * ms, dt=%(DT)r * ms,
    parameters={"V_reset": "-60 mV"}, device=device, target="cython", seed=1, progress=False,
    standalone_directory=build_dir)
print(json.dumps({"rate": float(data["mean_rate"][0]), "run_seconds": data.attrs["wall_time_seconds"],
                  "process_seconds": time.perf_counter() - started}))
""" % {"J": J_MV, "NE": N_E, "CE": C_E, "NI": N_I, "CI": C_I, "G": G, "RATE": POISSON_RATE,
       "DELAY": DELAY_MS, "DURATION": DURATION_S, "DT": DT_MS}

NEST_CODE = r"""
import json, sys, time
started = time.perf_counter()
import nest
threads = int(sys.argv[1])
nest.set_verbosity("M_ERROR")
nest.ResetKernel()
nest.SetKernelStatus({"resolution": %(DT)r, "local_num_threads": threads, "rng_seed": 1})
params = {"C_m": 1.0, "tau_m": %(TAU)r, "t_ref": %(REF)r, "E_L": 0.0, "V_reset": %(RESET)r,
          "V_th": %(THETA)r, "V_m": 0.0}
excitatory = nest.Create("iaf_psc_delta", %(NE)d, params=params)
inhibitory = nest.Create("iaf_psc_delta", %(NI)d, params=params)
noise = nest.Create("poisson_generator", params={"rate": %(RATE)r})
recorder = nest.Create("spike_recorder")
everyone = excitatory + inhibitory
nest.Connect(noise, everyone, syn_spec={"weight": %(J)r, "delay": %(DELAY)r})
rule = {"allow_autapses": False, "allow_multapses": False}
nest.Connect(excitatory, everyone, dict(rule, rule="fixed_indegree", indegree=%(CE)d),
             {"weight": %(J)r, "delay": %(DELAY)r})
nest.Connect(inhibitory, everyone, dict(rule, rule="fixed_indegree", indegree=%(CI)d),
             {"weight": -%(G)r * %(J)r, "delay": %(DELAY)r})
nest.Connect(everyone, recorder)
run_started = time.perf_counter()
nest.Simulate(%(DURATION)r * 1000.0)
run_seconds = time.perf_counter() - run_started
events = recorder.get("events")
times = events["times"]
count = int((times >= 200.0).sum())
rate = count / (%(NE)d + %(NI)d) / (%(DURATION)r - 0.2)
print(json.dumps({"rate": rate, "run_seconds": run_seconds,
                  "process_seconds": time.perf_counter() - started}))
""" % {"J": J_MV, "NE": N_E, "CE": C_E, "NI": N_I, "CI": C_I, "G": G, "RATE": POISSON_RATE,
       "DELAY": DELAY_MS, "DURATION": DURATION_S, "DT": DT_MS, "TAU": TAU_MS, "REF": REFRACTORY_MS,
       "RESET": RESET_MV, "THETA": THETA_MV}


def mean_field_rate():
    """Self-consistent Siegert rate of the network (Brunel 2000, Eqs. 4-5, 21), in Hz."""
    import numpy as np
    from scipy.optimize import brentq

    from neurophase.mapping.siegert import siegert_rate_si

    tau = TAU_MS * 1e-3
    J = J_MV * 1e-3
    nu_ext = ETA * NU_THRESHOLD
    gamma = C_I / C_E

    def gap(nu):
        mu = C_E * J * tau * (nu_ext + nu * (1 - G * gamma))
        sigma = np.sqrt(J**2 * C_E * tau * (nu_ext + nu * (1 + G**2 * gamma)))
        return float(siegert_rate_si(mu, sigma, tau, THETA_MV * 1e-3, RESET_MV * 1e-3,
                                     REFRACTORY_MS * 1e-3)) - nu

    return brentq(gap, 1e-6, 1.0 / (REFRACTORY_MS * 1e-3) - 1e-6, xtol=1e-10)


def run(engine, threads, build_dir):
    if engine == "nest":
        command = [sys.executable, "-c", NEST_CODE, str(threads)]
    else:
        device = "cpp_standalone" if engine == "neurophase" else "runtime"
        command = [sys.executable, "-c", NEUROPHASE_CODE, device, str(threads), build_dir or ""]
    environment = dict(os.environ, OMP_NUM_THREADS=str(threads))
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=environment)
    whole = time.perf_counter() - started
    if completed.returncode != 0:
        return {"engine": engine, "error": completed.stderr.strip().splitlines()[-1:]}
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result.update({"engine": engine, "whole_seconds": whole})
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--engines", default="neurophase,nest",
                        help="comma-separated: neurophase (C++ standalone), neurophase-cython, nest")
    parser.add_argument("--build-dir", default=None,
                        help="persistent C++ build folder (a second run reuses the compiled objects)")
    args = parser.parse_args(argv)
    build_dir = args.build_dir or tempfile.mkdtemp(prefix="brunel2000_build_")
    expected = mean_field_rate()
    print(f"Brunel 2000 network: {N_E} E + {N_I} I, C_E {C_E}, C_I {C_I}, J {J_MV} mV, g {G}, eta {ETA}, "
          f"delay {DELAY_MS} ms, {DURATION_S} s at dt {DT_MS} ms, {args.threads} thread(s)")
    print(f"Siegert mean-field rate of this network: {expected:.2f} Hz")
    results = []
    for engine in args.engines.split(","):
        engine = engine.strip()
        repeats = 2 if engine == "neurophase" else 1     # second standalone run: cached build
        for repeat in range(repeats):
            result = run(engine, args.threads, build_dir)
            label = engine + (" (cached build)" if repeat else "")
            result["label"] = label
            results.append(result)
            if "error" in result:
                print(f"{label:<28} failed: {result['error']}")
                continue
            print(f"{label:<28} whole process {result['whole_seconds']:6.1f} s   run "
                  f"{result['run_seconds']:6.2f} s   rate {result['rate']:6.2f} Hz "
                  f"({100 * (result['rate'] / expected - 1):+.1f}% vs mean field)")
    timed = {result["label"]: result for result in results if "error" not in result}
    if "nest" in timed:
        for label, result in timed.items():
            if label != "nest":
                print(f"NEST whole / {label} whole = "
                      f"{timed['nest']['whole_seconds'] / result['whole_seconds']:.2f} "
                      "(> 1: neurophase faster)")
    print("reference when the issue was filed: NEST 11.1 s whole (8.7 s run) with 2 threads, 26.1 s with 1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
