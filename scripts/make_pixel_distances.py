"""Measure MNIST's test digits' nearest pixel distances once: ``nnplay/assets/mnist_pixel_nearest.npz``.

What lives here: the one-off script that makes the file ``nnplay.handwriting.known`` answers from, so that no
server measures the 10,000 × 60,000 pixel comparisons again (they depend on the data only). It measures them
with ``nnplay.handwriting.nearest``'s own function, on the full MNIST of ``NNPLAY_DATA_DIR``, and writes the
digests the answers are checked against. About 30 s on 2 cores; `tests/test_nearest.py` checks a sample of the
file against a fresh measure.

    NNPLAY_DATA_DIR=../shared/data python scripts/make_pixel_distances.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nnplay.config import DataConfig  # noqa: E402
from nnplay.data import load_mnist  # noqa: E402
from nnplay.handwriting.known import KNOWN_FILE, write_known  # noqa: E402
from nnplay.handwriting.nearest import _nearest, _split, points  # noqa: E402


def main() -> int:
    data = load_mnist(DataConfig(download=False))
    if data.source != "full":
        print("NNPLAY_DATA_DIR does not hold the full MNIST; the distances are MNIST's.", file=sys.stderr)
        return 2
    started = time.perf_counter()
    directions, lengths = _split(points(None, data.train_images, "pixels"))
    cosine, euclid = _nearest(directions, lengths, points(None, data.test_images, "pixels"))
    write_known(KNOWN_FILE, data.train_images, data.test_images, cosine, euclid)
    print(f"{len(cosine):,} test digits against {len(directions):,} training digits in "
          f"{time.perf_counter() - started:.1f} s: {KNOWN_FILE} ({KNOWN_FILE.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
