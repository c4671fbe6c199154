"""Figures: one module per topic, each function ``(datasets, verdicts) -> [(stem, figure, caption)]``.

Registered by measurement name in :data:`neurophase.plot.PLOTTERS` (as import paths, so a figure
module is imported only when its figures are drawn). Every figure of a measurement that has a
prediction draws it over the measured data.

Modules
-------
membrane
    P1, P3-P7, P9-P12 and the 2-D lattice.
gating
    P2 and P8.
neurone
    C1-C4.
learning
    C6.
recordings
    C5: f-I curves of recordings with the fitted candidates, and example traces.
sweep
    The generic sweep: the swept f-I curve with each declared expected value.
style
    Shared drawing: trials faint, trial mean with its 95 % interval, prediction in red.
coarse_graining
    The derived mean-field membrane (branches, folds, potential landscape) and N1/N2.
population
    Q1-Q5: phase diagram, rate against drive, ramps, exponents, fluctuations of populations.
fit
    F1/F2: recorded vs fitted traces, f-I overlay with the fitted model's prediction, Pareto front.
"""
