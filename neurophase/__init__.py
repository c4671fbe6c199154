"""neurophase: is the artificial neurone a mean-field model of the neural membrane?

The package is a pipeline whose folders follow the data:

``micro``
    Brian2 simulations: Ising channel membranes and conductance-based / spiking neurones.
``mapping``
    Coarse-graining: order parameters and effective mean-field parameters, with uncertainty.
``meanfield``
    Curie-Weiss / Landau order-parameter theory: branches, stability, susceptibility,
    hysteresis, quench protocols.
``neurons``
    The derived activation family and its special cases as rate neurones.
``recordings``
    Current-clamp recordings (ABF, NWB, Igor, CSV) in the same Dataset schema.
``check``
    Firing statistics against derived activations: fits, verdicts, confidence intervals.

See ``README.md`` for the two commands that install and run everything.
"""

__version__ = "0.1.0"
