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
    (["hodgkin_huxley_1952", "--input", "0", "nan", "1", "uA/cm**2"], "non-finite"),
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
