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

import numpy as np
from scipy import optimize

__all__ = ["boltzmann", "fit_boltzmann", "boltzmann_midpoint"]


def boltzmann(voltage, v_half, slope):
    """Two-state Boltzmann ``1/(1 + exp(-(V - V_half)/k))`` (``k < 0``: a decreasing curve)."""
    return 0.5 * (1.0 + np.tanh(0.5 * (np.asarray(voltage, dtype=float) - v_half) / slope))


def fit_boltzmann(voltage, values):
    """Least-squares Boltzmann fit ``(V_half, k)``; start from the 1/2 crossing and its slope.

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


def boltzmann_midpoint(voltage, values):
    """Voltage of the crossing ``x = 1/2`` (linear interpolation) and the midpoint slope factor
    ``1/(4 dx/dV)`` there (equal to ``k`` for an exact Boltzmann)."""
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
