"""Benchmark runs that last, in headless Chromium against the served app (issue 10's user-facing targets).

1. Reload mid-training: a long run is started on /train; then, ``--reloads`` times, the page is
   reloaded and timed until the run is back on screen (its live view's progress text shows) and live
   again (that text changes). Reported: each time and the median (target: median < 3 s).
2. A store of ``--runs`` finished runs (each with curves, epoch metrics and a model file) in the local
   workspace: a fresh browser opens /train, timed until the runs list and the model picker are drawn
   (the Run select box names the newest run, the sidebar picker names it too). A first (cold) load, then
   ``--loads`` more; reported: the cold one and the median of the rest (target: < 1 s), beside the same
   page with an empty store (what loading /train costs on this machine at all).

Each part starts its own ``streamlit run app.py`` on a free localhost port with its own NNPLAY_HOME (a
temporary folder) and stops it at the end. Chromium: /usr/bin/chromium (or $NNPLAY_CHROMIUM).
Usage: python scripts/bench_reload.py [--reloads 5] [--runs 1000] [--loads 5]
Prints one line per measurement and a JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser.driver import served_app, wait_until  # noqa: E402

CHROMIUM = os.environ.get("NNPLAY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
LONG_RUN = "/train?train_limit=6000&test_limit=1000&batch_size=16&epochs=40"
PROGRESS = "() => { const t = document.querySelector('.nnplay-live-progress-text'); return t ? t.innerText : ''; }"


def bench_reload(browser, reloads: int) -> dict:
    home = tempfile.mkdtemp(prefix="nnplay-bench-reload-")
    times = []
    try:
        with served_app(home) as url:
            page = browser.new_context(viewport={"width": 1400, "height": 1200}).new_page()
            page.goto(url + LONG_RUN)
            page.wait_for_selector("text=Parameters", timeout=120_000)
            page.locator(".st-key-train_start button").click()
            first = wait_until(lambda: "epoch" in page.evaluate(PROGRESS) and page.evaluate(PROGRESS), 120,
                             "the run's progress")
            wait_until(lambda: page.evaluate(PROGRESS) not in ("", first), 60, "the progress to move")
            for i in range(reloads):
                t0 = time.perf_counter()
                page.reload(wait_until="commit")
                shown = wait_until(lambda: "epoch" in page.evaluate(PROGRESS) and page.evaluate(PROGRESS), 60,
                                 "the run after the reload")
                back = time.perf_counter() - t0
                wait_until(lambda: page.evaluate(PROGRESS) not in ("", shown), 60, "the run to be live again")
                live = time.perf_counter() - t0
                times.append(live)
                print(f"reload {i + 1}: run on screen after {back:.2f} s, live again after {live:.2f} s", flush=True)
                page.wait_for_timeout(500)
            page.locator(".st-key-train_stop button").first.click()
            page.wait_for_timeout(1000)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return {"reload_live_s": times, "reload_median_s": statistics.median(times)}


def fill_store(home: str, n: int) -> str:
    """n finished runs (3 epochs of 50 steps, epoch metrics, a model file each) in workspace "local";
    returns the newest one's name."""
    import torch

    from nnplay.checkpoint import save_checkpoint
    from nnplay.config import DataConfig, ModelConfig, TrainConfig
    from nnplay.engine import EpochMetrics, RunEnd, RunStart, StepEvent, seeded_model
    from nnplay.store import Store

    store = Store(home)
    model_cfg = ModelConfig(hidden=(32,))
    model_file = Path(home) / "model.pt"
    save_checkpoint(seeded_model(model_cfg, 0), model_cfg, model_file, meta={"name": "bench"})
    torch.set_num_threads(1)
    name = ""
    for i in range(n):
        name = f"stored run {i:04d}"
        run_id = store.create_run(name, DataConfig(), model_cfg, TrainConfig(epochs=3, lr=1e-3 * (1 + i % 5)),
                                  created=time.time() - n + i)
        steps = [StepEvent(s, 1 + (s - 1) // 50, 2.3 / s ** 0.3, 1e-3) for s in range(1, 151)]
        epochs = [EpochMetrics(e, 0.5, 0.9, 0.4, 0.91, 1.0, 0.1, 60000.0, 50 * e, 1e-3, "CPU") for e in (1, 2, 3)]
        store.record(run_id, steps=steps, epochs=epochs, start=RunStart(3, 50, 60000, 10000, 25450, "CPU"),
                     status=("finished", "finished 3 epochs"), end=RunEnd("finished", "", 150), checkpoint_epoch=3,
                     has_final=True)
        store.run_dir(run_id).mkdir(parents=True, exist_ok=True)
        os.link(model_file, store.run_dir(run_id) / "final.pt")  # one file, n names: the store holds n models
    store.close()
    return name


def timed_loads(browser, url: str, drawn: str, loads: int, what: str) -> list[float]:
    """Seconds from opening /train in a new browser context until ``drawn`` (JS) holds: a cold load, then ``loads``."""
    times = []
    for i in range(loads + 1):
        context = browser.new_context(viewport={"width": 1400, "height": 1600})
        page = context.new_page()
        t0 = time.perf_counter()
        page.goto(url + "/train", wait_until="commit")
        wait_until(lambda: page.evaluate(drawn), 120, what)
        times.append(time.perf_counter() - t0)
        print(f"{'cold' if i == 0 else 'warm'} load {i}: {what} in {times[-1]:.2f} s", flush=True)
        context.close()
    return times


def script_seconds(home: str, repeats: int = 3) -> float:
    """The fastest run of app.py's sidebar (the picker) plus the Train page in a new session (AppTest, in this
    process, no browser): the server's share of a page load, which a busy machine's browser timings hide."""
    os.environ["NNPLAY_HOME"] = home
    from streamlit.testing.v1 import AppTest

    from nnplay import runs as runs_mod
    from nnplay.store import forget_stores

    forget_stores()
    runs_mod.REGISTRY.clear()
    best = float("inf")
    for _ in range(repeats + 1):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        t0 = time.perf_counter()
        at.switch_page("pages/train.py").run()
        best = min(best, time.perf_counter() - t0)
        if at.exception:
            raise SystemExit(f"the Train page failed: {at.exception}")
        runs_mod.REGISTRY.clear()  # the next session of a new process: nothing read yet
    return best


EMPTY_DRAWN = ("() => document.body.innerText.includes('No runs yet') && (() => { const e = document.querySelector("
               "'.st-key-nnplay_model_pick'); return e && (e.innerText + Array.from(e.querySelectorAll('input'))"
               ".map(i => i.value).join(' ')).includes('default model'); })()")


def bench_list(browser, n: int, loads: int) -> dict:
    home = tempfile.mkdtemp(prefix="nnplay-bench-list-")
    try:
        with served_app(home) as url:  # the same page with an empty store: what any page load costs here
            empty = timed_loads(browser, url, EMPTY_DRAWN, loads, "an empty runs list and the picker")
        empty_script = script_seconds(home)
        print(f"the sidebar and the Train page with an empty store: {empty_script:.3f} s of script", flush=True)
        shutil.rmtree(home, ignore_errors=True)
        t0 = time.perf_counter()
        newest = fill_store(home, n)
        print(f"filled a store with {n} runs in {time.perf_counter() - t0:.1f} s", flush=True)
        full_script = script_seconds(home)
        print(f"the sidebar and the Train page with {n} runs: {full_script:.3f} s of script", flush=True)
        times = []
        with served_app(home) as url:
            for i in range(loads + 1):
                context = browser.new_context(viewport={"width": 1400, "height": 1600})
                page = context.new_page()
                t0 = time.perf_counter()
                page.goto(url + "/train", wait_until="commit")
                drawn = (f"() => ['train_pick', 'nnplay_model_pick'].every(k => {{ const e = document.querySelector("
                         f"'.st-key-' + k); return e && (e.innerText + Array.from(e.querySelectorAll('input'))"
                         f".map(i => i.value).join(' ')).includes({json.dumps(newest)}); }})")
                wait_until(lambda: page.evaluate(drawn), 120, "the runs list and the picker")
                took = time.perf_counter() - t0
                times.append(took)
                print(f"{'cold' if i == 0 else 'warm'} load {i}: runs list and picker of {n} runs drawn in "
                      f"{took:.2f} s", flush=True)
                context.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return {"runs": n, "list_cold_s": times[0], "list_loads_s": times[1:],
            "list_median_s": statistics.median(times[1:]),
            "empty_cold_s": empty[0], "empty_median_s": statistics.median(empty[1:]),
            "script_empty_s": empty_script, "script_full_s": full_script}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reloads", type=int, default=5)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SystemExit("This benchmark needs Playwright: pip install playwright") from None
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"No Chromium at {CHROMIUM}: install it, or set NNPLAY_CHROMIUM to its path.")
    os.environ.setdefault("NNPLAY_WORKSPACES", "local")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        report = {}
        if args.reloads:
            report |= bench_reload(browser, args.reloads)
        if args.runs:
            report |= bench_list(browser, args.runs, args.loads)
        browser.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
