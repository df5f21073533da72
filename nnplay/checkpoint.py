"""Checkpoints: a model's state_dict with the config that builds it, saved and loaded safely.

The file is a plain ``torch.save`` of ``{"format", "model_config", "state_dict", "meta"}``: only
tensors, strings, numbers and lists, so ``torch.load(weights_only=True)`` reads it without running
any pickled code. Loading checks the format, rebuilds the model from its config and loads the
weights strictly; anything else raises ``CheckpointError`` with a sentence for the user.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import torch
from torch import nn

from .config import ModelConfig, from_dict, to_dict
from .models import build_model

FORMAT = "nnplay-checkpoint/1"
MAX_BYTES = 200 * 1024 * 1024


class CheckpointError(Exception):
    """The file is not a loadable nnplay model; the message says why."""


def save_checkpoint(model: nn.Module, model_cfg: ModelConfig, file, meta: dict | None = None) -> None:
    """Write ``model``'s weights (on the CPU) and ``model_cfg`` to a path or a binary file object."""
    payload = {
        "format": FORMAT,
        "model_config": to_dict(model_cfg),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "meta": dict(meta or {}),
    }
    torch.save(payload, file)


def checkpoint_bytes(model: nn.Module, model_cfg: ModelConfig, meta: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    save_checkpoint(model, model_cfg, buffer, meta)
    return buffer.getvalue()


def load_checkpoint(source) -> tuple[nn.Module, ModelConfig, dict]:
    """(model on the CPU in eval mode, its config, meta) from a path, bytes or a file object."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise CheckpointError(f"{path} does not exist.")
        if path.stat().st_size > MAX_BYTES:
            raise CheckpointError(f"{path} is {path.stat().st_size / 2**20:.0f} MB; nnplay models are at most "
                                  f"{MAX_BYTES // 2**20} MB.")
        source = path.read_bytes()
    if not isinstance(source, (bytes, bytearray)):
        source = source.read()
    if len(source) > MAX_BYTES:
        raise CheckpointError(f"the file is {len(source) / 2**20:.0f} MB; nnplay models are at most "
                              f"{MAX_BYTES // 2**20} MB.")
    if len(source) == 0:
        raise CheckpointError("the file is empty.")
    try:
        payload = torch.load(io.BytesIO(source), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError("the file holds Python objects other than weights, so it was not loaded: "
                              "only plain nnplay checkpoints (weights and settings) are accepted.") from None
    except Exception as err:  # torch raises many kinds on junk bytes (RuntimeError, KeyError, EOFError…)
        raise CheckpointError(f"this is not a PyTorch checkpoint, or it is damaged ({type(err).__name__}).") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError("this is a PyTorch file but not an nnplay model (no nnplay format marker). "
                              "Save models from the Train page or with `python -m nnplay train --save`.")
    try:
        model_cfg = from_dict(ModelConfig, payload["model_config"])
        model = build_model(model_cfg)
        model.load_state_dict(payload["state_dict"], strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"the weights do not match the model they claim to be: "
                              f"{str(err).splitlines()[0]}") from None
    model.eval()
    return model, model_cfg, dict(payload.get("meta") or {})
