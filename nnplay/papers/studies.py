"""The figure rows' trainings: what each of Glorot & Bengio, Ioffe & Szegedy, He et al. and Smith trains, at a
size a CPU affords, and the plain (JSON-able) dict of results each returns for ``nnplay.figures.papers``.

``run_study(key, data=…)`` is the entry the page submits through ``runs.call_in_worker`` (where runs train:
a worker of the pool, or a thread here); ``size`` "quick" is the page's default, "tiny" the tests'. Each result
names its ``variants`` (the curves the figure compares) with a probe's records (``probes.probed_training``).
Nothing here stores or draws.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable

from ..config import DataConfig, ModelConfig, TrainConfig
from ..data import MnistData
from ..engine import seeded_model, train
from ..lessons.experiments import lr_range_test
from .probes import probed_training

# (steps, probe every, probe images) per size
SIZES = {"quick": (3000, 100, 300), "tiny": (20, 5, 50)}


def _size(size: str) -> tuple[int, int, int]:
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}; got {size!r}.")
    return SIZES[size]


def glorot(data: MnistData, size: str = "quick") -> dict:
    """Four sigmoid hidden layers (default init), then tanh, then tanh with Xavier: each layer's activations."""
    steps, every, images = _size(size)
    train_cfg = TrainConfig(optimizer="sgd", lr=0.1, batch_size=32, seed=0)
    variants = {
        "sigmoid": ModelConfig(hidden=(300,) * 4, activation="sigmoid", init="default"),
        "tanh": ModelConfig(hidden=(300,) * 4, activation="tanh", init="default"),
        "tanh, Xavier init": ModelConfig(hidden=(300,) * 4, activation="tanh", init="xavier"),
    }
    return {"key": "glorot", "size": size, "variants": {
        name: probed_training(model, train_cfg, data, steps, every, images) for name, model in variants.items()}}


def ioffe(data: MnistData, size: str = "quick") -> dict:
    """3×100 sigmoid with and without batch norm: test accuracy, and one last-layer sigmoid's input percentiles."""
    steps, every, images = _size(size)
    train_cfg = TrainConfig(optimizer="sgd", lr=0.5, batch_size=60, seed=0)
    model = ModelConfig(hidden=(100, 100, 100), activation="sigmoid", init="normal", init_std=1.0)
    variants = {"without batch norm": model, "with batch norm": replace(model, batch_norm=True)}
    return {"key": "ioffe", "size": size, "layer": "act_3", "variants": {
        name: probed_training(m, train_cfg, data, steps, every, max(images, 500 if size == "quick" else images))
        for name, m in variants.items()}}


def he(data: MnistData, size: str = "quick") -> dict:
    """A 20-layer ReLU MLP of 128 units, Xavier against He init: the training loss over steps."""
    steps, every, images = _size(size)
    steps = min(steps, 1000)
    train_cfg = TrainConfig(optimizer="sgd", lr=0.01, momentum=0.9, batch_size=64, seed=0, max_loss=1e6)
    base = ModelConfig(hidden=(128,) * 20, activation="relu")
    variants = {"Xavier init": replace(base, init="xavier"), "He init": replace(base, init="he")}
    return {"key": "he", "size": size, "variants": {
        name: probed_training(m, train_cfg, data, steps, every, images) for name, m in variants.items()}}


SMITH_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
SMITH_MODEL = ModelConfig(hidden=(256,), activation="relu", init="he")


def smith(data: MnistData, size: str = "quick") -> dict:
    """The range test's suggested SGD rate against the best of a small sweep (one pass each, same images)."""
    steps, _, images = _size(size)
    train_images = min(len(data.train_images), 10_000 if size == "quick" else steps * 10)
    subset = data.limited(train_images, 2_000 if size == "quick" else images)
    range_steps = 200 if size == "quick" else 10
    lrs, losses, suggested = lr_range_test(SMITH_MODEL, subset, start=1e-4, end=10.0, steps=range_steps,
                                           batch_size=50, optimizer="sgd")
    sweep = []
    for lr in SMITH_RATES:
        cfg = TrainConfig(optimizer="sgd", lr=lr, batch_size=50, epochs=1, seed=0, max_loss=1e6)
        result = train(seeded_model(SMITH_MODEL, 0), subset, cfg)
        final = result.history.epochs[-1] if result.history.epochs else None
        accuracy = final.test_accuracy if final is not None and result.status == "finished" else None
        sweep.append({"lr": lr, "accuracy": accuracy, "status": result.status})
    scored = [s for s in sweep if s["accuracy"] is not None and math.isfinite(s["accuracy"])]
    best = max(scored, key=lambda s: s["accuracy"])["lr"] if scored else None
    return {"key": "smith", "size": size, "range": {"lrs": lrs, "losses": losses, "suggested": suggested},
            "sweep": sweep, "best": best, "train_images": train_images}


STUDIES: dict[str, Callable[..., dict]] = {"glorot": glorot, "ioffe": ioffe, "he": he, "smith": smith}

# the largest network each study trains at once, for the memory check before it starts (runs.refusal_for)
STUDY_CONFIGS: dict[str, tuple[ModelConfig, TrainConfig]] = {
    "glorot": (ModelConfig(hidden=(300,) * 4, activation="tanh"), TrainConfig(optimizer="sgd", batch_size=32)),
    "ioffe": (ModelConfig(hidden=(100,) * 3, activation="sigmoid", batch_norm=True),
              TrainConfig(optimizer="sgd", batch_size=60)),
    "he": (ModelConfig(hidden=(128,) * 20), TrainConfig(optimizer="sgd", momentum=0.9, batch_size=64)),
    "smith": (SMITH_MODEL, TrainConfig(optimizer="sgd", batch_size=50)),
}


def run_study(key: str, data: MnistData, size: str = "quick") -> dict:
    """The figure row ``key``'s trainings on ``data``; ValueError for an unknown key or size."""
    if key not in STUDIES:
        raise ValueError(f"no figure row {key!r}; the rows are {', '.join(STUDIES)}.")
    return STUDIES[key](data, size)


def study_data_config() -> DataConfig:
    """What a worker loads for a study: the whole dataset (each study takes the images it needs)."""
    return DataConfig()
