"""The rate neurone derived from a conductance-based membrane (THEORY.md section 6a).

A conductance-based model coarse-grained by :func:`neurophase.mapping.coarse_grain` gives a
self-map ``g(m, I) = m_inf(V*(m, I))`` of its order-parameter gate: the steady-state open
probability of the gate at the voltage that balances the membrane current when a fraction
``m`` of the gates is open and the other gates are held at rest. Its fixed points
``m = g(m, I)`` are the mean-field (Curie-Weiss) states of the membrane: with a Boltzmann gate,
``M = 2m - 1 = tanh((V*(M, I) - V_half) / (2 k_V))`` (THEORY.md 6a). This module solves that
self-consistency; it is the one place where it is solved (the mapping layer and the checks call
it).

Functions
---------
self_consistent_roots
    Every root ``m`` in (0, 1) of ``g(m, I) - m`` for every input, vectorised, with its stability.

Classes
-------
DerivedActivation
    The derived rate neurone: injected current in, order parameter (the open probability of the
    order-parameter gate) out, on the branch reached from rest (hysteretic), with its derivative
    by implicit differentiation. Registered in :data:`neurophase.neurons.ACTIVATIONS` as
    ``"derived_membrane"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import expit

from neurophase.errors import ParameterError
from neurophase.neurons.activations import ACTIVATIONS, Activation

if TYPE_CHECKING:
    from collections.abc import Callable

    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

__all__ = ["self_consistent_roots", "DerivedActivation", "DEFAULT_LOGIT_GRID"]

#: Grid in ``u = logit(m)`` on which sign changes of ``g(m, I) - m`` are searched: m from
#: 9.4e-14 to 1 - 9.4e-14, 0.005 apart in u (relative spacing 0.5 % in m near 0).
DEFAULT_LOGIT_GRID = np.linspace(-30.0, 30.0, 12001)


def self_consistent_roots(self_map: Callable[[np.ndarray, np.ndarray], np.ndarray], inputs: ArrayLike,
                          self_map_slope: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                          logit_grid: ArrayLike | None = None,
                          iterations: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All fixed points ``m = g(m, I)`` in (0, 1) for each input, and their stability.

    The residual ``r(m, I) = g(m, I) - m`` is evaluated on a grid uniform in ``logit(m)``
    (:data:`DEFAULT_LOGIT_GRID`); every sign change is refined by bisection in ``logit(m)``,
    all brackets of all inputs at once (``iterations`` halvings: 0.005 / 2**64 in logit).
    A root is stable for the one-dimensional reduced dynamics when ``dr/dm < 0``, i.e. when the
    loop gain ``dg/dm`` is below 1 (a root where ``dg/dm = 1`` is a fold). Roots closer together
    than the grid spacing (within about 0.5 % of each other just at a fold) can be missed.

    Parameters
    ----------
    self_map : callable
        ``g(m, I)`` on broadcast float arrays (``m`` dimensionless, ``I`` in the caller's unit),
        returning the open probability (dimensionless).
    inputs : float or array_like, the caller's input unit
        Input values, 1-D (a scalar is one input).
    self_map_slope : callable or None, optional
        ``dg/dm(m, I)``; without it the slope is a centred difference in ``m``.
    logit_grid : array_like or None, optional
        Search grid in ``logit(m)`` (dimensionless, increasing); default
        :data:`DEFAULT_LOGIT_GRID`.
    iterations : int, optional
        Bisection steps (default 64).

    Returns
    -------
    roots : numpy.ndarray, shape (n_inputs, n_max), dimensionless
        Roots in increasing order, NaN-padded (``n_max`` >= 1).
    stable : numpy.ndarray of bool, shape (n_inputs, n_max)
        ``dg/dm < 1`` at the root (False where the root is NaN).
    loop_gain : numpy.ndarray, shape (n_inputs, n_max), dimensionless
        ``dg/dm`` at the root (NaN-padded).

    Examples
    --------
    Curie-Weiss in the open probability: ``g = logistic(2 (J (2m - 1) + h) / T)`` with
    ``T = 0.5, J = 1, h = 0`` has three roots, the middle one unstable:

    >>> g = lambda m, h: expit(2 * (1.0 * (2 * m - 1) + h) / 0.5)
    >>> roots, stable, _ = self_consistent_roots(g, [0.0])
    >>> np.round(2 * roots - 1, 4).tolist(), stable.tolist()
    ([[-0.9575, 0.0, 0.9575]], [[True, False, True]])
    """
    inputs = np.atleast_1d(np.asarray(inputs, dtype=float))
    if inputs.ndim != 1:
        raise ParameterError("inputs must be one-dimensional.")
    grid = DEFAULT_LOGIT_GRID if logit_grid is None else np.asarray(logit_grid, dtype=float)
    m_grid = expit(grid)
    with np.errstate(all="ignore"):
        residual = self_map(m_grid[None, :], inputs[:, None]) - m_grid[None, :]
    residual = np.asarray(residual, dtype=float)
    sign = np.sign(residual)
    crossing = (sign[:, :-1] * sign[:, 1:] < 0) | ((sign[:, :-1] == 0) & np.isfinite(residual[:, 1:]))
    rows, columns = np.nonzero(crossing)
    low, high = grid[columns].copy(), grid[columns + 1].copy()
    f_low = residual[rows, columns]
    level = inputs[rows]
    exact = f_low == 0
    for _ in range(int(iterations)):
        middle = 0.5 * (low + high)
        with np.errstate(all="ignore"):
            f_middle = self_map(expit(middle), level) - expit(middle)
        same = np.sign(f_middle) == np.sign(f_low)
        low = np.where(same & ~exact, middle, low)
        f_low = np.where(same & ~exact, f_middle, f_low)
        high = np.where(same | exact, high, middle)
    u_root = np.where(exact, low, 0.5 * (low + high))
    m_root = expit(u_root)
    counts = np.bincount(rows, minlength=inputs.size)
    n_max = max(1, int(counts.max()) if counts.size else 1)
    roots = np.full((inputs.size, n_max), np.nan)
    slot = np.zeros_like(rows)
    if rows.size:
        order = np.lexsort((u_root, rows))
        rows, m_root, level = rows[order], m_root[order], level[order]
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        slot = np.arange(rows.size) - starts[rows]
        roots[rows, slot] = m_root
    gain = np.full_like(roots, np.nan)
    if rows.size:
        if self_map_slope is not None:
            slope = self_map_slope(m_root, level)
        else:
            step = 1e-7 * np.maximum(np.minimum(m_root, 1.0 - m_root), 1e-12)
            slope = (self_map(m_root + step, level) - self_map(m_root - step, level)) / (2.0 * step)
        gain[rows, slot] = slope
    stable = np.isfinite(roots) & (gain < 1.0)
    return roots, stable, gain


class DerivedActivation(Activation):
    """The rate neurone derived from a coarse-grained conductance-based membrane.

    Input: the injected current (a Brian2 quantity, or plain numbers in the model's input unit
    ``input_unit``). Output: the order parameter ``m`` (the open probability of the
    order-parameter gate; ``M = 2m - 1``) on the self-consistent branch reached from rest by a
    quasi-static increase of the current: the rest (lower) branch up to the fold current where
    it ends (``fold_up``), the excited branch above it. :meth:`respond` follows any sequence of
    inputs with memory (jump up at the upper fold, down at the lower one, as
    :class:`~neurophase.neurons.activations.BistableUnit` does for Curie-Weiss).

    The derivative is exact by implicit differentiation of ``m = g(m, I)``:
    ``dm/dI = (dg/dI) / (1 - dg/dm)`` (it diverges at a fold, where ``dg/dm = 1``).
    Nothing is fitted: ``g``, its derivatives and the folds come from the model file through
    :func:`neurophase.mapping.coarse_grain` (Hodgkin & Huxley 1952 current balance; Rinzel 1985
    and Izhikevich 2007, ch. 5-6, for the fast subsystem and its fold).

    Parameters
    ----------
    membrane : CoarseGrainedMembrane
        The result of :func:`neurophase.mapping.coarse_grain` (anything with ``self_map``,
        ``self_map_derivatives``, ``input_unit``, ``fold_up``, ``fold_down``, ``model_name``,
        ``order_parameter`` and ``model_hash``).

    Examples
    --------
    >>> from neurophase.micro.modelfile import load_model          # doctest: +SKIP
    >>> from neurophase.mapping import coarse_grain                 # doctest: +SKIP
    >>> unit = coarse_grain(load_model("hodgkin_huxley_1952")).activation()  # doctest: +SKIP
    >>> unit.value([0.0, 10.0])                                     # doctest: +SKIP
    """

    name = "derived_membrane"
    origin = ("open probability of the order-parameter gate on the self-consistent branch "
              "m = m_inf(V*(m, I)) of a conductance-based membrane, slow gates at rest (THEORY 6a)")
    citation = ("A. L. Hodgkin & A. F. Huxley, J. Physiol. 117:500 (1952); J. Rinzel, Lect. Notes "
                "Biomath. 58 (1985); E. M. Izhikevich, Dynamical Systems in Neuroscience, MIT Press "
                "(2007), ch. 5-6; D. A. R. Sakthivadivel, Complex Systems 31(4) (2022)")

    def __init__(self, membrane: Any) -> None:
        for attribute in ("self_map", "self_map_derivatives", "input_unit", "fold_up", "fold_down"):
            if not hasattr(membrane, attribute):
                raise ParameterError(
                    f"DerivedActivation needs a coarse-grained membrane (it has no {attribute!r}); "
                    "build one with neurophase.mapping.coarse_grain(model)."
                )
        self.membrane = membrane
        self.input_unit = membrane.input_unit

    @property
    def parameters(self) -> dict[str, Any]:
        """The model name, its content hash and the order-parameter gate of the membrane."""
        return {"model": getattr(self.membrane, "model_name", "?"),
                "model_hash": getattr(self.membrane, "model_hash", "?"),
                "order_parameter": getattr(self.membrane, "order_parameter", "?")}

    # -------------------------------------------------------------------------- inputs
    def _inputs(self, current):
        from brian2.units.fundamentalunits import Quantity

        if isinstance(current, Quantity):
            from neurophase.units import to_magnitude

            return np.asarray(to_magnitude(current, self.input_unit, name="current"), dtype=float)
        if isinstance(current, str):
            raise ParameterError(f"current must be numbers in {self.input_unit} or a quantity, not {current!r}.")
        array = np.asarray(current, dtype=float)
        if np.any(np.isnan(array)):
            raise ParameterError("current contains NaN; pass finite numbers.")
        return array

    def value(self, current: ArrayLike | Quantity) -> np.ndarray | float:
        """Order parameter ``m`` reached from rest at ``current`` by a quasi-static increase.

        Parameters
        ----------
        current : float, array_like or Quantity (current or current density)
            Injected input: a Brian2 quantity of the model's input dimension, or plain numbers
            in ``input_unit``.

        Returns
        -------
        numpy.ndarray or numpy.float64, dimensionless
            ``m`` in (0, 1), the shape of ``current``: the rest branch up to the upper fold,
            the excited branch above it (NaN where no stable root is found).
        """
        array = self._inputs(current)
        m, _ = self._branch(array.ravel(), upper=array.ravel() > self._fold_up_input())
        return _shape_like(m, array)

    def derivative(self, current: ArrayLike | Quantity) -> np.ndarray | float:
        """``dm/dI`` on the branch of :meth:`value`, by implicit differentiation.

        ``dm/dI = (dg/dI) / (1 - dg/dm)`` at the root (implicit-function theorem on
        ``m = g(m, I)``).

        Parameters
        ----------
        current : float, array_like or Quantity (current or current density)
            As in :meth:`value`.

        Returns
        -------
        numpy.ndarray or numpy.float64, 1 / ``input_unit``
            The slope, the shape of ``current``.
        """
        array = self._inputs(current)
        _, slope = self._branch(array.ravel(), upper=array.ravel() > self._fold_up_input())
        return _shape_like(slope, array)

    __call__ = value

    def branch(self, current: ArrayLike | Quantity, which: str = "rest") -> np.ndarray | float:
        """``m`` on the rest or the excited branch; NaN where that branch does not exist.

        Parameters
        ----------
        current : float, array_like or Quantity (current or current density)
            As in :meth:`value`.
        which : {"rest", "excited"}, optional
            The rest (lower) branch, up to the upper fold, or the excited branch above the
            order parameter at that fold; default "rest".

        Returns
        -------
        numpy.ndarray or numpy.float64, dimensionless
            ``m``, the shape of ``current``.
        """
        if which not in ("rest", "excited"):
            raise ParameterError(f"which = {which!r} must be 'rest' or 'excited'.")
        array = self._inputs(current)
        m, _ = self._branch(array.ravel(), upper=np.full(array.size, which == "excited"), strict=True)
        return _shape_like(m, array)

    def respond(self, current_sequence: ArrayLike | Quantity) -> np.ndarray:
        """Order parameter along a sequence of inputs (axis 0 is time), with hysteresis.

        Starts on the rest branch; jumps to the excited branch where the input exceeds the upper
        fold (``fold_up``) and back where it falls below the lower fold (``fold_down``).

        Parameters
        ----------
        current_sequence : float, array_like or Quantity (current or current density)
            Inputs in time order along axis 0 (as in :meth:`value`); a scalar is a sequence
            of one.

        Returns
        -------
        numpy.ndarray, dimensionless
            ``m`` along the sequence, the shape of ``current_sequence`` (at least 1-D).
        """
        current = self._inputs(current_sequence)
        if current.ndim == 0:
            current = current[None]
        up, down = self._fold_up_input(), self._fold_down_input()
        event = np.where(current > up, 1, np.where(current < down, -1, 0))
        steps = np.arange(current.shape[0]).reshape((-1,) + (1,) * (current.ndim - 1))
        last = np.maximum.accumulate(np.where(event != 0, steps, -1), axis=0)
        state = np.where(last >= 0, np.take_along_axis(event, np.maximum(last, 0), axis=0), -1)
        m, _ = self._branch(current.ravel(), upper=state.ravel() > 0)
        return m.reshape(current.shape)

    # ------------------------------------------------------------------------ internals
    def _fold_up_input(self):
        fold = self.membrane.fold_up
        return np.inf if fold is None else float(fold[0])

    def _fold_down_input(self):
        fold = self.membrane.fold_down
        return -np.inf if fold is None else float(fold[0])

    def _branch(self, current, upper, strict=False):
        """Root on the rest branch (m <= m at the upper fold) or above it, and dm/dI there."""
        roots, stable, _ = self_consistent_roots(self.membrane.self_map, current)
        fold = self.membrane.fold_up
        m_fold = np.inf if fold is None else float(fold[1])
        below = stable & (roots <= m_fold)
        above = stable & (roots > m_fold)
        rest = np.where(below.any(axis=1), np.nanmax(np.where(below, roots, -np.inf), axis=1), np.nan)
        excited = np.where(above.any(axis=1), np.nanmin(np.where(above, roots, np.inf), axis=1), np.nan)
        if not strict:
            # where the wanted branch does not exist, the state is on the only one that does
            lowest = np.nanmin(np.where(stable, roots, np.inf), axis=1)
            highest = np.nanmax(np.where(stable, roots, -np.inf), axis=1)
            rest = np.where(np.isnan(rest), lowest, rest)
            excited = np.where(np.isnan(excited), highest, excited)
        m = np.where(upper, excited, rest)
        m = np.where(np.isfinite(m), m, np.nan)
        slope = np.full_like(m, np.nan)
        finite = np.isfinite(m)
        if finite.any():
            gain, drive = self.membrane.self_map_derivatives(m[finite], current[finite])
            slope[finite] = drive / (1.0 - gain)
        return m, slope


def _shape_like(values, array):
    values = np.asarray(values, dtype=float).reshape(np.shape(array))
    return values[()] if values.ndim == 0 else values


ACTIVATIONS[DerivedActivation.name] = DerivedActivation
