"""What issue 25's knobs cost: an epoch's training time with augmentation and with batch norm against without.

For each preset (seed-mlp, seed-cnn) on a subset of MNIST, trains one epoch of the preset as it is, then with
each augmentation (affine, elastic, both) and with batch norm, ``--repeat`` times each in turn, and takes each
variant's best epoch time (``EpochMetrics.seconds``: training only, no evaluation) and best CPU time of the
process over the run (the whole ``train`` call, evaluation of 100 test images included: on a machine other
processes share, the wall time swings with their load and the CPU time much less). Prints one line per variant
with its ratios to the plain epoch and the issue's target (augmentation ≤ 1.3×, batch norm ≤ 1.2×), then a JSON line.
Torch's threads default to what a worker of the app's pool trains a run with on this machine
(``jobs.local.pool_size``: one on up to 3 cores); ``--threads`` sets another count (a CLI run takes every core).

    python scripts/bench_knobs.py [--mlp-images 10000] [--cnn-images 2000] [--repeat 3] [--device cpu] [--threads N]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nnplay.config import PRESETS, DataConfig  # noqa: E402
from nnplay.data import load_mnist  # noqa: E402
from nnplay.engine import seeded_model, train  # noqa: E402
from nnplay.jobs.local import pool_size  # noqa: E402

TARGETS = {"augment": 1.3, "batch_norm": 1.2}
VARIANTS = {  # name → (model changes, training changes, which target)
    "plain": ({}, {}, None),
    "affine": ({}, {"augment": "affine"}, "augment"),
    "elastic": ({}, {"augment": "elastic"}, "augment"),
    "affine+elastic": ({}, {"augment": "affine+elastic"}, "augment"),
    "batch norm": ({"batch_norm": True}, {}, "batch_norm"),
}


def epoch_seconds(preset_key: str, data, device: str, model_changes: dict, train_changes: dict) -> tuple[float, float]:
    """(wall seconds of the epoch's training, CPU seconds of the whole run)."""
    preset = PRESETS[preset_key]
    model_cfg = dataclasses.replace(preset.model, **model_changes)
    train_cfg = dataclasses.replace(preset.train, epochs=1, device=device, **train_changes)
    model = seeded_model(model_cfg, 0)
    cpu = time.process_time()
    result = train(model, data, train_cfg)
    cpu = time.process_time() - cpu
    if result.status != "finished":
        raise SystemExit(f"{preset_key} {model_changes or train_changes}: {result.message}")
    return result.history.epochs[0].seconds, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mlp-images", type=int, default=10000, help="training images for seed-mlp")
    parser.add_argument("--cnn-images", type=int, default=2000, help="training images for seed-cnn")
    parser.add_argument("--repeat", type=int, default=3, help="epochs per variant; the best one counts")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    parser.add_argument("--threads", type=int, default=pool_size(None)[1],
                        help="torch threads (default: a pool worker's on this machine)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    full = load_mnist(DataConfig())
    report: dict[str, dict] = {}
    for key, images in (("seed-mlp", args.mlp_images), ("seed-cnn", args.cnn_images)):
        data = full.limited(images, 100)
        best = {name: math.inf for name in VARIANTS}
        best_cpu = dict(best)
        for _, (model_changes, train_changes, _) in VARIANTS.items():  # warm-up: first-call costs are nobody's
            epoch_seconds(key, data.limited(500, 100), args.device, model_changes, train_changes)
        for _ in range(args.repeat):  # variants interleaved: a busy moment of the machine hits them alike
            for name, (model_changes, train_changes, _) in VARIANTS.items():
                wall, cpu = epoch_seconds(key, data, args.device, model_changes, train_changes)
                best[name], best_cpu[name] = min(best[name], wall), min(best_cpu[name], cpu)
        report[key] = {"images": images, "threads": args.threads, "seconds": {n: round(s, 4) for n, s in best.items()},
                       "cpu_seconds": {n: round(s, 4) for n, s in best_cpu.items()}, "ratio": {}, "cpu_ratio": {}}
        print(f"{key}, one epoch of {images:,} images on {args.device} ({args.threads} threads): "
              f"plain {best['plain']:.3f} s (CPU {best_cpu['plain']:.3f} s)")
        for name, (_, _, target) in VARIANTS.items():
            if target is None:
                continue
            ratio, cpu_ratio = best[name] / best["plain"], best_cpu[name] / best_cpu["plain"]
            report[key]["ratio"][name], report[key]["cpu_ratio"][name] = round(ratio, 3), round(cpu_ratio, 3)
            verdict = "met" if min(ratio, cpu_ratio) <= TARGETS[target] else "MISSED"
            print(f"  {name:<15} {best[name]:.3f} s  {ratio:.2f}×  CPU {cpu_ratio:.2f}×  "
                  f"(target ≤ {TARGETS[target]}×: {verdict})")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
