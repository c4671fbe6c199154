"""Population mean field on a given transfer function: fixed points, folds, cusp, slowing-down,
finite-size fluctuations (THEORY.md section 6c; predictions Q1-Q5).

A population of neurones, each receiving ``K`` recurrent inputs of weight ``w`` from the
population and an external drive ``mu_ext`` with noise ``sigma_ext``, has the population rate
``r`` as order parameter. In the diffusion approximation each neurone sees Gaussian input of
mean and variance (Amit & Brunel 1997, Cereb. Cortex 7:237, Eqs. 4-5; Brunel 2000,
J. Comput. Neurosci. 8:183, Eqs. 4-5)::

    mu(r)      = mu_ext + a w r            (a = K tau for delta synapses, K tau_s for current
    sigma(r)^2 = sigma_ext^2 + b w^2 r      synapses; b likewise: see neurophase.mapping.population)

and fires at ``phi(mu, sigma)``, the transfer function of the uncoupled neurone, so the
stationary states solve ``r = F(r) = phi(mu(r), sigma(r))``. This module is model-free: it
takes ``phi`` as a vectorised function of plain numbers (any consistent units) and ``a``, ``b``.

The drive that makes ``r`` a fixed point
----------------------------------------
Because ``phi`` increases with ``mu``, every rate ``r`` is a fixed point for exactly one drive
``mu*(r; w) = m(r, sigma(r)) - a w r`` where ``m(., sigma)`` is the inverse of ``phi(., sigma)``.
The curve of fixed points is the graph of ``mu*``; differentiating ``F(r; mu*(r)) = r`` gives
``dmu*/dr = (1 - dF/dr) / (dphi/dmu)``, so (first-order rate dynamics
``tau dr/dt = -r + F(r)``, Wilson & Cowan 1972, Biophys. J. 12:1) a fixed point is stable when
``dmu*/dr > 0`` (``dF/dr < 1``). Hence

- the folds (saddle-nodes, the spinodals) are the extrema of ``mu*(r)`` in ``r``;
- the cusp (critical point) is where the extrema appear: ``dmu*/dr = 0`` and
  ``d^2 mu*/dr^2 = 0`` together, equivalently ``dF/dr = 1`` and ``d^2F/dr^2 = 0`` (``K w tau phi' = 1``
  and ``phi'' = 0`` when the noise does not depend on ``r``); it is solved as the root in ``w`` of
  ``min_r dmu*/dr``;
- the susceptibility ``chi = dr/dmu_ext = 1 / (dmu*/dr)`` is largest at the inflection of
  ``mu*`` (the Widom line, the analogue of ``h = 0``), where it diverges at the cusp as
  ``1/|w - w_c|`` and the relaxation time ``tau / (1 - dF/dr)`` with it.

Finite populations (linear noise)
---------------------------------
``N`` neurones whose unperturbed spike trains have low-frequency power ``r CV^2`` (a renewal
process; Cox 1962, Renewal Theory, ch. 7) and which feed their population activity ``A`` back
through ``G(omega) = F' exp(-i omega D) / ((1 + i omega tau)(1 + i omega tau_s))`` have
(linear response about the fixed point: Brunel & Hakim 1999, Neural Comput. 11:1621, section 5
for the finite-size source term; Lindner, Doiron & Longtin 2005, Phys. Rev. E 72:061919, Eq. 10
for the network spectrum; van Kampen 1981 for the system-size expansion)::

    S_A(omega) = r CV^2 / (N |1 - G(omega)|^2)
    N Var(A_Delta) = r CV^2 int dw/(2 pi) sinc^2(w Delta / 2) / |1 - G(w)|^2

for the activity averaged over bins of width ``Delta``; for ``Delta >> tau/(1 - F')`` this is
``r CV^2 / (Delta (1 - F')^2)``, the fluctuation-dissipation form ``Var ~ chi``. The first-order
filter ``1/(1 + i omega tau)`` is the assumption of the rate model; the long-bin limit does not
depend on it.

Classes
-------
RateMap
    ``F(r; w, mu_ext)`` with its derivatives, fixed points, folds, cusp and Widom line.
Cusp
    The critical point found by :meth:`RateMap.cusp`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from scipy import integrate, optimize

from neurophase.docstrings import template

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["RateMap", "Cusp", "FixedPoint", "binned_variance_factor"]

_RATE = """rate : float or array_like, rate unit
    Population rate ``r``."""
_COUPLING = """coupling : float, coupling unit
    ``w``."""
_doc = template(
    parameters_rate_coupling_drive=f"""Parameters
----------
{_RATE}
{_COUPLING}
drive : float or array_like, drive unit
    ``mu_ext``.""",
    parameters_rate_coupling=f"Parameters\n----------\n{_RATE}\n{_COUPLING}",
    parameters_coupling_drive=f"""Parameters
----------
{_COUPLING}
drive : float, drive unit
    ``mu_ext``.""",
    parameters_coupling=f"Parameters\n----------\n{_COUPLING}",
)


@dataclasses.dataclass(frozen=True)
class FixedPoint:
    """One stationary state: rate, slope ``dF/dr`` there, and stability (``slope < 1``).

    Attributes
    ----------
    rate : float, rate unit of ``phi`` (Hz)
        ``r`` with ``r = F(r)``.
    slope : float, dimensionless
        ``dF/dr`` there.
    stable : bool
        ``slope < 1`` (first-order rate dynamics, module docstring).
    """

    rate: float
    slope: float
    stable: bool


@dataclasses.dataclass(frozen=True)
class Cusp:
    """The critical point: coupling ``w_c``, drive ``mu_c``, rate ``r_c`` (``F' = 1, F'' = 0``).

    Attributes
    ----------
    coupling : float, coupling unit
        ``w_c``.
    drive : float, drive unit
        ``mu_c``.
    rate : float, rate unit (Hz)
        ``r_c``.
    slope : float, dimensionless
        ``F'(r_c)`` (1 up to the numerical tolerance).
    curvature : float, 1/rate unit
        ``F''(r_c)`` (0 up to the numerical tolerance).
    """

    coupling: float
    drive: float
    rate: float
    slope: float
    curvature: float


def _positive(value, name):
    value = float(value)
    if not value > 0 or not math.isfinite(value):
        raise ValueError(f"{name} must be finite and positive; got {value!r}.")
    return value


class RateMap:
    """The self-consistency map ``F(r) = phi(mu_ext + a w r, sqrt(sigma_ext^2 + b w^2 r))``.

    Parameters
    ----------
    phi : callable
        ``phi(mean, std, filtered_std) -> rate``, vectorised over numpy arrays (plain numbers in
        any consistent units). ``filtered_std`` is the part of the noise due to the recurrent
        synapses (used by transfer functions that correct for synaptic filtering; others
        ignore it).
    mean_gain, variance_gain : float
        ``a`` and ``b`` above (``mu_rec = a w r``, ``sigma_rec^2 = b w^2 r``).
    noise : float
        External noise amplitude ``sigma_ext`` (>= 0; the total must stay > 0).
    rate_max : float
        An upper bound of the rate (e.g. ``1/tau_ref``): fixed points are searched in
        ``[0, rate_max)``.
    drive_bounds : (float, float)
        Drives within which ``phi`` is defined and ``mu*`` is searched.
    """

    def __init__(self, phi: Callable[[np.ndarray, np.ndarray, np.ndarray], ArrayLike], mean_gain: float,
                 variance_gain: float, noise: float, rate_max: float, drive_bounds: tuple[float, float]) -> None:
        self.phi = phi
        self.mean_gain = float(mean_gain)
        self.variance_gain = float(variance_gain)
        if self.variance_gain < 0:
            raise ValueError("variance_gain must be >= 0.")
        self.noise = float(noise)
        if self.noise < 0:
            raise ValueError("noise must be >= 0.")
        self.rate_max = _positive(rate_max, "rate_max")
        self.drive_bounds = (float(drive_bounds[0]), float(drive_bounds[1]))
        self._step = 1e-4 * self.rate_max

    # ------------------------------------------------------------------ the map and its slope
    @_doc
    def moments(self, rate: ArrayLike, coupling: float, drive: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean, total std and recurrent (filtered) std of the input at rate ``rate``.

        ``mu = mu_ext + a w r`` and ``sigma^2 = sigma_ext^2 + b w^2 r`` (diffusion approximation,
        Amit & Brunel 1997, Eqs. 4-5; Brunel 2000, Eqs. 4-5).

        %(parameters_rate_coupling_drive)s

        Returns
        -------
        mean, std, filtered_std : numpy.ndarray, drive unit
            ``mu``, ``sigma`` and ``sqrt(b w^2 r)``.
        """
        rate = np.asarray(rate, float)
        filtered_var = self.variance_gain * coupling**2 * np.clip(rate, 0.0, None)
        mean = drive + self.mean_gain * coupling * rate
        std = np.sqrt(self.noise**2 + filtered_var)
        return mean, std, np.sqrt(filtered_var)

    @_doc
    def value(self, rate: ArrayLike, coupling: float, drive: ArrayLike) -> np.ndarray:
        """``F(r)``: the rate of an uncoupled neurone given the input of a population at ``r``.

        %(parameters_rate_coupling_drive)s

        Returns
        -------
        numpy.ndarray, rate unit
            ``phi(mu(r), sigma(r))``.
        """
        mean, std, filtered = self.moments(rate, coupling, drive)
        return np.asarray(self.phi(mean, std, filtered), float)

    @_doc
    def slope(self, rate: ArrayLike, coupling: float, drive: ArrayLike, order: int = 1) -> np.ndarray:
        """``d^order F / dr^order`` (central differences, ``order`` 1 or 2).

        %(parameters_rate_coupling_drive)s
        order : int
            1 or 2.

        Returns
        -------
        numpy.ndarray, rate unit**(1 - order)
            The derivative.
        """
        rate = np.asarray(rate, float)
        h = self._step + 1e-4 * np.abs(rate)
        lower = np.maximum(rate - h, 0.0)
        upper = lower + 2 * h
        middle = lower + h
        f_low = self.value(lower, coupling, drive)
        f_high = self.value(upper, coupling, drive)
        if order == 1:
            return (f_high - f_low) / (2 * h)
        if order == 2:
            return (f_high - 2 * self.value(middle, coupling, drive) + f_low) / h**2
        raise ValueError("order must be 1 or 2.")

    @_doc
    def drive_slope(self, rate: ArrayLike, coupling: float, drive: ArrayLike) -> np.ndarray:
        """``dF/dmu_ext`` at fixed ``r`` (``= dphi/dmu``), by a central difference.

        %(parameters_rate_coupling_drive)s

        Returns
        -------
        numpy.ndarray, rate unit / drive unit
            The derivative.
        """
        h = 1e-5 * max(1.0, abs(self.drive_bounds[1] - self.drive_bounds[0]))
        return (self.value(rate, coupling, drive + h) - self.value(rate, coupling, drive - h)) / (2 * h)

    @_doc
    def loop_gain(self, rate: ArrayLike, coupling: float, drive: ArrayLike) -> np.ndarray:
        """``1 / (1 - F'(r))`` at a fixed point ``r``: how much the recurrent loop amplifies an
        error of the transfer function.

        If the network's transfer is ``F(r) - delta`` instead of ``F(r)``, its fixed point moves
        by ``-delta / (1 - F'(r*))`` to first order (perturbation of ``r* = F(r*)``: ``r* + dr =
        F(r*) + F'(r*) dr - delta``); the same factor is the static susceptibility
        ``dr*/dmu_ext = F_mu / (1 - F')`` over the open-loop one, which diverges at the cusp
        (Amit & Brunel 1997, stability of the fixed points; THEORY.md section 6c).

        %(parameters_rate_coupling_drive)s

        Returns
        -------
        numpy.ndarray, dimensionless
            ``1 / (1 - F'(r))`` (infinite where ``F' = 1``, negative on unstable branches).
        """
        slope = self.slope(rate, coupling, drive)
        with np.errstate(divide="ignore"):
            return 1.0 / (1.0 - slope)

    # ------------------------------------------------------------------ drive of a fixed point
    @_doc
    def fixed_point_drive(self, rate: ArrayLike, coupling: float) -> np.ndarray:
        """``mu*(r; w)``: the external drive for which ``r`` is a fixed point (vectorised).

        Bisection on ``phi`` (increasing in ``mu``) between :attr:`drive_bounds`; NaN where ``r``
        is outside ``phi``'s range there.

        %(parameters_rate_coupling)s

        Returns
        -------
        numpy.ndarray, drive unit
            ``mu*``, at least 1-D.
        """
        rate = np.atleast_1d(np.asarray(rate, float))
        low = np.full(rate.shape, self.drive_bounds[0])
        high = np.full(rate.shape, self.drive_bounds[1])
        f_low = self.value(rate, coupling, low) - rate
        f_high = self.value(rate, coupling, high) - rate
        valid = (f_low <= 0) & (f_high >= 0)
        for _ in range(56):
            middle = 0.5 * (low + high)
            above = self.value(rate, coupling, middle) - rate >= 0
            high = np.where(above, middle, high)
            low = np.where(above, low, middle)
        result = np.where(valid, 0.5 * (low + high), np.nan)
        return result

    def _drive_derivatives(self, rate, coupling):
        """``dmu*/dr`` and ``d^2 mu*/dr^2`` from the implicit relation (no nested differences).

        With ``mu = mu*(r)``: ``mu*' = (1 - F_r)/F_mu``; the second derivative by a central
        difference of that analytic first derivative along the fixed-point curve.
        """
        rate = np.asarray(rate, float)

        def first(r):
            drive = self.fixed_point_drive(r, coupling)
            return (1.0 - self.slope(r, coupling, drive)) / self.drive_slope(r, coupling, drive)

        h = self._step * 10 + 1e-3 * np.abs(rate)
        lower = np.maximum(rate - h, 1e-12)
        d1 = first(rate)
        d2 = (first(lower + 2 * h) - first(lower)) / (2 * h)
        return d1, d2

    # ------------------------------------------------------------------ fixed points
    def rate_grid(self, count: int = 1200) -> np.ndarray:
        """Rates at which sign changes are searched: dense at low rates, up to ``rate_max``.

        Parameters
        ----------
        count : int
            Geometrically spaced rates (0 is added in front).

        Returns
        -------
        numpy.ndarray, rate unit
            ``count + 1`` rates from 0 to ``0.999 rate_max``.
        """
        geometric = self.rate_max * np.geomspace(1e-7, 0.999, count)
        return np.concatenate([[0.0], geometric])

    @_doc
    def fixed_points(self, coupling: float, drive: float) -> list[FixedPoint]:
        """Every fixed point of ``F`` at ``(w, mu_ext)``, lowest rate first (list of FixedPoint).

        %(parameters_coupling_drive)s

        Returns
        -------
        list of FixedPoint
            Sign changes of ``F(r) - r`` on :meth:`rate_grid`, refined by Brent's method.
        """
        grid = self.rate_grid()
        g = self.value(grid, coupling, drive) - grid
        roots = []
        for index in np.flatnonzero(np.sign(g[:-1]) * np.sign(g[1:]) < 0):
            root = optimize.brentq(lambda r: float(self.value(r, coupling, drive) - r),
                                   grid[index], grid[index + 1], xtol=1e-12, rtol=1e-12)
            roots.append(root)
        for index in np.flatnonzero(g == 0):
            roots.append(float(grid[index]))
        roots = sorted(roots)
        points = []
        for root in roots:
            slope = float(self.slope(root, coupling, drive))
            points.append(FixedPoint(rate=float(root), slope=slope, stable=slope < 1.0))
        return points

    @_doc
    def stable_branch(self, coupling: float, drive: float, start: float) -> FixedPoint | None:
        """The stable fixed point reached by ``tau dr/dt = -r + F(r)`` from rate ``start``.

        In one dimension the flow from ``start`` ends at the nearest stable fixed point in the
        direction of ``F(start) - start``.

        %(parameters_coupling_drive)s
        start : float, rate unit
            Initial rate.

        Returns
        -------
        FixedPoint or None
            None when no fixed point is stable.
        """
        points = self.fixed_points(coupling, drive)
        stable = [point for point in points if point.stable]
        if not stable:
            return None
        direction = float(self.value(start, coupling, drive) - start)
        if direction >= 0:
            above = [point for point in stable if point.rate >= start - 1e-12]
            return above[0] if above else stable[-1]
        below = [point for point in stable if point.rate <= start + 1e-12]
        return below[-1] if below else stable[0]

    # ------------------------------------------------------------------ folds and cusp
    def _profile(self, coupling, count=240):
        """``(rates, dmu*/dr)`` on a rate grid (vectorised; cached per coupling)."""
        cache = self.__dict__.setdefault("_profiles", {})
        key = (float(coupling), count)
        if key not in cache:
            grid = self.rate_grid(count)[1:]
            d1, _ = self._drive_derivatives(grid, coupling)
            if len(cache) > 256:
                cache.clear()
            cache[key] = (grid, d1)
        return cache[key]

    def _derivative(self, rate, coupling):
        return float(self._drive_derivatives(np.array([rate]), coupling)[0][0])

    def _steepest(self, coupling):
        """The rate of the minimum of ``dmu*/dr`` (the inflection of the fixed-point curve)."""
        grid, d1 = self._profile(coupling)
        finite = np.isfinite(d1)
        if not finite.any():
            raise ValueError("No fixed point lies within drive_bounds at this coupling.")
        index = int(np.nanargmin(np.where(finite, d1, np.nan)))
        low = grid[max(index - 1, 0)]
        high = grid[min(index + 1, grid.size - 1)]
        result = optimize.minimize_scalar(lambda r: self._derivative(r, coupling),
                                          bounds=(low, high), method="bounded",
                                          options={"xatol": 1e-9 * self.rate_max})
        return float(result.x), float(result.fun)

    @_doc
    def widom_point(self, coupling: float) -> tuple[float, float]:
        """``(drive, rate)`` of largest susceptibility ``dr/dmu_ext`` at coupling ``w``.

        The inflection of the fixed-point curve: the analogue of the field ``h = 0`` line of the
        Ising model (below ``w_c`` the susceptibility peaks there; above it the point lies
        between the two folds).

        %(parameters_coupling)s

        Returns
        -------
        drive : float, drive unit
            ``mu*`` at the inflection.
        rate : float, rate unit
            The rate there.
        """
        rate, _ = self._steepest(coupling)
        return float(self.fixed_point_drive(rate, coupling)[0]), rate

    @_doc
    def folds(self, coupling: float) -> list[tuple[float, float]]:
        """The folds at coupling ``w``: list of ``(drive, rate)`` (empty below the cusp).

        Extrema of ``mu*(r)``: the roots of ``dmu*/dr`` nearest to its minimum on either side.

        %(parameters_coupling)s

        Returns
        -------
        list of (float, float)
            ``(drive, rate)`` of each fold (drive unit, rate unit), lower rate first.
        """
        rate_min, value_min = self._steepest(coupling)
        if value_min >= 0:
            return []
        grid, d1 = self._profile(coupling)
        roots = []
        below = np.flatnonzero((grid < rate_min) & (d1 > 0))
        if below.size:
            start = grid[below[-1]]
            roots.append(optimize.brentq(lambda r: self._derivative(r, coupling), start, rate_min,
                                         xtol=1e-10 * self.rate_max))
        above = np.flatnonzero((grid > rate_min) & (d1 > 0))
        if above.size:
            stop = grid[above[0]]
            roots.append(optimize.brentq(lambda r: self._derivative(r, coupling), rate_min, stop,
                                         xtol=1e-10 * self.rate_max))
        return [(float(self.fixed_point_drive(root, coupling)[0]), float(root)) for root in roots]

    def cusp(self, coupling_bracket: tuple[float, float]) -> Cusp:
        """The critical point: the coupling at which ``min_r dmu*/dr`` crosses 0.

        Parameters
        ----------
        coupling_bracket : (float, float), coupling unit
            Couplings below and above the cusp (``min dmu*/dr`` of opposite signs).

        Returns
        -------
        Cusp
            ``w_c`` (Brent's method), with the drive and rate of the inflection there.

        Raises
        ------
        ValueError
            The bracket does not contain the cusp.
        """
        low, high = (float(value) for value in coupling_bracket)
        g_low = self._steepest(low)[1]
        g_high = self._steepest(high)[1]
        if not (g_low > 0 > g_high):
            raise ValueError(
                f"The coupling bracket ({low:g}, {high:g}) does not contain the cusp "
                f"(min dmu*/dr = {g_low:.3g}, {g_high:.3g}); widen it.")
        w_c = optimize.brentq(lambda w: self._steepest(w)[1], low, high, xtol=1e-10 * abs(high),
                              rtol=1e-10)
        rate, _ = self._steepest(w_c)
        drive = float(self.fixed_point_drive(rate, w_c)[0])
        return Cusp(coupling=float(w_c), drive=drive, rate=float(rate),
                    slope=float(self.slope(rate, w_c, drive)),
                    curvature=float(self.slope(rate, w_c, drive, order=2)))

    @_doc
    def bistable_range(self, coupling: float) -> tuple[float, float] | None:
        """``(lower fold drive, upper fold drive)`` or ``None`` below the cusp.

        %(parameters_coupling)s

        Returns
        -------
        (float, float) or None
            The drives (drive unit) between which two stable states coexist.
        """
        folds = self.folds(coupling)
        if len(folds) < 2:
            return None
        drives = sorted(drive for drive, _ in folds)
        return drives[0], drives[1]


def binned_variance_factor(slope: float, bin_width: float, time_constant: float, delay: float = 0.0,
                           synaptic_tau: float = 0.0) -> float:
    """``Delta * int dw/(2 pi) sinc^2(w Delta/2) / |1 - G(w)|^2`` (dimensionless).

    Multiply by ``r CV^2 / Delta`` to get ``N Var(A_Delta)`` (module docstring). Equals 1 without
    feedback and tends to ``1/(1 - F')^2`` for bins much longer than the relaxation time.

    Parameters
    ----------
    slope : float, dimensionless
        ``F'`` at the fixed point (``< 1``).
    bin_width, time_constant, delay, synaptic_tau : float, one time unit
        ``Delta``, the rate-model ``tau``, the transmission delay ``D`` and ``tau_s`` (one time
        unit).

    Returns
    -------
    float, dimensionless
        The factor (infinite for ``slope >= 1``).

    Examples
    --------
    >>> round(binned_variance_factor(0.0, 0.1, 0.02), 6)
    1.0
    >>> round(binned_variance_factor(0.5, 1000.0, 0.02), 3)
    4.0
    """
    slope = float(slope)
    if slope >= 1:
        return math.inf
    delta = float(bin_width)

    def integrand(x):  # x = omega * Delta / 2
        omega = 2 * x / delta
        gain = slope * np.exp(-1j * omega * delay) / ((1 + 1j * omega * time_constant)
                                                       * (1 + 1j * omega * synaptic_tau))
        sinc = 1.0 if x == 0 else math.sin(x) / x
        return sinc**2 / abs(1 - gain) ** 2

    # Delta * (1/pi) int_0^inf d omega ... = (2/pi) int_0^inf dx ...
    total = 0.0
    edges = np.concatenate([[0.0], np.pi * np.arange(1, 200)])
    relax = max(time_constant / max(1 - slope, 1e-9), 1e-12)
    extra = sorted({float(min(delta / (2 * relax), edges[-1]))})
    for start, stop in zip(edges[:-1], edges[1:]):
        points = [value for value in extra if start < value < stop]
        piece, _ = integrate.quad(integrand, start, stop, points=points or None, limit=200,
                                  epsabs=1e-12, epsrel=1e-9)
        total += piece
    # tail beyond x = 199 pi: |1 - G| -> 1, sinc^2 averages to 1/(2 x^2)
    total += 1.0 / (2 * edges[-1])
    return float(2.0 / np.pi * total)
