"""Synthetic current-clamp step recordings with known spike times, for the reader tests.

The firing rate of each step follows the leaky integrate-and-fire f-I curve (Gerstner &
Kistler 2002, *Spiking Neuron Models*, Eq. 4.11 without refractoriness, tau_ref added):
``f(I) = 1 / (tau_ref + tau_m ln(R I / (R I - theta)))`` for ``R I > theta``, else 0;
spikes are placed periodically at ``start + k / f`` (k = 1, 2, ...) inside the step, each
drawn as a 1 ms Gaussian peak of 90 mV on a -65 mV baseline with seeded Gaussian noise.
So the spike count of every step is known in closed form: ``ceil(duration f) - 1`` for the
placed spikes that lie strictly inside the window.
"""

import numpy as np

SAMPLING_RATE = 10000.0  # Hz
SWEEP_DURATION = 1.0  # s
STEP_START, STEP_STOP = 0.2, 0.7  # s
REST = -65.0  # mV
MEMBRANE_TIME_CONSTANT = 0.02  # s
RESISTANCE = 0.1  # mV/pA (100 MOhm)
THRESHOLD = 15.0  # mV above rest
REFRACTORY = 0.003  # s


def lif_rate(current):
    """LIF firing rate (Hz) for a step current in pA."""
    current = np.asarray(current, dtype=float)
    drive = RESISTANCE * current
    with np.errstate(divide="ignore", invalid="ignore"):
        period = REFRACTORY + MEMBRANE_TIME_CONSTANT * np.log(drive / (drive - THRESHOLD))
    return np.where(drive > THRESHOLD, 1.0 / period, 0.0)


def class1_rate(current, threshold=100.0, amplitude=3.0):
    """Class-1 (saddle-node) onset ``f = a sqrt(I - I_c)`` in Hz for ``current`` in pA
    (Ermentrout 1996, Neural Comput. 8:979, normal form of the SNIC bifurcation)."""
    current = np.asarray(current, dtype=float)
    return amplitude * np.sqrt(np.maximum(current - threshold, 0.0))


def spike_times(current, rate_function=lif_rate):
    """Spike times (s) of a step at ``current`` pA: periodic from the step onset."""
    rate = float(rate_function(current))
    if rate == 0:
        return np.empty(0)
    times = STEP_START + np.arange(1, int(np.ceil((STEP_STOP - STEP_START) * rate)) + 1) / rate
    return times[times < STEP_STOP - 0.002]


def sweeps(currents, seed=0, noise=0.3, rate_function=lif_rate):
    """Voltage (mV) and current (pA) arrays, shape (n_sweeps, n_samples), and spike counts."""
    generator = np.random.default_rng(seed)
    time = np.arange(int(SWEEP_DURATION * SAMPLING_RATE)) / SAMPLING_RATE
    voltages, injected, counts = [], [], []
    for current in currents:
        in_step = (time >= STEP_START) & (time < STEP_STOP)
        voltage = REST + noise * generator.standard_normal(time.size)
        voltage += np.where(in_step, min(RESISTANCE * current, THRESHOLD * 0.9), 0.0)
        peaks = spike_times(current, rate_function)
        if peaks.size:
            voltage += 90.0 * np.exp(-0.5 * ((time[:, None] - peaks) / 0.0003) ** 2).sum(axis=1)
        voltages.append(voltage)
        injected.append(np.where(in_step, float(current), 0.0))
        counts.append(peaks.size)
    return np.array(voltages), np.array(injected), np.array(counts)
