"""Benchmark: exact Markov channels vs Fox's Langevin channels on a (N x amplitude x trial) grid.

The grid (defaults): 6 channel numbers N_Na from 100 to 1e5 (geometric; N_K = 0.3 N_Na, the HH
density ratio 18:60 per um2) x 30 pulse amplitudes from 0 to 58 uA/cm2 x 100 trials = 18000
neurones, pulse protocol (0.5 ms pulse at 5 ms, run to 15 ms, spikes counted from the pulse
onset), dt = 0.01 ms, Cython runtime. Each model's grid is ONE Brian2 network:

``markov``
    ``hodgkin_huxley_markov`` swept with ``parameters={"N_Na": N}`` (exact channel-state
    counts, multinomial steps; :mod:`neurophase.micro.channels`).
``fox``
    ``hodgkin_huxley_stochastic`` (Fox 1997 subunit Langevin noise, Milstein), N_Na and N_K
    swept together (linked DataArrays along one dimension).

Each engine runs in its own process. Printed: compile time (a warm-up build of the same
network with one N, one amplitude, one trial, 6 ms), run time, neurone-steps per second, and
per N the firing probability's midpoint I50 (where p_fire crosses halfway between its values
at the lowest and highest amplitude, linear interpolation) and its 10-90 % width, for both
models side by side.

Two further figures for the channel-noise measurements built on this (N3-N5):

``throughput``
    Spontaneous firing at zero drive (step protocol, 200 ms, running spike sums) of 200
    Markov neurones at N_Na = 1e3 and at 1e5, and the same for Fox: simulated neurone-seconds
    per wall-clock second and per CPU second, and the measured rates.
``clamp``
    The stationary variance of the Na open fraction under voltage clamp (-65 and -40 mV,
    N_Na = 1000, 400 trials x 4 samples 5 ms apart) for both models, next to the binomial
    closed form m^3 h (1 - m^3 h)/N of independent Markov channels and the linear-noise
    (delta-method) value of Fox's subunit equations, (9 m^4 h^2 m(1-m) + m^6 h(1-h))/N
    (J. H. Goldwyn & E. Shea-Brown 2011, PLoS Comput. Biol. 7:e1002247, compare the subunit
    and channel-state noise).

Run: ``python benchmarks/markov_channels.py`` (about 10-20 minutes on 2 cores);
``--trials 10 --amplitudes 10`` for a quick look.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np
from _runs import tagged_result

DT_MS = 0.01
PULSE_MS = 0.5
DURATION_MS = 15.0


def _channel_numbers(count):
    return np.geomspace(100, 1e5, count).round()


def _grid(model_name, numbers, amplitudes, trials, duration_ms, seed):
    import xarray as xr
    from brian2 import cm, ms, uA

    from neurophase.micro.neurone import firing_curve

    if model_name == "hodgkin_huxley_markov":
        parameters = {"N_Na": numbers}
    else:
        parameters = {"N_Na": xr.DataArray(numbers, dims="N_Na"),
                      "N_K": xr.DataArray((0.3 * numbers).round(), dims="N_Na")}
    return firing_curve(model_name, amplitudes * uA / cm**2, protocol="pulse", duration=duration_ms * ms,
                        pulse_duration=PULSE_MS * ms, seeds=trials, parameters=parameters,
                        dt=DT_MS * ms, progress=False, seed=seed)


def _midpoint_and_width(amplitudes, probability):
    """Midpoint between the curve's ends and its 10-90 % width (NaN when not crossed)."""
    low, high = probability[0], probability[-1]
    if not high > low + 0.2:
        return float("nan"), float("nan")
    scaled = (np.maximum.accumulate(probability) - low) / (high - low)

    def crossing(level):
        index = int(np.argmax(scaled >= level))
        if index == 0:
            return float(amplitudes[0])
        x0, x1, y0, y1 = amplitudes[index - 1], amplitudes[index], scaled[index - 1], scaled[index]
        return float(x0 + (level - y0) * (x1 - x0) / (y1 - y0)) if y1 > y0 else float(x1)

    return crossing(0.5), crossing(0.9) - crossing(0.1)


def run_grid(model_name, count, amplitude_count, trials):
    numbers = _channel_numbers(count)
    amplitudes = np.linspace(0.0, 58.0, amplitude_count)
    started = time.perf_counter()
    _grid(model_name, numbers[:1], amplitudes[:1], 1, 6.0, seed=1)
    compile_seconds = time.perf_counter() - started
    cpu = time.process_time()
    started = time.perf_counter()
    dataset = _grid(model_name, numbers, amplitudes, trials, DURATION_MS, seed=2)
    run_seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu
    p_fire = dataset["p_fire"].values  # (N, amplitude)
    summary = [_midpoint_and_width(amplitudes, row) for row in p_fire]
    steps = numbers.size * amplitudes.size * trials * round(DURATION_MS / DT_MS)
    return {"engine": model_name, "compile_seconds": compile_seconds, "run_seconds": run_seconds,
            "cpu_seconds": cpu_seconds, "neurone_steps_per_second": steps / run_seconds,
            "neurone_steps": steps, "numbers": numbers.tolist(),
            "midpoints": [row[0] for row in summary], "widths": [row[1] for row in summary],
            "p_fire_low": p_fire[:, 0].tolist(), "p_fire_high": p_fire[:, -1].tolist(),
            "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def run_throughput(model_name, number, neurones, duration_ms):
    from brian2 import cm, ms, uA

    from neurophase.micro.neurone import firing_curve

    parameters = ({"N_Na": number} if model_name == "hodgkin_huxley_markov"
                  else {"N_Na": number, "N_K": round(0.3 * number)})
    firing_curve(model_name, np.array([0.0]) * uA / cm**2, duration=1 * ms, seeds=1,
                 parameters=parameters, progress=False)  # compile
    cpu = time.process_time()
    started = time.perf_counter()
    dataset = firing_curve(model_name, np.array([0.0]) * uA / cm**2, duration=duration_ms * ms,
                           seeds=neurones, parameters=parameters, progress=False, seed=3)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    simulated = neurones * duration_ms * 1e-3
    rates = dataset["rate"].values[0]
    return {"engine": model_name, "N_Na": number, "neurone_seconds": simulated, "wall_seconds": wall,
            "cpu_seconds": cpu, "per_wall_second": simulated / wall, "per_cpu_second": simulated / cpu,
            "rate_hz": float(np.mean(rates)), "rate_se_hz": float(np.std(rates, ddof=1) / np.sqrt(rates.size))}


def run_clamp():
    from brian2 import ms, mV

    from neurophase.micro.channels import voltage_clamp
    from neurophase.testing import hodgkin_huxley_1952_rate_tuple

    voltages = np.array([-65.0, -40.0])
    number = 1000
    markov = voltage_clamp("hodgkin_huxley_markov", voltages * mV, 20 * ms, seeds=400,
                           parameters={"N_Na": number}, dt=0.1 * ms, record_dt=5 * ms, seed=4)
    fox = voltage_clamp("hodgkin_huxley_stochastic", voltages * mV, 40 * ms, seeds=400,
                        parameters={"N_Na": number, "N_K": round(0.3 * number)},
                        record={"Na_open": "m_open**3 * h_open"}, dt=0.01 * ms, record_dt=5 * ms,
                        seed=4)
    rows = []
    for voltage in voltages:
        a_m, b_m, a_h, b_h, _, _ = (float(rate) for rate in hodgkin_huxley_1952_rate_tuple(voltage))
        m, h = a_m / (a_m + b_m), a_h / (a_h + b_h)
        p = m**3 * h
        binomial = p * (1 - p) / number
        linear_noise = (9 * m**4 * h**2 * m * (1 - m) + m**6 * h * (1 - h)) / number
        # Fox: skip the first 20 ms (its gates start at x_inf but its stationary law differs)
        fox_values = fox["Na_open"].sel(voltage=voltage).isel(time=slice(4, None)).values.ravel()
        markov_values = markov["Na_open"].sel(voltage=voltage).values.ravel()
        rows.append({"voltage_mV": float(voltage), "p_open": p, "binomial_variance": binomial,
                     "fox_linear_noise_variance": linear_noise,
                     "markov_variance": float(np.var(markov_values, ddof=1)),
                     "markov_mean": float(np.mean(markov_values)),
                     "fox_variance": float(np.var(fox_values, ddof=1)),
                     "fox_mean": float(np.mean(fox_values))})
    return rows


def _in_subprocess(call):
    try:
        return tagged_result([sys.executable, __file__, "--worker", json.dumps(call)], "RESULT", label=str(call))
    except RuntimeError as error:
        raise SystemExit(str(error)) from None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=6, help="channel numbers (default 6)")
    parser.add_argument("--amplitudes", type=int, default=30, help="pulse amplitudes (default 30)")
    parser.add_argument("--trials", type=int, default=100, help="trials per grid point (default 100)")
    parser.add_argument("--skip-extra", action="store_true", help="only the grid benchmark")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        call = json.loads(args.worker)
        kind = call.pop("kind")
        result = {"grid": run_grid, "throughput": run_throughput, "clamp": run_clamp}[kind](**call)
        print("RESULT" + json.dumps(result))
        return
    grids = [_in_subprocess({"kind": "grid", "model_name": name, "count": args.numbers,
                             "amplitude_count": args.amplitudes, "trials": args.trials})
             for name in ("hodgkin_huxley_markov", "hodgkin_huxley_stochastic")]
    markov, fox = grids
    print(f"grid: {args.numbers} N_Na x {args.amplitudes} amplitudes x {args.trials} trials, pulse "
          f"{PULSE_MS} ms, {DURATION_MS} ms runs, dt {DT_MS} ms ({markov['neurone_steps']:.3g} neurone-steps)")
    print(f"{'model':<28}{'compile (s)':>12}{'run (s)':>10}{'CPU (s)':>10}{'steps/s':>11}"
          f"{'steps/CPU-s':>13}{'RSS (MB)':>10}")
    for result in grids:
        print(f"{result['engine']:<28}{result['compile_seconds']:>12.1f}{result['run_seconds']:>10.1f}"
              f"{result['cpu_seconds']:>10.1f}{result['neurone_steps_per_second']:>11.3g}"
              f"{result['neurone_steps'] / result['cpu_seconds']:>13.3g}{result['peak_memory_mb']:>10.0f}")
    print(f"Markov / Fox: run (wall) time {markov['run_seconds'] / fox['run_seconds']:.2f}x, CPU time "
          f"{markov['cpu_seconds'] / fox['cpu_seconds']:.2f}x (wall time includes waiting for the CPU "
          "on a shared machine; CPU time is this process's own)")
    print(f"{'N_Na':>8}  {'Markov I50':>10} {'width':>6} {'p(0)':>5} {'p(58)':>5}   "
          f"{'Fox I50':>8} {'width':>6} {'p(0)':>5} {'p(58)':>5}   (uA/cm2)")
    for index, number in enumerate(markov["numbers"]):
        print(f"{number:>8.0f}  {markov['midpoints'][index]:>10.2f} {markov['widths'][index]:>6.2f} "
              f"{markov['p_fire_low'][index]:>5.2f} {markov['p_fire_high'][index]:>5.2f}   "
              f"{fox['midpoints'][index]:>8.2f} {fox['widths'][index]:>6.2f} "
              f"{fox['p_fire_low'][index]:>5.2f} {fox['p_fire_high'][index]:>5.2f}")
    if args.skip_extra:
        return
    print("\nspontaneous firing at zero drive (200 neurones x 200 ms, running spike sums):")
    print(f"{'model':<28}{'N_Na':>8}{'neurone-s/wall-s':>18}{'neurone-s/CPU-s':>17}{'rate (Hz)':>16}")
    for name in ("hodgkin_huxley_markov", "hodgkin_huxley_stochastic"):
        for number in (1000, 100000):
            row = _in_subprocess({"kind": "throughput", "model_name": name, "number": number,
                                  "neurones": 200, "duration_ms": 200.0})
            print(f"{name:<28}{number:>8}{row['per_wall_second']:>18.2f}{row['per_cpu_second']:>17.2f}"
                  f"{row['rate_hz']:>10.2f} +- {row['rate_se_hz']:.2f}")
    print("\nNa open-fraction variance under voltage clamp, N_Na = 1000 (x 1e-7):")
    print(f"{'v (mV)':>7}{'m^3h':>10}{'binomial':>10}{'Markov':>10}{'Fox lin.':>10}{'Fox':>10}{'Fox/Markov':>12}")
    for row in _in_subprocess({"kind": "clamp"}):
        print(f"{row['voltage_mV']:>7.0f}{row['p_open']:>10.2e}{row['binomial_variance'] * 1e7:>10.3f}"
              f"{row['markov_variance'] * 1e7:>10.3f}{row['fox_linear_noise_variance'] * 1e7:>10.3f}"
              f"{row['fox_variance'] * 1e7:>10.3f}{row['fox_variance'] / row['markov_variance']:>12.3f}")


if __name__ == "__main__":
    main()
