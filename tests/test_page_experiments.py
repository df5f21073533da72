"""The Experiments page in AppTest: a study runs in the background on a tiny subset, its table appears.

Each test drives the page as a user would (widgets found by ``key=``), polls ``at.run()`` until
the sweep is done or a deadline passes, and checks that no exception reached the page. The
trainings are a few hundred images so the shared CPU stays free.
"""

import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import ROOT

PAGE = str(ROOT / "pages" / "experiments.py")
SWEEPS = "nnplay_sweeps"


def _page(train_limit: int = 300, test_limit: int = 200) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception
    at.text_input(key="exp_train_limit").set_value(str(train_limit))
    at.text_input(key="exp_test_limit").set_value(str(test_limit))
    at.run()
    return at


def _sweep(at: AppTest, key: str):
    return at.session_state[SWEEPS][f"experiments/{key}"]


def _wait(at: AppTest, key: str, deadline_s: float = 120.0) -> None:
    """Rerun the page every 2 s (a join in between leaves the CPU to the training thread) until done."""
    deadline = time.time() + deadline_s
    while _sweep(at, key).active and time.time() < deadline:
        _sweep(at, key).wait(2.0)
        at.run()
        assert not at.exception
    assert not _sweep(at, key).active, "the sweep did not finish in time"
    at.run()


def _results(at: AppTest):
    """The results table: the page's last dataframe, as a pandas DataFrame."""
    return at.dataframe[-1].value


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_page_opens_in_quick_mode_with_the_seeds_setup_and_numbers():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception
    assert at.toggle(key="exp_full").value is False
    text = _markdown(at)
    for fact in ["784-256-256-10", "N(0, 1)", "Adam", "0.1, 0.01, 0.001 or 0.0001", "accuracy 0.10", "2.30",
                 "5 epochs instead of 50"]:
        assert fact in text, fact
    assert at.button(key="exp_run_lr").disabled is False
    assert at.button(key="exp_stop_lr").disabled is True


def _walk(node):
    """The page's elements in the order they are drawn (into columns and expanders too)."""
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


@pytest.mark.parametrize("study", ["lr", "stride"])
def test_the_controls_come_first_and_the_explanation_beside_or_below(study):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.radio(key="exp_study").set_value(study).run()
    nodes = list(_walk(at.main))
    button = next(i for i, n in enumerate(nodes) if getattr(n, "label", None) == "Run the study")
    above = [n.value for n in nodes[:button] if n.type == "markdown"]
    assert sum(len(text) for text in above) < 400, above  # a title, a line, the choices: then the button
    assert not any("What the note saw" in text or "784-256-256-10" in text for text in above)
    assert any("What the note saw" in n.value for n in nodes[button:] if n.type == "markdown")


def test_no_time_estimate_before_one_was_measured_here():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    timing = [c.value for c in at.caption if "⏱️" in c.value]
    assert len(timing) == 1 and not any(ch.isdigit() for ch in timing[0])  # no number from another machine
    at.toggle(key="exp_full").set_value(True).run()
    timing = [c.value for c in at.caption if "⏱️" in c.value] + [w.value for w in at.warning]
    counts = r"\b(60,000|10,000|2,000)\b"  # the data's size (full MNIST, or the built-in sample without it)
    assert not any(ch.isdigit() for text in timing for ch in re.sub(counts, "", text)), timing


@pytest.mark.parametrize("study, facts", [
    ("epochs", ["+0.0918", "+0.009", "+0.0054", "5, 30, 50 or 100 epochs"]),
    ("batch", ["15 min 53 s", "8 min 22 s", "5 min 26 s", "6,000 steps", "2,000 steps", "600 steps", "60 steps"]),
    ("activations", ["sigmoid or ReLU"]),
    ("stride", ["first conv layer only", "stride 1 or 5", "leaves no pixels", "4·4·128 = 2048 → 625"]),
    ("filter", ["first conv layer only", "filter size 3 or 10", "leaves no pixels"]),
])
def test_each_study_states_the_seeds_setup(study, facts):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.radio(key="exp_study").set_value(study).run()
    assert not at.exception
    text = _markdown(at)
    for fact in facts:
        assert fact in text, fact
    assert at.button(key=f"exp_run_{study}") is not None


@pytest.mark.slow
def test_learning_rate_study_runs_in_the_background_and_fills_the_table():
    at = _page()
    at.button(key="exp_run_lr").click().run()
    assert not at.exception
    _wait(at, "lr")
    assert not at.exception
    table = _results(at)
    assert list(table["run"]) == ["lr 0.1", "lr 0.01", "lr 0.001", "lr 0.0001"]
    assert set(table["status"]) == {"finished"}
    assert set(table["train images"]) == {300}
    timing = next(c.value for c in at.caption if "⏱️" in c.value)
    assert "from this study's last run on this machine" in timing  # the estimate is what was measured
    assert table["test accuracy"].between(0, 1).all()
    charts = [c for c in at.get("plotly_chart")]
    assert len(charts) >= 2
    assert not at.error
    assert at.button(key="exp_stop_lr").disabled is True
    assert at.button(key="exp_run_lr").disabled is False


@pytest.mark.slow
def test_a_cnn_study_runs_on_a_tiny_subset():
    at = _page(train_limit=200, test_limit=100)
    at.radio(key="exp_study").set_value("stride").run()
    at.button(key="exp_run_stride").click().run()
    _wait(at, "stride")
    table = _results(at)
    assert list(table["run"]) == ["stride 1", "stride 5"]
    assert set(table["status"]) == {"finished"}
    assert not at.exception and not at.error


@pytest.mark.slow
def test_stop_ends_the_sweep_and_other_studies_wait_for_it():
    at = _page(train_limit=3000, test_limit=200)
    at.radio(key="exp_study").set_value("filter").run()
    at.button(key="exp_run_filter").click().run()
    assert _sweep(at, "filter").active
    at.radio(key="exp_study").set_value("lr").run()
    assert at.button(key="exp_run_lr").disabled is True  # one study at a time
    assert "training" in " ".join(i.value for i in at.info)
    at.radio(key="exp_study").set_value("filter").run()
    at.button(key="exp_stop_filter").click().run()
    _wait(at, "filter", deadline_s=60)
    statuses = [r.status for r in _sweep(at, "filter").runs]
    assert "stopped" in statuses
    assert not at.exception


def test_full_mode_warns_and_hides_the_subset_inputs():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.toggle(key="exp_full").set_value(True).run()
    assert not at.exception
    assert any("Full settings of the note" in w.value for w in at.warning)
    assert not [n for n in at.text_input if n.key == "exp_train_limit"]
    assert "50" in " ".join(str(v) for v in at.dataframe[0].value["epochs"])


@pytest.mark.slow
def test_range_test_marks_a_suggested_rate():
    at = _page(train_limit=500)
    at.radio(key="exp_study").set_value("range").run()
    at.text_input(key="exp_range_steps").set_value("40").run()
    at.button(key="exp_range_run").click().run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    suggested = float(metrics["Suggested learning rate"])
    assert 1e-6 <= suggested <= 10
    assert at.get("plotly_chart")


def test_the_note_follows_the_data_and_the_chosen_subset(monkeypatch, tmp_path):
    import nnplay.data

    def no_download(*_args, **_kwargs):
        raise OSError("tests do not download")

    monkeypatch.setenv("NNPLAY_DATA_DIR", str(tmp_path))  # no MNIST here: the built-in sample (10,000 / 2,000)
    monkeypatch.setattr(nnplay.data, "_download", no_download)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert any("built-in sample" in c.value for c in at.caption)  # one line, no box
    assert "5 epochs instead of 50, on all 10,000 training images and all 2,000 test images." in _markdown(at)
    assert "60,000 training images and" not in _markdown(at).split("**Here.**")[1]
    at.text_input(key="exp_train_limit").set_value("500").run()
    assert "on the first 500 of the 10,000 training images and all 2,000 test images." in _markdown(at)
    at.toggle(key="exp_full").set_value(True).run()
    assert any("all 10,000 training images" in w.value for w in at.warning)


@pytest.mark.slow
def test_range_test_rate_can_be_used_on_the_train_page(monkeypatch):
    import streamlit

    opened = []
    monkeypatch.setattr(streamlit, "switch_page", opened.append)  # the page alone has no navigation to switch in
    at = _page(train_limit=500)
    at.radio(key="exp_study").set_value("range").run()
    at.selectbox(key="exp_range_optimizer").set_value("sgd").run()
    at.text_input(key="exp_range_steps").set_value("30").run()
    at.button(key="exp_range_run").click().run()
    assert not at.exception and not at.error
    rate = float(f"{float({m.label: m.value for m in at.metric}['Suggested learning rate']):.2g}")
    at.button(key="exp_range_use").click().run()
    assert not at.exception
    assert [Path(p).name for p in opened] == ["train.py"]
    assert at.session_state["train_lr"] == rate and at.session_state["train_optimizer"] == "sgd"

    # the Train page opens with them (its widgets are keyed train_<field>)
    train = AppTest.from_file(str(ROOT / "pages" / "train.py"), default_timeout=60)
    train.session_state["train_lr"] = rate
    train.session_state["train_optimizer"] = "sgd"
    train.run()
    assert not train.exception
    assert train.select_slider(key="train_lr").value == rate
    assert train.selectbox(key="train_optimizer").value == "sgd"
