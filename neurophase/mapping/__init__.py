"""Coarse-graining: simulations and recordings -> order parameters, firing statistics and
mean-field parameters.

Modules
-------
:mod:`~neurophase.mapping.order_parameter`
    Stationary statistics of the order parameter M(t): MSER-5 equilibration, Sokal's integrated
    autocorrelation time, bootstrap over trials.
:mod:`~neurophase.mapping.meanfield_fit`
    Curie-Weiss parameters (T_c, J, exponents) fitted to measured magnetisation and
    susceptibility.
:mod:`~neurophase.mapping.firing`
    Spike count, steady-state rate, first-spike latency, ISI CV (from spike trains or running
    sums), Fano factor, firing probability: one set of rules for simulations and recordings.
:mod:`~neurophase.mapping.fi_curve`
    Rheobase with its bracket, onset type and jump, onset exponent, hysteresis range.
:mod:`~neurophase.mapping.coarse_graining`
    A conductance-based model file -> its derived mean-field membrane (THEORY.md 6a):
    order-parameter gate, T_eff, h(I), J_eff(I, M), self-consistent branches and folds, reduced
    dynamics and barrier (:func:`coarse_grain`).
:mod:`~neurophase.mapping.siegert`
    The Siegert rate of the white-noise LIF (stable erfcx/Dawson form), Fourcaud-Brunel shift,
    ISI CV.
:mod:`~neurophase.mapping.population`
    A population of a model file coarse-grained to its mean field (Siegert or the uncoupled
    model's measured transfer function): cusp, folds, phase diagram, relaxation, variance.
:mod:`~neurophase.mapping.channel_noise`
    Its noise side (THEORY.md 6b): the birth-death chain of the order-parameter gates with N
    channels; diffusion and WKB quasi-potentials, Kramers rates, exact mean first-passage
    times, linear-noise variance, pulse threshold and width ``C_A / sqrt(N)``.
:mod:`~neurophase.mapping.firing_probability`
    Estimators (fits) of the firing probability after a pulse (probit with floor and lapse,
    profile-likelihood intervals) and of escape rates from censored first-spike times.
"""

__all__ = ["coarse_grain", "CoarseGrainedMembrane"]


def __getattr__(name):
    """``coarse_grain`` and ``CoarseGrainedMembrane`` are imported on first use (PEP 562), so that
    the firing statistics (used by every simulation) do not import SciPy's optimisers."""
    if name in __all__:
        from neurophase.mapping import coarse_graining

        return getattr(coarse_graining, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
