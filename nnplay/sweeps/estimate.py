"""How long a sweep should take here, from the measured epoch times of runs already trained.

``Measured`` is one finished run's time per training image and epoch (evaluation included), with what makes
runs faster or slower (its kind of network, its parameter count, its batch size), and its overhead: the
seconds it spent outside its epochs (from when a worker could take it to its first step, and from its last
epoch to its end: start, data load, final evaluation); ``measured_runs`` reads them from the store (a
workspace's latest finished runs). ``estimate_seconds`` gives each planned run the time per image and epoch
of the measured runs most like it (the same kind of network, nearest in parameters and batch size on a log
scale), times its images and epochs, plus ``overhead_s``, adds them up and divides by the number of workers
that train at once: the wall time of a sweep that keeps every worker busy. None when nothing was measured.
``overhead_seconds`` is the measured runs' typical overhead (``DEFAULT_OVERHEAD_S`` when none says it).
Successive halving only shortens it. ``parameters`` counts a config's parameters from its layer table.
What does not live here: the plan (``plan``), the Experiments page's estimate (``nnplay.lessons.experiments``).
"""

from __future__ import annotations

import bisect
import math
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from ..config import ConfigError, ModelConfig
from .plan import PlannedRun, SweepPlan

DEFAULT_OVERHEAD_S = 2.0  # a run's start, data load and final evaluation when no stored run has measured it


@dataclass(frozen=True)
class Measured:
    """A finished run's measured speed: seconds per training image and epoch (evaluation included)."""

    family: str
    parameters: int
    batch_size: int
    seconds_per_image: float
    overhead: float | None = None  # seconds outside its epochs (start, data load, final evaluation); None: unknown


def parameters(model_cfg: ModelConfig) -> int:
    """The network's parameter count, from its layer table (nothing is built); 0 when the table refuses it."""
    from ..models import layer_table  # torch: only when an estimate is asked for

    try:
        return sum(row.params for row in layer_table(model_cfg))
    except (ConfigError, ValueError):
        return 0


def measured_runs(store, workspace: str, limit: int = 200) -> list[Measured]:
    """The speed of the workspace's latest ``limit`` finished runs (any kind: Train, sweeps, experiments)."""
    rows = store.measured_epochs(workspace, limit)
    ends = sorted(record.ended for record, *_ in rows if record.ended is not None)
    out = []
    for record, seconds, epochs, train_size in rows:
        params = record.parameters or parameters(record.model_cfg)
        out.append(Measured(record.model_cfg.family, params, record.train_cfg.batch_size,
                            seconds / (epochs * train_size), run_overhead(record, seconds, ends)))
    return out


def run_overhead(record, epoch_seconds: float, ends: Sequence[float]) -> float | None:
    """A stored run's seconds outside its epochs: from when a worker could take it (its creation, or the end of
    the run before it, of ``ends`` sorted) to its start, plus its start → end beyond ``epoch_seconds``; None
    without a start and an end."""
    if record.started is None or record.ended is None:
        return None
    before = bisect.bisect_right(ends, record.started)
    free = max(record.created, ends[before - 1]) if before else record.created  # it waited for a worker till then
    return max(0.0, record.started - free) + max(0.0, record.ended - record.started - epoch_seconds)


def overhead_seconds(measured: Sequence[Measured]) -> float:
    """A run's typical seconds outside its epochs: the middle value of the measured runs' (a run paused for a
    while, or a cold start, does not move it), ``DEFAULT_OVERHEAD_S`` when none measured it."""
    known = [m.overhead for m in measured if m.overhead is not None]
    return statistics.median(known) if known else DEFAULT_OVERHEAD_S


def _distance(run: PlannedRun, params: int, m: Measured) -> tuple:
    def gap(a: float, b: float) -> float:
        return abs(math.log(max(a, 1)) - math.log(max(b, 1)))
    return (run.model.family != m.family, gap(params, m.parameters) + gap(run.train.batch_size, m.batch_size))


def run_seconds(run: PlannedRun, measured: Sequence[Measured], train_total: int, params: int | None = None
                ) -> float | None:
    """One planned run's seconds: its images × epochs × the seconds per image and epoch of the measured runs nearest
    to it (their mean);
    ``params``: its parameter count when already known."""
    if not measured:
        return None
    params = parameters(run.model) if params is None else params
    distances = [_distance(run, params, m) for m in measured]
    best = min(distances)
    alike = [m.seconds_per_image for m, d in zip(measured, distances) if d == best]  # their mean: one slow run is noise
    return sum(alike) / len(alike) * min(run.data.train_limit or train_total, train_total) * run.train.epochs


def estimate_seconds(plan: SweepPlan | Sequence[PlannedRun], measured: Sequence[Measured], train_total: int,
                     workers: int = 1, overhead_s: float = 0.0) -> float | None:
    """The sweep's wall time: every run's estimated seconds (``run_seconds``, plus ``overhead_s`` each: its start,
    data load and final evaluation, ``overhead_seconds``) added up, over ``workers`` that train at once; None
    when nothing was measured. ``train_total``: the training images the data set has."""
    if not measured:
        return None
    runs = plan.expand() if isinstance(plan, SweepPlan) else list(plan)
    counted: dict[str, int] = {}  # the parameter count once per network, not once per seed and learning rate
    total = 0.0
    for run in runs:
        key = repr(run.model)
        if key not in counted:
            counted[key] = parameters(run.model)
        total += run_seconds(run, measured, train_total, counted[key]) + overhead_s
    return total / max(1, workers)


def worker_count() -> int:
    """How many runs the jobs backend trains at once: the Ray cluster's CPUs over each run's share when
    ``NNPLAY_RAY_ADDRESS`` is set and Ray is connected, the local pool's workers otherwise, 1 for runs in
    this process's threads (``NNPLAY_WORKERS=0``: they share its cores)."""
    from ..jobs import threads_enabled

    if os.environ.get("NNPLAY_RAY_ADDRESS", "").strip():
        try:
            import ray

            if ray.is_initialized():
                cpus = ray.cluster_resources().get("CPU", 1)
                per_run = float(os.environ.get("NNPLAY_RAY_CPUS_PER_RUN", "") or 1)
                return max(1, int(cpus // per_run))
        except (ImportError, ValueError, RuntimeError):
            pass
        return 1
    if threads_enabled():
        return 1
    from ..jobs.local import pool_size

    try:
        return pool_size()[0]
    except ValueError:
        return 1
