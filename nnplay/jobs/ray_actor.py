"""A Ray actor's body: ``RayRunner``, a warm worker on a node that trains one run after another.

``ray_backend`` wraps it as a threaded actor and keeps it: it imports torch and decodes the data once, as it
starts (``pool_worker.warm_up``, as a local pool's worker does), then ``run`` trains each run it is given
(``run_loop.run_job``) under a key, ``poll`` hands over that key's batches sent since the last call,
``command`` takes a ``commands`` command for a key (before its run began too), and ``forget`` drops what is
left of a key once the backend has its ``JobEnd``. Torch is imported when the actor starts, on the node it
was placed on.
"""

from __future__ import annotations

import collections
import os
import threading

from . import JobSpec
from .commands import Command, apply
from .run_loop import run_job


class RayRunner:
    """A warm worker in a Ray actor (threaded): ``run`` trains a run; ``poll`` hands over what it sent since."""

    def __init__(self, threads: int | None = None, preload=None):
        if threads:
            for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ[var] = str(threads)
        import torch

        if threads:
            torch.set_num_threads(threads)
        if preload is not None:
            from .pool_worker import warm_up

            warm_up(preload)  # decodes the data (kept for the actor's runs) and pays torch's first-step costs
        self._controls: dict[str, object] = {}
        self._batches: dict[str, list] = {}
        self._forgotten: collections.deque = collections.deque(maxlen=256)
        self._cond = threading.Condition()

    def pid(self) -> int:
        """This actor's process id; the first call returns once the actor has warmed up."""
        return os.getpid()

    def decoded(self) -> int:
        """How many datasets this actor has decoded (each once, kept for its runs)."""
        from ..data import _cache

        return len(_cache)

    def _control(self, key: str):
        from ..engine import RunControl

        with self._cond:
            if key not in self._controls:
                self._controls[key] = RunControl()
                self._batches.setdefault(key, [])
            return self._controls[key]

    def _push(self, key: str, batch: list) -> None:
        with self._cond:
            self._batches.setdefault(key, []).append(batch)
            self._cond.notify_all()

    def run(self, key: str, spec: JobSpec, max_seconds: float | None) -> tuple[str, str]:
        """Train ``spec`` under ``key`` (its commands may have come first); returns its end (status, message)."""
        end = run_job(spec, lambda batch: self._push(key, batch), self._control(key), max_seconds)
        return end.status, end.message

    def poll(self, key: str, timeout: float) -> list:
        """``key``'s batches sent since the last poll (waiting up to ``timeout`` s for one)."""
        with self._cond:
            if not self._batches.get(key):
                self._cond.wait(timeout)
            batches = self._batches.get(key) or []
            if key in self._batches:
                self._batches[key] = []
        return batches

    def command(self, key: str, command: Command) -> None:
        """Stop, pause, resume, step, slow or watch ``key``'s run (a ``commands`` command)."""
        if key in self._forgotten:
            return
        apply(self._control(key), command)

    def forget(self, key: str) -> None:
        """The backend has ``key``'s end: drop its control and any batch left."""
        with self._cond:
            self._controls.pop(key, None)
            self._batches.pop(key, None)
            self._forgotten.append(key)
