"""A class on one server (a benchmark, not a test): 30 learners, each in a workspace of their own, start 3 runs of
seed-mlp on the quick subset within one minute, on the default worker pool in class mode.

Issue #26's targets, one figure each:
- every run finishes;
- no learner waits more than 1.5× the fair share: a learner's wait is the time their runs spent queued (started
  less submitted, summed); the fair share is the mean of that over the learners;
- the class listing's server time under 1 s with 30 learners × 20 runs (the runs of every learner with their last
  test accuracy, in one query: this script times its own query of that shape, ``class_listing``; the class page's
  query is the teacher helper's), measured while the class trains and again once each learner has 20 runs;
- a learner's Train page under 3 s while the class trains (AppTest of pages/train.py with the learner's ``?ws=``);
- the server's memory under 1.5 GB: the PSS (proportional set size) of this process, the app side, and of its
  worker processes, summed; their RSS and USS beside it.
Prints one line per figure and a JSON line. ``--learners 4`` for a quick check.

    NNPLAY_DATA_DIR=../shared/data python scripts/bench_class.py [--learners 30] [--runs 3] [--within 60]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from nnplay.memory import held_together_mb, process_memory_mb  # noqa: E402 - the one place that reads /proc


def parent_pid(pid: int) -> int:
    """The parent of a process (0 once it is gone): a pool worker's is the app or the pool's fork server."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def memory_sample(app_pid: int, worker_pids: list[int]) -> dict[str, float]:
    """The server's memory now, in MB: each process's RSS, PSS and USS (``nnplay.memory.process_memory_mb``) and
    their sums over the app, its workers and the fork server they were forked from. The PSS sum is the one checked: an RSS sum counts each page the
    processes share (torch's libraries, the mapped MNIST images) once for every process that maps it."""
    sample: dict[str, float] = {}
    servers = sorted({parent_pid(p) for p in worker_pids} - {app_pid, 0})  # the pool's fork server, where it forks
    for label, pid in ([("app", app_pid)] + [(f"worker{i}", p) for i, p in enumerate(worker_pids)]
                       + [(f"server{i}", p) for i, p in enumerate(servers)]):
        for kind, mb in process_memory_mb(pid).items():
            sample[f"{label}_{kind}"] = mb
            sample[f"sum_{kind}"] = sample.get(f"sum_{kind}", 0.0) + mb
    return sample


def class_listing(store) -> list:
    """Every learner's runs with their last test accuracy, in one query (what a class page lists)."""
    from nnplay.store import _RECORD_SQL

    rows = store._read(f"{_RECORD_SQL} WHERE kind IN ('train', 'sweep') ORDER BY workspace, created")
    return [store._record(row) for row in rows]


def timed(fn, *args) -> tuple[float, object]:
    began = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - began, result


def learner_page_seconds(token: str) -> float:
    """One run of the Train page as this learner opens it (their ``?ws=``), in seconds."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "train.py"), default_timeout=120)
    at.query_params["ws"] = token
    began = time.perf_counter()
    at.run()
    took = time.perf_counter() - began
    if at.exception:
        raise RuntimeError(f"the Train page failed: {at.exception[0].value}")
    return took


def fill_to(store, tokens: list[str], per_learner: int, template) -> int:
    """Add finished runs (a template run's configs and epochs) until each learner has ``per_learner``; how many."""
    from nnplay.store import new_id

    added = 0
    epochs = store.epochs(template.id)
    for token in tokens:
        have = len(store.list_runs(token))
        for i in range(have, per_learner):
            run_id = new_id()
            store.create_run(f"run {i + 1}", template.data_cfg, template.model_cfg, template.train_cfg,
                             workspace=token, kind="train", status="running", run_id=run_id)
            store.record(run_id, epochs=epochs, status=("finished", ""))
            added += 1
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3, help="runs each learner starts")
    parser.add_argument("--within", type=float, default=60.0, help="seconds over which the learners start")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default: seed-mlp's own)")
    parser.add_argument("--listing-runs", type=int, default=20, help="runs per learner for the listing's timing")
    args = parser.parse_args(argv)
    os.environ["NNPLAY_HOME"] = tempfile.mkdtemp(prefix="nnplay-bench-class-")
    os.environ["NNPLAY_CLASS"] = "1"
    os.environ["NNPLAY_WORKSPACES"] = "browser"

    from nnplay import jobs
    from nnplay.classroom.limits import read_limits, save_limits
    from nnplay.codec import QUICK_TEST, QUICK_TRAIN
    from nnplay.config import PRESETS, DataConfig
    from nnplay.data import load_mnist
    from nnplay.runs import Run, run_name
    from nnplay.store import open_store

    store = open_store()
    limits = read_limits(store)
    if limits.max_queued < args.runs:
        save_limits(store, dataclasses.replace(limits, max_queued=args.runs))
    preset = PRESETS["seed-mlp"]
    train_cfg = preset.train if args.epochs is None else dataclasses.replace(preset.train, epochs=args.epochs)
    data_cfg = DataConfig(train_limit=QUICK_TRAIN, test_limit=QUICK_TEST)
    data = load_mnist(data_cfg)
    backend = jobs.backend()
    if hasattr(backend, "wait_ready"):
        backend.wait_ready(300)
    tokens = [f"learner{i:02d}-{secrets.token_urlsafe(9)}" for i in range(args.learners)]
    submitted: dict[str, float] = {}
    runs: dict[str, list[Run]] = {t: [] for t in tokens}
    refused: list[str] = []

    def learners_start():
        began = time.monotonic()
        for i, token in enumerate(tokens):
            time.sleep(max(0.0, began + i * args.within / max(args.learners, 1) - time.monotonic()))
            for _ in range(args.runs):
                run = Run(run_name(preset.model, store.next_run_number(token)), data_cfg, preset.model, train_cfg)
                run.bind(store, token)
                submitted[run.id] = time.time()
                run.start(data)
                if run.job is None:
                    refused.append(f"{token}: {run.message}")
                runs[token].append(run)

    print(f"{args.learners} learners × {args.runs} runs of seed-mlp ({train_cfg.epochs} epochs, "
          f"{QUICK_TRAIN:,}/{QUICK_TEST:,} images) on {backend.describe()}", flush=True)
    began = time.perf_counter()
    starter = threading.Thread(target=learners_start, daemon=True)
    starter.start()
    listing_s, page_s, held = [], [], []
    memory = [memory_sample(os.getpid(), backend.worker_pids() if hasattr(backend, "worker_pids") else [])]
    rng = random.Random(26)
    next_page = time.monotonic() + 10
    while True:
        all_started = not starter.is_alive()
        every = [r for rs in runs.values() for r in rs]
        if all_started and all(not r.active for r in every):
            break
        took, _ = timed(class_listing, store)
        listing_s.append(took)
        pids = backend.worker_pids() if hasattr(backend, "worker_pids") else []
        memory.append(memory_sample(os.getpid(), pids))
        if len(memory) % 10 == 1:  # every page once: a whole page map read, so every tenth sample
            together = held_together_mb([os.getpid(), *pids, *({parent_pid(p) for p in pids} - {os.getpid(), 0})])
            if together is not None:
                held.append(together)
        if time.monotonic() >= next_page and any(r.active for r in every):
            page_s.append(learner_page_seconds(rng.choice(tokens)))
            next_page = time.monotonic() + 20
        time.sleep(2.0)
    wall = time.perf_counter() - began
    every = [r for rs in runs.values() for r in rs]
    statuses = sorted({r.status for r in every})
    waits = {t: sum(max(0.0, (r.started or submitted[r.id]) - submitted[r.id]) for r in rs) for t, rs in runs.items()}
    fair = statistics.mean(waits.values()) if waits else 0.0
    worst = max(waits, key=waits.get)
    own = sum(e.seconds + e.eval_seconds for r in every for e in r.history.epochs)

    template = next((r for r in every if r.status == "finished"), None)
    added = fill_to(store, tokens, args.listing_runs, template) if template is not None else 0
    full = [timed(class_listing, store) for _ in range(5)]
    full_s = statistics.median(t for t, _ in full)
    listed = len(full[0][1])

    figures = {
        "learners": args.learners, "runs": len(every), "workers": getattr(backend, "size", None),
        "epochs": train_cfg.epochs, "statuses": statuses, "refused": refused, "wall_s": round(wall, 1),
        "own_training_s": round(own, 1),
        "wait_fair_share_s": round(fair, 1), "wait_worst_s": round(waits[worst], 1),
        "wait_worst_over_fair": round(waits[worst] / fair, 2) if fair else None, "wait_target": 1.5,
        "listing_while_training_max_s": round(max(listing_s), 3) if listing_s else None,
        "listing_runs": listed, "listing_full_median_s": round(full_s, 3), "listing_target_s": 1.0,
        "learner_page_s": [round(s, 2) for s in page_s],
        "learner_page_max_s": round(max(page_s), 2) if page_s else None,
        "learner_page_median_s": round(statistics.median(page_s), 2) if page_s else None,
        "page_target_s": 3.0,
        # each figure's peak over the samples (a sum's peak, not the sum of the peaks); the PSS sum is checked
        "memory_max_mb": {key: round(max(m.get(key, 0.0) for m in memory), 1)
                          for key in sorted({key for m in memory for key in m})},
        "memory_pss_max_mb": round(max(m["sum_pss"] for m in memory), 1), "memory_target_mb": 1536,
        "memory_held_together_max_mb": round(max(held), 1) if held else None,
    }
    print(f"every run finished: {statuses == ['finished']} ({len(every)} runs: {statuses}); wall {wall:.0f} s, "
          f"the runs' own training {own:.0f} s")
    print(f"waits: fair share {fair:.1f} s, worst learner {waits[worst]:.1f} s = "
          f"{figures['wait_worst_over_fair']}× (target ≤ 1.5)")
    print(f"class listing: ≤ {figures['listing_while_training_max_s']} s while training; {listed} runs "
          f"({args.learners} × {args.listing_runs}, {added} added as finished copies): {full_s:.3f} s (target < 1 s)")
    print(f"learner's Train page while the class trains: median {figures['learner_page_median_s']} s, "
          f"max {figures['learner_page_max_s']} s over {len(page_s)} loads (target < 3 s)")
    peak = figures["memory_max_mb"]
    workers = sorted({key.split("_")[0] for key in peak if key.startswith("worker")}, key=lambda w: int(w[6:]))
    met = "met" if figures["memory_pss_max_mb"] < figures["memory_target_mb"] else "MISSED"
    print(f"memory, the app with its {len(workers)} workers: PSS {figures['memory_pss_max_mb']} MB ({met}: < 1536 MB; "
          f"shared pages divided among the processes that share them); RSS {peak['sum_rss']} MB (shared pages "
          f"counted in each process), USS {peak['sum_uss']} MB (private pages only)")
    if held:
        print(f"  each physical page once (the page map, {len(held)} readings): {max(held):.1f} MB at most; a PSS "
              f"sum divides pages shared with other programs on this machine too, so it may come out lower")
    for label in ["app"] + workers:
        print(f"  {label}: RSS {peak.get(label + '_rss')} MB, PSS {peak.get(label + '_pss')} MB, "
              f"USS {peak.get(label + '_uss')} MB")
    print(json.dumps(figures))
    jobs.shutdown()
    return 0 if statuses == ["finished"] and not refused else 1


if __name__ == "__main__":
    sys.exit(main())
