"""The test lanes: markers that let ``pytest -m "not slow"`` leave out what takes half a second or more.

What lives here: the whole suite as ``pytest -q`` collects it, markers strict (the session's own collection
when it collected every test file, as the fast lane does, else one in a subprocess), and the rules the fast lane rests on: every test under tests/browser is marked ``browser``; a test
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

from .conftest import ROOT, SLOW_LANES, SUITE

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


def collect_in_a_subprocess(folder) -> list[dict]:
    out = folder / "items.json"
    done = subprocess.run([sys.executable, "-c", COLLECT, str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def suite(request, tmp_path_factory) -> list[dict]:
    """Every test of the suite with its markers and fixtures, as a plain ``pytest`` run collects them."""
    collected = request.config.stash.get(SUITE, None)
    return collected if collected is not None else collect_in_a_subprocess(tmp_path_factory.mktemp("lanes"))


@pytest.mark.slow
def test_the_sessions_own_collection_is_the_suite(request, tmp_path):
    """What tests/conftest.py keeps of a session that collected every file is what a fresh ``pytest`` collects."""
    collected = request.config.stash.get(SUITE, None)
    if collected is None:
        pytest.skip("this session did not collect every test file (run the whole suite)")
    by_id = lambda tests: sorted(tests, key=lambda t: t["id"])  # noqa: E731
    assert by_id(collected) == by_id(collect_in_a_subprocess(tmp_path))


def test_app_tests_scan_the_installed_components_once():
    """A new ``AppTest`` asks Streamlit for the installed components: tests/conftest.py makes it one scan."""
    from streamlit.components.v2 import manifest_scanner
    from streamlit.testing.v1 import AppTest

    for _ in range(2):
        AppTest.from_string("import streamlit as st\nst.write('hi')").run()
    assert manifest_scanner.scan_component_manifests.cache_info().misses <= 1


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
