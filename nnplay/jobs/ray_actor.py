"""A Ray actor's body: ``RayRunner`` trains one run with the shared run loop and hands its batches over.

``ray_backend`` wraps it as a threaded actor: ``run`` trains (``run_loop.run_job``), ``poll`` hands over
the batches sent since the last call, ``command`` takes a ``commands`` command. Torch is imported when the
actor starts, on the node it was placed on.
"""

from __future__ import annotations

import os
import threading

from . import JobSpec
from .commands import Command, apply
from .run_loop import run_job


class RayRunner:
    """One run in a Ray actor (threaded): ``run`` trains; ``poll`` hands over what arrived since the last call."""

    def __init__(self, spec: JobSpec, max_seconds: float | None, threads: int | None = None):
        import torch

        from ..engine import RunControl

        if threads:
            torch.set_num_threads(threads)
        self.spec = spec
        self.max_seconds = max_seconds
        self.control = RunControl()
        self._batches: list = []
        self._cond = threading.Condition()

    def pid(self) -> int:
        return os.getpid()

    def _push(self, batch: list) -> None:
        with self._cond:
            self._batches.append(batch)
            self._cond.notify_all()

    def run(self) -> tuple[str, str]:
        end = run_job(self.spec, self._push, self.control, self.max_seconds)
        return end.status, end.message

    def poll(self, timeout: float) -> list:
        """The batches sent since the last poll (waiting up to ``timeout`` s for one)."""
        with self._cond:
            if not self._batches:
                self._cond.wait(timeout)
            batches, self._batches = self._batches, []
        return batches

    def command(self, command: Command) -> None:
        """Stop, pause, resume, step, slow or watch the run (a ``commands`` command)."""
        apply(self.control, command)
