"""The Train page's start box for a first visit (``nnplay.ui.welcome``), run headless by AppTest.

What lives here: a workspace with no runs sees three steps, two buttons to Draw and Inspect and the
sentence on where the lecture notes come from; Close hides it for the workspace (a new session of the
same workspace does not see it again); a workspace with a run never sees it; the buttons open their
pages. What does not live here: the presets' names (tests/test_config.py), the rest of the Train page
(tests/test_page_train.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.runs import workspace_runs
from nnplay.store import open_store
from nnplay.ui.welcome import CLOSED, NOTES, shown

PAGES = Path(__file__).resolve().parent.parent / "pages"
PAGE = str(PAGES / "train.py")
# how the notes were named inside nnplay's code, never explained to a learner
UNEXPLAINED = re.compile(r"\bseed 00\d|\bseed's\b|\bthe seeds\b|seeds' ", re.I)


def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def has_start_box(at: AppTest) -> bool:
    return any(b.key == "train_welcome_close" for b in at.button)


def test_only_a_first_visit_sees_the_start():
    assert shown(closed=False, has_runs=False)
    assert not shown(closed=True, has_runs=False)
    assert not shown(closed=False, has_runs=True)


def test_an_empty_workspace_gets_three_steps_two_links_and_the_notes():
    at = page()
    assert has_start_box(at)
    text = texts(at)
    assert "New here?" in text
    assert all(f"{n}. " in text for n in (1, 2, 3)) and "**Start**" in text
    assert {b.label for b in at.button} >= {"✏️ Draw a digit", "🔬 Inspect its mistakes"}
    assert NOTES in text
    for word in ("five Korean lecture notes", "activation functions", "numpy", "hyperparameters", "CNN",
                 "autograd"):
        assert word in NOTES, word


def test_close_is_kept_for_the_workspace():
    at = page()
    at.button(key="train_welcome_close").click().run()
    assert not at.exception
    assert not has_start_box(at)
    assert open_store().setting("local", CLOSED) == "True"
    assert not has_start_box(page())  # a reload (a new session of the same workspace): still closed


@pytest.mark.slow
def test_the_start_goes_with_the_first_run_and_stays_gone():
    at = page()
    assert has_start_box(at)
    at.toggle(key="train_quick").set_value(True).run()
    at.text_input(key="train_train_limit").set_value("500")
    at.text_input(key="train_test_limit").set_value("200")
    at.text_input(key="train_epochs").set_value("1")
    at.button(key="train_start").click().run()
    try:
        assert not at.exception
        assert not has_start_box(at) and "New here?" not in texts(at)
        again = page()  # a returning learner: the form at once, no box to close
        assert not has_start_box(again) and again.button(key="train_start")
    finally:
        for run in workspace_runs(open_store()):
            run.stop()
            run.wait(30)


def test_the_links_open_their_pages(monkeypatch):
    import streamlit

    opened = []
    monkeypatch.setattr(streamlit, "switch_page", opened.append)  # the page alone has no navigation to switch in
    at = page()
    at.button(key="train_welcome_draw").click().run()
    at.button(key="train_welcome_inspect").click().run()
    assert not at.exception
    assert [Path(p).name for p in opened] == ["draw.py", "inspect.py"]
    assert all(Path(p).is_file() for p in opened)


def all_text(at: AppTest) -> str:
    """Every element's message, labels and help texts included (widget keys too, which never match)."""
    def walk(block):
        for child in block.children.values():
            if getattr(child, "proto", None) is not None:
                yield str(child.proto)
            if hasattr(child, "children"):
                yield from walk(child)

    return "\n".join([*walk(at.main), *walk(at.sidebar)])


@pytest.mark.parametrize("page_file", sorted(p.name for p in PAGES.glob("*.py")))
def test_no_page_speaks_of_seeds(page_file):
    at = AppTest.from_file(str(PAGES / page_file), default_timeout=120)
    at.session_state["scr_steps"] = 300  # /scratch: a short ladder is enough to read its words
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = all_text(at)
    assert len(text) > 500  # the page drew something to read
    assert not UNEXPLAINED.findall(text), (page_file, UNEXPLAINED.findall(text))
