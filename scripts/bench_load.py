"""Benchmark: many runs at once through the local worker pool and through a local Ray cluster.

Issue 11's targets, the backend part (the browser part, 8 sessions and a 9th opening /forward,
drives the app and is measured where the pages are wired to the pool):

1. a warm pool's Start → first loss event at the sink (target under 2 s), median of 3;
2. one 1-epoch seed-mlp run alone in the pool: its images per second (wall time from submit to
   its end, evaluation and checkpoint included);
3. 8 such runs submitted at once (8 workspaces): all finish, and their combined images per
   second (8 × train images over the wall time until the last ends) is at least 80% of (2);
4. the peak memory (RSS high-water mark) of this process, the "server", and of each worker;
5. the same 8 runs through a local Ray cluster (one node, as many CPUs as the pool has workers;
   or the cluster at ``--ray-address``): all finish, wall time beside the pool's.

It trains on MNIST from ``--data-dir`` (default $NNPLAY_DATA_DIR; without the files, the
built-in sample) and prints one JSON line at the end. On a shared machine the load (printed)
moves every number: compare runs made under the same load.

    NNPLAY_DATA_DIR=../shared/data .venv/bin/python scripts/bench_load.py
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
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


def peak_rss_mb(pid: int | None = None) -> float | None:
    """The peak resident memory (VmHWM) of a process, in MB; this process's when pid is None."""
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None


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
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
