"""Learning with the derived activation: single units, a one-hidden-layer net, and the perceptron.

THEORY.md prediction C6: a unit ``y = f(w.x + b)`` whose activation ``f`` is the mean-field
open probability of the channel membrane (:class:`~neurophase.neurons.MeanFieldActivation`)
learns like its special cases (logistic, tanh, softplus, ReLU), and its ``T -> 0`` limit is the
Rosenblatt perceptron. Everything here is numpy only, vectorised over samples, and seeded with a
:class:`numpy.random.Generator`.

Losses (per sample, averaged over the batch; ``h = w.x + b``, ``y = f(h)``)
--------------------------------------------------------------------------
``"squared"``
    ``L = (y - tau)**2 / 2`` with ``tau`` the target in the activation's own coding ({-1, 1} for
    the magnetisation-valued units tanh / sign / coupled tanh / bistable, {0, 1} otherwise):
    the delta rule ``dw = eta (tau - y) f'(h) x`` (Widrow & Hoff 1960; Rumelhart, Hinton &
    Williams 1986). Works with every activation.
``"cross_entropy"``
    ``L = -[s ln p + (1 - s) ln(1 - p)]``, ``s = (1 + t)/2``, for units whose output is a
    probability ``p``: :class:`~neurophase.neurons.Logistic` and
    :class:`~neurophase.neurons.MeanFieldActivation` (the open probability ``(1 + M)/2``).
    ``dL/dh = (p - s) f'(h) / (p (1 - p))``; the ratio is taken in closed form (``1/T`` for the
    logistic, ``2 / (T - zJ (1 - M**2))`` for the derived unit) so that it stays finite when ``p``
    saturates.
``"scaled_cross_entropy"``
    ``T x cross_entropy``: the loss whose gradient tends to Rosenblatt's rule as ``T -> 0``.

The T -> 0 limit (Rosenblatt 1958; Hertz, Krogh & Palmer 1991, ch. 5)
--------------------------------------------------------------------
For the derived unit ``p = (1 + M)/2``, ``M = tanh((zJ M + h)/T)``, and a label ``t`` in {-1, 1}::

    -T dL_CE/dh = (t - M) / (1 - beta zJ (1 - M**2))          (beta = 1/T)

(``p - s = (M - t)/2`` and ``f'/(p(1 - p)) = (chi/2)/((1 - M**2)/4)`` with the Curie-Weiss gain
``chi``). As ``T -> 0`` on the equilibrium branch ``M -> sign(h)`` and ``1 - M**2 -> 0``
exponentially for ``h != 0``, so gradient descent on ``T x L_CE`` with step ``eta`` gives::

    dw = eta (t - M) x / (1 - beta zJ (1 - M**2))  ->  eta (t - sign(w.x + b)) x,

Rosenblatt's error-correction rule: ``2 eta t x`` on a mistake, 0 otherwise. At ``J = 0``
(``M = tanh(h/T)``) the difference per sample is bounded by ``2 eta exp(-2|h|/T) |x|``. The
squared-error delta rule does *not* have this limit: ``f'(h) = (1 - M**2)/T -> 0`` off ``h = 0``,
so even ``T x`` its update ``(t - M)(1 - M**2) x -> 0`` (:func:`tempered_update` with
``loss="squared"`` shows it).

Perceptron convergence (Novikoff 1962)
--------------------------------------
If ``|(x, 1)| <= R`` for every sample and a unit vector ``u`` (in the augmented space of
``(w, b)``) separates the data with margin ``gamma = min_i t_i u.(x_i, 1) > 0``, the perceptron
started at ``w = 0`` that adds ``eta t x`` whenever ``t (w.x + b) <= 0`` makes at most
``(R/gamma)**2`` updates, whatever ``eta`` and the order of presentation
(A. B. J. Novikoff, "On convergence proofs on perceptrons", Symposium on the Mathematical Theory
of Automata 12, 615-622, 1962).

Classes and functions
---------------------
SingleLayerUnit
    ``y = f(w.x + b)``, batch or online gradient descent on one of the losses above.
TwoLayerNetwork
    One hidden layer of ``f`` units and a logistic output unit, cross-entropy, batch gradient
    descent (back-propagation with the activations' analytic derivatives).
rosenblatt_update, tempered_update, train_perceptron, novikoff_bound
    The perceptron rule, the derived unit's per-sample update at temperature ``T``, the
    perceptron algorithm with its update count, and the Novikoff bound.
make_task
    Seeded tasks: ``"separable"`` (a teacher perceptron with a margin), ``"two_moons"``,
    ``"xor"``.
select_learning_rate, validation_split
    A learning rate per activation chosen on a validation split of the training data only
    (an activation with a smaller slope at ``h = 0`` needs a larger rate for the same steps).
compare_activations
    Held-out accuracy and loss of several activations over seeds (a Dataset), each at its own
    selected learning rate or at one shared rate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy.special import expit

from neurophase.docstrings import template
from neurophase.errors import ParameterError
from neurophase.neurons.activations import (
    Activation,
    BistableUnit,
    CoupledTanh,
    Logistic,
    MeanFieldActivation,
    Sign,
    Tanh,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import ArrayLike

__all__ = [
    "LOSSES",
    "SingleLayerUnit",
    "TwoLayerNetwork",
    "evaluate",
    "rosenblatt_update",
    "tempered_update",
    "train_perceptron",
    "novikoff_bound",
    "make_task",
    "compare_activations",
    "select_learning_rate",
    "validation_split",
    "check_inputs",
]

LOSSES = ("squared", "cross_entropy", "scaled_cross_entropy")

_ROSENBLATT = ("F. Rosenblatt, 'The perceptron: a probabilistic model for information storage and "
               "organization in the brain', Psychol. Rev. 65, 386-408 (1958)")
_HKP = "J. Hertz, A. Krogh & R. G. Palmer, Introduction to the Theory of Neural Computation (1991), ch. 5"
_NOVIKOFF = ("A. B. J. Novikoff, 'On convergence proofs on perceptrons', Symp. Math. Theory of Automata 12, "
             "615-622 (1962)")

_X = """X : array_like
    Inputs, shape ``(n_samples, n_features)`` (reduced units)."""
_T = """t : array_like
    Labels, shape ``(n_samples,)``, all in {-1, 1} or all in {0, 1}."""
_doc = template(
    X=_X,
    t=_T,
    parameters_X=f"Parameters\n----------\n{_X}",
    parameters_X_t=f"Parameters\n----------\n{_X}\n{_T}",
    labels="""numpy.ndarray
    1.0 or -1.0 per sample, shape ``(n_samples,)``.""",
    network_parameters="""parameters : dict of str to numpy.ndarray or None, optional
    Parameters to evaluate at (keys as in :meth:`initialise`); default the network's own.""",
    weights="""weights : array_like
    ``w``, shape ``(n_features,)``.""",
    bias="""bias : float
    ``b``.""",
    eta="""learning_rate : float, optional
    ``eta``; default 1.""",
    per_sample_updates="""numpy.ndarray
    Shape ``(n_samples, n_features + 1)``; the last column is the bias update.""",
)


# --------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------
def check_inputs(X: ArrayLike, t: ArrayLike, n_features: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Validate a design matrix and labels; return ``(X, t)`` with ``t`` in {-1, 1}.

    Parameters
    ----------
    X : array_like, reduced units
        A finite 2-D array ``(n_samples, n_features)`` of inputs (dimensionless numbers).
    t : array_like
        A 1-D array of ``n_samples`` labels, all in {-1, 1} or all in {0, 1} (0 is read as -1).
    n_features : int or None, optional
        The number of columns ``X`` must have (that of a trained model); None accepts any.

    Returns
    -------
    X : numpy.ndarray
        ``X`` as floats, shape ``(n_samples, n_features)``.
    t : numpy.ndarray
        The labels as floats in {-1, 1}, shape ``(n_samples,)``.

    Raises
    ------
    ParameterError
        For a wrong shape, non-finite inputs or labels outside both codings.

    Examples
    --------
    >>> X, t = check_inputs([[0.0, 1.0], [1.0, 0.0]], [0, 1])
    >>> t.tolist()
    [-1.0, 1.0]
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ParameterError(
            f"X must be 2-D (n_samples, n_features); got shape {X.shape}. Reshape a single sample "
            "with X[None, :] or a single feature with X[:, None]."
        )
    if X.shape[0] == 0:
        raise ParameterError("X has no samples; pass at least one row.")
    if not np.all(np.isfinite(X)):
        raise ParameterError("X contains NaN or infinite values; pass finite numbers.")
    if n_features is not None and X.shape[1] != n_features:
        raise ParameterError(
            f"X has {X.shape[1]} features but the model was built for {n_features}; pass the same "
            "features used in fit()."
        )
    labels = np.asarray(t)
    if labels.ndim != 1 or labels.shape[0] != X.shape[0]:
        raise ParameterError(
            f"t must be 1-D with one label per row of X ({X.shape[0]}); got shape {labels.shape}."
        )
    try:
        labels = labels.astype(float)
    except (TypeError, ValueError) as error:
        raise ParameterError(f"labels must be numbers in {{-1, 1}} or {{0, 1}}: {error}.") from error
    values = set(np.unique(labels).tolist())
    if values <= {-1.0, 1.0}:
        return X, labels
    if values <= {0.0, 1.0}:
        return X, 2.0 * labels - 1.0
    raise ParameterError(
        f"labels must all be in {{-1, 1}} or all in {{0, 1}}; got the values {sorted(values)[:6]}."
    )


def _check_activation(activation):
    if not isinstance(activation, Activation):
        raise ParameterError(
            f"activation must be a neurophase.neurons Activation (e.g. get_activation('tanh')); "
            f"got {activation!r}."
        )
    return activation


def _coding(activation):
    """Target values (low, high) in the activation's own output coding."""
    if isinstance(activation, (Tanh, Sign, CoupledTanh, BistableUnit)):
        return -1.0, 1.0
    return 0.0, 1.0


def _positive(value, name, integer=False):
    number = int(value) if integer else float(value)
    if not number > 0 or not np.isfinite(number):
        raise ParameterError(f"{name} = {value!r} must be positive and finite.")
    return number


# --------------------------------------------------------------------------------------
# forward pass: value, derivative and the cross-entropy ratio f'/(p(1-p))
# --------------------------------------------------------------------------------------
def evaluate(activation: Activation, h: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``(value, derivative)`` of ``activation`` at the pre-activations ``h`` (any shape).

    For :class:`MeanFieldActivation` (T > 0) the self-consistent root is found once
    (:func:`neurophase.meanfield.magnetisation`) and value and derivative follow from it in
    closed form (``p = logistic(2 (zJ M + h)/T)``, ``f' = chi/2``; THEORY.md section 3), half the
    work of calling the unit's ``value`` and ``derivative``; elsewhere the activation's own
    methods are used.

    Parameters
    ----------
    activation : Activation
        Any member of :mod:`neurophase.neurons.activations`.
    h : float or array_like, reduced units
        Pre-activations.

    Returns
    -------
    value : numpy.ndarray
        ``f(h)``, the shape of ``h``.
    derivative : numpy.ndarray
        ``f'(h)``, the shape of ``h``.

    Examples
    --------
    >>> from neurophase.neurons import MeanFieldActivation
    >>> value, slope = evaluate(MeanFieldActivation(1.0, 0.5), np.array([0.0]))
    >>> float(value[0]), round(float(slope[0]), 12)     # p = 1/2, chi/2 = 1/(2 (T - T_c))
    (0.5, 1.0)
    """
    h = np.asarray(h, dtype=float)
    if isinstance(activation, MeanFieldActivation) and activation.temperature > 0:
        value, derivative, _ = _mean_field_forward(activation, h)
        return value, derivative
    return np.asarray(activation.value(h), dtype=float), np.asarray(activation.derivative(h), dtype=float)


def _mean_field_forward(activation, h):
    """Value, derivative and ``1 - M**2`` of the derived unit (T > 0)."""
    from neurophase.meanfield import magnetisation

    T = activation.temperature
    K = activation.coordination * activation.coupling
    if K == 0:  # M = tanh(h/T) in closed form: p = logistic(2h/T), no iteration needed
        argument = 2.0 * h / T
    else:
        M = np.asarray(magnetisation(T, h, activation.coupling, activation.coordination,
                                     branch=activation.branch), dtype=float)
        argument = 2.0 * (K * M + h) / T
    p = expit(argument)
    one_minus_m2 = 4.0 * p * expit(-argument)  # (1 - M)(1 + M), no cancellation near |M| = 1
    with np.errstate(divide="ignore", invalid="ignore"):
        chi = one_minus_m2 / (T - K * one_minus_m2)
    return p, 0.5 * chi, one_minus_m2


def _cross_entropy_ratio(activation, h):
    """``(p, f'(h)/(p (1 - p)))`` for the probability-valued units, finite when ``p`` saturates."""
    if isinstance(activation, Logistic):
        return expit(h / activation.temperature), np.full(h.shape, 1.0 / activation.temperature)
    if isinstance(activation, MeanFieldActivation):
        if activation.temperature == 0:
            raise ParameterError("cross-entropy needs T > 0; at T = 0 use train_perceptron (the limit).")
        K = activation.coordination * activation.coupling
        p, _, one_minus_m2 = _mean_field_forward(activation, h)
        return p, 2.0 / (activation.temperature - K * one_minus_m2)
    raise ParameterError(
        f"the cross-entropy loss needs a unit whose output is a probability (Logistic or "
        f"MeanFieldActivation); {activation!r} is not one. Use loss='squared'."
    )


def _delta(activation, h, t, loss):
    """Per-sample ``dL/dh`` and the output ``y`` for labels ``t`` in {-1, 1}."""
    if loss == "squared":
        low, high = _coding(activation)
        target = np.where(t > 0, high, low)
        y, slope = evaluate(activation, h)
        return (y - target) * slope, y
    if loss in ("cross_entropy", "scaled_cross_entropy"):
        p, ratio = _cross_entropy_ratio(activation, h)
        delta = (p - 0.5 * (1.0 + t)) * ratio
        if loss == "scaled_cross_entropy":
            delta = delta * activation.temperature
        return delta, p
    raise ParameterError(f"loss = {loss!r} is not known; choose one of {', '.join(LOSSES)}.")


def _loss_value(activation, y, t, loss):
    if loss == "squared":
        low, high = _coding(activation)
        target = np.where(t > 0, high, low)
        return 0.5 * (y - target) ** 2
    s = 0.5 * (1.0 + t)
    tiny = np.finfo(float).tiny
    value = -(s * np.log(np.maximum(y, tiny)) + (1.0 - s) * np.log(np.maximum(1.0 - y, tiny)))
    return value * (activation.temperature if loss == "scaled_cross_entropy" else 1.0)


# --------------------------------------------------------------------------------------
# single unit
# --------------------------------------------------------------------------------------
class _Classifier:
    """What the learners share: a label per sample from ``predict`` and its accuracy."""

    def _n_features(self):
        """Number of inputs of the trained model (None before training)."""
        raise NotImplementedError

    def _decision(self, X):
        """A value per sample whose sign is the predicted label."""
        raise NotImplementedError

    @_doc
    def predict(self, X: ArrayLike) -> np.ndarray:
        """Labels in {-1, 1}: 1 where the decision value is positive.

        The decision value is the output minus the midpoint of the target coding for a
        :class:`SingleLayerUnit`, the output unit's input ``z`` (``p > 1/2``) for a
        :class:`TwoLayerNetwork`.

        %(parameters_X)s

        Returns
        -------
        %(labels)s
        """
        return np.where(self._decision(X) > 0, 1.0, -1.0)

    @_doc
    def accuracy(self, X: ArrayLike, t: ArrayLike) -> float:
        """Fraction of correctly classified samples.

        %(parameters_X_t)s

        Returns
        -------
        float
            In [0, 1].
        """
        X, t = check_inputs(X, t, self._n_features())
        return float(np.mean(self.predict(X) == t))


class SingleLayerUnit(_Classifier):
    """One unit ``y = f(w.x + b)`` trained by gradient descent on a stated loss.

    Parameters
    ----------
    activation : Activation
        Any member of :mod:`neurophase.neurons.activations`.
    loss : {"squared", "cross_entropy", "scaled_cross_entropy"}, optional
        See the module docstring; the cross-entropies need a Logistic or MeanFieldActivation.
        Default "squared".
    learning_rate : float, optional
        Step ``eta`` (dimensionless, ``> 0``): batch mode uses ``w -= eta * mean gradient``,
        online mode ``w -= eta * per-sample gradient``. Default 0.1.
    epochs : int, optional
        Passes over the training set (``> 0``); default 200.
    mode : {"batch", "online"}, optional
        Full-batch gradient descent, or one update per sample in a seeded random order.
    init : {"zeros", "normal"}, optional
        Initial weights: zero (the perceptron convention) or ``N(0, 1/n_features)``.
    seed : int, numpy.random.Generator or None, optional
        Seeds the initial weights and the online presentation order.
    stop_when_separated : bool, optional
        Online mode: stop after the first epoch without a mistake (``t h <= 0``).

    Attributes
    ----------
    weights : numpy.ndarray or None
        ``w``, shape ``(n_features,)`` after :meth:`fit` (None before).
    bias : float or None
        ``b`` after :meth:`fit`.
    history : dict of str to numpy.ndarray
        After :meth:`fit`: per-epoch training ``loss`` and ``errors`` (samples with ``t h <= 0``).
    mistakes : int
        After :meth:`fit`, online mode: updates made on samples with ``t h <= 0``.
    epochs_run : int
        After :meth:`fit`: epochs actually run.

    Examples
    --------
    >>> from neurophase.neurons import Tanh
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> unit = SingleLayerUnit(Tanh(1.0), learning_rate=0.5, epochs=50, seed=0).fit(X, [-1, -1, 1, 1])
    >>> unit.predict(X).tolist()
    [-1.0, -1.0, 1.0, 1.0]
    """

    def __init__(self, activation: Activation, loss: str = "squared", learning_rate: float = 0.1, epochs: int = 200,
                 mode: str = "batch", init: str = "zeros", seed: int | np.random.Generator | None = None,
                 stop_when_separated: bool = False) -> None:
        self.activation = _check_activation(activation)
        if loss not in LOSSES:
            raise ParameterError(f"loss = {loss!r} is not known; choose one of {', '.join(LOSSES)}.")
        if loss != "squared" and not isinstance(activation, (Logistic, MeanFieldActivation)):
            raise ParameterError(
                f"loss = {loss!r} needs a probability-valued unit (Logistic or MeanFieldActivation); "
                f"{activation!r} is not one. Use loss='squared'."
            )
        if mode not in ("batch", "online"):
            raise ParameterError(f"mode = {mode!r} must be 'batch' or 'online'.")
        if init not in ("zeros", "normal"):
            raise ParameterError(f"init = {init!r} must be 'zeros' or 'normal'.")
        self.loss = loss
        self.learning_rate = _positive(learning_rate, "learning_rate")
        self.epochs = _positive(epochs, "epochs", integer=True)
        self.mode = mode
        self.init = init
        self.seed = seed
        self.stop_when_separated = bool(stop_when_separated)
        self.weights = None
        self.bias = None

    # -- model ---------------------------------------------------------------------------
    def _require_fit(self):
        if self.weights is None:
            raise ParameterError("this unit is not trained yet; call fit(X, t) first (or set weights and bias).")

    @_doc
    def pre_activation(self, X: ArrayLike) -> np.ndarray:
        """``h = X w + b``.

        %(parameters_X)s

        Returns
        -------
        numpy.ndarray
            ``h``, shape ``(n_samples,)``.
        """
        self._require_fit()
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.weights.shape[0]:
            raise ParameterError(
                f"X must have shape (n_samples, {self.weights.shape[0]}); got {X.shape}."
            )
        return X @ self.weights + self.bias

    @_doc
    def output(self, X: ArrayLike) -> np.ndarray:
        """``f(h)``, in the activation's own coding.

        %(parameters_X)s

        Returns
        -------
        numpy.ndarray
            ``f(X w + b)``, shape ``(n_samples,)``.
        """
        return evaluate(self.activation, self.pre_activation(X))[0]

    def _decision(self, X):
        """The output minus the midpoint of the target coding."""
        low, high = _coding(self.activation)
        return self.output(X) - 0.5 * (low + high)

    def _n_features(self):
        return None if self.weights is None else self.weights.shape[0]

    @_doc
    def loss_value(self, X: ArrayLike, t: ArrayLike) -> float:
        """Mean loss over the samples (the unit's ``loss``).

        %(parameters_X_t)s

        Returns
        -------
        float
            The mean loss (dimensionless).
        """
        X, t = check_inputs(X, t, self._n_features())
        y = self.output(X)
        return float(np.mean(_loss_value(self.activation, y, t, self.loss)))

    @_doc
    def gradient(self, X: ArrayLike, t: ArrayLike) -> tuple[np.ndarray, float]:
        """``(dL/dw, dL/db)`` of the mean loss, from the activation's analytic derivative.

        %(parameters_X_t)s

        Returns
        -------
        dL_dw : numpy.ndarray
            Shape ``(n_features,)``.
        dL_db : float
            The bias component.
        """
        X, t = check_inputs(X, t, self._n_features())
        delta, _ = _delta(self.activation, self.pre_activation(X), t, self.loss)
        return X.T @ delta / X.shape[0], float(np.mean(delta))

    # -- training ------------------------------------------------------------------------
    @_doc
    def fit(self, X: ArrayLike, t: ArrayLike) -> SingleLayerUnit:
        """Train on ``X`` and labels ``t`` from the initial weights ``init``.

        %(parameters_X_t)s

        Returns
        -------
        SingleLayerUnit
            ``self``, with ``weights``, ``bias``, ``history``, ``mistakes`` and ``epochs_run``.
        """
        X, t = check_inputs(X, t)
        rng = np.random.default_rng(self.seed)
        n, d = X.shape
        if self.init == "zeros":
            self.weights, self.bias = np.zeros(d), 0.0
        else:
            self.weights, self.bias = rng.normal(0.0, 1.0 / np.sqrt(d), size=d), 0.0
        eta = self.learning_rate
        losses, errors = [], []
        self.mistakes = 0
        self.epochs_run = 0
        if self.mode == "batch":
            # one forward pass per epoch: the loss and errors at the parameters *before* epoch k's
            # update are those *after* epoch k - 1's, which is what the history records
            for epoch in range(self.epochs):
                h = X @ self.weights + self.bias
                delta, y = _delta(self.activation, h, t, self.loss)
                if epoch > 0:
                    losses.append(float(np.mean(_loss_value(self.activation, y, t, self.loss))))
                    errors.append(int(np.sum(np.sign(h) * t <= 0)))
                self.weights = self.weights - eta * (X.T @ delta / n)
                self.bias = self.bias - eta * float(np.mean(delta))
                self.epochs_run += 1
            losses.append(self.loss_value(X, t))
            errors.append(int(np.sum(np.sign(X @ self.weights + self.bias) * t <= 0)))
            self.history = {"loss": np.array(losses), "errors": np.array(errors)}
            return self
        for _ in range(self.epochs):
            mistakes_before = self.mistakes
            for i in rng.permutation(n):
                h = X[i] @ self.weights + self.bias
                if t[i] * h <= 0:
                    self.mistakes += 1
                delta, _ = _delta(self.activation, np.array([h]), t[i:i + 1], self.loss)
                self.weights = self.weights - eta * delta[0] * X[i]
                self.bias = self.bias - eta * float(delta[0])
            self.epochs_run += 1
            losses.append(self.loss_value(X, t))
            errors.append(int(np.sum(np.sign(X @ self.weights + self.bias) * t <= 0)))
            if self.stop_when_separated and self.mistakes == mistakes_before:
                break
        self.history = {"loss": np.array(losses), "errors": np.array(errors)}
        return self


# --------------------------------------------------------------------------------------
# two-layer network
# --------------------------------------------------------------------------------------
class TwoLayerNetwork(_Classifier):
    """One hidden layer of ``f`` units, one logistic output unit, cross-entropy, batch descent.

    ``a = f(X W1 + b1)``, ``p = logistic(a w2 + b2)``, ``L = mean CE(p, s)``; gradients by
    back-propagation (Rumelhart, Hinton & Williams 1986) with ``f``'s analytic derivative:
    ``dL/dz = (p - s)/n``, ``dL/dW1 = X.T [(dL/dz w2) * f'(h)]``. The output unit is the same
    for every hidden activation, so that a comparison varies only ``f``.

    Parameters
    ----------
    activation : Activation
        The hidden units' activation (any member of :mod:`neurophase.neurons.activations`).
    hidden : int, optional
        Number of hidden units (``> 0``); default 8.
    learning_rate : float, optional
        Step of batch gradient descent (dimensionless, ``> 0``); default 0.5.
    epochs : int, optional
        Passes over the training set (``> 0``); default 2000.
    seed : int, numpy.random.Generator or None, optional
        Initial weights: ``W1 ~ N(0, 1/n_features)``, ``w2 ~ N(0, 1/hidden)``, biases 0.

    Attributes
    ----------
    parameters : dict of str to numpy.ndarray or None
        ``W1`` (n_features, hidden), ``b1`` (hidden,), ``w2`` (hidden,), ``b2`` (0-d), after
        :meth:`initialise` or :meth:`fit`.
    history : dict of str to numpy.ndarray
        After :meth:`fit`: ``loss``, the training loss after every epoch.
    """

    def __init__(self, activation: Activation, hidden: int = 8, learning_rate: float = 0.5, epochs: int = 2000,
                 seed: int | np.random.Generator | None = None) -> None:
        self.activation = _check_activation(activation)
        self.hidden = _positive(hidden, "hidden", integer=True)
        self.learning_rate = _positive(learning_rate, "learning_rate")
        self.epochs = _positive(epochs, "epochs", integer=True)
        self.seed = seed
        self.parameters = None

    def initialise(self, n_features: int) -> dict[str, np.ndarray]:
        """Seeded initial parameters (a dict ``W1, b1, w2, b2``), also stored as ``parameters``.

        Parameters
        ----------
        n_features : int
            Number of inputs.

        Returns
        -------
        dict of str to numpy.ndarray
            ``W1 ~ N(0, 1/n_features)``, ``b1 = 0``, ``w2 ~ N(0, 1/hidden)``, ``b2 = 0``.
        """
        rng = np.random.default_rng(self.seed)
        self.parameters = {
            "W1": rng.normal(0.0, 1.0 / np.sqrt(n_features), size=(n_features, self.hidden)),
            "b1": np.zeros(self.hidden),
            "w2": rng.normal(0.0, 1.0 / np.sqrt(self.hidden), size=self.hidden),
            "b2": np.zeros(()),
        }
        return self.parameters

    def _n_features(self):
        return None if self.parameters is None else self.parameters["W1"].shape[0]

    def _forward(self, X, parameters=None):
        parameters = self.parameters if parameters is None else parameters
        if parameters is None:
            raise ParameterError("this network is not trained yet; call fit(X, t) first.")
        X = np.asarray(X, dtype=float)
        n_features = parameters["W1"].shape[0]
        if X.ndim != 2 or X.shape[1] != n_features:
            raise ParameterError(f"X must have shape (n_samples, {n_features}); got {X.shape}.")
        h = X @ parameters["W1"] + parameters["b1"]
        a, slope = evaluate(self.activation, h)
        z = a @ parameters["w2"] + parameters["b2"]
        return h, a, slope, z

    @_doc
    def output(self, X: ArrayLike) -> np.ndarray:
        """Output probability ``p``.

        ``p = logistic(a w2 + b2)`` with the hidden activities ``a = f(X W1 + b1)``.

        %(parameters_X)s

        Returns
        -------
        numpy.ndarray
            ``p`` in [0, 1], shape ``(n_samples,)``.
        """
        return expit(self._forward(X)[3])

    def _decision(self, X):
        """The output unit's input ``z`` (``p > 1/2`` where ``z > 0``)."""
        return self._forward(X)[3]

    @_doc
    def loss_value(self, X: ArrayLike, t: ArrayLike, parameters: Mapping[str, np.ndarray] | None = None) -> float:
        """Mean cross-entropy (computed from ``z`` with ``logaddexp``: no overflow).

        %(parameters_X_t)s
        %(network_parameters)s

        Returns
        -------
        float
            The mean cross-entropy (nats).
        """
        X, t = check_inputs(X, t)
        z = self._forward(X, parameters)[3]
        # -[s ln p + (1 - s) ln(1 - p)] = ln(1 + exp(-t z)) for t in {-1, 1}
        return float(np.mean(np.logaddexp(0.0, -t * z)))

    @_doc
    def gradient(self, X: ArrayLike, t: ArrayLike,
                 parameters: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Gradient of :meth:`loss_value` for every parameter, by back-propagation.

        %(parameters_X_t)s
        %(network_parameters)s

        Returns
        -------
        dict of str to numpy.ndarray
            ``dL/dW1``, ``dL/db1``, ``dL/dw2``, ``dL/db2`` under the keys of ``parameters``.
        """
        X, t = check_inputs(X, t)
        parameters = self.parameters if parameters is None else parameters
        return self._loss_and_gradient(X, t, parameters)[1]

    def _loss_and_gradient(self, X, t, parameters):
        """Mean cross-entropy and its gradient from one forward pass (checked inputs)."""
        h, a, slope, z = self._forward(X, parameters)
        n = X.shape[0]
        dz = (expit(z) - 0.5 * (1.0 + t)) / n
        dh = np.outer(dz, parameters["w2"]) * slope
        loss = float(np.mean(np.logaddexp(0.0, -t * z)))
        return loss, {"W1": X.T @ dh, "b1": dh.sum(axis=0), "w2": a.T @ dz, "b2": np.asarray(dz.sum())}

    @_doc
    def fit(self, X: ArrayLike, t: ArrayLike) -> TwoLayerNetwork:
        """Batch gradient descent from the seeded initial parameters.

        ``history["loss"][k]`` is the training loss after epoch ``k``; it is read off the next
        epoch's forward pass (one forward pass per epoch).

        %(parameters_X_t)s

        Returns
        -------
        TwoLayerNetwork
            ``self``, with ``parameters`` and ``history``.
        """
        X, t = check_inputs(X, t)
        self.initialise(X.shape[1])
        losses = []
        for epoch in range(self.epochs):
            loss, gradient = self._loss_and_gradient(X, t, self.parameters)
            if epoch > 0:
                losses.append(loss)
            for key in self.parameters:
                self.parameters[key] = self.parameters[key] - self.learning_rate * gradient[key]
        losses.append(self.loss_value(X, t))
        self.history = {"loss": np.array(losses)}
        return self


# --------------------------------------------------------------------------------------
# the perceptron and the T -> 0 limit
# --------------------------------------------------------------------------------------
def _augment(X):
    return np.hstack([X, np.ones((X.shape[0], 1))])


@_doc
def rosenblatt_update(weights: ArrayLike, bias: float, X: ArrayLike, t: ArrayLike,
                      learning_rate: float = 1.0) -> np.ndarray:
    """Per-sample Rosenblatt (1958) updates ``eta (t - sign(w.x + b)) (x, 1)``, shape (n, d + 1).

    Parameters
    ----------
    %(weights)s
    %(bias)s
    %(X)s
    %(t)s
    %(eta)s

    Returns
    -------
    %(per_sample_updates)s
    """
    X, t = check_inputs(X, t, np.size(weights))
    h = X @ np.asarray(weights, dtype=float) + float(bias)
    return learning_rate * (t - np.sign(h))[:, None] * _augment(X)


@_doc
def tempered_update(activation: Activation, weights: ArrayLike, bias: float, X: ArrayLike, t: ArrayLike,
                    learning_rate: float = 1.0, loss: str = "scaled_cross_entropy") -> np.ndarray:
    """Per-sample gradient-descent updates ``-eta dL/d(w, b)`` of one unit, shape (n, d + 1).

    With ``loss="scaled_cross_entropy"`` and the derived unit this is
    ``eta (t - M)/(1 - beta zJ (1 - M**2)) (x, 1)``, which tends to :func:`rosenblatt_update`
    as ``T -> 0`` (module docstring; Rosenblatt 1958; Hertz, Krogh & Palmer 1991, ch. 5).
    ``loss="squared"`` gives the delta rule (not scaled by T).

    Parameters
    ----------
    activation : Activation
        The unit's activation (the cross-entropies need a Logistic or MeanFieldActivation).
    %(weights)s
    %(bias)s
    %(X)s
    %(t)s
    %(eta)s
    loss : {"scaled_cross_entropy", "cross_entropy", "squared"}, optional
        The loss differentiated (module docstring).

    Returns
    -------
    %(per_sample_updates)s
    """
    X, t = check_inputs(X, t, np.size(weights))
    h = X @ np.asarray(weights, dtype=float) + float(bias)
    delta, _ = _delta(_check_activation(activation), h, t, loss)
    return -learning_rate * delta[:, None] * _augment(X)


@_doc
def train_perceptron(X: ArrayLike, t: ArrayLike, learning_rate: float = 1.0, max_epochs: int = 1000,
                     seed: int | np.random.Generator | None = None, rule: str = "novikoff") -> dict[str, Any]:
    """The perceptron algorithm from ``w = 0, b = 0``; stops after an epoch without a mistake.

    Samples are presented in a seeded random order each epoch (``rng.permutation`` of a
    ``numpy.random.default_rng(seed)``, the same order :class:`SingleLayerUnit` uses in online
    mode from zero weights). A *mistake* is ``t (w.x + b) <= 0``.

    ``rule="novikoff"``: add ``eta t (x, 1)`` on every mistake (Novikoff's 1962 form: at most
    ``(R/gamma)**2`` mistakes). ``rule="rosenblatt"``: add ``eta (t - sign(w.x + b)) (x, 1)``
    (Rosenblatt 1958): ``2 eta t (x, 1)`` on a mistake with ``h != 0`` and half that at ``h = 0``,
    which happens at the first update (``w = 0``). Novikoff's argument then gives
    ``u.w >= eta gamma (2k - 1)`` and ``|w|**2 <= eta**2 R**2 (4k - 3)`` after ``k`` mistakes,
    so ``(2k - 1)**2 <= (R/gamma)**2 (4k - 3)``, i.e. ``k <= (R/gamma)**2 + 1`` (if no later
    update has ``h = 0`` exactly, an event of probability 0 for continuous data).

    %(parameters_X_t)s
    learning_rate : float, optional
        ``eta > 0``; default 1.
    max_epochs : int, optional
        Largest number of passes; default 1000.
    seed : int, numpy.random.Generator or None, optional
        Seeds the presentation order.
    rule : {"novikoff", "rosenblatt"}, optional
        The update on a mistake (see above).

    Returns
    -------
    dict
        ``weights``, ``bias``, ``mistakes`` (number of updates), ``epochs``, ``converged``,
        ``training_errors``, ``smallest_field`` (the smallest nonzero ``|w.x + b|`` met at a
        presentation: how close the path came to the decision boundary).
    """
    X, t = check_inputs(X, t)
    _positive(learning_rate, "learning_rate")
    if rule not in ("novikoff", "rosenblatt"):
        raise ParameterError(f"rule = {rule!r} must be 'novikoff' or 'rosenblatt'.")
    rng = np.random.default_rng(seed)
    Xa = _augment(X)
    w = np.zeros(Xa.shape[1])
    mistakes = 0
    converged = False
    epochs = 0
    smallest = np.inf
    for epochs in range(1, int(max_epochs) + 1):
        before = mistakes
        for i in rng.permutation(X.shape[0]):
            h = Xa[i] @ w
            if h != 0:
                smallest = min(smallest, abs(h))
            if t[i] * h <= 0:
                step = t[i] if rule == "novikoff" else t[i] - np.sign(h)
                w = w + learning_rate * step * Xa[i]
                mistakes += 1
        if mistakes == before:
            converged = True
            break
    errors = int(np.sum(t * (Xa @ w) <= 0))
    return {"weights": w[:-1], "bias": float(w[-1]), "mistakes": mistakes, "epochs": epochs,
            "converged": converged, "training_errors": errors, "smallest_field": float(smallest)}


@_doc
def novikoff_bound(X: ArrayLike, t: ArrayLike, direction: ArrayLike) -> tuple[float, float, float]:
    """``(R, gamma, (R/gamma)**2)`` for the augmented samples ``(x, 1)`` and a separating direction.

    Novikoff (1962): the perceptron from zero makes at most ``(R/gamma)**2`` mistakes (module
    docstring). ``gamma <= 0`` means ``direction`` does not separate the data: the bound is then
    infinite.

    %(parameters_X_t)s
    direction : array_like
        ``(w, b)`` of any separating unit, length ``n_features + 1`` (normalised here).

    Returns
    -------
    R : float
        ``max |(x, 1)|``.
    gamma : float
        ``min t u.(x, 1)`` with ``u`` the normalised direction.
    bound : float
        ``(R/gamma)**2``, or ``inf`` when ``gamma <= 0``.
    """
    X, t = check_inputs(X, t)
    u = np.asarray(direction, dtype=float).ravel()
    if u.shape != (X.shape[1] + 1,):
        raise ParameterError(f"direction must have n_features + 1 = {X.shape[1] + 1} entries (w and b); got {u.shape}.")
    norm = np.linalg.norm(u)
    if not norm > 0:
        raise ParameterError("direction must be a non-zero vector.")
    Xa = _augment(X)
    radius = float(np.max(np.linalg.norm(Xa, axis=1)))
    gamma = float(np.min(t * (Xa @ (u / norm))))
    bound = (radius / gamma) ** 2 if gamma > 0 else np.inf
    return radius, gamma, bound


# --------------------------------------------------------------------------------------
# tasks and comparisons
# --------------------------------------------------------------------------------------
def _separable(n, rng, dim, margin, teacher):
    X = np.empty((0, dim))
    while X.shape[0] < n:
        batch = rng.normal(size=(4 * n, dim))
        keep = np.abs(_augment(batch) @ teacher) >= margin
        X = np.vstack([X, batch[keep]])
    X = X[:n]
    return X, np.sign(_augment(X) @ teacher)


def _two_moons(n, rng, noise):
    upper = rng.random(n) < 0.5
    angle = rng.uniform(0.0, np.pi, n)
    x = np.where(upper, np.cos(angle), 1.0 - np.cos(angle))
    y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    X = np.column_stack([x, y]) + rng.normal(0.0, noise, size=(n, 2))
    return X, np.where(upper, -1.0, 1.0)


def _xor(n, rng, noise):
    corner = rng.choice([-1.0, 1.0], size=(n, 2))
    X = corner + rng.normal(0.0, noise, size=(n, 2))
    return X, corner[:, 0] * corner[:, 1]


def make_task(name: str, n_train: int = 100, n_test: int = 1000, seed: int | np.random.Generator | None = None,
              dim: int = 2, margin: float = 0.1, noise: float | None = None) -> dict[str, np.ndarray]:
    """A seeded classification task, labels in {-1, 1}.

    ``"separable"``: ``x ~ N(0, I_dim)``, labelled by a random teacher unit ``u`` (unit vector in
    the augmented ``(w, b)`` space, bias component ``N(0, 0.3**2)`` before normalising); samples
    with ``|u.(x, 1)| < margin`` are dropped, so ``u`` separates train and test with margin
    ``>= margin``. ``"two_moons"`` (two interleaved half circles, noise 0.2 by default) and
    ``"xor"`` (Gaussian blobs at the corners of the square, noise 0.4) are not linearly
    separable.

    Parameters
    ----------
    name : {"separable", "two_moons", "xor"}
        The task.
    n_train, n_test : int, optional
        Numbers of training and test samples; defaults 100 and 1000.
    seed : int, numpy.random.Generator or None, optional
        Seeds the whole draw (teacher, training and test samples).
    dim : int, optional
        ``"separable"`` only: input dimension; default 2.
    margin : float, optional
        ``"separable"`` only: smallest ``|u.(x, 1)|`` kept (``> 0``); default 0.1.
    noise : float or None, optional
        ``"two_moons"`` / ``"xor"``: standard deviation of the Gaussian noise; default 0.2 / 0.4.

    Returns
    -------
    dict of str to numpy.ndarray
        ``X_train, t_train, X_test, t_test`` and, for ``"separable"``, ``teacher``.
    """
    rng = np.random.default_rng(seed)
    n_train = _positive(n_train, "n_train", integer=True)
    n_test = _positive(n_test, "n_test", integer=True)
    if name == "separable":
        dim = _positive(dim, "dim", integer=True)
        margin = _positive(margin, "margin")
        teacher = np.append(rng.normal(size=dim), rng.normal(0.0, 0.3))
        teacher /= np.linalg.norm(teacher)
        X_train, t_train = _separable(n_train, rng, dim, margin, teacher)
        X_test, t_test = _separable(n_test, rng, dim, margin, teacher)
        return {"X_train": X_train, "t_train": t_train, "X_test": X_test, "t_test": t_test,
                "teacher": teacher}
    if name == "two_moons":
        maker, default = _two_moons, 0.2
    elif name == "xor":
        maker, default = _xor, 0.4
    else:
        raise ParameterError(f"task {name!r} is not known; choose 'separable', 'two_moons' or 'xor'.")
    noise = default if noise is None else float(noise)
    X_train, t_train = maker(n_train, rng, noise)
    X_test, t_test = maker(n_test, rng, noise)
    return {"X_train": X_train, "t_train": t_train, "X_test": X_test, "t_test": t_test}


def validation_split(n_samples: int, fraction: float = 0.2,
                     seed: int | Sequence[int] | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of ``range(n_samples)`` into ``(fit_indices, validation_indices)``.

    ``round(fraction * n_samples)`` samples (at least 1, at most ``n_samples - 1``) go to the
    validation part, chosen by a permutation from ``numpy.random.default_rng(seed)``; both parts
    are returned sorted (so the order of presentation inside each is the original one).

    Parameters
    ----------
    n_samples : int
        Number of samples (``>= 2``).
    fraction : float, optional
        Validation fraction, strictly between 0 and 1; default 0.2.
    seed : int, sequence of int, numpy.random.Generator or None, optional
        Anything ``numpy.random.default_rng`` accepts.

    Returns
    -------
    fit_indices : numpy.ndarray of int
        Sorted indices of the fit part.
    validation_indices : numpy.ndarray of int
        Sorted indices of the validation part.

    Examples
    --------
    >>> fit, validation = validation_split(10, 0.2, seed=0)
    >>> len(fit), len(validation), sorted(set(fit) | set(validation)) == list(range(10))
    (8, 2, True)
    """
    n_samples = _positive(n_samples, "n_samples", integer=True)
    fraction = float(fraction)
    if not 0.0 < fraction < 1.0:
        raise ParameterError(f"validation fraction = {fraction!r} must lie strictly between 0 and 1.")
    if n_samples < 2:
        raise ParameterError("a validation split needs at least 2 training samples.")
    n_validation = min(max(int(round(fraction * n_samples)), 1), n_samples - 1)
    order = np.random.default_rng(seed).permutation(n_samples)
    return np.sort(order[n_validation:]), np.sort(order[:n_validation])


def _fit_single_grid(activation, X, t, rates, epochs, seed):
    """Squared-error batch descent of :class:`SingleLayerUnit` (``init="zeros"``) for every rate at once.

    Same update as ``SingleLayerUnit(activation, "squared", rate, epochs, seed=seed).fit(X, t)``,
    vectorised over a leading learning-rate axis; returns ``(weights (G, d), bias (G,))``.
    """
    rates = np.asarray(rates, dtype=float)
    n, d = X.shape
    weights, bias = np.zeros((rates.size, d)), np.zeros(rates.size)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(epochs)):
            h = weights @ X.T + bias[:, None]
            delta, _ = _delta(activation, h, t[None, :], "squared")
            weights = weights - rates[:, None] * (delta @ X) / n
            bias = bias - rates * delta.mean(axis=1)
    return weights, bias


def _fit_net_grid(activation, X, t, rates, epochs, hidden, seed):
    """:class:`TwoLayerNetwork` batch descent for every rate at once, from the same seeded start.

    Returns the parameter dict with a leading learning-rate axis on every entry.
    """
    rates = np.asarray(rates, dtype=float)
    G, n = rates.size, X.shape[0]
    start = TwoLayerNetwork(activation, hidden, 1.0, 1, seed=seed).initialise(X.shape[1])
    P = {key: np.repeat(np.asarray(value, dtype=float)[None, ...], G, axis=0) for key, value in start.items()}
    s = 0.5 * (1.0 + t)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(epochs)):
            h = X @ P["W1"] + P["b1"][:, None, :]
            a, slope = evaluate(activation, h)
            z = np.einsum("gnh,gh->gn", a, P["w2"]) + P["b2"][:, None]
            dz = (expit(z) - s) / n
            dh = dz[:, :, None] * P["w2"][:, None, :] * slope
            gradient = {"W1": X.T @ dh, "b1": dh.sum(axis=1), "w2": np.einsum("gnh,gn->gh", a, dz),
                        "b2": dz.sum(axis=1)}
            for key in P:
                P[key] = P[key] - rates.reshape((G,) + (1,) * (P[key].ndim - 1)) * gradient[key]
    return P


def _scores(activation, model, outputs, t):
    """Accuracy and loss per grid member from raw outputs (rows): unit output or logit ``z``."""
    if model == "single":
        low, high = _coding(activation)
        predicted = np.where(outputs > 0.5 * (low + high), 1.0, -1.0)
        y = (outputs - low) / (high - low)
        loss = np.mean(0.5 * (y - 0.5 * (1.0 + t)) ** 2, axis=-1)
    else:
        predicted = np.where(outputs > 0, 1.0, -1.0)
        loss = np.mean(np.logaddexp(0.0, -t * outputs), axis=-1)
    accuracy = np.mean(predicted == t, axis=-1)
    return accuracy, np.where(np.isfinite(loss), loss, np.inf)


def select_learning_rate(activation: Activation, X: ArrayLike, t: ArrayLike, learning_rates: ArrayLike,
                         model: str = "single", epochs: int = 300, hidden: int = 8,
                         seed: int | np.random.Generator | None = None, validation_fraction: float = 0.2,
                         split_seed: int | Sequence[int] | np.random.Generator | None = None) -> dict[str, Any]:
    """Choose a learning rate for ``activation`` on a validation split of the training data only.

    The training set ``(X, t)`` is split by :func:`validation_split` (seed ``split_seed``); a
    learner is trained on the fit part for every rate in ``learning_rates`` (same epochs, same
    seeded initial weights ``seed``) and scored on the validation part. The chosen rate has the
    highest validation accuracy; ties go to the lowest validation loss (squared error in the
    {0, 1} coding for ``model="single"``, cross-entropy for ``"two_layer"``; a diverged fit scores
    an infinite loss), then to the smaller rate. No test data enter: the function never sees them.

    Parameters
    ----------
    activation : Activation
        The activation of the learner.
    X : array_like
        Training inputs, shape ``(n_samples, n_features)`` (reduced units).
    t : array_like
        Training labels, all in {-1, 1} or all in {0, 1}.
    learning_rates : float or array_like
        The candidate rates (each ``> 0``).
    model : {"single", "two_layer"}, optional
        :class:`SingleLayerUnit` (squared error, batch, from zero) or :class:`TwoLayerNetwork`.
    epochs : int, optional
        Training epochs for every rate; default 300.
    hidden : int, optional
        Hidden units of ``"two_layer"``; default 8.
    seed : int, numpy.random.Generator or None, optional
        Seeds the initial weights (the same for every rate).
    validation_fraction : float, optional
        Part of ``(X, t)`` held out for validation; default 0.2.
    split_seed : int, sequence of int, numpy.random.Generator or None, optional
        Seeds the split (:func:`validation_split`).

    Returns
    -------
    dict
        ``learning_rate`` (the chosen one), ``index`` (its position in the grid),
        ``validation_accuracy`` and ``validation_loss`` (arrays over the grid), and ``learner``:
        the :class:`SingleLayerUnit` / :class:`TwoLayerNetwork` trained on the fit part with the
        chosen rate (the model that was validated).
    """
    if model not in ("single", "two_layer"):
        raise ParameterError(f"model = {model!r} must be 'single' or 'two_layer'.")
    _check_activation(activation)
    X, t = check_inputs(X, t)
    rates = np.asarray([_positive(rate, "learning_rate") for rate in np.atleast_1d(learning_rates)])
    fit, held = validation_split(X.shape[0], validation_fraction, split_seed)
    with np.errstate(over="ignore", invalid="ignore"):
        if model == "single":
            weights, bias = _fit_single_grid(activation, X[fit], t[fit], rates, epochs, seed)
            outputs = evaluate(activation, weights @ X[held].T + bias[:, None])[0]
        else:
            P = _fit_net_grid(activation, X[fit], t[fit], rates, epochs, hidden, seed)
            a = evaluate(activation, X[held] @ P["W1"] + P["b1"][:, None, :])[0]
            outputs = np.einsum("gnh,gh->gn", a, P["w2"]) + P["b2"][:, None]
        accuracy, loss = _scores(activation, model, outputs, t[held])
    accuracy = np.where(np.isfinite(accuracy), accuracy, 0.0)
    index = int(np.lexsort((rates, loss, -accuracy))[0])
    if model == "single":
        learner = SingleLayerUnit(activation, "squared", rates[index], epochs, seed=seed)
        learner.weights, learner.bias = weights[index].copy(), float(bias[index])
    else:
        learner = TwoLayerNetwork(activation, hidden, rates[index], epochs, seed=seed)
        learner.parameters = {key: value[index].copy() for key, value in P.items()}
    return {"learning_rate": float(rates[index]), "index": index, "validation_accuracy": accuracy,
            "validation_loss": loss, "learner": learner}


def compare_activations(activations: Mapping[str, Activation], task: str = "separable", model: str = "single",
                        seeds: Sequence[int] = (0, 1, 2, 3), n_train: int = 100, n_test: int = 1000, epochs: int = 300,
                        learning_rate: float | Sequence[float] = 0.5, hidden: int = 8,
                        task_options: Mapping[str, Any] | None = None, validation_fraction: float = 0.2,
                        refit: bool = True) -> xr.Dataset:
    """Held-out accuracy and loss of each activation on the same seeded tasks.

    Seed ``k`` fixes the task draw and the initial weights, the same for every activation (a
    paired comparison). ``model="single"``: :class:`SingleLayerUnit`, squared-error batch descent
    from ``w = 0``; the held-out loss is the squared error in the {0, 1} coding (tanh-type outputs
    mapped by ``(1 + y)/2``). ``model="two_layer"``: :class:`TwoLayerNetwork`, held-out
    cross-entropy.

    ``learning_rate`` is either one number, used for every activation, or a grid (a sequence):
    then for each activation and seed :func:`select_learning_rate` picks a rate on a validation
    split of that seed's *training* set (``validation_fraction`` of it, the same split for every
    activation), and the learner is refitted on the whole training set with the chosen rate
    before it meets the test set (``refit=False``: the learner trained on the fit part, the one
    that was validated, meets the test set instead). Activations with a smaller slope at ``h = 0`` (logistic 1/4,
    softplus 1/2, against 1 for tanh) take smaller steps at the same rate, so one shared rate
    compares rates as much as activations.

    Parameters
    ----------
    activations : mapping of str to Activation
        The activations to compare, by the name used on the ``activation`` dimension.
    task : {"separable", "two_moons", "xor"}, optional
        The task of :func:`make_task`.
    model : {"single", "two_layer"}, optional
        The learner (see above).
    seeds : sequence of int, optional
        One trial per seed (task draw and initial weights); default ``(0, 1, 2, 3)``.
    n_train, n_test : int, optional
        Training and test samples per trial; defaults 100 and 1000.
    epochs : int, optional
        Training epochs; default 300.
    learning_rate : float or sequence of float, optional
        One shared rate, or a grid to select from per activation and seed (see above).
    hidden : int, optional
        Hidden units of ``"two_layer"``; default 8.
    task_options : mapping or None, optional
        Further keyword arguments of :func:`make_task` (``dim``, ``margin``, ``noise``).
    validation_fraction : float, optional
        With a grid: the part of each training set used for validation; default 0.2.
    refit : bool, optional
        With a grid: refit on the whole training set with the chosen rate (default True).

    Returns
    -------
    xarray.Dataset
        dims ``(activation, trial)``: ``test_accuracy``, ``test_loss``, ``train_accuracy`` and
        ``learning_rate`` (the rate used); with a grid also ``validation_accuracy`` and
        ``validation_loss`` over ``(activation, rate_grid, trial)``.
    """
    if model not in ("single", "two_layer"):
        raise ParameterError(f"model = {model!r} must be 'single' or 'two_layer'.")
    names = list(activations)
    seeds = [int(seed) for seed in seeds]
    selecting = np.ndim(learning_rate) > 0
    grid = np.atleast_1d(np.asarray(learning_rate, dtype=float))
    shape = (len(names), len(seeds))
    test_accuracy, test_loss, train_accuracy = np.empty(shape), np.empty(shape), np.empty(shape)
    chosen = np.empty(shape)
    validation_accuracy = np.full((len(names), grid.size, len(seeds)), np.nan)
    validation_loss = np.full_like(validation_accuracy, np.nan)
    for j, seed in enumerate(seeds):
        data = make_task(task, n_train, n_test, seed=seed, **(task_options or {}))
        for i, name in enumerate(names):
            activation = activations[name]
            rate = float(grid[0])
            if selecting:
                selection = select_learning_rate(activation, data["X_train"], data["t_train"], grid, model, epochs,
                                                 hidden, seed=seed, validation_fraction=validation_fraction,
                                                 split_seed=[seed, 1])
                rate = selection["learning_rate"]
                validation_accuracy[i, :, j] = selection["validation_accuracy"]
                validation_loss[i, :, j] = selection["validation_loss"]
            chosen[i, j] = rate
            if selecting and not refit:
                learner = selection["learner"]
            elif model == "single":
                learner = SingleLayerUnit(activation, "squared", rate, epochs, seed=seed)
                learner.fit(data["X_train"], data["t_train"])
            else:
                learner = TwoLayerNetwork(activation, hidden, rate, epochs, seed=seed)
                learner.fit(data["X_train"], data["t_train"])
            if model == "single":
                low, high = _coding(activation)
                y = (learner.output(data["X_test"]) - low) / (high - low)
                s = 0.5 * (1.0 + data["t_test"])
                test_loss[i, j] = float(np.mean(0.5 * (y - s) ** 2))
            else:
                test_loss[i, j] = learner.loss_value(data["X_test"], data["t_test"])
            test_accuracy[i, j] = learner.accuracy(data["X_test"], data["t_test"])
            train_accuracy[i, j] = learner.accuracy(data["X_train"], data["t_train"])
    dims = ("activation", "trial")
    loss_name = "squared error (0/1 coding)" if model == "single" else "cross-entropy"
    variables = {
        "test_accuracy": xr.DataArray(test_accuracy, dims=dims, attrs={"units": "1", "long_name": "held-out accuracy"}),
        "test_loss": xr.DataArray(test_loss, dims=dims, attrs={"units": "1", "long_name": f"held-out {loss_name}"}),
        "train_accuracy": xr.DataArray(train_accuracy, dims=dims, attrs={"units": "1",
                                                                         "long_name": "training accuracy"}),
        "learning_rate": xr.DataArray(chosen, dims=dims, attrs={
            "units": "1",
            "long_name": "learning rate used" + (" (chosen on the validation split)" if selecting else "")}),
    }
    coords = {"activation": names, "trial": seeds,
              "activation_repr": ("activation", [repr(activations[name]) for name in names])}
    if selecting:
        grid_dims = ("activation", "rate_grid", "trial")
        variables["validation_accuracy"] = xr.DataArray(validation_accuracy, dims=grid_dims, attrs={
            "units": "1",
            "long_name": f"validation accuracy (fit on {1 - validation_fraction:.0%} of the training set)"})
        variables["validation_loss"] = xr.DataArray(validation_loss, dims=grid_dims, attrs={
            "units": "1", "long_name": f"validation {loss_name} (inf: diverged)"})
        coords["rate_grid"] = xr.DataArray(grid, dims=("rate_grid",), attrs={"units": "1",
                                                                             "long_name": "candidate learning rates"})
    attrs = {"task": task, "model": model, "n_train": n_train, "n_test": n_test, "epochs": epochs,
             "learning_rate": float(grid[0]) if not selecting else "selected per activation and seed",
             "hidden": hidden if model == "two_layer" else 0,
             "loss": "squared error, targets in each unit's coding" if model == "single"
             else "cross-entropy of a logistic output unit"}
    if selecting:
        attrs.update(learning_rate_grid=grid.tolist(), validation_fraction=float(validation_fraction),
                     selection=("per activation and seed: highest validation accuracy, ties to the lowest "
                                "validation loss, then the smaller rate; validation split of the training set "
                                "only (seeded, the same for every activation); " + (
                                    "refitted on the whole training set with the chosen rate" if refit else
                                    "the model trained on the fit part with the chosen rate is the one tested")),
                     refit=int(bool(refit)))
    return xr.Dataset(variables, coords=coords, attrs=attrs)
