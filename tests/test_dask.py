"""Dask that works on first use: a real `dask scheduler` and two plain `dask worker` processes.

The cluster runs on 127.0.0.1 with free ports; its processes are started here and stopped by
PID (each in its own session, so that a worker's nanny and worker process go together). The
workers are plain: no `--preload`, so the first task imports Brian2 in a worker thread unless
neurophase's worker plugin did it in the worker's main thread (issue 8: "signal only works in main
thread of the main interpreter").
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import xarray as xr

from neurophase.errors import SchedulerError
from neurophase.micro.chunks import VOLATILE_ATTRS
from neurophase.micro.neurone import firing_curve

pytestmark = pytest.mark.brian2


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(*arguments, log):
    return subprocess.Popen([sys.executable, "-m", "dask", *arguments], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(process):
    """Stop a process started by _start, and its children, by its PID (its session's group)."""
    if process.poll() is None:
        for sent in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sent)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=15)
                break
            except subprocess.TimeoutExpired:
                continue


class Cluster:
    def __init__(self, folder):
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.log = open(folder / "dask.log", "w")
        self.scheduler = _start("scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                "--no-dashboard", log=self.log)
        self.workers = [self.add_worker(name) for name in ("first", "second")]

    def add_worker(self, name):
        return _start("worker", self.address, "--nthreads", "1", "--no-dashboard", "--name", name,
                      "--host", "127.0.0.1", log=self.log)

    def client(self):
        from distributed import Client

        return Client(self.address, timeout=60)

    def close(self):
        for process in self.workers + [self.scheduler]:
            _stop(process)
        self.log.close()


@pytest.fixture
def cluster(tmp_path):
    started = Cluster(tmp_path)
    try:
        with started.client() as client:
            client.wait_for_workers(2, timeout=180)
        yield started
    finally:
        started.close()


def _without_volatile(dataset):
    dataset = dataset.copy()
    for name in VOLATILE_ATTRS:
        dataset.attrs.pop(name, None)
    return dataset


def _noisy_grid(executor, chunk_size=6, duration="300 ms"):
    from brian2 import ms, pA

    return firing_curve("leaky_integrate_and_fire", np.arange(150.0, 350.0, 20.0) * pA,
                        duration=float(duration.split()[0]) * ms, noise=30 * pA, seeds=3, seed=5,
                        executor=executor, chunk_size=chunk_size)


def test_plain_dask_workers_run_a_chunked_grid_identical_to_the_serial_run(cluster):
    serial = _noisy_grid("serial")
    distributed = _noisy_grid(cluster.address)
    assert serial.attrs["chunks"] == 5 and distributed.attrs["chunks"] == 5  # 10 levels x 3 trials / 6
    xr.testing.assert_identical(_without_volatile(distributed), _without_volatile(serial))
    assert np.all(serial["spike_count"].values[-1] > 0)  # the grid does fire: a real comparison


def test_a_worker_killed_mid_run_changes_nothing_and_no_worker_is_a_clear_error(cluster):
    reference = _noisy_grid("serial", chunk_size=3, duration="3000 ms")
    result = {}
    thread = threading.Thread(target=lambda: result.update(
        dataset=_noisy_grid(cluster.address, chunk_size=3, duration="3000 ms")))
    thread.start()
    with cluster.client() as client:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # until the second worker is running a chunk
            busy = {info["name"]: len(client.processing().get(address, ()))
                    for address, info in client.scheduler_info()["workers"].items()}
            if busy.get("second"):
                break
            time.sleep(0.2)
        assert busy.get("second"), "the second worker never ran a chunk"
        time.sleep(1.0)
        _stop(cluster.workers[1])  # the whole `dask worker` (nanny and worker), by PID
        thread.join(timeout=600)
        assert not thread.is_alive()
        xr.testing.assert_identical(_without_volatile(result["dataset"]), _without_volatile(reference))
        # now no worker at all: a clear error naming the unfinished chunks, not a silent wait
        _stop(cluster.workers[0])
        from neurophase.sweep import DaskExecutor

        with pytest.raises(SchedulerError, match=r"has had no worker for \d+ s, so chunk 0 .*cannot finish"):
            with DaskExecutor(cluster.address, worker_timeout=3) as executor:
                _noisy_grid(executor)


EXPERIMENT = """
[experiment]
name = "cluster"
title = "Three small measurements on a Dask cluster"

[execution]
seed = 17

[[measurement]]
function = "independent_channels"
label = "first"
N = 200
trials = 3
temperatures = [1.0, 2.0]
duration = "40 ms"

[[measurement]]
function = "independent_channels"
label = "second"
N = 100
trials = 3
temperatures = [0.5]
duration = "40 ms"

[[measurement]]
function = "zero_temperature"
label = "third"
N = 100
trials = 2
temperatures = [0.5, 0.2]
"""


def test_an_experiment_on_plain_dask_workers_equals_the_serial_run(cluster, tmp_path):
    from neurophase.check.verdicts import read_verdicts_csv
    from neurophase.experiments import run_experiment
    from neurophase.io import load_dataset

    path = tmp_path / "cluster.toml"
    path.write_text(EXPERIMENT)
    serial = run_experiment(path, tmp_path / "serial", progress=False)
    distributed = run_experiment(path, tmp_path / "distributed", scheduler=cluster.address, progress=False)
    assert not (tmp_path / "distributed.partial").exists()
    assert read_verdicts_csv(tmp_path / "serial" / "verdicts.csv") == read_verdicts_csv(
        tmp_path / "distributed" / "verdicts.csv")
    assert [v.measured for v in serial["verdicts"]] == [v.measured for v in distributed["verdicts"]]
    names = sorted(path.name for path in (tmp_path / "serial").glob("*.nc"))
    assert names == sorted(path.name for path in (tmp_path / "distributed").glob("*.nc")) and names
    for name in names:
        one, other = load_dataset(tmp_path / "serial" / name), load_dataset(tmp_path / "distributed" / name)
        for dataset in (one, other):  # the time of creation and wall times differ between runs
            for key in [key for key in dataset.attrs if key == "created" or key.startswith("wall_")]:
                dataset.attrs.pop(key)
        xr.testing.assert_identical(one, other)


def test_local_cluster_works_on_first_use_and_a_worker_killing_task_is_named():
    import dask

    from neurophase.sweep import DaskExecutor, TaskFailure

    # allowed-failures: how often the scheduler re-runs a task whose worker died (LocalCluster's
    # scheduler runs in this process, so the setting applies)
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with DaskExecutor(None, workers=2) as executor:
            local = _noisy_grid(executor)
            xr.testing.assert_identical(_without_volatile(local), _without_volatile(_noisy_grid("serial")))
            # os._exit kills the worker process running it, every time it is retried
            with pytest.raises(TaskFailure) as caught:
                list(executor.as_completed(os._exit, [3], ["measurement 'doomed' (test)"]))
    assert isinstance(caught.value.error, SchedulerError)
    assert str(caught.value.error).startswith(
        "measurement 'doomed' (test) was lost: the Dask workers running it died several times (KilledWorker")
