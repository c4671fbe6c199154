"""The predictions of THEORY.md section 7 as measurements that return verdicts.

Every ``measure_*`` function (named in :data:`neurophase.experiments.MEASUREMENTS`) takes keyword
settings and returns ``(verdicts, datasets)``.

Modules
-------
:mod:`~neurophase.check.verdicts`
    ``Verdict`` and the ``verdicts.csv`` format.
:mod:`~neurophase.check.membrane`
    P1, P3-P7, P9-P12 and the 2-D lattice on the Brian2 Ising membrane.
:mod:`~neurophase.check.gating`
    P2 (Boltzmann gating functions) and P8 (the T -> 0 sign limit).
:mod:`~neurophase.check.neurone`
    C1-C4 on the spiking neurone models.
:mod:`~neurophase.check.learning`
    C6: learning with the derived activation; Rosenblatt's rule as T -> 0.
:mod:`~neurophase.check.compare`
    Verdicts that compare fitted candidates (C1, C4, C5); the estimator is
    :class:`neurophase.neurons.fit.ActivationFit`.
:mod:`~neurophase.check.recordings`
    C5 (and C1) on current-clamp recordings; the ``neurophase recordings`` command.
:mod:`~neurophase.check.sweep`
    The generic ``sweep``: any model, any grid, verdicts declared in the experiment file.
:mod:`~neurophase.check.coarse_graining`
    N1-N5: the mean-field membrane derived from a conductance model against the full model.
:mod:`~neurophase.check.population`
    Q1-Q5: recurrent populations against their derived population mean field.
:mod:`~neurophase.check.fitting`
    F1 (held-out sweeps) and F2 (the fitted model's f-I) of a neurone model fitted to a cell
    (:mod:`neurophase.fit`), the ``neurophase fit`` command and the ``fitting`` measurement.
"""
