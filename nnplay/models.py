"""Models: the MLP and the CNN built from a ``ModelConfig``, their layer table and initialisation.

Both take float images (B, 1, 28, 28) and return logits (B, 10), optionally with batch norm after every
hidden linear or conv layer (``bn_1`` …, before its activation); the CNN pools by max or average and
ends in one or more fully connected layers (``fc_names``). They are plain
``nn.Sequential`` stacks with named children, so a parameter's name says where it lives
(``lin_1.weight`` as in seed 000; ``conv_1.weight``, ``fc_1.weight`` for the CNN of seed 003).
Shapes are computed layer by layer before anything is built, so a CNN that would shrink the
map below 1×1 is refused with a sentence naming the layer (a ``ConfigError`` on ``kernel_size``).
``estimate_memory`` adds up what training a config needs (weights, gradients, optimiser state,
activations for one batch) from that table, before anything is built, and ``memory_refusal`` says
when it does not fit in the memory available (``available_memory``) beside what runs already admitted hold. ``weight_layers`` lists a model's
Linear/Conv2d layers by name (``folded_linear`` gives the Linear ones with the batch norm after them folded in,
as eval mode computes them; ``apply_max_norm`` clips their incoming weight vectors); ``evaluating`` puts a (possibly shared) model in eval mode for a
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


def fc_names(cfg: ModelConfig) -> list[tuple[str, str, str]]:
    """CNN: (linear, batch norm, activation) names of each fully connected layer before the output.

    One layer keeps seed 003's names (``fc_1``, ``act_fc``); more are numbered (``act_fc_1``, ``act_fc_2``, …).
    """
    widths = cfg.fc_widths()
    tag = (lambda i: "fc") if len(widths) == 1 else (lambda i: f"fc_{i}")
    return [(f"fc_{i}", f"bn_{tag(i)}", f"act_{tag(i)}") for i in range(1, len(widths) + 1)]


def pool_padding(cfg: ModelConfig, i: int) -> int:
    # seed 003 pads the last max-pool so 7×7 → 4×4; LeNet's average subsampling never pads
    return 1 if cfg.pool == "max" and i == len(cfg.channels) else 0


def layer_table(cfg: ModelConfig) -> list[LayerRow]:
    """Every layer with its output shape and parameter count; ValueError if a CNN runs out of pixels."""
    rows: list[LayerRow] = [LayerRow("input", "image", (1, IMAGE_SIZE, IMAGE_SIZE), 0)]
    acts = cfg.activations()
    if cfg.family == "mlp":
        rows.append(LayerRow("flatten", "Flatten", (IMAGE_SIZE * IMAGE_SIZE,), 0))
        width_in = IMAGE_SIZE * IMAGE_SIZE
        for i, width in enumerate(cfg.hidden, start=1):
            rows.append(LayerRow(f"lin_{i}", "Linear", (width,), width_in * width + width))
            if cfg.batch_norm:
                rows.append(LayerRow(f"bn_{i}", "BatchNorm1d", (width,), 2 * width))
            rows.append(LayerRow(f"act_{i}", acts[i - 1], (width,), 0))
            if cfg.dropout:
                rows.append(LayerRow(f"drop_{i}", f"Dropout({cfg.dropout:g})", (width,), 0))
            width_in = width
        n = len(cfg.hidden) + 1
        rows.append(LayerRow(f"lin_{n}", "Linear", (NUM_CLASSES,), width_in * NUM_CLASSES + NUM_CLASSES))
        return rows

    size, c_in = IMAGE_SIZE, 1
    pool_kind = "MaxPool" if cfg.pool == "max" else "AvgPool"
    for i, (c, k, s, p) in enumerate(zip(cfg.channels, cfg.kernel_sizes(), cfg.strides(), cfg.paddings()), start=1):
        conv = _conv_out(size, k, s, p)
        if conv < 1:
            raise ConfigError("kernel_size", f"conv layer {i} (kernel {k}, stride {s}, padding {p}) gets a {size}×{size} map "
                             f"and leaves no pixels; use a smaller kernel or stride, more padding, or fewer layers.")
        rows.append(LayerRow(f"conv_{i}", f"Conv2d {k}×{k}/{s}", (c, conv, conv), c_in * c * k * k + c))
        if cfg.batch_norm:
            rows.append(LayerRow(f"bn_{i}", "BatchNorm2d", (c, conv, conv), 2 * c))
        rows.append(LayerRow(f"act_{i}", acts[i - 1], (c, conv, conv), 0))
        pooled = _conv_out(conv, 2, 2, pool_padding(cfg, i))
        if pooled < 1:
            raise ConfigError("kernel_size", f"the 2×2 {cfg.pool}-pool after conv layer {i} gets a {conv}×{conv} map "
                             f"and leaves no pixels; use a smaller kernel or stride, more padding, or fewer layers.")
        rows.append(LayerRow(f"pool_{i}", f"{pool_kind} 2×2", (c, pooled, pooled), 0))
        size, c_in = pooled, c
    width_in = c_in * size * size
    rows.append(LayerRow("flatten", "Flatten", (width_in,), 0))
    names = fc_names(cfg)
    for (lin, bn, act), width in zip(names, cfg.fc_widths()):
        rows.append(LayerRow(lin, "Linear", (width,), width_in * width + width))
        if cfg.batch_norm:
            rows.append(LayerRow(bn, "BatchNorm1d", (width,), 2 * width))
        rows.append(LayerRow(act, cfg.fc_activation, (width,), 0))
        width_in = width
    if cfg.dropout:
        rows.append(LayerRow("drop_fc", f"Dropout({cfg.dropout:g})", (width_in,), 0))
    rows.append(LayerRow(f"fc_{len(names) + 1}", "Linear", (NUM_CLASSES,), width_in * NUM_CLASSES + NUM_CLASSES))
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
        if cfg.batch_norm:
            layers[f"bn_{i}"] = nn.BatchNorm1d(width)
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
    c_in = 1
    pool = nn.MaxPool2d if cfg.pool == "max" else nn.AvgPool2d
    specs = zip(cfg.channels, cfg.kernel_sizes(), cfg.strides(), cfg.paddings(), cfg.activations())
    for i, (c, k, s, p, act) in enumerate(specs, start=1):
        layers[f"conv_{i}"] = nn.Conv2d(c_in, c, kernel_size=k, stride=s, padding=p)
        if cfg.batch_norm:
            layers[f"bn_{i}"] = nn.BatchNorm2d(c)
        layers[f"act_{i}"] = _activation(act)
        layers[f"pool_{i}"] = pool(kernel_size=2, stride=2, padding=pool_padding(cfg, i))
        c_in = c
    layers["flatten"] = nn.Flatten()
    width_in = rows["flatten"].output_shape[0]
    names = fc_names(cfg)
    for (lin, bn, act), width in zip(names, cfg.fc_widths()):
        layers[lin] = nn.Linear(width_in, width)
        if cfg.batch_norm:
            layers[bn] = nn.BatchNorm1d(width)
        layers[act] = _activation(cfg.fc_activation)
        width_in = width
    if cfg.dropout:
        layers["drop_fc"] = nn.Dropout(cfg.dropout)
    layers[f"fc_{len(names) + 1}"] = nn.Linear(width_in, NUM_CLASSES)
    model = nn.Sequential(layers)
    for name, module in weight_layers(model, nn.Linear):
        _init_linear(module, cfg)
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


def has_batch_norm(model: nn.Module) -> bool:
    """True when the model normalises batches (it then needs two or more images per training batch)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def folded_linear(model: nn.Module) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """(name, weight (out, in), bias (out,)) of every Linear child, each with the batch norm that follows it
    folded in as eval mode computes it: W' = γ/√(var+ε)·W, b' = γ/√(var+ε)·(b − mean) + β (detached, CPU)."""
    children = list(model.named_children())
    out = []
    for i, (name, m) in enumerate(children):
        if not isinstance(m, nn.Linear):
            continue
        w = m.weight.detach().cpu()
        b = m.bias.detach().cpu() if m.bias is not None else torch.zeros(m.out_features)
        after = children[i + 1][1] if i + 1 < len(children) else None
        if isinstance(after, nn.BatchNorm1d):
            scale = after.running_var.detach().cpu().add(after.eps).rsqrt()
            if after.weight is not None:
                scale = scale * after.weight.detach().cpu()
            shift = after.bias.detach().cpu() if after.bias is not None else torch.zeros_like(scale)
            w = w * scale[:, None]
            b = (b - after.running_mean.detach().cpu()) * scale + shift
        out.append((name, w, b))
    return out


@torch.no_grad()
def apply_max_norm(model: nn.Module, max_norm: float) -> None:
    """Rescale each unit's incoming weight vector (a Linear row, a conv output channel) to L2 norm ≤ ``max_norm``
    (Srivastava et al. 2014); biases and batch-norm scales are left alone."""
    for _, layer in weight_layers(model):
        layer.weight.renorm_(p=2, dim=0, maxnorm=max_norm)


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
        return (f"MLP {'-'.join(map(str, (784, *cfg.hidden, 10)))}" + (f" {act}" if acts else "")
                + (" bn" if cfg.batch_norm and cfg.hidden else ""))
    ks = cfg.kernel_sizes()
    ss = cfg.strides()
    k = ks[0] if len(set(ks)) == 1 else "/".join(map(str, ks))
    s = ss[0] if len(set(ss)) == 1 else "/".join(map(str, ss))
    fc = "-".join(map(str, cfg.fc_widths()))
    knobs = (" avg-pool" if cfg.pool == "avg" else "") + (" bn" if cfg.batch_norm else "")
    return f"CNN {'-'.join(map(str, cfg.channels))} k{k} s{s}{' fc' + fc if fc else ''}{knobs}"




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
