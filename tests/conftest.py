"""Shared fixtures: the shared recordings folder and the recordings test helpers (tests/recordings/)."""

import importlib.util
import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "recordings"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"neurophase_recordings_tests_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ephys_directory():
    """NEUROPHASE_EPHYS_DIR, else ../shared/data/ephys next to the repository root."""
    configured = os.environ.get("NEUROPHASE_EPHYS_DIR")
    if configured:
        return Path(configured)
    return HERE.parents[1].parent / "shared" / "data" / "ephys"


@pytest.fixture(scope="session")
def ephys_dir():
    directory = ephys_directory()
    if not (directory / "171116sh_0018.abf").exists():
        pytest.skip(f"shared recordings not found at {directory} (set NEUROPHASE_EPHYS_DIR to their folder)")
    return directory


@pytest.fixture(scope="session")
def synthetic():
    return _load("synthetic")


@pytest.fixture(scope="session")
def readme():
    return _load("readme_tables")


@pytest.fixture(scope="session")
def shared_datasets(ephys_dir):
    """Datasets of the three shared ABF files and the B6 Igor cell (built once per session)."""
    from neurophase.recordings.dataset import recording_dataset
    from neurophase.recordings.read import read_recording, read_recordings

    recordings = {name: read_recording(ephys_dir / name)
                  for name in ("171116sh_0018.abf", "171116sh_0019.abf", "18713001.abf")}
    recordings["B6"] = read_recordings([ephys_dir / "B6"], liquid_junction_potential="14 mV")[0]
    return {name: (recording, recording_dataset(recording)) for name, recording in recordings.items()}
