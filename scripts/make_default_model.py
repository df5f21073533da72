"""Train the model the Draw page ships with: ``nnplay/assets/default_model.pt``.

What lives here: a one-off script that trains the "seed-mlp" preset (784-256-10, ReLU, He init,
Adam 1e-3, batch 256) for a few epochs on the full MNIST training set with nnplay's own engine,
seed 0, and saves it with ``nnplay.checkpoint.save_checkpoint`` (float32, about 0.8 MB).
What does not live here: loading it (the Draw page, through ``nnplay.ui``), and anything the app
imports; this script is never imported.

    NNPLAY_DATA_DIR=/path/to/data python scripts/make_default_model.py [--epochs 3]
    python scripts/bench_draw.py        # check it on the drawing path

The result is deterministic on the CPU: same data + same seed → the same weights.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nnplay.checkpoint import save_checkpoint  # noqa: E402
from nnplay.config import PRESETS, DataConfig  # noqa: E402
from nnplay.data import load_mnist  # noqa: E402
from nnplay.engine import EpochMetrics, seeded_model, train  # noqa: E402

OUT = ROOT / "nnplay" / "assets" / "default_model.pt"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)

    data = load_mnist(DataConfig(download=False))
    if data.source != "full":
        print("real MNIST not found: set NNPLAY_DATA_DIR to a folder holding MNIST/raw/*.gz", file=sys.stderr)
        return 1
    preset = PRESETS["seed-mlp"]
    cfg = dataclasses.replace(preset.train, epochs=args.epochs, seed=args.seed, device="cpu")
    model = seeded_model(preset.model, cfg.seed)

    def report(event) -> None:
        if isinstance(event, EpochMetrics):
            print(f"epoch {event.epoch}: train loss {event.train_loss:.4f}, test accuracy "
                  f"{event.test_accuracy:.4f} ({event.seconds:.1f} s)")

    result = train(model, data, cfg, on_event=report)
    if result.status != "finished":
        print(result.message, file=sys.stderr)
        return 1
    final = result.history.epochs[-1]
    meta = {
        "label": f"default model: {preset.title}, {args.epochs} epochs, seed {args.seed}",
        "preset": preset.key,
        "epochs": args.epochs,
        "seed": args.seed,
        "test_accuracy": final.test_accuracy,
    }
    save_checkpoint(model.cpu(), preset.model, args.out, meta=meta)
    size = Path(args.out).stat().st_size
    print(f"wrote {args.out}: {size / 1024:.0f} KiB, test accuracy {final.test_accuracy:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
