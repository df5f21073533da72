"""A run as a file and back: ``run_checkpoint_bytes`` (the Train page's "Model (.pt)" download), ``run_file_name``
and ``run_from_checkpoint`` (an uploaded file as a "loaded" run, or a sentence saying why it was refused);
``loaded_run`` (a model loaded from a file, as a run); ``stored_run`` (the run a command line named by its id or its
start)."""

from __future__ import annotations

import math

from torch import nn

from ..checkpoint import ACCEPTS, CheckpointError, checkpoint_bytes, read_checkpoint
from ..config import DataConfig, ModelConfig, TrainConfig
from ..models import describe
from ..names import file_stem, plain_name
from .run import Run


def run_checkpoint_bytes(run: Run) -> bytes:
    """A usable run (finished, stopped or loaded) as an nnplay checkpoint file: model, configs, history."""
    if run.model is None:
        raise ValueError(f"{run.name} has no model to save yet.")
    return checkpoint_bytes(run.model, run.model_cfg, {"name": run.name, "status": run.status,
                                                       "message": run.message},
                            data_cfg=run.data_cfg, train_cfg=run.train_cfg, history=run.history)


def run_file_name(run: Run, extension: str = "pt") -> str:
    """The file name a run's download gets, e.g. "nnplay-run-3.pt"."""
    return f"{file_stem(run.name)}.{extension}"


def run_from_checkpoint(filename: str, data) -> tuple[Run | None, str]:
    """A "loaded" run (model, configs, curves) for an uploaded file, or None and why it was refused.

    The message is plain text (names cut with ``plain_name``); nothing raises for any bytes.
    """
    subject = plain_name(filename) or "the file"
    try:
        ck = read_checkpoint(data, "it")
    except CheckpointError as err:
        return None, f"{subject} was not loaded: {err}"
    except Exception as err:  # noqa: BLE001 — a reader bug must not take the page down: say so
        return None, f"{subject} was not loaded: it could not be read ({type(err).__name__}). {ACCEPTS}"
    raw_name = ck.meta.get("name")
    label = plain_name(raw_name) if isinstance(raw_name, str) and plain_name(raw_name) else subject
    acc = _accuracy(ck.history.epochs[-1].test_accuracy) if ck.history and ck.history.epochs \
        else _accuracy(ck.meta.get("test_accuracy"))
    message = f"loaded from {subject}" + (f" (test accuracy {acc} when saved)" if acc else "")
    run = Run(plain_name(f"{label} (loaded)"), ck.data_cfg or DataConfig(), ck.model_cfg, ck.train_cfg or TrainConfig(),
              status="loaded", message=message)
    run.model = ck.model
    if ck.history is not None:
        run.history = ck.history
    curves = " with its curves" if run.history.steps else ""
    note = f" Left out: {'; '.join(ck.notes)}." if ck.notes else ""
    return run, (f"Loaded {subject}{curves}: {plain_name(describe(ck.model_cfg), 60)}. It is now the current "
                 f"model the other pages use.{note}")


def _accuracy(value) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= 1:
        return f"{value:.2%}"
    return None


def loaded_run(name: str, model: nn.Module, model_cfg: ModelConfig, train_cfg: TrainConfig | None = None,
               data_cfg: DataConfig | None = None, message: str = "") -> Run:
    """A run for a model that was loaded from a file rather than trained here."""
    run = Run(name, data_cfg or DataConfig(), model_cfg, train_cfg or TrainConfig(), status="loaded",
              message=message or "loaded from a file")
    run.model = model
    return run


def stored_run(source: str, done: str):
    """(the store, the ``Run`` whose id is or starts with ``source``) for a command whose run would be ``done``
    ("exported", "evaluated"); ValueError with a sentence when the store cannot be read, no run or several match, or the run's
    settings are unreadable."""
    from ..run_record import record_by_prefix
    from ..store import StoreError, open_store
    from .workspace import find_run

    try:
        store = open_store()
        record, problem = record_by_prefix(store, source)
    except StoreError as err:
        raise ValueError(f"{source} is not a file, and the run store cannot be read: {err}") from None
    if record is None:
        raise ValueError(f"{source} is neither a checkpoint file nor a run: {problem}")
    if record.unreadable:
        raise ValueError(f"run {record.id} ({record.name}) cannot be {done}: {record.settings_note}")
    return store, find_run(store, record.id)
