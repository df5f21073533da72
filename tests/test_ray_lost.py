"""The README's one-node Ray recipe, as written, from an app started before its cluster to a cluster stopped under
it (``ray stop --force`` while a run trains) and started again; and a head lost while a run's actor lives on.

The app's side runs in a child process (the app's backend, ``jobs.backend()``, as in tests/test_ray_recipes.py),
so a process that Ray ends shows here as a failure with its output. The child starts before the cluster: it
must say within 10 s that it cannot reach it, then join once ``ray start`` has run. Ray ends a driver whose
cluster stays gone for ``gcs_rpc_server_reconnect_timeout_s`` (60 s by default); the child sets it to
``RAY_DEADLINE_S`` so the test need not wait a minute, and lives on past it. The children let go of a silent
cluster after ``LOST_S`` and knock again every ``RETRY_S`` (the app's 10 s and 5 s would only hold the test longer).
Skipped when ray or the project's ``.venv/bin/ray`` is missing.
"""

import json
import subprocess
import sys

import pytest

pytest.importorskip("ray")

from .conftest import ROOT  # noqa: E402
from .test_ray_recipes import DOC_PORT, clean_env, free_port, recipe, shell  # noqa: E402

pytestmark = pytest.mark.ray

RAY_DEADLINE_S = 12  # Ray's own deadline for a lost GCS in the child (the default 60 s would hold the test longer)
LOST_S, RETRY_S = 2.0, 2.0  # the children's ray_backend.LOST_SECONDS and RETRY_SECONDS: well inside that deadline
TIMES = ("from nnplay.jobs import ray_backend\n"
         f"ray_backend.LOST_SECONDS, ray_backend.RETRY_SECONDS = {LOST_S}, {RETRY_S}\n")
DESCRIBE_S = 1.0  # the slowest the sidebar's line may take while the cluster is gone (it blocked for 60 s before)

CHILD = """
import json, subprocess, sys, time
from nnplay import jobs
from nnplay.config import DataConfig, ModelConfig, TrainConfig
start, stop, data_dir, deadline = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])

def sh(line):
    subprocess.run(line, shell=True, check=True, capture_output=True, timeout=180)

def spec(name, epochs):
    return jobs.JobSpec(name, name, DataConfig(data_dir=data_dir, download=False, train_limit=600, test_limit=200),
                        ModelConfig(hidden=(16,)), TrainConfig(epochs=epochs, batch_size=100, log_every=3))

def steps(events):
    return sum(type(e).__name__ == "StepEvent" for e in events)

backend = jobs.backend()
began = time.monotonic()
said_unreachable = None
while said_unreachable is None and time.monotonic() - began < 15:  # no cluster yet
    if backend.unreachable():
        said_unreachable = [round(time.monotonic() - began, 1), backend.unreachable()]
    time.sleep(0.1)
sh(start)
assert backend.wait_connected(120), backend.describe()
before = backend.describe()
trained = []
long = backend.submit(spec("long", 1000), trained.append)
began = time.monotonic()
while steps(trained) < 3 and time.monotonic() - began < 120:
    time.sleep(0.1)
sh(stop)
stopped = time.monotonic()
slowest, lost_after, said, letting_go = 0.0, None, "", []
while time.monotonic() - stopped < deadline + 5:  # past Ray's deadline: the process must still be here
    t = time.monotonic()
    closing, said = backend.letting_go, backend.describe()
    slowest = max(slowest, time.monotonic() - t)
    if closing and backend.letting_go:
        letting_go.append(said)
    if lost_after is None and not backend.connected:
        lost_after = round(time.monotonic() - stopped, 1)
    time.sleep(0.2)
ended = long.wait(10)
waiting_events = []
waiting = backend.submit(spec("after", 1), waiting_events.append)
position = str(waiting.position())
sh(start)
finished = waiting.wait(240)
print(json.dumps({"unreachable": said_unreachable, "before": before, "lost_after": lost_after, "slowest_describe": slowest, "said": said,
                  "letting_go": letting_go,
                  "long": [ended, long.status, long.message], "position": position,
                  "after": [finished, waiting.status, waiting.message, steps(waiting_events)],
                  "again": backend.describe()}), flush=True)
jobs.shutdown(20)
"""


def test_the_one_node_recipe_waits_for_its_cluster_and_a_cluster_stopped_under_it_ends_its_run_saying_so():
    """...and a cluster started again trains the runs queued meanwhile."""
    lines = recipe("one-node")
    assert len(lines) == 3 and "ray start --head" in lines[0] and lines[2].endswith("ray stop --force")
    start, app_line, stop = lines
    port = free_port()
    env = {**clean_env(), "NNPLAY_RAY_ADDRESS": f"127.0.0.1:{port}", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
           "RAY_gcs_rpc_server_reconnect_timeout_s": str(RAY_DEADLINE_S)}
    assert app_line.startswith(f"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 NNPLAY_RAY_ADDRESS=127.0.0.1:{DOC_PORT} ")
    try:
        child = subprocess.run(
            [sys.executable, "-c", TIMES + CHILD, start.replace(DOC_PORT, str(port)), stop,
             str(ROOT / "tests" / "no-such-data-dir"), str(RAY_DEADLINE_S)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        lines = [json.loads(x) for x in child.stdout.splitlines() if x.startswith("{")]
        assert child.returncode == 0 and lines, f"the app's process ended ({child.returncode})\n" \
                                                f"{child.stdout[-2000:]}\n{child.stderr[-4000:]}"
        out = lines[-1]
        said = out["unreachable"]
        assert said is not None and said[0] <= 10, out
        assert f"could not reach the Ray cluster at NNPLAY_RAY_ADDRESS=127.0.0.1:{port}" in said[1], out
        assert "1 node," in out["before"] and "registered as" not in out["before"], out
        assert out["lost_after"] is not None and out["lost_after"] < 15, out
        assert out["slowest_describe"] < DESCRIBE_S, out
        assert f"could not reach the Ray cluster at NNPLAY_RAY_ADDRESS=127.0.0.1:{port}" in out["said"], out
        assert "It stopped answering at" in out["said"] and "runs that were training on it ended" in out["said"], out
        # while Ray closes the dead connection, no try is made: the sidebar says so, not "Trying again every 2 s"
        assert out["letting_go"] and all("Closing the lost connection first, then trying again every 2 s" in line
                                         and "Trying again" not in line for line in out["letting_go"]), out
        ended, status, message = out["long"]
        assert ended and status == "error", out
        # its actor dies with its node as the cluster stops (a Ray worker died), or the cluster is let go of first
        assert "curves up to then are kept" in message and ("stopped answering while this run trained" in message
                                                            or "the Ray worker training this run died" in message)
        assert "waiting for the Ray cluster" in out["position"], out
        finished, status, message, steps = out["after"]
        assert finished and status == "finished" and steps == 6, out
        assert "1 node," in out["again"], out
    finally:
        shell(stop, port)


HEAD_LOST = """
import json, os, sys, time
from ray.cluster_utils import Cluster
from nnplay import jobs
from nnplay.config import DataConfig, ModelConfig, TrainConfig
data_dir = sys.argv[1]
# no CPU on the head: the run's actor lives on the second node, which outlives the head
cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "node_ip_address": "127.0.0.1",
                                                        "include_dashboard": False})
cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
os.environ["NNPLAY_RAY_ADDRESS"] = "127.0.0.1:" + cluster.address.rsplit(":", 1)[1]
backend = jobs.backend()
assert backend.wait_connected(120), backend.describe()
events = []
spec = jobs.JobSpec("long", "long", DataConfig(data_dir=data_dir, download=False, train_limit=600, test_limit=200),
                    ModelConfig(hidden=(16,)), TrainConfig(epochs=1000, batch_size=100, log_every=3))
long = backend.submit(spec, events.append)
began = time.monotonic()
while sum(type(e).__name__ == "StepEvent" for e in events) < 3 and time.monotonic() - began < 120:
    time.sleep(0.1)
cluster.head_node.kill_all_processes(check_alive=False, allow_graceful=False)
killed = time.monotonic()
ended = long.wait(60)
ended_after = round(time.monotonic() - killed, 1)
while backend.connected and time.monotonic() - killed < 60:
    time.sleep(0.2)
print(json.dumps({"ended_after": ended_after, "long": [ended, long.status, long.message],
                  "lost_after": round(time.monotonic() - killed, 1), "said": backend.describe()}), flush=True)
for node in cluster.worker_nodes:
    node.kill_all_processes(check_alive=False, allow_graceful=False)
# no jobs.shutdown: its run has ended, and it would wait for Ray's own shutdown of the dead head (about 15 s)
os._exit(0)
"""


def test_a_run_whose_actor_outlives_the_head_ends_saying_the_cluster_stopped_answering():
    env = {**clean_env(), "RAY_gcs_rpc_server_reconnect_timeout_s": str(RAY_DEADLINE_S)}
    child = subprocess.run([sys.executable, "-c", TIMES + HEAD_LOST, str(ROOT / "tests" / "no-such-data-dir")],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    lines = [json.loads(x) for x in child.stdout.splitlines() if x.startswith("{")]
    assert child.returncode == 0 and lines, f"the app's process ended ({child.returncode})\n" \
                                            f"{child.stdout[-2000:]}\n{child.stderr[-4000:]}"
    out = lines[-1]
    ended, status, message = out["long"]
    assert ended and status == "error", out
    assert "stopped answering while this run trained" in message and "curves up to then are kept" in message, out
    assert out["ended_after"] < RAY_DEADLINE_S and out["lost_after"] < 15, out
    assert "It stopped answering at" in out["said"], out
