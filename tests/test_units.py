"""Units at the boundary: parsing, conversion, dimension errors, round trips."""

import numpy as np
import pytest
from brian2 import cm, ms, mV, nS, pA, second, uA, uF, volt
from hypothesis import given, settings
from hypothesis import strategies as st

from neurophase.errors import UnitMismatchError
from neurophase.units import parse_quantity, parse_unit, to_magnitude, to_quantity


@pytest.mark.parametrize(
    "text, expected",
    [
        ("-65 mV", -65 * mV),
        ("-65*mV", -65 * mV),
        ("1 uF/cm**2", 1 * uF / cm**2),
        ("0.1 nS", 0.1 * nS),
        ("1.5e-3 second", 1.5 * ms),
        ("120 mS/cm**2", 0.12 * volt**-1 * uA / cm**2 * 1000 * 1000),
    ],
)
def test_parse_quantity_reads_value_and_unit(text, expected):
    assert float(parse_quantity(text) / expected) == pytest.approx(1.0, rel=1e-12)


def test_dimensionless_strings_are_plain_numbers():
    assert parse_quantity("0.25") == 0.25
    assert parse_unit("1") == 1.0


def test_wrong_dimension_names_the_parameter_and_the_fix():
    with pytest.raises(UnitMismatchError, match=r"'tau'.*Fix its unit"):
        parse_quantity("3 mV", expected="ms", name="tau")
    with pytest.raises(UnitMismatchError, match=r"'I'.*expected the dimension of pA"):
        to_magnitude(3 * mV, "pA", name="I")


def test_unknown_unit_and_code_injection_are_refused():
    with pytest.raises(UnitMismatchError, match="Unknown unit 'furlong'"):
        parse_quantity("3 furlong")
    with pytest.raises(UnitMismatchError):
        parse_quantity("__import__('os').system('true')")


def test_brian2_str_of_a_unit_parses_back():
    for unit in (uA / cm**2, mV / ms, nS, pA * second):
        assert float(parse_unit(str(unit)) / unit) == pytest.approx(1.0)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=20),
       st.sampled_from(["mV", "pA", "uA/cm**2", "Hz", "ms", "nS", "1"]))
def test_magnitude_quantity_round_trip(values, unit):
    quantity = to_quantity(values, unit)
    np.testing.assert_allclose(to_magnitude(quantity, unit), values, rtol=1e-12, atol=1e-300)


# --------------------------------------------------------------------------------------------
# One parser for what people type (hypothesis): every spelling of a number and a unit gives the
# same quantity as the number times the Brian2 unit.
# --------------------------------------------------------------------------------------------
_SPELLINGS = {
    "ms": ("ms", "msecond"), "second": ("s", "second"), "mV": ("mV", "mvolt"), "pA": ("pA", "pamp"),
    "uA/cm**2": ("uA/cm**2", "uA/cm2", "uA/cm^2", "uamp/cmetre**2"), "nS": ("nS", "nsiemens"),
    "Mohm": ("Mohm", "MOhm"), "Hz": ("Hz", "hertz"),
}


@settings(max_examples=300, deadline=None)
@given(number=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
       unit=st.sampled_from(sorted(_SPELLINGS)), data=st.data(),
       joint=st.sampled_from(["", " ", "*", " * ", "  "]),
       style=st.sampled_from(["repr", "e", "f"]))
def test_every_accepted_spelling_parses_to_the_same_quantity(number, unit, data, joint, style):
    spelling = data.draw(st.sampled_from(_SPELLINGS[unit]))
    text_number = {"repr": repr(number), "e": f"{number:.6e}", "f": f"{number:.6f}"}[style]
    parsed = parse_quantity(f"{text_number}{joint}{spelling}")
    expected = float(text_number) * parse_unit(unit)
    assert float(parsed / parse_unit(unit)) == pytest.approx(float(expected / parse_unit(unit)), rel=1e-12, abs=1e-300)


def test_a_unit_of_the_wrong_dimension_and_garbage_are_refused():
    with pytest.raises(UnitMismatchError, match="dimension"):
        parse_quantity("2 mV", expected="ms", name="duration")
    for text in ("2 parsecs", "ms 2", "2 ms ms", "import os", "__import__('os')"):
        with pytest.raises(UnitMismatchError):
            parse_quantity(text)
