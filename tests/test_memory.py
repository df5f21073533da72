"""The server's memory: what a training worker imports and keeps, and how the benchmarks read a process's memory.

Every process maps the decoded images from one file in the user's cache folder (the pixels held once on the
machine, however many workers train); the app decodes the dataset once, whether a page asks for it with ``download`` (the Train page) or without (the
held-back scoring, the nearest-digit index); a pool worker trains a class-mode run (the held-back split) without importing the page libraries (pandas,
plotly, streamlit); a worker hands the heap a run freed back to the system after each run; and
``memory.process_memory_mb`` reads a process's resident, proportional and private memory from /proc.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import numpy as np

from nnplay import data, memory
from nnplay.config import DataConfig
from nnplay.data import load_mnist
from nnplay.jobs import run_loop

from .conftest import ROOT
from .test_data import make_dataset

# a worker's life in one process: warm up, then one class-mode run (visible test half only) on the built-in sample
WORKER = """
import json, sys
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.engine import RunControl
from nnplay.jobs import JobSpec
from nnplay.jobs.pool_worker import warm_up
from nnplay.jobs.run_loop import run_job

data = DataConfig(data_dir=sys.argv[1], download=False, train_limit=500, test_limit=100)
warm_up(data)
spec = JobSpec("class-run", "learner", data, ModelConfig(hidden=(16,)), TrainConfig(epochs=1, batch_size=100),
               visible_test_only=True)
end = run_job(spec, lambda batch: None, RunControl())
print(json.dumps({"status": end.status, "modules": sorted(sys.modules)}))
"""


@pytest.mark.slow
def test_a_worker_training_a_class_run_never_imports_the_page_libraries(tmp_path):
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(WORKER), str(tmp_path / "no-data")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["status"] == "finished"
    assert "nnplay.classroom.heldback" in report["modules"]  # it did split the test set
    tops = {name.split(".")[0] for name in report["modules"]}
    assert not tops & {"pandas", "pyarrow", "plotly", "streamlit", "altair"}, tops & {"pandas", "pyarrow", "plotly",
                                                                                      "streamlit", "altair"}


def test_the_data_is_held_once_whether_asked_with_download_or_without(tmp_path):
    make_dataset(tmp_path)
    page = load_mnist(DataConfig(data_dir=str(tmp_path)))  # download=True, as the pages ask
    scoring = load_mnist(DataConfig(data_dir=str(tmp_path), download=False, test_limit=3))
    assert page.source == scoring.source == "full"
    assert scoring.train_images.data_ptr() == page.train_images.data_ptr()
    assert scoring.test_images.data_ptr() == page.test_images.data_ptr()


LINUX_MAPS = pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="no /proc/self/maps here (not Linux)")


@LINUX_MAPS
def test_the_images_are_mapped_from_one_decoded_file_that_every_process_shares(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    arrays = make_dataset(tmp_path / "data")
    first = data._load_full("mnist", tmp_path / "data", False)  # as one process decodes it
    second = data._load_full("mnist", tmp_path / "data", False)  # as another process does
    files = sorted((tmp_path / "cache" / "nnplay" / "decoded" / "MNIST").iterdir())
    assert [f.name.split("-")[0] for f in files] == ["t10k", "train"] and all(f.suffix == ".u8" for f in files)
    mapped = Path("/proc/self/maps").read_text()
    assert all(mapped.count(str(f)) == 2 for f in files), "each load maps the decoded files (and holds no copy)"
    np.testing.assert_array_equal(second.train_images.numpy(), arrays["train"][0])
    np.testing.assert_array_equal(second.test_images.numpy(), arrays["t10k"][0])
    second.train_images[0, 0, 0] += 1  # writable as a copy is: the file and the other process keep their pixels
    assert first.train_images[0, 0, 0] == arrays["train"][0][0, 0, 0]
    assert files[1].read_bytes() == arrays["train"][0].tobytes()


def test_a_damaged_decoded_file_is_written_anew_and_a_good_one_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    arrays = make_dataset(tmp_path / "data")
    data._load_full("mnist", tmp_path / "data", False)
    train = next((tmp_path / "cache" / "nnplay" / "decoded" / "MNIST").glob("train-*.u8"))
    kept = train.stat().st_ino
    data._load_full("mnist", tmp_path / "data", False)
    assert train.stat().st_ino == kept  # the next process maps the file that is there, not a copy of its own
    train.write_bytes(b"\0" * train.stat().st_size)  # same size, other bytes
    again = data._load_full("mnist", tmp_path / "data", False)
    np.testing.assert_array_equal(again.train_images.numpy(), arrays["train"][0])
    assert train.read_bytes() == arrays["train"][0].tobytes()


@LINUX_MAPS
def test_without_a_writable_cache_folder_the_images_are_a_copy_of_their_own(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))
    arrays = make_dataset(tmp_path / "data")
    loaded = data._load_full("mnist", tmp_path / "data", False)
    np.testing.assert_array_equal(loaded.train_images.numpy(), arrays["train"][0])
    assert "a-file" not in Path("/proc/self/maps").read_text()


def test_a_worker_hands_the_freed_heap_back_after_each_run(monkeypatch):
    trimmed = []
    monkeypatch.setattr(run_loop, "trim_heap", lambda: trimmed.append(True) or True)
    run_loop._free_memory()
    assert trimmed == [True]


def test_process_memory_reads_resident_proportional_and_private_memory():
    if not os.path.exists(f"/proc/{os.getpid()}/smaps_rollup"):
        pytest.skip("no /proc/PID/smaps_rollup here (not Linux 4.14+)")
    taken = memory.process_memory_mb(os.getpid())
    assert set(taken) == {"rss", "pss", "uss"}
    # this process maps shared libraries: its share of them is less than all of them, its own pages less again
    assert taken["rss"] > taken["pss"] > taken["uss"] > 0


def test_process_memory_of_a_process_that_is_gone_is_zero():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert memory.process_memory_mb(gone.pid) == {"rss": 0.0, "pss": 0.0, "uss": 0.0}


def test_peak_memory_is_at_least_what_the_process_holds_now():
    if not os.path.exists(f"/proc/{os.getpid()}/status"):
        pytest.skip("no /proc here (not Linux)")
    assert memory.peak_rss_mb(os.getpid()) >= memory.process_memory_mb(os.getpid())["rss"] * 0.99  # VmHWM ≥ RSS
    assert memory.peak_rss_mb() > 0
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert memory.peak_rss_mb(gone.pid) is None


def test_pages_held_together_are_counted_once():
    if memory.held_together_mb([os.getpid()]) is None:
        pytest.skip("the page map's frame numbers need root here")
    idle = [subprocess.Popen([sys.executable, "-c", "import numpy, sys; print(flush=True); sys.stdin.read()"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE) for _ in range(2)]
    try:
        for p in idle:
            p.stdout.readline()  # it has imported numpy and waits
        first, second = (memory.held_together_mb([p.pid]) for p in idle)
        assert abs(first - memory.process_memory_mb(idle[0].pid)["rss"]) < 0.05 * first
        assert memory.held_together_mb([idle[0].pid, idle[0].pid]) == first  # the same pages twice: counted once
        # the two map the same python, libc and numpy files: those pages are held once
        assert max(first, second) < memory.held_together_mb([p.pid for p in idle]) < first + second - 1
    finally:
        for p in idle:
            p.communicate(b"")
