"""This process's runs by id (``REGISTRY``), the heartbeat that says they still train here, and the requests
that reach them from another process.

``register`` keeps every ``Run`` object of this process, so a reload or a second tab finds the live run
that trains (``workspace.workspace_runs``). A paused or queued run writes no events, so a daemon thread
refreshes the store heartbeat of the active runs this process owns every ``HEARTBEAT_S``
(``beat_active_runs``): another host sharing the store folder takes a silent run as interrupted. The same
thread carries out, every ``REQUEST_POLL_S``, the Stop, Pause and Resume that another process sharing the
store (a second server) recorded for these runs (``take_requests``; ``Run.stop`` of a run this process does
not own records them, ``request_key``). Stopping the runs that train in this process's threads at exit is
the thread backend's (``nnplay.jobs.threads``).

``CALLS`` holds the function jobs in flight (the learning-rate range test, a paper's study) by workspace: class
mode's limits count each among a learner's runs queued.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from ..store import Store, StoreError

if TYPE_CHECKING:
    from .run import Run

REQUESTS = ("stop", "pause", "resume")  # what another process may ask of a run this process trains
REQUEST_POLL_S = 1.0  # an owner looks for requests this often while it trains runs of a store
HEARTBEAT_S = 30.0  # an owner refreshes its active runs' heartbeat this often (another host waits store.OWNER_SILENCE_S)
REGISTRY: dict[str, Run] = {}  # every Run object of this process by id: a reload finds the live one
CALLS: dict[str, str] = {}  # the workspace of each function job in flight (``sweep.call_in_worker``), by job id
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


def request_key(run_id: str) -> str:
    """The store setting (of the run's workspace) that holds a request for the run: a word of ``REQUESTS`` or ""."""
    return f"request {run_id}"


def take_requests() -> int:
    """Carry out the requests other processes recorded in the store for the active runs this process owns; how
    many. Each is cleared before it is carried out, so it is carried out once."""
    with registry_lock:
        runs = [r for r in REGISTRY.values() if r.owned and r.store is not None and r.active]
    done = 0
    for run in runs:
        key = request_key(run.id)
        try:
            wanted = run.store.setting(run.workspace, key, "")
            if wanted not in REQUESTS:
                continue
            run.store.set_setting(run.workspace, key, "")
        except StoreError:
            continue  # a store that cannot be read or written now: asked again at the next poll
        getattr(run, wanted)()
        done += 1
    return done


_beating: threading.Thread | None = None


def keep_beating() -> None:
    """Start this process's heartbeat thread (once; a daemon that looks for requests every ``REQUEST_POLL_S``
    and beats every ``HEARTBEAT_S``)."""
    global _beating
    with registry_lock:
        if _beating is None or not _beating.is_alive():
            _beating = threading.Thread(target=_beat_forever, daemon=True, name="nnplay-heartbeat")
            _beating.start()


def _beat_forever() -> None:
    last_beat = time.monotonic()
    while True:
        time.sleep(REQUEST_POLL_S)
        take_requests()
        if time.monotonic() - last_beat >= HEARTBEAT_S:
            last_beat = time.monotonic()
            beat_active_runs()
