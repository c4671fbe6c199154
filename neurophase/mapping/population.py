"""Coarse-graining a recurrently coupled population of a model file to its population mean field.

From a model file, a synapse model, the in-degree ``K`` and the external noise, this module
derives (nothing measured on the coupled network enters) the self-consistency
``r = phi(mu(r), sigma(r))`` of :mod:`neurophase.meanfield.population` and everything that follows
from it: fixed points and their stability, folds, the cusp, relaxation times and finite-size
fluctuations, as Datasets with units.

The transfer function ``phi``
-----------------------------
- Leaky integrate-and-fire models (the library's ``leaky_integrate_and_fire`` and any model
  with its parameters ``tau_m, R_m, E_L, V_threshold, V_reset`` and a refractory duration): the
  Siegert formula (:mod:`neurophase.mapping.siegert`) with ``mu_V = R_m I``,
  ``sigma_V = R_m sigma_I / sqrt(tau_m)`` (white current noise ``sigma_I xi``), threshold
  ``V_threshold - E_L`` and reset ``V_reset - E_L``. With ``monitoring_dt`` the threshold is raised
  by ``beta sigma_V sqrt(dt / tau_m)``, ``beta = -zeta(1/2)/sqrt(2 pi) = 0.5826``: the
  continuity correction for a diffusion whose threshold crossing is checked only every ``dt``
  (Siegmund 1979, Adv. Appl. Probab. 11:701; Broadie, Glasserman & Kou 1997, Math. Finance 7:325,
  Theorem 2.1), which is what a clock-driven simulation at step ``dt`` does; current synapses
  add the Fourcaud-Brunel shift for the filtered (recurrent) part of the noise.
- Any other model: ``phi`` measured on the UNCOUPLED model with white current noise over a
  ``(mu, sigma)`` grid (:func:`neurophase.micro.network` callers use
  :func:`neurophase.micro.neurone.firing_curve` for it; one network for the whole grid) and
  passed here as that Dataset (:class:`MeasuredTransfer`): a smoothing bicubic spline of the
  mean rate, weighted by its standard error over seeds.

Input moments per synapse model (diffusion approximation)
---------------------------------------------------------
In the model's input unit, with ``C`` the input charge per volt of the membrane
(:func:`neurophase.micro.network.input_capacitance` computes it from the equations):

- ``"delta"`` (``v += w``, ``w`` in volts): ``mu_rec = C K w r``,
  ``sigma_rec^2 = C^2 K w^2 r`` (white; Brunel 2000, Eqs. 4-5 with ``mu_V = K w tau r``);
- ``"current"`` (exponential, ``tau_s``, ``w`` a current): ``mu_rec = K w tau_s r``,
  ``sigma_rec^2 = K w^2 tau_s^2 r`` (the white-noise limit of the filtered shot noise; its
  low-pass filtering is the Fourcaud-Brunel correction for the LIF and is neglected for measured
  transfer functions, valid for ``tau_s`` short against the membrane's time scales);
- ``"conductance"``: no mean field is derived here (the input depends on the membrane
  potential); asking for one raises a ParameterError that says so.

Classes
-------
LIFTransfer, MeasuredTransfer
    ``phi(mean, std, filtered_std)`` in input-unit numbers.
PopulationTheory
    The derived mean field of one population model: cusp, folds, phase diagram Dataset,
    relaxation times, linear-noise variance.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from neurophase.docstrings import template
from neurophase.errors import ParameterError, UnitMismatchError
from neurophase.mapping.siegert import siegert_cv_squared_si, siegert_rate_si
from neurophase.meanfield.population import Cusp, RateMap, binned_variance_factor
from neurophase.schema import provenance, quantity_coordinate, quantity_variable
from neurophase.units import parse_unit, to_magnitude

if TYPE_CHECKING:
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

__all__ = ["LIFTransfer", "MeasuredTransfer", "PopulationTheory", "is_lif", "membrane_capacitance",
           "MONITORING_BETA", "LIF_PARAMETERS"]


def _input_moments(kind):
    """The ``mean`` and ``std`` entries of a transfer function's methods, of type ``kind``."""
    return f"""mean : {kind}, the model's input unit
    Mean input.
std : {kind}, input unit x s**0.5
    White-noise amplitude."""


_doc = template(
    input_moments_arrays=_input_moments("array_like"),
    input_moments_scalars=_input_moments("float"),
    fixed_point="""coupling_value : float, the coupling unit
    ``w``.
drive_value : float, input unit
    External drive.
rate : float, Hz
    The fixed point's rate.""",
)

#: beta = -zeta(1/2) / sqrt(2 pi) (Siegmund 1979; Broadie, Glasserman & Kou 1997).
MONITORING_BETA = 1.4603545088095868 / math.sqrt(2 * math.pi)
#: Parameter names that identify a leaky integrate-and-fire model file.
LIF_PARAMETERS = ("tau_m", "R_m", "E_L", "V_threshold", "V_reset")


def is_lif(model: Any) -> bool:
    """True when ``model`` is a leaky integrate-and-fire model the Siegert formula applies to.

    Parameters
    ----------
    model : Model
        A loaded model file.

    Returns
    -------
    bool
        It has the parameters :data:`LIF_PARAMETERS`, a refractory duration and
        ``(unless refractory)`` equations.
    """
    from brian2.units.fundamentalunits import Quantity

    return (all(name in model.parameters for name in LIF_PARAMETERS)
            and isinstance(model.refractory, Quantity)
            and "(unless refractory)" in model.equations)


def _white_unit(input_unit):
    return f"{input_unit}*second**0.5"


class LIFTransfer:
    """Siegert ``phi`` of a LIF model file in its input unit (module docstring).

    Parameters
    ----------
    model : Model
        A LIF model (:func:`is_lif`).
    parameters : dict, optional
        Parameter overrides.
    synaptic_tau : float, optional
        Exponential synaptic time constant in seconds (Fourcaud-Brunel shift of the filtered
        noise).
    monitoring_dt : float, optional
        Simulation step in seconds (discrete-monitoring correction of the white part).
    """

    kind = "siegert"

    def __init__(self, model: Any, parameters: dict[str, Any] | None = None, synaptic_tau: float = 0.0,
                 monitoring_dt: float = 0.0) -> None:
        if not is_lif(model):
            raise ParameterError(f"Model {model.name!r} is not a leaky integrate-and-fire model "
                                 "(parameters tau_m, R_m, E_L, V_threshold, V_reset and a refractory "
                                 "duration); give a measured transfer function instead.")
        namespace = model.namespace(**(parameters or {}))
        self.input_unit = model.input_unit
        self.tau_m = float(to_magnitude(namespace["tau_m"], "second"))
        self.refractory = float(to_magnitude(model.refractory, "second"))
        rest = float(to_magnitude(namespace["E_L"], "volt"))
        self.threshold = float(to_magnitude(namespace["V_threshold"], "volt")) - rest
        self.reset = float(to_magnitude(namespace["V_reset"], "volt")) - rest
        # volts per input unit
        self.resistance = float(to_magnitude(namespace["R_m"] * parse_unit(model.input_unit), "volt"))
        self.synaptic_tau = float(synaptic_tau or 0.0)
        self.monitoring_dt = float(monitoring_dt or 0.0)
        self.rate_max = 1.0 / self.refractory if self.refractory > 0 else 1e4
        self.description = (
            f"Siegert formula (Brunel 2000, Eq. 21) for tau_m = {self.tau_m * 1e3:g} ms, threshold "
            f"{self.threshold * 1e3:g} mV and reset {self.reset * 1e3:g} mV above rest, refractory "
            f"{self.refractory * 1e3:g} ms"
            + (f"; Fourcaud-Brunel shift for tau_s = {self.synaptic_tau * 1e3:g} ms"
               if self.synaptic_tau else "")
            + (f"; discrete-monitoring correction for dt = {self.monitoring_dt * 1e3:g} ms"
               if self.monitoring_dt else ""))

    @_doc
    def voltage_moments(self, mean: ArrayLike, std: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """``(mu_V, sigma_V)`` in volts for an input mean (input unit) and white std.

        ``mu_V = R mu`` and ``sigma_V = R sigma / sqrt(tau_m)`` (Brunel 2000, J. Comput. Neurosci.
        8:183, section 2, for the convention ``tau_m dV/dt = -V + mu + sigma sqrt(tau_m) xi``).

        Parameters
        ----------
        %(input_moments_arrays)s

        Returns
        -------
        mu_v, sigma_v : numpy.ndarray, V
            The Siegert formula's mean and noise amplitude.
        """
        return (self.resistance * np.asarray(mean, float),
                self.resistance * np.asarray(std, float) / math.sqrt(self.tau_m))

    def __call__(self, mean, std, filtered_std=0.0):
        mu_v, sigma_v = self.voltage_moments(mean, std)
        filtered_v = self.resistance * np.asarray(filtered_std, float) / math.sqrt(self.tau_m)
        shift = 0.0
        if self.synaptic_tau:
            from neurophase.mapping.siegert import fourcaud_brunel_shift

            shift = fourcaud_brunel_shift(self.synaptic_tau, self.tau_m) * filtered_v
        monitoring = (MONITORING_BETA * sigma_v * math.sqrt(self.monitoring_dt / self.tau_m)
                      if self.monitoring_dt else 0.0)
        sigma_v = np.maximum(sigma_v, 1e-12)
        return siegert_rate_si(mu_v - shift, sigma_v, self.tau_m, self.threshold + monitoring,
                               self.reset, self.refractory)

    @_doc
    def cv_squared(self, mean: float, std: float, filtered_std: float = 0.0) -> float:
        """ISI CV^2 at one input (Brunel 2000 appendix; scalars).

        Parameters
        ----------
        %(input_moments_scalars)s
        filtered_std : float, input unit x s**0.5
            Amplitude of the synaptically filtered noise (not used by the white-noise formula).

        Returns
        -------
        float, dimensionless
            :func:`~neurophase.mapping.siegert.siegert_cv_squared_si` with the discrete-monitoring
            threshold shift.
        """
        mu_v, sigma_v = self.voltage_moments(mean, std)
        monitoring = (MONITORING_BETA * sigma_v * math.sqrt(self.monitoring_dt / self.tau_m)
                      if self.monitoring_dt else 0.0)
        return siegert_cv_squared_si(float(mu_v), float(sigma_v), self.tau_m,
                                     self.threshold + float(monitoring), self.reset, self.refractory)


class MeasuredTransfer:
    """``phi(mu, sigma)`` interpolated from a firing-curve Dataset of the uncoupled model.

    Parameters
    ----------
    dataset : xarray.Dataset
        From :func:`neurophase.micro.neurone.firing_curve` with white noise given as an array:
        dims ``input`` (the drive, in the model's input unit), ``param_sigma`` (white-noise
        amplitudes) and ``trial``; variables ``rate`` and ``cv_isi``.

    Notes
    -----
    The mean rate over trials is smoothed by a bicubic spline
    (:class:`scipy.interpolate.RectBivariateSpline`, degree 3 in ``mu`` and
    ``min(3, n_sigma - 1)`` in ``sigma``) whose smoothing ``s`` equals the sum of the squared
    standard errors of the means, i.e. the spline may depart from each mean by about one
    standard error (Dierckx 1993, Curve and Surface Fitting with Splines, ch. 5). Outside the
    measured grid the inputs are clipped to it.
    """

    kind = "measured"

    def __init__(self, dataset: xr.Dataset) -> None:
        from scipy.interpolate import RectBivariateSpline

        for name in ("input", "param_sigma", "trial"):
            if name not in dataset.dims:
                raise ParameterError(f"A measured transfer function needs a firing-curve Dataset with "
                                     f"dimension {name!r} (white-noise amplitudes as an array); "
                                     f"this one has {tuple(dataset.dims)}.")
        self.input_unit = dataset["input"].attrs["units"]
        sigma_unit = dataset["param_sigma"].attrs["units"]
        expected = _white_unit(self.input_unit)
        try:
            factor = float(to_magnitude(parse_unit(sigma_unit), expected))
        except UnitMismatchError as error:
            raise UnitMismatchError(f"The transfer-function noise must be white noise in {expected}; "
                                    f"got {sigma_unit}. {error}") from None
        self.means = np.asarray(dataset["input"].values, float)
        self.stds = np.asarray(dataset["param_sigma"].values, float) * factor
        rate = dataset["rate"].transpose("input", "param_sigma", "trial").values
        mean = np.nanmean(rate, axis=-1)
        count = np.sum(np.isfinite(rate), axis=-1)
        error = np.nanstd(rate, axis=-1, ddof=1) / np.sqrt(np.maximum(count, 1))
        floor = 1e-3 * max(float(np.nanmax(mean)), 1.0)
        error = np.where(np.isfinite(error), np.maximum(error, floor), floor)
        smoothing = float(np.sum(error**2))
        ky = min(3, self.stds.size - 1)
        if ky < 1 or self.means.size < 4:
            raise ParameterError("A measured transfer function needs at least 4 drives and 2 noise "
                                 "amplitudes.")
        weights_ok = np.isfinite(mean)
        mean = np.where(weights_ok, mean, 0.0)
        self._spline = RectBivariateSpline(self.means, self.stds, mean, kx=3, ky=ky, s=smoothing)
        self.measured_rate = mean
        self.measured_error = error
        self.rate_max = float(np.nanmax(mean)) * 1.02 + 1e-9
        cv = dataset["cv_isi"].transpose("input", "param_sigma", "trial").values if "cv_isi" in dataset else None
        self._cv = None
        if cv is not None:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                cv_mean = np.nanmean(cv, axis=-1)
            self._cv = np.where(np.isfinite(cv_mean), cv_mean, 1.0)
        self.description = (f"measured on the uncoupled model {dataset.attrs.get('model_name', '?')} "
                            f"({self.means.size} drives x {self.stds.size} white-noise amplitudes x "
                            f"{dataset.sizes['trial']} seeds, {dataset.attrs.get('duration', '?')} each), "
                            "smoothing bicubic spline")

    def __call__(self, mean, std, filtered_std=0.0):
        mean, std = np.broadcast_arrays(np.asarray(mean, float), np.asarray(std, float))
        mean = np.clip(mean, self.means[0], self.means[-1])
        std = np.clip(std, self.stds[0], self.stds[-1])
        values = self._spline.ev(mean.ravel(), std.ravel()).reshape(mean.shape)
        return np.clip(values, 0.0, None)

    def cv_squared(self, mean: float, std: float, filtered_std: float = 0.0) -> float:
        """ISI CV^2 interpolated (bilinear) from the measured ``cv_isi`` (1 where unknown).

        Parameters
        ----------
        mean : float, the model's input unit
            Mean input (clipped to the measured grid).
        std : float, input unit x s**0.5
            White-noise amplitude (clipped to the measured grid).
        filtered_std : float, input unit x s**0.5
            Not used (the measurement has white noise only).

        Returns
        -------
        float, dimensionless
            The squared mean ``cv_isi`` over trials (1.0 without ``cv_isi``).
        """
        from scipy.interpolate import RegularGridInterpolator

        if self._cv is None:
            return 1.0
        interpolate = RegularGridInterpolator((self.means, self.stds), self._cv)
        point = (float(np.clip(mean, self.means[0], self.means[-1])),
                 float(np.clip(std, self.stds[0], self.stds[-1])))
        return float(np.ravel(interpolate(point))[0]) ** 2


class PopulationTheory:
    """The derived population mean field of a model file (module docstring).

    Parameters
    ----------
    model : Model
        The neurone model (a loaded model file).
    synapse : {"delta", "current"}
        Synapse model of the recurrent (and Poisson external) input.
    indegree : int
        ``K``.
    noise : Quantity (input dimension x time**0.5), optional
        White-noise amplitude of the external drive (input unit x sqrt(second)).
    synaptic_tau : Quantity (time), optional
        For ``"current"`` synapses.
    delay : Quantity (time) or str
        Transmission delay (enters only the linear-noise spectrum).
    transfer : LIFTransfer or MeasuredTransfer, optional
        Default: :class:`LIFTransfer` for LIF models (with ``monitoring_dt``); required otherwise.
    monitoring_dt : Quantity (time), optional
        Simulation step for the discrete-monitoring correction of the LIF.
    rate_time_constant : Quantity (time), optional
        ``tau`` of the first-order rate dynamics (default: ``tau_m`` for the LIF, 10 ms
        otherwise; stated, it sets relaxation-time magnitudes, not exponents).
    poisson_rate, poisson_weight : Quantity (frequency), Quantity (the coupling's unit), optional
        External Poisson input through the same synapses (adds to mean and variance).
    parameters : dict, optional
        Model parameter overrides.
    capacitance : Quantity (input dimension x time / voltage), optional
        ``C`` for delta synapses (default: read from the equations).
    """

    def __init__(self, model: Any, synapse: str = "delta", indegree: int = 100, noise: Quantity | None = None,
                 synaptic_tau: Quantity | None = None, delay: Quantity | str = "1.5 ms",
                 transfer: LIFTransfer | MeasuredTransfer | None = None, monitoring_dt: Quantity | None = None,
                 rate_time_constant: Quantity | None = None, poisson_rate: Quantity | None = None,
                 poisson_weight: Quantity | None = None, parameters: dict[str, Any] | None = None,
                 capacitance: Quantity | None = None) -> None:
        self.model = model
        self.synapse = synapse
        if synapse == "conductance":
            raise ParameterError(
                "The population mean field is derived for delta and current synapses only (a "
                "conductance input depends on the membrane potential); use synapse='current'.")
        if synapse not in ("delta", "current"):
            raise ParameterError(f"synapse must be 'delta' or 'current'; got {synapse!r}.")
        self.indegree = int(indegree)
        if self.indegree < 1:
            raise ParameterError(f"indegree must be at least 1; got {indegree}.")
        self.input_unit = model.input_unit
        self.white_unit = _white_unit(self.input_unit)
        self.noise = 0.0 if noise is None else float(to_magnitude(noise, self.white_unit, name="noise"))
        if self.noise < 0:
            raise ParameterError(f"noise must be non-negative; got {self.noise:g} {self.white_unit}.")
        self.delay = float(to_magnitude(delay, "second", name="delay"))
        self.synaptic_tau = (0.0 if synaptic_tau is None
                             else float(to_magnitude(synaptic_tau, "second", name="synaptic_tau")))
        if synapse == "current" and self.synaptic_tau <= 0:
            raise ParameterError("Current synapses need synaptic_tau > 0 (e.g. '2 ms').")
        self.parameters = parameters or {}
        dt = 0.0 if monitoring_dt is None else float(to_magnitude(monitoring_dt, "second", name="dt"))
        if transfer is None:
            if not is_lif(model):
                raise ParameterError(
                    f"Model {model.name!r} is not a LIF model, so its transfer function must be "
                    "measured on the uncoupled model (MeasuredTransfer of a firing_curve Dataset).")
            transfer = LIFTransfer(model, parameters, synaptic_tau=self.synaptic_tau if synapse == "current" else 0.0,
                                   monitoring_dt=dt)
        self.transfer = transfer
        K = self.indegree
        if synapse == "delta":
            if capacitance is None:
                capacitance = membrane_capacitance(model, self.parameters)
            # input unit x second per mV
            c = float(to_magnitude(capacitance * parse_unit("mV"),
                                   parse_unit(self.input_unit) * parse_unit("second")))
            self.coupling_unit = "mV"
            self.mean_gain, self.variance_gain = c * K, c**2 * K
        else:
            self.coupling_unit = self.input_unit
            self.mean_gain, self.variance_gain = K * self.synaptic_tau, K * self.synaptic_tau**2
        self.external_drive = 0.0
        if poisson_rate is not None:
            rate = float(to_magnitude(poisson_rate, "Hz", name="poisson_rate"))
            weight = float(to_magnitude(poisson_weight, self.coupling_unit, name="poisson_weight"))
            self.external_drive = self.mean_gain / K * weight * rate
            self.noise = math.sqrt(self.noise**2 + self.variance_gain / K * weight**2 * rate)
        if rate_time_constant is not None:
            self.time_constant = float(to_magnitude(rate_time_constant, "second"))
        elif isinstance(transfer, LIFTransfer):
            self.time_constant = transfer.tau_m
        else:
            self.time_constant = 0.010
        if self.noise <= 0:
            raise ParameterError("The diffusion approximation needs external noise > 0; give noise.")
        span = self._drive_span()
        self.rate_map = RateMap(self._phi, self.mean_gain, self.variance_gain, self.noise,
                                transfer.rate_max, span)

    def _drive_span(self):
        if isinstance(self.transfer, MeasuredTransfer):
            low, high = self.transfer.means[0], self.transfer.means[-1]
            return (low - (high - low), high)
        scale = abs(self.transfer.threshold / self.transfer.resistance)
        return (-20 * scale, 20 * scale)

    def _phi(self, mean, std, filtered):
        return self.transfer(mean + self.external_drive, std, filtered)

    # ---------------------------------------------------------------------- helpers
    def _w(self, coupling):
        try:
            return np.atleast_1d(to_magnitude(coupling, self.coupling_unit, name="coupling"))
        except UnitMismatchError as error:
            raise UnitMismatchError(f"A {self.synapse} synapse takes couplings in "
                                    f"{self.coupling_unit}; {error}") from None

    def _mu(self, drive):
        return np.atleast_1d(to_magnitude(drive, self.input_unit, name="drive"))

    def cusp(self) -> Cusp:
        """The critical point ``(w_c, mu_c, r_c)``.

        Returns
        -------
        Cusp
            :meth:`neurophase.meanfield.population.RateMap.cusp`: coupling (the coupling unit),
            drive (input unit), rate (Hz), and the slope and curvature of the rate map there.
        """
        bracket = self._cusp_bracket()
        cusp = self.rate_map.cusp(bracket)
        self._cusp = cusp
        return cusp

    def _cusp_bracket(self):
        c = self.mean_gain
        drive_scale = abs(self.rate_map.drive_bounds[1]) / 20.0
        w = drive_scale / (c * self.rate_map.rate_max) * 0.5
        previous = None
        for _ in range(40):
            if self.rate_map._steepest(w)[1] < 0:
                if previous is None:
                    w /= 4
                    continue
                return previous, w
            previous = w
            w *= 1.5
        raise ParameterError("No cusp found: the population is never bistable for couplings up to "
                             f"{w:g} {self.coupling_unit}.")

    @_doc
    def relaxation_time(self, coupling_value: float, drive_value: float, rate: float) -> float:
        """``tau / (1 - F'(r))`` (s) at a fixed point (plain numbers in the native units).

        The linearisation of the first-order rate dynamics ``tau dr/dt = -r + F(r)`` about a
        fixed point (Wilson & Cowan 1972, Biophys. J. 12:1; the critical slowing down as ``F' -> 1``
        is THEORY.md 3's ``tau0 / (1 - T_c/T)``, for populations THEORY.md 6c).

        Parameters
        ----------
        %(fixed_point)s

        Returns
        -------
        float, s
            Infinite where ``F' >= 1`` (unstable or critical).
        """
        slope = float(self.rate_map.slope(rate, coupling_value, drive_value))
        return self.time_constant / (1 - slope) if slope < 1 else math.inf

    @_doc
    def population_variance(self, coupling_value: float, drive_value: float, rate: float,
                            bin_width: float) -> float:
        """``N Var(A_Delta)`` (Hz^2) at a stable fixed point, for bins of ``bin_width`` seconds.

        ``r CV^2 / Delta x binned_variance_factor`` (:mod:`neurophase.meanfield.population`), with
        ``CV^2`` from the transfer function at the fixed point's input and the feedback
        ``G = F' exp(-i omega D) / (1 + i omega tau_s)``: the fast-response limit, without the
        rate model's first-order filter (the white-noise LIF follows its input within a few ms:
        Brunel, Chance, Fourcaud & Abbott 2001, Phys. Rev. Lett. 86:2186). For bins much longer
        than the relaxation time this is the fluctuation-dissipation form
        ``r CV^2 / (Delta (1 - F')^2)``, which depends on no time constant; the source term
        ``r CV^2`` is the long-window limit of the count variance (a Fano factor of ``CV^2``,
        Cox 1962), so bins should hold several spikes.

        Parameters
        ----------
        %(fixed_point)s
        bin_width : float, s
            ``Delta``.

        Returns
        -------
        float, Hz**2
            ``N Var(A_Delta)``; infinite where ``F' >= 1``.
        """
        slope = float(self.rate_map.slope(rate, coupling_value, drive_value))
        if slope >= 1:
            return math.inf
        mean, std, filtered = self.rate_map.moments(rate, coupling_value, drive_value)
        cv2 = self.transfer.cv_squared(float(mean) + self.external_drive, float(std), float(filtered))
        # fast-response limit: no first-order filter, only the delay and the synaptic filter
        factor = binned_variance_factor(slope, bin_width, 0.0, self.delay, self.synaptic_tau)
        return rate * cv2 / bin_width * factor

    # ---------------------------------------------------------------------- Datasets
    def phase_diagram(self, couplings: Quantity, drives: Quantity, variance_bin: Quantity | None = None) -> xr.Dataset:
        """Fixed points over a ``(coupling, drive)`` grid, folds per coupling, the cusp.

        Parameters
        ----------
        couplings : Quantity (the coupling unit: voltage for delta, input dimension for current)
            The couplings ``w``.
        drives : Quantity (the model's input dimension)
            External drives.
        variance_bin : Quantity (time), optional
            Bin width of ``population_variance_low`` (not computed without it).

        Returns
        -------
        xarray.Dataset
            ``fixed_point_rate`` (coupling, drive, branch=0..2, NaN where absent),
            ``fixed_point_stable``, ``n_fixed_points``, ``low_branch_rate`` /
            ``high_branch_rate`` (the stable state reached from rate 0 and from ``rate_max``),
            ``bistable``, ``relaxation_time_low`` (s), ``population_variance_low`` (N Var of the
            low-branch rate in bins of ``variance_bin``); per coupling ``fold_low_drive``,
            ``fold_high_drive``, ``widom_drive``, ``widom_rate``; the cusp in attrs and as scalar
            variables ``cusp_coupling``, ``cusp_drive``, ``cusp_rate``.
        """
        w = self._w(couplings)
        mu = self._mu(drives)
        rates = np.full((w.size, mu.size, 3), np.nan)
        stable = np.zeros((w.size, mu.size, 3), dtype=bool)
        count = np.zeros((w.size, mu.size))
        low = np.full((w.size, mu.size), np.nan)
        high = np.full((w.size, mu.size), np.nan)
        tau_low = np.full((w.size, mu.size), np.nan)
        var_low = np.full((w.size, mu.size), np.nan)
        bin_width = None if variance_bin is None else float(to_magnitude(variance_bin, "second"))
        for a, coupling in enumerate(w):
            for b, drive in enumerate(mu):
                points = self.rate_map.fixed_points(coupling, drive)
                count[a, b] = len(points)
                for index, point in enumerate(points[:3]):
                    rates[a, b, index] = point.rate
                    stable[a, b, index] = point.stable
                lower = self.rate_map.stable_branch(coupling, drive, 0.0)
                upper = self.rate_map.stable_branch(coupling, drive, self.rate_map.rate_max * 0.999)
                if lower is not None:
                    low[a, b] = lower.rate
                    tau_low[a, b] = self.time_constant / (1 - lower.slope)
                    if bin_width is not None:
                        var_low[a, b] = self.population_variance(coupling, drive, lower.rate, bin_width)
                if upper is not None:
                    high[a, b] = upper.rate
        folds = np.full((w.size, 2), np.nan)
        fold_rates = np.full((w.size, 2), np.nan)
        widom = np.full((w.size, 2), np.nan)
        for a, coupling in enumerate(w):
            found = self.rate_map.folds(coupling)
            for index, (drive, rate) in enumerate(sorted(found)[:2]):
                folds[a, index], fold_rates[a, index] = drive, rate
            widom[a] = self.rate_map.widom_point(coupling)
        cusp = getattr(self, "_cusp", None) or self.cusp()
        unit_w, unit_mu = self.coupling_unit, self.input_unit
        dataset = xr.Dataset(
            {
                "fixed_point_rate": quantity_variable(rates, "Hz", ("coupling", "drive", "branch"),
                                                      long_name="fixed points of r = F(r), lowest first"),
                "fixed_point_stable": (("coupling", "drive", "branch"), stable.astype(np.int8),
                                       {"units": "1", "long_name": "1 if F'(r) < 1"}),
                "n_fixed_points": quantity_variable(count, "1", ("coupling", "drive"),
                                                    long_name="number of fixed points"),
                "low_branch_rate": quantity_variable(low, "Hz", ("coupling", "drive"),
                                                     long_name="stable state reached from r = 0"),
                "high_branch_rate": quantity_variable(high, "Hz", ("coupling", "drive"),
                                                      long_name="stable state reached from r = r_max"),
                "bistable": quantity_variable((count >= 3).astype(float), "1", ("coupling", "drive"),
                                              long_name="1 where two stable states coexist"),
                "relaxation_time_low": quantity_variable(tau_low, "s", ("coupling", "drive"),
                                                         long_name="tau / (1 - F') on the low branch"),
                "fold_drive": quantity_variable(folds, unit_mu, ("coupling", "fold"),
                                                long_name="drives of the folds (lower, upper)"),
                "fold_rate": quantity_variable(fold_rates, "Hz", ("coupling", "fold"),
                                               long_name="rates at the folds"),
                "widom_drive": quantity_variable(widom[:, 0], unit_mu, ("coupling",),
                                                 long_name="drive of largest susceptibility"),
                "widom_rate": quantity_variable(widom[:, 1], "Hz", ("coupling",),
                                                long_name="rate of largest susceptibility"),
                "cusp_coupling": quantity_variable(cusp.coupling, unit_w, (), long_name="w_c"),
                "cusp_drive": quantity_variable(cusp.drive, unit_mu, (), long_name="mu_c"),
                "cusp_rate": quantity_variable(cusp.rate, "Hz", (), long_name="r_c"),
            },
            coords={"coupling": quantity_coordinate("coupling", w, unit_w, long_name="synaptic weight w"),
                    "drive": quantity_coordinate("drive", mu, unit_mu, long_name="external drive"),
                    "branch": ("branch", np.arange(3)), "fold": ("fold", ["lower", "upper"])})
        if bin_width is not None:
            dataset["population_variance_low"] = quantity_variable(
                var_low, "Hz**2", ("coupling", "drive"),
                long_name=f"N_pop Var(r) in {bin_width * 1e3:g} ms bins, low branch (linear noise)")
        dataset.attrs.update(self.provenance())
        return dataset

    def provenance(self) -> dict[str, Any]:
        """Attributes describing the mean field.

        Returns
        -------
        dict
            :func:`neurophase.schema.provenance` of the model, the transfer function, the synapse,
            ``K``, noise, time constants and the mean-field equation with its gains.
        """
        return provenance(
            model_name=self.model.name, model_hash=self.model.content_hash,
            transfer_function=self.transfer.description, synapse=self.synapse,
            indegree=self.indegree, noise=f"{self.noise:g} {self.white_unit}",
            synaptic_tau=f"{self.synaptic_tau * 1e3:g} ms", delay=f"{self.delay * 1e3:g} ms",
            rate_time_constant=f"{self.time_constant * 1e3:g} ms",
            mean_field=("r = phi(mu_ext + a w r, sqrt(sigma_ext^2 + b w^2 r)), "
                        f"a = {self.mean_gain:.6g}, b = {self.variance_gain:.6g} (input units)"),
        )


def membrane_capacitance(model: Any, parameters: dict[str, Any] | None = None) -> Quantity:
    """``C = 1 / (d(dv/dt)/dI)``: the input charge (per area) that moves the membrane by one volt.

    Read from the model's equations by symbolic differentiation (sympy) of the membrane equation
    (the first differential equation in volts) with respect to the input variable, after
    substituting subexpressions: ``tau_m / R_m`` for the LIF, ``C_m`` for conductance models.
    Returned as a Quantity (input unit x second / volt).

    Parameters
    ----------
    model : Model
        A model with a membrane potential, linear in its input.
    parameters : dict, optional
        Model parameter overrides.

    Returns
    -------
    Quantity (input dimension x time / voltage)
        ``C``.

    Raises
    ------
    ParameterError
        No membrane potential, or a membrane equation not linear in the input through parameters.
    """
    import sympy
    from brian2 import Equations, volt
    from brian2 import units as brian_units
    from brian2.parsing.sympytools import str_to_sympy

    equations = Equations(model.equations)
    voltage = next((name for name in equations.diff_eq_names if equations[name].dim is volt.dim), None)
    if voltage is None:
        raise ParameterError(f"Model {model.name!r} has no membrane potential for delta synapses.")
    expression = str_to_sympy(str(equations[voltage].expr.code))
    for _ in range(5):
        for name in equations.subexpr_names:
            expression = expression.subs(sympy.Symbol(name, real=True),
                                         str_to_sympy(str(equations[name].expr.code)))
    derivative = sympy.diff(expression, sympy.Symbol(model.input_variable, real=True))
    namespace = model.namespace(**(parameters or {}))
    values = {str(symbol): namespace.get(str(symbol), getattr(brian_units, str(symbol), None))
              for symbol in derivative.free_symbols}
    if derivative == 0 or any(value is None for value in values.values()):
        raise ParameterError(f"Model {model.name!r}: the membrane equation is not linear in the input "
                             "through parameters only; use synapse='current'.")
    gain = sympy.lambdify(list(values), derivative, modules="numpy")(*values.values())
    return 1.0 / gain
