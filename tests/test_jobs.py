"""The local worker pool (nnplay.jobs.local): runs in worker processes, events to a sink, control, faults.

A run trained in a worker must deliver exactly what the engine reports in-process (the same
losses and weights as a reference run here), in batches, with a checkpoint per epoch and one
JobEnd last; stop, pause and resume reach it; the queue is fair across workspaces; a killed
worker or a run that does not fit in memory ends as "error" while the pool goes on; the time
cap stops a run with its model; and a pool's workers die with the process that owns them.
"""

import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import weakref

import pytest
import torch

from nnplay.checkpoint import load_checkpoint
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.data import load_mnist
from nnplay.engine import EpochMetrics, History, LayerStats, RunEnd, RunStart, StepEvent, seeded_model, train
from nnplay.jobs import Checkpoint, JobEnd, JobSpec, QueuePosition, Result, Weights, local
from nnplay.jobs.local import WORKER_NICE, LocalPool, death_sentence, fills_cores, pool_size, worker_nice
from nnplay.jobs.pool_worker import freeze_long_lived

from .conftest import ROOT

# the built-in sample (no data dir with files, no download): the same in every process
SAMPLE = DataConfig(data_dir=str(ROOT / "tests" / "no-such-data-dir"), download=False)
TINY = DataConfig(data_dir=SAMPLE.data_dir, download=False, train_limit=1000, test_limit=200)


class Sink:
    """Records every event and every flush (a batch boundary), as a store's recorder would."""

    def __init__(self):
        self.events = []
        self.flushes = 0
        self.threads = set()
        self.step_seen = threading.Event()
        self.checkpoint_seen = threading.Event()
        self.weights_seen = threading.Event()  # a paused run sends its weights as it stops to wait

    def __call__(self, event):
        self.events.append(event)
        self.threads.add(threading.current_thread().name)
        if isinstance(event, StepEvent):
            self.step_seen.set()
        if isinstance(event, Checkpoint):
            self.checkpoint_seen.set()
        if isinstance(event, Weights):
            self.weights_seen.set()

    def flush(self):
        self.flushes += 1

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]


def spec(run_id, workspace="ws", epochs=2, hidden=(32,), data=TINY, **train):
    return JobSpec(run_id, workspace, data, ModelConfig(hidden=hidden),
                   TrainConfig(epochs=epochs, batch_size=100, log_every=5, **train), name=run_id)


def long_spec(run_id, workspace="ws"):
    """A run that trains for minutes unless stopped (1000 epochs of 1,000 images)."""
    return spec(run_id, workspace, epochs=1000)


@pytest.fixture(scope="module")
def pool():
    # a CPU pool, as on a machine without a GPU: the core accounting below is the CPU's
    p = LocalPool(workers=2, threads=1, preload=SAMPLE, max_run_minutes=0, memory_mb=0, gpus=0)
    assert p.wait_ready(180), "the workers did not start"
    pids = p.worker_pids()
    yield p
    p.close(timeout=10)
    for pid in pids + p.worker_pids():
        assert not alive(pid), f"worker {pid} still runs after close()"


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\nState:\tZ" not in f.read()
    except FileNotFoundError:
        return False


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_pool_size_follows_the_machine():
    assert pool_size(cores=2, gpus=0) == (2, 1)      # small CPU: one thread per worker
    assert pool_size(cores=16, gpus=0) == (4, 4)     # 4 workers × 4 threads = 16 cores
    assert pool_size(cores=16, gpus=2) == (2, 8)     # one worker per GPU
    assert pool_size(workers=3, cores=12, gpus=0) == (3, 4)
    with pytest.raises(ValueError, match="at least 1 worker"):
        pool_size(workers=0, cores=4, gpus=0)


def test_the_cores_are_full_when_the_busy_workers_threads_take_all_of_them():
    """When whatever else runs on this machine comes out of the runs' time (ui.live's calm view)."""
    assert fills_cores(1, 2, 0, cores=2)          # NNPLAY_WORKERS=1 on 2 cores, its run training
    assert fills_cores(1, 16, 0, cores=16)
    assert fills_cores(2, 1, 0, cores=2)          # the default pool on 2 cores (2 workers of 1 thread), both busy
    assert not fills_cores(1, 1, 0, cores=2)      # ...one of them busy: a core is left
    assert fills_cores(4, 4, 0, cores=16) and not fills_cores(3, 4, 0, cores=16)
    assert fills_cores(1, 1, 0, cores=1)
    assert not fills_cores(0, 2, 0, cores=2)      # nothing training
    assert not fills_cores(2, 8, 2, cores=16)     # GPU workers: their runs wait on the GPU, not on these cores
    from nnplay.jobs import Backend

    assert Backend().cores_full() is False  # Ray, and any backend that does not say otherwise


@pytest.mark.pool
def test_workers_train_at_a_lower_priority_than_the_app(pool):
    """The app's pages are served first; training takes the CPU they leave (NNPLAY_WORKER_NICE, default 10)."""
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    expected = min(19, ours + WORKER_NICE)
    assert wait_for(lambda: all(os.getpriority(os.PRIO_PROCESS, pid) == expected for pid in pool.worker_pids()), 30)
    # against other programs too: Linux shares the CPU between sessions before niceness counts, so each worker
    # leads a session of its own, and that session is as nice (where the kernel has autogroups)
    assert all(os.getsid(pid) == pid != os.getsid(0) for pid in pool.worker_pids())
    for pid in pool.worker_pids():
        if os.path.exists(f"/proc/{pid}/autogroup"):
            with open(f"/proc/{pid}/autogroup") as f:
                assert f.read().split()[-1] == str(WORKER_NICE)


@pytest.mark.pool
def test_a_run_in_a_worker_reports_what_the_engine_reports_here(pool):
    s = spec("match", epochs=2)
    sink = Sink()
    job = pool.submit(s, sink)
    assert job.wait(120), job.status
    assert job.status == "finished", job.message

    # the reference: the same configs trained in this process, on one thread as the worker does
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ref = History()
        model = seeded_model(s.model, s.train.seed)
        train(model, load_mnist(s.data), s.train, on_event=ref)
    finally:
        torch.set_num_threads(threads)

    assert isinstance(sink.events[0], RunStart) and isinstance(sink.events[-1], JobEnd)
    assert sink.of(RunStart)[0].parameters == ref.start.parameters
    losses = [e.loss for e in sink.of(StepEvent)]
    assert [e.step for e in sink.of(StepEvent)] == [e.step for e in ref.steps] == list(range(1, 21))
    assert losses == pytest.approx([e.loss for e in ref.steps], rel=1e-4, abs=1e-5)
    assert [e.test_accuracy for e in sink.of(EpochMetrics)] == pytest.approx([e.test_accuracy for e in ref.epochs], abs=0.006)
    assert len(sink.of(LayerStats)) == len(ref.layer_stats) == 4
    assert sink.of(RunEnd)[0].status == "finished"

    # a checkpoint after each epoch and a final one, each a complete nnplay checkpoint file
    checkpoints = sink.of(Checkpoint)
    assert [(c.epoch, c.final) for c in checkpoints] == [(1, False), (2, False), (2, True)]
    final, cfg, meta = load_checkpoint(checkpoints[-1].data)
    assert cfg == s.model and meta["run_id"] == "match" and meta["step"] == 20
    for name, value in model.state_dict().items():
        assert torch.allclose(final.state_dict()[name].cpu(), value.cpu(), atol=1e-4), name  # trained on a GPU if any
    assert job.last_checkpoint is checkpoints[-1]

    # batches, not one message per step; delivered by the pool's reader thread, not this one
    assert 3 <= sink.flushes < len(sink.events) / 3
    assert sink.threads and all(t.startswith("nnplay-pool-reader") for t in sink.threads)


@pytest.mark.pool
def test_stop_pause_and_resume_reach_a_running_run(pool, monkeypatch):
    sink = Sink()
    assert not pool.cores_full()
    job = pool.submit(long_spec("controls"), sink)
    assert sink.step_seen.wait(60)
    monkeypatch.setattr(local, "machine_cores", lambda: 2)
    assert not pool.cores_full()  # 1 of 2 workers of 1 thread busy on 2 cores
    monkeypatch.setattr(local, "machine_cores", lambda: 1)
    assert pool.cores_full() and job.cores_full
    job.pause()
    assert job.status == "paused"
    assert not pool.cores_full()  # a paused run holds its worker, not its core
    # the run sends the steps it holds and its weights as it stops to wait: every step before the pause is here
    assert sink.weights_seen.wait(30), "the pause did not land"
    steps_paused = len(sink.of(StepEvent))
    time.sleep(1.0)
    assert len(sink.of(StepEvent)) == steps_paused, "steps kept coming while paused"
    job.resume()
    assert job.status == "running" and pool.cores_full()
    assert wait_for(lambda: len(sink.of(StepEvent)) > steps_paused + 10, 30), "no steps after resume"
    job.stop()
    assert job.wait(30), "stop did not end the run"
    assert job.status == "stopped" and job.message.startswith("stopped at step")
    assert sink.of(Checkpoint)[-1].final and isinstance(sink.events[-1], JobEnd)


@pytest.mark.pool
def test_queue_is_fair_across_workspaces_and_says_why(pool, monkeypatch):
    a1, b1 = Sink(), Sink()
    jobs = {"a1": pool.submit(long_spec("a1", "alice"), a1), "b1": pool.submit(long_spec("b1", "bob"), b1)}
    assert a1.step_seen.wait(60) and b1.step_seen.wait(60)  # both workers busy
    monkeypatch.setattr(local, "machine_cores", lambda: 2)
    assert pool.cores_full()  # 2 workers of 1 thread on 2 cores: whatever else runs here slows them
    a2, c1 = Sink(), Sink()
    jobs["a2"] = pool.submit(long_spec("a2", "alice"), a2)
    jobs["c1"] = pool.submit(long_spec("c1", "carol"), c1)
    try:
        assert jobs["a2"].status == jobs["c1"].status == "queued"
        # carol's first run goes before alice's second, though alice asked first
        assert jobs["c1"].position() == QueuePosition(1, 2, "all 2 workers are busy")
        pos = jobs["a2"].position()
        assert (pos.n, pos.m) == (2, 2) and "run a1 is training" in pos.reason
        assert "position 2 of 2" in str(pos)
        assert jobs["a1"].position() is None
        jobs["a1"].stop()
        assert c1.step_seen.wait(60), "carol's run did not start when a worker became free"
        assert jobs["a2"].status == "queued" and not a2.events
        # a queued run that is stopped never starts, and says so
        jobs["a2"].stop()
        assert jobs["a2"].wait(5) and jobs["a2"].message == "stopped before it started"
        assert [type(e) for e in a2.events] == [JobEnd]
    finally:
        for job in jobs.values():
            job.stop()
        for job in jobs.values():
            assert job.wait(30), job


class SlowEnd(Sink):
    """A sink that holds the reader thread at the run's end until ``release`` is set (a slow store write)."""

    def __init__(self):
        super().__init__()
        self.at_end, self.release = threading.Event(), threading.Event()

    def __call__(self, event):
        if isinstance(event, JobEnd):
            self.at_end.set()
            self.release.wait(120)
        super().__call__(event)


@pytest.mark.pool
def test_a_free_worker_takes_the_next_run_while_the_last_ones_end_is_written(pool):
    busy, slow, after = Sink(), SlowEnd(), Sink()
    jobs = [pool.submit(long_spec("busy", "ws-a"), busy), pool.submit(spec("short", "ws-b", epochs=1), slow)]
    jobs.append(pool.submit(spec("after", "ws-c", epochs=1), after))
    try:
        assert slow.at_end.wait(120), "the short run did not end"
        assert jobs[2] in pool.running() and jobs[2].status == "running"  # sent to the worker the short run left
        assert not jobs[1].done  # its end is not recorded yet: nothing said it ended before it had
    finally:
        slow.release.set()
        for job in jobs:
            job.stop()
        for job in jobs:
            assert job.wait(60), job
    assert jobs[1].status == "finished" and isinstance(slow.events[-1], JobEnd)


@pytest.mark.pool
def test_a_killed_worker_ends_its_run_as_error_and_is_replaced(pool):
    sink = Sink()
    job = pool.submit(long_spec("doomed"), sink)
    assert sink.checkpoint_seen.wait(60), "no epoch finished"
    pid = job.worker.pid
    os.kill(pid, signal.SIGKILL)
    assert job.wait(30), "the run of a killed worker never ended"
    assert job.status == "error"
    assert job.message == death_sentence(-9, pid) and "SIGKILL" in job.message
    assert job.last_checkpoint is not None and job.last_checkpoint.epoch >= 1
    assert sink.of(EpochMetrics) and isinstance(sink.events[-1], JobEnd)
    # the pool replaced the worker and trains the next run
    assert wait_for(lambda: pid not in pool.worker_pids() and len(pool.worker_pids()) == 2, 30)
    after = Sink()
    nxt = pool.submit(spec("after-kill", epochs=1), after)
    assert nxt.wait(180) and nxt.status == "finished", nxt.message


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


@pytest.mark.pool
def test_a_killed_fork_server_ends_the_runs_of_its_workers_and_the_pool_starts_anew(pool):
    sink = Sink()
    job = pool.submit(long_spec("server-killed"), sink)
    assert sink.checkpoint_seen.wait(60), "no epoch finished"
    pids = pool.worker_pids()
    server = parent_of(job.worker.pid)
    assert server != os.getpid() and {parent_of(p) for p in pids} == {server}  # both forked from one server
    os.kill(server, signal.SIGKILL)
    assert job.wait(30), "the run of a worker whose fork server was killed never ended"
    assert job.status == "error" and "Its curves up to then are kept" in job.message, job.message
    # the workers left with their server; new ones come from a new server and train
    assert wait_for(lambda: not set(pids) & set(pool.worker_pids()) and len(pool.worker_pids()) == 2, 60)
    assert not any(alive(p) for p in pids)
    after = Sink()
    nxt = pool.submit(spec("after-server", epochs=1), after)
    assert nxt.wait(180) and nxt.status == "finished", nxt.message
    assert len({parent_of(p) for p in pool.worker_pids()} - {server, os.getpid()}) == 1  # one new server


@pytest.mark.pool
def test_time_limit_and_out_of_memory_in_a_capped_pool():
    capped = LocalPool(workers=1, threads=1, preload=SAMPLE, max_run_minutes=0.04, memory_mb=600)
    try:
        assert capped.wait_ready(180)
        pid = capped.worker_pids()[0]
        # seed 003's CNN made far too wide: 1024 channels at 28×28 for a batch of 256
        huge = JobSpec("huge", "ws", TINY, ModelConfig(family="cnn", channels=(1024, 1024, 1024), fc_width=625),
                       TrainConfig(epochs=1, batch_size=256))
        oom = capped.submit(huge, Sink())
        assert oom.wait(120) and oom.status == "error"
        assert oom.message.startswith("ran out of memory") and "smaller batch" in oom.message
        # the worker survived and the time cap (2.4 s) stops a long run with its model kept
        sink = Sink()
        job = capped.submit(long_spec("capped"), sink)
        assert job.wait(120)
        assert job.status == "stopped" and job.message.startswith("time limit: the operator caps a run at 0.04 minutes")
        assert "model so far is kept" in job.message
        assert sink.of(Checkpoint)[-1].final
        load_checkpoint(sink.of(Checkpoint)[-1].data)
        assert capped.worker_pids() == [pid]
    finally:
        capped.close()


@pytest.mark.pool
def test_workers_die_with_the_process_that_owns_the_pool(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from nnplay.jobs.local import LocalPool
        if __name__ == "__main__":
            pool = LocalPool(workers=1, threads=1, preload=None)
            pool.wait_ready(180)
            print(*pool.worker_pids(), flush=True)
            time.sleep(600)
    """)
    path = tmp_path / "owner.py"
    path.write_text(script)
    owner = subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in owner.stdout.readline().split()]
        assert pids and all(alive(p) for p in pids)
        owner.kill()  # SIGKILL: no atexit, no cleanup in the owner
        owner.wait(10)
        assert wait_for(lambda: not any(alive(p) for p in pids), 15), "orphaned workers outlived their pool"
    finally:
        owner.kill()


@pytest.mark.pool
def test_a_warm_worker_has_frozen_its_long_lived_objects(pool):
    """Its per-run collection then walks only the run's objects, not torch's modules and the data."""
    sink = Sink()
    job = pool.submit(JobSpec("frozen", "ws", TINY, call=("nnplay.jobs.pool_worker:frozen_objects", {})), sink)
    assert job.wait(120), job.status
    assert job.status == "finished", job.message
    assert sink.of(Result)[0].value > 10_000  # torch alone makes far more objects than that


def test_freezing_collects_the_garbage_first_and_later_garbage_is_still_collected():
    class Node:
        pass

    def cycle(freed: list) -> None:
        a, b = Node(), Node()
        a.other, b.other = b, a
        weakref.finalize(a, freed.append, True)

    before, after = [], []
    cycle(before)
    try:
        frozen = freeze_long_lived()
        assert frozen >= gc.get_freeze_count() > 0  # a frozen object another thread lets go of leaves the count
        assert before == [True]  # freed, not frozen forever
        cycle(after)
        gc.collect()
        assert after == [True]
    finally:
        gc.unfreeze()  # the test process keeps collecting as before


def test_death_sentences_say_what_happened():
    assert "killed by SIGKILL" in death_sentence(-9, 12) and "out-of-memory killer" in death_sentence(-9, 12)
    assert "killed by SIGTERM" in death_sentence(-15, 12) and "out-of-memory" not in death_sentence(-15, 12)
    assert "exited with code 3" in death_sentence(3, 12)


def test_bad_input_gets_a_sentence(monkeypatch):
    with pytest.raises(ValueError, match="run id"):
        JobSpec("", "ws")
    monkeypatch.setenv("NNPLAY_WORKERS", "two")
    with pytest.raises(ValueError, match="NNPLAY_WORKERS must be a whole number"):  # the start check's sentence
        pool_size(cores=2, gpus=0)
    monkeypatch.setenv("NNPLAY_WORKERS", "1.5")
    with pytest.raises(ValueError, match="whole number"):
        pool_size(cores=2, gpus=0)
    for bad in ("-1", "20", "low"):
        monkeypatch.setenv("NNPLAY_WORKER_NICE", bad)
        with pytest.raises(ValueError, match="NNPLAY_WORKER_NICE must be a whole number from 0 to 19"):
            worker_nice()
    monkeypatch.setenv("NNPLAY_WORKER_NICE", "0")
    assert worker_nice() == 0


def test_ray_address_without_ray_installed_says_what_to_install(monkeypatch):
    import nnplay.jobs as jobs

    monkeypatch.setenv("NNPLAY_RAY_ADDRESS", "auto")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    monkeypatch.setattr(jobs, "_backend", None)
    monkeypatch.setattr(jobs, "_failed", None)  # restored after the test: the failure is not remembered beyond it
    with pytest.raises(RuntimeError, match="requirements-ray.txt"):
        jobs.backend()
    assert jobs._backend is None
    # for a minute the same sentence comes at once (an unreachable cluster takes ~60 s per try), then it retries
    import nnplay.jobs.ray_backend as ray_backend

    tries = []
    monkeypatch.setattr(ray_backend, "RayBackend", lambda address, **_: tries.append(address) or 1 / 0)
    with pytest.raises(RuntimeError, match="requirements-ray.txt"):
        jobs.backend()
    assert tries == []
    monkeypatch.setattr(jobs, "RETRY_S", 0.0)
    with pytest.raises(ZeroDivisionError):
        jobs.backend()
    assert tries == ["auto"]


def test_a_dead_ray_worker_claims_only_what_is_on_disk():
    """Without a cluster: the sentence the Ray backend ends a run with, and what the run adds from its files."""
    from nnplay.jobs import Backend, Job
    from nnplay.jobs.ray_backend import death_sentence as ray_death_sentence
    from nnplay.runs import Run
    from nnplay.store import open_store

    said = ray_death_sentence(RuntimeError("The actor died unexpectedly\nworker log: …"))
    assert said == ("the Ray worker training this run died (RuntimeError: The actor died unexpectedly). Its curves "
                    "up to then are kept.")
    assert "checkpoint" not in said and "no details" in ray_death_sentence(RuntimeError(""))

    class DiesAtOnce(Backend):
        """A backend whose worker dies before the first epoch ends, as the Ray reader reports it."""

        def submit(self, spec, sink, data=None, commands=()):
            job = Job(spec, sink, self)
            job._deliver([RunStart(1, 10, 1000, 200, 6370, "cpu"), JobEnd("error", ray_death_sentence(RuntimeError("gone")))])
            return job

    run = Run("ray run", TINY, ModelConfig(hidden=(8,)), TrainConfig(epochs=1, device="cpu")).bind(open_store())
    run.start(backend=DiesAtOnce())
    assert run.status == "error"
    assert run.message == ("the Ray worker training this run died (RuntimeError: gone). Its curves up to then are "
                           "kept. No epoch had finished, so no model was kept."), run.message
