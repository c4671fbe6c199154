"""The derived activation family as rate neurones (THEORY.md section 5).

Every activation maps a pre-activation (the field ``h``, reduced units) to an output and has an
analytic, vectorised derivative. Each class states where it comes from in the mean-field
picture of the channel membrane (``.origin``) and the reference it rests on (``.citation``).

Classes
-------
Activation
    Base class: ``value(h)``, ``derivative(h)``, ``__call__``, ``name``, ``origin``,
    ``citation``, ``parameters``.
Logistic, Tanh
    ``1/(1 + exp(-h/T))`` and ``tanh(h/T)``: the independent-channel (J = 0) curves.
Heaviside, Sign
    Their ``T -> 0`` limits: the McCulloch-Pitts / perceptron threshold units.
Softplus, SiLU
    ``T ln(1 + exp(h/T))`` (minus the free energy of one two-state channel) and
    ``h logistic(h/T)`` (minus its mean energy); both tend to ReLU as ``T -> 0``.
ReLU, RectifiedPower
    ``max(0, h)`` (quench protocol, ``T -> 0`` of softplus) and ``max(0, h)**p``
    (``p = 1/2``: the order parameter near T_c).
CoupledTanh
    Mean-field magnetisation above T_c: a tanh steepened by the coupling.
BistableUnit
    Below T_c: two stable branches and hysteresis (``branches``, ``respond``).
MeanFieldActivation
    The general derived unit: the open probability ``(1 + M)/2`` of the Curie-Weiss membrane.

Functions
---------
derived_open_probability
    The derived activation in reduced variables, ``(1 + M)/2`` with ``M = tanh(K M + u)``:
    what the activation fits of :mod:`neurophase.neurons.fit` evaluate.
get_activation
    An activation by registry name, e.g. ``get_activation("softplus", temperature=0.5)``.

Every coupled unit solves the self-consistency with :func:`neurophase.meanfield.branches` /
:func:`neurophase.meanfield.magnetisation` (one solver, with a fast path where the root is
unique); nothing in neurophase solves it a second time.

ACTIVATIONS is the registry ``{name: class}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import expit

from neurophase.docstrings import template
from neurophase.errors import ParameterError
from neurophase.meanfield import (
    branches as _branches,
)
from neurophase.meanfield import (
    coercive_field,
    critical_temperature,
    magnetisation,
    susceptibility,
)
from neurophase.meanfield.curie_weiss import as_reduced

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "Activation",
    "Logistic",
    "Tanh",
    "Heaviside",
    "Sign",
    "Softplus",
    "SiLU",
    "ReLU",
    "RectifiedPower",
    "CoupledTanh",
    "BistableUnit",
    "MeanFieldActivation",
    "ACTIVATIONS",
    "get_activation",
    "derived_open_probability",
]

_SAKTHIVADIVEL = ("D. A. R. Sakthivadivel, 'Formalising the Use of the Activation Function in Neural "
                  "Inference', Complex Systems 31(4) (2022), arXiv:2102.04896")


def _field(h):
    return as_reduced(h, "h")


def _positive_temperature(temperature, limit):
    temperature = float(temperature)
    if not temperature > 0 or not np.isfinite(temperature):
        raise ParameterError(
            f"temperature = {temperature!r} must be positive and finite; for the T -> 0 limit use {limit}()."
        )
    return temperature


def _scalar_result(array):
    array = np.asarray(array, dtype=float)
    return array[()] if array.ndim == 0 else array


class Activation:
    """Base class of the activation family.

    Subclasses set ``name``, ``origin`` and ``citation`` and implement ``_value`` and
    ``_derivative`` on float arrays; the public ``value`` / ``derivative`` check the input.
    Calling an activation is :meth:`value`. Two activations are equal when they are of one
    class with equal :attr:`parameters`.
    """

    name = "activation"
    origin = ""
    citation = ""

    @property
    def parameters(self) -> dict[str, Any]:
        """The constructor settings as a dict (scikit-learn style)."""
        return {}

    def value(self, h: ArrayLike) -> np.ndarray | float:
        """Output for the pre-activation ``h``.

        Parameters
        ----------
        h : float or array_like, reduced units
            Pre-activation (the field, an energy in the unit of the temperature); NaN and
            dimensioned Brian2 quantities are refused.

        Returns
        -------
        numpy.ndarray or numpy.float64
            The activation, the shape of ``h`` (a scalar for scalar input); dimensionless for
            the probability and magnetisation units, reduced units (like ``h``) for the
            rectifiers (softplus, SiLU, ReLU, rectified power).
        """
        return _scalar_result(self._value(_field(h)))

    def derivative(self, h: ArrayLike) -> np.ndarray | float:
        """Analytic derivative ``d value / d h``.

        Parameters
        ----------
        h : float or array_like, reduced units
            Pre-activation, as in :meth:`value`.

        Returns
        -------
        numpy.ndarray or numpy.float64
            The derivative, the shape of ``h``, in units of ``value`` per unit of ``h``.
        """
        return _scalar_result(self._derivative(_field(h)))

    __call__ = value

    def _value(self, h):  # pragma: no cover - abstract
        raise NotImplementedError

    def _derivative(self, h):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self):
        settings = ", ".join(f"{key}={value!r}" for key, value in self.parameters.items())
        return f"{type(self).__name__}({settings})"

    def __eq__(self, other):
        return type(self) is type(other) and self.parameters == other.parameters

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self.parameters.items()))))


class _Tempered(Activation):
    """An activation with one temperature (inverse gain) and a ``T -> 0`` limit.

    A subclass names the class of its limit in its class statement,
    ``class Tanh(_Tempered, limit="Sign")``: the name goes into the error message for ``T = 0``
    and into the ``temperature`` entry of the subclass's docstring (its line
    ``%(parameters_temperature)s``).
    """

    _limit = "Heaviside"

    def __init_subclass__(cls, limit: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._limit = limit
        template(parameters_temperature=f"""Parameters
----------
temperature : float, optional, reduced units
    ``T > 0`` and finite (the inverse gain); default 1. For ``T -> 0`` use :class:`{limit}`.""")(cls)

    def __init__(self, temperature: float = 1.0) -> None:
        self.temperature = _positive_temperature(temperature, self._limit)

    @property
    def parameters(self) -> dict[str, Any]:
        return {"temperature": self.temperature}


class Logistic(_Tempered, limit="Heaviside"):
    """Logistic ``1/(1 + exp(-h/T))``.

    The open probability of an independent two-state channel whose open and closed states differ
    in energy by ``2h`` is ``1/(1 + exp(-2 h/T)) = (1 + tanh(h/T))/2`` (Boltzmann 1877; Hodgkin &
    Huxley 1952 gating curves; THEORY.md section 3 with J = 0). This class uses ``h/T``: the
    membrane's open probability at temperature T is ``Logistic(temperature=T/2)``. ``T -> 0``
    gives :class:`Heaviside` (pointwise error ``< exp(-|h|/T)``).

    %(parameters_temperature)s

    Examples
    --------
    >>> float(Logistic(2.0).value(0.0))
    0.5
    """

    name = "logistic"
    origin = "open probability of an independent two-state channel (J = 0); factor 2: T_membrane = 2 T"
    citation = "Boltzmann distribution of a two-state channel; " + _SAKTHIVADIVEL

    def _value(self, h):
        return expit(h / self.temperature)

    def _derivative(self, h):
        p = expit(h / self.temperature)
        # 1 - p as expit(-h/T): accurate as p -> 1, and the same arithmetic as MeanFieldActivation at J = 0
        return p * expit(-h / self.temperature) / self.temperature


class Tanh(_Tempered, limit="Sign"):
    """``tanh(h/T)``: the magnetisation of independent channels (J = 0), THEORY.md section 3.

    ``T -> 0`` gives :class:`Sign` (pointwise error ``< 2 exp(-2|h|/T)``).

    %(parameters_temperature)s
    """

    name = "tanh"
    origin = "mean-field magnetisation at J = 0"
    citation = "Curie paramagnet M = tanh(beta h); " + _SAKTHIVADIVEL

    def _value(self, h):
        return np.tanh(h / self.temperature)

    def _derivative(self, h):
        x = np.abs(h) / self.temperature
        decay = np.exp(-2.0 * x)
        return 4.0 * decay / (1.0 + decay) ** 2 / self.temperature


class Heaviside(Activation):
    """Step ``H(h)`` (1/2 at h = 0, the ``T -> 0`` limit of the logistic there).

    McCulloch & Pitts (1943) threshold unit; Rosenblatt (1958) perceptron. The derivative is 0
    for ``h != 0`` (a Dirac delta at 0, returned as 0).
    """

    name = "heaviside"
    origin = "T -> 0 limit of the open probability (the perceptron)"
    citation = "McCulloch & Pitts, Bull. Math. Biophys. 5, 115 (1943); " + _SAKTHIVADIVEL

    def _value(self, h):
        return np.where(h > 0, 1.0, np.where(h < 0, 0.0, 0.5))

    def _derivative(self, h):
        return np.zeros_like(h)


class Sign(Activation):
    """``sign(h)`` (0 at h = 0): the ``T -> 0`` limit of the magnetisation, THEORY.md P8."""

    name = "sign"
    origin = "T -> 0 limit of the mean-field magnetisation"
    citation = "McCulloch & Pitts (1943); " + _SAKTHIVADIVEL

    def _value(self, h):
        return np.sign(h).astype(float)

    def _derivative(self, h):
        return np.zeros_like(h)


class Softplus(_Tempered, limit="ReLU"):
    """``T ln(1 + exp(h/T))``: minus the free energy of one two-state channel (levels 0 and -h).

    ``-F = T ln Z``, ``Z = 1 + exp(h/T)`` (THEORY.md section 5); ``dF/dh`` gives the logistic
    (Dugas et al. 2001 introduced softplus as a smooth rectifier). Computed as
    ``max(h, 0) + T log1p(exp(-|h|/T))`` (no overflow). ``T -> 0`` gives ReLU with
    ``0 <= softplus - ReLU <= T ln 2``.

    %(parameters_temperature)s
    """

    name = "softplus"
    origin = "minus the free energy of one two-state channel; d/dh is the logistic"
    citation = "Dugas, Bengio et al., NIPS 13 (2001); " + _SAKTHIVADIVEL

    def _value(self, h):
        return np.maximum(h, 0.0) + self.temperature * np.log1p(np.exp(-np.abs(h) / self.temperature))

    def _derivative(self, h):
        return expit(h / self.temperature)


class SiLU(_Tempered, limit="ReLU"):
    """``h logistic(h/T)`` (SiLU / swish): minus the mean energy of one two-state channel.

    Mean energy ``<E> = -h p_open`` with ``p_open = logistic(h/T)`` (THEORY.md section 5;
    Elfwing, Uchibe & Doya 2018; Ramachandran, Zoph & Le 2017). ``T -> 0`` gives ReLU with
    error ``<= T max_u |u| logistic(-|u|) = 0.2785 T``.

    %(parameters_temperature)s
    """

    name = "silu"
    origin = "minus the mean energy of one two-state channel"
    citation = "Elfwing, Uchibe & Doya, Neural Networks 107, 3 (2018); " + _SAKTHIVADIVEL

    def _value(self, h):
        return h * expit(h / self.temperature)

    def _derivative(self, h):
        p = expit(h / self.temperature)
        return p + h * p * (1.0 - p) / self.temperature


class ReLU(Activation):
    """``max(0, h)``: ``T -> 0`` of softplus and SiLU, and the quench protocol (THEORY.md P9).

    The derivative is the Heaviside step, with 1/2 at ``h = 0`` (the ``T -> 0`` limit of the
    softplus derivative there).
    """

    name = "relu"
    origin = "T -> 0 of softplus / SiLU; ordered time after a quench (P9)"
    citation = "Nair & Hinton, ICML (2010); " + _SAKTHIVADIVEL

    def _value(self, h):
        return np.maximum(h, 0.0)

    def _derivative(self, h):
        return np.where(h > 0, 1.0, np.where(h < 0, 0.0, 0.5))


class RectifiedPower(Activation):
    """``max(0, h)**exponent``; ``exponent = 1/2`` is the mean-field order parameter near T_c.

    ``M0 = sqrt(3 (T_c - T)/T_c)`` (beta = 1/2, THEORY.md sections 3-5) and the class-1 f-I
    curve ``f ~ (I - I_c)**(1/2)`` (Ermentrout 1996). The derivative at ``h = 0`` is ``+inf``
    for ``exponent < 1``, ``1`` for ``exponent = 1`` and 0 above.

    Parameters
    ----------
    exponent : float, optional
        The power (dimensionless), positive and finite; default 1/2.
    """

    name = "rectified_power"
    origin = "order parameter near T_c (exponent beta = 1/2 in mean field)"
    citation = "Ermentrout, Neural Comput. 8, 979 (1996); " + _SAKTHIVADIVEL

    def __init__(self, exponent: float = 0.5) -> None:
        exponent = float(exponent)
        if not exponent > 0 or not np.isfinite(exponent):
            raise ParameterError(f"exponent = {exponent!r} must be positive and finite.")
        self.exponent = exponent

    @property
    def parameters(self) -> dict[str, Any]:
        return {"exponent": self.exponent}

    def _value(self, h):
        return np.maximum(h, 0.0) ** self.exponent

    def _derivative(self, h):
        positive = np.maximum(h, 0.0)
        with np.errstate(divide="ignore"):
            slope = self.exponent * positive ** (self.exponent - 1.0)
        return np.where(h > 0, slope, np.where(h < 0, 0.0, slope))


class _MeanField(Activation):
    """Shared settings of the coupled (J > 0) units."""

    def __init__(self, temperature: float, coupling: float, coordination: float = 1.0) -> None:
        temperature = float(temperature)
        coupling = float(coupling)
        coordination = float(coordination)
        if not temperature >= 0 or not np.isfinite(temperature):
            raise ParameterError(f"temperature = {temperature!r} must be >= 0 and finite.")
        if not coupling >= 0 or not np.isfinite(coupling):
            raise ParameterError(f"coupling = {coupling!r} must be >= 0 (J = 0: independent channels).")
        if not coordination > 0:
            raise ParameterError(f"coordination = {coordination!r} must be positive (z = 1 for all-to-all).")
        self.temperature = temperature
        self.coupling = coupling
        self.coordination = coordination

    @property
    def critical_temperature(self) -> float:
        """``T_c = z J`` (reduced units; THEORY.md section 3)."""
        return float(critical_temperature(self.coupling, self.coordination))

    @property
    def parameters(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "coupling": self.coupling, "coordination": self.coordination}


class CoupledTanh(_MeanField):
    """Mean-field magnetisation above T_c: ``M = tanh((zJ M + h)/T)``, ``T > zJ``.

    A tanh steepened by the coupling: slope at 0 ``chi = 1/(T - T_c)`` instead of ``1/T``
    (Curie-Weiss law, THEORY.md section 3 and P3). Derivative: the susceptibility
    ``beta (1 - M**2)/(1 - beta zJ (1 - M**2))``.

    Parameters
    ----------
    temperature : float, reduced units
        ``T``, finite; ``T > T_c = z J``.
    coupling : float, reduced units
        ``J >= 0``, finite.
    coordination : float, optional
        Coupling number ``z > 0`` (dimensionless), default 1 (all-to-all); ``T_c = z J``.

    Examples
    --------
    >>> float(CoupledTanh(2.0, 1.0).derivative(0.0))    # 1/(T - T_c)
    1.0
    """

    name = "coupled_tanh"
    origin = "mean-field magnetisation for J > 0, T > T_c"
    citation = "Curie-Weiss self-consistency (Weiss 1907); " + _SAKTHIVADIVEL

    def __init__(self, temperature: float, coupling: float, coordination: float = 1.0) -> None:
        super().__init__(temperature, coupling, coordination)
        if not self.temperature > self.critical_temperature:
            raise ParameterError(
                f"CoupledTanh needs T > T_c = zJ = {self.critical_temperature:g} (got T = {self.temperature:g}); "
                "below T_c use BistableUnit or MeanFieldActivation(branch=...)."
            )

    def _value(self, h):
        return magnetisation(self.temperature, h, self.coupling, self.coordination)

    def _derivative(self, h):
        return susceptibility(self.temperature, h, self.coupling, self.coordination)


class BistableUnit(_MeanField):
    """Mean-field unit below T_c: two stable branches for ``|h| < h_c(T)``, hysteresis.

    ``value`` / ``derivative`` follow ``branch`` ("equilibrium", "upper" or "lower");
    :meth:`branches` lists all self-consistent solutions; :meth:`respond` follows a sequence of
    inputs with memory: the state jumps to the upper branch only where ``h >= h_c`` and to the
    lower one only where ``h <= -h_c`` (the quasi-static limit of
    :func:`neurophase.meanfield.hysteresis_loop`; THEORY.md P7).

    Parameters
    ----------
    temperature : float, reduced units
        ``T``, finite; ``0 <= T < T_c = z J``.
    coupling : float, reduced units
        ``J >= 0``, finite.
    coordination : float, optional
        Coupling number ``z > 0`` (dimensionless), default 1 (all-to-all); ``T_c = z J``.
    branch : {"equilibrium", "upper", "lower"}, optional
        The branch ``value`` and ``derivative`` follow (see
        :func:`neurophase.meanfield.magnetisation`); default "equilibrium".
    initial : {"lower", "upper"}, optional
        The branch :meth:`respond` starts on; default "lower".

    Examples
    --------
    >>> unit = BistableUnit(0.5, 1.0)
    >>> np.round(unit.respond([-1.0, 0.0, 1.0, 0.0, -1.0]), 3).tolist()
    [-0.999, -0.958, 0.999, 0.958, -0.999]
    """

    name = "bistable"
    origin = "mean-field magnetisation for J > 0, T < T_c (two stable branches)"
    citation = "Curie-Weiss spinodals and hysteresis (e.g. Stanley 1971, ch. 6); " + _SAKTHIVADIVEL

    def __init__(self, temperature: float, coupling: float, coordination: float = 1.0, branch: str = "equilibrium",
                 initial: str = "lower") -> None:
        super().__init__(temperature, coupling, coordination)
        if not self.temperature < self.critical_temperature:
            raise ParameterError(
                f"BistableUnit needs T < T_c = zJ = {self.critical_temperature:g} (got T = {self.temperature:g}); "
                "above T_c use CoupledTanh."
            )
        if branch not in ("equilibrium", "upper", "lower"):
            raise ParameterError(f"branch = {branch!r} must be 'equilibrium', 'upper' or 'lower'.")
        if initial not in ("upper", "lower"):
            raise ParameterError(f"initial = {initial!r} must be 'upper' or 'lower'.")
        self.branch = branch
        self.initial = initial

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(super().parameters, branch=self.branch, initial=self.initial)

    @property
    def coercive_field(self) -> float:
        """``h_c(T)`` (reduced units): the stable branches coexist for ``|h| < h_c``."""
        return float(coercive_field(self.temperature, self.coupling, self.coordination))

    def branches(self, h: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """All self-consistent M at ``h`` and their stability (:func:`neurophase.meanfield.branches`).

        Parameters
        ----------
        h : float or array_like, reduced units
            Field.

        Returns
        -------
        M : numpy.ndarray, dimensionless
            The roots in ascending order, NaN-padded, shape ``h.shape + (3,)``.
        stable : numpy.ndarray of bool
            True for the stable roots, same shape.
        """
        return _branches(self.temperature, _field(h), self.coupling, self.coordination)

    def _value(self, h):
        return magnetisation(self.temperature, h, self.coupling, self.coordination, branch=self.branch)

    def _derivative(self, h):
        return susceptibility(self.temperature, h, self.coupling, self.coordination, branch=self.branch)

    def respond(self, h_sequence: ArrayLike) -> np.ndarray:
        """Magnetisation along a sequence of inputs (axis 0 is time), following the branch history.

        Starts on the ``initial`` branch; switches up where ``h >= h_c`` and down where
        ``h <= -h_c`` (vectorised: a forward fill of the last switching event).

        Parameters
        ----------
        h_sequence : float or array_like, reduced units
            Fields in time order along axis 0 (further axes are independent units); a scalar is
            a sequence of one.

        Returns
        -------
        numpy.ndarray, dimensionless
            ``M`` on the branch the history selects, the shape of ``h_sequence`` (at least 1-D).
        """
        h = _field(h_sequence)
        if h.ndim == 0:
            h = h[None]
        threshold = self.coercive_field
        event = np.where(h >= threshold, 1, np.where(h <= -threshold, -1, 0))
        steps = np.arange(h.shape[0]).reshape((-1,) + (1,) * (h.ndim - 1))
        last_event = np.maximum.accumulate(np.where(event != 0, steps, -1), axis=0)
        initial = 1 if self.initial == "upper" else -1
        state = np.where(last_event >= 0, np.take_along_axis(event, np.maximum(last_event, 0), axis=0), initial)
        upper = magnetisation(self.temperature, h, self.coupling, self.coordination, branch="upper")
        lower = magnetisation(self.temperature, h, self.coupling, self.coordination, branch="lower")
        return np.where(state > 0, upper, lower)


class MeanFieldActivation(_MeanField):
    """The derived unit: open probability ``(1 + M)/2`` of the Curie-Weiss membrane.

    ``M`` solves ``M = tanh((zJ M + h)/T)`` on ``branch`` (THEORY.md section 3); the value is
    computed as ``logistic(2 (zJ M + h)/T)``, equal to ``(1 + M)/2`` but accurate as ``M -> -1``.
    ``J = 0`` gives ``logistic(2h/T)`` exactly; ``T > T_c`` the coupled sigmoid; ``T < T_c`` a
    bistable branch; ``T = 0`` the step. Derivative: ``chi/2``.

    Parameters
    ----------
    temperature : float, reduced units
        ``T``, finite; ``T >= 0``.
    coupling : float, reduced units
        ``J >= 0``, finite.
    coordination : float, optional
        Coupling number ``z > 0`` (dimensionless), default 1 (all-to-all); ``T_c = z J``.
    branch : {"equilibrium", "upper", "lower"}, optional
        Which self-consistent branch (see :func:`neurophase.meanfield.magnetisation`); default
        "equilibrium".

    Examples
    --------
    >>> unit = MeanFieldActivation(temperature=1.0, coupling=0.0)
    >>> bool(np.isclose(unit.value(0.3), 1 / (1 + np.exp(-0.6))))
    True
    """

    name = "mean_field"
    origin = "open probability (1 + M)/2 of the mean-field Ising membrane"
    citation = _SAKTHIVADIVEL

    def __init__(self, temperature: float, coupling: float, coordination: float = 1.0,
                 branch: str = "equilibrium") -> None:
        super().__init__(temperature, coupling, coordination)
        if branch not in ("equilibrium", "upper", "lower"):
            raise ParameterError(f"branch = {branch!r} must be 'equilibrium', 'upper' or 'lower'.")
        self.branch = branch

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(super().parameters, branch=self.branch)

    def _value(self, h):
        M = magnetisation(self.temperature, h, self.coupling, self.coordination, branch=self.branch)
        argument = self.coordination * self.coupling * M + h
        if self.temperature == 0:
            return np.where(argument > 0, 1.0, np.where(argument < 0, 0.0, 0.5))
        return expit(2.0 * argument / self.temperature)

    def _derivative(self, h):
        return 0.5 * susceptibility(self.temperature, h, self.coupling, self.coordination, branch=self.branch)


def derived_open_probability(reduced_field: ArrayLike, coupling_ratio: float) -> np.ndarray:
    """Open probability ``(1 + M)/2`` of the Curie-Weiss membrane, ``M = tanh(K M + u)``.

    The mean-field self-consistency ``M = tanh(beta (zJ M + h))`` (THEORY.md section 3; Stanley
    1971, *Introduction to Phase Transitions and Critical Phenomena*, eq. 6.13) in reduced
    variables ``u = beta h`` and ``K = beta zJ = T_c/T``: the :class:`MeanFieldActivation` at
    ``T = 1``, ``J = K``. For ``K < 1`` (above ``T_c``) the root is unique and smooth in ``u``;
    the value is ``logistic(2 (K M + u))``, free of cancellation as ``M -> -1``. ``K = 0`` gives
    the logistic ``1/(1 + exp(-2u))``.

    Parameters
    ----------
    reduced_field : float or array_like, dimensionless
        ``u = h / T``.
    coupling_ratio : float, dimensionless
        ``K = zJ / T = T_c / T`` in ``[0, 1)``.

    Returns
    -------
    numpy.ndarray, dimensionless
        ``p_open`` in [0, 1], the shape of ``reduced_field``.

    Examples
    --------
    >>> float(derived_open_probability(0.0, 0.5))
    0.5
    >>> bool(np.isclose(derived_open_probability(0.3, 0.0), 1 / (1 + np.exp(-0.6))))
    True
    """
    coupling_ratio = float(coupling_ratio)
    if not 0.0 <= coupling_ratio < 1.0:
        raise ParameterError(
            f"coupling_ratio K = J/T = {coupling_ratio!r} must be in [0, 1) for the single-valued "
            "(T > T_c) branch; for K >= 1 use MeanFieldActivation(branch=...) or "
            "neurophase.meanfield.branches."
        )
    return np.asarray(MeanFieldActivation(1.0, coupling_ratio).value(reduced_field), dtype=float)


#: Registry of the activation family: name -> class.
ACTIVATIONS = {
    cls.name: cls
    for cls in (Logistic, Tanh, Heaviside, Sign, Softplus, SiLU, ReLU, RectifiedPower, CoupledTanh,
                BistableUnit, MeanFieldActivation)
}

_ALIASES = {"sigmoid": "logistic", "swish": "silu", "step": "heaviside", "sqrt": "rectified_power",
            "meanfield": "mean_field", "mean-field": "mean_field", "coupledtanh": "coupled_tanh"}


def get_activation(name: str, **parameters: Any) -> Activation:
    """Build an activation from its registry name (case-insensitive; a few aliases).

    Parameters
    ----------
    name : str
        A key of :data:`ACTIVATIONS` or an alias ("sigmoid", "swish", "step", "sqrt",
        "meanfield", "mean-field", "coupledtanh").
    **parameters : float or str
        The constructor settings of that class (e.g. ``temperature``, in reduced units).

    Returns
    -------
    Activation
        A new instance.

    Raises
    ------
    ParameterError
        For an unknown name or settings the class does not take.

    Examples
    --------
    >>> get_activation("softplus", temperature=0.5)
    Softplus(temperature=0.5)
    """
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in ACTIVATIONS:
        raise ParameterError(f"Unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}.")
    try:
        return ACTIVATIONS[key](**parameters)
    except TypeError as error:
        raise ParameterError(f"Bad parameters for activation {key!r}: {error}.") from error
