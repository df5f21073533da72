"""Time a sweep on the default worker pool against its runs' own training time (a benchmark, not a test).

Issue #23's target: a 24-run sweep (seed-mlp, 2 epochs, a quick subset) takes a wall time within 1.15× of
the runs' own training time (each run's epochs, training and evaluation) divided by the number of workers:
the queue, the workers and the store add little. The pool is started and warm before the clock starts,
as it is once the app has opened a page. Prints one line per figure and a JSON line.

    NNPLAY_DATA_DIR=../shared/data python scripts/bench_sweep.py [--lrs 8] [--seeds 3] [--epochs 2]
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
    parser.add_argument("--lrs", type=int, default=8, help="learning rates (log-spaced, 1e-4 to 1e-1)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train-limit", type=int, default=6000)
    parser.add_argument("--test-limit", type=int, default=1000)
    args = parser.parse_args(argv)
    os.environ["NNPLAY_HOME"] = tempfile.mkdtemp(prefix="nnplay-bench-sweep-")

    from nnplay import jobs
    from nnplay.config import PRESETS, DataConfig
    from nnplay.store import open_store
    from nnplay.sweeps import Axis, SweepPlan, start_sweep, worker_count

    backend = jobs.backend()
    if hasattr(backend, "wait_ready"):
        backend.wait_ready(300)
    workers = worker_count()
    preset = PRESETS["seed-mlp"]
    plan = SweepPlan(axes=(Axis.of_range("lr", 1e-4, 1e-1, args.lrs, "log"),),
                     data=DataConfig(train_limit=args.train_limit, test_limit=args.test_limit),
                     model=preset.model, train=dataclasses.replace(preset.train, epochs=args.epochs),
                     seeds=tuple(range(args.seeds)))
    began = time.perf_counter()
    sweep = start_sweep(plan, open_store(), "local", name="bench")
    sweep.wait()
    wall = time.perf_counter() - began
    own = sum(e.seconds + e.eval_seconds for run in sweep.runs for e in run.history.epochs)
    statuses = {r.status for r in sweep.runs}
    ideal = own / workers
    figures = {"runs": len(sweep.runs), "workers": workers, "statuses": sorted(statuses),
               "wall_s": round(wall, 2), "own_training_s": round(own, 2), "own_over_workers_s": round(ideal, 2),
               "ratio": round(wall / ideal, 3) if ideal else None, "target": 1.15}
    print(f"{len(sweep.runs)} runs on {workers} workers ({backend.describe()})")
    print(f"wall {wall:.2f} s; the runs' own training {own:.2f} s, / {workers} workers = {ideal:.2f} s; "
          f"ratio {figures['ratio']} (target ≤ 1.15)")
    print(json.dumps(figures))
    jobs.shutdown()
    return 0 if statuses == {"finished"} else 1


if __name__ == "__main__":
    sys.exit(main())
