"""Two-state Boltzmann fits of gating curves (estimates read off a curve, not derived).

Functions
---------
boltzmann
    ``1/(1 + exp(-(V - V_half)/k))``: the open probability of a two-state channel with gating
    charge ``z = kT/(e k)`` (B. Hille 2001, Ion Channels of Excitable Membranes, 3rd ed., ch. 2;
    F. Bezanilla 2000, Physiol. Rev. 80:555), the J = 0 logistic of THEORY.md section 3.
fit_boltzmann
    Least-squares ``(V_half, k)`` of a curve.
boltzmann_midpoint
    The half-activation crossing and the slope factor ``1/(4 dx/dV)`` there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["boltzmann", "fit_boltzmann", "boltzmann_midpoint"]


def boltzmann(voltage: ArrayLike, v_half: float, slope: float) -> np.ndarray:
    """Two-state Boltzmann ``1/(1 + exp(-(V - V_half)/k))`` (``k < 0``: a decreasing curve).

    Hille 2001, *Ion Channels of Excitable Membranes*, 3rd ed., ch. 2 (computed as
    ``(1 + tanh((V - V_half)/(2k)))/2``, the same function without overflow).

    Parameters
    ----------
    voltage : float or array_like, mV (or any one voltage unit)
        Membrane potential ``V``.
    v_half : float, same unit as ``voltage``
        Half-activation voltage.
    slope : float, same unit as ``voltage``
        Slope factor ``k`` (non-zero).

    Returns
    -------
    numpy.ndarray, dimensionless
        The open probability, the shape of ``voltage``.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * (np.asarray(voltage, dtype=float) - v_half) / slope))


def fit_boltzmann(voltage: ArrayLike, values: ArrayLike) -> tuple[float, float]:
    """Least-squares Boltzmann fit ``(V_half, k)``; start from the 1/2 crossing and its slope.

    Levenberg-Marquardt (``scipy.optimize.least_squares(method="lm")``) on the residual of
    :func:`boltzmann`, started at :func:`boltzmann_midpoint` (or at the median voltage and
    ``k = 10`` when the curve does not cross 1/2).

    Parameters
    ----------
    voltage : array_like, mV (or any one voltage unit)
        Voltages, 1-D.
    values : array_like, dimensionless
        The curve at ``voltage`` (open probabilities in [0, 1]).

    Returns
    -------
    v_half : float, unit of ``voltage``
        Half-activation voltage.
    slope : float, unit of ``voltage``
        Slope factor ``k``.

    Examples
    --------
    >>> v = np.linspace(-100, 20, 121)
    >>> [round(x, 6) for x in fit_boltzmann(v, boltzmann(v, -40.0, 9.0))]
    [-40.0, 9.0]
    """
    voltage = np.asarray(voltage, dtype=float)
    values = np.asarray(values, dtype=float)
    v_cross, slope_mid = boltzmann_midpoint(voltage, values)
    start = [v_cross if np.isfinite(v_cross) else float(np.median(voltage)),
             slope_mid if np.isfinite(slope_mid) and slope_mid != 0 else 10.0]

    def residual(parameters):
        return boltzmann(voltage, *parameters) - values

    solution = optimize.least_squares(residual, start, method="lm", xtol=1e-14, ftol=1e-14)
    return float(solution.x[0]), float(solution.x[1])


def boltzmann_midpoint(voltage: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """Voltage of the crossing ``x = 1/2`` and the midpoint slope factor ``1/(4 dx/dV)`` there.

    The crossing is interpolated linearly between the first pair of samples that straddle 1/2;
    the slope ``dx/dV`` is :func:`numpy.gradient` interpolated to it. For an exact Boltzmann
    ``dx/dV = 1/(4k)`` at ``V_half``, so the factor equals ``k``.

    Parameters
    ----------
    voltage : numpy.ndarray, mV (or any one voltage unit)
        Increasing voltages, 1-D.
    values : numpy.ndarray, dimensionless
        The curve at ``voltage``.

    Returns
    -------
    crossing : float, unit of ``voltage``
        Where the curve crosses 1/2 first (NaN if it never does).
    slope_factor : float, unit of ``voltage``
        ``1/(4 dx/dV)`` there (NaN if no crossing).

    Examples
    --------
    >>> v = np.linspace(-100.0, 20.0, 1201)
    >>> [round(x, 2) for x in boltzmann_midpoint(v, boltzmann(v, -40.0, 9.0))]
    [-40.0, 9.0]
    """
    above = values >= 0.5
    change = np.nonzero(above[1:] != above[:-1])[0]
    if change.size == 0:
        return np.nan, np.nan
    i = change[0]
    fraction = (0.5 - values[i]) / (values[i + 1] - values[i])
    crossing = voltage[i] + fraction * (voltage[i + 1] - voltage[i])
    derivative = np.gradient(values, voltage)
    slope = np.interp(crossing, voltage, derivative)
    return float(crossing), float(1.0 / (4.0 * slope))
