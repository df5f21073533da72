"""The training engine: device choice, optimisers, the training loop, evaluation, and its events.

``train`` runs in the calling thread and reports through events (small dataclasses) to one
listener: the Train page's store, the CLI's progress bar, a test's list. It neither prints nor
draws. Speed comes from keeping the whole split on the device as uint8, indexing a shuffled
permutation per batch and normalising there, and reading losses back to the host only once
every ``log_every`` steps (and before each wait while paused, stepped or slowed, so that every
step's loss shows in step mode). The loss is cross-entropy or mse (``batch_loss``); training batches
may be distorted (``augment``) and the weights held to a max-norm after each step; a CNN trains on the CPU in
the channels-last layout. A NaN, infinite or exploding loss (above ``max_loss``) ends the run as "diverged at
step N"; a ``RunControl`` stops, pauses, steps (one batch per call) or slows it between steps. Models are built
in ``models``.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .augment import affine_maps, augment_generator, distort
from .config import ConfigError, ModelConfig, TrainConfig
from .names import plural
from .data import MnistData, normalise
from .models import apply_max_norm, build_model, count_parameters, evaluating, has_batch_norm, weight_layers

HIST_BINS = 30


# ---------------------------------------------------------------------------------------------
# events


@dataclass
class RunStart:
    """Sent once before the first step: the run's size (epochs, steps, images), parameters and device."""

    epochs: int
    steps_per_epoch: int
    train_size: int
    test_size: int
    parameters: int
    device: str


@dataclass
class StepEvent:
    """One optimisation step's loss and learning rate (sent in bursts of ``TrainConfig.log_every``)."""

    step: int       # global step, from 1
    epoch: int      # from 1
    loss: float     # this batch's mean loss (cross-entropy, or squared error: TrainConfig.loss)
    lr: float


@dataclass
class EpochMetrics:
    """The end of an epoch: train and test loss and accuracy, timings and throughput."""

    epoch: int
    train_loss: float       # mean over the epoch's batches, as seed 000 prints it
    train_accuracy: float   # on the batches as they were trained (no extra pass)
    test_loss: float
    test_accuracy: float
    seconds: float          # training time of this epoch, without evaluation or pauses
    eval_seconds: float
    samples_per_s: float
    step: int
    lr: float
    device: str


@dataclass
class LayerStats:
    """One weight layer at the end of an epoch: its weights' and latest gradients' mean, std, norm and histogram."""

    epoch: int
    layer: str
    weight_mean: float
    weight_std: float
    weight_norm: float
    weight_hist: tuple[list[float], list[float]]  # (counts, edges)
    grad_mean: float | None
    grad_std: float | None
    grad_norm: float | None
    grad_hist: tuple[list[float], list[float]] | None


@dataclass
class RunEnd:
    """Sent once when the loop ends: how (finished, stopped, diverged), why, and at which step."""

    status: str      # "finished", "stopped" or "diverged"
    message: str
    step: int


class History:
    """A listener that keeps every event, grouped by kind; safe to read while a run appends.

    ``checkpoint.history_dict`` / ``history_from_dict`` turn it into plain values and back, so a
    saved run keeps its curves."""

    def __init__(self):
        self.start: RunStart | None = None
        self.steps: list[StepEvent] = []
        self.epochs: list[EpochMetrics] = []
        self.layer_stats: list[LayerStats] = []
        self.end: RunEnd | None = None

    def __call__(self, event) -> None:
        if isinstance(event, StepEvent):
            self.steps.append(event)
        elif isinstance(event, EpochMetrics):
            self.epochs.append(event)
        elif isinstance(event, LayerStats):
            self.layer_stats.append(event)
        elif isinstance(event, RunStart):
            self.start = event
        elif isinstance(event, RunEnd):
            self.end = event


@dataclass
class RunResult:
    """What ``train`` returns: how the run ended, its full history, the device and the trained model."""

    status: str
    message: str
    history: History
    device: str
    model: nn.Module = field(repr=False, default=None)


class RunControl:
    """Stop, pause, step or slow down a run from another thread; the loop looks between steps.

    Step mode, as TensorFlow Playground's step button: while paused, ``step()`` lets exactly one
    more training step (one batch) through, then the run waits again. ``set_rate(steps_per_second)``
    trains at most that many steps per second (None: full speed, the default). The loop calls
    ``wait_if_paused()`` once before every step; the time it blocks is not counted as training time.
    """

    def __init__(self):
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._cond = threading.Condition()
        self._credits = 0  # steps let through while paused, not yet taken
        self._rate: float | None = None
        self._next_at = 0.0  # perf_counter time before which a rate-limited step waits

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # a paused run must wake up to stop
        self._wake()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()
        self._wake()

    def step(self, n: int = 1) -> None:
        """Let exactly ``n`` more steps through while paused (each click of a step button: 1)."""
        if n < 1:
            raise ValueError(f"step(n) lets n ≥ 1 steps through, got {n}.")
        with self._cond:
            self._credits += n
            self._cond.notify_all()

    def set_rate(self, steps_per_second: float | None) -> None:
        """Train at most ``steps_per_second`` steps a second; None for full speed."""
        if steps_per_second is not None and not steps_per_second > 0:
            raise ValueError(f"steps_per_second must be above 0 (or None for full speed), got {steps_per_second}.")
        self._rate = None if steps_per_second is None else float(steps_per_second)
        self._next_at = 0.0
        self._wake()

    @property
    def rate(self) -> float | None:
        """The step-rate limit in steps per second, or None at full speed."""
        return self._rate

    @property
    def pending_steps(self) -> int:
        """Steps let through by ``step()`` that the run has not taken yet."""
        return self._credits

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def holding(self) -> bool:
        """Paused, stepping or slowed: the next ``wait_if_paused()`` may block (the loop reports its
        pending losses first, so that each step's loss shows in step mode)."""
        return self._rate is not None or not self._running.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_if_paused(self) -> float:
        """Block while paused (unless a ``step()`` credit is there to take) and, with a rate
        limit, until the next step is due; return the seconds spent waiting."""
        if self._running.is_set() and self._rate is None:  # the full-speed path: one flag test
            return 0.0
        t0 = time.perf_counter()
        with self._cond:
            while not self._running.is_set() and not self._stop.is_set():
                if self._credits > 0:
                    self._credits -= 1
                    break
                self._cond.wait()
            rate = self._rate
            while rate is not None and not self._stop.is_set():
                delay = self._next_at - time.perf_counter()
                if delay <= 0:
                    break
                self._cond.wait(delay)  # set_rate / stop wake it early
                rate = self._rate
            if rate is not None:
                self._next_at = time.perf_counter() + 1 / rate
        return time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------
# device, optimiser, schedule


def pick_device(preference: str = "auto") -> torch.device:
    """CUDA when present, then Apple's MPS, else the CPU; an explicit choice must be available."""
    if preference in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if preference in ("auto", "mps") and mps is not None and mps.is_available():
        return torch.device("mps")
    if preference not in ("auto", "cpu"):
        raise ConfigError("device", f"device {preference!r} is not available on this machine; choose auto or cpu.")
    return torch.device("cpu")


def device_name(device: torch.device) -> str:
    """"CUDA: NVIDIA H100 80GB HBM3", "MPS (Apple GPU)" or "CPU (2 threads)"."""
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "MPS (Apple GPU)"
    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'' if threads == 1 else 's'})"


def make_optimizer(params, cfg: TrainConfig, device: torch.device | None = None) -> torch.optim.Optimizer:
    """The optimiser ``cfg`` names; on CUDA, Adam and AdamW use their fused one-kernel update."""
    fused = {"fused": True} if device is not None and device.type == "cuda" else {}
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                               weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, **fused)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, **fused)
    return torch.optim.RMSprop(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def make_scheduler(opt, cfg: TrainConfig, steps_per_epoch: int):
    """Returns (scheduler or None, whether it steps every batch rather than every epoch)."""
    total = cfg.epochs * steps_per_epoch
    if cfg.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.step_size, gamma=cfg.gamma), False
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total), True
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total), True
    return None, False


def seeded_model(model_cfg: ModelConfig, seed: int) -> nn.Module:
    """build_model with torch's generator seeded first, so the same seed gives the same weights.

    The seeding happens in a fork of the CPU generator: the caller's random state (another
    session's, a training thread's) is the same afterwards as before.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_model(model_cfg)


# ---------------------------------------------------------------------------------------------
# loss and evaluation


def batch_loss(logits: torch.Tensor, labels: torch.Tensor, loss: str = "cross_entropy",
               reduction: str = "mean") -> torch.Tensor:
    """The training loss ``loss`` names: cross-entropy of the logits, or mse, the squared error of the softmax
    against one-hot targets averaged over the 10 outputs (per image; then mean or sum over images)."""
    if loss == "cross_entropy":
        return F.cross_entropy(logits, labels, reduction=reduction)
    one_hot = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
    per_image = (logits.softmax(1) - one_hot).square().mean(1)
    return per_image.mean() if reduction == "mean" else per_image.sum()



@dataclass
class Evaluation:
    """``evaluate``'s result on a split: mean loss, accuracy, each prediction, and optionally the probabilities."""

    loss: float
    accuracy: float
    predictions: torch.Tensor  # (N,) int64 on the CPU
    probabilities: torch.Tensor | None = None  # (N, 10) on the CPU, when asked for


def evaluate(model: nn.Module, images_u8: torch.Tensor, labels: torch.Tensor,
             batch_size: int = 4096, keep_probabilities: bool = False, loss: str = "cross_entropy") -> Evaluation:
    """Loss (``batch_loss``'s ``loss``), accuracy and predictions in large batches under inference mode (eval
    mode: dropout off, batch norm on its running statistics), on the model's device."""
    device = next(model.parameters()).device
    loss_sum = torch.zeros((), device=device)
    preds, probs = [], []
    with evaluating(model), torch.inference_mode():  # dropout off
        for i in range(0, len(images_u8), batch_size):
            x = normalise(images_u8[i:i + batch_size].to(device))
            y = labels[i:i + batch_size].to(device)
            logits = model(x)
            loss_sum += batch_loss(logits, y, loss, reduction="sum")
            preds.append(logits.argmax(1))
            if keep_probabilities:
                probs.append(logits.softmax(1).cpu())
    predictions = torch.cat(preds).cpu() if preds else torch.zeros(0, dtype=torch.long)
    n = max(len(labels), 1)
    accuracy = (predictions == labels.cpu()).sum().item() / n
    return Evaluation(loss_sum.item() / n, accuracy, predictions, torch.cat(probs) if probs else None)


# ---------------------------------------------------------------------------------------------
# per-layer statistics


def _histogram(t: torch.Tensor) -> tuple[list[float], list[float]]:
    t = t.detach().float().flatten().cpu()
    lo, hi = t.min().item(), t.max().item()
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.histc(t, bins=HIST_BINS, min=lo, max=hi)
    edges = torch.linspace(lo, hi, HIST_BINS + 1)
    return counts.tolist(), edges.tolist()


def layer_statistics(model: nn.Module, epoch: int) -> list[LayerStats]:
    """Mean, std, norm and histogram of each weight layer's weights and latest gradients."""
    stats = []
    for name, layer in weight_layers(model):
        w, g = layer.weight.detach(), layer.weight.grad
        finite_g = g is not None and bool(torch.isfinite(g).all())
        stats.append(LayerStats(
            epoch=epoch, layer=name,
            weight_mean=w.mean().item(), weight_std=w.std().item(), weight_norm=w.norm().item(),
            weight_hist=_histogram(w) if torch.isfinite(w).all() else ([], []),
            grad_mean=g.mean().item() if g is not None else None,
            grad_std=g.std().item() if g is not None else None,
            grad_norm=g.norm().item() if g is not None else None,
            grad_hist=_histogram(g) if finite_g else None,
        ))
    return stats


# ---------------------------------------------------------------------------------------------
# the loop


def _memory_format(model: nn.Module, device: torch.device) -> torch.memory_format:
    """channels_last for a CNN on the CPU: oneDNN's convolutions, batch norm and max-pooling then work on the maps
    as they lie instead of reordering them each call (scripts/bench_knobs.py); the usual layout after the run."""
    convolutional = any(isinstance(m, nn.Conv2d) for m in model.modules())
    return torch.channels_last if device.type == "cpu" and convolutional else torch.contiguous_format


def train(model: nn.Module, data: MnistData, cfg: TrainConfig,
          on_event: Callable[[object], None] | None = None,
          control: RunControl | None = None) -> RunResult:
    """Train ``model`` on ``data`` as ``cfg`` says; report events; return how it ended.

    The model is moved to the chosen device and stays there. Exceptions other than a
    diverging loss propagate (a bug, not bad input): configs are validated before this runs.
    """
    history = History()

    def emit(event) -> None:
        history(event)
        if on_event is not None:
            on_event(event)

    control = control or RunControl()
    device = pick_device(cfg.device)
    dev_name = device_name(device)
    torch.manual_seed(cfg.seed)  # dropout masks
    shuffle = torch.Generator().manual_seed(cfg.seed)  # batch order, on the CPU for every device
    distortions = augment_generator(cfg.seed, device) if cfg.augment != "none" else None

    model.to(device, memory_format=_memory_format(model, device))
    model.train()
    x_train = data.train_images.to(device)  # uint8 stays uint8: 47 MB for all of MNIST
    y_train = data.train_labels.to(device)
    n = len(x_train)
    bs = min(cfg.batch_size, n)
    steps_per_epoch = math.ceil(n / bs)
    if has_batch_norm(model):
        if bs < 2:
            raise ConfigError("batch_size", "batch normalisation needs at least 2 images per batch (and 2 training "
                              "images); use a larger batch or turn batch norm off.")
        if n % bs == 1:  # a last batch of one image has no batch statistics: it joins the batch before it
            steps_per_epoch -= 1
    opt = make_optimizer(model.parameters(), cfg, device)
    scheduler, per_step = make_scheduler(opt, cfg, steps_per_epoch)

    emit(RunStart(cfg.epochs, steps_per_epoch, n, len(data.test_images), count_parameters(model), dev_name))

    step = 0
    losses = torch.zeros(cfg.log_every, device=device)  # this burst's per-step losses
    limit = [cfg.max_loss]  # the divergence bound, raised once the first step's loss is known
    status, message = "finished", f"finished {plural(cfg.epochs, 'epoch')}"

    def flush(k: int, epoch: int, lr: float) -> int | None:
        """Report the last k steps' losses; return (step, loss) of the first diverged one, if any.

        Diverged: NaN or infinite, or above both ``max_loss`` and 10× the first step's loss (so a
        network that starts high, e.g. with N(0, 1) weights, is not stopped for where it starts).
        """
        values = losses[:k].tolist()  # the one host sync per burst
        first = step - k + 1
        for i, value in enumerate(values):
            if first + i == 1 and math.isfinite(value):
                limit[0] = max(cfg.max_loss, 10 * value)
            if not math.isfinite(value) or value > limit[0]:
                return first + i, value
            emit(StepEvent(first + i, epoch, value, lr))
        return None

    for epoch in range(1, cfg.epochs + 1):
        t0 = time.perf_counter()
        paused = 0.0
        perm = torch.randperm(n, generator=shuffle).to(device)
        maps = affine_maps(n, cfg, distortions, device) if distortions is not None else None  # image by image
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        seen = 0
        k = 0
        bad = None  # (step, loss) where the run diverged
        for b in range(steps_per_epoch):
            if control.holding:  # full speed: this one flag test per step
                if k:  # step mode or a slow rate: report the steps taken before waiting for the next
                    bad = flush(k, epoch, opt.param_groups[0]["lr"])
                    k = 0
                    if bad is not None:
                        break
                paused += control.wait_if_paused()
            if control.stopped:
                break
            batch = slice(b * bs, (b + 1) * bs if b < steps_per_epoch - 1 else n)
            idx = perm[batch]
            xb = normalise(x_train[idx])  # (B, 1, 28, 28) float on the device
            if distortions is not None:  # training batches only: test images are never distorted
                xb = distort(xb, cfg, distortions, None if maps is None else maps[batch])
            yb = y_train[idx]
            logits = model(xb)  # (B, 10)
            loss = batch_loss(logits, yb, cfg.loss)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if cfg.max_norm:
                apply_max_norm(model, cfg.max_norm)
            if per_step:
                scheduler.step()
            step += 1
            seen += len(idx)
            loss_d = loss.detach()
            losses[k] = loss_d
            loss_sum += loss_d * len(idx)
            correct += (logits.detach().argmax(1) == yb).sum()
            k += 1
            if k == cfg.log_every or b == steps_per_epoch - 1:
                bad = flush(k, epoch, opt.param_groups[0]["lr"])
                k = 0
                if bad is not None:
                    break
        if k and bad is None:  # stopped mid-burst
            bad = flush(k, epoch, opt.param_groups[0]["lr"])
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0 - paused

        if bad is not None:
            status = "diverged"
            message = (f"diverged at step {bad[0]}: the loss reached {bad[1]:.4g} (above {limit[0]:.4g}, or "
                       f"not a number). Try a learning rate about 10× smaller than {cfg.lr:g}.")
            step = bad[0]
            break
        if seen == 0:  # stopped before this epoch's first step
            status, message = "stopped", f"stopped at step {step} (epoch {epoch - 1} complete)"
            break
        for s in layer_statistics(model, epoch):
            emit(s)
        t1 = time.perf_counter()
        test = evaluate(model, data.test_images, data.test_labels, loss=cfg.loss)
        eval_seconds = time.perf_counter() - t1
        emit(EpochMetrics(
            epoch=epoch, train_loss=loss_sum.item() / seen, train_accuracy=correct.item() / seen,
            test_loss=test.loss, test_accuracy=test.accuracy, seconds=seconds, eval_seconds=eval_seconds,
            samples_per_s=seen / seconds if seconds > 0 else float("inf"), step=step,
            lr=opt.param_groups[0]["lr"], device=dev_name,
        ))
        if scheduler is not None and not per_step:
            scheduler.step()
        if control.stopped:
            status, message = "stopped", f"stopped at step {step} (epoch {epoch}, {seen} of {n} images)"
            break

    model.to(memory_format=torch.contiguous_format)
    emit(RunEnd(status, message, step))
    return RunResult(status, message, history, dev_name, model)
