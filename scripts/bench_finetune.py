"""Time a fine-tune of the default model on a learner's digits, in a pool worker and in this process (a benchmark,
not a test).

Issue #24's target: fine-tuning 3 epochs on 200 of your digits plus 2,000 replayed MNIST images takes under 10 s on
2 CPU cores. The parent is the app's default model (``nnplay/assets/default_model.pt``) kept as a run; the digits
stand in for a learner's: MNIST test digits moved 6 pixels off centre (as a drawing not centred like MNIST is),
enough of them that 200 are left to train on after the held-back part. Timed twice, from Start to the child's end:
on the default worker pool, started and warm before the clock starts (as the app's is once a page has opened), and
on a thread of this process (as ``NNPLAY_WORKERS=0`` trains), warmed the same way first (``pool_worker.warm_up``:
a fresh process's first training step pays seconds of torch's lazy imports, once). Each epoch's evaluation on the 10,000 MNIST test
images is part of the time, as it is of every run's. Prints one line per figure and a JSON line.

    NNPLAY_DATA_DIR=../shared/data python scripts/bench_finetune.py [--digits 200] [--replay 2000] [--weight 1]

The pool's workers yield the CPU to every other process (``NNPLAY_WORKER_NICE``, 10 by default): on a machine that
other programs keep busy, ``NNPLAY_WORKER_NICE=0`` times the worker level with them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_S = 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=200, help="digits to train on (more are made: some held back)")
    parser.add_argument("--replay", type=int, default=2000, help="MNIST training images replayed beside them")
    parser.add_argument("--weight", type=float, default=1.0, help="how many times each digit counts an epoch")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--held-back", type=float, default=0.3)
    args = parser.parse_args(argv)
    os.environ["NNPLAY_HOME"] = tempfile.mkdtemp(prefix="nnplay-bench-finetune-")

    import numpy as np
    import torch

    from nnplay import jobs
    from nnplay.config import DataConfig
    from nnplay.data import load_mnist
    from nnplay.handwriting.finetune import before_after_of, start_finetune
    from nnplay.runs import run_from_checkpoint
    from nnplay.store import LOCAL_WORKSPACE, open_store

    store = open_store()
    default = Path(__file__).resolve().parent.parent / "nnplay" / "assets" / "default_model.pt"
    parent, note = run_from_checkpoint("default model", default.read_bytes())
    if parent is None:
        print(f"the default model could not be read: {note}", file=sys.stderr)
        return 1
    parent.bind(store, LOCAL_WORKSPACE)
    data = load_mnist(DataConfig())
    total = round(args.digits / (1 - args.held_back))
    images = torch.roll(data.test_images[:total], shifts=(6, 6), dims=(1, 2)).numpy()
    labels = data.test_labels[:total].numpy().astype(np.uint8)

    def timed(backend, given) -> dict:
        began = time.perf_counter()
        child, split = start_finetune(store, parent.id, images, labels, LOCAL_WORKSPACE, epochs=args.epochs,
                                      replay=args.replay, held_back=args.held_back, extra_weight=args.weight,
                                      data=given, backend=backend)
        child.wait()
        wall = time.perf_counter() - began
        epochs = child.history.epochs
        result = before_after_of(store, child.id, (data.test_images, data.test_labels))
        return {"status": child.status, "message": child.message, "wall_s": round(wall, 2),
                "train_s": round(sum(e.seconds for e in epochs), 2),
                "eval_s": round(sum(e.eval_seconds for e in epochs), 2),
                "train_images": child.history.start.train_size if child.history.start else None,
                "tune_digits": split.tune_count, "held_back": split.held_count,
                "digits_before": result.digits_before, "digits_after": result.digits_after,
                "mnist_before": result.mnist_before, "mnist_after": result.mnist_after}

    pool = jobs.backend()
    if hasattr(pool, "wait_ready"):
        pool.wait_ready(300)
    from nnplay.jobs.pool_worker import warm_up

    warm_up(DataConfig())
    figures = {"cores": os.cpu_count(), "load_average": round(os.getloadavg()[0], 1), "torch_threads": torch.get_num_threads(), "target_s": TARGET_S,
               "worker": timed(pool, None), "in_process": timed(jobs.thread_backend(), data)}
    for where in ("worker", "in_process"):
        f = figures[where]
        print(f"{where}: {f['status']} in {f['wall_s']:.2f} s from Start to end (training {f['train_s']:.2f} s, "
              f"evaluation {f['eval_s']:.2f} s) on {f['train_images']:,} images ({f['tune_digits']} digits); "
              f"held-back {f['held_back']}: {f['digits_before']:.1%} → {f['digits_after']:.1%}, MNIST test "
              f"{f['mnist_before']:.2%} → {f['mnist_after']:.2%} (target < {TARGET_S:g} s)")
    print(json.dumps(figures))
    jobs.shutdown()
    ok = all(figures[w]["status"] == "finished" for w in ("worker", "in_process"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
