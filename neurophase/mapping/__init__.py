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
"""
