"""Fitting the derived activation family, and its rivals, to firing-rate curves.

A measured or simulated response curve r(x) (firing rate against injected current, firing
probability against pulse amplitude, open fraction against field) is fitted by every candidate
family, and the families are compared by held-out error. This is prediction C4 of THEORY.md
("derived activation vs simulated f-I"), and the power-law candidate measures the onset
exponent of prediction C1 (class-1 neurones: 1/2).

Classes
-------
ActivationFit
    The estimator (scikit-learn style): ``ActivationFit(...).fit(data)`` fits every
    candidate by weighted least squares from several starting points, gives bootstrap
    confidence intervals, K-fold held-out errors, information criteria, ``predict``,
    ``score`` and a Markdown ``summary``.
ResponseModel
    One parametric candidate: its formula, parameters, units, bounds and starting points.
FittedParameter
    A fitted value with its unit string (``.quantity`` gives the Brian2 quantity).

The derived candidate calls :func:`neurophase.neurons.activations.derived_open_probability`
(the one solver of the self-consistency). What the fitted parameters mean in mean-field terms
(``beta``, ``T``, ``J``, field offset) is the mapping layer's job:
:func:`neurophase.mapping.meanfield_fit.fitted_mean_field_parameters`. A fit estimates these
parameters from firing data; it does not derive them from a model, and any sigmoid-like family
fits an f-I curve, so a good fit is not a test of the mean-field claim.

Data
----
RESPONSE_MODELS
    The candidate families by name: ``derived``, ``logistic``, ``tanh``, ``softplus``,
    ``relu``, ``power_law``.

The candidate families (x is the drive, r the response; all responses are non-negative)

============  =====================================================  ==========================
name          r(x)                                                   parameters
============  =====================================================  ==========================
derived       r_max (1 + M)/2,  M = tanh(K M + (x - theta)/width)    r_max, theta, width, K=J/T
logistic      r_max / (1 + exp(-(x - theta)/width))                  r_max, theta, width
tanh          r_max max(0, tanh((x - theta)/width))                  r_max, theta, width
softplus      a width ln(1 + exp((x - theta)/width))                 slope a, theta, width
relu          a max(0, x - theta)                                    slope a, theta
power_law     a max(0, x - theta)^p                                  amplitude a, theta, p
============  =====================================================  ==========================

The ``tanh`` candidate is the rectified form, not the offset form r_max (1 + tanh)/2: the
offset form is exactly the logistic with half the width, so it would duplicate the logistic
candidate, whereas the rectified form (the positive half of the J = 0 magnetisation, clipped at
zero because a rate cannot be negative) starts at a threshold with a finite slope and then
saturates: a distinct shape, between ReLU and logistic.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from scipy.optimize import least_squares
from scipy.special import expit

from neurophase.errors import NeurophaseError, ParameterError, UnitMismatchError
from neurophase.neurons.activations import derived_open_probability
from neurophase.units import parse_unit, to_magnitude, to_quantity

if TYPE_CHECKING:
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

__all__ = [
    "ActivationFit",
    "ResponseModel",
    "FittedParameter",
    "RESPONSE_MODELS",
    "DEFAULT_CANDIDATES",
]

#: Candidates fitted by default, in the order they are reported.
DEFAULT_CANDIDATES = ("derived", "logistic", "tanh", "softplus", "relu", "power_law")


# --------------------------------------------------------------------------------------------
# Candidate response functions (x: drive, numbers in the drive unit)
# --------------------------------------------------------------------------------------------
def _derived(x, r_max, theta, width, coupling_ratio):
    return r_max * derived_open_probability((x - theta) / width, coupling_ratio)


def _logistic(x, r_max, theta, width):
    return r_max * expit((x - theta) / width)


def _rectified_tanh(x, r_max, theta, width):
    return r_max * np.tanh(np.maximum(0.0, (x - theta) / width))


def _softplus(x, slope, theta, width):
    return slope * width * np.logaddexp(0.0, (x - theta) / width)


def _relu(x, slope, theta):
    return slope * np.maximum(0.0, x - theta)


def _power_law(x, amplitude, theta, exponent):
    return amplitude * np.maximum(0.0, x - theta) ** exponent


@dataclasses.dataclass(frozen=True)
class _DataSummary:
    """Numbers read from the data that set bounds, scales and starting points."""

    x_min: float
    x_max: float
    x_range: float
    y_top: float
    y_scale: float
    x_onset: float
    x_half: float
    slope: float
    linear_slope: float
    linear_threshold: float

    @classmethod
    def from_data(cls, x, y):
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
        x_min, x_max = float(x[0]), float(x[-1])
        x_range = x_max - x_min
        y_top = float(np.max(y))
        y_scale = float(np.max(np.abs(y)))
        if y_top <= 0:
            y_top = y_scale
        above_onset = np.nonzero(y > 0.1 * y_top)[0]
        first = int(above_onset[0]) if above_onset.size else 0
        x_onset = float(x[first - 1]) if first > 0 else x_min - 0.05 * x_range
        above_half = np.nonzero(y >= 0.5 * y_top)[0]
        index = int(above_half[0]) if above_half.size else len(x) - 1
        if index > 0 and y[index] != y[index - 1]:
            fraction = (0.5 * y_top - y[index - 1]) / (y[index] - y[index - 1])
            x_half = float(x[index - 1] + np.clip(fraction, 0, 1) * (x[index] - x[index - 1]))
        else:
            x_half = float(x[index])
        slope = y_top / max(x_max - x_onset, 1e-3 * x_range)
        rising = y > 0.1 * y_top
        linear_slope, linear_threshold = slope, x_onset
        if np.count_nonzero(rising) >= 2 and np.ptp(x[rising]) > 0:
            coefficient, intercept = np.polyfit(x[rising], y[rising], 1)
            if coefficient > 0:
                linear_slope, linear_threshold = float(coefficient), float(-intercept / coefficient)
        return cls(x_min, x_max, x_range, y_top, y_scale, x_onset, x_half, slope, linear_slope,
                   linear_threshold)


@dataclasses.dataclass(frozen=True)
class ResponseModel:
    """One candidate family r(x; parameters).

    Attributes
    ----------
    name : str
        Candidate name used in ``ActivationFit(candidates=...)``.
    parameter_names : tuple of str
        Names of the fitted parameters, in the order ``function`` takes them.
    function : callable
        ``function(x, *parameters)`` -> r, vectorised over ``x`` (numbers in the drive unit).
    unit_kinds : tuple of str
        For each parameter, ``"response"``, ``"drive"``, ``"response/drive"``,
        ``"response/drive**p"`` (power-law amplitude) or ``"1"``.
    formula : str
        The formula in words, for reports.
    reference : str
        Where the form comes from.
    """

    name: str
    parameter_names: tuple
    function: object
    unit_kinds: tuple
    formula: str
    reference: str

    @property
    def n_parameters(self) -> int:
        """Number of fitted parameters."""
        return len(self.parameter_names)

    def __call__(self, x, *parameters):
        return self.function(np.asarray(x, dtype=float), *parameters)

    def parameter_units(self, drive_unit: str, response_unit: str,
                        parameters: Sequence[float] | None = None) -> tuple[str, ...]:
        """Unit strings of the parameters, given the drive and response unit strings.

        Parameters
        ----------
        drive_unit, response_unit : str
            Brian2 unit strings of the drive x and of the response r (``"1"`` when
            dimensionless).
        parameters : sequence of float or None, optional
            Parameter values in the order of ``parameter_names``; only the ``exponent`` of the
            power law is read (its amplitude is in ``response/drive**exponent``). Without it that
            unit is written with a literal ``**p``.

        Returns
        -------
        tuple of str
            One unit string per parameter (``"1"`` for dimensionless ones).
        """
        values = dict(zip(self.parameter_names, parameters)) if parameters is not None else {}
        units = []
        for kind in self.unit_kinds:
            if kind == "response":
                units.append(response_unit)
            elif kind == "drive":
                units.append(drive_unit)
            elif kind == "response/drive":
                units.append(divide_units(response_unit, drive_unit, 1.0))
            elif kind == "response/drive**p":
                units.append(divide_units(response_unit, drive_unit, values.get("exponent", math.nan)))
            else:
                units.append("1")
        return tuple(units)

    def bounds(self, summary: _DataSummary, max_coupling_ratio: float) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the parameters, set by the data range.

        Parameters
        ----------
        summary : _DataSummary
            Ranges and scales read from the data (drive and response units).
        max_coupling_ratio : float, dimensionless
            Upper bound of ``K = J/T`` of the derived candidate.

        Returns
        -------
        lower, upper : numpy.ndarray
            One bound per parameter, in the parameters' units (``upper`` may be ``inf``).
        """
        s = summary
        amplitude = (0.0, 100.0 * s.y_scale)
        theta_free = (s.x_min - 5 * s.x_range, s.x_max + 5 * s.x_range)
        theta_rectified = (s.x_min - 5 * s.x_range, s.x_max)
        width = (1e-6 * s.x_range, 10.0 * s.x_range)
        slope = (0.0, 1e4 * s.y_scale / s.x_range)
        table = {
            "derived": [amplitude, theta_free, width, (0.0, max_coupling_ratio)],
            "logistic": [amplitude, theta_free, width],
            "tanh": [amplitude, theta_rectified, width],
            "softplus": [slope, theta_free, width],
            "relu": [slope, theta_rectified],
            "power_law": [(0.0, np.inf), theta_rectified, (0.05, 10.0)],
        }[self.name]
        lower, upper = zip(*table)
        return np.array(lower, float), np.array(upper, float)

    def scales(self, summary: _DataSummary, start: ArrayLike) -> np.ndarray:
        """Characteristic size of each parameter (``x_scale`` of least_squares).

        Parameters
        ----------
        summary : _DataSummary
            Ranges and scales read from the data (drive and response units).
        start : array_like
            The starting point (parameters' units); the power-law amplitude scale is its size.

        Returns
        -------
        numpy.ndarray
            One positive scale per parameter, in the parameters' units.
        """
        s = summary
        table = {
            "derived": [s.y_scale, s.x_range, s.x_range, 1.0],
            "logistic": [s.y_scale, s.x_range, s.x_range],
            "tanh": [s.y_scale, s.x_range, s.x_range],
            "softplus": [s.y_scale / s.x_range, s.x_range, s.x_range],
            "relu": [s.y_scale / s.x_range, s.x_range],
            "power_law": [max(abs(start[0]), 1e-12), s.x_range, 1.0],
        }[self.name]
        return np.array(table, float)

    def starts(self, summary: _DataSummary) -> list[tuple[float, ...]]:
        """Deterministic starting points read from the data (several, for robustness).

        Parameters
        ----------
        summary : _DataSummary
            Onset, half-maximum, slopes and ranges read from the data (drive and response units).

        Returns
        -------
        list of tuple of float
            Starting parameter vectors in the order of ``parameter_names`` (parameters' units).
        """
        s = summary
        R, top = s.x_range, s.y_top
        rise = max(s.x_half - s.x_onset, R / 50)
        if self.name == "logistic":
            return [(top, s.x_half, R / 10), (top, s.x_half, R / 40), (1.5 * top, s.x_half + R / 10, R / 5),
                    (3 * top, s.x_max, R / 3)]
        if self.name == "derived":
            starts = []
            for coupling in (0.0, 0.5, 0.9):
                for width in (R / 10, R / 40):
                    starts.append((top, s.x_half, 2 * width / (1 - coupling), coupling))
            return starts
        if self.name == "tanh":
            return [(top, s.x_onset, 1.8 * rise), (1.2 * top, s.x_onset, R / 5), (3 * top, s.x_onset, R),
                    (top, s.x_half - R / 20, R / 20)]
        if self.name == "softplus":
            return [(s.slope, s.x_onset, R / 20), (s.slope, s.x_onset, R / 5), (s.linear_slope, s.linear_threshold,
                                                                                R / 50),
                    (2 * s.slope, s.x_half, R / 3)]
        if self.name == "relu":
            return [(s.slope, s.x_onset), (s.linear_slope, s.linear_threshold), (0.5 * s.slope, s.x_min)]
        if self.name == "power_law":
            starts = []
            for exponent in (0.5, 1.0, 2.0):
                for theta in (s.x_onset, s.x_onset - R / 20):
                    span = max(s.x_max - theta, 1e-3 * R)
                    starts.append((top / span**exponent, theta, exponent))
            return starts
        raise ParameterError(f"no starting points for {self.name!r}")  # pragma: no cover


def divide_units(numerator: str | None, denominator: str | None, power: float) -> str | None:
    """Unit string numerator / denominator**power (``"1"`` handled).

    Parameters
    ----------
    numerator, denominator : str or None
        Brian2 unit strings; ``"1"``, ``""`` and None mean dimensionless.
    power : float
        The power of the denominator; NaN or inf writes a literal ``**p``.

    Returns
    -------
    str or None
        The quotient as a unit string (compound denominators in brackets); ``numerator``
        itself when the denominator is dimensionless.

    Examples
    --------
    >>> divide_units("Hz", "pA", 1.0), divide_units("Hz", "uA/cm**2", 0.5), divide_units("1", "pA", 1.0)
    ('Hz/pA', 'Hz/(uA/cm**2)**0.5', '1/pA')
    """
    if denominator in ("1", "", None):
        return numerator
    if not math.isfinite(power):
        return f"{numerator}/({denominator})**p"
    power_text = "" if power == 1.0 else f"**{power:.6g}"
    if numerator in ("1", "", None):
        return f"1/({denominator}){power_text}" if power_text else f"1/{denominator}"
    if power_text:
        return f"{numerator}/({denominator}){power_text}"
    if "/" in denominator or "*" in denominator:
        return f"{numerator}/({denominator})"
    return f"{numerator}/{denominator}"


#: The candidate families, by name.
RESPONSE_MODELS = {
    "derived": ResponseModel(
        "derived", ("r_max", "theta", "width", "coupling_ratio"), _derived,
        ("response", "drive", "drive", "1"),
        "r_max (1 + M)/2 with M = tanh(K M + (x - theta)/width), K = J/T in [0, 1)",
        "Curie-Weiss self-consistency, THEORY.md section 3; Sakthivadivel 2022 (arXiv:2102.04896)",
    ),
    "logistic": ResponseModel(
        "logistic", ("r_max", "theta", "width"), _logistic, ("response", "drive", "drive"),
        "r_max / (1 + exp(-(x - theta)/width))",
        "J = 0 open probability (THEORY.md section 3); Boltzmann gating, Hodgkin & Huxley 1952",
    ),
    "tanh": ResponseModel(
        "tanh", ("r_max", "theta", "width"), _rectified_tanh, ("response", "drive", "drive"),
        "r_max max(0, tanh((x - theta)/width))",
        "J = 0 magnetisation tanh(beta h), rectified (THEORY.md section 5)",
    ),
    "softplus": ResponseModel(
        "softplus", ("slope", "theta", "width"), _softplus, ("response/drive", "drive", "drive"),
        "a width ln(1 + exp((x - theta)/width))",
        "minus the free energy of a two-state channel (THEORY.md section 5); Dugas et al. 2001",
    ),
    "relu": ResponseModel(
        "relu", ("slope", "theta"), _relu, ("response/drive", "drive"),
        "a max(0, x - theta)",
        "quench protocol (THEORY.md section 5); Nair & Hinton 2010",
    ),
    "power_law": ResponseModel(
        "power_law", ("amplitude", "theta", "exponent"), _power_law, ("response/drive**p", "drive", "1"),
        "a max(0, x - theta)^p",
        "saddle-node onset f ~ (I - I_c)^(1/2): Ermentrout & Kopell 1986; Ermentrout 1996",
    ),
}


@dataclasses.dataclass(frozen=True)
class FittedParameter:
    """A fitted number and its unit string (Brian2 syntax).

    Attributes
    ----------
    value : float
        The number, in ``units``.
    units : str
        A unit string Brian2 can parse (``"1"`` when dimensionless).

    Examples
    --------
    >>> parameter = FittedParameter(12.5, "pA")
    >>> print(parameter.quantity)
    12.5 pA
    >>> float(parameter)
    12.5
    """

    value: float
    units: str

    @property
    def quantity(self) -> Quantity | float:
        """The value as a Brian2 Quantity (plain float when dimensionless)."""
        return to_quantity(self.value, self.units)

    def __float__(self):
        return float(self.value)


# --------------------------------------------------------------------------------------------
# Reading data
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Data:
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray | None
    trials: np.ndarray | None  # (n_input, n_trial) responses, when the data had a trial dim
    drive_unit: str
    response_unit: str
    drive_name: str
    response_name: str


def _unit_string(quantity, requested, name):
    """The unit string to report ``quantity`` in: ``requested`` or a Brian2 unit fitting it."""
    from brian2.units.fundamentalunits import Quantity, get_dimensions, get_unit

    if requested is not None:
        parse_unit(requested)  # parses, or raises UnitMismatchError naming the problem
        return requested
    if not isinstance(quantity, Quantity) or get_dimensions(quantity).is_dimensionless:
        return "1"
    for text in (str(quantity.get_best_unit()), str(get_unit(get_dimensions(quantity)))):
        if text[:1].isdigit():
            continue  # Brian2 writes a unit it has no name for as '1. m^-2 A'
        try:
            to_magnitude(parse_unit(text), text)
            to_magnitude(quantity, text, name=name)
        except NeurophaseError:
            continue
        return text
    raise UnitMismatchError(  # pragma: no cover - Brian2 always names some unit
        f"Cannot name a unit for {name!r}; pass its units explicitly (input_units= / response_units=)."
    )


def _read_quantity(values, units, name, argument):
    """Numbers and their unit string from a Brian2 quantity, or plain numbers with ``units``."""
    from brian2.units.fundamentalunits import Quantity

    if values is None:
        raise ParameterError(f"{name} is missing: pass it as a Brian2 quantity, e.g. `values * Hz`.")
    if isinstance(values, Quantity):
        unit = _unit_string(values, units, name)
        return np.atleast_1d(to_magnitude(values, unit, name=name)).astype(float), unit
    if units is None:
        raise UnitMismatchError(
            f"{name} has no units. Pass it as a Brian2 quantity (e.g. `currents * pA`, `rates * Hz`) "
            f"or give {argument}='...' (use '1' for reduced, dimensionless units)."
        )
    unit = _unit_string(None, units, name)
    return np.atleast_1d(np.asarray(values, dtype=float)), unit


def _read_dataset(dataset, response):
    if "input" not in dataset.coords and "input" not in dataset:
        raise ParameterError(
            "The Dataset has no 'input' coordinate: the swept drive must be the coordinate 'input' "
            "(neurophase Dataset schema)."
        )
    if response not in dataset:
        available = sorted(str(name) for name in dataset.data_vars)
        raise ParameterError(
            f"The Dataset has no response variable {response!r}; pass response= one of {available}."
        )
    drive_unit = dataset["input"].attrs.get("units")
    if drive_unit is None:
        raise UnitMismatchError(
            "The 'input' coordinate has no attrs['units']: set it, e.g. "
            "dataset['input'].attrs['units'] = 'pA' (use '1' for reduced units)."
        )
    response_unit = dataset[response].attrs.get("units")
    if response_unit is None:
        raise UnitMismatchError(
            f"The response variable {response!r} has no attrs['units']: set it, e.g. 'Hz' for a rate "
            "or '1' for a probability."
        )
    parse_unit(drive_unit)
    parse_unit(response_unit)
    variable = dataset[response]
    extra = [dim for dim in variable.dims if dim not in ("input", "trial")]
    for dim in extra:
        if variable.sizes[dim] != 1:
            raise ParameterError(
                f"{response!r} varies along {dim!r} ({variable.sizes[dim]} values): fit one curve at a "
                f"time, e.g. dataset.sel({dim}=...) or dataset.isel({dim}=0)."
            )
    variable = variable.squeeze(extra, drop=True) if extra else variable
    x = np.asarray(dataset["input"].values, dtype=float)
    trials = None
    sigma = None
    if "trial" in variable.dims:
        matrix = np.asarray(variable.transpose("input", "trial").values, dtype=float)
        counts = np.sum(np.isfinite(matrix), axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            y = np.nanmean(matrix, axis=1)
            if matrix.shape[1] >= 2:
                sigma = np.nanstd(matrix, axis=1, ddof=1) / np.sqrt(counts)
        if matrix.shape[1] >= 2:
            trials = matrix
    else:
        y = np.asarray(variable.values, dtype=float)
    return _Data(x, y, sigma, trials, drive_unit, response_unit, "input", response)


def _floor_standard_errors(sigma):
    """Replace zero or missing standard errors by the smallest positive one (None if none)."""
    if sigma is None:
        return None
    sigma = np.asarray(sigma, dtype=float)
    positive = sigma[np.isfinite(sigma) & (sigma > 0)]
    if positive.size == 0:
        return None
    return np.where(np.isfinite(sigma) & (sigma > 0), sigma, positive.min())


# --------------------------------------------------------------------------------------------
# Least squares
# --------------------------------------------------------------------------------------------
def _fit_one(model, x, y, sigma, summary, starts, max_coupling_ratio, tolerance=1e-12, max_evaluations=3000):
    """Best least-squares fit of ``model`` over ``starts``: (parameters, cost, success)."""
    lower, upper = model.bounds(summary, max_coupling_ratio)
    weights = 1.0 / sigma if sigma is not None else np.ones_like(y)

    def residuals(parameters):
        values = (model.function(x, *parameters) - y) * weights
        return np.where(np.isfinite(values), values, 1e150)

    best_parameters, best_cost, success = None, np.inf, False
    for start in starts:
        start = np.clip(np.asarray(start, dtype=float), lower, upper)
        span = upper - lower
        inside = np.where(np.isfinite(span), 1e-9 * span, 1e-9 * np.maximum(np.abs(start), 1.0))
        start = np.minimum(np.maximum(start, lower + inside), upper - inside)
        try:
            result = least_squares(
                residuals, start, bounds=(lower, upper), method="trf",
                x_scale=model.scales(summary, start), ftol=tolerance, xtol=tolerance, gtol=tolerance,
                max_nfev=max_evaluations,
            )
        except (ValueError, FloatingPointError):  # pragma: no cover - defensive
            continue
        if np.isfinite(result.cost) and result.cost < best_cost:
            best_parameters, best_cost, success = result.x, float(result.cost), bool(result.status > 0)
    if best_parameters is None:
        return np.full(model.n_parameters, np.nan), np.inf, False
    return best_parameters, best_cost, success


def _random_generator(random_state):
    """The one place where ``random_state`` becomes a generator (None means seed 0)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng(0)
    if isinstance(random_state, numbers.Integral):
        return np.random.default_rng(int(random_state))
    raise ParameterError(f"random_state must be None, an int or a numpy Generator; got {random_state!r}.")


# --------------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------------
class ActivationFit:
    """Fit the derived activation and standard activation families to a response curve.

    Every candidate is fitted by (weighted) least squares (``scipy.optimize.least_squares``,
    trust-region reflective, with bounds set by the data range) from several deterministic
    starting points read from the data (onset, half-maximum, linear extrapolation), keeping the
    best. Uncertainty comes from a bootstrap (Efron & Tibshirani 1993, *An Introduction to the
    Bootstrap*, ch. 9; Davison & Hinkley 1997, section 6.2): over trials when the data have a
    ``trial`` dimension with at least two trials (whole trials are resampled, keeping their
    correlation across inputs), otherwise over standardised residuals rescaled by
    sqrt(n / (n - k)). Predictive accuracy comes from K-fold cross-validation (Stone 1974;
    Hastie, Tibshirani & Friedman 2009, section 7.10) with folds drawn from ``random_state``.
    The constructor only stores the settings (scikit-learn convention); :meth:`fit` checks them.

    Parameters
    ----------
    candidates : str or sequence of str, optional
        Names from :data:`RESPONSE_MODELS`; default :data:`DEFAULT_CANDIDATES`.
    folds : int, optional
        Number of cross-validation folds (>= 2; at most one per data point); default 5.
    n_bootstrap : int, optional
        Bootstrap replicates for the parameter confidence intervals (0 to skip them); default 200.
    confidence : float, optional
        Level of the percentile confidence intervals, in (0, 1); default 0.95.
    random_state : None, int or numpy.random.Generator, optional
        Seeds the folds and the bootstrap; None means 0, so results are reproducible.
    max_coupling_ratio : float, optional, dimensionless
        Upper bound of K = J/T of the derived candidate, in [0, 1), so that the fitted unit
        stays on the single-valued (T > T_c) side of the transition; default 0.99.
    bootstrap : {"auto", "trials", "residuals"}, optional
        What the bootstrap resamples; "auto" uses trials when there are at least two.

    Attributes
    ----------
    params_ : dict
        ``candidate -> {parameter -> FittedParameter}`` (value and unit string).
    param_ci_ : dict
        ``candidate -> {parameter -> (low, high)}`` in the parameter's unit.
    param_se_ : dict
        ``candidate -> {parameter -> bootstrap standard deviation}``.
    scores_ : xarray.Dataset
        Per candidate (dim ``candidate``): ``n_params``, ``rmse``, ``weighted_sse``, ``aic``,
        ``bic``, ``heldout_rmse``, ``heldout_rmse_se``, ``r_squared``, ``converged``,
        ``bootstrap_failures``.
    best_ : str
        The candidate with the smallest held-out RMSE.
    heldout_errors_ : xarray.DataArray
        Squared error of every point when its fold was held out, dims ``(candidate, point)``
        (the same folds for every candidate, so differences between candidates are paired).
    drive_unit_, response_unit_ : str
        Unit strings of the drive and the response.
    n_points_ : int
        Number of input levels used.
    weighted_ : bool
        Whether the fit used standard errors as weights.

    Examples
    --------
    >>> from brian2 import pA, Hz
    >>> current = np.linspace(0, 300, 31) * pA
    >>> rate = 0.5 * np.maximum(0, np.asarray(current / pA) - 100) * Hz
    >>> fit = ActivationFit(candidates=("relu", "logistic"), n_bootstrap=0).fit(current, rate)
    >>> fit.best_
    'relu'
    >>> print(f"{fit.params_['relu']['theta'].value:.6f} {fit.params_['relu']['theta'].units}")
    100.000000 pA
    >>> print(fit.predict(250 * pA, candidate="relu"))
    [75.] Hz
    """

    def __init__(self, candidates: str | Sequence[str] = DEFAULT_CANDIDATES, folds: int = 5, n_bootstrap: int = 200,
                 confidence: float = 0.95, random_state: int | np.random.Generator | None = None,
                 max_coupling_ratio: float = 0.99, bootstrap: str = "auto") -> None:
        self.candidates = candidates
        self.folds = folds
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.random_state = random_state
        self.max_coupling_ratio = max_coupling_ratio
        self.bootstrap = bootstrap

    # ------------------------------------------------------------------ checks
    def _check_settings(self):
        if isinstance(self.candidates, str):
            names = (self.candidates,)
        else:
            names = tuple(self.candidates)
        if not names:
            raise ParameterError(f"candidates is empty; choose from {sorted(RESPONSE_MODELS)}.")
        unknown = [name for name in names if name not in RESPONSE_MODELS]
        if unknown:
            raise ParameterError(
                f"Unknown candidate(s) {unknown}; the known candidates are {sorted(RESPONSE_MODELS)}."
            )
        if len(set(names)) != len(names):
            raise ParameterError(f"candidates {names} lists a name twice.")
        if not isinstance(self.folds, numbers.Integral) or self.folds < 2:
            raise ParameterError(f"folds = {self.folds!r} must be an integer >= 2.")
        if not isinstance(self.n_bootstrap, numbers.Integral) or self.n_bootstrap < 0:
            raise ParameterError(f"n_bootstrap = {self.n_bootstrap!r} must be an integer >= 0.")
        if not 0 < float(self.confidence) < 1:
            raise ParameterError(f"confidence = {self.confidence!r} must be between 0 and 1, e.g. 0.95.")
        if not 0 <= float(self.max_coupling_ratio) < 1:
            raise ParameterError(
                f"max_coupling_ratio = {self.max_coupling_ratio!r} must be in [0, 1): K = J/T >= 1 is the "
                "bistable side, which a single-valued f-I curve cannot identify."
            )
        if self.bootstrap not in ("auto", "trials", "residuals"):
            raise ParameterError(f"bootstrap = {self.bootstrap!r} must be 'auto', 'trials' or 'residuals'.")
        return names

    def _read(self, data, y, y_err, response, input_units, response_units):
        if isinstance(data, xr.Dataset):
            if y is not None:
                raise ParameterError("Pass either a Dataset or arrays x, y, not both.")
            read = _read_dataset(data, response)
        elif isinstance(data, xr.DataArray):
            raise ParameterError("Pass a Dataset (with an 'input' coordinate), not a DataArray.")
        else:
            x, drive_unit = _read_quantity(data, input_units, "x", "input_units")
            y_values, response_unit = _read_quantity(y, response_units, "y", "response_units")
            sigma = None
            if y_err is not None:
                from brian2.units.fundamentalunits import Quantity

                if isinstance(y_err, Quantity):
                    sigma = np.atleast_1d(to_magnitude(y_err, response_unit, name="y_err")).astype(float)
                elif response_unit == "1" or response_units is not None:
                    sigma = np.atleast_1d(np.asarray(y_err, dtype=float))
                else:
                    raise UnitMismatchError(
                        f"y_err has no units; pass it as a quantity in the response's units ({response_unit})."
                    )
                sigma = np.broadcast_to(sigma, y_values.shape).astype(float)
            if x.shape != y_values.shape:
                raise ParameterError(f"x has {x.size} values but y has {y_values.size}: give one y per x.")
            read = _Data(x, y_values, sigma, None, drive_unit, response_unit, "x", "y")
        keep = np.isfinite(read.x) & np.isfinite(read.y)
        read.x, read.y = read.x[keep], read.y[keep]
        if read.sigma is not None:
            read.sigma = np.asarray(read.sigma)[keep]
        if read.trials is not None:
            read.trials = read.trials[keep]
        return read

    # ------------------------------------------------------------------ fit
    def fit(self, data: xr.Dataset | Quantity | ArrayLike, y: Quantity | ArrayLike | None = None,
            y_err: Quantity | ArrayLike | None = None, *, response: str = "rate", input_units: str | None = None,
            response_units: str | None = None) -> ActivationFit:
        """Fit every candidate to the data; return ``self``.

        Parameters
        ----------
        data : xarray.Dataset, Quantity or array_like
            A neurophase Dataset (coordinate ``input`` with ``attrs["units"]`` and the variable
            ``response``, optionally with a ``trial`` dimension that is averaged, its standard
            error becoming the weights), or the drive x as a Brian2 quantity (or plain numbers
            with ``input_units``).
        y : Quantity, array_like or None, optional
            Response, when ``data`` is the drive array (plain numbers need ``response_units``).
        y_err : Quantity, array_like or None, optional
            Standard error of ``y`` (response units; weights ``1/y_err``), when ``data`` is the
            drive array.
        response : str, optional
            Name of the response variable in a Dataset: ``"rate"``, ``"p_fire"``,
            ``"order_parameter_mean"``, ...
        input_units, response_units : str or None, optional
            Units to report in (for quantities), or the units of plain-number arrays (required
            then: ``"1"`` for reduced, dimensionless units).

        Returns
        -------
        ActivationFit
            ``self``, with the fitted attributes (``params_``, ``scores_``, ``best_``, ...).

        Raises
        ------
        UnitMismatchError
            Input or response without units, or with the wrong dimension.
        ParameterError
            Unknown candidate, too few points for a candidate, all responses zero.
        """
        names = self._check_settings()
        read = self._read(data, y, y_err, response, input_units, response_units)
        n_points = read.x.size
        if n_points and np.all(read.y == 0):
            raise ParameterError(
                f"All {n_points} responses are zero: there is no firing to fit. Extend the drive above "
                "threshold (or check the recording / simulation)."
            )
        for name in names:
            needed = RESPONSE_MODELS[name].n_parameters + 1
            distinct = np.unique(read.x).size
            if n_points < needed or distinct < needed:
                raise ParameterError(
                    f"Candidate {name!r} has {RESPONSE_MODELS[name].n_parameters} parameters and needs at "
                    f"least {needed} data points at distinct inputs; got {n_points} points at {distinct} "
                    "distinct inputs. Add input levels or drop the candidate."
                )
        sigma = _floor_standard_errors(read.sigma)
        order = np.argsort(read.x, kind="stable")
        x, y = read.x[order], read.y[order]
        sigma = sigma[order] if sigma is not None else None
        trials = read.trials[order] if read.trials is not None else None
        self._x, self._y, self._sigma, self._trials = x, y, sigma, trials
        self.drive_unit_, self.response_unit_ = read.drive_unit, read.response_unit
        self.response_name_ = read.response_name
        self.n_points_ = n_points
        self.weighted_ = sigma is not None
        self.candidates_ = names
        summary = _DataSummary.from_data(x, y)
        self._summary = summary
        generator = _random_generator(self.random_state)
        fold_of_point = self._fold_assignment(n_points, generator)

        self._estimates, self._heldout_squared_errors = {}, {}
        self.params_, self.param_ci_, self.param_se_, self._bootstrap_samples = {}, {}, {}, {}
        rows = []
        for name in names:
            model = RESPONSE_MODELS[name]
            estimate, cost, success = _fit_one(model, x, y, sigma, summary, self._starts(model, x, y, sigma),
                                               self.max_coupling_ratio)
            self._estimates[name] = estimate
            units = model.parameter_units(self.drive_unit_, self.response_unit_, estimate)
            self.params_[name] = {
                parameter: FittedParameter(float(value), unit)
                for parameter, value, unit in zip(model.parameter_names, estimate, units)
            }
            samples = self._bootstrap_replicates(model, estimate, generator)
            self._bootstrap_samples[name] = samples
            low_q, high_q = 50 * (1 - self.confidence), 50 * (1 + self.confidence)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                finite = np.isfinite(samples).all(axis=1)
                usable = samples[finite]
                if usable.shape[0] >= 2:
                    lows, highs = np.percentile(usable, [low_q, high_q], axis=0)
                    spreads = np.std(usable, axis=0, ddof=1)
                else:
                    lows = highs = spreads = np.full(model.n_parameters, np.nan)
            self.param_ci_[name] = {p: (float(lo), float(hi)) for p, lo, hi in zip(model.parameter_names, lows, highs)}
            self.param_se_[name] = {p: float(se) for p, se in zip(model.parameter_names, spreads)}
            rows.append(self._score_row(model, estimate, success, fold_of_point, samples))
        self.scores_ = self._scores_dataset(names, rows)
        self.heldout_errors_ = xr.DataArray(
            np.array([self._heldout_squared_errors[name] for name in names]), dims=("candidate", "point"),
            coords={"candidate": list(names), "input": ("point", x, {"units": self.drive_unit_})},
            attrs={"units": _square_unit(self.response_unit_),
                   "long_name": "squared error of each point when its fold was held out"},
        )
        heldout = self.scores_["heldout_rmse"].values
        if np.any(np.isfinite(heldout)):
            self.best_ = names[int(np.nanargmin(heldout))]
        else:
            self.best_ = names[int(np.nanargmin(self.scores_["aic"].values))]
        return self

    def _starts(self, model, x, y, sigma, summary=None):
        summary = summary or _DataSummary.from_data(x, y)
        starts = list(model.starts(summary))
        if model.name == "derived":
            logistic = RESPONSE_MODELS["logistic"]
            estimate, _, _ = _fit_one(logistic, x, y, sigma, summary, logistic.starts(summary), 0.0,
                                      tolerance=1e-8, max_evaluations=500)
            if np.all(np.isfinite(estimate)):
                r_max, theta, width = estimate
                for coupling in (0.0, 0.5, 0.9):
                    starts.insert(0, (r_max, theta, 2 * width / (1 - coupling), coupling))
        return starts

    def _fold_assignment(self, n_points, generator):
        folds = min(int(self.folds), n_points)
        permutation = generator.permutation(n_points)
        assignment = np.empty(n_points, dtype=int)
        for fold, indices in enumerate(np.array_split(permutation, folds)):
            assignment[indices] = fold
        return assignment

    def _bootstrap_replicates(self, model, estimate, generator):
        n_bootstrap = int(self.n_bootstrap)
        samples = np.full((n_bootstrap, model.n_parameters), np.nan)
        if n_bootstrap == 0 or not np.all(np.isfinite(estimate)):
            return samples
        x, y, sigma, trials = self._x, self._y, self._sigma, self._trials
        use_trials = trials is not None and (self.bootstrap in ("auto", "trials"))
        if self.bootstrap == "trials" and trials is None:
            raise ParameterError("bootstrap='trials' needs a Dataset with a 'trial' dimension of >= 2 trials.")
        fitted = model.function(x, *estimate)
        scale = sigma if sigma is not None else np.ones_like(y)
        n, k = y.size, model.n_parameters
        standardised = (y - fitted) / scale * math.sqrt(n / max(n - k, 1))
        standardised = standardised - standardised.mean()
        summary = self._summary
        for replicate in range(n_bootstrap):
            if use_trials:
                chosen = generator.integers(0, trials.shape[1], trials.shape[1])
                matrix = trials[:, chosen]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    y_star = np.nanmean(matrix, axis=1)
                    counts = np.sum(np.isfinite(matrix), axis=1)
                    sigma_star = _floor_standard_errors(np.nanstd(matrix, axis=1, ddof=1) / np.sqrt(counts))
                if not np.all(np.isfinite(y_star)):
                    continue
            else:
                y_star = fitted + scale * generator.choice(standardised, size=n, replace=True)
                sigma_star = sigma
            parameters, _, _ = _fit_one(model, x, y_star, sigma_star, summary, [estimate],
                                        self.max_coupling_ratio, tolerance=1e-10, max_evaluations=300)
            samples[replicate] = parameters
        return samples

    def _score_row(self, model, estimate, success, fold_of_point, samples):
        x, y, sigma = self._x, self._y, self._sigma
        prediction = model.function(x, *estimate)
        residual = y - prediction
        n, k = y.size, model.n_parameters
        sse = float(np.sum(residual**2))
        weighted_sse = float(np.sum((residual / sigma) ** 2)) if sigma is not None else sse
        if sigma is not None:
            # Gaussian likelihood with known standard errors: -2 ln L = chi^2 + const
            minus_two_log_likelihood = weighted_sse
        else:
            # unknown common variance profiled out: -2 ln L = n ln(SSE/n) + const
            minus_two_log_likelihood = n * math.log(max(sse, 1e-300) / n)
        aic = minus_two_log_likelihood + 2 * k  # Akaike 1974
        bic = minus_two_log_likelihood + k * math.log(n)  # Schwarz 1978
        total = float(np.sum((y - y.mean()) ** 2))
        r_squared = 1.0 - sse / total if total > 0 else math.nan
        fold_errors, squared_errors = [], np.full(n, np.nan)
        folds = int(fold_of_point.max()) + 1
        summary = self._summary
        for fold in range(folds):
            test = fold_of_point == fold
            train = ~test
            if np.count_nonzero(train) < k + 1 or np.unique(x[train]).size < k + 1:
                fold_errors = []
                break
            train_sigma = sigma[train] if sigma is not None else None
            train_summary = _DataSummary.from_data(x[train], y[train])
            starts = [estimate] + list(self._starts(model, x[train], y[train], train_sigma, train_summary))
            # bounds come from the full data range so that every fold searches the same space
            parameters, _, _ = _fit_one(model, x[train], y[train], train_sigma, summary, starts,
                                        self.max_coupling_ratio, tolerance=1e-10, max_evaluations=300)
            squared_errors[test] = (y[test] - model.function(x[test], *parameters)) ** 2
            fold_errors.append(math.sqrt(float(np.mean(squared_errors[test]))))
        if fold_errors:
            heldout = math.sqrt(float(np.mean(squared_errors)))
            heldout_se = float(np.std(fold_errors, ddof=1) / math.sqrt(len(fold_errors)))
        else:
            heldout = heldout_se = math.nan
        failures = int(np.count_nonzero(~np.isfinite(samples).all(axis=1))) if samples.size else 0
        self._heldout_squared_errors[model.name] = squared_errors
        return {
            "n_params": k, "rmse": math.sqrt(sse / n), "weighted_sse": weighted_sse, "aic": aic, "bic": bic,
            "heldout_rmse": heldout, "heldout_rmse_se": heldout_se, "r_squared": r_squared,
            "converged": bool(success), "bootstrap_failures": failures,
        }

    def _scores_dataset(self, names, rows):
        unit = self.response_unit_
        descriptions = {
            "n_params": ("1", "number of fitted parameters"),
            "rmse": (unit, "root-mean-square residual on the fitted data"),
            "weighted_sse": ("1", "sum of squared residuals / standard error (SSE if unweighted)"),
            "aic": ("1", "Akaike information criterion (Akaike 1974), up to a constant"),
            "bic": ("1", "Bayesian information criterion (Schwarz 1978), up to a constant"),
            "heldout_rmse": (unit, f"{self.folds}-fold cross-validated RMSE over all held-out points"),
            "heldout_rmse_se": (unit, "standard error of the held-out RMSE over folds"),
            "r_squared": ("1", "coefficient of determination on the fitted data"),
            "converged": ("1", "least_squares met its tolerance at the best start"),
            "bootstrap_failures": ("1", "bootstrap replicates whose fit failed"),
        }
        variables = {}
        for key, (variable_unit, long_name) in descriptions.items():
            values = np.array([row[key] for row in rows])
            variables[key] = xr.DataArray(values, dims=("candidate",),
                                          attrs={"units": variable_unit, "long_name": long_name})
        return xr.Dataset(
            variables, coords={"candidate": list(names)},
            attrs={"response": self.response_name_, "response_units": unit, "drive_units": self.drive_unit_,
                   "n_points": int(self.n_points_), "weighted": int(self.weighted_), "folds": int(self.folds),
                   "n_bootstrap": int(self.n_bootstrap), "confidence": float(self.confidence)},
        )

    # ------------------------------------------------------------------ use
    def _check_fitted(self, candidate):
        if not hasattr(self, "params_"):
            raise NeurophaseError("This ActivationFit is not fitted yet: call .fit(data) first.")
        candidate = self.best_ if candidate is None else candidate
        if candidate not in self.params_:
            raise ParameterError(f"Candidate {candidate!r} was not fitted; fitted: {list(self.params_)}.")
        return candidate

    def predict(self, x: Quantity | xr.Dataset | ArrayLike, candidate: str | None = None) -> Quantity | np.ndarray:
        """Response of a fitted candidate (default ``best_``) at drive ``x``.

        Parameters
        ----------
        x : Quantity, xarray.Dataset or array_like
            Drive with the dimension of the fitted drive (plain numbers only if that drive is
            dimensionless), or a Dataset whose ``input`` coordinate (with ``attrs["units"]``) is
            used.
        candidate : str or None, optional
            A fitted candidate; default ``best_``.

        Returns
        -------
        Quantity or numpy.ndarray
            The predicted response in ``response_unit_`` (a float array if dimensionless), 1-D.
        """
        candidate = self._check_fitted(candidate)
        drive = self._drive_values(x)
        values = RESPONSE_MODELS[candidate].function(drive, *self._estimates[candidate])
        return to_quantity(values, self.response_unit_)

    def _drive_values(self, x):
        from brian2.units.fundamentalunits import Quantity

        if isinstance(x, xr.Dataset):
            unit = x["input"].attrs.get("units")
            if unit is None:
                raise UnitMismatchError("The 'input' coordinate has no attrs['units'].")
            quantity = to_quantity(x["input"].values, unit)
            return np.atleast_1d(to_magnitude(quantity, self.drive_unit_, name="input"))
        if not isinstance(x, Quantity) and self.drive_unit_ != "1":
            raise UnitMismatchError(
                f"x has no units; the fit's drive is in {self.drive_unit_}: pass e.g. `values * {self.drive_unit_}`."
            )
        return np.atleast_1d(to_magnitude(x, self.drive_unit_, name="x")).astype(float)

    def score(self, data: xr.Dataset | Quantity | ArrayLike, y: Quantity | ArrayLike | None = None,
              candidate: str | None = None, *, response: str | None = None) -> float:
        """Coefficient of determination R^2 of a fitted candidate (default ``best_``) on data.

        Higher is better (scikit-learn convention).

        Parameters
        ----------
        data : xarray.Dataset, Quantity or array_like
            As in :meth:`fit` (a trial dimension is averaged); plain numbers are read in the
            fit's drive unit.
        y : Quantity, array_like or None, optional
            The response when ``data`` is the drive (plain numbers in the fit's response unit).
        candidate : str or None, optional
            A fitted candidate; default ``best_``.
        response : str or None, optional
            Response variable of a Dataset; default the one fitted.

        Returns
        -------
        float, dimensionless
            ``1 - SSE / SST`` on the given data.
        """
        candidate = self._check_fitted(candidate)
        read = self._read(data, y, None, response or self.response_name_,
                          self.drive_unit_ if not _is_quantity(data) and not isinstance(data, xr.Dataset) else None,
                          self.response_unit_ if y is not None and not _is_quantity(y) else None)
        x_values = to_magnitude(to_quantity(read.x, read.drive_unit), self.drive_unit_, name="x")
        y_values = to_magnitude(to_quantity(read.y, read.response_unit), self.response_unit_, name="y")
        prediction = RESPONSE_MODELS[candidate].function(x_values, *self._estimates[candidate])
        total = float(np.sum((y_values - y_values.mean()) ** 2))
        if total == 0:
            raise ParameterError("R^2 is undefined for a constant response; use a wider input range.")
        return 1.0 - float(np.sum((y_values - prediction) ** 2)) / total

    def summary(self, digits: int = 4) -> str:
        """A Markdown table of scores, then the fitted parameters with confidence intervals.

        Parameters
        ----------
        digits : int, optional
            Significant digits of the numbers; default 4.

        Returns
        -------
        str
            Markdown text: a title line, the scores table (RMSE and held-out RMSE in the
            response unit, AIC, BIC, R^2) and the parameters table (value, interval, unit).
        """
        candidate = self._check_fitted(None)
        unit = self.response_unit_
        lines = [
            f"Fit of {self.response_name_} ({unit}) against drive ({self.drive_unit_}): {self.n_points_} "
            f"points, {'weighted by standard errors' if self.weighted_ else 'unweighted'}; best (held-out): "
            f"**{candidate}**",
            "",
            f"| candidate | k | RMSE ({unit}) | held-out RMSE ({unit}) | AIC | BIC | R^2 |",
            "|---|---|---|---|---|---|---|",
        ]
        for index, name in enumerate(self.scores_["candidate"].values):
            row = self.scores_.isel(candidate=index)
            label = f"**{name}**" if name == candidate else str(name)
            lines.append(
                f"| {label} | {int(row['n_params'])} | {float(row['rmse']):.{digits}g} | "
                f"{float(row['heldout_rmse']):.{digits}g} +- {float(row['heldout_rmse_se']):.{digits}g} | "
                f"{float(row['aic']):.{digits}g} | {float(row['bic']):.{digits}g} | "
                f"{float(row['r_squared']):.{digits}g} |"
            )
        lines += ["", f"| candidate | parameter | value | {100 * self.confidence:g}% CI | units |",
                  "|---|---|---|---|---|"]
        for name, parameters in self.params_.items():
            for parameter, fitted in parameters.items():
                low, high = self.param_ci_[name][parameter]
                lines.append(
                    f"| {name} | {parameter} | {fitted.value:.{digits}g} | [{low:.{digits}g}, {high:.{digits}g}] | "
                    f"{fitted.units} |"
                )
        return "\n".join(lines)

    def __repr__(self):
        return (f"ActivationFit(candidates={tuple(self.candidates)!r}, folds={self.folds}, "
                f"n_bootstrap={self.n_bootstrap}, confidence={self.confidence}, random_state={self.random_state!r})")


def _square_unit(unit):
    if unit in ("1", "", None):
        return "1"
    return f"({unit})**2" if any(symbol in unit for symbol in "/* ") else f"{unit}**2"


def _is_quantity(value):
    from brian2.units.fundamentalunits import Quantity

    return isinstance(value, Quantity)
