"""Model files: library lookup, units, and clear errors for bad files."""

import pytest
from brian2 import mV

from neurophase.errors import ModelFileError
from neurophase.micro.modelfile import load_model, load_model_text
from neurophase.resources import list_models

GOOD = '''
[model]
name = "passive"
kind = "spiking"
title = "Passive membrane with a threshold"
citation = "Lapicque 1907"

[simulation]
dt = "0.1 ms"
method = "exact"

[equations]
model = "dv/dt = (E_L - v + R*I_input)/tau : volt"
threshold = "v > v_th"
reset = "v = E_L"
refractory = "2 ms"
input = "I_input"
input_unit = "pA"

[parameters]
E_L = "-70 mV"
R = "100 Mohm"
tau = "10 ms"
v_th = "-50 mV"
I_input = "0 pA"

[initial]
v = "-70 mV"
'''


def test_good_model_file_loads_with_units():
    model = load_model_text(GOOD)
    assert model.parameters["E_L"] == -70 * mV
    assert model.initial["v"] == -70 * mV
    assert str(model.refractory) == "2. ms"
    assert len(model.content_hash) == 16
    assert model.namespace(tau="20 ms")["tau"] != model.parameters["tau"]


def test_library_models_all_load():
    names = list_models()
    assert "ising_membrane" in names
    for name in names:
        assert load_model(name).name == name


def test_unknown_model_name_lists_the_library():
    with pytest.raises(ModelFileError, match=r"Unknown model 'no_such_model'.*ising_membrane"):
        load_model("no_such_model")


def test_unit_error_names_the_parameter():
    bad = GOOD.replace('tau = "10 ms"', 'tau = "10 furlong"')
    with pytest.raises(ModelFileError, match=r"parameter tau: Unknown unit 'furlong'"):
        load_model_text(bad)


def test_missing_parameter_is_named_with_the_fix():
    bad = GOOD.replace('v_th = "-50 mV"\n', "")
    with pytest.raises(ModelFileError, match=r"use v_th, which is neither.*Add a value with its unit"):
        load_model_text(bad)


def test_unknown_key_and_wrong_initial_unit():
    with pytest.raises(ModelFileError, match=r"unknown key\(s\) methd in \[simulation\]"):
        load_model_text(GOOD.replace('method = "exact"', 'methd = "exact"'))
    with pytest.raises(ModelFileError, match=r"\[initial\] v = .* wrong unit"):
        load_model_text(GOOD.replace('v = "-70 mV"', 'v = "-70 ms"'))


def test_override_with_wrong_dimension_is_refused():
    model = load_model_text(GOOD)
    with pytest.raises(Exception, match="'tau'"):
        model.namespace(tau="3 mV")
    with pytest.raises(ModelFileError, match="has no parameter 'taus'"):
        model.namespace(taus="3 ms")
