"""The neurone model library: every file is complete, starts at rest, and has its onset class."""

import numpy as np
import pytest
from brian2 import Network, NeuronGroup, cm, ms, prefs, second, uA

from neurophase.mapping.fi_curve import onset_type, rheobase
from neurophase.micro.modelfile import load_model
from neurophase.micro.neurone import firing_curve
from neurophase.resources import list_models

SPIKING = [name for name in list_models() if load_model(name).kind == "spiking"]
EXPECTED = {
    "hodgkin_huxley_1952", "wang_buzsaki_1996", "traub_miles", "connor_stevens_1977",
    "morris_lecar_class1", "morris_lecar_class2", "leaky_integrate_and_fire",
    "adaptive_exponential_2005", "izhikevich_2003_regular_spiking",
    "izhikevich_2003_fast_spiking", "hodgkin_huxley_stochastic", "hodgkin_huxley_markov",
}


def test_the_library_has_every_model_of_the_issue():
    assert EXPECTED <= set(SPIKING)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_model_files_are_complete(name):
    model = load_model(name)
    assert model.name == name
    assert model.threshold and model.input_variable and model.input_unit
    assert len(model.citation) > 40  # a real reference, with journal and year
    assert model.dt is not None and model.max_dt is not None and model.dt <= model.max_dt
    assert model.method
    assert model.initial, "the initial (resting) state must be given"


@pytest.mark.brian2
@pytest.mark.parametrize("name", sorted(EXPECTED - {"traub_miles", "hodgkin_huxley_stochastic",
                                                    "hodgkin_huxley_markov"}))
def test_initial_state_is_the_resting_steady_state(name):
    # Integrate 20 steps at zero drive (numpy target, no compile): every state variable must
    # stay put to 1e-4 of its scale per ms (a fixed point of the equations). Traub-Miles has
    # no rest at zero drive (it fires spontaneously); the stochastic models fluctuate.
    model = load_model(name)
    previous = prefs.codegen.target
    prefs.codegen.target = "numpy"
    try:
        group = NeuronGroup(1, model.equations, method=model.method, namespace=model.namespace(),
                            dt=model.dt)
        for variable, value in model.initial.items():
            setattr(group, variable, value)
        before = {variable: float(np.asarray(getattr(group, variable + "_")[0]))
                  for variable in group.equations.diff_eq_names}
        Network(group).run(20 * model.dt)
    finally:
        prefs.codegen.target = previous
    elapsed_ms = float(20 * model.dt / ms)
    for variable, start in before.items():
        after = float(np.asarray(getattr(group, variable + "_")[0]))
        scale = 1e-3 if variable == "v" else max(abs(start), 1e-2)  # volts: 1 mV scale
        if variable in ("w",) and name.startswith("adaptive"):
            scale = 1e-12  # amperes: 1 pA scale
        assert abs(after - start) / elapsed_ms < 1e-4 * scale, (variable, start, after)


@pytest.mark.brian2
@pytest.mark.slow
def test_morris_lecar_parameter_sets_have_their_excitability_classes():
    # Rinzel & Ermentrout (1998), Table 7.1 and Figs. 7.4-7.6: in the Hopf set rest loses
    # stability in a subcritical Hopf bifurcation (at I = 93.86 uA/cm2 for these parameters by
    # linear stability: neurophase.check.neurone.morris_lecar_hopf_current) and stable cycles
    # exist from a fold of cycles below it, so a step from rest fires somewhere in between, at
    # a finite rate; the SNLC set starts at zero rate near I ~ 40 uA/cm2.
    density = uA / cm**2
    class1 = firing_curve("morris_lecar_class1", np.arange(36.0, 46.01, 0.5) * density,
                          duration=4 * second)
    class2 = firing_curve("morris_lecar_class2", np.arange(85.0, 105.01, 1.0) * density,
                          duration=2 * second)
    assert onset_type(class1).kind == "continuous"
    assert onset_type(class2).kind == "discontinuous"
    assert 38.0 <= float(rheobase(class1).value / density) <= 42.0
    assert 88.0 <= float(rheobase(class2).value / density) <= 98.0


@pytest.mark.brian2
@pytest.mark.slow
def test_stochastic_hodgkin_huxley_limits():
    density = uA / cm**2
    # Many channels: the Langevin noise ~ 1/sqrt(N) vanishes and the deterministic HH rates
    # return (Fox 1997; Goldwyn & Shea-Brown 2011, Fig. 2). Reference: DOP853 integration of
    # HH 1952 (tests/micro/test_neurone_hh.py), 68.32 Hz at 10 and 117.04 Hz at 50 uA/cm2;
    # with 1e9 channels the rate jitter is far below the 1% tolerance.
    many = firing_curve("hodgkin_huxley_stochastic", np.array([10.0, 50.0]) * density,
                        duration=1 * second, parameters={"N_Na": 1e9, "N_K": 3e8}, seed=3)
    np.testing.assert_allclose(many["rate"].values[:, 0], [68.32, 117.04], rtol=0.01)
    # Few channels (a 1 um2 patch: 60 Na, 18 K): channel noise alone makes the resting
    # membrane fire (Chow & White 1996, Biophys. J. 71:3013), unlike the deterministic model.
    few = firing_curve("hodgkin_huxley_stochastic", np.array([0.0]) * density,
                       duration=500 * ms, seeds=20, parameters={"N_Na": 60, "N_K": 18}, seed=4)
    assert float(few["p_fire"].values[0]) >= 0.5
    assert few.attrs["integration_method"] == "milstein"
