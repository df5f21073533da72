"""The test lanes: markers that let ``pytest -m "not slow"`` leave out what takes seconds or more.

What lives here: one collection of the whole suite in a subprocess (as ``pytest -q`` collects it, markers
strict), and the rules the fast lane rests on: every test under tests/browser is marked ``browser``; a test
that starts a Ray cluster or a worker pool through the fixtures that do so is marked ``ray`` or ``pool``;
every ``browser``, ``ray`` or ``pool`` test is ``slow`` too (tests/conftest.py adds it); and the fast lane
still holds most of the suite.
What does not live here: which single tests are slow (measured with ``pytest --durations=0``, marked where
they are defined).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT, SLOW_LANES

RAY_FIXTURES = {"sweep"}  # tests/test_jobs_ray.py's cluster
POOL_FIXTURES = {"pool", "workers"}  # tests/test_jobs.py's and tests/test_runs_jobs.py's pools

COLLECT = """
import json, sys
import pytest

class Recorder:
    items = []

    def pytest_collection_finish(self, session):
        Recorder.items = [{"id": i.nodeid, "marks": sorted({m.name for m in i.iter_markers()}),
                           "fixtures": sorted(getattr(i, "fixturenames", ()))} for i in session.items]

code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "tests"], plugins=[Recorder()])
json.dump(Recorder.items, open(sys.argv[1], "w"))
sys.exit(int(code))
"""


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> list[dict]:
    """Every test of the suite with its markers and fixtures, as a plain ``pytest`` run collects them."""
    out = tmp_path_factory.mktemp("lanes") / "items.json"
    done = subprocess.run([sys.executable, "-c", COLLECT, str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return json.loads(out.read_text())


def test_every_browser_test_is_marked_browser(suite):
    browser = [t for t in suite if t["id"].startswith("tests/browser/")]
    assert browser, "no browser tests collected"
    assert [t["id"] for t in browser if "browser" not in t["marks"]] == []


def test_tests_that_start_a_cluster_or_a_pool_say_so(suite):
    assert [t["id"] for t in suite if RAY_FIXTURES & set(t["fixtures"]) and "ray" not in t["marks"]] == []
    assert [t["id"] for t in suite if POOL_FIXTURES & set(t["fixtures"]) and "pool" not in t["marks"]] == []
    assert [t["id"] for t in suite if t["id"].startswith("tests/test_runs_jobs.py") and "pool" not in t["marks"]] == []


def test_browser_ray_and_pool_tests_are_slow(suite):
    lanes = [t for t in suite if set(SLOW_LANES) & set(t["marks"])]
    assert {lane for t in lanes for lane in t["marks"]} >= {"browser", "pool"}
    assert [t["id"] for t in lanes if "slow" not in t["marks"]] == []


def test_the_fast_lane_keeps_most_of_the_suite(suite):
    fast = [t for t in suite if "slow" not in t["marks"]]
    assert 0.6 * len(suite) < len(fast) < len(suite)
    assert any(t["id"].startswith("tests/test_lanes.py") for t in fast)  # the lanes are checked in the fast lane too
