"""Time the comparison view's server side over 1,000 stored runs (a benchmark, not a test).

Fills a temporary run store with ``--runs`` finished runs (a sweep grid of learning rate × width ×
activation × seeds, ``--epochs`` epochs each), then times what the view computes on each visit: the table
(``runs_frame``: records and every epoch, summaries), the seed groups, the importance, the parallel
coordinates and the scatter, and the whole view together. Prints one line per part and a JSON line.

    python scripts/bench_compare.py [--runs 1000] [--epochs 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nnplay.config import DataConfig, ModelConfig, TrainConfig  # noqa: E402
from nnplay.engine import EpochMetrics  # noqa: E402
from nnplay.store import Store  # noqa: E402


def fill(store: Store, runs: int, epochs: int, workspace: str = "local") -> None:
    """``runs`` finished sweep runs with made-up but plausible curves (accuracy rises, loss falls)."""
    rng = random.Random(0)
    lrs, widths, acts = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2), (32, 64, 128, 256, 512), ("relu", "tanh", "gelu", "sigmoid")
    seeds = max(1, runs // (len(lrs) * len(widths) * len(acts)))
    for i in range(runs):
        lr, width, act = lrs[i % 5], widths[(i // 5) % 5], acts[(i // 25) % 4]
        seed = (i // 100) % seeds
        run_id = store.create_run(f"sweep run {i}", DataConfig(train_limit=2000), ModelConfig(hidden=(width,),
                                  activation=act), TrainConfig(lr=lr, epochs=epochs, seed=seed), workspace=workspace,
                                  kind="sweep", group=f"sweep-{i // 250}", status="running", data_source="sample")
        ceiling = 0.97 - 0.02 * abs(math.log10(lr) + 3) + 0.005 * math.log2(width / 32) - 0.01 * (act == "sigmoid")
        rows = []
        for e in range(1, epochs + 1):
            acc = ceiling * (1 - math.exp(-e / 2)) + rng.gauss(0, 0.004)
            rows.append(EpochMetrics(e, 1.5 * math.exp(-e / 2) + 0.05, acc + 0.01, 1.4 * math.exp(-e / 2) + 0.08,
                                     acc, 0.5, 0.1, 4000.0, e * 8, lr, "cpu"))
        store.record(run_id, epochs=rows, status=("finished", ""), has_final=True)


CPU: dict[str, float] = {}  # part → its best CPU time (the process's own, whatever else the machine runs)


def timed(fn, repeat: int, name: str) -> tuple[float, object]:
    """The best wall time of ``repeat`` calls (its best CPU time goes to ``CPU[name]``), and the last result."""
    best, result = math.inf, None
    CPU[name] = math.inf
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        best = min(best, time.perf_counter() - t)
        CPU[name] = min(CPU[name], time.process_time() - c)
    return best, result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    from nnplay.compare import group_seeds, importance, runs_frame
    from nnplay.figures.compare import parallel_figure, scatter_figure

    with tempfile.TemporaryDirectory(prefix="nnplay-bench-compare-") as home:
        store = Store(home)
        t = time.perf_counter()
        fill(store, args.runs, args.epochs)
        print(f"filled {args.runs} runs × {args.epochs} epochs in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        axes = ["lr", "width", "activation", "seed"]
        frame = runs_frame(store, "local")

        def view():
            f = runs_frame(store, "local")
            group_seeds(f, "test_accuracy")
            importance(f, "test_accuracy")
            parallel_figure(f, axes, "test_accuracy")
            scatter_figure(f, "lr", "test_accuracy")
        parts = {
            "table (runs_frame)": lambda: runs_frame(store, "local"),
            "every summary (export table)": lambda: runs_frame(store, "local", every_summary=True),
            "seed groups": lambda: group_seeds(frame, "test_accuracy"),
            "importance": lambda: importance(frame, "test_accuracy"),
            "parallel coordinates": lambda: parallel_figure(frame, axes, "test_accuracy"),
            "scatter (seed groups)": lambda: scatter_figure(frame, "lr", "test_accuracy"),
            "whole view": view,
        }
        figures = {name: timed(fn, args.repeat, name)[0] for name, fn in parts.items()}
        store.close()
    for name, seconds in figures.items():
        print(f"{name:<30} {seconds * 1000:8.1f} ms wall, {CPU[name] * 1000:8.1f} ms CPU (best of {args.repeat})",
              file=sys.stderr)
    print(json.dumps({"runs": args.runs, "epochs": args.epochs, "wall_s": {k: round(v, 4) for k, v in figures.items()},
                      "cpu_s": {k: round(v, 4) for k, v in CPU.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
