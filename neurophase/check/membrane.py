"""Membrane predictions measured on Brian2 Ising channel membranes (THEORY.md section 7).

Each function runs one or a few Brian2 networks (:func:`neurophase.micro.ising.simulate_membrane`,
one ensemble per grid point; the compiled code is shared by all protocols of one topology),
coarse-grains the traces (:mod:`neurophase.mapping`) and compares them with the Curie-Weiss
closed forms of :mod:`neurophase.meanfield`. Every function returns ``(verdicts, datasets)``:
a list of :class:`~neurophase.check.verdicts.Verdict` (confidence intervals: jackknife
Student-t over independent trials, :func:`neurophase.statistics.trial_interval`) and a dict
name -> :class:`xarray.Dataset`.

Functions
---------
measure_independent_channels
    P1 (J = 0: logistic open probability, gain x T = 2) and P11 (Var(M) = (1 - M**2)/N).
measure_critical_behaviour
    P3 (gamma), P4 (T_c two ways), P5 (beta and M0), P6 (delta), P11 (Var(M) = T chi/N),
    P12 (autocorrelation time tau0/(1 - T_c/T)), all-to-all coupling.
measure_hysteresis
    P7: coercive field at T = T_c/2 from field sweeps at three rates, extrapolated to a
    quasi-static sweep.
measure_quench
    P9 (ordered time = ReLU of the stimulus, slope kappa/r, threshold (T_rest - T_c)/kappa)
    and P10 (the onset moves up with tau0).
measure_lattice
    The beta exponent on the 2-D periodic square lattice (mean field says 1/2, Onsager 1/8).

Finite-N tolerances are stated with the exact finite-N Curie-Weiss moments
(:func:`neurophase.meanfield.finite_size_curie_weiss`), an implementation independent of the
simulation. The wall time of each Brian2 run is in its Dataset's attrs (``wall_seconds_*``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from scipy import optimize

from neurophase.check.verdicts import Verdict, make_verdict
from neurophase.docstrings import COMMON, fill, template
from neurophase.errors import ParameterError
from neurophase.mapping.meanfield_fit import (
    critical_temperature_from_inverse_susceptibility,
    critical_temperature_from_peak,
    fit_meanfield,
    fit_relu,
    susceptibility_from_fluctuations,
)
from neurophase.mapping.order_parameter import stationary_statistics
from neurophase.meanfield import MEAN_FIELD_EXPONENTS, finite_size_curie_weiss
from neurophase.meanfield.dynamics import simulate_quench
from neurophase.micro import ising
from neurophase.statistics import trial_interval
from neurophase.units import setting_units

if TYPE_CHECKING:
    from brian2.units.fundamentalunits import Quantity

__all__ = [
    "measure_independent_channels",
    "measure_critical_behaviour",
    "measure_hysteresis",
    "measure_quench",
    "measure_lattice",
]

#: Docstring entries (:mod:`neurophase.docstrings`): the Brian2 settings of every measurement.
_doc = template(seed_target_device=fill("%(measurement_seed)s\n%(target)s\n%(device)s", COMMON),
                ensembles="""N, trials : int, optional
    Channels per ensemble and independent ensembles per grid point (the jackknife intervals
    are over them); defaults in the signature.""")


def _begin(tau0, duration=None, windows=None):
    """``(ms, tau0, duration)`` with the defaults ``tau0 = 1 ms`` and ``duration = windows * tau0``."""
    from brian2 import ms

    tau0 = 1 * ms if tau0 is None else tau0
    if duration is None and windows is not None:
        duration = windows * tau0
    return ms, tau0, duration


def _power_law_exponent(x, y):
    """Exponent of ``y = a x**p`` from :func:`neurophase.meanfield.exponents.fit_power_law`."""
    from neurophase.meanfield.exponents import fit_power_law

    result = fit_power_law(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    for key in ("exponent", "slope"):
        if isinstance(result, dict) and key in result:
            return float(result[key])
        if hasattr(result, key):
            return float(getattr(result, key))
    if isinstance(result, (tuple, list)):
        return float(result[0])
    return float(result)


def _interval(estimate, low, high):
    return float(estimate), float(low), float(high)


def _mean_field_exponent_verdict(identifier, quantity, exponent, interval, tolerance, note):
    """Verdict on the critical ``exponent`` (a key of MEAN_FIELD_EXPONENTS) measured as ``interval``
    ``(estimate, low, high)``: rule "tolerance", absolute ``tolerance`` (the issue-2 acceptance)."""
    return make_verdict(identifier, quantity, MEAN_FIELD_EXPONENTS[exponent], *interval, rule="tolerance",
                        tolerance=tolerance, note=f"{note} Tolerance {tolerance:g} (issue-2 acceptance).")


def _summary_dataset(statistics, attrs):
    dataset = statistics.copy()
    dataset.attrs = {key: value for key, value in attrs.items()}
    dataset.attrs.update(statistics.attrs)
    return dataset


# --------------------------------------------------------------------------------------
# P1, P11 (J = 0)
# --------------------------------------------------------------------------------------
@setting_units(duration="ms", tau0="ms")
@_doc
def measure_independent_channels(N: int = 1000, trials: int = 4, temperatures: Sequence[float] = (0.5, 1.0, 2.0),
                                 fields: Sequence[float] = tuple(np.linspace(-2.0, 2.0, 11)),
                                 duration: Quantity | None = None, tau0: Quantity | None = None, seed: int = 0,
                                 target: str = "cython",
                                 device: str = "runtime") -> tuple[list[Verdict], dict[str, xr.Dataset]]:
    """P1 (independent channels give the logistic ``p_open = 1/(1 + exp(-2 h/T))``) and P11.

    With ``J = 0`` each channel's open probability is the two-state Boltzmann law, so a fitted
    logistic gain ``k`` satisfies ``k T = 2`` (THEORY.md section 3) and
    ``Var(M) = (1 - M**2)/N`` (binomial). The heat-bath discretisation is exact at ``J = 0``
    for any ``N`` and ``dt``: no finite-size bias, so the tolerance on ``k T`` is the 2 % of
    the issue-2 acceptance and the interval is the jackknife over trials.

    Parameters
    ----------
    %(ensembles)s
    temperatures : sequence of float, optional, reduced units
        Temperature grid (``J = 0``, so T is in the unit of the field).
    fields : sequence of float, optional, reduced units
        Field grid; default 11 values from -2 to 2.
    duration : Quantity (time) or None, optional
        Simulated time; default ``60 tau0``.
    %(membrane_tau0)s
    %(seed_target_device)s

    %(measurement_returns)s
        ``P1-T<T>`` (logistic gain x T = 2, 2 % relative tolerance) per temperature and ``P11-J0``
        (``Var(M) N / (1 - M**2) = 1``, expected inside the interval); datasets
        ``independent_traces`` and ``independent_statistics``.
    """
    ms, tau0, duration = _begin(tau0, duration, 60)
    data = ising.simulate_membrane(list(temperatures), list(fields), trials=trials, N=N, J=0.0,
                                   tau0=tau0, duration=duration, seed=seed, target=target, device=device,
                                   protocol="independent channels: static T and h grid")
    statistics = stationary_statistics(data.order_parameter)
    mean = statistics["mean"]
    field = data["input"].values
    verdicts = []

    def gain_times_temperature(trial_mean, temperature):
        p_open = 0.5 * (1.0 + trial_mean.values)

        def residual(parameters):
            return 1.0 / (1.0 + np.exp(-parameters[0] * (field - parameters[1]))) - p_open

        solution = optimize.least_squares(residual, [2.0 / temperature, 0.0], method="lm")
        return solution.x[0] * temperature

    gains = []
    for index, temperature in enumerate(data["param_T"].values):
        estimate, low, high = trial_interval(
            mean.isel(param_T=index), lambda average, T=temperature: gain_times_temperature(average, T))
        gains.append((estimate, low, high))
        verdicts.append(make_verdict(
            f"P1-T{temperature:g}", f"logistic gain x T of p_open(h) at J = 0, T = {temperature:g} J",
            2.0, estimate, low, high, rule="tolerance", tolerance=0.02, relative=True,
            note=(f"N = {N}, {trials} trials, fields {field.min():g}..{field.max():g}; exact at J = 0 "
                  "for any N and dt (no finite-size bias): tolerance = the 2 % acceptance of issue 2."),
        ))
    # P11 at J = 0: ratio of the measured variance to (1 - M^2)/N, averaged over the grid.
    variance = statistics["variance"]

    def variance_ratio(average_variance, trial_mean_values):
        expected = (1.0 - trial_mean_values**2) / N
        return float(np.mean(average_variance.values / expected))

    mean_over_trials = mean.mean("trial").values
    estimate, low, high = trial_interval(
        variance, lambda average: variance_ratio(average, mean_over_trials))
    verdicts.append(make_verdict(
        "P11-J0", "Var(M) N / (1 - M^2) at J = 0 (mean over the T x h grid)", 1.0, estimate, low, high,
        note=(f"N = {N}; binomial variance, exact for the heat-bath discretisation at J = 0. "
              "Interval: jackknife over trials of the time-averaged variances."),
    ))
    summary = _summary_dataset(statistics, data.attrs)
    summary["logistic_gain_times_T"] = xr.DataArray([g[0] for g in gains], dims=("param_T",),
                                                    attrs={"units": "1"})
    return verdicts, {"independent_traces": data, "independent_statistics": summary}


# --------------------------------------------------------------------------------------
# P3, P4, P5, P6, P11, P12 (all-to-all)
# --------------------------------------------------------------------------------------
@setting_units(duration="ms", tau0="ms")
@_doc
def measure_critical_behaviour(N: int = 2000, trials: int = 6, duration: Quantity | None = None,
                               tau0: Quantity | None = None, seed: int = 0, target: str = "cython",
                               device: str = "runtime",
                               temperatures_below: Sequence[float] = (0.8, 0.85, 0.9, 0.95),
                               temperatures_near: Sequence[float] = (0.97, 1.0, 1.03),
                               temperatures_above: Sequence[float] = (1.15, 1.25, 1.4, 1.6, 1.8, 2.0),
                               critical_fields: Sequence[float] = (0.01, 0.02, 0.04, 0.08, 0.16)
                               ) -> tuple[list[Verdict], dict[str, xr.Dataset]]:
    """Critical behaviour of the all-to-all membrane (``J = 1``, ``T_c = J``).

    Two runs of the same compiled network: ``h = 0`` on a temperature grid, and the critical
    isotherm ``T = T_c`` on a field grid. Measured (jackknife intervals over trials):

    - P3: ``gamma`` from ``chi = N Var(M)/T`` against ``T - T_c`` above ``T_c`` (Curie-Weiss:
      ``chi = 1/(T - T_c)``, a pure power law).
    - P4: ``T_c`` from the zero of ``1/chi`` against ``T`` and from the peak of
      ``N Var(|M|)``.
    - P5: ``beta`` from ``<|M|>`` against ``T_c - T`` below ``T_c`` (|M| because the finite
      membrane flips between +-M0), and ``M0`` at the lowest temperature.
    - P6: ``delta`` from ``M`` against ``h`` at ``T = T_c``.
    - P11: ``Var(M) / (T chi / N)`` above ``T_c``.
    - P12: integrated autocorrelation time x ``(1 - T_c/T) / tau0`` above ``T_c`` (Onsager
      regression: fluctuations decay like the linear relaxation).

    Finite-N tolerances are stated in each verdict's note, with the value the exact finite-N
    Curie-Weiss distribution (:func:`finite_size_curie_weiss`) gives on the same window.

    Parameters
    ----------
    %(ensembles)s
    duration : Quantity (time) or None, optional
        Simulated time of each run; default ``300 tau0``.
    %(membrane_tau0)s
    %(seed_target_device)s
    temperatures_below, temperatures_near, temperatures_above : sequence of float, optional, T / J
        The zero-field temperature grid: below ``T_c`` (beta, M0), around it (the peak of
        ``N Var(|M|)``) and above it (gamma, ``T_c`` from ``1/chi``, P11, P12).
    critical_fields : sequence of float, optional, h / J
        Field grid of the critical isotherm (delta).

    %(measurement_returns)s
        The P3-P6, P11 and P12 rows described above; datasets ``critical_traces``,
        ``critical_statistics``, ``isotherm_traces`` and ``isotherm_statistics``.
    """
    from neurophase.meanfield import (
        critical_isotherm,
        critical_temperature,
        spontaneous_magnetisation,
        susceptibility,
    )

    ms, tau0, duration = _begin(tau0, duration, 300)
    tau0_ms = float(tau0 / ms)
    coupling = 1.0
    critical = float(critical_temperature(coupling))
    temperatures = np.array(sorted(set(temperatures_below) | set(temperatures_near) | set(temperatures_above)))
    zero_field = ising.simulate_membrane(temperatures, [0.0], trials=trials, N=N, J=coupling, tau0=tau0,
                                         duration=duration, seed=seed, target=target, device=device,
                                         protocol="critical behaviour: h = 0, static temperature grid")
    isotherm = ising.simulate_membrane([critical], list(critical_fields), trials=trials, N=N, J=coupling,
                                       tau0=tau0, duration=duration, seed=seed + 1, target=target, device=device,
                                       protocol="critical isotherm: T = T_c, static field grid")
    stats = stationary_statistics(zero_field.order_parameter).isel(input=0)
    stats_isotherm = stationary_statistics(isotherm.order_parameter).isel(param_T=0)
    verdicts = []
    note_common = f"N = {N}, {trials} trials of {float(duration / ms):g} ms, tau0 = {tau0_ms:g} ms"
    T = stats["param_T"].values
    above = np.isin(T, np.asarray(temperatures_above))
    below = np.isin(T, np.asarray(temperatures_below))
    near = (T >= min(temperatures_near) - 0.1) & (T <= max(temperatures_near) + 0.15)
    exact = {float(t): finite_size_curie_weiss(N, t, 0.0, coupling) for t in T}

    # P3: gamma
    def gamma_of(variance):
        chi = susceptibility_from_fluctuations(variance.values[above], T[above], N)
        return -_power_law_exponent(T[above] - critical, chi)

    gamma = _interval(*trial_interval(stats["variance"], gamma_of))
    exact_chi = np.array([N * exact[float(t)]["variance"] / t for t in T[above]])
    gamma_finite = -_power_law_exponent(T[above] - critical, exact_chi)
    verdicts.append(_mean_field_exponent_verdict(
        "P3", "susceptibility exponent gamma (chi = N Var(M)/T vs T - T_c, T > T_c)", "gamma", gamma, 0.15,
        f"{note_common}; window T = {T[above].min():g}..{T[above].max():g} J. Curie-Weiss chi = "
        f"1/(T - T_c) is a pure power law; the exact finite-N distribution gives gamma = "
        f"{gamma_finite:.3f} on this window (finite-N rounding for T - T_c ~ N^-1/2 = "
        f"{N ** -0.5:.3f}); the tolerance covers it and the O(q/2) variance bias of the discrete refresh."))

    # P4: T_c from 1/chi and from the peak of N Var(|M|)
    def intercept_of(variance):
        chi = susceptibility_from_fluctuations(variance.values[above], T[above], N)
        return critical_temperature_from_inverse_susceptibility(T[above], chi)[0]

    intercept = _interval(*trial_interval(stats["variance"], intercept_of))
    intercept_finite = critical_temperature_from_inverse_susceptibility(T[above], exact_chi)[0]
    verdicts.append(make_verdict(
        "P4", "T_c / J from the zero of 1/chi (linear fit above T_c)", critical, *intercept,
        rule="tolerance", tolerance=0.05, relative=True,
        note=(f"{note_common}; exact finite-N value on this window {intercept_finite:.4f}; "
              "tolerance 5 % (issue-2 acceptance; finite-size shift ~ N^-1/2)."),
    ))

    def peak_of(variance_abs):
        return critical_temperature_from_peak(T[near], N * variance_abs.values[near])

    peak = _interval(*trial_interval(stats["variance_abs"], peak_of))
    exact_peak = critical_temperature_from_peak(T[near], [N * exact[float(t)]["variance_abs"] for t in T[near]])
    verdicts.append(make_verdict(
        "P4-peak", "T_c / J from the peak of N Var(|M|)", critical, *peak, rule="tolerance", tolerance=0.05,
        relative=True,
        note=(f"{note_common}; temperatures {T[near].min():g}..{T[near].max():g}. The finite-N peak sits "
              f"below T_c by O(N^-1/2) = {N ** -0.5:.3f}: on this grid the exact finite-N distribution "
              f"puts it at {exact_peak:.4f}. Tolerance 5 % (issue-2 acceptance). Near T_c the "
              f"correlation time is ~ N^1/2 tau0, so this estimate is the noisier one."),
    ))

    # P5: beta and M0
    def beta_of(mean_abs):
        return _power_law_exponent(critical - T[below], mean_abs.values[below])

    beta = _interval(*trial_interval(stats["mean_abs"], beta_of))
    exact_beta = _power_law_exponent(critical - T[below], spontaneous_magnetisation(T[below], coupling))
    finite_beta = _power_law_exponent(critical - T[below], [exact[float(t)]["mean_abs"] for t in T[below]])
    verdicts.append(_mean_field_exponent_verdict(
        "P5", "order-parameter exponent beta (<|M|> vs T_c - T, h = 0)", "beta", beta, 0.1,
        f"{note_common}; window T = {T[below].min():g}..{T[below].max():g} J. The exact Curie-Weiss "
        f"M0(T) is not a pure power law: its effective exponent here is {exact_beta:.3f}; finite N "
        f"rounds the curve near T_c (exact finite-N effective exponent {finite_beta:.3f})."))
    lowest = int(np.argmin(T))
    m0_expected = float(spontaneous_magnetisation(T[lowest], coupling))
    m0 = _interval(*trial_interval(stats["mean_abs"].isel(param_T=lowest), lambda a: float(a)))
    verdicts.append(make_verdict(
        "P5-M0", f"spontaneous magnetisation <|M|> at T = {T[lowest]:g} J, h = 0", m0_expected, *m0,
        rule="tolerance", tolerance=0.02,
        note=(f"{note_common}; expected: the exact Curie-Weiss root of M = tanh(M T_c/T) (Landau form "
              f"sqrt(3(T_c - T)/T_c) = {np.sqrt(3 * (critical - T[lowest]) / critical):.3f} is only its "
              f"leading order); finite N: <|M|> = {exact[float(T[lowest])]['mean_abs']:.4f} exactly, "
              "tolerance 0.02."),
    ))

    # P6: delta on the critical isotherm
    fields = stats_isotherm["input"].values

    def delta_of(mean):
        return 1.0 / _power_law_exponent(fields, mean.values)

    delta = _interval(*trial_interval(stats_isotherm["mean"], delta_of))
    exact_delta = 1.0 / _power_law_exponent(fields, critical_isotherm(fields, coupling))
    finite_delta = 1.0 / _power_law_exponent(
        fields, [finite_size_curie_weiss(N, critical, h, coupling)["mean"] for h in fields])
    verdicts.append(_mean_field_exponent_verdict(
        "P6", "critical-isotherm exponent delta (M vs h at T = T_c)", "delta", delta, 0.5,
        f"{note_common}; fields {fields.min():g}..{fields.max():g}. Exact Curie-Weiss isotherm on "
        f"this window: effective delta {exact_delta:.3f} (tanh saturation); finite N (rounding "
        f"scale M ~ N^-1/4 = {N ** -0.25:.3f}) gives {finite_delta:.3f} exactly."))

    # P11 (J > 0): Var(M) = T chi / N above T_c
    chi_theory = np.asarray(susceptibility(T[above], 0.0, coupling), dtype=float)

    def variance_ratio(variance):
        return float(np.mean(variance.values[above] * N / (T[above] * chi_theory)))

    ratio = _interval(*trial_interval(stats["variance"], variance_ratio))
    finite_ratio = float(np.mean([N * exact[float(t)]["variance"] / t for t in T[above]] / chi_theory))
    q = 1 - np.exp(-float(zero_field.attrs["dt"].split()[0]) / tau0_ms)
    verdicts.append(make_verdict(
        "P11", "Var(M) N / (T chi) above T_c (mean over temperatures)", 1.0, *ratio, rule="tolerance", tolerance=0.1,
        note=(f"{note_common}; exact finite-N ratio {finite_ratio:.4f}; the simultaneous refresh of a "
              f"fraction q = {q:.3f} of the channels lowers the variance by up to q/2 near T_c. "
              "Tolerance 0.1."),
    ))

    # P12: relaxation time from the trial-averaged autocorrelation function
    time_step = float(np.median(np.diff(zero_field["time"].values)))
    correlation = _autocorrelation_above(zero_field, stats, above)  # (param_T above, trial, lag)
    expected_tau = tau0_ms / (1.0 - critical / T[above])

    def slowing_ratio(average):
        folding = np.array([_e_folding_lag(row) for row in average.values]) * time_step
        return float(np.mean(folding / expected_tau))

    slowing = _interval(*trial_interval(correlation, slowing_ratio))
    verdicts.append(make_verdict(
        "P12", "relaxation time x (1 - T_c/T) / tau0 from the autocorrelation of M above T_c", 1.0,
        *slowing, rule="tolerance", tolerance=0.15,
        note=(f"{note_common}; relaxation time = 1/e lag of the autocorrelation of the stationary M(t), "
              "averaged over trials (centred on the pooled mean), at T = "
              f"{T[above].min():g}..{T[above].max():g} J; for linear (Ornstein-Uhlenbeck) fluctuations it "
              "equals the relaxation time of a perturbation (Onsager regression). Tolerance 15 %: the "
              "discrete refresh (relative O(q)), the O(1/n) bias of the correlation estimate near T_c."),
    ))

    fit = fit_meanfield(stats_isotherm["mean"].expand_dims(param_T=[critical]))
    summary = _summary_dataset(stats, zero_field.attrs)
    summary["susceptibility"] = xr.DataArray(
        susceptibility_from_fluctuations(stats["variance"], stats["param_T"], N), attrs={"units": "1",
        "long_name": "chi = N Var(M)/T"})
    relaxation = np.full((T.size, stats.sizes["trial"]), np.nan)
    relaxation[above] = np.array([[_e_folding_lag(row) for row in per_temperature]
                                  for per_temperature in correlation.values]) * time_step
    summary["relaxation_time"] = xr.DataArray(
        relaxation, dims=("param_T", "trial"),
        attrs={"units": "ms", "long_name": "1/e lag of the autocorrelation of M (T > T_c), per trial"})
    summary.attrs.update(tau0_ms=tau0_ms, N=N, critical_temperature=critical)
    isotherm_summary = _summary_dataset(stats_isotherm, isotherm.attrs)
    isotherm_summary.attrs["critical_temperature"] = critical
    for name, variable in fit.data_vars.items():
        isotherm_summary[f"meanfield_fit_{name}"] = variable.isel(param_T=0, drop=True)
    return verdicts, {
        "critical_traces": zero_field,
        "critical_statistics": summary,
        "isotherm_traces": isotherm,
        "isotherm_statistics": isotherm_summary,
    }


def _autocorrelation_above(data, stats, selected):
    """Autocorrelation (param_T, trial, lag) of the stationary part, centred on the trial-pooled mean."""
    from neurophase.mapping.order_parameter import autocorrelation

    traces = data.order_parameter.isel(input=0).transpose("param_T", "trial", "time").values[selected]
    start = int(np.max(stats["equilibration_index"].values[selected]))
    stationary = traces[..., start:]
    centred = stationary - stationary.mean(axis=(1, 2), keepdims=True)
    return xr.DataArray(autocorrelation(centred, centred=True), dims=("param_T", "trial", "lag"))


def _e_folding_lag(correlation):
    """First lag (interpolated in log) at which the correlation falls below 1/e."""
    below = np.nonzero(correlation < np.exp(-1.0))[0]
    if below.size == 0 or below[0] == 0:
        return np.nan
    k = below[0]
    upper, lower = np.log(max(correlation[k - 1], 1e-12)), np.log(max(correlation[k], 1e-12))
    return (k - 1) + (upper + 1.0) / (upper - lower)


# --------------------------------------------------------------------------------------
# P7 hysteresis
# --------------------------------------------------------------------------------------
def _switching_fields(data, level):
    """Per trial: the field at which M first crosses ``-level`` upwards (first half-period), and
    minus the field at which it crosses ``+level`` downwards (second half); linear interpolation
    between records. Both are positive for a symmetric loop."""
    M = data.order_parameter.isel(param_T=0, input=0).transpose("trial", "time").values
    field = data.field.isel(input=0).values
    half = M.shape[1] // 2
    up = np.full(M.shape[0], np.nan)
    down = np.full(M.shape[0], np.nan)
    for trial in range(M.shape[0]):  # a handful of traces: post-processing, not a Brian2 loop
        for target_array, sign, segment in ((up, 1.0, slice(0, half)), (down, -1.0, slice(half, None))):
            trace = sign * M[trial, segment]
            h = field[segment]
            crossing = np.nonzero((trace[:-1] <= -level) & (trace[1:] > -level))[0]
            if crossing.size:
                k = crossing[0]
                fraction = (-level - trace[k]) / (trace[k + 1] - trace[k])
                target_array[trial] = sign * (h[k] + fraction * (h[k + 1] - h[k]))
    return up, down


@setting_units(periods="ms", tau0="ms")
@_doc
def measure_hysteresis(N: int = 4000, trials: int = 4, temperature: float = 0.5, field_maximum: float = 0.6,
                       periods: Sequence[Quantity] | None = None, tau0: Quantity | None = None, seed: int = 0,
                       target: str = "cython", device: str = "runtime") -> tuple[list[Verdict], dict[str, xr.Dataset]]:
    """P7: the coercive field at ``T = T_c/2`` from triangle field sweeps.

    The membrane starts on the lower branch at ``h = -field_maximum`` and the field sweeps up
    and back down once. The switching field of a sweep is where M crosses the saddle-node
    magnetisation ``-m*`` (up) or ``+m*`` (down), ``m* = sqrt(1 - T/T_c)``, the value at which
    the metastable branch ends (THEORY.md section 3). A finite sweep rate ``v`` delays the
    switch by ``a v**(2/3)`` (saddle-node passage: P. Jung, G. Gray, R. Roy and P. Mandel 1990,
    Phys. Rev. Lett. 65:1873), so the sweeps run at three rates and the switching field is
    extrapolated linearly in ``v**(2/3)`` to ``v = 0``. Finite N switches early by thermal
    activation over the vanishing barrier, by a few percent at these N.

    Parameters
    ----------
    %(ensembles)s
    temperature : float, optional, T / T_c
        In (0, T_c); default 0.5.
    field_maximum : float, optional, h / J
        Amplitude of the triangle sweep (above ``h_c(T)``); default 0.6.
    periods : sequence of Quantity (time) or None, optional
        Sweep periods, one run each; default 200, 400 and 800 ``tau0``.
    %(membrane_tau0)s
    %(seed_target_device)s

    %(measurement_returns)s
        One verdict ``P7`` (10 % relative tolerance on ``h_c``); datasets
        ``hysteresis_traces_<k>`` per period and ``hysteresis_switching``.
    """
    from neurophase.meanfield import coercive_field, critical_temperature, magnetisation

    ms, tau0, _ = _begin(tau0)
    tau0_ms = float(tau0 / ms)
    periods = [200 * tau0, 400 * tau0, 800 * tau0] if periods is None else list(periods)
    coupling = 1.0
    critical = float(critical_temperature(coupling))
    if not 0 < temperature < critical:
        raise ParameterError(f"temperature = {temperature} must lie in (0, T_c = {critical}) for hysteresis.")
    expected = float(coercive_field(temperature, coupling))
    saddle = float(np.sqrt(1.0 - temperature / critical))
    start = float(magnetisation(temperature, -field_maximum, coupling, branch="lower"))
    datasets = {}
    rates = []
    switching = []
    for number, period in enumerate(periods):
        period_ms = float(period / ms)
        data = ising.simulate_membrane(
            [temperature], [-field_maximum], trials=trials, N=N, J=coupling, tau0=tau0,
            duration=period, field_amplitude=2 * field_maximum, field_period=period,
            initial_magnetisation=start, record_every=4, seed=seed + number, target=target, device=device,
            protocol=f"hysteresis: triangle sweep -{field_maximum:g}..{field_maximum:g}, period {period_ms:g} ms")
        up, down = _switching_fields(data, saddle)
        rates.append(4 * field_maximum / period_ms * tau0_ms)  # |dh/dt| per tau0
        switching.append(0.5 * (up + down))  # mean of the up-switch field and minus the down-switch field
        datasets[f"hysteresis_traces_{number}"] = data
    rates = np.asarray(rates)
    per_trial = xr.DataArray(np.asarray(switching).T, dims=("trial", "rate"))

    def extrapolate(average):
        slope, intercept = np.polyfit(rates ** (2.0 / 3.0), average.values, 1)
        return intercept

    estimate = _interval(*trial_interval(per_trial, extrapolate))
    raw = ", ".join(f"{value:.4f}" for value in per_trial.mean("trial").values)
    verdict = make_verdict(
        "P7", f"coercive field h_c / J at T = {temperature:g} T_c (quasi-static extrapolation)", expected,
        *estimate, rule="tolerance", tolerance=0.1, relative=True,
        note=(f"N = {N}, {trials} trials per rate; sweep rates {', '.join(f'{r:.4g}' for r in rates)} J/tau0 "
              f"gave switching fields {raw} (crossing of M = -+m*, m* = {saddle:.4f}); extrapolated in "
              "v^(2/3) (Jung et al. 1990). Tolerance 10 % (issue-2 acceptance) for finite-N early switching "
              "by activation over the vanishing barrier and the extrapolation."),
    )
    summary = xr.Dataset(
        {"switching_field": xr.DataArray(per_trial.values, dims=("trial", "sweep_rate"),
                                         attrs={"units": "1", "long_name": "switching field h_sw / J"})},
        coords={"sweep_rate": xr.DataArray(rates, dims=("sweep_rate",),
                                           attrs={"units": "1", "long_name": "|dh/dt| in J per tau0"}),
                "trial": np.arange(per_trial.sizes["trial"])},
        attrs=dict(datasets["hysteresis_traces_0"].attrs, coercive_field_expected=expected,
                   coercive_field_extrapolated=estimate[0]),
    )
    datasets["hysteresis_switching"] = summary
    return [verdict], datasets


# --------------------------------------------------------------------------------------
# P9, P10 quench
# --------------------------------------------------------------------------------------
def _ordered_time(data, threshold):
    """Time (ms) with |M| > threshold, per (param_T, trial)."""
    step = float(np.median(np.diff(data["time"].values)))
    return (np.abs(data.order_parameter.isel(input=0)) > threshold).sum("time") * step


def _meanfield_quench_onset(stimuli, T_rest, critical, kappa, rate_per_ms, tau0_ms, N, threshold):
    """Onset of the ReLU fitted to the deterministic mean-field quench.

    :func:`neurophase.meanfield.dynamics.simulate_quench`: ``tau0 dM/dt = -M + tanh(T_c M / T(t))``
    (THEORY.md section 3, dynamics) from ``M(0) = N**-1/2`` (the thermal amplitude of the
    disordered membrane) with a vanishing field (``h = 1e-12``: the membrane runs at ``h = 0``);
    ordered time = time with ``|M| > threshold``, fitted by the same ReLU as the simulation.
    """
    ordered = simulate_quench(np.asarray(stimuli, dtype=float), T_rest, kappa, rate_per_ms,
                              J=critical, z=1, tau0=tau0_ms, h=1e-12, M_threshold=threshold,
                              initial_magnetisation=N ** -0.5,
                              points=20001)
    return fit_relu(stimuli, np.asarray(ordered, dtype=float))


@setting_units(rate="1/ms", tau0_values="ms", fit_minimum_time="ms")
@_doc
def measure_quench(N: int = 1000, trials: int = 4, T_rest: float = 2.0, kappa: float = 1.0,
                   rate: Quantity | None = None,
                   stimuli: Sequence[float] = (1.0, 1.1, 1.2, 1.3, 1.45, 1.6, 1.75, 1.9),
                   tau0_values: Sequence[Quantity] | None = None, ordered_threshold: float = 0.25,
                   fit_minimum_time: Quantity | None = None, seed: int = 0, target: str = "cython",
                   device: str = "runtime") -> tuple[list[Verdict], dict[str, xr.Dataset]]:
    """P9 (quench -> ReLU) and P10 (finite relaxation shifts the onset up).

    Stimulus ``x`` quenches the membrane to ``T_rest - kappa x`` at ``t = 0``; it then reheats
    at ``rate`` (``T(t) = min(T_rest, T_rest - kappa x + r t)``, h = 0). The ordered time
    (``|M| > ordered_threshold``) is ``(kappa/r) max(0, x - theta)``,
    ``theta = (T_rest - T_c)/kappa`` (THEORY.md section 5).

    - P9: slope and threshold of a straight line through the points whose ordered time exceeds
      ``fit_minimum_time`` (default 100 tau0), where the growth delay from the disordered
      state (~ tau0 ln(N^1/2)/(T_c/T(0) - 1)) is small, at the smallest ``tau0``.
    - P10: the onset (threshold of a ReLU fitted to all stimuli) at the largest ``tau0``
      (default 16 ms, comparable with the time ``(T_c - T(0))/r`` the membrane spends below
      ``T_c`` near threshold) minus that at the smallest (1 ms), against the deterministic
      mean-field prediction started from ``M(0) = N**-1/2``. A larger ``tau0`` delays both the
      growth of order (onset up) and its decay after reheating (ordered time up), so the
      shift is visible only when ``tau0`` is not small against the ramp.

    Parameters
    ----------
    %(ensembles)s
    T_rest : float, optional, T / J
        Resting temperature (above ``T_c = J``); default 2.
    kappa : float, optional, J per unit stimulus
        Temperature drop per unit stimulus; default 1.
    rate : Quantity (1/time) or None, optional
        Reheating rate ``r`` in J per time; default 0.002/ms.
    stimuli : sequence of float, optional
        Stimulus strengths ``x`` (``kappa x < T_rest``).
    tau0_values : sequence of Quantity (time) or None, optional
        Flip times, one run each; default 1 ms and 16 ms (P10 needs two or more).
    ordered_threshold : float, optional, dimensionless
        ``|M|`` above which the membrane counts as ordered; default 0.25.
    fit_minimum_time : Quantity (time) or None, optional
        Smallest ordered time of the points of the P9 line; default ``100 tau0``.
    %(seed_target_device)s

    %(measurement_returns)s
        ``P9-slope`` and ``P9-threshold`` (10 % relative tolerance) and, with two or more
        ``tau0``, ``P10``; datasets ``quench_traces_tau0_<tau0>ms`` and ``quench_ordered_time``.
    """
    from brian2 import ms

    from neurophase.meanfield import critical_temperature, ordered_time, quench_threshold

    rate = 0.002 / ms if rate is None else rate
    rate_per_ms = float(rate * ms)
    tau0_values = [1 * ms, 16 * ms] if tau0_values is None else list(tau0_values)
    coupling = 1.0
    critical = float(critical_temperature(coupling))
    stimuli = np.asarray(stimuli, dtype=float)
    initial_temperatures = T_rest - kappa * stimuli
    if np.any(initial_temperatures <= 0):
        raise ParameterError(
            f"Stimuli up to {stimuli.max():g} quench below T = 0 (T_rest = {T_rest:g}, kappa = {kappa:g}); "
            f"keep kappa x < T_rest.")
    theta = float(quench_threshold(T_rest, critical, kappa))
    slope_expected = kappa / rate_per_ms
    datasets = {}
    onsets = []
    results = []
    for number, tau0 in enumerate(tau0_values):
        tau0_ms = float(tau0 / ms)
        duration = (stimuli.max() * kappa / rate_per_ms + 50 * tau0_ms) * ms
        data = ising.simulate_membrane(
            initial_temperatures, [0.0], trials=trials, N=N, J=coupling, tau0=tau0, duration=duration,
            temperature_rate=rate, temperature_maximum=T_rest, seed=seed + number, target=target, device=device,
            record_every=10,
            protocol=f"quench: T(t) = min(T_rest, T_rest - kappa x + r t), T_rest = {T_rest:g}, "
                     f"kappa = {kappa:g}, r = {rate_per_ms:g} J/ms, tau0 = {tau0_ms:g} ms")
        ordered = _ordered_time(data, ordered_threshold)  # (param_T, trial)
        datasets[f"quench_traces_tau0_{tau0_ms:g}ms"] = data
        results.append((tau0_ms, ordered))
        onset = _interval(*trial_interval(ordered, lambda average: fit_relu(stimuli, average.values)[1]))
        onsets.append(onset)
    tau0_small, ordered_small = results[0]
    minimum_time = 100 * tau0_small if fit_minimum_time is None else float(fit_minimum_time / ms)
    well_above = ordered_small.mean("trial").values > minimum_time
    if well_above.sum() < 2:
        raise ParameterError(
            f"Fewer than two stimuli give an ordered time above {minimum_time:g} ms; use larger stimuli "
            "or a slower reheating rate.")

    def line(average):
        slope, intercept = np.polyfit(stimuli[well_above], average.values[well_above], 1)
        return np.array([slope, -intercept / slope])

    estimate, low, high = trial_interval(ordered_small, line)
    expected_times = ordered_time(stimuli, T_rest, critical, kappa, rate_per_ms)
    end_shift = (critical - ordered_threshold / np.arctanh(ordered_threshold)) / kappa
    note = (f"N = {N}, {trials} trials, tau0 = {tau0_small:g} ms, r = {rate_per_ms:g} J/ms, kappa = {kappa:g}, "
            f"T_rest = {T_rest:g}; ordered = |M| > {ordered_threshold:g}; line through stimuli "
            f"{', '.join(f'{x:g}' for x in stimuli[well_above])} (ordered time > {minimum_time:g} ms). "
            f"Biases: the order parameter falls below the threshold when M0(T) = {ordered_threshold:g}, "
            f"i.e. {end_shift:.3f} in x before T reaches T_c; growth from the disordered state and finite-N "
            "rounding of T_c (~ N^-1/2) shift the onset up. Tolerance 10 % (issue-2 acceptance).")
    verdicts = [
        make_verdict("P9-slope", "ReLU slope of ordered time vs stimulus (ms per unit x)", slope_expected,
                     estimate[0], low[0], high[0], rule="tolerance", tolerance=0.1, relative=True, note=note),
        make_verdict("P9-threshold", "ReLU threshold (T_rest - T_c)/kappa", theta, estimate[1], low[1], high[1],
                     rule="tolerance", tolerance=0.1, relative=True, note=note),
    ]
    if len(tau0_values) > 1:
        tau0_large, ordered_large = results[-1]
        pair = xr.concat([ordered_small, ordered_large], dim="tau0")

        def shift(average):
            return fit_relu(stimuli, average.isel(tau0=1).values)[1] - fit_relu(stimuli, average.isel(tau0=0).values)[1]

        measured = _interval(*trial_interval(pair, shift))
        predicted = (_meanfield_quench_onset(stimuli, T_rest, critical, kappa, rate_per_ms, tau0_large, N,
                                             ordered_threshold)[1]
                     - _meanfield_quench_onset(stimuli, T_rest, critical, kappa, rate_per_ms, tau0_small, N,
                                               ordered_threshold)[1])
        verdicts.append(make_verdict(
            "P10", f"ReLU onset shift, tau0 = {tau0_large:g} ms minus {tau0_small:g} ms (units of x)",
            predicted, *measured, rule="tolerance", tolerance=0.5 * abs(predicted),
            note=(f"Onsets (ReLU fit to all stimuli): {onsets[0][0]:.4f} at tau0 = {tau0_small:g} ms, "
                  f"{onsets[-1][0]:.4f} at {tau0_large:g} ms. Expected: deterministic mean-field quench "
                  f"started from M(0) = N^-1/2 (fitted the same way); the start amplitude is known only in "
                  "scale (it enters through ln M(0)), so the tolerance is 50 % of the predicted shift; a "
                  "positive shift is the qualitative prediction."),
        ))
    summary = xr.Dataset(
        {f"ordered_time_tau0_{tau0_ms:g}ms": xr.DataArray(
            ordered.values, dims=("stimulus", "trial"), attrs={"units": "ms",
                                                               "long_name": "time with |M| above threshold"})
         for tau0_ms, ordered in results},
        coords={"stimulus": xr.DataArray(stimuli, dims=("stimulus",), attrs={"units": "1", "long_name": "stimulus x"}),
                "trial": np.arange(trials)},
        attrs=dict(datasets[next(iter(datasets))].attrs, theta_expected=theta, slope_expected_ms=slope_expected),
    )
    summary["ordered_time_expected"] = xr.DataArray(expected_times, dims=("stimulus",),
                                                    attrs={"units": "ms", "long_name": "(kappa/r) max(0, x - theta)"})
    datasets["quench_ordered_time"] = summary
    return verdicts, datasets


# --------------------------------------------------------------------------------------
# 2-D lattice
# --------------------------------------------------------------------------------------
@setting_units(duration="ms", tau0="ms")
@_doc
def measure_lattice(N: int = 1024, trials: int = 4, temperatures: Sequence[float] = (1.8, 1.9, 2.0, 2.1, 2.15, 2.2),
                    duration: Quantity | None = None, tau0: Quantity | None = None, seed: int = 0,
                    target: str = "cython", device: str = "runtime") -> tuple[list[Verdict], dict[str, xr.Dataset]]:
    """The beta exponent of the 2-D periodic square lattice (z = 4, nearest neighbours).

    ``<|M|>`` below the Onsager temperature ``T_c = 2 J / ln(1 + sqrt 2)`` is fitted to
    ``(T_c - T)^beta``. Mean field predicts 1/2 (and ``T_c = 4 J``); the exact 2-D value is
    1/8 (Onsager 1944; Yang 1952). The membrane starts fully open (no coarsening from a
    disordered state). The mean-field verdict is expected NOT to hold; it is reported as
    measured.

    Parameters
    ----------
    N : int, optional
        Channels per lattice, a square ``L**2`` of an even ``L``; default 1024.
    trials : int, optional
        Independent lattices per temperature; default 4.
    temperatures : sequence of float, optional, T / J
        All below the Onsager ``T_c = 2.269 J``.
    duration : Quantity (time) or None, optional
        Simulated time; default ``300 tau0``.
    %(membrane_tau0)s
    %(seed_target_device)s

    %(measurement_returns)s
        ``P5-lattice`` (against mean-field 1/2), ``P5-lattice-onsager`` (against 1/8) and
        ``P5-lattice-M``; datasets ``lattice_traces`` and ``lattice_statistics``.
    """
    from neurophase.meanfield import (
        ISING_2D_EXPONENTS,
        ising_2d_critical_temperature,
        onsager_magnetisation,
    )

    ms, tau0, duration = _begin(tau0, duration, 300)
    coupling = 1.0
    critical = float(ising_2d_critical_temperature(coupling))
    temperatures = np.asarray(temperatures, dtype=float)
    if np.any(temperatures >= critical):
        raise ParameterError(f"measure_lattice needs temperatures below the Onsager T_c = {critical:.4f} J.")
    data = ising.simulate_membrane(temperatures, [0.0], trials=trials, N=N, J=coupling, tau0=tau0,
                                   duration=duration, model="ising_lattice", initial_magnetisation=1.0,
                                   seed=seed, target=target, device=device,
                                   protocol="lattice: h = 0, static temperature grid, ordered start")
    stats = stationary_statistics(data.order_parameter, discard=0.3).isel(input=0)
    distance = critical - temperatures

    def beta_of(mean_abs):
        return _power_law_exponent(distance, mean_abs.values)

    beta = _interval(*trial_interval(stats["mean_abs"], beta_of))
    onsager_beta = _power_law_exponent(distance, onsager_magnetisation(temperatures, coupling))
    side = int(round(np.sqrt(N)))
    note = (f"L = {side} (N = {N}), {trials} trials of {float(duration / ms):g} ms, T = "
            f"{temperatures.min():g}..{temperatures.max():g} J, T_c = {critical:.4f} J (Onsager). The exact "
            f"Onsager-Yang curve has effective exponent {onsager_beta:.3f} on this window; finite L rounds "
            f"it where the correlation length ~ 1/|t| approaches L.")
    verdicts = [
        make_verdict("P5-lattice", "beta exponent on the 2-D lattice vs the mean-field value",
                     MEAN_FIELD_EXPONENTS["beta"], *beta, note=note + " Mean field is expected to fail here."),
        make_verdict("P5-lattice-onsager", "beta exponent on the 2-D lattice vs the exact 2-D value",
                     ISING_2D_EXPONENTS["beta"], *beta, rule="tolerance",
                     tolerance=max(0.05, abs(onsager_beta - 0.125) + 0.03),
                     note=note + " Tolerance: the exact curve's deviation from 1/8 on this window plus 0.03 "
                                 "for finite L."),
    ]
    lowest = int(np.argmin(temperatures))
    measured = _interval(*trial_interval(stats["mean_abs"].isel(param_T=lowest), lambda a: float(a)))
    verdicts.append(make_verdict(
        "P5-lattice-M", f"<|M|> at T = {temperatures[lowest]:g} J on the 2-D lattice vs Onsager-Yang",
        float(onsager_magnetisation(temperatures[lowest], coupling)), *measured, rule="tolerance", tolerance=0.05,
        note=f"L = {side}; tolerance 0.05 for finite L (corrections ~ 1/L)."))
    summary = _summary_dataset(stats, data.attrs)
    summary["onsager_magnetisation"] = xr.DataArray(onsager_magnetisation(temperatures, coupling), dims=("param_T",),
                                                    attrs={"units": "1"})
    return verdicts, {"lattice_traces": data, "lattice_statistics": summary}
