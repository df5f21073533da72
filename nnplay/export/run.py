"""One run (trained here, by the CLI, or read back from the run store) → its export files.

The Train page's Export panel and ``python -m nnplay export RUN`` / ``runs export --tensorboard``
call these: ``no_model_reason(run)`` says in a sentence why a run has no model to export (still
training, diverged, failed before an epoch was kept, its file gone or unreadable; a failed run's
last kept epoch is exported, as is the epoch kept before a final file that cannot be read),
``missing_packages(fmt)`` which optional packages a format needs that are not installed (checked
without importing them), and ``run_file(run, fmt)`` the bytes of one download (the safetensors
weights and their config JSON as one zip; the training script of a run on your digits too, and those digits as
the ``.npz`` it reads, and a fine-tuned run's starting weights, as one zip: ``script_files``; ``script_problem``
says why a script cannot be made). A run is read by attribute (``model``, ``model_cfg``, ``data_cfg``,
``train_cfg``, ``history``, ``name``, ``status``, ``message``, ``active``, ``usable``), so any
``nnplay.runs.Run`` works. The writers
themselves live in ``formats``, ``script`` and ``tensorboard``; nothing here imports streamlit.
"""

from __future__ import annotations

import importlib.util
import io
import json
import zipfile
from pathlib import Path

from ..config import to_dict
from ..names import file_stem
from ..run_record import START_FILE
from ..store import unreadable_note
from .formats import INSTALL_HINT, ExportError, atomic_write, model_bytes
from .script import digits_file_name, start_file_name, training_script
from .tensorboard import tensorboard_zip

RUN_FORMATS = ("checkpoint", "onnx", "torchscript", "safetensors", "script", "tensorboard")
NEEDS = {"onnx": ("onnx", "onnxruntime"), "safetensors": ("safetensors",), "tensorboard": ("tensorboard",)}
MODEL_FORMATS_OF_RUN = ("checkpoint", "onnx", "torchscript", "safetensors")
# what a download is called: (suffix of the file name, mime type)
DOWNLOAD = {
    "checkpoint": (".pt", "application/octet-stream"),
    "onnx": (".onnx", "application/octet-stream"),
    "torchscript": ("-torchscript.pt", "application/octet-stream"),
    "safetensors": ("-safetensors.zip", "application/zip"),
    "script": ("-train.py", "text/x-python"),
    "tensorboard": ("-tensorboard.zip", "application/zip"),
}
SCRIPT_BUNDLE = ("-train.zip", "application/zip")  # the script of a run on your digits, with the digits beside it


def missing_packages(fmt: str) -> list[str]:
    """The optional packages ``fmt`` needs that are not installed (found without importing them)."""
    missing = []
    for name in NEEDS.get(fmt, ()):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def install_sentence(fmt: str) -> str:
    """"" when ``fmt`` can be written here, else which packages to install and how."""
    missing = missing_packages(fmt)
    if not missing:
        return ""
    return (f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed here; "
            f"install the export extras: {INSTALL_HINT}")


def no_model_reason(run) -> str:
    """"" when the run has a model to export, else a sentence saying why not and what to do."""
    name = run.name
    if getattr(run, "unreadable", ()):  # its stored settings could not be read: not exported as the defaults
        return f"{name} cannot be exported: {unreadable_note(run.unreadable)}"
    if run.active:
        return (f"{name} is still training ({run.status}); its model can be exported when it ends "
                f"(Stop keeps the model trained so far).")
    if run.status == "diverged":
        why = (run.message or "diverged").rstrip(". ")
        return (f"{name} {why}. A run that diverged has no usable model to export: change its settings and "
                f"train it again.")
    if run.status == "error" and not run.usable:
        return f"{name} failed ({run.message}), so it has no model to export. Train it again."
    if run.status == "interrupted" and not run.has_model:
        return (f"{name} was interrupted before its first epoch ended, so no model was kept. "
                f"Train it again.")
    if not run.usable:
        if run.status != "loaded" and not run.history.steps and not getattr(run, "read_error", ""):
            return f"{name} ended before it trained a step ({run.status}), so it has no model to export."
        if run.status in ("finished", "stopped", "loaded", "interrupted"):
            return (f"the model file of {name} is gone (deleted from the run store's folder), so there is "
                    f"nothing to export; its curves and settings are still here. Train it again.")
        return f"{name} has no model to export (status {run.status})."
    if run.model is None:  # its files are there but none can be read (damaged, or weights that are not numbers)
        why = run.why_not_usable() if hasattr(run, "why_not_usable") else "its model file cannot be read."
        return f"{name} has no model to export: {why} Train it again."
    return ""


def run_meta(run) -> dict:
    """The settings an exported model keeps beside its weights (safetensors metadata and JSON)."""
    return {"train": to_dict(run.train_cfg), "data": to_dict(run.data_cfg), "dataset": run.data_cfg.dataset}


def run_script(run) -> str:
    """The standalone PyTorch script that trains this run again (``script.training_script``); a run on your digits
    too reads them from the file that ``run_script_files`` puts beside it."""
    return run_script_files(run)[file_stem(run.name) + DOWNLOAD["script"][0]].decode()


def run_script_files(run) -> dict[str, bytes]:
    """``script_files`` for a run, the script named as its download ("nnplay-run-3-train.py")."""
    return script_files(run.data_cfg, run.model_cfg, run.train_cfg, run.data_source,
                        file_stem(run.name) + DOWNLOAD["script"][0], run.name, start_weights(run))


def script_problem(run) -> str:
    """"" when the run's script can be made, else a sentence: the digits it trained on, or the weights a fine-tuned
    run started from, are gone (checked without reading them: the Export panel asks on every rerun)."""
    extra = getattr(run.data_cfg, "extra_data", None)
    if extra is not None and not Path(extra).expanduser().is_file():
        return (f"{run.name} trained on your digits too, and their file ({extra}) is gone, so its script could not "
                f"train on them; it is not exported as if it trained on MNIST alone.")
    start = _start_path(run)
    if start is not None and not Path(start).is_file():
        return f"{run.name} was fine-tuned from its parent's weights, and they are gone, so it has no script."
    return ""


def _start_path(run):
    """Where a fine-tuned run's starting weights are (its folder's copy of its parent's model), or None."""
    path = getattr(run, "init_from", None)
    if path is None and getattr(run, "parent", "") and getattr(run, "store", None) is not None:
        path = run.store.run_dir(run.id) / START_FILE
    return path


def start_weights(run) -> bytes | None:
    """The weights a fine-tuned run started from, None for a run that started from fresh ones; ExportError with a
    sentence when they are gone."""
    path = _start_path(run)
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise ExportError(f"{run.name} was fine-tuned from its parent's weights, and they cannot be read now "
                          f"({err.strerror or err}), so its script could not start from them.") from None


def script_files(data_cfg, model_cfg, train_cfg, data_source: str, script_name: str, label: str,
                 start: bytes | None = None) -> dict[str, bytes]:
    """The training script as {file name: bytes}: the script alone for a run on MNIST, and beside it, for a run
    on your digits too, the digits it read (``script.digits_file_name``), so that the script trains on them, and
    for a fine-tuned run the weights it started from (``start``, ``script.start_file_name``).
    ExportError with a sentence (naming ``label``) when those digits cannot be read any more."""
    start_name = start_file_name(script_name) if start is not None else None
    extra = {start_name: start} if start is not None else {}
    if data_cfg.extra_data is None:
        text = training_script(data_cfg, model_cfg, train_cfg, data_source, start_file=start_name)
        return {script_name: text.encode(), **extra}
    from ..handwriting.digits_npz import DigitsFileError, digits_bytes, read_digits

    try:
        images, labels = read_digits(Path(data_cfg.extra_data).expanduser())
    except DigitsFileError as err:
        raise ExportError(f"{label} trained on your digits too, and they cannot be read now ({err}), so its script "
                          f"could not train on them; it is not exported as if it trained on MNIST alone.") from None
    digits_name = digits_file_name(script_name)
    text = training_script(data_cfg, model_cfg, train_cfg, data_source, digits_file=digits_name,
                           digit_count=len(labels), start_file=start_name)
    return {script_name: text.encode(), digits_name: digits_bytes(images, labels), **extra}


def write_script_files(files: dict[str, bytes], out) -> list[Path]:
    """Write ``script_files``' first file to ``out`` and the others beside it (each atomically); their paths."""
    out = Path(out)
    paths = [out] + [out.with_name(name) for name in list(files)[1:]]
    for path, data in zip(paths, files.values()):
        atomic_write(path, lambda tmp, data=data: Path(tmp).write_bytes(data))
    return paths


def zip_files(files: dict[str, bytes]) -> bytes:
    """{file name: bytes} as one zip (a download of several files)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _safetensors_zip(run, stem: str) -> bytes:
    """``<stem>.safetensors`` (config in its metadata) and ``<stem>.json`` (the same config) in one zip."""
    weights = model_bytes(run.model, run.model_cfg, "safetensors", meta=run_meta(run))
    config = {"model": to_dict(run.model_cfg), **run_meta(run)}
    return zip_files({f"{stem}.safetensors": weights, f"{stem}.json": (json.dumps(config, indent=2) + "\n").encode()})


def run_file(run, fmt: str) -> bytes:
    """The bytes of one download of ``run`` in ``fmt`` (one of ``RUN_FORMATS``); ExportError with a sentence
    when the run has no model (model formats), no history (tensorboard) or a package is missing."""
    if fmt not in RUN_FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(RUN_FORMATS)}.")
    if getattr(run, "unreadable", ()):
        raise ExportError(no_model_reason(run))
    if fmt == "script":  # one .py, or with the digits it trains on, a zip of both
        files = run_script_files(run)
        return next(iter(files.values())) if len(files) == 1 else zip_files(files)
    missing = install_sentence(fmt)
    if missing:
        raise ExportError(f"{fmt} export needs more packages: {missing}.")
    if fmt == "tensorboard":
        return tensorboard_zip(run.history, (run.data_cfg, run.model_cfg, run.train_cfg), name=file_name(run, ""))
    reason = no_model_reason(run)
    if reason:
        raise ExportError(reason)
    if fmt == "safetensors":
        return _safetensors_zip(run, file_name(run, ""))
    parts = {"data_cfg": run.data_cfg, "train_cfg": run.train_cfg, "history": run.history} if fmt == "checkpoint" \
        else {}
    meta = {"name": run.name, "status": run.status, "message": run.message} if fmt == "checkpoint" else None
    return model_bytes(run.model, run.model_cfg, fmt, meta=meta, **parts)


def download_of(run, fmt: str) -> tuple[str, str]:
    """(suffix of the download's name, its mime type): the script of a run on your digits comes as a zip."""
    if fmt == "script" and (getattr(run.data_cfg, "extra_data", None) is not None or getattr(run, "parent", "")
                            or getattr(run, "init_from", None)):
        return SCRIPT_BUNDLE
    return DOWNLOAD[fmt]


def file_name(run, fmt: str) -> str:
    """The download's file name, e.g. "nnplay-run-3.onnx", "nnplay-run-3-train.py" ("" → the stem alone)."""
    return file_stem(run.name) + (download_of(run, fmt)[0] if fmt else "")
