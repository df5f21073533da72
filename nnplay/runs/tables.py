"""Runs as tables and CSV: ``RUN_COLUMNS`` (every column a runs table may show), ``run_rows``, ``compare_table``,
``metrics_csv`` (a run's history) and ``rows_csv`` (any table of rows: a run's metrics, a study's results)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence

from ..codec import flat_settings
from ..models import describe
from .run import Run
from .text import data_label, status_text


def rows_csv(rows: Iterable[Mapping[str, object]], columns: Sequence[str]) -> str:
    """Rows (one dict each) as CSV text: a header of ``columns``, then one line per row in that
    order; a missing key, None or ``MISSING`` (NaN) is an empty cell, a key not in ``columns`` is left out."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None or (isinstance(v, float) and math.isnan(v)) else v
                         for k, v in row.items()})
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
    flats = [flat_settings(r.data_cfg, r.model_cfg, r.train_cfg) for r in runs]
    names = list(flats[0]) if flats else []
    differing = [n for n in names if len({f[n] for f in flats}) > 1]
    tails = run_rows(runs, {"status": "status key", "train accuracy": "train accuracy",
                            "test accuracy": "test accuracy", "seconds": "train seconds"})
    return [{"run": run.name, **{n: flat[n] for n in differing}, **tail} for run, flat, tail in zip(runs, flats, tails)]


def _evaluation_seconds(run: Run) -> float:
    return sum(e.eval_seconds for e in run.history.epochs)


MISSING = math.nan  # a number a run does not have (yet): a table draws NaN as an empty cell, None as "None"


def _number(value):
    return MISSING if value is None else value


# every column a runs table may show: name → value for one run (``MISSING`` where there is nothing yet)
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
    "train images": lambda r: _number(r.history.start.train_size if r.history.start else r.data_cfg.train_limit),
    "steps per epoch": lambda r: _number(r.history.start.steps_per_epoch if r.history.start else None),
    "train accuracy": lambda r: _number(r.final()["train_accuracy"]),
    "test accuracy": lambda r: _number(r.final()["test_accuracy"]),
    "train loss": lambda r: _number(r.final()["train_loss"]),
    "test loss": lambda r: _number(r.final()["test_loss"]),
    "train seconds": lambda r: round(r.final()["seconds"], 2) if r.status != "loaded" else MISSING,
    "wall seconds": lambda r: round(r.final()["seconds"] + _evaluation_seconds(r), 2),
}


def run_rows(runs: list[Run], columns) -> list[dict]:
    """One row per run with the named ``RUN_COLUMNS``: a list of names, or {shown name: column name}."""
    if not isinstance(columns, dict):
        columns = {name: name for name in columns}
    return [{shown: RUN_COLUMNS[name](run) for shown, name in columns.items()} for run in runs]
