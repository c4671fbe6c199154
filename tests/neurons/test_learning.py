"""C6: learning with the derived activation (neurophase.neurons.learning), numpy only.

References for the asserted closed forms:
- Rosenblatt (1958), Psychol. Rev. 65, 386: the rule w += eta (t - sign(w.x)) x.
- Novikoff (1962), Symp. Math. Theory of Automata 12, 615: at most (R/gamma)^2 perceptron updates.
- Hertz, Krogh & Palmer (1991), Introduction to the Theory of Neural Computation, ch. 5: the
  perceptron rule and gradient descent on single units.
- The T -> 0 limit of the derived unit's update on T x cross-entropy, and its bound
  2 eta exp(-2|h|/T) |x| at J = 0, are derived in the module docstring (|tanh(u) - sign(u)| =
  2/(1 + exp(2|u|)) < 2 exp(-2|u|)).
- Learning-rate selection: if f(h) = g(h/c) then gradient descent on f's weights at rate c^2 eta is
  gradient descent on g's weights (w/c) at rate eta (chain rule; exact in floating point when c is a
  power of 2), so a fair selection must pick rates in the ratio c^2 and give identical models.
Every other number is computed by an independent route here (finite differences, the library's
three-branch Curie-Weiss solver, the per-rate training classes).
"""

import numpy as np
import pytest

from neurophase.errors import ParameterError
from neurophase.meanfield import magnetisation
from neurophase.neurons import Logistic, MeanFieldActivation, ReLU, SiLU, Softplus, Tanh
from neurophase.neurons.learning import (
    SingleLayerUnit,
    TwoLayerNetwork,
    check_inputs,
    compare_activations,
    evaluate,
    make_task,
    novikoff_bound,
    rosenblatt_update,
    select_learning_rate,
    tempered_update,
    train_perceptron,
    validation_split,
)


def _random_problem(seed=3, n=30, d=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.choice([-1.0, 1.0], size=n), rng.normal(size=d), 0.2


def test_single_solve_forward_matches_the_unit_value_and_susceptibility():
    # evaluate() solves M = tanh((zJ M + h)/T) once and forms p = logistic(2 (zJ M + h)/T) and
    # f' = chi/2 from (1 - M^2) = 4 p (1 - p); the unit's value is (1 + M)/2 and its derivative the
    # closed-form susceptibility beta (1 - M^2)/(1 - beta zJ (1 - M^2)) / 2 (THEORY.md section 3).
    # Same root to ~1e-15, so 1e-12 absolute on p and relative on f' leaves room for rounding.
    h = np.linspace(-6, 6, 1201)
    for T, J, z in [(1.0, 0.5, 1.0), (0.51, 0.5, 1.0), (3.0, 0.5, 4.0), (2.0, 0.0, 1.0), (0.05, 0.0, 1.0)]:
        unit = MeanFieldActivation(T, J, coordination=z)
        value, slope = evaluate(unit, h)
        M = magnetisation(T, h, J, z)
        np.testing.assert_allclose(value, 0.5 * (1 + M), atol=1e-12)
        np.testing.assert_allclose(slope, unit.derivative(h), rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("activation", [MeanFieldActivation(1.0, 0.5), MeanFieldActivation(0.4, 0.5),
                                        Logistic(0.7), Tanh(1.3), Softplus(0.8), SiLU(1.0)], ids=repr)
@pytest.mark.parametrize("loss", ["squared", "cross_entropy"])
def test_single_unit_gradient_matches_finite_differences(activation, loss):
    # Central differences, step 1e-6: truncation |L'''| step^2/6 < 1e-11 for these smooth losses, rounding
    # 1e-16/1e-6 = 1e-10: rtol 1e-6. MeanFieldActivation(0.4, 0.5) is below T_c (equilibrium branch): the
    # random h stay away from the jump at h = 0 (checked).
    if loss == "cross_entropy" and not isinstance(activation, (Logistic, MeanFieldActivation)):
        with pytest.raises(ParameterError, match="probability"):
            SingleLayerUnit(activation, loss=loss)
        return
    X, t, w, b = _random_problem()
    unit = SingleLayerUnit(activation, loss=loss)
    unit.weights, unit.bias = w.copy(), b
    assert np.min(np.abs(unit.pre_activation(X))) > 1e-3
    grad_w, grad_b = unit.gradient(X, t)
    step = 1e-6
    numeric = []
    for k in range(len(w) + 1):
        shifted = []
        for sign in (1, -1):
            unit.weights, unit.bias = w.copy(), b
            if k < len(w):
                unit.weights[k] += sign * step
            else:
                unit.bias += sign * step
            shifted.append(unit.loss_value(X, t))
        numeric.append((shifted[0] - shifted[1]) / (2 * step))
    np.testing.assert_allclose(np.append(grad_w, grad_b), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("activation", [MeanFieldActivation(1.0, 0.5), Tanh(1.0), Softplus(1.0), ReLU()], ids=repr)
def test_two_layer_gradient_matches_finite_differences(activation):
    # Every parameter perturbed in turn; same step and tolerances as above. For ReLU the kink is avoided
    # (all |hidden pre-activations| > 1e-3, checked), where the loss is smooth.
    X, t, _, _ = _random_problem(seed=5, n=25, d=2)
    net = TwoLayerNetwork(activation, hidden=4, seed=1)
    parameters = net.initialise(2)
    parameters["b1"] = np.array([0.1, -0.2, 0.3, 0.05])
    assert np.min(np.abs(X @ parameters["W1"] + parameters["b1"])) > 1e-3
    analytic = net.gradient(X, t)
    step = 1e-6
    for key, value in parameters.items():
        for index in np.ndindex(np.shape(value)):
            numeric = []
            for sign in (1, -1):
                trial = {k: np.array(v, dtype=float) for k, v in parameters.items()}
                trial[key][index] += sign * step
                numeric.append(net.loss_value(X, t, trial))
            expected = (numeric[0] - numeric[1]) / (2 * step)
            assert np.asarray(analytic[key])[index] == pytest.approx(expected, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("coupling", [0.0, 0.5])
def test_zero_temperature_limit_is_the_rosenblatt_rule(coupling):
    # -eta T dL_CE/d(w, b) = eta (t - M)/(1 - beta zJ (1 - M^2)) (x, 1) -> eta (t - sign h)(x, 1). At J = 0 the
    # per-sample difference is eta |tanh(h/T) - sign h| |(x, 1)| < 2 eta exp(-2|h|/T) max|(x, 1)|; at J > 0 the
    # same bound holds once T < T_c (the equilibrium M is then further from 0 than tanh(h/T)), checked below
    # T = 0.2. The difference must shrink monotonically as T decreases (below T_c for J > 0).
    X, t, w, b = _random_problem(seed=11, n=200, d=2)
    keep = np.abs(X @ w + b) >= 0.05
    X, t = X[keep], t[keep]
    h = X @ w + b
    reference = rosenblatt_update(w, b, X, t, learning_rate=0.7)
    temperatures = [0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002]
    differences = []
    for T in temperatures:
        update = tempered_update(MeanFieldActivation(T, coupling), w, b, X, t, learning_rate=0.7)
        difference = np.max(np.abs(update - reference))
        bound = 2 * 0.7 * np.exp(-2 * np.min(np.abs(h)) / T) * np.max(np.abs(np.hstack([X, np.ones((len(X), 1))])))
        assert difference <= bound * (1 + 1e-9) + 1e-300
        differences.append(difference)
    assert np.all(np.diff(differences) <= 0)
    assert differences[-1] < 1e-20 < differences[0]


def test_squared_error_delta_rule_has_no_rosenblatt_limit():
    # T x the delta-rule update of tanh(h/T) is (t - M)(1 - M^2)(x, 1) -> 0 off h = 0: the difference from the
    # Rosenblatt update tends to the whole Rosenblatt update (ratio -> 1), while T x CE tends to it.
    X, t, w, b = _random_problem(seed=2, n=100, d=2)
    X = X[np.abs(X @ w + b) >= 0.05]
    t = t[: len(X)]
    reference = rosenblatt_update(w, b, X, t)
    squared = 1e-3 * tempered_update(Tanh(1e-3), w, b, X, t, loss="squared")
    assert np.max(np.abs(squared)) < 1e-40
    assert np.max(np.abs(squared - reference)) == pytest.approx(np.max(np.abs(reference)), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_novikoff_bound_and_low_temperature_unit_reach_zero_errors(seed):
    # Novikoff (1962): updates <= (R/gamma)^2 for any separating unit vector u (here the teacher).
    # Rosenblatt's rule (half step at w = 0, then 2 eta t x): updates <= (R/gamma)^2 + 1 (derivation in
    # train_perceptron). The derived unit at T = 1e-3 trained online on T x CE with the same presentation
    # order retraces Rosenblatt's rule: same number of mistakes, zero training errors, weights equal up to
    # the exp(-2|h|/T) corrections (relative 1e-3 allowed: the smallest |h| met during training is not
    # controlled, unlike in the limit test above).
    data = make_task("separable", n_train=100, n_test=10, seed=seed, margin=0.1)
    X, t = data["X_train"], data["t_train"]
    radius, gamma, bound = novikoff_bound(X, t, data["teacher"])
    assert gamma >= 0.1
    novikoff = train_perceptron(X, t, seed=seed)
    rosenblatt = train_perceptron(X, t, seed=seed, rule="rosenblatt")
    assert novikoff["converged"] and novikoff["training_errors"] == 0
    assert novikoff["mistakes"] <= bound
    assert rosenblatt["training_errors"] == 0 and rosenblatt["mistakes"] <= bound + 1
    unit = SingleLayerUnit(MeanFieldActivation(1e-3, 0.0), "scaled_cross_entropy", learning_rate=1.0,
                           epochs=1000, mode="online", seed=seed, stop_when_separated=True).fit(X, t)
    assert unit.history["errors"][-1] == 0
    assert unit.mistakes == rosenblatt["mistakes"]
    scale = max(np.max(np.abs(rosenblatt["weights"])), 1.0)
    assert np.max(np.abs(np.append(unit.weights, unit.bias)
                         - np.append(rosenblatt["weights"], rosenblatt["bias"]))) <= 1e-3 * scale


def test_batch_training_converges_on_the_separable_set():
    # The teacher separates train and test with margin >= 0.1; gradient descent on the squared error of the
    # derived unit must reach zero training errors and at least 97 % held-out accuracy (measured 100 % on
    # seeds 0-7 with these settings; 3 % leaves room for the finite-training-set error of the learned plane).
    data = make_task("separable", n_train=100, n_test=1000, seed=4)
    unit = SingleLayerUnit(MeanFieldActivation(1.0, 0.5), learning_rate=0.5, epochs=300, seed=4)
    unit.fit(data["X_train"], data["t_train"])
    assert unit.history["errors"][-1] == 0
    assert unit.history["loss"][-1] < unit.history["loss"][0]
    assert unit.accuracy(data["X_test"], data["t_test"]) >= 0.97


def test_two_layer_network_learns_xor():
    # XOR is not linearly separable: a single unit can do no better than ~75 % on four noisy blobs, the net
    # should reach >= 90 % held out (measured 0.97 for the derived hidden units on seeds 0-7).
    data = make_task("xor", n_train=200, n_test=1000, seed=2)
    net = TwoLayerNetwork(MeanFieldActivation(1.0, 0.5), hidden=8, learning_rate=1.0, epochs=1000, seed=2)
    net.fit(data["X_train"], data["t_train"])
    assert net.accuracy(data["X_test"], data["t_test"]) >= 0.9
    single = SingleLayerUnit(MeanFieldActivation(1.0, 0.5), learning_rate=0.5, epochs=300).fit(
        data["X_train"], data["t_train"])
    assert single.accuracy(data["X_test"], data["t_test"]) < 0.8


def test_derived_unit_at_zero_coupling_is_the_logistic_in_training():
    # (1 + tanh(h/T))/2 = logistic(2h/T): MeanFieldActivation(2, 0) and Logistic(1) must train identically.
    data = make_task("two_moons", n_train=100, n_test=200, seed=1)
    outputs = []
    for activation in (MeanFieldActivation(2.0, 0.0), Logistic(1.0)):
        net = TwoLayerNetwork(activation, hidden=5, learning_rate=1.0, epochs=200, seed=7)
        outputs.append(net.fit(data["X_train"], data["t_train"]).output(data["X_test"]))
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-10, atol=1e-12)


def test_determinism_with_a_seed():
    first = make_task("two_moons", seed=9)
    second = make_task("two_moons", seed=9)
    other = make_task("two_moons", seed=10)
    np.testing.assert_array_equal(first["X_train"], second["X_train"])
    assert not np.array_equal(first["X_train"], other["X_train"])
    nets = [TwoLayerNetwork(Tanh(1.0), hidden=4, epochs=50, seed=s).fit(first["X_train"], first["t_train"])
            for s in (3, 3, 4)]
    np.testing.assert_array_equal(nets[0].parameters["W1"], nets[1].parameters["W1"])
    assert not np.array_equal(nets[0].parameters["W1"], nets[2].parameters["W1"])
    runs = [train_perceptron(first["X_train"][:20], np.sign(first["X_train"][:20, 0]), seed=5) for _ in range(2)]
    np.testing.assert_array_equal(runs[0]["weights"], runs[1]["weights"])


def test_validation_split_is_a_seeded_partition():
    fit, held = validation_split(100, 0.2, seed=[4, 1])
    assert len(held) == 20 and len(fit) == 80
    assert sorted(np.concatenate([fit, held]).tolist()) == list(range(100))
    np.testing.assert_array_equal(held, validation_split(100, 0.2, seed=[4, 1])[1])
    assert not np.array_equal(held, validation_split(100, 0.2, seed=[5, 1])[1])
    with pytest.raises(ParameterError, match="strictly between 0 and 1"):
        validation_split(10, 1.0)


@pytest.mark.parametrize("model", ["single", "two_layer"])
def test_selected_learner_is_the_per_rate_fit_on_the_fit_part(model):
    # select_learning_rate trains every rate at once (vectorised over the grid); its returned learner must be the
    # one the training classes give on the fit part at the chosen rate. Only the summation order of the matrix
    # products differs: measured <= 1e-14 for rates <= 1 (at rate 3 two-layer softplus runs amplify it to 1e-4,
    # a chaotic regime), so rtol 1e-10 on rates up to 1.
    data = make_task("two_moons", n_train=100, n_test=10, seed=6)
    X, t = data["X_train"], data["t_train"]
    fit, _ = validation_split(len(X), 0.2, seed=[6, 1])
    for activation in (MeanFieldActivation(1.0, 0.5), Softplus(1.0), ReLU()):
        selection = select_learning_rate(activation, X, t, [0.1, 0.3, 1.0], model, epochs=150, hidden=4, seed=6,
                                         split_seed=[6, 1])
        rate = selection["learning_rate"]
        if model == "single":
            reference = SingleLayerUnit(activation, "squared", rate, 150, seed=6).fit(X[fit], t[fit])
            got = np.append(selection["learner"].weights, selection["learner"].bias)
            np.testing.assert_allclose(got, np.append(reference.weights, reference.bias), rtol=1e-10, atol=1e-12)
        else:
            reference = TwoLayerNetwork(activation, 4, rate, 150, seed=6).fit(X[fit], t[fit])
            for key, value in reference.parameters.items():
                np.testing.assert_allclose(selection["learner"].parameters[key], value, rtol=1e-10, atol=1e-12)


def test_rate_selection_uses_no_test_data():
    # make_task draws the training set before the test set, so n_test changes the test set only. The chosen rates
    # (and the validation curves) must not move, while the held-out accuracies do (the test set did change).
    # select_learning_rate takes no test data at all; it must reproduce the rates recorded by compare_activations.
    activations = {"derived": MeanFieldActivation(1.0, 0.5), "logistic": Logistic(1.0), "softplus": Softplus(1.0)}
    runs = [compare_activations(activations, "two_moons", "two_layer", seeds=(0, 1), n_train=100, n_test=n_test,
                                epochs=150, learning_rate=[0.3, 1.0, 3.0, 10.0], hidden=4) for n_test in (200, 500)]
    small, large = (make_task("two_moons", 100, n, seed=0) for n in (200, 500))
    np.testing.assert_array_equal(small["X_train"], large["X_train"])
    assert not np.array_equal(small["X_test"], large["X_test"][:200])
    np.testing.assert_array_equal(runs[0]["learning_rate"].values, runs[1]["learning_rate"].values)
    np.testing.assert_array_equal(runs[0]["validation_loss"].values, runs[1]["validation_loss"].values)
    assert not np.array_equal(runs[0]["test_accuracy"].values, runs[1]["test_accuracy"].values)
    for name, activation in activations.items():
        selection = select_learning_rate(activation, small["X_train"], small["t_train"], [0.3, 1.0, 3.0, 10.0],
                                         "two_layer", epochs=150, hidden=4, seed=0, split_seed=[0, 1])
        assert selection["learning_rate"] == runs[0]["learning_rate"].sel(activation=name, trial=0)
    assert runs[0].attrs["validation_fraction"] == 0.2 and runs[0].attrs["refit"] == 1


@pytest.mark.parametrize("model", ["single", "two_layer"])
def test_logistic_and_derived_unit_at_zero_coupling_choose_the_same_rate(model):
    # (1 + tanh(h/T))/2 = logistic(2h/T): MeanFieldActivation(T, 0) is Logistic(T/2) -- T = 1 pairs with
    # Logistic(0.5), T = 2 with Logistic(1). Same function, so the same validation curve (to rounding: tanh and
    # expit are different code paths, 1e-9 relative) and the same chosen rate on every seed.
    for T in (1.0, 2.0):
        for seed in (0, 1):
            data = make_task("two_moons", n_train=100, n_test=10, seed=seed)
            choices = [select_learning_rate(activation, data["X_train"], data["t_train"], [0.1, 0.3, 1.0, 3.0],
                                            model, epochs=150, hidden=4, seed=seed, split_seed=[seed, 1])
                       for activation in (MeanFieldActivation(T, 0.0), Logistic(T / 2))]
            assert choices[0]["learning_rate"] == choices[1]["learning_rate"]
            np.testing.assert_array_equal(choices[0]["validation_accuracy"], choices[1]["validation_accuracy"])
            np.testing.assert_allclose(choices[0]["validation_loss"], choices[1]["validation_loss"], rtol=1e-9)


def test_selection_removes_the_slope_confound():
    # Logistic(1)(h) = Logistic(1/4)(h/4): from w = 0, squared-error descent on Logistic(1) at rate 16 eta is descent
    # on Logistic(1/4) at rate eta with weights w/4 (powers of 2: exact in floating point). With one shared rate the
    # two units differ (the flatter one learns more slowly); with grids in the ratio 16 the selection picks rates in
    # the ratio 16 and the two give the same weights (x 4) and the same test accuracy.
    data = make_task("two_moons", n_train=100, n_test=500, seed=3)
    X, t = data["X_train"], data["t_train"]
    shared = [SingleLayerUnit(activation, "squared", 0.5, 200, seed=3).fit(X, t)
              for activation in (Logistic(1.0), Logistic(0.25))]
    assert shared[0].accuracy(data["X_test"], data["t_test"]) != shared[1].accuracy(data["X_test"], data["t_test"])
    grid = 0.02 * 2.0 ** np.arange(7)
    steep = select_learning_rate(Logistic(0.25), X, t, grid, "single", epochs=200, seed=3, split_seed=[3, 1])
    flat = select_learning_rate(Logistic(1.0), X, t, 16 * grid, "single", epochs=200, seed=3, split_seed=[3, 1])
    assert flat["learning_rate"] == 16 * steep["learning_rate"]
    np.testing.assert_allclose(flat["learner"].weights, 4 * steep["learner"].weights, rtol=1e-12)
    assert flat["learner"].accuracy(data["X_test"], data["t_test"]) == steep["learner"].accuracy(
        data["X_test"], data["t_test"])


def test_clear_errors_on_bad_input():
    X = np.zeros((4, 2))
    with pytest.raises(ParameterError, match="2-D"):
        check_inputs(np.zeros(4), [1, -1, 1, -1])
    with pytest.raises(ParameterError, match="one label per row"):
        check_inputs(X, [1, -1, 1])
    with pytest.raises(ParameterError, match=r"\{-1, 1\} or all in \{0, 1\}"):
        check_inputs(X, [0, 1, 2, 1])
    with pytest.raises(ParameterError, match=r"\{-1, 1\} or all in \{0, 1\}"):
        check_inputs(X, [-1, 0, 1, 1])
    with pytest.raises(ParameterError, match="NaN"):
        check_inputs(np.full((2, 2), np.nan), [1, -1])
    assert check_inputs(X, [0, 1, 1, 0])[1].tolist() == [-1, 1, 1, -1]
    unit = SingleLayerUnit(Tanh(1.0), epochs=2).fit(X + np.eye(4, 2), [1, -1, 1, -1])
    with pytest.raises(ParameterError, match=r"shape \(n_samples, 2\)"):
        unit.predict(np.zeros((3, 3)))
    with pytest.raises(ParameterError, match="not trained"):
        SingleLayerUnit(Tanh(1.0)).predict(X)
    with pytest.raises(ParameterError, match="loss"):
        SingleLayerUnit(Tanh(1.0), loss="hinge")
    with pytest.raises(ParameterError, match="Activation"):
        SingleLayerUnit(np.tanh)
    with pytest.raises(ParameterError, match="learning_rate"):
        TwoLayerNetwork(Tanh(1.0), learning_rate=-1)
    with pytest.raises(ParameterError, match="n_features \\+ 1"):
        novikoff_bound(X, [1, -1, 1, -1], [1.0, 0.0])
    with pytest.raises(ParameterError, match="task"):
        make_task("spirals")


def test_the_derived_unit_at_j0_and_twice_the_temperature_is_the_logistic_bit_for_bit():
    # (1 + tanh(h/T))/2 = logistic(2h/T): value and derivative must agree exactly, or training two
    # identical models can drift apart over many epochs (C6-special-case)
    h = np.linspace(-30.0, 30.0, 10001)
    value_derived, slope_derived = evaluate(MeanFieldActivation(2.0, 0.0), h)
    value_logistic, slope_logistic = evaluate(Logistic(1.0), h)
    assert np.array_equal(value_derived, value_logistic) and np.array_equal(slope_derived, slope_logistic)
