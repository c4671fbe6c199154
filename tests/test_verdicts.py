"""verdicts.csv: columns, the holds rule, and a round trip."""

import math

from neurophase.check.verdicts import VERDICT_COLUMNS, make_verdict, read_verdicts_csv, write_verdicts_csv


def test_columns_are_exactly_the_specified_ones(tmp_path):
    verdicts = [make_verdict("P1", "logistic gain x T", 2.0, 1.99, 1.97, 2.01),
                make_verdict("P5-lattice", "beta exponent", 0.5, 0.13, 0.11, 0.15)]
    path = write_verdicts_csv(verdicts, tmp_path / "verdicts.csv")
    header = path.read_text().splitlines()[0]
    assert header == ",".join(VERDICT_COLUMNS) == "id,quantity,expected,measured,ci_low,ci_high,holds"
    rows = read_verdicts_csv(path)
    assert [row["holds"] for row in rows] == [True, False]
    assert math.isclose(rows[1]["measured"], 0.13)


def test_tolerance_rule():
    # outside the CI but within a 5 % relative tolerance: holds
    assert make_verdict("P4", "T_c", 1.0, 1.04, 1.03, 1.05, tolerance=0.05, relative=True).holds
    # outside both: does not hold
    assert not make_verdict("P4", "T_c", 1.0, 1.06, 1.055, 1.065, tolerance=0.05, relative=True).holds
    # NaN measurement never holds
    assert not make_verdict("P3", "gamma", 1.0, float("nan"), 0.0, 2.0).holds
