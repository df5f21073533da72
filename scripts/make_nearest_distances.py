"""Measure MNIST's test digits' nearest distances once: ``nnplay/assets/mnist_nearest.npz``.

What lives here: the one-off script that makes the file ``nnplay.handwriting.known`` answers from, so that no
server measures the 10,000 × 60,000 comparisons again: in pixels (they depend on the data only) and in the last
hidden layer of the shipped default model (``nnplay/assets/default_model.pt``; rerun this script whenever that
model is made again). It measures them with ``nnplay.handwriting.nearest``'s own functions, on the full MNIST of
``NNPLAY_DATA_DIR``, and writes the digests the answers are checked against. About 25 s on 2 cores;
``tests/test_nearest.py`` checks a sample of the file against a fresh measure.

    NNPLAY_DATA_DIR=../shared/data python scripts/make_nearest_distances.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nnplay.checkpoint import load_checkpoint  # noqa: E402
from nnplay.config import DataConfig  # noqa: E402
from nnplay.data import load_mnist  # noqa: E402
from nnplay.handwriting.known import KNOWN_FILE, PIXELS, features_key, write_known  # noqa: E402
from nnplay.handwriting.nearest import _nearest, _split, model_key, points  # noqa: E402

DEFAULT_MODEL_FILE = Path(__file__).resolve().parent.parent / "nnplay" / "assets" / "default_model.pt"  # the app's


def main() -> int:
    data = load_mnist(DataConfig(download=False))
    if data.source != "full":
        print("NNPLAY_DATA_DIR does not hold the full MNIST; the distances are MNIST's.", file=sys.stderr)
        return 2
    model = load_checkpoint(DEFAULT_MODEL_FILE)[0].eval()
    distances = {}
    for key, space, net in ((PIXELS, "pixels", None), (features_key(model_key(model)), "features", model)):
        started = time.perf_counter()
        directions, lengths = _split(points(net, data.train_images, space))
        distances[key] = _nearest(directions, lengths, points(net, data.test_images, space))
        print(f"{space}: {len(data.test_images):,} test digits against {len(directions):,} training digits in "
              f"{time.perf_counter() - started:.1f} s")
    write_known(KNOWN_FILE, data.train_images, data.test_images, distances)
    print(f"{KNOWN_FILE} ({KNOWN_FILE.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
