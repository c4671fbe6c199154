"""What `pip install .` installs: every subpackage of neurophase is listed in setup.cfg.

A subpackage missing from ``[options] packages`` works in the source checkout and in an editable
install but is absent from a normal install (the README's first command), so the omission would
only show on a fresh machine.
"""

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_installed():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = {line.strip() for line in config["options"]["packages"].splitlines() if line.strip()}
    found = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "neurophase").rglob("__init__.py")
             if "__pycache__" not in path.parts}
    assert found <= listed, f"add to setup.cfg [options] packages: {sorted(found - listed)}"
