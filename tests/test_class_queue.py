"""The fair queue in a class: the worker pool serves workspaces (learners) round robin, and in class mode a queued
run's status says its place and its expected wait, from measured epoch times."""

from __future__ import annotations

import itertools
import threading

from nnplay.classroom import wait
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.jobs import JobSpec, QueuePosition
from nnplay.jobs.local import LocalJob, LocalPool, _Worker
from nnplay.runs import REGISTRY, Run, progress_text, status_text
from nnplay.sweeps.estimate import Measured

QUICK = DataConfig(train_limit=1000, test_limit=500)


def idle_pool(workers: int = 1) -> LocalPool:
    """A LocalPool's queue without its processes: every worker busy with nothing, so jobs wait."""
    pool = LocalPool.__new__(LocalPool)
    pool._lock, pool._queue, pool._last_start, pool._starts = threading.RLock(), [], {}, itertools.count()
    pool.strict, pool._closing = False, False
    pool._workers = [_Worker(i, None) for i in range(workers)]
    return pool


def queue(pool: LocalPool, workspace: str, n: int = 1, epochs: int = 2) -> list[LocalJob]:
    jobs = []
    for _ in range(n):
        spec = JobSpec(f"{workspace}{len(pool._queue)}", workspace, QUICK, ModelConfig(), TrainConfig(epochs=epochs))
        jobs.append(LocalJob(spec, lambda event: None, pool))
        pool._queue.append(jobs[-1])
    return jobs


def test_the_queue_is_round_robin_between_workspaces():
    pool = idle_pool()
    queue(pool, "ann", 3)  # the first learner queues three runs before the others queue one each
    queue(pool, "bob", 2)
    queue(pool, "cy", 1)
    assert [j.spec.workspace for j in pool._order()] == ["ann", "bob", "cy", "ann", "bob", "ann"]
    pool._last_start["ann"] = next(pool._starts)  # ann started a run last: the next round serves the others first
    assert [j.spec.workspace for j in pool._order()][:3] == ["bob", "cy", "ann"]


def test_the_expected_wait_walks_the_queue_in_its_order():
    pool = idle_pool(workers=2)
    a1, a2 = queue(pool, "ann", 2)
    (b1,) = queue(pool, "bob", 1)
    (c1,) = queue(pool, "cy", 1)
    measured = [Measured("mlp", 203_530, 64, 0.01)]  # 0.01 s per image and epoch: a run of 1,000 × 2 takes 20 s
    waits = wait.expected_waits(pool, measured)
    # served ann, bob, cy, ann: two start at once, the next two when those two are done
    assert waits == {a1.run_id: 0.0, b1.run_id: 0.0, c1.run_id: 20.0, a2.run_id: 20.0}
    assert wait.expected_waits(pool, []) == {}  # nothing measured: no estimate


def test_a_queued_runs_progress_says_its_place_and_wait_in_class_mode(monkeypatch):
    class Backend:
        size = 1

        def __init__(self):
            self.jobs = []

        def queued(self):
            return self.jobs

        def running(self):
            return []

    class Job:
        def __init__(self, run, backend, n):
            self.run_id, self.spec, self._backend, self.n = run.id, JobSpec(run.id, "ann", QUICK, ModelConfig(),
                                                                             TrainConfig(epochs=2)), backend, n

        def position(self):
            return QueuePosition(self.n, 2, "all 1 worker is busy")

    backend = Backend()
    first, second = (Run(name, QUICK, ModelConfig(), TrainConfig(epochs=2)) for name in ("first", "second"))
    for n, run in enumerate((first, second), 1):
        run.job = Job(run, backend, n)
        backend.jobs.append(run.job)
        REGISTRY[run.id] = run
    monkeypatch.setattr(wait, "measured_here", lambda store, workspace: [Measured("mlp", 203_530, 64, 0.01)])
    monkeypatch.delenv("NNPLAY_CLASS", raising=False)
    assert progress_text(second) == "queued, position 2 of 2: all 1 worker is busy"  # as before outside class mode
    monkeypatch.setenv("NNPLAY_CLASS", "1")
    wait._cache.clear()
    assert progress_text(first) == "queued, position 1 of 2: all 1 worker is busy · next to start"
    assert progress_text(second) == ("queued, position 2 of 2: all 1 worker is busy · about 20 s to wait "
                                     "(from measured epoch times)")
    # the status stays the place alone: a live view reruns its page when the status changes
    assert status_text(second) == "queued, position 2 of 2: all 1 worker is busy"
