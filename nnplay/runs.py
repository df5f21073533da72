"""Runs: a training run with its configs, history, status and model, trained in a worker or a background thread.

A ``Run`` owns everything a page needs to show it later (configs, the engine's ``History``, the
status and the model) and the handles to stop, pause, step or slow it. ``Run.start`` submits it to
``nnplay.jobs.backend()`` (a local pool of worker processes, or Ray) as a ``JobSpec`` whose sink,
``JobSink``, runs in the backend's reader thread: it appends to the run's own history, records the
events in the store and writes the checkpoints the worker sends. With ``NNPLAY_WORKERS=0``
(``jobs_enabled()`` is False) it trains in a daemon thread of this process instead, steered by a
``RunControl``. Either way a page reads the run on every rerun without locks, and nothing here
touches streamlit. ``Sweep`` trains several runs: through the backend's queue (in parallel where
there are free workers), or one after another in one thread (the experiments and the activation race).
When the process exits, the runs and sweeps training in its threads are stopped (and recorded so) first.

Step mode and watching: ``Run.step(n)`` pauses the run (or starts it paused) and lets ``n`` batches through,
``Run.set_rate(steps_per_second)`` slows it, ``Run.watch_model()`` gives a CPU copy of its latest weights.

What a page says about a run lives here too, once: ``run_name`` (told apart by the time it was
started), ``status_text``, ``progress_text`` (epoch, step, ETA, samples/s; the ETA and the rate count
training time only and wait until the steps after the first burst were timed), ``format_duration``,
``run_rows`` (runs → table rows, with the columns a page picks) and ``start_refusals`` (what stops a
run before Start: a batch larger than the data, a missing device, not enough memory).
``rows_csv`` writes any table of rows as CSV (a run's metrics, a study's results).

A run bound to a ``store.Store`` (``Run.bind``) is a durable record: a ``Recorder`` listener writes
its events in batches (one transaction a second at most, and one per epoch), its model is saved at
each finished epoch and at the end, and its status changes are written. Once it has ended its model
leaves the run and lives in ``MODELS``, a bounded LRU cache that reloads it from its checkpoint on
demand, without gradients. ``workspace_runs`` lists a workspace's runs as ``Run`` objects, one per
id in this process (``REGISTRY``), so a reload or a second tab finds the live run that trains.
Nothing here imports streamlit.
"""

from __future__ import annotations

import atexit
import csv
import io
import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence

import torch
from torch import nn

from . import settings
from .config import DataConfig, ModelConfig, TrainConfig
from .data import MnistData
from .engine import EpochMetrics, History, LayerStats, RunControl, RunStart, StepEvent, seeded_model, train
from .models import build_model, describe
from .store import (ACTIVE, LOCAL_WORKSPACE, SETTINGS_UNREADABLE, USABLE, RunRecord, Store, StoreError, data_text,
                    new_id)

WATCH_SECONDS = 5.0  # a worker sends live weights for this long after the last watch_model()
WATCH_INTERVAL = 1.0  # s: live weights are at most this old, and copied at most this often


def jobs_enabled() -> bool:
    """Whether ``Run.start`` trains through ``nnplay.jobs`` (the default) or in a thread here (``NNPLAY_WORKERS=0``)."""
    return os.environ.get("NNPLAY_WORKERS", "").strip() != "0"

FLUSH_SECONDS = 1.0  # the recorder commits at most this often between epochs
HEARTBEAT_S = 30.0  # an owner refreshes its active runs' heartbeat this often (another host waits store.OWNER_SILENCE_S)


class ModelCache:
    """The models of ended runs, at most ``max_bytes`` of weights (the most recently used one is kept even when
    larger), least recently used dropped first; a dropped model is loaded again from its run's checkpoint."""

    def __init__(self, max_bytes: int | None = None):  # None: NNPLAY_MODEL_CACHE_MB, read when a model is put
        self.max_bytes = max_bytes
        self._models: OrderedDict[str, tuple[nn.Module, int]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def size_of(model: nn.Module) -> int:
        return sum(t.numel() * t.element_size() for t in model.state_dict().values())

    def put(self, run_id: str, model: nn.Module) -> None:
        with self._lock:
            self._models[run_id] = (model, self.size_of(model))
            self._models.move_to_end(run_id)
            limit = self.max_bytes if self.max_bytes is not None else settings.value("NNPLAY_MODEL_CACHE_MB") * 2**20
            while len(self._models) > 1 and self.bytes > limit:
                self._models.popitem(last=False)

    def get(self, run_id: str) -> nn.Module | None:
        with self._lock:
            entry = self._models.get(run_id)
            if entry is None:
                return None
            self._models.move_to_end(run_id)
            return entry[0]

    @property
    def bytes(self) -> int:
        return sum(size for _, size in self._models.values())

    def drop(self, run_id: str) -> None:
        with self._lock:
            self._models.pop(run_id, None)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()

    def __len__(self) -> int:
        return len(self._models)


MODELS = ModelCache()


def _glibc_malloc_trim():
    """glibc's ``malloc_trim`` (None elsewhere: macOS, musl, Windows), through ctypes: no maintained package
    wraps this one call."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_MALLOC_TRIM = _glibc_malloc_trim()
TRIM_DELAY_S = 1.0


def trim_heap_soon(delay: float = TRIM_DELAY_S) -> bool:
    """Hand the memory a run's end freed back to the system, ``delay`` s from now (once the threads that
    delivered its last events have let go of them); False where the C library cannot.

    Why: a big run's model and checkpoints pass through this process in pieces under glibc's mmap threshold
    (a 4096×784 layer is 12.8 MB), and the heap keeps the freed pages, so the process stays near its peak.
    Measured with scripts/bench_store.py --memory (8 runs of 784-4096-4096-10; 76 MB of what is left is the
    model cache): trained in a worker, this process the server, 123 MB above the start without trims and
    109 MB with them; trained in this process (NNPLAY_WORKERS=0), 300–440 MB without, 250 MB with."""
    if _MALLOC_TRIM is None:
        return False
    timer = threading.Timer(delay, _MALLOC_TRIM, args=(0,))
    timer.daemon = True
    timer.start()
    return True


REGISTRY: dict[str, "Run"] = {}  # every Run object of this process by id: a reload finds the live one
_registry_lock = threading.Lock()


def release_training_state(model: nn.Module) -> None:
    """Drop a trained model's gradients (the optimiser is gone with train()'s frame)."""
    for p in model.parameters():
        p.grad = None


class Recorder:
    """A listener that writes a run's events into its store in batches, and its model at each finished epoch.

    Steps are buffered and committed at most once a second and at every epoch's end; the epoch's model is
    written to ``epoch.pt`` (a temporary file renamed over the old one). A store that fails (disk full, read
    only) does not stop the training: the buffers are kept for the next try and ``error`` says why.
    """

    def __init__(self, run: "Run", store: Store):
        self.run, self.store = run, store
        self.steps: list[StepEvent] = []
        self.epochs: list[EpochMetrics] = []
        self.layers: list[LayerStats] = []
        self.start: RunStart | None = None
        self.last = time.monotonic()
        self.error = ""

    def __call__(self, event) -> None:
        if isinstance(event, StepEvent):
            self.steps.append(event)
            if time.monotonic() - self.last >= FLUSH_SECONDS:
                self.flush()
        elif isinstance(event, LayerStats):
            self.layers.append(event)
        elif isinstance(event, EpochMetrics):
            self.epochs.append(event)
            saved = self.run.save_model("epoch.pt")
            self.flush(checkpoint_epoch=event.epoch if saved else None)
        elif isinstance(event, RunStart):
            self.start = event
            self.flush(data_source=self.run.data_source or None)  # known once it trains: kept with the run

    def flush(self, **extra) -> bool:
        self.last = time.monotonic()
        try:
            self.store.record(self.run.id, steps=self.steps, epochs=self.epochs, layers=self.layers,
                              start=self.start, **extra)
        except StoreError as err:
            self.error = str(err)
            return False
        self.steps, self.epochs, self.layers, self.start = [], [], [], None
        self.error = ""
        return True


class JobSink:
    """A ``Run``'s sink for ``nnplay.jobs``: called in the backend's reader thread with each event, in order.

    Engine events go to the run's own listener (``Run.record``: history and burst timing) and to its
    store ``Recorder``; an epoch's ``Checkpoint`` is written to ``epoch.pt`` and recorded, the final
    one is held until the ``JobEnd`` says whether the run finished; ``Weights`` are kept for
    ``Run.watch_model``; ``RunStart`` and ``JobEnd`` set the run's status. ``flush`` (once per batch)
    commits what the recorder holds in one transaction.
    """

    def __init__(self, run: "Run"):
        self.run = run
        self.final: bytes | None = None

    def __call__(self, event) -> None:
        from .jobs import Checkpoint, JobEnd, Weights

        run, recorder = self.run, self.run.recorder
        if isinstance(event, Weights):
            run._weights = event
        elif isinstance(event, Checkpoint):
            if event.final:
                self.final = event.data
            elif run.write_file("epoch.pt", event.data) and recorder is not None:
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

    def flush(self) -> None:
        recorder = self.run.recorder
        if recorder is not None and (recorder.steps or recorder.epochs or recorder.layers or recorder.start):
            recorder.flush()


class Run:
    """One training run: its configs, its ``History`` of events, its status and (once trained) its model.

    ``start`` trains it in a worker (``job``) or a daemon thread (``NNPLAY_WORKERS=0``);
    ``stop``/``pause``/``resume``/``step``/``set_rate`` act between steps; ``watch_model`` gives its live weights;
    ``progress`` and ``final`` read the history. Time spent paused is kept apart (``training_seconds``),
    so rates and the ETA count training time only. ``bind`` makes it a record in a ``Store``.
    """

    def __init__(self, name: str, data_cfg: DataConfig, model_cfg: ModelConfig, train_cfg: TrainConfig,
                 id: str | None = None, history: History | None = None, status: str = "queued", message: str = "",
                 model: nn.Module | None = None, created: float | None = None, started: float | None = None):
        self._name = name
        self.data_cfg, self.model_cfg, self.train_cfg = data_cfg, model_cfg, train_cfg
        self.id = id or new_id()
        self._history = history if history is not None else History()
        self.status, self.message = status, message
        self._model = model
        self.created = created or time.time()
        self.started = started  # when training began (after the queue), for the ETA
        self._control: RunControl | None = None
        self.thread: threading.Thread | None = None
        self.store: Store | None = None
        self.workspace = LOCAL_WORKSPACE
        self.kind, self.group = "train", ""
        self.recorder: Recorder | None = None
        self.owned = True  # trained or loaded in this process (else a record another process wrote)
        self._last_step = 0
        self.store_note = ""  # why the store could not keep this run, if it could not
        self._epoch_cache: tuple[int, list[EpochMetrics]] | None = None
        self.data_source = ""  # the data's source once started: "full" or "sample"
        self.unreadable: tuple[str, ...] = ()  # the stored settings this nnplay could not read (store.RunRecord)
        self.paused_seconds = 0.0  # time spent paused so far (a pause in progress not included)
        self._paused_at: float | None = None
        # (step, training seconds) at the end of the first burst of steps, and at the latest burst
        self._first_burst: tuple[int, float] | None = None
        self._last_burst: tuple[int, float] | None = None
        self._started_clock: float | None = None
        self.job = None  # the nnplay.jobs.Job training it, when it trains in a worker
        self._weights = None  # the latest nnplay.jobs.Weights a worker sent
        self._watch_sent = 0.0
        self._watch: nn.Module | None = None  # watch_model's latest copy, the step it was made at, and when
        self._watch_step, self._watch_at = -1, 0.0
        self._watch_lock = threading.Lock()

    clock = staticmethod(time.perf_counter)  # tests replace it

    @property
    def control(self) -> RunControl:
        """Stop/pause switch, made when first used (a list of 1,000 stored runs needs none)."""
        if self._control is None:
            self._control = RunControl()
        return self._control

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, name={self._name!r}, status={self.status!r})"

    # -- the store ----------------------------------------------------------------------------

    def bind(self, store: Store, workspace: str = LOCAL_WORKSPACE, kind: str | None = None, group: str = "") -> "Run":
        """Make this run a record in ``store`` (a loaded run's model is written at once); registers it.
        A store that cannot write leaves the run in memory only, with a message saying so."""
        kind = kind or ("loaded" if self.status == "loaded" else "train")
        try:
            store.create_run(self._name, self.data_cfg, self.model_cfg, self.train_cfg, workspace=workspace,
                             kind=kind, group=group, status=self.status, message=self.message, run_id=self.id,
                             created=self.created, data_source=self.data_source)
        except StoreError as err:
            self.store_note = f"not kept: {err}"
            self.message = (self.message + " · " if self.message else "") + self.store_note
            register(self)
            return self
        self.store, self.workspace, self.kind, self.group = store, workspace, kind, group
        if self.active:
            _keep_beating()  # a paused or queued run writes nothing: its heartbeat says its process lives
        else:  # a run that ended (or was loaded) before it was kept: write what it has
            h = self.history
            has_final = self.status in USABLE and self.save_model("final.pt")
            self._write(steps=h.steps, epochs=h.epochs, layers=h.layer_stats, start=h.start, end=h.end,
                        status=(self.status, self.message), started=self.started, has_final=has_final)
        register(self)
        return self

    @classmethod
    def from_record(cls, store: Store, record: RunRecord) -> "Run":
        run = cls(record.name, record.data_cfg, record.model_cfg, record.train_cfg, id=record.id, history=None,
                  status=record.status, message=record.message, created=record.created, started=record.started)
        run._history = None  # read from the store when first asked for
        run.store, run.workspace, run.kind, run.group = store, record.workspace, record.kind, record.group
        run.owned = False
        run._last_step = record.last_step
        run.data_source, run.unreadable = record.data_source, record.unreadable
        return run

    def refresh(self, record: RunRecord) -> None:
        """Take another process's newer status and curves (a run this process does not train)."""
        if self.owned:
            return
        changed = record.last_step != self._last_step or record.status != self.status
        self._name, self.status, self.message = record.name, record.status, record.message
        if changed:  # read the curves again when next asked for
            self._history, self._last_step, self._epoch_cache = None, record.last_step, None

    def _write(self, **fields) -> None:
        if self.store is None:
            return
        try:
            self.store.record(self.id, **fields)
        except StoreError as err:
            if self.recorder is not None:
                self.recorder.error = str(err)

    def save_model(self, filename: str) -> bool:
        """Write the model to the run's folder (a temporary file renamed into place); False if it failed."""
        from .checkpoint import save_checkpoint

        if self.store is None or self._model is None:
            return False
        folder = self.store.run_dir(self.id)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{filename}.tmp"
            save_checkpoint(self._model, self.model_cfg, tmp, meta={"name": self._name, "run": self.id})
            os.replace(tmp, folder / filename)
            return True
        except (OSError, RuntimeError) as err:
            if self.recorder is not None:
                self.recorder.error = f"the model could not be saved in {folder}: {err}"
            return False

    # -- running ------------------------------------------------------------------------------

    def run_here(self, data: MnistData, also=None) -> None:
        """Train in the calling thread; record how it ended (an unexpected error becomes status "error").
        ``also``: one more listener for the engine's events (the CLI's progress bar)."""
        if self.control.stopped:
            self.status, self.message = "stopped", "stopped before it started"
            self._write(status=(self.status, self.message))
            return
        self.status = "paused" if self.control.paused else "running"  # started in step mode: paused
        if self.status == "paused":
            self._paused_at = self.clock()
        self.data_source = data.source
        self.recorder = Recorder(self, self.store) if self.store is not None else None
        listeners = [f for f in (self.record, self.recorder, also) if f is not None]

        def listener(event) -> None:
            for f in listeners:
                f(event)
        try:
            self._model = seeded_model(self.model_cfg, self.train_cfg.seed)
            self.started = time.time()
            self._started_clock = self.clock()
            self._write(status=(self.status, ""), started=self.started)
            result = train(self._model, data, self.train_cfg, on_event=listener, control=self.control)
            self.status, self.message = result.status, result.message
        except Exception as err:  # a bug or out-of-memory: keep the app alive and say what happened
            self.status, self.message = "error", f"{type(err).__name__}: {err}"
        self._finish()

    def _record_end(self, has_final: bool) -> None:
        """Write the rest of the events, the end and the status; the message says what could not be kept."""
        if self.recorder is not None:
            self.recorder.flush(status=(self.status, self.message), end=self.history.end, has_final=has_final)
            if self.recorder.error:
                self.message += f" (not all of it was kept: {self.recorder.error})"
        elif self.store_note:
            self.message += f" ({self.store_note})"

    def _finish(self) -> None:
        """After training: write the rest, the final model and the status; release the model to the cache."""
        model = self._model
        if model is not None:
            release_training_state(model)
        has_final = self.status in ("finished", "stopped") and self.save_model("final.pt")
        self._record_end(has_final)
        if self.store is not None and model is not None:
            if has_final:
                MODELS.put(self.id, model)
            self._model = None  # from now on read through the bounded cache (or its epoch's checkpoint)
        self._watch = None
        trim_heap_soon()

    def start(self, data: MnistData) -> "Run":
        """Train: through the jobs backend (a worker process or Ray), or in a thread here with ``NNPLAY_WORKERS=0``."""
        if jobs_enabled():
            return self.submit(data)
        self.thread = threading.Thread(target=self.run_here, args=(data,), daemon=True, name=f"nnplay-run-{self.id}")
        _TRAINING_HERE.add(self)
        self.thread.start()
        return self

    def submit(self, data: MnistData | None = None, backend=None) -> "Run":
        """Queue the run in ``backend`` (default: ``nnplay.jobs.backend()``); it trains on the data its
        ``data_cfg`` names, loaded in the worker (``data`` only tells which source, full or sample, it is)."""
        from .jobs import JobSpec
        from .jobs import backend as default_backend

        if data is not None:
            self.data_source = data.source
        if self.control.stopped:
            self.status, self.message = "stopped", "stopped before it started"
            self._write(status=(self.status, self.message))
            return self
        self.recorder = Recorder(self, self.store) if self.store is not None else None
        self.status, self.message = "queued", ""
        spec = JobSpec(self.id, self.workspace or LOCAL_WORKSPACE, self.data_cfg, self.model_cfg, self.train_cfg,
                       name=self._name)
        try:
            self.job = (backend or default_backend()).submit(spec, JobSink(self))
        except (RuntimeError, ValueError, OSError) as err:
            self.status, self.message = "error", f"it could not be queued for training: {err}"
            self._write(status=(self.status, self.message))
            return self
        control = self._control  # step mode or a speed chosen before Start: the worker gets them
        if control is not None:
            if control.rate is not None:
                self.job.set_rate(control.rate)
            if control.paused:
                self.job.pause()
            if control.pending_steps:
                self.job.step(control.pending_steps)
        return self

    def _job_started(self) -> None:
        """The worker began training (its ``RunStart`` arrived)."""
        self.status = "paused" if self.job is not None and self.job.status == "paused" else "running"
        self.started = time.time()
        self._started_clock = self.clock()
        if self.status == "paused":
            self._paused_at = self._started_clock
        self._write(status=(self.status, self.message), started=self.started)

    def _job_ended(self, end, final: bytes | None) -> None:
        """The job's ``JobEnd``: write the final model (finished or stopped), the rest of the events and the status."""
        if self._paused_at is not None:
            self.paused_seconds += self.clock() - self._paused_at
            self._paused_at = None
        self.status, self.message = end.status, end.message
        has_final = self.status in ("finished", "stopped") and final is not None and self.write_file("final.pt", final)
        self._record_end(has_final)
        if (self.recorder is None and not self.store_note and self.store is None and final is not None
                and self.status in ("finished", "stopped", "diverged")):
            from .checkpoint import CheckpointError, load_checkpoint

            try:  # not kept in a store: the model stays with the run
                self._model = load_checkpoint(final)[0]
            except CheckpointError:
                pass
        self._weights, self._watch = None, None
        if self.job is not None:  # its files are written: the job's copy of the last checkpoint is not needed
            self.job.forget_checkpoint()
        trim_heap_soon()

    def write_file(self, filename: str, data: bytes) -> bool:
        """Write a checkpoint file's bytes to the run's folder (a temporary file renamed into place)."""
        if self.store is None:
            return False
        folder = self.store.run_dir(self.id)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{filename}.tmp"
            tmp.write_bytes(data)
            os.replace(tmp, folder / filename)
            return True
        except OSError as err:
            if self.recorder is not None:
                self.recorder.error = f"the model could not be saved in {folder}: {err}"
            return False

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()
        else:
            self.control.stop()

    def pause(self) -> None:
        if self.status == "running":
            if self.job is not None:
                self.job.pause()
            else:
                self.control.pause()
            self._paused_at = self.clock()
            self.status = "paused"
            self._write(status=("paused", self.message))

    def resume(self) -> None:
        if self.status == "paused":
            if self._paused_at is not None:
                self.paused_seconds += self.clock() - self._paused_at
                self._paused_at = None
            self.status = "running"
            if self.job is not None:
                self.job.resume()
            else:
                self.control.resume()
            self._write(status=("running", self.message))

    def step(self, n: int = 1) -> None:
        """Step mode (TensorFlow Playground's step button): pause the run if it runs (or start it paused
        if it has not started), then let exactly ``n`` more training steps (batches) through."""
        if self.status == "running":
            self.pause()
        elif self.status == "queued":
            (self.job or self.control).pause()
        if self.job is not None:
            self.job.step(n)
        elif self.active:
            self.control.step(n)

    def set_rate(self, steps_per_second: float | None) -> None:
        """Train at most ``steps_per_second`` steps a second from now on (None: full speed); while
        paused it applies once the run resumes."""
        self.control.set_rate(steps_per_second)  # kept here too: ``rate`` reads it, a later submit passes it on
        if self.job is not None:
            self.job.set_rate(steps_per_second)

    @property
    def rate(self) -> float | None:
        """The step-rate limit (steps per second), or None at full speed."""
        return self._control.rate if self._control is not None else None

    def watch_model(self) -> nn.Module | None:
        """A CPU model with the run's latest weights, for views that watch it learn; None before the model exists.

        While the run trains, the live model's weights are copied into a new CPU model when a step was
        reported since the last copy, at most once a second at full speed (each copy holds the GIL for a
        moment), at once while it is paused, stepped or slowed. The same object comes back until then.
        An ended run's own ``model``.
        """
        if not self.active:
            return self.model
        if self.job is not None:
            return self._job_watch_model()
        live = self._model
        if live is None:
            return None
        steps = self.history.steps
        reported = steps[-1].step if steps else 0
        now = time.monotonic()
        with self._watch_lock:
            copy = self._watch
            if copy is not None and (reported == self._watch_step or (
                    now - self._watch_at < WATCH_INTERVAL and not self.control.holding)):
                return copy
            with torch.device("meta"):  # no initialisation: it would draw from the training's random generator
                fresh = build_model(self.model_cfg)
            fresh = fresh.to_empty(device="cpu")
            fresh.load_state_dict({k: v.detach().to("cpu", copy=True) for k, v in live.state_dict().items()})
            fresh.eval()
            for p in fresh.parameters():
                p.requires_grad_(False)
            self._watch, self._watch_step, self._watch_at = fresh, reported, now
            return fresh

    def _job_watch_model(self) -> nn.Module | None:
        """``watch_model`` for a run in a worker: ask it for weights snapshots for the next few seconds (a
        page that stops asking stops them) and return the latest as a CPU model; until the first arrives,
        the last epoch's checkpoint."""
        now = time.monotonic()
        if now - self._watch_sent >= WATCH_INTERVAL:
            self._watch_sent = now
            self.job.watch(WATCH_SECONDS)
        weights = self._weights
        with self._watch_lock:
            if weights is None:
                return self._watch if self._watch is not None else self.model
            if self._watch is None or self._watch_step != weights.step:
                from .checkpoint import CheckpointError, load_checkpoint

                try:
                    self._watch, self._watch_step = load_checkpoint(weights.data)[0], weights.step
                except CheckpointError:
                    pass
            return self._watch

    def training_seconds(self) -> float:
        """Seconds since training began, less the time spent paused (0 before it began)."""
        began = self._started_clock
        if began is None:
            return 0.0
        now = self._paused_at if self._paused_at is not None else self.clock()
        return max(0.0, now - began - self.paused_seconds)

    def record(self, event) -> None:
        """The engine's listener: the history, and when each burst of steps arrived (for the rate)."""
        self.history(event)
        if isinstance(event, StepEvent):
            start = self.history.start
            first_burst_end = min(self.train_cfg.log_every, start.steps_per_epoch if start else 1)
            mark = (event.step, self.training_seconds())
            if event.step <= first_burst_end:
                self._first_burst = mark  # the first burst includes start-up costs: measured from its end
            else:
                self._last_burst = mark

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run's job or thread ends; True if it has."""
        if self.job is not None:
            self.job.wait(timeout)
        elif self.thread is not None:
            self.thread.join(timeout)
        return not self.active

    # -- reading ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        """Renaming writes to the store too."""
        self._name = value
        if self.store is not None:
            try:
                self.store.rename(self.id, value)
            except (StoreError, ValueError):
                pass

    @property
    def history(self) -> History:
        if self._history is None:
            try:
                self._history = self.store.history(self.id) if self.store is not None else History()
            except StoreError:
                self._history = History()
        return self._history

    @history.setter
    def history(self, value: History) -> None:
        self._history = value

    def _checkpoint(self):
        return self.store.checkpoint_path(self.id) if self.store is not None else None

    @property
    def model(self) -> nn.Module | None:
        """The model: the live one while it trains, else from the bounded cache or its checkpoint (None when
        its files are missing)."""
        if self._model is not None or self.store is None:
            return self._model
        model = MODELS.get(self.id)
        if model is None:
            path = self._checkpoint()
            if path is None:
                return None
            from .checkpoint import CheckpointError, load_checkpoint

            try:
                model, _, _ = load_checkpoint(path)
            except CheckpointError:
                return None
            MODELS.put(self.id, model)  # may push an older model out
            trim_heap_soon()  # the file's bytes just read, and any model pushed out: pages to give back
        return model

    @model.setter
    def model(self, value: nn.Module | None) -> None:
        self._model = value

    @property
    def has_model(self) -> bool:
        """A model can be had without loading it: in memory, in the cache, or its file is on disk."""
        return self._model is not None or MODELS.get(self.id) is not None or self._checkpoint() is not None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def busy(self) -> bool:
        """Whether it trains at full speed: running, not paused, stepped or slowed."""
        return self.status == "running" and self.rate is None

    @property
    def calm(self) -> bool:
        """Whether its views should refresh less often: it trains at full speed, or waits in the queue, while
        the runs training take every CPU core of this machine (``jobs.Backend.cores_full``), so that what a
        view costs here (the app rendering it, a browser on this machine drawing it) comes out of their time."""
        return (self.busy or self.status == "queued") and self.job is not None and self.job.cores_full

    @property
    def has_steps(self) -> bool:
        """Whether any step was recorded, without reading a stored run's curves."""
        return bool(self._history.steps) if self._history is not None else self._last_step > 0

    @property
    def usable(self) -> bool:
        return self.status in USABLE and self.has_model

    def progress(self) -> dict:
        """Step, total steps, epoch, fraction done, samples/s and ETA in seconds, from the history.

        The rate is images per second of training time (pauses left out): the last epoch's, else the
        steps since the end of the first burst over their time. Until that is measured, the rate and
        the ETA are None. The ETA uses the steps since the first burst (evaluations included).
        """
        start = self.history.start
        steps = self.history.steps
        step = steps[-1].step if steps else 0
        total = start.epochs * start.steps_per_epoch if start else 0
        images_per_step = start.train_size / max(start.steps_per_epoch, 1) if start else 0
        measured = None  # steps per second of training time, after the first burst
        if self._first_burst and self._last_burst and self._last_burst[1] > self._first_burst[1]:
            measured = (self._last_burst[0] - self._first_burst[0]) / (self._last_burst[1] - self._first_burst[1])
        epochs = self.history.epochs
        rate = epochs[-1].samples_per_s if epochs else (measured * images_per_step if measured else None)
        eta = (total - step) / measured if measured and self.active else None
        return {"step": step, "total": total, "epoch": steps[-1].epoch if steps else 0,
                "epochs": start.epochs if start else self.train_cfg.epochs,
                "fraction": step / total if total else 0.0, "samples_per_s": rate, "eta_s": eta,
                "device": start.device if start else ""}

    def _epochs(self) -> list[EpochMetrics]:
        """The epochs' metrics; for a stored run whose curves are not loaded, read alone (a runs list of
        1,000 runs does not load their steps)."""
        if self._history is not None or self.store is None:
            return self.history.epochs
        if self._epoch_cache is None or self._epoch_cache[0] != self._last_step:
            try:
                self._epoch_cache = (self._last_step, self.store.epochs(self.id))
            except StoreError:
                self._epoch_cache = (self._last_step, [])
        return self._epoch_cache[1]

    def final(self) -> dict:
        """The last epoch's numbers (or Nones), and the total training time."""
        epochs = self._epochs()
        last = epochs[-1] if epochs else None
        return {
            "train_accuracy": last.train_accuracy if last else None,
            "test_accuracy": last.test_accuracy if last else None,
            "train_loss": last.train_loss if last else None,
            "test_loss": last.test_loss if last else None,
            "seconds": sum(e.seconds for e in epochs),
            "epochs_done": len(epochs),
        }


def call_in_worker(function: str, data_cfg: DataConfig, data: MnistData | None = None,
                   workspace: str = LOCAL_WORKSPACE, timeout: float | None = None, **kwargs):
    """``function(data=…, **kwargs)`` run where runs train: queued in the jobs backend like a run (a worker
    loads the data ``data_cfg`` names), or here on ``data`` with ``NNPLAY_WORKERS=0``. Returns its value;
    a ValueError it raised is raised here as a ValueError with the same text, any other failure (or a worker
    that died) as a RuntimeError. ``function`` is "nnplay.module:name" (the LR range test:
    "nnplay.lessons.experiments:lr_range_test")."""
    import importlib

    from .jobs import JobSpec, Result
    from .jobs import backend as default_backend

    if not jobs_enabled():
        module, name = function.split(":", 1)
        if data is None:
            from .data import load_mnist

            data = load_mnist(data_cfg)
        return getattr(importlib.import_module(module), name)(data=data, **kwargs)
    results: list = []
    job = default_backend().submit(JobSpec(f"call-{new_id()}", workspace, data_cfg, call=(function, kwargs),
                                           name=function), results.append)
    if not job.wait(timeout):
        job.stop()
        raise RuntimeError(f"{function} did not end within {timeout:g} s; it was stopped.")
    result = next((r for r in results if isinstance(r, Result)), None)
    if result is None:
        raise RuntimeError(job.message or f"{function} ended without a result ({job.status}).")
    if result.error_type == "ValueError":
        raise ValueError(result.error)
    if result.error_type:
        raise RuntimeError(f"{result.error_type}: {result.error}")
    return result.value


def register(run: Run) -> Run:
    with _registry_lock:
        REGISTRY[run.id] = run
    return run


def beat_active_runs() -> int:
    """Refresh the store heartbeat of every active run this process owns; how many were refreshed.

    A paused run, or one waiting in the queue, writes no events, so without this its heartbeat would age and
    another host that shares the store folder would take it as interrupted after ``store.OWNER_SILENCE_S``.
    """
    with _registry_lock:
        runs = [r for r in REGISTRY.values() if r.owned and r.store is not None and r.active]
    stores: dict[int, tuple[Store, list[str]]] = {}
    for run in runs:
        stores.setdefault(id(run.store), (run.store, []))[1].append(run.id)
    count = 0
    for store, ids in stores.values():
        try:
            count += store.beat(ids)
        except StoreError:
            pass  # a store that cannot write: the runs' own writes say so (Recorder.error)
    return count


_TRAINING_HERE: weakref.WeakSet = weakref.WeakSet()  # runs and sweeps that train in threads of this process


@atexit.register
def _stop_training_here(timeout: float = 3.0) -> None:
    """At exit, stop the runs and sweeps training in this process's threads and wait for them (``timeout`` s in
    all): a daemon thread still inside torch when the interpreter finalizes aborts the process ("terminate
    called without an active exception"), and a run stopped here is recorded "stopped" with its model, not
    left "running" for the next start to call interrupted."""
    training = [t for t in list(_TRAINING_HERE) if t.thread is not None and t.thread.is_alive()]
    for item in training:
        item.stop()
    deadline = time.monotonic() + timeout
    for item in training:
        item.thread.join(max(0.0, deadline - time.monotonic()))


_beating: threading.Thread | None = None


def _keep_beating() -> None:
    """Start this process's heartbeat thread (once; a daemon that wakes every ``HEARTBEAT_S``)."""
    global _beating
    with _registry_lock:
        if _beating is None or not _beating.is_alive():
            _beating = threading.Thread(target=_beat_forever, daemon=True, name="nnplay-heartbeat")
            _beating.start()


def _beat_forever() -> None:
    while True:
        time.sleep(HEARTBEAT_S)
        beat_active_runs()


def workspace_runs(store: Store, workspace: str = LOCAL_WORKSPACE, kinds: tuple[str, ...] | None = ("train", "loaded"),
                   ) -> list[Run]:
    """A workspace's runs, oldest first, as Run objects (the live one where this process trains it), plus
    this process's runs of the workspace that the store could not keep."""
    records = store.list_runs(workspace, kinds)
    runs = []
    with _registry_lock:
        for record in records:
            run = REGISTRY.get(record.id)
            if run is None:
                run = REGISTRY[record.id] = Run.from_record(store, record)
            else:
                run.refresh(record)
            runs.append(run)
        seen = {r.id for r in runs}
        unkept = [r for r in REGISTRY.values() if r.store is None and r.workspace == workspace and r.id not in seen
                  and (kinds is None or r.kind in kinds)]
    return sorted(runs + unkept, key=lambda r: r.created)


def find_run(store: Store, run_id: str) -> Run | None:
    """The run with this id (any workspace), or None."""
    with _registry_lock:
        run = REGISTRY.get(run_id)
    if run is not None:
        return run
    record = store.get(run_id)
    return register(Run.from_record(store, record)) if record is not None else None


def delete_run(run: Run) -> None:
    """Stop a training run, wait for it, then remove its record and files."""
    if run.active:
        run.stop()
        run.wait(30)
    MODELS.drop(run.id)
    with _registry_lock:
        REGISTRY.pop(run.id, None)
    if run.store is not None:
        run.store.delete(run.id)


def loaded_run(name: str, model: nn.Module, model_cfg: ModelConfig, train_cfg: TrainConfig | None = None,
               data_cfg: DataConfig | None = None, message: str = "") -> Run:
    """A run for a model that was loaded from a file rather than trained here."""
    run = Run(name, data_cfg or DataConfig(), model_cfg, train_cfg or TrainConfig(), status="loaded",
              message=message or "loaded from a file")
    run.model = model
    return run


def rows_csv(rows: Iterable[Mapping[str, object]], columns: Sequence[str]) -> str:
    """Rows (one dict each) as CSV text: a header of ``columns``, then one line per row in that
    order; a missing key or None is an empty cell, a key not in ``columns`` is left out."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


METRICS_COLUMNS = ("step", "epoch", "loss", "lr", "train_loss", "train_accuracy", "test_loss", "test_accuracy",
                   "epoch_seconds", "samples_per_s")


def metrics_csv(run: Run) -> str:
    """A run's history as CSV: one row per reported step; the epoch's metrics on its last step's row."""
    by_step = {e.step: e for e in run.history.epochs}
    rows = []
    for s in list(run.history.steps):
        row = {"step": s.step, "epoch": s.epoch, "loss": s.loss, "lr": s.lr}
        e = by_step.get(s.step)
        if e is not None:
            row |= {"train_loss": e.train_loss, "train_accuracy": e.train_accuracy, "test_loss": e.test_loss,
                    "test_accuracy": e.test_accuracy, "epoch_seconds": e.seconds, "samples_per_s": e.samples_per_s}
        rows.append(row)
    return rows_csv(rows, METRICS_COLUMNS)


def compare_table(runs: list[Run]) -> list[dict]:
    """One row per run: its name, the settings in which the runs differ, final accuracies and time."""
    from .codec import flat_settings

    flats = [flat_settings(r.data_cfg, r.model_cfg, r.train_cfg) for r in runs]
    names = list(flats[0]) if flats else []
    differing = [n for n in names if len({f[n] for f in flats}) > 1]
    tails = run_rows(runs, {"status": "status key", "train accuracy": "train accuracy",
                            "test accuracy": "test accuracy", "seconds": "train seconds"})
    return [{"run": run.name, **{n: flat[n] for n in differing}, **tail} for run, flat, tail in zip(runs, flats, tails)]


# ---------------------------------------------------------------------------------------------
# what pages say about runs


def run_name(model_cfg: ModelConfig, number: int, when: float | None = None) -> str:
    """ "run 2 · 14:02:31 · MLP 784-256-10 relu": the workspace's count (``Store.next_run_number``), the local
    time it started, the model."""
    return f"run {number} · {time.strftime('%H:%M:%S', time.localtime(when))} · {describe(model_cfg)}"


def format_duration(seconds: float | None) -> str:
    """ "…" (not known yet), "0.4 s" (under 10 s: a run on a subset can finish in less than one), "35 s" or
    "7 min 05 s"."""
    if seconds is None:
        return "…"
    if seconds < 9.95:
        return f"{max(0.0, seconds):.1f} s"
    seconds = round(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def queue_text(run: Run) -> str | None:
    """ "queued, position 2 of 3: all 2 workers are busy" for a run waiting in the jobs queue, else None."""
    job = run.job
    if run.status != "queued" or job is None:
        return None
    position = job.position()
    return str(position) if position is not None else None


def status_word(run: Run) -> str:
    """The run's status in one word: "starting" for a queued run a worker has already taken (its first events
    are on their way: the sidebar, drawn as Start is pressed, would otherwise say "queued" while it trains)."""
    if run.status == "queued" and run.job is not None and run.job.position() is None:
        return "starting"
    return run.status


def status_text(run: Run) -> str:
    """The run's status as a word, "queued, position N of M: why", or "diverged at step N"."""
    if run.status == "diverged" and run.history.end is not None:
        return f"diverged at step {run.history.end.step}"
    return queue_text(run) or status_word(run)


def progress_text(run: Run) -> str:
    """ "epoch 2/10 · step 300/2,350 · ETA 1 min 05 s · 41,000 samples/s · CPU (2 threads)".

    The ETA and the rate read "…" until the steps after the first burst have been timed; the ETA
    shows only while the run is active (a paused run's ETA stands still).
    """
    if run.history.start is None:
        if not run.active:
            return run.status
        return queue_text(run) or "starting: building the model and moving the data to the device…"
    p = run.progress()
    rate = f"{p['samples_per_s']:,.0f} samples/s" if p["samples_per_s"] else "… samples/s"
    parts = [f"epoch {p['epoch']}/{p['epochs']}", f"step {p['step']:,}/{p['total']:,}"]
    if run.active:
        parts.append(f"ETA {format_duration(p['eta_s'])}")
    parts += [rate, p["device"]]
    return " · ".join(parts)


TRAIN_ACCURACY_NOTE = ("Train accuracy is measured on each batch while the network is still learning during "
                       "the epoch; test accuracy after the epoch, on the network as it then is. So early on, "
                       "train accuracy trails test accuracy.")


def data_label(run: Run) -> str:
    """ "MNIST sample", "mnist", "fashion-mnist (5000/all)": which data a run trained on."""
    if run.unreadable:
        return SETTINGS_UNREADABLE  # not the data of the defaults that stand in for them
    d = run.data_cfg
    name = data_text(d.dataset, run.data_source)
    return name + (f" ({d.train_limit or 'all'}/{d.test_limit or 'all'})" if d.train_limit or d.test_limit else "")


def _evaluation_seconds(run: Run) -> float:
    return sum(e.eval_seconds for e in run.history.epochs)


# every column a runs table may show: name → value for one run (None where there is nothing yet)
RUN_COLUMNS = {
    "run": lambda r: r.name,
    "status": status_text,
    "status key": lambda r: r.status,
    "data": data_label,
    "model": lambda r: describe(r.model_cfg),
    "training": lambda r: f"{r.train_cfg.optimizer} lr {r.train_cfg.lr:g}, batch {r.train_cfg.batch_size}",
    "optimizer": lambda r: r.train_cfg.optimizer,
    "lr": lambda r: r.train_cfg.lr,
    "batch size": lambda r: r.train_cfg.batch_size,
    "epochs": lambda r: r.train_cfg.epochs,
    "epochs done": lambda r: len(r._epochs()),  # the epochs alone: a list of 1,000 stored runs reads no steps
    "epochs of": lambda r: f"{len(r._epochs())}/{r.train_cfg.epochs}" if r.status != "loaded" else "",
    "train images": lambda r: r.history.start.train_size if r.history.start else r.data_cfg.train_limit,
    "steps per epoch": lambda r: r.history.start.steps_per_epoch if r.history.start else None,
    "train accuracy": lambda r: r.final()["train_accuracy"],
    "test accuracy": lambda r: r.final()["test_accuracy"],
    "train loss": lambda r: r.final()["train_loss"],
    "test loss": lambda r: r.final()["test_loss"],
    "train seconds": lambda r: round(r.final()["seconds"], 2) if r.status != "loaded" else None,
    "wall seconds": lambda r: round(r.final()["seconds"] + _evaluation_seconds(r), 2),
}


def run_rows(runs: list[Run], columns) -> list[dict]:
    """One row per run with the named ``RUN_COLUMNS``: a list of names, or {shown name: column name}."""
    if not isinstance(columns, dict):
        columns = {name: name for name in columns}
    return [{shown: RUN_COLUMNS[name](run) for shown, name in columns.items()} for run in runs]


def start_refusals(model_cfg: ModelConfig, train_cfg: TrainConfig, train_size: int | None,
                   memory_limit: tuple[int | None, str] | None = None) -> dict[str, str]:
    """What stops these configs from training here, by config field: a batch larger than the training set
    (``batch_size``), a device this machine lacks (``device``), more memory than is available (``hidden``, or
    ``channels`` for a CNN). Empty when Start may go ahead. ``memory_limit`` replaces the measured one."""
    from .config import ConfigError
    from .engine import pick_device
    from .models import memory_refusal

    refusals: dict[str, str] = {}
    if train_size is not None and train_cfg.batch_size > train_size:
        refusals["batch_size"] = (f"batch size {train_cfg.batch_size:,} is larger than the training set "
                                  f"({train_size:,} images); choose at most {train_size:,}.")
    try:
        device = pick_device(train_cfg.device)
    except ConfigError as err:
        refusals[err.field] = str(err)
        return refusals
    memory = memory_refusal(model_cfg, train_cfg, device, memory_limit)
    if memory:
        refusals["hidden" if model_cfg.family == "mlp" else "channels"] = memory
    return refusals


class Sweep:
    """Several runs: queued in the jobs backend in order (a free worker takes the next one, so they train in
    parallel where workers are free; on Ray across the cluster), or with ``NNPLAY_WORKERS=0`` trained one after
    another in one background thread. Stop ends the running ones and skips the rest."""

    def __init__(self, name: str, runs: list[Run], data: MnistData, store: Store | None = None,
                 workspace: str = LOCAL_WORKSPACE):
        """With a store, each run becomes a record of kind "sweep" in group ``name`` (not in the Train list)."""
        self.name = name
        self.runs = runs
        if store is not None:
            for run in runs:
                run.bind(store, workspace, kind="sweep", group=name)
        self.data = data
        self.created = time.time()
        self._stopped = threading.Event()
        self.jobs = jobs_enabled()
        self.thread = threading.Thread(target=self._work, daemon=True, name=f"nnplay-sweep-{name}")

    def start(self) -> "Sweep":
        if self.jobs:
            for run in self.runs:
                run.created = time.time()
                run.start(self.data)
        else:
            _TRAINING_HERE.add(self)
            self.thread.start()
        return self

    def _work(self) -> None:
        for run in self.runs:
            if self._stopped.is_set():
                run.status, run.message = "stopped", "skipped: the sweep was stopped"
                run._write(status=(run.status, run.message))
                continue
            run.created = time.time()
            run.run_here(self.data)

    def stop(self) -> None:
        self._stopped.set()
        for run in reversed(self.runs):  # the queued ones first, so no worker starts one of them meanwhile
            run.stop()

    def wait(self, timeout: float | None = None) -> bool:
        if not self.jobs:
            self.thread.join(timeout)
            return not self.active
        deadline = None if timeout is None else time.monotonic() + timeout
        for run in self.runs:
            run.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not self.active

    @property
    def active(self) -> bool:
        if self.jobs:
            return any(r.active for r in self.runs)
        return self.thread.is_alive()

    @property
    def done(self) -> int:
        return sum(not r.active for r in self.runs)
