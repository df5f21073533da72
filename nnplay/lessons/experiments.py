"""Seed 003's hyperparameter studies, their results table, and the learning-rate range test. Headless.

What lives here:
- the models the studies train (``SEED003_MLP``, ``SEED003_CNN``) and the six studies
  (``STUDIES``: learning rate, epochs, batch size, activation pairs, CNN stride, CNN filter size);
  each study turns a mode, "quick" (about a minute on a small CPU) or "full" (the seed's
  settings), into a list of ``StudyRun(label, DataConfig, ModelConfig, TrainConfig)``; a study's
  ``note_for`` names the images its quick mode really uses (``images_phrase``);
- ``estimate_seconds``: how long a study's runs should take here, from its last sweep on this machine;
- ``results_rows`` / ``results_csv``: one row per trained run (settings, final accuracies, time),
  written by ``runs.rows_csv``;
- ``lr_range_test``: loss against an exponentially rising learning rate over one pass, smoothed
  by the Train page's ``curves.smooth``; ``range_test_run``: what it trains, as a run, for class mode's limits
  (``runs.call_in_worker`` checks them; ``max_minutes`` stops it at the class's minutes per run).
What does not live here: training threads (``runs.Sweep``), figures (``nnplay.figures.experiments``),
widgets (``pages/experiments.py``).

Seed 003 does not print its MLP. We infer it from what the note says and shows: an MLP on MNIST
with two hidden layers (its activation pairs), batch 100, 50 epochs, ``torch.nn.init.normal_``
quoted with its defaults (mean 0, std 1), and the course lab the note follows (784-256-256-10,
Adam). Adam also fits the note's results: at lr 0.1 the net fails and at 0.0001 it learns slowly;
plain SGD trains this MLP well at 0.1 and barely moves at 0.0001.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Callable, Literal, NamedTuple, Sequence

import torch
import torch.nn.functional as F

from ..config import PRESETS, DataConfig, ModelConfig, TrainConfig
from ..curves import smooth
from ..data import MnistData, normalise
from ..engine import make_optimizer, pick_device, seeded_model
from ..models import describe, layer_table
from ..runs import Run, rows_csv

Mode = Literal["quick", "full"]
MODES: tuple[str, ...] = ("quick", "full")

# std 1 makes the first losses huge (about 1,500 for the first batch, ~130 over the first epoch):
# that is the seed's init, not divergence, so the divergence guard sits far above it.
MLP_MAX_LOSS = 1e6

SEED003_MLP = ModelConfig(family="mlp", hidden=(256, 256), activation="relu", init="normal", init_std=1.0)
"""784-256-256-10, ReLU, weights ~ N(0, 1) (``torch.nn.init.normal_``'s defaults), zero biases."""

SEED003_CNN = PRESETS["seed-cnn"].model
"""Seed 003's CNN: conv 32/64/128 (3×3, stride 1, padding 1, ReLU, 2×2 max-pool), FC 2048→625→10."""

SEED003_TRAIN = TrainConfig(optimizer="adam", lr=1e-3, batch_size=100, epochs=50, max_loss=MLP_MAX_LOSS)
"""Adam, batch 100, 50 epochs (the seed's "same conditions"); each study changes one thing."""

CNN_TRAIN = replace(PRESETS["seed-cnn"].train, epochs=15)
"""Adam lr 0.001, batch 100, 15 epochs: the lab's settings for seed 003's CNN (the note prints no epochs)."""

# The seed's numbers, shown on the page (and asserted by the tests).
SEED_LRS = (0.1, 0.01, 0.001, 0.0001)
SEED_EPOCHS = (5, 30, 50, 100)
SEED_BATCH_SIZES = (10, 30, 100, 1000)
SEED_BATCH_TIMES = {10: "15 min 53 s", 30: "8 min 22 s", 100: "5 min 26 s", 1000: "5 min 26 s"}
SEED_ACTIVATION_PAIRS = (("sigmoid", "sigmoid"), ("sigmoid", "relu"), ("relu", "sigmoid"), ("relu", "relu"))
SEED_STRIDES = (1, 5)
SEED_KERNELS = (3, 10)

# Quick mode: what each study trains by default (measured durations are on the page).
QUICK_MLP_TRAIN: int | None = None  # all 60,000 training images: batch 10 makes the seed's 6,000 steps an epoch
QUICK_MLP_EPOCHS = 5
QUICK_EPOCHS = (1, 3, 5, 10)
QUICK_BATCH_EPOCHS = 3
QUICK_CNN = dict(train_limit=20_000, test_limit=2_000, epochs=3)

ACT_NAMES = {"sigmoid": "sigmoid", "relu": "ReLU"}


class StudyRun(NamedTuple):
    """One run of a study; unpacks as (label, data, model, train)."""

    label: str
    data: DataConfig
    model: ModelConfig
    train: TrainConfig


@dataclass(frozen=True)
class Study:
    key: str
    title: str
    varies: str
    """What changes between the runs, e.g. "learning rate"."""
    seed_setup: str
    """What the seed held fixed (markdown)."""
    seed_saw: str
    """What the seed observed, in English (markdown); every number the note prints is here."""
    note: str
    """How nnplay runs it, where that differs from the seed (markdown); ``{images}`` stands for the
    quick mode's images, which depend on the data and the subset chosen (see ``note_for``)."""
    build: Callable[[str], list[StudyRun]]

    def runs(self, mode: str = "quick", train_limit: int | None = None,
             test_limit: int | None = None) -> list[StudyRun]:
        """The study's runs for ``mode``; in quick mode ``train_limit``/``test_limit`` override the subset."""
        if mode not in MODES:
            raise ValueError(f"mode must be quick or full; got {mode!r}.")
        runs = self.build(mode)
        if mode == "quick" and (train_limit or test_limit):
            runs = [r._replace(data=replace(r.data, train_limit=train_limit or r.data.train_limit,
                                            test_limit=test_limit or r.data.test_limit)) for r in runs]
        return runs

    def note_for(self, train_total: int, test_total: int, train_limit: int | None = None,
                 test_limit: int | None = None) -> str:
        """``note`` with the images the quick mode really uses, out of ``train_total``/``test_total``."""
        data = shared_data_config(self.runs("quick", train_limit, test_limit))
        return self.note.replace(IMAGES, images_phrase(data, train_total, test_total))


def estimate_seconds(planned: Sequence[StudyRun], measured: Sequence[Run], train_total: int) -> float | None:
    """How long ``planned`` should take on this machine, from ``measured`` (the study's last sweep here, in
    either mode): each finished run's wall seconds per training image and epoch, times the images and epochs
    of the planned run with its label (their mean for a label not measured). None when none finished."""
    rates: dict[str, float] = {}
    for run in measured:
        epochs, start = list(run.history.epochs), run.history.start
        if run.status != "finished" or not epochs or start is None or not start.train_size:
            continue
        rates[run.name] = sum(e.seconds + e.eval_seconds for e in epochs) / (len(epochs) * start.train_size)
    if not rates:
        return None
    mean = sum(rates.values()) / len(rates)
    return sum(rates.get(r.label, mean) * min(r.data.train_limit or train_total, train_total) * r.train.epochs
               for r in planned)


def images_phrase(data: DataConfig, train_total: int, test_total: int) -> str:
    """Which images a run sees, in words, e.g. "on the first 5,000 of the 60,000 training images and
    all 10,000 test images" (a limit at or above the total means all of them)."""
    def part(limit: int | None, total: int, kind: str) -> str:
        if limit is None or limit >= total:
            return f"all {total:,} {kind} images"
        return f"the first {limit:,} of the {total:,} {kind} images"

    return f"on {part(data.train_limit, train_total, 'training')} and {part(data.test_limit, test_total, 'test')}"


# ---------------------------------------------------------------------------------------------
# the studies


def _mlp_run(label: str, mode: str, *, lr: float = 1e-3, epochs: int = 50, batch_size: int = 100,
             activation: str | tuple[str, ...] = "relu", quick_epochs: int = QUICK_MLP_EPOCHS) -> StudyRun:
    train = replace(SEED003_TRAIN, lr=lr, batch_size=batch_size, epochs=epochs if mode == "full" else quick_epochs)
    data = DataConfig(train_limit=QUICK_MLP_TRAIN if mode == "quick" else None)
    return StudyRun(label, data, replace(SEED003_MLP, activation=activation), train)


def lr_study(mode: str = "quick") -> list[StudyRun]:
    """Learning rate 0.1, 0.01, 0.001, 0.0001; epochs 50, batch 100 (quick: 5 epochs)."""
    return [_mlp_run(f"lr {lr:g}", mode, lr=lr) for lr in SEED_LRS]


def epoch_study(mode: str = "quick") -> list[StudyRun]:
    """Epochs 5, 30, 50, 100 at lr 0.0001, batch 100 (quick: 1, 3, 5, 10)."""
    epochs = SEED_EPOCHS if mode == "full" else QUICK_EPOCHS
    return [_mlp_run(f"{e} epoch{'s' if e > 1 else ''}", mode, lr=1e-4, epochs=e, quick_epochs=e) for e in epochs]


def batch_study(mode: str = "quick") -> list[StudyRun]:
    """Batch size 10, 30, 100, 1000 at lr 0.001, 50 epochs (quick: 3 epochs)."""
    return [_mlp_run(f"batch {b}", mode, batch_size=b, quick_epochs=QUICK_BATCH_EPOCHS) for b in SEED_BATCH_SIZES]


def activation_study(mode: str = "quick") -> list[StudyRun]:
    """The two hidden layers' activations: sigmoid/sigmoid, sigmoid/ReLU, ReLU/sigmoid, ReLU/ReLU."""
    return [_mlp_run(f"{ACT_NAMES[a]}/{ACT_NAMES[b]}", mode, activation=(a, b)) for a, b in SEED_ACTIVATION_PAIRS]


def _cnn_run(label: str, mode: str, model: ModelConfig) -> StudyRun:
    if mode == "full":
        return StudyRun(label, DataConfig(), model, CNN_TRAIN)
    data = DataConfig(train_limit=QUICK_CNN["train_limit"], test_limit=QUICK_CNN["test_limit"])
    return StudyRun(label, data, model, replace(CNN_TRAIN, epochs=QUICK_CNN["epochs"]))


def first_layer(value: int, rest: int, layers: int = 3) -> tuple[int, ...]:
    """``value`` for the first conv layer, ``rest`` for the others: (5, 1, 1)."""
    return (value,) + (rest,) * (layers - 1)


def stride_study(mode: str = "quick") -> list[StudyRun]:
    """The first conv layer's stride 1 or 5; the other two keep the seed's stride 1."""
    return [_cnn_run(f"stride {s}", mode, replace(SEED003_CNN, stride=first_layer(s, 1))) for s in SEED_STRIDES]


def filter_study(mode: str = "quick") -> list[StudyRun]:
    """The first conv layer's filter 3×3 or 10×10; the other two keep the seed's 3×3."""
    return [_cnn_run(f"filter {k}×{k}", mode, replace(SEED003_CNN, kernel_size=first_layer(k, 3)))
            for k in SEED_KERNELS]


_MLP_SETUP = ("MLP 784-256-256-10, weights ~ N(0, 1), Adam, batch 100, 50 epochs, "
              "60,000 training and 10,000 test images")
_CNN_SETUP = ("The note's CNN: conv 32/64/128 (3×3, stride 1, padding 1, ReLU, 2×2 max-pool; "
              "28 → 14 → 7 → 4), FC 4·4·128 = 2048 → 625 (ReLU, dropout 1 − keep_prob = 0.5) → 10, "
              "xavier init; Adam lr 0.001, batch 100, 15 epochs")
IMAGES = "{images}"  # in a note: the quick mode's images, filled in by ``Study.note_for``
_QUICK_MLP = IMAGES
_QUICK_CNN = f" Quick mode: {QUICK_CNN['epochs']} epochs instead of 15, {IMAGES}."
_FIRST_LAYER_NOTE = (
    "Applied to the **first conv layer only**; the other two keep the note's {what}. In all three "
    "layers {value} leaves no pixels: {error} So only the first layer changes, which also is where the "
    "{what} acts on the image itself.")


def _all_layers_error(**change) -> str:
    try:
        layer_table(replace(SEED003_CNN, **change))
    except ValueError as err:
        return f"“{err}”"
    return "(it does fit here)"


STUDIES: dict[str, Study] = {s.key: s for s in (
    Study(
        key="lr", title="Learning rate", varies="learning rate",
        seed_setup=f"{_MLP_SETUP}; learning rate 0.1, 0.01, 0.001 or 0.0001.",
        seed_saw=("**0.1**: accuracy 0.10, the loss stuck near 2.30 (ln 10, chance level for 10 classes): "
                  "the rate is too large, training jumps past the minimum and gets stuck. **0.01**: the loss "
                  "drops to nearly 0 fast. **0.001**: the same, a little smoother. **0.0001**: slower, but "
                  "learning; with more epochs it would get there too."),
        note=(f"Quick mode: {QUICK_MLP_EPOCHS} epochs instead of 50, {_QUICK_MLP}. "
              "The loss axis is logarithmic: with weights ~ N(0, 1) the first losses are in the hundreds. Read "
              "the two charts together: those weights make the outputs huge, so every wrong answer costs a "
              "lot and the loss stays high even at 95% accuracy, while a run that ends with a low loss (the "
              "outputs shrunk) may still be wrong half the time."),
        build=lr_study,
    ),
    Study(
        key="epochs", title="Epochs", varies="number of epochs",
        seed_setup=f"{_MLP_SETUP.replace(', 50 epochs', '')}; learning rate 0.0001; 5, 30, 50 or 100 epochs.",
        seed_saw=("5 epochs: too few updates, the loss is still high. 30: better, still far from 0. More "
                  "epochs drive the training loss towards 0, while each extra stretch of epochs adds less "
                  "accuracy (+0.0918, then +0.009, then +0.0054); the note expects accuracy to fall at some "
                  "point (overfitting). Training time grows with the epochs."),
        note=(f"Quick mode: {', '.join(map(str, QUICK_EPOCHS))} epochs instead of "
              f"{', '.join(map(str, SEED_EPOCHS))}, {_QUICK_MLP}. Every run starts from the "
              "same weights and sees the batches in the same order, so a longer run's curve continues the "
              "shorter ones: the curves lie on top of each other where they overlap."),
        build=epoch_study,
    ),
    Study(
        key="batch", title="Batch size", varies="batch size",
        seed_setup=(f"{_MLP_SETUP.replace(', batch 100', '')}; batch size 10, 30, 100 or 1000 "
                    "(the note prints no learning rate for this study: we use Adam's usual 0.001)."),
        seed_saw=("Wall time: batch 10 took 15 min 53 s (60,000 / 10 = 6,000 steps per epoch), 30 took "
                  "8 min 22 s (2,000 steps), 100 took 5 min 26 s (600 steps), 1000 took 5 min 26 s (60 steps; "
                  "the note repeats the previous line). On parallel hardware a step costs about the same for "
                  "any batch, so fewer steps per epoch is faster. But large batches follow the training set's "
                  "average path and generalise worse and can get stuck; small batches are noisy, which slows "
                  "them but can shake them out of a local optimum."),
        note=(f"Quick mode: {QUICK_BATCH_EPOCHS} epochs instead of 50, {_QUICK_MLP}. "
              "The loss is drawn against epochs (images seen ÷ training images), so a batch-10 run has 10× more "
              "points per epoch than a batch-100 run; the bar chart shows each run's time."),
        build=batch_study,
    ),
    Study(
        key="activations", title="Activation pairs", varies="activations of the two hidden layers",
        seed_setup=f"{_MLP_SETUP}, learning rate 0.001; hidden layers sigmoid or ReLU.",
        seed_saw="The note shows one loss chart for each pair, with no comment.",
        note=f"Quick mode: {QUICK_MLP_EPOCHS} epochs instead of 50, {_QUICK_MLP}.",
        build=activation_study,
    ),
    Study(
        key="stride", title="CNN stride", varies="stride of the first conv layer",
        seed_setup=f"{_CNN_SETUP}; stride 1 or 5.",
        seed_saw="The note shows one chart for stride 1 and one for stride 5, with no comment.",
        note=(_FIRST_LAYER_NOTE.format(what="stride 1", value="stride 5",
                                       error=_all_layers_error(stride=5))
              + _QUICK_CNN),
        build=stride_study,
    ),
    Study(
        key="filter", title="CNN filter size", varies="filter size of the first conv layer",
        seed_setup=f"{_CNN_SETUP}; filter size 3 or 10.",
        seed_saw="The note shows one chart for filter size 3 and one for 10, with no comment.",
        note=(_FIRST_LAYER_NOTE.format(what="3×3 filters", value="a 10×10 filter",
                                       error=_all_layers_error(kernel_size=10))
              + _QUICK_CNN),
        build=filter_study,
    ),
)}


def shared_data_config(runs: Sequence[StudyRun]) -> DataConfig:
    """The one DataConfig all runs of a study use (a sweep trains them on the same data)."""
    configs = {(r.data.dataset, r.data.train_limit, r.data.test_limit) for r in runs}
    if len(configs) != 1:
        raise ValueError("the runs of one study must use the same data; got " + ", ".join(map(str, configs)))
    return runs[0].data


def plan_rows(runs: Sequence[StudyRun]) -> list[dict]:
    """What each run will train: model, optimiser, learning rate, batch, epochs, images."""
    return [{
        "run": r.label,
        "model": describe(r.model),
        "optimizer": r.train.optimizer,
        "lr": r.train.lr,
        "batch size": r.train.batch_size,
        "epochs": r.train.epochs,
        "train images": r.data.train_limit or "all",
        "test images": r.data.test_limit or "all",
    } for r in runs]


def shape_rows(model_cfg: ModelConfig) -> list[dict]:
    """A CNN's conv and pool output shapes and parameter counts (``layer_table`` as rows)."""
    return [{"layer": row.name, "kind": row.kind, "output": "×".join(map(str, row.output_shape)),
             "parameters": row.params} for row in layer_table(model_cfg) if not row.name.startswith("act")]


# ---------------------------------------------------------------------------------------------
# results


RESULT_COLUMNS = ("run", "model", "optimizer", "lr", "batch size", "epochs", "train images", "steps per epoch",
                  "status", "epochs done", "train accuracy", "test accuracy", "train loss", "test loss",
                  "train seconds", "wall seconds")


def results_rows(runs: Sequence[Run]) -> list[dict]:
    """One row per run: its settings, status, the last epoch's accuracies and losses, and its time.

    "train seconds" is the time spent in training steps; "wall seconds" adds the evaluation after
    each epoch (both leave out any pause). Accuracies and losses are None before the first epoch ends.
    """
    rows = []
    for run in runs:
        final = run.final()
        evals = sum(e.eval_seconds for e in run.history.epochs)
        start = run.history.start
        rows.append({
            "run": run.name,
            "model": describe(run.model_cfg),
            "optimizer": run.train_cfg.optimizer,
            "lr": run.train_cfg.lr,
            "batch size": run.train_cfg.batch_size,
            "epochs": run.train_cfg.epochs,
            "train images": start.train_size if start else run.data_cfg.train_limit,
            "steps per epoch": start.steps_per_epoch if start else None,
            "status": run.status,
            "epochs done": final["epochs_done"],
            "train accuracy": _round(final["train_accuracy"], 4),
            "test accuracy": _round(final["test_accuracy"], 4),
            "train loss": _round(final["train_loss"], 4),
            "test loss": _round(final["test_loss"], 4),
            "train seconds": round(final["seconds"], 2),
            "wall seconds": round(final["seconds"] + evals, 2),
        })
    return rows


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def results_csv(rows: Sequence[dict]) -> str:
    """The results table as CSV text (header row first; empty cells for missing values)."""
    return rows_csv(rows, list(rows[0]) if rows else RESULT_COLUMNS)


# ---------------------------------------------------------------------------------------------
# the learning-rate range test


class RangeTest(NamedTuple):
    """Unpacks as (lrs, losses, suggested_lr)."""

    lrs: list[float]
    """The learning rate of each step, rising exponentially from ``start``."""
    losses: list[float]
    """The smoothed loss after each step (cut where it exploded)."""
    suggested_lr: float
    """Where the smoothed loss falls fastest (see ``suggest_lr``)."""


def suggest_lr(lrs: Sequence[float], losses: Sequence[float]) -> float:
    """The learning rate at the steepest descent of the smoothed loss, searched up to its minimum.

    The slope is d(loss)/d(log lr) by central differences. When fewer than three points lie before
    the minimum there is no slope to read, and the suggestion falls back to (lr at the minimum) / 10.
    """
    if not lrs:
        raise ValueError("no learning rates to choose from.")
    best = min(range(len(losses)), key=losses.__getitem__)
    if best < 2:
        return lrs[best] / 10
    x = torch.tensor([math.log(lr) for lr in lrs[:best + 1]], dtype=torch.float64)
    y = torch.tensor(losses[:best + 1], dtype=torch.float64)
    slope = torch.gradient(y, spacing=(x,))[0]
    return lrs[int(slope.argmin())]


def range_test_run(model_cfg: ModelConfig, optimizer: str, batch_size: int, steps: int,
                   train_images: int) -> tuple[ModelConfig, TrainConfig]:
    """What a range test of ``steps`` batches over ``train_images`` images trains, as a run: its model, and its
    passes over the images as epochs (at least 1), for the class's limits (``runs.call_in_worker``)."""
    passes = math.ceil(steps * min(batch_size, max(train_images, 1)) / max(train_images, 1))
    return model_cfg, TrainConfig(optimizer=optimizer, batch_size=batch_size, epochs=min(max(1, passes), 1000))


def lr_range_test(model_cfg: ModelConfig, data: MnistData, start: float = 1e-6, end: float = 10.0,
                  steps: int = 100, batch_size: int = 100, optimizer: str = "adam", seed: int = 0,
                  smoothing: float = 0.9, explode: float = 4.0, device: str = "auto",
                  max_minutes: float | None = None) -> RangeTest:
    """Train one pass of ``steps`` batches while the learning rate rises from ``start`` to ``end``.

    Step i uses lr = start · (end/start)^(i/(steps−1)). The loss is smoothed by an exponential moving
    average (weight ``smoothing`` on the past, bias-corrected as in Adam: the Train page's ``smooth``,
    redone over the losses so far after every step, which is why the steps stop at 2,000), and the
    test stops as soon as the smoothed loss exceeds ``explode`` × its best value so far or is not a
    number: the exploded point is not returned. The suggestion is ``suggest_lr``'s: the steepest
    descent before the minimum.
    The model is a fresh one from ``seed``; batches are drawn without repeats while the data lasts.
    ``max_minutes``: the class's limit on minutes per run; a test still going then is refused with its sentence.
    """
    if not 0 < start < end:
        raise ValueError(f"the range test needs 0 < start < end; got start {start:g}, end {end:g}.")
    if not 5 <= steps <= 2_000:
        raise ValueError(f"the range test needs 5 to 2,000 steps; got {steps}.")
    if not 0 <= smoothing < 1 or not explode > 1:
        raise ValueError("smoothing must be in [0, 1) and explode above 1.")
    cfg = TrainConfig(optimizer=optimizer, lr=min(start, 10.0), batch_size=batch_size, seed=seed)
    dev = pick_device(device)
    model = seeded_model(model_cfg, seed).to(dev)
    model.train()
    opt = make_optimizer(model.parameters(), cfg)
    x_all, y_all = data.train_images, data.train_labels
    n = len(x_all)
    bs = min(batch_size, n)
    gen = torch.Generator().manual_seed(seed)
    perm, pos = torch.randperm(n, generator=gen), 0

    lrs: list[float] = []
    losses: list[float] = []
    raw: list[float] = []
    best = math.inf
    deadline = None if max_minutes is None else time.monotonic() + max_minutes * 60
    for i in range(steps):
        if deadline is not None and time.monotonic() > deadline:
            raise ValueError(f"the range test stopped after {i:,} of {steps:,} steps: the class's limit is "
                             f"{max_minutes:g} minutes per run (set by the teacher). Use fewer steps or a smaller "
                             "batch.")
        lr = start * (end / start) ** (i / (steps - 1))
        for group in opt.param_groups:
            group["lr"] = lr
        if pos + bs > n:  # a new permutation once the data runs out
            perm, pos = torch.randperm(n, generator=gen), 0
        idx = perm[pos:pos + bs]
        pos += bs
        xb = normalise(x_all[idx].to(dev))  # (B, 1, 28, 28)
        yb = y_all[idx].to(dev)
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        raw.append(loss.item())
        smoothed = smooth(raw, smoothing)[-1]
        if not math.isfinite(smoothed) or smoothed > explode * best:
            break
        best = min(best, smoothed)
        lrs.append(lr)
        losses.append(smoothed)
    if not lrs:
        raise ValueError("the loss was not a number from the first step; lower the start rate.")
    return RangeTest(lrs, losses, suggest_lr(lrs, losses))
