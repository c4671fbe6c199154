"""An exact binomial sampler with a per-call ``n`` and ``p``, as a Brian2 function.

Brian2's :class:`brian2.input.binomial.BinomialFunction` fixes ``n`` and ``p`` when the
function is created and replaces the binomial by a normal law when ``n p`` is large. The exact
channel-state simulations of :mod:`neurophase.micro.channels` need a binomial whose ``n`` (the
number of channels in a kinetic state) and ``p`` (a transition probability over one time step,
which depends on the voltage) change at every step and for every neurone, drawn from the exact
law at every ``n p``. ``binomial_exact(n, p)`` (:func:`binomial_function`, or the namespace
entry of :func:`binomial_namespace`) is that function, usable in any Brian2 expression or
statement, with implementations for the numpy and Cython targets of the runtime device and for
C++ (the ``cpp_standalone`` device), all drawing their uniform numbers from Brian2's own random
generator (so ``brian2.seed`` makes runs reproducible).

Algorithm
---------
With ``P = min(p, 1 - p)`` (and ``n - X`` returned when ``p > 1/2``):

* ``n <= 8``: the sum of ``n`` Bernoulli(``P``) trials (the definition of the law).
* otherwise, ``n P < 10``: sequential inversion of the cumulative distribution from ``X = 0``
  (L. Devroye (1986), *Non-Uniform Random Variate Generation*, Springer, X.4.3; the same
  loop as numpy's ``random_binomial_inversion``), expected ``n P + 1`` steps. The search
  restarts (with a fresh uniform) if it passes ``n P + 10 sqrt(n P (1 - P) + 1)``, a guard
  against rounding that conditions away a tail mass below 1e-12.
* ``n P >= 10``: BTRS, the transformed rejection with squeeze of W. Hormann (1993), *The
  generation of binomial random variates*, J. Statist. Comput. Simul. 46:101-110, Algorithm
  BTRS (the acceptance test compares ``log V`` with the exact log ratio of binomial
  probabilities ``log f(k) - log f(m)`` via ``lgamma``, so the output law is the binomial law
  exactly, up to double-precision rounding). Expected cost bounded in ``n``.

Both branches are exact algorithms (no normal or Poisson approximation). ``n <= 0`` or
``p <= 0`` (or ``p`` NaN) gives 0, ``p >= 1`` gives ``n``.

Functions and objects
---------------------
binomial_function
    The Brian2 :class:`~brian2.core.functions.Function` ``binomial_exact(n, p)``.
binomial_namespace
    ``{"binomial_exact": binomial_exact}``, to add to a Brian2 namespace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from brian2.core.functions import Function

__all__ = ["binomial_function", "binomial_namespace", "INVERSION_LIMIT", "BERNOULLI_LIMIT"]

#: Below this mean ``n min(p, 1 - p)`` the sampler inverts the distribution; above, BTRS.
INVERSION_LIMIT = 10.0
#: Up to this ``n`` the sampler counts ``n`` Bernoulli trials (cheaper than one ``exp``).
BERNOULLI_LIMIT = 8

_CPP_CODE = """
#include <cmath>
#include <cstdint>
#include <algorithm>
static int32_t _neurophase_binomial_inversion(int32_t n, double P, const int _vectorisation_idx)
{
    const double q = 1.0 - P;
    const double qn = std::exp(n * std::log1p(-P));
    const double mean = n * P;
    const double bound = std::min((double)n, mean + 10.0 * std::sqrt(mean * q + 1.0));
    int32_t X = 0;
    double px = qn;
    double U = _rand(_vectorisation_idx);
    while (U > px)
    {
        X++;
        if (X > bound)
        {
            X = 0;
            px = qn;
            U = _rand(_vectorisation_idx);
        }
        else
        {
            U -= px;
            px = ((n - X + 1) * P * px) / (X * q);
        }
    }
    return X;
}
static int32_t _neurophase_binomial_btrs(int32_t n, double P, const int _vectorisation_idx)
{
    const double q = 1.0 - P;
    const double spq = std::sqrt(n * P * q);
    const double b = 1.15 + 2.53 * spq;
    const double a = -0.0873 + 0.0248 * b + 0.01 * P;
    const double c = n * P + 0.5;
    const double v_r = 0.92 - 4.2 / b;
    const double alpha = (2.83 + 5.1 / b) * spq;
    const double lpq = std::log(P / q);
    const double m = std::floor((n + 1) * P);
    const double h = std::lgamma(m + 1.0) + std::lgamma(n - m + 1.0);
    while (true)
    {
        const double U = _rand(_vectorisation_idx) - 0.5;
        double V = _rand(_vectorisation_idx);
        const double us = 0.5 - std::fabs(U);
        if (us <= 0.0)
            continue;
        const double k = std::floor((2.0 * a / us + b) * U + c);
        if (k < 0.0 || k > n)
            continue;
        if (us >= 0.07 && V <= v_r)
            return (int32_t)k;
        V = std::log(V * alpha / (a / (us * us) + b));
        if (V <= h - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) + (k - m) * lpq)
            return (int32_t)k;
    }
}
int32_t _neurophase_binomial(int32_t n, double p, const int _vectorisation_idx)
{
    if (n <= 0 || !(p > 0.0))
        return 0;
    if (p >= 1.0)
        return n;
    const bool flip = p > 0.5;
    const double P = flip ? 1.0 - p : p;
    int32_t X = 0;
    if (n <= %BERNOULLI%)
    {
        for (int32_t trial = 0; trial < n; trial++)
            X += (_rand(_vectorisation_idx) < P);
    }
    else if (n * P < %LIMIT%)
        X = _neurophase_binomial_inversion(n, P, _vectorisation_idx);
    else
        X = _neurophase_binomial_btrs(n, P, _vectorisation_idx);
    return flip ? n - X : X;
}
"""

_CYTHON_CODE = """
from libc.math cimport lgamma as _neurophase_lgamma

cdef int32_t _neurophase_binomial_inversion(int32_t n, double P, int _vectorisation_idx):
    cdef double q = 1.0 - P
    cdef double qn = exp(n * log1p(-P))
    cdef double mean = n * P
    cdef double bound = min(<double>n, mean + 10.0 * sqrt(mean * q + 1.0))
    cdef int32_t X = 0
    cdef double px = qn
    cdef double U = _rand(_vectorisation_idx)
    while U > px:
        X += 1
        if X > bound:
            X = 0
            px = qn
            U = _rand(_vectorisation_idx)
        else:
            U -= px
            px = ((n - X + 1) * P * px) / (X * q)
    return X

cdef int32_t _neurophase_binomial_btrs(int32_t n, double P, int _vectorisation_idx):
    cdef double q = 1.0 - P
    cdef double spq = sqrt(n * P * q)
    cdef double b = 1.15 + 2.53 * spq
    cdef double a = -0.0873 + 0.0248 * b + 0.01 * P
    cdef double c = n * P + 0.5
    cdef double v_r = 0.92 - 4.2 / b
    cdef double alpha = (2.83 + 5.1 / b) * spq
    cdef double lpq = log(P / q)
    cdef double m = floor((n + 1) * P)
    cdef double h = _neurophase_lgamma(m + 1.0) + _neurophase_lgamma(n - m + 1.0)
    cdef double U, V, us, k
    while True:
        U = _rand(_vectorisation_idx) - 0.5
        V = _rand(_vectorisation_idx)
        us = 0.5 - fabs(U)
        if us <= 0.0:
            continue
        k = floor((2.0 * a / us + b) * U + c)
        if k < 0.0 or k > n:
            continue
        if us >= 0.07 and V <= v_r:
            return <int32_t>k
        V = log(V * alpha / (a / (us * us) + b))
        if V <= h - _neurophase_lgamma(k + 1.0) - _neurophase_lgamma(n - k + 1.0) + (k - m) * lpq:
            return <int32_t>k

cdef int32_t _neurophase_binomial(int32_t n, double p, int _vectorisation_idx):
    cdef bint flip
    cdef double P
    cdef int32_t X = 0
    cdef int32_t trial
    if n <= 0 or not (p > 0.0):
        return 0
    if p >= 1.0:
        return n
    flip = p > 0.5
    P = 1.0 - p if flip else p
    if n <= %BERNOULLI%:
        for trial in range(n):
            if _rand(_vectorisation_idx) < P:
                X += 1
    elif n * P < %LIMIT%:
        X = _neurophase_binomial_inversion(n, P, _vectorisation_idx)
    else:
        X = _neurophase_binomial_btrs(n, P, _vectorisation_idx)
    return n - X if flip else X
"""


def _numpy_binomial(n, p, _vectorisation_idx):
    """numpy target: numpy's exact sampler (inversion / BTPE) on Brian2's seeded global RNG."""
    try:
        size = len(_vectorisation_idx)
    except TypeError:
        size = int(_vectorisation_idx)
    counts = np.broadcast_to(np.asarray(n, dtype=np.int64), (size,))
    probabilities = np.broadcast_to(np.asarray(p, dtype=float), (size,))
    valid = (counts > 0) & (probabilities > 0)  # False for NaN, as in the compiled versions
    result = np.zeros(size, dtype=np.int32)
    if np.any(valid):
        result[valid] = np.random.binomial(counts[valid], np.minimum(probabilities[valid], 1.0))
    return result


def _make_function():
    from brian2 import Function
    from brian2.codegen.generators.cpp_generator import CPPCodeGenerator
    from brian2.codegen.generators.cython_generator import CythonCodeGenerator
    from brian2.core.functions import DEFAULT_FUNCTIONS

    function = Function(
        pyfunc=lambda n, p: _numpy_binomial(n, p, 1)[0],
        arg_units=[1, 1], arg_names=["n", "p"], return_unit=1,
        arg_types=["integer", "float"], return_type="integer",
        stateless=False, auto_vectorise=True,
    )
    function.implementations.add_implementation("numpy", _numpy_binomial)
    limit = repr(float(INVERSION_LIMIT))
    small = str(int(BERNOULLI_LIMIT))
    dependencies = {"_rand": DEFAULT_FUNCTIONS["rand"]}
    function.implementations.add_implementation(
        CythonCodeGenerator, code=_CYTHON_CODE.replace("%LIMIT%", limit).replace("%BERNOULLI%", small),
        name="_neurophase_binomial", dependencies=dependencies)
    function.implementations.add_implementation(
        CPPCodeGenerator, code={"support_code": _CPP_CODE.replace("%LIMIT%", limit).replace("%BERNOULLI%", small)},
        name="_neurophase_binomial", dependencies=dependencies)
    return function


class _LazyFunction:
    """Creates the Brian2 Function on first use, so importing this module stays light."""

    def __init__(self):
        self._function = None

    def get(self):
        if self._function is None:
            self._function = _make_function()
        return self._function


_LAZY = _LazyFunction()


def binomial_function() -> Function:
    """The Brian2 :class:`~brian2.core.functions.Function` ``binomial_exact(n, p)`` (created once).

    Returns
    -------
    brian2.core.functions.Function
        ``binomial_exact(n, p)``: an integer draw from the binomial law of ``n`` trials with
        success probability ``p`` (algorithms in the module docstring: Devroye 1986, X.4.3;
        Hormann 1993, BTRS), with numpy, Cython and C++ implementations.
    """
    return _LAZY.get()


def binomial_namespace() -> dict[str, Function]:
    """``{"binomial_exact": <Brian2 Function>}`` for a Brian2 namespace.

    Returns
    -------
    dict of str to brian2.core.functions.Function
        The single entry ``"binomial_exact"``: :func:`binomial_function`.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2 import NeuronGroup, Network, ms, prefs, seed
    >>> prefs.codegen.target = "numpy"
    >>> seed(1)
    >>> group = NeuronGroup(4, "k : integer", namespace=binomial_namespace())
    >>> group.k = "binomial_exact(10 * (i + 1), 0.5 * i)"
    >>> group.k[:].tolist()[0], group.k[:].tolist()[3]   # p = 0 gives 0; p = 1.5 clips to n
    (0, 40)
    >>> prefs.codegen.target = "auto"
    """
    return {"binomial_exact": _LAZY.get()}
