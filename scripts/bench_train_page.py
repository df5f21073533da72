"""Benchmark: an epoch of seed-mlp on the Train page (open in Chromium, live view refreshing) vs the CLI.

With ``--watch on`` (the default, as the page does for seed-mlp) the live view also draws the
"Watch it learn" figures (probe digits, first layer, network view, rebuilt about once a second);
``--watch off`` switches them off right after Start. The JSON line says which.

Issue 3's target: with the page open in a browser and the live view refreshing, an epoch of
``seed-mlp`` takes at most 1.3× the headless CLI's epoch in the same conditions. This script
starts ``streamlit run app.py`` on a free localhost port, drives headless Chromium (Playwright,
Debian's /usr/bin/chromium) to ``/train?epochs=N``, presses Start, waits for the run to finish
and reads the epoch training times the page shows (it looks once a second, with one cheap query:
reading the whole page four times a second would itself be a load), and how often the live view
fetched a snapshot and drew each chart (counters the live component keeps); then it runs
``python -m nnplay train --preset seed-mlp --epochs N --quiet`` and reads ``epoch_seconds``.
Both train on the full MNIST from $NNPLAY_DATA_DIR (default ../shared/data) with the same
settings and the same environment (``--env NAME=VALUE`` sets more for both, e.g.
``OMP_WAIT_POLICY=PASSIVE``); both record into a run store of their own (a temporary folder, unless
``NNPLAY_HOME`` is set). With ``--repeats R`` the two alternate R times. It prints both
sets of epoch times, their medians and the ratio, each round's ratio (its page run against the CLI
run right after it), and one JSON line at the end. On a shared machine, or a VM whose speed drifts,
other processes' load moves both numbers a lot: repeat, and compare medians and rounds.

The run is the preset as the page starts it: 10 epochs (``--epochs`` to change). The CLI trains with
as many torch threads as the page's run did (read from its "CPU (N threads)"), so the ratio is the
page's cost, not a difference of threads: with the default pool on 2 cores (2 workers of 1 thread)
both use 1 thread; with ``--env NNPLAY_WORKERS=1`` (one worker with every core) both use 2.

    NNPLAY_DATA_DIR=../shared/data .venv/bin/python scripts/bench_train_page.py --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from nnplay.devtools import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402
TIMES = re.compile(r"Epoch training times \(s\): ([0-9., ]+)")
THREADS = re.compile(r"CPU \((\d+) threads?\)")  # the run's device, as its progress line says it
FINISHED = "document.querySelector('[data-testid=stAlertContentSuccess]') !== null"
# how many snapshots the live view showed and how many times each chart was drawn (live_run.js counts)
VIEW_COUNTS = """() => { const d = document.querySelector('.nnplay-live')?.dataset || {};
    return {fetches: +(d.fetched || 0), fetch_span_s: ((+d.lastFetchMs || 0) - (+d.firstFetchMs || 0)) / 1000,
            snapshots: +(d.shown || 0),
            chart_draws: Array.from(document.querySelectorAll('.nnplay-live-chart')).map(c => +(c.dataset.draws || 0)),
            curves_moved: Array.from(document.querySelectorAll('.nnplay-live-chart')).map(c => +(c.dataset.moved || 0)),
            draw_ms: Array.from(document.querySelectorAll('.nnplay-live-chart')).map(c => +(c.dataset.drawMs || 0))}; }"""


def start_app(env: dict, extra: list[str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *extra],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("streamlit did not start within 90 s")


def page_epochs(browser, url: str, epochs: int, train_limit: int | None, timeout: float,
                watch: bool = True) -> tuple[list[float], dict]:
    """Train seed-mlp on the page; return its epoch times and how often the live view redrew (and
    ``threads``: the torch threads the run trained with, None on a GPU).

    The script looks at the page only once a second, with one cheap query, and reads the text once
    at the end: a benchmark that reads the whole page four times a second is itself a load.
    """
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{url}/train?epochs={epochs}" + (f"&train_limit={train_limit}" if train_limit else ""))
        page.wait_for_selector('text="Parameters"', timeout=120_000)
        page.wait_for_timeout(1000)
        page.locator(".st-key-train_start button").click()
        toggle = page.locator("[class*='st-key-train_watch_'] input")
        toggle.first.wait_for(state="attached", timeout=60_000)
        if toggle.first.is_checked() != watch:  # "Watch it learn" is on by default for seed-mlp
            page.locator("[class*='st-key-train_watch_'] label").first.click()
        page.mouse.move(5, 5)  # off the button: no hover effects while it trains
        started = time.time()
        deadline = started + timeout
        while time.time() < deadline:
            time.sleep(1.0)
            if page.evaluate(FINISHED):
                break
        else:
            raise SystemExit(f"the page's run did not finish within {timeout:.0f} s")
        seconds = time.time() - started
        text = page.inner_text("body")
        match = TIMES.search(text)
        times = [float(t) for t in match.group(1).replace(" ", "").split(",") if t] if match else []
        if len(times) != epochs:
            raise SystemExit(f"expected {epochs} epoch times on the page, read {times}")
        view = page.evaluate(VIEW_COUNTS)
        view["seconds"] = round(seconds, 1)
        threads = THREADS.search(page.inner_text(".nnplay-live-progress-text"))
        view["threads"] = int(threads.group(1)) if threads else None
        return times, view
    finally:
        context.close()


def cli_epochs(env: dict, epochs: int, train_limit: int | None, threads: int | None = None) -> list[float]:
    limit = ["--train-limit", str(train_limit)] if train_limit else []
    if threads:  # torch reads it as it starts
        env = {**env, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    out = subprocess.run([sys.executable, "-m", "nnplay", "train", "--preset", "seed-mlp", "--epochs", str(epochs),
                          *limit, "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["epoch_seconds"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs of each run (default: the preset's 10)")
    parser.add_argument("--repeats", type=int, default=1, help="alternate page and CLI this many times")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the page's run")
    parser.add_argument("--train-limit", type=int, default=None, help="train on the first N images (both sides)")
    parser.add_argument("--watch", choices=("on", "off"), default="on",
                        help="the Train page's \"Watch it learn\" views (probe digits, first layer, network) while "
                             "it trains: on (the page's default for seed-mlp) or off")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="environment for both the app and the CLI, e.g. OMP_WAIT_POLICY=PASSIVE (repeatable)")
    parser.add_argument("--streamlit-option", action="append", default=[], metavar="OPTION=VALUE",
                        help="extra `streamlit run` option, e.g. server.fileWatcherType=none (repeatable)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    env = dict(os.environ)
    env.setdefault("NNPLAY_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    env.update(dict(item.split("=", 1) for item in args.env))
    # a run store of its own (unless NNPLAY_HOME says where, here or with --env): the page then lists only this
    # benchmark's runs, and yours get none of them
    home = None if "NNPLAY_HOME" in env else tempfile.mkdtemp(prefix="nnplay-bench-page-")
    if home:
        env["NNPLAY_HOME"] = home
    page_times: list[float] = []
    cli_times: list[float] = []
    views: list[dict] = []
    extra = [f"--{opt.split('=', 1)[0]}={opt.split('=', 1)[1]}" for opt in args.streamlit_option]
    proc, url = start_app(env, extra)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for r in range(args.repeats):
                times, view = page_epochs(browser, url, args.epochs, args.train_limit, args.timeout,
                                          watch=args.watch == "on")
                rate = (view["fetches"] - 1) / view["fetch_span_s"] if view["fetch_span_s"] else 0.0
                view["fetches_per_s"] = round(rate, 2)
                print(f"page  #{r + 1}: epoch seconds {times}; live view: {view['fetches']} fetches in "
                      f"{view['fetch_span_s']:.1f} s ({rate:.2f}/s), {view['snapshots']} snapshots shown, "
                      f"chart draws {view['chart_draws']} "
                      f"(curves only: {view['curves_moved']}; ms {view['draw_ms']})",
                      file=sys.stderr)
                views.append(view)
                page_times += times
                times = cli_epochs(env, args.epochs, args.train_limit, view["threads"])
                print(f"cli   #{r + 1}: epoch seconds {times} ({view['threads'] or 'default'} threads, as the page's run)",
                      file=sys.stderr)
                cli_times += times
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
        if home:
            shutil.rmtree(home, ignore_errors=True)
    page_median, cli_median = statistics.median(page_times), statistics.median(cli_times)
    ratio = page_median / cli_median
    # each round's page against the CLI run right after it: on a machine whose speed drifts, the rounds
    # say how much of the spread is the machine's
    n = args.epochs
    rounds = [round(statistics.median(page_times[i:i + n]) / statistics.median(cli_times[i:i + n]), 2)
              for i in range(0, len(page_times), n)]
    print(f"median epoch: page {page_median:.3f} s, CLI {cli_median:.3f} s, ratio {ratio:.2f} (target ≤ 1.3); "
          f"each round's ratio {rounds}", file=sys.stderr)
    print(json.dumps({"epochs": args.epochs, "repeats": args.repeats, "watch": args.watch, "train_limit": args.train_limit,
                      "streamlit_options": args.streamlit_option,
                      "env": args.env, "load_average_1min": os.getloadavg()[0], "page_epoch_seconds": page_times,
                      "cli_epoch_seconds": cli_times, "live_view": views, "page_median": page_median, "cli_median": cli_median,
                      "ratio": round(ratio, 3), "round_ratios": rounds, "cpus": os.cpu_count()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
