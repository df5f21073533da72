"""The Published results page in AppTest: the table of rows, a row reproduced with seeds that train in the
background (threads, NNPLAY_WORKERS=0) and fill the table, read back after a reload, and a figure row reproduced."""

import dataclasses
import time

import pytest

from streamlit.testing.v1 import AppTest

from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.papers import ROWS, latest_runs
from nnplay.papers.rows import MEASURED_HERE
from nnplay.runs import workspace_runs
from nnplay.store import open_store

from .conftest import ROOT

PAGE = str(ROOT / "pages" / "papers.py")
KEY = "lecun-300-100"


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest):
    return at.dataframe[0].value  # the results table, the page's first dataframe


def test_the_page_lists_every_row_with_the_papers_number_and_a_reproduce_button():
    at = _page()
    table = _table(at)
    assert list(table["paper error %"]) == [r.paper_error for r in ROWS.values()]
    assert set(table["nnplay error %"]) == {"not run yet"}
    shown = list(at.dataframe[0].proto.column_order)  # the numbers first: no sideways scroll to see a match
    assert shown[:4] == ["result", "paper error %", "nnplay error %", "matches"] and set(shown) == set(table.columns)
    measured = dict(zip(table["result"], table["on a 2-core CPU"]))
    captions = [c.value for c in at.caption]
    for key, row in ROWS.items():  # what the bench measured on a 2-core CPU, recorded in the page
        assert measured[row.title] == MEASURED_HERE.get(key, "not measured")
        assert (f"On a 2-core CPU: {MEASURED_HERE[key]}." in captions) == (key in MEASURED_HERE)  # and in its row
    notes = [m.value for m in at.markdown if "The paper's setup." in m.value]
    assert notes and not any("**Here.** Here:" in n for n in notes)  # the row's note says "Here" once
    for key in ROWS:
        assert at.button(key=f"papers_run_{key}").label == "Reproduce"
        assert at.number_input(key=f"papers_seeds_{key}").value == 3
    for key in ("glorot", "ioffe", "he", "smith"):
        assert at.button(key=f"papers_fig_run_{key}") is not None


def _small_row(monkeypatch):
    """The 300+100 row on 300 training and 100 test images for one epoch: the page's path, at a test's size."""
    row = ROWS[KEY]
    small = lambda: (DataConfig(train_limit=300, test_limit=100), ModelConfig(hidden=(300, 100), activation="tanh"),
                     TrainConfig(epochs=1, batch_size=100, device="cpu"))
    monkeypatch.setitem(ROWS, KEY, dataclasses.replace(row, build=small))


@pytest.mark.slow
def test_reproduce_queues_the_seeds_and_their_result_fills_the_table_and_survives_a_reload(monkeypatch):
    _small_row(monkeypatch)
    at = _page()
    at.number_input(key=f"papers_seeds_{KEY}").set_value(2).run()
    at.button(key=f"papers_run_{KEY}").click().run()
    assert not at.exception, at.exception
    runs = latest_runs(workspace_runs(open_store(), "local", kinds=("sweep",)), KEY)
    assert [r.train_cfg.seed for r in runs] == [0, 1] and all(r.group.startswith(f"papers/{KEY}/") for r in runs)
    deadline = time.time() + 120
    while any(r.active for r in runs) and time.time() < deadline:
        runs[-1].wait(2.0)
    assert all(r.status == "finished" for r in runs), [r.message for r in runs]
    at.run()
    line = _table(at).set_index("result").loc[ROWS[KEY].title]
    assert line["nnplay error %"].endswith("% (2 seeds)") and line["matches"] != ""
    assert line["time per seed"].endswith(" s")
    again = _table(_page()).set_index("result").loc[ROWS[KEY].title]  # a reload: read back from the store
    assert again["nnplay error %"] == line["nnplay error %"]


@pytest.mark.slow
def test_a_figure_row_is_reproduced_drawn_and_kept_for_the_workspace():
    at = _page()
    at.radio(key="papers_size").set_value("tiny").run()
    at.button(key="papers_fig_run_ioffe").click().run()
    assert not at.exception, at.exception
    charts = [c for c in at.get("plotly_chart")]
    assert len(charts) == 3  # accuracy, and the percentiles with and without batch norm
    reloaded = _page()
    assert len(reloaded.get("plotly_chart")) == 3
