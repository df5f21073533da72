"""Benchmark: warm Ray actors on a local two-node cluster against the local pool on the same cores.

Issue 23's Ray targets. It starts a two-node Ray cluster on this machine as docs/workers-and-ray.md's
two-node recipe does (two ``ray start``, ``--num-cpus`` each, on a port of its own; ``ray stop --force``
at the end, so run it where no other Ray runs), and measures through ``RayBackend`` once its actors are warm:

1. a warm run's Start → first loss at the sink (target ≤ 2 s), median of ``--rounds``;
2. ``--runs`` runs (default 8) submitted at once: the wall time until the last ends;

then the same through a ``LocalPool`` of as many one-thread workers as the cluster has CPUs, and prints
the ratio of (2) (target ≤ 1.3×). The runs are the seed-mlp preset, one epoch on a subset
(``--train-limit``, ``--test-limit``) of MNIST from ``--data-dir`` (default $NNPLAY_DATA_DIR; without the
files, the built-in sample). On a shared machine the load (printed) moves every number.

    NNPLAY_DATA_DIR=../shared/data .venv/bin/python scripts/bench_ray.py
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class FirstLoss:
    """A sink that notes when the first step's loss arrives."""

    def __init__(self):
        self.first = threading.Event()
        self.at = None

    def __call__(self, event):
        if self.at is None and type(event).__name__ == "StepEvent":
            self.at = time.perf_counter()
            self.first.set()


def specs(n: int, data, tag: str):
    from nnplay.config import PRESETS
    from nnplay.jobs import JobSpec

    preset = PRESETS["seed-mlp"]
    train = dataclasses.replace(preset.train, epochs=1)
    return [JobSpec(f"{tag}-{i}", f"workspace-{i}", data, preset.model, train, name=f"{tag} {i}") for i in range(n)]


def measure(backend, data, runs: int, rounds: int, tag: str, timeout: float) -> dict:
    """(1) and (2) through ``backend``, whose workers are warm."""
    firsts = []
    for i, spec in enumerate(specs(rounds, data, f"{tag}-alone")):
        sink = FirstLoss()
        t0 = time.perf_counter()
        job = backend.submit(spec, sink)
        sink.first.wait(timeout)
        firsts.append(sink.at - t0 if sink.at else float("inf"))
        job.wait(timeout)
    t0 = time.perf_counter()
    jobs = [backend.submit(s, FirstLoss()) for s in specs(runs, data, tag)]
    for job in jobs:
        job.wait(max(1.0, timeout - (time.perf_counter() - t0)))
    wall = time.perf_counter() - t0
    statuses = sorted({j.status + (": " + j.message if j.status != "finished" else "") for j in jobs})
    return {"first_loss_s": [round(x, 2) for x in firsts], "first_loss_median_s": round(statistics.median(firsts), 2),
            "wall_s": round(wall, 2), "statuses": statuses}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_command(*args: str) -> None:
    ray = shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"}  # two nodes need it off
    subprocess.run([ray, *args], check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=180)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="warm runs alone, for Start → first loss")
    parser.add_argument("--cpus", type=int, default=1, help="CPUs of each of the two nodes")
    parser.add_argument("--train-limit", type=int, default=6000)
    parser.add_argument("--test-limit", type=int, default=1000)
    parser.add_argument("--data-dir", default=os.environ.get("NNPLAY_DATA_DIR"))
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    from nnplay.config import DataConfig
    from nnplay.jobs.local import LocalPool
    from nnplay.jobs.ray_backend import RayBackend

    data = DataConfig(data_dir=args.data_dir, train_limit=args.train_limit, test_limit=args.test_limit)
    out = {"load_before": [round(x, 2) for x in os.getloadavg()], "cores": os.cpu_count(),
           "runs": args.runs, "train_limit": args.train_limit}
    print(f"load average before: {out['load_before']}", flush=True)

    port = free_port()
    try:
        t0 = time.perf_counter()
        ray_command("start", "--head", f"--port={port}", f"--num-cpus={args.cpus}", "--include-dashboard=false")
        ray_command("start", f"--address=127.0.0.1:{port}", f"--num-cpus={args.cpus}")
        backend = RayBackend(f"127.0.0.1:{port}", cpus_per_run=1, gpus_per_run=1, max_run_minutes=0, preload=data)
        assert backend.wait_ready(args.timeout), "the Ray actors did not warm up"
        out["ray_up_s"] = round(time.perf_counter() - t0, 2)
        out["ray_cluster"] = backend.describe()
        out["ray_actors"] = backend.worker_count()
        print(f"Ray: {out['ray_cluster']}, {out['ray_actors']} warm actors, up in {out['ray_up_s']} s", flush=True)
        out["ray"] = measure(backend, data, args.runs, args.rounds, "ray", args.timeout)
        print(f"Ray: {out['ray']}", flush=True)
        backend.close()
    finally:
        import ray

        ray.shutdown()
        ray_command("stop", "--force")

    pool = LocalPool(workers=2 * args.cpus, threads=1, max_run_minutes=0, preload=data, nice=0)
    try:
        assert pool.wait_ready(args.timeout), "the pool's workers did not warm up"
        out["pool"] = measure(pool, data, args.runs, args.rounds, "pool", args.timeout)
        print(f"pool ({pool.describe()}): {out['pool']}", flush=True)
    finally:
        pool.close()

    out["ratio_ray_to_pool"] = round(out["ray"]["wall_s"] / out["pool"]["wall_s"], 2)
    out["targets"] = {"warm_first_loss_le_2s": out["ray"]["first_loss_median_s"] <= 2.0,
                      "wall_le_1.3x_pool": out["ratio_ray_to_pool"] <= 1.3}
    out["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"load average after: {out['load_after']}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
