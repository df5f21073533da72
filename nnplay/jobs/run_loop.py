"""The run loop every backend shares: train one ``JobSpec`` and send its events back in batches.

``run_job`` loads the data (decoded once per process and kept, so a warm worker starts a run at once;
a backend in the app's own process passes the data it has) and mixes in the run's own digits
(``data.with_extra_digits``, from the arrays ``JobSpec.extra_digits`` carries: no file of the app is opened), builds the seeded model (from ``JobSpec.init_from``'s weights when it trains a
parent further), trains it with the engine and hands ``send(batch)`` a list of events per log burst (at most
every ``MIN_INTERVAL`` s) and per epoch, each epoch's batch carrying a ``Checkpoint``; while watched (``commands.Watch``) or paused in
step mode it adds ``Weights``. The last batch ends with a ``JobEnd``. It never raises: a run that fails,
runs out of memory or hits the time limit still ends in a ``JobEnd``. A ``JobSpec.call`` job
(``call_job``) sends one ``Result`` instead. Who calls it: ``pool_worker`` (a local pool's worker
process), ``ray_actor`` (a Ray actor) and ``threads`` (a thread of the app). Torch is imported inside the
functions, after a worker has set its thread count and visible GPU.
"""

from __future__ import annotations

import gc
import threading
import time

from ..memory import trim_heap
from . import Checkpoint, JobEnd, JobSpec, Result, Weights

MODEL_KEPT = "the model so far is kept"  # a stopped run's message that says it (the page then does not say it again)

MIN_INTERVAL = 0.05  # s between two step batches: a fast GPU run does not flood the pipe
WEIGHTS_INTERVAL = 1.0  # s between two weights snapshots while someone watches the run




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


def run_job(spec: JobSpec, send, control, max_seconds: float | None = None, data=None,
            at_rest=None, own_process: bool = True) -> JobEnd:
    """Train ``spec`` in this thread, sending batches of events through ``send``; return its ``JobEnd``.

    ``control`` is the engine's ``RunControl`` that another thread stops, pauses or resumes;
    ``max_seconds`` (wall time, pauses included) stops the run with "time limit" in its message;
    ``data``: an ``MnistData`` already loaded for ``spec.data`` (else it is loaded here); ``at_rest()``: called
    each time a paused run has sent what it held, just before it waits (``threads`` knows then it is at rest);
    ``own_process``: False in a thread of the app, whose process is not the run's alone (``_free_memory``).
    """
    from ..data import load_mnist, with_extra_digits
    from ..engine import seeded_model, train
    from ..models import count_parameters

    if spec.call is not None:
        return call_job(spec, send, data, own_process)
    model_ref = [None]
    batcher = _Batcher(spec, send, model_ref, control)
    wait_if_paused = control.wait_if_paused

    def flush_then_wait() -> float:  # a paused run first sends the steps it holds back (and, in step mode, its weights)
        if control.paused:
            batcher.weights(step_mode=True)
            batcher.flush()
            if at_rest is not None:
                at_rest()
        return wait_if_paused()

    control.wait_if_paused = flush_then_wait  # the engine calls it between steps, in this thread
    limited = threading.Event()
    timer = None
    own_cap = spec.max_minutes * 60 if spec.max_minutes else None
    who = "the operator caps a run at {:g} minutes (NNPLAY_MAX_RUN_MINUTES)"
    if own_cap is not None and (max_seconds is None or own_cap < max_seconds):
        max_seconds, who = own_cap, "the class's limit is {:g} minutes per run (set by the teacher)"
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
            data = with_extra_digits(data if data is not None else load_mnist(spec.data), spec.data, spec.train.seed,
                                       spec.extra_digits)
            if spec.visible_test_only:
                from ..classroom.heldback import visible_part

                data = visible_part(data)
            model_ref[0] = seeded_model(spec.model, spec.train.seed)
            if spec.init_from:
                start_from(model_ref[0], spec)
            result = train(model_ref[0], data, spec.train, on_event=batcher, control=control)
            batcher.events.append(batcher.checkpoint(final=True))
            end = JobEnd(result.status, result.message)
            if limited.is_set() and result.status == "stopped":
                minutes = max_seconds / 60
                end = JobEnd("stopped", f"time limit: {who.format(minutes)}; {result.message}; {MODEL_KEPT}")
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
        _free_memory(collect=own_process)
    return end


def start_from(model, spec: JobSpec) -> None:
    """Load ``spec.init_from``'s weights into ``model``: a fine-tuned run starts where its parent ended."""
    from ..checkpoint import read_checkpoint
    from ..config import to_dict

    source = spec.init_weights if spec.init_weights is not None else spec.init_from  # the bytes the spec carries
    checkpoint = read_checkpoint(source, name=spec.init_from)
    if to_dict(checkpoint.model_cfg) != to_dict(spec.model):
        raise ValueError(f"the weights in {spec.init_from} are of another network than this run's, so it cannot "
                         f"start from them.")
    model.load_state_dict(checkpoint.model.state_dict())


def call_job(spec: JobSpec, send, data=None, own_process: bool = True) -> JobEnd:
    """Run a ``JobSpec.call`` job: load its data (unless given; the visible test half only when
    ``visible_test_only``), call the function (with ``max_minutes``, the class's cap, when it takes it), send its
    ``Result`` and ``JobEnd``."""
    import importlib
    import inspect

    from ..data import load_mnist

    module, name = spec.call[0].split(":", 1)
    try:
        function = getattr(importlib.import_module(module), name)
        data = data if data is not None else load_mnist(spec.data)
        if spec.visible_test_only:
            from ..classroom.heldback import visible_part

            data = visible_part(data)
        kwargs = dict(spec.call[1])
        if spec.max_minutes and "max_minutes" in inspect.signature(function).parameters:
            kwargs["max_minutes"] = spec.max_minutes  # a function that can stop itself in time: the class's cap
        value = function(data=data, **kwargs)
        result, end = Result(value), JobEnd("finished", "")
    except Exception as err:  # noqa: BLE001 - the caller re-raises it with the same type's name
        first = str(err).splitlines()[0][:300] if str(err) else "no details"
        result = Result(error_type=type(err).__name__, error=first)
        end = JobEnd("error", f"{spec.call[0]} failed with {type(err).__name__}: {first}")
    try:
        send([result, end])
    finally:
        _free_memory(collect=own_process)
    return end


def _error_sentence(err: BaseException, spec: JobSpec, model, count_parameters) -> str:
    if out_of_memory(err):
        size = f"{count_parameters(model):,} parameters, " if model is not None else ""
        return (f"ran out of memory ({size}batch {spec.train.batch_size}): the network does not fit in "
                f"this worker's memory. Try fewer or narrower layers, or a smaller batch. "
                f"({type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else 'no details'})")
    first = str(err).splitlines()[0][:300] if str(err) else "no details"
    return f"the run failed with {type(err).__name__}: {first}"


def _free_memory(collect: bool = True) -> None:
    """After a run: collect its garbage, hand the heap it freed back to the system (a worker would otherwise stay
    at its largest run's peak until its next run), empty the GPU's cache. ``collect=False`` in a process the run
    shares (a thread of the app): there a full collection walks every session's objects while holding the
    interpreter lock that the other runs and pages need, so Python's own collections are left to it."""
    if collect:
        gc.collect()
    trim_heap()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # noqa: BLE001 - freeing is best effort
        pass
