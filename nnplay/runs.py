"""Runs: a training run with its configs, history, status and model, trained in a background thread.

A ``Run`` owns everything a page needs to show it later (configs, the engine's ``History``, the
status and the model) and a ``RunControl`` to stop or pause it. ``Run.start`` trains in a daemon
thread that only appends to the run's own history, so a page can read it on every rerun without
locks, and never touches streamlit. ``Sweep`` trains several runs one after another in one
thread (the experiments and the activation race).

A run bound to a ``store.Store`` (``Run.bind``) is a durable record: a ``Recorder`` listener writes
its events in batches (one transaction a second at most, and one per epoch), its model is saved at
each finished epoch and at the end, and its status changes are written. Once it has ended its model
leaves the run and lives in ``MODELS``, a bounded LRU cache that reloads it from its checkpoint on
demand, without gradients. ``workspace_runs`` lists a workspace's runs as ``Run`` objects, one per
id in this process (``REGISTRY``), so a reload or a second tab finds the live run that trains.
Nothing here imports streamlit.
"""

from __future__ import annotations

import csv
import io
import os
import threading
import time
from collections import OrderedDict

from torch import nn

from .config import DataConfig, ModelConfig, TrainConfig
from .data import MnistData
from .engine import EpochMetrics, History, LayerStats, RunControl, RunStart, StepEvent, seeded_model, train
from .store import LOCAL_WORKSPACE, RunRecord, Store, StoreError, new_id

ACTIVE = ("queued", "running", "paused")
USABLE = ("finished", "stopped", "loaded", "interrupted")  # statuses whose model the other pages may use
FLUSH_SECONDS = 1.0  # the recorder commits at most this often between epochs


class ModelCache:
    """The models of ended runs, at most ``max_bytes`` of weights (the most recently used one is kept even when
    larger), least recently used dropped first; a dropped model is loaded again from its run's checkpoint."""

    def __init__(self, max_bytes: int = 128 * 2**20):
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
            while len(self._models) > 1 and self.bytes > self.max_bytes:
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


MODELS = ModelCache(int(float(os.environ.get("NNPLAY_MODEL_CACHE_MB", "128")) * 2**20))
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
            self.flush()

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


class Run:
    """One training run: configs, history, status, model; optionally a record in a ``Store``."""

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
                             created=self.created)
        except StoreError as err:
            self.store_note = f"not kept: {err}"
            self.message = (self.message + " · " if self.message else "") + self.store_note
            register(self)
            return self
        self.store, self.workspace, self.kind, self.group = store, workspace, kind, group
        if not self.active:  # a run that ended (or was loaded) before it was kept: write what it has
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
        self.status = "running"
        self.recorder = Recorder(self, self.store) if self.store is not None else None
        history = self.history
        listeners = [f for f in (history, self.recorder, also) if f is not None]

        def listener(event) -> None:
            for f in listeners:
                f(event)
        try:
            self._model = seeded_model(self.model_cfg, self.train_cfg.seed)
            self.started = time.time()
            self._write(status=("running", ""), started=self.started)
            result = train(self._model, data, self.train_cfg, on_event=listener, control=self.control)
            self.status, self.message = result.status, result.message
        except Exception as err:  # a bug or out-of-memory: keep the app alive and say what happened
            self.status, self.message = "error", f"{type(err).__name__}: {err}"
        self._finish()

    def _finish(self) -> None:
        """After training: write the rest, the final model and the status; release the model to the cache."""
        model = self._model
        if model is not None:
            release_training_state(model)
        has_final = self.status in ("finished", "stopped") and self.save_model("final.pt")
        if self.recorder is not None:
            self.recorder.flush(status=(self.status, self.message), end=self.history.end, has_final=has_final)
            if self.recorder.error:
                self.message += f" (not all of it was kept: {self.recorder.error})"
        elif self.store_note:
            self.message += f" ({self.store_note})"
        if self.store is not None and model is not None:
            if has_final:
                MODELS.put(self.id, model)
            self._model = None  # from now on read through the bounded cache (or its epoch's checkpoint)

    def start(self, data: MnistData) -> "Run":
        self.thread = threading.Thread(target=self.run_here, args=(data,), daemon=True, name=f"nnplay-run-{self.id}")
        self.thread.start()
        return self

    def stop(self) -> None:
        self.control.stop()

    def pause(self) -> None:
        if self.status == "running":
            self.control.pause()
            self.status = "paused"
            self._write(status=("paused", self.message))

    def resume(self) -> None:
        if self.status == "paused":
            self.status = "running"
            self.control.resume()
            self._write(status=("running", self.message))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run's thread ends; True if it has."""
        if self.thread is not None:
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
            MODELS.put(self.id, model)
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
    def usable(self) -> bool:
        return self.status in USABLE and self.has_model

    def progress(self) -> dict:
        """Step, total steps, epoch, fraction done, samples/s and ETA in seconds, from the history."""
        start = self.history.start
        steps = self.history.steps
        step = steps[-1].step if steps else 0
        total = start.epochs * start.steps_per_epoch if start else 0
        epochs = self.history.epochs
        rate = epochs[-1].samples_per_s if epochs else None
        if rate is None and start and self.started and step > 0:
            # before the first epoch ends: images so far over wall time since training began
            elapsed = time.time() - self.started
            rate = step * (start.train_size / max(start.steps_per_epoch, 1)) / max(elapsed, 1e-6)
        eta = None
        if rate and start:
            images_left = (total - step) * start.train_size / max(start.steps_per_epoch, 1)
            eta = images_left / rate
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


def register(run: Run) -> Run:
    with _registry_lock:
        REGISTRY[run.id] = run
    return run


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


def metrics_csv(run: Run) -> str:
    """A run's history as CSV: one row per reported step; the epoch's metrics on its last step's row."""
    by_step = {e.step: e for e in run.history.epochs}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["step", "epoch", "loss", "lr", "train_loss", "train_accuracy", "test_loss", "test_accuracy",
                     "epoch_seconds", "samples_per_s"])
    for s in list(run.history.steps):
        e = by_step.get(s.step)
        tail = [e.train_loss, e.train_accuracy, e.test_loss, e.test_accuracy, e.seconds, e.samples_per_s] if e \
            else [""] * 6
        writer.writerow([s.step, s.epoch, s.loss, s.lr, *tail])
    return out.getvalue()


def compare_table(runs: list[Run]) -> list[dict]:
    """One row per run: its name, the settings in which the runs differ, final accuracies and time."""
    from .urlstate import flat_settings

    flats = [flat_settings(r.data_cfg, r.model_cfg, r.train_cfg) for r in runs]
    names = list(flats[0]) if flats else []
    differing = [n for n in names if len({f[n] for f in flats}) > 1]
    rows = []
    for run, flat in zip(runs, flats):
        final = run.final()
        rows.append({
            "run": run.name,
            **{n: flat[n] for n in differing},
            "status": run.status,
            "train accuracy": final["train_accuracy"],
            "test accuracy": final["test_accuracy"],
            "seconds": round(final["seconds"], 2),
        })
    return rows


class Sweep:
    """Several runs trained one after another in one background thread; stop ends the current one and skips the rest."""

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
        self.thread = threading.Thread(target=self._work, daemon=True, name=f"nnplay-sweep-{name}")

    def start(self) -> "Sweep":
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
        for run in self.runs:
            run.stop()

    def wait(self, timeout: float | None = None) -> bool:
        self.thread.join(timeout)
        return not self.active

    @property
    def active(self) -> bool:
        return self.thread.is_alive()

    @property
    def done(self) -> int:
        return sum(not r.active for r in self.runs)
