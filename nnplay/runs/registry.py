"""This process's runs by id (``REGISTRY``) and the heartbeat that says they still train here.

``register`` keeps every ``Run`` object of this process, so a reload or a second tab finds the live run
that trains (``workspace.workspace_runs``). A paused or queued run writes no events, so a daemon thread
refreshes the store heartbeat of the active runs this process owns every ``HEARTBEAT_S``
(``beat_active_runs``): another host sharing the store folder takes a silent run as interrupted. Stopping
the runs that train in this process's threads at exit is the thread backend's (``nnplay.jobs.threads``).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from ..store import Store, StoreError

if TYPE_CHECKING:
    from .run import Run

HEARTBEAT_S = 30.0  # an owner refreshes its active runs' heartbeat this often (another host waits store.OWNER_SILENCE_S)
REGISTRY: dict[str, Run] = {}  # every Run object of this process by id: a reload finds the live one
registry_lock = threading.Lock()


def register(run: Run) -> Run:
    with registry_lock:
        REGISTRY[run.id] = run
    return run


def beat_active_runs() -> int:
    """Refresh the store heartbeat of every active run this process owns; how many were refreshed.

    A paused run, or one waiting in the queue, writes no events, so without this its heartbeat would age and
    another host that shares the store folder would take it as interrupted after ``store.OWNER_SILENCE_S``.
    """
    with registry_lock:
        runs = [r for r in REGISTRY.values() if r.owned and r.store is not None and r.active]
    stores: dict[int, tuple[Store, list[str]]] = {}
    for run in runs:
        stores.setdefault(id(run.store), (run.store, []))[1].append(run.id)
    count = 0
    for store, ids in stores.values():
        try:
            count += store.beat(ids)
        except StoreError:
            pass  # a store that cannot write: the runs' own writes say so (Recorder.error)
    return count


_beating: threading.Thread | None = None


def keep_beating() -> None:
    """Start this process's heartbeat thread (once; a daemon that wakes every ``HEARTBEAT_S``)."""
    global _beating
    with registry_lock:
        if _beating is None or not _beating.is_alive():
            _beating = threading.Thread(target=_beat_forever, daemon=True, name="nnplay-heartbeat")
            _beating.start()


def _beat_forever() -> None:
    while True:
        time.sleep(HEARTBEAT_S)
        beat_active_runs()
