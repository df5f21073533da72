"""Warm Ray actors (nnplay.jobs.ray_backend) on a real two-node Ray cluster on this machine (1 CPU each).

The backend starts one actor per CPU as it connects; runs then reuse them: each run trains in one of the
actors that warmed up (no new actor, no new process), each actor decodes the data once whatever the number
of runs, and an idle actor that died is replaced without failing the run given to it.
Skipped when ray is not installed.
"""

import os
import signal

import pytest

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a one-machine cluster stays on the loopback
ray = pytest.importorskip("ray")

from nnplay.config import DataConfig, ModelConfig, TrainConfig  # noqa: E402
from nnplay.jobs import JobSpec  # noqa: E402

from .conftest import ROOT  # noqa: E402
from .test_jobs import Sink  # noqa: E402
from .test_jobs_ray import backend_threads_left  # noqa: E402

pytestmark = pytest.mark.ray

TINY = DataConfig(data_dir=str(ROOT / "tests" / "no-such-data-dir"), download=False, train_limit=300, test_limit=100)


def spec(run_id):
    return JobSpec(run_id, "warm", TINY, ModelConfig(hidden=(16,)), TrainConfig(epochs=1, batch_size=100, log_every=1))


@pytest.fixture(scope="module")
def warm():
    from ray.cluster_utils import Cluster

    from nnplay.jobs.ray_backend import RayBackend

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
        port = cluster.address.rsplit(":", 1)[1]
        backend = RayBackend(f"127.0.0.1:{port}", cpus_per_run=1, max_run_minutes=0, preload=TINY)
        assert backend.wait_ready(180), "the warm actors did not start"
        yield backend
        backend.close(timeout=20)
        assert backend_threads_left() == []
    finally:
        ray.shutdown()
        cluster.shutdown()


def actor_pids(backend) -> set[int]:
    with backend._lock:
        handles = [w.handle for w in backend._workers]
    return set(ray.get([h.pid.remote() for h in handles], timeout=60))


def test_runs_reuse_the_warm_actors_and_their_data(warm):
    backend = warm
    assert backend.worker_count() == 2  # one per CPU of the cluster, before any run
    before = actor_pids(backend)
    trained_in = set()
    for i in range(4):  # one after another: each takes an idle warm actor
        job = backend.submit(spec(f"again-{i}"), Sink())
        trained_in.add(backend.actor_pid(job))
        assert job.wait(120) and job.status == "finished", job.message
    assert trained_in <= before and backend.worker_count() == 2 and actor_pids(backend) == before
    with backend._lock:
        handles = [w.handle for w in backend._workers]
    assert ray.get([h.decoded.remote() for h in handles], timeout=60) == [1, 1]  # decoded once, as it warmed up


def test_four_runs_at_once_share_the_two_actors(warm):
    backend = warm
    sinks = [Sink() for _ in range(4)]
    jobs = [backend.submit(spec(f"together-{i}"), sink) for i, sink in enumerate(sinks)]
    waiting = [job.position() for job in jobs if job.position() is not None]
    assert waiting and all("waiting for room on the Ray cluster" in p.reason for p in waiting)
    for job in jobs:
        assert job.wait(180) and job.status == "finished", job.message
    assert backend.worker_count() == 2


def test_an_idle_actor_that_died_is_replaced_and_the_run_still_trains(warm):
    backend = warm
    victim = sorted(actor_pids(backend))[0]
    os.kill(victim, signal.SIGKILL)
    jobs = [backend.submit(spec(f"after-kill-{i}"), Sink()) for i in range(2)]
    for job in jobs:
        assert job.wait(180) and job.status == "finished", job.message
    assert backend.worker_count() == 2 and victim not in actor_pids(backend)
