"""The Sweeps page in AppTest: build a 3-setting sweep on the sample data, refuse bad input beside its field,
refuse too many runs, start it, watch its table fill, stop it, find it again after a reload and continue it.

Each test drives the page as a learner would (widgets found by ``key=``); runs train in threads of the test
process on a few hundred images of the built-in sample, so the shared CPU stays free.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from nnplay.runs import REGISTRY
from nnplay.store import open_store
from nnplay.sweeps import LIVE, MAX_ACTIVE_SWEEPS, SETTINGS, Halt, load_sweep
from nnplay.ui import sweep_builder as sb

from .conftest import ROOT

PAGE = str(ROOT / "pages" / "sweeps.py")


def _page(query: dict | None = None) -> AppTest:
    """The page with tiny runs: 1 epoch on 300 training and 100 test images."""
    at = AppTest.from_file(PAGE, default_timeout=90)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    at.text_input(key="sweep_epochs").set_value("1")
    at.text_input(key="sweep_train_limit").set_value("300")
    at.text_input(key="sweep_test_limit").set_value("100").run()
    assert not at.exception
    return at


def _three_settings(at: AppTest, seeds: int = 1) -> AppTest:
    at.multiselect(key="sweep_vary").set_value(["lr", "batch_size", "activation"]).run()
    at.text_input(key="sweep_values_lr").set_value("1e-3, 1e-2")
    at.text_input(key="sweep_values_batch_size").set_value("64")
    at.text_input(key="sweep_values_activation").set_value("relu, tanh")
    at.text_input(key="sweep_seeds").set_value(str(seeds)).run()
    assert not at.exception
    return at


def _text(at: AppTest) -> str:
    return "\n".join(e.value for e in [*at.markdown, *at.caption, *at.info, *at.warning])


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _start(at: AppTest) -> str:
    assert at.button(key="sweep_start").disabled is False
    at.button(key="sweep_start").click().run()
    assert not at.exception
    sweep_id = at.query_params["sweep"][0] if isinstance(at.query_params["sweep"], list) else at.query_params["sweep"]
    assert sweep_id
    return sweep_id


def _finish(at: AppTest, sweep_id: str, deadline_s: float = 180.0):
    sweep = load_sweep(open_store(), sweep_id)
    assert sweep.wait(deadline_s), "the sweep did not finish in time"
    at.run()
    assert not at.exception
    return sweep


def _walk(node):
    """The page's elements in the order they are drawn (into columns too)."""
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _assert_beside(at: AppTest, label: str, said: str) -> None:
    """The refusal is drawn under its setting's row: after its label, before the next setting's."""
    nodes = list(_walk(at.main))
    labels = [i for i, n in enumerate(nodes) if getattr(n, "type", "") == "markdown"
              and n.value in {f"**{s.label}**" for s in SETTINGS.values()}]
    mine = next(i for i in labels if nodes[i].value == f"**{label}**")
    error = next(i for i, n in enumerate(nodes) if getattr(n, "type", "") == "error" and said in n.value)
    assert mine < error < min([i for i in labels if i > mine] or [len(nodes)])


def _picker(at: AppTest):
    """The list of the workspace's sweeps (no key: a new widget whenever the sweep shown changes)."""
    return next(s for s in at.selectbox if s.label == "Sweep")


def _progress(at: AppTest) -> str:
    return "\n".join(p.proto.text for p in at.get("progress"))


def _table(at: AppTest):
    return at.dataframe[0].value  # the one table of the page: the sweep's runs


def test_a_three_setting_sweep_says_how_many_runs_and_that_there_is_no_estimate_yet():
    at = _three_settings(_page(), seeds=2)
    text = _text(at)
    assert "**8 runs**" in text
    assert "learning rate (2) × batch size (1) × activation (2) × seeds (2)" in text
    assert "no estimate yet: train one run first" in text
    assert not _errors(at)
    assert at.button(key="sweep_start").disabled is False
    assert at.toggle(key="sweep_early").value is False  # early stopping: off by default


def test_batch_norm_is_varied_on_the_page_as_a_list_of_on_and_off():
    at = _page()
    at.multiselect(key="sweep_vary").set_value(["batch_norm", "augment"]).run()
    assert at.text_input(key="sweep_values_batch_norm").value == "off, on"  # its example, as a list
    assert not at.segmented_control(key="sweep_kind_batch_norm").options[1:]  # no range of on and off
    at.text_input(key="sweep_values_augment").set_value("none, elastic").run()
    assert not at.exception and not _errors(at)
    assert "**4 runs**" in _text(at) and "batch norm (2) × augmentation (2)" in _text(at)
    at.text_input(key="sweep_values_batch_norm").set_value("on, sometimes").run()
    assert [e for e in _errors(at) if "Batch norm: 'sometimes' is not on or off." in e]


@pytest.mark.parametrize("field, set_bad, said", [
    ("lr", lambda at: at.text_input(key="sweep_values_lr").set_value("1e-3, 0"), "Learning rate: 0 is not above 0."),
    ("lr", lambda at: at.text_input(key="sweep_values_lr").set_value(""), "Learning rate: no values given"),
    ("lr", lambda at: at.text_input(key="sweep_values_lr").set_value("1e-3, fast"),
     "Learning rate: 'fast' is not a number."),
    ("batch_size", lambda at: at.text_input(key="sweep_values_batch_size").set_value("64, 6.5"),
     "Batch size: '6.5' is not a whole number."),
    ("activation", lambda at: at.text_input(key="sweep_values_activation").set_value("relu, swish"),
     "Activation: 'swish' is not one of"),
])
def test_a_bad_value_is_refused_beside_its_field_and_start_is_disabled(field, set_bad, said):
    at = _three_settings(_page())
    set_bad(at)
    at.run()
    assert not at.exception
    errors = _errors(at)
    assert len(errors) == 1 and said in errors[0], errors
    assert at.button(key="sweep_start").disabled is True
    # beside its field: the refusal is drawn right after that setting's row, before the next setting's
    assert errors[0].startswith(SETTINGS[field].label)
    _assert_beside(at, SETTINGS[field].label, said)


def test_a_range_with_swapped_ends_is_refused_with_a_sentence():
    at = _page()
    at.multiselect(key="sweep_vary").set_value(["lr"]).run()
    at.segmented_control(key="sweep_kind_lr").set_value("range").run()
    at.number_input(key="sweep_low_lr").set_value(0.1)
    at.number_input(key="sweep_high_lr").set_value(0.001).run()
    assert not at.exception
    assert any("the range's ends are swapped" in e for e in _errors(at)), _errors(at)
    assert at.button(key="sweep_start").disabled is True
    at.number_input(key="sweep_low_lr").set_value(0.0001).run()  # fixed: 4 values from 1e-4 to 1e-3 on a log scale
    assert not _errors(at)
    assert "**4 runs**" in _text(at)


def test_more_than_500_runs_is_refused_and_start_stays_disabled():
    at = _page()
    at.multiselect(key="sweep_vary").set_value(["lr", "batch_size"]).run()
    at.text_input(key="sweep_values_lr").set_value(", ".join(f"{i}e-4" for i in range(1, 101)))
    at.text_input(key="sweep_values_batch_size").set_value(", ".join(str(b) for b in range(16, 116)))
    at.run()
    assert not at.exception
    errors = _errors(at)
    assert any("10,000 runs" in e and "at most 500" in e for e in errors), errors
    assert at.button(key="sweep_start").disabled is True


def test_nothing_to_vary_is_refused_and_seeds_alone_make_a_sweep():
    at = _page()
    at.multiselect(key="sweep_vary").set_value([]).run()
    assert _errors(at) == ["A sweep needs a setting with two or more values, or two or more seeds."]
    assert at.button(key="sweep_start").disabled is True
    at.text_input(key="sweep_seeds").set_value("3").run()  # how much the seed alone moves one setting
    assert not _errors(at) and "**3 runs** (seeds (3))" in _text(at)
    assert at.button(key="sweep_start").disabled is False


@pytest.mark.slow
def test_start_queues_the_runs_and_the_table_shows_each_ones_settings_status_and_result(monkeypatch):
    at = _three_settings(_page(), seeds=2)
    sweep_id = _start(at)
    _finish(at, sweep_id)
    table = _table(at)
    assert len(table) == 8
    assert sorted(zip(table["Learning rate"], table["Activation"], table["seed"])) == [
        (lr, act, seed) for lr in ("0.001", "0.01") for act in ("relu", "tanh") for seed in (0, 1)]
    grouped = at.dataframe[1].value  # each setting over its two seeds, best mean first
    assert len(grouped) == 4 and set(grouped["seeds"]) == {2}
    assert list(grouped["mean test accuracy %"]) == sorted(grouped["mean test accuracy %"], reverse=True)
    best = grouped.iloc[0]
    assert (best["lowest %"] <= best["mean test accuracy %"] <= best["highest %"])
    assert (f"{best['mean test accuracy %']:.2f}% test accuracy (mean of 2 seeds; the seed alone moves it from "
            f"{best['lowest %']:.2f}% to {best['highest %']:.2f}%)") in _text(at)
    assert set(table["status"]) == {"finished"}
    assert table["test accuracy %"].between(0, 100).all() and table["test loss"].gt(0).all()
    assert table["test accuracy %"].gt(20).any()  # 1 epoch on 300 images learns something: above chance (10%)
    assert "8 of 8 runs finished" in _progress(at)
    assert "from the epoch times measured here" in _text(at)  # its runs timed this machine: now an estimate
    assert at.button(key="sweep_stop").disabled is True
    opened = []  # the page alone has no navigation to switch in: the switch it asks for
    monkeypatch.setattr(streamlit, "switch_page", lambda page, query_params=None: opened.append((page, query_params)))
    at.button(key="sweep_compare").click().run()
    assert not at.exception
    assert opened == [(str(ROOT / "pages" / "compare.py"), {"sweep": sweep_id})]  # in this tab, this sweep's runs


@pytest.mark.slow
def test_a_reload_finds_the_sweep_from_its_link_and_a_new_one_is_listed():
    at = _three_settings(_page())
    first = _start(at)
    _finish(at, first)
    again = _page({"sweep": first})  # a reload: a new session, the link in the address bar
    assert _picker(again).value == first
    assert len(_table(again)) == 4
    assert set(_table(again)["status"]) == {"finished"}
    at.text_input(key="sweep_values_activation").set_value("relu").run()
    second = _start(at)
    _finish(at, second)
    assert _picker(at).value == second
    assert _picker(at).options[1:] and len(_picker(at).options) == 2
    _picker(at).set_value(first).run()  # pick the older one from the list
    assert len(_table(at)) == 4


@pytest.mark.slow
def test_stop_keeps_what_finished_and_continue_queues_only_what_is_missing():
    at = _page()
    at.multiselect(key="sweep_vary").set_value(["epochs", "lr"]).run()
    at.text_input(key="sweep_values_epochs").set_value("1, 500")  # the 500-epoch runs are still training at Stop
    at.text_input(key="sweep_values_lr").set_value("1e-3, 1e-2").run()
    sweep_id = _start(at)
    sweep = load_sweep(open_store(), sweep_id)
    short = [r for r in sweep.runs if r.train_cfg.epochs == 1]
    for run in short:
        assert run.wait(120)
    at.button(key="sweep_stop").click().run()
    assert sweep.wait(60)
    at.run()
    assert not at.exception
    table = _table(at)
    assert list(table["status"]) == ["finished", "finished", "stopped", "stopped"]  # the plan's order: epochs first
    assert "2 of 4 runs finished · 2 stopped" in _progress(at)
    finished = {r.id for r in short}
    assert at.button(key="sweep_continue").label == "Continue the sweep (2 runs)"
    at.button(key="sweep_continue").click().run()
    assert not at.exception
    sweep = load_sweep(open_store(), sweep_id)
    assert finished <= {r.id for r in sweep.runs}  # what had finished is kept, not trained again
    again = [r for r in sweep.runs if r.id not in finished]
    assert len(again) == 2 and all(r.active and r.train_cfg.epochs == 500 for r in again)
    at.button(key="sweep_stop").click().run()
    assert sweep.wait(60)


@pytest.mark.slow
def test_after_a_restart_the_unfinished_runs_show_as_interrupted_and_continue_finishes_them():
    """A sweep left by a server that stopped: one run finished, one interrupted, one never kept."""
    at = _three_settings(_page())
    at.text_input(key="sweep_values_activation").set_value("relu").run()
    at.text_input(key="sweep_values_lr").set_value("1e-3, 3e-3, 1e-2").run()
    sweep_id = _start(at)
    sweep = _finish(at, sweep_id)
    s = open_store()
    kept = sweep.runs[0].id
    s.set_status(sweep.runs[1].id, "interrupted", "the server stopped while it trained")
    s.delete(sweep.runs[2].id)
    LIVE.clear()  # a new process: nothing of the sweep is live
    REGISTRY.clear()
    after = _page({"sweep": sweep_id})
    table = _table(after)
    assert list(table["status"]) == ["finished", "interrupted", "not started"]
    assert table["why"][1] == "the server stopped while it trained"
    assert "Continue the sweep** queues only what is missing" in _text(after)
    after.button(key="sweep_continue").click().run()
    assert not after.exception
    again = _finish(after, sweep_id)
    assert set(_table(after)["status"]) == {"finished"}
    assert kept in {r.id for r in again.runs}


def test_a_run_stopped_by_successive_halving_says_so_and_why_in_the_table():
    run = SimpleNamespace(status="stopped", history=SimpleNamespace(epochs=[]),
                          message=Halt("r1", 1, 0.5, 0.8, 6, 3).sentence() + " It stopped at step 12.")
    early = sb.halted(run)
    rows = sb.sweep_rows([({"lr": 1e-5}, 0, run, early), ({"lr": 1e-3}, 0, None, "")])
    assert rows[0]["status"] == "stopped early"
    assert rows[0]["why"].startswith("at epoch 1 its test accuracy 50.0% was below the top third (≥ 80.0%) of the "
                                     "6 runs")
    assert rows[0]["Learning rate"] == "1e-05" and rows[1]["status"] == "not started"


@pytest.mark.slow
def test_a_sweep_past_the_workspaces_limit_of_training_sweeps_is_refused_with_a_sentence_and_nothing_queued():
    at = _page()
    at.multiselect(key="sweep_vary").set_value(["epochs"]).run()
    at.text_input(key="sweep_values_epochs").set_value("500, 400").run()  # long: still training at the 4th Start
    started = [_start(at) for _ in range(MAX_ACTIVE_SWEEPS)]
    try:
        at.button(key="sweep_start").click().run()
        assert not at.exception
        said = [w.value for w in at.warning]
        assert any(f"at most {MAX_ACTIVE_SWEEPS} train at once" in w for w in said), said
        assert len(open_store().list_sweeps("local")) == MAX_ACTIVE_SWEEPS  # nothing queued half
    finally:
        for sweep_id in started:
            sweep = load_sweep(open_store(), sweep_id)
            sweep.stop()
            sweep.wait(60)


@pytest.mark.slow
def test_random_draws_count_the_draws_and_a_range_draws_between_its_ends():
    at = _page()
    at.multiselect(key="sweep_vary").set_value(["lr"]).run()
    at.segmented_control(key="sweep_kind_lr").set_value("range").run()
    at.segmented_control(key="sweep_search").set_value("random").run()
    at.text_input(key="sweep_draws").set_value("5")
    at.text_input(key="sweep_seeds").set_value("2").run()
    assert not at.exception and not _errors(at)
    assert "**10 runs** (5 random draws × seeds (2))" in _text(at)


@pytest.mark.slow
def test_the_train_pages_settings_can_be_the_base_of_a_sweep():
    from nnplay.config import DataConfig, ModelConfig, TrainConfig

    train_page = {"data": DataConfig(), "model": ModelConfig(hidden=(64, 32), activation="tanh"),
                  "train": TrainConfig(optimizer="sgd", lr=0.1, momentum=0.9)}
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.session_state["_train_configs"] = train_page  # what the Train page keeps of its widgets
    at.run()
    assert "the Train page's settings" in at.selectbox(key="sweep_base").options
    at.selectbox(key="sweep_base").set_value(sb.TRAIN_BASE)
    at.text_input(key="sweep_epochs").set_value("1")
    at.text_input(key="sweep_train_limit").set_value("300")
    at.text_input(key="sweep_test_limit").set_value("100")
    at.multiselect(key="sweep_vary").set_value(["lr"]).run()
    at.text_input(key="sweep_values_lr").set_value("0.05, 0.1").run()
    assert not at.exception and not _errors(at)
    sweep = _finish(at, _start(at))
    for run in sweep.runs:  # every run has the Train page's settings but the learning rate, which the sweep varies
        assert (run.model_cfg.hidden, run.model_cfg.activation) == ((64, 32), "tanh")
        assert (run.train_cfg.optimizer, run.train_cfg.momentum, run.train_cfg.epochs) == ("sgd", 0.9, 1)
    assert sorted(r.train_cfg.lr for r in sweep.runs) == [0.05, 0.1]


@pytest.mark.slow
def test_a_reload_while_it_trains_finds_the_sweep_live_and_its_stop_works():
    at = _page()
    at.multiselect(key="sweep_vary").set_value(["epochs"]).run()
    at.text_input(key="sweep_values_epochs").set_value("400, 500").run()
    sweep_id = _start(at)
    again = _page({"sweep": sweep_id})  # a reload: a new session of the same workspace
    assert "running" in _progress(again) or "queued" in _progress(again)
    assert again.button(key="sweep_stop").disabled is False
    again.button(key="sweep_stop").click().run()
    sweep = load_sweep(open_store(), sweep_id)
    assert sweep.wait(60)
    again.run()
    assert set(_table(again)["status"]) == {"stopped"}
    assert again.button(key="sweep_continue").label == "Continue the sweep (2 runs)"


@pytest.mark.slow
def test_a_batch_larger_than_the_training_images_is_refused_beside_batch_size_before_start():
    at = _three_settings(_page())
    at.text_input(key="sweep_values_batch_size").set_value("64, 512").run()  # 300 training images
    assert not at.exception
    errors = _errors(at)
    assert len(errors) == 1 and "is larger than the training set (300 images)" in errors[0], errors
    _assert_beside(at, "Batch size", "is larger than the training set")
    assert at.button(key="sweep_start").disabled is True


@pytest.mark.slow
def test_delete_removes_an_ended_sweep_and_its_runs_and_the_page_shows_the_one_left():
    at = _three_settings(_page())
    at.text_input(key="sweep_values_lr").set_value("1e-3").run()
    ids = []
    for seeds in (1, 2):
        at.text_input(key="sweep_seeds").set_value(str(seeds)).run()
        ids.append(_start(at))
        _finish(at, ids[-1])
    shown = _picker(at).value
    runs = [r.id for r in load_sweep(open_store(), shown).runs]
    at.button(key="sweep_delete").click().run()
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    s = open_store()
    assert s.get_sweep(shown) is None and all(s.get(r) is None for r in runs)
    left = next(i for i in ids if i != shown)
    assert _picker(at).value == left and len(_picker(at).options) == 1


def test_the_estimate_counts_each_runs_start_and_evaluation_not_only_its_epochs(monkeypatch):
    import nnplay.sweeps as sweeps

    # one measured run: its epochs nearly free, 5 s outside them (its start, data load, final evaluation)
    monkeypatch.setattr(sweeps, "measured_runs", lambda store, ws: [sweeps.Measured("mlp", 203_530, 256, 1e-7, 5.0)])
    monkeypatch.setattr(sweeps, "worker_count", lambda: 2)
    at = _page()  # 3 learning rates × 2 batch sizes: 6 runs of 1 epoch on 300 images, 2 at once
    text = _text(at)
    assert "**6 runs**" in text
    assert "about **15 s** here, on 2 workers at once" in text, text  # 6 × 5 s / 2, not the epochs' 0.0 s


@pytest.mark.parametrize("key, typed, said", [
    ("sweep_epochs", "two", "Epochs: write a whole number from 1 to 1,000; got 'two'."),
    ("sweep_epochs", "1e400", "Epochs: write a whole number from 1 to 1,000"),
    ("sweep_train_limit", "0", "Training images: write a whole number from 1 to"),
    ("sweep_seeds", "101", "Seeds per setting: write a whole number from 1 to 100; got '101'."),
    ("sweep_first_seed", "-1", "First seed: write a whole number from 0 to 4,294,967,295"),
])
def test_each_number_box_takes_what_was_typed_and_refuses_a_bad_one_under_it(key, typed, said):
    at = _page()
    at.text_input(key=key).set_value(typed).run()
    assert not at.exception
    errors = _errors(at)
    assert len(errors) == 1 and said in errors[0], errors  # said once, under its box; nothing else
    assert at.button(key="sweep_start").disabled is True
    assert not at.number_input  # the range boxes only: none of these is a number input that drops a value


def test_an_empty_image_box_means_all_images():
    at = _page()
    at.text_input(key="sweep_train_limit").set_value("").run()
    assert not at.exception and not _errors(at)
    assert at.button(key="sweep_start").disabled is False


@pytest.mark.slow
def test_the_first_seed_the_draw_seed_and_eta_reach_the_sweep_it_starts():
    at = _page()
    at.multiselect(key="sweep_vary").set_value(["lr"]).run()
    at.segmented_control(key="sweep_kind_lr").set_value("range").run()
    at.segmented_control(key="sweep_search").set_value("random").run()
    at.toggle(key="sweep_early").set_value(True).run()
    at.text_input(key="sweep_draws").set_value("3")
    at.text_input(key="sweep_draw_seed").set_value("7")
    at.text_input(key="sweep_seeds").set_value("2")
    at.text_input(key="sweep_first_seed").set_value("40")
    at.text_input(key="sweep_eta").set_value("2").run()
    assert not at.exception and not _errors(at)
    assert "**6 runs** (3 random draws × seeds (2))" in _text(at)
    at.text_input(key="sweep_eta").set_value("1").run()  # halving keeps the top 1/η: η of 1 keeps them all
    assert [e for e in _errors(at) if e.startswith("η: write a whole number from 2 to 10")], _errors(at)
    assert at.button(key="sweep_start").disabled is True
    at.text_input(key="sweep_eta").set_value("2").run()
    sweep_id = _start(at)
    sweep = load_sweep(open_store(), sweep_id)
    try:
        plan = sweep.plan
        assert (plan.seeds, plan.draw_seed, plan.draws, plan.eta, plan.halving) == ((40, 41), 7, 3, 2, True)
        assert sorted({r.train_cfg.seed for r in sweep.runs}) == [40, 41]
    finally:
        sweep.stop()
        sweep.wait(60)
