"""Runs: a training run with its configs, history, status and model, and what pages say and show of it.

One job per module: ``run`` (``Run``, trained through a ``nnplay.jobs`` backend: ``start`` → ``Job`` →
events), ``sinks`` (``JobSink`` and the store's ``Recorder``), ``cache`` (``MODELS``, the bounded cache of
ended runs' models, and ``trim_heap_soon``), ``registry`` (this process's runs by id and their heartbeat),
``workspace`` (a workspace's runs: ``workspace_runs``, ``find_run``, ``delete_run``), ``tables``
(``RUN_COLUMNS``, ``run_rows``, CSV), ``text`` (status, progress, ETA, names, ``start_refusals``),
``admission`` (``refusal_for``: whether runs about to start fit in memory beside those already admitted),
``sweep`` (``Sweep``, ``call_in_worker``), ``files`` (a run as a checkpoint file and back) and
``live_view`` (``WatchView``, the live view's renderer; imported from there, it draws figures). The
public names are re-exported here: ``from nnplay.runs import Run``. Nothing here imports streamlit.
"""

from .admission import admitted_runs, refusal_for
from .cache import MODELS, ModelCache, trim_heap_soon
from .files import loaded_run, run_checkpoint_bytes, run_file_name, run_from_checkpoint
from .registry import HEARTBEAT_S, REGISTRY, beat_active_runs, register
from .run import ACTIVE, LIVE_WEIGHTS_ASK_S, LIVE_WEIGHTS_FOR_S, USABLE, Run
from .sinks import FLUSH_SECONDS, JobSink, Recorder
from .sweep import Sweep, call_in_worker
from .tables import METRICS_COLUMNS, RUN_COLUMNS, compare_table, metrics_csv, rows_csv, run_rows
from .text import (TRAIN_ACCURACY_NOTE, data_label, format_duration, progress_text, queue_text, run_name,
                   start_refusals, status_text, status_word)
from .workspace import delete_run, find_run, workspace_runs

__all__ = ["admitted_runs", "refusal_for", "MODELS", "ModelCache", "trim_heap_soon", "run_checkpoint_bytes", "run_file_name", "run_from_checkpoint",
           "HEARTBEAT_S", "REGISTRY", "beat_active_runs", "register", "ACTIVE", "LIVE_WEIGHTS_ASK_S",
           "LIVE_WEIGHTS_FOR_S", "USABLE", "Run", "loaded_run", "FLUSH_SECONDS", "JobSink", "Recorder", "Sweep",
           "call_in_worker", "METRICS_COLUMNS", "RUN_COLUMNS", "compare_table", "metrics_csv", "rows_csv",
           "run_rows", "TRAIN_ACCURACY_NOTE", "data_label", "format_duration", "progress_text", "queue_text",
           "run_name", "start_refusals", "status_text", "status_word", "delete_run", "find_run", "workspace_runs"]
