"""The sinks a run's events go to: ``JobSink`` (what a ``nnplay.jobs`` backend calls) and ``Recorder`` (the store).

``JobSink`` runs in the backend's reader thread: engine events go to the run's history and burst timing
(``Run.record``), to its ``Recorder`` and to the listener ``Run.start`` was given; checkpoints are written
to the run's folder, live weights kept for ``Run.watch_model``, the ``JobEnd`` ends the run. ``Recorder``
commits the events to the store in batches: at most once every ``FLUSH_SECONDS`` between epochs, once per
epoch (with its checkpoint) and at the end.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..engine import EpochMetrics, LayerStats, RunStart, StepEvent
from ..jobs import Checkpoint, JobEnd, Weights
from ..store import Store, StoreError

if TYPE_CHECKING:
    from .run import Run

FLUSH_SECONDS = 1.0  # the recorder commits at most this often between epochs


class Recorder:
    """A listener that writes a run's events into its store in batches.

    Steps are buffered and committed at most once a second, and by ``JobSink`` once per batch of events and
    with each epoch's checkpoint. A store that fails (disk full, read only) does not stop the training: the
    buffers are kept for the next try and ``error`` says why.
    """

    def __init__(self, run: "Run", store: Store):
        self.run, self.store = run, store
        self.steps: list[StepEvent] = []
        self.epochs: list[EpochMetrics] = []
        self.layers: list[LayerStats] = []
        self.start: RunStart | None = None
        self.last = time.monotonic()
        self.error = ""
        self.extra: dict = {}  # fields a failed flush was given (the epoch of a checkpoint): written with the next

    def __call__(self, event) -> None:
        if isinstance(event, StepEvent):
            self.steps.append(event)
            if time.monotonic() - self.last >= FLUSH_SECONDS:
                self.flush()
        elif isinstance(event, LayerStats):
            self.layers.append(event)
        elif isinstance(event, EpochMetrics):
            self.epochs.append(event)  # committed with the epoch's Checkpoint that follows it
        elif isinstance(event, RunStart):
            self.start = event
            self.flush(data_source=self.run.data_source or None)  # known once it trains: kept with the run

    def flush(self, **extra) -> bool:
        self.last = time.monotonic()
        self.extra.update(extra)
        try:
            self.store.record(self.run.id, steps=self.steps, epochs=self.epochs, layers=self.layers,
                              start=self.start, **self.extra)
        except StoreError as err:
            self.error = str(err)
            return False
        self.drop()
        self.error = ""
        return True

    def drop(self) -> None:
        """Forget what is buffered (written, or given up on)."""
        self.steps, self.epochs, self.layers, self.start, self.extra = [], [], [], None, {}


class JobSink:
    """A ``Run``'s sink for ``nnplay.jobs``: called in the backend's reader thread with each event, in order.

    Engine events go to the run's own listener (``Run.record``: history and burst timing), to its
    store ``Recorder`` and to the listener ``Run.start`` was given (the command line's progress bar); an epoch's ``Checkpoint`` is written to ``epoch.pt`` and recorded, the final
    one is held until the ``JobEnd`` says whether the run finished; ``Weights`` are kept for
    ``Run.watch_model``; ``RunStart`` and ``JobEnd`` set the run's status. ``flush`` (once per batch)
    commits what the recorder holds in one transaction.
    """

    def __init__(self, run: "Run"):
        self.run = run
        self.final: bytes | None = None

    def __call__(self, event) -> None:
        run, recorder = self.run, self.run.recorder
        if isinstance(event, Weights):
            run._weights = event
        elif isinstance(event, Checkpoint):
            if event.final:
                self.final = event.data
            elif run.write_file("epoch.pt", event.data):
                run.kept_epoch = event.epoch
                if recorder is not None:
                    recorder.flush(checkpoint_epoch=event.epoch)
        elif isinstance(event, JobEnd):
            run._job_ended(event, self.final)
            self.final = None
        else:
            if isinstance(event, RunStart):
                run._job_started()
            run.record(event)
            if recorder is not None:
                recorder(event)
            if run.listener is not None:
                run.listener(event)

    def flush(self) -> None:
        """After each batch: commit an epoch's or the start's events at once, steps alone once a second."""
        recorder = self.run.recorder
        if recorder is None:
            return
        if recorder.epochs or recorder.layers or recorder.start or (
                recorder.steps and time.monotonic() - recorder.last >= FLUSH_SECONDS):
            recorder.flush()
