"""Features of an f-I curve: rheobase, onset type, onset exponent, hysteresis range.

Every function takes a schema :class:`xarray.Dataset` with an ``input`` coordinate (with
``attrs["units"]``) and a ``rate`` variable (Hz), from a simulation
(:func:`neurophase.micro.neurone.firing_curve`) or a recording. Extra dimensions are
reduced first: ``trial`` by the mean; ``direction`` by selecting ``"up"`` (except in
:func:`hysteresis_range`, which needs both); any other dimension must be selected by the
caller (e.g. ``dataset.sel(param_sigma=0)``).

Functions
---------
rheobase
    Smallest input level that fires, with its bracket (the last silent level below it).
onset_type
    Continuous (class 1) or discontinuous (class 2) onset, with the jump in rate.
onset_exponent
    Fit of ``f = A (I - I_c)^x`` near onset with a bootstrap confidence interval.
hysteresis_range
    Bistable range from up and down staircases or ramps.
fit_onset_power_law
    Joint least-squares fit of ``log f = log A + x log(I - I_c)`` on plain arrays, with the
    Student-t interval of the exponent.

Rules
-----
Firing
    A level fires when its (trial-mean) rate exceeds ``rate_threshold`` (default 0 Hz).
Rheobase
    The first firing level ``I_on`` scanning upwards; the bracket is ``(I_low, I_on]`` with
    ``I_low`` the level just below (the true threshold lies in between).
Onset type
    A continuous onset ``f = A (I - I_c)^x`` with ``x >= 1/2`` (the saddle-node normal form
    gives exactly 1/2: Ermentrout 1996, Neural Comput. 8:979, Eq. 2.3; Izhikevich 2007,
    Dynamical Systems in Neuroscience, section 7.1.1) and ``I_c`` in ``(I_low, I_on]``
    satisfies ``f(I_on) <= f(I_next) sqrt((I_on - I_low) / (I_next - I_low))`` for the next
    level ``I_next``. The onset is called discontinuous when ``f(I_on)`` exceeds that bound
    by more than the relative ``tolerance`` (default 0.1); the jump is ``f(I_on)``, the
    smallest rate on the firing branch.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from neurophase.docstrings import template
from neurophase.errors import NeurophaseError
from neurophase.units import to_quantity

if TYPE_CHECKING:
    import xarray as xr
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

__all__ = ["Rheobase", "OnsetType", "OnsetExponent", "HysteresisRange", "rheobase",
           "onset_type", "onset_exponent", "hysteresis_range", "power_law_rate", "fit_onset_power_law"]

_doc = template(
    parameters_curve="""Parameters
----------
dataset : xarray.Dataset
    A schema Dataset: ``input`` coordinate with ``attrs["units"]`` and a ``rate`` variable
    (``attrs["units"]`` a frequency, default Hz); ``trial`` is averaged, other extra
    dimensions must be selected first.""",
    rate_threshold_direction="""rate_threshold : float, optional, Hz
    A level fires when its trial-mean rate exceeds this; default 0.
direction : str, optional
    The branch selected when the rate has a ``direction`` dimension; default "up".""",
)


@dataclasses.dataclass(frozen=True)
class Rheobase:
    """Rheobase: ``value`` (the first firing level) and its bracket ``(low, high]``.

    ``low`` is NaN (in ``unit``) when the lowest level already fires; ``value`` is NaN when
    no level fires. All three are Brian2 quantities.

    Attributes
    ----------
    value : Quantity (input dimension)
        The first firing level ``I_on`` (NaN if no level fires).
    low : Quantity (input dimension)
        The level just below it (NaN if the lowest level fires; the highest level if none fires).
    high : Quantity (input dimension)
        ``I_on`` again: the closed end of the bracket (NaN if no level fires).
    unit : str
        The unit string of the dataset's ``input`` coordinate.
    """

    value: Quantity
    low: Quantity
    high: Quantity
    unit: str


@dataclasses.dataclass(frozen=True)
class OnsetType:
    """``kind`` is ``"continuous"``, ``"discontinuous"`` or ``"undetermined"``.

    ``jump`` (Hz) is the rate at the first firing level; ``bound`` (Hz) is the largest rate a
    continuous onset could have there (see the module rules).

    Attributes
    ----------
    kind : str
        ``"continuous"``, ``"discontinuous"`` or ``"undetermined"`` (no firing level, the lowest
        level fires, or no level above the first firing one).
    jump : Quantity (frequency)
        ``f(I_on)``, in Hz (NaN when undetermined).
    bound : Quantity (frequency)
        ``f(I_next) sqrt((I_on - I_low) / (I_next - I_low))``, in Hz (NaN when undetermined).
    rheobase : Rheobase
        The rheobase and its bracket.
    rule : str
        The rule applied, in words, with the tolerance.
    """

    kind: str
    jump: Quantity
    bound: Quantity
    rheobase: Rheobase
    rule: str


@dataclasses.dataclass(frozen=True)
class OnsetExponent:
    """Fit of ``f = A (I - I_c)^x``: values, bootstrap percentile intervals, points used.

    ``amplitude`` is A in Hz for ``I - I_c`` expressed in ``unit`` (a fractional power of a
    unit has no Brian2 form).

    Attributes
    ----------
    exponent : float, dimensionless
        ``x``.
    exponent_interval : tuple of float
        Bootstrap percentile interval of ``x`` (NaN when no replicate could be fitted).
    critical_input : Quantity (input dimension)
        ``I_c``.
    critical_input_interval : tuple of Quantity
        Bootstrap percentile interval of ``I_c``.
    amplitude : Quantity (frequency)
        ``A`` in Hz, for ``I - I_c`` in ``unit``.
    n_points : int
        Levels in the fit (the firing ones in range and the silent one below).
    n_bootstrap : int
        Bootstrap replicates that could be fitted.
    unit : str
        The unit string of the dataset's ``input`` coordinate.
    """

    exponent: float
    exponent_interval: tuple
    critical_input: Quantity
    critical_input_interval: tuple
    amplitude: Quantity
    n_points: int
    n_bootstrap: int
    unit: str


@dataclasses.dataclass(frozen=True)
class HysteresisRange:
    """Bistable range ``[lower, upper)``: down-branch offset and up-branch onset.

    ``lower`` is the lowest level at which the down branch still fires (bracket
    ``lower_bracket``); ``upper`` the first level at which the up branch fires (bracket
    ``upper_bracket``); ``width = upper - lower`` (zero or negative: no hysteresis).

    Attributes
    ----------
    lower : Quantity (input dimension)
        Lowest level of the firing run at the top of the down branch (NaN if it never fires).
    lower_bracket : tuple of Quantity
        ``(level below lower, lower)``.
    upper : Quantity (input dimension)
        Rheobase of the up branch.
    upper_bracket : tuple of Quantity
        Its bracket ``(low, high)``.
    width : Quantity (input dimension)
        ``upper - lower``.
    unit : str
        The unit string of the dataset's ``input`` coordinate.
    """

    lower: Quantity
    lower_bracket: tuple
    upper: Quantity
    upper_bracket: tuple
    width: Quantity
    unit: str


def _curve(dataset, direction="up"):
    """(levels, mean rate over trials, input unit) of a schema Dataset."""
    if "input" not in dataset.coords or "rate" not in dataset:
        raise NeurophaseError(
            "The dataset needs an 'input' coordinate and a 'rate' variable (the neurophase "
            "schema); compute them with neurophase.micro.neurone.firing_curve or "
            "neurophase.mapping.firing.spike_statistics."
        )
    unit = dataset["input"].attrs.get("units")
    if unit is None:
        raise NeurophaseError("dataset['input'] has no attrs['units']; set it (e.g. 'pA').")
    rate = dataset["rate"]
    if rate.attrs.get("units", "Hz") != "Hz":
        rate = rate * float(to_quantity(1.0, rate.attrs["units"]) / to_quantity(1.0, "Hz"))
    if "direction" in rate.dims:
        rate = rate.sel(direction=direction)
    if "trial" in rate.dims:
        rate = rate.mean("trial", skipna=True)
    extra = [dim for dim in rate.dims if dim != "input"]
    if extra:
        raise NeurophaseError(
            f"rate has the extra dimension(s) {', '.join(extra)}; select one value first, e.g. "
            f"dataset.sel({extra[0]}=...)."
        )
    levels = np.asarray(dataset["input"].values, dtype=float)
    values = np.asarray(rate.transpose("input").values, dtype=float)
    order = np.argsort(levels)
    return levels[order], values[order], unit


def _rheobase_of(levels, rates, unit, rate_threshold):
    firing = rates > rate_threshold
    nan = float("nan")
    if not firing.any():
        return Rheobase(to_quantity(nan, unit), to_quantity(levels[-1], unit),
                        to_quantity(nan, unit), unit), None
    index = int(np.argmax(firing))
    low = levels[index - 1] if index > 0 else nan
    return Rheobase(to_quantity(levels[index], unit), to_quantity(low, unit),
                    to_quantity(levels[index], unit), unit), index


def _hertz(value):
    return to_quantity(value, "Hz")


@_doc
def rheobase(dataset: xr.Dataset, rate_threshold: float = 0.0, direction: str = "up") -> Rheobase:
    """The first input level whose rate exceeds ``rate_threshold`` (Hz), with its bracket.

    %(parameters_curve)s
    %(rate_threshold_direction)s

    Returns
    -------
    Rheobase
        ``value``, ``low``, ``high`` as quantities in the input's unit.

    Examples
    --------
    >>> import xarray as xr
    >>> dataset = xr.Dataset({"rate": ("input", [0.0, 0.0, 40.0, 50.0], {"units": "Hz"})},
    ...                      coords={"input": ("input", [1.0, 2.0, 3.0, 4.0], {"units": "pA"})})
    >>> result = rheobase(dataset)
    >>> print(result.value, result.low, result.high)
    3. pA 2. pA 3. pA
    """
    levels, rates, unit = _curve(dataset, direction)
    return _rheobase_of(levels, rates, unit, rate_threshold)[0]


@_doc
def onset_type(dataset: xr.Dataset, tolerance: float = 0.1, rate_threshold: float = 0.0,
               direction: str = "up") -> OnsetType:
    """Continuous or discontinuous onset, with the jump (rule in the module docstring).

    The bound follows from ``f = A (I - I_c)^x`` with ``x >= 1/2`` and ``I_c`` in the rheobase
    bracket (Ermentrout 1996, Neural Comput. 8:979, Eq. 2.3; Izhikevich 2007, section 7.1.1).

    %(parameters_curve)s
    tolerance : float, optional
        Relative excess over the continuous bound that makes an onset discontinuous; default 0.1.
    %(rate_threshold_direction)s

    Returns
    -------
    OnsetType
        The kind, the jump and the bound (Hz), the rheobase and the rule.

    Examples
    --------
    >>> import xarray as xr
    >>> levels = np.arange(0.0, 2.01, 0.1)
    >>> def curve(rates):
    ...     return xr.Dataset({"rate": ("input", rates, {"units": "Hz"})},
    ...                       coords={"input": ("input", levels, {"units": "pA"})})
    >>> onset_type(curve(50 * np.sqrt(np.clip(levels - 0.95, 0, None)))).kind
    'continuous'
    >>> onset_type(curve(np.where(levels > 0.95, 40 + 10 * levels, 0.0))).kind
    'discontinuous'
    """
    levels, rates, unit = _curve(dataset, direction)
    found, index = _rheobase_of(levels, rates, unit, rate_threshold)
    rule = (f"discontinuous if f(I_on) > (1 + {tolerance:g}) f(I_next) sqrt((I_on - I_low) / "
            "(I_next - I_low)) (continuous onsets with exponent >= 1/2 cannot exceed it)")
    nan = float("nan")
    if index is None or index == 0 or index + 1 >= levels.size:
        return OnsetType("undetermined", _hertz(nan), _hertz(nan), found, rule)
    low, on, following = levels[index - 1], levels[index], levels[index + 1]
    bound = rates[index + 1] * np.sqrt((on - low) / (following - low))
    kind = "discontinuous" if rates[index] > (1 + tolerance) * bound else "continuous"
    return OnsetType(kind, _hertz(rates[index]), _hertz(bound), found, rule)


def power_law_rate(levels: ArrayLike, amplitude: float, critical_input: float, exponent: float) -> np.ndarray:
    """``A max(0, I - I_c)^x``, the onset law fitted by :func:`onset_exponent`.

    Parameters
    ----------
    levels : float or array_like, input unit
        Inputs ``I`` (plain numbers in one unit).
    amplitude : float, Hz per (input unit)**x
        ``A``.
    critical_input : float, input unit
        ``I_c``.
    exponent : float, dimensionless
        ``x``.

    Returns
    -------
    numpy.ndarray, Hz
        The rate, the shape of ``levels``.
    """
    return amplitude * np.clip(np.asarray(levels, float) - critical_input, 0.0, None) ** exponent


def _fit_power_law(levels, rates, low, on):
    from scipy.optimize import least_squares

    span = max(levels.max() - low, 1e-12)
    scale = max(rates.max(), 1e-12)

    def residuals(parameters):
        amplitude, critical_fraction, exponent = parameters
        critical = low + critical_fraction * (on - low)
        return (power_law_rate(levels, amplitude * scale, critical, exponent) - rates) / scale

    best = None
    for exponent_start in (0.5, 1.0):
        for fraction_start in (0.2, 0.8):
            start = [((rates.max() / scale) / (span ** exponent_start)), fraction_start, exponent_start]
            fit = least_squares(residuals, start, bounds=([0, 0, 0.05], [np.inf, 1.0, 4.0]))
            if best is None or fit.cost < best.cost:
                best = fit
    amplitude, critical_fraction, exponent = best.x
    return amplitude * scale, low + critical_fraction * (on - low), exponent


@_doc
def onset_exponent(dataset: xr.Dataset, fit_width: float | None = None, n_bootstrap: int = 200,
                   random_state: int | np.random.Generator | None = 0, rate_threshold: float = 0.0,
                   direction: str = "up", confidence: float = 0.95) -> OnsetExponent:
    """Fit ``f = A (I - I_c)^x`` near onset; bootstrap percentile intervals for x and I_c.

    The fit uses the firing levels from the rheobase up to ``I_on + fit_width`` (default: all
    firing levels) and the silent level just below; ``I_c`` is constrained to the rheobase
    bracket ``(I_low, I_on]``. The interval resamples the fitted points with replacement
    (case bootstrap; Efron & Tibshirani 1993, An Introduction to the Bootstrap, ch. 9 and 13).
    For a saddle-node onset the exponent is 1/2 (Ermentrout 1996, Neural Comput. 8:979).

    %(parameters_curve)s
    fit_width : float or None, optional, input unit
        Width above the rheobase ``I_on`` of the levels fitted (plain number in the unit of
        ``input``); default all firing levels.
    n_bootstrap : int, optional
        Case-bootstrap replicates; default 200.
    random_state : int, numpy.random.Generator or None, optional
        Seeds the bootstrap; default 0.
    %(rate_threshold_direction)s
    confidence : float, optional
        Level of the percentile intervals; default 0.95.

    Returns
    -------
    OnsetExponent
        ``x``, ``I_c`` (a quantity) and ``A`` (Hz) with their intervals and counts.

    Raises
    ------
    NeurophaseError
        Without a silent level below the first firing one, or with fewer than three firing
        levels in the fit range.

    Examples
    --------
    >>> import xarray as xr
    >>> levels = np.linspace(0.0, 1.0, 21)
    >>> rates = 30 * np.clip(levels - 0.23, 0, None) ** 0.5
    >>> dataset = xr.Dataset({"rate": ("input", rates, {"units": "Hz"})},
    ...                      coords={"input": ("input", levels, {"units": "uA/cm**2"})})
    >>> fit = onset_exponent(dataset, n_bootstrap=20)
    >>> round(fit.exponent, 3), round(float(fit.critical_input / fit.critical_input.get_best_unit()), 3)
    (0.5, 0.23)
    """
    levels, rates, unit = _curve(dataset, direction)
    found, index = _rheobase_of(levels, rates, unit, rate_threshold)
    if index is None or index == 0:
        raise NeurophaseError(
            "onset_exponent needs a silent level below the first firing one; extend the input "
            "grid downwards (and make sure some level fires)."
        )
    low, on = levels[index - 1], levels[index]
    upper = levels.max() if fit_width is None else on + float(fit_width)
    selected = (levels >= low) & (levels <= upper) & np.isfinite(rates)
    selected[index - 1] = True
    x, y = levels[selected], rates[selected]
    if (y > rate_threshold).sum() < 3:
        raise NeurophaseError(
            "onset_exponent needs at least three firing levels in the fit range; refine the grid "
            "above the rheobase or widen fit_width."
        )
    amplitude, critical, exponent = _fit_power_law(x, y, low, on)
    generator = np.random.default_rng(random_state)
    exponents, criticals = [], []
    for _ in range(int(n_bootstrap)):
        sample = generator.integers(0, x.size, x.size)
        if (y[sample] > rate_threshold).sum() < 3 or np.unique(x[sample]).size < 4:
            continue
        _, sample_critical, sample_exponent = _fit_power_law(x[sample], y[sample], low, on)
        exponents.append(sample_exponent)
        criticals.append(sample_critical)
    alpha = (1 - confidence) / 2
    if exponents:
        exponent_interval = tuple(float(v) for v in np.quantile(exponents, [alpha, 1 - alpha]))
        critical_interval = tuple(to_quantity(v, unit) for v in np.quantile(criticals, [alpha, 1 - alpha]))
    else:
        exponent_interval = (float("nan"), float("nan"))
        critical_interval = (to_quantity(float("nan"), unit),) * 2
    return OnsetExponent(float(exponent), exponent_interval, to_quantity(critical, unit),
                         critical_interval, _hertz(amplitude), int(x.size), len(exponents), unit)


def hysteresis_range(dataset: xr.Dataset, rate_threshold: float = 0.0) -> HysteresisRange:
    """Bistable range from a Dataset with ``direction = ["up", "down"]`` (staircase or ramp).

    ``upper`` is the rheobase of the up branch; ``lower`` the lowest level of the contiguous
    firing run that reaches the top of the down branch.

    Parameters
    ----------
    dataset : xarray.Dataset
        A schema Dataset: ``input`` coordinate with ``attrs["units"]`` and a ``rate`` variable
        (``attrs["units"]`` a frequency, default Hz) with a ``direction`` dimension holding
        "up" and "down"; ``trial`` is averaged, other extra dimensions must be selected first.
    rate_threshold : float, optional, Hz
        A level fires when its trial-mean rate exceeds this; default 0.

    Returns
    -------
    HysteresisRange
        ``lower``, ``upper`` and ``width`` as quantities in the input's unit, with brackets.

    Examples
    --------
    >>> import xarray as xr
    >>> rate = np.array([[0, 0, 0, 0, 60, 65], [0, 0, 52, 55, 60, 65]], dtype=float)
    >>> dataset = xr.Dataset({"rate": (("direction", "input"), rate, {"units": "Hz"})},
    ...                      coords={"input": ("input", [5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
    ...                                        {"units": "uA/cm**2"}),
    ...                              "direction": ["up", "down"]})
    >>> result = hysteresis_range(dataset)
    >>> float(result.lower / result.lower.get_best_unit()), float(result.upper / result.upper.get_best_unit())
    (7.0, 9.0)
    """
    if "direction" not in dataset.dims:
        raise NeurophaseError(
            "hysteresis_range needs up and down branches: run firing_curve(..., "
            "protocol='staircase') or protocol='ramp'."
        )
    up_levels, up_rates, unit = _curve(dataset, "up")
    down_levels, down_rates, _ = _curve(dataset, "down")
    onset, _ = _rheobase_of(up_levels, up_rates, unit, rate_threshold)
    firing_down = down_rates > rate_threshold
    nan = float("nan")
    if firing_down.any():
        # the lowest level of the contiguous firing run that reaches the top of the down branch
        silent_positions = np.flatnonzero(~firing_down)
        top_firing = np.flatnonzero(firing_down).max()
        below = silent_positions[silent_positions < top_firing]
        first = int(below.max() + 1) if below.size else int(np.flatnonzero(firing_down).min())
        lower = down_levels[first]
        lower_low = down_levels[first - 1] if first > 0 else nan
    else:
        lower = lower_low = nan
    upper = float(onset.value / to_quantity(1.0, unit))
    return HysteresisRange(
        to_quantity(lower, unit), (to_quantity(lower_low, unit), to_quantity(lower, unit)),
        onset.value, (onset.low, onset.high), to_quantity(upper - lower, unit), unit,
    )


def fit_onset_power_law(current: ArrayLike, rate: ArrayLike, ic_lower: float, ic_upper: float,
                        confidence: float = 0.95) -> dict[str, Any]:
    """Joint least-squares fit of ``log f = log A + x log(I - I_c)`` (A, x, I_c free).

    ``I_c`` is bounded to ``[ic_lower, ic_upper]`` (``ic_upper`` just below the lowest current
    of the window). Returns a dict with the exponent, I_c, A, their standard errors from the
    fit covariance ``s^2 (J^T J)^-1`` (``s^2`` = residual variance, n - 3 degrees of freedom)
    and the Student-t interval of the exponent. The rates are deterministic (spike-time
    quantisation by dt changes them by < 1e-4 relative), so the interval measures misfit of the
    pure power law inside the window, not sampling noise.

    Parameters
    ----------
    current : array_like, input unit
        Inputs of the fit window (plain numbers in one unit), all above ``ic_upper``.
    rate : array_like, Hz
        Positive rates at ``current``.
    ic_lower, ic_upper : float, input unit
        Bounds of ``I_c``.
    confidence : float, optional
        Level of the exponent's Student-t interval; default 0.95.

    Returns
    -------
    dict
        ``exponent``, ``exponent_se``, ``ci`` (tuple), ``critical_input`` and
        ``critical_input_se`` (input unit), ``amplitude`` (Hz per input unit**x), ``n``,
        ``rms_log_residual`` and ``at_bound`` (``I_c`` within 1e-6 of the bracket width of a
        bound).
    """
    from scipy.optimize import least_squares
    from scipy.stats import t as student

    current, log_rate = np.asarray(current, float), np.log(np.asarray(rate, float))
    span = max(ic_upper - ic_lower, 1e-12)

    def residuals(p):
        return p[0] + p[1] * np.log(np.maximum(current - p[2], 1e-300)) - log_rate

    best = None
    for fraction in (0.0, 0.3, 0.7, 0.95, 0.999):
        ic0 = ic_lower + fraction * span
        design = np.vstack([np.ones_like(current), np.log(current - ic0)]).T
        la0, x0 = np.linalg.lstsq(design, log_rate, rcond=None)[0]
        result = least_squares(residuals, [la0, float(np.clip(x0, 0.05, 4.0)), ic0],
                               bounds=([-np.inf, 0.01, ic_lower], [np.inf, 5.0, ic_upper]),
                               x_scale=[1.0, 0.1, span], xtol=1e-15, ftol=1e-15, gtol=1e-15,
                               max_nfev=5000)
        if best is None or result.cost < best.cost:
            best = result
    n = current.size
    dof = max(n - 3, 1)
    variance = 2.0 * best.cost / dof
    covariance = variance * np.linalg.pinv(best.jac.T @ best.jac)
    se = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    half = float(student.ppf(0.5 + confidence / 2, dof)) * se[1]
    at_bound = bool(best.x[2] - ic_lower < 1e-6 * span or ic_upper - best.x[2] < 1e-6 * span)
    return {"exponent": float(best.x[1]), "exponent_se": float(se[1]),
            "ci": (float(best.x[1] - half), float(best.x[1] + half)),
            "critical_input": float(best.x[2]), "critical_input_se": float(se[2]),
            "amplitude": float(np.exp(best.x[0])), "n": int(n),
            "rms_log_residual": float(math.sqrt(2.0 * best.cost / n)), "at_bound": at_bound}
