"""The NNPLAY_* environment settings (``nnplay.settings``): each declared once, each checked at start.

What lives here: the sentence a bad value gets (the variable, its value, what it accepts), that every
``NNPLAY_*`` name the code reads is declared, that nothing parses a setting at import, and that the app
(AppTest of app.py: ``st.error`` and nothing else) and the CLI (a subprocess: exit 2) both stop on a bad
one; the jobs code reads the checked values (a bad one raises the start check's sentence). What does not live here: what each setting does (the tests of its module).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from nnplay import settings

from .conftest import ROOT

BAD = "NNPLAY_MODEL_CACHE_MB must be a number of megabytes, 0 or more; it is 'abc'. Unset it for the default (128)."


def test_a_bad_value_gets_a_sentence_naming_it_its_value_and_what_it_accepts():
    assert settings.problems({"NNPLAY_MODEL_CACHE_MB": "abc"}) == [BAD]
    (workers,) = settings.problems({"NNPLAY_WORKERS": "1.5"})
    assert workers.startswith("NNPLAY_WORKERS must be a whole number of workers") and "it is '1.5'" in workers
    assert settings.problems({"NNPLAY_WORKER_NICE": "20", "NNPLAY_ONE_RUN_PER_WORKSPACE": "yes"}) == [
        "NNPLAY_WORKER_NICE must be a whole number from 0 to 19; it is '20'. Unset it for the default (10).",
        "NNPLAY_ONE_RUN_PER_WORKSPACE must be 1 (on) or 0 (off); it is 'yes'. Unset it for the default (0)."]
    good = {"NNPLAY_WORKERS": "0", "NNPLAY_MODEL_CACHE_MB": "0", "NNPLAY_MAX_RUN_MINUTES": "1.5",
            "NNPLAY_WORKSPACES": "Browser", "NNPLAY_RAY_GPUS_PER_RUN": "0.25", "NNPLAY_WORKER_NICE": "19"}
    assert settings.problems(good) == [] and settings.problems({}) == []
    assert settings.value("NNPLAY_WORKERS", {"NNPLAY_WORKERS": "2.0"}) == 2  # as the worker pool always took it
    assert settings.value("NNPLAY_MODEL_CACHE_MB", {}) == 128.0
    for bad in ({"NNPLAY_MAX_RUN_MINUTES": "0"}, {"NNPLAY_WORKER_MEMORY_MB": "-5"}, {"NNPLAY_WORKSPACES": "all"},
                {"NNPLAY_MODEL_CACHE_MB": "nan"}, {"NNPLAY_RAY_CPUS_PER_RUN": "inf"}):
        (sentence,) = settings.problems(bad)
        (name, value), = bad.items()
        assert sentence.startswith(f"{name} must be ") and f"it is {value!r}" in sentence


def test_every_setting_the_code_reads_is_declared_once_with_a_doc():
    read = set()
    for folder in ("nnplay", "pages"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "devtools.py":  # the tests' and benchmarks' driver (NNPLAY_CHROMIUM), not the app
                continue
            read |= set(re.findall(r"NNPLAY_[A-Z_]+[A-Z]", path.read_text()))
    read |= set(re.findall(r"NNPLAY_[A-Z_]+[A-Z]", (ROOT / "app.py").read_text()))
    assert read <= set(settings.SETTINGS), sorted(read - set(settings.SETTINGS))
    for s in settings.SETTINGS.values():
        assert s.doc and s.accepts and s.default_text and "\n" not in s.doc


@pytest.mark.slow
def test_nothing_parses_a_setting_at_import():
    env = {**os.environ, "NNPLAY_MODEL_CACHE_MB": "abc", "NNPLAY_WORKERS": "x"}
    done = subprocess.run([sys.executable, "-c", "import nnplay.runs, nnplay.cli, nnplay.ui"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_app_says_which_setting_is_bad_and_stops(monkeypatch):
    monkeypatch.setenv("NNPLAY_MODEL_CACHE_MB", "abc")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert [e.value for e in at.error] == [BAD]
    assert not at.sidebar.selectbox and not at.button  # nothing else was drawn: no page, no picker


@pytest.mark.slow
def test_the_cli_exits_2_with_the_same_sentence(tmp_path):
    env = {**os.environ, "NNPLAY_MODEL_CACHE_MB": "abc", "NNPLAY_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "nnplay", "runs", "list"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == f"nnplay: {BAD}" and "Traceback" not in done.stderr


def test_the_jobs_code_reads_the_values_the_start_check_checked(monkeypatch):
    from nnplay import jobs
    from nnplay.jobs import local

    bad = {"NNPLAY_WORKERS": ("two", lambda: local.pool_size(cores=4, gpus=0)),
           "NNPLAY_WORKER_NICE": ("20", local.worker_nice),
           "NNPLAY_MAX_RUN_MINUTES": ("0", lambda: jobs.env_float("NNPLAY_MAX_RUN_MINUTES"))}
    for name, (raw, read) in bad.items():
        monkeypatch.setenv(name, raw)
        (sentence,) = settings.problems()  # caught at start ...
        with pytest.raises(settings.SettingError) as err:  # ... and the jobs code says the same
            read()
        assert str(err.value) == sentence
        monkeypatch.delenv(name)
    # what the check accepts is what the jobs code uses: "0.0" workers is the thread backend, "2.0" two workers
    monkeypatch.setenv("NNPLAY_WORKERS", " 0.0 ")
    assert settings.problems() == [] and jobs.threads_enabled()
    monkeypatch.setenv("NNPLAY_WORKERS", "2.0")
    assert not jobs.threads_enabled() and local.pool_size(cores=4, gpus=0) == (2, 2)
    monkeypatch.setenv("NNPLAY_WORKER_NICE", " 5 ")
    assert local.worker_nice() == 5 and local.WORKER_NICE == settings.value("NNPLAY_WORKER_NICE", {}) == 10
