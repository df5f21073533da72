"""Training as managed jobs: one small interface, a local worker pool by default, Ray or this process's threads when asked.

The caller builds a ``JobSpec`` (run id, workspace, the three configs; it reads the run's own digits and the
weights it starts from into itself, so a worker on another machine needs no file of the app's) and hands it
with a *sink* to a backend: ``job = backend().submit(spec, sink)``. The run trains in another process (a local
worker, or a Ray actor on a cluster); its events come back to this process in batches and the
backend's own reader thread calls ``sink(event)`` for each, in order, then ``sink.flush()`` once
per batch when the sink has a ``flush`` method (one store transaction per log burst or epoch).
The events are the engine's (``RunStart``, ``StepEvent``, ``EpochMetrics``, ``LayerStats``,
``RunEnd``; a ``JobSpec.call`` job sends one ``Result`` instead), plus ``Weights`` (the live weights, only while watched: ``job.watch()``), ``Checkpoint`` (the model as an nnplay checkpoint file's bytes, after each
finished epoch and at the end) and, always last, one ``JobEnd`` (finished, stopped, diverged or
error, with a sentence). ``job.stop() / pause() / resume()`` reach the run within one log burst,
as do ``job.step(n)`` (step mode: n more steps while paused) and ``job.set_rate(steps_per_second)``:
each is a typed command (``commands``: Stop, Pause, Resume, Step, SetRate, Watch) that every backend
carries to the run's ``RunControl``;
``job.position()`` says where a queued run waits and why; ``job.wait(timeout)`` blocks until the
``JobEnd`` has been delivered; ``job.caught_up(timeout)`` until the events the run sent so far have been
(a paused run's: until it stopped at its pause and every step it took is delivered).

``backend()`` picks the backend from the environment (read through ``nnplay.settings``, which checks each
value at start), once per process:

- ``NNPLAY_RAY_ADDRESS`` (``auto``, ``ray://host:10001`` or a head's ``host:port``): a Ray
  cluster (``ray_backend``), reached in the background (no page waits for it; while it cannot be reached,
  ``describe()`` says why and runs wait), its runs trained by warm actors kept on its nodes;
  ``NNPLAY_RAY_GPUS_PER_RUN`` (default 1) is the
  GPU share a run asks for when it wants CUDA, ``NNPLAY_RAY_CPUS_PER_RUN`` (default 1) its CPUs.
- ``NNPLAY_WORKERS=0``: threads of this process (``threads``), one per run, through the same run loop
  (``thread_backend()`` is that backend whatever the environment: the command line trains through it).
- otherwise the local pool (``local``): ``NNPLAY_WORKERS`` worker processes (default: one per
  GPU, else sized to the CPU cores), ``NNPLAY_MAX_RUN_MINUTES`` caps a run's length (it ends
  "stopped" with its model kept), ``NNPLAY_WORKER_MEMORY_MB`` caps a worker's memory (a run that
  needs more ends "error: ran out of memory"), ``NNPLAY_ONE_RUN_PER_WORKSPACE=1`` makes the
  one-run-per-workspace rule strict (by default it holds whenever another workspace waits).

The run loop every backend shares is ``run_loop``; a pool worker's process is ``pool_worker``, a Ray
actor's body ``ray_actor``. Nothing here imports torch or ray, and nothing in this package imports
streamlit or knows about the store: the sink is where runs are recorded.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from .. import settings
from ..config import DataConfig, ModelConfig, TrainConfig
from .commands import Command, Pause, Resume, SetRate, Step, Stop, Watch

log = logging.getLogger(__name__)

FINAL = ("finished", "stopped", "diverged", "error")


# ---------------------------------------------------------------------------------------------
# what goes in, what comes out


@dataclass
class JobSpec:
    """Everything a worker needs to train one run; picklable, so it crosses process boundaries."""
    run_id: str
    workspace: str
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    name: str = ""
    # a job that is not a training run: ("nnplay.module:function", {keyword arguments}); the worker loads
    # ``data`` and calls function(data=<MnistData>, **kwargs), then sends a ``Result`` (model and train unused)
    call: tuple[str, dict] | None = None
    # a run that trains further from another's weights (fine-tuning): the nnplay checkpoint file it starts from
    init_from: str | None = None
    max_minutes: float | None = None  # this run's own time cap (class mode's per-learner limit), beside the pool's
    visible_test_only: bool = False  # evaluate on the visible half of the test set only (class mode's held-back half)
    # the digits of ``data.extra_data`` (images uint8 (N, 28, 28), labels uint8 (N,)) and the bytes of ``init_from``,
    # read where the spec is made: a worker on another machine (Ray) never opens the app's files
    extra_digits: tuple | None = field(default=None, repr=False)
    init_weights: bytes | None = field(default=None, repr=False)

    def __post_init__(self):
        if not isinstance(self.run_id, str) or not self.run_id:
            raise ValueError(f"a job needs a run id (a non-empty string); got {self.run_id!r}.")
        if not isinstance(self.workspace, str) or not self.workspace:
            raise ValueError(f"a job needs a workspace (a non-empty string); got {self.workspace!r}.")
        if self.call is not None and not (isinstance(self.call[0], str) and self.call[0].startswith("nnplay.")
                                          and ":" in self.call[0]):
            raise ValueError(f"a job calls a function of nnplay as 'nnplay.module:function'; got {self.call[0]!r}.")
        if self.call is None and self.data.extra_data is not None and self.extra_digits is None:
            from ..handwriting.digits_npz import read_digits  # DigitsFileError (a ValueError): a sentence

            self.extra_digits = read_digits(os.path.expanduser(self.data.extra_data))
        if self.init_from is not None and self.init_weights is None:
            try:
                with open(self.init_from, "rb") as f:
                    self.init_weights = f.read()
            except OSError:
                pass  # left to the worker, whose run then ends in an error that names the file


@dataclass
class Checkpoint:
    """The model after a finished epoch (``final=False``) or at the end of the run (``final=True``).

    ``data`` is a complete nnplay checkpoint file (``nnplay.checkpoint``: weights on the CPU, the
    model config, and meta with run_id, epoch, step and final): write it to disk as it is, or
    ``nnplay.checkpoint.load_checkpoint(data)`` to get the model back.
    """
    epoch: int   # epochs completed when it was taken
    step: int
    final: bool
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Weights:
    """The model's latest weights while someone watches it or step mode is on (at most one a second).

    ``data`` is a complete nnplay checkpoint file, like ``Checkpoint.data``; ``step`` is the
    training step the weights are from. Only sent after ``Job.watch()`` (or while paused in step mode).
    """
    step: int
    data: bytes = field(repr=False)


@dataclass
class Result:
    """What a ``JobSpec.call`` job's function returned, or the error it raised (its type's name and text)."""
    value: object = None
    error_type: str = ""
    error: str = ""


@dataclass
class JobEnd:
    """How a job ended; always the last event a sink receives for it."""
    status: str    # "finished", "stopped", "diverged" or "error"
    message: str   # a sentence for the user, shown after the status: "error: the worker process ... was killed"


@dataclass
class QueuePosition:
    """A queued job's place: ``n`` of ``m`` waiting jobs, and why it waits."""
    n: int
    m: int
    reason: str

    def __str__(self) -> str:
        return f"queued, position {self.n} of {self.m}: {self.reason}"


Sink = Callable[[object], None]


# ---------------------------------------------------------------------------------------------
# a job as the caller holds it


class Job:
    """A submitted run: its status, and the handles to stop, pause or resume it.

    ``status`` is "queued", "running", "paused", or one of ``FINAL`` once its ``JobEnd`` is
    delivered. The backend's reader thread calls ``_deliver``; the caller never does.
    """

    def __init__(self, spec: JobSpec, sink: Sink, backend: "Backend"):
        self.spec = spec
        self.status = "queued"
        self.message = ""
        self.last_checkpoint: Checkpoint | None = None
        self.events_delivered = 0
        self._sink = sink
        self._backend = backend
        self._done = threading.Event()
        self._deliver_lock = threading.Lock()

    @property
    def run_id(self) -> str:
        return self.spec.run_id

    @property
    def cores_full(self) -> bool:
        """Whether the runs training now take every CPU core of this machine (``Backend.cores_full``)."""
        return self._backend.cores_full()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def stop(self) -> None:
        """End the run at its next step (a queued run never starts); its model so far is kept."""
        self.send(Stop())

    def pause(self) -> None:
        self.send(Pause())

    def resume(self) -> None:
        self.send(Resume())

    def step(self, n: int = 1) -> None:
        """Step mode: while paused, let exactly ``n`` more training steps through (then it waits again)."""
        if n < 1:
            raise ValueError(f"step(n) lets n ≥ 1 steps through, got {n}.")
        self.send(Step(int(n)))

    def set_rate(self, steps_per_second: float | None) -> None:
        """Train at most ``steps_per_second`` steps a second (None: full speed)."""
        self.send(SetRate(None if steps_per_second is None else float(steps_per_second)))

    def watch(self, seconds: float = 5.0) -> None:
        """Ask for ``Weights`` snapshots (at most one a second) for the next ``seconds``; call again to go on."""
        self.send(Watch(float(seconds)))

    def send(self, command: Command) -> None:
        """Send a ``commands`` command (Stop, Pause, Resume, Step, SetRate, Watch) to the run; none once it ended."""
        if not self.done:
            self._backend._command(self, command)

    def position(self) -> QueuePosition | None:
        """Where this job waits in the queue, or None when it is not waiting."""
        if self.status != "queued" or self.done:
            return None
        return self._backend._position(self)

    def forget_checkpoint(self) -> None:
        """Let go of ``last_checkpoint`` (a model's worth of bytes) once the sink has kept what it needs: a
        run that ended stays in the app's memory with its job, and must not keep its model there too."""
        self.last_checkpoint = None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job's ``JobEnd`` has been delivered to its sink; True if it has."""
        return self._done.wait(timeout)

    def caught_up(self, timeout: float = 5.0) -> bool:
        """Block until every event the run has sent so far has been delivered to the sink; for a paused run,
        until it has stopped at its pause and sent the steps it held back, so that no step arrives before it
        resumes. True if so (or the job ended) within ``timeout`` s; False when the backend cannot tell (its
        runs train in another process, whose pipe may still carry events)."""
        return self._backend._caught_up(self, timeout)

    def _deliver(self, batch: list) -> None:
        """Hand a batch of events to the sink, in order, then flush it once; keep our own status."""
        with self._deliver_lock:
            if self.done:
                return
            end = None
            for event in batch:
                if isinstance(event, Checkpoint):
                    self.last_checkpoint = event
                elif isinstance(event, JobEnd):
                    end = event
                elif type(event).__name__ == "RunStart" and self.status == "queued":
                    self.status = "running"
                self.events_delivered += 1
                try:
                    self._sink(event)
                except Exception:  # a broken sink must not stop the reader thread
                    log.exception("job %s: the sink failed on %s", self.run_id, type(event).__name__)
            flush = getattr(self._sink, "flush", None)
            if callable(flush):
                try:
                    flush()
                except Exception:
                    log.exception("job %s: the sink's flush failed", self.run_id)
            if end is not None:
                self.status, self.message = end.status, end.message
                # the payload is spent, and an ended run stays in the app's memory with its job: let it go
                self.spec.extra_digits = self.spec.init_weights = None
                self._done.set()

    def __repr__(self) -> str:
        return f"<Job {self.run_id} {self.status}>"


class Backend:
    """What every backend offers: ``submit`` and ``close``; jobs call back through ``_command``/``_position``."""

    name = "backend"

    def submit(self, spec: JobSpec, sink: Sink, data=None, commands: tuple[Command, ...] = ()) -> Job:
        """Queue ``spec``; ``data``: an ``MnistData`` already loaded for ``spec.data``, which a backend that
        trains in this process uses instead of loading it again (the others load it where the run trains);
        ``commands``: what to do before its first step (start paused, step mode, a step rate)."""
        raise NotImplementedError

    def close(self, timeout: float = 10.0) -> None:
        raise NotImplementedError

    def cores_full(self) -> bool:
        """Whether the runs training now take every CPU core of the app's machine, so that whatever else runs
        there (a browser drawing a live view, the app rendering it) comes out of their time (``Run.calm``).
        False unless a backend says otherwise: Ray's runs train on the cluster's cores."""
        return False

    def describe(self) -> str:
        """One line for the sidebar or a log: where runs train."""
        return self.name

    def _command(self, job: Job, command: Command) -> None:
        """Send a ``commands`` command (Stop, Pause, Resume, Step, SetRate, Watch) to the job's run."""
        raise NotImplementedError

    def _position(self, job: Job) -> QueuePosition | None:
        raise NotImplementedError

    def _caught_up(self, job: Job, timeout: float) -> bool:
        """``Job.caught_up``: a backend whose runs train in another process cannot see what is still on its
        way, so only an ended job is caught up."""
        return job.done


# ---------------------------------------------------------------------------------------------
# environment and the process-wide backend


def env_float(name: str, default: float | None = None) -> float | None:
    """A number setting's value as ``nnplay.settings`` checks it, or ``default`` when it has none; a
    ``settings.SettingError`` with the start check's sentence when bad."""
    value = settings.value(name)
    return default if value is None else float(value)


_backend: Backend | None = None
_backend_lock = threading.Lock()


RETRY_S = 60.0  # a backend that could not be made (a bad setting, Ray not installed) is tried again after this
_failed: tuple[float, Exception] | None = None  # (when, why) the last try failed


def backend() -> Backend:
    """The process's backend, made on first use: Ray when ``NNPLAY_RAY_ADDRESS`` is set, threads of this process
    when ``NNPLAY_WORKERS=0`` (``threads_enabled``), else the local pool.

    When making it fails (RuntimeError or ValueError: a sentence for the user), the same error is raised at
    once for ``RETRY_S`` seconds, then it is tried again. A Ray backend is made at once: it reaches its
    cluster in a thread of its own (``RayBackend(background=True)``).
    """
    global _backend, _failed
    with _backend_lock:
        if _backend is None:
            if _failed is not None and time.monotonic() - _failed[0] < RETRY_S:
                raise _failed[1]
            try:
                address = settings.value("NNPLAY_RAY_ADDRESS")
                if address:
                    from .ray_backend import RayBackend

                    _backend = RayBackend(address, background=True)  # connects in a thread, and keeps trying
                elif threads_enabled():
                    _backend = thread_backend()
                else:
                    from .local import LocalPool

                    _backend = LocalPool()
            except (RuntimeError, ValueError) as err:
                _failed = (time.monotonic(), err)
                raise
            _failed = None
        return _backend


def threads_enabled() -> bool:
    """Whether ``NNPLAY_WORKERS=0`` asks for runs to train in threads of this process (``threads``)."""
    return settings.value("NNPLAY_WORKERS") == 0


_threads: Backend | None = None


def thread_backend() -> Backend:
    """This process's ``threads.ThreadBackend`` (one per process), whatever ``backend()`` is: the command line
    trains here through it."""
    global _threads
    with _threads_lock:
        if _threads is None or _threads.closed:
            from .threads import ThreadBackend

            _threads = ThreadBackend()
        return _threads


_threads_lock = threading.Lock()


def shutdown(timeout: float = 10.0) -> None:
    """Close the process's backend (stops its runs and workers); the next ``backend()`` makes a new one."""
    global _backend, _failed
    with _backend_lock:
        b, _backend, _failed = _backend, None, None
    if b is not None:
        b.close(timeout)


__all__ = ["JobSpec", "Checkpoint", "Weights", "Result", "JobEnd", "QueuePosition", "Job", "Backend", "Sink", "FINAL",
           "Command", "Stop", "Pause", "Resume", "Step", "SetRate", "Watch", "backend", "thread_backend",
           "threads_enabled", "shutdown"]
