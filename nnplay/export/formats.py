"""A trained model in the formats people use outside nnplay: ONNX, TorchScript, safetensors, checkpoint.

Every writer goes through ``atomic_write``: the file is written under a temporary name in the
destination folder and renamed over the target only once it is complete, so a failed export
leaves nothing behind (and an existing file is left as it was). Every exported graph takes what
nnplay's models take: float images ``(N, 1, 28, 28)`` in [0, 1] (pixels / 255, as
``nnplay.data.normalise`` makes them) and returns logits ``(N, 10)``. onnx and onnxruntime are
optional (``pip install -r requirements-export.txt``) and imported only when asked for.
Nothing here trains or loads data; the training script lives in ``script``, TensorBoard in
``tensorboard``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from ..config import IMAGE_SIZE, ModelConfig, from_dict, to_dict

INSTALL_HINT = "pip install -r requirements-export.txt"
ONNX_OPSET = 20  # the newest opset torch's TorchScript-based exporter writes
INPUT_NAME, OUTPUT_NAME = "image", "logits"
SAFETENSORS_CONFIG_KEY = "nnplay_model_config"
MODEL_FORMATS = ("checkpoint", "onnx", "torchscript", "safetensors")


_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read the process's umask (the only way is to set it and set it back)


class ExportError(Exception):
    """The model could not be exported; the message says why and what to do."""


def require(module: str, purpose: str):
    """Import an optional package, or raise ExportError naming what to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ExportError(f"{purpose} needs the optional package '{module}', which is not installed. "
                          f"Install the export extras: {INSTALL_HINT}") from None


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """Call ``write(temp_path)`` for a temporary file beside ``path``, then rename it to ``path``.

    On any failure the temporary file is removed and ``path`` is untouched. Returns ``path``.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"the folder {folder} does not exist; create it or choose another --out.")
    if path.is_dir():
        raise ExportError(f"{path} is a folder; give a file name to write.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise ExportError(f"cannot write in {folder} ({err.strerror}); choose a folder you can write to.") from None
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def example_input(batch: int = 2) -> torch.Tensor:
    """A batch in the exported models' input convention: (N, 1, 28, 28) floats in [0, 1]."""
    return torch.rand(batch, 1, IMAGE_SIZE, IMAGE_SIZE, generator=torch.Generator().manual_seed(0))


def _cpu_eval_copy(model: nn.Module) -> nn.Module:
    """The model on the CPU in eval mode (dropout off), without moving or switching the caller's."""
    import copy

    if model is None:
        raise ExportError("this run has no model to export (it diverged before its first epoch ended, "
                          "or its saved file is gone). Train it again, then export.")
    clone = copy.deepcopy(model).cpu()
    clone.eval()
    return clone


def _first_failing_layer(model: nn.Module, try_export: Callable[[nn.Module, torch.Tensor], None]) -> str | None:
    """Run an example through the model, then export each child alone on its own input; name the first that fails."""
    inputs: dict[str, torch.Tensor] = {}

    def keep_input(name: str):
        def hook(module, args, output) -> None:  # returns None: a hook's return value would replace the output
            inputs.setdefault(name, args[0].detach())
        return hook

    hooks = [child.register_forward_hook(keep_input(name)) for name, child in model.named_children()]
    try:
        with torch.no_grad():
            model(example_input())
    except Exception:
        pass  # a layer that fails to run is found below (its input is missing or it fails again)
    finally:
        for hook in hooks:
            hook.remove()
    for name, child in model.named_children():
        if name not in inputs:
            return name
        try:
            try_export(child, inputs[name])
        except Exception:
            return name
    return None


def _explain_failure(model: nn.Module, fmt: str, err: Exception,
                     try_export: Callable[[nn.Module, torch.Tensor], None]) -> ExportError:
    first_line = (str(err).strip().splitlines() or [type(err).__name__])[0][:300].rstrip(".")
    layer = _first_failing_layer(model, try_export)
    if layer is not None:
        kind = type(getattr(model, layer)).__name__
        return ExportError(f"{fmt} export failed at layer '{layer}' ({kind}): {first_line}. "
                           f"Replace that layer (or its settings) with one {fmt} supports, or export "
                           f"another format.")
    return ExportError(f"{fmt} export failed: {first_line}.")


# ---------------------------------------------------------------------------------------------
# ONNX


def _onnx_export(module: nn.Module, example: torch.Tensor, file: str) -> None:
    # the exporter's deprecation and tracer notes, and the whole graph it logs on failure, stay quiet
    from unittest import mock

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            mock.patch.object(torch._C, "_jit_onnx_log", lambda *args: None):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, (example,), file, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=ONNX_OPSET, dynamo=False,
        )


def export_onnx(model: nn.Module, path: str | os.PathLike) -> Path:
    """Write ``model`` as ONNX: input ``image`` (N, 1, 28, 28) float in [0, 1], output ``logits`` (N, 10).

    The batch dimension is dynamic. The file is checked with ``onnx.checker`` before it is kept.
    """
    onnx = require("onnx", "ONNX export")
    model = _cpu_eval_copy(model)

    def write(tmp: str) -> None:
        try:
            _onnx_export(model, example_input(), tmp)
        except Exception as err:
            def try_layer(child, x):
                with tempfile.TemporaryDirectory() as scratch:
                    _onnx_export(child, x, os.path.join(scratch, "layer.onnx"))
            raise _explain_failure(model, "ONNX", err, try_layer) from None
        onnx.checker.check_model(tmp)

    return atomic_write(path, write)


def onnx_logits(path: str | os.PathLike, images: torch.Tensor) -> torch.Tensor:
    """Run an exported ONNX file with onnxruntime on float images (N, 1, 28, 28); logits as a tensor."""
    ort = require("onnxruntime", "Running an ONNX model")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run([OUTPUT_NAME], {INPUT_NAME: images.detach().cpu().float().numpy()})
    return torch.from_numpy(out)


# ---------------------------------------------------------------------------------------------
# TorchScript


def export_torchscript(model: nn.Module, path: str | os.PathLike) -> Path:
    """Write ``model`` as TorchScript (``torch.jit.script``); load it with ``torch.jit.load(path)``.

    Same input and output as the ONNX file; the module is saved in eval mode (dropout off).
    """
    model = _cpu_eval_copy(model)

    def script(module: nn.Module):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.jit.script(module)

    try:
        scripted = script(model)
    except Exception as err:
        raise _explain_failure(model, "TorchScript", err, lambda child, x: script(child)) from None
    def write(tmp: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit.save's deprecation note
            torch.jit.save(scripted, tmp)

    return atomic_write(path, write)


# ---------------------------------------------------------------------------------------------
# safetensors


def export_safetensors(model: nn.Module, model_cfg: ModelConfig, path: str | os.PathLike,
                       extra: dict | None = None) -> tuple[Path, Path]:
    """Write the state_dict as safetensors, with the model config in two places.

    The config (and ``extra``, e.g. the training config) is stored as JSON in the safetensors
    header metadata under ``nnplay_model_config`` / ``nnplay_<key>``, and in a ``.json`` file
    beside it (``model.safetensors`` → ``model.json``) for readers that ignore metadata.
    Returns (weights path, json path).
    """
    st = require("safetensors.torch", "safetensors export")
    if model is None:
        _cpu_eval_copy(model)  # raises the "no model" sentence
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    config = {"model": to_dict(model_cfg), **{k: v for k, v in (extra or {}).items()}}
    metadata = {SAFETENSORS_CONFIG_KEY: json.dumps(to_dict(model_cfg))}
    metadata.update({f"nnplay_{k}": json.dumps(v) for k, v in (extra or {}).items()})
    path = Path(path)
    json_path = path.with_suffix(".json")
    if json_path == path:
        raise ExportError(f"{path} ends in .json; give the weights file a .safetensors name.")
    atomic_write(path, lambda tmp: st.save_file(state, tmp, metadata=metadata))
    atomic_write(json_path, lambda tmp: Path(tmp).write_text(json.dumps(config, indent=2) + "\n"))
    return path, json_path


def load_safetensors(path: str | os.PathLike) -> tuple[nn.Module, ModelConfig]:
    """(model in eval mode, its config) from a safetensors file written by ``export_safetensors``."""
    from ..models import build_model

    st = require("safetensors", "Reading safetensors")
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path} does not exist.")
    try:
        with st.safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as err:
        raise ExportError(f"{path} is not a readable safetensors file ({type(err).__name__}).") from None
    if SAFETENSORS_CONFIG_KEY not in metadata:
        raise ExportError(f"{path} holds weights but no nnplay model config in its metadata.")
    model_cfg = from_dict(ModelConfig, json.loads(metadata[SAFETENSORS_CONFIG_KEY]))
    model = build_model(model_cfg)
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, model_cfg


# ---------------------------------------------------------------------------------------------
# one entry point


def export_model(model: nn.Module, model_cfg: ModelConfig, fmt: str, path: str | os.PathLike,
                 meta: dict | None = None, *, data_cfg=None, train_cfg=None, history=None) -> list[Path]:
    """Write ``model`` in ``fmt`` (checkpoint, onnx, torchscript, safetensors); the paths written.

    A checkpoint also carries the run's configs and history when given (``checkpoint.save_checkpoint``);
    safetensors keeps ``meta`` (e.g. the training settings) in its metadata and JSON file.
    """
    if fmt not in MODEL_FORMATS:
        raise ExportError(f"unknown model format {fmt!r}; choose one of {', '.join(MODEL_FORMATS)}.")
    if fmt == "onnx":
        return [export_onnx(model, path)]
    if fmt == "torchscript":
        return [export_torchscript(model, path)]
    if fmt == "safetensors":
        return list(export_safetensors(model, model_cfg, path, extra=meta))
    from ..checkpoint import save_checkpoint

    model = _cpu_eval_copy(model)
    return [atomic_write(path, lambda tmp: save_checkpoint(model, model_cfg, tmp, meta=meta, data_cfg=data_cfg,
                                                           train_cfg=train_cfg, history=history))]


def model_bytes(model: nn.Module, model_cfg: ModelConfig, fmt: str, meta: dict | None = None, **parts) -> bytes:
    """The file ``export_model`` writes, as bytes, for a page's download button.

    For safetensors this is the weights file alone; its config is in the file's metadata.
    """
    suffix = {"onnx": ".onnx", "torchscript": ".pt", "safetensors": ".safetensors", "checkpoint": ".pt"}.get(fmt, "")
    with tempfile.TemporaryDirectory() as scratch:
        paths = export_model(model, model_cfg, fmt, Path(scratch) / f"model{suffix}", meta=meta, **parts)
        return paths[0].read_bytes()
