"""The thread backend: runs train in daemon threads of this process (``NNPLAY_WORKERS=0``, and the command line).

``ThreadBackend`` is the third backend beside the local pool and Ray, as joblib's threading backend sits
beside loky: each job trains in a thread of its own through the same run loop a pool worker uses
(``run_loop.run_job``), so its sink gets the same events (``RunStart``, steps, epochs, ``Checkpoint``
bytes, ``Weights`` while watched, one ``JobEnd``; a ``Result`` for a ``JobSpec.call`` job) and it takes
the same ``commands``. A second thread per job delivers the batches to the sink, as a pool's reader
thread does, so the store's writes never hold up training; both count the batches, so ``Job.caught_up``
knows exactly when what was sent has been delivered. Nothing waits in a queue: every job starts
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
from .commands import Command, Pause, Resume, Step, Stop, apply
from .run_loop import run_job

STOP_AT_EXIT_S = 3.0  # how long the exit waits for the runs it stopped to record their ends


class ThreadJob(Job):
    def __init__(self, spec: JobSpec, sink: Sink, backend: "ThreadBackend"):
        super().__init__(spec, sink, backend)
        self.control = RunControl()
        self.thread: threading.Thread | None = None
        self.courier: threading.Thread | None = None  # delivers the batches to the sink
        self._batches = threading.Condition()  # guards the counts below
        self._sent = 0  # batches the run has sent ...
        self._handed = 0  # ... and those handed to the sink
        self._moves = 0  # commands that move a paused run (Pause, Resume, Step, Stop) applied ...
        self._rested = -1  # ... and how many of them the run had seen when it last came to rest paused

    def _at_rest(self) -> None:
        """The run loop, paused, has sent all it held and is about to wait: unless a command just let it go on."""
        with self._batches:
            control = self.control
            if control.paused and not control.pending_steps and not control.stopped:
                self._rested = self._moves
                self._batches.notify_all()


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

        def send(batch: list) -> None:
            with job._batches:
                job._sent += 1
            batches.put(batch)

        job.thread = threading.Thread(target=self._train, args=(job, data, send), daemon=True,
                                      name=f"nnplay-run-{spec.run_id}")
        job.courier = threading.Thread(target=self._deliver, args=(job, batches), daemon=True,
                                       name=f"nnplay-run-events-{spec.run_id}")
        job.courier.start()
        job.thread.start()
        return job

    def _train(self, job: ThreadJob, data, send) -> None:
        try:
            run_job(job.spec, send, job.control, None, data, at_rest=job._at_rest, own_process=False)
        except BaseException as err:  # run_job ends every run in a JobEnd; this is for what escapes it
            send([JobEnd("error", f"the run's thread failed with {type(err).__name__}: {err}")])
            raise

    def _deliver(self, job: ThreadJob, batches: queue.SimpleQueue) -> None:
        """Hand the batches to the sink as they come, those that queued up meanwhile as one (one flush)."""
        while not job.done:
            batch, taken = list(batches.get()), 1
            while True:
                try:
                    batch += batches.get_nowait()
                    taken += 1
                except queue.Empty:
                    break
            job._deliver(batch)
            with job._batches:
                job._handed += taken
                job._batches.notify_all()
        with self._lock:
            if job in self._jobs:
                self._jobs.remove(job)

    def _command(self, job: ThreadJob, command: Command) -> None:
        with job._batches:  # applied and counted at once: ``_at_rest`` sees both or neither
            apply(job.control, command)
            if isinstance(command, (Pause, Resume, Step, Stop)):
                job._moves += 1
        if isinstance(command, Pause) and job.status == "running":
            job.status = "paused"
        elif isinstance(command, Resume) and job.status == "paused":
            job.status = "running"

    def _position(self, job: Job) -> QueuePosition | None:
        return None

    def _caught_up(self, job: ThreadJob, timeout: float) -> bool:
        if threading.current_thread() is job.courier:  # a sink that asks would wait for itself
            return job.done
        deadline = time.monotonic() + timeout
        with job._batches:
            if job.control.paused:  # first the run must stop at its pause, having sent every step it took
                moves = job._moves
                if not job._batches.wait_for(lambda: job._rested >= moves or job.done, timeout):
                    return False
            sent = job._sent
            return job._batches.wait_for(lambda: job._handed >= sent or job.done,
                                         max(0.0, deadline - time.monotonic()))

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
