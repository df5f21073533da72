"""A workspace's runs as ``Run`` objects: listed, found by id and deleted (stopped first, also where another process
trains it), the live one where this process has it."""

from __future__ import annotations

import time

from ..store import ACTIVE, LOCAL_WORKSPACE, RunStillActive, Store
from .cache import MODELS
from .registry import REGISTRY, register, registry_lock
from .run import Run

ELSEWHERE_STOP_S = 30.0  # how long deleting a run another process trains waits for that process to stop it


def runs_of_records(store: Store, records) -> list[Run]:
    """The Run objects of these stored records, in their order: this process's own (refreshed from its record)
    where it has one, else one made from the record and registered. Call it with ``registry_lock`` held."""
    runs = []
    for record in records:
        run = REGISTRY.get(record.id)
        if run is None:
            run = REGISTRY[record.id] = Run.from_record(store, record)
        else:
            run.refresh(record)
        runs.append(run)
    return runs


def workspace_runs(store: Store, workspace: str = LOCAL_WORKSPACE, kinds: tuple[str, ...] | None = ("train", "loaded"),
                   ) -> list[Run]:
    """A workspace's runs, oldest first, as Run objects (the live one where this process trains it), plus
    this process's runs of the workspace that the store could not keep."""
    records = store.list_runs(workspace, kinds)
    with registry_lock:
        runs = runs_of_records(store, records)
        seen = {r.id for r in runs}
        unkept = [r for r in REGISTRY.values() if r.store is None and r.workspace == workspace and r.id not in seen
                  and (kinds is None or r.kind in kinds)]
    return sorted(runs + unkept, key=lambda r: r.created)


def find_run(store: Store, run_id: str) -> Run | None:
    """The run with this id (any workspace), or None."""
    with registry_lock:
        run = REGISTRY.get(run_id)
    if run is not None:
        return run
    record = store.get(run_id)
    return register(Run.from_record(store, record)) if record is not None else None


def delete_run(run: Run) -> None:
    """Stop a training run, wait for it, then remove its record and files. A run another process trains
    (``Run.elsewhere``) is asked to stop through the store and removed once the store says it ended;
    ``RunStillActive`` when it did not end within ``ELSEWHERE_STOP_S``."""
    if run.elsewhere:
        run.stop()
        deadline = time.monotonic() + ELSEWHERE_STOP_S
        while (record := run.store.get(run.id)) is not None and record.status in ACTIVE:
            if time.monotonic() > deadline:
                raise RunStillActive(f"{run.name} trains in another process that did not stop within "
                                     f"{ELSEWHERE_STOP_S:.0f} s, so it was not deleted; delete it once it has ended.")
            time.sleep(0.2)
    elif run.active:
        run.stop()
        run.wait(30)
    MODELS.drop(run.id)
    with registry_lock:
        REGISTRY.pop(run.id, None)
    if run.store is not None:
        run.store.delete(run.id)
