"""Checkpoints: a run's model, its three configs and its history in one file, saved and loaded safely.

The file is a plain ``torch.save`` (zip) of a dict with only tensors, strings, numbers, lists and
dicts, so ``torch.load(weights_only=True)`` reads it without running any pickled code::

    format        "nnplay-checkpoint/2" ("nnplay-checkpoint/1" files still load)
    model_config  ModelConfig as a dict (``config.to_dict``)
    state_dict    the model's weights, float32 on the CPU
    data_config   {dataset, train_limit, test_limit} (never a folder of the machine that saved it)
    train_config  TrainConfig as a dict
    history       {start, steps: {step, epoch, loss, lr} as lists, epochs, layer_stats, end}
    meta          {name, status, message, test_accuracy, train_accuracy, epochs_done, dataset, ...}

``save_checkpoint`` is the one writer (the Train page's download and ``python -m nnplay train
--save`` both use it); ``read_checkpoint`` is the one reader. Reading refuses, with a sentence that
names the file, anything that is not such a file: not a zip, a damaged zip, pickled code, a config
or weights of the wrong type, weights whose names, shapes or dtypes differ from what the config
builds (checked on the "meta" device, before any memory is allocated), and NaN or infinite
weights. What does not live here: building models (``models``), training (``engine``), a ``Run`` as a
file and back (``runs.files``), showing anything (``pages``).
"""

from __future__ import annotations

import dataclasses
import io
import os
import pickle
import typing
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .config import DataConfig, ModelConfig, TrainConfig, from_dict, to_dict
from .engine import EpochMetrics, History, LayerStats, RunEnd, RunStart, StepEvent
from .models import build_model, describe, layer_table
from .names import plain_name

FORMAT = "nnplay-checkpoint/2"
FORMATS = ("nnplay-checkpoint/1", FORMAT)  # the formats this version reads
MAX_BYTES = 200 * 1024 * 1024
ACCEPTS = ("nnplay loads only plain nnplay checkpoints: the model files its Train page saves "
           "(Model (.pt)) or `python -m nnplay train --save` writes.")
DATA_KEYS = ("dataset", "train_limit", "test_limit")  # what a file may say about the data


class CheckpointError(Exception):
    """The file is not a loadable nnplay model; the message says why, naming the file."""


@dataclass
class Checkpoint:
    """What an nnplay checkpoint holds, read back: the model (CPU, eval mode), its configs and history.

    ``notes`` lists the parts that were unreadable and left out (e.g. a damaged history): the
    model itself is always complete, or the file was refused.
    """

    model: nn.Module = field(repr=False)
    model_cfg: ModelConfig
    meta: dict
    data_cfg: DataConfig | None = None
    train_cfg: TrainConfig | None = None
    history: History | None = field(default=None, repr=False)
    format: str = FORMAT
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# writing


def history_dict(history: History) -> dict:
    """A History as plain lists, dicts and numbers (steps column by column, to stay small)."""
    steps = list(history.steps)
    return {
        "start": dataclasses.asdict(history.start) if history.start else None,
        "steps": {"step": [s.step for s in steps], "epoch": [s.epoch for s in steps],
                  "loss": [float(s.loss) for s in steps], "lr": [float(s.lr) for s in steps]},
        "epochs": [dataclasses.asdict(e) for e in list(history.epochs)],
        "layer_stats": [_plain(dataclasses.asdict(s)) for s in list(history.layer_stats)],
        "end": dataclasses.asdict(history.end) if history.end else None,
    }


def _plain(value):
    """Tuples become lists, recursively (the checkpoint holds lists only)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def save_checkpoint(model: nn.Module, model_cfg: ModelConfig, file, meta: dict | None = None, *,
                    data_cfg: DataConfig | None = None, train_cfg: TrainConfig | None = None,
                    history: History | None = None) -> None:
    """Write ``model``'s weights (on the CPU), its configs, history and ``meta`` to a path or binary file.

    The one writer of nnplay checkpoints. ``meta`` adds plain values (name, status…); the final
    accuracies are filled in from ``history`` when it has an epoch. A path is written whole or not
    at all; a folder that does not exist raises OSError.
    """
    info: dict = {}
    if data_cfg is not None:
        info["dataset"] = data_cfg.dataset
    last = history.epochs[-1] if history is not None and history.epochs else None
    if last is not None:
        info.update(test_accuracy=last.test_accuracy, train_accuracy=last.train_accuracy,
                    epochs_done=len(history.epochs))
    info.update(meta or {})
    payload = {
        "format": FORMAT,
        "model_config": to_dict(model_cfg),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "data_config": {k: getattr(data_cfg, k) for k in DATA_KEYS} if data_cfg is not None else None,
        "train_config": to_dict(train_cfg) if train_cfg is not None else None,
        "history": history_dict(history) if history is not None else None,
        "meta": info,
    }
    if not isinstance(file, (str, os.PathLike)):
        torch.save(payload, file)
        return
    path = Path(file)  # a path: written beside it first, then renamed, so a failed save leaves no half file
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as out:  # OSError (no such folder, no permission, disk full) for the caller
            torch.save(payload, out)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def checkpoint_bytes(model: nn.Module, model_cfg: ModelConfig, meta: dict | None = None, **parts) -> bytes:
    """``save_checkpoint`` into bytes (``parts``: data_cfg, train_cfg, history)."""
    buffer = io.BytesIO()
    save_checkpoint(model, model_cfg, buffer, meta, **parts)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# reading: bytes → payload


def _read_bytes(source, subject: str) -> bytes:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise CheckpointError(f"{subject} does not exist.")
        if path.stat().st_size > MAX_BYTES:
            raise CheckpointError(f"{subject} is {path.stat().st_size / 2**20:.0f} MB; nnplay models are at most "
                                  f"{MAX_BYTES // 2**20} MB.")
        return path.read_bytes()
    if not isinstance(source, (bytes, bytearray, memoryview)):
        source = source.read(MAX_BYTES + 1)
    return bytes(source)


def _payload(data: bytes, subject: str) -> dict:
    """The file's top-level dict, loaded with weights_only=True; CheckpointError for anything else."""
    if len(data) > MAX_BYTES:
        raise CheckpointError(f"{subject} is {len(data) / 2**20:.0f} MB; nnplay models are at most "
                              f"{MAX_BYTES // 2**20} MB.")
    if len(data) == 0:
        raise CheckpointError(f"{subject} is empty: {ACCEPTS}")
    if not data.startswith(b"PK\x03\x04"):  # torch.save writes a zip file
        raise CheckpointError(f"{subject} is not a PyTorch checkpoint (not the zip file torch.save writes): {ACCEPTS}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise CheckpointError(f"{subject} is a zip file but damaged or cut short ({type(err).__name__}), so it is "
                              f"not a PyTorch checkpoint nnplay can read: {ACCEPTS}") from None
    if unpacked > MAX_BYTES:
        raise CheckpointError(f"{subject} unpacks to {unpacked / 2**20:.0f} MB; nnplay models are at most "
                              f"{MAX_BYTES // 2**20} MB.")
    try:
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(f"{subject} holds Python objects other than weights, so it was not loaded "
                              f"(nothing in it ran): {ACCEPTS}") from None
    except Exception as err:  # noqa: BLE001 — torch raises many kinds on a damaged zip (RuntimeError, KeyError…)
        raise CheckpointError(f"{subject} is a zip file but not a readable PyTorch checkpoint: it is damaged or "
                              f"is some other zip ({type(err).__name__}). {ACCEPTS}") from None
    if not isinstance(payload, dict) or payload.get("format") not in FORMATS:
        found = payload.get("format") if isinstance(payload, dict) else None
        if isinstance(found, str) and found.startswith("nnplay-checkpoint/"):
            raise CheckpointError(f"{subject} was saved by a newer nnplay (format {plain_name(found, 40)}); "
                                  f"this version reads {', '.join(FORMATS)}. Update nnplay to load it.")
        raise CheckpointError(f"{subject} is a PyTorch file but not an nnplay model (no nnplay format marker): "
                              f"{ACCEPTS}")
    return payload


# ---------------------------------------------------------------------------------------------
# reading: payload → model


def _model_config(payload: dict, subject: str) -> ModelConfig:
    values = payload.get("model_config")
    if not isinstance(values, Mapping):
        raise CheckpointError(f"{subject} has no readable model settings (model_config is "
                              f"{type(values).__name__}, not a mapping), so nnplay cannot rebuild its network.")
    try:
        return from_dict(ModelConfig, dict(values))
    except Exception as err:  # noqa: BLE001 — any bad value (a string width, inf, a dict…) is the file's fault
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CheckpointError(f"{subject} has model settings nnplay cannot build: "
                              f"{plain_name(detail, 200)}") from None


def _check_weights(state: object, cfg: ModelConfig, subject: str) -> dict[str, torch.Tensor]:
    """The file's weights, checked against what ``cfg`` builds (names, shapes, dtypes, finite) without building it."""
    if not isinstance(state, Mapping) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                 for k, v in state.items()):
        raise CheckpointError(f"{subject} does not hold its weights as named tensors (state_dict is "
                              f"{type(state).__name__}), so it is not a model nnplay can load.")
    state = dict(state)
    try:
        # arithmetic only: nothing is allocated; a batch norm also keeps its running mean and variance (2 per
        # channel, as many as its parameters) and a batch count
        claimed = sum(row.params + (row.params + 1 if row.kind.startswith("BatchNorm") else 0)
                      for row in layer_table(cfg))
    except ValueError as err:
        raise CheckpointError(f"{subject} describes a network that cannot be built: {err}") from None
    held = sum(t.numel() for t in state.values())
    if held != claimed:
        raise CheckpointError(f"the weights in {subject} do not match the model they claim to be: its settings "
                              f"describe {plain_name(describe(cfg), 60)} with {claimed:,} parameters, but the "
                              f"file holds {held:,}.")
    expected = {k: (tuple(v.shape), v.dtype) for k, v in _meta_model(cfg).state_dict().items()}
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        parts = ([f"missing {', '.join(missing[:5])}"] if missing else []) + \
                ([f"unexpected {', '.join(plain_name(k, 40) for k in extra[:5])}"] if extra else [])
        raise CheckpointError(f"the weights in {subject} do not match the model they claim to be "
                              f"({plain_name(describe(cfg), 60)}): {'; '.join(parts)}.")
    for name, (shape, dtype) in expected.items():
        tensor = state[name]
        if tuple(tensor.shape) != shape or tensor.dtype != dtype:
            raise CheckpointError(f"the weights in {subject} do not match the model they claim to be: {name} is "
                                  f"{tuple(tensor.shape)} {tensor.dtype}, {plain_name(describe(cfg), 60)} needs "
                                  f"{shape} {dtype}.")
        if not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{subject} holds weights that are not numbers (NaN or infinite, in {name}): "
                                  f"a diverged network, which would predict nothing. Train it again with a "
                                  f"smaller learning rate.")
    return state


def _meta_model(cfg: ModelConfig) -> nn.Module:
    """``cfg``'s network on the meta device (names and shapes, no memory), without its initialiser: that
    changes neither, and on the meta device ``normal_`` (He, normal) goes through torch's Python reference
    ops, whose first use in a process imports torch._dynamo: seconds of the server's CPU, paid by the first
    checkpoint it read (tests/test_checkpoint.py checks a fresh process reads one without it)."""
    with torch.device("meta"):
        return build_model(dataclasses.replace(cfg, init="default"))


def _build(cfg: ModelConfig, state: dict[str, torch.Tensor]) -> nn.Module:
    model = _meta_model(cfg)
    model.load_state_dict(state, strict=True, assign=True)  # the file's tensors become the parameters
    return model.eval()


# ---------------------------------------------------------------------------------------------
# reading: the rest (configs and history); a bad part is left out with a note, the model still loads


def _number(value, hint) -> object:
    """``value`` checked against a field's type (int, float, str, optional, histogram); ValueError if it is not."""
    args = typing.get_args(hint)
    if type(None) in args:  # "X | None"
        if value is None:
            return None
        hint = next(a for a in args if a is not type(None))
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return plain_name(value, 400)
    elif isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(part, list) for part in value):
        pair = tuple([float(x) for x in part if isinstance(x, (int, float)) and not isinstance(x, bool)]
                     for part in value)
        if [len(p) for p in pair] == [len(part) for part in value]:
            return pair
    raise ValueError(f"{type(value).__name__} where {getattr(hint, '__name__', hint)} was expected")


def _event(cls, values):
    if not isinstance(values, Mapping):
        raise ValueError(f"{cls.__name__} is {type(values).__name__}, not a mapping")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in values:
            raise ValueError(f"{cls.__name__} lacks {f.name}")
        kwargs[f.name] = _number(values[f.name], hints[f.name])
    return cls(**kwargs)


def history_from_dict(values) -> History:
    """A History from ``history_dict``'s output; ValueError naming the first bad part."""
    if not isinstance(values, Mapping):
        raise ValueError(f"history is {type(values).__name__}, not a mapping")
    history = History()
    if values.get("start") is not None:
        history.start = _event(RunStart, values["start"])
    steps = values.get("steps") or {}
    if not isinstance(steps, Mapping):
        raise ValueError("steps is not a mapping")
    columns = [steps.get(k, []) for k in ("step", "epoch", "loss", "lr")]
    if not all(isinstance(c, list) for c in columns) or len({len(c) for c in columns}) != 1:
        raise ValueError("the step columns are not lists of one length")
    for step, epoch, loss, lr in zip(*columns):
        history.steps.append(StepEvent(_number(step, int), _number(epoch, int), _number(loss, float),
                                       _number(lr, float)))
    for key, cls, target in (("epochs", EpochMetrics, history.epochs), ("layer_stats", LayerStats,
                                                                          history.layer_stats)):
        items = values.get(key) or []
        if not isinstance(items, list):
            raise ValueError(f"{key} is not a list")
        target.extend(_event(cls, item) for item in items)
    if values.get("end") is not None:
        history.end = _event(RunEnd, values["end"])
    return history


def _other_config(cls, values, notes: list[str], what: str):
    if values is None:
        return None
    if not isinstance(values, Mapping):
        notes.append(f"its {what} settings were unreadable ({type(values).__name__}) and the defaults are shown")
        return None
    try:
        return from_dict(cls, dict(values))
    except Exception as err:  # noqa: BLE001 — a bad value in the file: keep the model, say what was left out
        notes.append(f"its {what} settings were unreadable ({plain_name(str(err) or type(err).__name__, 120)}) "
                     f"and the defaults are shown")
        return None


def read_checkpoint(source, name: str | None = None) -> Checkpoint:
    """Everything in an nnplay checkpoint (path, bytes or binary file); CheckpointError with a sentence otherwise.

    ``name`` is how messages call the file (default: the path, or "the file").
    """
    if name is None:
        name = str(source) if isinstance(source, (str, os.PathLike)) else "the file"
    subject = plain_name(name) or "the file"
    payload = _payload(_read_bytes(source, subject), subject)
    model_cfg = _model_config(payload, subject)
    model = _build(model_cfg, _check_weights(payload.get("state_dict"), model_cfg, subject))

    notes: list[str] = []
    meta = payload.get("meta")
    if not isinstance(meta, Mapping):
        if meta is not None:
            notes.append(f"its notes (meta) were {type(meta).__name__}, not a mapping, and were left out")
        meta = {}
    meta = {k: v for k, v in meta.items() if isinstance(k, str)}
    if payload["format"] == "nnplay-checkpoint/1":  # /1 kept the training settings and dataset in meta
        train_values, data_values = meta.get("train"), {"dataset": meta.get("dataset", "mnist")}
    else:
        train_values, data_values = payload.get("train_config"), payload.get("data_config")
    if isinstance(data_values, Mapping):
        data_values = {k: v for k, v in data_values.items() if k in DATA_KEYS}  # never another machine's folder
    data_cfg = _other_config(DataConfig, data_values, notes, "data")
    train_cfg = _other_config(TrainConfig, train_values, notes, "training")
    history = None
    if payload.get("history") is not None:
        try:
            history = history_from_dict(payload["history"])
        except Exception as err:  # noqa: BLE001 — a bad history is the file's fault: keep the model, say so
            notes.append(f"its training history was unreadable ({plain_name(str(err), 120)}) and was left out")
    return Checkpoint(model, model_cfg, meta, data_cfg, train_cfg, history, payload["format"], notes)


def load_checkpoint(source, name: str | None = None) -> tuple[nn.Module, ModelConfig, dict]:
    """(model on the CPU in eval mode, its config, meta) from a path, bytes or a file object."""
    checkpoint = read_checkpoint(source, name)
    return checkpoint.model, checkpoint.model_cfg, checkpoint.meta
