"""What the benchmark scripts share: child processes that report one JSON line, temporary folders.

Every measurement runs in a process of its own, so that its peak memory and its Brian2 device
are its own; the child prints its result as one line ``<TAG>{json}`` among whatever else it
prints. The scripts import this file as a sibling module (``python benchmarks/<script>.py``
puts this folder on ``sys.path``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path


def tagged_result(command: Sequence[str], tag: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                  label: str | None = None) -> dict:
    """Run ``command`` and return the JSON of the last standard-output line that starts with ``tag``.

    Raises RuntimeError, with the end of the child's standard error, when the child fails or
    prints no such line; ``label`` names the run in that message (default: the command).
    """
    completed = subprocess.run(list(command), capture_output=True, text=True, env=env, cwd=cwd)
    lines = [line for line in completed.stdout.splitlines() if line.startswith(tag)]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"{label or ' '.join(map(str, command))} failed (status {completed.returncode}):\n"
                           f"{completed.stderr[-3000:]}")
    return json.loads(lines[-1][len(tag):])


def environment(**updates: object) -> dict[str, str]:
    """This process's environment with ``updates`` (as strings; None leaves a variable as it is)."""
    variables = dict(os.environ)
    variables.update({key: str(value) for key, value in updates.items() if value is not None})
    return variables


@contextlib.contextmanager
def temporary_folder(prefix: str) -> Iterator[Path]:
    """A new folder (e.g. a build cache of its own) for the ``with`` block, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def load_average() -> str:
    """The 1-minute load average, for the first and last line of a benchmark's output."""
    return f"load average {os.getloadavg()[0]:.2f}"
