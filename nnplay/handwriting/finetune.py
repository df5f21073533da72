"""Fine-tuning a run on a learner's own digits, and the honest before/after that follows.

``split_digits`` keeps a held-back part of the digits apart (seeded, stratified by label where the counts allow)
that the fine-tuned run never sees; ``start_finetune`` writes the other part to the new run's folder as a digits
``.npz``, copies the parent's weights there (``start.pt``) and queues a new run on the workers through
``runs.Run``: it starts from those weights (``JobSpec.init_from``), trains a few epochs on the fine-tune digits
plus ``replay`` MNIST training images drawn at random (``DataConfig.extra_data`` / ``replay``, mixed by
``data.with_extra_digits``) and records its parent. ``before_after`` measures parent and child on the
held-back digits and on the MNIST test set, so the gain and any forgetting show side by side; accuracy is never
reported on digits the child trained on. What does not live here: storing digits (``store``), the panel
(``ui.finetune_panel``), the training loop (``engine``).
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import ConfigError
from ..names import plural
from ..run_record import START_FILE  # in the child's folder: the parent's weights it starts from
from .digits_npz import read_digits, save_digits

MIN_DIGITS = 10  # fewer cannot be split into a part to learn from and a part to judge by
DEFAULT_EPOCHS = 3
DEFAULT_HELD_BACK = 0.3  # the share of the digits kept apart to measure on
DEFAULT_REPLAY = 2000  # MNIST images replayed beside the digits: the gain without forgetting everything else
DEFAULT_WEIGHT = 4.0  # each of a learner's few digits counts this many times an epoch, so they are not drowned
MAX_EPOCHS = 50
MAX_BATCH = 32  # a few epochs of a few hundred images need enough steps to move the weights
TUNE_FILE = "finetune_digits.npz"  # in the child's folder: the digits it trains on
HELD_FILE = "held_back_digits.npz"  # in the child's folder: the digits it never sees


class FinetuneError(ValueError):
    """A fine-tune refused: ``str(err)`` says why in a sentence."""


@dataclass
class Split:
    """A learner's digits in two parts: ``tune`` (images, labels) to train on, ``held`` to measure on."""

    tune: tuple[np.ndarray, np.ndarray]
    held: tuple[np.ndarray, np.ndarray]

    @property
    def held_count(self) -> int:
        return len(self.held[1])

    @property
    def tune_count(self) -> int:
        return len(self.tune[1])

    def sentence(self) -> str:
        """The split in a sentence: "15 of your 50 digits are held back: never trained on, …"."""
        total = self.held_count + self.tune_count
        verb = "is" if self.held_count == 1 else "are"
        return (f"{self.held_count} of your {plural(total, 'digit')} {verb} held back: never trained on, they alone "
                f"measure the before and after. The run trains on the other {self.tune_count}.")


def split_digits(images: np.ndarray, labels: np.ndarray, held_back: float = DEFAULT_HELD_BACK,
                 seed: int = 0) -> Split:
    """Hold back ``held_back`` of the digits (at least one, and at least one left to train on), the same share of
    each label where the label has two or more digits; ``seed`` picks which. FinetuneError when too few."""
    labels = np.asarray(labels)
    n = len(labels)
    if n < MIN_DIGITS:
        raise FinetuneError(f"Fine-tuning needs at least {MIN_DIGITS} of your digits (some to train on, some held "
                            f"back to measure on); you have {n}. Draw {MIN_DIGITS - n} more.")
    if not 0.05 <= held_back <= 0.9:
        raise FinetuneError(f"The held-back share must be from 5% to 90% of your digits; got {held_back:.0%}.")
    rng = np.random.default_rng(seed)
    target = min(max(round(held_back * n), 1), n - 1)
    by_label = {int(c): rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)}
    # each label's share, rounded down, then the largest remainders first (ties at random); a label keeps one to train
    quota = {c: held_back * len(idx) for c, idx in by_label.items()}
    cap = {c: max(len(idx) - 1, 0) for c, idx in by_label.items()}
    take = {c: min(int(quota[c]), cap[c]) for c in by_label}
    order = sorted(by_label, key=lambda c: (-(quota[c] - int(quota[c])), rng.random()))
    for c in order:
        if sum(take.values()) >= target:
            break
        if take[c] < cap[c]:
            take[c] += 1
    held = [i for c, idx in by_label.items() for i in idx[:take[c]]]
    if len(held) < target:  # labels with one digit each: not stratifiable, so the rest is picked at random
        rest = rng.permutation(np.setdiff1d(np.arange(n), held))
        held += list(rest[:target - len(held)])
    held_idx = np.sort(np.asarray(held, dtype=np.int64))
    tune_idx = np.setdiff1d(np.arange(n), held_idx)
    images = np.asarray(images)
    return Split((images[tune_idx], labels[tune_idx]), (images[held_idx], labels[held_idx]))


def replay_count(share: float, tune_digits: int, extra_weight: float = 1.0) -> int:
    """How many MNIST images make ``share`` of the training mix beside ``tune_digits`` digits counted
    ``extra_weight`` times (share 0.5: as many MNIST images as digit copies)."""
    if not 0 <= share < 1:
        raise FinetuneError(f"The replay share is the part of the training mix that is MNIST, from 0% to 99%; "
                            f"got {share:.0%}.")
    return round(share / (1 - share) * tune_digits * extra_weight)


def finetune_configs(parent, tune_path: str | Path, epochs: int = DEFAULT_EPOCHS, replay: int = DEFAULT_REPLAY,
                     extra_weight: float = 1.0, seed: int | None = None):
    """The child's (data, model, train) configs: the parent's network and optimiser, ``epochs`` epochs without a
    schedule, batches of at most ``MAX_BATCH``, on ``tune_path``'s digits plus ``replay`` MNIST images."""
    if not 1 <= epochs <= MAX_EPOCHS:
        raise FinetuneError(f"Fine-tune for 1 to {MAX_EPOCHS} epochs; got {epochs}.")
    if replay < 0:
        raise FinetuneError(f"Replay a number of MNIST images, 0 or more; got {replay}.")
    try:
        data_cfg = dataclasses.replace(parent.data_cfg, extra_data=str(tune_path), extra_weight=float(extra_weight),
                                       replay=int(replay))
    except ConfigError as err:
        raise FinetuneError(str(err)[:1].upper() + str(err)[1:]) from None
    train_cfg = dataclasses.replace(parent.train_cfg, epochs=int(epochs), schedule="none",
                                    batch_size=min(parent.train_cfg.batch_size, MAX_BATCH),
                                    seed=parent.train_cfg.seed if seed is None else int(seed))
    return data_cfg, parent.model_cfg, train_cfg


def parent_refusal(record, workspace: str) -> str:
    """Why this stored run cannot be fine-tuned here, in a sentence ("" when it can)."""
    if record is None or record.workspace != workspace:
        return "That run is not one of this workspace's runs."
    if record.unreadable:
        return f"{record.name} cannot be fine-tuned: {record.settings_note}"
    if record.data_cfg.dataset != "mnist":
        return f"{record.name} was trained on {record.data_cfg.dataset}, not on digits: fine-tune an MNIST run."
    if record.status in ("queued", "running", "paused"):
        return f"{record.name} is still training: fine-tune it once it has ended."
    if not record.has_model:
        return f"{record.name} has no model kept to start from."
    return ""


def start_finetune(store, parent_id: str, images: np.ndarray, labels: np.ndarray, workspace: str,
                   epochs: int = DEFAULT_EPOCHS, replay: int = DEFAULT_REPLAY, held_back: float = DEFAULT_HELD_BACK,
                   extra_weight: float = DEFAULT_WEIGHT, seed: int = 0, data=None, backend=None):
    """Split the digits, write the child's files, and queue the child run; returns (``runs.Run``, ``Split``).

    ``data``: the MNIST data the parent's settings name, already loaded (a backend in this process trains on it);
    ``backend``: as ``Run.start``'s. FinetuneError with a sentence when it cannot start.
    """
    from ..run_record import new_id
    from ..runs import Run, run_name

    parent = store.get(parent_id)
    refusal = parent_refusal(parent, workspace)
    if refusal:
        raise FinetuneError(refusal)
    source = store.checkpoint_path(parent_id)
    if source is None:
        raise FinetuneError(f"{parent.name}'s model file is missing, so there is nothing to start from.")
    split = split_digits(images, labels, held_back, seed)
    child_id = new_id()
    folder = store.run_dir(child_id)
    data_cfg, model_cfg, train_cfg = finetune_configs(parent, folder / TUNE_FILE, epochs, replay, extra_weight)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        save_digits(folder / TUNE_FILE, *split.tune)
        save_digits(folder / HELD_FILE, *split.held)
        shutil.copyfile(source, folder / START_FILE)  # the parent may be deleted while the child waits
    except OSError as err:
        shutil.rmtree(folder, ignore_errors=True)
        raise FinetuneError(f"The fine-tune's files could not be written ({err.strerror or err}).") from None
    name = f"{run_name(model_cfg, store.next_run_number(workspace))} · fine-tuned from {parent.name.split(' · ')[0]}"
    run = Run(name, data_cfg, model_cfg, train_cfg, id=child_id)
    run.parent, run.init_from = parent_id, str(folder / START_FILE)
    run.bind(store, workspace)
    run.start(data, backend=backend)
    return run, split


def held_back_digits(store, child_id: str) -> tuple[np.ndarray, np.ndarray]:
    """The digits a fine-tuned run never saw (its folder's held-back file); FinetuneError if it has none."""
    path = store.run_dir(child_id) / HELD_FILE
    if not path.is_file():
        raise FinetuneError("This run was not fine-tuned here (it has no held-back digits), so there is no fair "
                            "before and after to show.")
    return read_digits(path)


@dataclass
class BeforeAfter:
    """Parent (before) and fine-tuned child (after) on the held-back digits and on the MNIST test set."""

    held_back: int
    mnist_test: int
    digits_before: float
    digits_after: float
    mnist_before: float
    mnist_after: float

    def rows(self) -> list[dict]:
        """The before/after table's rows: what was measured, before, after, change in points."""
        return [{"measured on": f"your {plural(self.held_back, 'held-back digit')}", "before": self.digits_before,
                 "after": self.digits_after, "change (points)": 100 * (self.digits_after - self.digits_before)},
                {"measured on": f"MNIST's {self.mnist_test:,} test digits", "before": self.mnist_before,
                 "after": self.mnist_after, "change (points)": 100 * (self.mnist_after - self.mnist_before)}]

    def sentence(self) -> str:
        """What moved: the gain on the learner's digits and any forgetting of MNIST, in one sentence."""
        gain = 100 * (self.digits_after - self.digits_before)
        loss = 100 * (self.mnist_before - self.mnist_after)
        digits = (f"On your {plural(self.held_back, 'held-back digit')} accuracy went from "
                  f"{self.digits_before:.1%} to {self.digits_after:.1%} ({gain:+.1f} points)")
        mnist = (f"on MNIST's test set from {self.mnist_before:.1%} to {self.mnist_after:.1%} "
                 f"({-loss:+.1f} points{': that is forgetting' if loss > 0 else ''})")
        return f"{digits}; {mnist}. Neither counts a digit the fine-tuned run trained on."


def before_after(parent, child, held_back: tuple, mnist_test: tuple) -> BeforeAfter:
    """Accuracy of the ``parent`` and ``child`` models on ``held_back`` (images, labels) and ``mnist_test``
    (images, labels): numpy arrays or tensors, uint8 images (N, 28, 28)."""
    import torch

    from ..engine import evaluate

    def tensors(images, labels):
        return torch.as_tensor(np.asarray(images, dtype=np.uint8)), torch.as_tensor(np.asarray(labels), dtype=torch.long)

    digits, mnist = tensors(*held_back), tensors(*mnist_test)
    if not len(digits[1]):
        raise FinetuneError("There are no held-back digits to measure on.")
    return BeforeAfter(len(digits[1]), len(mnist[1]), evaluate(parent, *digits).accuracy,
                       evaluate(child, *digits).accuracy, evaluate(parent, *mnist).accuracy,
                       evaluate(child, *mnist).accuracy)


def before_after_of(store, child_id: str, mnist_test: tuple) -> BeforeAfter:
    """``before_after`` for a stored fine-tuned run: its parent's model, its own, its held-back digits."""
    from ..checkpoint import load_checkpoint
    from ..runs import find_run

    child = find_run(store, child_id)
    if child is None or not child.parent:
        raise FinetuneError("That run is not a fine-tuned run.")
    held = held_back_digits(store, child_id)
    start = store.run_dir(child_id) / START_FILE
    parent_model = load_checkpoint(start)[0] if start.is_file() else None
    if parent_model is None:
        parent = find_run(store, child.parent)
        parent_model = parent.model if parent is not None else None
    if parent_model is None or child.model is None:
        raise FinetuneError("The models before and after are not both kept, so they cannot be compared.")
    return before_after(parent_model, child.model, held, mnist_test)
