"""Runs evaluated on a set of digits (the learner's own): accuracy beside the run's MNIST test accuracy, the
confusion matrix and the mistakes with their probabilities.

What lives here: ``evaluate_model`` (one model on images and labels), ``evaluate_run`` / ``evaluate_runs``
(runs, their MNIST test accuracy read from their stored epochs), ``DigitsEvaluation`` with its ``mistakes``
and ``summary`` (the CLI's JSON line and the page's table row), ``confusion_matrix``. What does not: where the
digits come from (the store, ``digits_npz``), the page's section (``nnplay.ui.digits_eval``) and its figures
(``nnplay.figures.inspect``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..engine import evaluate
from ..lessons.draw import one_thread
from .digits_npz import check_digits

NUM_CLASSES = 10


@dataclass(frozen=True)
class Mistake:
    """One digit the model got wrong: where it is in the set, its label, the answer and both probabilities."""

    index: int
    label: int
    predicted: int
    p_predicted: float
    p_label: float


@dataclass
class DigitsEvaluation:
    """A model's results on a set of digits."""

    name: str
    n: int
    accuracy: float
    predictions: np.ndarray
    """int64 (N,)."""
    probabilities: np.ndarray
    """float32 (N, 10)."""
    labels: np.ndarray
    """int64 (N,)."""
    mnist_accuracy: float | None = None
    """The run's accuracy on the MNIST test set at its last epoch; None when not known (a bare model file)."""
    run_id: str = ""
    left_out: int = 0
    """How many of the digits given were left out because the run (or one it was trained further from) trained
    on them: accuracy is never reported on digits a run trained on."""
    positions: np.ndarray | None = None
    """Where each evaluated digit sits in the set given (None: all of them, in order)."""
    confusion: np.ndarray = field(init=False)
    """int64 (10, 10): rows the true label, columns the answer."""

    def __post_init__(self) -> None:
        self.confusion = confusion_matrix(self.labels, self.predictions)

    @property
    def mistakes(self) -> list[Mistake]:
        """Every digit answered wrong, the most confident mistakes first."""
        wrong = np.flatnonzero(self.predictions != self.labels)
        where = self.positions if self.positions is not None else np.arange(self.n)
        rows = [Mistake(int(where[i]), int(self.labels[i]), int(self.predictions[i]),
                        float(self.probabilities[i, self.predictions[i]]), float(self.probabilities[i, self.labels[i]]))
                for i in wrong]
        return sorted(rows, key=lambda m: -m.p_predicted)

    def summary(self) -> dict:
        """The numbers as plain JSON values: run, name, n, accuracy, mnist_test_accuracy, mistakes, confusion."""
        return {"run": self.run_id or None, "name": self.name, "n": self.n, "accuracy": round(self.accuracy, 6),
                "mnist_test_accuracy": None if self.mnist_accuracy is None else round(self.mnist_accuracy, 6),
                "mistakes": int((self.predictions != self.labels).sum()), "confusion": self.confusion.tolist()}


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, n_classes: int = NUM_CLASSES) -> np.ndarray:
    """Counts (n_classes, n_classes): row the true label, column the answer."""
    labels, predictions = np.asarray(labels, dtype=np.int64), np.asarray(predictions, dtype=np.int64)
    return np.bincount(labels * n_classes + predictions, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def evaluate_model(model: nn.Module, images: np.ndarray, labels: np.ndarray, name: str = "model",
                   mnist_accuracy: float | None = None, run_id: str = "") -> DigitsEvaluation:
    """``model`` on digits (uint8 (N, 28, 28), labels (N,) in 0..9; refused with a sentence otherwise)."""
    images, labels = check_digits(np.asarray(images), np.asarray(labels))
    if len(labels) == 0:
        raise ValueError("There are no digits to evaluate on: draw or import some first.")
    with one_thread():  # a few hundred digits: threads only add stalls on a busy CPU
        result = evaluate(model, torch.from_numpy(np.ascontiguousarray(images)),
                          torch.from_numpy(labels.astype(np.int64)), keep_probabilities=True)
    return DigitsEvaluation(name, len(labels), result.accuracy, result.predictions.numpy(),
                            result.probabilities.float().numpy(), labels.astype(np.int64), mnist_accuracy, run_id)


def mnist_test_accuracy(history) -> float | None:
    """The test accuracy of a run's last stored epoch, or None when it has none."""
    epochs = getattr(history, "epochs", None) or []
    return float(epochs[-1].test_accuracy) if epochs else None


def trained_digits(run, store=None) -> np.ndarray:
    """The digits (uint8 (M, 28, 28)) that ``run``, or any run it was trained further from, trained on: its
    ``extra_data`` file and its ancestors' (a file that is gone counts as none)."""
    from .digits_npz import DigitsFileError, read_digits

    store = store if store is not None else getattr(run, "store", None)
    found, seen, record = [], set(), run
    while record is not None and record.id not in seen:
        seen.add(record.id)
        path = getattr(record.data_cfg, "extra_data", None)
        if path:
            try:
                found.append(read_digits(path)[0])
            except DigitsFileError:
                pass
        parent = getattr(record, "parent", "")
        record = store.get(parent) if parent and store is not None else None
    return np.concatenate(found) if found else np.zeros((0, 28, 28), np.uint8)


def evaluate_run(run, images: np.ndarray, labels: np.ndarray) -> DigitsEvaluation:
    """A run (``nnplay.runs.Run``) on digits, beside its MNIST test accuracy, leaving out the digits it trained on
    (``left_out``); ValueError with a sentence when it has no model or trained on every one of them."""
    model = run.model
    if model is None:
        raise ValueError(f"{run.name} has no model to evaluate (its files are gone or it never finished an epoch).")
    images, labels = check_digits(np.asarray(images), np.asarray(labels))
    seen = {bytes(image) for image in np.ascontiguousarray(trained_digits(run))}
    keep = np.array([bytes(image) not in seen for image in np.ascontiguousarray(images)], dtype=bool)
    if len(labels) and not keep.any():
        raise ValueError(f"{run.name} trained on every one of these {len(labels):,} digits: there is none left to "
                         "measure it on fairly.")
    result = evaluate_model(model, images[keep], labels[keep], run.name, mnist_test_accuracy(run.history), run.id)
    result.left_out = int((~keep).sum())
    result.positions = np.flatnonzero(keep)
    return result


def evaluate_runs(runs, images: np.ndarray, labels: np.ndarray) -> list[DigitsEvaluation]:
    """Each run on the same digits, in the order given."""
    return [evaluate_run(run, images, labels) for run in runs]
