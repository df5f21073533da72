"""Runs: a training run with its configs, history, status and model, trained in a background thread.

A ``Run`` owns everything a page needs to show it later (configs, the engine's ``History``, the
status and the model) and a ``RunControl`` to stop or pause it. ``Run.start`` trains in a daemon
thread that only appends to the run's own history, so a page can read it on every rerun without
locks, and never touches streamlit. ``Sweep`` trains several runs one after another in one
thread (the experiments and the activation race).

What a page says about a run lives here too, once: ``run_name`` (told apart by the time it was
started), ``status_text``, ``progress_text`` (epoch, step, ETA, samples/s; the ETA and the rate count
training time only and wait until the steps after the first burst were timed), ``format_duration``,
``run_rows`` (runs → table rows, with the columns a page picks) and ``start_refusals`` (what stops a
run before Start: a batch larger than the data, a missing device, not enough memory).
``rows_csv`` writes any table of rows as CSV
(a run's metrics, a study's results). Nothing here imports streamlit.
"""

from __future__ import annotations

import csv
import io
import itertools
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from torch import nn

from .config import DataConfig, ModelConfig, TrainConfig
from .data import MnistData
from .engine import History, RunControl, StepEvent, seeded_model, train
from .models import describe

_ids = itertools.count(1)

ACTIVE = ("queued", "running", "paused")
USABLE = ("finished", "stopped", "loaded")  # statuses whose model the other pages may use


@dataclass
class Run:
    """One training run: its configs, its ``History`` of events, its status and (once trained) its model.

    ``start`` trains it in a daemon thread; ``stop``/``pause``/``resume`` act between steps;
    ``progress`` and ``final`` read the history. Time spent paused is kept apart (``training_seconds``),
    so rates and the ETA count training time only.
    """

    name: str
    data_cfg: DataConfig
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    id: int = field(default_factory=lambda: next(_ids))
    history: History = field(default_factory=History)
    status: str = "queued"   # queued, running, paused, finished, stopped, diverged, error, loaded
    message: str = ""
    model: nn.Module | None = field(default=None, repr=False)
    created: float = field(default_factory=time.time)
    started: float | None = None  # when training began (after the queue), for the ETA
    control: RunControl = field(default_factory=RunControl, repr=False)
    thread: threading.Thread | None = field(default=None, repr=False)
    data_source: str = ""  # the data's source once started: "full" or "sample"
    paused_seconds: float = 0.0  # time spent paused so far (a pause in progress not included)
    _paused_at: float | None = field(default=None, repr=False)
    # (step, training seconds) at the end of the first burst of steps, and at the latest burst
    _first_burst: tuple[int, float] | None = field(default=None, repr=False)
    _last_burst: tuple[int, float] | None = field(default=None, repr=False)
    _started_clock: float | None = field(default=None, repr=False)

    clock = staticmethod(time.perf_counter)  # tests replace it

    # -- running ------------------------------------------------------------------------------

    def run_here(self, data: MnistData) -> None:
        """Train in the calling thread; record how it ended (an unexpected error becomes status "error")."""
        if self.control.stopped:
            self.status, self.message = "stopped", "stopped before it started"
            return
        self.status = "running"
        self.data_source = data.source
        try:
            self.model = seeded_model(self.model_cfg, self.train_cfg.seed)
            self.started = time.time()
            self._started_clock = self.clock()
            result = train(self.model, data, self.train_cfg, on_event=self.record, control=self.control)
            self.status, self.message = result.status, result.message
        except Exception as err:  # a bug or out-of-memory: keep the app alive and say what happened
            self.status, self.message = "error", f"{type(err).__name__}: {err}"

    def start(self, data: MnistData) -> "Run":
        self.thread = threading.Thread(target=self.run_here, args=(data,), daemon=True, name=f"nnplay-run-{self.id}")
        self.thread.start()
        return self

    def stop(self) -> None:
        self.control.stop()

    def pause(self) -> None:
        if self.status == "running":
            self.control.pause()
            self._paused_at = self.clock()
            self.status = "paused"

    def resume(self) -> None:
        if self.status == "paused":
            if self._paused_at is not None:
                self.paused_seconds += self.clock() - self._paused_at
                self._paused_at = None
            self.status = "running"
            self.control.resume()

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
        """Block until the run's thread ends; True if it has."""
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.active

    # -- reading ------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def usable(self) -> bool:
        return self.status in USABLE and self.model is not None

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

    def final(self) -> dict:
        """The last epoch's numbers (or Nones), and the total training time."""
        epochs = self.history.epochs
        last = epochs[-1] if epochs else None
        return {
            "train_accuracy": last.train_accuracy if last else None,
            "test_accuracy": last.test_accuracy if last else None,
            "train_loss": last.train_loss if last else None,
            "test_loss": last.test_loss if last else None,
            "seconds": sum(e.seconds for e in epochs),
            "epochs_done": len(epochs),
        }


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
    """ "run 2 · 14:02:31 · MLP 784-256-10 relu": the session's count, the local time it started, the model."""
    return f"run {number} · {time.strftime('%H:%M:%S', time.localtime(when))} · {describe(model_cfg)}"


def format_duration(seconds: float | None) -> str:
    """ "…" (not known yet), "35 s" or "7 min 05 s"."""
    if seconds is None:
        return "…"
    seconds = max(0, round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def status_text(run: Run) -> str:
    """The run's status as a word, or "diverged at step N"."""
    if run.status == "diverged" and run.history.end is not None:
        return f"diverged at step {run.history.end.step}"
    return run.status


def progress_text(run: Run) -> str:
    """ "epoch 2/10 · step 300/2,350 · ETA 1 min 05 s · 41,000 samples/s · CPU (2 threads)".

    The ETA and the rate read "…" until the steps after the first burst have been timed; the ETA
    shows only while the run is active (a paused run's ETA stands still).
    """
    if run.history.start is None:
        return "starting: building the model and moving the data to the device…" if run.active else run.status
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
    d = run.data_cfg
    name = "MNIST sample" if run.data_source == "sample" else d.dataset
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
    "epochs done": lambda r: len(r.history.epochs),
    "epochs of": lambda r: f"{len(r.history.epochs)}/{r.train_cfg.epochs}" if r.status != "loaded" else "",
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
    """Several runs trained one after another in one background thread; stop ends the current one and skips the rest."""

    def __init__(self, name: str, runs: list[Run], data: MnistData):
        self.name = name
        self.runs = runs
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
