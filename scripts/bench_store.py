"""Benchmark the run store: its cost to training, and listing a workspace of 1,000 runs.

1. Training: the seed-mlp preset (real MNIST when $NNPLAY_DATA_DIR holds it, else the built-in sample)
   trained for ``--epochs`` epochs without a store and with one (in a temporary folder), alternately,
   ``--repeats`` times each. Reported: the engine's epoch seconds (the training loop, where the step
   batches are written) and the wall seconds per epoch (with evaluation and the epoch's checkpoint),
   the fastest of the repeats, their ratio with/without (target ≤ 1.05), and the time spent inside the
   store's recorder as a share of the epoch (measured directly, so it holds on a busy machine too).
2. Listing: a store with ``--runs`` finished runs (a few epochs of curves each) in one workspace:
   seconds to list them as Run objects, to build the runs table's rows (final numbers) and the model
   picker's choices, and to render the picker in AppTest (target: list + picker well under 1 s).
3. Memory (``--memory``): 8 runs of 784-4096-4096-10 (one epoch of 2,000 images each) kept in a store,
   trained in a worker as the app does by default, this process standing for the server (it receives their
   events and loads each final model, as a page showing it would; ``--memory-in-process``: trained here, the
   ``NNPLAY_WORKERS=0`` setting); the process's resident memory before, at its peak, and once they have
   ended and nobody holds them, 10 s after the last (target: back within 150 MB of where it started; the
   model cache keeps at most NNPLAY_MODEL_CACHE_MB).

Usage: python scripts/bench_store.py --epochs 3 [--repeats 2] [--runs 1000] [--memory]
Prints one line per measurement and a JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def bench_training(epochs: int, repeats: int) -> dict:
    from nnplay.config import PRESETS, DataConfig
    from nnplay.data import load_mnist
    from nnplay.jobs import thread_backend
    from nnplay.runs import Run
    from nnplay.store import Store

    preset = PRESETS["seed-mlp"]
    data = load_mnist(DataConfig(download=False))
    cfg = preset.train.__class__(**{**preset.train.__dict__, "epochs": epochs})
    from nnplay import runs as runs_mod

    store = Store(tempfile.mkdtemp(prefix="nnplay-bench-store-"))
    results = {"without": [], "with": []}
    # the time spent inside the recorder (store writes and checkpoints), measured directly: on a shared
    # machine the epoch times vary more from run to run than the store costs, this does not
    spent = [0.0]
    real_call = runs_mod.Recorder.__call__

    def timed_call(self, event):
        t = time.perf_counter()
        real_call(self, event)
        spent[0] += time.perf_counter() - t

    runs_mod.Recorder.__call__ = timed_call
    recorder_share = []
    warm_up = Run("warm-up", DataConfig(), preset.model, cfg.__class__(**{**cfg.__dict__, "epochs": 1}))
    warm_up.start(data, backend=thread_backend()).wait()
    for i in range(repeats):
        for mode in ("without", "with"):
            run = Run(f"{mode} {i}", DataConfig(), preset.model, cfg)
            if mode == "with":
                run.bind(store)
            spent[0] = 0.0
            t0 = time.perf_counter()
            run.start(data, backend=thread_backend()).wait()
            wall = (time.perf_counter() - t0) / epochs
            loop = statistics.median(e.seconds for e in run.history.epochs)
            results[mode].append((loop, wall))
            if mode == "with":
                recorder_share.append(spent[0] / epochs / wall)
                print(f"        the recorder took {spent[0] / epochs * 1000:.1f} ms per epoch "
                      f"({recorder_share[-1]:.2%} of the epoch)", file=sys.stderr)
            print(f"{mode:>7} store, repeat {i + 1}: epoch {loop:.3f} s (loop), {wall:.3f} s (wall, with eval"
                  f"{' and checkpoint' if mode == 'with' else ''})", file=sys.stderr)
    runs_mod.Recorder.__call__ = real_call
    best = {m: (min(r[0] for r in v), min(r[1] for r in v)) for m, v in results.items()}  # least disturbed
    report = {"data": data.source, "train_size": len(data.train_images), "epochs": epochs, "repeats": repeats,
              "epoch_s_without": best["without"][0], "epoch_s_with": best["with"][0],
              "wall_s_without": best["without"][1], "wall_s_with": best["with"][1],
              "ratio_loop": best["with"][0] / best["without"][0], "ratio_wall": best["with"][1] / best["without"][1],
              "recorder_share": max(recorder_share)}
    print(f"store on/off (fastest of {repeats}): {report['ratio_loop']:.3f}× (training loop), "
          f"{report['ratio_wall']:.3f}× (wall per epoch); the recorder's own share of an epoch: at most "
          f"{report['recorder_share']:.2%}", file=sys.stderr)
    return report


def fill_store(home: str, n: int) -> None:
    """n finished runs with 3 epochs of 50 steps each and a final-model flag, in workspace "local"."""
    from nnplay.config import DataConfig, ModelConfig, TrainConfig
    from nnplay.engine import EpochMetrics, RunEnd, RunStart, StepEvent
    from nnplay.store import Store

    store = Store(home)
    for i in range(n):
        run_id = store.create_run(f"run {i}", DataConfig(), ModelConfig(hidden=(32 + i % 7,)), TrainConfig(epochs=3))
        steps = [StepEvent(s, 1 + (s - 1) // 50, 2.3 / s ** 0.3, 1e-3) for s in range(1, 151)]
        epochs = [EpochMetrics(e, 0.5, 0.9, 0.4, 0.91, 1.0, 0.1, 60000.0, 50 * e, 1e-3, "CPU") for e in (1, 2, 3)]
        store.record(run_id, steps=steps, epochs=epochs, start=RunStart(3, 50, 60000, 10000, 25450, "CPU"),
                     status=("finished", "finished 3 epochs"), end=RunEnd("finished", "", 150), checkpoint_epoch=3,
                     has_final=True)
    store.close()


def picker_script():
    import streamlit as st

    from nnplay import ui

    ui.model_picker()
    st.write(len(ui.session_runs()))


def bench_listing(n: int) -> dict:
    from nnplay import runs as runs_mod
    from nnplay.store import Store, forget_stores

    home = tempfile.mkdtemp(prefix="nnplay-bench-list-")
    t0 = time.perf_counter()
    fill_store(home, n)
    fill = time.perf_counter() - t0
    os.environ["NNPLAY_HOME"] = home
    forget_stores()
    runs_mod.REGISTRY.clear()
    store = Store(home)
    t0 = time.perf_counter()
    runs = runs_mod.workspace_runs(store)
    t_list = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = [(r.name, r.status, r.final()["test_accuracy"], r.final()["seconds"]) for r in runs]
    t_rows = time.perf_counter() - t0
    t0 = time.perf_counter()
    choices = store.picker_choices()
    t_picker = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = runs_mod.workspace_runs(store)
    t_relist = time.perf_counter() - t0
    from streamlit.testing.v1 import AppTest

    renders = []
    at = AppTest.from_function(picker_script, default_timeout=60)
    for _ in range(3):
        t0 = time.perf_counter()
        at.run()
        renders.append(time.perf_counter() - t0)
    assert not at.exception and len(rows) == len(choices) == len(again) == n
    report = {"runs": n, "fill_s": fill, "list_s": t_list, "relist_s": t_relist, "table_rows_s": t_rows,
              "picker_choices_s": t_picker, "picker_render_s": statistics.median(renders[1:])}
    for key, value in report.items():
        if key.endswith("_s"):
            print(f"{n} runs: {key[:-2]:>15} {value:.3f} s", file=sys.stderr)
    return report


def _rss_mb() -> float:
    from nnplay.memory import process_memory_mb

    rss = process_memory_mb(os.getpid())["rss"]
    if not rss:
        raise RuntimeError("no /proc/self/smaps_rollup: the memory benchmark needs Linux")
    return rss


SETTLE_S = 10.0  # how long after the last run "after" is read: nobody holds them by then


def bench_memory(n: int = 8, workers: bool = False) -> dict:
    """``n`` big runs, one after the other, as a server holds them: trained in this process (``workers``
    False: ``NNPLAY_WORKERS=0``, the test suite's setting), or in a local pool of workers (the default) with
    this process as the server, which receives their events and, as a page showing each would, loads each
    one's final model. Then nothing holds them: the resident memory against where it started, the pool's
    workers already up then (they are the server's from its start)."""
    import gc
    import shutil

    from nnplay import runs as runs_mod
    from nnplay.config import DataConfig, ModelConfig, TrainConfig
    from nnplay.data import load_sample
    from nnplay.jobs import thread_backend
    from nnplay.store import Store

    data = load_sample().limited(2000, 500)
    home = tempfile.mkdtemp(prefix="nnplay-bench-mem-")
    store = Store(home)
    cfg = ModelConfig(hidden=(4096, 4096))
    pool = None
    if workers:
        from nnplay.jobs.local import LocalPool

        pool = LocalPool(workers=1, preload=None)
        pool.wait_ready(180)
    gc.collect()
    before = peak = _rss_mb()
    where = "in workers" if workers else "in this process"
    for i in range(n):
        run = runs_mod.Run(f"big {i}", DataConfig(train_limit=2000, test_limit=500), cfg,
                           TrainConfig(epochs=1, batch_size=256, device="cpu")).bind(store)
        if pool is not None:
            run.start(data, backend=pool)
            run.wait(600)
            run.model  # noqa: B018 - shown on a page: loaded from its checkpoint into the bounded cache
        else:
            run.start(data, backend=thread_backend()).wait()
        peak = max(peak, _rss_mb())
        print(f"run {i + 1} ({where}): {run.status}, resident {_rss_mb():.0f} MB", file=sys.stderr)
    del run
    gc.collect()
    time.sleep(SETTLE_S)  # the app hands the freed memory back a moment after a run ends (runs.trim_heap_soon)
    after = _rss_mb()
    if pool is not None:
        pool.close()
    report = {"runs": n, "where": where, "rss_before_mb": before, "rss_peak_mb": peak, "rss_after_mb": after,
              "growth_mb": after - before, "cached_models": len(runs_mod.MODELS),
              "cache_mb": runs_mod.MODELS.bytes / 2**20}
    print(f"memory ({where}): {before:.0f} MB before, {peak:.0f} MB at the peak, {after:.0f} MB after {n} runs "
          f"(+{after - before:.0f} MB; {report['cached_models']} model(s), {report['cache_mb']:.0f} MB in the cache)",
          file=sys.stderr)
    shutil.rmtree(home, ignore_errors=True)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--memory", action="store_true", help="also the 8-big-runs memory benchmark")
    parser.add_argument("--memory-in-process", action="store_true",
                        help="train the memory benchmark's runs in this process (NNPLAY_WORKERS=0) instead of "
                             "in a worker, as the app does by default")
    args = parser.parse_args()
    report = {}
    if not args.skip_training:
        report["training"] = bench_training(args.epochs, args.repeats)
    if args.memory:
        report["memory"] = bench_memory(workers=not args.memory_in_process)
    report["listing"] = bench_listing(args.runs)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
