"""The Brian2 Markov channel model against an exact Gillespie simulation (current clamp).

Reference: :func:`neurophase.testing.hodgkin_huxley_gillespie`, a numpy stochastic simulation
of the same kinetic scheme that discretises nothing (transitions by thinning of the
voltage-dependent rates, the voltage solved exactly between transitions), written from the HH
1952 paper's rate functions, not from the model file. The Brian2 model splits each time step
into an exact channel step at fixed voltage and an exact voltage step at fixed conductance,
an error O(dt).

Statistics compared (seeded):

* the firing probability after a 0.5 ms pulse (spikes from the pulse onset to 5 ms later) at
  N_Na = 60 (N_K = 18; and 300, 90 in a slow test), at zero amplitude (channel noise alone)
  and 40 uA/cm2: two-proportion z-test, |z| < 4.5 with the binomial standard errors of both
  sides;
* the spontaneous firing rate at zero drive (sub-threshold for the deterministic model) at
  N_Na = 60: rates over 100-300 ms, standard error from the spread of independent trials,
  |z| < 4.5.

Two-sided P(|z| > 4.5) = 7e-6 per comparison for agreeing simulations. No allowance is added
for the time-step error at dt = 0.01 ms: the slow test below measures it (the spontaneous
rate converges to the reference as dt shrinks and is already within the statistical error at
dt = 0.02 ms), so it is smaller than the statistical tolerance here.
"""

import numpy as np
import pytest
from brian2 import cm, ms, uA

from neurophase.micro.channels import channel_noise_firing
from neurophase.micro.modelfile import load_model, load_model_text
from neurophase.testing import hodgkin_huxley_gillespie

pytestmark = pytest.mark.brian2
DENSITY = uA / cm**2


def two_proportion_z(p1, n1, p2, n2):
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    return (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))


def rate_z(counts_a, counts_b, window_s):
    a, b = np.asarray(counts_a, float) / window_s, np.asarray(counts_b, float) / window_s
    error = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return (a.mean() - b.mean()) / error, a.mean(), b.mean()


def compare_pulse_firing(n_na, n_k, brian_trials, reference_trials, seed):
    amplitudes = np.array([0.0, 40.0])
    brian = channel_noise_firing(amplitudes=amplitudes * DENSITY, channel_numbers=[n_na],
                                 seeds=brian_trials, pulse_duration=0.5 * ms, duration=10 * ms,
                                 dt=0.01 * ms, progress=False, seed=seed)
    assert brian["channels_K"].values.tolist() == [n_k]
    reference = hodgkin_huxley_gillespie(amplitudes, n_na, n_k, reference_trials, 10.0, pulse_start=5.0,
                                         pulse_duration=0.5, seed=seed + 1)
    p_reference = (reference["spike_count"] > 0).mean(axis=1)
    p_brian = brian["p_fire"].isel(param_N_Na=0).values
    for amplitude, a, b in zip(amplitudes, p_brian, p_reference):
        z = two_proportion_z(a, brian_trials, b, reference_trials)
        assert abs(z) < 4.5, (n_na, amplitude, a, b, z)
    # the comparison covers evoked firing, not only the noise floor
    assert p_reference[1] > p_reference[0] + 0.1


def test_pulse_firing_probability_agrees_with_the_gillespie_reference():
    compare_pulse_firing(60, 18, brian_trials=2000, reference_trials=600, seed=21)


@pytest.mark.slow
def test_pulse_firing_probability_agrees_at_300_channels():
    compare_pulse_firing(300, 90, brian_trials=3000, reference_trials=800, seed=23)


def test_spontaneous_rate_agrees_with_the_gillespie_reference():
    duration, start = 300.0, 100.0
    brian = channel_noise_firing(amplitudes=np.array([0.0]) * DENSITY, channel_numbers=[60], seeds=400,
                                 protocol="step", duration=duration * ms, transient=start * ms,
                                 dt=0.01 * ms, progress=False, seed=31)
    reference = hodgkin_huxley_gillespie([0.0], 60, 18, 100, duration, count_from=start, seed=32)
    window = (duration - start) * 1e-3
    z, rate_brian, rate_reference = rate_z(brian["steady_spike_count"].values[0, 0, :],
                                           reference["spike_count"][0], window)
    assert abs(z) < 4.5, (rate_brian, rate_reference, z)
    assert rate_reference > 20.0  # channel noise alone fires the N = 60 membrane (Chow & White 1996)


@pytest.mark.slow
def test_time_step_convergence_to_the_gillespie_reference():
    # The spontaneous rate at N_Na = 60 against dt. The model file's max_dt (0.02 ms) is lifted
    # in a copy to show the O(dt) splitting error where it is large. Expected: a significant
    # bias at dt = 0.1 ms (the test can see the time-step error), shrinking with dt, and
    # agreement within the statistical error (|z| < 4.5) at 0.02 ms (and at 0.01 ms, the
    # model's dt, in the fast test above).
    text = load_model("hodgkin_huxley_markov").text.replace('max_dt = "0.02 ms"', 'max_dt = "0.1 ms"')
    model = load_model_text(text)
    duration, start = 500.0, 100.0
    window = (duration - start) * 1e-3
    reference = hodgkin_huxley_gillespie([0.0], 60, 18, 200, duration, count_from=start, seed=41)
    z_scores, biases = {}, {}
    for step in (0.1, 0.05, 0.02):
        brian = channel_noise_firing(model, amplitudes=np.array([0.0]) * DENSITY, channel_numbers=[60],
                                     seeds=400, protocol="step", duration=duration * ms,
                                     transient=start * ms, dt=step * ms, progress=False, seed=42)
        z, rate_brian, rate_reference = rate_z(brian["steady_spike_count"].values[0, 0, :],
                                               reference["spike_count"][0], window)
        z_scores[step], biases[step] = z, rate_brian - rate_reference
    assert abs(z_scores[0.1]) > 4.0, z_scores
    assert abs(biases[0.05]) < abs(biases[0.1]) and abs(biases[0.02]) < abs(biases[0.1]), biases
    assert abs(z_scores[0.02]) < 4.5, z_scores


def fit_threshold(amplitudes, fired):
    """Maximum-likelihood fit of p(I) = s + (1 - s) Phi((I - I50)/sigma) to 0/1 trials.

    ``fired`` has shape (amplitudes, trials). Returns (I50, sigma, s).
    """
    from scipy import optimize, special, stats

    successes = fired.sum(axis=1)
    trials = fired.shape[1]

    def negative_log_likelihood(theta):
        centre, log_sigma, logit_floor = theta
        floor = special.expit(logit_floor)
        p = floor + (1 - floor) * stats.norm.cdf((amplitudes - centre) / np.exp(log_sigma))
        p = np.clip(p, 1e-12, 1 - 1e-12)
        return -np.sum(successes * np.log(p) + (trials - successes) * np.log(1 - p))

    middle = amplitudes[np.argmin(np.abs(successes / trials - 0.5))]
    best = min((optimize.minimize(negative_log_likelihood, [middle, np.log(scale), -4.0],
                                  method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6,
                                                                 "maxiter": 4000})
                for scale in (0.3, 1.0, 3.0)), key=lambda result: result.fun)
    centre, log_sigma, logit_floor = best.x
    from scipy.special import expit

    return float(centre), float(np.exp(log_sigma)), float(expit(logit_floor))


@pytest.mark.slow
def test_large_channel_numbers_approach_the_deterministic_threshold():
    # Law of large numbers for density-dependent Markov chains (T. G. Kurtz 1971, J. Appl.
    # Probab. 8:344): as N -> infinity the channel fractions follow the HH equations, with
    # fluctuations O(N^-1/2). So the pulse threshold (where firing becomes likely) must approach
    # the deterministic model's and the firing probability's width must shrink like N^-1/2.
    # Expected before measuring: sigma(1e6) < sigma(1e4) / 4 (N^-1/2 gives 10), every
    # |I50 - I_det| < 2 sigma + 0.25 uA/cm2 (the grid step), and |I50(1e6) - I_det| < 5 % of I_det.
    from neurophase.micro.neurone import firing_curve

    fine = np.arange(8.0, 18.0, 0.01)
    deterministic = firing_curve("hodgkin_huxley_1952", fine * DENSITY, protocol="pulse",
                                 pulse_duration=0.5 * ms, duration=20 * ms, progress=False)
    fires = deterministic["spike_count"].values[:, 0] > 0
    assert not fires[0] and fires[-1]
    first = int(np.argmax(fires))
    threshold = 0.5 * (fine[first - 1] + fine[first])
    amplitudes = np.arange(8.0, 18.01, 0.25)
    numbers = [1e4, 1e5, 1e6]
    markov = channel_noise_firing(amplitudes=amplitudes * DENSITY, channel_numbers=numbers, seeds=40,
                                  pulse_duration=0.5 * ms, duration=20 * ms, progress=False, seed=51)
    fits = {number: fit_threshold(amplitudes, markov["spike_count"].values[index] > 0)
            for index, number in enumerate(numbers)}
    for number, (centre, sigma, _) in fits.items():
        assert abs(centre - threshold) < 2 * sigma + 0.25, (number, centre, sigma, threshold)
    assert fits[1e6][1] < fits[1e4][1] / 4, fits
    assert abs(fits[1e6][0] - threshold) < 0.05 * threshold, (fits, threshold)
