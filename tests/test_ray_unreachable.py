"""An unreachable Ray cluster (nothing listens at NNPLAY_RAY_ADDRESS; no cluster is started): the app's pages
render at once, the sidebar says within 10 s that the cluster cannot be reached, naming the address and what
to do, and a run started meanwhile waits in the queue saying why, and can be stopped there (a function call,
whose caller waits for its answer, is refused with the sentence).
Skipped when ray is not installed."""

import socket
import time

import pytest

pytest.importorskip("ray")

from streamlit.testing.v1 import AppTest  # noqa: E402

from nnplay import jobs  # noqa: E402
from nnplay.config import DataConfig, ModelConfig, TrainConfig  # noqa: E402
from nnplay.jobs import JobSpec  # noqa: E402

from .conftest import ROOT  # noqa: E402
from .test_jobs import Sink  # noqa: E402

pytestmark = pytest.mark.ray  # imports Ray (it starts no cluster)

SAID_WITHIN_S = 10.0


def closed_port() -> int:
    """A port on the loopback where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def unreachable(monkeypatch):
    port = closed_port()
    monkeypatch.setenv("NNPLAY_RAY_ADDRESS", f"127.0.0.1:{port}")
    monkeypatch.delenv("NNPLAY_WORKERS", raising=False)
    jobs.shutdown()
    yield port
    jobs.shutdown()


def test_the_sidebar_says_within_10_s_that_the_cluster_is_unreachable_and_pages_render(unreachable):
    port = unreachable
    started = time.monotonic()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert time.monotonic() - started < SAID_WITHIN_S, "the first page waited for the cluster"
    at.switch_page("pages/forward.py").run()  # a page that does not train
    assert not at.exception
    assert at.main.markdown or at.main.title, "the Forward pass page drew nothing"
    said = ""
    while not said:
        said = next((c.value for c in at.sidebar.caption if "could not reach the Ray cluster" in c.value), "")
        if said or time.monotonic() - started > SAID_WITHIN_S:
            break
        time.sleep(0.5)
        at.run()
    assert said, [c.value for c in at.sidebar.caption]
    assert time.monotonic() - started <= SAID_WITHIN_S + 1
    assert f"NNPLAY_RAY_ADDRESS=127.0.0.1:{port}" in said and f"nothing answers at 127.0.0.1:{port}" in said
    assert "docs/workers-and-ray.md" in said and "unset NNPLAY_RAY_ADDRESS" in said and "Trying again" in said


def test_a_run_started_meanwhile_waits_saying_why_and_can_be_stopped(unreachable):
    from nnplay.jobs.ray_backend import RayBackend

    backend = RayBackend(f"127.0.0.1:{unreachable}", background=True)
    try:
        deadline = time.monotonic() + SAID_WITHIN_S
        while backend.unreachable() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert backend.unreachable(), "no sentence within 10 s"
        job = backend.submit(JobSpec("waits", "w", DataConfig(download=False, train_limit=100, test_limit=50),
                                     ModelConfig(hidden=(8,)), TrainConfig(epochs=1)), Sink())
        position = job.position()
        assert job.status == "queued" and position is not None
        assert position.reason.startswith("waiting for the Ray cluster: could not reach the Ray cluster at "
                                          f"NNPLAY_RAY_ADDRESS=127.0.0.1:{unreachable}")
        job.stop()
        assert job.wait(5) and job.status == "stopped" and job.message == "stopped before it started"
        # a function call waits for its answer (the LR range test's page): it is refused with the sentence at once
        call = JobSpec("call", "w", DataConfig(download=False), call=("nnplay.lessons.experiments:lr_range_test", {}))
        with pytest.raises(RuntimeError, match=f"could not reach the Ray cluster at NNPLAY_RAY_ADDRESS=127.0.0.1:"
                                               f"{unreachable} .nothing answers"):
            backend.submit(call, Sink())
    finally:
        backend.close(5)


def test_a_malformed_address_is_said_at_once():
    from nnplay.jobs.ray_backend import RayBackend
    from nnplay.settings import problems

    with pytest.raises(ValueError, match="NNPLAY_RAY_ADDRESS must be auto, ray://host:port or host:port; "
                                         "it is 'localhost'"):
        RayBackend("localhost", background=True)
    # the app checks it at start, as every setting
    for bad in ("localhost", "127.0.0.1:", "http://127.0.0.1:6379", ":6379"):
        assert problems({"NNPLAY_RAY_ADDRESS": bad}) == [
            f"NNPLAY_RAY_ADDRESS must be a Ray address (auto, ray://host:10001 or host:port); it is {bad!r}. "
            f"Unset it for the default (unset: the local worker pool)."]
    for good in ("auto", "127.0.0.1:6379", "ray://head:10001", "[::1]:6379"):
        assert problems({"NNPLAY_RAY_ADDRESS": good}) == []
