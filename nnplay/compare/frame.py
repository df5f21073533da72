"""Every run of a workspace as one table row: its settings, and a summary of each metric per epoch.

``runs_frame(store, workspace, sweep)`` reads the records and every epoch in two queries
(``store_compare``) and builds the table; ``frame_from(records, epochs)`` is the same from rows already
read, and ``summarize(epochs, summaries, k)`` turns the epochs into one number per run and metric: the
``last`` epoch's, the ``best`` (highest accuracy, lowest loss), the ``min``, the ``max``, or the
``mean_last`` k epochs'. ``SETTINGS`` are the setting columns, ``METRICS`` the summarised ones,
``varying_settings`` the settings in which a table's runs differ. What does not live here: grouping by
seed and importance (``groups``), figures (``nnplay.figures.compare``), files (``files``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from collections.abc import Mapping, Sequence

import pandas as pd

from ..run_record import RunRecord, data_text
from ..store_compare import EPOCH_COLUMNS, compare_records, workspace_epochs

# the summarised metrics, each with the direction in which it is better
METRICS: dict[str, str] = {"test_accuracy": "max", "test_loss": "min", "train_accuracy": "max",
                           "train_loss": "min"}
SUMMARIES = ("last", "best", "min", "max", "mean_last")
DEFAULT_K = 3  # epochs averaged by "mean_last" unless told otherwise

# setting columns: what a learner varies (text for categories, numbers for numbers)
SETTINGS = ("model", "hidden", "depth", "width", "activation", "init", "dropout", "batch_norm", "pool", "optimizer",
            "lr", "momentum", "weight_decay", "schedule", "batch_size", "epochs", "loss", "max_norm", "augment", "seed",
            "data", "train_limit", "sweep")
CATEGORICAL = ("model", "hidden", "activation", "init", "batch_norm", "pool", "optimizer", "schedule", "loss",
               "augment", "data", "sweep")
# the run's own columns, before its settings
RUN_INFO = ("id", "name", "kind", "status", "created", "seed_group", "epochs_done", "train_seconds")
# config fields that do not change what a run learns: left out of the seed group's key
_NOT_LEARNING = {"seed", "data_dir", "download", "device", "log_every"}


def summary_label(summary: str, k: int = DEFAULT_K) -> str:
    """How a summary reads in a table header or a menu: "last epoch", "mean of the last 3 epochs", …"""
    labels = {"last": "last epoch", "best": "best epoch", "min": "lowest", "max": "highest",
              "mean_last": f"mean of the last {k} epochs"}
    if summary not in labels:
        raise ValueError(f"a metric's summary is one of {', '.join(SUMMARIES)}; got {summary!r}.")
    return labels[summary]


def _text(values) -> str:
    return ",".join(str(v) for v in values) if isinstance(values, (tuple, list)) else str(values)


def _seed_group(record: RunRecord) -> str:
    """A short key shared by the runs whose settings are the same but for the seed (a run whose settings
    could not be read is a group of its own)."""
    if record.unreadable:
        return "run-" + record.id
    flat = {k: v for cfg in (record.data_cfg, record.model_cfg, record.train_cfg)  # vars: asdict's copies are slow
            for k, v in vars(cfg).items() if k not in _NOT_LEARNING}
    flat["data_source"] = record.data_source
    return hashlib.blake2b(repr(sorted(flat.items())).encode(), digest_size=5).hexdigest()


def settings_row(record: RunRecord) -> dict:
    """One run's ``SETTINGS`` as plain values; a setting that could not be read is None, never a default."""
    m, t, d = record.model_cfg, record.train_cfg, record.data_cfg
    mlp = m.family == "mlp"
    row = {
        "model": m.family, "hidden": _text(m.hidden if mlp else m.channels), "depth": m.depth(),
        # the widest hidden layer (an MLP), the widest fully connected layer before the output (a CNN)
        "width": (max(m.hidden) if m.hidden else 0) if mlp else max(m.fc_widths()),
        "activation": _text(m.activation), "init": m.init, "dropout": m.dropout,
        "batch_norm": "on" if m.batch_norm else "off", "pool": "" if mlp else m.pool,  # an MLP has no pooling
        "optimizer": t.optimizer, "lr": t.lr, "momentum": t.momentum, "weight_decay": t.weight_decay,
        "schedule": t.schedule, "batch_size": t.batch_size, "epochs": t.epochs, "loss": t.loss,
        "max_norm": t.max_norm, "augment": t.augment, "seed": t.seed,
        "data": data_text(d.dataset, record.data_source, d.extra_data is not None), "train_limit": d.train_limit,
        "sweep": record.group if record.kind == "sweep" else "",
    }
    unread = {"model": ("model", "hidden", "depth", "width", "activation", "init", "dropout", "batch_norm", "pool"),
              "training": ("optimizer", "lr", "momentum", "weight_decay", "schedule", "batch_size", "epochs", "loss",
                           "max_norm", "augment", "seed"),
              "data": ("data", "train_limit")}
    for part in record.unreadable:
        row.update(dict.fromkeys(unread[part]))
    return row


def epochs_frame(rows: Sequence[tuple]) -> pd.DataFrame:
    """``workspace_epochs`` rows as a table of ``EPOCH_COLUMNS`` (one row per run and epoch)."""
    return pd.DataFrame.from_records(list(rows), columns=list(EPOCH_COLUMNS))


def read_epochs(store, workspace: str, sweep: str | None = None) -> pd.DataFrame:
    """Every epoch of the workspace's runs (of one sweep), in one query: what ``summarize`` reads."""
    return epochs_frame(workspace_epochs(store, workspace, sweep))


def _summaries(summaries: str | Mapping[str, str]) -> dict[str, str]:
    chosen = dict.fromkeys(METRICS, summaries) if isinstance(summaries, str) else \
        {**dict.fromkeys(METRICS, "last"), **summaries}
    for metric, summary in chosen.items():
        if metric not in METRICS:
            raise ValueError(f"a summarised metric is one of {', '.join(METRICS)}; got {metric!r}.")
        summary_label(summary)
    return chosen


def summarize(epochs: pd.DataFrame, summaries: str | Mapping[str, str] = "last", k: int = DEFAULT_K) -> pd.DataFrame:
    """One row per run (indexed by run id), one column per metric of ``METRICS``, each summarised as chosen:
    one of ``SUMMARIES`` for all, or {metric: summary} (a metric not named: "last"). ``best`` is the
    highest accuracy and the lowest loss; ``mean_last`` the mean of the last ``k`` epochs (fewer when the
    run has fewer). Missing values (NaN) are skipped, except by ``last``: a run whose last epoch has none
    has none."""
    chosen = _summaries(summaries)
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"the mean of the last k epochs needs k to be a whole number of at least 1; got {k!r}.")
    metrics = list(METRICS)
    ordered = epochs.sort_values(["run_id", "epoch"]) if len(epochs) else epochs
    computed: dict[str, pd.DataFrame] = {}

    def table(summary: str, metric: str) -> pd.Series:
        kind = ("min" if METRICS[metric] == "min" else "max") if summary == "best" else summary
        if kind not in computed:
            if kind in ("last", "mean_last"):
                tail = ordered.groupby("run_id", sort=False).tail(1 if kind == "last" else k)
                computed[kind] = tail.groupby("run_id", sort=False)[metrics].mean() if kind == "mean_last" \
                    else tail.set_index("run_id")[metrics]
            else:
                computed[kind] = getattr(ordered.groupby("run_id", sort=False)[metrics], kind)()
        return computed[kind][metric]

    ids = pd.Index(ordered["run_id"].unique(), name="run_id")
    return pd.DataFrame({m: table(s, m).reindex(ids) for m, s in chosen.items()}, index=ids).astype(float)


def all_summaries(epochs: pd.DataFrame, k: int = DEFAULT_K) -> pd.DataFrame:
    """Every summary of every metric, one column each (``test_accuracy_best``, ``test_loss_mean_last_3``…):
    what a download of the whole view holds."""
    parts = {summary: summarize(epochs, summary, k) for summary in SUMMARIES}
    names = {summary: f"mean_last_{k}" if summary == "mean_last" else summary for summary in SUMMARIES}
    return pd.DataFrame({f"{metric}_{names[summary]}": parts[summary][metric]
                         for metric in METRICS for summary in SUMMARIES}, index=parts["last"].index)


def frame_from(records: Sequence[RunRecord], epochs: pd.DataFrame, summaries: str | Mapping[str, str] = "last",
               k: int = DEFAULT_K, every_summary: bool = False) -> pd.DataFrame:
    """The comparison table of ``records``: ``RUN_INFO``, ``SETTINGS``, then a column per metric (summarised
    as ``summarize`` says; with ``every_summary``, a column per metric and summary as ``all_summaries``)."""
    done = epochs.groupby("run_id").agg(epochs_done=("epoch", "size"), train_seconds=("seconds", "sum"))
    rows = []
    for r in records:
        rows.append({"id": r.id, "name": r.name, "kind": r.kind, "status": r.status, "created": r.created,
                     "seed_group": _seed_group(r), **settings_row(r)})
    frame = pd.DataFrame.from_records(rows, columns=["id", "name", "kind", "status", "created", "seed_group",
                                                     *SETTINGS])
    frame["created"] = pd.to_datetime(frame["created"].map(datetime.fromtimestamp)).dt.floor("s")  # local time
    frame = frame.join(done, on="id")
    frame["epochs_done"] = frame["epochs_done"].fillna(0).astype(int)
    frame["train_seconds"] = frame["train_seconds"].fillna(0.0)
    for column in ("depth", "width", "batch_size", "epochs", "seed", "train_limit"):
        frame[column] = frame[column].astype("Int64")  # whole numbers, with <NA> where unreadable or unset
    for column in ("dropout", "lr", "momentum", "weight_decay", "max_norm"):
        frame[column] = frame[column].astype(float)
    summary = all_summaries(epochs, k) if every_summary else summarize(epochs, summaries, k)
    frame = frame.join(summary, on="id")
    for column in summary.columns:
        frame[column] = frame[column].astype(float)
    return frame[[*RUN_INFO, *SETTINGS, *summary.columns]]


def runs_frame(store, workspace: str, sweep: str | None = None, summaries: str | Mapping[str, str] = "last",
               k: int = DEFAULT_K, every_summary: bool = False) -> pd.DataFrame:
    """One row per run of the workspace (train, loaded and sweep runs; with ``sweep``, that sweep's only):
    its settings and its metrics summarised (see ``frame_from``). Two queries, whatever the number of runs."""
    records = compare_records(store, workspace, sweep)
    return frame_from(records, read_epochs(store, workspace, sweep), summaries, k, every_summary)


def category_text(column: pd.Series, name: str) -> pd.Series:
    """A setting's values as category names: the value as text, a missing one "all" for ``train_limit`` (no
    limit: every image) and "(none)" otherwise (a setting that could not be read)."""
    missing = "all" if name == "train_limit" else "(none)"
    return column.astype(object).where(column.notna(), missing).astype(str)


def varying_settings(frame: pd.DataFrame, settings: Sequence[str] = SETTINGS) -> list[str]:
    """The settings in which the table's runs differ (more than one value, a missing one counting as a value)."""
    return [s for s in settings if s in frame and frame[s].astype(object).where(frame[s].notna(), None)
            .map(repr).nunique() > 1]
