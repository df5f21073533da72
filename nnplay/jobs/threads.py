"""The thread backend: runs train in daemon threads of this process (``NNPLAY_WORKERS=0``, and the command line).

``ThreadBackend`` is the third backend beside the local pool and Ray, as joblib's threading backend sits
beside loky: each job trains in a thread of its own through the same run loop a pool worker uses
(``run_loop.run_job``), so its sink gets the same events (``RunStart``, steps, epochs, ``Checkpoint``
bytes, ``Weights`` while watched, one ``JobEnd``; a ``Result`` for a ``JobSpec.call`` job) and it takes
the same ``commands``. A second thread per job delivers the batches to the sink, as a pool's reader
thread does, so the store's writes never hold up training. Nothing waits in a queue: every job starts
at once, on the ``MnistData`` the caller passed when it has one (else it is loaded in the thread).
When the process exits, the runs still training are stopped and their ends delivered (``close``, within
``STOP_AT_EXIT_S``): a daemon thread still inside torch as the interpreter finalizes aborts the process,
and a run stopped here is recorded "stopped" with its model.
"""

from __future__ import annotations

import atexit
import queue
import threading
import time

from ..engine import RunControl
from . import Backend, Job, JobEnd, JobSpec, QueuePosition, Sink
from .commands import Command, Pause, Resume, apply
from .run_loop import run_job

STOP_AT_EXIT_S = 3.0  # how long the exit waits for the runs it stopped to record their ends


class ThreadJob(Job):
    def __init__(self, spec: JobSpec, sink: Sink, backend: "ThreadBackend"):
        super().__init__(spec, sink, backend)
        self.control = RunControl()
        self.thread: threading.Thread | None = None


class ThreadBackend(Backend):
    """Every job in a daemon thread of this process, started as it is submitted."""

    name = "threads"

    def __init__(self):
        self._lock = threading.Lock()
        self._jobs: list[ThreadJob] = []
        self.closed = False
        atexit.register(self.close, STOP_AT_EXIT_S)

    def submit(self, spec: JobSpec, sink: Sink, data=None, commands: tuple[Command, ...] = ()) -> ThreadJob:
        job = ThreadJob(spec, sink, self)
        with self._lock:
            if self.closed:
                raise RuntimeError("the thread backend is closed; start a new one.")
            self._jobs.append(job)
        job.status = "running"  # taken at once: nothing waits in a queue here
        for command in commands:
            self._command(job, command)
        batches: queue.SimpleQueue = queue.SimpleQueue()
        job.thread = threading.Thread(target=self._train, args=(job, data, batches), daemon=True,
                                      name=f"nnplay-run-{spec.run_id}")
        threading.Thread(target=self._deliver, args=(job, batches), daemon=True,
                         name=f"nnplay-run-events-{spec.run_id}").start()
        job.thread.start()
        return job

    def _train(self, job: ThreadJob, data, batches: queue.SimpleQueue) -> None:
        try:
            run_job(job.spec, batches.put, job.control, None, data)
        except BaseException as err:  # run_job ends every run in a JobEnd; this is for what escapes it
            batches.put([JobEnd("error", f"the run's thread failed with {type(err).__name__}: {err}")])
            raise

    def _deliver(self, job: ThreadJob, batches: queue.SimpleQueue) -> None:
        """Hand the batches to the sink as they come, those that queued up meanwhile as one (one flush)."""
        while not job.done:
            batch = list(batches.get())
            while True:
                try:
                    batch += batches.get_nowait()
                except queue.Empty:
                    break
            job._deliver(batch)
        with self._lock:
            if job in self._jobs:
                self._jobs.remove(job)

    def _command(self, job: Job, command: Command) -> None:
        apply(job.control, command)
        if isinstance(command, Pause) and job.status == "running":
            job.status = "paused"
        elif isinstance(command, Resume) and job.status == "paused":
            job.status = "running"

    def _position(self, job: Job) -> QueuePosition | None:
        return None

    def running(self) -> list[Job]:
        with self._lock:
            return list(self._jobs)

    def describe(self) -> str:
        return "in the server's process (NNPLAY_WORKERS=0)"

    def close(self, timeout: float = 10.0) -> None:
        """Stop every run and wait up to ``timeout`` s in all for their ends to be delivered."""
        atexit.unregister(self.close)
        with self._lock:
            self.closed = True
            jobs = list(self._jobs)
        for job in jobs:
            job.stop()
        deadline = time.monotonic() + timeout
        for job in jobs:
            job.wait(max(0.0, deadline - time.monotonic()))
