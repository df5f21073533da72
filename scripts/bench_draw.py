"""Benchmark: does the drawing path keep MNIST digits recognisable?

What lives here: a script that takes a trained nnplay checkpoint, measures its accuracy on the
real MNIST test set, pushes the same digits through the canvas path (28 → 280 px, then
``nnplay.lessons.draw.to_mnist``: crop, scale to 20 px, centre by mass) and measures it again. The ratio
roundtrip / plain should be at least 0.97: if it is, what the Draw page feeds the model looks
like what the model was trained on.
What does not live here: the preprocessing itself (``nnplay/lessons/draw.py``) and its unit tests.

    NNPLAY_DATA_DIR=/path/to/data python scripts/bench_draw.py [CHECKPOINT] [--limit N]

CHECKPOINT defaults to the shipped ``nnplay/assets/default_model.pt``. Exit status 1 when the
ratio is below ``--target``.

With ``--latency-url URL`` it measures instead, in headless Chromium (Playwright, /usr/bin/chromium),
the time from the end of a stroke on the Draw page of an app already running at URL to the
probability bars showing new numbers, over ``--strokes`` strokes, and prints the median and the
95th percentile (target: p95 ≤ 250 ms). The window is 2400 px tall (``--window-height``), so the network
view and the neuron panel are in sight and redrawn after every stroke too. Start the app first, e.g.

    streamlit run app.py --server.headless true --server.port 8501 --server.fileWatcherType none
    python scripts/bench_draw.py --latency-url http://localhost:8501/draw
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nnplay.checkpoint import load_checkpoint  # noqa: E402
from nnplay.config import DataConfig  # noqa: E402
from nnplay.data import load_mnist  # noqa: E402
from nnplay.lessons.draw import mnist_roundtrip  # noqa: E402
from nnplay.engine import evaluate  # noqa: E402
from nnplay.devtools import draw_stroke_seconds  # noqa: E402

DEFAULT_CHECKPOINT = ROOT / "nnplay" / "assets" / "default_model.pt"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", nargs="?", default=str(DEFAULT_CHECKPOINT), help="an nnplay checkpoint (.pt)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N test images")
    parser.add_argument("--canvas", type=int, default=280, help="simulated canvas size in pixels")
    parser.add_argument("--target", type=float, default=0.97, help="lowest acceptable roundtrip/plain ratio")
    parser.add_argument("--latency-url", default=None, help="measure stroke → bars latency on this Draw page URL")
    parser.add_argument("--strokes", type=int, default=30, help="strokes to time with --latency-url")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--window-height", type=int, default=2400,
                        help="the browser window's height in px: 2400 (the default) shows the network view and the "
                             "neuron panel beside the canvas, so they are redrawn after every stroke; 1000 leaves "
                             "them below the window, where they wait until scrolled to")
    args = parser.parse_args(argv)
    if args.latency_url:
        return latency(args.latency_url, args.strokes, args.chromium, args.window_height)

    data = load_mnist(DataConfig(download=False))
    if data.source != "full":
        print("note: real MNIST not found (set NNPLAY_DATA_DIR); using the built-in sample", file=sys.stderr)
    images, labels = data.test_images[: args.limit], data.test_labels[: args.limit]
    model, model_cfg, _ = load_checkpoint(args.checkpoint)

    plain = evaluate(model, images, labels)
    t0 = time.perf_counter()
    drawn = torch.from_numpy(mnist_roundtrip(images.numpy(), canvas=args.canvas))
    seconds = time.perf_counter() - t0
    roundtrip = evaluate(model, drawn, labels)
    ratio = roundtrip.accuracy / plain.accuracy if plain.accuracy else 0.0

    print(f"checkpoint        {args.checkpoint} ({model_cfg.family}, hidden {model_cfg.hidden})")
    print(f"test images       {len(images)} ({data.source})")
    print(f"plain accuracy    {plain.accuracy:.4f}")
    print(f"roundtrip acc.    {roundtrip.accuracy:.4f}   ({seconds:.1f} s, {1e3 * seconds / len(images):.2f} ms/image)")
    print(f"ratio             {ratio:.4f}   (target ≥ {args.target})")
    return 0 if ratio >= args.target else 1


BARS_TEXT = "() => { const c = document.querySelector('.st-key-draw_bars'); return c ? c.textContent : ''; }"


def latency(url: str, strokes: int, chromium: str, height: int = 2400) -> int:
    """Time mouse-up → new numbers on the bars for ``strokes`` strokes; print p50 and p95."""
    times = draw_stroke_seconds(url, strokes, chromium, BARS_TEXT, f"(before) => ({BARS_TEXT})() !== before",
                                height=height)
    ms = np.array(times) * 1000
    print(f"strokes timed     {len(ms)} of {strokes}")
    print(f"stroke → bars     median {np.median(ms):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, "
          f"max {ms.max():.0f} ms   (target p95 ≤ 250 ms)")
    return 0 if np.percentile(ms, 95) <= 250 else 1


if __name__ == "__main__":
    sys.exit(main())
