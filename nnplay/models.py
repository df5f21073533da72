"""Models: the MLP and the CNN built from a ``ModelConfig``, their layer table and initialisation.

Both take float images (B, 1, 28, 28) and return logits (B, 10). They are plain
``nn.Sequential`` stacks with named children, so a parameter's name says where it lives
(``lin_1.weight`` as in seed 000; ``conv_1.weight``, ``fc_1.weight`` for the CNN of seed 003).
Shapes are computed layer by layer before anything is built, so a CNN that would shrink the
map below 1×1 is refused with a sentence naming the layer (a ``ConfigError`` on ``kernel_size``).
``estimate_memory`` adds up what training a config needs (weights, gradients, optimiser state,
activations for one batch) from that table, before anything is built, and ``memory_refusal`` says
when it does not fit in the memory available (``available_memory``) beside what runs already admitted hold. ``weight_layers`` lists a model's
Linear/Conv2d layers by name; ``evaluating`` puts a (possibly shared) model in eval mode for a
block and restores its mode after. Training lives in ``engine``.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from .config import IMAGE_SIZE, NUM_CLASSES, ConfigError, ModelConfig, TrainConfig

ACTIVATION_MODULES = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "identity": nn.Identity,
}


@dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str
    output_shape: tuple[int, ...]  # per image, without the batch dimension
    params: int


def _conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    # the standard formula: floor((size + 2·padding − kernel) / stride) + 1
    return (size + 2 * padding - kernel) // stride + 1


def layer_table(cfg: ModelConfig) -> list[LayerRow]:
    """Every layer with its output shape and parameter count; ValueError if a CNN runs out of pixels."""
    rows: list[LayerRow] = [LayerRow("input", "image", (1, IMAGE_SIZE, IMAGE_SIZE), 0)]
    acts = cfg.activations()
    if cfg.family == "mlp":
        rows.append(LayerRow("flatten", "Flatten", (IMAGE_SIZE * IMAGE_SIZE,), 0))
        width_in = IMAGE_SIZE * IMAGE_SIZE
        for i, width in enumerate(cfg.hidden, start=1):
            rows.append(LayerRow(f"lin_{i}", "Linear", (width,), width_in * width + width))
            rows.append(LayerRow(f"act_{i}", acts[i - 1], (width,), 0))
            if cfg.dropout:
                rows.append(LayerRow(f"drop_{i}", f"Dropout({cfg.dropout:g})", (width,), 0))
            width_in = width
        n = len(cfg.hidden) + 1
        rows.append(LayerRow(f"lin_{n}", "Linear", (NUM_CLASSES,), width_in * NUM_CLASSES + NUM_CLASSES))
        return rows

    size, c_in = IMAGE_SIZE, 1
    last = len(cfg.channels)
    for i, (c, k, s, p) in enumerate(zip(cfg.channels, cfg.kernel_sizes(), cfg.strides(), cfg.paddings()), start=1):
        conv = _conv_out(size, k, s, p)
        if conv < 1:
            raise ConfigError("kernel_size", f"conv layer {i} (kernel {k}, stride {s}, padding {p}) gets a {size}×{size} map "
                             f"and leaves no pixels; use a smaller kernel or stride, more padding, or fewer layers.")
        rows.append(LayerRow(f"conv_{i}", f"Conv2d {k}×{k}/{s}", (c, conv, conv), c_in * c * k * k + c))
        rows.append(LayerRow(f"act_{i}", acts[i - 1], (c, conv, conv), 0))
        pool_pad = 1 if i == last else 0  # seed 003 pads the last pool so 7×7 → 4×4
        pooled = _conv_out(conv, 2, 2, pool_pad)
        if pooled < 1:
            raise ConfigError("kernel_size", f"the 2×2 max-pool after conv layer {i} gets a {conv}×{conv} map and leaves no "
                             f"pixels; use a smaller kernel or stride, more padding, or fewer layers.")
        rows.append(LayerRow(f"pool_{i}", "MaxPool 2×2", (c, pooled, pooled), 0))
        size, c_in = pooled, c
    flat = c_in * size * size
    rows.append(LayerRow("flatten", "Flatten", (flat,), 0))
    rows.append(LayerRow("fc_1", "Linear", (cfg.fc_width,), flat * cfg.fc_width + cfg.fc_width))
    rows.append(LayerRow("act_fc", "relu", (cfg.fc_width,), 0))
    if cfg.dropout:
        rows.append(LayerRow("drop_fc", f"Dropout({cfg.dropout:g})", (cfg.fc_width,), 0))
    rows.append(LayerRow("fc_2", "Linear", (NUM_CLASSES,), cfg.fc_width * NUM_CLASSES + NUM_CLASSES))
    return rows


def _activation(name: str) -> nn.Module:
    return ACTIVATION_MODULES[name]()


def _init_linear(layer: nn.Module, cfg: ModelConfig) -> None:
    if cfg.init == "default":
        return
    if cfg.init == "he":
        nn.init.kaiming_normal_(layer.weight)  # seed 000: fan_in, gain √2
        nn.init.zeros_(layer.bias)
    elif cfg.init == "xavier":
        nn.init.xavier_uniform_(layer.weight)  # seed 003: bias keeps PyTorch's default
    elif cfg.init == "normal":
        nn.init.normal_(layer.weight, std=cfg.init_std)
        nn.init.zeros_(layer.bias)
    elif cfg.init == "constant":
        nn.init.constant_(layer.weight, cfg.init_value)
        nn.init.zeros_(layer.bias)


def _build_mlp(cfg: ModelConfig) -> nn.Sequential:
    layers: OrderedDict[str, nn.Module] = OrderedDict(flatten=nn.Flatten())
    width_in = IMAGE_SIZE * IMAGE_SIZE
    for i, (width, act) in enumerate(zip(cfg.hidden, cfg.activations()), start=1):
        layers[f"lin_{i}"] = nn.Linear(width_in, width)
        layers[f"act_{i}"] = _activation(act)
        if cfg.dropout:
            layers[f"drop_{i}"] = nn.Dropout(cfg.dropout)
        width_in = width
    layers[f"lin_{len(cfg.hidden) + 1}"] = nn.Linear(width_in, NUM_CLASSES)
    model = nn.Sequential(layers)
    for module in model:
        if isinstance(module, nn.Linear):
            _init_linear(module, cfg)
    return model


def _build_cnn(cfg: ModelConfig) -> nn.Sequential:
    rows = {row.name: row for row in layer_table(cfg)}  # validates the shapes first
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    c_in, last = 1, len(cfg.channels)
    specs = zip(cfg.channels, cfg.kernel_sizes(), cfg.strides(), cfg.paddings(), cfg.activations())
    for i, (c, k, s, p, act) in enumerate(specs, start=1):
        layers[f"conv_{i}"] = nn.Conv2d(c_in, c, kernel_size=k, stride=s, padding=p)
        layers[f"act_{i}"] = _activation(act)
        layers[f"pool_{i}"] = nn.MaxPool2d(kernel_size=2, stride=2, padding=1 if i == last else 0)
        c_in = c
    layers["flatten"] = nn.Flatten()
    layers["fc_1"] = nn.Linear(rows["flatten"].output_shape[0], cfg.fc_width)
    layers["act_fc"] = nn.ReLU()
    if cfg.dropout:
        layers["drop_fc"] = nn.Dropout(cfg.dropout)
    layers["fc_2"] = nn.Linear(cfg.fc_width, NUM_CLASSES)
    model = nn.Sequential(layers)
    _init_linear(model.fc_1, cfg)
    _init_linear(model.fc_2, cfg)
    return model


def build_model(cfg: ModelConfig) -> nn.Sequential:
    """A fresh model for ``cfg`` (seed torch first for reproducible weights)."""
    return _build_mlp(cfg) if cfg.family == "mlp" else _build_cnn(cfg)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def parameter_listing(model: nn.Module, first: int = 5) -> list[dict]:
    """Seed 000's "Check Parameters" printout as rows: index, name, shape, first values."""
    return [
        {"index": i, "name": name, "shape": tuple(p.shape),
         "first values": p.detach().flatten()[:first].cpu().tolist()}
        for i, (name, p) in enumerate(model.named_parameters())
    ]


def weight_layers(model: nn.Module, kind: type[nn.Module] | tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv2d)
                  ) -> list[tuple[str, nn.Module]]:
    """The layers that carry weights (Linear and Conv2d, or only ``kind``), in forward order, by name."""
    return [(name, m) for name, m in model.named_children() if isinstance(m, kind)]


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode (dropout off) inside the block, the model's own mode restored after it.

    The model may be shared (the session's current model, a run still training), so whoever
    looks at it must leave it as it was: ``with evaluating(model): logits = model(x)``.
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def describe(cfg: ModelConfig) -> str:
    """A short name for a model config, e.g. "MLP 784-256-10 relu" or "CNN 32-64-128 k3 s1"."""
    if cfg.family == "mlp":
        acts = cfg.activations()
        act = acts[0] if len(set(acts)) == 1 else "/".join(acts)
        return f"MLP {'-'.join(map(str, (784, *cfg.hidden, 10)))}" + (f" {act}" if acts else "")
    ks = cfg.kernel_sizes()
    ss = cfg.strides()
    k = ks[0] if len(set(ks)) == 1 else "/".join(map(str, ks))
    s = ss[0] if len(set(ss)) == 1 else "/".join(map(str, ss))
    return f"CNN {'-'.join(map(str, cfg.channels))} k{k} s{s} fc{cfg.fc_width}"




# ---------------------------------------------------------------------------------------------
# memory


BYTES_PER_FLOAT = 4  # float32 everywhere
# optimiser state per parameter, in floats: Adam keeps two moments, SGD a momentum buffer when it has one
OPTIMIZER_SLOTS = {"adam": 2, "adamw": 2, "sgd": 0, "rmsprop": 1}


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes that training a network takes: its weights, their gradients, the optimiser's state, and the
    activations one batch keeps for the backward pass (the input and every layer's output but flatten's,
    which is a view)."""

    weights: int
    gradients: int
    optimizer: int
    activations: int
    batch_size: int

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.activations

    def breakdown(self) -> str:
        """ "weights 813 kB, gradients 813 kB, optimiser state 1.6 MB, activations for a batch of 256 3.1 MB"."""
        return (f"weights {format_bytes(self.weights)}, gradients {format_bytes(self.gradients)}, optimiser state "
                f"{format_bytes(self.optimizer)}, activations for a batch of {self.batch_size:,} "
                f"{format_bytes(self.activations)}")


def format_bytes(n: float) -> str:
    """1536 → "1.5 kB", 7.2e10 → "72.0 GB" (powers of 1000)."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def estimate_memory(model_cfg: ModelConfig, train_cfg: TrainConfig) -> MemoryEstimate:
    """What training ``model_cfg`` with ``train_cfg`` needs, from the layer table (nothing is built)."""
    rows = layer_table(model_cfg)
    params = sum(r.params for r in rows)
    slots = OPTIMIZER_SLOTS[train_cfg.optimizer] + (1 if train_cfg.optimizer in ("sgd", "rmsprop")
                                                    and train_cfg.momentum > 0 else 0)
    per_image = sum(math.prod(r.output_shape) for r in rows if r.kind != "Flatten")
    return MemoryEstimate(
        weights=params * BYTES_PER_FLOAT, gradients=params * BYTES_PER_FLOAT,
        optimizer=slots * params * BYTES_PER_FLOAT,
        activations=train_cfg.batch_size * per_image * BYTES_PER_FLOAT, batch_size=train_cfg.batch_size)


def available_memory(device: torch.device | str = "cpu") -> tuple[int | None, str]:
    """(bytes free now, what they are) for ``device``: CUDA's free memory, else the RAM available.

    RAM comes from /proc/meminfo's MemAvailable (Linux), else ``os.sysconf``; (None, …) when
    neither says.
    """
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free), "free GPU memory"
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024, "available RAM"
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "available RAM"
    except (ValueError, OSError, AttributeError):
        return None, "available RAM"


def memory_refusal(model_cfg: ModelConfig, train_cfg: TrainConfig, device: torch.device | str = "cpu",
                   limit: tuple[int | None, str] | None = None, reserved: int = 0, reserved_for: str = "") -> str | None:
    """None when training fits in the memory available on ``device``, else the sentence that refuses it.

    ``limit`` (bytes, what they are) replaces ``available_memory(device)``. ``reserved``: bytes that runs
    already queued or starting will take and the measurement does not hold yet; ``reserved_for`` names them.
    """
    available, what = limit if limit is not None else available_memory(device)
    estimate = estimate_memory(model_cfg, train_cfg)
    if available is None or estimate.total + reserved <= available:
        return None
    needs = f"This network needs about {format_bytes(estimate.total)} to train ({estimate.breakdown()})"
    if reserved and estimate.total <= available:  # it would fit alone: the runs before it hold the rest
        left = max(available - reserved, 0)
        return (f"{needs}, but of the {format_bytes(available)} of {what}, {format_bytes(reserved)} is held for "
                f"{reserved_for}, which leaves {format_bytes(left)}. Wait until it has ended (or stop it), or "
                f"use fewer or narrower layers (or channels), or a smaller batch.")
    return (f"{needs}, more than the {format_bytes(available)} of {what}; use fewer or narrower layers (or "
            f"channels), or a smaller batch.")
