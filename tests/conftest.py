"""Shared fixtures: a small real dataset that is always there, and real MNIST when the machine has it.

``NNPLAY_DATA_DIR`` pointing at a folder with ``MNIST/raw/*.gz`` enables the tests that need the
full dataset (CI sets it to ../shared/data); without it they skip and the rest run on the
built-in sample.
Every test gets its own run store (``NNPLAY_HOME`` in a temporary folder), so the suite never
touches the user's ~/.local/share/nnplay, and no run, model or store leaks from one test to the next.
Runs train in threads of the test process (``NNPLAY_WORKERS=0``), which is quick; the tests of the
worker pool path (tests/test_runs_jobs.py) set it back themselves.
Lanes (markers registered in pyproject.toml): ``browser``, ``ray`` and ``pool`` tests are ``slow`` too, so
``pytest -m "not slow"`` is the fast lane a developer runs after each change; ``pytest -q`` runs everything.
"""

import functools
import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# for the whole process, not only inside each test: a thread a test left behind (a page script, a feed) that
# asks for the jobs backend between two tests must get the thread backend too, never a pool for the rest
os.environ["NNPLAY_WORKERS"] = "0"
SLOW_LANES = ("browser", "ray", "pool")  # markers whose tests are slow as well


def _scan_components_once() -> None:
    """Each new ``AppTest``'s first run scans every installed package's metadata for Streamlit components (about
    a second); the installed packages do not change while the suite runs, so the scan is made once."""
    try:
        from streamlit.components.v2 import manifest_scanner
    except ImportError:  # a Streamlit without v2 components scans nothing
        return
    scan = manifest_scanner.scan_component_manifests
    if not hasattr(scan, "cache_info"):
        manifest_scanner.scan_component_manifests = functools.cache(scan)


_scan_components_once()


# every test of the suite with its markers and fixtures, when this session collected every test file (before
# ``-m`` or ``-k`` deselect any): tests/test_lanes.py reads it instead of collecting the suite again
SUITE = pytest.StashKey[list]()


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects: "not slow" must see the slow mark added here
def pytest_collection_modifyitems(config, items):
    for item in items:
        if not item.get_closest_marker("slow") and any(item.get_closest_marker(lane) for lane in SLOW_LANES):
            item.add_marker(pytest.mark.slow)
    if {Path(item.path) for item in items} == set((ROOT / "tests").rglob("test_*.py")):
        config.stash[SUITE] = [suite_entry(item) for item in items]


def pytest_collection_finish(session):
    """Hide what collection left alive (torch, streamlit, plotly, the test modules) from the garbage collector, as
    the app's server does (``ui.server.freeze_long_lived_objects``): each full collection of this long process
    then walks only what the tests made since; their garbage is still collected."""
    gc.collect()
    gc.freeze()


def suite_entry(item) -> dict:
    """A test as tests/test_lanes.py checks it: its id, markers and fixtures."""
    return {"id": item.nodeid, "marks": sorted({m.name for m in item.iter_markers()}),
            "fixtures": sorted(getattr(item, "fixturenames", ()))}


def _memory_folder() -> Path | None:
    """A tmpfs folder where sqlite's file syncs cost nothing (each test makes a store: docs/benchmarks.md, the fast
    lane), or None where the machine has none."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


_MEMORY_HOMES: list[Path] = []  # removed again at the session's end: a run's background thread may write after a test


def pytest_sessionfinish(session, exitstatus):
    for home in _MEMORY_HOMES:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(autouse=True)
def private_store(tmp_path_factory, monkeypatch):
    """A fresh, empty run store for each test (and the process's open stores, runs and models forgotten, and its
    nearest-digits index builds in flight cancelled)."""
    from nnplay import jobs, runs, store

    backend_before = jobs._backend
    memory = _memory_folder()
    home = Path(tempfile.mkdtemp(prefix="nnplay-home-", dir=memory)) if memory else tmp_path_factory.mktemp("nnplay-home")
    if memory:
        _MEMORY_HOMES.append(home)
    monkeypatch.setenv("NNPLAY_HOME", str(home))
    monkeypatch.setenv("NNPLAY_WORKERS", "0")
    store.forget_stores()
    runs.REGISTRY.clear()
    runs.MODELS.clear()
    yield home
    nearest = sys.modules.get("nnplay.handwriting.nearest")
    if nearest is not None:  # a page's background index build would take cores and the pixel lock from later tests
        nearest.CACHE.cancel(60)
    if jobs._backend not in (backend_before, jobs._threads):  # a pool this test made and left as the process's
        jobs.shutdown()
    store.forget_stores()
    runs.REGISTRY.clear()
    runs.MODELS.clear()
    if memory:
        for folder, _, _ in os.walk(home):  # a test may have made a folder read-only
            os.chmod(folder, 0o700)
        shutil.rmtree(home, ignore_errors=True)


def real_mnist_dir() -> Path | None:
    env = os.environ.get("NNPLAY_DATA_DIR")
    if env and (Path(env) / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").exists():
        return Path(env)
    return None


@pytest.fixture(scope="session")
def sample_data():
    """The built-in sample of real MNIST (10,000 train / 2,000 test)."""
    from nnplay.data import load_sample

    return load_sample()


@pytest.fixture(scope="session")
def tiny_data(sample_data):
    """2,000 train and 500 test images of the sample: a quick epoch for tests."""
    return sample_data.limited(2000, 500)


@pytest.fixture(scope="session")
def mnist_dir():
    path = real_mnist_dir()
    if path is None:
        pytest.skip("NNPLAY_DATA_DIR does not hold real MNIST")
    return path


@pytest.fixture(scope="session")
def full_data(mnist_dir):
    from nnplay.config import DataConfig
    from nnplay.data import load_mnist

    return load_mnist(DataConfig(data_dir=str(mnist_dir), download=False))


@pytest.fixture
def class_mode(monkeypatch):
    """Class mode on; the runs a test left training are stopped after it."""
    monkeypatch.setenv("NNPLAY_CLASS", "1")
    yield
    from nnplay.runs import REGISTRY

    for run in list(REGISTRY.values()):
        run.stop()
        run.wait(30)


@pytest.fixture(params=[True, False], ids=["class", "no class"])
def in_class(request, monkeypatch):
    """The test once in class mode and once outside it (no token either); the value says which."""
    if request.param:
        monkeypatch.setenv("NNPLAY_CLASS", "1")
    else:
        monkeypatch.delenv("NNPLAY_CLASS", raising=False)
        monkeypatch.delenv("NNPLAY_TEACHER_TOKEN", raising=False)
    return request.param


@pytest.fixture
def downloads(monkeypatch) -> dict:
    """{file name: the data callable} of every deferred download button the page registers."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    seen = {}
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        seen[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return seen


@pytest.fixture
def paced_runs(monkeypatch):
    """Every run of this process trains at most 100 steps a second (as a learner's speed slider would set it):
    a sweep's halving decision, which reaches the run after its events have passed the courier thread and the
    store, then lands while the run still trains however late those events are."""
    from nnplay.engine import RunControl

    made = RunControl.__init__

    def paced(self):
        made(self)
        self.set_rate(100.0)

    monkeypatch.setattr(RunControl, "__init__", paced)
