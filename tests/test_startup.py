"""Start-up: what `import neurophase`, building the parser and `neurophase models` import.

Facts about sys.modules in a fresh interpreter, not timings (the measured times are printed by
benchmarks/startup.py).
"""

import json
import subprocess
import sys

import pytest

HEAVY = ("brian2", "pynwb", "neo", "dask", "distributed", "xarray", "scipy", "matplotlib", "hdmf")


def _imported_after(code):
    script = (f"import sys\n{code}\n"
              f"print('RESULT' + __import__('json').dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    line = [row for row in completed.stdout.splitlines() if row.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


@pytest.mark.parametrize("code", [
    "import neurophase",
    "import neurophase.cli; neurophase.cli.build_parser()",
    "from neurophase.cli import main; main(['--help'])",
    "from neurophase.cli import main; main(['models'])",
    "from neurophase.cli import main; main(['experiments'])",
    "from neurophase.cli import main; main(['fi', '--help'])",
    "from neurophase.cli import main; main(['recordings', '--help'])",
    "from neurophase.cli import main; main(['fit', '--help'])",
    "from neurophase.cli import main; main(['coarse-grain', '--help'])",
    "from neurophase.cli import main; main(['population', '--help'])",
    "import neurophase.check.recordings_command",
])
def test_heavy_modules_are_imported_only_by_the_commands_that_run_them(code):
    code = code.replace("main(", "__import__('contextlib').suppress(SystemExit).__enter__(); main(")
    assert _imported_after(code) == []


def test_models_lists_every_library_model_from_the_toml_text_alone(capsys):
    from neurophase.cli import main
    from neurophase.micro.modelfile import load_model
    from neurophase.resources import list_models

    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(list_models())
    for name, line in zip(list_models(), lines):
        model = load_model(name)  # the full loader agrees with the header-only listing
        assert line == f"{name:<28} {model.title}  [{model.citation}]"


def test_fi_imports_brian2_without_pylab_and_pylab_still_imports_afterwards():
    """The fi command skips Brian2's `from pylab import *` (matplotlib.pyplot); Brian2 must still
    work (units, equations) and a later `import pylab` must give the real module."""
    code = ("import sys\n"
            "from neurophase.micro.commands import _import_brian2_without_pylab\n"
            "_import_brian2_without_pylab()\n"
            "skipped = 'matplotlib.pyplot' not in sys.modules and 'pylab' not in sys.modules\n"
            "import brian2\n"
            "eqs = brian2.Equations('dv/dt = -v / (10*ms) : volt')\n"
            "assert float((3 * brian2.mV) / brian2.volt) == 0.003 and 'v' in eqs.diff_eq_names\n"
            "import pylab\n"
            "print('RESULT' + __import__('json').dumps([skipped, hasattr(pylab, 'plot')]))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    line = [row for row in completed.stdout.splitlines() if row.startswith("RESULT")][-1]
    assert json.loads(line[len("RESULT"):]) == [True, True]
