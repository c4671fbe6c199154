"""The activation family: analytic derivatives, limits and the mean-field links (THEORY.md 5)."""

import numpy as np
import pytest
from scipy.special import lambertw

from neurophase.errors import ParameterError
from neurophase.meanfield import coercive_field, magnetisation
from neurophase.neurons import (
    ACTIVATIONS,
    BistableUnit,
    CoupledTanh,
    Heaviside,
    Logistic,
    MeanFieldActivation,
    RectifiedPower,
    ReLU,
    Sign,
    SiLU,
    Softplus,
    Tanh,
    get_activation,
)

SMOOTH = [Logistic(0.7), Tanh(1.3), Softplus(0.5), SiLU(0.8), RectifiedPower(0.5), RectifiedPower(2.0), ReLU(),
          CoupledTanh(1.5, 1.0), CoupledTanh(3.0, 0.5, coordination=4), MeanFieldActivation(0.8, 0.5),
          MeanFieldActivation(0.5, 1.0, branch="upper"), BistableUnit(0.5, 1.0, branch="lower")]


@pytest.mark.parametrize("activation", SMOOTH, ids=repr)
def test_derivative_matches_central_differences(activation):
    # Central difference with step 1e-5: truncation f''' dh^2 / 6 < 1e-9 for these curves (|f'''| < 10
    # away from kinks; points within 0.05 of h = 0 are skipped for the rectifiers), rounding
    # 1e-16 / 1e-5 = 1e-11.
    h = np.linspace(-2.0, 2.0, 81)
    if isinstance(activation, (RectifiedPower, ReLU)):
        h = h[np.abs(h) > 0.05]
    step = 1e-5
    numeric = (activation.value(h + step) - activation.value(h - step)) / (2 * step)
    np.testing.assert_allclose(activation.derivative(h), numeric, rtol=1e-6, atol=1e-8)


def test_zero_temperature_limits_of_logistic_and_tanh():
    # |logistic(h/T) - H(h)| = logistic(-|h|/T) < exp(-|h|/T); |tanh(h/T) - sign h| < 2 exp(-2|h|/T);
    # plus 2e-16 for the rounding of 1 - value near 1.
    h = np.concatenate([-np.geomspace(1e-2, 3, 30), np.geomspace(1e-2, 3, 30)])
    for T in (0.1, 0.01, 0.002):
        assert np.all(np.abs(Logistic(T).value(h) - Heaviside().value(h)) <= np.exp(-np.abs(h) / T) + 2e-16)
        assert np.all(np.abs(Tanh(T).value(h) - Sign().value(h)) <= 2 * np.exp(-2 * np.abs(h) / T) + 2e-16)
    assert Heaviside().value(0.0) == 0.5 == Logistic(1e-3).value(0.0)
    assert Sign().value(0.0) == 0.0


def test_zero_temperature_limits_of_softplus_and_silu_are_relu():
    # 0 <= softplus - ReLU <= T ln 2 (equality at h = 0); |SiLU - ReLU| <= T max_u u/(1+e^u) = T W(1/e)
    # (W: Lambert's function; the maximum solves u = 1 + e^-u), 0.2784645 T.
    bound = float(lambertw(np.exp(-1.0)).real)
    h = np.linspace(-5, 5, 2001)
    for T in (1.0, 0.1, 0.01):
        gap = Softplus(T).value(h) - ReLU().value(h)
        assert np.all(gap >= 0) and np.max(gap) <= T * np.log(2) * (1 + 1e-12)
        assert abs(np.max(gap) - T * np.log(2)) < 1e-12  # attained at h = 0
        assert np.max(np.abs(SiLU(T).value(h) - ReLU().value(h))) <= bound * T * (1 + 1e-12)
    assert float(Softplus(0.01).value(1000.0)) == 1000.0  # no overflow


def test_softplus_derivative_is_the_logistic():
    h = np.linspace(-30, 30, 601)
    for T in (0.3, 1.0, 4.0):
        np.testing.assert_allclose(Softplus(T).derivative(h), Logistic(T).value(h), rtol=0, atol=1e-10)
        # and the derivative of the value itself (not the coded derivative) is the logistic
        step = 1e-5
        numeric = (Softplus(T).value(h + step) - Softplus(T).value(h - step)) / (2 * step)
        np.testing.assert_allclose(numeric, Logistic(T).value(h), atol=1e-9)


def test_mean_field_activation_at_zero_coupling_is_the_logistic_of_2h_over_t():
    h = np.linspace(-4, 4, 161)
    for T in (0.25, 1.0, 3.0):
        unit = MeanFieldActivation(temperature=T, coupling=0.0)
        np.testing.assert_allclose(unit.value(h), (1 + np.tanh(h / T)) / 2, rtol=0, atol=1e-12)
        np.testing.assert_allclose(unit.value(h), Logistic(T / 2).value(h), rtol=0, atol=1e-12)


def test_open_probability_is_one_plus_m_over_two_on_every_branch():
    h = np.linspace(-0.2, 0.2, 9)
    for branch in ("upper", "lower", "equilibrium"):
        unit = MeanFieldActivation(0.6, 1.0, branch=branch)
        np.testing.assert_allclose(unit.value(h), (1 + magnetisation(0.6, h, 1.0, branch=branch)) / 2, atol=1e-14)


def test_coupled_tanh_slope_at_zero_is_curie_weiss_susceptibility():
    for T in (1.1, 1.5, 3.0):
        unit = CoupledTanh(T, 1.0)
        assert abs(float(unit.derivative(0.0)) - 1.0 / (T - 1.0)) < 1e-10 / (T - 1.0)
        step = 1e-7  # the slope of the value itself (independent of the coded derivative)
        assert abs((unit.value(step) - unit.value(-step)) / (2 * step) - 1.0 / (T - 1.0)) < 1e-5
    # steeper than the uncoupled tanh at the same temperature
    assert CoupledTanh(1.5, 1.0).derivative(0.0) > Tanh(1.5).derivative(0.0)


def test_bistable_unit_has_two_stable_branches_only_inside_the_coercive_field():
    unit = BistableUnit(0.5, 1.0)
    field = coercive_field(0.5, 1.0)
    h = np.array([-1.01, -0.99, 0.0, 0.5, 0.99, 1.01]) * field
    _, stable = unit.branches(h)
    assert stable.sum(axis=-1).tolist() == [1, 2, 2, 2, 2, 1]
    assert abs(unit.coercive_field - 0.2664) < 5e-5


def test_bistable_unit_follows_the_branch_history():
    # A triangle sweep -0.5 -> 0.5 -> -0.5 (h_c = 0.2664): the up-sweep stays low until h >= h_c,
    # the down-sweep stays high until h <= -h_c.
    unit = BistableUnit(0.5, 1.0)
    up = np.linspace(-0.5, 0.5, 101)
    sweep = np.concatenate([up, up[::-1]])
    response = unit.respond(sweep)
    rising, falling = response[:101], response[101:]
    h_c = unit.coercive_field
    np.testing.assert_allclose(rising[up < h_c], magnetisation(0.5, up[up < h_c], 1.0, branch="lower"), atol=1e-14)
    np.testing.assert_allclose(rising[up >= h_c], magnetisation(0.5, up[up >= h_c], 1.0, branch="upper"), atol=1e-14)
    down = up[::-1]
    np.testing.assert_allclose(falling[down > -h_c], magnetisation(0.5, down[down > -h_c], 1.0, branch="upper"),
                               atol=1e-14)
    assert np.all(falling[down <= -h_c] < 0)
    # at h = 0 the two sweeps differ by 2 M0: the loop
    assert abs(rising[50] - falling[50] + 2 * magnetisation(0.5, 0.0, 1.0)) < 1e-12
    # several independent sequences at once (axis 0 is time)
    both = unit.respond(np.stack([sweep, -sweep], axis=1))
    np.testing.assert_allclose(both[:, 0], response)


def test_registry_and_errors():
    assert set(ACTIVATIONS) == {"logistic", "tanh", "heaviside", "sign", "softplus", "silu", "relu",
                                "rectified_power", "coupled_tanh", "bistable", "mean_field", "derived_membrane"}
    unit = get_activation("Swish", temperature=0.5)
    assert isinstance(unit, SiLU) and unit.temperature == 0.5
    assert repr(get_activation("mean_field", temperature=1.0, coupling=0.5)) == (
        "MeanFieldActivation(temperature=1.0, coupling=0.5, coordination=1.0, branch='equilibrium')")
    assert all(cls.citation and cls.origin for cls in ACTIVATIONS.values())
    with pytest.raises(ParameterError, match="Unknown activation"):
        get_activation("gelu")
    with pytest.raises(ParameterError, match="Heaviside"):
        Logistic(0.0)
    with pytest.raises(ParameterError, match="T > T_c"):
        CoupledTanh(0.5, 1.0)
    with pytest.raises(ParameterError, match="T < T_c"):
        BistableUnit(1.5, 1.0)
    with pytest.raises(ParameterError, match="Bad parameters"):
        get_activation("relu", temperature=1.0)
