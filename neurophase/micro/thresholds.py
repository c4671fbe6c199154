"""Current thresholds of a model by bisection, every bisection step inside ONE Brian2 network.

Each neurone searches its own threshold: it runs a sequence of identical trials of length
``trial_duration``; at the start of every trial a ``run_regularly`` operation (i) narrows the
neurone's bracket ``[low, high]`` with the outcome of the previous trial (a spike: the tested
amplitude becomes ``high``; none: ``low``), (ii) sets the next amplitude to the middle of the
bracket and (iii) puts the neurone back into the given initial (rest) state. So all
``steps`` bisection steps of all configurations (pulse durations, model variants) are one
network and one build; no Python loop runs Brian2. Each configuration has two identical neurones;
after the bisection, one extra trial tests ``low`` on the first copy and ``high`` on the second
while their voltage is recorded, which gives the sub- and suprathreshold trajectories that bracket
the threshold (their common lingering voltage is the escape voltage) and checks the bracket
(``low`` must not fire, ``high`` must).

A *variant* may freeze gating variables at given values (in that variant's neurones the
derivative of a frozen gate is multiplied by 0; all variants share one NeuronGroup): with every
gate but the order parameter frozen at rest this is the fast subsystem of
:mod:`neurophase.mapping.coarse_graining`, simulated.

Functions
---------
threshold_bisection
    Model + rest state + pulse durations (+ frozen variants) -> Dataset of thresholds and the
    bracketing voltage traces.
escape_voltage
    The voltage at which a sub- and a suprathreshold trajectory part (their lingering voltage).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from neurophase.errors import ParameterError
from neurophase.units import dimension_text, parse_unit, to_magnitude

if TYPE_CHECKING:
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

    from neurophase.micro.modelfile import Model

__all__ = ["threshold_bisection", "escape_voltage"]


def threshold_bisection(model: Model, initial_state: Mapping[str, Quantity | float], durations: Quantity,
                        upper_bounds: Quantity, baseline: Quantity | None = None,
                        variants: Mapping[str, Mapping[str, float]] | None = None,
                        trial_duration: Quantity | None = None, pulse_start: Quantity | None = None, steps: int = 26,
                        dt: Quantity | None = None, method: str | None = None, record_dt: Quantity | None = None,
                        target: str = "cython", rising_counts: bool = False,
                        rising_margin: Quantity | None = None) -> xr.Dataset:
    """Threshold amplitudes of current pulses of several durations, by in-network bisection.

    Parameters
    ----------
    model : Model
        A loaded spiking model file (:func:`neurophase.micro.modelfile.load_model`).
    initial_state : mapping of str to Quantity or float
        State at the start of every trial (e.g. the rest state from
        :func:`neurophase.mapping.coarse_grain`): name -> Quantity (voltages) or float (gates).
    durations : Quantity (time)
        Pulse durations (1-D, whole numbers of time steps); a duration close to
        ``trial_duration`` is a long step (rheobase).
    upper_bounds : Quantity (input dimension)
        Initial upper end of each bracket, one per duration (the amplitude above ``baseline``);
        the lower end is 0 (the baseline alone must not fire).
    baseline : Quantity (input dimension) or None, optional
        Holding input during the whole trial (default 0).
    variants : mapping of str to mapping of str to float, or None, optional
        name -> {gate: value} of gates frozen in that variant; ``{"full": {}}`` by default.
    trial_duration : Quantity (time)
        Length of one trial (pulse start + longest pulse + time to spike), a whole number of
        time steps. Required (None raises).
    pulse_start : Quantity (time) or None, optional
        Pulse onset within a trial (default 1 ms).
    steps : int, optional
        Bisection steps: the bracket shrinks by ``2**steps`` (default 26).
    dt : Quantity (time) or None, optional
        Time step (default the model's).
    method : str or None, optional
        Brian2 integration method (default the model's, else "rk4").
    record_dt : Quantity (time) or None, optional
        Sampling step of the final trial's voltage (default ``dt``).
    target : str, optional
        Brian2 code-generation target of the runtime device ("cython" or "numpy"), see
        :class:`neurophase.micro.devices.Brian2Device`.
    rising_counts : bool, optional
        Also count a trial as suprathreshold when, at its end, the voltage is more than
        ``rising_margin`` (default 1 mV) above its initial value and still rising. Near threshold a
        trajectory lingers at the threshold manifold for a time that grows like the log of its
        distance to it, so a trial can end before the spike; without this rule the bisection
        would converge to the amplitude whose latency equals the trial, not to the threshold.
        Use it for brief pulses (the state returns to rest below threshold), not for steps that
        last to the end of the trial (a depolarised steady state may still creep upwards).
    rising_margin : Quantity (voltage) or None, optional
        The margin of ``rising_counts`` (default 1 mV).

    Returns
    -------
    xarray.Dataset
        Dims ``variant``, ``duration`` (``copy`` and ``time`` for traces). ``threshold_low``,
        ``threshold_high`` (the final bracket, input unit), ``threshold`` (its middle),
        ``bracket_valid`` (1 when ``low`` did not fire and ``high`` did), ``voltage`` (final
        trial, ``copy`` 0 at ``low`` and 1 at ``high``, mV), ``final_fired`` (the final trial's
        outcome per copy) and the model's provenance.

    Raises
    ------
    ParameterError
        For a model without threshold or input, bad durations or bounds, a pulse longer than the
        trial, a trial or pulse that is not a whole number of time steps, ``steps < 1`` or a
        frozen variable without a differential equation.
    """
    from brian2 import Equations, Network, NeuronGroup, StateMonitor, ms
    from brian2.equations.codestrings import Expression
    from brian2.equations.equations import SingleEquation

    from neurophase.schema import provenance, quantity_coordinate, quantity_variable

    if not model.threshold or not model.input_variable or not model.input_unit:
        raise ParameterError(
            f"Model {model.name!r} needs a threshold and an input variable for a threshold search.")
    unit_text = model.input_unit
    unit = parse_unit(unit_text)
    durations_ms = np.atleast_1d(to_magnitude(durations, "ms", name="durations")).astype(float)
    bounds = np.atleast_1d(to_magnitude(upper_bounds, unit_text, name="upper_bounds")).astype(float)
    if durations_ms.ndim != 1 or durations_ms.size == 0 or np.any(durations_ms <= 0):
        raise ParameterError("durations must be a non-empty list of positive durations.")
    if bounds.shape != durations_ms.shape or np.any(~np.isfinite(bounds)) or np.any(bounds <= 0):
        raise ParameterError("upper_bounds needs one positive finite amplitude per duration.")
    base = 0.0 if baseline is None else float(to_magnitude(baseline, unit_text, name="baseline"))
    start_ms = 1.0 if pulse_start is None else float(to_magnitude(pulse_start, "ms", name="pulse_start"))
    if trial_duration is None:
        raise ParameterError("trial_duration is required (pulse start + longest pulse + time to spike).")
    trial_ms = float(to_magnitude(trial_duration, "ms", name="trial_duration"))
    if start_ms + durations_ms.max() > trial_ms + 1e-9:
        raise ParameterError(
            f"A pulse longer than the trial: pulse_start + longest duration = "
            f"{start_ms + durations_ms.max():g} ms >= trial_duration = {trial_ms:g} ms. Lengthen "
            "trial_duration or shorten the pulses.")
    step_ms = float(to_magnitude(dt if dt is not None else model.dt, "ms", name="dt"))
    per_trial = trial_ms / step_ms
    if abs(per_trial - round(per_trial)) > 1e-6:
        raise ParameterError(f"trial_duration ({trial_ms:g} ms) must be a whole number of time steps ({step_ms:g} ms).")
    steps = int(steps)
    if steps < 1:
        raise ParameterError("steps must be at least 1.")
    variants = {"full": {}} if variants is None else dict(variants)

    equations = Equations(model.equations)
    voltage = next(name for name in equations.diff_eq_names if equations[name].dim is parse_unit("mV").dim)
    dim_text = dimension_text(unit.dim)
    namespace = dict(model.parameters)
    namespace.pop(model.input_variable, None)
    # pulses in whole time steps (comparing float times drifts by one step late in long runs)
    pulse_steps = np.rint(durations_ms / step_ms).astype(int)
    if np.any(np.abs(pulse_steps * step_ms - durations_ms) > 1e-6 * step_ms) or np.any(pulse_steps < 1):
        raise ParameterError(f"Pulse durations must be whole numbers of time steps ({step_ms:g} ms).")
    namespace.update({"bisect_steps": steps, "bisect_pulse_start": int(round(start_ms / step_ms)),
                      "bisect_baseline": base * unit})
    names = list(variants)
    n_durations = durations_ms.size
    per_variant = 2 * n_durations
    frozen_anywhere = sorted(set().union(*[set(frozen) for frozen in variants.values()]))
    for name in frozen_anywhere:
        if name not in equations.diff_eq_names:
            raise ParameterError(f"Only variables with a differential equation can be frozen; {name!r} is not one.")
    # one group for every variant: a frozen gate's derivative is multiplied by 0 in its neurones
    kept = []
    for name, equation in equations.items():
        if name == model.input_variable:
            continue
        if name in frozen_anywhere:
            equation = SingleEquation(equation.type, name, equation.dim, equation.var_type,
                                      Expression(f"bisect_free_{name} * ({equation.expr})"), equation.flags)
        kept.append(equation)
    state_names = [name for name in initial_state if name in equations.diff_eq_names]
    reset_lines = "\n".join(f"bisect_reset_{name} : {dimension_text(equations[name].dim)} (constant)"
                             for name in state_names)
    free_lines = "\n".join(f"bisect_free_{name} : 1 (constant)" for name in frozen_anywhere)
    added = Equations(f"""
{model.input_variable} = bisect_baseline + bisect_amp * int(timestep(t, dt) - trial_step >= bisect_pulse_start) * int(timestep(t, dt) - trial_step < bisect_pulse_start + pulse_steps) : {dim_text}
bisect_low : {dim_text}
bisect_high : {dim_text}
bisect_amp : {dim_text}
bisect_fired : 1
bisect_count : 1
bisect_copy : 1 (constant)
pulse_steps : integer (constant)
trial_step : integer
bisect_v_last : volt
bisect_v_prev : volt
{reset_lines}
{free_lines}
""")
    group = NeuronGroup(per_variant * len(names), Equations(kept) + added, threshold=model.threshold,
                        reset="bisect_fired = 1",
                        refractory=model.refractory if model.refractory is not None else False,
                        method=method or model.method or "rk4", dt=step_ms * ms, namespace=namespace,
                        name="bisect_neurones")
    group.pulse_steps = np.tile(np.repeat(pulse_steps, 2), len(names))
    group.bisect_copy = np.tile([0.0, 1.0], n_durations * len(names))
    group.bisect_low = 0 * unit
    group.bisect_high = np.tile(np.repeat(bounds, 2), len(names)) * unit
    for name in frozen_anywhere:
        setattr(group, f"bisect_free_{name}",
                np.repeat([0.0 if name in variants[variant] else 1.0 for variant in names], per_variant))
    for name in state_names:
        value = initial_state[name]
        magnitude = np.asarray(to_magnitude(value, dimension_text(equations[name].dim)), dtype=float)
        values = np.repeat([float(variants[variant].get(name, magnitude)) for variant in names], per_variant)
        reset_unit = parse_unit(dimension_text(equations[name].dim)) if dimension_text(equations[name].dim) != "1" else 1.0
        setattr(group, f"bisect_reset_{name}", values * reset_unit)
        setattr(group, name, values * reset_unit)
    margin = 1e-3 if rising_margin is None else float(to_magnitude(rising_margin, "volt", name="rising_margin"))
    rising = []
    if rising_counts:
        namespace["bisect_rising_margin"] = margin * parse_unit("volt")
        rising = [f"bisect_fired = bisect_fired + (1 - bisect_fired) * int({voltage} > bisect_reset_{voltage} + "
                  f"bisect_rising_margin) * int({voltage} > bisect_v_prev)"]
    code = "\n".join([
        *rising,
        "bisect_done = int(bisect_count > 0.5)",
        "bisect_high = bisect_high + bisect_done * bisect_fired * (bisect_amp - bisect_high)",
        "bisect_low = bisect_low + bisect_done * (1 - bisect_fired) * (bisect_amp - bisect_low)",
        "bisect_final = int(bisect_count > bisect_steps - 0.5)",
        "bisect_amp = (1 - bisect_final) * 0.5 * (bisect_low + bisect_high) + bisect_final * "
        "(bisect_low * (1 - bisect_copy) + bisect_high * bisect_copy)",
        "bisect_count = bisect_count + 1",
        "bisect_fired = 0",
        "trial_step = timestep(t, dt)",
        *[f"{name} = bisect_reset_{name}" for name in state_names],
    ])
    operation = group.run_regularly(code, dt=trial_ms * ms, when="start", name="bisect_trial_start")
    monitor = StateMonitor(group, voltage, record=True,
                           dt=(record_dt if record_dt is not None else step_ms * ms), name="bisect_trace")
    monitor.active = False
    network = Network(group, operation, monitor)
    if rising_counts:
        network.add(group.run_regularly(f"bisect_v_prev = bisect_v_last\nbisect_v_last = {voltage}",
                                        when="end", name="bisect_track"))
    from neurophase.interrupts import run_network
    from neurophase.micro.devices import Brian2Device

    what = f"the threshold bisection ({group.N} neurones, {steps} trials)"
    with Brian2Device(target, "runtime"):
        run_network(network, steps * trial_ms * ms, what, namespace={})
        monitor.active = True
        run_network(network, trial_ms * ms, what, namespace={})

    shape = (len(names), n_durations, 2)
    low = np.asarray(group.bisect_low[:] / unit).reshape(shape)[..., 0]
    high = np.asarray(group.bisect_high[:] / unit).reshape(shape)[..., 0]
    fired = np.asarray(group.bisect_fired[:]).reshape(shape)
    if rising_counts:  # the outcome of the final trial by the same rule as during the bisection
        end_v = np.asarray(getattr(group, voltage)[:] / parse_unit("volt")).reshape(shape)
        previous = np.asarray(group.bisect_v_prev[:] / parse_unit("volt")).reshape(shape)
        rest_v = np.asarray(getattr(group, f"bisect_reset_{voltage}")[:] / parse_unit("volt")).reshape(shape)
        fired = np.maximum(fired, (end_v > rest_v + margin) & (end_v > previous))
    valid = (fired[..., 0] < 0.5) & (fired[..., 1] > 0.5)
    time_ms = np.asarray(monitor.t / ms) - steps * trial_ms
    traces = np.asarray(getattr(monitor, voltage) / parse_unit("mV")).reshape(shape + (-1,))
    coords = {
        "variant": xr.DataArray(names, dims=("variant",)),
        "duration": quantity_coordinate("duration", durations_ms, "ms", long_name="pulse duration"),
        "copy": xr.DataArray([0, 1], dims=("copy",)),
        "time": quantity_coordinate("time", time_ms, "ms", long_name="time in the final trial"),
    }
    dataset = xr.Dataset({
        "threshold_low": quantity_variable(low, unit_text, ("variant", "duration"),
                                           long_name="largest amplitude above baseline without a spike"),
        "threshold_high": quantity_variable(high, unit_text, ("variant", "duration"),
                                            long_name="smallest amplitude above baseline with a spike"),
        "threshold": quantity_variable(0.5 * (low + high), unit_text, ("variant", "duration"),
                                       long_name="threshold amplitude above baseline"),
        "bracket_valid": quantity_variable(valid.astype(float), "1", ("variant", "duration"),
                                           long_name="1: low did not fire and high did in the final trial"),
        "final_fired": quantity_variable(fired.astype(float), "1",
                                         ("variant", "duration", "copy"),
                                         long_name="outcome of the final trial (copy 0 at low, 1 at high)"),
        "voltage": quantity_variable(traces, "mV", ("variant", "duration", "copy", "time"),
                                     long_name="membrane potential in the final trial (copy 0: low, 1: high)"),
    }, coords=coords, attrs=provenance(
        **model.provenance(), protocol="in-network bisection of pulse thresholds",
        bisection_steps=steps, trial_duration_ms=trial_ms, pulse_start_ms=start_ms,
        rising_counts=int(bool(rising_counts)),
        baseline=f"{base:g} {unit_text}", dt_ms=step_ms, integration_method=method or model.method or "rk4",
        frozen="; ".join(f"{n}: " + (", ".join(f"{g} = {v:.7g}" for g, v in f.items()) or "none")
                         for n, f in variants.items()),
        initial_state=", ".join(f"{k} = {v}" for k, v in initial_state.items()),
    ))
    return dataset


def escape_voltage(time: ArrayLike, low_trace: ArrayLike, high_trace: ArrayLike, after: float,
                   separation: float = 1.0, onset: float = 0.01) -> tuple[float, float, float]:
    """Voltage at which the sub- and suprathreshold trajectories part.

    Near threshold both trajectories follow the threshold manifold and linger near the saddle;
    their difference grows there like ``exp(lambda t)``. The escape voltage is their mean at the
    first time after ``after`` that they differ by ``separation`` (mV); the range of that mean
    while the difference grows from ``onset`` to ``separation`` is returned as an interval.

    Parameters
    ----------
    time : array_like, ms
        Sample times, 1-D.
    low_trace, high_trace : array_like, mV
        Voltages of the sub- and the suprathreshold trajectory at ``time``.
    after : float, ms
        Pulse end: the search starts there.
    separation : float, optional, mV
        Difference at which the trajectories count as parted; default 1 mV.
    onset : float, optional, mV
        Difference from which the interval is taken; default 0.01 mV.

    Returns
    -------
    voltage : float, mV
        Mean of the two trajectories where they part (NaN when they never part).
    low, high : float, mV
        Range of that mean while the difference grows from ``onset`` to ``separation``.
    """
    time = np.asarray(time, float)
    difference = np.abs(np.asarray(high_trace, float) - np.asarray(low_trace, float))
    mean = 0.5 * (np.asarray(high_trace, float) + np.asarray(low_trace, float))
    window = time >= after
    parted = np.nonzero(window & (difference >= separation))[0]
    if parted.size == 0:
        return np.nan, np.nan, np.nan
    end = parted[0]
    started = np.nonzero(window[:end + 1] & (difference[:end + 1] >= onset))[0]
    begin = started[0] if started.size else end
    segment = mean[begin:end + 1]
    return float(mean[end]), float(segment.min()), float(segment.max())
