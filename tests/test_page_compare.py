"""The Compare page (/compare): AppTests over a store of crafted runs, and the link's text form.

What lives here: the page over every run of the workspace and filtered by sweep (``?sweep=`` preselects it),
each metric's summary chosen per column, the brush filtering the table, the view's choices round-tripping
through the URL (a bad value gets a sentence), the empty workspace saying what to do, and
``ui.compare_query`` (the query string). Runs are written straight into the
store (records and epochs), none is trained. What does not live here: the table's own numbers
(``nnplay.compare``'s tests), the brushing in a browser (tests/browser/test_compare_browser.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.engine import EpochMetrics, RunStart, StepEvent
from nnplay.store import open_store
from nnplay.ui.compare_query import CompareView, parse_brush, ranges_of, view_from_query, view_to_query

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "compare.py")


def crafted_run(store, name: str, lr: float, seed: int, accuracies: list[float], group: str = "",
                workspace: str = "local", hidden: int = 32) -> str:
    """A finished run written straight into the store: one epoch per accuracy (test loss falls as it rises)."""
    run_id = store.create_run(name, DataConfig(), ModelConfig(hidden=(hidden,)),
                              TrainConfig(lr=lr, seed=seed, epochs=len(accuracies), batch_size=100),
                              workspace=workspace, kind="sweep" if group else "train", group=group,
                              status="running", data_source="sample")
    steps = 10
    epochs = [EpochMetrics(e, 1.0 - a + 0.05, a - 0.01, 1.0 - a, a, 2.0, 0.1, 500.0, e * steps, lr, "cpu")
              for e, a in enumerate(accuracies, 1)]
    losses = [StepEvent(s, (s - 1) // steps + 1, 2.0 / s, lr) for s in range(1, steps * len(accuracies) + 1)]
    store.record(run_id, start=RunStart(len(accuracies), steps, 1000, 200, 1000, "cpu"), steps=losses, epochs=epochs,
                 status=("finished", ""), started=1.0)
    return run_id


@pytest.fixture
def runs():
    """Six runs: a sweep "lr-study" of lr 1e-3 and 1e-2, two seeds each, and two Train runs of lr 0.1."""
    s = open_store()
    ids = {
        "slow a": crafted_run(s, "slow a", 1e-3, 0, [0.80, 0.85, 0.90], group="lr-study"),
        "slow b": crafted_run(s, "slow b", 1e-3, 1, [0.82, 0.86, 0.88], group="lr-study"),
        "fast a": crafted_run(s, "fast a", 1e-2, 0, [0.90, 0.95, 0.93], group="lr-study"),
        "fast b": crafted_run(s, "fast b", 1e-2, 1, [0.91, 0.94, 0.92], group="lr-study"),
        "wild": crafted_run(s, "wild", 0.1, 0, [0.50, 0.70, 0.60]),
        "wilder": crafted_run(s, "wilder", 0.1, 0, [0.40, 0.45, 0.30], hidden=64),
    }
    crafted_run(s, "someone else's", 1e-3, 0, [0.99], workspace="another-workspace")
    return ids


def page(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def table(at: AppTest):
    return next(df.value for df in at.dataframe if "seed_group" in df.value.columns)


def test_the_page_shows_every_run_of_the_workspace_with_every_setting_and_metric(runs):
    at = page()
    assert not at.exception, at.exception
    t = table(at)
    assert sorted(t["name"]) == sorted(runs)  # not another workspace's
    for column in ("lr", "hidden", "seed", "batch_size", "test_accuracy", "test_loss", "train_accuracy", "train_loss"):
        assert column in t.columns, column
    assert t.set_index("name")["test_accuracy"]["fast a"] == pytest.approx(0.93)  # last epoch's, by default


def test_a_sweep_filters_the_runs_and_the_link_preselects_it(runs):
    at = page(sweep="lr-study")
    assert not at.exception
    assert at.selectbox(key="compare_sweep").value == "lr-study"
    assert sorted(table(at)["name"]) == ["fast a", "fast b", "slow a", "slow b"]
    at.selectbox(key="compare_sweep").set_value("").run()
    assert len(table(at)) == 6 and "sweep" not in at.query_params
    unknown = page(sweep="no-such-sweep")
    assert any("There is no sweep no-such-sweep" in w.value for w in unknown.warning)
    assert len(table(unknown)) == 6


@pytest.mark.slow
def test_each_metric_has_the_summary_the_learner_chooses(runs):
    at = page()
    at.selectbox(key="compare_summary_test_accuracy").set_value("best").run()
    at.selectbox(key="compare_summary_test_loss").set_value("mean_last").run()
    at.number_input(key="compare_k").set_value(2).run()
    t = table(at).set_index("name")
    assert t["test_accuracy"]["fast a"] == pytest.approx(0.95)  # its best epoch
    assert t["test_loss"]["fast a"] == pytest.approx((0.05 + 0.07) / 2)  # the mean of its last 2 epochs
    assert t["train_loss"]["fast a"] == pytest.approx(0.12)  # still its last
    assert at.query_params["summary"] == "test_accuracy:best,test_loss:mean_last" and at.query_params["k"] == "2"


@pytest.mark.slow
def test_the_view_round_trips_through_the_url(runs):
    at = page()
    at.selectbox(key="compare_sweep").set_value("lr-study").run()
    at.selectbox(key="compare_metric").set_value("test_loss").run()
    at.selectbox(key="compare_summary_test_loss").set_value("min").run()
    at.radio(key="compare_x").set_value("images").run()
    at.slider(key="compare_smoothing").set_value(0.3).run()
    at.toggle(key="compare_seeds").set_value(False).run()
    assert not at.exception
    assert at.multiselect(key="compare_axes").value == ["lr", "seed"]  # what varies in the sweep
    assert "axes" not in at.query_params and "setting" not in at.query_params  # the page's own choice
    at.multiselect(key="compare_axes").set_value(["seed", "lr"]).run()
    at.selectbox(key="compare_setting").set_value("lr").run()
    link = {k: at.query_params[k] for k in at.query_params}
    assert link == {"sweep": "lr-study", "metric": "test_loss", "summary": "test_loss:min", "x": "images",
                    "smooth": "0.3", "seeds": "0", "axes": "seed,lr", "setting": "lr"}
    again = page(**link)  # the link, opened in another browser
    assert again.selectbox(key="compare_sweep").value == "lr-study"
    assert again.selectbox(key="compare_metric").value == "test_loss"
    assert again.selectbox(key="compare_summary_test_loss").value == "min"
    assert again.radio(key="compare_x").value == "images" and again.slider(key="compare_smoothing").value == 0.3
    assert again.toggle(key="compare_seeds").value is False
    assert again.multiselect(key="compare_axes").value == ["seed", "lr"]
    assert again.selectbox(key="compare_setting").value == "lr"
    assert table(again)["test_loss"].tolist() == table(at)["test_loss"].tolist()
    assert {k: again.query_params[k] for k in again.query_params} == link


@pytest.mark.slow
def test_another_page_and_back_keeps_the_view(runs):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/compare.py").run()
    at.selectbox(key="compare_metric").set_value("train_loss").run()
    at.radio(key="compare_x").set_value("time").run()
    at.switch_page("pages/experiments.py").run()
    assert not at.exception
    at.query_params.clear()  # the navigation's link to /compare has no query string
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert at.selectbox(key="compare_metric").value == "train_loss" and at.radio(key="compare_x").value == "time"
    assert at.query_params["metric"] == "train_loss"


def test_a_brush_in_the_link_filters_the_table_and_says_how_many_it_keeps(runs):
    at = page(brush="test_accuracy:0.91..1")
    assert not at.exception
    assert sorted(table(at)["name"]) == ["fast a", "fast b"]
    assert any("keeps **2 of 6 runs**" in c.value for c in at.caption)
    at.button(key="compare_clear").click().run()
    assert len(table(at)) == 6 and "brush" not in at.query_params


def test_bad_values_in_the_link_get_a_sentence(runs):
    at = page(metric="speed", summary="test_loss:median", x="walltime", k="0", brush="lr:low..high")
    assert not at.exception
    said = " ".join(w.value for w in at.warning)
    for part in ("metric 'speed'", "'test_loss:median'", "x='walltime'", "k='0'", "'lr:low..high'"):
        assert part in said, part
    assert at.selectbox(key="compare_metric").value == "test_accuracy" and len(table(at)) == 6


def test_the_downloads_hold_every_run_shown_with_every_summary(runs):
    import io

    import pandas as pd

    from nnplay.ui.compare_view import download

    at = page(sweep="lr-study")
    assert [b.proto.label for b in at.get("download_button")] == ["Download CSV", "Download Parquet"]
    csv = pd.read_csv(io.StringIO(download(open_store(), "local", "lr-study", 2, "csv")))
    parquet = pd.read_parquet(io.BytesIO(download(open_store(), "local", None, 3, "parquet")))
    assert sorted(csv["name"]) == ["fast a", "fast b", "slow a", "slow b"] and len(parquet) == 6
    assert csv.set_index("name")["test_loss_mean_last_2"]["fast a"] == pytest.approx(0.06)
    assert {"lr", "seed", "test_accuracy_best", "train_loss_last"} <= set(parquet.columns)


def test_an_empty_workspace_says_what_to_do():
    at = page()
    assert not at.exception
    assert any("No runs to compare yet" in i.value and "Train" in i.value for i in at.info)


# -- the link's text form ----------------------------------------------------------------------------------


def test_a_view_and_its_query_string_are_the_same_picture():
    v = CompareView(sweep="s1", metric="test_loss", summaries={"test_loss": "mean_last", "train_loss": "last"}, k=5,
                    axes=("lr", "seed"), brush={"lr": [(-3.0, -2.0), (-1.5, -1.0)]}, setting="lr", seeds=False,
                    x="time", smoothing=0.2)
    q = view_to_query(v)
    assert q["brush"] == "lr:-3..-2|-1.5..-1" and q["summary"] == "test_loss:mean_last"
    back, notes = view_from_query(q)
    assert notes == [] and back == CompareView(**{**v.__dict__, "summaries": {"test_loss": "mean_last"}})
    assert view_to_query(CompareView()) == {}


def test_parse_brush_refuses_what_is_not_a_range():
    assert parse_brush("a:1..2|5..3;b:0..1") == ({"a": [(1.0, 2.0), (3.0, 5.0)], "b": [(0.0, 1.0)]}, [])
    ranges, notes = parse_brush("a:1..x;:1..2;c:inf..1;d:3")
    assert ranges == {} and len(notes) == 4


def test_a_category_brush_goes_in_the_link_as_the_categories_it_keeps():
    v = CompareView(brush={"activation": [(0.6, 1.4)], "lr": [(-3.0, -2.0)]},
                    categories={"activation": ["relu", "tanh"]})
    q = view_to_query(v)
    assert q["brush"] == "activation:=tanh;lr:-3..-2"  # the category by name, not by its place on the axis
    back, notes = view_from_query(q)
    assert notes == [] and back.brush == {"lr": [(-3.0, -2.0)]} and back.brush_names == {"activation": ["tanh"]}
    # a category added before it: the same category, at its new place; neighbours in one range
    assert ranges_of(back.brush_names, {"activation": ["elu", "relu", "tanh"]}) == ({"activation": [(1.75, 2.25)]}, [])
    ranges, notes = ranges_of({"activation": ["relu", "tanh", "gelu"]}, {"activation": ["elu", "relu", "tanh"]})
    assert ranges == {"activation": [(0.75, 2.25)]} and len(notes) == 1 and "'gelu'" in notes[0]


def test_a_link_brushing_a_category_keeps_that_category_after_one_is_added_before_it(runs):
    at = page(brush="hidden:=64")
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    assert list(table(at)["name"]) == ["wilder"]  # the one run of 64 hidden units
    assert at.query_params["brush"] == "hidden:=64"  # written back by name
    crafted_run(open_store(), "narrow", 0.1, 0, [0.5, 0.6, 0.7], hidden=16)  # 16 now comes first on the axis
    again = page(brush="hidden:=64")
    assert not again.exception and not again.warning
    assert list(table(again)["name"]) == ["wilder"]


def test_one_plotly_loader_serves_both_components():
    from nnplay.ui.live import component_js

    for name in ("live_run.js", "parcoords_brush.js"):
        own = (ROOT / "nnplay" / "ui" / name).read_text(encoding="utf-8")
        assert "function loadPlotly" not in own and "loadPlotly(" in own  # it calls the shared one
        sent = component_js(ROOT / "nnplay" / "ui" / name)
        assert sent.count("function loadPlotly") == 1 and sent.count("function themeText") == 1
        assert sent.endswith(own)
