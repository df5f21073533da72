"""Work submitted beside runs: ``Sweep`` (several runs, in the jobs backend's queue) and ``call_in_worker`` (one
function run where runs train, e.g. the learning-rate range test)."""

from __future__ import annotations

import time

import threading
from collections.abc import Iterable

from ..classroom.limits import class_mode, limit_refusal, run_minutes
from ..config import DataConfig, ModelConfig, TrainConfig
from ..data import MnistData
from ..jobs import JobSpec, Result
from ..jobs import backend as default_backend
from ..store import LOCAL_WORKSPACE, Store, new_id
from .run import Run


class Sweep:
    """Several runs submitted to the jobs backend in order: a free worker takes the next one, so they train in
    parallel where workers are free (on Ray across the cluster; in threads here, all at once). Stop ends the
    running ones and the queued ones never start. Made over runs already stored (``data`` None, no store:
    a sweep read back after a reload), it reads and stops them the same way.

    ``listener``, when given, is called as ``listener(run, event)`` with each engine event of its runs (a plan's
    successive halving: ``nnplay.sweeps.PlannedSweep``, the sweep made from a plan and kept in the store)."""

    def __init__(self, name: str, runs: list[Run], data: MnistData | None = None, store: Store | None = None,
                 workspace: str = LOCAL_WORKSPACE, listener=None):
        """With a store, each run becomes a record of kind "sweep" in group ``name`` (not in the Train list)."""
        self.name = name
        self.runs = runs
        self.listener = listener
        self.store, self.workspace = store, workspace
        self.stopped = False  # Stop was pressed (and not continued since)
        if store is not None:
            for run in runs:
                run.bind(store, workspace, kind="sweep", group=name)
        self.data = data
        self.created = min((r.created for r in runs), default=time.time())
        self.refusal = ""  # the class's limit that refused its runs (none of them started), if one did

    def start(self, backend=None) -> "Sweep":
        """Submit every run that has not started (to ``backend``, default the process's jobs backend). In class
        mode they are checked against the learner's limits together first, as ``Run.start`` checks one: beyond
        them, none starts (each ends "error" with the sentence, kept in ``refusal``)."""
        pending = [run for run in self.runs if run.job is None and run.status == "queued"]
        if pending:
            first = pending[0]
            refused = limit_refusal(first.store, first.workspace, [(r.model_cfg, r.train_cfg) for r in pending],
                                    leave_out=[r.id for r in pending])
            if refused:
                self.refusal = refused[1]
                for run in pending:
                    run.refuse(refused[1])
                return self
        for run in pending:
            run.created = time.time()
            run.start(self.data, backend=backend, listener=self._listener(run))
        return self

    def _listener(self, run: Run):
        if self.listener is None:
            return None
        return lambda event: self.listener(run, event)

    def stop(self) -> None:
        self.stopped = True
        for run in reversed(self.runs):  # the queued ones first, so no worker starts one of them meanwhile
            run.stop()

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        for run in self.runs:
            run.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not self.active

    @property
    def active(self) -> bool:
        return any(r.active for r in self.runs)

    @property
    def done(self) -> int:
        return sum(not r.active for r in self.runs)

    @property
    def status(self) -> str:
        """running (a run is queued, running or paused), stopped (Stop was pressed), interrupted (a run's process
        ended while it trained), finished (every run ended), or empty."""
        if self.active:
            return "running"
        if self.stopped:
            return "stopped"
        if any(r.status == "interrupted" for r in self.runs):
            return "interrupted"
        return "finished" if self.runs else "empty"


_calls_lock = threading.Lock()  # a learner's limit check and the call's place among their runs, as one step


def call_in_worker(function: str, data_cfg: DataConfig, data: MnistData | None = None,
                   workspace: str = LOCAL_WORKSPACE, timeout: float | None = None,
                   trains: Iterable[tuple[ModelConfig, TrainConfig]] = (), store: Store | None = None, **kwargs):
    """``function(data=…, **kwargs)`` run where runs train: submitted to the jobs backend like a run (a worker
    loads the data ``data_cfg`` names; a thread here uses ``data`` when given). Returns its value;
    a ValueError it raised is raised here as a ValueError with the same text, any other failure (or a worker
    that died) as a RuntimeError. ``function`` is "nnplay.module:name" (the LR range test:
    "nnplay.lessons.experiments:lr_range_test").

    ``trains``: what the function trains, as runs ((ModelConfig, TrainConfig) pairs: its passes over the images
    as epochs). In class mode they are checked against ``workspace``'s limits (in ``store``) as ``Run.start``
    checks a run, and refused with the limit's sentence as a ValueError; while it is in flight the call counts as
    one of the learner's runs queued (``registry.CALLS``), it carries the minutes per run to its worker and sees
    only the visible half of the test set."""
    from .registry import CALLS, registry_lock

    call_id = f"call-{new_id()}"
    learner = class_mode()
    with _calls_lock:
        refused = limit_refusal(store, workspace, list(trains))
        if refused:
            raise ValueError(refused[1])
        if learner:
            with registry_lock:
                CALLS[call_id] = workspace
    try:
        return _call(function, call_id, workspace, data_cfg, data, timeout, kwargs,
                     run_minutes(store) if learner else None, learner)
    finally:
        with registry_lock:
            CALLS.pop(call_id, None)


def _call(function: str, call_id: str, workspace: str, data_cfg: DataConfig, data: MnistData | None,
          timeout: float | None, kwargs: dict, max_minutes: float | None, visible_only: bool):
    results: list = []
    spec = JobSpec(call_id, workspace, data_cfg, call=(function, kwargs), name=function, max_minutes=max_minutes,
                   visible_test_only=visible_only)
    job = default_backend().submit(spec, results.append, data=data)
    if not job.wait(timeout):
        job.stop()
        raise RuntimeError(f"{function} did not end within {timeout:g} s; it was stopped.")
    result = next((r for r in results if isinstance(r, Result)), None)
    if result is None:
        raise RuntimeError(job.message or f"{function} ended without a result ({job.status}).")
    if result.error_type == "ValueError":
        raise ValueError(result.error)
    if result.error_type:
        raise RuntimeError(f"{result.error_type}: {result.error}")
    return result.value
