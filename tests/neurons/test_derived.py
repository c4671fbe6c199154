"""The self-consistency solver and the derived rate neurone's generic behaviour."""

import numpy as np
import pytest
from scipy.special import expit

from neurophase.errors import ParameterError
from neurophase.meanfield import branches
from neurophase.neurons import DerivedActivation, self_consistent_roots


def test_roots_are_the_curie_weiss_branches_over_a_field_grid():
    """g(m, h) = logistic(2 (J (2m - 1) + h)/T): the roots in M = 2m - 1 are the Curie-Weiss
    branches of neurophase.meanfield (an independent solver), stability included."""
    T, J = 0.6, 1.0
    fields = np.linspace(-0.5, 0.5, 41)
    roots, stable, gain = self_consistent_roots(lambda m, h: expit(2 * (J * (2 * m - 1) + h) / T), fields)
    reference, reference_stable = branches(T, fields, J)
    finite = np.isfinite(reference)
    assert np.array_equal(np.isfinite(roots), finite)
    np.testing.assert_allclose(2 * roots[finite] - 1, reference[finite], atol=1e-12)
    assert np.array_equal(stable[finite], reference_stable[finite])
    # loop gain dg/dm = 4 J m (1 - m)/T at the root (finite difference inside the solver)
    np.testing.assert_allclose(gain[finite], 4 * J * roots[finite] * (1 - roots[finite]) / T, rtol=1e-5)


def test_roots_near_zero_and_one_are_found():
    """A root at m = 1e-9 (logit grid reaches 1e-13)."""
    roots, stable, _ = self_consistent_roots(lambda m, i: np.full_like(m * i, 1e-9), [1.0])
    assert roots[0, 0] == pytest.approx(1e-9, rel=1e-10) and stable[0, 0]


def test_activation_needs_a_membrane():
    with pytest.raises(ParameterError, match="coarse_grain"):
        DerivedActivation(object())
