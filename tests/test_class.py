"""Class mode without a page (``nnplay.classroom``, ``nnplay.store_class``): the settings that turn it on, the
teacher's token and session compared in constant time, learners' names, the store's class reads, the
leaderboard with its score hook and the CSV.

What lives here: a wrong token or cookie is refused like none; names are numbered, checked and kept; the class's
runs come from one read with their latest and best accuracy and no workspace token; the leaderboard takes each
learner's best run and a score that leaves runs out. What does not live here: the Class page (test_page_class.py),
the browser (tests/browser/test_class_browser.py).
"""

from __future__ import annotations

import time

import pytest

from nnplay import settings
from nnplay.classroom import teacher as classroom
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.engine import EpochMetrics, RunStart
from nnplay.store import open_store

TOKEN = "teacher-token-0123456789"


def fake_run(store, workspace: str, name: str, accuracies: list[float], status: str = "finished",
             hidden: int = 16, epochs: int = 3) -> str:
    """A run record with ``accuracies`` as its epochs' test accuracies (no training)."""
    run_id = store.create_run(name, DataConfig(), ModelConfig(hidden=(hidden,)), TrainConfig(epochs=epochs),
                              workspace=workspace, status="running")
    params = 784 * hidden + hidden + hidden * 10 + 10
    epochs_done = [EpochMetrics(i + 1, 0.5, 0.9, 0.4, a, 1.0, 0.1, 1000.0, 10 * (i + 1), 1e-3, "cpu")
                   for i, a in enumerate(accuracies)]
    store.record(run_id, start=RunStart(epochs, 10, 1000, 500, params, "cpu"), epochs=epochs_done,
                 started=time.time() - 5, status=(status, "") if status != "running" else None)
    return run_id


# -- settings and the token ----------------------------------------------------------------------------------

def test_class_mode_is_on_with_its_switch_or_a_token_and_bad_values_get_a_sentence():
    assert not classroom.class_mode({})
    assert classroom.class_mode({"NNPLAY_CLASS": "1"})
    assert classroom.class_mode({"NNPLAY_TEACHER_TOKEN": TOKEN})
    assert not classroom.class_mode({"NNPLAY_CLASS": "0"})
    (short,) = settings.problems({"NNPLAY_TEACHER_TOKEN": "abc"})
    assert short.startswith("NNPLAY_TEACHER_TOKEN must be 16 to 128 letters, digits, - or _; it is 'abc'.")
    (spaced,) = settings.problems({"NNPLAY_TEACHER_TOKEN": "a token with spaces in it"})
    assert "it is 'a token with spaces in it'" in spaced
    (switch,) = settings.problems({"NNPLAY_CLASS": "yes"})
    assert switch.startswith("NNPLAY_CLASS must be 1 (on) or 0 (off); it is 'yes'.")


def test_a_token_is_made_once_when_none_is_set_and_the_given_one_is_used_otherwise(monkeypatch):
    monkeypatch.setenv("NNPLAY_CLASS", "1")
    monkeypatch.delenv("NNPLAY_TEACHER_TOKEN", raising=False)
    made = classroom.teacher_token()
    assert len(made) >= 24 and made == classroom.teacher_token() and classroom.token_was_made()
    assert classroom.token_matches(made)
    monkeypatch.setenv("NNPLAY_TEACHER_TOKEN", TOKEN)
    assert classroom.teacher_token() == TOKEN and not classroom.token_was_made()
    assert not classroom.token_matches(made)


def test_a_wrong_token_or_cookie_is_refused_like_none_and_compared_in_constant_time(monkeypatch):
    monkeypatch.setenv("NNPLAY_TEACHER_TOKEN", TOKEN)
    compared = []
    real = classroom.hmac.compare_digest
    monkeypatch.setattr(classroom.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    assert classroom.token_matches(TOKEN)
    for wrong in (None, "", TOKEN[:-1], TOKEN + "x", ["a", "list"], "é" * 20):
        assert not classroom.token_matches(wrong)
    assert len(compared) == 7  # every answer came from hmac.compare_digest, none from ==
    session = classroom.session_value()
    assert TOKEN not in session and classroom.session_matches(session)  # the cookie never holds the token
    assert not classroom.session_matches(TOKEN) and not classroom.session_matches(None)
    assert classroom.session_value("another-token-0123456") != session
    monkeypatch.delenv("NNPLAY_TEACHER_TOKEN")
    assert not classroom.token_matches(TOKEN)  # class mode off: nothing opens


# -- names ---------------------------------------------------------------------------------------------------

def test_learners_are_numbered_as_they_join_and_keep_a_checked_name():
    store = open_store()
    first = store.join_class("ws-aaaaaaaaaaaaaaaa")
    second = store.join_class("ws-bbbbbbbbbbbbbbbb")
    assert (first.name, first.number, first.named) == ("learner 1", 1, False)
    assert (second.name, second.number) == ("learner 2", 2)
    assert store.join_class("ws-aaaaaaaaaaaaaaaa") == first  # joining again changes nothing
    renamed = store.rename_learner("ws-bbbbbbbbbbbbbbbb", classroom.check_learner_name("  Ada   Lovelace "))
    assert (renamed.name, renamed.number, renamed.named) == ("Ada Lovelace", 2, True)
    assert [learner.name for learner in store.learners()] == ["learner 1", "Ada Lovelace"]
    store.leave_class("ws-aaaaaaaaaaaaaaaa")
    assert [learner.name for learner in store.learners()] == ["Ada Lovelace"]
    assert store.join_class("ws-cccccccccccccccc").number == 3  # numbers are not given twice


@pytest.mark.parametrize("bad, says", [("", "at least one character"), ("   ", "at least one character"),
                                       ("x" * 41, "at most 40 characters; this one has 41"),
                                       ("<b>boss</b>", "leave out '<' '>'"),
                                       ("[click](http://x)", "leave out '[' ']'"), ("a\x00b", "leave out '\\x00'"),
                                       ("`code`", "leave out '`'")])
def test_a_name_with_markup_or_of_the_wrong_length_gets_a_sentence(bad, says):
    with pytest.raises(ValueError) as err:
        classroom.check_learner_name(bad)
    assert says in str(err.value)


def test_plain_names_are_kept():
    for name in ("Zoë", "Anne-Marie (group 2)", "李雷", "O'Brien, J."):
        assert classroom.check_learner_name(name) == name


# -- the store's class reads, the leaderboard, the CSV -------------------------------------------------------

def test_the_class_is_read_with_each_runs_latest_and_best_accuracy_and_no_workspace_token():
    store = open_store()
    store.join_class("ws-ann-000000000000")
    store.rename_learner("ws-ann-000000000000", "Ann")
    store.join_class("ws-bob-000000000000")
    store.join_class("ws-idle-00000000000")
    fake_run(store, "ws-ann-000000000000", "run 1", [0.90, 0.95, 0.93], hidden=16)
    fake_run(store, "ws-ann-000000000000", "run 2", [0.91], status="running", hidden=32)
    fake_run(store, "ws-bob-000000000000", "run 1", [0.96], hidden=64)
    fake_run(store, "someone-not-in-class", "run 1", [0.99])  # a workspace that never joined: not shown
    runs = store.class_runs()
    assert [(r.learner, r.name) for r in runs] == [("Ann", "run 1"), ("Ann", "run 2"), ("learner 2", "run 1")]
    ann1 = runs[0]
    assert (ann1.epoch, ann1.test_accuracy, ann1.best_accuracy, ann1.status) == (3, 0.93, 0.95, "finished")
    assert runs[1].active and runs[1].seconds() >= 5
    assert classroom.settings_summary(ann1) == "MLP 784-16-10 relu · adam lr 0.001 · batch 256 · 3 epochs"
    table = classroom.runs_table(runs)
    assert list(table["epoch"]) == ["3/3", "1/3", "1/3"]
    csv = classroom.results_csv(runs, classroom.leaderboard(runs))
    assert "ws-ann" not in csv and "ws-bob" not in csv and "ws-ann" not in table.to_csv()  # never a token
    header = csv.splitlines()[0].split(",")
    assert {"learner", "run id", "status", "test accuracy", "leaderboard rank", "model.hidden", "train.lr"} <= set(header)
    assert len(csv.splitlines()) == 4


def test_a_run_left_active_by_a_dead_process_reads_interrupted():
    store = open_store()
    store.join_class("ws-ann-000000000000")
    run_id = fake_run(store, "ws-ann-000000000000", "run 1", [0.5], status="running")
    store.write(lambda db: db.execute("UPDATE runs SET owner_pid=999999999, owner_start=1 WHERE id=?", (run_id,)))
    (run,) = store.class_runs()
    assert run.status == "interrupted"


def test_the_class_runs_are_one_query_not_one_per_run():
    store = open_store()
    for learner in range(5):
        ws = f"ws-{learner:016d}"
        store.join_class(ws)
        for n in range(4):
            fake_run(store, ws, f"run {n}", [0.8, 0.9])
    queries = []
    real = store._read
    store._read = lambda sql, args=(): queries.append(sql) or real(sql, args)
    assert len(store.class_runs()) == 20 and len(store.learners()) == 5
    assert len(queries) == 2


def test_the_leaderboard_keeps_each_learners_best_run_and_takes_a_score_hook():
    store = open_store()
    for ws, name in (("ws-a-0000000000000", "A"), ("ws-b-0000000000000", "B"), ("ws-c-0000000000000", "C")):
        store.join_class(ws)
        store.rename_learner(ws, name)
    fake_run(store, "ws-a-0000000000000", "small", [0.95], hidden=8)
    fake_run(store, "ws-a-0000000000000", "big", [0.97], hidden=256)
    fake_run(store, "ws-b-0000000000000", "same", [0.97], hidden=32)
    store.create_run("not started", DataConfig(), ModelConfig(), TrainConfig(), workspace="ws-c-0000000000000")
    runs = store.class_runs()
    board = classroom.leaderboard(runs)
    assert [(s.rank, s.learner, s.run.name) for s in board] == [(1, "B", "same"), (1, "A", "big")]  # a tie: fewer params first
    # a task's hook: at most 10,000 parameters, ranked by accuracy
    small = classroom.leaderboard(runs, lambda r: r.test_accuracy if (r.parameters or 0) <= 10_000 else None)
    assert [(s.rank, s.learner, s.run.name, s.score) for s in small] == [(1, "A", "small", 0.95)]
    frame = classroom.standings_table(board, "accuracy")
    assert list(frame.columns)[:3] == ["rank", "learner", "accuracy"]
