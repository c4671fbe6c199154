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
:mod:`~neurophase.check.fit`
    ``ActivationFit``: the derived family and its rivals fitted with held-out error and
    bootstrap intervals.
:mod:`~neurophase.check.compare`
    Verdicts that compare fitted candidates (C1, C4, and C5 with :mod:`neurophase.recordings`).
:mod:`~neurophase.check.fitting`
    F1 (held-out sweeps) and F2 (the fitted model's f-I) of a neurone model fitted to a cell
    (:mod:`neurophase.fit`), the ``neurophase fit`` command and the ``fitting`` measurement.
"""
