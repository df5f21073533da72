"""Assignments: the store keeps them (create, read, list, change, delete), the teacher's values are checked with
a sentence, ``ranking`` ranks by the metric among the runs that meet the constraints, the teacher's editor hands
one out, and the learner's banner on Train loads its starting settings into the widgets."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.classroom import heldback
from nnplay.classroom.assignments import Constraints, make_assignment, ranking, settings_query, why_not_eligible
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.store import open_store

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "train.py")


def test_the_store_keeps_assignments():
    store = open_store()
    first = store.create_assignment("Reach 98%", "with few parameters", {"hidden": "64"}, {"max_parameters": 100_000},
                                    "test_accuracy", created=1.0)
    second = store.create_assignment("CNN", created=2.0)
    assert store.get_assignment(first.id) == first
    assert [a.id for a in store.list_assignments()] == [second.id, first.id]  # newest first
    assert store.current_assignment().id == second.id
    store.update_assignment(second.id, active=False, title="CNN, later")
    assert store.get_assignment(second.id).title == "CNN, later" and store.current_assignment().id == first.id
    assert [a.id for a in store.list_assignments(active_only=True)] == [first.id]
    with pytest.raises(ValueError, match="no field colour"):
        store.update_assignment(first.id, colour="red")
    store.delete_assignment(first.id)
    assert store.get_assignment(first.id) is None and store.current_assignment() is None


def test_what_the_teacher_types_is_checked_with_a_sentence():
    store = open_store()
    made = make_assignment(store, "  Small MLP ", "", "http://host/train?hidden=64&epochs=5&run=abc",
                           {"max_parameters": 100_000, "family": "mlp", "max_epochs": None}, "hidden_accuracy")
    assert made.title == "Small MLP" and made.settings == {"hidden": "64", "epochs": "5"}
    assert made.constraints == {"max_parameters": 100_000, "family": "mlp"}
    assert settings_query("hidden=64&lr=0.1") == {"hidden": "64", "lr": "0.1"}
    with pytest.raises(ValueError, match="needs a title"):
        make_assignment(store, " ")
    with pytest.raises(ValueError, match="metric must be one of"):
        make_assignment(store, "x", metric="loss")
    with pytest.raises(ValueError, match="starting settings do not all read"):
        make_assignment(store, "x", settings="epochs=many")
    with pytest.raises(ValueError, match="family must be one of mlp, cnn"):
        Constraints.from_dict({"family": "rnn"})
    with pytest.raises(ValueError, match="no constraint colour"):
        Constraints.from_dict({"colour": "red"})


class Ran:
    """A run as the leaderboard reads it (a RunRecord's fields)."""

    def __init__(self, id, hidden, accuracy, epochs=5, status="finished", created=0.0, family="mlp"):
        self.id, self.status, self.created, self.test_accuracy = id, status, created, accuracy
        self.data_cfg, self.train_cfg = DataConfig(), TrainConfig(epochs=epochs)
        self.model_cfg = ModelConfig(hidden=hidden) if family == "mlp" else ModelConfig(family="cnn")
        self.parameters = None


def test_ranking_orders_by_the_metric_among_runs_that_meet_the_constraints():
    store = open_store()
    task = make_assignment(store, "Reach 98%", constraints={"max_parameters": 100_000, "max_epochs": 10})
    runs = [Ran("big", (256,), 0.99),  # 203,530 parameters: out
            Ran("long", (64,), 0.985, epochs=20),  # too many epochs: out
            Ran("small", (64,), 0.97), Ran("tiny", (16,), 0.97, created=1.0),  # tie: fewer parameters first
            Ran("best", (100,), 0.98), Ran("running", (64,), 0.99, status="running"),
            Ran("no score", (64,), None)]
    ranked = ranking(runs, task)
    assert [(r.place, r.run.id) for r in ranked] == [(1, "best"), (2, "tiny"), (3, "small")]
    assert ranked[0].score == 0.98 and ranked[0].parameters == 79_510
    assert why_not_eligible(runs[0], task) == "it has 203,530 parameters; the assignment allows at most 100,000."
    assert "at most 10" in why_not_eligible(runs[1], task)


def test_ranking_by_the_held_back_half_reads_the_kept_hidden_scores():
    store = open_store()
    task = make_assignment(store, "Held back", metric="hidden_accuracy")
    runs = [Ran("a", (64,), 0.99), Ran("b", (64,), 0.90), Ran("c", (64,), 0.95)]
    for run, hidden in zip(runs, (0.91, 0.96, None)):
        if hidden is not None:
            store.run_dir(run.id).mkdir(parents=True)
            (store.run_dir(run.id) / heldback.HIDDEN_FILE).write_text(f'{{"hidden_accuracy": {hidden}}}')
    assert [(r.run.id, r.score) for r in ranking(runs, task, store)] == [("b", 0.96), ("a", 0.91)]


def editor_page():
    from nnplay.ui.assignment_panel import teacher_assignment_editor

    teacher_assignment_editor()


def test_the_teachers_editor_hands_out_an_assignment_and_sets_the_limits():
    at = AppTest.from_function(editor_page, default_timeout=60).run()
    at.text_input(key="assign_title").set_value("Reach 98%")
    at.text_input(key="assign_settings").set_value("epochs=lots")
    at.button(key="assign_create").click().run()
    assert any("starting settings do not all read" in e.value for e in at.error)
    assert open_store().list_assignments() == []
    at.text_input(key="assign_settings").set_value("/train?hidden=64&epochs=3")
    at.number_input(key="assign_max_params").set_value(100_000)
    at.button(key="assign_create").click().run()
    assert not at.exception and not at.error
    (made,) = open_store().list_assignments()
    assert made.settings == {"hidden": "64", "epochs": "3"} and made.constraints == {"max_parameters": 100_000}
    at.number_input(key="limit_max_epochs").set_value(7)
    at.button(key="limit_save").click().run()
    from nnplay.classroom.limits import read_limits

    assert read_limits(open_store()).max_epochs == 7
    at.button(key=f"assign_toggle_{made.id}").click().run()
    assert open_store().current_assignment() is None


def test_the_learner_starts_from_the_assignments_settings_on_train(monkeypatch):
    monkeypatch.setenv("NNPLAY_CLASS", "1")
    make_assignment(open_store(), "Small MLP", "Try a narrow layer.", "hidden=64&epochs=3&lr=0.01",
                    {"max_parameters": 100_000})
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert any("Assignment: Small MLP" in m.value for m in at.markdown)
    assert any("limits per learner" in c.value for c in at.caption)
    assert at.text_input(key="train_hidden").value == "256"
    at.button(key="assignment_start_from").click().run()
    assert not at.exception
    assert at.text_input(key="train_hidden").value == "64" and at.text_input(key="train_epochs").value == "3"
    assert at.session_state["train_lr"] == 0.01
    assert at.session_state["_train_configs"]["model"].hidden == (64,)


def test_outside_class_mode_train_shows_no_assignment(monkeypatch):
    monkeypatch.delenv("NNPLAY_CLASS", raising=False)
    make_assignment(open_store(), "Small MLP", settings="hidden=64")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not any("Assignment" in m.value for m in at.markdown)
    with pytest.raises(KeyError):
        at.button(key="assignment_start_from")
