"""The Ray backend (nnplay.jobs.ray_backend) against a real two-node Ray cluster on this machine.

A module fixture starts the cluster on 127.0.0.1 (``ray.cluster_utils.Cluster``: a head and a
second node, 2 logical CPUs each) and always shuts down what it started. Through it go a sweep of
four short runs and two long ones at once: the four must finish with every event at the sink
(contiguous steps, each epoch's metrics and checkpoint, one JobEnd last), a stopped run ends
"stopped" with its model, step mode lets exactly the steps asked for through, a rate limit and a
watch (live weights) reach the actor, and a run whose Ray worker process is killed ends "error" without
hanging. Skipped when ray is not installed (``pip install -r requirements-ray.txt``).
"""

import os
import signal
import threading
import time

import pytest

# a one-machine cluster: keep Ray on the loopback (read when ray is imported)
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray")

from nnplay.checkpoint import load_checkpoint  # noqa: E402
from nnplay.config import DataConfig, ModelConfig, TrainConfig  # noqa: E402
from nnplay.engine import EpochMetrics, RunStart, StepEvent  # noqa: E402
from nnplay.jobs import Checkpoint, JobEnd, JobSpec, Weights  # noqa: E402

from .conftest import ROOT  # noqa: E402
from .test_jobs import Sink  # noqa: E402 - the same recording sink as the local pool's tests

pytestmark = pytest.mark.ray  # every test here uses the module's Ray cluster

TINY = DataConfig(data_dir=str(ROOT / "tests" / "no-such-data-dir"), download=False, train_limit=600, test_limit=200)


def spec(run_id, epochs=1, lr=1e-3):
    return JobSpec(run_id, "sweep", TINY, ModelConfig(hidden=(32,)),
                   TrainConfig(epochs=epochs, lr=lr, batch_size=100, log_every=3), name=run_id)


def backend_threads_left() -> list[str]:
    """The names of the Ray backend's threads still alive: none may be inside Ray when ``ray.shutdown`` comes
    (ray-project/ray#31145)."""
    return [t.name for t in threading.enumerate() if t.name.startswith("nnplay-ray") and t.is_alive()]


@pytest.fixture(scope="module")
def sweep():
    from ray.cluster_utils import Cluster

    from nnplay.jobs.ray_backend import RayBackend

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 2, "node_ip_address": "127.0.0.1", "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=2, node_ip_address="127.0.0.1")
        port = cluster.address.rsplit(":", 1)[1]
        backend = RayBackend(f"127.0.0.1:{port}", gpus_per_run=0.25, cpus_per_run=1, max_run_minutes=0)
        runs = {}
        for i, lr in enumerate((1e-3, 3e-3, 1e-2, 3e-2)):
            runs[f"short-{i}"] = (Sink(), spec(f"short-{i}", epochs=2, lr=lr))
        runs["to-stop"] = (Sink(), spec("to-stop", epochs=1000))
        runs["to-kill"] = (Sink(), spec("to-kill", epochs=1000))
        runs["to-step"] = (Sink(), spec("to-step", epochs=1000))
        jobs = {name: backend.submit(s, sink) for name, (sink, s) in runs.items()}
        yield backend, jobs, {name: sink for name, (sink, _) in runs.items()}
        backend.close(timeout=20)
        assert backend_threads_left() == []
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_ray_never_starts_or_joins_a_cluster_by_itself():
    """A reader thread's late Ray call after ``ray.shutdown`` fails; with Ray's auto-connect it would start a
    cluster of its own (or join the one it found) in the app's process."""
    from nnplay.jobs.ray_connect import import_ray

    if ray.is_initialized():
        pytest.skip("Ray is connected in this process already")
    import_ray()
    try:
        with pytest.raises(Exception, match="(?i)not (been )?(started|initialized)"):
            ray.put(1)
        assert not ray.is_initialized()
    finally:
        ray.shutdown()


def test_a_sweep_of_four_runs_finishes_with_every_event(sweep):
    backend, jobs, sinks = sweep
    assert "2 nodes, 4 CPUs" in backend.describe()
    for i in range(4):
        job, sink = jobs[f"short-{i}"], sinks[f"short-{i}"]
        assert job.wait(180), f"{job} did not finish"
        assert job.status == "finished", job.message
        start = sink.events[0]
        assert isinstance(start, RunStart) and start.steps_per_epoch == 6
        assert [e.step for e in sink.of(StepEvent)] == list(range(1, 13))  # no step lost or repeated
        assert [e.epoch for e in sink.of(EpochMetrics)] == [1, 2]
        assert [(c.epoch, c.final) for c in sink.of(Checkpoint)] == [(1, False), (2, False), (2, True)]
        assert isinstance(sink.events[-1], JobEnd) and sink.events[-1].status == "finished"
        model, cfg, meta = load_checkpoint(sink.of(Checkpoint)[-1].data)
        assert meta["run_id"] == f"short-{i}" and meta["step"] == 12
        assert 1 < sink.flushes < len(sink.events)  # in batches
    # different learning rates, different curves: each sink got its own run's events
    finals = {round(sinks[f"short-{i}"].of(StepEvent)[-1].loss, 6) for i in range(4)}
    assert len(finals) == 4


def test_stop_ends_a_running_ray_run_with_its_model(sweep):
    _, jobs, sinks = sweep
    job, sink = jobs["to-stop"], sinks["to-stop"]
    assert sink.step_seen.wait(180), "the long run never started"
    job.pause()
    assert job.status == "paused"
    job.resume()
    job.stop()
    assert job.wait(60), "stop did not reach the actor"
    assert job.status == "stopped" and job.message.startswith("stopped at step")
    assert sink.of(Checkpoint)[-1].final


def test_a_killed_ray_worker_ends_its_run_as_error(sweep):
    backend, jobs, sinks = sweep
    job, sink = jobs["to-kill"], sinks["to-kill"]
    assert sink.step_seen.wait(180), "the long run never started"
    pid = backend.actor_pid(job)
    assert pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    assert job.wait(60), "a killed Ray worker left its run hanging"
    assert job.status == "error" and job.message.startswith("the Ray worker training this run died")
    assert sink.of(StepEvent) and isinstance(sink.events[-1], JobEnd)


def _steps_settle(sink, quiet: float = 1.0, timeout: float = 60) -> int:
    """The number of steps the sink holds once none arrived for ``quiet`` seconds."""
    end = time.monotonic() + timeout
    count, since = len(sink.of(StepEvent)), time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.1)
        now = len(sink.of(StepEvent))
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return count
    raise AssertionError("the run's steps never settled")


def test_step_mode_rate_and_watch_reach_a_ray_run(sweep):
    _, jobs, sinks = sweep
    job, sink = jobs["to-step"], sinks["to-step"]
    assert sink.step_seen.wait(180), "the long run never started"
    job.pause()
    before = _steps_settle(sink)
    job.step(3)  # exactly three more batches, each reported at once
    end = time.monotonic() + 60
    while len(sink.of(StepEvent)) < before + 3 and time.monotonic() < end:
        time.sleep(0.05)
    assert _steps_settle(sink) == before + 3
    assert [e.step for e in sink.of(StepEvent)][-3:] == [before + 1, before + 2, before + 3]
    weights = len(sink.of(Weights))
    job.watch(10)
    job.step(1)  # a watched run in step mode sends its weights with the step
    end = time.monotonic() + 60
    while len(sink.of(Weights)) == weights and time.monotonic() < end:
        time.sleep(0.05)
    assert len(sink.of(Weights)) > weights and sink.of(Weights)[-1].step == before + 4
    job.set_rate(10.0)  # then at most 10 steps a second
    job.resume()
    time.sleep(0.5)
    start = len(sink.of(StepEvent))
    time.sleep(3.0)
    taken = len(sink.of(StepEvent)) - start
    assert 5 <= taken <= 45, taken  # ~30, give or take a log burst on each side
    job.stop()
    assert job.wait(60) and job.status == "stopped"


def test_a_ray_run_trains_on_the_digits_its_spec_carries_not_on_the_apps_file(sweep, tmp_path):
    import dataclasses

    import numpy as np

    from nnplay.handwriting.digits_npz import save_digits

    backend, _, _ = sweep
    path = tmp_path / "mine.npz"
    save_digits(path, np.zeros((40, 28, 28), np.uint8), np.full(40, 7, np.uint8))
    data = dataclasses.replace(TINY, extra_data=str(path), extra_weight=2, replay=0)
    job_spec = JobSpec("digits", "sweep", data, ModelConfig(hidden=(8,)), TrainConfig(epochs=1, batch_size=20))
    path.unlink()  # the worker must not need it: a Ray node has none of the app's files
    sink = Sink()
    job = backend.submit(job_spec, sink)
    assert job.wait(180) and job.status == "finished", job.message
    assert sink.of(RunStart)[0].train_size == 80  # the 40 digits twice, no MNIST image (replay 0)
