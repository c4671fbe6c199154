"""Verdicts: one row per checked prediction, written to ``verdicts.csv``.

A verdict compares a *measured* value (with a confidence interval) against what the theory
*expects*. It ``holds`` when the expected value lies inside the confidence interval, or, where
a tolerance is stated (and justified in the report, e.g. by finite N), when
``abs(measured - expected) <= tolerance``. A verdict that does not hold is a result, reported
exactly like one that does.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path

__all__ = ["Verdict", "make_verdict", "write_verdicts_csv", "read_verdicts_csv", "VERDICT_COLUMNS"]

#: The columns of ``verdicts.csv``, in order.
VERDICT_COLUMNS = ("id", "quantity", "expected", "measured", "ci_low", "ci_high", "holds")


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One checked prediction.

    Attributes
    ----------
    id : str
        Prediction id from THEORY.md section 7 (``"P1"``, ``"C1"``, ...), with a suffix for
        variants (``"P5-lattice"``).
    quantity : str
        What was measured, in words, with its unit if any.
    expected, measured, ci_low, ci_high : float
        Closed-form value, measured value and its confidence interval.
    holds : bool
        Whether the measurement agrees with the expectation (see module docstring).
    tolerance : float or None
        The stated tolerance on ``abs(measured - expected)``, if the verdict uses one.
    criterion : str
        How ``holds`` was decided, in words (goes into the report).
    note : str
        Anything the reader needs to interpret the row (fit range, N, seeds, ...).
    """

    id: str
    quantity: str
    expected: float
    measured: float
    ci_low: float
    ci_high: float
    holds: bool
    tolerance: float | None = None
    criterion: str = ""
    note: str = ""

    def as_row(self):
        """The row of ``verdicts.csv`` (``VERDICT_COLUMNS`` order)."""
        return {
            "id": self.id,
            "quantity": self.quantity,
            "expected": _number(self.expected),
            "measured": _number(self.measured),
            "ci_low": _number(self.ci_low),
            "ci_high": _number(self.ci_high),
            "holds": str(bool(self.holds)).lower(),
        }


def _number(value):
    value = float(value)
    if math.isnan(value):
        return "nan"
    return f"{value:.6g}"


def make_verdict(id, quantity, expected, measured, ci_low, ci_high, tolerance=None,
                 relative=False, note=""):
    """Build a :class:`Verdict`, deciding ``holds`` from the interval and the tolerance.

    Parameters
    ----------
    tolerance : float, optional
        If given, the verdict holds when ``abs(measured - expected) <= tolerance`` (times
        ``abs(expected)`` when ``relative``) *or* the expected value is inside the interval.
        Without it, only the interval decides.
    relative : bool
        Interpret ``tolerance`` as a fraction of ``abs(expected)``.

    Examples
    --------
    >>> make_verdict("P1", "gain x T", 2.0, 1.98, 1.95, 2.01).holds
    True
    >>> make_verdict("P4", "T_c / J", 1.0, 1.08, 1.06, 1.10, tolerance=0.05, relative=True).holds
    False
    """
    expected, measured = float(expected), float(measured)
    ci_low, ci_high = float(ci_low), float(ci_high)
    finite = all(math.isfinite(value) for value in (expected, measured))
    inside = finite and ci_low <= expected <= ci_high
    absolute_tolerance = None
    if tolerance is not None:
        absolute_tolerance = float(tolerance) * (abs(expected) if relative else 1.0)
    within = finite and absolute_tolerance is not None and abs(measured - expected) <= absolute_tolerance
    if absolute_tolerance is None:
        criterion = "expected value inside the confidence interval"
    else:
        text = f"{tolerance:g}{' x |expected|' if relative else ''}"
        criterion = f"expected inside the confidence interval, or |measured - expected| <= {text}"
    return Verdict(
        id=id, quantity=quantity, expected=expected, measured=measured, ci_low=ci_low,
        ci_high=ci_high, holds=bool(inside or within), tolerance=absolute_tolerance,
        criterion=criterion, note=note,
    )


def write_verdicts_csv(verdicts, path):
    """Write ``verdicts`` to ``path`` with exactly the columns ``VERDICT_COLUMNS``."""
    path = Path(path)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=VERDICT_COLUMNS)
        writer.writeheader()
        for verdict in verdicts:
            writer.writerow(verdict.as_row())
    return path


def read_verdicts_csv(path):
    """Read ``verdicts.csv`` back as a list of dicts (numbers as floats, holds as bool)."""
    rows = []
    with Path(path).open(newline="") as handle:
        for row in csv.DictReader(handle):
            for key in ("expected", "measured", "ci_low", "ci_high"):
                row[key] = float(row[key])
            row["holds"] = row["holds"] == "true"
            rows.append(row)
    return rows
