"""Poisson conductance input: synaptic bombardment of every grid neurone.

Each neurone receives excitatory and inhibitory synaptic conductances driven by independent
Poisson spike trains (the aggregate of many independent presynaptic neurones is again a
Poisson process whose rate is the sum of theirs):

    dg_e/dt = -g_e / tau_e,   g_e -> g_e + w_e at each excitatory event (rate nu_e)
    dg_i/dt = -g_i / tau_i,   g_i -> g_i + w_i at each inhibitory event (rate nu_i)
    I_syn   = g_e (E_e - v) + g_i (E_i - v)

which is added to the model's input current (A. Destexhe, M. Rudolph, J.-M. Fellous &
T. J. Sejnowski (2001), Neuroscience 107:13-24, for the conductance picture; R. Brette et al.
(2007), J. Comput. Neurosci. 23:349-398, COBA benchmark, for the default synaptic time constants
and reversal potentials: tau_e = 5 ms, tau_i = 10 ms, E_e = 0 mV, E_i = -80 mV).

Events are drawn per time step: the number of events of a Poisson process of rate ``nu`` in a
step ``dt`` is Poisson(``nu dt``) distributed, so ``g += w * poisson(nu * dt)`` at the start of
each step is exact for the input process (no rate ceiling, unlike a Bernoulli draw). By
Campbell's theorem (N. Campbell 1909; S. O. Rice 1944, Bell Syst. Tech. J. 23:282, section
1.4) the conductance then has mean ``nu w tau`` and variance ``nu w**2 tau / 2``.

Classes
-------
PoissonConductance
    The input's rates, weights, time constants and reversal potentials (Brian2 quantities).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from neurophase.errors import ParameterError, UnitMismatchError
from neurophase.units import dimension_text, parse_unit, to_magnitude

if TYPE_CHECKING:
    from brian2.units.fundamentalunits import Quantity

__all__ = ["PoissonConductance", "poisson_conductance"]

#: Brian2 code run at the start of every step (per neurone): the synaptic events of the step.
EVENT_CODE = ("grid_g_exc += grid_w_exc * poisson(grid_rate_exc * dt)\n"
              "grid_g_inh += grid_w_inh * poisson(grid_rate_inh * dt)")


@dataclasses.dataclass(frozen=True)
class PoissonConductance:
    """Poisson conductance input (see the module docstring).

    Each field is a Brian2 quantity or a string with its unit (``"5 ms"``).

    Parameters
    ----------
    rate_exc : Quantity (frequency) or None
        Total excitatory event rate ``nu_e``. ``None`` when the grid sweeps it (``inputs`` in Hz).
    weight_exc : Quantity (conductance, or conductance per area)
        Conductance jump per excitatory event ``w_e``, in the model's input unit per volt (``nS``
        for a current in pA or nA, ``mS/cm**2`` for a current density in uA/cm2).
    tau_exc, reversal_exc : Quantity (time), Quantity (voltage)
        Decay time (default 5 ms) and reversal potential (default 0 mV).
    rate_inh, weight_inh, tau_inh, reversal_inh : Quantity (frequency, conductance, time, voltage)
        The same for inhibition (defaults 0 Hz, 0, 10 ms, -80 mV).

    Examples
    --------
    >>> from brian2 import Hz, nS
    >>> PoissonConductance(rate_exc=2000 * Hz, weight_exc=0.5 * nS).describe("pA")
    'Poisson conductances: exc 2000 Hz x 0.5 nS, tau 5 ms, E 0 mV; inh 0 Hz x 0 nS, tau 10 ms, E -80 mV'
    """

    rate_exc: Quantity | str | None = None
    weight_exc: Quantity | str | None = None
    tau_exc: Quantity | str = "5 ms"
    reversal_exc: Quantity | str = "0 mV"
    rate_inh: Quantity | str = "0 Hz"
    weight_inh: Quantity | str | None = None
    tau_inh: Quantity | str = "10 ms"
    reversal_inh: Quantity | str = "-80 mV"

    def conductance_unit(self, input_unit: str) -> str:
        """The unit string of the weights for a model whose input is in ``input_unit``.

        Parameters
        ----------
        input_unit : str
            The model's input unit (e.g. ``"pA"``, ``"uA/cm**2"``).

        Returns
        -------
        str
            ``"nS"`` for a current, ``"mS/cm**2"`` for a current density, otherwise
            ``"(input_unit)/volt"``.
        """
        return {"pA": "nS", "nA": "nS", "amp": "nS", "uA/cm**2": "mS/cm**2",
                "uA/cm^2": "mS/cm**2"}.get(input_unit, f"({input_unit})/volt")

    def magnitudes(self, input_unit: str) -> dict[str, Any]:
        """Every field as a float in a fixed unit (Hz, the conductance unit, ms, mV).

        Parameters
        ----------
        input_unit : str
            The model's input unit (fixes the conductance unit, :meth:`conductance_unit`).

        Returns
        -------
        dict
            ``rate_exc`` (Hz, None when swept), ``weight_exc``, ``weight_inh`` (the conductance
            unit), ``tau_exc``, ``tau_inh`` (ms), ``reversal_exc``, ``reversal_inh`` (mV),
            ``rate_inh`` (Hz) as floats, and ``conductance_unit`` (str).

        Raises
        ------
        UnitMismatchError
            A field in the wrong dimension (the message names the field and the expected unit).
        ParameterError
            A negative rate, weight or time constant.
        """
        conductance = self.conductance_unit(input_unit)
        expected = parse_unit(input_unit) / parse_unit("volt")
        if not (parse_unit(conductance) / expected).dim.is_dimensionless:  # pragma: no cover
            conductance = f"({input_unit})/volt"
        values = {}
        for name, unit in (("rate_exc", "Hz"), ("weight_exc", conductance), ("tau_exc", "ms"),
                           ("reversal_exc", "mV"), ("rate_inh", "Hz"), ("weight_inh", conductance),
                           ("tau_inh", "ms"), ("reversal_inh", "mV")):
            value = getattr(self, name)
            if value is None:
                values[name] = None if name == "rate_exc" else 0.0
                continue
            try:
                values[name] = float(to_magnitude(value, unit, name=name))
            except UnitMismatchError as error:
                raise UnitMismatchError(
                    f"Poisson input: {name} = {value!s} is not in {unit} (the model's input is in "
                    f"{input_unit}, so conductance weights are in {conductance}). {error}"
                ) from error
        if values["weight_exc"] == 0.0 and self.weight_exc is None:
            raise ParameterError(
                "Poisson input needs weight_exc, the conductance jump per excitatory event, e.g. "
                f"`0.5 * nS` (in {conductance} for this model).")
        if values["rate_inh"] > 0 and self.weight_inh is None:
            raise ParameterError(
                f"Poisson input: rate_inh = {values['rate_inh']:g} Hz needs weight_inh, the conductance "
                f"jump per inhibitory event, e.g. `0.5 * nS` (in {conductance} for this model).")
        for name in ("rate_exc", "weight_exc", "rate_inh", "weight_inh"):
            if values[name] is not None and values[name] < 0:
                raise ParameterError(f"Poisson input: {name} must not be negative; got {values[name]:g}.")
        for name in ("tau_exc", "tau_inh"):
            if values[name] <= 0:
                raise ParameterError(f"Poisson input: {name} must be positive; got {values[name]:g} ms.")
        values["conductance_unit"] = conductance
        return values

    def describe(self, input_unit: str, swept: bool = False) -> str:
        """One line for the provenance.

        Parameters
        ----------
        input_unit : str
            The model's input unit.
        swept : bool
            Whether the grid sweeps the excitatory rate (it is then written "swept (input)").

        Returns
        -------
        str
            Rates, weights, time constants and reversal potentials with their units.
        """
        v = self.magnitudes(input_unit)
        unit = v["conductance_unit"]
        rate = "swept (input)" if swept or v["rate_exc"] is None else f"{v['rate_exc']:g} Hz"
        return (f"Poisson conductances: exc {rate} x {v['weight_exc']:g} {unit}, tau {v['tau_exc']:g} ms, "
                f"E {v['reversal_exc']:g} mV; inh {v['rate_inh']:g} Hz x {v['weight_inh']:g} {unit}, "
                f"tau {v['tau_inh']:g} ms, E {v['reversal_inh']:g} mV")

    def equations(self, input_unit: str, voltage: str) -> tuple[list[str], str]:
        """Brian2 equation lines and the current term (in the input unit) they add.

        The conductances decay as ``dg/dt = -g/tau`` and drive ``I_syn = g_e (E_e - v) +
        g_i (E_i - v)`` (Destexhe et al. 2001, Neuroscience 107:13, the conductance picture).

        Parameters
        ----------
        input_unit : str
            The model's input unit (the conductances are in it per volt).
        voltage : str
            Name of the model's membrane-potential variable.

        Returns
        -------
        lines : list of str
            Brian2 equation lines of ``grid_g_exc``, ``grid_g_inh`` and ``grid_rate_exc``.
        current : str
            The synaptic current expression, in ``input_unit``.
        """
        unit_text = dimension_text((parse_unit(input_unit) / parse_unit("volt")).dim)
        lines = [f"dgrid_g_exc/dt = -grid_g_exc / grid_tau_exc : {unit_text}",
                 f"dgrid_g_inh/dt = -grid_g_inh / grid_tau_inh : {unit_text}",
                 "grid_rate_exc : hertz (constant)"]
        current = (f"grid_g_exc * (grid_E_exc - {voltage}) + grid_g_inh * (grid_E_inh - {voltage})")
        return lines, current

    def namespace(self, input_unit: str) -> dict[str, Quantity]:
        """Brian2 names of the constants (rates per neurone are set on the group).

        Parameters
        ----------
        input_unit : str
            The model's input unit.

        Returns
        -------
        dict of str to Quantity
            Time constants, reversal potentials, weights and the inhibitory rate with units.
        """
        from brian2 import Hz, ms, mV

        v = self.magnitudes(input_unit)
        conductance = parse_unit(v["conductance_unit"])
        return {"grid_tau_exc": v["tau_exc"] * ms, "grid_tau_inh": v["tau_inh"] * ms,
                "grid_E_exc": v["reversal_exc"] * mV, "grid_E_inh": v["reversal_inh"] * mV,
                "grid_w_exc": v["weight_exc"] * conductance, "grid_w_inh": v["weight_inh"] * conductance,
                "grid_rate_inh": v["rate_inh"] * Hz}


def poisson_conductance(value: PoissonConductance | dict[str, Any] | None) -> PoissonConductance | None:
    """A :class:`PoissonConductance` from itself, a dict of its fields, or None.

    Parameters
    ----------
    value : PoissonConductance, dict or None
        The input itself, a dict of its fields (quantities or strings with units), or None.

    Returns
    -------
    PoissonConductance or None
        ``value`` as a :class:`PoissonConductance` (None stays None).
    """
    if value is None or isinstance(value, PoissonConductance):
        return value
    if isinstance(value, dict):
        unknown = sorted(set(value) - {field.name for field in dataclasses.fields(PoissonConductance)})
        if unknown:
            raise ParameterError(
                f"Unknown Poisson input field(s) {', '.join(unknown)}; the fields are rate_exc, "
                "weight_exc, tau_exc, reversal_exc, rate_inh, weight_inh, tau_inh, reversal_inh.")
        return PoissonConductance(**value)
    raise ParameterError(
        f"poisson must be a PoissonConductance or a dict of its fields; got {type(value).__name__}.")
