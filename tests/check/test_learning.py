"""C6 (measure_learning) at a small size: verdict numbers against closed forms and exact identities.

- The derived unit at J = 0 and temperature 2T is the logistic at T exactly ((1 + tanh(h/2T))/2 =
  logistic(h/T)), so the two must give identical learning (C6-special-case = 0 exactly).
- Novikoff (1962): the perceptron makes at most (R/gamma)^2 updates on a separable set; recomputed
  here from the tasks with numpy, independently of neurophase.neurons.learning.novikoff_bound.
- As T -> 0 the tempered update tends to Rosenblatt's: the C6-limit differences fall with T.
"""

import numpy as np
import pytest

from neurophase.check.learning import measure_learning
from neurophase.check.verdicts import make_verdict
from neurophase.neurons.learning import make_task


@pytest.fixture(scope="module")
def small_run():
    return measure_learning(seeds=3, n_train=60, n_test=200, single_epochs=60, net_epochs=120,
                            limit_temperatures=(1.0, 0.1, 0.01, 0.001), rate_factors=(0.3, 1.0, 3.0))


def test_identities_hold_exactly(small_run):
    verdicts, datasets = small_run
    found = {verdict.id: verdict for verdict in verdicts}
    assert found["C6-special-case"].measured == 0.0 and found["C6-special-case"].holds
    assert found["C6-low-T-trajectory"].measured == 0.0
    assert found["C6-zero-errors"].measured == 0.0
    # a difference of one mistake would fail the identity (tolerance 0)
    wrong = make_verdict("x", "x", 1.0, 0.0, 0.0, 0.0, tolerance=found["C6-low-T-trajectory"].tolerance,
                         rule="tolerance")
    assert not wrong.holds
    limit = datasets["limit"]
    differences = limit["difference_J0"].values
    assert np.all(np.diff(differences) <= 1e-15)      # the limit is approached monotonically in T


def test_novikoff_bound_recomputed_independently(small_run):
    _, datasets = small_run
    perceptron = datasets["perceptron"]
    for trial, seed in enumerate(perceptron["trial"].values):
        data = make_task("separable", 60, 10, seed=int(seed), margin=0.1)
        augmented = np.hstack([data["X_train"], np.ones((60, 1))])
        teacher = np.asarray(data["teacher"], float)
        unit = teacher / np.linalg.norm(teacher)
        radius = np.max(np.linalg.norm(augmented, axis=1))
        gamma = np.min(data["t_train"] * (augmented @ unit))
        assert perceptron["novikoff_bound"].values[trial] == pytest.approx((radius / gamma) ** 2, rel=1e-9)
        assert perceptron["mistakes"].values[trial] <= (radius / gamma) ** 2
