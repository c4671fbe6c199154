"""Where the shipped model and experiment files live, for source checkouts and installs alike.

The top-level ``models/`` and ``experiments/`` folders of the repository are installed as the
data packages ``neurophase._models`` and ``neurophase._experiments`` (see ``setup.cfg``,
``package_dir``), so ``pip install .`` carries them and :func:`models_directory` finds them
without a source checkout.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

__all__ = ["models_directory", "experiments_directory", "list_models", "list_experiments",
           "model_header", "experiment_header"]

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


def _header(path, table, keys, kind):
    from neurophase.errors import ExperimentFileError, ModelFileError

    error_class = ModelFileError if kind == "model" else ExperimentFileError
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise error_class(f"{kind} file {path} cannot be read: {error}. Fix or remove it.") from error
    header = data.get(table)
    if not isinstance(header, dict):
        raise error_class(f"{kind} file {path} has no [{table}] table; add one with {', '.join(keys)}.")
    return {key: str(header.get(key, "")) for key in keys}


def model_header(name):
    """``name``, ``title``, ``citation`` and ``kind`` of a library model, read from the TOML
    text alone (no Brian2 objects are built: that is :func:`neurophase.micro.modelfile.load_model`)."""
    return _header(models_directory() / f"{name}.toml", "model",
                   ("name", "title", "citation", "kind"), "model")


def experiment_header(name):
    """``name``, ``title`` and ``description`` of a shipped experiment, read from its TOML text."""
    return _header(experiments_directory() / f"{name}.toml", "experiment",
                   ("name", "title", "description"), "experiment")
