"""Published values and closed forms of particular models: the references simulations are checked against.

Nothing here runs Brian2: every reference is typed from its source or integrated with scipy /
numpy, independently of the Brian2 code of the model files, so that agreement is a test.

Data
----
RINZEL_MILLER_1980
    Bifurcation currents of Hodgkin-Huxley 1952 (uA/cm2): fold of limit cycles 6.26, Hopf 9.78
    (J. Rinzel & R. N. Miller 1980, Math. Biosci. 49:27).

Functions
---------
hodgkin_huxley_1952_rates
    The six HH 1952 rate functions typed from the paper (its own sign convention).
morris_lecar_hopf_current
    Hopf current of a Morris-Lecar model file from the linear stability of its rest state.
morris_lecar_fold_of_cycles
    Lowest current with a stable limit cycle (fold of cycles) of a Morris-Lecar model file.
lif_pulse_probability
    Monte-Carlo firing probability of the leaky integrate-and-fire pulse protocol (numpy).
hodgkin_huxley_1952_field, morris_lecar_field
    The vector fields ``f(x, I)`` of the two class-2 models, typed from their papers.
hopf_slow_passage
    Hopf current, eigenvalue slope and the staircase overshoot past a Hopf point that a finite
    dwell per level allows (slow passage through a Hopf bifurcation).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from neurophase.docstrings import template
from neurophase.micro.modelfile import load_model
from neurophase.units import to_magnitude

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

    from neurophase.micro.modelfile import Model

    #: A vector field ``f(x, I) -> dx/dt`` on numpy arrays (mV, ms, the model's input unit).
    VectorField = Callable[[np.ndarray, float], np.ndarray]

__all__ = [
    "RINZEL_MILLER_1980",
    "hodgkin_huxley_1952_rates",
    "morris_lecar_hopf_current",
    "morris_lecar_fold_of_cycles",
    "lif_pulse_probability",
    "hodgkin_huxley_1952_field",
    "morris_lecar_field",
    "hopf_slow_passage",
]

_doc = template(morris_lecar_model="""model : str or Model, optional
    A library name, a path or a loaded model file with the Morris-Lecar parameters
    (``C_m``, ``g_L``, ``g_Ca``, ``g_K``, ``E_L``, ``E_Ca``, ``E_K``, ``V_1`` .. ``V_4``,
    ``phi``); default "morris_lecar_class2".""")

#: Rinzel & Miller (1980), Math. Biosci. 49:27: stable limit cycles of HH 1952 exist from the fold
#: of cycles I_1 = 6.26 uA/cm2; the rest state loses stability at the subcritical Hopf point
#: I_2 = 9.78 uA/cm2.
RINZEL_MILLER_1980 = {"fold_of_cycles": 6.26, "hopf": 9.78, "unit": "uA/cm**2",
                      "source": "Rinzel & Miller 1980, Math. Biosci. 49:27"}


def hodgkin_huxley_1952_rates(v_modern_mV: ArrayLike) -> dict[str, np.ndarray]:
    """The HH 1952 rate functions (1/ms), typed from the paper in its own convention.

    Hodgkin & Huxley (1952) measure ``V`` from rest with depolarisation negative, so
    ``V = -(v + 65 mV)`` for the modern membrane potential ``v``. Eq. 12:
    ``alpha_n = 0.01 (V + 10)/(exp((V + 10)/10) - 1)``; Eq. 13: ``beta_n = 0.125 exp(V/80)``;
    Eq. 20: ``alpha_m = 0.1 (V + 25)/(exp((V + 25)/10) - 1)``; Eq. 21:
    ``beta_m = 4 exp(V/18)``; Eq. 23: ``alpha_h = 0.07 exp(V/20)``; Eq. 24:
    ``beta_h = 1/(exp((V + 30)/10) + 1)``. The removable singularities ``x/(exp(x) - 1)``
    at ``x = 0`` take their limit 1.

    Parameters
    ----------
    v_modern_mV : float or array_like, mV
        Membrane potential in the modern convention (inside minus outside, rest at -65 mV).

    Returns
    -------
    dict of str to numpy.ndarray, 1/ms
        ``alpha_m``, ``beta_m``, ``alpha_h``, ``beta_h``, ``alpha_n``, ``beta_n``, each the shape
        of ``v_modern_mV``.

    Examples
    --------
    >>> rates = hodgkin_huxley_1952_rates(-65.0)        # V = 0: alpha_n = 0.1/(e - 1)
    >>> round(float(rates["alpha_n"]), 6), float(rates["beta_n"])
    (0.058198, 0.125)
    """
    V = -(np.asarray(v_modern_mV, dtype=float) + 65.0)

    def x_over_expm1(x):
        safe = np.where(x == 0.0, 1.0, x)
        return np.where(x == 0.0, 1.0, safe / np.expm1(safe))

    return {
        "alpha_n": 0.01 * 10.0 * x_over_expm1((V + 10.0) / 10.0),
        "beta_n": 0.125 * np.exp(V / 80.0),
        "alpha_m": 0.1 * 10.0 * x_over_expm1((V + 25.0) / 10.0),
        "beta_m": 4.0 * np.exp(V / 18.0),
        "alpha_h": 0.07 * np.exp(V / 20.0),
        "beta_h": 1.0 / (np.exp((V + 30.0) / 10.0) + 1.0),
    }


def _morris_lecar_field(model):
    """The Morris-Lecar vector field (mV, ms, uA/cm2) with the model file's parameters.

    ``C dV/dt = I - g_L (V - E_L) - g_Ca m_inf (V - E_Ca) - g_K w (V - E_K)``,
    ``dw/dt = phi (w_inf - w)/tau_w``, written here from the Morris-Lecar equations (Rinzel &
    Ermentrout 1998, Appendix A), independently of the Brian2 code. Returns
    ``(dv(v, w, I), dw(v, w), m_inf, w_inf, leak_terms)``.
    """
    p = load_model(model).parameters if isinstance(model, str) else model.parameters

    def value(name, unit):
        return float(to_magnitude(p[name], unit, name=name))

    C = value("C_m", "uF/cm**2")
    g_L, g_Ca, g_K = (value(name, "mS/cm**2") for name in ("g_L", "g_Ca", "g_K"))
    E_L, E_Ca, E_K = (value(name, "mV") for name in ("E_L", "E_Ca", "E_K"))
    V1, V2, V3, V4 = (value(name, "mV") for name in ("V_1", "V_2", "V_3", "V_4"))
    phi = float(p["phi"])

    def m_inf(v):
        return 0.5 * (1 + np.tanh((v - V1) / V2))

    def w_inf(v):
        return 0.5 * (1 + np.tanh((v - V3) / V4))

    def dv(v, w, current=0.0):
        return (current - g_L * (v - E_L) - g_Ca * m_inf(v) * (v - E_Ca) - g_K * w * (v - E_K)) / C

    def dw(v, w):
        return phi * (w_inf(v) - w) * np.cosh((v - V3) / (2 * V4))  # 1/tau_w = cosh(...)/ms

    def steady_current(v):
        return g_L * (v - E_L) + g_Ca * m_inf(v) * (v - E_Ca) + g_K * w_inf(v) * (v - E_K)

    return dv, dw, w_inf, steady_current


@_doc
def morris_lecar_hopf_current(model: str | Model = "morris_lecar_class2") -> float:
    """Hopf current (input unit of the model) of a Morris-Lecar model, from linear stability.

    The fixed points lie on ``w = w_inf(V)``, ``I = I_ss(V)``; the rest state loses stability
    where the trace of the Jacobian crosses zero with a positive determinant (Andronov-Hopf;
    Rinzel & Ermentrout 1998, section 7.3), for the vector field of :func:`_morris_lecar_field`
    (voltages scanned from -80 to 40 mV). Returns the lowest such current.

    Parameters
    ----------
    %(morris_lecar_model)s

    Returns
    -------
    float, uA/cm**2
        The lowest Hopf current, NaN if there is none in the scanned range.
    """
    from scipy.optimize import brentq

    dv, dw, w_inf, steady_current = _morris_lecar_field(model)

    def jacobian(v, h=1e-6):
        w = w_inf(v)
        return np.array([[(dv(v + h, w) - dv(v - h, w)) / (2 * h), (dv(v, w + h) - dv(v, w - h)) / (2 * h)],
                         [(dw(v + h, w) - dw(v - h, w)) / (2 * h), (dw(v, w + h) - dw(v, w - h)) / (2 * h)]])

    voltages = np.linspace(-80.0, 40.0, 12001)
    trace = np.array([np.trace(jacobian(v)) for v in voltages])
    for index in np.flatnonzero(np.diff(np.sign(trace)) != 0):
        v = brentq(lambda x: np.trace(jacobian(x)), voltages[index], voltages[index + 1], xtol=1e-12)
        if np.linalg.det(jacobian(v)) > 0:
            return float(steady_current(v))
    return math.nan


@_doc
def morris_lecar_fold_of_cycles(model: str | Model = "morris_lecar_class2", low: float | None = None,
                                tolerance: float = 0.01) -> float:
    """The lowest current (uA/cm2) at which a stable limit cycle exists (fold of cycles).

    Below a subcritical Hopf point the stable spiking cycle is born at a saddle-node of limit
    cycles (Rinzel & Ermentrout 1998, section 7.3). Found here without continuation software,
    by bisection on the current: a trajectory started on the stable cycle just above the Hopf
    point (integrated with scipy LSODA, rtol 1e-9, from the vector field of
    :func:`_morris_lecar_field`) either stays on a cycle of amplitude > 20 mV after 6 s (a stable
    cycle exists) or decays to rest. Near the fold the ghost of the cycle slows the decay
    (passage time ~ 1/sqrt(I_fold - I)), so the result is an upper bound within ``tolerance`` plus
    that slowing: a few 0.01 uA/cm2 for 6 s.

    Parameters
    ----------
    %(morris_lecar_model)s
    low : float or None, optional, uA/cm**2
        Lower end of the bisection bracket (no stable cycle there); default 20 uA/cm2 below the
        Hopf current.
    tolerance : float, optional, uA/cm**2
        Width of the final bracket; default 0.01.

    Returns
    -------
    float, uA/cm**2
        The upper end of the final bracket; NaN if ``low`` already has a cycle or the Hopf
        current has none.
    """
    from scipy.integrate import solve_ivp

    dv, dw, _, _ = _morris_lecar_field(model)
    hopf = morris_lecar_hopf_current(model)

    def run(current, state, duration):
        solution = solve_ivp(lambda t, y: [dv(y[0], y[1], current), dw(y[0], y[1])], (0.0, duration),
                             state, method="LSODA", rtol=1e-9, atol=1e-11, max_step=1.0, dense_output=True)
        return solution

    above = hopf + 2.0
    settle = run(above, [0.0, 0.3], 4000.0)
    on_cycle = settle.y[:, -1]

    def has_cycle(current, duration=6000.0):
        solution = run(current, on_cycle, duration)
        tail = solution.sol(np.linspace(duration - 500.0, duration, 2001))[0]
        return float(np.ptp(tail)) > 20.0

    high = hopf
    low = hopf - 20.0 if low is None else float(low)
    if has_cycle(low) or not has_cycle(high):
        return math.nan
    while high - low > tolerance:
        middle = 0.5 * (low + high)
        if has_cycle(middle):
            high = middle
        else:
            low = middle
    return float(high)


def lif_pulse_probability(amplitudes: ArrayLike, sigmas: ArrayLike, trials: int,
                          model: str | Model = "leaky_integrate_and_fire", pulse_start: float = 5.0,
                          pulse_duration: float = 5.0, duration: float = 20.0, dt: float = 0.05,
                          seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Monte-Carlo firing probability of the LIF pulse protocol (numpy; independent of Brian2).

    ``tau dv/dt = E_L - v + R (I(t) + sigma xi(t))`` (the white-noise definition of
    :mod:`neurophase.micro.neurone`: the drive gets ``sigma xi``), from ``v = E_L`` at t = 0,
    ``I(t) = A`` for ``pulse_start <= t < pulse_start + pulse_duration`` (ms) and 0 otherwise.
    Between threshold checks the linear SDE is advanced by its exact Ornstein-Uhlenbeck
    transition over ``dt`` (Gillespie 1996, Phys. Rev. E 54:2084, Eq. 1.9; the drive is held
    at its value at the start of the step), the threshold is checked after every step as in
    Brian2, and a trial "fires" when it crosses at a step starting at or after the pulse
    onset, before ``duration`` (the counting window of the pulse protocol). A crossing before
    the pulse (more than 30 voltage standard deviations away for the C3 settings) resets to
    ``V_reset``. Parameters are read from the model file.

    Parameters
    ----------
    amplitudes : array_like, pA
        Pulse amplitudes ``A`` (plain numbers in pA), 1-D.
    sigmas : array_like, pA ms**0.5
        Noise intensities (plain numbers), 1-D.
    trials : int
        Trials per (sigma, amplitude).
    model : str or Model, optional
        A LIF model file with ``tau_m``, ``R_m``, ``E_L``, ``V_threshold`` and ``V_reset``;
        default "leaky_integrate_and_fire".
    pulse_start, pulse_duration, duration : float, optional, ms
        Pulse onset and length, and the end of the counting window; defaults 5, 5 and 20 ms.
    dt : float, optional, ms
        Time step; default 0.05 ms.
    seed : int, numpy.random.Generator or None, optional
        Seeds ``numpy.random.default_rng``; default 0.

    Returns
    -------
    numpy.ndarray of float
        0/1 outcomes, shape ``(sigma, amplitude, trial)``.
    """
    p = load_model(model).parameters if isinstance(model, str) else model.parameters
    tau = float(to_magnitude(p["tau_m"], "ms", name="tau_m"))
    resistance = float(to_magnitude(p["R_m"], "Mohm", name="R_m"))  # mV per nA
    e_l, v_th, v_reset = (float(to_magnitude(p[name], "mV", name=name))
                          for name in ("E_L", "V_threshold", "V_reset"))
    amplitudes = np.asarray(amplitudes, float) * 1e-3  # pA -> nA
    sigmas = np.asarray(sigmas, float) * 1e-3  # pA ms^0.5 -> nA ms^0.5
    rng = np.random.default_rng(seed)
    decay = math.exp(-dt / tau)
    # exact OU: sd of v after dt is R sigma sqrt((1 - exp(-2 dt/tau)) / (2 tau))
    spread = resistance * sigmas[:, None, None] * math.sqrt((1 - decay**2) / (2 * tau))
    v = np.full((sigmas.size, amplitudes.size, int(trials)), e_l)
    fired = np.zeros(v.shape, dtype=bool)
    steps = int(round(duration / dt))
    start, stop = int(round(pulse_start / dt)), int(round((pulse_start + pulse_duration) / dt))
    for n in range(steps):
        drive = amplitudes[None, :, None] if start <= n < stop else 0.0
        target = e_l + resistance * drive
        v = target + (v - target) * decay + spread * rng.standard_normal(v.shape)
        crossed = v > v_th
        if n >= start:
            fired |= crossed
        v = np.where(crossed, v_reset, v)
    return fired.astype(float)


def hodgkin_huxley_1952_field(model: str | Model = "hodgkin_huxley_1952") -> tuple[VectorField, np.ndarray]:
    """The HH 1952 vector field ``f(x, I)``, ``x = (v, m, h, n)`` (mV, ms, I in uA/cm2).

    ``C dv/dt = I - g_Na m^3 h (v - E_Na) - g_K n^4 (v - E_K) - g_L (v - E_L)`` (Hodgkin & Huxley
    1952, Eq. 26) with the rate functions of :func:`hodgkin_huxley_1952_rates` (typed from the
    paper) and the conductances, reversals and capacitance of the model file.

    Parameters
    ----------
    model : str or Model, optional
        A model file with ``C_m``, ``g_Na``, ``g_K``, ``g_L``, ``E_Na``, ``E_K``, ``E_L``;
        default "hodgkin_huxley_1952".

    Returns
    -------
    field : callable
        ``field(x, I) -> dx/dt`` (mV/ms for v, 1/ms for the gates; ``I`` in uA/cm2).
    rest : numpy.ndarray
        ``(-65 mV, m_inf, h_inf, n_inf)`` at -65 mV: a guess of the rest state.
    """
    p = load_model(model).parameters if isinstance(model, str) else model.parameters
    C = float(to_magnitude(p["C_m"], "uF/cm**2", name="C_m"))
    g_na, g_k, g_l = (float(to_magnitude(p[name], "mS/cm**2", name=name)) for name in ("g_Na", "g_K", "g_L"))
    e_na, e_k, e_l = (float(to_magnitude(p[name], "mV", name=name)) for name in ("E_Na", "E_K", "E_L"))

    def field(x, current):
        v, m, h, n = x
        rates = hodgkin_huxley_1952_rates(v)
        dv = (current - g_na * m**3 * h * (v - e_na) - g_k * n**4 * (v - e_k) - g_l * (v - e_l)) / C
        return np.array([dv] + [float(rates[f"alpha_{g}"] * (1 - x_g) - rates[f"beta_{g}"] * x_g)
                                for g, x_g in (("m", m), ("h", h), ("n", n))])

    rates = hodgkin_huxley_1952_rates(-65.0)
    rest = np.array([-65.0] + [float(rates[f"alpha_{g}"] / (rates[f"alpha_{g}"] + rates[f"beta_{g}"]))
                               for g in ("m", "h", "n")])
    return field, rest


@_doc
def morris_lecar_field(model: str | Model = "morris_lecar_class2") -> tuple[VectorField, np.ndarray]:
    """The Morris-Lecar vector field ``f(x, I)``, ``x = (v, w)`` (mV, ms, uA/cm2), and a rest guess.

    Written from the Morris-Lecar equations (Rinzel & Ermentrout 1998, Appendix A), independently
    of the Brian2 code.

    Parameters
    ----------
    %(morris_lecar_model)s

    Returns
    -------
    field : callable
        ``field(x, I) -> dx/dt`` (mV/ms for v, 1/ms for w; ``I`` in uA/cm2).
    rest : numpy.ndarray
        ``(-60 mV, w_inf(-60 mV))``: a guess of the rest state.
    """
    dv, dw, w_inf, _ = _morris_lecar_field(model)

    def field(x, current):
        return np.array([dv(x[0], x[1], current), dw(x[0], x[1])])

    return field, np.array([-60.0, float(w_inf(-60.0))])


def _fixed_point(field, guess, current):
    from scipy.optimize import fsolve

    solution, info, flag, _ = fsolve(lambda x: field(x, current), guess, full_output=True, xtol=1e-12)
    if flag != 1:
        return None
    return solution


def _jacobian(field, x, current, step=1e-7):
    columns = []
    for k in range(x.size):
        delta = np.zeros_like(x)
        delta[k] = step * max(1.0, abs(x[k]))
        columns.append((field(x + delta, current) - field(x - delta, current)) / (2 * delta[k]))
    return np.array(columns).T


def hopf_slow_passage(field: VectorField, rest_guess: ArrayLike, currents: ArrayLike, dwell: float, step: float,
                      amplitude: float = 20.0) -> dict[str, Any]:
    """Hopf point of a rest branch and the overshoot of an up-staircase past it.

    The rest state (a fixed point followed from ``rest_guess`` along ``currents``) loses
    stability where the real part of its leading eigenvalue crosses 0 (Andronov-Hopf; found by
    bisection between grid currents). Above it, a perturbation grows as ``exp(lambda' delta t)``,
    ``lambda' = d Re(lambda)/dI`` at the Hopf point and ``delta = I - I_H``. A staircase of
    ``step`` per level and ``dwell`` per level starts each level displaced from the new fixed
    point by ``epsilon = |dV*/dI| step`` (the shift of the rest voltage). The oscillation leaves
    the linear regime once it has grown by ``ln(amplitude/epsilon)``; summing the growth over the
    levels above the Hopf point (the first one at most one step above it, the worst case)
    ``lambda' step dwell n(n + 1)/2 >= ln(amplitude/epsilon)`` gives the number ``n`` of levels
    it may take: the up threshold lies in ``(I_H, I_H + n step]``. This is the slow passage
    through a Hopf bifurcation (Baer, Erneux & Rinzel 1989, SIAM J. Appl. Math. 49:55) for a
    staircase, to leading order (linear growth, no noise).

    Parameters
    ----------
    field : callable
        ``field(x, I) -> dx/dt`` (numpy arrays; ms time, mV voltage as the first variable).
    rest_guess : array_like
        A point near the rest state at ``currents[0]`` (mV, then the other state variables).
    currents : array_like, the field's input unit
        Increasing currents that bracket the Hopf point.
    dwell : float, ms
        Time per staircase level.
    step : float, the field's input unit
        Current step per level (same unit as ``currents``).
    amplitude : float, optional, mV
        Voltage deviation at which the escape counts as made (default 20 mV; the result
        depends on it only through ``ln(amplitude/epsilon)``).

    Returns
    -------
    dict of str to float
        All NaN when the rest branch does not lose stability on ``currents``; else
        ``hopf_current``, ``eigenvalue_slope`` (1/ms per current unit), ``frequency`` (Hz at the
        Hopf point), ``voltage_shift`` (mV per step), ``levels`` (n) and ``overshoot``
        (``n step``: the tolerance of an up-staircase threshold against the Hopf point).
    """
    from scipy.optimize import brentq

    currents = np.asarray(currents, dtype=float)
    state = np.asarray(rest_guess, dtype=float)
    points, growth = [], []
    for current in currents:
        found = _fixed_point(field, state, current)
        if found is None:
            break
        state = found
        points.append(found)
        growth.append(np.max(np.linalg.eigvals(_jacobian(field, found, current)).real))
    growth = np.asarray(growth)
    crossing = np.flatnonzero((growth[:-1] < 0) & (growth[1:] >= 0))
    if crossing.size == 0:
        return {"hopf_current": math.nan, "eigenvalue_slope": math.nan, "frequency": math.nan,
                "voltage_shift": math.nan, "levels": math.nan, "overshoot": math.nan}
    k = int(crossing[0])

    def leading(current):
        x = _fixed_point(field, points[k], current)
        return np.max(np.linalg.eigvals(_jacobian(field, x, current)).real)

    hopf = brentq(leading, currents[k], currents[k + 1], xtol=1e-10)
    h = 1e-4 * max(1.0, abs(hopf))
    slope = (leading(hopf + h) - leading(hopf - h)) / (2 * h)
    x_plus, x_minus = _fixed_point(field, points[k], hopf + h), _fixed_point(field, points[k], hopf - h)
    shift = abs(x_plus[0] - x_minus[0]) / (2 * h) * step
    eigenvalues = np.linalg.eigvals(_jacobian(field, _fixed_point(field, points[k], hopf), hopf))
    frequency = float(np.max(np.abs(eigenvalues.imag))) / (2 * math.pi) * 1e3
    needed = math.log(amplitude / shift)
    per_level = slope * step * dwell
    levels = math.ceil((-1 + math.sqrt(1 + 8 * needed / per_level)) / 2)
    return {"hopf_current": float(hopf), "eigenvalue_slope": float(slope), "frequency": frequency,
            "voltage_shift": float(shift), "levels": int(levels), "overshoot": float(levels * step)}

