"""The readers, spike detector and quality control on the shared recordings.

Expected values are the shared README's (tests/recordings/readme_tables.py), produced there
with scipy/pyabf independently of neurophase, and eFEL's spike counts.
"""

import json

import numpy as np
import pytest

pytestmark = pytest.mark.recordings


def _counts(dataset, label):
    """Spike counts of the step with ``label`` of every sweep, in sweep order."""
    sweeps = dataset["sweep"].values
    labels = dataset["step_label"].values
    counts = dataset["spike_count"].values
    mask = (labels == label) & (sweeps >= 0)
    order = np.argsort(sweeps[mask])
    return sweeps[mask][order], counts[mask][order]


@pytest.mark.parametrize("name, labels", [("171116sh_0018.abf", ("epoch B", "epoch E")),
                                          ("171116sh_0019.abf", ("epoch B", "epoch E")),
                                          ("18713001.abf", ("epoch C",))])
def test_abf_amplitudes_windows_and_counts_match_readme(shared_datasets, readme, name, labels):
    recording, dataset = shared_datasets[name]
    amplitudes, first, second, baseline = readme.ABF_TABLES[name]
    # amplitudes read from the epoch table, exactly (0019 is -100, 0, 100, ... not evenly spaced)
    for label in labels:
        per_sweep = [next(step.amplitude for step in sweep.steps if step.label == label) for sweep in recording.sweeps]
        assert per_sweep == [float(a) for a in amplitudes]
    # README windows: epoch B 0.1469-0.6469 s, E 1.6468-2.1469 s, C 0.8234-1.3234 s (to one sample, 50 us)
    expected_windows = {"epoch B": (0.1469, 0.6469), "epoch E": (1.6468, 2.1469), "epoch C": (0.8234, 1.3234)}
    for step in recording.sweeps[0].steps:
        start, stop = expected_windows[step.label]
        assert step.start / recording.sampling_rate == pytest.approx(start, abs=1e-4)
        assert step.stop / recording.sampling_rate == pytest.approx(stop, abs=1e-4)
    assert recording.file_format == "abf2" and recording.sampling_rate == 20000.0
    assert dataset.attrs["voltage_unit_in_file"] == "mV" and dataset.attrs["current_unit_in_file"] == "pA"
    # the acceptance criterion: within 1 spike of the README's "n peaks" on every step
    for label, expected in zip(labels, (first, second)):
        sweeps, counts = _counts(dataset, label)
        assert np.max(np.abs(counts - np.asarray(expected)[sweeps])) <= 1
    # baseline potential: the README's is the median of the first 1/64 of the sweep (47 ms), ours
    # the median up to the first step (147 ms in the 171116sh files); slow fluctuations of up to
    # 1.1 mV robust SD (0019, sweep 2) move a median of a 3x longer window by about one SD, so the
    # tolerance is 1.5 mV; the typical difference is far smaller (median below 0.25 mV)
    mask = (dataset["step_label"].values == labels[0]) & (dataset["sweep"].values >= 0)
    sweeps = dataset["sweep"].values[mask]
    difference = dataset["baseline_potential"].values[mask] - np.asarray(baseline)[sweeps]
    assert np.max(np.abs(difference)) < 1.5
    assert np.median(np.abs(difference)) < 0.25


def test_depolarisation_block_of_0019_is_excluded_with_reason(shared_datasets):
    _, dataset = shared_datasets["171116sh_0019.abf"]
    excluded = json.loads(dataset.attrs["excluded"])
    blocked = {(item["sweep"], item["step"]) for item in excluded if "depolarisation block" in item["reason"]}
    # README: from 1500 pA one spike at onset, then a plateau near 0 mV (both steps from 1600 pA;
    # step E of 1500 pA still fires 11 spikes); 1400 pA step E stops after 11 spikes on a plateau
    assert {(sweep, label) for sweep in range(17, 22) for label in ("epoch B", "epoch E")} <= blocked
    assert (16, "epoch B") in blocked and (16, "epoch E") not in blocked
    assert all(sweep >= 15 for sweep, _ in blocked)
    assert len(excluded) == len(blocked)  # nothing else excluded
    assert int(dataset["qc_pass"].sel(input=1600.0).sum()) == 0
    assert dataset.attrs["n_excluded"] == len(excluded)


def test_clean_recordings_have_no_exclusions(shared_datasets):
    for name in ("171116sh_0018.abf", "18713001.abf", "B6"):
        _, dataset = shared_datasets[name]
        assert json.loads(dataset.attrs["excluded"]) == [], name
        assert int(dataset["qc_pass"].where(dataset["sweep"] >= 0).sum()) == dataset.attrs["n_steps"]


def test_b6_igor_currents_holding_and_junction_potential(shared_datasets, readme):
    recording, dataset = shared_datasets["B6"]
    assert recording.file_format == "igor" and recording.sampling_rate == 4000.0
    assert recording.protocol == "IDRest"
    sweeps = dataset["sweep"].values[:, 0]
    expected = np.array([readme.B6_TABLE[int(sweep)] for sweep in sweeps])
    # README rounds the measured step current to 0.1 pA
    np.testing.assert_allclose(dataset["input"].values, expected[:, 0], atol=0.06)
    np.testing.assert_allclose(dataset["holding_current"].values[:, 0], readme.B6_HOLDING_CURRENT, atol=0.05)
    assert np.max(np.abs(dataset["spike_count"].values[:, 0] - expected[:, 1])) <= 1
    # Vbase of the README is uncorrected (t < 0.69 s); ours is corrected by the 14 mV LJP
    corrected = expected[:, 2] - readme.B6_LIQUID_JUNCTION_POTENTIAL
    np.testing.assert_allclose(dataset["baseline_potential"].values[:, 0], corrected, atol=1.0)
    assert dataset.attrs["liquid_junction_potential"] == 14.0
    # the step window is 0.700-2.700 s (README), to within two samples at 4 kHz
    np.testing.assert_allclose(dataset["step_start"].values[:, 0], 0.7, atol=5e-4)
    np.testing.assert_allclose(dataset["step_duration"].values[:, 0], 2000.0, atol=0.5)


def test_spike_counts_agree_with_efel(shared_datasets):
    """eFEL (an independent implementation) counts the same spikes within 1 per step.

    eFEL's spike_count_stimint (formerly Spikecount_stimint) counts crossings of a -20 mV
    threshold, so it can only separate
    spikes whose troughs fall below it: at 171116sh_0019 >= 1000 pA the inter-spike troughs
    stay at -22 to -10 mV and eFEL merges or splits spikes (it reports 29 at 1100 pA, 2 at
    1300 pA). The comparison therefore uses every step whose troughs, and the end of the step,
    lie below -25 mV (a 5 mV margin under eFEL's threshold), a rule applied to all files alike.
    """
    efel = pytest.importorskip("efel")
    from neurophase.recordings.spikes import detect_spikes, spikes_in_windows

    compared = 0
    for name, (recording, dataset) in shared_datasets.items():
        traces, ours = [], []
        for sweep in recording.sweeps:
            peaks = detect_spikes(sweep.voltage, recording.sampling_rate)
            windows = spikes_in_windows(peaks, [s.start for s in sweep.steps], [s.stop for s in sweep.steps])
            for step, inside in zip(sweep.steps, windows):
                troughs = [sweep.voltage[a:b].min() for a, b in zip(inside[:-1], inside[1:])]
                tail = sweep.voltage[step.stop - 20:step.stop].max()
                if (troughs and max(troughs) >= -25.0) or tail >= -25.0:
                    continue
                time_ms = np.arange(sweep.voltage.size) / recording.sampling_rate * 1e3
                traces.append({"T": time_ms, "V": sweep.voltage,
                               "stim_start": [step.start / recording.sampling_rate * 1e3],
                               "stim_end": [step.stop / recording.sampling_rate * 1e3]})
                ours.append(inside.size)
        values = efel.get_feature_values(traces, ["spike_count_stimint"])
        theirs = np.array([int(v["spike_count_stimint"][0]) for v in values])
        assert np.max(np.abs(theirs - np.array(ours))) <= 1, name
        compared += len(ours)
    # 84 of the 130 test steps qualify (all of 0018, 0019 up to 900 pA, 27 of 30 of 18713001, B6)
    assert compared >= 80


def test_fi_features_of_18713001(shared_datasets, readme):
    from neurophase.recordings.features import fi_features

    _, dataset = shared_datasets["18713001.abf"]
    features = fi_features(dataset)
    # README: first spike at 80 pA, silent at 70 pA
    assert features["rheobase"] == 80.0 and features["last_silent_current"] == 70.0
    # README's f (n peaks / 0.5 s) rises 2 Hz per 10 pA near onset and saturates near 18-20 Hz;
    # the steady-state rate (transient excluded, inverse mean ISI) stays below the maximum 20 Hz
    assert 0.05 < features["slope"] < 0.2
    assert 14.0 < features["max_rate"] <= 20.0
    assert np.isnan(features["block_onset_current"])
    # "strong adaptation" (README): positive adaptation index
    assert features["adaptation_index"] > 0.02
    count_rate = dataset["count_rate"].values[:, 0]
    expected_count = np.asarray(readme.ABF_TABLES["18713001.abf"][1]) / 0.5
    assert np.max(np.abs(count_rate - expected_count)) <= 2.0  # one spike in 0.5 s


def test_block_onset_feature_of_0019(shared_datasets):
    from neurophase.recordings.features import fi_features

    _, dataset = shared_datasets["171116sh_0019.abf"]
    features = fi_features(dataset)
    assert features["block_onset_current"] == 1400.0
    assert features["rheobase"] == 100.0
    # README: saturates at about 30 Hz (count rate) from about 700 pA
    assert 600.0 <= features["saturation_current"] <= 900.0


def test_check_on_0019_fits_only_levels_without_block(ephys_dir, tmp_path):
    from neurophase.check.recordings import analyse_recordings

    datasets, verdicts = analyse_recordings([ephys_dir / "171116sh_0019.abf"], out=tmp_path / "out",
                                            n_bootstrap=40, figures=False)
    # 22 levels; 1600-2000 pA (5 levels) have both steps in block, 1400 and 1500 pA keep one step
    report = (tmp_path / "out" / "report.md").read_text()
    assert "17 points" in report
    assert report.count("depolarisation block: spiking stops") == 12
    assert [verdict.id for verdict in verdicts] == ["C5-171116sh_0019", "C1-171116sh_0019"]
    for verdict in verdicts:
        assert verdict.ci_low <= verdict.measured <= verdict.ci_high
