"""Stationary firing of the leaky integrate-and-fire neurone driven by Gaussian white noise.

The membrane ``tau_m dV/dt = -V + mu + sigma sqrt(tau_m) xi(t)`` (V relative to rest, xi unit
white noise), threshold ``theta``, reset ``V_r``, absolute refractory period ``tau_ref``, fires at
the mean first-passage rate (A. J. F. Siegert 1951, Phys. Rev. 81:617; in this form N. Brunel &
V. Hakim 1999, Neural Comput. 11:1621, Eq. 21; N. Brunel 2000, J. Comput. Neurosci. 8:183,
Eq. 21)::

    1 / r = tau_ref + tau_m sqrt(pi) * integral_{y_r}^{y_th} exp(u**2) (1 + erf(u)) du,
    y_th = (theta - mu) / sigma,   y_r = (V_r - mu) / sigma.

Numerics
--------
The integrand is ``erfcx(-u)`` (scaled complementary error function), bounded by 1 for
``u <= 0`` and growing as ``2 exp(u**2)`` for ``u > 0``. The integral is split at 0: on the
negative side ``integral erfcx(s) ds`` is a smooth bounded integral evaluated by fixed-order
Gauss-Legendre quadrature in ``x = log(1 + s)`` (so that long intervals at strong drive cost
nothing extra); on the positive side ``erfcx(-u) = 2 exp(u**2) - erfcx(u)`` and
``integral_0^y exp(u**2) du = exp(y**2) D(y)`` with Dawson's integral ``D``. When ``y_th > 0`` the
rate is computed as ``exp(-y_th**2) / (...)`` with every term scaled by ``exp(-y_th**2)``, so nothing
overflows however far below threshold the mean input lies (the same idea as NNMT, Layer et al.
2022, Front. Neuroinform. 16:835657, appendix A.1; implemented here independently).

Synaptic filtering
------------------
With exponential synaptic currents of time constant ``tau_s << tau_m`` the rate is the white-noise
rate with threshold and reset both shifted up by ``sigma alpha/2 sqrt(tau_s/tau_m)``,
``alpha = sqrt(2) |zeta(1/2)|`` (N. Fourcaud & N. Brunel 2002, Neural Comput. 14:2057, Eq. 4.33
and the equation after it); ``sigma`` there is the amplitude of the filtered part of the noise.

Inter-spike-interval variability
--------------------------------
``CV**2 = 2 pi (r tau_m)**2 integral_{y_r}^{y_th} exp(x**2) dx integral_{-inf}^{x}
exp(y**2) (1 + erf y)**2 dy`` (Brunel 2000, Eq. A.? of the appendix "CV of the ISI", after
Tuckwell 1988, Introduction to Theoretical Neurobiology vol. 2): the low-frequency power of a
renewal spike train is ``r CV**2``, which sets the finite-size noise of a population.

Functions
---------
siegert_rate
    Quantities in, rate in Hz out (units checked).
siegert_rate_si
    The same on plain numbers in SI units (volts, seconds), vectorised: the numerical core.
siegert_cv_squared_si
    Squared ISI coefficient of variation (nested quadrature; scalars).
fourcaud_brunel_shift
    The threshold/reset shift ``alpha/2 sqrt(tau_s/tau_m)`` per unit of noise amplitude.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from neurophase.errors import ParameterError
from neurophase.units import to_magnitude

if TYPE_CHECKING:
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

__all__ = ["siegert_rate", "siegert_rate_si", "siegert_cv_squared_si", "fourcaud_brunel_shift",
           "FOURCAUD_BRUNEL_ALPHA"]

#: alpha = sqrt(2) |zeta(1/2)| (Fourcaud & Brunel 2002, Eq. 4.33); zeta(1/2) = -1.4603545...
FOURCAUD_BRUNEL_ALPHA = math.sqrt(2.0) * abs(float(special.zetac(0.5)) + 1.0)

_ORDER = 64
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(_ORDER)
_SQRT_PI = math.sqrt(math.pi)


def fourcaud_brunel_shift(synaptic_tau: float, membrane_tau: float) -> float:
    """``alpha/2 sqrt(tau_s/tau_m)``: threshold and reset shift per unit noise amplitude.

    Fourcaud & Brunel (2002), Neural Comput. 14:2057, Eq. 4.33. Plain numbers in one time unit.

    Parameters
    ----------
    synaptic_tau : float, any time unit
        ``tau_s >= 0``.
    membrane_tau : float, the same unit
        ``tau_m > 0``.

    Returns
    -------
    float, dimensionless
        The shift in units of the noise amplitude ``sigma``.

    Examples
    --------
    >>> round(fourcaud_brunel_shift(0.002, 0.02), 4)
    0.3266
    """
    if synaptic_tau < 0 or membrane_tau <= 0:
        raise ParameterError("synaptic_tau must be >= 0 and membrane_tau > 0 for the "
                             "Fourcaud-Brunel shift.")
    return 0.5 * FOURCAUD_BRUNEL_ALPHA * math.sqrt(synaptic_tau / membrane_tau)


def _erfcx_integral(low, high):
    """``integral_low^high erfcx(s) ds`` for ``0 <= low <= high`` (arrays, broadcast).

    Gauss-Legendre in ``x = log(1 + s)``: ``ds = (1 + s) dx`` and ``erfcx(s) (1 + s)`` is smooth and
    bounded (it tends to ``1/sqrt(pi)``), so 64 nodes give full double precision.
    """
    low = np.asarray(low, float)
    high = np.asarray(high, float)
    a = np.log1p(low)[..., None]
    b = np.log1p(high)[..., None]
    x = 0.5 * (b - a) * _NODES + 0.5 * (b + a)
    s = np.expm1(x)
    values = special.erfcx(s) * (1.0 + s)
    return 0.5 * (b - a)[..., 0] * np.sum(_WEIGHTS * values, axis=-1)


def siegert_rate_si(mu: ArrayLike, sigma: ArrayLike, tau_m: float, threshold: float, reset: float,
                    refractory: float, synaptic_tau: float = 0.0) -> np.ndarray:
    """Siegert rate (Hz) on plain numbers in SI units: volts relative to rest, seconds.

    The mean first-passage rate of the module docstring (Siegert 1951, Phys. Rev. 81:617;
    Brunel 2000, J. Comput. Neurosci. 8:183, Eq. 21), with the Fourcaud-Brunel shift (Fourcaud
    & Brunel 2002, Eq. 4.33) for ``synaptic_tau > 0``.

    Parameters
    ----------
    mu, sigma : array_like, V
        Mean and amplitude of the input in volts (``sigma > 0``), in the convention
        ``tau_m dV/dt = -V + mu + sigma sqrt(tau_m) xi``.
    tau_m, refractory : float, s
        Membrane time constant and absolute refractory period (s).
    threshold, reset : float, V
        Threshold and reset relative to rest (V), ``reset < threshold``.
    synaptic_tau : float, s
        Exponential synaptic time constant (s); > 0 applies the Fourcaud-Brunel shift to the
        whole ``sigma``.

    Returns
    -------
    numpy.ndarray, Hz
        Rates in Hz (broadcast shape of ``mu`` and ``sigma``).
    """
    mu, sigma = np.broadcast_arrays(np.asarray(mu, float), np.asarray(sigma, float))
    if np.any(sigma <= 0) or not np.all(np.isfinite(sigma)):
        raise ParameterError("The Siegert rate needs a finite noise amplitude sigma > 0; "
                             "give a positive noise.")
    if np.any(np.asarray(reset) >= np.asarray(threshold)):
        raise ParameterError("The reset must lie below the threshold.")
    shift = fourcaud_brunel_shift(synaptic_tau, tau_m) * sigma if synaptic_tau else 0.0
    y_th = (threshold + shift - mu) / sigma
    y_r = (reset + shift - mu) / sigma
    # negative part: u in [y_r, min(y_th, 0)] -> s = -u in [max(-y_th, 0), -y_r]
    s_low = np.maximum(-y_th, 0.0)
    s_high = np.maximum(-y_r, s_low)
    negative = _erfcx_integral(s_low, s_high)
    # positive part: u in [max(y_r, 0), y_th] where y_th > 0
    positive_side = y_th > 0
    a = np.clip(y_r, 0.0, None)
    b = np.maximum(y_th, a)
    with np.errstate(over="ignore", under="ignore"):
        scale = np.where(positive_side, np.exp(-b**2), 1.0)
        dawson_part = np.where(
            positive_side,
            2.0 * special.dawsn(b) - 2.0 * np.exp(a**2 - b**2) * special.dawsn(a), 0.0)
        erfcx_part = _erfcx_integral(a, b)
        # scaled integral: exp(-y_th^2) * integral (or the integral itself when y_th <= 0)
        scaled = dawson_part + scale * (negative - np.where(positive_side, erfcx_part, 0.0))
        rate = scale / (scale * refractory + tau_m * _SQRT_PI * scaled)
    return np.asarray(rate, float)


def siegert_rate(mean: Quantity, noise: Quantity, tau_m: Quantity, threshold: Quantity, reset: Quantity,
                 refractory: Quantity, synaptic_tau: Quantity | None = None) -> Quantity:
    """Siegert rate of the LIF neurone (see the module docstring), with units.

    Parameters
    ----------
    mean, noise : Quantity (voltage)
        ``mu`` and ``sigma`` in volts (relative to rest, Brunel 2000 convention).
    tau_m, refractory : Quantity (time)
        Membrane time constant and absolute refractory period.
    threshold, reset : Quantity (voltage)
        Threshold and reset relative to rest (volts).
    synaptic_tau : Quantity (time), optional
        Exponential synaptic time constant (Fourcaud-Brunel shift).

    Returns
    -------
    Quantity (frequency)
        Rate in Hz.

    Examples
    --------
    >>> from brian2 import mV, ms
    >>> rate = siegert_rate(15 * mV, 5 * mV, 20 * ms, 20 * mV, 10 * mV, 2 * ms)
    >>> round(float(rate), 3)
    9.461
    """
    from brian2 import Hz

    values = siegert_rate_si(
        to_magnitude(mean, "volt", name="mean"), to_magnitude(noise, "volt", name="noise"),
        float(to_magnitude(tau_m, "second", name="tau_m")),
        float(to_magnitude(threshold, "volt", name="threshold")),
        float(to_magnitude(reset, "volt", name="reset")),
        float(to_magnitude(refractory, "second", name="refractory")),
        0.0 if synaptic_tau is None else float(to_magnitude(synaptic_tau, "second",
                                                            name="synaptic_tau")))
    return values * Hz


def siegert_cv_squared_si(mu: float, sigma: float, tau_m: float, threshold: float, reset: float,
                          refractory: float) -> float:
    """Squared ISI coefficient of variation of the white-noise LIF (plain SI numbers, scalars).

    ``CV**2 = 2 pi (r tau_m)**2 int_{y_r}^{y_th} e^{x**2} dx int_{-inf}^{x} e^{y**2} (1 + erf y)**2 dy``
    (Brunel 2000, appendix; the second moment of the first-passage time, Tuckwell 1988). The
    inner integrand is ``erfcx(-y)**2 exp(-y**2)``, evaluated by adaptive quadrature; the outer
    integrand is scaled by ``exp(-y_th**2)`` together with ``r**2`` so that it cannot overflow.

    Parameters
    ----------
    mu, sigma : float, V
        Mean and amplitude of the input (``sigma > 0``), as in :func:`siegert_rate_si`.
    tau_m, refractory : float, s
        Membrane time constant and absolute refractory period.
    threshold, reset : float, V
        Threshold and reset relative to rest.

    Returns
    -------
    float, dimensionless
        ``CV**2`` of the inter-spike intervals (1 where the rate is 0).

    Examples
    --------
    >>> round(siegert_cv_squared_si(0.015, 0.005, 0.02, 0.02, 0.01, 0.002), 4)
    0.6638
    """
    from scipy import integrate

    mu, sigma = float(mu), float(sigma)
    rate = float(siegert_rate_si(mu, sigma, tau_m, threshold, reset, refractory))
    if rate <= 0:
        return 1.0
    y_th = (threshold - mu) / sigma
    y_r = (reset - mu) / sigma

    top = max(y_th, 0.0)

    def scaled_inner(x):
        # exp(x^2 - top^2) int_{-inf}^x exp(y^2) (1 + erf y)^2 dy, with (1 + erf y) = erfc(-y):
        # integrand exp(x^2 - top^2 - y^2) erfcx(-y)^2, whose exponent is <= 0 for y <= x <= top
        lower = x - 30.0 - 60.0 / (2.0 * abs(x) + 1.0)
        value, _ = integrate.quad(lambda y: math.exp(x * x - top * top - y * y) * special.erfcx(-y) ** 2,
                                  lower, x, epsabs=0, epsrel=1e-10, limit=200)
        return value

    outer, _ = integrate.quad(scaled_inner, y_r, y_th, epsabs=0, epsrel=1e-9, limit=200)
    log_factor = 2.0 * math.log(rate * tau_m) + top * top
    return float(2.0 * math.pi * math.exp(log_factor) * outer)
