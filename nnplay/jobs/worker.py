"""What runs inside a worker: train one ``JobSpec`` and send its events back in batches.

``run_job`` is shared by both backends: it loads the data (decoded once per process and kept,
so a warm worker starts a run at once), builds the seeded model, trains it with the engine and
hands ``send(batch)`` a list of events per log burst (at most every ``MIN_INTERVAL`` s) and per
epoch, each epoch's batch carrying a ``Checkpoint``; the last batch ends with a ``JobEnd``. It
never raises: a run that fails, runs out of memory or hits the time limit still ends in a
``JobEnd``. ``worker_main`` is a local pool worker process's whole life (``local`` starts it);
``RayRunner`` is the body of a Ray actor (``ray_backend`` wraps it). Torch is imported inside
the functions, after the worker has set its thread count and visible GPU.
"""

from __future__ import annotations

import gc
import os
import queue
import threading
import time

from . import Checkpoint, JobEnd, JobSpec, Result, Weights

MIN_INTERVAL = 0.05  # s between two step batches: a fast GPU run does not flood the pipe
WATCH_INTERVAL = 1.0  # s between checks that the pool's process is still alive
WEIGHTS_INTERVAL = 1.0  # s between two weights snapshots while someone watches the run


def watch(control, seconds: float) -> None:
    """Ask the run behind ``control`` for weights snapshots during the next ``seconds``."""
    control.watch_until = time.monotonic() + max(0.0, float(seconds))


# ---------------------------------------------------------------------------------------------
# one run


class _Batcher:
    """The engine's listener: collects events and sends them per log burst and per epoch."""

    def __init__(self, spec: JobSpec, send, model_ref: list, control=None):
        self.spec = spec
        self.control = control
        self.last_weights = (-1, 0.0)  # (step, monotonic time) of the last snapshot sent
        self.send = send
        self.model_ref = model_ref
        self.events: list = []
        self.steps_per_epoch = 1
        self.last_flush = 0.0
        self.last_step = 0
        self.epochs_done = 0

    def flush(self) -> None:
        if self.events:
            batch, self.events = self.events, []
            self.send(batch)
            self.last_flush = time.monotonic()

    def checkpoint(self, final: bool) -> Checkpoint:
        from ..checkpoint import checkpoint_bytes

        meta = {"run_id": self.spec.run_id, "epoch": self.epochs_done, "step": self.last_step, "final": final}
        return Checkpoint(self.epochs_done, self.last_step, final,
                          checkpoint_bytes(self.model_ref[0], self.spec.model, meta))

    def weights(self, step_mode: bool = False) -> None:
        """Add a ``Weights`` snapshot if someone watches (or step mode is on) and the last is old enough."""
        if self.model_ref[0] is None or self.control is None or self.last_weights[0] == self.last_step:
            return
        now = time.monotonic()
        watched = getattr(self.control, "watch_until", 0.0) > now
        if not (watched or step_mode) or (not step_mode and now - self.last_weights[1] < WEIGHTS_INTERVAL):
            return
        from ..checkpoint import checkpoint_bytes

        meta = {"run_id": self.spec.run_id, "step": self.last_step, "live": True}
        self.events.append(Weights(self.last_step, checkpoint_bytes(self.model_ref[0], self.spec.model, meta)))
        self.last_weights = (self.last_step, now)

    def __call__(self, event) -> None:
        from ..engine import EpochMetrics, RunStart, StepEvent

        self.events.append(event)
        if isinstance(event, StepEvent):
            self.last_step = event.step
            if getattr(self.control, "watch_until", 0.0) and time.monotonic() - self.last_weights[1] >= WEIGHTS_INTERVAL:
                self.weights()
                if self.events and isinstance(self.events[-1], Weights):
                    self.flush()
                    return
            within = event.step - (event.epoch - 1) * self.steps_per_epoch
            burst_end = within % self.spec.train.log_every == 0 or within == self.steps_per_epoch
            if burst_end and time.monotonic() - self.last_flush >= MIN_INTERVAL:
                self.flush()
        elif isinstance(event, EpochMetrics):
            self.epochs_done = event.epoch
            self.last_step = event.step
            self.events.append(self.checkpoint(final=False))
            self.flush()
        elif isinstance(event, RunStart):
            self.steps_per_epoch = max(event.steps_per_epoch, 1)
            self.flush()


def out_of_memory(err: BaseException) -> bool:
    """Whether an exception means the run did not fit in memory (host or GPU)."""
    if isinstance(err, MemoryError):
        return True
    text = str(err).lower()
    return type(err).__name__ == "OutOfMemoryError" or any(
        s in text for s in ("out of memory", "can't allocate memory", "not enough memory", "cannot allocate memory"))


def run_job(spec: JobSpec, send, control, max_seconds: float | None = None) -> JobEnd:
    """Train ``spec`` in this thread, sending batches of events through ``send``; return its ``JobEnd``.

    ``control`` is the engine's ``RunControl`` that another thread stops, pauses or resumes;
    ``max_seconds`` (wall time, pauses included) stops the run with "time limit" in its message.
    """
    from ..data import load_mnist
    from ..engine import seeded_model, train
    from ..models import count_parameters

    if spec.call is not None:
        return call_job(spec, send)
    model_ref = [None]
    batcher = _Batcher(spec, send, model_ref, control)
    wait_if_paused = control.wait_if_paused

    def flush_then_wait() -> float:  # a paused run first sends the steps it holds back (and, in step mode, its weights)
        if control.paused:
            batcher.weights(step_mode=True)
            batcher.flush()
        return wait_if_paused()

    control.wait_if_paused = flush_then_wait  # the engine calls it between steps, in this thread
    limited = threading.Event()
    timer = None
    if max_seconds is not None:
        def hit_limit():
            limited.set()
            control.stop()
        timer = threading.Timer(max_seconds, hit_limit)
        timer.daemon = True
        timer.start()
    try:
        if control.stopped:
            end = JobEnd("stopped", "stopped before it started")
        else:
            data = load_mnist(spec.data)
            model_ref[0] = seeded_model(spec.model, spec.train.seed)
            result = train(model_ref[0], data, spec.train, on_event=batcher, control=control)
            batcher.events.append(batcher.checkpoint(final=True))
            end = JobEnd(result.status, result.message)
            if limited.is_set() and result.status == "stopped":
                minutes = max_seconds / 60
                end = JobEnd("stopped", f"time limit: the operator caps a run at {minutes:g} minutes "
                                        f"(NNPLAY_MAX_RUN_MINUTES); {result.message}. The model so far is kept.")
    except Exception as err:  # noqa: BLE001 - every failure (MemoryError too) becomes the run's "error" sentence
        end = JobEnd("error", _error_sentence(err, spec, model_ref[0], count_parameters))
    finally:
        if timer is not None:
            timer.cancel()
    model_ref[0] = None
    batcher.events.append(end)
    try:
        batcher.flush()
    finally:
        _free_memory()
    return end


def call_job(spec: JobSpec, send) -> JobEnd:
    """Run a ``JobSpec.call`` job: load its data, call the function, send its ``Result`` and ``JobEnd``."""
    import importlib

    from ..data import load_mnist

    module, name = spec.call[0].split(":", 1)
    try:
        function = getattr(importlib.import_module(module), name)
        value = function(data=load_mnist(spec.data), **spec.call[1])
        result, end = Result(value), JobEnd("finished", "")
    except Exception as err:  # noqa: BLE001 - the caller re-raises it with the same type's name
        first = str(err).splitlines()[0][:300] if str(err) else "no details"
        result = Result(error_type=type(err).__name__, error=first)
        end = JobEnd("error", f"{spec.call[0]} failed with {type(err).__name__}: {first}")
    try:
        send([result, end])
    finally:
        _free_memory()
    return end


def _error_sentence(err: BaseException, spec: JobSpec, model, count_parameters) -> str:
    if out_of_memory(err):
        size = f"{count_parameters(model):,} parameters, " if model is not None else ""
        return (f"ran out of memory ({size}batch {spec.train.batch_size}): the network does not fit in "
                f"this worker's memory. Try fewer or narrower layers, or a smaller batch. "
                f"({type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else 'no details'})")
    first = str(err).splitlines()[0][:300] if str(err) else "no details"
    return f"the run failed with {type(err).__name__}: {first}"


def _free_memory() -> None:
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # noqa: BLE001 - freeing is best effort
        pass


# ---------------------------------------------------------------------------------------------
# a local pool's worker process


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


def worker_main(cmd_conn, evt_conn, threads: int, gpu: int | None, parent_pid: int,
                preload, memory_mb: float | None, nice: int = 0) -> None:
    """A pool worker: import torch once, decode the data once, then train the jobs it is sent.

    Messages in (from the pool): ("run", key, spec, max_seconds, paused), ("stop"|"pause"|"resume",
    key), ("step", key, n), ("set_rate", key, steps_per_second | None), ("watch", key, seconds), ("exit",). Messages out: ("ready", pid) once, then ("events", key, batch) per batch. It
    exits when told, when the pool's end of the pipe closes, or when its parent process is gone.
    ``nice``: the worker lowers its CPU priority by this much, so the app's pages are served first and
    training takes the CPU time they leave (on an otherwise idle machine, all of it).
    """
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
                ready = cmd_conn.poll(WATCH_INTERVAL)
                message = cmd_conn.recv() if ready else None
            except (OSError, EOFError):
                os._exit(0)  # the pool's end closed: its process exited or was killed
            if message is None:
                if os.getppid() != parent_pid:
                    os._exit(0)
                continue
            kind = message[0]
            if kind == "run":
                control = RunControl()
                if message[4]:
                    control.pause()
                controls[message[1]] = control
                jobs.put(message)
            elif kind == "exit":
                for control in controls.values():
                    control.stop()
                jobs.put(None)
                return
            elif message[1] in controls:
                try:
                    if kind == "watch":
                        watch(controls[message[1]], *message[2:])
                    else:
                        getattr(controls[message[1]], kind)(*message[2:])
                except (AttributeError, TypeError, ValueError):
                    pass  # a command this worker does not know, or bad arguments: ignore it

    threading.Thread(target=read_commands, daemon=True, name="nnplay-worker-commands").start()
    if preload is not None:
        warm_up(preload)
    if memory_mb:
        _limit_memory(memory_mb)
    send(("ready", os.getpid()))
    while True:
        message = jobs.get()
        if message is None:
            break
        _, key, spec, max_seconds, _ = message
        run_job(spec, lambda batch, key=key: send(("events", key, batch)), controls[key], max_seconds)
        controls.pop(key, None)
    try:
        evt_conn.close()
    finally:
        os._exit(0)


# ---------------------------------------------------------------------------------------------
# a Ray actor's body


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

    def stop(self) -> None:
        self.control.stop()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def step(self, n: int = 1) -> None:
        self.control.step(n)

    def set_rate(self, steps_per_second: float | None) -> None:
        self.control.set_rate(steps_per_second)

    def watch(self, seconds: float) -> None:
        watch(self.control, seconds)
