"""Q1-Q5: recurrently coupled spiking populations against their derived population mean field.

THEORY.md section 6c: neurones are the spins, the recurrent weight ``w`` the coupling, the input
noise the temperature, the external drive the field and the population rate the order parameter.
Everything expected here is DERIVED before the network runs: the transfer function is the Siegert
formula (LIF) or is measured on the UNCOUPLED model (any other model), and
:class:`neurophase.mapping.population.PopulationTheory` turns it into fixed points, folds, the
cusp, relaxation times and finite-size fluctuations. Nothing measured on a coupled network enters a
prediction. Each network below is ONE Brian2 network holding every population of its grid
(:func:`neurophase.micro.network.simulate_populations`).

Measurements (one call of :func:`measure_population` per model)
---------------------------------------------------------------
Q1  stationary rate over a ``(w, mu_ext)`` grid, started low and high (kick), against the stable
    fixed point reached from that side; per coupling, the worst point of the mono-stable
    part and of each bistable branch (rule: within ``q1_tolerance`` relative, or the mean field
    inside the 95 % batch-means interval).
Q2  slow triangular up/down ramps of the drive; the drives where the rate crosses the rate of
    the Widom point (the middle of the S, derived) against the folds.
Q3  the coupling where the up/down loop closes: ``width^(2/3)`` is linear in ``w - w_c`` at a
    cusp (normal form ``x^3 - t x - h``: folds at ``h = +-2 (t/3)^(3/2)``), so ``w`` regressed on
    ``width^(2/3)`` over the open loops has intercept ``w_c``.
Q4  (a) at the derived ``w_c``, ``r - r_c = A sign(d)|d|^x`` with ``d = mu - mu_c`` (``r_c, A, x``
    fitted, ``mu_c`` derived): reported against 1/3 (cusp, delta = 3) AND 1/2 (a saddle-node),
    and against the mean field's own exponent over the same window; (b) above ``w_c``, on the
    low branch below its fold ``mu_f``, ``r = r_f - A (mu_f - mu)^x`` (expected 1/2); (c) along the
    Widom line below ``w_c``, the correlation time of the population rate against
    ``w_c - w`` (expected slope -1 in log-log).
Q5  along the same line, ``N_pop Var(r)`` in bins of ``variance_bin`` against the linear-noise
    prediction, and the coupling where it peaks against ``w_c``.

Tolerances (fixed before measuring; the reasons are in each verdict's note)
--------------------------------------------------------------------------
``q1_tolerance`` 0.1 relative (the issue's acceptance; finite N and K, diffusion approximation);
Q2 ``max(switch_fraction x predicted loop width, switch_floor)``; Q3 ``0.1`` relative (acceptance);
exponents ``0.05`` absolute (under a third of the 1/3 - 1/2 gap, so the two remain
distinguishable); relaxation slope ``0.15``; Q5 ``0.3`` relative (about three standard errors of a
variance estimated from the stated number of bins and seeds); peak ``0.1`` relative. Q1 and Q3
hold when the measured value is within the tolerance or the derived one inside the 95 % interval
(the issue's acceptance); Q2, Q4 and Q5 judge the point estimate against the tolerance and only
report the interval, so that a noisy measurement cannot pass on a wide interval.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from neurophase.check.verdicts import make_verdict
from neurophase.docstrings import template
from neurophase.errors import ParameterError
from neurophase.mapping.population import MeasuredTransfer, PopulationTheory, is_lif
from neurophase.micro.modelfile import Model, load_model
from neurophase.micro.network import measure_transfer, simulate_populations
from neurophase.schema import quantity_coordinate, quantity_variable
from neurophase.statistics import mean_interval, regression_slope_interval
from neurophase.units import parse_quantity, parse_unit, to_magnitude

if TYPE_CHECKING:
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

    from neurophase.check.verdicts import Verdict

    #: A grid setting: quantities (or strings with units), or ``{start, stop, step}`` with units.
    _Grid = Quantity | Sequence[Quantity | str] | dict[str, Any]

__all__ = ["measure_population", "population_prediction", "stationary_sweep", "ramp_switches", "correlation_time",
           "binned_variance", "batch_means"]

#: Docstring entries (:mod:`neurophase.docstrings`) of the rate statistics below.
_doc = template(stationary_rates="""rate : array_like, Hz
    ``(population, time)`` binned rates.
stationary : numpy.ndarray of bool
    The time bins after the transient.""")


# ------------------------------------------------------------------------------ analysis helpers
def _coarse(series, factor):
    """Means over ``factor`` consecutive bins (the last incomplete block dropped)."""
    usable = series.size - series.size % factor
    return series[:usable].reshape(-1, factor).mean(axis=1)


@_doc
def batch_means(rate: ArrayLike, stationary: np.ndarray, batches: int) -> np.ndarray:
    """Means of ``batches`` consecutive blocks of the stationary bins, per population.

    The batch-means method for the error of a time average of a correlated series (e.g.
    Law & Kelton 2000, Simulation Modeling and Analysis, 3rd ed., section 9.5.3).

    Parameters
    ----------
    %(stationary_rates)s
    batches : int
        Number of blocks (the last incomplete block is dropped).

    Returns
    -------
    numpy.ndarray, Hz
        ``(population, batches)`` block means.

    Raises
    ------
    ParameterError
        Fewer stationary bins than batches.
    """
    values = np.asarray(rate, float)[:, stationary]
    usable = values.shape[1] - values.shape[1] % batches
    if usable < batches:
        raise ParameterError("Too few stationary bins for the batch means; run longer.")
    return values[:, :usable].reshape(values.shape[0], batches, -1).mean(axis=2)


@_doc
def binned_variance(rate: ArrayLike, stationary: np.ndarray, factor: int) -> np.ndarray:
    """Variance of the rate averaged over windows of ``factor`` bins, per population.

    Every window position is used (overlapping windows: the same expectation as disjoint bins,
    a smaller sampling error); ddof 1.

    Parameters
    ----------
    %(stationary_rates)s
    factor : int
        Bins per window.

    Returns
    -------
    numpy.ndarray, Hz**2
        One variance per population.
    """
    values = np.asarray(rate, float)[:, stationary]
    cumulative = np.concatenate([np.zeros((values.shape[0], 1)), np.cumsum(values, axis=1)], axis=1)
    windows = (cumulative[:, factor:] - cumulative[:, :-factor]) / factor
    return windows.var(axis=1, ddof=1)


def correlation_time(series: ArrayLike, bin_width: float, decay: float = math.exp(-2.0),
                     min_lags: int = 3) -> float:
    """Correlation time (s) of a rate time series from its autocorrelation at lags >= 1 bin.

    The finite-size shot noise is white (lag 0 only), so lags from 1 bin on are fitted by
    ``log rho_k = c - k bin_width / tau`` (least squares) up to the first lag where ``rho_k`` falls
    below ``decay x rho_1`` (at least ``min_lags`` lags). NaN if ``rho_1 <= 0``. The exponential
    decay ``rho(t) = exp(-t/tau)`` is that of the linearised rate dynamics about a fixed point
    (an Ornstein-Uhlenbeck process: Uhlenbeck & Ornstein 1930, Phys. Rev. 36:823).

    Parameters
    ----------
    series : array_like, Hz
        Binned rate, 1-D.
    bin_width : float, s
        Width of a bin.
    decay : float, dimensionless
        Fraction of ``rho_1`` below which lags stop being fitted.
    min_lags : int
        Fewest lags fitted.

    Returns
    -------
    float, s
        ``tau`` (NaN when the autocorrelation does not decay).
    """
    x = np.asarray(series, float)
    x = x - x.mean()
    n = x.size
    spectrum = np.fft.rfft(x, 2 * n)
    acov = np.fft.irfft(spectrum * np.conj(spectrum))[:n] / np.arange(n, 0, -1)
    if acov[0] <= 0 or acov[1] <= 0:
        return math.nan
    rho = acov / acov[0]
    below = np.flatnonzero(rho[1:] < decay * rho[1])
    stop = int(below[0]) + 1 if below.size else n // 4
    stop = max(stop, min_lags + 1)
    lags = np.arange(1, min(stop, n // 4) + 1)
    positive = rho[lags] > 0
    if positive.sum() < 2:
        return math.nan
    slope = np.polyfit(lags[positive] * bin_width, np.log(rho[lags][positive]), 1)[0]
    return -1.0 / slope if slope < 0 else math.nan


def ramp_switches(dataset: xr.Dataset, level: ArrayLike, smooth_bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Up and down switching drives of every ramp population (input unit).

    The rate is smoothed by a moving average over ``smooth_bins`` bins; the up switch is the drive
    (at the bin centre) where it first exceeds ``level`` (per population, e.g. the rate of the
    Widom point) while the drive rises, the down switch where it first falls below ``level``
    while the drive falls. NaN where it never crosses. The loop width is ``up - down``.

    Parameters
    ----------
    dataset : xarray.Dataset
        From :func:`neurophase.micro.network.simulate_populations` with a ramp: ``rate`` and
        ``drive_at`` over ``(population, time)``.
    level : float or array_like, Hz
        The switching rate, scalar or one per population.
    smooth_bins : int
        Width of the moving average, in bins.

    Returns
    -------
    up, down : numpy.ndarray, the model's input unit
        One switching drive per population.
    """
    rate = dataset["rate"].values
    drive = dataset["drive_at"].values
    kernel = np.ones(smooth_bins) / smooth_bins
    up = np.full(rate.shape[0], np.nan)
    down = np.full(rate.shape[0], np.nan)
    levels = np.broadcast_to(np.asarray(level, float), (rate.shape[0],))
    for p in range(rate.shape[0]):
        smooth = np.convolve(rate[p], kernel, mode="same")
        rising = np.r_[np.diff(drive[p]) > 0, False]
        falling = np.r_[np.diff(drive[p]) < 0, False]
        crossing = np.flatnonzero(rising & (smooth > levels[p]))
        if crossing.size:
            up[p] = drive[p, crossing[0]]
        crossing = np.flatnonzero(falling & (smooth < levels[p]))
        if crossing.size:
            down[p] = drive[p, crossing[0]]
    return up, down


def _power_fit(offsets, rates, errors, sign_mode, confidence=0.95):
    """Weighted fit of ``r = r0 + A s(d) |d|^x``; returns (x, low, high, r0, A, curve).

    ``sign_mode`` "odd": ``s = sign(d)`` (cusp isotherm, both sides); "below": ``s = -1`` with
    ``|d|`` the distance below a fold. Interval: Student-t from the covariance scaled by the
    residual variance, ``n - 3`` degrees of freedom.
    """
    from scipy.optimize import curve_fit
    from scipy.stats import t as student

    d = np.asarray(offsets, float)
    r = np.asarray(rates, float)
    e = np.asarray(errors, float)
    keep = np.isfinite(d) & np.isfinite(r) & np.isfinite(e) & (d != 0)
    d, r, e = d[keep], r[keep], np.maximum(e[keep], 1e-6 * max(np.nanmax(np.abs(r)), 1.0))
    if d.size < 4:
        return (math.nan,) * 5 + (None,)
    s = np.sign(d) if sign_mode == "odd" else -np.ones_like(d)

    def model(x, r0, amplitude, exponent):
        return r0 + amplitude * s * np.abs(x) ** exponent

    best = None
    for start in (0.25, 0.4, 0.6):
        guess_r0 = float(np.median(r)) if sign_mode == "odd" else float(np.max(r))
        scale = np.abs(d).max() ** start
        amplitude0 = (np.max(r) - np.min(r)) / max(2 * scale, 1e-12)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                params, covariance = curve_fit(model, d, r, p0=[guess_r0, amplitude0, start],
                                               sigma=e, absolute_sigma=False, maxfev=20000,
                                               bounds=([-np.inf, 0, 0.02], [np.inf, np.inf, 3.0]))
        except (RuntimeError, ValueError):
            continue
        residual = np.sum(((model(d, *params) - r) / e) ** 2)
        if best is None or residual < best[0]:
            best = (residual, params, covariance)
    if best is None:
        return (math.nan,) * 5 + (None,)
    _, params, covariance = best
    se = math.sqrt(max(covariance[2, 2], 0.0))
    half = float(student.ppf(0.5 + confidence / 2, max(d.size - 3, 1))) * se
    return (float(params[2]), float(params[2] - half), float(params[2] + half), float(params[0]),
            float(params[1]), (d, model(d, *params)))


def _fold_fit(distances, rates, errors, fold_rate):
    """Slope of ``log(r_f - r)`` on ``log(mu_f - mu)`` (derived ``r_f``), Student-t interval.

    Weighted by ``se(r) / (r_f - r)``; points with ``r >= r_f`` are left out. Returns
    ``(slope, low, high, n)``.
    """
    distances = np.abs(np.asarray(distances, float))
    gap = fold_rate - np.asarray(rates, float)
    errors = np.asarray(errors, float)
    keep = np.isfinite(gap) & (gap > 0) & (distances > 0) & np.isfinite(errors)
    if keep.sum() < 3:
        return math.nan, math.nan, math.nan, int(keep.sum())
    se = np.maximum(errors[keep], 1e-9) / gap[keep]
    slope, low, high = regression_slope_interval(np.log(distances[keep]), np.log(gap[keep]),
                                                 standard_errors=se)
    return slope, low, high, int(keep.sum())


def _quantity_list(values, unit, name):
    if values is None:
        return None
    if isinstance(values, (list, tuple)):
        values = [parse_quantity(v, name=name) if isinstance(v, str) else v for v in values]
        magnitudes = [float(to_magnitude(v, unit, name=name)) for v in values]
        return np.asarray(magnitudes)
    return np.atleast_1d(to_magnitude(values, unit, name=name))


def _grid(value, unit, name):
    """A grid setting: a list of quantities, or ``{start, stop, step}`` with units."""
    if isinstance(value, dict):
        start = float(to_magnitude(value["start"], unit, name=name))
        stop = float(to_magnitude(value["stop"], unit, name=name))
        step = float(to_magnitude(value["step"], unit, name=name))
        if step <= 0 or stop < start:
            raise ParameterError(f"{name}: step must be > 0 and stop >= start.")
        return start + step * np.arange(int(np.floor((stop - start) / step + 1e-6)) + 1)
    grid = _quantity_list(value, unit, name)
    if grid is None or grid.size == 0:
        raise ParameterError(f"{name} is empty; give at least one value with its unit.")
    return grid


def _seconds(value, name):
    return float(to_magnitude(parse_quantity(value, name=name) if isinstance(value, str) else value,
                              "second", name=name))


# ------------------------------------------------------------------------------ the prediction
def population_prediction(model: str | Path | Model, synapse: str = "delta", indegree: int = 100,
                          noise: Quantity | None = None, delay: Quantity | str = "1.5 ms",
                          synaptic_tau: Quantity | None = None, dt: Quantity | None = None,
                          parameters: dict[str, Any] | None = None, transfer: xr.Dataset | None = None,
                          rate_time_constant: Quantity | None = None) -> PopulationTheory:
    """The derived :class:`~neurophase.mapping.population.PopulationTheory` of a model.

    ``transfer`` is a firing-curve Dataset of the uncoupled model (see
    :func:`neurophase.micro.network.measure_transfer`) for non-LIF models; LIF models use the
    Siegert formula with the discrete-monitoring correction for ``dt``.

    Parameters
    ----------
    model : str, pathlib.Path or Model
        Library model name, model file or Model.
    synapse : {"delta", "current"}
        Synapse model.
    indegree : int
        ``K``.
    noise : Quantity (input dimension x time**0.5), optional
        White-noise amplitude of the external drive.
    delay : Quantity (time) or str
        Transmission delay.
    synaptic_tau : Quantity (time), optional
        For current synapses.
    dt : Quantity (time), optional
        Simulation step (discrete-monitoring correction of the LIF).
    parameters : dict, optional
        Model parameter overrides.
    transfer : xarray.Dataset, optional
        The measured transfer function (needed for non-LIF models).
    rate_time_constant : Quantity (time), optional
        ``tau`` of the rate dynamics.

    Returns
    -------
    PopulationTheory
        Fixed points, folds, cusp, relaxation times and finite-size variance, all derived.
    """
    model = model if isinstance(model, Model) else load_model(model)
    transfer_function = None if transfer is None else MeasuredTransfer(transfer)
    return PopulationTheory(model, synapse=synapse, indegree=indegree, noise=noise,
                            synaptic_tau=synaptic_tau, delay=delay, transfer=transfer_function,
                            monitoring_dt=dt if transfer is None else None,
                            rate_time_constant=rate_time_constant, parameters=parameters)


def stationary_sweep(loaded: Model, theory: PopulationTheory, w_grid: np.ndarray, mu_grid: np.ndarray,
                     kick: Quantity | str, common: dict[str, Any], stationary_duration: Quantity | str = "2 s",
                     transient: Quantity | str = "0.5 s", bin_width: Quantity | str = "5 ms", batches: int = 10,
                     q1_tolerance: float = 0.1, q1_min_rate: Quantity | str = "1 Hz",
                     seed: int = 0) -> tuple[list[Verdict], xr.Dataset, xr.Dataset]:
    """Q1 on a ``(w, drive)`` grid: ONE network with every point started low and high.

    Returns ``(verdicts, stationary, theory)``: one verdict per coupling and branch (the worst
    drive; module docstring), the measured and predicted rates per point, and the derived branches
    and folds on dense grids for the figures. ``common`` holds the network settings of
    :func:`neurophase.micro.network.simulate_populations` (size, indegree, synapse, noise, ...).

    Parameters
    ----------
    loaded : Model
        The neurone model.
    theory : PopulationTheory
        Its derived mean field (:func:`population_prediction`).
    w_grid : numpy.ndarray, the coupling unit
        Couplings.
    mu_grid : numpy.ndarray, the model's input unit
        Drives.
    kick : Quantity (input dimension) or str
        Extra drive that starts the high branch.
    common : dict
        Keyword arguments of :func:`~neurophase.micro.network.simulate_populations`.
    stationary_duration, transient, bin_width : Quantity (time) or str
        Run time, excluded start, rate bin width.
    batches : int
        Batch means per population (the interval is Student-t over batches and seeds).
    q1_tolerance : float, dimensionless
        Relative tolerance of the verdicts.
    q1_min_rate : Quantity (frequency) or str
        Predicted rates below it are not judged.
    seed : int
        Seed of the network.

    Returns
    -------
    verdicts : list of Verdict
        The Q1 rows.
    stationary : xarray.Dataset
        Measured (with 95 % interval) and predicted rates over ``(coupling, drive, start)``, and
        the diagnosis of a miss: ``open_loop_rate`` (the mean field's transfer ``F`` at the
        measured rate: where it differs from the measured rate, the transfer itself is off) and
        ``loop_gain`` (``1/(1 - F'(r*))``, :meth:`~neurophase.meanfield.population.RateMap.loop_gain`:
        how much the recurrent loop amplifies such an error near the cusp).
    theory : xarray.Dataset
        Derived folds, branches and cusp on dense grids.
    """
    verdicts = []
    input_unit = loaded.input_unit
    w_unit = theory.coupling_unit
    w_q = parse_unit(w_unit)
    mu_q = parse_unit(input_unit)
    size, indegree = common["size"], common["indegree"]
    cusp = getattr(theory, "_cusp", None) or theory.cusp()
    w_c = cusp.coupling
    kick_q = parse_quantity(kick, name="kick") if isinstance(kick, str) else kick
    stationary = simulate_populations(
        loaded, w_grid * w_q, mu_grid * mu_q, initial=("low", "high"), kick=kick_q,
        duration=stationary_duration, transient=transient, bin_width=bin_width, seed=seed,
        **common)
    bin_s = _seconds(bin_width, "bin_width")
    transient_s = _seconds(transient, "transient")
    phase = theory.phase_diagram(w_grid * w_q, mu_grid * mu_q)
    times = stationary["time"].values * 1e-3
    steady = times - 0.5 * bin_s >= transient_s - 1e-12
    means = batch_means(stationary["rate"].values, steady, int(batches))
    min_rate = float(to_magnitude(parse_quantity(q1_min_rate) if isinstance(q1_min_rate, str)
                                  else q1_min_rate, "Hz"))
    point_mean = np.full((w_grid.size, mu_grid.size, 2), np.nan)
    point_low = np.full_like(point_mean, np.nan)
    point_high = np.full_like(point_mean, np.nan)
    for a in range(w_grid.size):
        for b in range(mu_grid.size):
            for c, state in enumerate(("low", "high")):
                index = a * mu_grid.size + b
                mask = (stationary["point"].values == index) & (stationary["initial"].values == state)
                estimate, low, high = mean_interval(means[mask].ravel())
                point_mean[a, b, c], point_low[a, b, c], point_high[a, b, c] = estimate, low, high
    predicted = np.stack([phase["low_branch_rate"].values, phase["high_branch_rate"].values], axis=-1)
    bistable = phase["bistable"].values > 0
    # diagnosis, not part of any verdict: the transfer's own error at the network's rate
    # (open loop, F(r_measured) - r_measured) and the loop's amplification 1 / (1 - F'(r*))
    open_loop = np.full_like(point_mean, np.nan)
    loop_gain = np.full_like(point_mean, np.nan)
    for a, w in enumerate(w_grid):
        for b, mu in enumerate(mu_grid):
            for c in range(2):
                if np.isfinite(point_mean[a, b, c]):
                    open_loop[a, b, c] = float(theory.rate_map.value(point_mean[a, b, c], w, mu))
                if np.isfinite(predicted[a, b, c]):
                    loop_gain[a, b, c] = float(theory.rate_map.loop_gain(predicted[a, b, c], w, mu))
    for a, w in enumerate(w_grid):
        groups = [("mono-stable", ~bistable[a], (0, 1))]
        if bistable[a].any():
            groups += [("bistable, low branch", bistable[a], (0,)),
                       ("bistable, high branch", bistable[a], (1,))]
        for label, selection, starts in groups:
            candidates = []
            for b in np.flatnonzero(selection):
                for c in starts:
                    expected = predicted[a, b, c]
                    if not (np.isfinite(expected) and expected >= min_rate):
                        continue
                    relative = (point_mean[a, b, c] - expected) / expected
                    verdict = make_verdict(
                        "Q1", "", expected, point_mean[a, b, c], point_low[a, b, c],
                        point_high[a, b, c], tolerance=q1_tolerance, relative=True,
                        rule="interval_or_tolerance")
                    candidates.append((not verdict.holds, abs(relative), b, c, verdict))
            if not candidates:
                continue
            failing, _, b, c, chosen = max(candidates, key=lambda item: (item[0], item[1]))
            held = sum(1 for item in candidates if not item[0])
            transfer_error = open_loop[a, b, c] - point_mean[a, b, c]
            quantity = (f"rate at w = {w:.4g} {w_unit}, {label}: worst of {len(candidates)} drives "
                        f"(mu = {mu_grid[b]:.4g} {input_unit}, {'low' if c == 0 else 'high'} start), Hz")
            tag = {"mono-stable": "mono", "bistable, low branch": "bistable-low",
                   "bistable, high branch": "bistable-high"}[label]
            verdicts.append(make_verdict(
                f"Q1-{loaded.name}-w{w:.4g}-{tag}",
                quantity, chosen.expected, chosen.measured, chosen.ci_low, chosen.ci_high,
                tolerance=q1_tolerance, relative=True, rule="interval_or_tolerance",
                note=(f"{held} of {len(candidates)} drives hold. DERIVED: the stable fixed point of "
                      f"r = phi(mu(r), sigma(r)) reached from the start side ({theory.transfer.description}); "
                      f"interval: Student-t over {batches} batch means per seed after a "
                      f"{transient_s:g} s transient. Tolerance {q1_tolerance:g} relative: the issue's "
                      f"acceptance for finite N = {size}, K = {indegree} and the diffusion approximation. "
                      f"Rates below {min_rate:g} Hz are not judged (a relative error is meaningless "
                      f"there). Diagnosis at that drive (not part of the verdict): the mean field's "
                      f"transfer at the measured rate, F(r) = {open_loop[a, b, c]:.4g} Hz, is "
                      f"{transfer_error:+.3g} Hz from it (open loop), and the loop gain "
                      f"1/(1 - F'(r*)) = {loop_gain[a, b, c]:.3g} turns such an error into "
                      f"{-transfer_error * loop_gain[a, b, c]:+.3g} Hz at the fixed point, to first "
                      "order (a bimodal, flickering population has no single rate: read it there "
                      "with care).")))
    stationary_summary = xr.Dataset(
        {"rate": quantity_variable(point_mean, "Hz", ("coupling", "drive", "start"),
                                   long_name="network rate (mean over batches and seeds)"),
         "rate_low": quantity_variable(point_low, "Hz", ("coupling", "drive", "start"),
                                       long_name="95% interval, low end"),
         "rate_high": quantity_variable(point_high, "Hz", ("coupling", "drive", "start"),
                                        long_name="95% interval, high end"),
         "predicted_rate": quantity_variable(predicted, "Hz", ("coupling", "drive", "start"),
                                             long_name="derived stable fixed point from that start"),
         "bistable": quantity_variable(bistable.astype(float), "1", ("coupling", "drive"),
                                       long_name="1 where the mean field is bistable"),
         "open_loop_rate": quantity_variable(
             open_loop, "Hz", ("coupling", "drive", "start"),
             long_name="mean-field transfer F(r) at the measured rate r (open loop; equals r where "
                       "the transfer is exact)"),
         "loop_gain": quantity_variable(
             loop_gain, "1", ("coupling", "drive", "start"),
             long_name="1/(1 - F'(r*)) at the predicted fixed point: a transfer error delta moves "
                       "the fixed point by -delta times this, to first order")},
        coords={"coupling": quantity_coordinate("coupling", w_grid, w_unit),
                "drive": quantity_coordinate("drive", mu_grid, input_unit),
                "start": ("start", ["low", "high"])})
    stationary_summary.attrs.update(stationary.attrs)

    # ---- dense theory for the figures
    dense_w = np.unique(np.concatenate([np.linspace(0.5, 2.0, 16) * w_c, w_grid]))
    fold_low = np.full(dense_w.size, np.nan)
    fold_high = np.full(dense_w.size, np.nan)
    for index, w in enumerate(dense_w):
        span = theory.rate_map.bistable_range(w)
        if span is not None:
            fold_low[index], fold_high[index] = span
    dense_mu = np.linspace(mu_grid.min(), mu_grid.max(), 61)
    branches = theory.phase_diagram(w_grid * w_q, dense_mu * mu_q)
    theory_ds = xr.Dataset(
        {"fold_low": quantity_variable(fold_low, input_unit, ("dense_coupling",),
                                       long_name="lower fold (end of the high branch)"),
         "fold_high": quantity_variable(fold_high, input_unit, ("dense_coupling",),
                                        long_name="upper fold (end of the low branch)"),
         "branch_rate": quantity_variable(branches["fixed_point_rate"].values, "Hz",
                                          ("coupling", "dense_drive", "branch"),
                                          long_name="derived fixed points, lowest first"),
         "branch_stable": quantity_variable(branches["fixed_point_stable"].values.astype(float), "1",
                                            ("coupling", "dense_drive", "branch"),
                                            long_name="1 where F' < 1"),
         "cusp_coupling": quantity_variable(w_c, w_unit, (), long_name="w_c (derived)"),
         "cusp_drive": quantity_variable(cusp.drive, input_unit, (), long_name="mu_c (derived)"),
         "cusp_rate": quantity_variable(cusp.rate, "Hz", (), long_name="r_c (derived)")},
        coords={"dense_coupling": quantity_coordinate("dense_coupling", dense_w, w_unit),
                "coupling": quantity_coordinate("coupling", w_grid, w_unit),
                "dense_drive": quantity_coordinate("dense_drive", dense_mu, input_unit),
                "branch": ("branch", np.arange(3))})
    theory_ds.attrs.update(theory.provenance())
    return verdicts, stationary_summary, theory_ds

# ------------------------------------------------------------------------------ the measurement
def measure_population(model: str | Path | Model = "leaky_integrate_and_fire", synapse: str = "delta",
                       size: int = 1000, indegree: int = 100, noise: Quantity | str = "5.657 pA*second**0.5",
                       delay: Quantity | str = "1.5 ms", synaptic_tau: Quantity | str | None = None,
                       dt: Quantity | None = None, parameters: dict[str, Any] | None = None,
                       transfer_drives: _Grid | None = None, transfer_noises: _Grid | None = None,
                       transfer_seeds: int = 4, transfer_duration: Quantity | str = "4 s",
                       couplings: _Grid | None = None, drives: _Grid | None = None,
                       kick: Quantity | str | None = None, stationary_duration: Quantity | str = "3 s",
                       transient: Quantity | str = "0.5 s", batches: int = 10,
                       ramp_fractions: Sequence[float] = (0.7, 0.85, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0),
                       ramp_margin: Quantity | str | None = None, ramp_duration: Quantity | str = "20 s",
                       ramp_seeds: int = 2, critical_offsets: _Grid | None = None, fold_fraction: float = 1.5,
                       fold_offsets: _Grid | None = None, critical_seeds: int = 3,
                       critical_duration: Quantity | str = "4 s",
                       widom_fractions: Sequence[float] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 1.1, 1.25),
                       widom_seeds: int = 4, widom_duration: Quantity | str = "8 s",
                       variance_bin: Quantity | str = "100 ms", bin_width: Quantity | str = "5 ms",
                       correlation_bin: Quantity | str = "10 ms", q1_tolerance: float = 0.1,
                       q1_min_rate: Quantity | str = "1 Hz", switch_fraction: float = 0.2,
                       switch_floor: Quantity | str | None = None, width_threshold: Quantity | str | None = None,
                       seed: int = 0, target: str = "cython", device: str = "runtime",
                       progress: bool | None = None) -> tuple[list[Verdict], dict[str, xr.Dataset]]:
    """Q1-Q5 for one model (module docstring). Returns ``(verdicts, datasets)``.

    Grids with units: ``couplings`` (synaptic weights), ``drives``, ``critical_offsets`` and
    ``fold_offsets`` (drives relative to ``mu_c`` and to the fold), ``ramp_margin`` (drive
    beyond the folds covered by the ramps), ``kick`` (extra drive that starts the high branch),
    ``switch_floor`` and ``width_threshold`` (smallest Q2 tolerance and smallest loop counted as
    open, in the input unit). ``ramp_fractions`` and ``widom_fractions`` are couplings as
    fractions of the derived ``w_c``. A grid is a list of quantities (or strings with units) or
    ``{start, stop, step}`` with units.

    Parameters
    ----------
    model : str, pathlib.Path or Model
        The neurone model.
    synapse : {"delta", "current"}
        Synapse model.
    size, indegree : int
        Neurones per population and recurrent inputs per neurone.
    noise : Quantity (input dimension x time**0.5) or str
        White-noise amplitude of the external drive (positive).
    delay : Quantity (time) or str
        Transmission delay.
    synaptic_tau : Quantity (time) or str, optional
        For current synapses.
    dt : Quantity (time), optional
        Time step (default the model's).
    parameters : dict, optional
        Model parameter overrides.
    transfer_drives : grid (the model's input dimension), optional
        Drives of the measured transfer function (non-LIF models).
    transfer_noises : grid (input dimension x time**0.5), optional
        Its white-noise amplitudes.
    transfer_seeds : int
        Its trials per point.
    transfer_duration : Quantity (time) or str
        Its run time.
    couplings : grid (the coupling unit)
        Q1 couplings.
    drives : grid (input dimension)
        Q1 drives.
    kick : Quantity (input dimension) or str
        Extra drive that starts the high branch (required).
    stationary_duration : Quantity (time) or str
        Q1 run time.
    transient : Quantity (time) or str
        Excluded start of every run.
    batches : int
        Batch means per run.
    ramp_fractions : sequence of float, dimensionless
        Q2/Q3 ramp couplings, in units of ``w_c``.
    ramp_margin : Quantity (input dimension) or str
        Drive beyond the folds covered by the ramps.
    ramp_duration : Quantity (time) or str
        Duration of one ramp.
    ramp_seeds : int
        Populations per ramp coupling.
    critical_offsets : grid (input dimension)
        Q4a drives relative to ``mu_c``.
    fold_fraction : float, dimensionless
        Q4b coupling, in units of ``w_c`` (> 1).
    fold_offsets : grid (input dimension)
        Q4b distances below the fold.
    critical_seeds : int
        Populations per Q4 point.
    critical_duration : Quantity (time) or str
        Q4 run time.
    widom_fractions : sequence of float, dimensionless
        Q4c/Q5 couplings along the Widom line, in units of ``w_c``.
    widom_seeds : int
        Populations per Widom point.
    widom_duration : Quantity (time) or str
        Their run time.
    variance_bin : Quantity (time) or str
        Q5 bin width.
    bin_width : Quantity (time) or str
        Bin width of the recorded population rate.
    correlation_bin : Quantity (time) or str
        Bin width of the Q4c correlation time.
    q1_tolerance : float, dimensionless
        Q1 relative tolerance.
    q1_min_rate : Quantity (frequency) or str
        Q1 does not judge predicted rates below it.
    switch_fraction : float, dimensionless
        Q2 tolerance as a fraction of the predicted loop width.
    switch_floor : Quantity (input dimension) or str, optional
        Smallest Q2 tolerance.
    width_threshold : Quantity (input dimension) or str, optional
        Smallest loop counted as open (Q3; default ``switch_floor``).
    seed : int
        Base seed of every network.
    target, device : str
        Brian2 code-generation target and device.
    progress : bool, optional
        Progress bars.

    Returns
    -------
    verdicts : list of Verdict
        Q1-Q5 rows.
    datasets : dict of str to xarray.Dataset
        ``transfer`` (non-LIF), ``stationary``, ``theory``, ``ramps``, ``loops``, ``critical``, ``widom``.
    """
    loaded = model if isinstance(model, Model) else load_model(model)
    input_unit = loaded.input_unit
    white_unit = f"{input_unit}*second**0.5"
    noise_q = parse_quantity(noise, name="noise") if isinstance(noise, str) else noise
    noise_value = float(to_magnitude(noise_q, white_unit, name="noise"))
    if noise_value <= 0:
        raise ParameterError(f"noise must be positive (the diffusion approximation needs it); got "
                             f"{noise_value:g} {white_unit}.")
    time_step = dt if dt is not None else loaded.dt
    common = dict(size=size, indegree=indegree, synapse=synapse, synaptic_tau=synaptic_tau,
                  delay=delay, noise=noise_q, dt=time_step, parameters=parameters, target=target,
                  device=device, progress=progress)
    datasets = {}
    verdicts = []

    # ---- the derived mean field (nothing from the coupled network)
    transfer_data = None
    if not is_lif(loaded):
        if transfer_drives is None or transfer_noises is None:
            raise ParameterError(f"Model {loaded.name!r} is not a LIF: give transfer_drives and "
                                 "transfer_noises (with units) to measure its uncoupled transfer "
                                 "function.")
        transfer_data = measure_transfer(
            loaded, _grid(transfer_drives, input_unit, "transfer_drives") * parse_unit(input_unit),
            _grid(transfer_noises, white_unit, "transfer_noises") * parse_unit(white_unit),
            seeds=transfer_seeds, duration=transfer_duration, transient=transient, dt=time_step,
            target=target, device=device, seed=seed + 7, parameters=parameters, progress=progress)
        datasets["transfer"] = transfer_data
    theory = population_prediction(loaded, synapse=synapse, indegree=indegree, noise=noise_q,
                                   delay=delay, synaptic_tau=synaptic_tau, dt=time_step,
                                   parameters=parameters, transfer=transfer_data)
    cusp = theory.cusp()
    w_c, mu_c, r_c = cusp.coupling, cusp.drive, cusp.rate
    w_unit = theory.coupling_unit
    w_q = parse_unit(w_unit)
    mu_q = parse_unit(input_unit)

    # ---- Q1: stationary grid, low and high starts; dense theory for the figures
    w_grid = _grid(couplings, w_unit, "couplings")
    mu_grid = _grid(drives, input_unit, "drives")
    if kick is None:
        raise ParameterError("Give kick, the extra drive (with its unit) that starts the high branch.")
    q1_verdicts, stationary_summary, theory_ds = stationary_sweep(
        loaded, theory, w_grid, mu_grid, kick, common, stationary_duration=stationary_duration,
        transient=transient, bin_width=bin_width, batches=batches, q1_tolerance=q1_tolerance,
        q1_min_rate=q1_min_rate, seed=seed)
    verdicts.extend(q1_verdicts)
    datasets["stationary"] = stationary_summary
    datasets["theory"] = theory_ds
    bin_s = _seconds(bin_width, "bin_width")
    transient_s = _seconds(transient, "transient")
    variance_bin_s = _seconds(variance_bin, "variance_bin")


    # ---- Q2/Q3: ramps
    ramp_w = np.asarray(ramp_fractions, float) * w_c
    margin = float(to_magnitude(parse_quantity(ramp_margin) if isinstance(ramp_margin, str)
                                else ramp_margin, input_unit, name="ramp_margin"))
    lows, highs, folds, widom_rates = [], [], [], []
    for w in ramp_w:
        span = theory.rate_map.bistable_range(w)
        widom_drive, widom_rate = theory.rate_map.widom_point(w)
        folds.append(span if span is not None else (np.nan, np.nan))
        centre_low, centre_high = span if span is not None else (widom_drive, widom_drive)
        lows.append(centre_low - margin)
        highs.append(centre_high + margin)
        widom_rates.append(widom_rate)
    folds = np.asarray(folds)
    ramps = simulate_populations(
        loaded, ramp_w * w_q, ramp=(np.asarray(lows) * mu_q, np.asarray(highs) * mu_q),
        seeds=ramp_seeds, duration=ramp_duration, transient=transient, bin_width=bin_width,
        ramp_hold=transient, seed=seed + 1, **common)
    level = np.asarray(widom_rates)[ramps["point"].values]
    up, down = ramp_switches(ramps, level)
    ramps["up_switch"] = quantity_variable(up, input_unit, ("population",),
                                           long_name="drive where the rising ramp jumps up")
    ramps["down_switch"] = quantity_variable(down, input_unit, ("population",),
                                             long_name="drive where the falling ramp drops")
    ramps["fold_low"] = quantity_variable(folds[ramps["point"].values, 0], input_unit, ("population",),
                                          long_name="derived lower fold")
    ramps["fold_high"] = quantity_variable(folds[ramps["point"].values, 1], input_unit, ("population",),
                                           long_name="derived upper fold")
    ramps["switch_level"] = quantity_variable(level, "Hz", ("population",),
                                              long_name="rate of the Widom point (switch level)")
    ramps.attrs["cusp_coupling"] = w_c
    ramps.attrs["cusp_drive"] = mu_c
    datasets["ramps"] = ramps
    floor = (float(to_magnitude(parse_quantity(switch_floor) if isinstance(switch_floor, str)
                                else switch_floor, input_unit, name="switch_floor"))
             if switch_floor is not None else 0.0)
    widths = up - down
    for index, w in enumerate(ramp_w):
        mask = ramps["point"].values == index
        if not np.isfinite(folds[index]).all():
            continue
        width = folds[index, 1] - folds[index, 0]
        tolerance = max(switch_fraction * width, floor)
        for name, measured_values, expected, fold_name in (
                ("up", up[mask], folds[index, 1], "upper fold (end of the low branch)"),
                ("down", down[mask], folds[index, 0], "lower fold (end of the high branch)")):
            estimate, low, high = mean_interval(measured_values)
            if not np.isfinite(estimate):
                estimate = float(np.nanmean(measured_values)) if np.isfinite(measured_values).any() else math.nan
            verdicts.append(make_verdict(
                f"Q2-{loaded.name}-w{w:.4g}-{name}",
                f"{name}-ramp switching drive at w = {w:.4g} {w_unit} ({w / w_c:.2f} w_c) vs the "
                f"{fold_name}, {input_unit}", expected, estimate, low, high, tolerance=tolerance,
                rule="tolerance",
                note=(f"DERIVED fold of the mean field. Switch = drive where the rate (smoothed over "
                      f"10 bins) crosses the derived Widom-point rate {widom_rates[index]:.3g} Hz; "
                      f"{ramp_seeds} seeds, ramp over {_seconds(ramp_duration, 'ramp_duration'):g} s. "
                      f"Tolerance max({switch_fraction:g} x loop width {width:.3g}, {floor:g}) "
                      f"{input_unit}: finite N = {size} lets fluctuations switch the population before "
                      "the fold (the loop shrinks) and the finite ramp speed delays it.")))
    # Q3: loop closing
    threshold = (float(to_magnitude(parse_quantity(width_threshold) if isinstance(width_threshold, str)
                                    else width_threshold, input_unit, name="width_threshold"))
                 if width_threshold is not None else floor)
    per_w_width = np.array([np.nanmean(widths[ramps["point"].values == index])
                            for index in range(ramp_w.size)])
    open_loops = np.isfinite(per_w_width) & (per_w_width > threshold)
    measured_wc, wc_low, wc_high = math.nan, math.nan, math.nan
    if open_loops.sum() >= 3:
        from scipy import stats

        x = per_w_width[open_loops] ** (2.0 / 3.0)
        y = ramp_w[open_loops]
        fit = stats.linregress(x, y)
        measured_wc = float(fit.intercept)
        half = float(stats.t.ppf(0.975, x.size - 2)) * float(fit.intercept_stderr)
        wc_low, wc_high = measured_wc - half, measured_wc + half
    verdicts.append(make_verdict(
        f"Q3-{loaded.name}", f"critical coupling w_c where the up/down loop closes, {w_unit}", w_c,
        measured_wc, wc_low, wc_high, tolerance=0.1, relative=True, rule="interval_or_tolerance",
        note=(f"DERIVED w_c = {w_c:.4g} {w_unit} (F' = 1 and F'' = 0 solved together). Measured: "
              f"intercept of w regressed on width^(2/3) over the {int(open_loops.sum())} ramps with a "
              f"loop wider than {threshold:g} {input_unit} (cusp normal form; 95% Student-t interval "
              "of the intercept). Tolerance 10% relative: the issue's acceptance.")))
    loops = xr.Dataset(
        {"loop_width": quantity_variable(per_w_width, input_unit, ("ramp_coupling",),
                                         long_name="measured up - down switching drive"),
         "predicted_width": quantity_variable(folds[:, 1] - folds[:, 0], input_unit, ("ramp_coupling",),
                                              long_name="derived fold-to-fold width")},
        coords={"ramp_coupling": quantity_coordinate("ramp_coupling", ramp_w, w_unit)})
    loops["measured_cusp_coupling"] = quantity_variable(measured_wc, w_unit, ())
    datasets["loops"] = loops

    # ---- Q4 (a, b): critical isotherm and fold
    offsets = _grid(critical_offsets, input_unit, "critical_offsets")
    fold_w = float(fold_fraction) * w_c
    fold_span = theory.rate_map.bistable_range(fold_w)
    if fold_span is None:
        raise ParameterError(f"fold_fraction {fold_fraction} x w_c is not bistable; use a value > 1.")
    fold_d = _grid(fold_offsets, input_unit, "fold_offsets")
    fold_mu = fold_span[1] - np.abs(fold_d)
    points_w = np.concatenate([np.full(offsets.size, w_c), np.full(fold_mu.size, fold_w)])
    points_mu = np.concatenate([mu_c + offsets, fold_mu])
    critical = simulate_populations(
        loaded, points_w * w_q, points_mu * mu_q, paired=True, seeds=critical_seeds,
        duration=critical_duration, transient=transient, bin_width=bin_width, seed=seed + 2,
        **common)
    times_c = critical["time"].values * 1e-3
    steady_c = times_c - 0.5 * bin_s >= transient_s - 1e-12
    crit_batches = batch_means(critical["rate"].values, steady_c, int(batches))
    rate_c = np.full(points_w.size, np.nan)
    err_c = np.full(points_w.size, np.nan)
    for index in range(points_w.size):
        samples = crit_batches[critical["point"].values == index].ravel()
        estimate, low, high = mean_interval(samples)
        rate_c[index] = estimate
        err_c[index] = (high - low) / (2 * 1.96)
    mf_rates = np.array([theory.rate_map.stable_branch(w, mu, 0.0).rate for w, mu in zip(points_w, points_mu)])
    n_crit = offsets.size
    x_net = _power_fit(offsets, rate_c[:n_crit], err_c[:n_crit], "odd")
    mf_error = np.full(n_crit, 1e-3)
    x_mf = _power_fit(offsets, mf_rates[:n_crit], mf_error, "odd")
    nonzero = np.abs(offsets[offsets != 0])
    window = f"|mu - mu_c| from {nonzero.min():.3g} to {nonzero.max():.3g} {input_unit}"
    note_cusp = (f"At the DERIVED w_c = {w_c:.4g} {w_unit}, mu_c = {mu_c:.4g} {input_unit}: weighted fit of "
                 f"r = r_c + A sign(d)|d|^x ({window}; r_c, A, x free, mu_c fixed), 95% Student-t "
                 f"interval from the fit covariance; {critical_seeds} seeds x {batches} batch means per "
                 "drive. Tolerance 0.05: under a third of the gap between 1/3 and 1/2, so the two "
                 "hypotheses stay distinguishable.")
    for expected, label in ((1.0 / 3.0, "cusp exponent 1/delta = 1/3"),
                            (0.5, "saddle-node exponent 1/2 (the non-discriminating alternative)")):
        verdicts.append(make_verdict(
            f"Q4-{loaded.name}-cusp-vs-{'1/3' if expected < 0.4 else '1/2'}",
            f"rate exponent at w_c against {label}", expected, x_net[0], x_net[1], x_net[2],
            tolerance=0.05, rule="tolerance",
            note=note_cusp + (" Expected DERIVED asymptotically (mean-field delta = 3)." if expected < 0.4
                              else " Holds = consistent with a plain saddle-node (would not discriminate).")))
    verdicts.append(make_verdict(
        f"Q4-{loaded.name}-cusp-window", "rate exponent at w_c against the mean field's own exponent "
        "over the same window", x_mf[0], x_net[0], x_net[1], x_net[2], tolerance=0.05,
        rule="tolerance",
        note=note_cusp + " Expected: the same fit applied to the DERIVED mean-field rates at the same drives "
                         "(finite window: the asymptotic 1/3 is reached only as d -> 0)."))
    fold_rates_net = rate_c[n_crit:]
    escaped = np.zeros(fold_mu.size, dtype=bool)
    fold_w_rate = theory.rate_map.widom_point(fold_w)[1]
    for index in range(fold_mu.size):
        mask = critical["point"].values == n_crit + index
        series = critical["rate"].values[mask][:, steady_c]
        smooth = np.array([np.convolve(s, np.ones(20) / 20, mode="valid") for s in series])
        escaped[index] = bool((smooth > fold_w_rate).any())
    keep = ~escaped
    fold_rate_derived = max(rate for drive, rate in theory.rate_map.folds(fold_w)
                            if abs(drive - fold_span[1]) < 1e-9 * max(1.0, abs(drive)))
    x_fold = _fold_fit(fold_d[keep], fold_rates_net[keep], err_c[n_crit:][keep], fold_rate_derived)
    x_fold_mf = _fold_fit(fold_d, mf_rates[n_crit:], np.full(fold_mu.size, 1e-6), fold_rate_derived)
    note_fold = (f"w = {fold_w:.4g} {w_unit} ({fold_fraction:g} w_c), low branch below the DERIVED upper "
                 f"fold mu_f = {fold_span[1]:.4g} {input_unit}, r_f = {fold_rate_derived:.4g} Hz: slope of "
                 f"log(r_f - r) on log(mu_f - mu) over mu_f - mu from {np.min(np.abs(fold_d)):.3g} to "
                 f"{np.max(np.abs(fold_d)):.3g} {input_unit}, weighted, 95% Student-t interval; "
                 f"{x_fold[3]} of {fold_mu.size} drives used (populations that escaped to the high branch, "
                 f"rate above {fold_w_rate:.3g} Hz, and rates above r_f excluded). Tolerance 0.05 as for "
                 "the cusp.")
    verdicts.append(make_verdict(
        f"Q4-{loaded.name}-fold", "rate exponent approaching the fold above w_c (saddle-node 1/2)",
        0.5, x_fold[0], x_fold[1], x_fold[2], tolerance=0.05, rule="tolerance",
        note=note_fold + " Expected DERIVED asymptotically (saddle-node normal form)."))
    verdicts.append(make_verdict(
        f"Q4-{loaded.name}-fold-window", "fold exponent against the mean field's own over the same window",
        x_fold_mf[0], x_fold[0], x_fold[1], x_fold[2], tolerance=0.05, rule="tolerance",
        note=note_fold + " Expected: the same fit to the DERIVED mean-field rates at the same drives."))
    dense_offsets = np.linspace(offsets.min(), offsets.max(), 81)
    dense_cusp = np.array([theory.rate_map.stable_branch(w_c, mu_c + d, 0.0).rate for d in dense_offsets])
    dense_fold_d = np.geomspace(max(np.min(np.abs(fold_d)) / 4, 1e-9), np.max(np.abs(fold_d)), 60)
    dense_fold = np.array([theory.rate_map.stable_branch(fold_w, fold_span[1] - d, 0.0).rate
                           for d in dense_fold_d])
    critical["dense_cusp_rate"] = quantity_variable(dense_cusp, "Hz", ("dense_offset",),
                                                    long_name="derived rate at w_c")
    critical["dense_fold_rate"] = quantity_variable(dense_fold, "Hz", ("dense_fold_distance",),
                                                    long_name="derived low-branch rate below the fold")
    critical = critical.assign_coords(
        dense_offset=quantity_coordinate("dense_offset", dense_offsets, input_unit),
        dense_fold_distance=quantity_coordinate("dense_fold_distance", dense_fold_d, input_unit))
    critical["point_rate"] = quantity_variable(rate_c, "Hz", ("grid_point",), long_name="network rate")
    critical["point_rate_error"] = quantity_variable(err_c, "Hz", ("grid_point",), long_name="standard error")
    critical["point_predicted"] = quantity_variable(mf_rates, "Hz", ("grid_point",),
                                                    long_name="derived low-branch rate")
    critical["point_coupling"] = quantity_variable(points_w, w_unit, ("grid_point",))
    critical["point_drive"] = quantity_variable(points_mu, input_unit, ("grid_point",))
    critical["point_offset"] = quantity_variable(np.concatenate([offsets, -np.abs(fold_d)]), input_unit,
                                                 ("grid_point",), long_name="drive - mu_c, or - (mu_f - drive)")
    critical["point_kind"] = ("grid_point", np.array(["cusp"] * n_crit + ["fold"] * fold_mu.size))
    critical["point_escaped"] = quantity_variable(np.r_[np.zeros(n_crit), escaped.astype(float)], "1",
                                                  ("grid_point",))
    for name, fit in (("cusp", x_net), ("cusp_mean_field", x_mf), ("fold", x_fold),
                      ("fold_mean_field", x_fold_mf)):
        critical.attrs[f"{name}_exponent"] = fit[0]
        critical.attrs[f"{name}_exponent_interval"] = f"{fit[1]:.4g} {fit[2]:.4g}"
    for name, fit in (("cusp", x_net), ("cusp_mean_field", x_mf)):
        critical.attrs[f"{name}_offset_rate"] = fit[3]
        critical.attrs[f"{name}_amplitude"] = fit[4]
    critical.attrs["fold_rate"] = fold_rate_derived
    critical.attrs.update({"cusp_coupling": w_c, "cusp_drive": mu_c, "cusp_rate": r_c,
                           "fold_coupling": fold_w, "fold_drive": fold_span[1]})
    datasets["critical"] = critical

    # ---- Q4c and Q5: the Widom line
    fractions = np.asarray(widom_fractions, float)
    widom_w = fractions * w_c
    widom_points = np.array([theory.rate_map.widom_point(w) for w in widom_w])
    widom = simulate_populations(
        loaded, widom_w * w_q, widom_points[:, 0] * mu_q, paired=True, seeds=widom_seeds,
        duration=widom_duration, transient=transient, bin_width=bin_width, seed=seed + 3, **common)
    times_w = widom["time"].values * 1e-3
    steady_w = times_w - 0.5 * bin_s >= transient_s - 1e-12
    factor = int(round(variance_bin_s / bin_s))
    variance = binned_variance(widom["rate"].values, steady_w, factor) * size
    correlation_factor = max(int(round(_seconds(correlation_bin, "correlation_bin") / bin_s)), 1)
    taus = np.array([correlation_time(_coarse(series[steady_w], correlation_factor), bin_s * correlation_factor)
                     for series in widom["rate"].values])
    var_est = np.full((fractions.size, 3), np.nan)
    tau_est = np.full((fractions.size, 3), np.nan)
    var_pred = np.full(fractions.size, np.nan)
    tau_pred = np.full(fractions.size, np.nan)
    for index, w in enumerate(widom_w):
        mask = widom["point"].values == index
        var_est[index] = mean_interval(variance[mask])
        tau_est[index] = mean_interval(np.log(taus[mask]))
        drive = widom_points[index, 0]
        low_branch = theory.rate_map.stable_branch(w, drive, 0.0)
        if fractions[index] < 1.0 - 1e-9 and low_branch is not None:
            tau_pred[index] = theory.relaxation_time(w, drive, low_branch.rate)
            var_pred[index] = theory.population_variance(w, drive, low_branch.rate, variance_bin_s)
        elif low_branch is not None and fractions[index] > 1.0 + 1e-9:
            var_pred[index] = theory.population_variance(w, drive, low_branch.rate, variance_bin_s)
    for index, fraction in enumerate(fractions):
        if not (fraction < 0.95 - 1e-9 and np.isfinite(var_pred[index])):
            continue
        verdicts.append(make_verdict(
            f"Q5-{loaded.name}-w{fraction:.2f}wc",
            f"N_pop Var(r) in {variance_bin_s * 1e3:g} ms bins at w = {fraction:.2f} w_c on the Widom line, Hz^2",
            var_pred[index], var_est[index, 0], var_est[index, 1], var_est[index, 2], tolerance=0.3,
            relative=True, rule="tolerance",
            note=(f"DERIVED linear-noise prediction r CV^2/Delta x Delta int sinc^2/|1-G|^2, "
                  f"G = F' exp(-i omega D) (fast-response limit, delay {theory.delay * 1e3:g} ms; "
                  "-> r CV^2 / (Delta (1 - F')^2) for long bins; CV^2 of the uncoupled neurone at the "
                  "fixed point's input). "
                  f"Measured: variance over bins after the transient x N, Student-t over {widom_seeds} seeds. "
                  "Rule: |measured - expected| <= 30% of expected (the interval from few seeds is "
                  "reported, not used): about three standard errors of a variance from that many "
                  "correlated bins; only couplings below 0.95 w_c are judged (linear noise fails at the "
                  "critical point).")))
    peak_index = int(np.nanargmax(var_est[:, 0]))
    neighbours = widom_w[[max(peak_index - 1, 0), min(peak_index + 1, fractions.size - 1)]]
    verdicts.append(make_verdict(
        f"Q5-{loaded.name}-peak", f"coupling at which N_pop Var(r) peaks along the Widom line, {w_unit}",
        w_c, widom_w[peak_index], neighbours[0], neighbours[1], tolerance=0.1, relative=True,
        rule="tolerance",
        note=(f"DERIVED w_c; measured: the grid coupling with the largest N Var(r) (interval: its grid "
              f"neighbours; grid {', '.join(f'{f:g}' for f in fractions)} x w_c). Tolerance 10% "
              "relative: finite N shifts and rounds the peak (pseudo-critical point).")))
    below = fractions < 1.0 - 1e-9
    slope = (math.nan,) * 3
    slope_mf = math.nan
    usable = below & np.isfinite(tau_est[:, 0])
    if usable.sum() >= 3:
        se = (tau_est[usable, 2] - tau_est[usable, 1]) / (2 * 2.0)
        distance = np.log(w_c - widom_w[usable])
        slope = regression_slope_interval(distance, tau_est[usable, 0], standard_errors=np.maximum(se, 1e-3))
        slope_mf = regression_slope_interval(distance, np.log(tau_pred[usable]))[0]
    note_tau = (f"Correlation time of the population rate ({bin_s * correlation_factor * 1e3:g} ms bins, "
                "lags >= 1 bin, "
                f"exponential fit down to e^-2) along the Widom line below w_c "
                f"({', '.join(f'{f:g}' for f in fractions[below])} x w_c), {widom_seeds} seeds; slope of "
                "log tau on log(w_c - w) with its 95% Student-t interval (weighted by the seed spread). "
                "Tolerance 0.15: the window is not asymptotic and finite N rounds the divergence.")
    verdicts.append(make_verdict(
        f"Q4-{loaded.name}-slowing", "critical slowing-down exponent: d log tau / d log(w_c - w)", -1.0,
        slope[0], slope[1], slope[2], tolerance=0.15, rule="tolerance",
        note=note_tau + " Expected DERIVED asymptotically: tau = tau_rate / (1 - F'), 1 - F' ~ w_c - w."))
    verdicts.append(make_verdict(
        f"Q4-{loaded.name}-slowing-window", "slowing-down exponent against the mean field's own over "
        "the same couplings", slope_mf, slope[0], slope[1], slope[2], tolerance=0.15,
        rule="tolerance", note=note_tau + " Expected: the same regression on the DERIVED tau."))
    widom_summary = xr.Dataset(
        {"variance": quantity_variable(var_est[:, 0], "Hz**2", ("widom_coupling",),
                                       long_name=f"N_pop Var(r), {variance_bin_s * 1e3:g} ms bins"),
         "variance_low": quantity_variable(var_est[:, 1], "Hz**2", ("widom_coupling",)),
         "variance_high": quantity_variable(var_est[:, 2], "Hz**2", ("widom_coupling",)),
         "variance_predicted": quantity_variable(var_pred, "Hz**2", ("widom_coupling",),
                                                 long_name="linear-noise prediction (low branch)"),
         "correlation_time": quantity_variable(np.exp(tau_est[:, 0]), "s", ("widom_coupling",),
                                               long_name="correlation time (geometric mean over seeds)"),
         "correlation_time_low": quantity_variable(np.exp(tau_est[:, 1]), "s", ("widom_coupling",)),
         "correlation_time_high": quantity_variable(np.exp(tau_est[:, 2]), "s", ("widom_coupling",)),
         "relaxation_time_predicted": quantity_variable(tau_pred, "s", ("widom_coupling",),
                                                        long_name="tau / (1 - F')"),
         "widom_drive": quantity_variable(widom_points[:, 0], input_unit, ("widom_coupling",)),
         "widom_rate": quantity_variable(widom_points[:, 1], "Hz", ("widom_coupling",)),
         "trial_variance": quantity_variable(variance.reshape(fractions.size, -1), "Hz**2",
                                             ("widom_coupling", "trial")),
         "trial_correlation_time": quantity_variable(taus.reshape(fractions.size, -1), "s",
                                                     ("widom_coupling", "trial"))},
        coords={"widom_coupling": quantity_coordinate("widom_coupling", widom_w, w_unit),
                "trial": ("trial", np.arange(widom_seeds))})
    dense_fractions = np.linspace(min(0.5, fractions.min()), 0.98, 25)
    dense_var = np.full(dense_fractions.size, np.nan)
    dense_tau = np.full(dense_fractions.size, np.nan)
    for index, fraction in enumerate(dense_fractions):
        w = fraction * w_c
        drive, _ = theory.rate_map.widom_point(w)
        branch = theory.rate_map.stable_branch(w, drive, 0.0)
        dense_tau[index] = theory.relaxation_time(w, drive, branch.rate)
        dense_var[index] = theory.population_variance(w, drive, branch.rate, variance_bin_s)
    widom_summary["dense_variance_predicted"] = quantity_variable(
        dense_var, "Hz**2", ("dense_fraction",), long_name="linear-noise N Var(r) on the Widom line")
    widom_summary["dense_relaxation_predicted"] = quantity_variable(
        dense_tau, "s", ("dense_fraction",), long_name="tau / (1 - F') on the Widom line")
    widom_summary = widom_summary.assign_coords(
        dense_fraction=quantity_coordinate("dense_fraction", dense_fractions, "1",
                                           long_name="w / w_c"))
    widom_summary.attrs.update(widom.attrs)
    widom_summary.attrs.update({"cusp_coupling": w_c, "slowing_exponent": slope[0],
                                "slowing_exponent_mean_field": slope_mf})
    datasets["widom"] = widom_summary
    return verdicts, datasets
