"""Mean-field (Curie-Weiss / Landau) theory of the Ising channel membrane (THEORY.md sections 3-5).

Modules
-------
:mod:`~neurophase.meanfield.curie_weiss`
    The statics: self-consistent branches and their stability, magnetisation, susceptibility,
    free energies, spontaneous magnetisation, critical isotherm, coercive field, relaxation
    time, finite-size variance.
:mod:`~neurophase.meanfield.dynamics`
    The mean-field Glauber ODE, hysteresis loops and the quench protocol (ReLU from a quench).
:mod:`~neurophase.meanfield.exponents`
    Exponent tables (mean field, 2-D and 3-D Ising), Onsager's square lattice, power-law fits.
:mod:`~neurophase.meanfield.population`
    Population mean field on a given transfer function ``r = phi(mu(r), sigma(r))``: fixed
    points, folds, cusp, Widom line, linear-noise variance (THEORY.md section 6c).

Everything public is re-exported here, e.g. ``from neurophase.meanfield import magnetisation``.
All functions use reduced units (T, h, J are energies in one common unit) and broadcast over
arrays.
"""

from neurophase.meanfield.curie_weiss import (
    BRANCHES,
    branches,
    coercive_field,
    coercive_field_numeric,
    critical_isotherm,
    critical_temperature,
    finite_size_curie_weiss,
    finite_size_variance,
    free_energy,
    landau_free_energy,
    magnetisation,
    relaxation_time,
    spontaneous_magnetisation,
    susceptibility,
)
from neurophase.meanfield.dynamics import (
    HysteresisLoop,
    hysteresis_loop,
    integrate_glauber,
    ordered_time,
    ordered_time_exponential,
    quench_temperature,
    quench_temperature_exponential,
    quench_threshold,
    simulate_quench,
)
from neurophase.meanfield.exponents import (
    ISING_2D_EXPONENTS,
    ISING_3D_EXPONENTS,
    MEAN_FIELD_EXPONENTS,
    PowerLawFit,
    fit_power_law,
    ising_2d_critical_temperature,
    local_exponent,
    onsager_magnetisation,
)
from neurophase.meanfield.population import Cusp, FixedPoint, RateMap, binned_variance_factor

__all__ = [
    "BRANCHES",
    "branches",
    "coercive_field",
    "coercive_field_numeric",
    "critical_isotherm",
    "critical_temperature",
    "finite_size_curie_weiss",
    "finite_size_variance",
    "free_energy",
    "landau_free_energy",
    "magnetisation",
    "relaxation_time",
    "spontaneous_magnetisation",
    "susceptibility",
    "HysteresisLoop",
    "hysteresis_loop",
    "integrate_glauber",
    "ordered_time",
    "ordered_time_exponential",
    "quench_temperature",
    "quench_temperature_exponential",
    "quench_threshold",
    "simulate_quench",
    "ISING_2D_EXPONENTS",
    "ISING_3D_EXPONENTS",
    "MEAN_FIELD_EXPONENTS",
    "PowerLawFit",
    "fit_power_law",
    "ising_2d_critical_temperature",
    "local_exponent",
    "onsager_magnetisation",
    "Cusp",
    "FixedPoint",
    "RateMap",
    "binned_variance_factor",
]
