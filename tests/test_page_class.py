"""AppTest of the Class page and of class mode in the app frame (``nnplay.ui.class_view``, pages/class.py).

What lives here: without the token, or with a wrong one, the page says the same one sentence and shows nothing of
the class; with it, the teacher sees every learner's name and runs (never a workspace token), the leaderboard,
a link per run, Stop (which stops a learner's training run) and the CSV; the teacher's cookie keeps them in; the
sidebar links the Class page for the teacher only; a learner picks a checked name; a learner cannot open the
Class page or another learner's run by its link, while the teacher sees it read-only; no server path is shown
to a learner; every page's file is named as its URL path. What does not live here: the headless parts
(test_class.py), the live page in a browser (tests/browser/test_class_browser.py), a fresh server's first link
(tests/browser/test_class_first_visit_browser.py).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.classroom import teacher as classroom
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.runs import Run
from nnplay.store import open_store
from nnplay.ui import class_view, teacher_session

from .test_class import fake_run

ROOT = Path(__file__).resolve().parent.parent
CLASS = str(ROOT / "pages" / "class.py")
APP = str(ROOT / "app.py")
TOKEN = "teacher-token-0123456789"
ANN, BOB = "ws-ann-token-00000000", "ws-bob-token-00000000"


@pytest.fixture
def class_on(monkeypatch):
    monkeypatch.setenv("NNPLAY_TEACHER_TOKEN", TOKEN)
    store = open_store()
    store.join_class(ANN)
    store.rename_learner(ANN, "Ann")
    store.join_class(BOB)
    ann_run = fake_run(store, ANN, "run 1", [0.91, 0.95], hidden=16)
    fake_run(store, BOB, "run 1", [0.97], hidden=64)
    return ann_run


def everything(at: AppTest) -> str:
    """Every text, caption, message, markdown and table cell on the page (sidebar included), as one string."""
    parts = [e.value for kind in (at.title, at.subheader, at.caption, at.markdown, at.info, at.error, at.warning,
                                  at.success) for e in kind]
    parts += [df.value.to_csv() for df in at.dataframe]
    parts += [str(getattr(e, "proto", "")) for e in at.get("download_button")]
    return "\n".join(map(str, parts))


def class_page(token: str | None = None) -> AppTest:
    at = AppTest.from_file(CLASS, default_timeout=60)
    if token is not None:
        at.query_params["token"] = token
    at.run()
    assert not at.exception
    return at


def test_class_mode_off_says_how_to_turn_it_on(monkeypatch):
    monkeypatch.delenv("NNPLAY_TEACHER_TOKEN", raising=False)
    at = class_page(TOKEN)
    assert at.info[0].value == class_view.CLASS_OFF and not at.dataframe


def test_without_the_token_or_with_a_wrong_one_the_refusal_is_the_same_and_shows_nothing(class_on):
    pages = [class_page(), class_page("wrong-token-0123456789"), class_page(TOKEN[:-1]), class_page("")]
    for at in pages:
        assert [e.value for e in at.error] == [class_view.REFUSAL]
        assert not at.dataframe and not at.get("download_button") and "Ann" not in everything(at)
        assert "token" not in at.query_params  # a tried token does not stay in the address bar
    assert len({everything(at) for at in pages}) == 1  # the very same page for no token and a wrong one


def test_the_teacher_sees_every_learner_with_names_and_never_a_workspace_token(class_on):
    at = class_page(TOKEN)
    assert not at.error
    assert "token" not in at.query_params and at.session_state[class_view.TEACHER_KEY] is True
    board, runs = at.dataframe
    assert list(board.value["learner"]) == ["learner 2", "Ann"]  # Bob has not picked a name: his number
    assert list(board.value["test accuracy"]) == [0.97, 0.95]
    assert list(runs.value["learner"]) == ["Ann", "learner 2"] and list(runs.value["status"]) == ["finished"] * 2
    assert all("/train?run=" in link for link in runs.value["open"])  # each run's read-only link
    shown = everything(at)
    assert ANN not in shown and BOB not in shown  # names, never workspace tokens
    assert TOKEN not in shown
    (download,) = at.get("download_button")
    assert download.proto.label == "Download the class's results (CSV)"


def test_the_teachers_cookie_keeps_them_in_and_a_forged_one_does_not(class_on, monkeypatch):
    monkeypatch.setattr(teacher_session, "cookies", lambda: {class_view.TEACHER_COOKIE: classroom.session_value()})
    assert not class_page().error and class_page().dataframe
    for forged in (TOKEN, "0" * 64, classroom.session_value("another-token-0123456")):
        monkeypatch.setattr(teacher_session, "cookies", lambda v=forged: {class_view.TEACHER_COOKIE: v})
        assert [e.value for e in class_page().error] == [class_view.REFUSAL]


def test_the_csv_button_holds_every_run_with_names_settings_and_ranks(class_on, monkeypatch):
    from streamlit.runtime.media_file_manager import MediaFileManager

    made = []  # the page hands the button a function that makes the file when clicked
    real = MediaFileManager.add_deferred
    monkeypatch.setattr(MediaFileManager, "add_deferred", lambda self, fn, *a, **k: made.append(fn) or real(
        self, fn, *a, **k))
    at = class_page(TOKEN)
    (download,) = at.get("download_button")
    assert download.proto.deferred_file_id
    csv = made[-1]()
    lines = csv.splitlines()
    header = lines[0].split(",")
    assert len(lines) == 3 and lines[1].startswith("Ann,1,run 1,") and lines[2].startswith("learner 2,2,run 1,")
    assert ANN not in csv and BOB not in csv
    rank = header.index("leaderboard rank")
    assert [line.split(",")[rank] for line in lines[1:]] == ["2", "1"]
    assert {"model.hidden", "train.lr", "train.epochs"} <= set(header)


@pytest.mark.slow
def test_the_teacher_stops_a_learners_training_run(class_on, tiny_data, monkeypatch):
    monkeypatch.setenv("NNPLAY_CLASS_MAX_EPOCHS", "1000")  # a run long enough to be stopped, within the class limit
    run = Run("run 2", DataConfig(), ModelConfig(hidden=(8,)),
              TrainConfig(epochs=200, batch_size=50, device="cpu", lr=0.01))
    run.bind(open_store(), ANN)
    run.start(tiny_data)
    deadline = time.monotonic() + 30
    while run.status != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    at = class_page(TOKEN)
    pick = at.selectbox(key=class_view.STOP_KEY)
    (option,) = pick.options
    assert option == "Ann · run 2"  # a label the refreshes leave alone (a change would close the open list)
    pick.set_value(run.id).run()
    # the line under the box follows it: its epoch is wherever it has got to
    shown = [c.value.replace("\\", "") for c in at.caption]  # as read on the page, the markdown escapes gone
    assert any(re.fullmatch(r"Ann · run 2 \(running, epoch \d+/200\)", c) for c in shown), shown
    at.button(key="class_stop").click().run()
    assert any("Stop was sent to run 2" in e.value for e in at.info)
    assert run.wait(30) and run.status == "stopped"


def app(query: dict | None = None, page: str | None = None, session: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["nnplay_workspace"] = ANN  # this browser is Ann's
    for key, value in (session or {}).items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(page)  # (which clears the query)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


def links(at: AppTest) -> list[str]:
    """The URL paths the sidebar links."""
    return [str(e.proto.page) for e in at.sidebar.get("page_link")]


@pytest.mark.slow
def test_a_learner_picks_a_checked_name_in_the_sidebar_and_never_sees_the_class_page(class_on, monkeypatch):
    open_store().leave_class(ANN)  # Ann's first visit
    at = app()
    assert "class" not in links(at) and "train" in links(at)  # no Class link for a learner
    assert open_store().learner(ANN).name == "learner 3"  # joined as a number
    at.text_input(key="class_name").input("<b>Ann</b>")
    at.button(key="class_name_save").click().run()
    assert any("leave out '<' '>'" in e.value for e in at.sidebar.error)
    at.text_input(key="class_name").input("Ann")
    at.button(key="class_name_save").click().run()
    assert open_store().learner(ANN).name == "Ann"
    assert any("In this class you are **Ann**" in e.value for e in at.sidebar.caption)
    at.switch_page("pages/class.py").run()  # by its URL
    assert [e.value for e in at.error] == [class_view.REFUSAL] and "learner 2" not in everything(at)
    assert "Runs are kept in" not in everything(at)  # no server path in class mode


def test_a_learner_cannot_open_another_learners_run_by_its_link_but_the_teacher_can_read_it(class_on):
    bob_run = open_store().class_runs()[1].id
    at = app({"run": bob_run}, "pages/train.py")
    assert any(f"No run has the id {bob_run}" in w.value for w in at.warning)  # as if it did not exist
    assert not any("belongs to another workspace" in e.value for e in at.info)
    teacher = app({"run": bob_run}, "pages/train.py", session={class_view.TEACHER_KEY: True})
    assert any("belongs to another workspace" in e.value for e in teacher.info)  # read-only
    assert not [b for b in teacher.button if b.key and b.key.startswith("train_stop")]
    assert "class" in links(teacher)


def test_the_teacher_signing_in_is_no_learner(class_on):
    teacher_ws = "ws-teacher-token-0000"
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["nnplay_workspace"] = teacher_ws
    at.run()
    assert open_store().learner(teacher_ws) is not None  # a first page before signing in: listed
    at.switch_page("pages/class.py")
    at.query_params["token"] = TOKEN
    at.run()
    assert not at.exception and not at.error
    assert open_store().learner(teacher_ws) is None
    assert [learner.name for learner in open_store().learners()] == ["Ann", "learner 2"]


def test_a_learner_sees_no_server_path_in_the_stores_notice_and_the_teacher_does(class_on):
    open_store().notice = "/srv/nnplay/runs.db is read-only: its runs are shown, but new runs are not kept."
    learner = app()
    assert "/srv/nnplay" not in everything(learner)
    assert any("your teacher sees why" in w.value for w in learner.sidebar.warning)
    teacher = app(session={class_view.TEACHER_KEY: True})
    assert any("/srv/nnplay/runs.db is read-only" in w.value for w in teacher.sidebar.warning)


def _announcing_page():
    from nnplay.ui.class_view import announce_class

    announce_class()


def test_a_token_made_at_start_is_printed_once_in_the_servers_log(monkeypatch, capsys):
    monkeypatch.delenv("NNPLAY_TEACHER_TOKEN", raising=False)
    monkeypatch.setenv("NNPLAY_CLASS", "1")
    class_view.announce_class.clear()
    AppTest.from_function(_announcing_page).run()
    AppTest.from_function(_announcing_page).run()  # a second page load prints nothing more
    log = capsys.readouterr().err
    assert log.count(f"/class?token={classroom.teacher_token()}") == 1
    monkeypatch.setenv("NNPLAY_TEACHER_TOKEN", TOKEN)
    class_view.announce_class.clear()
    AppTest.from_function(_announcing_page).run()
    assert TOKEN not in capsys.readouterr().err  # a token from the environment is not repeated in the log
    class_view.announce_class.clear()


def test_an_assignment_ranks_the_board_by_its_metric_among_the_runs_that_meet_its_constraints(class_on):
    from nnplay.classroom.assignments import make_assignment

    at = class_page(TOKEN)
    assert list(at.dataframe[0].value["learner"]) == ["learner 2", "Ann"]  # no task: the best accuracy leads
    make_assignment(open_store(), "Small is beautiful", "", "", {"max_parameters": 20_000})
    at = class_page(TOKEN)
    board = at.dataframe[0].value
    assert list(board["learner"]) == ["Ann"]  # Bob's 64-unit net breaks the 20,000-parameter limit: off the board
    assert "Small is beautiful" in everything(at) and "at most 20,000 parameters" in everything(at)


def test_an_assignment_handed_out_on_the_page_ranks_the_board_in_the_same_rerun(class_on):
    at = class_page(TOKEN)
    assert list(at.dataframe[0].value["learner"]) == ["learner 2", "Ann"]
    at.text_input(key="assign_title").set_value("Small is beautiful")
    at.number_input(key="assign_max_params").set_value(20_000)
    at.button(key="assign_create").click().run()
    assert not at.exception and not at.error
    said = everything(at)
    assert "is handed out" in said and "**The assignment:** Small is beautiful" in said
    assert list(at.dataframe[0].value["learner"]) == ["Ann"]  # at once, not after a reload: Bob's net is too big


def test_an_empty_board_under_an_assignment_says_whether_runs_ended_and_why_none_is_ranked(class_on):
    from nnplay.classroom.assignments import make_assignment

    make_assignment(open_store(), "Tiny", "", "", {"max_parameters": 1_000})  # both learners' nets are bigger
    at = class_page(TOKEN)
    said = everything(at)
    assert "none of the 2 runs that ended meets the assignment (at most 1,000 parameters)" in said
    assert "No run has been tested yet" not in said  # they were: they are off the board for the task


def test_every_pages_file_is_named_as_its_url_path_so_a_fresh_servers_first_link_finds_it():
    """A fresh server resolves its first URL against the files of pages/ (Streamlit's legacy multipage mode, before
    any st.navigation); a file named otherwise showed "Page not found" over the teacher's first /class?token=…."""
    import ast

    tree = ast.parse(Path(APP).read_text(encoding="utf-8"))
    table = next(node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == "PAGES" for t in node.targets))
    pages = ast.literal_eval(table)
    assert ("class.py", "Class", "🏫", "class") in pages
    assert [(file, path) for file, _, _, path in pages if Path(file).stem != path] == []
