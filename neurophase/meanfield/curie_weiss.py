"""Curie-Weiss (mean-field Ising) and Landau theory of the channel membrane: the statics.

The membrane is N two-state channels ``s_i = +1`` (open) / ``-1`` (closed) coupled all-to-all
with strength ``J/N`` (``coupling_number`` z = 1) or to z neighbours; the order parameter is the
magnetisation ``M = (1/N) sum s_i``, the open probability is ``(1 + M)/2``. Mean field gives the
Curie-Weiss self-consistency (Weiss 1907; e.g. Stanley 1971, *Introduction to Phase Transitions
and Critical Phenomena*, eq. 6.13; THEORY.md section 3)::

    M = tanh((z J M + h) / T),        T_c = z J,

the stationary points of the mean-field free energy per channel (Kac 1968; THEORY.md section 3)::

    f(M) = z J M**2 / 2 - T ln[2 cosh((z J M + h) / T)].

All quantities are in reduced units: ``T`` (k_B times the temperature), ``h`` and ``J`` are
energies in one common unit (dimensionless numbers here). Every function broadcasts over
``T``, ``h``, ``J`` and ``z`` arrays and raises :class:`~neurophase.errors.ParameterError` for
values outside the physical domain (``T < 0``, ``J < 0``, ``z <= 0``, ``N < 1``, NaN).

Functions
---------
critical_temperature
    ``T_c = z J``.
branches
    All real solutions of the self-consistency (sorted, NaN-padded) and their stability.
magnetisation
    The equilibrium branch (global free-energy minimum) or the upper / lower stable branch.
susceptibility
    ``chi = dM/dh = beta (1 - M**2) / (1 - beta z J (1 - M**2))``.
free_energy, landau_free_energy
    The mean-field free energy and its Landau expansion about ``T_c``.
spontaneous_magnetisation
    ``M0(T)`` at ``h = 0`` (exact root or Landau ``sqrt(3 (T_c - T)/T_c)``).
critical_isotherm
    ``M(h)`` at ``T = T_c`` (exact or Landau ``(3 h / T_c)**(1/3)``).
coercive_field
    The spinodal field ``h_c(T)`` that ends each stable branch below ``T_c``.
relaxation_time
    Linear relaxation time of the Glauber dynamics (critical slowing-down).
finite_size_variance
    ``Var(M) = T chi / N`` for N channels.
finite_size_curie_weiss
    Exact stationary moments of M for N all-to-all channels (sum over the N + 1 levels).
coercive_field_numeric
    ``h_c(T)`` by numerical maximisation: the independent check of the closed form.

The dynamics (Glauber ODE, hysteresis loops, quench protocols) are in
:mod:`neurophase.meanfield.dynamics`; exponent tables, the Onsager solution and power-law fits
in :mod:`neurophase.meanfield.exponents`. Both are re-exported here and by
:mod:`neurophase.meanfield`.

Examples
--------
>>> from neurophase.meanfield import magnetisation, coercive_field
>>> round(float(magnetisation(0.5, 0.0, 1.0)), 6)   # spontaneous order at T = T_c/2
0.957504
>>> round(float(coercive_field(0.5, 1.0)), 4)       # THEORY.md: 0.2664 zJ
0.2664
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, get_dimensions

from neurophase.errors import ParameterError, UnitMismatchError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "critical_temperature",
    "branches",
    "magnetisation",
    "susceptibility",
    "free_energy",
    "landau_free_energy",
    "spontaneous_magnetisation",
    "critical_isotherm",
    "coercive_field",
    "relaxation_time",
    "finite_size_variance",
    "finite_size_curie_weiss",
    "coercive_field_numeric",
    "as_reduced",
    "BRANCHES",
]

#: Accepted values of the ``branch`` argument.
BRANCHES = ("equilibrium", "upper", "lower")

# The bracketed Newton iteration of :func:`branches` needs about 6-40 steps; bisection alone
# would halve [-1, 1] to one unit in the last place in 64, so this bound is never the limit.
_MAX_ITERATIONS = 120
# Relative change (or bracket width) at which an iterate counts as converged: a few units in the
# last place, above the few-ulp jitter of g where it switches between its two forms.
_RELATIVE_TOLERANCE = 1e-14


# --------------------------------------------------------------------------------------
# argument checking
# --------------------------------------------------------------------------------------
def _reduced(value, name):
    """``value`` as a float array; dimensioned Brian2 quantities are refused."""
    if isinstance(value, Quantity) and get_dimensions(value) is not DIMENSIONLESS:
        raise UnitMismatchError(
            f"{name} has dimension {get_dimensions(value)!s}, but the mean-field functions work in "
            "reduced units: pass T, h and J as plain numbers in one common energy unit "
            f"(e.g. divide every energy by the coupling J or by k_B * T_reference)."
        )
    if isinstance(value, str):
        raise ParameterError(f"{name} must be a number or an array of numbers, not the string {value!r}.")
    array = np.asarray(value, dtype=float)
    if np.any(np.isnan(array)):
        raise ParameterError(f"{name} contains NaN; pass finite numbers.")
    return array


def as_reduced(value: ArrayLike, name: str) -> np.ndarray:
    """``value`` as a float array of reduced (dimensionless) numbers, checked.

    Parameters
    ----------
    value : float or array_like
        A number or array in reduced units (a dimensioned Brian2 quantity is refused).
    name : str
        Its name in error messages.

    Returns
    -------
    numpy.ndarray
        The values as floats.
    """
    return _reduced(value, name)


def _check_temperature(T, name="T"):
    T = _reduced(T, name)
    if np.any(T < 0):
        raise ParameterError(
            f"{name} = {T[T < 0].ravel()[:3]} is negative; a temperature must be >= 0 "
            "(T = 0 is allowed and gives the step-function limit)."
        )
    return T


def _check_coupling(J, z):
    J = _reduced(J, "J")
    z = _reduced(z, "z")
    if np.any(J < 0):
        raise ParameterError(
            f"J = {J[J < 0].ravel()[:3]} is negative; the Curie-Weiss membrane is ferromagnetic "
            "(cooperative channels): use J >= 0 (J = 0 means independent channels)."
        )
    if np.any(z <= 0):
        raise ParameterError(f"coupling_number z = {z[z <= 0].ravel()[:3]} must be positive (z = 1 for all-to-all).")
    return J, z


def _check_branch(branch):
    if branch not in BRANCHES:
        raise ParameterError(f"branch = {branch!r} is not one of {BRANCHES}.")
    return branch


def _finish(array):
    """0-d arrays become numpy scalars (so ``float(result)`` and printing are natural)."""
    array = np.asarray(array)
    return array[()] if array.ndim == 0 else array


# --------------------------------------------------------------------------------------
# elementary pieces, all safe at T = 0
# --------------------------------------------------------------------------------------
def _argument(M, T, h, K):
    """x = (K M + h) / T with the T = 0 limit (+-inf, or 0 when K M + h = 0)."""
    numerator = K * M + h
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x = numerator / T
    limit = np.where(numerator == 0, 0.0, np.copysign(np.inf, numerator))
    return np.where(T > 0, x, limit)


def _tanh_ratio(numerator, T):
    """tanh(numerator / T), equal to sign(numerator) at T = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.tanh(numerator / T)
    return np.where(T > 0, value, np.sign(numerator))


def _u_minus_tanh(u):
    """u - tanh(u), from its Taylor series for |u| < 0.05 (relative error < 1e-15)."""
    u = np.asarray(u, dtype=float)
    small = np.abs(u) < 0.05
    u2 = u * u
    series = u * u2 * (1 / 3 + u2 * (-2 / 15 + u2 * (17 / 315 + u2 * (-62 / 2835 + u2 * 1382 / 155925))))
    return np.where(small, series, u - np.tanh(u))


def _sech_squared(x):
    """sech(x)**2 = 1 - tanh(x)**2 without cancellation or overflow (0 at +-inf)."""
    decay = np.exp(-2.0 * np.abs(x))
    return 4.0 * decay / (1.0 + decay) ** 2


def _curvature_term(M, T, h, K):
    """q = (K / T) sech**2((K M + h)/T): the slope of the right-hand side of the self-consistency.

    Fixed points of the Glauber dynamics are stable where ``q < 1``; at T = 0 ``q`` is 0 on the
    saturated branches (|M| = 1) and +inf (K > 0) on the unstable middle branch.
    """
    x = _argument(M, T, h, K)
    s2 = _sech_squared(x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        q = K * s2 / T
    zero_temperature = np.where(s2 == 0, 0.0, np.where(K > 0, np.inf, 0.0))
    return np.where(T > 0, q, zero_temperature)


def _one_minus_m_squared(M, T, h, K):
    """1 - M**2 computed as sech**2 of the self-consistent argument (accurate as |M| -> 1)."""
    return _sech_squared(_argument(M, T, h, K))


def _residual(M, a, b):
    """``g(M) = M - tanh(a M + b)``, the self-consistency residual in reduced variables.

    Near ``T_c`` and ``h = 0`` it is evaluated as ``((1 - a) M - b) + (u - tanh u)``,
    ``u = a M + b``, with the second term from its series, so roots keep full relative precision
    (M0 ~ 1e-6 at T = T_c (1 - 1e-12), exactly 0 at h = 0, T >= T_c).
    """
    u = a * M + b
    near_critical = (np.abs(u) < 0.05) & (a < 2.0) & (np.abs(b) < 0.05)
    with np.errstate(over="ignore", invalid="ignore"):
        split = ((1.0 - a) * M - b) + _u_minus_tanh(np.where(near_critical, u, 0.0))
    return np.where(near_critical, split, M - np.tanh(u))


def _monotone_roots(a, b, low, high, direction, start=None):
    """The root of ``g`` (:func:`_residual`) in each bracket ``[low, high]`` where ``g`` is monotone.

    A bracketed Newton iteration (Press et al. 2007, *Numerical Recipes*, 3rd ed., sec. 9.4,
    "rtsafe"): a Newton step that would leave the current bracket is replaced by a bisection,
    so it converges quadratically near the root and can never leave the monotone piece. Only
    the unconverged entries are iterated. All arguments are flat float arrays of one length
    (``direction`` +1 where ``g`` increases on the piece, -1 where it decreases); ``g`` must
    change sign on every bracket. ``start`` (default: the bracket midpoints) is the first iterate.
    """
    M = 0.5 * (low + high) if start is None else np.clip(start, np.minimum(low, high), np.maximum(low, high))
    low, high = low.copy(), high.copy()
    index = np.arange(M.size)
    for _ in range(_MAX_ITERATIONS):
        if index.size == 0:
            break
        m, lo, hi, a_i, b_i = M[index], low[index], high[index], a[index], b[index]
        value = _residual(m, a_i, b_i)
        below = direction[index] * value < 0
        lo = np.where(below, m, lo)
        hi = np.where(below, hi, m)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            step = m - value / (1.0 - a_i * _sech_squared(a_i * m + b_i))
        inside = np.isfinite(step) & (step > np.minimum(lo, hi)) & (step < np.maximum(lo, hi))
        new = np.where(value == 0, m, np.where(inside, step, 0.5 * (lo + hi)))
        M[index], low[index], high[index] = new, lo, hi
        tolerance = _RELATIVE_TOLERANCE * np.maximum(np.abs(new), 1e-300)
        index = index[(np.abs(new - m) > tolerance) & (np.abs(hi - lo) > tolerance)]
    return M


def _reduced_couplings(T, h, K):
    """``a = K/T``, ``b = h/T`` and the mask of finite ones (``T > 0``); zeros elsewhere."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        slope = K / T
        offset = h / T
    finite = (T > 0) & np.isfinite(slope) & np.isfinite(offset)
    return np.where(finite, slope, 0.0), np.where(finite, offset, 0.0), finite


# --------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------
def critical_temperature(J: ArrayLike, z: ArrayLike = 1) -> np.ndarray | float:
    """Mean-field critical temperature ``T_c = z J`` (THEORY.md section 3; Weiss 1907).

    Parameters
    ----------
    J : float or array_like, reduced units
        Coupling (an energy), ``J >= 0``. With all-to-all ``J/N`` scaling, ``z = 1`` and
        ``T_c = J``.
    z : float or array_like, optional
        Coupling number (neighbours per channel, dimensionless, ``> 0``); default 1.

    Returns
    -------
    numpy.ndarray or numpy.float64, reduced units
        ``T_c = z J``, shape ``broadcast(J, z).shape`` (a scalar for scalar input).

    Raises
    ------
    ParameterError
        For ``J < 0``, ``z <= 0`` or NaN.
    UnitMismatchError
        For a Brian2 quantity with a dimension (the function works in reduced units).

    Examples
    --------
    >>> float(critical_temperature(1.0))
    1.0
    >>> float(critical_temperature(0.25, z=4))
    1.0
    """
    J, z = _check_coupling(J, z)
    return _finish(z * J)


def branches(T: ArrayLike, h: ArrayLike, J: ArrayLike, z: ArrayLike = 1) -> tuple[np.ndarray, np.ndarray]:
    """All self-consistent magnetisations and their stability.

    Solves ``M = tanh((z J M + h)/T)`` (Curie-Weiss; Stanley 1971, eq. 6.13) for every real root
    in [-1, 1]. Writing ``g(M) = M - tanh(a M + b)`` with ``a = zJ/T`` and ``b = h/T``,
    ``g' = 1 - a sech**2(a M + b)`` vanishes at most twice, at ``a M + b = +-arccosh(sqrt(a))``
    (only for ``a > 1``, i.e. ``T < T_c``); ``g`` is monotone between these points, so each of
    the (at most three) pieces holds at most one root, bracketed by a sign change and found by a
    vectorised bracketed Newton iteration (bisection where Newton would leave the bracket) to
    machine precision. This is the one solver of the self-consistency in neurophase: the derived
    activations of :mod:`neurophase.neurons` and the fits built on them call it. ``g`` is the free-energy derivative
    ``f'(M) = zJ g(M)`` divided by ``zJ``, so its roots are the stationary points of
    ``f(M) = zJ M**2/2 - T ln[2 cosh((zJ M + h)/T)]``.

    Stability is that of the Glauber dynamics ``tau0 dM/dt = -g(M)``: a root is stable where
    ``g'(M) > 0``, which for ``J > 0`` is the sign of ``f''(M) = zJ g'(M)`` (a local minimum of
    f). Because ``g(-1) < 0 < g(1)``, simple roots alternate stable / unstable / stable; a single
    root is always stable (also at ``T = T_c``, ``h = 0``, where ``g'(0) = 0`` but f is quartic);
    at a saddle-node (two roots, one double) the double root is marked unstable.

    Limits: ``T = 0`` gives ``M = sign(zJ M + h)``: ``+1`` if ``h > -zJ``, ``-1`` if ``h < zJ``,
    and the unstable middle root ``-h/(zJ)`` (the ``T -> 0`` limit of the middle branch) for
    ``|h| < zJ``; ``T = 0, J = 0, h = 0`` gives ``M = 0`` (the value of ``tanh(h/T)`` at
    ``h = 0`` for every ``T``). ``J = 0`` gives the single root ``tanh(h/T)``.

    Parameters
    ----------
    T : float or array_like, reduced units
        Temperature (``k_B`` times the temperature), ``T >= 0``.
    h : float or array_like, reduced units
        External field (an energy).
    J : float or array_like, reduced units
        Coupling, ``J >= 0``.
    z : float or array_like, optional
        Coupling number (dimensionless, ``> 0``); default 1.

    Returns
    -------
    M : numpy.ndarray
        Shape ``broadcast(T, h, J, z).shape + (3,)``: the roots in ascending order, NaN-padded.
    stable : numpy.ndarray of bool
        Same shape; True for stable roots (False for the NaN padding).

    Examples
    --------
    >>> M, stable = branches(0.5, 0.0, 1.0)
    >>> [round(float(value), 6) for value in M]
    [-0.957504, 0.0, 0.957504]
    >>> stable.tolist()
    [True, False, True]
    >>> M, stable = branches(2.0, 0.1, 1.0)    # above T_c: one root
    >>> int(np.isfinite(M).sum()), bool(stable[0])
    (1, True)
    """
    T = _check_temperature(T)
    h = _reduced(h, "h")
    J, z = _check_coupling(J, z)
    T, h, J, z = np.broadcast_arrays(T, h, J, z)
    K = z * J
    shape = T.shape

    a, b, finite = _reduced_couplings(T, h, K)

    def g(M):
        return _residual(M, a, b)

    # inflection points of g (edges of the monotone pieces), clipped to [-1, 1]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        turning = np.arccosh(np.sqrt(np.maximum(a, 1.0)))
        safe_a = np.where(a > 0, a, 1.0)
        left_edge = np.clip((-turning - b) / safe_a, -1.0, 1.0)
        right_edge = np.clip((turning - b) / safe_a, -1.0, 1.0)
    folded = a > 1.0
    left_edge = np.where(folded, left_edge, 1.0)
    right_edge = np.where(folded, right_edge, 1.0)

    ones = np.ones(shape)
    g_left, g_right = g(left_edge), g(right_edge)
    exists = np.stack([
        (g(-ones) <= 0) & (g_left >= 0),
        folded & (g_left > 0) & (g_right < 0),
        folded & (g_right <= 0) & (g(ones) >= 0),
    ], axis=-1)
    # the three monotone pieces [-1, left], [left, right], [right, 1], each with at most one
    # root, solved together by the bracketed Newton iteration
    low = np.stack([-ones, left_edge, right_edge], axis=-1)
    high = np.stack([left_edge, right_edge, ones], axis=-1)
    direction = np.broadcast_to(np.array([1.0, -1.0, 1.0]), low.shape)  # g up, down, up
    a3, b3 = np.broadcast_to(a[..., None], low.shape), np.broadcast_to(b[..., None], low.shape)
    roots = np.full(low.shape, np.nan)
    roots[exists] = _monotone_roots(a3[exists], b3[exists], low[exists], high[exists], direction[exists])

    # T = 0 (or overflowing ratios): the sign-function limit
    upper = np.where(h > -K, 1.0, np.nan)
    lower = np.where(h < K, -1.0, np.nan)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        middle = np.where(np.abs(h) < K, -h / np.where(K > 0, K, 1.0), np.nan)
    middle = np.where((K == 0) & (h == 0), 0.0, middle)
    zero_temperature = np.stack([lower, middle, upper], axis=-1)
    roots = np.where(finite[..., None], roots, zero_temperature)

    roots = np.sort(roots, axis=-1)  # NaN sorts last
    count = np.isfinite(roots).sum(axis=-1)
    curvature = _curvature_term(roots, T[..., None], h[..., None], K[..., None])
    with np.errstate(invalid="ignore"):
        slope_g = 1.0 - curvature
    stable = np.isfinite(roots)
    stable &= ~((count == 3)[..., None] & (np.arange(3) == 1))
    # two roots: the double (marginal) one has the smaller g'
    two = count == 2
    double_first = two & (np.nan_to_num(slope_g[..., 0], nan=-np.inf) < np.nan_to_num(slope_g[..., 1], nan=-np.inf))
    stable[..., 0] &= ~double_first
    stable[..., 1] &= ~(two & ~double_first)
    return roots, stable


def _select(T, h, J, z, branch):
    """The requested branch of :func:`branches`, with broadcast arrays T, h, K."""
    _check_branch(branch)
    T_c, h_c, J_c, z_c = np.broadcast_arrays(_check_temperature(T), _reduced(h, "h"), *_check_coupling(J, z))
    if np.all((T_c > 0) & (z_c * J_c < T_c)):
        # above T_c everywhere: one root per point, on the single increasing piece [-1, 1]
        a, b, _ = _reduced_couplings(T_c, h_c, z_c * J_c)
        flat = a.reshape(-1)
        offset = b.reshape(-1)
        ones = np.ones(flat.size)
        # start from the linearised root tanh(b / (1 - a)) (exact at a = 0)
        root = _monotone_roots(flat, offset, -ones, ones, ones,
                               start=np.tanh(offset / (1.0 - flat))).reshape(a.shape)
        return root, T_c, h_c, z_c * J_c
    roots, stable = branches(T, h, J, z)
    upper = np.max(np.where(stable, roots, -np.inf), axis=-1)
    lower = np.min(np.where(stable, roots, np.inf), axis=-1)
    T_b, h_b, J_b, z_b = np.broadcast_arrays(_reduced(T, "T"), _reduced(h, "h"), _reduced(J, "J"), _reduced(z, "z"))
    if branch == "upper":
        chosen = upper
    elif branch == "lower":
        chosen = lower
    else:
        # f(M; h) = f(-M; -h), and df/dh = -M at a stationary point: for h > 0 the positive
        # minimum is the deeper one (Curie-Weiss symmetry), for h < 0 the negative one.
        chosen = np.where(h_b < 0, lower, upper)
    return chosen, T_b, h_b, z_b * J_b


def magnetisation(T: ArrayLike, h: ArrayLike, J: ArrayLike, z: ArrayLike = 1,
                  branch: str = "equilibrium") -> np.ndarray | float:
    """Mean-field magnetisation ``M(T, h)`` on one branch of the Curie-Weiss self-consistency.

    Solves ``M = tanh((z J M + h)/T)`` (Weiss 1907; Stanley 1971, eq. 6.13) with
    :func:`branches` (or, above ``T_c`` everywhere, the same bracketed Newton iteration on the
    single root).

    Parameters
    ----------
    T, h, J : float or array_like, reduced units
        Temperature (``>= 0``), field and coupling (``>= 0``), energies in one common unit;
        broadcast together.
    z : float or array_like, optional
        Coupling number (dimensionless, ``> 0``), ``T_c = z J``; default 1.
    branch : {"equilibrium", "upper", "lower"}, optional
        ``"equilibrium"``: the global minimum of the free energy (for ``h > 0`` the upper,
        for ``h < 0`` the lower stable root; at ``h = 0`` below ``T_c`` the positive ``+M0``).
        ``"upper"`` / ``"lower"``: the largest / smallest stable root (they differ only for
        ``T < T_c`` and ``|h| < h_c(T)``: the two sides of the hysteresis loop).

    Returns
    -------
    numpy.ndarray or numpy.float64, dimensionless
        ``M`` in [-1, 1], shape ``broadcast(T, h, J, z).shape``.

    Examples
    --------
    >>> round(float(magnetisation(1.0, 0.3, 0.0)), 12) == round(float(np.tanh(0.3)), 12)
    True
    >>> [round(float(magnetisation(0.5, 0.1, 1.0, branch=b)), 4) for b in ("upper", "lower")]
    [0.973, -0.9303]
    """
    chosen, _, _, _ = _select(T, h, J, z, branch)
    return _finish(chosen)


def susceptibility(T: ArrayLike, h: ArrayLike, J: ArrayLike, z: ArrayLike = 1,
                   branch: str = "equilibrium") -> np.ndarray | float:
    """Gain ``chi = dM/dh`` along a branch (THEORY.md section 3).

    Differentiating the self-consistency gives (e.g. Stanley 1971, section 6.3)::

        chi = beta (1 - M**2) / (1 - beta z J (1 - M**2)),

    with ``1 - M**2 = sech**2((zJ M + h)/T)`` evaluated without cancellation. At ``h = 0`` above
    ``T_c`` this is the Curie-Weiss law ``chi = 1/(T - T_c)`` (gamma = 1); it is infinite at
    ``T = T_c, h = 0`` and at the spinodal ``|h| = h_c(T)``. At ``T = 0`` it is 0 on the saturated
    branches and infinite for ``J = 0, h = 0`` (the step of ``sign(h)``).

    Parameters
    ----------
    T, h, J : float or array_like, reduced units
        Temperature (``>= 0``), field and coupling (``>= 0``), as in :func:`magnetisation`.
    z : float or array_like, optional
        Coupling number (dimensionless), default 1.
    branch : {"equilibrium", "upper", "lower"}, optional
        The branch along which to differentiate (see :func:`magnetisation`).

    Returns
    -------
    numpy.ndarray or numpy.float64, reduced units (1 / energy)
        ``chi``, shape ``broadcast(T, h, J, z).shape``; ``inf`` at the critical point and the
        spinodals.

    Examples
    --------
    >>> float(susceptibility(3.0, 0.0, 1.0))   # 1/(T - T_c)
    0.5
    """
    M, T, h, K = _select(T, h, J, z, branch)
    s2 = _one_minus_m_squared(M, T, h, K)
    q = _curvature_term(M, T, h, K)
    with np.errstate(divide="ignore", invalid="ignore"):
        chi = s2 / (T * (1.0 - q))
        zero_temperature = np.where(s2 == 0, 0.0, np.inf)
    return _finish(np.where(T > 0, chi, zero_temperature))


def free_energy(M: ArrayLike, T: ArrayLike, h: ArrayLike, J: ArrayLike, z: ArrayLike = 1) -> np.ndarray | float:
    """Mean-field free energy per channel ``f(M) = zJ M**2/2 - T ln[2 cosh((zJ M + h)/T)]``.

    The variational (Bragg-Williams / Kac 1968) free energy of the Curie-Weiss model, THEORY.md
    section 3: its stationary points are the roots of :func:`branches`. Computed as
    ``zJ M**2/2 - |y| - T log1p(exp(-2|y|/T))`` with ``y = zJ M + h`` (no overflow), which tends
    to ``zJ M**2/2 - |zJ M + h|`` at ``T = 0``.

    Parameters
    ----------
    M : float or array_like, dimensionless
        Magnetisation (any real value; physical values lie in [-1, 1]).
    T, h, J : float or array_like, reduced units
        Temperature (``>= 0``), field and coupling (``>= 0``), as in :func:`magnetisation`.
    z : float or array_like, optional
        Coupling number (dimensionless), default 1.

    Returns
    -------
    numpy.ndarray or numpy.float64, reduced units (energy per channel)
        ``f(M)``, shape ``broadcast(M, T, h, J, z).shape``.

    Examples
    --------
    >>> bool(np.isclose(free_energy(0.0, 1.0, 0.0, 0.0), -np.log(2.0)))
    True
    """
    M = _reduced(M, "M")
    T = _check_temperature(T)
    h = _reduced(h, "h")
    J, z = _check_coupling(J, z)
    K = z * J
    y = K * M + h
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy_part = T * np.log1p(np.exp(-2.0 * np.abs(y) / T))
    entropy_part = np.where(T > 0, entropy_part, 0.0)
    return _finish(K * M**2 / 2.0 - np.abs(y) - entropy_part)


def landau_free_energy(M: ArrayLike, T: ArrayLike, h: ArrayLike, J: ArrayLike,
                       z: ArrayLike = 1) -> np.ndarray | float:
    """Landau expansion ``(T - T_c) M**2/2 + T_c M**4/12 - h M`` (THEORY.md section 3).

    The expansion of :func:`free_energy` in M and ``T - T_c`` to leading order (Landau 1937;
    the constant ``-T ln 2`` is dropped). Its stationary points give ``M0 = sqrt(3 (T_c - T)/T_c)``
    and the critical isotherm ``M = (3 h / T_c)**(1/3)``.

    Parameters
    ----------
    M : float or array_like, dimensionless
        Magnetisation.
    T, h, J : float or array_like, reduced units
        Temperature (``>= 0``), field and coupling (``>= 0``), as in :func:`magnetisation`.
    z : float or array_like, optional
        Coupling number (dimensionless), default 1; ``T_c = z J``.

    Returns
    -------
    numpy.ndarray or numpy.float64, reduced units (energy per channel)
        The Landau free energy, shape ``broadcast(M, T, h, J, z).shape``.

    Examples
    --------
    >>> float(landau_free_energy(1.0, 1.0, 0.0, 1.0))
    0.08333333333333333
    """
    M = _reduced(M, "M")
    T = _check_temperature(T)
    h = _reduced(h, "h")
    J, z = _check_coupling(J, z)
    critical = z * J
    return _finish((T - critical) * M**2 / 2.0 + critical * M**4 / 12.0 - h * M)


def spontaneous_magnetisation(T: ArrayLike, J: ArrayLike, z: ArrayLike = 1,
                              approximation: str = "exact") -> np.ndarray | float:
    """Spontaneous magnetisation ``M0(T)`` at ``h = 0`` (the positive root), 0 at and above ``T_c``.

    Parameters
    ----------
    T, J : float or array_like, reduced units
        Temperature (``>= 0``) and coupling (``>= 0``), as in :func:`magnetisation`.
    z : float or array_like, optional
        Coupling number (dimensionless), default 1.
    approximation : {"exact", "landau"}, optional
        ``"exact"``: the positive root of ``M = tanh(T_c M / T)``; ``"landau"``:
        ``sqrt(3 (T_c - T)/T_c)`` (THEORY.md section 3; mean-field beta = 1/2), valid as
        ``T -> T_c``.

    Returns
    -------
    numpy.ndarray or numpy.float64, dimensionless
        ``M0 >= 0``, shape ``broadcast(T, J, z).shape``.

    Examples
    --------
    >>> landau = spontaneous_magnetisation(0.99, 1.0, approximation="landau")
    >>> round(float(spontaneous_magnetisation(0.99, 1.0) / landau), 2)
    1.0
    >>> float(spontaneous_magnetisation(1.5, 1.0))
    0.0
    """
    T = _check_temperature(T)
    J, z = _check_coupling(J, z)
    critical = z * J
    if approximation == "exact":
        return _finish(np.where(T < critical, magnetisation(T, 0.0, J, z, branch="upper"), 0.0))
    if approximation == "landau":
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.sqrt(3.0 * np.maximum(critical - T, 0.0) / critical)
        return _finish(np.where(critical > 0, value, 0.0))
    raise ParameterError(f"approximation = {approximation!r} must be 'exact' or 'landau'.")


def critical_isotherm(h: ArrayLike, J: ArrayLike, z: ArrayLike = 1,
                      approximation: str = "exact") -> np.ndarray | float:
    """Magnetisation at ``T = T_c`` against the field: ``M ~ h**(1/delta)``, delta = 3.

    Parameters
    ----------
    h, J : float or array_like, reduced units
        Field and coupling (``>= 0``).
    z : float or array_like, optional
        Coupling number (dimensionless), default 1.
    approximation : {"exact", "landau"}, optional
        ``"exact"``: the equilibrium root of ``M = tanh(M + h/T_c)``; ``"landau"``:
        ``sign(h) (3 |h| / T_c)**(1/3)`` (THEORY.md section 3), valid as ``h -> 0``.

    Returns
    -------
    numpy.ndarray or numpy.float64, dimensionless
        ``M(h)`` at ``T = T_c``, shape ``broadcast(h, J, z).shape``.

    Examples
    --------
    >>> round(float(critical_isotherm(1e-6, 1.0) / critical_isotherm(1e-6, 1.0, approximation="landau")), 3)
    1.0
    """
    h = _reduced(h, "h")
    J, z = _check_coupling(J, z)
    critical = z * J
    if approximation == "exact":
        return magnetisation(critical, h, J, z)
    if approximation == "landau":
        if np.any(critical == 0):
            raise ParameterError(
                "The Landau critical isotherm needs T_c = zJ > 0; at J = 0 the exact isotherm is "
                "sign(h): use approximation='exact'."
            )
        return _finish(np.cbrt(3.0 * h / critical))
    raise ParameterError(f"approximation = {approximation!r} must be 'exact' or 'landau'.")


def coercive_field(T: ArrayLike, J: ArrayLike, z: ArrayLike = 1) -> np.ndarray | float:
    """Coercive (spinodal) field ``h_c(T) = zJ m* - T artanh(m*)``, ``m* = sqrt(1 - T/T_c)``.

    Below ``T_c`` the upper stable branch ends (saddle-node with the middle root) at
    ``h = -h_c`` and the lower one at ``h = +h_c``: there ``g = 0`` and ``g' = 0``, i.e.
    ``1 - M**2 = T/(zJ)`` and ``h = T artanh(M) - zJ M`` (THEORY.md section 3). 0 at and above
    ``T_c``; ``zJ`` at ``T = 0``.

    Parameters
    ----------
    T, J : float or array_like, reduced units
        Temperature (``>= 0``) and coupling (``>= 0``).
    z : float or array_like, optional
        Coupling number (dimensionless), default 1.

    Returns
    -------
    numpy.ndarray or numpy.float64, reduced units
        ``h_c >= 0``, shape ``broadcast(T, J, z).shape``.

    Examples
    --------
    >>> round(float(coercive_field(0.5, 1.0)), 4)
    0.2664
    >>> float(coercive_field(0.0, 2.0)), float(coercive_field(1.2, 1.0))
    (2.0, 0.0)
    """
    T = _check_temperature(T)
    J, z = _check_coupling(J, z)
    critical = z * J
    with np.errstate(divide="ignore", invalid="ignore"):
        m_star = np.sqrt(np.clip(1.0 - T / critical, 0.0, 1.0))
        value = critical * m_star - T * np.arctanh(m_star)
    value = np.where(T == 0, critical, value)
    return _finish(np.where(T < critical, np.maximum(value, 0.0), 0.0))


def _time_scale(tau0, name="tau0"):
    """(magnitude, unit) of a relaxation time given as a float or a Brian2 time quantity."""
    if isinstance(tau0, Quantity) and get_dimensions(tau0) is not DIMENSIONLESS:
        from brian2 import second

        if get_dimensions(tau0) is not get_dimensions(second):
            raise UnitMismatchError(
                f"{name} has dimension {get_dimensions(tau0)!s}; it must be a time (e.g. 1*ms) or a plain number."
            )
        magnitude, unit = np.asarray(tau0 / second, dtype=float), second
    else:
        magnitude, unit = _reduced(tau0, name), None
    if np.any(magnitude <= 0) or np.any(~np.isfinite(magnitude)):
        raise ParameterError(f"{name} must be positive and finite; got {tau0!r}.")
    return magnitude, unit


def relaxation_time(T: ArrayLike, J: ArrayLike, tau0: ArrayLike | Quantity, z: ArrayLike = 1, h: ArrayLike = 0.0,
                    branch: str = "equilibrium") -> np.ndarray | float | Quantity:
    """Linear relaxation time of the mean-field Glauber dynamics about a fixed point.

    Linearising ``tau0 dM/dt = -M + tanh((zJ M + h)/T)`` (Glauber 1963; Suzuki & Kubo 1968)
    about a stable root gives ``tau = tau0 / (1 - beta zJ (1 - M**2))``: above ``T_c`` at
    ``h = 0`` ``tau0 / (1 - T_c/T)`` (critical slowing-down, THEORY.md P12), infinite at
    ``T_c``, and below ``T_c`` ``tau0 / (1 - beta zJ (1 - M0**2))`` about the ordered state
    (``tau0`` at ``T = 0``).

    Parameters
    ----------
    T, J : float or array_like, reduced units
        Temperature (``>= 0``) and coupling (``>= 0``), as in :func:`magnetisation`.
    tau0 : float, array_like or Quantity (time)
        Microscopic flip time, ``> 0``: a plain number (any time unit) or a Brian2 time quantity.
    z : float or array_like, optional
        Coupling number (dimensionless), default 1.
    h : float or array_like, optional, reduced units
        Field (default 0).
    branch : {"equilibrium", "upper", "lower"}, optional
        Branch about which to linearise (see :func:`magnetisation`).

    Returns
    -------
    numpy.ndarray, numpy.float64 or Quantity (time)
        ``tau``, shape ``broadcast(T, J, z, h).shape``, in the unit of ``tau0`` (a Brian2
        quantity for a Brian2 ``tau0``); ``inf`` where the fixed point is marginal.

    Examples
    --------
    >>> float(relaxation_time(2.0, 1.0, 1.0))
    2.0
    >>> from brian2 import ms
    >>> print(relaxation_time(4.0, 1.0, 3 * ms))
    4. ms
    """
    magnitude, unit = _time_scale(tau0)
    M, T_b, h_b, K = _select(T, h, J, z, branch)
    q = _curvature_term(M, T_b, h_b, K)
    with np.errstate(divide="ignore"):
        tau = magnitude / (1.0 - q)
    tau = np.where(q >= 1.0, np.inf, tau)
    tau = _finish(tau)
    return tau * unit if unit is not None else tau


def finite_size_variance(T: ArrayLike, h: ArrayLike, J: ArrayLike, N: ArrayLike,
                         z: ArrayLike = 1) -> np.ndarray | float:
    """Variance of the magnetisation of N channels, ``Var(M) = T chi / N`` (THEORY.md P11).

    Fluctuation-dissipation for the Curie-Weiss model at large N (e.g. Ellis 1985, *Entropy,
    Large Deviations and Statistical Mechanics*, section IV.4): the Gaussian fluctuations of M
    about the equilibrium branch have variance ``T chi / N``. For ``J = 0`` this is
    ``(1 - M**2)/N`` (N independent channels; ``Var(p_open) = p (1 - p)/N``). Below ``T_c`` it is
    the variance inside one ordered well (switching between wells is exponentially rare in N).

    Parameters
    ----------
    T, h, J : float or array_like, reduced units
        Temperature (``>= 0``), field and coupling (``>= 0``), as in :func:`magnetisation`.
    N : int or array_like
        Number of channels, ``>= 1``.
    z : float or array_like, optional
        Coupling number (dimensionless), default 1.

    Returns
    -------
    numpy.ndarray or numpy.float64, dimensionless
        ``Var(M)`` on the equilibrium branch, shape ``broadcast(T, h, J, N, z).shape``; ``inf``
        at the critical point.

    Examples
    --------
    >>> bool(np.isclose(finite_size_variance(1.0, 0.5, 0.0, 100), (1 - np.tanh(0.5) ** 2) / 100))
    True
    """
    N = _reduced(N, "N")
    if np.any(N < 1):
        raise ParameterError(f"N = {N[N < 1].ravel()[:3]} must be >= 1 (the number of channels).")
    M, T_b, h_b, K = _select(T, h, J, z, "equilibrium")
    s2 = _one_minus_m_squared(M, T_b, h_b, K)
    q = _curvature_term(M, T_b, h_b, K)
    with np.errstate(divide="ignore", invalid="ignore"):
        T_chi = s2 / (1.0 - q)
    T_chi = np.where(q >= 1.0, np.inf, T_chi)
    T_chi = np.where(np.isnan(T_chi), 0.0, T_chi)  # T = 0 on a saturated branch
    return _finish(T_chi / N)


def finite_size_curie_weiss(N: int, temperature: float, field: float = 0.0, coupling: float = 1.0) -> dict[str, float]:
    """Exact stationary moments of M for ``N`` all-to-all channels (self-interaction excluded).

    The Boltzmann law of ``H = -(J/(2N)) (S**2 - N) - h S`` (``S = N M``) over the ``N + 1``
    values of ``S`` with their binomial multiplicities is summed exactly (the finite-N
    Curie-Weiss model: R. Botet, R. Jullien and P. Pfeuty 1982, Phys. Rev. Lett. 49:478;
    R. S. Ellis 1985, Entropy, Large Deviations and Statistical Mechanics, ch. IV). It is
    an implementation independent of the simulation, used to quantify finite-N biases.

    Parameters
    ----------
    N : int
        Number of channels (``>= 1``).
    temperature : float, reduced units
        ``T > 0`` (not checked here: ``T = 0`` divides by zero).
    field : float, optional, reduced units
        External field ``h``; default 0.
    coupling : float, optional, reduced units
        All-to-all coupling ``J`` (the model is ``J/N`` per pair); default 1.

    Returns
    -------
    dict of str to float
        ``mean``, ``variance``, ``mean_abs``, ``variance_abs`` of M (dimensionless).

    Examples
    --------
    >>> moments = finite_size_curie_weiss(100, 2.0, 0.5, coupling=0.0)
    >>> round(moments["mean"], 10) == round(float(np.tanh(0.25)), 10)
    True
    """
    from scipy.special import gammaln

    N = int(N)
    level = np.arange(N + 1)
    total = 2.0 * level - N
    log_weight = (gammaln(N + 1) - gammaln(level + 1) - gammaln(N - level + 1)
                  + (coupling * (total**2 - N) / (2.0 * N) + field * total) / temperature)
    weight = np.exp(log_weight - log_weight.max())
    weight /= weight.sum()
    magnetisation = total / N
    mean = float(np.sum(weight * magnetisation))
    mean_abs = float(np.sum(weight * np.abs(magnetisation)))
    return {
        "mean": mean,
        "variance": float(np.sum(weight * (magnetisation - mean) ** 2)),
        "mean_abs": mean_abs,
        "variance_abs": float(np.sum(weight * (np.abs(magnetisation) - mean_abs) ** 2)),
    }


def coercive_field_numeric(T: float, J: float = 1.0) -> float:
    """``h_c(T)`` as the local maximum of ``H(M) = T artanh(M) - J M`` on ``(-1, 0)``.

    The stationary points of the Curie-Weiss dynamics at field ``h`` solve ``h = H(M)``; the
    lower branch exists while ``h`` is below the local maximum of ``H`` (the saddle-node), found
    here by bounded scalar minimisation (``scipy.optimize.minimize_scalar``, Brent's bounded
    method), independently of the closed form ``m*`` of :func:`coercive_field`.

    Parameters
    ----------
    T : float, reduced units
        Temperature.
    J : float, optional, reduced units
        The coupling ``zJ`` (``T_c = J``); default 1.

    Returns
    -------
    float, reduced units
        ``h_c``; 0 unless ``0 < T < J``, i.e. also 0 at ``T = 0`` where the closed form gives
        ``zJ``: the function is meant for ``0 < T < T_c``.

    Examples
    --------
    >>> round(coercive_field_numeric(0.5, 1.0), 4)
    0.2664
    """
    from scipy import optimize

    if not 0 < T < J:
        return 0.0
    result = optimize.minimize_scalar(lambda M: -(T * np.arctanh(M) - J * M), bounds=(-1 + 1e-15, 0.0),
                                      method="bounded", options={"xatol": 1e-13})
    return float(-result.fun)


def __getattr__(name):
    """Re-export the dynamics and exponent helpers (imported lazily: they import this module)."""
    from neurophase.meanfield import dynamics, exponents

    for module in (dynamics, exponents):
        if name in module.__all__:
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
