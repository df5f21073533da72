"""How long one refresh of a run's live view takes at step 100 and at step 1,000,000.

The live view (``nnplay.figures.train.live_view_content``) runs twice a second on a thread of
the process that trains. This builds a history of N steps, lets the view catch up once (as it
does while the run trains), then adds one burst of 10 steps and times the next refresh, for
N = 100 … 1,000,000. Target: the same cost at every N (it reads only the new steps and draws
a bounded number of points). Usage: ``python scripts/bench_live_view.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nnplay.config import DataConfig, ModelConfig, TrainConfig  # noqa: E402
from nnplay.engine import RunStart, StepEvent  # noqa: E402
from nnplay.figures.train import live_view_content  # noqa: E402
from nnplay.runs import Run  # noqa: E402


def refresh_seconds(n_steps: int, repeats: int = 20) -> tuple[float, int]:
    run = Run("bench", DataConfig(), ModelConfig(), TrainConfig(epochs=1000))
    run.status = "running"
    run.history(RunStart(1000, 2000, 60000, 10000, 203530, "CPU"))
    for i in range(1, n_steps + 1):
        run.history(StepEvent(i, 1 + i // 2000, 2.3 / (1 + i / 1000), 1e-3))
    live_view_content(run, {"smoothing": 0.6})  # the view has followed the run so far
    times, size = [], 0
    step = n_steps
    for _ in range(repeats):
        for _ in range(10):
            step += 1
            run.history(StepEvent(step, 1 + step // 2000, 0.1, 1e-3))
        t0 = time.perf_counter()
        content = live_view_content(run, {"smoothing": 0.6})
        times.append(time.perf_counter() - t0)
        size = sum(len(f) for f in content["figures"])
    return statistics.median(times), size


def main() -> None:
    for n in (100, 10_000, 100_000, 1_000_000):
        seconds, size = refresh_seconds(n)
        print(f"step {n:>9,}: refresh {seconds * 1000:6.2f} ms, figures {size / 1024:6.1f} KiB of JSON")


if __name__ == "__main__":
    main()
