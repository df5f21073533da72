"""The thread backend and the typed commands: what ``NNPLAY_WORKERS=0`` and every backend's controls rest on.

What lives here: ``jobs.backend()`` is the ``ThreadBackend`` with ``NNPLAY_WORKERS=0``; a job there sends the
same events as a pool worker's (RunStart, steps, epochs, a Checkpoint per epoch and a final one, one JobEnd),
delivered by a thread of its own, on the data the caller passed; step mode and stop reach it as commands; a
``JobSpec.call`` job sends its ``Result``; ``caught_up`` waits until a slow sink has every event sent (a paused
run's: every step it took); ``Job`` methods send typed commands (``jobs.commands``), which
refuse bad values and anything that is not a command. What does not: the pool (tests/test_jobs.py), a
``Run`` on top of it (tests/test_runs.py and the rest of the suite).
"""

from __future__ import annotations

import threading
import time

import pytest

import nnplay.jobs as jobs
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.engine import EpochMetrics, RunControl, RunStart, StepEvent
from nnplay.jobs import Checkpoint, Job, JobEnd, JobSpec, Result
from nnplay.jobs.commands import Pause, Resume, SetRate, Step, Stop, Watch, apply
from nnplay.jobs.threads import ThreadBackend


class Sink:
    def __init__(self):
        self.events, self.threads = [], set()
        self.steps = threading.Condition()

    def __call__(self, event):
        with self.steps:
            self.events.append(event)
            self.steps.notify_all()
        self.threads.add(threading.current_thread().name)

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, condition, timeout=60.0) -> bool:
        with self.steps:
            return self.steps.wait_for(condition, timeout)


def spec(run_id="t", epochs=2, data=None, **train) -> JobSpec:
    return JobSpec(run_id, "ws", data or DataConfig(train_limit=1000, test_limit=200), ModelConfig(hidden=(16,)),
                   TrainConfig(**{"epochs": epochs, "batch_size": 100, "log_every": 5, **train}))


def test_workers_0_makes_the_thread_backend():
    assert jobs.threads_enabled()  # tests/conftest.py sets NNPLAY_WORKERS=0
    assert isinstance(jobs.backend(), ThreadBackend) and jobs.backend() is jobs.thread_backend()


@pytest.mark.slow
def test_a_thread_job_sends_what_a_worker_sends_on_the_callers_data(tiny_data):
    backend, sink = ThreadBackend(), Sink()
    try:
        data = tiny_data.limited(500, 100)  # not what spec.data names: the caller's data is used as it is
        job = backend.submit(spec(), sink, data=data)
        assert job.wait(120) and job.status == "finished", job.message
    finally:
        backend.close()
    assert isinstance(sink.events[0], RunStart) and sink.events[0].train_size == 500
    assert len(sink.of(StepEvent)) == 10 and [e.epoch for e in sink.of(EpochMetrics)] == [1, 2]
    assert [(c.epoch, c.final) for c in sink.of(Checkpoint)] == [(1, False), (2, False), (2, True)]
    assert isinstance(sink.events[-1], JobEnd) and len(sink.of(JobEnd)) == 1
    assert sink.threads == {"nnplay-run-events-t"}  # delivered beside the training, as a pool's reader does


@pytest.mark.slow
def test_step_mode_and_stop_reach_a_thread_job(tiny_data):
    backend, sink = ThreadBackend(), Sink()
    try:
        job = backend.submit(spec(epochs=100), sink, data=tiny_data, commands=(Pause(), Step(2)))
        assert job.status == "paused"
        assert sink.wait_for(lambda: len(sink.of(StepEvent)) == 2)
        assert not sink.wait_for(lambda: len(sink.of(StepEvent)) > 2, 0.5)  # exactly the two let through
        job.step(1)
        assert sink.wait_for(lambda: len(sink.of(StepEvent)) == 3)
        job.resume()
        assert job.status == "running"
        job.stop()
        assert job.wait(60) and job.status == "stopped"
    finally:
        backend.close()
    assert sink.of(Checkpoint)[-1].final


class SlowSink(Sink):
    """A sink slower than the training: its deliveries lag behind what the run has sent."""

    def __call__(self, event):
        if isinstance(event, StepEvent):
            time.sleep(0.003)
        super().__call__(event)


@pytest.mark.slow
def test_caught_up_waits_for_a_lagging_sink_and_a_paused_run_to_rest(tiny_data):
    backend, sink = ThreadBackend(), SlowSink()
    try:
        job = backend.submit(spec(epochs=100, batch_size=10, log_every=1), sink, data=tiny_data)
        assert sink.wait_for(lambda: len(sink.of(StepEvent)) >= 5)
        job.pause()
        assert job.caught_up(60)
        steps = len(sink.of(StepEvent))
        assert steps == sink.of(StepEvent)[-1].step  # no step lost on the way
        assert not sink.wait_for(lambda: len(sink.of(StepEvent)) > steps, 0.5)  # all there: none comes while paused
        job.step(3)
        assert job.caught_up(60) and len(sink.of(StepEvent)) == steps + 3
        job.resume()
        assert sink.wait_for(lambda: len(sink.of(StepEvent)) > steps + 3)
        assert job.caught_up(60)
        job.stop()
        assert job.wait(60) and job.caught_up(0)  # an ended job is caught up
    finally:
        backend.close()


def test_a_backend_that_cannot_see_its_pipe_is_not_caught_up():
    job = Job(spec(), Sink(), jobs.Backend())
    assert job.caught_up(0) is False
    job._deliver([JobEnd("finished", "")])
    assert job.caught_up(0) is True


@pytest.mark.slow
def test_a_call_job_sends_its_result_computed_on_the_callers_data(tiny_data):
    from nnplay.lessons.experiments import lr_range_test

    backend, sink = ThreadBackend(), Sink()
    model = ModelConfig(hidden=(16,))
    call = ("nnplay.lessons.experiments:lr_range_test", {"model_cfg": model, "steps": 10})
    try:
        job = backend.submit(JobSpec("c", "ws", DataConfig(), call=call), sink, data=tiny_data)
        assert job.wait(120) and job.status == "finished", job.message
    finally:
        backend.close()
    [result] = sink.of(Result)
    assert result.value.lrs == lr_range_test(model, tiny_data, steps=10).lrs
    assert isinstance(sink.events[-1], JobEnd)


def test_a_closed_thread_backend_refuses_jobs():
    backend = ThreadBackend()
    backend.close()
    with pytest.raises(RuntimeError, match="closed"):
        backend.submit(spec(), Sink())


def test_jobs_send_typed_commands():
    class Recording(jobs.Backend):
        def __init__(self):
            self.sent = []

        def _command(self, job, command):
            self.sent.append(command)

    backend = Recording()
    job = Job(spec(), Sink(), backend)
    job.stop(), job.pause(), job.resume(), job.step(3), job.set_rate(2), job.set_rate(None), job.watch(4)
    assert backend.sent == [Stop(), Pause(), Resume(), Step(3), SetRate(2.0), SetRate(None), Watch(4.0)]


def test_commands_refuse_bad_values_and_strangers():
    with pytest.raises(ValueError, match="n ≥ 1"):
        Step(0)
    with pytest.raises(ValueError, match="above 0"):
        SetRate(0)
    control = RunControl()
    apply(control, Pause())
    apply(control, Step(2))
    apply(control, SetRate(5.0))
    assert control.paused and control.pending_steps == 2 and control.rate == 5.0
    apply(control, Watch(10))
    assert control.watch_until > 0
    with pytest.raises(TypeError, match="not a job command"):
        apply(control, ("pause",))  # the untyped tuples of before


def test_a_thread_job_trims_the_heap_without_a_full_collection_and_a_workers_run_collects(tiny_data, monkeypatch):
    """A run in a thread shares the app's process: no ``gc.collect`` there (it would hold the interpreter lock over
    every session's objects); a worker's run, alone in its process, collects its garbage. Both trim the heap."""
    from types import SimpleNamespace

    from nnplay.jobs import run_loop

    calls = []
    monkeypatch.setattr(run_loop, "gc", SimpleNamespace(collect=lambda *a: calls.append("collect") or 0))
    monkeypatch.setattr(run_loop, "trim_heap", lambda: calls.append("trim") or True)
    backend, sink = ThreadBackend(), Sink()
    try:
        job = backend.submit(spec(epochs=1), sink, data=tiny_data.limited(200, 50))
        assert job.wait(60) and job.status == "finished", job.message
    finally:
        backend.close()
    assert calls == ["trim"]
    run_loop.run_job(spec(epochs=1), lambda batch: None, RunControl(), data=tiny_data.limited(200, 50))
    assert calls == ["trim", "collect", "trim"]
