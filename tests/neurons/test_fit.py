"""ActivationFit: parameter recovery, model selection, held-out error, units and bad input.

Every expected value is a generating parameter, a closed form or an independent computation
(numerical quadrature of the theta-neurone period); none is produced by the code under test.
"""

import math

import numpy as np
import pytest
import xarray as xr
from brian2 import Hz, mV, nA, pA
from scipy.integrate import quad

from neurophase.errors import NeurophaseError, ParameterError, UnitMismatchError
from neurophase.mapping.meanfield_fit import fitted_mean_field_parameters, mean_field_parameters
from neurophase.neurons.activations import derived_open_probability
from neurophase.neurons.fit import RESPONSE_MODELS, ActivationFit
from neurophase.testing import assert_follows_schema

#: Generating parameters (drive in pA, rate in Hz); each family's onset and scale lie inside the
#: 0..300 pA range so that every parameter is identified by the data.
TRUTH = {
    "derived": {"r_max": 50.0, "theta": 150.0, "width": 40.0, "coupling_ratio": 0.6},
    "logistic": {"r_max": 50.0, "theta": 150.0, "width": 20.0},
    "tanh": {"r_max": 50.0, "theta": 120.0, "width": 80.0},
    "softplus": {"slope": 0.3, "theta": 150.0, "width": 15.0},
    "relu": {"slope": 0.3, "theta": 120.0},
    "power_law": {"amplitude": 4.0, "theta": 120.0, "exponent": 0.5},
}

#: Absolute bounds for the noisy recovery (sigma = 1 Hz, 61 points). They are a priori orders
#: of magnitude of the standard errors: an amplitude is pinned by ~20 points on the plateau or the
#: ramp (SE ~ sigma/sqrt(20) ~ 0.2 Hz, bound 1.5 Hz); a threshold or width by the ~10 points of
#: the rise, each moving it by ~sigma / slope (~1 Hz / 1 Hz/pA ~ 1 pA per point; bound 10 pA);
#: slopes and the exponent by the same ramp (relative SE ~ 1-2 %, bound ~10 %).
ABSOLUTE_BOUND = {
    "r_max": 1.5, "theta": 10.0, "width": 10.0,
    "slope": 0.03, "amplitude": 0.6, "exponent": 0.05,
}
#: The derived family's width and coupling ratio trade against each other (both steepen the
#: curve; only the tails tell them apart): over 8 noise seeds their estimates spread by SD 6 pA
#: and 0.11, so the bounds are ~3 SD: 20 pA and 0.3.
DERIVED_BOUND = {**ABSOLUTE_BOUND, "width": 20.0, "coupling_ratio": 0.3}

DRIVE = np.linspace(0.0, 300.0, 61)
SIGMA = 1.0


def generate(name, sigma=0.0, seed=0, drive=DRIVE):
    values = RESPONSE_MODELS[name](drive, *TRUTH[name].values())
    if sigma:
        values = values + np.random.default_rng(seed).normal(0.0, sigma, drive.size)
    return values


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_noise_free_data_recover_the_parameters(name):
    fit = ActivationFit(candidates=(name,), n_bootstrap=0).fit(DRIVE * pA, generate(name) * Hz)
    for parameter, true_value in TRUTH[name].items():
        assert fit.params_[name][parameter].value == pytest.approx(true_value, rel=1e-6), parameter
    assert fit.scores_["rmse"].sel(candidate=name) < 1e-6


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_noisy_data_recover_the_parameters_within_bootstrap_errors(name):
    # 4 bootstrap standard errors: a Gaussian estimator lands outside with probability 6e-5 per
    # parameter; the absolute bounds (ABSOLUTE_BOUND, justified above) keep the test meaningful
    # if the bootstrap spread were itself too large.
    rates = generate(name, sigma=SIGMA, seed=11) * Hz
    fit = ActivationFit(candidates=(name,), n_bootstrap=60, random_state=5).fit(DRIVE * pA, rates)
    for parameter, true_value in TRUTH[name].items():
        estimate = fit.params_[name][parameter].value
        standard_error = fit.param_se_[name][parameter]
        assert abs(estimate - true_value) <= 4 * standard_error, (parameter, estimate, standard_error)
        bound = (DERIVED_BOUND if name == "derived" else ABSOLUTE_BOUND)[parameter]
        assert abs(estimate - true_value) <= bound, (parameter, estimate)
        low, high = fit.param_ci_[name][parameter]
        assert low < high
    assert int(fit.scores_["bootstrap_failures"].sel(candidate=name)) == 0


@pytest.mark.parametrize(
    "truth, rivals",
    [
        ("relu", ("logistic",)),
        ("logistic", ("relu", "softplus", "power_law", "tanh")),
        ("power_law", ("relu", "logistic", "softplus")),
    ],
)
def test_best_picks_the_generating_family_when_distinguishable(truth, rivals):
    # Distinguishable means: the rival's best approximation of the noise-free curve is off by a
    # systematic RMSE (bias) larger than the noise sigma. Held-out MSE is then ~ sigma^2 + bias^2
    # for the rival against ~ sigma^2 for the truth, a gap of > sigma^2, while the held-out MSE of
    # 61 points fluctuates by ~ sigma^2 sqrt(2/61) = 0.18 sigma^2: a > 5 standard-error margin.
    # Nested pairs (logistic in derived, relu as the limit of softplus or power_law) are not
    # distinguishable and are not tested here.
    exact = ActivationFit(candidates=rivals, n_bootstrap=0).fit(DRIVE * pA, generate(truth) * Hz)
    for rival in rivals:
        assert float(exact.scores_["rmse"].sel(candidate=rival)) > SIGMA, rival
    fit = ActivationFit(candidates=(truth,) + rivals, n_bootstrap=0, random_state=2)
    fit.fit(DRIVE * pA, generate(truth, sigma=SIGMA, seed=3) * Hz)
    assert fit.best_ == truth


def test_power_law_on_exact_square_root_data():
    drive = np.linspace(0.0, 5.0, 51)
    response = np.sqrt(np.maximum(0.0, drive - 1.0))
    fit = ActivationFit(candidates=("power_law",), n_bootstrap=0)
    fit.fit(drive, response, input_units="1", response_units="1")
    parameters = fit.params_["power_law"]
    assert parameters["exponent"].value == pytest.approx(0.5, abs=1e-4)
    assert parameters["theta"].value == pytest.approx(1.0, abs=1e-4)
    assert parameters["amplitude"].value == pytest.approx(1.0, abs=1e-4)


def theta_neurone_rate(current):
    """Firing rate of the theta neurone d(theta)/dt = 1 - cos(theta) + (1 + cos(theta)) I.

    Computed independently of the closed form f = sqrt(I)/pi (Ermentrout & Kopell 1986) by
    quadrature of the period: T = integral over one turn of d(theta) / (d(theta)/dt).
    """
    rates = np.zeros_like(current)
    for index, level in enumerate(current):
        if level > 0:
            period, _ = quad(lambda angle: 1.0 / (1 - np.cos(angle) + (1 + np.cos(angle)) * level),
                             -np.pi, np.pi, limit=200)
            rates[index] = 1.0 / period
    return rates


def test_theta_neurone_prefers_the_power_law_with_exponent_one_half():
    current = np.linspace(-0.5, 1.5, 41)
    exact = theta_neurone_rate(current)
    np.testing.assert_allclose(exact[current > 0], np.sqrt(current[current > 0]) / np.pi, rtol=1e-8)
    # 1 % of the top rate as noise (seeded): the bootstrap SE of the exponent is then ~0.005, so
    # the 0.02 tolerance of the brief is ~4 standard errors.
    noise_sigma = 0.01 * exact.max()
    noisy = exact + np.random.default_rng(7).normal(0.0, noise_sigma, current.size)
    fit = ActivationFit(n_bootstrap=40, random_state=1)
    fit.fit(current, noisy, input_units="1", response_units="1")
    assert fit.best_ == "power_law"
    parameters = fit.params_["power_law"]
    assert abs(parameters["exponent"].value - 0.5) < 0.02
    assert abs(parameters["exponent"].value - 0.5) < 4 * fit.param_se_["power_law"]["exponent"] + 1e-3
    assert parameters["amplitude"].value == pytest.approx(1 / np.pi, rel=0.05)
    assert abs(parameters["theta"].value) < 0.02


def test_derived_with_zero_coupling_is_the_logistic_with_half_width():
    # p_open = (1 + tanh(u))/2 = logistic(2u) at J = 0 (THEORY.md section 3)
    r_max, theta, logistic_width = 40.0, 120.0, 15.0
    np.testing.assert_allclose(
        RESPONSE_MODELS["derived"](DRIVE, r_max, theta, 2 * logistic_width, 0.0),
        RESPONSE_MODELS["logistic"](DRIVE, r_max, theta, logistic_width),
        rtol=1e-12, atol=1e-12,
    )
    data = RESPONSE_MODELS["logistic"](DRIVE, r_max, theta, logistic_width) * Hz
    fit = ActivationFit(candidates=("derived", "logistic"), n_bootstrap=0).fit(DRIVE * pA, data)
    derived = fit.params_["derived"]
    assert derived["width"].value == pytest.approx(2 * logistic_width, rel=1e-6)
    assert derived["coupling_ratio"].value < 1e-6
    mapped = fitted_mean_field_parameters(fit)
    assert mapped["beta"].value == pytest.approx(1 / (2 * logistic_width), rel=1e-6)
    assert mapped["beta"].units == "1/pA"


def test_derived_activation_solves_curie_weiss_and_has_its_susceptibility():
    # Closed forms (THEORY.md section 3): M = tanh(K M + u) and, at u = 0,
    # chi = dM/du = 1/(1 - K), so d p_open/du = chi / 2.
    field = np.linspace(-4, 4, 81)
    for coupling in (0.0, 0.3, 0.9, 0.99):
        p_open = derived_open_probability(field, coupling)
        magnetisation = 2 * p_open - 1
        np.testing.assert_allclose(magnetisation, np.tanh(coupling * magnetisation + field), atol=1e-13)
        step = 1e-6
        slope = (derived_open_probability(step, coupling) - derived_open_probability(-step, coupling)) / (2 * step)
        assert float(slope) == pytest.approx(0.5 / (1 - coupling), rel=1e-5)
    with pytest.raises(ParameterError, match=r"\[0, 1\)"):
        derived_open_probability(field, 1.2)


def test_mean_field_mapping_gives_the_slope_at_threshold():
    # r'(theta) = r_max chi(h=0) / 2 with chi = 1/(T - zJ) = 1/(width (1 - K)) (section 3)
    truth = TRUTH["derived"]
    fit = ActivationFit(candidates=("derived",), n_bootstrap=0).fit(DRIVE * pA, generate("derived") * Hz)
    mapping = fitted_mean_field_parameters(fit)
    assert mapping["temperature"].value == pytest.approx(truth["width"], rel=1e-6)
    assert mapping["coupling"].value == pytest.approx(truth["width"] * truth["coupling_ratio"], rel=1e-6)
    assert mapping["field_offset"].value == pytest.approx(-truth["theta"], rel=1e-6)
    step = 1e-3
    rates = fit.predict(np.array([truth["theta"] - step, truth["theta"] + step]) * pA) / Hz
    slope = (rates[1] - rates[0]) / (2 * step)
    expected = truth["r_max"] * mapping["susceptibility_at_centre"].value / 2
    assert slope == pytest.approx(expected, rel=1e-5)
    assert expected == pytest.approx(50.0 / (2 * 40.0 * 0.4), rel=1e-6)
    direct = mean_field_parameters(150.0, 40.0, 0.6, "pA")
    assert direct["susceptibility_at_centre"].units == "1/pA"


def test_heldout_rmse_of_the_true_model_is_the_noise_sigma():
    # Held-out squared errors of the true model average sigma^2 (1 + O(k / n_train)), here
    # k / n_train = 3/80 -> +2 % in RMSE at most; the RMSE of n = 100 values fluctuates by
    # sigma / sqrt(2 n) = 0.07 sigma, so sigma (1 +- 3/sqrt(n)) = sigma (1 +- 0.3) is a > 4 SE band.
    drive = np.linspace(0.0, 300.0, 100)
    sigma = 2.0
    rates = RESPONSE_MODELS["logistic"](drive, *TRUTH["logistic"].values())
    rates = rates + np.random.default_rng(21).normal(0.0, sigma, drive.size)
    fit = ActivationFit(candidates=("logistic",), n_bootstrap=0, folds=5, random_state=4)
    fit.fit(drive * pA, rates * Hz)
    heldout = float(fit.scores_["heldout_rmse"].sel(candidate="logistic"))
    assert abs(heldout - sigma) <= sigma * 3 / math.sqrt(drive.size)
    # in-sample RMSE is sigma sqrt((n - k)/n) on average, same fluctuation
    in_sample = float(fit.scores_["rmse"].sel(candidate="logistic"))
    assert abs(in_sample - sigma * math.sqrt(97 / 100)) <= sigma * 3 / math.sqrt(drive.size)
    assert 0 < float(fit.scores_["heldout_rmse_se"].sel(candidate="logistic")) < 0.5 * sigma
    assert_follows_schema(fit.scores_)
    assert fit.scores_["heldout_rmse"].attrs["units"] == "Hz"


def rate_dataset(n_trials=8, sigma_trial=3.0, seed=9):
    """A schema Dataset: rate (input, trial) from the logistic truth with per-trial noise."""
    mean = RESPONSE_MODELS["logistic"](DRIVE, *TRUTH["logistic"].values())
    noise = np.random.default_rng(seed).normal(0.0, sigma_trial, (DRIVE.size, n_trials))
    return xr.Dataset(
        {"rate": (("input", "trial"), mean[:, None] + noise, {"units": "Hz"})},
        coords={"input": ("input", DRIVE, {"units": "pA"}), "trial": np.arange(n_trials)},
    )


def test_dataset_with_trials_is_averaged_weighted_and_bootstrapped_over_trials():
    dataset = rate_dataset()
    fit = ActivationFit(candidates=("logistic",), n_bootstrap=60, random_state=0).fit(dataset, response="rate")
    assert fit.weighted_ and fit.drive_unit_ == "pA" and fit.response_unit_ == "Hz"
    parameters = fit.params_["logistic"]
    assert parameters["theta"].units == "pA" and parameters["r_max"].units == "Hz"
    # averages of 8 trials: sigma_mean = 3/sqrt(8) ~ 1.06 Hz, comparable to the array tests
    for parameter, true_value in TRUTH["logistic"].items():
        error = abs(parameters[parameter].value - true_value)
        assert error <= 4 * fit.param_se_["logistic"][parameter], parameter
        assert error <= ABSOLUTE_BOUND[parameter], parameter
    # chi^2 per point of a correct model: the weights are standard errors estimated from m = 8
    # trials, s^2 ~ sigma^2 chi^2_nu / nu with nu = m - 1 = 7, so each term averages
    # E[nu / chi^2_nu] = nu / (nu - 2) = 1.4 with SD sqrt(2 nu^2 / ((nu - 2)^2 (nu - 4))) = 1.14;
    # the mean of 61 terms is 1.4 +- 0.15, and 1.4 +- 0.6 is a 4 SD band.
    chi2 = float(fit.scores_["weighted_sse"].sel(candidate="logistic")) / DRIVE.size
    assert 0.8 < chi2 < 2.0


def test_dataset_probability_and_extra_dimensions():
    # p_fire (dimensionless) against a voltage drive: r_max is then in '1', theta in mV
    voltage = np.linspace(-80.0, -40.0, 41)
    p_fire = 1 / (1 + np.exp(-(voltage + 60.0) / 4.0))
    dataset = xr.Dataset(
        {"p_fire": (("param_sigma", "input"), p_fire[None, :], {"units": "1"})},
        coords={"input": ("input", voltage, {"units": "mV"}), "param_sigma": ("param_sigma", [1.0], {"units": "mV"})},
    )
    fit = ActivationFit(candidates=("logistic", "relu"), n_bootstrap=0).fit(dataset, response="p_fire")
    assert fit.params_["logistic"]["r_max"].units == "1"
    assert fit.params_["logistic"]["theta"].value == pytest.approx(-60.0, rel=1e-6)
    assert float(fit.params_["logistic"]["width"].quantity / mV) == pytest.approx(4.0, rel=1e-6)
    wide = xr.concat([dataset, dataset], dim="param_sigma").assign_coords(param_sigma=[1.0, 2.0])
    with pytest.raises(ParameterError, match="param_sigma"):
        ActivationFit(candidates=("logistic",), n_bootstrap=0).fit(wide, response="p_fire")


def test_predict_and_score_respect_units():
    rates = generate("relu") * Hz
    fit = ActivationFit(candidates=("relu", "logistic"), n_bootstrap=0).fit(DRIVE * pA, rates)
    # ReLU: 0.3 Hz/pA above 120 pA; 0.2 nA = 200 pA -> 24 Hz
    assert float(fit.predict(0.2 * nA, candidate="relu")[0] / Hz) == pytest.approx(24.0, rel=1e-6)
    assert fit.score(DRIVE * pA, rates, candidate="relu") == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(UnitMismatchError, match="x"):
        fit.predict(3 * mV)
    with pytest.raises(UnitMismatchError, match="pA"):
        fit.predict(np.array([1.0, 2.0]))
    summary = fit.summary()
    assert "| **relu** | 2 |" in summary and "| relu | theta | 120 |" in summary


def test_too_few_points_for_a_candidate():
    with pytest.raises(ParameterError, match=r"'derived' has 4 parameters and needs at least 5"):
        ActivationFit(candidates=("derived",)).fit(np.array([0.0, 1, 2, 3]) * pA, np.array([0.0, 1, 2, 3]) * Hz)


def test_all_zero_responses():
    with pytest.raises(ParameterError, match="All 61 responses are zero"):
        ActivationFit().fit(DRIVE * pA, np.zeros(DRIVE.size) * Hz)


def test_unknown_candidate_lists_the_known_ones():
    with pytest.raises(ParameterError, match=r"Unknown candidate\(s\) \['sigmoid'\].*'logistic'.*'power_law'"):
        ActivationFit(candidates=("logistic", "sigmoid")).fit(DRIVE * pA, generate("relu") * Hz)


def test_input_without_units():
    with pytest.raises(UnitMismatchError, match="x has no units"):
        ActivationFit().fit(DRIVE, generate("relu") * Hz)
    dataset = rate_dataset()
    del dataset["input"].attrs["units"]
    with pytest.raises(UnitMismatchError, match="'input' coordinate has no attrs"):
        ActivationFit().fit(dataset)
    with pytest.raises(UnitMismatchError, match="y_err has no units"):
        ActivationFit().fit(DRIVE * pA, generate("relu") * Hz, y_err=np.ones(DRIVE.size))
    with pytest.raises(UnitMismatchError):
        ActivationFit().fit(DRIVE * pA, generate("relu") * Hz, y_err=np.ones(DRIVE.size) * pA)


def test_errors_are_neurophase_errors():
    with pytest.raises(NeurophaseError, match="not fitted"):
        ActivationFit().predict(1 * pA)
    with pytest.raises(ParameterError, match="no response variable 'rate'"):
        ActivationFit().fit(rate_dataset().rename(rate="spikes"))
    with pytest.raises(ParameterError, match="folds"):
        ActivationFit(folds=1).fit(DRIVE * pA, generate("relu") * Hz)
