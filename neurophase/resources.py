"""Where the shipped model and experiment files live, for source checkouts and installs alike.

The top-level ``models/`` and ``experiments/`` folders of the repository are installed as the
data packages ``neurophase._models`` and ``neurophase._experiments`` (see ``setup.cfg``,
``package_dir``), so ``pip install .`` carries them and :func:`models_directory` finds them
without a source checkout.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["models_directory", "experiments_directory", "list_models", "list_experiments"]

_REPOSITORY = Path(__file__).resolve().parent.parent


def _locate(installed_name, folder):
    installed = Path(__file__).resolve().parent / installed_name
    if installed.is_dir() and any(installed.glob("*.toml")):
        return installed
    return _REPOSITORY / folder


def models_directory():
    """The folder holding the library's model files (``*.toml``)."""
    return _locate("_models", "models")


def experiments_directory():
    """The folder holding the shipped experiment files (``*.toml``)."""
    return _locate("_experiments", "experiments")


def list_models():
    """Names of the library models, sorted."""
    return sorted(path.stem for path in models_directory().glob("*.toml"))


def list_experiments():
    """Names of the shipped experiments, sorted."""
    return sorted(path.stem for path in experiments_directory().glob("*.toml"))
