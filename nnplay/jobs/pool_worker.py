"""A local pool's worker process: its whole life (``worker_main``) and the messages it exchanges with the pool.

``LocalPool`` (``local``) starts ``worker_main`` in a process of its own (forked from its fork server, or
spawned) with two one-way pipes. In: ``RunJob``
(train this spec), ``ToJob`` (a ``commands`` command for a run it trains or holds), ``Exit``. Out: ``Ready``
once it has imported torch and decoded the data, then one ``Batch`` of events per burst (``run_loop``).
It exits when told, when the pool's end of the pipe closes, or when its parent process is gone. Once warm it
freezes what it has made so far (``freeze_long_lived``), so the collection after each run is cheap.
"""

from __future__ import annotations

import gc
import os
import queue
import threading
from dataclasses import dataclass

from . import JobSpec
from .commands import Command, Pause, apply
from .run_loop import run_job

PARENT_CHECK_S = 1.0  # s between checks that the pool's process is still alive


@dataclass
class RunJob:
    """Pool → worker: train ``spec`` under ``key`` (started paused when ``paused``, capped at ``max_seconds``)."""
    key: str
    spec: JobSpec
    max_seconds: float | None = None
    paused: bool = False


@dataclass
class ToJob:
    """Pool → worker: a command for the run under ``key``."""
    key: str
    command: Command


@dataclass
class Exit:
    """Pool → worker: stop every run and exit."""


@dataclass
class Ready:
    """Worker → pool: it is ready for runs."""
    pid: int


@dataclass
class Batch:
    """Worker → pool: a batch of the events of the run under ``key``."""
    key: str
    events: list




def _limit_memory(megabytes: float) -> None:
    """Cap this process's address space at what it uses now plus ``megabytes`` (Linux)."""
    try:
        import resource

        with open("/proc/self/status") as f:
            vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
        limit = vm + int(megabytes * 2**20)
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    except (OSError, ValueError, StopIteration, ImportError):
        pass  # not Linux: no cap


def warm_up(data_cfg) -> None:
    """Decode ``data_cfg``'s dataset and train a few steps, so the first real run starts at once.

    A fresh process pays seconds on its first training step (torch's lazy imports, the
    optimiser's first step); paying them here, before the worker says it is ready, is what makes
    a warm pool's Start → first loss fast.
    """
    import dataclasses

    from ..config import ModelConfig, TrainConfig
    from ..engine import RunControl

    try:
        small = dataclasses.replace(data_cfg, train_limit=256, test_limit=64)
        spec = JobSpec("warm-up", "warm-up", small, ModelConfig(hidden=(16,)), TrainConfig(epochs=1, batch_size=64))
        run_job(spec, lambda batch: None, RunControl())
    except Exception:  # noqa: BLE001 - a run that needs the data will say what is wrong
        pass


def freeze_long_lived() -> int:
    """Collect this process's garbage, then hide every object alive now from the garbage collector; return how many.

    A warm worker holds hundreds of thousands of objects (torch's modules, the decoded data) that live as long as it
    does, and ``run_loop`` collects after every run: a full collection walks all of them each time, which costs
    about as much as a short run's own epochs. ``gc.freeze`` moves them to a permanent generation, so a collection
    walks only what was made since (a run's objects), and a run's garbage is still collected.
    """
    gc.collect()  # garbage made so far is freed, not frozen
    gc.freeze()
    return gc.get_freeze_count()


def frozen_objects(data=None) -> int:
    """How many objects this process has frozen (``freeze_long_lived``): a call job (``JobSpec.call``) asks a
    worker, whose ``data`` it does not need."""
    return gc.get_freeze_count()


def lower_priority(nice: int) -> None:
    """Lower this process's CPU priority by ``nice`` (0…19), against the app and against every other program.

    ``os.nice`` alone orders a process only against the processes of its own session: Linux shares the CPU
    between sessions first (``kernel.sched_autogroup_enabled``, on by default), so a worker in the app's session,
    however nice, would share a busy machine's CPU equally with a browser drawing the app's pages on it. So the
    worker starts a session of its own (``os.setsid``: it leaves the app's process group, and Ctrl-C in the app's
    terminal reaches the app, which stops it) and gives that session the same niceness (``/proc/self/autogroup``;
    a machine without it keeps ``os.nice`` alone)."""
    if hasattr(os, "setsid"):
        try:
            os.setsid()
            with open("/proc/self/autogroup", "w") as f:
                f.write(str(nice))
        except OSError:
            pass
    if hasattr(os, "nice"):
        os.nice(nice)


def worker_main(cmd_conn, evt_conn, threads: int, gpu: int | None, preload, memory_mb: float | None,
                nice: int = 0) -> None:
    """A pool worker: import torch once, decode the data once, then train the jobs it is sent.

    Messages in: ``RunJob``, ``ToJob``, ``Exit``; out: ``Ready`` once, then a ``Batch`` per batch of events.
    ``nice``: the worker lowers its CPU priority by this much, so the app's pages are served first and
    training takes the CPU time they leave (on an otherwise idle machine, all of it).
    """
    started_by = os.getppid()  # the pool's process, or the fork server that exits with it
    if nice:
        lower_priority(nice)
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch

    torch.set_num_threads(threads)
    from ..engine import RunControl

    controls: dict[str, RunControl] = {}
    jobs: queue.Queue = queue.Queue()
    send_lock = threading.Lock()

    def send(message) -> None:
        with send_lock:
            try:
                evt_conn.send(message)
            except (OSError, EOFError):  # the pool is gone
                os._exit(0)

    def read_commands() -> None:
        while True:
            try:
                ready = cmd_conn.poll(PARENT_CHECK_S)
                message = cmd_conn.recv() if ready else None
            except (OSError, EOFError):
                os._exit(0)  # the pool's end closed: its process exited or was killed
            if message is None:
                if os.getppid() != started_by:  # reparented: the pool's process, or its fork server, is gone
                    os._exit(0)
                continue
            if isinstance(message, RunJob):
                control = RunControl()
                if message.paused:
                    apply(control, Pause())
                controls[message.key] = control
                jobs.put(message)
            elif isinstance(message, Exit):
                for control in controls.values():
                    control.stop()
                jobs.put(None)
                return
            elif isinstance(message, ToJob) and message.key in controls:
                try:
                    apply(controls[message.key], message.command)
                except (TypeError, ValueError):
                    pass  # not a command, or bad arguments: ignore it

    threading.Thread(target=read_commands, daemon=True, name="nnplay-worker-commands").start()
    if preload is not None:
        warm_up(preload)
    if memory_mb:
        _limit_memory(memory_mb)
    freeze_long_lived()
    send(Ready(os.getpid()))
    while True:
        message = jobs.get()
        if message is None:
            break
        key = message.key
        run_job(message.spec, lambda batch, key=key: send(Batch(key, batch)), controls[key], message.max_seconds)
        controls.pop(key, None)
    try:
        evt_conn.close()
    finally:
        os._exit(0)
