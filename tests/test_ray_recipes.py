"""The Ray recipes of the README ("Train on Ray"), run as written there, each training a tiny run.

The commands are read from the doc's ``<!-- recipe: NAME -->`` blocks, so the doc and this test cannot
drift. Two changes only: the port (6379 in the doc) becomes one of the test's own, and the app's line
(``VAR=… .venv/bin/streamlit run app.py``) runs, with the same variables, a small program that asks the
app's jobs backend (``nnplay.jobs.backend()``) to train a run instead of serving the pages. ``ray stop
--force``, the recipe's last line, always runs. The one-node recipe runs in tests/test_ray_lost.py, from an app
started before its cluster to a cluster stopped under it and started again.
Skipped when ray or the project's ``.venv/bin/ray`` is missing.
"""

import json
import os
import re
import shlex
import socket
import subprocess
import sys

import pytest

pytest.importorskip("ray")

from .conftest import ROOT  # noqa: E402

pytestmark = pytest.mark.ray

DOC = ROOT / "README.md"  # its "Train on Ray" section
DOC_PORT = "6379"
APP = [".venv/bin/streamlit", "run", "app.py"]

if not (ROOT / ".venv" / "bin" / "ray").exists():
    pytest.skip("the recipes run .venv/bin/ray; this checkout has no .venv", allow_module_level=True)

# what the app's line runs instead of serving pages: the app's backend, one tiny run, a JSON line
TRAIN_ONE = """
import json, sys, time
from nnplay import jobs
from nnplay.config import DataConfig, ModelConfig, TrainConfig
started = time.monotonic()
backend = jobs.backend()
said = None
while not backend.connected and time.monotonic() - started < 240:
    if said is None and backend.unreachable():
        said = [round(time.monotonic() - started, 1), backend.unreachable()]
        print(json.dumps({"said": said}), flush=True)
    time.sleep(0.1)
spec = jobs.JobSpec("recipe", "recipe", DataConfig(data_dir=sys.argv[1], download=False, train_limit=600,
                    test_limit=200), ModelConfig(hidden=(16,)), TrainConfig(epochs=1, batch_size=100, log_every=3))
events = []
job = backend.submit(spec, events.append)
job.wait(240)
print(json.dumps({"said": said, "connected": backend.connected, "describe": backend.describe(),
                  "status": job.status, "message": job.message,
                  "steps": sum(type(e).__name__ == "StepEvent" for e in events)}), flush=True)
jobs.shutdown(20)
"""


def recipe(name: str) -> list[str]:
    """The command lines of the doc's recipe ``name``, as written."""
    found = re.search(rf"<!-- recipe: {name} -->\s*```bash\n(.*?)```", DOC.read_text(), re.S)
    assert found, f"README.md has no recipe {name!r}"
    return [line for line in found.group(1).splitlines() if line.strip() and not line.startswith("#")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NNPLAY_WORKERS", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER",
                                                              "NNPLAY_RAY_ADDRESS", "RAY_ADDRESS")}
    return env


def shell(line: str, port: int, timeout: float = 180) -> str:
    done = subprocess.run(line.replace(DOC_PORT, str(port)), shell=True, cwd=ROOT, env=clean_env(),
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def app(line: str, port: int) -> subprocess.Popen:
    """Start the app's line (its variables, then TRAIN_ONE in place of the pages)."""
    words = shlex.split(line.replace(DOC_PORT, str(port)))
    variables = [w for w in words if re.match(r"^[A-Z_][A-Z0-9_]*=", w)]
    assert words[len(variables):] == APP, f"not the app's line: {line}"
    env = {**clean_env(), **dict(v.split("=", 1) for v in variables)}
    return subprocess.Popen([sys.executable, "-c", TRAIN_ONE, str(ROOT / "tests" / "no-such-data-dir")], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(process: subprocess.Popen, timeout: float = 300) -> dict:
    out, err = process.communicate(timeout=timeout)
    lines = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    assert lines and "status" in lines[-1], f"the app printed no result\n{out[-2000:]}\n{err[-3000:]}"
    return lines[-1]


def trained(outcome: dict) -> None:
    assert outcome["connected"], outcome
    assert outcome["status"] == "finished" and outcome["steps"] == 6, outcome


def test_the_two_node_recipe_trains_through_the_loopback_and_through_the_registered_address():
    lines = recipe("two-nodes")
    assert len(lines) == 5 and "ray start --head" in lines[0] and "ray start --address" in lines[1]
    assert "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER" not in "".join(lines)
    port = free_port()
    try:
        shell(lines[0], port)
        shell(lines[1], port)
        printed = shell(lines[2], port).strip().splitlines()[-1]
        addresses = json.loads(printed.replace("'", '"'))
        assert len(addresses) == 1, printed  # both nodes on this machine, under one address
        outcome = result(app(lines[3], port))
        trained(outcome)
        assert "2 nodes, 2 CPUs" in outcome["describe"], outcome
        if addresses[0] != "127.0.0.1":  # the app was given the loopback; it says where the nodes registered
            assert f"registered as {addresses[0]}" in outcome["describe"], outcome
        # the same with the address the third command printed, as the doc says
        outcome = result(app(lines[3].replace("127.0.0.1", addresses[0]), port))
        trained(outcome)
    finally:
        shell(lines[4], port)


def test_a_head_started_without_the_variable_is_joined_under_its_registered_address():
    """The recipe issue 23 found broken: the head started without RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 (so Ray
    registers it under the machine's network address), the app with it and the loopback address."""
    port = free_port()
    head = f".venv/bin/ray start --head --node-ip-address=127.0.0.1 --port={DOC_PORT} --include-dashboard=false"
    try:
        shell(head, port)
        outcome = result(app(f"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 NNPLAY_RAY_ADDRESS=127.0.0.1:{DOC_PORT} "
                             + " ".join(APP), port))
        trained(outcome)
        assert "1 node," in outcome["describe"], outcome
    finally:
        shell(".venv/bin/ray stop --force", port)
