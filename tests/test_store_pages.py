"""AppTest for the store as the pages see it: the one model picker, the runs list, the sidebar, workspaces.

What lives here: ``ui.model_picker`` / ``model_for_page`` (every usable run of the workspace plus the
default model; the choice is shared by the pages and survives a reload, i.e. a new AppTest), the Train
page's runs list reading the store (a CLI run appears in it; a reload finds the runs), the sidebar
saying where the store is, and per-browser workspaces (one browser does not see another's runs).
Runs are trained on the built-in sample for one epoch. What does not live here: the store's own
behaviour (test_store.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.cli import main as cli_main
from nnplay.store import open_store

from .store_helpers import kept_run, picker_page, shown

ROOT = Path(__file__).resolve().parent.parent
TRAIN = str(ROOT / "pages" / "train.py")
APP = str(ROOT / "app.py")


@pytest.mark.slow
def test_the_picker_lists_usable_runs_and_its_choice_survives_a_reload(tiny_data):
    at = AppTest.from_function(picker_page, default_timeout=60).run()
    assert not at.exception
    assert "default: True" in shown(at)  # no run yet: the shipped default model
    older, newer = kept_run(tiny_data, "older", 8), kept_run(tiny_data, "newer", 12)
    kept_run(tiny_data, "elsewhere", 4, workspace="someone-else")
    at.run()
    picker = at.selectbox(key="nnplay_model_pick")
    assert picker.options == ["newer (finished)", "older (finished)", "nnplay's default model"]
    assert picker.value == newer.id and shown(at) == "model: newer / default: False / hidden: (12,)"
    picker.set_value(older.id).run()
    assert shown(at) == "model: older / default: False / hidden: (8,)"
    reloaded = AppTest.from_function(picker_page, default_timeout=60).run()  # a reload, another tab
    assert reloaded.selectbox(key="nnplay_model_pick").value == older.id
    assert shown(reloaded) == "model: older / default: False / hidden: (8,)"
    reloaded.selectbox(key="nnplay_model_pick").set_value("default").run()
    assert "default: True" in shown(reloaded)
    assert "default: True" in shown(AppTest.from_function(picker_page, default_timeout=60).run())


@pytest.mark.slow
def test_an_interrupted_run_with_a_checkpoint_is_in_the_picker(tiny_data):
    run = kept_run(tiny_data, "cut short", 8)
    open_store().set_status(run.id, "interrupted", "interrupted at step 4: the process training it ended (server "
                                                   "stopped or killed); its curves and epoch 1's model is kept.")
    at = AppTest.from_function(picker_page, default_timeout=60).run()
    assert at.selectbox(key="nnplay_model_pick").options[0] == "cut short (interrupted)"
    # after a restart (this process no longer holds the run) its link, which the address bar keeps while it
    # trains, opens it: the Train page says what happened to it and what is left, under its curves
    from nnplay import runs

    runs.REGISTRY.pop(run.id, None)
    train = AppTest.from_file(TRAIN, default_timeout=60)
    train.query_params["run"] = run.id
    train.run()
    assert not train.exception
    assert any(i.value.startswith("Interrupted at step 4: the process training it ended") and "model picker" in i.value
               for i in train.info), [i.value for i in train.info]


@pytest.mark.slow
def test_a_cli_run_and_a_reload_show_in_the_runs_list(capsys):
    assert cli_main(["train", "--epochs", "1", "--train-limit", "1000", "--test-limit", "200", "--hidden", "8",
                     "--quiet", "--device", "cpu"]) == 0
    capsys.readouterr()
    at = AppTest.from_file(TRAIN, default_timeout=60).run()
    assert not at.exception
    table = next(df.value for df in at.dataframe if "training" in df.value.columns)
    assert len(table) == 1 and table["run"][0].startswith("CLI seed-mlp")
    again = AppTest.from_file(TRAIN, default_timeout=60).run()  # a reload: the run is still there
    assert len(next(df.value for df in again.dataframe if "training" in df.value.columns)) == 1


def test_the_sidebar_says_where_runs_are_kept(private_store):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any(str(private_store) in c.value for c in at.sidebar.caption)
    assert at.sidebar.selectbox(key="nnplay_model_pick").options == ["nnplay's default model"]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["browser"])
def test_browsers_get_their_own_workspaces(tiny_data, monkeypatch, mode):
    monkeypatch.setenv("NNPLAY_WORKSPACES", mode)
    first = AppTest.from_function(picker_page, default_timeout=60).run()
    ws = first.session_state["nnplay_workspace"]
    assert ws != "local" and len(ws) >= 16
    mine = kept_run(tiny_data, "mine", 8, workspace=ws)
    first.run()
    assert first.selectbox(key="nnplay_model_pick").value == mine.id
    second = AppTest.from_function(picker_page, default_timeout=60).run()  # another browser: no cookie
    assert second.session_state["nnplay_workspace"] != ws
    assert second.selectbox(key="nnplay_model_pick").options == ["nnplay's default model"]
    linked = AppTest.from_function(picker_page, default_timeout=60)
    linked.query_params["ws"] = ws  # the workspace link opened in another browser
    linked.run()
    assert linked.selectbox(key="nnplay_model_pick").value == mine.id


def space_page():
    import streamlit as st

    from nnplay import ui

    st.markdown(f"space: {ui.space_used()}")


@pytest.mark.slow
def test_the_disk_space_counts_again_when_a_run_comes_or_ends(tiny_data):
    """The count is cached for a few seconds, but a run that finished within them (a quick run's Start and its
    end) is counted at once: the Train page said "Your runs take 0 bytes" under a run that had just saved its model."""
    at = AppTest.from_function(space_page, default_timeout=60).run()
    assert not at.exception
    assert at.markdown[0].value == "space: 0"
    kept_run(tiny_data, "quick", 8)
    at.run()  # well within the cache's SPACE_TTL_S
    assert int(at.markdown[0].value.split()[1]) > 0
