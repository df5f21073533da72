"""Reproduce published rows on this machine and say which match and how long each takes (a benchmark, not a test).

Issue #25's target: every row's reproduction is within the paper's number plus twice the seeds' spread, or its
note says why not. Each table row named trains its seeds one after another in this process (threads, no pool:
the time per seed is the machine's), on the full MNIST of ``NNPLAY_DATA_DIR``; each figure row named runs its
"quick" study. Prints one line per row and a JSON line. A row whose configs need a newer nnplay (LeNet before
the knobs) is reported as skipped with the reason.

    NNPLAY_DATA_DIR=../shared/data python scripts/bench_papers.py [--rows lecun-linear lecun-300-100]
        [--seeds 3] [--epochs N] [--figures ioffe glorot] [--threads 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="*", default=["lecun-linear", "lecun-300", "lecun-300-100"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=None, help="override each row's epochs (shorter benches)")
    parser.add_argument("--figures", nargs="*", default=[])
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: on cores shared with other work, more threads spin and wait)")
    args = parser.parse_args(argv)
    os.environ["NNPLAY_HOME"] = tempfile.mkdtemp(prefix="nnplay-bench-papers-")
    os.environ["NNPLAY_WORKERS"] = "0"

    import torch

    torch.set_num_threads(args.threads)
    from nnplay.config import DataConfig
    from nnplay.data import load_mnist
    from nnplay.papers import ROWS, row_result
    from nnplay.papers.studies import run_study
    from nnplay.runs import Run

    data = load_mnist(DataConfig(download=False))
    if data.source != "full":
        print("NNPLAY_DATA_DIR does not hold the full MNIST; the bench needs it.", file=sys.stderr)
        return 2
    report = {"rows": {}, "figures": {}}
    for key in args.rows:
        row = ROWS[key]
        try:
            row.configs(0)
        except (KeyError, ValueError, TypeError) as err:
            print(f"{key}: skipped ({type(err).__name__}: {err})")
            report["rows"][key] = {"skipped": str(err)}
            continue
        runs, t0 = [], time.perf_counter()
        for seed in range(args.seeds):
            data_cfg, model_cfg, train_cfg = row.configs(seed)
            if args.epochs:
                train_cfg = dataclasses.replace(train_cfg, epochs=args.epochs)
            run = Run(f"{key} seed {seed}", data_cfg, model_cfg, train_cfg).start(data)
            run.wait()
            runs.append(run)
        result = row_result(row, runs)
        wall = time.perf_counter() - t0
        epochs = args.epochs or row.configs(0)[2].epochs
        print(f"{key}: paper {row.paper_error:.2f} %, nnplay {result.spread_text()}, matches {result.match_text()}, "
              f"{result.seconds:.0f} s per seed ({epochs} epochs), {wall:.0f} s in all")
        report["rows"][key] = {"paper": row.paper_error, "mean": result.mean, "std": result.std,
                               "matches": result.matches, "seconds_per_seed": result.seconds, "epochs": epochs,
                               "seeds": result.finished, "wall_s": wall}
    for key in args.figures:
        t0 = time.perf_counter()
        result = run_study(key, data, "quick")
        wall = time.perf_counter() - t0
        summary = {name: {"accuracy": v["accuracy"][-1], "status": v["status"]}
                   for name, v in result.get("variants", {}).items()}
        if key == "smith":
            summary = {"suggested": result["range"]["suggested"], "best": result["best"]}
        print(f"{key}: {wall:.0f} s, {summary}")
        report["figures"][key] = {"wall_s": wall, **summary}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
