"""Start-up time of the command line: `neurophase --help`, `neurophase models`, `import neurophase`.

Each command runs as its own process, warm (the first run of each is discarded: it fills the
operating system's file cache and Python's bytecode cache), ``--runs`` times; the script prints
the median and the fastest wall time next to the target of issue 13 (under 1 s warm), and the
heavy modules each one imports (none is the goal: Brian2, pynwb, neo, dask are imported only by
the subcommands that run them).

    python benchmarks/startup.py            # 7 runs each
    python benchmarks/startup.py --runs 15
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time

TARGET_SECONDS = 1.0
HEAVY = ("brian2", "pynwb", "neo", "dask", "distributed", "xarray", "scipy", "matplotlib")


def _command(name):
    executable = shutil.which("neurophase")
    if name == "import neurophase":
        return [sys.executable, "-c", "import neurophase"]
    arguments = name.split()[1:]
    return [executable, *arguments] if executable else [sys.executable, "-m", "neurophase.cli", *arguments]


def _heavy_imports(name):
    code = {"import neurophase": "import neurophase",
            "neurophase --help": "from neurophase.cli import main; main(['--help'])",
            "neurophase models": "from neurophase.cli import main; main(['models'])"}[name]
    script = "import sys, io, contextlib\nwith contextlib.redirect_stdout(io.StringIO()):\n"
    script += "".join(f"    {line}\n" for line in code.splitlines())
    script += f"print(__import__('json').dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"{'command':<20} {'median (s)':>10} {'fastest (s)':>11} {'target (s)':>10}  heavy modules imported")
    for name in ("neurophase --help", "neurophase models", "import neurophase"):
        command = _command(name)
        subprocess.run(command, capture_output=True, check=True)  # warm-up, discarded
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True)
            times.append(time.perf_counter() - started)
        heavy = _heavy_imports(name)
        print(f"{name:<20} {statistics.median(times):>10.3f} {min(times):>11.3f} {TARGET_SECONDS:>10.1f}  "
              f"{', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
