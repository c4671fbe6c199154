"""Channel number as the temperature of the order parameter: the noise side of the coarse-graining.

THEORY.md 6b. A conductance model coarse-grained by :func:`~neurophase.mapping.coarse_grain`
has an order-parameter gate ``m`` (HH: the Na activation gate) whose open fraction, with the
other gates frozen at rest and the voltage slaved to ``V*(m, I)``, obeys the deterministic
reduced dynamics ``dm/dt = alpha(V*)(1 - m) - beta(V*) m``. With ``N`` channels of ``a`` such
gates each (HH sodium: ``a = 3``) there are ``n = a N`` two-state gates, and the number ``k`` of
open ones is a birth-death chain (Chow & White 1996, Biophys. J. 71:3013, reduce stochastic HH
to one dimension in the same way):

    k -> k + 1  at rate  (n - k) alpha(V*(k/n, I)),      k -> k - 1  at rate  k beta(V*(k/n, I)).

:func:`gate_noise` builds this chain at a fixed drive and derives from it, with nothing fitted:

(i) the diffusion (Fokker-Planck, Kramers-Moyal to second order) approximation
    ``dm = A(m) dt + sqrt(B(m)/n) dW`` with ``A = alpha (1 - m) - beta m`` and
    ``B = alpha (1 - m) + beta m``; its quasi-potential ``Phi_diff(m) = -2 int A/B dm``, whose
    stationary density is ``exp(-n Phi_diff)/B``, and Kramers' escape rate
    ``r = sqrt(|A'(m_r)| A'(m_s)) / (2 pi) sqrt(B(m_r)/B(m_s)) exp(-n Delta Phi_diff)``
    (H. A. Kramers 1940, Physica 7:284; the state-dependent diffusion form follows from the
    mean first-passage time of a one-variable diffusion, C. W. Gardiner, *Handbook of Stochastic
    Methods*, sec. 5.2, evaluated by Laplace's method);
(ii) the WKB (large-deviation) quasi-potential of the chain itself,
    ``Phi_WKB(m) = int ln(beta m / (alpha (1 - m))) dm`` (its stationary law is
    ``exp(-n Phi_WKB)/sqrt(birth x death)`` to O(1)), with the rate
    ``r = sqrt(|A'(m_r)| A'(m_s)) / (2 pi) sqrt(B(m_r)/B(m_s)) exp(-n Delta Phi_WKB)``
    (P. Hanggi, H. Grabert, P. Talkner & H. Thomas 1984, Phys. Rev. A 29:371; C. R. Doering,
    K. V. Sargsyan & L. M. Sander 2005, Multiscale Model. Simul. 3:283; J. P. Keener &
    J. M. Newby 2011, Phys. Rev. E 84:011918, who show that the diffusion approximation gets
    the exponent wrong when the barrier is not small): the two prefactors coincide, and the
    integrands ``ln((1 + x)/(1 - x)) = 2x + 2x^3/3 + ...`` and ``2x`` differ at third order in
    the imbalance ``x = (death - birth)/(death + birth)``, so the barriers part only where the
    barrier is wide;
(iii) the EXACT mean first-passage time of the chain from its starting law (the binomial law
    of the gates at the resting voltage, as the Markov channel simulation starts) to the
    absorbing state half way from the saddle to the excited branch, as a finite sum
    (Gardiner sec. 7.4; N. G. van Kampen, *Stochastic Processes in Physics and Chemistry*,
    ch. XII): ``T(k) = sum_{y=k}^{K-1} [sum_{z<=y} pi(z)] / (birth(y) pi(y))`` with
    ``pi(z) = prod_{j<z} birth(j)/death(j+1)``;
(iv) the linear-noise (van Kampen system-size) variance of the order parameter at rest,
    ``Var(m) = B(m_r) / (2 |A'(m_r)| n) = m_r (1 - m_r) / ((1 - G) n)`` with ``G`` the loop
    gain at rest (the Curie-Weiss ``T chi / N`` of THEORY.md section 3), and from it the width
    of the firing probability after a brief pulse: ``P(fire | A, N) = Phi((A - A*)/sigma_A)``
    with ``sigma_A = |dA*/dm_0| sqrt(Var(m))``, where ``A*(m_0)`` is the pulse threshold of the
    derived fast subsystem (voltage and order-parameter gate, slow gates frozen; integrated,
    no kick approximation) started from ``(V*(m_0), m_0)``. ``sigma_A = C_A / sqrt(N)``:
    channel number is the temperature.

What the reduction neglects (stated, not hidden)
-------------------------------------------------
- the slow gates (HH: h and n) are frozen at rest, in the drift AND in the noise: their
  fluctuations, and the K channels' noise, are left out;
- the voltage is slaved to ``V*(m, I)`` (adiabatic; HH's membrane time constant, about 1.5 ms
  at rest, is LONGER than tau_m, about 0.24 ms, so the slaving is not a separation of time
  scales there);
- the gates are the spins: a channel conducts only when all its ``a`` gates are open, and the
  chain replaces the open-channel count by ``N (k/n)^a``. The exact channel-state count is
  binomial with ``p = m^a h`` at fixed voltage; its variance is much larger than the chain's
  (:meth:`GateNoise.open_fraction_variances`), the subunit-noise deficit of J. H. Goldwyn &
  E. Shea-Brown (2011), PLoS Comput. Biol. 7:e1002247;
- the pulse width counts only the fluctuations present at the pulse onset (noise during the
  pulse and during the escape would widen it).

Classes
-------
GateNoise
    The reduced chain at one drive: drift, diffusion, quasi-potentials, barriers, slopes of
    ln(rate) against N, Kramers and WKB rates, exact mean first-passage times, linear-noise
    variance, pulse threshold and width, derived firing probability, ``to_dataset``.

Functions
---------
gate_noise
    A :class:`~neurophase.mapping.CoarseGrainedMembrane` and the gates per channel -> GateNoise.
model_gate_rates
    A model file's own ``alpha_<gate>``, ``beta_<gate>`` as functions of the voltage.
log_first_passage_times
    Exact mean first-passage times of any birth-death chain (finite sum, in logarithms).
diffusion_quasi_potential, wkb_quasi_potential
    ``-2 int A/B dm`` and ``int ln(death/birth) dm`` between two points, for any per-unit
    birth and death rate functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp, ndtr

from neurophase.docstrings import template
from neurophase.errors import ParameterError
from neurophase.neurons.derived import self_consistent_roots

if TYPE_CHECKING:
    import xarray as xr
    from brian2.units.fundamentalunits import Quantity

    from neurophase.mapping.coarse_graining import CoarseGrainedMembrane

__all__ = ["GateNoise", "gate_noise", "model_gate_rates", "log_first_passage_times", "diffusion_quasi_potential",
           "wkb_quasi_potential", "EXACT_GATE_LIMIT"]

_SENSITIVITY = """sensitivity : float, input_unit, optional
    A precomputed ``dA*/dm_0`` (:meth:`threshold_sensitivity`)."""
_doc = template(
    parameters_m="""Parameters
----------
m : float or array_like, dimensionless
    Fraction of open gates.""",
    parameters_kind="""Parameters
----------
kind : {"diffusion", "wkb"}
    Which quasi-potential.""",
    parameters_channels="""Parameters
----------
channels : array_like, dimensionless
    Channel numbers N.""",
    duration_sensitivity=f"""duration : Quantity (time)
    Pulse duration.
{_SENSITIVITY}""",
    threshold_sensitivity=f"""threshold : Quantity (input dimension), optional
    A precomputed ``A*``.
{_SENSITIVITY}""",
    rates_per_channel_number="""Quantity (frequency)
    One rate per channel number.""",
    quasi_potential_io="""Parameters
----------
birth, death : callable
    Per-unit rates as functions of the fraction ``m`` (any rate unit; arrays in, out).
low, high : float, dimensionless
    The integration limits.

Returns
-------
float, dimensionless
    ``Phi(high) - Phi(low)``.""",
)

_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(96)
#: Largest number of gates for the exact first-passage sum (memory and time grow with it).
EXACT_GATE_LIMIT = 3_000_000


def _gauss_integral(function, low, high):
    """``int_low^high function(m) dm`` by 96-point Gauss-Legendre (smooth integrands)."""
    nodes = 0.5 * (high - low) * _GAUSS_NODES + 0.5 * (high + low)
    return 0.5 * (high - low) * float(np.sum(_GAUSS_WEIGHTS * function(nodes)))


def _channel_numbers(channels, name="channels"):
    values = np.atleast_1d(np.asarray(channels, dtype=float))
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 1):
        raise ParameterError(f"{name} must be channel numbers N >= 1; got {np.asarray(channels).tolist()}.")
    return values


class GateNoise:
    """The birth-death chain of the order-parameter gates at one drive (THEORY.md 6b).

    Build it with :func:`gate_noise`. Rates are per gate (1/s); channel numbers ``N`` are
    numbers of channels of the type holding the order-parameter gate, ``n = a N`` gates.

    Parameters
    ----------
    membrane : CoarseGrainedMembrane
        The derived membrane (a dynamic order-parameter gate).
    gates_per_channel : int
        Order-parameter gates per channel.
    drive_level : float, input_unit
        The constant drive as a plain number in the membrane's ``input_unit``.

    Raises
    ------
    ParameterError
        An instantaneous order-parameter gate, or a drive without a rest state and a saddle.

    Attributes
    ----------
    membrane : CoarseGrainedMembrane
        The derived membrane (slow gates frozen at its rest).
    gates_per_channel : int
        ``a``: order-parameter gates per channel (HH sodium: 3).
    drive : Quantity
        The constant drive at which the chain is taken.
    rest, saddle, excited : float
        Order parameter of the rest state, of the saddle above it and of the excited branch
        (NaN if there is none) at the drive.
    absorbing : float
        Where a first passage ends: half way from the saddle to the excited branch (or to 1).
    rest_voltage, saddle_voltage : Quantity
        ``V*`` at the rest state and at the saddle.
    drift_slope_rest, drift_slope_saddle : float
        ``A'(m)`` at rest (< 0) and at the saddle (> 0), 1/s.
    diffusion_rest, diffusion_saddle : float
        ``B(m)`` there (1/s).
    loop_gain_rest : float
        ``G = 1 - A'(m_r)/(-(alpha + beta))``: the loop gain of the self-map at rest.
    barrier_diffusion, barrier_wkb : float
        ``Delta Phi`` per gate between rest and saddle (dimensionless).
    prefactor : Quantity
        Kramers prefactor ``sqrt(|A'_r| A'_s)/(2 pi) sqrt(B_r/B_s)`` (Hz), the same for (i), (ii).
    """

    def __init__(self, membrane: CoarseGrainedMembrane, gates_per_channel: int, drive_level: float) -> None:
        from brian2 import Hz, volt

        from neurophase.units import parse_unit

        self.membrane = membrane
        self.gates_per_channel = int(gates_per_channel)
        self.drive_level = float(drive_level)
        self.drive = self.drive_level * parse_unit(membrane.input_unit)
        membrane.gate_rates(np.array([-0.065]))  # raises for an instantaneous gate
        roots, stable, _ = self_consistent_roots(membrane.self_map, [self.drive_level],
                                                 self_map_slope=lambda m, i: membrane.self_map_derivatives(m, i)[0])
        roots, stable = roots[0], stable[0]
        finite = np.isfinite(roots)
        roots, stable = roots[finite], stable[finite]
        if roots.size == 0 or not stable[0]:
            raise ParameterError(
                f"{membrane.model_name}: the derived membrane has no stable rest state at the drive "
                f"{self.drive_level:g} {membrane.input_unit}; choose a drive below the fold "
                f"({membrane.fold_up[0] if membrane.fold_up else float('nan'):.4g} {membrane.input_unit}).")
        self.rest = float(roots[0])
        above = roots[1:][~stable[1:]]
        if above.size == 0:
            raise ParameterError(
                f"{membrane.model_name}: at the drive {self.drive_level:g} {membrane.input_unit} the derived rest "
                "state has no saddle above it, so there is no barrier to escape over; choose a sub-threshold "
                f"drive below the fold ({membrane.fold_up[0] if membrane.fold_up else float('nan'):.4g} "
                f"{membrane.input_unit}).")
        self.saddle = float(above[0])
        excited = roots[(roots > self.saddle) & stable]
        self.excited = float(excited[0]) if excited.size else math.nan
        top = self.excited if np.isfinite(self.excited) else 1.0
        self.absorbing = 0.5 * (self.saddle + top)
        self.rest_voltage = float(membrane.balance_voltage(self.rest, self.drive_level)) * volt
        self.saddle_voltage = float(membrane.balance_voltage(self.saddle, self.drive_level)) * volt
        alpha_r, beta_r = self.rates(self.rest)
        self.drift_slope_rest = self._drift_slope(self.rest)
        self.drift_slope_saddle = self._drift_slope(self.saddle)
        self.diffusion_rest = float(self.diffusion(self.rest))
        self.diffusion_saddle = float(self.diffusion(self.saddle))
        self.loop_gain_rest = float(1.0 + self.drift_slope_rest / (alpha_r + beta_r))
        self.barrier_diffusion = diffusion_quasi_potential(self._birth, self._death, self.rest, self.saddle)
        self.barrier_wkb = wkb_quasi_potential(self._birth, self._death, self.rest, self.saddle)
        prefactor = (math.sqrt(abs(self.drift_slope_rest) * self.drift_slope_saddle) / (2 * math.pi)
                     * math.sqrt(self.diffusion_rest / self.diffusion_saddle))
        self.prefactor = prefactor * Hz

    # ---------------------------------------------------------------------- the chain
    @_doc
    def rates(self, m: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Opening and closing rates of one gate at ``V*(m, I)``.

        %(parameters_m)s

        Returns
        -------
        alpha, beta : numpy.ndarray, 1/second
            Per-gate opening and closing rates.
        """
        voltage = self.membrane.balance_voltage(np.asarray(m, dtype=float), self.drive_level)
        alpha, beta = self.membrane.gate_rates(voltage)
        return np.asarray(alpha, dtype=float), np.asarray(beta, dtype=float)

    @_doc
    def drift(self, m: ArrayLike) -> np.ndarray:
        """``A(m) = alpha (1 - m) - beta m``: the reduced dynamics dm/dt.

        The first jump moment of the chain per gate; its zeros are the rest, saddle and excited
        states.

        %(parameters_m)s

        Returns
        -------
        numpy.ndarray, 1/second
            ``A(m)``, the shape of ``m``.
        """
        birth, death = self._birth_death(m)
        return birth - death

    @_doc
    def diffusion(self, m: ArrayLike) -> np.ndarray:
        """``B(m) = alpha (1 - m) + beta m``: ``n Var(dm)/dt`` of the chain.

        The second jump moment per gate (Gardiner sec. 7.2), the noise of the Fokker-Planck
        approximation.

        %(parameters_m)s

        Returns
        -------
        numpy.ndarray, 1/second
            ``B(m) > 0``, the shape of ``m``.
        """
        birth, death = self._birth_death(m)
        return birth + death

    def _birth_death(self, m):
        """Per-gate rates of ``k -> k + 1`` and ``k -> k - 1`` at ``m = k/n``: ``alpha (1 - m)``, ``beta m``."""
        m = np.asarray(m, dtype=float)
        alpha, beta = self.rates(m)
        return alpha * (1.0 - m), beta * m

    def _birth(self, m):
        return self._birth_death(m)[0]

    def _death(self, m):
        return self._birth_death(m)[1]

    def _drift_slope(self, m):
        step = 1e-6 * min(m, 1.0 - m)
        return float((self.drift(m + step) - self.drift(m - step)) / (2.0 * step))

    def quasi_potential(self, m: ArrayLike, kind: str = "wkb") -> float | np.ndarray:
        """``Phi(m) - Phi(m_rest)`` per gate.

        Parameters
        ----------
        m : float or array_like, dimensionless
            Fraction(s) of open gates.
        kind : {"diffusion", "wkb"}
            Which quasi-potential (module docstring, (i) and (ii)).

        Returns
        -------
        float or numpy.ndarray, dimensionless
            The quasi-potential per gate, relative to the rest state.
        """
        if kind not in ("diffusion", "wkb"):
            raise ParameterError(f"kind must be 'diffusion' or 'wkb'; got {kind!r}.")
        integral = diffusion_quasi_potential if kind == "diffusion" else wkb_quasi_potential
        values = [integral(self._birth, self._death, self.rest, float(point)) for point in np.atleast_1d(m)]
        return np.asarray(values) if np.ndim(m) else float(values[0])

    @_doc
    def barrier(self, kind: str = "wkb") -> float:
        """``Delta Phi`` per gate between rest and saddle.

        %(parameters_kind)s

        Returns
        -------
        float, dimensionless
            The barrier per gate.
        """
        return self.barrier_wkb if kind == "wkb" else self.barrier_diffusion

    @_doc
    def slope(self, kind: str = "wkb") -> float:
        """Predicted ``d ln(rate) / dN``: ``-a Delta Phi``.

        %(parameters_kind)s

        Returns
        -------
        float, 1/channel
            The Kramers slope of ln(rate) against the channel number.
        """
        return -self.gates_per_channel * self.barrier(kind)

    def gate_count(self, channels: ArrayLike) -> np.ndarray:
        """``n = a N`` gates (rounded).

        Parameters
        ----------
        channels : array_like, dimensionless
            Channel numbers N (>= 1).

        Returns
        -------
        numpy.ndarray of int
            Gate counts.
        """
        return np.rint(self.gates_per_channel * _channel_numbers(channels)).astype(np.int64)

    # --------------------------------------------------------------------- rates
    @_doc
    def kramers_rate(self, channels: ArrayLike, kind: str = "wkb") -> Quantity:
        """Kramers' escape rate ``prefactor x exp(-a N Delta Phi)``.

        %(parameters_channels)s
        kind : {"diffusion", "wkb"}
            Which barrier.

        Returns
        -------
        %(rates_per_channel_number)s
        """
        from brian2 import Hz

        n = self.gate_count(channels).astype(float)
        return float(self.prefactor / Hz) * np.exp(-n * self.barrier(kind)) * Hz

    def mean_first_passage_time(self, channels: ArrayLike, start: str = "binomial") -> Quantity:
        """EXACT mean first-passage time of the chain to :attr:`absorbing`.

        Parameters
        ----------
        channels : array_like, dimensionless
            Channel numbers N (``n = a N`` gates each, at most :data:`EXACT_GATE_LIMIT`).
        start : {"binomial", "rest"}
            ``"binomial"``: the gates start from the binomial law ``B(n, m_inf(V_rest))``, the
            stationary law of independent gates at the resting voltage (how the Markov channel
            simulation starts); ``"rest"``: from ``k = round(n m_rest)``.

        Returns
        -------
        Quantity (time)
            One mean first-passage time per channel number.

        Notes
        -----
        Gardiner sec. 7.4 (reflecting at k = 0, absorbing at ``K``):
        ``T(k) = sum_{y=k}^{K-1} S(y)``, ``S(y) = sum_{z=0}^{y} pi(z) / (birth(y) pi(y))``,
        ``ln pi(z) = sum_{j<z} [ln birth(j) - ln death(j+1)]``; summed in logarithms, exact up
        to rounding.
        """
        from brian2 import second

        if start not in ("binomial", "rest"):
            raise ParameterError(f"start must be 'binomial' or 'rest'; got {start!r}.")
        if np.any(self.gate_count(channels) > EXACT_GATE_LIMIT):
            raise ParameterError(
                f"The exact first-passage sum runs over every state up to the absorbing one; above "
                f"{EXACT_GATE_LIMIT:.0e} gates use kramers_rate (its error is O(1/n) there).")
        times = np.array([self._log_mfpt(int(n), start) for n in self.gate_count(channels)])
        return np.exp(times) * second

    def _log_mfpt(self, n, start):
        from scipy.stats import binom

        top = int(math.ceil(self.absorbing * n))
        k = np.arange(top + 1)
        alpha, beta = self.rates(k / n)
        with np.errstate(divide="ignore"):
            log_time = log_first_passage_times(np.log((n - k) * alpha), np.log(k * beta))
        if start == "rest":
            return float(log_time[min(int(round(self.rest * n)), top - 1)])
        weights = binom.logpmf(k[:top], n, self.rest)  # m_inf(V_rest) = m_rest: the rest is a fixed point
        return float(logsumexp(weights + log_time) - logsumexp(weights))

    @_doc
    def escape_rate_hz(self, channels: ArrayLike) -> np.ndarray:
        """Escape rate from rest as plain numbers.

        The exact chain up to :data:`EXACT_GATE_LIMIT` gates, Kramers with the WKB barrier
        beyond (its relative error is O(1/n) < 1e-4 there).

        %(parameters_channels)s

        Returns
        -------
        numpy.ndarray, Hz
            One rate per channel number.
        """
        from brian2 import Hz

        numbers = _channel_numbers(channels)
        rates = np.empty(numbers.size)
        small = self.gate_count(numbers) <= EXACT_GATE_LIMIT
        if small.any():
            rates[small] = np.asarray(self.exact_rate(numbers[small]) / Hz, dtype=float)
        if (~small).any():
            rates[~small] = np.asarray(self.kramers_rate(numbers[~small], "wkb") / Hz, dtype=float)
        return rates

    @_doc
    def exact_rate(self, channels: ArrayLike, start: str = "binomial") -> Quantity:
        """``1 / T`` of :meth:`mean_first_passage_time`.

        %(parameters_channels)s
        start : {"binomial", "rest"}
            Starting law (see :meth:`mean_first_passage_time`).

        Returns
        -------
        %(rates_per_channel_number)s
        """
        return 1.0 / self.mean_first_passage_time(channels, start=start)

    def exact_slope(self, channels: ArrayLike, start: str = "binomial") -> float:
        """Least-squares slope of ``ln(1/T_exact)`` against N.

        Parameters
        ----------
        channels : array_like, dimensionless
            At least two channel numbers.
        start : {"binomial", "rest"}
            Starting law (see :meth:`mean_first_passage_time`).

        Returns
        -------
        float, 1/channel
            The slope over ``channels``.
        """
        from brian2 import Hz

        numbers = _channel_numbers(channels)
        if numbers.size < 2:
            raise ParameterError("An exact slope needs at least two channel numbers.")
        log_rate = np.log(np.asarray(self.exact_rate(numbers, start=start) / Hz, dtype=float))
        return float(np.polyfit(numbers, log_rate, 1)[0])

    # ------------------------------------------------------------------ fluctuations
    @_doc
    def stationary_variance(self, channels: ArrayLike) -> np.ndarray:
        """Linear-noise variance of ``m`` at rest, ``B(m_r) / (2 |A'(m_r)| n)``.

        %(parameters_channels)s

        Returns
        -------
        numpy.ndarray, dimensionless
            ``Var(m)`` per channel number.
        """
        return self.diffusion_rest / (2.0 * abs(self.drift_slope_rest) * self.gate_count(channels))

    @_doc
    def open_fraction_variances(self, channels: ArrayLike,
                                other_gates: Mapping[str, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Variance of the open-channel fraction at rest: the chain's against the exact law.

        At fixed (resting) voltage a channel with ``a`` order-parameter gates and other gates
        ``{name: power}`` (held at their frozen values ``x``) is open with probability
        ``p = m^a prod x^power``; the exact open count of N independent channels is binomial,
        variance ``p (1 - p)/N``. The chain's open fraction ``(k/n)^a prod x^power`` has, to
        linear order and without the voltage feedback, variance
        ``(a m^(a-1) prod x^power)^2 m (1 - m)/n``.

        %(parameters_channels)s
        other_gates : mapping of str to int, optional
            The channel's other gates (frozen in the membrane) and their numbers, e.g. ``{"h": 1}``.

        Returns
        -------
        chain, exact : numpy.ndarray, dimensionless
            Both variances for every N.
        """
        numbers = _channel_numbers(channels)
        other = other_gates or {}
        product = 1.0
        for name, power in other.items():
            if name not in self.membrane.frozen:
                raise ParameterError(f"{name!r} is not a frozen gate of {self.membrane.model_name!r} "
                                     f"(frozen: {', '.join(self.membrane.frozen)}).")
            product *= self.membrane.frozen[name] ** int(power)
        a, m = self.gates_per_channel, self.rest
        p = m**a * product
        chain = (a * m ** (a - 1) * product) ** 2 * m * (1 - m) / (a * numbers)
        exact = p * (1 - p) / numbers
        return chain, exact

    # ------------------------------------------------------------------ brief pulses
    def pulse_threshold(self, duration: Quantity, start: float | ArrayLike | None = None,
                        settle: Quantity | None = None, tolerance: float = 1e-7) -> Quantity:
        """Pulse threshold ``A*`` of the derived fast subsystem (a Quantity in the input's unit).

        The fast subsystem (voltage and order-parameter gate, slow gates frozen at rest) is
        integrated (``scipy.integrate.solve_ivp``, LSODA, relative tolerance 1e-9) from
        ``(V*(m_0, I), m_0)`` with ``m_0 = start`` (default the rest state) through a pulse of
        amplitude ``A`` on top of the drive, then for ``settle`` (default 20 ms) without it;
        it has fired when the voltage then lies above the point half way from the saddle to
        the excited branch. ``A*`` is bracketed by rounds of 16 amplitudes integrated together
        until the bracket is narrower than ``tolerance`` (relative). As the pulse gets shorter,
        ``A* d / C`` tends to the distance along ``v``, at fixed ``m_0``, from the start to the
        separatrix (the stable manifold of the saddle); the kick formula of N1 puts that point
        at ``V_saddle``, which is exact only for an instantaneous gate.

        Parameters
        ----------
        duration : Quantity (time)
            Pulse duration.
        start : float or sequence of float, dimensionless, optional
            Order parameter(s) at the pulse onset (the voltage is ``V*(start, I)``); a sequence
            gives one threshold per start.
        settle : Quantity (time), optional
            Time after the pulse in which the state must leave the saddle region.
        tolerance : float, dimensionless
            Relative width of the final bracket.

        Returns
        -------
        Quantity (input dimension)
            ``A*`` above the drive (an array for a sequence of starts).
        """
        from neurophase.units import parse_unit, to_magnitude

        d_ms = float(to_magnitude(duration, "ms", name="duration"))
        if not d_ms > 0:
            raise ParameterError(f"The pulse duration must be positive; got {duration!r}.")
        settle_ms = 20.0 if settle is None else float(to_magnitude(settle, "ms", name="settle"))
        starts = np.atleast_1d(np.asarray(self.rest if start is None else start, dtype=float))
        if np.any(starts <= 0) or np.any(starts >= self.saddle):
            raise ParameterError(f"start must lie between 0 and the saddle ({self.saddle:.5g}); got {starts.tolist()}.")
        levels = self._threshold_levels(starts, d_ms, settle_ms, tolerance)
        unit = parse_unit(self.membrane.input_unit)
        return levels * unit if np.ndim(start) else float(levels[0]) * unit

    def _end_voltages(self, amplitudes, starts, d_ms, settle_ms):
        """Voltage (mV) ``settle_ms`` after a pulse, for every (start, amplitude) pair (flat arrays)."""
        from scipy.integrate import solve_ivp

        membrane = self.membrane
        count = amplitudes.size
        initial = np.empty(2 * count)
        initial[0::2] = np.asarray(membrane.balance_voltage(starts, self.drive_level), dtype=float) * 1e3
        initial[1::2] = starts

        def field(levels):
            def rates(_, state):
                dv, dm = membrane.fast_rates(state[0::2] * 1e-3, state[1::2], levels)
                out = np.empty_like(state)
                out[0::2] = dv          # mV/ms
                out[1::2] = dm * 1e-3   # 1/ms
                return out
            return rates

        options = dict(method="LSODA", rtol=1e-9, atol=np.tile([1e-9, 1e-12], count), lband=1, uband=1)
        during = solve_ivp(field(self.drive_level + amplitudes), (0.0, d_ms), initial, **options)
        after = solve_ivp(field(np.full(count, self.drive_level)), (0.0, settle_ms), during.y[:, -1], **options)
        return after.y[0::2, -1]

    def _fire_voltage_mV(self):
        saddle = float(self.saddle_voltage / _volt()) * 1e3
        if np.isfinite(self.excited):
            top = float(self.membrane.balance_voltage(self.excited, self.drive_level)) * 1e3
        else:
            top = saddle + 40.0
        return 0.5 * (saddle + top)

    def _threshold_levels(self, starts, d_ms, settle_ms, tolerance, points=16):
        capacitance = self._capacitance_per_mV_ms()
        depth = max(float((self.saddle_voltage - self.rest_voltage) / _volt()) * 1e3, 1.0)
        fire = self._fire_voltage_mV()
        low = np.zeros(starts.size)
        high = np.full(starts.size, 4.0 * capacitance * depth / d_ms)
        for _ in range(40):
            fired = self._end_voltages(high, starts, d_ms, settle_ms) > fire
            if fired.all():
                break
            low = np.where(fired, low, high)
            high = np.where(fired, high, 2.0 * high)
        else:
            raise ParameterError(f"No pulse of up to {high.max():.4g} {self.membrane.input_unit} fires the derived "
                                 "fast subsystem; is it excitable at this drive?")
        if np.any(self._end_voltages(low, starts, d_ms, settle_ms) > fire):
            raise ParameterError("The derived fast subsystem fires without a pulse from this start; start below "
                                 "the saddle.")
        fraction = np.linspace(0.0, 1.0, points + 2)[1:-1]
        while np.any(high - low > tolerance * high):
            trial = low[:, None] + (high - low)[:, None] * fraction[None, :]
            fired = (self._end_voltages(trial.ravel(), np.repeat(starts, points), d_ms, settle_ms)
                     > fire).reshape(trial.shape)
            # first amplitude that fires (the response is monotonic in the amplitude)
            first = np.where(fired.any(axis=1), np.argmax(fired, axis=1), points)
            new_high = np.where(first < points, trial[np.arange(starts.size), np.minimum(first, points - 1)], high)
            new_low = np.where(first > 0, trial[np.arange(starts.size), np.maximum(first - 1, 0)], low)
            low, high = new_low, new_high
        return 0.5 * (low + high)

    def _capacitance_per_mV_ms(self):
        """Input (in its unit) that charges the membrane at 1 mV/ms."""
        from brian2 import ms, mV

        from neurophase.units import to_magnitude

        if self.membrane.capacitance is None:
            raise ParameterError(f"{self.membrane.model_name}: the membrane capacitance depends on the state; "
                                 "the pulse threshold needs a constant capacitance.")
        return float(to_magnitude(self.membrane.capacitance * mV / ms, self.membrane.input_unit))

    def kick_threshold(self, duration: Quantity) -> Quantity:
        """``C (V_saddle - V_rest) / d``: N1's brief-pulse threshold (the kick to the saddle voltage).

        Parameters
        ----------
        duration : Quantity (time)
            Pulse duration ``d``.

        Returns
        -------
        Quantity (input dimension)
            The kick threshold.
        """
        from neurophase.units import parse_unit, to_magnitude

        d_ms = float(to_magnitude(duration, "ms", name="duration"))
        depth = float((self.saddle_voltage - self.rest_voltage) / _volt()) * 1e3
        return self._capacitance_per_mV_ms() * depth / d_ms * parse_unit(self.membrane.input_unit)

    def threshold_sensitivity(self, duration: Quantity, step: float | None = None,
                              settle: Quantity | None = None) -> float:
        """``dA*/dm_0`` at rest: a centred difference of :meth:`pulse_threshold`.

        Parameters
        ----------
        duration : Quantity (time)
            Pulse duration.
        step : float, dimensionless, optional
            Change of the starting order parameter (default 1 % of the distance from rest to
            the saddle); the thresholds are bracketed to 1e-8 (relative).
        settle : Quantity (time), optional
            As in :meth:`pulse_threshold`.

        Returns
        -------
        float, input_unit
            ``dA*/dm_0`` in the input unit per unit of ``m``.
        """
        from neurophase.units import to_magnitude

        delta = 0.01 * min(self.rest, self.saddle - self.rest) if step is None else float(step)
        levels = np.asarray(to_magnitude(
            self.pulse_threshold(duration, start=[self.rest - delta, self.rest + delta], settle=settle,
                                 tolerance=1e-8), self.membrane.input_unit), dtype=float)
        return float((levels[1] - levels[0]) / (2.0 * delta))

    @_doc
    def pulse_width(self, channels: ArrayLike, duration: Quantity, sensitivity: float | None = None) -> Quantity:
        """``sigma_A = |dA*/dm_0| sqrt(Var_LNA(m))`` for every N.

        %(parameters_channels)s
        %(duration_sensitivity)s

        Returns
        -------
        Quantity (input dimension)
            One width per channel number.
        """
        from neurophase.units import parse_unit

        slope = self.threshold_sensitivity(duration) if sensitivity is None else float(sensitivity)
        return abs(slope) * np.sqrt(self.stationary_variance(channels)) * parse_unit(self.membrane.input_unit)

    @_doc
    def width_constant(self, duration: Quantity, sensitivity: float | None = None) -> Quantity:
        """``C_A = sigma_A sqrt(N)``, independent of N.

        Parameters
        ----------
        %(duration_sensitivity)s

        Returns
        -------
        Quantity (input dimension)
            ``C_A`` (times channel^(1/2)).
        """
        return self.pulse_width(np.array([1.0]), duration, sensitivity=sensitivity)[0]

    @_doc
    def firing_probability(self, amplitudes: Quantity, channels: ArrayLike, duration: Quantity, window: Quantity,
                           threshold: Quantity | None = None, sensitivity: float | None = None) -> np.ndarray:
        """Derived ``P(fire | A, N)`` after a pulse, counted over ``window`` from its onset.

        ``1 - (1 - s_N) (1 - Phi((A - A*)/sigma_A(N)))``: the pulse fires with the probit of
        (iv), and independently the membrane escapes spontaneously within the window with
        ``s_N = 1 - exp(-window r_N)``, ``r_N`` the escape rate of :meth:`escape_rate_hz`
        (the exact chain of (iii)). Nothing is fitted.

        Parameters
        ----------
        amplitudes : Quantity (input dimension)
            Pulse amplitudes (above the drive).
        channels : array_like, dimensionless
            Channel numbers.
        duration, window : Quantity (time)
            Pulse duration; counting window from the pulse onset.
        %(threshold_sensitivity)s

        Returns
        -------
        numpy.ndarray, dimensionless
            Shape ``(len(channels), len(amplitudes))``.
        """

        from neurophase.units import to_magnitude

        unit = self.membrane.input_unit
        levels = np.atleast_1d(np.asarray(to_magnitude(amplitudes, unit, name="amplitudes"), dtype=float))
        numbers = _channel_numbers(channels)
        a_star = float(to_magnitude(self.pulse_threshold(duration) if threshold is None else threshold, unit))
        width = np.asarray(to_magnitude(self.pulse_width(numbers, duration, sensitivity=sensitivity), unit))
        window_s = float(to_magnitude(window, "second", name="window"))
        spontaneous = 1.0 - np.exp(-window_s * self.escape_rate_hz(numbers))
        evoked = ndtr((levels[None, :] - a_star) / width[:, None])
        return 1.0 - (1.0 - spontaneous[:, None]) * (1.0 - evoked)

    # ------------------------------------------------------------------------ output
    def summary(self) -> dict[str, Any]:
        """Plain numbers (units in the keys) for notes and reports.

        Returns
        -------
        dict
            Drive, states, voltages (``*_mV``), loop gain, drift slopes (``*_per_ms``), barriers,
            slopes (per channel) and prefactor (``prefactor_Hz``).
        """
        from brian2 import Hz, mV

        return {
            "drive": self.drive_level, "input_unit": self.membrane.input_unit,
            "gates_per_channel": self.gates_per_channel,
            "m_rest": self.rest, "m_saddle": self.saddle, "m_excited": self.excited, "m_absorbing": self.absorbing,
            "V_rest_mV": float(self.rest_voltage / mV), "V_saddle_mV": float(self.saddle_voltage / mV),
            "loop_gain_rest": self.loop_gain_rest,
            "drift_slope_rest_per_ms": self.drift_slope_rest * 1e-3,
            "drift_slope_saddle_per_ms": self.drift_slope_saddle * 1e-3,
            "barrier_diffusion": self.barrier_diffusion, "barrier_wkb": self.barrier_wkb,
            "slope_diffusion": self.slope("diffusion"), "slope_wkb": self.slope("wkb"),
            "prefactor_Hz": float(self.prefactor / Hz),
        }

    @_doc
    def to_dataset(self, channels: ArrayLike, duration: Quantity | None = None, threshold: Quantity | None = None,
                   sensitivity: float | None = None) -> xr.Dataset:
        """The derived noise quantities over ``channels`` as a Dataset (units in attrs).

        Parameters
        ----------
        channels : array_like, dimensionless
            Channel numbers N (the ``channels`` dimension).
        duration : Quantity (time), optional
            A pulse duration: adds the pulse threshold, its sensitivity and the widths.
        %(threshold_sensitivity)s

        Returns
        -------
        xarray.Dataset
            Kramers (diffusion, WKB) and exact rates, exact mean first-passage time and
            linear-noise variance over ``channels``; scalars: barriers, slopes, states,
            prefactor (and the pulse quantities); provenance in attrs.
        """
        import xarray as xr
        from brian2 import Hz, ms

        from neurophase.schema import provenance, quantity_coordinate, quantity_variable
        from neurophase.units import to_magnitude

        numbers = _channel_numbers(channels)
        unit = self.membrane.input_unit
        variables = {
            "rate_kramers_diffusion": quantity_variable(np.asarray(self.kramers_rate(numbers, "diffusion") / Hz),
                                                        "Hz", ("channels",),
                                                        long_name="Kramers rate, diffusion quasi-potential"),
            "rate_kramers_wkb": quantity_variable(np.asarray(self.kramers_rate(numbers, "wkb") / Hz), "Hz",
                                                  ("channels",), long_name="Kramers rate, WKB quasi-potential"),
            "rate_exact": quantity_variable(np.asarray(self.exact_rate(numbers) / Hz), "Hz", ("channels",),
                                            long_name="1 / exact mean first-passage time of the gate chain"),
            "mfpt_exact": quantity_variable(np.asarray(self.mean_first_passage_time(numbers) / ms), "ms",
                                            ("channels",), long_name="exact mean first-passage time"),
            "variance_m": quantity_variable(self.stationary_variance(numbers), "1", ("channels",),
                                            long_name="linear-noise variance of m at rest"),
        }
        scalars = {key: value for key, value in self.summary().items() if key != "input_unit"}
        attrs_units = {"drive": unit, "V_rest_mV": "mV", "V_saddle_mV": "mV", "drift_slope_rest_per_ms": "1/ms",
                       "drift_slope_saddle_per_ms": "1/ms", "prefactor_Hz": "Hz", "slope_diffusion": "1",
                       "slope_wkb": "1"}
        for key, value in scalars.items():
            variables[key] = quantity_variable(float(value), attrs_units.get(key, "1"), ())
        if duration is not None:
            threshold = float(to_magnitude(self.pulse_threshold(duration) if threshold is None else threshold, unit))
            sensitivity = self.threshold_sensitivity(duration) if sensitivity is None else float(sensitivity)
            width = np.asarray(to_magnitude(self.pulse_width(numbers, duration, sensitivity=sensitivity), unit))
            variables["pulse_threshold"] = quantity_variable(threshold, unit, (),
                                                             long_name="pulse threshold A* of the fast subsystem")
            variables["threshold_sensitivity"] = quantity_variable(sensitivity, unit, (),
                                                                   long_name="dA*/dm_0 at rest")
            variables["pulse_width"] = quantity_variable(width, unit, ("channels",),
                                                         long_name="derived probit width sigma_A")
        coords = {"channels": quantity_coordinate("channels", numbers, "1",
                                                  long_name="channels of the order-parameter type")}
        attrs = provenance(model_name=self.membrane.model_name, model_hash=self.membrane.model_hash,
                           order_parameter=self.membrane.order_parameter,
                           reduction="birth-death chain of the order-parameter gates, V slaved to V*(m, I), "
                                     "slow gates frozen at rest (Chow & White 1996)",
                           pulse_duration="none" if duration is None else str(duration))
        return xr.Dataset(variables, coords=coords, attrs=attrs)


def log_first_passage_times(log_birth: ArrayLike, log_death: ArrayLike) -> np.ndarray:
    """Exact mean first-passage times of a birth-death chain, in logarithms.

    States ``k = 0 .. K`` with birth rates ``b(k)`` (``k -> k + 1``) and death rates ``d(k)``
    (``k -> k - 1``), reflecting at 0 (``d(0)`` is not used) and absorbing at ``K``. With
    ``pi(0) = 1``, ``pi(z) = prod_{j<z} b(j) / d(j + 1)``, the mean time to reach ``K`` from
    ``k`` is (Gardiner, *Handbook of Stochastic Methods*, sec. 7.4; van Kampen ch. XII)

        T(k) = sum_{y=k}^{K-1} [sum_{z=0}^{y} pi(z)] / (b(y) pi(y)),

    evaluated with cumulative log-sum-exp, so it is exact up to rounding however deep the
    barrier.

    Parameters
    ----------
    log_birth, log_death : array_like, ln(rate)
        ``ln b(k)`` and ``ln d(k)`` for ``k = 0 .. K`` (rates in any unit; T in its inverse);
        ``b(k)`` for ``k < K`` and ``d(k)`` for ``1 <= k < K`` must be positive.

    Returns
    -------
    numpy.ndarray, ln(time)
        ``ln T(k)`` for ``k = 0 .. K - 1``.

    Examples
    --------
    The symmetric walk with unit rates, reflected at 0, needs ``K (K + 1)/2`` to reach ``K``:

    >>> import numpy as np
    >>> float(np.exp(log_first_passage_times(np.zeros(6), np.zeros(6))[0]))
    15.0
    """
    log_birth = np.asarray(log_birth, dtype=float)
    log_death = np.asarray(log_death, dtype=float)
    if log_birth.shape != log_death.shape or log_birth.ndim != 1 or log_birth.size < 2:
        raise ParameterError("log_birth and log_death must be 1-D arrays of the same length >= 2.")
    if not (np.all(np.isfinite(log_birth[:-1])) and np.all(np.isfinite(log_death[1:-1]))):
        raise ParameterError("Every birth rate below the absorbing state and every death rate above 0 must be "
                             "positive and finite.")
    top = log_birth.size - 1
    with np.errstate(invalid="ignore"):
        log_pi = np.concatenate([[0.0], np.cumsum(log_birth[:-1] - log_death[1:])])
    log_mass = np.logaddexp.accumulate(log_pi)
    log_step = log_mass[:top] - log_birth[:top] - log_pi[:top]
    return np.logaddexp.accumulate(log_step[::-1])[::-1]


@_doc
def diffusion_quasi_potential(birth: Callable[[np.ndarray], np.ndarray], death: Callable[[np.ndarray], np.ndarray],
                              low: float, high: float) -> float:
    """``-2 int_low^high A/B dm`` with ``A = birth - death``, ``B = birth + death``.

    The quasi-potential of the diffusion (Fokker-Planck) approximation of a birth-death chain
    with per-unit rates ``birth(m)``, ``death(m)``: its stationary density is
    ``exp(-n Phi)/B`` (Gardiner sec. 5.2; Hanggi et al. 1984). 96-point Gauss-Legendre.

    %(quasi_potential_io)s
    """
    return _gauss_integral(lambda m: -2.0 * (birth(m) - death(m)) / (birth(m) + death(m)), float(low), float(high))


@_doc
def wkb_quasi_potential(birth: Callable[[np.ndarray], np.ndarray], death: Callable[[np.ndarray], np.ndarray],
                        low: float, high: float) -> float:
    """``int_low^high ln(death/birth) dm``: the chain's own (WKB, large-deviation) quasi-potential.

    ``-ln pi(n m)/n`` of the exact stationary law of the chain to leading order in ``n``
    (Hanggi, Grabert, Talkner & Thomas 1984; Keener & Newby 2011). 96-point Gauss-Legendre.

    %(quasi_potential_io)s
    """
    return _gauss_integral(lambda m: np.log(death(m)) - np.log(birth(m)), float(low), float(high))


def _volt():
    from brian2 import volt

    return volt


def gate_noise(membrane: CoarseGrainedMembrane, gates_per_channel: int, drive: Quantity | None = None) -> GateNoise:
    """The reduced birth-death chain of ``membrane``'s order-parameter gates (THEORY.md 6b).

    Parameters
    ----------
    membrane : CoarseGrainedMembrane
        From :func:`neurophase.mapping.coarse_grain` (a dynamic order-parameter gate).
    gates_per_channel : int
        Order-parameter gates per channel (HH sodium: 3; read it off the model's ``[channels]``
        table, :mod:`neurophase.micro.channels`).
    drive : Quantity (input dimension), optional
        The constant drive (default: the membrane's holding input). Must be below the fold, so
        that a rest state and a saddle exist.

    Returns
    -------
    GateNoise

    Raises
    ------
    ParameterError
        An instantaneous order-parameter gate, a non-positive gate count, or a drive with no
        barrier.
    """
    from neurophase.units import to_magnitude

    if isinstance(gates_per_channel, bool) or int(gates_per_channel) != gates_per_channel or gates_per_channel < 1:
        raise ParameterError(f"gates_per_channel must be a whole number >= 1 (HH sodium: 3); got "
                             f"{gates_per_channel!r}.")
    level = (float(to_magnitude(membrane.rest_input, membrane.input_unit)) if drive is None
             else float(to_magnitude(drive, membrane.input_unit, name="drive")))
    if not np.isfinite(level):
        raise ParameterError(f"drive must be finite; got {drive!r}.")
    return GateNoise(membrane, int(gates_per_channel), level)


def model_gate_rates(model: Any, gate: str) -> Callable[[ArrayLike], tuple[np.ndarray, np.ndarray]]:
    """The opening and closing rates of ``gate`` in a model file's own equations.

    Reads the subexpressions ``alpha_<gate>`` and ``beta_<gate>`` (Hz) of a loaded model (e.g.
    a Markov channel file, :mod:`neurophase.micro.channels`): used to check that a channel
    model has the kinetics of the deterministic model it is compared with.

    Parameters
    ----------
    model : Model
        A loaded model file (:func:`neurophase.micro.modelfile.load_model`; the mapping layer
        takes the loaded object).
    gate : str
        The gate name (``"m"``).

    Returns
    -------
    callable
        ``rates(voltage)`` with ``voltage`` in volts (plain numbers) -> ``(alpha, beta)`` in 1/s.

    Raises
    ------
    ParameterError
        The model has no such subexpressions, or they depend on more than the voltage.
    """
    from neurophase.mapping._symbolic import SymbolicModel, numpy_function

    symbolic = SymbolicModel(model)
    functions = []
    for name in (f"alpha_{gate}", f"beta_{gate}"):
        if name not in symbolic.subexpressions:
            raise ParameterError(
                f"Model {model.name!r} has no rate {name} for gate {gate!r}; a channel model needs the "
                f"subexpressions alpha_{gate} and beta_{gate} (Hz) of the order-parameter gate.")
        expression = symbolic.expand(symbolic.subexpressions[name])
        if not expression.free_symbols <= {symbolic.v}:
            raise ParameterError(f"Model {model.name!r}: {name} depends on "
                                 f"{', '.join(sorted(map(str, expression.free_symbols - {symbolic.v})))}, "
                                 "not only on the voltage.")
        functions.append(numpy_function([symbolic.v], expression))

    def rates(voltage):
        voltage = np.asarray(voltage, dtype=float)
        return (np.asarray(functions[0](voltage), dtype=float) + 0.0 * voltage,
                np.asarray(functions[1](voltage), dtype=float) + 0.0 * voltage)

    return rates
