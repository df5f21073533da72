"""Benchmark runs that last, in headless Chromium against the served app (issue 10's user-facing targets).

1. Reload mid-training: a long run is started on /train; then, ``--reloads`` times, the page is
   reloaded and timed, in the page from its navigation start, until the run is back on screen (its live
   view's progress text shows) and live again (that text changes). Reported: each time and the median
   (target: median < 3 s).
2. A store of ``--runs`` finished runs (each with curves, epoch metrics and a model file) in the local
   workspace: /train is opened and timed until the runs list and the model picker are drawn (the Run
   select box names the newest run, the sidebar picker names it too). A first (cold) load, then
   ``--loads`` loads in a new browser each (nothing cached: a first visit) and ``--loads`` in one browser
   (Streamlit's scripts cached: a later visit, a reload, a bookmark); reported: the cold one and the
   median of each (target: < 1 s), beside the same page with an empty store (what loading /train costs
   on this machine at all).

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
from nnplay.devtools import launch_chromium, served_app, sync_playwright, wait_until  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
LONG_RUN = "/train?train_limit=6000&test_limit=1000&batch_size=16&epochs=40"
# In the page, from its navigation start (performance.now()): when the live view's progress text first shows
# an epoch ("shown") and when it first changes after that ("moved"). Taken by a MutationObserver, so the
# times are the browser's own, with no polling from here added to them.
MARKS = """(() => { window.__nnplayMarks = {}; let first = null;
  new MutationObserver(() => {
    const m = window.__nnplayMarks, t = document.querySelector('.nnplay-live-progress-text');
    const text = t ? t.textContent : '';
    if (!text.includes('epoch')) return;
    if (first === null) { first = text; m.shown = performance.now(); }
    else if (text !== first && !('moved' in m)) m.moved = performance.now();
  }).observe(document, {subtree: true, childList: true, characterData: true}); })()"""


def bench_reload(browser, reloads: int) -> dict:
    home = tempfile.mkdtemp(prefix="nnplay-bench-reload-")
    times = []
    try:
        with served_app(home) as url:
            page = browser.new_context(viewport={"width": 1400, "height": 1200}).new_page()
            page.add_init_script(MARKS)
            page.goto(url + LONG_RUN)
            page.wait_for_selector('text="Parameters"', timeout=120_000)
            page.locator(".st-key-train_start button").click()
            wait_until(lambda: "moved" in page.evaluate("() => window.__nnplayMarks"), 120, "the run's progress")
            for i in range(reloads):
                page.reload(wait_until="commit")
                marks = wait_until(lambda: (m := page.evaluate("() => window.__nnplayMarks || {}")) and "moved" in m
                                   and m, 60, "the run to be live again after the reload")
                times.append(marks["moved"] / 1000)
                print(f"reload {i + 1}: run on screen after {marks['shown'] / 1000:.2f} s, live again after "
                      f"{marks['moved'] / 1000:.2f} s", flush=True)
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


def timed_loads(browser, url: str, drawn: str, loads: int, what: str) -> dict:
    """Seconds from opening /train until ``drawn`` (JS) holds, as the page counts them. First a cold load (a new browser, a server
    that has served nothing yet), then ``loads`` loads in a new browser context each (nothing cached: a
    first visit), then ``loads`` loads in one context (the browser has Streamlit's scripts cached, as on any
    later visit, a reload or a bookmark). Returns {"cold": s, "new": [s...], "returning": [s...]}."""
    times: dict = {"new": [], "returning": []}
    # the time is the page's own, from its navigation start to the first DOM change after which ``drawn`` holds
    observe = (f"(() => {{ const drawn = {drawn}; new MutationObserver(() => {{ if (!window.__nnplayDrawn && "
               f"drawn()) window.__nnplayDrawn = performance.now(); }}).observe(document, {{subtree: true, "
               f"childList: true, characterData: true, attributes: true}}); }})()")

    def load(page) -> float:
        page.goto(url + "/train", wait_until="commit")
        return wait_until(lambda: page.evaluate("() => window.__nnplayDrawn"), 120, what) / 1000

    def new_page(context):
        page = context.new_page()
        page.add_init_script(observe)
        return page

    for i in range(loads + 1):
        context = browser.new_context(viewport={"width": 1400, "height": 1600})
        took = load(new_page(context))
        context.close()
        if i == 0:
            times["cold"] = took
        else:
            times["new"].append(took)
        print(f"{'cold' if i == 0 else 'new browser'} load {i}: {what} in {took:.2f} s", flush=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = new_page(context)
    load(page)  # fills this browser's cache
    for i in range(loads):
        times["returning"].append(load(page))
        print(f"returning browser load {i + 1}: {what} in {times['returning'][-1]:.2f} s", flush=True)
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


EMPTY_DRAWN = ("() => !!document.body && document.body.textContent.includes('No runs yet') && (() => { const e = "
               "document.querySelector('.st-key-nnplay_model_pick'); return e && (e.textContent + "
               "Array.from(e.querySelectorAll('input'))"
               ".map(i => i.value).join(' ')).includes('default model'); })()")


def _drawn(name: str) -> str:
    """JS: the Train page's runs list (its Run select box) and the sidebar's model picker both name ``name``
    (textContent, not innerText: asked on every DOM change, it must not make the browser lay the page out)."""
    return (f"() => ['train_pick', 'nnplay_model_pick'].every(k => {{ const e = document.querySelector("
            f"'.st-key-' + k); return e && (e.textContent + Array.from(e.querySelectorAll('input'))"
            f".map(i => i.value).join(' ')).includes({json.dumps(name)}); }})")


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
        with served_app(home) as url:
            full = timed_loads(browser, url, _drawn(newest), loads, f"the runs list and the picker of {n} runs")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return {"runs": n, "list_cold_s": full["cold"], "list_new_browser_s": full["new"],
            "list_new_browser_median_s": statistics.median(full["new"]),
            "list_returning_s": full["returning"], "list_returning_median_s": statistics.median(full["returning"]),
            "empty_cold_s": empty["cold"], "empty_new_browser_median_s": statistics.median(empty["new"]),
            "empty_returning_median_s": statistics.median(empty["returning"]),
            "script_empty_s": empty_script, "script_full_s": full_script}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reloads", type=int, default=5)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("NNPLAY_WORKSPACES", "local")
    with sync_playwright() as p:
        try:
            browser = launch_chromium(p, args=CHROMIUM_ARGS)
        except FileNotFoundError as err:
            raise SystemExit(str(err)) from None
        report = {}
        if args.reloads:
            report |= bench_reload(browser, args.reloads)
        if args.runs:
            report |= bench_list(browser, args.runs, args.loads)
        browser.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
