"""What a fitted model predicts for the f-I curve of its cell (F2), by the path its kind allows.

Functions
---------
predict_fi
    Spike rate over a step of duration ``T`` from rest, for the given currents, and the path
    used: ``"closed form"`` (the leaky integrate-and-fire family: nothing simulated),
    ``"fitted f-I"`` (integrate-and-fire models without a closed form, e.g. AdEx: the fitted
    model's step response simulated by :func:`neurophase.micro.neurone.firing_curve`; a fitted f-I
    is NOT a mean-field derivation), or ``"derived threshold"`` (conductance models with a gate:
    the fold of the coarse-grained membrane, :func:`neurophase.mapping.coarse_grain`, THEORY.md
    6a, predicts the rheobase; its derived activation is an open fraction, not a rate, so the rate
    itself is not predicted on this path).
lif_step_count
    Closed-form spike count of a LIF neurone over a step from rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from neurophase.units import to_magnitude

if TYPE_CHECKING:
    from brian2.units.fundamentalunits import Quantity
    from numpy.typing import ArrayLike

    from neurophase.micro.modelfile import Model

__all__ = ["predict_fi", "lif_step_count", "is_lif"]


def is_lif(model: Model) -> bool:
    """True for the leaky integrate-and-fire structure of the library model (and its fitted copies).

    Parameters
    ----------
    model : Model
        A loaded model file (a library model or a fitted copy of one).

    Returns
    -------
    bool
        It has ``tau_m``, ``R_m``, ``E_L``, ``V_threshold``, ``V_reset``, a reset and no ``exp(``.
    """
    names = {"tau_m", "R_m", "E_L", "V_threshold", "V_reset"}
    return names <= set(model.parameters) and "exp(" not in model.equations and model.reset is not None


def lif_step_count(current: ArrayLike, duration: float, tau_m: float, resistance: float, rest: float,
                   threshold: float, reset: float, refractory: float) -> np.ndarray:
    """Spikes of a LIF neurone in a step of ``duration`` from rest (all plain SI-consistent numbers).

    The potential relaxes to ``rest + R I`` with time constant ``tau_m``; starting at ``rest``
    the first threshold crossing is at ``t1 = tau_m ln(R I / (R I - (threshold - rest)))``, and
    each later one a period ``P = refractory + tau_m ln((R I + rest - reset) / (R I + rest -
    threshold))`` after the previous (Stein 1965, Biophys. J. 5:173; Gerstner et al. 2014,
    *Neuronal Dynamics*, Eq. 1.11 with a reset potential). The count is ``1 + floor((T - t1) / P)``
    when ``t1 < T``, else 0.

    Parameters
    ----------
    current : float or array_like, A
        Step currents ``I``.
    duration : float, s
        ``T``.
    tau_m : float, s
        Membrane time constant.
    resistance : float, ohm
        ``R``.
    rest, threshold, reset : float, V
        Resting, threshold and reset potentials.
    refractory : float, s
        Absolute refractory period.

    Returns
    -------
    numpy.ndarray
        Spike counts (float, whole numbers), the shape of ``current``.

    Examples
    --------
    >>> int(lif_step_count(300e-12, 0.5, 0.02, 1e8, -0.07, -0.05, -0.07, 0.002)[()])  # P = 2 + 20 ln 3 ms
    20
    """
    drive = np.asarray(current, dtype=float) * resistance
    gap = threshold - rest
    with np.errstate(divide="ignore", invalid="ignore"):
        first = tau_m * np.log(drive / (drive - gap))
        period = refractory + tau_m * np.log((drive + rest - reset) / (drive + rest - threshold))
        count = np.where((drive > gap) & (first < duration), 1 + np.floor((duration - first) / period), 0)
    return np.where(np.isfinite(count), count, 0)


def predict_fi(model: Model, currents: ArrayLike, duration: float, dt: Quantity | None = None) -> dict[str, Any]:
    """Predicted spike rates (Hz) over a step of ``duration`` from rest, and the path.

    Parameters
    ----------
    model : Model
        The fitted model.
    currents : array_like, pA
        Step currents in pA.
    duration : float, s
        Step duration in seconds.
    dt : Quantity (time), optional
        Time step of a simulated f-I.

    Returns
    -------
    dict
        ``path`` (see the module docstring), ``rates`` (Hz, or None on the threshold path),
        ``rheobase`` (pA: the derived fold current on the threshold path, else the smallest
        current predicted to fire, NaN if none), ``note``.
    """
    from brian2 import pA, second

    currents = np.asarray(currents, dtype=float)
    if is_lif(model):
        p = model.parameters
        refractory = float(to_magnitude(model.refractory, "second")) if model.refractory is not None and not \
            isinstance(model.refractory, str) else 0.0
        counts = lif_step_count(currents * 1e-12, duration, float(p["tau_m"] / second), float(to_magnitude(
            p["R_m"], "ohm")), float(to_magnitude(p["E_L"], "volt")), float(to_magnitude(p["V_threshold"], "volt")),
            float(to_magnitude(p["V_reset"], "volt")), refractory)
        rates = counts / duration
        return {"path": "closed form", "rates": rates, "rheobase": _rheobase(currents, rates),
                "note": "closed-form LIF spike count over the step from rest (Stein 1965), from the fitted "
                        "parameters; nothing simulated"}
    try:
        from neurophase.mapping.coarse_graining import coarse_grain

        membrane = coarse_grain(model)
    except Exception:  # noqa: BLE001 - no gate to coarse-grain: integrate-and-fire models
        membrane = None
    if membrane is not None and membrane.fold_up is not None:
        fold = float(membrane.fold_up[0]) * float(to_magnitude(1.0 * _unit(model.input_unit), "pA"))
        return {"path": "derived threshold", "rates": None, "rheobase": fold,
                "note": "fold of the coarse-grained membrane of the fitted model (THEORY.md 6a): the derived "
                        "spike threshold, compared with the recorded rheobase"}
    from neurophase.micro.neurone import firing_curve

    dataset = firing_curve(model, currents * pA, duration=duration * second, dt=dt, progress=False)
    rates = dataset["spike_count"].values[:, 0] / duration
    return {"path": "fitted f-I", "rates": rates, "rheobase": _rheobase(currents, rates),
            "note": "f-I of the fitted model simulated from its rest state (firing_curve, step protocol); "
                    "a fitted f-I, not a mean-field derivation (the model has no gate to coarse-grain)"}


def _unit(text):
    from neurophase.units import parse_unit

    return parse_unit(text)


def _rheobase(currents, rates):
    firing = np.asarray(rates) > 0
    return float(np.min(currents[firing])) if firing.any() else np.nan
