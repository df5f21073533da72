"""A queued run's expected wait: when a worker will be free for it, from the measured epoch times of runs that
already trained.

The queue itself (fair across workspaces: a learner's next run waits behind the runs of learners who have
nothing training) is ``jobs.local.LocalPool``'s; ``expected_waits(backend)`` walks it in the order it will be
served: each worker is free when its run's ETA has passed (else that run's estimate less what it has trained),
each run ahead of this one takes the next free worker for its estimated time (``sweeps.estimate.run_seconds``:
the measured runs most like it, per image and epoch). ``wait_text(run)`` is the few words the run's status
shows after its place in the queue. Measured: the runs this process has trained to the end (any learner), and
the learner's own finished runs in the store. Nothing is known before a run of a like size has finished: then
no estimate is shown. What does not live here: the queue's order (``jobs.local``), the status line (``runs.text``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from ..config import DataConfig, ModelConfig, TrainConfig

TRAIN_TOTAL = 60_000  # the training images of MNIST and Fashion-MNIST: a run with no subset sees them all
FRESH_S = 2.0  # the schedule is walked again at most this often (every queued run's status line reads it)


@dataclass
class _Planned:
    """What ``run_seconds`` reads of a run: its three configs."""

    data: DataConfig
    model: ModelConfig
    train: TrainConfig


def measured_here(store=None, workspace: str | None = None) -> list:
    """``sweeps.estimate.Measured`` for each run this process trained to the end, plus the workspace's own
    finished runs in ``store``."""
    from ..runs.registry import REGISTRY, registry_lock
    from ..sweeps.estimate import Measured, measured_runs, parameters

    with registry_lock:
        runs = [r for r in REGISTRY.values() if r.owned and r.status == "finished" and r._history is not None]
    out = []
    for run in runs:
        start, epochs = run.history.start, run.history.epochs
        if start is None or not epochs or not start.train_size:
            continue
        seconds = sum(e.seconds + e.eval_seconds for e in epochs)
        out.append(Measured(run.model_cfg.family, start.parameters or parameters(run.model_cfg),
                            run.train_cfg.batch_size, seconds / (len(epochs) * start.train_size)))
    if store is not None and workspace is not None:
        try:
            out += measured_runs(store, workspace, limit=50)
        except Exception:  # noqa: BLE001 - an unreadable store: the runs trained here still count
            pass
    return out


def _run_of(run_id: str):
    from ..runs.registry import REGISTRY

    return REGISTRY.get(run_id)


def _estimate(spec, measured, params_of: dict) -> float | None:
    from ..sweeps.estimate import parameters, run_seconds

    key = repr(spec.model)
    if key not in params_of:
        params_of[key] = parameters(spec.model)
    return run_seconds(_Planned(spec.data, spec.model, spec.train), measured, TRAIN_TOTAL, params_of[key])


def expected_waits(backend, measured: list) -> dict[str, float]:
    """run id → seconds until a worker takes it, for each run waiting in ``backend``'s queue; {} when the
    backend has no queue to walk or nothing was measured."""
    queued, running = getattr(backend, "queued", None), getattr(backend, "running", None)
    size = getattr(backend, "size", None)
    if queued is None or running is None or not size or not measured:
        return {}
    params_of: dict = {}
    free_at = []
    for job in running():
        run = _run_of(job.run_id)
        eta = run.progress()["eta_s"] if run is not None and run.history.start is not None else None
        if eta is None:
            whole = _estimate(job.spec, measured, params_of) or 0.0
            eta = max(0.0, whole - (run.training_seconds() if run is not None else 0.0))
        free_at.append(eta)
    free_at += [0.0] * max(0, size - len(free_at))
    waits = {}
    for job in queued():
        free_at.sort()
        start = free_at[0]
        waits[job.run_id] = start
        free_at[0] = start + (_estimate(job.spec, measured, params_of) or 0.0)
    return waits


_cache: dict[int, tuple[float, dict[str, float]]] = {}
_cache_lock = threading.Lock()


def expected_wait(run) -> float | None:
    """Seconds until a worker takes this queued run (None when not queued or nothing was measured)."""
    job = run.job
    if job is None or run.status != "queued":
        return None
    backend = getattr(job, "_backend", None)
    if backend is None:
        return None
    now = time.monotonic()
    with _cache_lock:
        kept = _cache.get(id(backend))
    if kept is None or now - kept[0] > FRESH_S or run.id not in kept[1]:
        waits = expected_waits(backend, measured_here(run.store, run.workspace))
        with _cache_lock:
            _cache[id(backend)] = (now, waits)
    else:
        waits = kept[1]
    return waits.get(run.id)


def wait_text(run) -> str:
    """ "about 3 min 10 s to wait (from measured epoch times)", "" when it cannot be estimated."""
    from ..names import format_duration

    seconds = expected_wait(run)
    if seconds is None:
        return ""
    if seconds < 1:
        return "next to start"
    return f"about {format_duration(seconds)} to wait (from measured epoch times)"
