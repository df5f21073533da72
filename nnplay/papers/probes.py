"""Probes: what each hidden layer's units take in and give out while a network trains.

``ActivationProbe`` puts forward hooks on a model's activation layers (``act_1``, ``act_2``, …: their input is
the pre-activation, after batch norm where there is one, their output the activation) and, every ``every``
steps, runs a fixed batch of test images through the model in eval mode to record, per layer, the mean and
standard deviation of the activations and of the pre-activations, the 15th, 50th and 85th percentiles of one
unit's input, and the accuracy on those images. It listens to the engine's events (``engine.train``'s
``on_event``), so the training loop needs no change: the engine reports a burst of steps after taking them,
and a probe run with ``log_every = every`` sees the model exactly at each multiple of ``every``.
``probed_training`` trains a config with a probe and returns the records as plain lists (JSON-able).
Which networks the papers' figures train lives in ``nnplay.papers.studies``.
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
from torch import nn

from ..config import ModelConfig, TrainConfig
from ..data import MnistData, normalise
from ..engine import RunStart, StepEvent, seeded_model, train
from ..models import ACTIVATION_MODULES, evaluating

PERCENTILES = (15, 50, 85)
STATS = ("mean", "std", "input_mean", "input_std", *(f"input_p{p}" for p in PERCENTILES))


def activation_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The model's hidden activation layers by name (``act_1`` …; a CNN's ``act_fc`` too), in forward order."""
    kinds = tuple(set(ACTIVATION_MODULES.values()))
    return [(name, m) for name, m in model.named_children() if name.startswith("act") and isinstance(m, kinds)]


class ActivationProbe:
    """Records each activation layer's statistics on fixed images every ``every`` steps (and before the first).

    ``records`` holds ``steps`` and ``accuracy`` (lists) and ``layers``: name → {stat: list}, one entry per probe.
    ``unit`` is the unit whose input's percentiles are kept (a channel for a conv layer)."""

    def __init__(self, model: nn.Module, images_u8: torch.Tensor, labels: torch.Tensor, every: int, unit: int = 0):
        if every < 1:
            raise ValueError(f"probe every 1 step or more; got {every}.")
        if len(images_u8) == 0:
            raise ValueError("the probe needs at least one image.")
        self.model, self.images, self.labels = model, images_u8, labels
        self.every, self.unit = every, unit
        self.layers = activation_layers(model)
        if not self.layers:
            raise ValueError("this model has no hidden activation layer to probe.")
        self.steps: list[int] = []
        self.accuracy: list[float] = []
        self.losses: list[tuple[int, float]] = []  # every step's training loss, from the engine's events
        self.stats: dict[str, dict[str, list[float]]] = {name: {s: [] for s in STATS} for name, _ in self.layers}

    def take(self, step: int) -> None:
        """Run the fixed images through the model (eval mode, no gradients) and record every layer."""
        seen: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

        def hook(name):
            def keep(module, inputs, output):
                seen[name] = (inputs[0].detach(), output.detach())
            return keep

        handles = [m.register_forward_hook(hook(name)) for name, m in self.layers]
        try:
            device = next(self.model.parameters()).device
            with evaluating(self.model), torch.no_grad():
                logits = self.model(normalise(self.images.to(device)))
        finally:
            for handle in handles:
                handle.remove()
        self.steps.append(step)
        self.accuracy.append((logits.argmax(1).cpu() == self.labels.cpu()).float().mean().item())
        for name, _ in self.layers:
            x, y = (t.float().cpu() for t in seen[name])
            unit = x[:, min(self.unit, x.shape[1] - 1)].flatten()  # one unit (or channel) over the images
            q = torch.quantile(unit, torch.tensor([p / 100 for p in PERCENTILES]))
            values = {"mean": y.mean().item(), "std": y.std().item(), "input_mean": x.mean().item(),
                      "input_std": x.std().item(), **{f"input_p{p}": v for p, v in zip(PERCENTILES, q.tolist())}}
            for stat, value in values.items():
                self.stats[name][stat].append(value if math.isfinite(value) else None)

    def __call__(self, event) -> None:
        """The engine's listener: probe before the first step and at every multiple of ``every``."""
        if isinstance(event, RunStart):
            self.take(0)
        elif isinstance(event, StepEvent):
            self.losses.append((event.step, event.loss))
            if event.step % self.every == 0:
                self.take(event.step)

    @property
    def records(self) -> dict:
        return {"steps": list(self.steps), "accuracy": list(self.accuracy),
                "loss_steps": [s for s, _ in self.losses], "loss": [v for _, v in self.losses],
                "layers": {name: {s: list(v) for s, v in stats.items()} for name, stats in self.stats.items()}}


def probed_training(model_cfg: ModelConfig, train_cfg: TrainConfig, data: MnistData, steps: int, every: int,
                    probe_images: int = 500, unit: int = 0) -> dict:
    """Train ``model_cfg`` for ``steps`` steps of ``train_cfg.batch_size`` on ``data`` with a probe every ``every``
    steps on its first ``probe_images`` test images; the probe's records plus how the run ended."""
    if steps < 1:
        raise ValueError(f"train for at least 1 step; got {steps}.")
    n = len(data.train_images)
    per_epoch = min(n, steps * train_cfg.batch_size)
    epochs = math.ceil(steps * train_cfg.batch_size / per_epoch)
    subset = data.limited(per_epoch, probe_images)
    model = seeded_model(model_cfg, train_cfg.seed)
    probe = ActivationProbe(model, subset.test_images, subset.test_labels, every, unit)
    cfg = replace(train_cfg, epochs=epochs, log_every=every)
    result = train(model, subset, cfg, on_event=probe)
    return {**probe.records, "status": result.status, "message": result.message, "every": every}

