"""The local worker pool: runs train in worker processes on this machine, in a fair queue.

``LocalPool`` starts its workers through multiprocessing's fork server (``worker_context``: a fresh process
that imports torch once, ``fork_server``, and forks each worker from itself; "spawn" where the system has
no fork server; the app's own process, which has threads, never forks) and keeps them: each decodes the
data once, then trains one run after another. Per worker the pool holds two one-way pipes (commands in, event
batches out) and one reader thread that hands the batches to the job's sink; when a run's last batch
arrives, its worker is given the next queued run before the sink writes that end. The queue is fair:
a workspace's next run waits behind the runs of workspaces that have nothing training (with
``strict``, a workspace never trains two runs at once); otherwise it is first come, first served. A worker that dies (killed, out of memory) ends
its run as "error" with a sentence, and the pool starts a new worker; the other runs go on.
Workers exit when the pool closes, when the pool's process exits or is killed (the command
pipe reaches end-of-file), and when their parent process is gone: no orphans. What a worker
runs is in ``pool_worker`` (its process) and ``run_loop`` (the training).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import multiprocessing as mp
import os
import signal
import sys
import threading
import time

from .. import settings
from . import Backend, Job, JobEnd, JobSpec, QueuePosition, Sink, env_float
from .commands import Command, Pause, Resume, SetRate, Step, Stop
from .pool_worker import Batch, Exit, Ready, RunJob, ToJob, worker_main

log = logging.getLogger(__name__)

_keys = itertools.count(1)
MAX_FAILED_STARTS = 3
_main_lock = threading.Lock()


@contextlib.contextmanager
def _main_hidden():
    """Start a spawned worker without it re-importing this program's ``__main__``.

    multiprocessing's spawn re-runs the parent's main script in the child (as ``__mp_main__``):
    for ``streamlit run`` that imports Streamlit into every worker, and for a program read from
    stdin or ``-c`` it fails (no such file). The worker needs nothing from ``__main__``, so hide
    its file and spec while the child is started.
    """
    main = sys.modules.get("__main__")
    with _main_lock:
        saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if main is not None and k in main.__dict__}
        for k in saved:
            if k == "__file__":
                del main.__dict__[k]
            else:
                main.__dict__[k] = None
        try:
            yield
        finally:
            main.__dict__.update(saved)


def worker_context():
    """multiprocessing's "forkserver" context with ``fork_server`` preloaded on Linux (workers then share torch's
    pages), else "spawn" (macOS's frameworks are not safe to fork). Never "fork": the app's process has threads."""
    if not sys.platform.startswith("linux") or "forkserver" not in mp.get_all_start_methods():  # macOS: spawn
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["nnplay.jobs.fork_server"])
    return ctx


def machine_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def gpu_count() -> int:
    try:
        import torch

        return torch.cuda.device_count()
    except Exception:  # noqa: BLE001 - no torch CUDA: no GPUs
        return 0


def pool_size(workers: int | None = None, cores: int | None = None, gpus: int | None = None) -> tuple[int, int]:
    """(workers, torch threads per worker) for this machine.

    One worker per GPU; on a CPU-only machine workers of 1 thread up to 3 cores, then of
    cores // 4 threads (at most 4: MNIST-sized matrices gain little beyond that), so that
    workers × threads = cores and no worker's threads compete with another's. ``workers`` (or
    ``NNPLAY_WORKERS``, unless it is 0) fixes the count; the threads are then cores // workers.
    """
    cores = cores or machine_cores()
    gpus = gpu_count() if gpus is None else gpus
    if workers is None:
        # NNPLAY_WORKERS=0 means "train in the app's own threads" (jobs.threads); a pool made anyway fits the machine
        workers = settings.value("NNPLAY_WORKERS") or None
    if workers is not None:
        if workers < 1:
            raise ValueError(f"a pool needs at least 1 worker; got {workers}.")
        return workers, max(1, cores // workers)
    if gpus:
        return gpus, max(1, cores // gpus)
    threads = 1 if cores <= 3 else min(4, cores // 4)
    return max(1, cores // threads), threads


def fills_cores(busy_workers: int, threads: int, gpus: int, cores: int | None = None) -> bool:
    """Whether ``busy_workers`` CPU workers (no ``gpus``) of ``threads`` torch threads each take every core of
    this machine: one worker with all of them (``NNPLAY_WORKERS=1``), or every worker of the default pool busy.
    Then whatever else runs here comes out of their time, and a worker of several threads loses about
    twice what it gives up: its threads wait for each other."""
    return not gpus and busy_workers > 0 and busy_workers * threads >= (cores or machine_cores())


class _Worker:
    """One worker process as the pool sees it."""

    def __init__(self, index: int, gpu: int | None):
        self.index = index
        self.gpu = gpu
        self.process: mp.process.BaseProcess | None = None
        self.cmd = None      # our end of the command pipe (we send)
        self.events = None   # our end of the event pipe (we receive)
        self.job: LocalJob | None = None
        self.ready = False
        self.dead = False
        self.pid: int | None = None
        self.failed_starts = 0  # deaths in a row before it became ready


class LocalJob(Job):
    def __init__(self, spec: JobSpec, sink: Sink, pool: "LocalPool"):
        super().__init__(spec, sink, pool)
        self.key = f"{spec.run_id}#{next(_keys)}"
        self.paused_before_start = False
        self.early_commands: list[Command] = []  # Step/SetRate sent while it was queued
        self.worker: _Worker | None = None


WORKER_NICE = settings.SETTINGS["NNPLAY_WORKER_NICE"].default  # how much lower the workers' CPU priority is


def worker_nice() -> int:
    """``NNPLAY_WORKER_NICE`` (0…19), else ``WORKER_NICE``: the start check's sentence when it is not such a number."""
    return settings.value("NNPLAY_WORKER_NICE")


class LocalPool(Backend):
    """A fixed number of worker processes and a fair FIFO queue of jobs."""

    name = "local"

    def __init__(self, workers: int | None = None, threads: int | None = None,
                 max_run_minutes: float | None = None, memory_mb: float | None = None,
                 strict: bool | None = None, preload=True, gpus: int | None = None, nice: int | None = None):
        from ..config import DataConfig

        n, default_threads = pool_size(workers, gpus=gpus)
        gpus = gpu_count() if gpus is None else gpus
        self.threads = threads or default_threads
        self.gpus = gpus
        self.max_run_minutes = max_run_minutes if max_run_minutes is not None else env_float("NNPLAY_MAX_RUN_MINUTES")
        self.memory_mb = memory_mb if memory_mb is not None else env_float("NNPLAY_WORKER_MEMORY_MB")
        self.strict = strict if strict is not None else settings.value("NNPLAY_ONE_RUN_PER_WORKSPACE")
        self.nice = nice if nice is not None else worker_nice()
        # preload=True: decode the default dataset in every worker as it starts (a warm pool)
        self.preload = DataConfig() if preload is True else (preload or None)
        self._ctx = worker_context()
        self._lock = threading.RLock()
        self._queue: list[LocalJob] = []
        self._last_start: dict[str, int] = {}  # workspace -> when it last started a run (a counter)
        self._starts = itertools.count()
        self._closing = False
        self._workers = [_Worker(i, i % gpus if gpus else None) for i in range(n)]
        for worker in self._workers:
            self._start_worker(worker)
        atexit.register(self.close, 2.0)  # before multiprocessing's own exit handler terminates them

    # -- workers --------------------------------------------------------------------------------

    def _start_worker(self, worker: _Worker) -> None:
        cmd_recv, cmd_send = self._ctx.Pipe(duplex=False)
        evt_recv, evt_send = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(
            target=worker_main, name=f"nnplay-worker-{worker.index}", daemon=True,
            args=(cmd_recv, evt_send, self.threads, worker.gpu, self.preload, self.memory_mb, self.nice))
        with _main_hidden():
            process.start()
        cmd_recv.close()  # the worker's ends: once closed here, a dead worker or a dead pool reads as EOF
        evt_send.close()
        worker.process, worker.cmd, worker.events = process, cmd_send, evt_recv
        worker.pid, worker.ready, worker.dead, worker.job = process.pid, False, False, None
        threading.Thread(target=self._read, args=(worker, evt_recv), daemon=True,
                         name=f"nnplay-pool-reader-{worker.index}").start()

    def _read(self, worker: _Worker, conn) -> None:
        """The reader thread of one worker: deliver its batches; on EOF, handle its death."""
        while True:
            # the last batch is not held while waiting for the next: its final checkpoint is a model's worth of
            # bytes, which the app would otherwise keep until the worker's next run
            message = None
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            except Exception:  # noqa: BLE001 - an event that cannot be unpickled: skip it, keep reading
                log.exception("worker %s sent a message that could not be read", worker.index)
                continue
            if isinstance(message, Ready):
                with self._lock:
                    worker.ready = True
                    self._dispatch()
            elif isinstance(message, Batch):
                job = worker.job
                if job is None or job.key != message.key:
                    continue
                if any(isinstance(event, JobEnd) for event in message.events):
                    with self._lock:  # the worker is done with it: it starts the next run while this end is written
                        worker.job = None
                        self._dispatch()
                job._deliver(message.events)
        self._worker_died(worker, conn)

    def _worker_died(self, worker: _Worker, conn) -> None:
        process = worker.process
        process.join(5)
        code = process.exitcode
        with self._lock:
            worker.dead = True
            worker.failed_starts = 0 if worker.ready else worker.failed_starts + 1
            job, worker.job = worker.job, None
            try:
                conn.close()
                worker.cmd.close()
            except OSError:
                pass
            if self._closing:
                if job is not None:
                    job._deliver([JobEnd("stopped", "the worker pool shut down while it trained")])
                return
            log.warning("worker %s (pid %s) ended with exit code %s; starting a new one", worker.index, worker.pid, code)
            if job is not None:
                job._deliver([JobEnd("error", death_sentence(code, worker.pid))])
            if worker.failed_starts >= MAX_FAILED_STARTS:
                # it dies before it is ready, again and again: do not loop; say so if no worker is left
                log.error("worker %s failed to start %d times in a row; not restarting it", worker.index,
                          worker.failed_starts)
                if all(w.dead and w.failed_starts >= MAX_FAILED_STARTS for w in self._workers):
                    queued, self._queue = self._queue, []
                    for waiting in queued:
                        waiting._deliver([JobEnd("error", (
                            f"the training worker processes cannot start (the last exited with code {code}); "
                            f"the server's log says why. Restart the app after fixing it."))])
                return
            self._start_worker(worker)
            self._dispatch()

    # -- the queue ------------------------------------------------------------------------------

    def submit(self, spec: JobSpec, sink: Sink, data=None, commands: tuple[Command, ...] = ()) -> LocalJob:
        job = LocalJob(spec, sink, self)
        with self._lock:
            if self._closing:
                raise RuntimeError("the worker pool is closed; start a new one.")
            if all(w.dead and w.failed_starts >= MAX_FAILED_STARTS for w in self._workers):
                raise RuntimeError("the training worker processes cannot start; the server's log says why.")
            self._queue.append(job)
            for command in commands:  # held with the queued job, sent with it to its worker
                self._command(job, command)
            self._dispatch()
        return job

    def _busy_workspaces(self) -> dict[str, str]:
        """workspace -> run id of a run it has training now."""
        return {w.job.spec.workspace: w.job.spec.run_id for w in self._workers if w.job is not None}

    def _order(self) -> list[LocalJob]:
        """The queue in the order it will be served: fair across workspaces, FIFO within one.

        A job's rank is how many runs of its workspace train or wait ahead of it; lower ranks go
        first, then the workspace that started a run least recently (round robin), then FIFO.
        """
        running: dict[str, int] = {}
        for w in self._workers:
            if w.job is not None:
                running[w.job.spec.workspace] = running.get(w.job.spec.workspace, 0) + 1
        ahead = dict(running)
        keys = {}
        for i, job in enumerate(self._queue):
            ws = job.spec.workspace
            keys[job.key] = (ahead.get(ws, 0), self._last_start.get(ws, -1), i)
            ahead[ws] = ahead.get(ws, 0) + 1
        return sorted(self._queue, key=lambda j: keys[j.key])

    def _next_job(self) -> LocalJob | None:
        order = self._order()
        if not order:
            return None
        if order[0].spec.workspace not in self._busy_workspaces() or not self.strict:
            return order[0]  # not strict: only workspaces with a run training wait, so use the idle worker
        return None

    def _dispatch(self) -> None:
        with self._lock:
            if self._closing:
                return
            for worker in self._workers:
                if not self._queue:
                    return
                if worker.dead or not worker.ready or worker.job is not None:
                    continue
                job = self._next_job()
                if job is None:
                    return
                self._queue.remove(job)
                max_seconds = self.max_run_minutes * 60 if self.max_run_minutes else None
                # assigned before sending: the worker's first batch can arrive before send() returns
                worker.job, job.worker = job, worker
                try:
                    worker.cmd.send(RunJob(job.key, job.spec, max_seconds, job.paused_before_start))
                    for command in job.early_commands:
                        worker.cmd.send(ToJob(job.key, command))
                except (OSError, EOFError):
                    worker.job, job.worker = None, None
                    self._queue.insert(0, job)  # the reader thread will see this worker's death
                    continue
                self._last_start[job.spec.workspace] = next(self._starts)
                job.status = "paused" if job.paused_before_start else "running"

    def _position(self, job: Job) -> QueuePosition | None:
        with self._lock:
            if job not in self._queue:
                return None
            order = self._order()
            n, m = order.index(job) + 1, len(order)
            busy = self._busy_workspaces()
            workers = [w for w in self._workers if not w.dead]
            earlier = [j for j in self._queue[:self._queue.index(job)] if j.spec.workspace == job.spec.workspace]
            if job.spec.workspace in busy and (self.strict or n > 1):
                reason = (f"this workspace's run {busy[job.spec.workspace]} is training, and a workspace trains "
                          f"one run at a time while others wait")
            elif earlier:
                reason = f"it waits behind this workspace's run {earlier[-1].spec.run_id}"
            elif not any(w.ready for w in workers):
                reason = f"the {len(workers)} worker{'s are' if len(workers) != 1 else ' is'} starting"
            else:
                reason = f"all {len(workers)} worker{'s are' if len(workers) != 1 else ' is'} busy"
            return QueuePosition(n, m, reason)

    def _command(self, job: Job, command: Command) -> None:
        with self._lock:
            if job in self._queue:
                if isinstance(command, Stop):
                    self._queue.remove(job)
                    job._deliver([JobEnd("stopped", "stopped before it started")])
                    self._dispatch()
                elif isinstance(command, (Pause, Resume)):
                    job.paused_before_start = isinstance(command, Pause)
                elif isinstance(command, (Step, SetRate)):
                    job.early_commands.append(command)  # sent once it starts
                return
            worker = job.worker
            if worker is None or worker.job is not job:
                return
            try:
                worker.cmd.send(ToJob(job.key, command))
            except (OSError, EOFError):
                return  # the worker died; its reader ends the job
            if isinstance(command, Pause) and job.status == "running":
                job.status = "paused"
            elif isinstance(command, Resume) and job.status == "paused":
                job.status = "running"

    # -- reading and closing --------------------------------------------------------------------

    @property
    def size(self) -> int:
        return len(self._workers)

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._workers if not w.dead and w.pid is not None]

    def queued(self) -> list[Job]:
        with self._lock:
            return list(self._order())

    def running(self) -> list[Job]:
        with self._lock:
            return [w.job for w in self._workers if w.job is not None]

    def cores_full(self) -> bool:
        """Whether its running (not paused) runs take every core: ``fills_cores``."""
        with self._lock:
            busy = sum(w.job is not None and w.job.status == "running" for w in self._workers)
        return fills_cores(busy, self.threads, self.gpus)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until every worker has imported torch and decoded the data; True if they have."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not all(w.ready for w in self._workers):
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def describe(self) -> str:
        gpus = sorted({w.gpu for w in self._workers if w.gpu is not None})
        where = f"GPU {', '.join(map(str, gpus))}" if gpus else f"{self.threads} CPU thread{'s' if self.threads > 1 else ''} each"
        cap = f"; runs capped at {self.max_run_minutes:g} min" if self.max_run_minutes else ""
        return f"local pool: {self.size} worker process{'es' if self.size > 1 else ''} ({where}){cap}"

    def close(self, timeout: float = 10.0) -> None:
        """Stop every run (queued ones never start), let the workers exit, kill what does not."""
        atexit.unregister(self.close)
        with self._lock:
            if self._closing:
                return
            queued, self._queue = self._queue, []
        for job in queued:
            job._deliver([JobEnd("stopped", "the worker pool shut down before it started")])
        running = self.running()
        for job in running:
            job.stop()
        deadline = time.monotonic() + timeout
        for job in running:
            job.wait(max(0.0, deadline - time.monotonic()))
        with self._lock:
            self._closing = True
            workers = list(self._workers)
        for worker in workers:
            try:
                worker.cmd.send(Exit())
            except (OSError, EOFError):
                pass
        for worker in workers:
            worker.process.join(max(0.1, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(2)


def death_sentence(exitcode: int | None, pid: int | None) -> str:
    """Why a worker process ended, as a sentence for the run it was training."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        why = (f"was killed by {name}" + (", which the system's out-of-memory killer also sends: the run may "
                                          "have needed more memory than the machine has" if exitcode == -9 else ""))
    elif exitcode is None:
        why = "stopped answering"
    else:
        why = f"exited with code {exitcode}"
    # what model is left the run says itself (``Run``): only it knows whether an epoch had finished
    return f"the worker process training this run (pid {pid}) {why}. Its curves up to then are kept; the pool " \
           "started a new worker."
