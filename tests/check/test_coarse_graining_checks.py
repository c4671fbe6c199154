"""N1/N2 measurements and the coarse-grain command (small, fast versions)."""

import numpy as np
import pytest

from neurophase.cli import main
from neurophase.io import load_dataset


def test_n2_table_is_derived_for_every_library_model():
    from neurophase.check.coarse_graining import LIBRARY_CONDUCTANCE_MODELS, measure_coarse_graining_table
    from neurophase.figures.coarse_graining import table_rows

    verdicts, datasets = measure_coarse_graining_table(holding={"traub_miles": "-0.05 nA"})
    assert [v.id for v in verdicts] == [f"N2-{name}" for name in LIBRARY_CONDUCTANCE_MODELS]
    assert all(v.holds == (v.measured == 1.0) for v in verdicts)
    rows = table_rows(datasets)
    assert len(rows) == 6 and all(np.isfinite(row["T_eff (mV)"]) for row in rows)
    from neurophase.plot import figures_for

    stems = [stem for stem, figure, caption in figures_for("coarse_graining_table", datasets, verdicts)]
    assert stems == ["branches", "potentials", "table", "verdicts"]


@pytest.mark.brian2
def test_n1_rows_on_a_short_run_of_wang_buzsaki():
    from neurophase.check.coarse_graining import measure_spike_threshold

    verdicts, datasets = measure_spike_threshold(
        models=["wang_buzsaki_1996"], pulse_durations=["0.1 ms"], bisection_steps=14, step_bisection_steps=8,
        pulse_trials={"wang_buzsaki_1996": "40 ms"}, step_durations={"wang_buzsaki_1996": "100 ms"})
    assert [v.id for v in verdicts] == ["N1-voltage-wang_buzsaki_1996", "N1-pulse-wang_buzsaki_1996",
                                        "N1-rheobase-wang_buzsaki_1996"]
    assert all(np.isfinite(v.measured) and np.isfinite(v.expected) for v in verdicts)
    pulses = datasets["thresholds_wang_buzsaki_1996"]
    # WB's gate is instantaneous: the frozen subsystem is 1-D in v, so its 0.1 ms threshold is the
    # kick to the saddle, C (V_saddle - V_rest)/d, up to the ionic charge during the pulse (< 5 %)
    frozen = float(pulses["threshold"].sel(variant="frozen").values[0])
    assert frozen == pytest.approx(float(pulses["predicted_kick_threshold"].values[0]), rel=0.05)
    from neurophase.plot import figures_for

    stems = [stem for stem, figure, caption in figures_for("coarse_graining_threshold", datasets, verdicts)]
    assert stems == ["branches_thresholds", "strength_duration", "predicted_vs_measured", "verdicts"]


def test_coarse_grain_command_writes_data_report_and_figures(tmp_path, capsys):
    out = tmp_path / "wb"
    assert main(["coarse-grain", "wang_buzsaki_1996", "--input", "-1", "1", "0.02", "uA/cm**2",
                 "--out", str(out)]) == 0
    files = sorted(path.name for path in out.iterdir())
    assert files == ["branches_wang_buzsaki_1996.png", "potential_wang_buzsaki_1996.png", "report.md",
                     "wang_buzsaki_1996_coarse_grained.nc"]
    dataset = load_dataset(out / "wang_buzsaki_1996_coarse_grained.nc")
    assert dataset["input"].size == 101 and dataset.attrs["order_parameter"] == "m_inf"
    report = (out / "report.md").read_text()
    assert "| T_eff = 2 k_V |" in report and "## Folds" in report
    assert "rest branch ends at" in capsys.readouterr().out


@pytest.mark.parametrize("arguments, message", [
    (["leaky_integrate_and_fire"], "no voltage-gated gate"),
    (["hodgkin_huxley_1952", "--order-parameter", "q"], "has no gate 'q'"),
    (["hodgkin_huxley_1952", "--input", "0", "nan", "1", "uA/cm**2"], "must be finite"),
    (["hodgkin_huxley_1952", "--input", "2", "1", "0.1", "uA/cm**2"], "STOP >= START"),
    (["hodgkin_huxley_1952", "--input", "0", "1", "0.1", "nA"], "dimension"),
    (["hodgkin_huxley_1952", "--channels", "0"], "N >= 1"),
    (["traub_miles"], "rest_input"),
])
def test_coarse_grain_command_errors_write_nothing(tmp_path, capsys, arguments, message):
    out = tmp_path / "out"
    assert main(["coarse-grain", *arguments, "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error:") and message in error[0]
    assert not out.exists() and list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ N3-N5
def test_channel_reduction_pairs_the_model_with_its_markov_file(tmp_path):
    from neurophase.check.coarse_graining import channel_reduction
    from neurophase.errors import ParameterError
    from neurophase.resources import models_directory

    reduction = channel_reduction("hodgkin_huxley_1952")
    assert reduction.channel_model.name == "hodgkin_huxley_markov"
    assert (reduction.channel_type, reduction.gates_per_channel, reduction.other_gates,
            reduction.number_parameter) == ("Na", 3, {"h": 1}, "N_Na")
    with pytest.raises(ParameterError, match="no Markov channel counterpart"):
        channel_reduction("wang_buzsaki_1996")
    with pytest.raises(ParameterError, match="declares no Markov channels"):
        channel_reduction("hodgkin_huxley_1952", channel_model="hodgkin_huxley_1952")
    # a channel file whose m gate opens 10 % faster is not the model it would test
    text = (models_directory() / "hodgkin_huxley_markov.toml").read_text()
    changed = tmp_path / "faster_m.toml"
    changed.write_text(text.replace("alpha_m = 1.0 /", "alpha_m = 1.1 /").replace(
        'name = "hodgkin_huxley_markov"', 'name = "faster_m"'))
    with pytest.raises(ParameterError, match="differ"):
        channel_reduction("hodgkin_huxley_1952", channel_model=str(changed))


@pytest.mark.brian2
def test_n3_n5_on_a_small_grid():
    from brian2 import cm, ms, uA

    from neurophase.check.coarse_graining import channel_reduction, measure_channel_noise_pulse
    from neurophase.units import to_magnitude

    levels = np.array([0.0, 8.0, 11.0, 12.5, 13.5, 15.0, 18.0, 30.0])
    verdicts, datasets = measure_channel_noise_pulse(channel_numbers=[1000, 10000, 100000],
                                                     amplitudes=levels * uA / cm**2, trials=8, duration="28 ms",
                                                     seed=5, n_resamples=200)
    assert [v.id for v in verdicts] == ["N3-exponent", "N3-constant", "N5"]
    noise = channel_reduction("hodgkin_huxley_1952").noise
    assert verdicts[0].expected == -0.5
    assert verdicts[1].expected == pytest.approx(float(to_magnitude(noise.width_constant(0.5 * ms), "uA/cm**2")),
                                                 rel=1e-6)
    assert verdicts[2].expected == 1.0
    pulse, heldout = datasets["pulse"], datasets["heldout"]
    assert pulse["fired"].shape == (3, levels.size, 8)
    # the held-out Brier scores recomputed from the stored outcomes and predictions (odd trials)
    fired = pulse["fired"].transpose("param_N_Na", "input", "trial").values[:, :, 1::2]
    derived = pulse["derived_p_fire"].values[:, :, None]
    fitted = pulse["fitted_p_fire"].values[:, :, None]
    np.testing.assert_allclose(heldout["derived"].values, ((fired - derived) ** 2).mean(axis=(1, 2)))
    ratio = ((fired - derived) ** 2).mean() / ((fired - fitted) ** 2).mean()
    assert verdicts[2].measured == pytest.approx(ratio)
    assert verdicts[2].ci_low <= ratio <= verdicts[2].ci_high
    from neurophase.plot import figures_for

    stems = [stem for stem, figure, caption in figures_for("coarse_graining_pulse", datasets, verdicts)]
    assert stems == ["pulse_probability", "width_scaling", "heldout_errors", "verdicts"]


@pytest.mark.brian2
def test_n4_on_a_small_grid():
    from neurophase.check.coarse_graining import channel_reduction, measure_channel_noise_escape

    verdicts, datasets = measure_channel_noise_escape(channel_numbers=[500, 1000, 2000], trials=6, duration="150 ms",
                                                      seed=5)
    assert [v.id for v in verdicts] == ["N4-diffusion", "N4-wkb", "N4-exact"]
    noise = channel_reduction("hodgkin_huxley_1952").noise
    assert verdicts[0].expected == pytest.approx(noise.slope("diffusion"))
    assert verdicts[1].expected == pytest.approx(noise.slope("wkb"))
    rates = datasets["rates"]
    latency = datasets["escape"]["first_spike_latency"].transpose("param_N_Na", "input", "trial").values[:, 0, :]
    events = np.isfinite(latency).sum(axis=1)
    exposure = np.where(np.isfinite(latency), latency, 150.0).sum(axis=1) * 1e-3
    np.testing.assert_allclose(rates["rate"].values, events / exposure, rtol=1e-12)
    seen = events > 0
    slope = np.polyfit(np.array([500, 1000, 2000])[seen], np.log(events[seen] / exposure[seen]), 1,
                       w=np.sqrt(events[seen]))[0]
    assert verdicts[0].measured == pytest.approx(slope, rel=1e-9)
    from neurophase.plot import figures_for

    stems = [stem for stem, figure, caption in figures_for("coarse_graining_escape", datasets, verdicts)]
    assert stems == ["escape_rates", "barriers", "verdicts"]


@pytest.mark.parametrize("arguments, message", [
    (["hodgkin_huxley_1952", "--channels", "100", "-3"], "N >= 1"),
    (["hodgkin_huxley_1952", "--channels", "100"], "at least two channel numbers"),  # N3, N4 are slopes over N
    (["hodgkin_huxley_1952", "--channels", "100", "1000", "--pulse-start", "20 ms", "--duration", "20.2 ms"],
     "does not end before the trial"),
    (["wang_buzsaki_1996", "--channels", "100", "1000"], "no Markov channel counterpart"),
    (["hodgkin_huxley_1952", "--channels", "100", "1000", "--channel-model", "hodgkin_huxley_1952"],
     "declares no Markov channels"),
    (["hodgkin_huxley_1952", "--channels", "100", "1000", "--trials", "5"], "even number"),
])
def test_channel_options_errors_write_nothing(tmp_path, capsys, arguments, message):
    out = tmp_path / "out"
    assert main(["coarse-grain", *arguments, "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error:") and message in error[0]
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.brian2
def test_coarse_grain_command_with_channels_writes_verdicts(tmp_path, capsys):
    from neurophase.check.verdicts import VERDICT_COLUMNS, read_verdicts_csv

    out = tmp_path / "hh"
    assert main(["coarse-grain", "hodgkin_huxley_1952", "--channels", "1000", "2000", "50000",
                 "--pulse-amplitudes", "0", "30", "6", "uA/cm**2", "--trials", "4", "--escape-trials", "3",
                 "--escape-duration", "60 ms", "--out", str(out), "--quiet"]) == 0
    header = (out / "verdicts.csv").read_text().splitlines()[0]
    assert tuple(header.split(",")) == VERDICT_COLUMNS
    assert [row["id"] for row in read_verdicts_csv(out / "verdicts.csv")] == [
        "N3-exponent", "N3-constant", "N5", "N4-diffusion", "N4-wkb", "N4-exact"]
    names = {path.name for path in out.iterdir()}
    assert {"escape_rates.png", "pulse_probability.png", "channel_noise_pulse_widths.nc",
            "channel_noise_escape_rates.nc", "report.md"} <= names
    assert "## Channel noise" in (out / "report.md").read_text()


def test_input_grids_as_an_experiment_file_gives_them():
    from neurophase.check.coarse_graining import _grid
    from neurophase.experiments import load_experiment
    from neurophase.units import to_magnitude

    settings = load_experiment("coarse_graining").measurements[0].settings
    parsed = _grid(settings["inputs"]["hodgkin_huxley_1952"], "uA/cm**2", "hodgkin_huxley_1952")
    listed = _grid(["-2 uA/cm**2", "4 uA/cm**2", "0.01 uA/cm**2"], "uA/cm**2", "hodgkin_huxley_1952")
    np.testing.assert_allclose(to_magnitude(parsed, "uA/cm**2"), to_magnitude(listed, "uA/cm**2"))
    assert len(parsed) == 601
