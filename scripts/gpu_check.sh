#!/usr/bin/env bash
# GPU check for issue 11, for any machine with an NVIDIA GPU (a bare one is fine: it needs python3
# with venv, and network access for pip). Usage, from anywhere:
#
#     bash scripts/gpu_check.sh [MNIST_DATA_DIR]
#
# It makes .venv in the repo (or uses $PY, a python that already has the requirements), installs
# requirements.txt and requirements-ray.txt, then in under 5 minutes runs and prints:
#   1. seed-mlp, 10 epochs, on the GPU in this process: the training time (target < 1.5 s);
#   2. a seed-003 CNN epoch on the GPU (the second of two, after cuDNN's warm-up; target < 2 s);
#   3. the local worker pool with one worker on the GPU: Start -> first loss, and a 10-epoch
#      seed-mlp run's epoch times there;
#   4. four seed-mlp runs sharing the GPU through a local Ray cluster, 0.25 GPU each: the wall
#      time, each run's device, and how many trained at the same time (skipped, saying so, without ray).
# The data: MNIST in MNIST_DATA_DIR (or $NNPLAY_DATA_DIR) in torchvision's layout
# (<dir>/MNIST/raw/*.gz); without it, the built-in sample in nnplay/assets (10,000 train images:
# the times are then for that size, and the script says so). The last line is one JSON object.
# NNPLAY_GPU_CHECK_CPU=1 runs the same steps on the CPU with small data (to try the script).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "" ]; then export NNPLAY_DATA_DIR="$1"; fi
if [ "${NNPLAY_GPU_CHECK_CPU:-0}" != "1" ]; then
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader \
    || { echo "no nvidia-smi: this check is for a machine with an NVIDIA GPU (NNPLAY_GPU_CHECK_CPU=1 to try it on the CPU)"; exit 1; }
fi

PY="${PY:-}"
if [ -z "$PY" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.txt -r requirements-ray.txt
  PY=.venv/bin/python
fi

export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0   # the local Ray cluster stays on 127.0.0.1
timeout 290 "$PY" - <<'EOF'
import json, os, sys, threading, time

sys.path.insert(0, os.getcwd())
import torch

from nnplay.config import PRESETS, DataConfig, TrainConfig
from nnplay.data import load_mnist
from nnplay.engine import History, StepEvent, RunStart, seeded_model, train
from nnplay.jobs import JobSpec

cpu = os.environ.get("NNPLAY_GPU_CHECK_CPU") == "1"
device = "cpu" if cpu else "cuda"
if not cpu and not torch.cuda.is_available():
    sys.exit("torch sees no CUDA GPU: install a CUDA build of torch (pip install torch) and check the driver.")
limit = 2000 if cpu else None
data_cfg = DataConfig(train_limit=limit, test_limit=500 if cpu else None)
data = load_mnist(data_cfg)
out = {"device": torch.cuda.get_device_name(0) if not cpu else "cpu (trial)", "torch": torch.__version__,
       "train_images": len(data.train_images), "data": data.source}
if data.source == "sample":
    print("note: full MNIST not found, timing the built-in sample (10,000 train images)")
print(f"{out['device']}, torch {torch.__version__}, {len(data.train_images)} train images ({data.source})", flush=True)

def cfg(preset, **kw):
    p = PRESETS[preset]
    return p.model, TrainConfig(**{**p.train.__dict__, "device": device, **kw})

# 1. seed-mlp, 10 epochs, in this process
model_cfg, train_cfg = cfg("seed-mlp", epochs=10)
train(seeded_model(model_cfg, 0), data.limited(2048, 512), TrainConfig(**{**train_cfg.__dict__, "epochs": 1}))  # warm-up
h = History()
t = time.perf_counter()
train(seeded_model(model_cfg, 0), data, train_cfg, on_event=h)
out["mlp_10_epochs_train_s"] = round(sum(e.seconds for e in h.epochs), 3)
out["mlp_10_epochs_wall_s"] = round(time.perf_counter() - t, 3)
out["mlp_test_accuracy"] = h.epochs[-1].test_accuracy
print(f"1. seed-mlp 10 epochs: {out['mlp_10_epochs_train_s']} s training ({out['mlp_10_epochs_wall_s']} s with "
      f"evaluation), test accuracy {out['mlp_test_accuracy']:.4f} (target < 1.5 s)", flush=True)

# 2. seed-003 CNN: the second of two epochs
model_cfg, train_cfg = cfg("seed-cnn", epochs=2)
h = History()
train(seeded_model(model_cfg, 0), data, train_cfg, on_event=h)
out["cnn_epoch_s"] = [round(e.seconds, 3) for e in h.epochs]
print(f"2. seed-003 CNN epochs: {out['cnn_epoch_s']} s (target < 2 s for the second)", flush=True)

# 3. the local pool, one worker on the GPU
from nnplay.jobs.local import LocalPool

class Sink:
    def __init__(self):
        self.events, self.first, self.start, self.end = [], threading.Event(), None, None
    def __call__(self, e):
        self.events.append(e)
        if isinstance(e, RunStart):
            self.start = time.perf_counter()
        if type(e).__name__ == "JobEnd":
            self.end = time.perf_counter()
        if isinstance(e, StepEvent) and not self.first.is_set():
            self.first_at = time.perf_counter(); self.first.set()

t = time.perf_counter()
pool = LocalPool(workers=1, preload=data_cfg, max_run_minutes=0)
pool.wait_ready(120)
out["pool"] = pool.describe()
out["pool_ready_s"] = round(time.perf_counter() - t, 2)
model_cfg, train_cfg = cfg("seed-mlp", epochs=10)
sink = Sink()
t = time.perf_counter()
job = pool.submit(JobSpec("gpu-pool", "gpu-check", data_cfg, model_cfg, train_cfg), sink)
sink.first.wait(60)
job.wait(120)
out["pool_first_loss_s"] = round(sink.first_at - t, 3)
out["pool_run_wall_s"] = round(time.perf_counter() - t, 2)
epochs = [e for e in sink.events if type(e).__name__ == "EpochMetrics"]
out["pool_mlp_10_epochs_train_s"] = round(sum(e.seconds for e in epochs), 3)
out["pool_device"] = epochs[-1].device if epochs else None
out["pool_status"] = job.status
pool.close()
print(f"3. {out['pool']}: ready in {out['pool_ready_s']} s; Start -> first loss {out['pool_first_loss_s']} s; "
      f"seed-mlp 10 epochs {out['pool_mlp_10_epochs_train_s']} s training on {out['pool_device']} ({job.status})", flush=True)

# 4. four runs sharing the GPU through a local Ray cluster, 0.25 GPU each
def ray_step():
    import ray
    from ray.cluster_utils import Cluster
    from nnplay.jobs.ray_backend import RayBackend

    t = time.perf_counter()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 4, "num_gpus": 0 if cpu else 1,
                                                            "node_ip_address": "127.0.0.1", "include_dashboard": False})
    try:
        backend = RayBackend("127.0.0.1:" + cluster.address.rsplit(":", 1)[1], gpus_per_run=0.25, cpus_per_run=1,
                             max_run_minutes=0)
        out["ray_cluster"] = backend.describe()
        out["ray_start_s"] = round(time.perf_counter() - t, 2)
        model_cfg, train_cfg = cfg("seed-mlp", epochs=5)
        sinks = [Sink() for _ in range(4)]
        t = time.perf_counter()
        jobs = [backend.submit(JobSpec(f"gpu-ray-{i}", f"ws{i}", data_cfg, model_cfg,
                                       TrainConfig(**{**train_cfg.__dict__, "seed": i})), s)
                for i, s in enumerate(sinks)]
        for j in jobs:
            j.wait(180)
        out["ray_wall_s"] = round(time.perf_counter() - t, 2)
        out["ray_statuses"] = [j.status for j in jobs]
        out["ray_devices"] = sorted({e.device for s in sinks for e in s.events if type(e).__name__ == "RunStart"})
        # how many trained at once: each run spans from its RunStart's arrival to its end's
        spans = [(s.start, s.end) for s in sinks if s.start and s.end]
        out["ray_max_concurrent"] = max(sum(a <= t0 < b for a, b in spans) for t0, _ in spans) if spans else 0
        out["ray_epoch_s"] = [round(sum(e.seconds for e in s.events if type(e).__name__ == "EpochMetrics") / 5, 3)
                              for s in sinks]
        backend.close()
        print(f"4. {out['ray_cluster']} (up in {out['ray_start_s']} s): 4 runs of 5 epochs, 0.25 GPU each, in "
              f"{out['ray_wall_s']} s; {out['ray_max_concurrent']} at once; devices {out['ray_devices']}; "
              f"mean epoch {out['ray_epoch_s']} s; {out['ray_statuses']}", flush=True)
    finally:
        ray.shutdown()
        cluster.shutdown()


try:
    import ray  # noqa: F401 - optional (requirements-ray.txt)
except ImportError:
    out["ray"] = "skipped: ray is not installed (pip install -r requirements-ray.txt)"
    print(f"4. {out['ray']}", flush=True)
else:
    ray_step()
print(json.dumps(out))
EOF
