"""The derived activation family as rate neurones (THEORY.md section 5).

Modules
-------
:mod:`~neurophase.neurons.activations`
    ``Activation`` and its special cases (logistic, tanh, Heaviside, sign, softplus, SiLU, ReLU,
    rectified power, coupled tanh, bistable unit, mean-field open probability), each with an
    analytic derivative, its origin in the mean-field membrane and a citation; the registry
    ``ACTIVATIONS`` and ``get_activation``.
:mod:`~neurophase.neurons.derived`
    ``DerivedActivation`` (registered as ``"derived_membrane"``): the rate neurone derived from a
    coarse-grained conductance-based membrane; ``self_consistent_roots``, the one solver of the
    self-consistency ``m = m_inf(V*(m, I))``.
"""

from neurophase.neurons.activations import (
    ACTIVATIONS,
    Activation,
    BistableUnit,
    CoupledTanh,
    Heaviside,
    Logistic,
    MeanFieldActivation,
    RectifiedPower,
    ReLU,
    Sign,
    SiLU,
    Softplus,
    Tanh,
    get_activation,
)
from neurophase.neurons.derived import DerivedActivation, self_consistent_roots

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "BistableUnit",
    "CoupledTanh",
    "DerivedActivation",
    "Heaviside",
    "Logistic",
    "MeanFieldActivation",
    "RectifiedPower",
    "ReLU",
    "SiLU",
    "Sign",
    "Softplus",
    "Tanh",
    "get_activation",
    "self_consistent_roots",
]
