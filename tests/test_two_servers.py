"""Two servers on one run store: a run another process trains is reached through the store, never by buttons that do nothing.

What lives here: a run that one ``Store`` object's owner trains, stopped, paused and resumed from a second
``Store`` object on the same folder (Stop, Pause and Resume of a run this process does not own become
requests in the store, which the owner's heartbeat thread carries out: ``runs.registry.take_requests``), and
the Train page of one process stopping a run that another process (a subprocess) trains. What does not
live here: marking a dead owner's runs interrupted (test_store.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.devtools import wait_until
from nnplay.runs import Run
from nnplay.store import Store, open_store

from .conftest import ROOT

TRAIN = str(ROOT / "pages" / "train.py")


@pytest.mark.slow  # a second store drives a run another process owns, end to end
def test_a_second_store_stops_pauses_and_resumes_the_owners_run(private_store, tiny_data):
    owner = Run("long", DataConfig(), ModelConfig(hidden=(8,)),
                TrainConfig(epochs=1000, batch_size=100, device="cpu", log_every=2)).bind(open_store())
    owner.start(tiny_data)
    try:
        wait_until(lambda: owner.status == "running" and owner.history.steps, 60, "the owner's first steps")
        other = Store(private_store)  # the second server's own connection to the same folder
        seen = Run.from_record(other, other.get(owner.id))
        assert not seen.owned and seen.elsewhere
        seen.pause()
        assert seen.request_note.startswith("Pause was sent to the process that trains long")
        wait_until(lambda: owner.status == "paused", 15, "the owner to pause")
        seen.refresh(other.get(owner.id))
        assert seen.status == "paused"
        seen.resume()
        wait_until(lambda: owner.status == "running", 15, "the owner to resume")
        seen.refresh(other.get(owner.id))
        seen.stop()
        assert owner.wait(30) and owner.status == "stopped", owner.status
        assert other.get(owner.id).status == "stopped"
        assert other.setting("local", f"request {owner.id}") == ""  # carried out once, then cleared
    finally:
        owner.stop()
        owner.wait(30)


OWNER = """
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.data import load_sample
from nnplay.runs import Run
from nnplay.store import open_store

data = load_sample().limited(2000, 500)
run = Run("trained elsewhere", DataConfig(), ModelConfig(hidden=(8,)),
          TrainConfig(epochs=1000, batch_size=100, device="cpu", log_every=2)).bind(open_store())
run.start(data)
print(run.id, flush=True)
run.wait(240)
print(run.status, flush=True)
"""


@pytest.mark.slow
def test_the_train_page_stops_a_run_another_server_trains(private_store):
    env = {**os.environ, "NNPLAY_HOME": str(private_store), "PYTHONPATH": str(ROOT), "NNPLAY_WORKERS": "0"}
    owner = subprocess.Popen([sys.executable, "-c", textwrap.dedent(OWNER)], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        run_id = owner.stdout.readline().strip()
        assert run_id, owner.stderr.read()
        wait_until(lambda: open_store().get(run_id).last_step > 0, 60, "the other process's first steps")
        at = AppTest.from_file(TRAIN, default_timeout=60).run()
        assert not at.exception
        assert any(c.value.startswith("trained elsewhere trains in another nnplay process") for c in at.caption), \
            [c.value for c in at.caption]
        assert not [b for b in at.button if b.key == "train_step"], "no step button for a run this process cannot step"
        at.button(key="train_stop").click().run()
        assert not at.exception
        assert any(i.value.startswith("Stop was sent to the process that trains trained elsewhere") for i in at.info)
        out, err = owner.communicate(timeout=60)
        assert out.strip() == "stopped", err
        assert open_store().get(run_id).status == "stopped"
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.communicate()


@pytest.mark.slow
def test_deleting_a_run_another_server_trains_stops_it_first(private_store, tiny_data):
    from nnplay.runs import delete_run

    owner = Run("long", DataConfig(), ModelConfig(hidden=(8,)),
                TrainConfig(epochs=1000, batch_size=100, device="cpu", log_every=2)).bind(open_store())
    owner.start(tiny_data)
    try:
        wait_until(lambda: owner.status == "running" and owner.history.steps, 60, "the owner's first steps")
        other = Store(private_store)
        delete_run(Run.from_record(other, other.get(owner.id)))
        assert owner.status == "stopped", "the owner stopped it before its record went"
        assert other.get(owner.id) is None and not other.run_dir(owner.id).exists()
    finally:
        owner.stop()
        owner.wait(30)
