"""Critical exponents: reference tables, the exact 2-D Ising solution, power-law fits.

Constants
---------
MEAN_FIELD_EXPONENTS
    beta = 1/2, gamma = 1, delta = 3, nu = 1/2 (Curie-Weiss / Landau; THEORY.md section 4).
ISING_2D_EXPONENTS
    beta = 1/8, gamma = 7/4, delta = 15, nu = 1 (Onsager 1944; Yang 1952).
ISING_3D_EXPONENTS
    beta = 0.3265, gamma = 1.237, delta = 4.789, nu = 0.630 (Pelissetto & Vicari 2002).

Functions
---------
ising_2d_critical_temperature
    Onsager's ``T_c = 2 J / ln(1 + sqrt 2)`` of the square lattice.
onsager_magnetisation
    Yang's spontaneous magnetisation ``(1 - sinh(2J/T)**-4)**(1/8)`` of the square lattice.
fit_power_law
    ``y = prefactor * x**exponent`` by least squares in log-log coordinates.
local_exponent
    The running slope ``d ln y / d ln x`` (an effective exponent).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from neurophase.errors import ParameterError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "MEAN_FIELD_EXPONENTS",
    "ISING_2D_EXPONENTS",
    "ISING_3D_EXPONENTS",
    "ising_2d_critical_temperature",
    "onsager_magnetisation",
    "PowerLawFit",
    "fit_power_law",
    "local_exponent",
]

#: Mean-field (Curie-Weiss / Landau) exponents, exact for all-to-all coupling (THEORY.md section 4).
MEAN_FIELD_EXPONENTS = dict(beta=0.5, gamma=1.0, delta=3.0, nu=0.5)

#: Exact exponents of the 2-D Ising model (Onsager 1944; Yang 1952; delta from the scaling
#: relation delta = 1 + gamma/beta = 15).
ISING_2D_EXPONENTS = dict(beta=1 / 8, gamma=7 / 4, delta=15.0, nu=1.0)

#: 3-D Ising exponents, A. Pelissetto and E. Vicari, "Critical phenomena and renormalization-group
#: theory", Phys. Rep. 368, 549 (2002), Table 3 (best estimates).
ISING_3D_EXPONENTS = dict(beta=0.3265, gamma=1.237, delta=4.789, nu=0.630)


def _as_positive(value, name):
    array = np.asarray(value, dtype=float)
    if np.any(~(array > 0)):
        raise ParameterError(f"{name} must be positive; got {value!r}.")
    return array


def ising_2d_critical_temperature(J: ArrayLike) -> np.ndarray | float:
    """Critical temperature of the nearest-neighbour square-lattice Ising model.

    ``T_c = 2 J / ln(1 + sqrt 2) = 2.269185 J`` (Onsager 1944, Phys. Rev. 65, 117; the
    Kramers-Wannier 1941 self-dual point ``sinh(2J/T_c) = 1``). Mean field says ``4 J``.

    Parameters
    ----------
    J : float or array_like, reduced units
        Nearest-neighbour coupling, ``> 0``.

    Returns
    -------
    numpy.ndarray or numpy.float64, reduced units
        ``T_c``, the shape of ``J``.

    Examples
    --------
    >>> round(float(ising_2d_critical_temperature(1.0)), 6)
    2.269185
    """
    J = _as_positive(J, "J")
    value = 2.0 * J / np.log1p(np.sqrt(2.0))
    return value[()] if value.ndim == 0 else value


def onsager_magnetisation(T: ArrayLike, J: ArrayLike) -> np.ndarray | float:
    """Spontaneous magnetisation of the square-lattice Ising model (0 at and above T_c).

    ``M0 = (1 - sinh(2J/T)**-4)**(1/8)`` for ``T < T_c`` and 0 otherwise (Onsager 1949,
    announced; C. N. Yang, Phys. Rev. 85, 808 (1952), eq. 96). Near ``T_c``,
    ``M0 ~ (T_c - T)**(1/8)``. ``T = 0`` gives 1.

    Parameters
    ----------
    T : float or array_like, reduced units
        Temperature, ``>= 0``.
    J : float or array_like, reduced units
        Nearest-neighbour coupling (``> 0``).

    Returns
    -------
    numpy.ndarray or numpy.float64, dimensionless
        ``M0`` in [0, 1], shape ``broadcast(T, J).shape``.

    Examples
    --------
    >>> round(float(onsager_magnetisation(1.5, 1.0)), 4)
    0.9865
    >>> float(onsager_magnetisation(3.0, 1.0))
    0.0
    """
    T = np.asarray(T, dtype=float)
    if np.any(~(T >= 0)):
        raise ParameterError(f"T must be >= 0; got {T!r}.")
    J = _as_positive(J, "J")
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        inverse_sinh = 1.0 / np.sinh(2.0 * J / T)
        value = np.power(np.clip(1.0 - inverse_sinh**4, 0.0, 1.0), 0.125)
    value = np.where(T == 0, 1.0, value)
    value = np.where(T < ising_2d_critical_temperature(J), value, 0.0)
    return value[()] if value.ndim == 0 else value


class PowerLawFit(NamedTuple):
    """Result of :func:`fit_power_law`: ``y = prefactor * x**exponent``.

    Attributes
    ----------
    exponent : float
        The log-log slope (dimensionless).
    prefactor : float
        ``exp(intercept)``, in the units of ``y`` divided by those of ``x**exponent``.
    exponent_standard_error : float
        The ordinary least-squares standard error of the log-log slope (NaN with fewer than
        three points).
    """

    exponent: float
    prefactor: float
    exponent_standard_error: float


def fit_power_law(x: ArrayLike, y: ArrayLike) -> PowerLawFit:
    """Fit ``y = prefactor * x**exponent`` by ordinary least squares of ``ln y`` on ``ln x``.

    Parameters
    ----------
    x, y : array_like, any units
        Positive data of the same size (points with ``x <= 0``, ``y <= 0`` or non-finite values are refused:
        take absolute values, or distances from the critical point, first).

    Returns
    -------
    PowerLawFit
        ``(exponent, prefactor, exponent_standard_error)``; unpacks as a tuple.

    Examples
    --------
    >>> x = np.array([1e-3, 1e-2, 1e-1])
    >>> fit = fit_power_law(x, 2.0 * x ** 0.5)
    >>> round(fit.exponent, 12), round(fit.prefactor, 12)
    (0.5, 2.0)
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ParameterError(f"x and y must have the same number of points; got {x.size} and {y.size}.")
    if x.size < 2:
        raise ParameterError("fit_power_law needs at least two points.")
    if np.any(~(x > 0)) or np.any(~(y > 0)) or np.any(~np.isfinite(x)) or np.any(~np.isfinite(y)):
        raise ParameterError(
            "fit_power_law needs positive finite x and y (it fits in log-log coordinates); "
            "use distances from the critical point and |M|, and drop zeros."
        )
    log_x, log_y = np.log(x), np.log(y)
    design = np.column_stack([log_x, np.ones_like(log_x)])
    coefficients, _, _, _ = np.linalg.lstsq(design, log_y, rcond=None)
    slope, intercept = coefficients
    if x.size > 2:
        residuals = log_y - design @ coefficients
        variance = residuals @ residuals / (x.size - 2)
        error = float(np.sqrt(variance / np.sum((log_x - log_x.mean()) ** 2)))
    else:
        error = float("nan")
    return PowerLawFit(float(slope), float(np.exp(intercept)), error)


def local_exponent(x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Effective exponent ``d ln y / d ln x`` at every point (second-order finite differences).

    Tends to the true exponent where the asymptotic power law holds; its drift away from the
    critical point shows the corrections to scaling. Computed with :func:`numpy.gradient` of
    ``ln y`` against ``ln x`` (central differences inside, one-sided at the ends).

    Parameters
    ----------
    x, y : array_like, any units
        Positive data of one shape, ``x`` monotone along the first axis.

    Returns
    -------
    numpy.ndarray, dimensionless
        The local slope at every point, the shape of ``x``.

    Examples
    --------
    >>> x = np.geomspace(1e-3, 1, 5)
    >>> np.round(local_exponent(x, x ** 3), 12).tolist()
    [3.0, 3.0, 3.0, 3.0, 3.0]
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if np.any(~(x > 0)) or np.any(~(y > 0)):
        raise ParameterError("local_exponent needs positive x and y.")
    return np.gradient(np.log(y), np.log(x))
