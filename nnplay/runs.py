"""Runs: a training run with its configs, history, status and model, trained in a background thread.

A ``Run`` owns everything a page needs to show it later (configs, the engine's ``History``, the
status and the model) and a ``RunControl`` to stop or pause it. ``Run.start`` trains in a daemon
thread that only appends to the run's own history, so a page can read it on every rerun without
locks, and never touches streamlit. ``Sweep`` trains several runs one after another in one
thread (the experiments and the activation race). Nothing here imports streamlit.
"""

from __future__ import annotations

import csv
import io
import itertools
import threading
import time
from dataclasses import dataclass, field

from torch import nn

from .config import DataConfig, ModelConfig, TrainConfig
from .data import MnistData
from .engine import History, RunControl, seeded_model, train

_ids = itertools.count(1)

ACTIVE = ("queued", "running", "paused")
USABLE = ("finished", "stopped", "loaded")  # statuses whose model the other pages may use


@dataclass
class Run:
    """One training run: its three configs, the engine's history, status and message, and its model.

    ``start`` trains it in a daemon thread (``run_here`` in the caller's); ``stop``/``pause``/``resume``
    act between steps; ``progress`` and ``final`` summarise the history for a page or a table."""

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

    # -- running ------------------------------------------------------------------------------

    def run_here(self, data: MnistData) -> None:
        """Train in the calling thread; record how it ended (an unexpected error becomes status "error")."""
        if self.control.stopped:
            self.status, self.message = "stopped", "stopped before it started"
            return
        self.status = "running"
        try:
            self.model = seeded_model(self.model_cfg, self.train_cfg.seed)
            self.started = time.time()
            result = train(self.model, data, self.train_cfg, on_event=self.history, control=self.control)
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
            self.status = "paused"

    def resume(self) -> None:
        if self.status == "paused":
            self.status = "running"
            self.control.resume()

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
