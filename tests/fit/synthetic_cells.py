"""Synthetic current-clamp recordings of library models with known parameters (the fit's ground truth).

:func:`simulate_cell` replays a step protocol to a library model with chosen parameters (one Brian2
network, :class:`neurophase.micro.replay.ReplayNetwork`, at the model's recommended time step) and
returns sweeps sampled at 10 kHz. Models that reset their potential (LIF, AdEx) do not draw the
action potential, so a stereotyped spike (a 1 ms, 80 mV Gaussian peak) is added at every threshold
crossing, as a recording would show it; conductance models draw their own. Seeded Gaussian noise
(0.2 mV) is added. :func:`write_abf1`, :func:`write_nwb` and :func:`write_csv` write the sweeps as
ABF1 (pyabf's writer, with the step protocol in a ``.steps.json`` sidecar since ABF1 files written by
pyabf carry no command waveform), NWB icephys (pynwb) and CSV.
"""

import datetime
import json

import numpy as np
from brian2 import ms, pA, second

from neurophase.micro.modelfile import load_model
from neurophase.micro.replay import ReplayNetwork

SAMPLING_RATE = 10000.0  # Hz
STEP_START, STEP_STOP, SWEEP_DURATION = 0.1, 0.6, 0.7  # s


def protocol(amplitudes):
    """Currents (pA), shape (n_sweeps, n_samples): 0 pA, then one step per sweep."""
    time = np.arange(int(round(SWEEP_DURATION * SAMPLING_RATE))) / SAMPLING_RATE
    inside = (time >= STEP_START) & (time < STEP_STOP)
    return np.where(inside[None, :], np.asarray(amplitudes, dtype=float)[:, None], 0.0)


def simulate_cell(model_name, parameters, amplitudes, seed=0, noise=0.2):
    """Voltage (mV) and current (pA) arrays (n_sweeps, n_samples) of ``model_name`` with ``parameters``."""
    model = load_model(model_name)
    currents = protocol(amplitudes)
    with ReplayNetwork(model, currents * pA, 1 / SAMPLING_RATE * second, 1, [], parameters=parameters,
                       record_dt=0.1 * ms) as replay:
        result = replay.run({})
    voltage = result.voltage[0].astype(float)
    time = np.arange(voltage.shape[1]) / SAMPLING_RATE
    if model.reset:
        for sweep in range(voltage.shape[0]):
            for spike in result.spike_times(0, sweep):
                voltage[sweep] += 80.0 * np.exp(-0.5 * ((time - spike - 0.0003) / 0.0003) ** 2)
    voltage += noise * np.random.default_rng(seed).standard_normal(voltage.shape)
    return voltage, currents[:, :voltage.shape[1]]


def write_abf1(path, voltages, amplitudes):
    from pyabf.abfWriter import writeABF1

    writeABF1(np.asarray(voltages, dtype=np.float32), str(path), sampleRateHz=SAMPLING_RATE, units="mV")
    sidecar = {"step_windows": [[f"{STEP_START * 1e3:g} ms", f"{STEP_STOP * 1e3:g} ms"]],
               "step_amplitudes": [f"{a:g} pA" for a in amplitudes], "holding_current": "0 pA"}
    path.with_name(path.name + ".steps.json").write_text(json.dumps(sidecar))
    return path


def write_nwb(path, voltages, currents):
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.icephys import CurrentClampSeries, CurrentClampStimulusSeries

    nwbfile = NWBFile(session_description="synthetic cell", identifier="neurophase-fit-test",
                      session_start_time=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
    device = nwbfile.create_device(name="amplifier")
    electrode = nwbfile.create_icephys_electrode(name="cell", description="synthetic", device=device)
    for number, (voltage, current) in enumerate(zip(voltages, currents)):
        nwbfile.add_acquisition(CurrentClampSeries(
            name=f"cc_{number}", data=voltage * 1e-3, unit="volts", electrode=electrode, gain=1.0,
            rate=SAMPLING_RATE, sweep_number=np.uint32(number), starting_time=0.0, stimulus_description="steps"))
        nwbfile.add_stimulus(CurrentClampStimulusSeries(
            name=f"stim_{number}", data=current * 1e-12, unit="amperes", electrode=electrode, gain=1.0,
            rate=SAMPLING_RATE, sweep_number=np.uint32(number), starting_time=0.0))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path


def write_csv(path, voltages, currents):
    lines = ["# protocol: synthetic steps", "sweep,time (s),voltage (mV),current (pA)"]
    time = np.arange(voltages.shape[1]) / SAMPLING_RATE
    for number, (voltage, current) in enumerate(zip(voltages, currents)):
        lines += [f"{number},{t:.5f},{v:.4f},{i:.2f}" for t, v, i in zip(time, voltage, current)]
    path.write_text("\n".join(lines) + "\n")
    return path
