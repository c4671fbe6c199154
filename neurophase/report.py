"""The Markdown report of an experiment run: verdicts, figures with captions, settings, provenance."""

from __future__ import annotations

import datetime
import platform
from pathlib import Path

__all__ = ["write_report", "verdict_table", "escape_cell"]


def _format(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{value:.4g}"


def escape_cell(text):
    r"""Text safe inside a Markdown table cell: ``|`` escaped, line breaks as spaces.

    >>> print(escape_cell("|x| < 1\nnext"))
    \|x\| < 1 next
    """
    return " ".join(str(text).split()).replace("|", "\\|")


def verdict_table(verdicts):
    """A Markdown table of verdicts (the columns of verdicts.csv plus the criterion)."""
    lines = [
        "| id | quantity | expected | measured | CI | holds | criterion |",
        "|---|---|---|---|---|---|---|",
    ]
    for verdict in verdicts:
        mark = "**yes**" if verdict.holds else "**no**"
        lines.append(
            f"| {escape_cell(verdict.id)} | {escape_cell(verdict.quantity)} | {_format(verdict.expected)} | "
            f"{_format(verdict.measured)} | [{_format(verdict.ci_low)}, {_format(verdict.ci_high)}] | "
            f"{mark} | {escape_cell(verdict.criterion)} |"
        )
    return "\n".join(lines)


def _settings_text(settings):
    if not settings:
        return "defaults"
    return ", ".join(f"`{key} = {value}`" for key, value in settings.items())


def write_report(path, experiment, sections, verdicts, scheduler="serial", seconds=None, summary=None):
    """Write ``report.md``: summary verdict table, then one section per measurement."""
    from neurophase import __version__

    held = sum(1 for verdict in verdicts if verdict.holds)
    lines = [
        f"# {experiment.title}",
        "",
        experiment.description.strip(),
        "",
        f"Experiment `{experiment.name}` ({experiment.source}), neurophase {__version__}, "
        f"Python {platform.python_version()}, scheduler `{scheduler}`, "
        f"run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}"
        + (f", {seconds:.0f} s wall time." if seconds is not None else "."),
        "",
        "## Verdicts",
        "",
        f"{held} of {len(verdicts)} checked predictions hold. A prediction that does not hold is a "
        "result, reported as such: see its note below.",
        "",
        verdict_table(verdicts),
        "",
    ]
    if summary:
        lines += [f"![All verdicts, holding and failing apart]({summary})", "",
                  "*Summary.* Every verdict as measured minus expected in units of its stated tolerance (grey band: "
                  "within it) or of its interval's half-width where it has no tolerance; holding rows above, failing "
                  "rows below; ids as in the table.", ""]
    for section in sections:
        measurement = section["measurement"]
        lines += [
            f"## {measurement.label}: `{measurement.function}`",
            "",
            f"Settings: {_settings_text(measurement.settings)}. Ran in {section['seconds']:.1f} s.",
            "",
        ]
        for verdict in section["verdicts"]:
            status = "holds" if verdict.holds else "does not hold"
            lines.append(
                f"- **{verdict.id}** ({verdict.quantity}): expected {_format(verdict.expected)}, "
                f"measured {_format(verdict.measured)} "
                f"[{_format(verdict.ci_low)}, {_format(verdict.ci_high)}]: {status} "
                f"({verdict.criterion}). {verdict.note}".rstrip()
            )
        if section["verdicts"]:
            lines.append("")
        for number, (filename, caption) in enumerate(section["figures"], start=1):
            lines += [f"![{caption}]({filename})", "", f"*Figure {measurement.label}.{number}.* {caption}", ""]
        if section["datasets"]:
            lines.append("Datasets: " + ", ".join(f"`{name}`" for name in section["datasets"]) + ".")
            lines.append("")
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)
