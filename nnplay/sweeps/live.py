"""Sweeps from a plan, live: started on the jobs backend, kept in the run store, found again, continued, halved.

``start_sweep(plan, store, workspace, data)`` checks everything first and queues nothing unless every check
passes (a plan that does not expand, a CNN that runs out of pixels, a batch larger than the training set, the
largest run not fitting in memory, more than ``MAX_ACTIVE_SWEEPS`` sweeps training in the workspace), then
makes the sweep's record (``store.create_sweep``) and one run record per planned run (kind "sweep", group
the sweep's id) and submits them to the jobs backend (the local pool, Ray with ``NNPLAY_RAY_ADDRESS``, or
threads with ``NNPLAY_WORKERS=0``) like any run, as a ``PlannedSweep`` (a ``runs.Sweep`` with an id and its
plan). ``LIVE`` keeps this process's sweeps by id, so
``load_sweep`` after a reload finds the live object (its runs still training, its halving hook); another
process's sweep, or one from before a restart, is read back over its stored runs (the unfinished ones
interrupted). ``continue_sweep`` queues only the plan's runs that have no ended record. With
``plan.halving`` on, ``Halver`` (the sweep's event hook, in the process that owns the runs) stops a run at a
rung when ``halving.decide`` says so; the run (a ``SweepRun``) ends "stopped" with the decision's sentence
as its message, its curve and model so far kept.
Memory admission: as many planned runs as train at once (the largest first) are checked together beside what is
already queued or training (``runs.admission.refusal_for``).
"""

from __future__ import annotations

import threading

from ..config import ConfigError
from ..data import MnistData
from ..engine import EpochMetrics
from ..jobs import JobEnd
from ..runs import MODELS, REGISTRY, Run, Sweep, register
from ..runs.registry import registry_lock
from ..runs.workspace import runs_of_records
from ..store import LOCAL_WORKSPACE, Store, StoreError, new_id
from .halving import PREFIX, decide
from .plan import PlannedRun, SweepPlan, largest_run, run_key

MAX_ACTIVE_SWEEPS = 3  # sweeps training at once in one workspace; a fourth is refused until one ends
LIVE: dict[str, "PlannedSweep"] = {}  # this process's sweeps made from a plan, by id: a reload finds the live one
_start_lock = threading.Lock()  # the active-sweep count and the records of a new sweep, as one step


class SweepRun(Run):
    """A sweep's run: when successive halving stopped it (``halted``, the sentence), its end says so."""

    halted = ""

    def _job_ended(self, end, final) -> None:
        if self.halted and end.status == "stopped":
            end = JobEnd("stopped", f"{self.halted} It {end.message}; its curve and its model so far are kept.")
        super()._job_ended(end, final)


class Halver:
    """A sweep's listener (``Sweep.listener``): each run's test accuracy per epoch, and at each rung the
    decision of ``halving.decide``; a run it halts is stopped with the sentence that says why. Called from the
    backend's reader threads, hence the lock."""

    def __init__(self, eta: int, curves: dict[str, list[float]] | None = None):
        self.eta = eta
        self.curves: dict[str, list[float]] = {k: list(v) for k, v in (curves or {}).items()}
        self.halted: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, run: Run, event) -> None:
        if not isinstance(event, EpochMetrics) or run.id in self.halted:
            return
        with self._lock:
            curve = self.curves.setdefault(run.id, [])
            del curve[event.epoch - 1:]  # a run queued again starts its curve again
            curve.append(event.test_accuracy)
            halt = decide(self.curves, run.id, self.eta, run.train_cfg.epochs)
            if halt is not None:
                self.halted.add(run.id)  # its later epochs (before the stop lands) do not count at later rungs
        if halt is not None:
            if isinstance(run, SweepRun):
                run.halted = halt.sentence()
            run.stop()


class PlannedSweep(Sweep):
    """A sweep made from a plan (``start_sweep``), kept in the store's sweeps table: ``id`` (its record, and its
    runs' group), ``plan``. ``PlannedSweep.load`` finds it again after a reload (the live object where this
    process trains it), ``continue_sweep`` queues the runs of its plan that did not end for good, ``stop``
    also records that Stop was pressed, ``delete`` removes it and its runs."""

    def __init__(self, name: str, runs: list[Run], sweep_id: str, plan: SweepPlan | None,
                 data: MnistData | None = None, workspace: str = LOCAL_WORKSPACE, listener=None):
        """Over runs already made (bound to the store by ``start_sweep``, or read back by ``load_sweep``)."""
        super().__init__(name, runs, data, None, workspace, listener)
        self.id, self.plan = sweep_id, plan

    def stop(self) -> None:
        if self.store is not None:
            try:
                self.store.set_sweep_stopped(self.id, True)
            except StoreError:
                pass  # the runs' own records still say each one stopped
        super().stop()

    @classmethod
    def load(cls, store: Store, sweep_id: str) -> "PlannedSweep | None":
        """``load_sweep``."""
        return load_sweep(store, sweep_id)

    @property
    def missing(self) -> list[PlannedRun]:
        """``missing_runs``: what ``continue_sweep`` would queue."""
        return missing_runs(self)

    def continue_sweep(self, data: MnistData | None = None, backend=None) -> "PlannedSweep":
        """``continue_sweep``."""
        return continue_sweep(self, data, backend)

    def delete(self) -> None:
        """Remove the sweep, its runs' records, curves and files, and this process's objects of them; a
        ValueError sentence while it trains."""
        if self.active:
            raise ValueError(f"The sweep {self.name} is still training; stop it first, then delete it.")
        _forget(self.runs)
        if self.store is not None:
            self.store.delete_sweep(self.id)
        LIVE.pop(self.id, None)
        self.runs = []


def ended_for_good(run: Run) -> bool:
    """Whether a sweep's run needs no second try: it finished, diverged (it would again), or successive halving
    stopped it."""
    return run.status in ("finished", "diverged") or (run.status == "stopped" and run.message.startswith(PREFIX))


def default_name(plan: SweepPlan) -> str:
    varied = " × ".join(a.label.lower() for a in plan.axes) or "seeds"
    return plan.name or f"{varied} ({plan.count()} runs)"


def refusal(plan: SweepPlan, runs: list[PlannedRun], data: MnistData | None = None, workspace: str | None = None,
            store: Store | None = None) -> str | None:
    """Why these planned runs cannot train here, as a sentence, or None: a CNN that runs out of pixels, a batch
    larger than the training set, the largest run not fitting in the memory available; given the learner's
    ``workspace`` (and ``store``), class mode's limits per learner (``classroom.limits``) first."""
    from ..classroom.limits import limit_refusal

    from ..engine import pick_device
    from ..models import layer_table
    from ..runs.admission import refusal_for
    from .estimate import worker_count

    limited = limit_refusal(store, workspace, [(r.model, r.train) for r in runs]) if workspace is not None else None
    if limited:
        return limited[1]
    seen = set()
    for run in runs:
        key = repr(run.model)
        if key in seen:
            continue
        seen.add(key)
        try:
            layer_table(run.model)
        except (ConfigError, ValueError) as err:
            return f"The run {run.name} cannot train: {err}"
    train_size = len(data.limited(plan.data.train_limit, None).train_images) if data is not None else \
        plan.data.train_limit
    biggest_batch = max(runs, key=lambda r: r.train.batch_size)
    if train_size is not None and biggest_batch.train.batch_size > train_size:
        return (f"Batch size: {biggest_batch.train.batch_size:,} (run {biggest_batch.name}) is larger than the "
                f"training set ({train_size:,} images); give batch sizes of at most {train_size:,}.")
    largest = largest_run(runs)
    at_once, rest = [], list(runs)
    while rest and len(at_once) < max(1, worker_count()):  # the largest runs that may train side by side
        at_once.append(largest_run(rest))
        rest.remove(at_once[-1])
    try:
        memory = refusal_for([(r.model, r.train) for r in at_once])
    except ConfigError as err:
        return f"The run {largest.name} cannot train here: {err}"
    if memory:
        return f"The largest run of this sweep ({largest.name}) cannot train here: {memory}"
    return None


def active_sweeps(store: Store | None, workspace: str, leave_out: str | None = None) -> list[str]:
    """The names of the workspace's sweeps that are training now: in the store, and this process's unkept ones."""
    names: dict[str, str] = {}
    if store is not None:
        try:
            names.update({s.id: s.name for s in store.list_sweeps(workspace) if s.active})
        except StoreError:
            pass
    names.update({i: s.name for i, s in LIVE.items() if s.workspace == workspace and s.active})
    names.pop(leave_out, None)
    return list(names.values())


def _check_active(store: Store | None, workspace: str, leave_out: str | None = None) -> None:
    active = active_sweeps(store, workspace, leave_out)
    if len(active) >= MAX_ACTIVE_SWEEPS:
        shown = ", ".join(active[:3]) + (f" and {len(active) - 3} more" if len(active) > 3 else "")
        raise ValueError(f"This workspace already has {len(active)} sweeps training ({shown}); at most "
                         f"{MAX_ACTIVE_SWEEPS} train at once. Wait until one has ended, or stop one, then start "
                         f"this one.")


def _bind_all(runs: list[Run], store: Store, workspace: str, sweep_id: str) -> None:
    """Make each run a record of the sweep; when one cannot be kept, remove those made and raise ValueError."""
    for run in runs:
        run.bind(store, workspace, kind="sweep", group=sweep_id)
        if run.store is None:
            _forget(runs)
            raise ValueError(f"The sweep could not be kept in the run store ({run.store_note}); nothing was queued.")


def _forget(runs: list[Run]) -> None:
    """Remove runs that never started: their records (where kept) and this process's objects."""
    for run in runs:
        with registry_lock:
            REGISTRY.pop(run.id, None)
        MODELS.drop(run.id)
        if run.store is not None:
            try:
                run.store.delete(run.id)
            except StoreError:
                pass


def _backend(backend):
    """``backend``, else the process's jobs backend; one that cannot be made (an unreachable Ray cluster) is a
    ValueError sentence before anything is queued, not an error in every run."""
    if backend is not None:
        return backend
    from ..jobs import backend as default_backend

    try:
        return default_backend()
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"The sweep cannot be queued: {err} Nothing was queued.") from None


def start_sweep(plan: SweepPlan, store: Store | None = None, workspace: str = LOCAL_WORKSPACE,
                data: MnistData | None = None, backend=None, name: str | None = None) -> PlannedSweep:
    """Check the plan, keep it and its runs in ``store`` (None: in this process only), and queue every run on
    ``backend`` (default the process's jobs backend). All or nothing: any refusal raises ValueError with a
    sentence and queues nothing. ``data``: the data the plan names, already loaded (a backend in this process
    trains on it; its size checks the batch sizes)."""
    planned = plan.expand()
    problem = refusal(plan, planned, data, workspace, store)  # in class mode the learner's limits first
    if problem:
        raise ValueError(problem)
    backend = _backend(backend)
    name = (name or "").strip() or default_name(plan)
    with _start_lock:
        _check_active(store, workspace)
        sweep_id = new_id()
        if store is not None:
            try:
                store.create_sweep(name, plan.to_json(), workspace, planned=len(planned), sweep_id=sweep_id)
            except StoreError as err:
                raise ValueError(f"The sweep could not be kept in the run store ({err}); nothing was queued.") from None
        runs: list[Run] = [SweepRun(p.name, p.data, p.model, p.train) for p in planned]
        sweep = PlannedSweep(name, runs, sweep_id, plan, data, workspace,
                             listener=Halver(plan.eta) if plan.halving else None)
        if store is not None:
            try:
                _bind_all(runs, store, workspace, sweep_id)
            except ValueError:
                try:
                    store.delete_sweep(sweep_id)
                except StoreError:
                    pass
                raise
            sweep.store = store
        else:
            for run in runs:
                run.workspace, run.kind, run.group = workspace, "sweep", sweep_id
                register(run)
        LIVE[sweep_id] = sweep
    return sweep.start(backend)


def load_sweep(store: Store, sweep_id: str) -> PlannedSweep | None:
    """The sweep ``sweep_id``: this process's live one, else one over its stored runs (each the live ``Run``
    where this process trains it); None when the store has no such sweep. A plan this nnplay cannot read leaves
    ``plan`` None (the sweep is shown, not continued)."""
    if sweep_id in LIVE:
        return LIVE[sweep_id]
    record = store.get_sweep(sweep_id)
    if record is None:
        return None
    try:
        plan = SweepPlan.from_json(record.plan)
    except ValueError:
        plan = None
    with registry_lock:
        runs = runs_of_records(store, store.sweep_runs(sweep_id))
    if plan is not None:  # the plan's order (a continued run was made after the others)
        order = {p.key: i for i, p in enumerate(plan.expand())}
        runs.sort(key=lambda r: order.get(run_key(r.model_cfg, r.train_cfg), len(order)))
    sweep = PlannedSweep(record.name, runs, sweep_id, plan, workspace=record.workspace)
    sweep.store, sweep.stopped, sweep.created = store, record.stopped, record.created
    return sweep


def missing_runs(sweep: PlannedSweep) -> list[PlannedRun]:
    """The runs of the sweep's plan that have no ended record (``ended_for_good``), in the plan's order."""
    if sweep.plan is None:
        return []
    done = {run_key(r.model_cfg, r.train_cfg) for r in sweep.runs if ended_for_good(r)}
    return [p for p in sweep.plan.expand() if p.key not in done]


def continue_sweep(sweep: PlannedSweep, data: MnistData | None = None, backend=None) -> PlannedSweep:
    """Queue the runs of the sweep's plan that did not end for good (interrupted by a restart, stopped by Stop,
    failed, or never kept), in place of their records; what finished stays. The same checks as a start; a
    ValueError sentence when the sweep still trains, has no plan, or lacks nothing."""
    if sweep.plan is None:
        raise ValueError(f"The sweep {sweep.name} has no plan this nnplay can read, so it cannot be continued.")
    if sweep.active:
        raise ValueError(f"The sweep {sweep.name} is still training; continue it once it has ended (or stop it).")
    missing = missing_runs(sweep)
    if not missing:
        raise ValueError(f"Every run of the sweep {sweep.name} has ended; there is nothing to continue.")
    data = data if data is not None else sweep.data
    problem = refusal(sweep.plan, missing, data, sweep.workspace, sweep.store)
    if problem:
        raise ValueError(problem)
    backend = _backend(backend)
    wanted = {p.key for p in missing}
    with _start_lock:
        _check_active(sweep.store, sweep.workspace, leave_out=sweep.id)
        old = [r for r in sweep.runs if run_key(r.model_cfg, r.train_cfg) in wanted]
        fresh: list[Run] = [SweepRun(p.name, p.data, p.model, p.train) for p in missing]
        if sweep.store is not None:
            _bind_all(fresh, sweep.store, sweep.workspace, sweep.id)
            try:
                sweep.store.set_sweep_stopped(sweep.id, False)
            except StoreError:
                pass
        else:
            for run in fresh:
                run.workspace, run.kind, run.group = sweep.workspace, "sweep", sweep.id
                register(run)
        _forget(old)  # the interrupted or stopped records the new runs replace
        by_key = {run_key(r.model_cfg, r.train_cfg): r for r in sweep.runs if r not in old}
        by_key.update({run_key(r.model_cfg, r.train_cfg): r for r in fresh})
        sweep.runs = [by_key[p.key] for p in sweep.plan.expand() if p.key in by_key]
        sweep.stopped, sweep.data = False, data
        if sweep.plan.halving:
            kept = {r.id: [e.test_accuracy for e in r.history.epochs] for r in sweep.runs if r not in fresh}
            sweep.listener = Halver(sweep.plan.eta, kept)
        LIVE[sweep.id] = sweep
    return sweep.start(backend)
