"""Benchmark: many runs at once through the local worker pool and through a local Ray cluster.

Issue 11's targets. The backend part (``--no-browser`` runs only this):

1. a warm pool's Start → first loss event at the sink (target under 2 s), median of 3;
2. one 1-epoch seed-mlp run alone in the pool: its images per second (wall time from submit to
   its end, evaluation and checkpoint included);
3. 8 such runs submitted at once (8 workspaces): all finish, and their combined images per
   second (8 × train images over the wall time until the last ends) is at least 80% of (2);
4. the peak memory (RSS high-water mark) of this process, the "server", and of each worker;
5. the same 8 runs through a local Ray cluster (one node, as many CPUs as the pool has workers;
   or the cluster at ``--ray-address``): all finish, wall time beside the pool's.

The browser part (``--browser-only`` runs only this) drives the real app: a fresh ``streamlit
run app.py`` (its own ``NNPLAY_HOME``, one workspace per browser, the local pool sized to the
machine) and headless Chromium (Playwright, /usr/bin/chromium):

6. one session starts a 1-epoch seed-mlp run alone on the Train page: its images per second
   (train images over the run's started → ended time in the store); before that, the median time of one of
   the app's scripts over a kept-alive connection, as a browser asks for them (target: a few ms; ~40 ms means
   the server's replies wait for delayed acknowledgements again, see nnplay/ui/sockets.py);
7. 8 sessions (8 browser contexts, 8 workspaces) each press Start at once: all 8 finish and none
   is lost (8 records, 8 "finished"), and their combined images per second (8 × train images over
   first start → last end) against (6);
8. 8 more sessions start their runs the same way, and while they train a 9th session opens /forward:
   the time until its first table is drawn, median of 3, in a new browser (nothing cached) and in one
   that opened it before (Streamlit's scripts cached), and until a new browser draws the page's first
   element (the sidebar's links: what loading Streamlit itself takes under that load), beside a new browser's
   first table with nothing training (what this machine's browser takes anyway). The 8 sessions' pages draw their
   live views here, on the cores the workers and the server use (in a class, each learner's own computer
   draws them). A second round, so that this page's rendering,
   which here shares the machine, does not count against (7);
9. the server's and its workers' peak RSS, and after Ctrl-C (SIGINT) to the server, no worker left.

Where the browsers draw: in a class each learner's browser draws its pages on the learner's own computer, while
here every browser shares the server's cores. So the browser part runs two Chromiums: the learners' (the run
alone and the 8 sessions) at ``--browser-nice`` (default 19: they get the CPU the server and its workers leave, as
browsers elsewhere would take none of it), and the 9th session's (the /forward loads) at the server's priority, as
the one learner whose wait is timed. ``--browser-nice 0`` draws the learners' pages at the server's priority: the
8 pages' own drawing then comes out of the runs' time, and (7) measures this machine's browser as much as the app.
Both settings report the CPU seconds the server, its workers and everything else (the browsers) took during (7).

It trains on MNIST from ``--data-dir`` (default $NNPLAY_DATA_DIR; without the files, the
built-in sample) and prints one JSON line at the end. On a shared machine the load (printed)
moves every number: compare runs made under the same load.

    NNPLAY_DATA_DIR=../shared/data .venv/bin/python scripts/bench_load.py
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from nnplay.devtools import CHROMIUM, free_port, healthy, wait_until  # noqa: E402 - one way to serve and wait, as the tests
from nnplay.memory import peak_rss_mb  # noqa: E402
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a local Ray cluster stays on 127.0.0.1


class FirstLoss:
    """A sink that notes when the first step's loss arrives, and counts steps."""

    def __init__(self):
        self.first = threading.Event()
        self.at = None
        self.steps = 0
        self.events = 0

    def __call__(self, event):
        from nnplay.engine import StepEvent

        self.events += 1
        if isinstance(event, StepEvent):
            self.steps += 1
            if self.at is None:
                self.at = time.perf_counter()
                self.first.set()


def specs(n: int, epochs: int, data_dir: str | None, tag: str):
    from nnplay.config import PRESETS, DataConfig
    from nnplay.jobs import JobSpec

    preset = PRESETS["seed-mlp"]
    train = preset.train.__class__(**{**preset.train.__dict__, "epochs": epochs})
    data = DataConfig(data_dir=data_dir)
    return [JobSpec(f"{tag}-{i}", f"workspace-{i}", data, preset.model, train, name=f"{tag} {i}") for i in range(n)]


def run_all(backend, batch, timeout: float) -> tuple[float, list]:
    """Submit every spec at once; return (wall seconds until the last ends, the jobs)."""
    t0 = time.perf_counter()
    jobs = [backend.submit(s, FirstLoss()) for s in batch]
    for job in jobs:
        job.wait(max(1.0, timeout - (time.perf_counter() - t0)))
    return time.perf_counter() - t0, jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--data-dir", default=os.environ.get("NNPLAY_DATA_DIR"))
    parser.add_argument("--workers", type=int, default=None, help="pool size (default: sized to the machine)")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray part")
    parser.add_argument("--ray-address", default=None, help="an existing cluster (default: start one here)")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--no-browser", action="store_true", help="skip the browser part")
    parser.add_argument("--browser-only", action="store_true", help="only the browser part")
    parser.add_argument("--forward-epochs", type=int, default=10,
                        help="epochs of each run that trains while /forward is timed (it must outlast the loads)")
    parser.add_argument("--browser-nice", type=int, default=19,
                        help="niceness of the learners' Chromium (default 19: it stands for browsers on the learners' "
                             "own computers; 0: at the server's priority, sharing its cores)")
    args = parser.parse_args()
    if args.browser_only:
        out = {"cores": os.cpu_count(), "load_before": [round(x, 2) for x in os.getloadavg()]}
        out["browser"] = bench_browser(args)
        out["load_after"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(out))
        return

    from nnplay.config import DataConfig
    from nnplay.data import load_mnist
    from nnplay.jobs.local import LocalPool

    train_size = len(load_mnist(DataConfig(data_dir=args.data_dir)).train_images)
    out: dict = {"cores": os.cpu_count(), "load_before": [round(x, 2) for x in os.getloadavg()],
                 "train_images": train_size, "runs": args.runs, "epochs": args.epochs}
    print(f"load average before: {out['load_before']}", flush=True)

    t0 = time.perf_counter()
    pool = LocalPool(workers=args.workers, preload=DataConfig(data_dir=args.data_dir), max_run_minutes=0)
    pool.wait_ready()
    out["pool"] = pool.describe()
    out["pool_start_s"] = round(time.perf_counter() - t0, 2)
    print(f"{out['pool']}: ready in {out['pool_start_s']} s", flush=True)
    try:
        # 1. Start -> first loss, warm pool
        firsts = []
        for i, s in enumerate(specs(3, 1, args.data_dir, "first")):
            sink = FirstLoss()
            t = time.perf_counter()
            job = pool.submit(s, sink)
            sink.first.wait(120)
            firsts.append(sink.at - t)
            job.stop()
            job.wait(60)
        out["first_loss_s"] = [round(x, 3) for x in firsts]
        out["first_loss_median_s"] = round(statistics.median(firsts), 3)
        print(f"Start -> first loss (warm pool): {out['first_loss_s']} s, median {out['first_loss_median_s']} "
              f"(target < 2 s)", flush=True)

        # 2. one run alone
        wall, (job,) = run_all(pool, specs(1, args.epochs, args.data_dir, "alone"), args.timeout)
        alone = train_size * args.epochs / wall
        out["alone"] = {"wall_s": round(wall, 2), "images_per_s": round(alone), "status": job.status}
        print(f"one run alone: {wall:.2f} s, {alone:,.0f} images/s ({job.status})", flush=True)

        # 3. eight at once
        wall, jobs = run_all(pool, specs(args.runs, args.epochs, args.data_dir, "pool"), args.timeout)
        finished = sum(j.status == "finished" for j in jobs)
        combined = train_size * args.epochs * finished / wall
        out["pool_runs"] = {"wall_s": round(wall, 2), "finished": finished, "images_per_s": round(combined),
                            "ratio_to_alone": round(combined / alone, 3),
                            "statuses": sorted({j.status for j in jobs})}
        print(f"{args.runs} runs at once in the pool: {finished} finished in {wall:.2f} s, {combined:,.0f} images/s "
              f"combined = {combined / alone:.0%} of one alone (target >= 80%)", flush=True)

        # 4. memory
        out["server_peak_rss_mb"] = round(peak_rss_mb(), 1)
        out["worker_peak_rss_mb"] = [round(peak_rss_mb(p) or 0, 1) for p in pool.worker_pids()]
        print(f"peak RSS: server {out['server_peak_rss_mb']} MB, workers {out['worker_peak_rss_mb']} MB", flush=True)
    finally:
        pool.close()

    # 5. Ray
    if not args.no_ray:
        try:
            import ray  # noqa: F401
        except ImportError:
            out["ray"] = "not installed (pip install -r requirements-ray.txt)"
        else:
            out["ray"] = bench_ray(args, pool.size, train_size)
    if not args.no_browser:
        out["browser"] = bench_browser(args)
    out["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"load average after: {out['load_after']}")
    print(json.dumps(out))


def bench_ray(args, cpus: int, train_size: int) -> dict:
    import ray

    from nnplay.jobs.ray_backend import RayBackend

    cluster = None
    t0 = time.perf_counter()
    try:
        address = args.ray_address
        if address is None:
            from ray.cluster_utils import Cluster

            cluster = Cluster(initialize_head=True, head_node_args={
                "num_cpus": cpus, "node_ip_address": "127.0.0.1", "include_dashboard": False})
            address = "127.0.0.1:" + cluster.address.rsplit(":", 1)[1]
        backend = RayBackend(address, gpus_per_run=0.25, cpus_per_run=1, max_run_minutes=0)
        start = time.perf_counter() - t0
        wall, jobs = run_all(backend, specs(args.runs, args.epochs, args.data_dir, "ray"), args.timeout)
        finished = sum(j.status == "finished" for j in jobs)
        result = {"cluster": backend.describe(), "start_s": round(start, 2), "wall_s": round(wall, 2),
                  "finished": finished, "images_per_s": round(train_size * args.epochs * finished / wall),
                  "statuses": sorted({j.status + (": " + j.message if j.status == "error" else "") for j in jobs})}
        print(f"{args.runs} runs at once on Ray ({result['cluster']}, up in {start:.1f} s): {finished} finished "
              f"in {wall:.2f} s", flush=True)
        backend.close()
        return result
    finally:
        ray.shutdown()
        if cluster is not None:
            cluster.shutdown()


# ---------------------------------------------------------------------------------------------
# the browser part: the real app, 8 sessions training at once, a 9th opening /forward


def _stat(pid: int | str) -> list[str]:
    """The fields of /proc/<pid>/stat after the command's name (state, parent, ...; man 5 proc, from field 3)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def _cpu_s(pids) -> float:
    """CPU seconds (user + system) the processes ``pids`` have used so far (those gone count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = _stat(pid)
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def _machine_busy_s() -> float:
    """CPU seconds every core of this machine has been busy since boot (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _niced(executable: str, niceness: int, folder: Path) -> str:
    """``executable`` started at ``niceness`` (a wrapper script in ``folder``; Chromium's processes inherit it).

    Playwright starts Chromium in a session of its own, and Linux (with ``kernel.sched_autogroup_enabled``, the
    default) shares the CPU between sessions before it looks at a process's niceness: a nice Chromium would still
    get as much CPU as the server and its workers together. So the wrapper lowers its session's weight as well
    (``/proc/self/autogroup``)."""
    if niceness <= 0:
        return executable
    wrapper = folder / "chromium-niced"
    wrapper.write_text(f'#!/bin/sh\necho {int(niceness)} > /proc/self/autogroup 2>/dev/null\n'
                       f'exec nice -n {int(niceness)} "{executable}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def _children(pid: int) -> list[int]:
    """Every process whose parent is ``pid`` (Linux /proc)."""
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat(entry)[1]) == pid:
                    kids.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return kids


def _reused_connection_ms(url: str) -> float:
    """Median milliseconds for one of the scripts the app's page loads first, asked for over one kept-alive
    connection as a browser does (each of them twice). About 1 ms when the server sends its replies at once, ~40 ms
    when Nagle's algorithm holds each reply's body for the browser's delayed acknowledgement (nnplay/ui/sockets.py)."""
    host, port = url.split("//")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", "/")
        scripts = re.findall(r'(?:src|href)="\.?/?(static/js/[^"]+\.js)"', connection.getresponse().read().decode())
        times = []
        for path in scripts * 2:
            t = time.perf_counter()
            connection.request("GET", "/" + path)
            connection.getresponse().read()
            times.append((time.perf_counter() - t) * 1000)
        return round(statistics.median(times), 1) if times else float("nan")
    finally:
        connection.close()


def _alive(pid: int) -> bool:
    try:
        return _stat(pid)[0] != "Z"
    except OSError:
        return False


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _records(home: Path) -> list[dict]:
    import sqlite3

    db = home / "runs.db"
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as con:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(
            "SELECT id, workspace, status, message, created, started, ended, train_size FROM runs")]


def _train_images(records: list[dict], train_size: int) -> dict:
    """Images per second from Start (the run's record made) to the last run's end: queue, data and evaluation
    included, for one run as for eight."""
    ended = [r for r in records if r["status"] == "finished"]
    if not ended:
        return {"finished": 0}
    first, last = min(r["created"] for r in ended), max(r["ended"] for r in ended)
    images = sum(r["train_size"] or train_size for r in ended)
    return {"finished": len(ended), "wall_s": round(last - first, 2), "train_images_each": ended[0]["train_size"],
            "images_per_s": round(images / (last - first)),
            # each run: (started, ended) in seconds after the first Start
            "timeline_s": sorted((round(r["started"] - first, 1), round(r["ended"] - first, 1)) for r in ended
                                 if r["started"])}


def bench_browser(args) -> dict:
    import subprocess
    import tempfile

    from playwright.sync_api import sync_playwright

    from nnplay.config import DataConfig
    from nnplay.data import load_mnist

    train_size = len(load_mnist(DataConfig(data_dir=args.data_dir)).train_images)
    home = Path(tempfile.mkdtemp(prefix="nnplay-bench-load-"))
    port = free_port()
    env = {**os.environ, "NNPLAY_HOME": str(home), "NNPLAY_WORKSPACES": "browser"}
    env.pop("NNPLAY_WORKERS", None) if args.workers is None else env.update(NNPLAY_WORKERS=str(args.workers))
    if args.data_dir:
        env["NNPLAY_DATA_DIR"] = args.data_dir
    log = open(home / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    out: dict = {"train_images": train_size, "learners_browser_nice": max(0, args.browser_nice)}
    workers: set[int] = set()
    try:
        wait_until(lambda: healthy(url), 90, "the server to start")
        with sync_playwright() as p:
            chromium = CHROMIUM
            flags = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
            # the learners' pages (see the docstring: where the browsers draw), and the 9th session's
            learners = p.chromium.launch(executable_path=_niced(chromium, args.browser_nice, home), headless=True,
                                         args=flags)
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=flags)

            def open_train(epochs: int = 1):
                context = learners.new_context(viewport={"width": 1300, "height": 900})
                page = context.new_page()
                page.goto(f"{url}/train?epochs={epochs}")
                page.wait_for_selector(".st-key-train_start button", timeout=180_000)
                return context, page

            # 6. one run alone (its page stays open, as a learner's would)
            context, page = open_train()
            if not os.environ.get("NNPLAY_RAY_ADDRESS"):  # on Ray, runs go to the cluster: no pool of children
                wait_until(lambda: _children(server.pid), 120, "the worker pool to start")
            time.sleep(5)  # let the workers finish warming up
            workers.update(_children(server.pid))
            out["script_over_reused_connection_ms"] = _reused_connection_ms(url)
            print(f"browser: a script file over a kept-alive connection: {out['script_over_reused_connection_ms']} ms "
                  "(median)", flush=True)
            page.locator(".st-key-train_start button").click()
            wait_until(lambda: [r for r in _records(home) if r["status"] not in ("queued", "running", "paused")],
                        args.timeout, "the run alone to end")
            alone = _train_images(_records(home), train_size)
            out["alone"] = alone
            print(f"browser: one run alone: {alone}", flush=True)
            context.close()

            # 7. eight sessions press Start at once
            def start_all(epochs: int = 1):
                """8 new sessions on /train, then Start pressed in each at once; returns (sessions, click seconds,
                the ids of the runs that were there before)."""
                before = {r["id"] for r in _records(home)}
                sessions = [open_train(epochs) for _ in range(args.runs)]
                time.sleep(3)  # the pages' last drawing after their load is done
                workers.update(_children(server.pid))
                cpu_before = _cpu_s([server.pid]), _cpu_s(workers), _machine_busy_s()
                # each page clicks Start itself at the same moment (a timer set in every page first): a click sent
                # to one page after the other would wait for each page in turn, and a page drawing another's
                # Start spreads them out
                at_ms = (time.time() + 1.5) * 1000
                for _, pg in sessions:
                    pg.evaluate("(at) => setTimeout(() => document.querySelector('.st-key-train_start button').click(), "
                                "Math.max(0, at - Date.now()))", at_ms)
                rows = wait_until(lambda: (lambda rs: rs if len(rs) >= args.runs else None)(
                    [r for r in _records(home) if r["id"] not in before]), 120, "8 runs in the store")
                spread = max(r["created"] for r in rows) - min(r["created"] for r in rows)
                return sessions, spread, (before, cpu_before)

            def all_ended(before):
                return wait_until(
                    lambda: (lambda rs: rs if len(rs) >= args.runs and all(r["status"] not in ("queued", "running",
                                                                                             "paused") for r in rs)
                             else None)([r for r in _records(home) if r["id"] not in before]),
                    args.timeout, "the 8 runs to end")

            sessions, spread_s, (before, (server_s, workers_s, busy_s)) = start_all()
            batch = all_ended(before)
            # the CPU each part took from the clicks until the last run ended
            server_s, workers_s = _cpu_s([server.pid]) - server_s, _cpu_s(workers) - workers_s
            cpu = {"server": round(server_s, 1), "workers": round(workers_s, 1),
                   "browsers_and_rest": round(_machine_busy_s() - busy_s - server_s - workers_s, 1)}
            workers.update(_children(server.pid))
            at_once = _train_images(batch, train_size)
            out["at_once"] = {**at_once, "runs": len(batch), "starts_spread_s": round(spread_s, 2), "cpu_s": cpu,
                              "statuses": sorted({r["status"] + (": " + r["message"] if r["status"] != "finished" else "")
                                                  for r in batch}),
                              "ratio_to_alone": round(at_once.get("images_per_s", 0) / alone["images_per_s"], 3)
                              if alone.get("images_per_s") else None}
            print(f"browser: {args.runs} sessions at once: {out['at_once']}", flush=True)
            for ctx, _ in sessions:
                ctx.close()

            def forward_s(page_, selector: str = "[data-testid=stDataFrame]") -> float:
                """Seconds from opening /forward in ``page_`` until ``selector`` (default: its first table) is there."""
                t = time.perf_counter()
                page_.goto(f"{url}/forward")
                page_.wait_for_selector(selector, state="attached", timeout=180_000)
                return round(time.perf_counter() - t, 2)

            def new_browser_forward_s(selector: str = "[data-testid=stDataFrame]") -> float:
                """``forward_s`` in a new browser context: nothing cached."""
                ctx = browser.new_context(viewport={"width": 1300, "height": 900})
                try:
                    return forward_s(ctx.new_page(), selector)
                finally:
                    ctx.close()

            # the same /forward loads with nothing training: what a new browser takes on this machine anyway
            # (loading Streamlit's scripts and drawing the page), to read (8) against
            out["forward_idle_new_browser_s"] = [new_browser_forward_s() for _ in range(3)]
            out["forward_idle_median_s"] = round(statistics.median(out["forward_idle_new_browser_s"]), 2)
            print(f"browser: /forward's first table with nothing training, new browser: "
                  f"{out['forward_idle_new_browser_s']} s, median {out['forward_idle_median_s']}", flush=True)

            # 8. a 9th session opens /forward while 8 more runs train (a second round: the /forward page's own
            # rendering in this machine's browser would otherwise count against the 8 runs' throughput)
            sessions, _, (before, _) = start_all(args.forward_epochs)  # long enough to train through every /forward load
            out["forward_first_table_s"], out["forward_returning_s"], training = [], [], []
            out["sidebar_new_browser_s"] = []  # a new browser's first element on /forward: Streamlit's own loading
            returning = browser.new_context(viewport={"width": 1300, "height": 900})  # has Streamlit's scripts cached
            warm = returning.new_page()
            forward_s(warm)
            for _ in range(3):
                training.append(sum(r["status"] in ("queued", "running") for r in _records(home)))
                out["forward_first_table_s"].append(new_browser_forward_s())
                out["forward_returning_s"].append(forward_s(warm))
                out["sidebar_new_browser_s"].append(
                    new_browser_forward_s("[data-testid=stSidebar] [data-testid=stPageLink]"))
            returning.close()
            out["forward_median_s"] = round(statistics.median(out["forward_first_table_s"]), 2)
            out["forward_returning_median_s"] = round(statistics.median(out["forward_returning_s"]), 2)
            out["forward_runs_training_or_queued"] = training
            print(f"browser: /forward's first table while {training} runs train or wait: new browser "
                  f"{out['forward_first_table_s']} s, median {out['forward_median_s']}; a browser that visited before "
                  f"{out['forward_returning_s']} s, median {out['forward_returning_median_s']} (target < 3 s); "
                  f"a new browser's first element there (the sidebar's links) {out['sidebar_new_browser_s']} s",
                  flush=True)
            all_ended(before)
            workers.update(_children(server.pid))
            out["server_peak_rss_mb"] = round(peak_rss_mb(server.pid) or 0, 1)
            out["worker_peak_rss_mb"] = [round(peak_rss_mb(w) or 0, 1) for w in sorted(workers)
                                         if _alive(w) and "resource_tracker" not in _cmdline(w)]
            print(f"browser: peak RSS: server {out['server_peak_rss_mb']} MB, workers {out['worker_peak_rss_mb']} MB",
                  flush=True)
            for ctx, _ in sessions:
                ctx.close()
            browser.close()
            learners.close()
    finally:
        import signal as _signal

        workers.update(_children(server.pid))
        server.send_signal(_signal.SIGINT)  # Ctrl-C
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        time.sleep(3)
        left = sorted(w for w in workers if _alive(w))
        out["processes_left_after_ctrl_c"] = left
        print(f"browser: after Ctrl-C on the server: {len(left)} of its {len(workers)} child processes left",
              flush=True)
        for pid in left:
            os.kill(pid, 9)
    return out


if __name__ == "__main__":
    main()
