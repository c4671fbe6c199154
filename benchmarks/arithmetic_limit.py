"""Benchmark: the per-core arithmetic limit of the Hodgkin-Huxley update and the fraction neurophase reaches.

1. Operations per neurone-step, counted in the C++ code Brian2 generates for
   ``firing_curve("hodgkin_huxley_1952", ...)`` on the standalone device (the midpoint method
   ``rk2`` of the model file): the statements of the state-update loop are parsed (Python's
   :mod:`ast` reads C++ arithmetic), common subexpressions are counted once (as the compiler
   computes them once), loop-invariant constants (Brian2's ``_lio_*``, computed once per step)
   not at all. Counted: additions and subtractions, multiplications (``pow(x, 3)`` and
   ``pow(x, 4)`` as two each), divisions, ``exp`` calls, and ``exprel`` = ``expm1(x)/x`` as one
   ``expm1`` and one division; plus one comparison per neurone for the threshold.
2. The machine's throughput for each kind, measured by a C++ microbenchmark compiled with the
   flags of a standalone build (:func:`neurophase.micro.devices.standalone_compile_flags`):
   2048 doubles (in L1 cache) per pass, thousands of passes; ``exp``/``expm1`` through glibc's
   vector functions, as the state update uses them; additions and multiplications as 16
   fused multiply-adds per element (32 flops).
3. The limit: time per neurone-step = flops / flop rate + divisions x division time + exp x exp
   time + expm1 x expm1 time (no overlap assumed between the kinds, so it is a bound on the
   time only in the additive model; a loop that overlaps them perfectly could be faster).
4. The measured time per neurone-step per core: the standalone binary's wall-clock time x
   threads and its CPU time, for 10^4 neurones x 0.5 s at dt = 0.025 ms (2e8 neurone-steps, warm
   cache), with one thread and with every core. The fraction reached = limit / measured. The
   microbenchmark and the CPU-time figures count CPU time, which load from other processes
   hardly changes (the wall-clock figures it does; with OpenMP, CPU time includes the threads'
   waiting for each other).

Run: ``python benchmarks/arithmetic_limit.py`` (about 1 minute on 2 idle cores plus one
compile of the network).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys

from _runs import environment, load_average, tagged_result, temporary_folder

DT_MS = 0.025

MICROBENCHMARK = r"""
#include <cmath>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <vector>
static const int N = 2048;
__attribute__((noinline)) void k_fma(const double* __restrict x, double* __restrict y) {
    for (int i = 0; i < N; i++) {
        double a = x[i];
        a = a * 0.999 + 1e-3; a = a * 0.999 + 1e-3; a = a * 0.999 + 1e-3; a = a * 0.999 + 1e-3;
        a = a * 0.999 + 1e-3; a = a * 0.999 + 1e-3; a = a * 0.999 + 1e-3; a = a * 0.999 + 1e-3;
        a = a * 0.999 + 1e-3; a = a * 0.999 + 1e-3; a = a * 0.999 + 1e-3; a = a * 0.999 + 1e-3;
        a = a * 0.999 + 1e-3; a = a * 0.999 + 1e-3; a = a * 0.999 + 1e-3; a = a * 0.999 + 1e-3;
        y[i] = a;
    }
}
__attribute__((noinline)) void k_exp(const double* __restrict x, double* __restrict y) {
    for (int i = 0; i < N; i++) y[i] = exp(x[i]);
}
__attribute__((noinline)) void k_expm1(const double* __restrict x, double* __restrict y) {
    for (int i = 0; i < N; i++) y[i] = expm1(x[i]);
}
__attribute__((noinline)) void k_div(const double* __restrict x, double* __restrict y) {
    for (int i = 0; i < N; i++) y[i] = 1.0 / x[i];
}
template <typename F> double seconds_per_element(F kernel, const double* x, double* y, int passes) {
    kernel(x, y);
    std::clock_t start = std::clock();  // CPU time of this process: robust against other load
    for (int r = 0; r < passes; r++) kernel(x, y);
    return (double)(std::clock() - start) / CLOCKS_PER_SEC / ((double)passes * N);
}
int main(int argc, char** argv) {
    int passes = argc > 1 ? atoi(argv[1]) : 20000;
    std::vector<double> x(N), y(N);
    for (int i = 0; i < N; i++) x[i] = 0.5 + (double)i / N;  // arguments of the size of the HH rates
    double best[4] = {1e9, 1e9, 1e9, 1e9};
    for (int trial = 0; trial < 5; trial++) {
        double t[4] = {seconds_per_element(k_fma, x.data(), y.data(), passes),
                       seconds_per_element(k_exp, x.data(), y.data(), passes),
                       seconds_per_element(k_expm1, x.data(), y.data(), passes),
                       seconds_per_element(k_div, x.data(), y.data(), passes)};
        for (int k = 0; k < 4; k++) best[k] = t[k] < best[k] ? t[k] : best[k];
    }
    printf("{\"fma16\": %.6e, \"exp\": %.6e, \"expm1\": %.6e, \"div\": %.6e, \"check\": %g}\n",
           best[0], best[1], best[2], best[3], y[7]);
    return 0;
}
"""

MEASURE = """
import json, sys
import numpy as np
from brian2 import cm, ms, second, uA
from neurophase.micro.neurone import firing_curve
threads = int(sys.argv[1])
data = firing_curve("hodgkin_huxley_1952", np.linspace(0.0, 20.0, 10000) * uA / cm**2, duration=0.5 * second,
                    dt=%r * ms, device="cpp_standalone", threads=threads, progress=False)
key = data.attrs["standalone_build_key"]
print("MEASURE" + json.dumps({"run": data.attrs["standalone_run_seconds"], "key": key,
                              "cpu": data.attrs["standalone_run_cpu_seconds"],
                              "threads": data.attrs["openmp_threads"]}))
""" % DT_MS


class _Counter(ast.NodeVisitor):
    """Counts operations of C++ arithmetic expressions, each distinct subexpression once."""

    def __init__(self):
        self.seen = set()
        self.counts = {"add": 0, "mul": 0, "div": 0, "exp": 0, "expm1": 0}

    def visit(self, node):
        key = ast.dump(node)
        if isinstance(node, (ast.BinOp, ast.Call)):
            if key in self.seen:
                return
            self.seen.add(key)
        super().visit(node)

    def visit_BinOp(self, node):
        kind = {ast.Add: "add", ast.Sub: "add", ast.Mult: "mul", ast.Div: "div"}[type(node.op)]
        constant = all(isinstance(side, ast.Constant) for side in (node.left, node.right))
        if not constant:
            self.counts[kind] += 1
        self.generic_visit(node)

    def visit_Call(self, node):
        name = node.func.id
        if name == "exp":
            self.counts["exp"] += 1
        elif name == "_exprel":
            self.counts["expm1"] += 1
            self.counts["div"] += 1
        elif name == "_brian_pow":
            exponent = node.args[1].value
            self.counts["mul"] += {2: 1, 3: 2, 4: 2}.get(int(exponent), 0)
        else:
            raise ValueError(f"unexpected function {name} in the state update")
        for argument in node.args:
            self.visit(argument)


def count_operations(source):
    """Operations per neurone of the state-update loop in ``source`` (a code-object .cpp)."""
    body = source[source.index("for(int _idx=0; _idx<_N; _idx++)"):]
    body = body[body.index("{") + 1:body.index("\n    }\n")]
    counter = _Counter()
    for match in re.finditer(r"(?:const\s+)?double\s+(\w+)\s*=\s*([^;]+);", body):
        expression = match.group(2).strip()
        if expression.startswith("_ptr_array_"):
            continue  # a load
        python = re.sub(r"(\d)f\b", r"\1", expression)
        counter.visit(ast.parse(python, mode="eval").body)
    counter.counts["compare"] = 1  # the threshold
    return counter.counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=20000, help="passes over 2048 doubles per kernel")
    arguments = parser.parse_args(argv)
    from neurophase.micro.build_cache import _compiler_identity
    from neurophase.micro.devices import available_cores, standalone_compile_flags

    with temporary_folder("neurophase_limit_") as work:
        variables = environment(NEUROPHASE_CACHE_DIR=work / "cache")
        measured = {}
        for threads in sorted({1, available_cores()}):
            command = [sys.executable, "-c", MEASURE, str(threads)]
            tagged_result(command, "MEASURE", env=variables, label=f"{threads} thread(s), build")
            # the timed run is the second one, from the cache
            measured[threads] = tagged_result(command, "MEASURE", env=variables, label=f"{threads} thread(s)")
        entry = work / "cache" / "standalone" / measured[1]["key"]
        source = (entry / "code_objects" / "grid_neurones_stateupdater_codeobject.cpp").read_text()
        counts = count_operations(source)
        compiler = _compiler_identity()[0].split()
        flags = [flag for flag in standalone_compile_flags() if not flag.startswith("--include")]
        (work / "micro.cpp").write_text(MICROBENCHMARK)
        subprocess.run([*compiler, *flags, str(work / "micro.cpp"), "-o", str(work / "micro")], check=True)
        unit = json.loads(subprocess.run([str(work / "micro"), str(arguments.passes)], capture_output=True,
                                         text=True, check=True).stdout)
    flops = counts["add"] + counts["mul"] + counts["compare"]
    flop_seconds = unit["fma16"] / 32.0
    limit = flops * flop_seconds + counts["div"] * unit["div"] + counts["exp"] * unit["exp"] \
        + counts["expm1"] * unit["expm1"]
    print(f"HH 1952 state update (rk2), per neurone-step: {counts['add']} add/sub, {counts['mul']} mul, "
          f"{counts['div']} div, {counts['exp']} exp, {counts['expm1']} expm1, 1 threshold comparison")
    print(f"measured per core (flags {' '.join(flags)}): {1 / flop_seconds / 1e9:.1f} Gflop/s (fused multiply-add), "
          f"exp {unit['exp'] * 1e9:.2f} ns, expm1 {unit['expm1'] * 1e9:.2f} ns, division {unit['div'] * 1e9:.2f} ns")
    print(f"arithmetic limit: {limit * 1e9:.1f} ns per neurone-step per core = {1 / limit:.3g} neurone-steps/s/core "
          f"(flops {flops * flop_seconds * 1e9:.1f} ns, divisions {counts['div'] * unit['div'] * 1e9:.1f} ns, "
          f"exp {counts['exp'] * unit['exp'] * 1e9:.1f} ns, expm1 {counts['expm1'] * unit['expm1'] * 1e9:.1f} ns)")
    steps = 10000 * round(500.0 / DT_MS)
    for threads, result in measured.items():
        per_core = result["run"] * threads / steps
        per_core_cpu = result["cpu"] / steps
        print(f"neurophase standalone, {threads} thread(s): wall {result['run']:.2f} s, CPU {result['cpu']:.2f} s "
              f"for {steps:.2g} neurone-steps = {per_core * 1e9:.1f} ns (wall x threads), {per_core_cpu * 1e9:.1f} ns "
              f"(CPU) per neurone-step per core; fraction of the limit reached {limit / per_core:.2f} (wall), "
              f"{limit / per_core_cpu:.2f} (CPU)")
    print(load_average())
    return 0


if __name__ == "__main__":
    sys.exit(main())
