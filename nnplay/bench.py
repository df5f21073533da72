"""Benchmark: seed 000's training loop, exactly as the seed wrote it, against the nnplay engine.

Both run in one process on the same MNIST files and the same device. The seed loop uses
torchvision's ``datasets.MNIST`` with ``transforms.ToTensor()`` and a ``DataLoader`` (batch 256,
shuffle, ``num_workers=1``); its epoch time is the training loop alone, as the engine's is.
torchvision unpacks the ``.gz`` files next to themselves, so they are unpacked into a temporary
folder first and the original folder stays untouched.
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import PRESETS, DataConfig, TrainConfig
from .data import SPLIT_FILES, default_data_dir, load_mnist
from .engine import pick_device, seeded_model, train


class MultiLayerPerceptronClass(nn.Module):
    """Seed 000's model, verbatim apart from formatting."""

    def __init__(self, name="mlp", xdim=784, hdim=256, ydim=10):
        super().__init__()
        self.name = name
        self.lin_1 = nn.Linear(xdim, hdim)
        self.lin_2 = nn.Linear(hdim, ydim)
        self.init_param()

    def init_param(self):
        nn.init.kaiming_normal_(self.lin_1.weight)
        nn.init.zeros_(self.lin_1.bias)
        nn.init.kaiming_normal_(self.lin_2.weight)
        nn.init.zeros_(self.lin_2.bias)

    def forward(self, x):
        net = x
        net = self.lin_1(net)
        net = F.relu(net)
        net = self.lin_2(net)
        return net


def func_eval(model, data_iter, device):
    """Seed 000's evaluation function."""
    with torch.no_grad():
        model.eval()
        n_total, n_correct = 0, 0
        for batch_in, batch_out in data_iter:
            y_trgt = batch_out.to(device)
            model_pred = model(batch_in.view(-1, 28 * 28).to(device))
            _, y_pred = torch.max(model_pred.data, 1)
            n_correct += (y_pred == y_trgt).sum().item()
            n_total += batch_in.size(0)
        val_accr = n_correct / n_total
        model.train()
    return val_accr


def _unpacked_copy(src_raw: Path, dst_root: Path) -> None:
    raw = dst_root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for stem in (s for pair in SPLIT_FILES.values() for s in pair):
        gz, plain = src_raw / f"{stem}.gz", src_raw / stem
        if plain.exists():
            shutil.copyfile(plain, raw / stem)
        else:
            (raw / stem).write_bytes(gzip.decompress(gz.read_bytes()))


def seed_loop(root: Path, epochs: int, device: torch.device,
              train_limit: int | None = None) -> tuple[list[float], float]:
    """Seed 000's loop: returns (seconds per epoch, test accuracy after the last epoch).

    ``train_limit`` trains on the first N training images only (a ``Subset``), as the engine's
    ``DataConfig.train_limit`` does; the test set stays whole.
    """
    from torchvision import datasets, transforms

    mnist_train = datasets.MNIST(root=str(root), train=True, transform=transforms.ToTensor(), download=False)
    if train_limit is not None:
        mnist_train = torch.utils.data.Subset(mnist_train, range(min(train_limit, len(mnist_train))))
    mnist_test = datasets.MNIST(root=str(root), train=False, transform=transforms.ToTensor(), download=False)
    BATCH_SIZE = 256
    train_iter = torch.utils.data.DataLoader(mnist_train, batch_size=BATCH_SIZE, shuffle=True, num_workers=1)
    test_iter = torch.utils.data.DataLoader(mnist_test, batch_size=BATCH_SIZE, shuffle=True, num_workers=1)
    torch.manual_seed(0)
    M = MultiLayerPerceptronClass(name="mlp", xdim=784, hdim=256, ydim=10).to(device)
    loss = nn.CrossEntropyLoss()
    optm = torch.optim.Adam(M.parameters(), lr=1e-3)
    M.init_param()
    M.train()
    times = []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        loss_val_sum = 0
        for batch_in, batch_out in train_iter:
            y_pred = M.forward(batch_in.view(-1, 28 * 28).to(device))
            loss_out = loss(y_pred, batch_out.to(device))
            optm.zero_grad()
            loss_out.backward()
            optm.step()
            loss_val_sum += loss_out
        loss_val_avg = loss_val_sum / len(train_iter)  # noqa: F841 (the seed computes it)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return times, func_eval(M, test_iter, device)


def run_bench(epochs: int = 1, data_dir: str | None = None, device: str = "auto",
              train_limit: int | None = None) -> dict:
    """Time both loops for ``epochs`` epochs; return a dict with times, accuracies and the ratio.

    ``train_limit``: both loops train on the same first N images (a quick check; the full
    benchmark, and its targets in docs/benchmarks.md, use all 60,000).
    """
    if train_limit is not None and train_limit < 1:
        raise ValueError(f"train_limit must be at least 1 image; got {train_limit}.")
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    src_raw = data_dir / "MNIST" / "raw"
    if not (src_raw / "train-images-idx3-ubyte.gz").exists() and not (src_raw / "train-images-idx3-ubyte").exists():
        raise FileNotFoundError(f"the benchmark needs the full MNIST in {src_raw}; set NNPLAY_DATA_DIR or --data-dir.")
    dev = pick_device(device)

    data = load_mnist(DataConfig(data_dir=str(data_dir), download=False, train_limit=train_limit))
    preset = PRESETS["seed-mlp"]
    cfg = TrainConfig(**{**preset.train.__dict__, "epochs": epochs, "device": device})
    result = train(seeded_model(preset.model, 0), data, cfg)
    engine_times = [e.seconds for e in result.history.epochs]
    engine_acc = result.history.epochs[-1].test_accuracy

    with tempfile.TemporaryDirectory(prefix="nnplay-bench-") as tmp:
        _unpacked_copy(src_raw, Path(tmp))
        seed_times, seed_acc = seed_loop(Path(tmp), epochs, dev, train_limit)

    seed_mean = sum(seed_times) / len(seed_times)
    engine_mean = sum(engine_times) / len(engine_times)
    ratio = seed_mean / engine_mean
    lines = [
        f"device: {result.device}, {len(data.train_images):,} training images",
        f"seed 000 loop : {', '.join(f'{t:.3f}' for t in seed_times)} s/epoch, test accuracy {seed_acc:.4f}",
        f"nnplay engine : {', '.join(f'{t:.3f}' for t in engine_times)} s/epoch, test accuracy {engine_acc:.4f}",
        f"speed-up      : {ratio:.2f}x (seed mean / engine mean)",
    ]
    return {"device": result.device, "epochs": epochs, "train_images": len(data.train_images),
            "seed_epoch_seconds": seed_times,
            "engine_epoch_seconds": engine_times, "seed_test_accuracy": seed_acc,
            "engine_test_accuracy": engine_acc, "speedup": ratio, "lines": lines}
