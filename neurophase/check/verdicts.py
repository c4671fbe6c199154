"""Verdicts: one row per checked prediction, written to ``verdicts.csv``.

A verdict compares a *measured* value (with a confidence interval) against what the theory
*expects*. How ``holds`` is decided is the verdict's ``rule`` (see :func:`make_verdict`), fixed
with its tolerance before the measurement and stated in the report: the measured value within a
tolerance, the whole interval within it (an equivalence test), or the expected value inside an
interval of known coverage (:mod:`neurophase.statistics`). A verdict that does not hold is a
result, reported exactly like one that does.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from neurophase.errors import ParameterError

__all__ = ["Verdict", "make_verdict", "write_verdicts_csv", "read_verdicts_csv", "VERDICT_COLUMNS", "RULES"]

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
        Closed-form value, measured value and its confidence interval, in the unit ``quantity``
        names.
    holds : bool
        Whether the measurement agrees with the expectation (see module docstring).
    tolerance : float or None
        The stated tolerance on ``abs(measured - expected)`` (absolute, in the unit of the
        quantity; :func:`make_verdict` converts a relative one), if the verdict uses one.
    criterion : str
        How ``holds`` was decided, in words (goes into the report).
    note : str
        Anything the reader needs to interpret the row (fit range, N, seeds, ...).
    rule : str
        The rule of :func:`make_verdict` that decided ``holds`` (one of :data:`RULES`).
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
    rule: str = ""

    def decided_by(self) -> str:
        """What decided ``holds`` for this row, in a few words with the numbers (for one terminal
        line: a row can hold by its tolerance although its interval excludes the expected value).

        Returns
        -------
        str
            The deciding comparison, e.g. whether the interval contains the expected value and the
            deviation against the tolerance.

        >>> make_verdict("P4", "T_c", 1.0, 1.03, 1.01, 1.05, tolerance=0.05).decided_by()
        'CI excludes 1 but |measured - expected| = 0.03 <= tolerance 0.05'
        """
        rule = self.rule or ("interval" if self.tolerance is None else "interval_or_tolerance")
        finite = math.isfinite(self.expected) and math.isfinite(self.measured)
        inside = finite and self.ci_low <= self.expected <= self.ci_high
        ci = f"CI {'contains' if inside else 'excludes'} {self.expected:.4g}"
        if rule == "interval" or self.tolerance is None:
            return ci
        distance = abs(self.measured - self.expected) if finite else math.nan
        within = finite and distance <= self.tolerance
        difference = f"|measured - expected| = {distance:.3g} {'<=' if within else '>'} tolerance {self.tolerance:.3g}"
        if rule == "tolerance":
            return difference
        if rule == "equivalence":
            return (f"CI {'inside' if self.holds else 'not inside'} {self.expected:.4g} +- "
                    f"{self.tolerance:.3g} (equivalence)")
        if inside:
            return ci
        return f"{ci} {'but' if within else 'and'} {difference}"

    def as_row(self) -> dict[str, str]:
        """The row of ``verdicts.csv`` (``VERDICT_COLUMNS`` order).

        Returns
        -------
        dict of str to str
            ``id``, ``quantity``, the four numbers with 6 significant digits (``"nan"`` for
            NaN) and ``holds`` as ``"true"`` / ``"false"``.
        """
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


RULES = ("interval_or_tolerance", "tolerance", "equivalence", "interval")


def make_verdict(id: str, quantity: str, expected: float, measured: float, ci_low: float, ci_high: float,
                 tolerance: float | None = None, relative: bool = False, note: str = "",
                 rule: str | None = None) -> Verdict:
    """Build a :class:`Verdict`, deciding ``holds`` by a rule fixed before the measurement.

    Parameters
    ----------
    id : str
        Prediction id from THEORY.md section 7 (``"P1"``, ``"C1"``, ...), with a suffix for
        variants.
    quantity : str
        What was measured, in words, with its unit if any.
    expected : float, unit of ``quantity``
        The value the theory predicts (say in ``note`` whether it is derived or a fit).
    measured : float, unit of ``quantity``
        The measured value.
    ci_low, ci_high : float, unit of ``quantity``
        Its confidence interval (NaN when there is none: then only a tolerance can make it hold).
    tolerance : float or None, optional
        Largest accepted ``abs(measured - expected)`` (times ``abs(expected)`` when
        ``relative``), in the unit of ``quantity``. It must be set, and justified in ``note``,
        before measuring.
    relative : bool, optional
        Interpret ``tolerance`` as a fraction of ``abs(expected)``.
    note : str, optional
        What the reader needs to interpret the row: what ``holds`` means, why the tolerance,
        N, seeds, derived or fitted.
    rule : {"interval_or_tolerance", "tolerance", "equivalence", "interval"} or None, optional
        How ``holds`` is decided:

        ``"tolerance"``
            ``abs(measured - expected) <= tolerance``. The interval is reported, not used, so a
            noisier measurement is not more likely to pass.
        ``"equivalence"``
            the whole interval lies inside ``expected +- tolerance`` (an equivalence test:
            a noisy measurement cannot pass; Schuirmann 1987, J. Pharmacokinet. Biopharm.
            15:657).
        ``"interval"``
            ``expected`` inside the interval (only where the interval's coverage is known).
        ``"interval_or_tolerance"``
            either of the two above (default when a tolerance is given); without a tolerance
            the default is ``"interval"``.

    Returns
    -------
    Verdict
        With the absolute tolerance and the rule in words (``criterion``). Non-finite
        ``expected`` or ``measured`` never hold.

    Raises
    ------
    ValueError
        For an unknown rule, or a rule other than ``"interval"`` without a tolerance.

    Examples
    --------
    >>> make_verdict("P1", "gain x T", 2.0, 1.98, 1.95, 2.01).holds
    True
    >>> make_verdict("P4", "T_c / J", 1.0, 1.08, 1.06, 1.10, tolerance=0.05, relative=True).holds
    False
    >>> make_verdict("N3", "exponent", -0.5, -0.52, -0.7, -0.3, tolerance=0.1, rule="equivalence").holds
    False
    """
    expected, measured = float(expected), float(measured)
    ci_low, ci_high = float(ci_low), float(ci_high)
    if rule is None:
        rule = "interval" if tolerance is None else "interval_or_tolerance"
    if rule not in RULES:
        raise ParameterError(f"rule must be one of {', '.join(RULES)}; got {rule!r}.")
    if rule != "interval" and tolerance is None:
        raise ParameterError(f"rule {rule!r} needs a tolerance; give the tolerance fixed before measuring.")
    finite = all(math.isfinite(value) for value in (expected, measured))
    inside = finite and ci_low <= expected <= ci_high
    absolute_tolerance = None
    if tolerance is not None:
        absolute_tolerance = float(tolerance) * (abs(expected) if relative else 1.0)
    text = "" if tolerance is None else f"{tolerance:g}{' x |expected|' if relative else ''}"
    if rule == "interval":
        holds = inside
        criterion = "expected value inside the confidence interval"
    elif rule == "tolerance":
        holds = finite and abs(measured - expected) <= absolute_tolerance
        criterion = f"|measured - expected| <= {text} (tolerance fixed before measuring)"
    elif rule == "equivalence":
        holds = (finite and math.isfinite(ci_low) and math.isfinite(ci_high)
                 and expected - absolute_tolerance <= ci_low and ci_high <= expected + absolute_tolerance)
        criterion = f"whole confidence interval within expected +- {text} (equivalence test)"
    else:
        within = finite and abs(measured - expected) <= absolute_tolerance
        holds = inside or within
        criterion = f"expected inside the confidence interval, or |measured - expected| <= {text}"
    return Verdict(
        id=id, quantity=quantity, expected=expected, measured=measured, ci_low=ci_low,
        ci_high=ci_high, holds=bool(holds), tolerance=absolute_tolerance,
        criterion=criterion, note=note, rule=rule,
    )


def write_verdicts_csv(verdicts: Iterable[Verdict], path: str | os.PathLike) -> Path:
    """Write ``verdicts`` to ``path`` with exactly the columns ``VERDICT_COLUMNS``.

    Parameters
    ----------
    verdicts : iterable of Verdict
        The rows, in order.
    path : str or os.PathLike
        The CSV file (overwritten).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=VERDICT_COLUMNS)
        writer.writeheader()
        for verdict in verdicts:
            writer.writerow(verdict.as_row())
    return path


def read_verdicts_csv(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read ``verdicts.csv`` back as a list of dicts (numbers as floats, holds as bool).

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`write_verdicts_csv`.

    Returns
    -------
    list of dict
        One dict per row with the keys ``VERDICT_COLUMNS``: ``expected``, ``measured``,
        ``ci_low``, ``ci_high`` as floats, ``holds`` as bool, ``id`` and ``quantity`` as str.
    """
    rows = []
    with Path(path).open(newline="") as handle:
        for row in csv.DictReader(handle):
            for key in ("expected", "measured", "ci_low", "ci_high"):
                row[key] = float(row[key])
            row["holds"] = row["holds"] == "true"
            rows.append(row)
    return rows
