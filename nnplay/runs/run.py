"""``Run``: one training run, its configs, history, status and model, trained through a ``nnplay.jobs`` backend.

A ``Run`` owns everything a page needs to show it later (configs, the engine's ``History``, the status and
the model) and the handles to stop, pause, step or slow it. It has one way to train: ``start`` submits it
as a ``JobSpec`` to a backend (the local pool, Ray, or threads of this process with ``NNPLAY_WORKERS=0``)
whose ``Job`` sends its events to a ``sinks.JobSink``; ``stop``/``pause``/``resume``/``step``/``set_rate``
become the job's ``nnplay.jobs.commands``; for a run another process trains (``elsewhere``: a second server on
the same store) Stop, Pause and Resume are requests through the store that its owner carries out
(``registry.take_requests``). A page reads the run on every rerun without locks.

A run bound to a ``store.Store`` (``bind``) is a durable record: its events, checkpoints and status changes
are written as they come; once it has ended its model lives in ``cache.MODELS``, read from ``final.pt`` or, when
that is missing or cannot be read, from the last finished epoch's ``epoch.pt`` (a failed run's kept model too).
Time spent paused is kept apart (``training_seconds``), so rates and the ETA count training time only.
Nothing here imports streamlit.
"""

from __future__ import annotations

import os
import threading
import time

from torch import nn

from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ..classroom.heldback import score_soon
from ..classroom.limits import class_mode, limit_refusal, run_minutes
from ..config import DataConfig, ModelConfig, TrainConfig
from ..data import MnistData
from ..engine import EpochMetrics, History, StepEvent
from ..jobs import Command, JobSpec, Pause, Resume, SetRate, Step, Stop
from ..jobs import backend as default_backend
from ..store import ACTIVE, LOCAL_WORKSPACE, USABLE, RunRecord, Store, StoreError, new_id
from ..store_file import file_problem
from .cache import MODELS, trim_heap_soon
from .registry import keep_beating, register, request_key
from .sinks import JobSink, Recorder

LIVE_WEIGHTS_FOR_S = 5.0  # a training run sends live weights for this long after the last watch_model()
LIVE_WEIGHTS_ASK_S = 1.0  # watch_model asks a training run for its live weights again at most this often
MODEL_FILES = ("final.pt", "epoch.pt")  # a run's model files, in the order they are tried
RATE_MIN_S = 0.5  # s of training between the bursts a rate is measured over: a batch of bursts arrives at once
PAUSE_SETTLE_S = 1.0  # the most a Pause waits for the steps trained before it to arrive (the page then shows them)


class Run:
    """One training run: its configs, its ``History`` of events, its status and (once trained) its model.

    ``start`` submits it to a ``nnplay.jobs`` backend (a pool worker, Ray, or a thread here); its ``job``
    sends the events back. ``stop``/``pause``/``resume``/``step``/``set_rate`` become the job's commands
    (held until the start when given before it) and act between steps; ``watch_model`` gives its live weights;
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
        self._early: list[Command] = []  # commands given before the start, sent with it
        self._rate: float | None = None
        self._start_paused = False
        self.listener = None  # one more listener for the engine's events (``start``'s)
        self.store: Store | None = None
        self.workspace = LOCAL_WORKSPACE
        self.kind, self.group = "train", ""
        self.recorder: Recorder | None = None
        self.owned = True  # trained or loaded in this process (else a record another process wrote)
        self._last_step = 0
        self.store_note = ""  # why the store could not keep this run, if it could not
        self.unkept_offered = False  # not kept, but the model picker offers it (a read-only store's run)
        self.model_note = ""  # why its model file could not be written, if it could not
        self.kept_epoch: int | None = None  # the epoch whose model epoch.pt holds, once written
        self.read_error = ""  # why its curves could not be read from the store (shown empty), if they could not
        self._epoch_cache: tuple[int, list[EpochMetrics]] | None = None
        self.data_source = ""  # the data's source once started: "full" or "sample"
        self.unreadable: tuple[str, ...] = ()  # the stored settings this nnplay could not read (store.RunRecord)
        self.paused_seconds = 0.0  # time spent paused so far (a pause in progress not included)
        self._paused_at: float | None = None
        # (step, training seconds) at the end of the first burst of steps, and at the latest burst
        self._first_burst: tuple[int, float] | None = None
        self._last_burst: tuple[int, float] | None = None
        self._started_clock: float | None = None
        self.job = None  # the nnplay.jobs.Job training it, once started
        self._weights = None  # the latest nnplay.jobs.Weights its job sent
        self._weights_asked = 0.0  # when watch_model last asked the job for live weights
        self._live: nn.Module | None = None  # watch_model's model of the latest weights, and their step
        self._live_step = -1
        self._live_lock = threading.Lock()
        self._bad_files: dict[str, str] = {}  # model files found unreadable (NaN weights, damaged) and why
        self.model_note = ""  # why the model used is not final.pt's, when it is not
        self.request_note = ""  # what became of the last Stop/Pause/Resume sent to another process (``elsewhere``)
        self.parent = ""  # the run this one trains further (fine-tuning), "" for none
        self.init_from: str | None = None  # the checkpoint file it starts from (its parent's weights), if any

    clock = staticmethod(time.perf_counter)  # tests replace it

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
                             created=self.created, data_source=self.data_source, parent=self.parent)
        except StoreError as err:
            self.store_note, self.unkept_offered = f"not kept: {err}", store.read_only
            self.message = (self.message + " · " if self.message else "") + self.store_note
            register(self)
            return self
        self.store, self.workspace, self.kind, self.group = store, workspace, kind, group
        if self.active:
            keep_beating()  # a paused or queued run writes nothing: its heartbeat says its process lives
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
        run.parent = record.parent
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
        if self.store is None or self._model is None:
            return False
        return self._write_model(filename, lambda tmp: save_checkpoint(self._model, self.model_cfg, tmp, meta={
            "name": self._name, "run": self.id}))

    # -- running ------------------------------------------------------------------------------

    def start(self, data: MnistData | None = None, backend=None, listener=None) -> "Run":
        """Submit the run to ``backend`` (default ``nnplay.jobs.backend()``: the local pool, Ray, or threads of
        this process with ``NNPLAY_WORKERS=0``); its events come back through a ``JobSink``. ``data``: the data
        its ``data_cfg`` names, already loaded (it says the source, full or sample; a backend in this process
        trains on it, the others load it where the run trains); ``listener``: one more listener for the
        engine's events (the command line's progress bar). Commands given before (stop, step mode, a rate)
        go with it. ``wait`` blocks until it ended."""
        if data is not None:
            self.data_source = data.source
        early, self._early = tuple(self._early), []
        if any(isinstance(c, Stop) for c in early):
            self.status, self.message = "stopped", "stopped before it started"
            self._write(status=(self.status, self.message))
            return self
        refused = limit_refusal(self.store, self.workspace, [(self.model_cfg, self.train_cfg)], leave_out=[self.id])
        if refused:  # the class's limits hold for every Start, a request that bypassed the page too
            return self.refuse(refused[1])
        self.listener = listener
        self.recorder = Recorder(self, self.store) if self.store is not None else None
        self.status, self.message = "queued", ""
        self._start_paused = False  # what the commands sent with the start leave it: paused or not
        for command in early:
            self._start_paused = isinstance(command, Pause) or (self._start_paused and not isinstance(command, Resume))
        try:  # the spec reads the run's digits and starting weights here: a remote worker never opens these files
            spec = JobSpec(self.id, self.workspace or LOCAL_WORKSPACE, self.data_cfg, self.model_cfg, self.train_cfg,
                           name=self._name, init_from=self.init_from, max_minutes=run_minutes(self.store),
                           visible_test_only=class_mode())
            self.job = (backend or default_backend()).submit(spec, JobSink(self), data=data, commands=early)
        except (RuntimeError, ValueError, OSError) as err:
            self.status, self.message = "error", f"it could not be queued for training: {err}"
            self._write(status=(self.status, self.message))
            return self
        late, self._early = self._early, []  # given while it was being submitted
        for command in late:
            self.job.send(command)
        return self

    def refuse(self, sentence: str) -> "Run":
        """End a run that was never submitted as "error", "not started: <sentence>" (a limit of the class)."""
        self.status, self.message = "error", f"not started: {sentence}"
        self._write(status=(self.status, self.message))
        return self

    def _record_end(self, has_final: bool) -> None:
        """Write the rest of the events, the end and the status; the message says what could not be kept.
        When the events cannot be written (a full disk), the end alone is: the record never stays "running"
        (``Store.record_end`` keeps trying at each later write while not a byte can be written)."""
        if self.model_note:
            self.message += f" (its model was not kept: {self.model_note})"
        if self.recorder is not None:
            fields = dict(status=(self.status, self.message), end=self.history.end, has_final=has_final)
            if not self.recorder.flush(**fields):
                self.message += f" (not all of it was kept: {self.recorder.error})"
                self.recorder.drop()  # the curves the disk had no room for: the end matters more
                self.store.record_end(self.id, **{**fields, "status": (self.status, self.message)})
        elif self.store_note:
            self.message += f" ({self.store_note})"

    def _job_started(self) -> None:
        """The worker began training (its ``RunStart`` arrived)."""
        # its first events can come before submit() has returned the job: then the start's commands say
        paused = self.job.status == "paused" if self.job is not None else self._start_paused
        self.status = "paused" if paused else "running"
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
        if self.status == "error" and self.store is not None:  # say what is left: a killed worker's last epoch
            self.message = self.message.rstrip() + " " + self._kept_sentence()
        has_final = self.status in ("finished", "stopped") and final is not None and self.write_file("final.pt", final)
        self._record_end(has_final)
        kept_here = self.store is None and self.status in ("finished", "stopped", "diverged")
        if final is not None and (has_final or kept_here):
            try:
                model = load_checkpoint(final)[0]
            except CheckpointError:
                model = None
            if model is not None and has_final:
                MODELS.put(self.id, model)  # the pages use a run's model once it ended: read it once, here
            elif model is not None:
                self._model = model  # not kept in a store: the model stays with the run
        if has_final and class_mode():  # the leaderboard's score on the held-back test half, kept beside the model
            score_soon(self)
        self._weights, self._live = None, None
        if self.job is not None:  # its files are written: the job's copy of the last checkpoint is not needed
            self.job.forget_checkpoint()
        trim_heap_soon()

    def _kept_sentence(self) -> str:
        """What a failed run left that can be used: its last finished epoch's model, or nothing."""
        epochs = self.history.epochs
        if epochs and (self.store.run_dir(self.id) / "epoch.pt").is_file():
            return (f"Epoch {epochs[-1].epoch}'s model is kept: pick it in the model picker, download it or "
                    "export it.")
        return "No epoch had finished, so no model was kept."

    def write_file(self, filename: str, data: bytes) -> bool:
        """Write a checkpoint file's bytes to the run's folder (a temporary file renamed into place)."""
        if self.store is None:
            return False
        return self._write_model(filename, lambda tmp: tmp.write_bytes(data))

    def _write_model(self, filename: str, write) -> bool:
        """``write(tmp)`` then rename it to ``filename`` in the run's folder; False, ``model_note`` saying why,
        and no temporary file left when it failed (a full disk gets its space back)."""
        folder = self.store.run_dir(self.id)
        tmp = folder / f".{filename}.tmp"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write(tmp)
            os.replace(tmp, folder / filename)
        except (OSError, RuntimeError) as err:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
            self.model_note = file_problem(folder, err)
            return False
        if filename == "final.pt":
            self.model_note = ""
        return True

    def _send(self, command: Command) -> None:
        """Send ``command`` to the run's job; before the start, keep it for the start."""
        if self.job is not None:
            self.job.send(command)
        else:
            self._early.append(command)

    def _request(self, word: str) -> None:
        """Ask the process that trains this run (another server sharing the store) to ``word`` it, through the
        store (``registry.take_requests`` there); ``request_note`` says it was sent, or why it could not be."""
        try:
            self.store.set_setting(self.workspace, request_key(self.id), word)
        except StoreError as err:
            self.request_note = f"{word.title()} could not reach {self._name}: {err}"
            return
        self.request_note = (f"{word.title()} was sent to the process that trains {self._name} (another server or "
                             f"the command line, sharing this run store); it acts on it within a few seconds.")

    @property
    def elsewhere(self) -> bool:
        """Whether another process trains it (a second server or the command line on this store): its Stop, Pause
        and Resume are requests through the store."""
        return not self.owned and self.active and self.store is not None

    def stop(self) -> None:
        if self.elsewhere:
            self._request("stop")
            return
        self._send(Stop())

    def pause(self) -> None:
        if self.elsewhere:
            if self.status == "running":
                self._request("pause")
            return
        if self.status == "running":
            self._send(Pause())
            self._paused_at = self.clock()
            self.status = "paused"
            self._write(status=("paused", self.message))
            if self.job is not None:
                self.job.caught_up(PAUSE_SETTLE_S)

    def resume(self) -> None:
        if self.elsewhere:
            if self.status == "paused":
                self._request("resume")
            return
        if self.status == "paused":
            if self._paused_at is not None:
                self.paused_seconds += self.clock() - self._paused_at
                self._paused_at = None
            self.status = "running"
            self._send(Resume())
            self._write(status=("running", self.message))

    def step(self, n: int = 1) -> None:
        """Step mode (TensorFlow Playground's step button): pause the run if it runs (or start it paused
        if it has not started), then let exactly ``n`` more training steps (batches) through."""
        command = Step(int(n))
        if self.status == "running":
            self.pause()
        elif self.status == "queued":
            self._send(Pause())
        if self.job is not None or self.active:
            self._send(command)

    def set_rate(self, steps_per_second: float | None) -> None:
        """Train at most ``steps_per_second`` steps a second from now on (None: full speed); while
        paused it applies once the run resumes."""
        command = SetRate(None if steps_per_second is None else float(steps_per_second))
        self._rate = command.steps_per_second
        self._send(command)

    @property
    def rate(self) -> float | None:
        """The step-rate limit (steps per second), or None at full speed."""
        return self._rate

    def watch_model(self) -> nn.Module | None:
        """A CPU model with the run's latest weights, for views that watch it learn; None before the model exists.

        While the run trains, its job is asked for live weights for the next ``LIVE_WEIGHTS_FOR_S`` (a page that
        stops asking stops them; at most one snapshot a second at full speed, after each step in step mode)
        and the latest becomes a CPU model, made once per snapshot: the same object comes back until a newer
        one arrives. Until the first arrives, the last epoch's checkpoint. An ended run's own ``model``.
        """
        if not self.active:
            return self.model
        now = time.monotonic()
        if self.job is not None and now - self._weights_asked >= LIVE_WEIGHTS_ASK_S:
            self._weights_asked = now
            self.job.watch(LIVE_WEIGHTS_FOR_S)
        weights = self._weights
        with self._live_lock:
            if weights is None:
                return self._live if self._live is not None else self.model
            if self._live is None or self._live_step != weights.step:
                try:
                    self._live, self._live_step = load_checkpoint(weights.data)[0], weights.step
                except CheckpointError:
                    pass
            return self._live

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
        """Block until the run's job has ended and its end is recorded; True if it has."""
        if self.job is not None:
            self.job.wait(timeout)
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
            except StoreError as err:
                self._history, self.read_error = History(), str(err)
        return self._history

    @history.setter
    def history(self, value: History) -> None:
        self._history = value

    def _model_files(self) -> list:
        """The run's model files on disk that were not found unreadable, in the order they are tried."""
        if self.store is None:
            return []
        folder = self.store.run_dir(self.id)
        return [folder / name for name in MODEL_FILES if name not in self._bad_files and (folder / name).is_file()]

    def _checkpoint(self):
        files = self._model_files()
        return files[0] if files else None

    @property
    def model(self) -> nn.Module | None:
        """The model: the live one while it trains, else from the bounded cache or its files: ``final.pt``, else
        the last finished epoch's ``epoch.pt`` (a final file that cannot be read is passed over, and
        ``model_note`` says so). None when no file is left that can be read."""
        if self._model is not None or self.store is None:
            return self._model
        model = MODELS.get(self.id)
        if model is None:
            for path in self._model_files():
                try:
                    model, _, _ = load_checkpoint(path)
                    break
                except CheckpointError as err:
                    self._bad_files[path.name] = str(err)
            if model is None:
                return None
            if self._bad_files:
                self.model_note = "; ".join(f"{name} could not be read ({why.rstrip('.')})"
                                            for name, why in self._bad_files.items()) + \
                    ", so the model used is the last finished epoch's (epoch.pt)."
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
        """Its model may be used by the other pages: it ended usably, or failed (a killed worker) after an epoch
        whose model was kept; and a model file is there."""
        return (self.status in USABLE or self.status == "error") and self.has_model

    def why_not_usable(self) -> str:
        """"" when the run's model can be used, else a sentence saying why not (for the picker and the pages)."""
        if self.usable and self.model is not None:
            return ""
        if self.active:
            return f"{self._name} is still training ({self.status}); its model can be used when it ends."
        if self._bad_files:
            return (f"the model files of {self._name} cannot be read: "
                    + "; ".join(f"{name}: {why.rstrip('.')}" for name, why in self._bad_files.items()) + ".")
        if self.status not in USABLE and self.status != "error":
            return f"{self._name} has no model to use ({self.status})."
        if self.store is not None and not self.store.run_dir(self.id).is_dir():
            return (f"the model files of {self._name} are gone (its folder {self.store.run_dir(self.id)} was "
                    "deleted), so it cannot be picked; its curves and settings are still on the Train page.")
        if self.status == "error":
            return f"{self._name} failed before its first epoch ended, so no model was kept."
        return f"{self._name} has no model file left in {self.store.run_dir(self.id) if self.store else 'memory'}."

    def progress(self) -> dict:
        """Step, total steps, epoch, fraction done, samples/s and ETA in seconds, from the history.

        The rate is images per second of training time (pauses left out): the last epoch's, else the
        steps since the end of the first burst over their time, once that is at least ``RATE_MIN_S`` (the
        bursts of one batch of events arrive together). Until that is measured, the rate and the ETA are None. The ETA uses the steps since the first burst (evaluations included).
        """
        start = self.history.start
        steps = self.history.steps
        step = steps[-1].step if steps else 0
        total = start.epochs * start.steps_per_epoch if start else 0
        images_per_step = start.train_size / max(start.steps_per_epoch, 1) if start else 0
        measured = None  # steps per second of training time, after the first burst
        if self._first_burst and self._last_burst and self._last_burst[1] - self._first_burst[1] >= RATE_MIN_S:
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
            except StoreError as err:
                self._epoch_cache, self.read_error = (self._last_step, []), str(err)
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
