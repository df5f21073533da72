"""A run's history as TensorBoard event files, so ``tensorboard --logdir DIR`` shows it.

``write_tensorboard(history, configs, directory)`` writes, on TensorBoard's step axis (the global
optimisation step, the same axis for every chart):

- ``loss/step`` and ``lr`` for every reported step (``StepEvent``);
- ``loss/train``, ``loss/test``, ``accuracy/train``, ``accuracy/test`` at the end of each epoch;
- ``weights/<layer>`` and ``gradients/<layer>`` histograms per epoch, from the engine's
  ``LayerStats`` (30 bins: counts and edges, with the exact count, sum and sum of squares
  recovered from the layer's mean and standard deviation);
- the configs as text (``config/data``, ``config/model``, ``config/train``).

The folder is filled under a temporary name beside it and renamed when complete.
``tensorboard_zip`` returns the same folder as zip bytes for a page download. tensorboard is an
optional install, imported only here. The history is read by attribute (``steps``, ``epochs``,
``layer_stats``), so any object shaped like ``engine.History`` works.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from ..config import to_dict
from .formats import ExportError, require


def _config_dicts(configs) -> dict[str, dict]:
    """{"data": {...}, ...} from a dict of configs or dicts, or a (data, model, train) tuple."""
    if isinstance(configs, (tuple, list)):
        configs = dict(zip(("data", "model", "train"), configs))
    return {name: cfg if isinstance(cfg, dict) else to_dict(cfg) for name, cfg in (configs or {}).items()
            if cfg is not None}


def _histogram(writer, tag: str, hist, mean: float | None, std: float | None, step: int) -> None:
    counts, edges = hist
    if not counts or mean is None:
        return
    num = float(sum(counts))
    # the sums TensorBoard shows, from the exact mean and (unbiased) std the engine measured
    total = mean * num
    sum_squares = (std or 0.0) ** 2 * max(num - 1, 0) + num * mean ** 2
    writer.add_histogram_raw(tag, min=edges[0], max=edges[-1], num=num, sum=total, sum_squares=sum_squares,
                             bucket_limits=list(edges[1:]), bucket_counts=list(counts), global_step=step)


def _write_events(history, configs, folder: str) -> None:
    require("tensorboard", "Writing TensorBoard files")
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=folder)
    try:
        for name, values in _config_dicts(configs).items():
            writer.add_text(f"config/{name}", "```json\n" + json.dumps(values, indent=2) + "\n```", 0)
        for s in history.steps:
            writer.add_scalar("loss/step", s.loss, s.step)
            writer.add_scalar("lr", s.lr, s.step)
        epoch_step = {}
        for e in history.epochs:
            epoch_step[e.epoch] = e.step
            writer.add_scalar("loss/train", e.train_loss, e.step)
            writer.add_scalar("loss/test", e.test_loss, e.step)
            writer.add_scalar("accuracy/train", e.train_accuracy, e.step)
            writer.add_scalar("accuracy/test", e.test_accuracy, e.step)
        for ls in history.layer_stats:
            step = epoch_step.get(ls.epoch, ls.epoch)
            _histogram(writer, f"weights/{ls.layer}", ls.weight_hist, ls.weight_mean, ls.weight_std, step)
            if ls.grad_hist is not None:
                _histogram(writer, f"gradients/{ls.layer}", ls.grad_hist, ls.grad_mean, ls.grad_std, step)
        writer.flush()
    finally:
        writer.close()


def write_tensorboard(history, configs, directory: str | os.PathLike) -> Path:
    """Write ``history`` (and ``configs``) as event files into ``directory``, a new or empty folder."""
    if history is None or not (history.steps or history.epochs):
        raise ExportError("this run has no history to write (it has not trained a step yet).")
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ExportError(f"{directory} already exists and is not an empty folder; choose a new folder "
                          f"(TensorBoard reads every sub-folder of --logdir, so {directory}/run-2 works).")
    parent = directory.parent if str(directory.parent) else Path(".")
    if not parent.is_dir():
        raise ExportError(f"the folder {parent} does not exist; create it or choose another --out.")
    tmp = tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp", dir=parent)
    try:
        _write_events(history, configs, tmp)
        if directory.exists():
            directory.rmdir()  # empty, checked above
        os.replace(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def tensorboard_zip(history, configs, name: str = "nnplay-run") -> bytes:
    """The event files of ``write_tensorboard`` as a zip (one folder ``name/``), for a download."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as scratch:
        folder = write_tensorboard(history, configs, Path(scratch) / name)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    zf.write(path, f"{name}/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()
