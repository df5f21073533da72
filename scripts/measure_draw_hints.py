"""Measure the Draw page's "not a digit" thresholds on real MNIST (nnplay.lessons.draw.drawing_hint).

Every MNIST test digit is drawn on a 280 px canvas the way ``nnplay.lessons.draw.mnist_roundtrip``
does (``mnist_drawings`` → ``to_mnist``), its ``InkShape`` measured and the shipped default model's
entropy computed. The script prints, per feature, the largest value and high percentiles over the
real digits (the thresholds in ``nnplay/lessons/draw.py`` sit above them), then the rates at the
module's thresholds: real digits that would get a hint (false hints) and the ``example_non_digits``
drawings that do (detection), by kind.

    NNPLAY_DATA_DIR=/path/with/MNIST/raw python scripts/measure_draw_hints.py [--limit N]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nnplay.checkpoint import load_checkpoint  # noqa: E402
from nnplay.config import DataConfig  # noqa: E402
from nnplay.data import load_mnist  # noqa: E402
from nnplay.lessons import draw  # noqa: E402

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "nnplay" / "assets" / "default_model.pt"
FEATURES = ("extent", "coverage", "fill", "thinness", "edge", "entropy")


def measure(drawings, model) -> tuple[dict[str, np.ndarray], list]:
    """Per-feature arrays and the hint given to each drawing (None when it passes)."""
    import torch

    rows, hints = {k: [] for k in FEATURES}, []
    for drawing in drawings:
        prep = draw.to_mnist(drawing)
        if prep is None:
            hints.append("empty")
            continue
        shape = draw.ink_shape(drawing, prep)
        with torch.inference_mode():
            probs = draw.predict(model, prep.image)
        for k in FEATURES[:-1]:
            rows[k].append(getattr(shape, k))
        rows["entropy"].append(draw.entropy(probs))
        hint = draw.drawing_hint(shape, probs)
        hints.append(None if hint is None else hint.reason)
    return {k: np.array(v) for k, v in rows.items()}, hints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N test digits")
    parser.add_argument("--non-digits", type=int, default=50, help="examples of each non-digit kind")
    args = parser.parse_args()

    data = load_mnist(DataConfig(download=False))
    if data.source != "full":
        print("warning: real MNIST not found, measuring on the built-in sample:", data.notice)
    model, _, meta = load_checkpoint(DEFAULT_MODEL)
    images = data.test_images[: args.limit] if args.limit else data.test_images
    print(f"model: {DEFAULT_MODEL.name} (test accuracy {meta.get('test_accuracy', float('nan')):.4f}); "
          f"{len(images)} test digits through the canvas path")

    feats, hints = measure(draw.mnist_drawings(images), model)
    print(f"\n{'feature':10s} {'min':>8s} {'p50':>8s} {'p99':>8s} {'p99.9':>8s} {'max':>8s}")
    for k in FEATURES:
        v = feats[k]
        print(f"{k:10s} {v.min():8.3f} {np.median(v):8.3f} {np.percentile(v, 99):8.3f} "
              f"{np.percentile(v, 99.9):8.3f} {v.max():8.3f}")
    false = [h for h in hints if h not in (None, "empty")]
    print(f"\nreal digits given a hint: {len(false)} of {len(hints)} ({len(false) / len(hints):.2%})"
          + (f", by reason {dict(Counter(false))}" if false else ""))
    print(f"real digits that came out empty: {sum(h == 'empty' for h in hints)}")

    examples = draw.example_non_digits(args.non_digits, seed=1)
    print(f"\nnon-digit drawings given a hint ({args.non_digits} of each kind, seed 1):")
    for kind, drawings in examples.items():
        k_feats, k_hints = measure(drawings, model)
        caught = sum(h is not None for h in k_hints)
        reasons = dict(Counter(str(h) for h in k_hints))
        summary = ", ".join(f"{k} {np.median(k_feats[k]):.3f}" for k in FEATURES if len(k_feats[k]))
        print(f"  {kind:9s} {caught}/{len(k_hints)} ({caught / len(k_hints):.0%}) reasons {reasons}; "
              f"medians: {summary}")
    print("\nthresholds in nnplay.lessons.draw: "
          f"FILL_MAX {draw.FILL_MAX}, COVERAGE_MAX {draw.COVERAGE_MAX}, ENTROPY_MAX {draw.ENTROPY_MAX}, "
          f"DOT_EXTENT_MAX {draw.DOT_EXTENT_MAX}, EDGE_MIN {draw.EDGE_MIN}, EDGE_EXTENT_MIN {draw.EDGE_EXTENT_MIN}")


if __name__ == "__main__":
    main()
