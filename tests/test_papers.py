"""nnplay.papers: the rows build valid configs with the papers' numbers, a row's seeds add up (mean ± std, match)
from runs kept in the store, and the probes record what each layer takes in and gives out while it trains."""

import math
import statistics

import pytest
import torch

from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.engine import EpochMetrics, History, RunStart, StepEvent, seeded_model
from nnplay.models import build_model
from nnplay.papers import FIGURE_ROWS, ROWS, latest_runs, load_figure, plan_runs, results_table, row_result, save_figure
from nnplay.papers.probes import PERCENTILES, ActivationProbe, activation_layers, probed_training
from nnplay.papers.rows import cite
from nnplay.papers.studies import STUDY_CONFIGS, run_study
from nnplay.runs import Run, workspace_runs
from nnplay.store import open_store

PAPER_NUMBERS = {
    "lecun-linear": 12.0, "lecun-300": 4.7, "lecun-1000": 4.5, "lecun-300-100": 3.05, "lecun-500-150": 2.95,
    "lecun-lenet-1": 1.7, "lecun-lenet-4": 1.1, "lecun-lenet-5": 0.95, "lecun-lenet-5-distortions": 0.8,
    "srivastava-2x800-logistic": 1.60, "srivastava-dropout-3x1024-logistic": 1.35,
    "srivastava-dropout-3x1024-relu": 1.25, "srivastava-dropout-maxnorm-3x1024-relu": 1.06,
}
LENET = [k for k in PAPER_NUMBERS if "lenet" in k]


def test_every_row_of_the_issue_is_there_with_the_papers_number():
    assert {k: r.paper_error for k, r in ROWS.items()} == PAPER_NUMBERS
    for row in ROWS.values():
        assert row.setup and row.note and row.where and row.paper
    assert set(FIGURE_ROWS) == {"glorot", "ioffe", "he", "smith"} == set(STUDY_CONFIGS)


def test_cite_names_the_first_author_and_the_year():
    assert cite(ROWS["lecun-300"].paper) == "LeCun et al. 1998"
    assert cite(FIGURE_ROWS["glorot"].paper) == "Glorot & Bengio 2010"
    assert cite(FIGURE_ROWS["smith"].paper) == "Smith 2017"


@pytest.mark.parametrize("key", [k for k in PAPER_NUMBERS if k not in LENET])
def test_a_rows_configs_are_valid_and_build_a_model(key):
    data, model_cfg, train_cfg = ROWS[key].configs(seed=2)
    assert isinstance(data, DataConfig) and isinstance(model_cfg, ModelConfig) and isinstance(train_cfg, TrainConfig)
    assert train_cfg.seed == 2 and train_cfg.epochs <= 10  # a CPU's budget
    assert build_model(model_cfg)(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_the_rows_use_the_papers_knobs():
    assert ROWS["lecun-300"].configs()[2].loss == "mse"
    assert ROWS["lecun-300-100"].configs()[1].hidden == (300, 100)
    assert ROWS["srivastava-dropout-maxnorm-3x1024-relu"].configs()[2].max_norm == 3.0
    assert ROWS["srivastava-dropout-3x1024-logistic"].configs()[1].activation == "sigmoid"


@pytest.mark.parametrize("key", LENET)
def test_lenet_rows_build_from_the_lenet_5_preset(key):
    """Needs the knobs' ``lenet-5`` preset and tuple fc widths (issue 25's other half)."""
    data, model_cfg, train_cfg = ROWS[key].configs()
    assert model_cfg.family == "cnn" and model_cfg.pool == "avg"
    assert build_model(model_cfg)(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    if key.endswith("distortions"):
        assert train_cfg.augment == "affine"


# -- results ------------------------------------------------------------------------------------


def _finished(name: str, accuracy: float, group: str, created: float, seconds: float = 4.0) -> Run:
    """A finished run with one epoch at ``accuracy``, kept in the store under ``group``."""
    h = History()
    h(RunStart(1, 10, 1000, 100, 100, "cpu"))
    h(EpochMetrics(1, 0.5, 0.9, 0.4, accuracy, seconds, 1.0, 100.0, 10, 1e-3, "cpu"))
    run = Run(name, DataConfig(), ModelConfig(), TrainConfig(), history=h, status="finished", created=created)
    run.bind(open_store(), "local", kind="sweep", group=group)
    return run


def test_a_rows_result_is_the_mean_and_sample_std_of_its_finished_seeds_read_back_from_the_store():
    row = ROWS["lecun-300-100"]
    old = "papers/lecun-300-100/2026-01-01 00:00:00"
    new = "papers/lecun-300-100/2026-01-02 00:00:00"
    _finished("old", 0.5, old, 1.0)
    accuracies = [0.969, 0.967, 0.971]
    for i, a in enumerate(accuracies):
        _finished(f"seed {i}", a, new, 10.0 + i)
    _finished("another row", 0.9, "papers/lecun-300/x", 20.0)
    runs = workspace_runs(open_store(), "local", kinds=("sweep",))  # what the page reads, after a reload too
    mine = latest_runs(runs, row.key)
    assert [r.name for r in mine] == ["seed 0", "seed 1", "seed 2"]
    result = row_result(row, mine)
    errors = [100 * (1 - a) for a in accuracies]
    assert result.finished == 3 and math.isclose(result.mean, statistics.mean(errors))
    assert math.isclose(result.std, statistics.stdev(errors))
    assert math.isclose(result.seconds, 5.0)  # 4 s of training and 1 s of evaluation per seed
    assert result.matches is True and result.match_text() == "yes"  # 3.10 ≤ 3.05 + 2 × 0.2
    table = results_table([row], runs)
    assert table[0]["nnplay error %"] == f"{result.mean:.2f} ± {result.std:.2f} % (3 seeds)"
    assert table[0]["matches"] == "yes" and table[0]["paper error %"] == 3.05


def test_a_row_misses_when_its_mean_is_above_the_paper_plus_twice_the_spread():
    row = ROWS["lecun-300-100"]
    runs = [_finished(f"s{i}", a, "papers/lecun-300-100/t", float(i)) for i, a in enumerate([0.95, 0.951])]
    result = row_result(row, runs)
    assert result.matches is False and result.match_text().startswith("no (+")
    better = row_result(ROWS["lecun-linear"], runs)
    assert better.matches is True and better.match_text() == "yes (better)"


def test_a_row_with_no_finished_seed_has_no_number_and_one_seed_has_no_spread():
    row = ROWS["lecun-300"]
    queued = Run("q", DataConfig(), ModelConfig(), TrainConfig())
    assert row_result(row, [queued]).mean is None and row_result(row, [queued]).matches is None
    assert row_result(row, [queued]).spread_text() == "1 training"
    assert row_result(row, []).spread_text() == "not run yet"
    one = row_result(row, [_finished("s", 0.96, "papers/lecun-300/t", 1.0)])
    assert one.std == 0.0 and one.finished == 1


def test_plan_runs_makes_one_run_per_seed_in_one_new_group():
    group, runs = plan_runs(ROWS["lecun-300"], 3)
    assert group.startswith("papers/lecun-300/")
    assert [r.train_cfg.seed for r in runs] == [0, 1, 2] and all(r.status == "queued" for r in runs)
    with pytest.raises(ValueError, match="seeds"):
        plan_runs(ROWS["lecun-300"], 0)


def test_a_figures_result_is_kept_in_the_workspaces_settings():
    store = open_store()
    assert load_figure(store, "local", "ioffe") is None
    save_figure(store, "local", "ioffe", {"variants": {"a": {"steps": [0, 5]}}})
    again = load_figure(open_store(), "local", "ioffe")
    assert again["variants"] == {"a": {"steps": [0, 5]}} and again["made"] > 0
    assert load_figure(store, "another", "ioffe") is None


# -- probes -------------------------------------------------------------------------------------


def test_the_probe_records_each_layers_activations_and_one_units_input_against_a_hand_computation(tiny_data):
    model = seeded_model(ModelConfig(hidden=(6, 5), activation="sigmoid"), 0)
    images, labels = tiny_data.test_images[:40], tiny_data.test_labels[:40]
    probe = ActivationProbe(model, images, labels, every=3, unit=1)
    assert [n for n, _ in activation_layers(model)] == ["act_1", "act_2"]
    probe.take(0)
    x = images.float().div(255)  # data.normalise
    with torch.no_grad():
        z1 = model.lin_1(x.flatten(1))
        a1 = torch.sigmoid(z1)
        z2 = model.lin_2(a1)
        a2 = torch.sigmoid(z2)
        logits = model.lin_3(a2)
    stats = probe.records["layers"]
    assert math.isclose(stats["act_1"]["mean"][0], a1.mean().item(), rel_tol=1e-4)
    assert math.isclose(stats["act_2"]["std"][0], a2.std().item(), rel_tol=1e-4)
    assert math.isclose(stats["act_2"]["input_mean"][0], z2.mean().item(), rel_tol=1e-4, abs_tol=1e-6)
    for p in PERCENTILES:
        assert math.isclose(stats["act_2"][f"input_p{p}"][0], torch.quantile(z2[:, 1], p / 100).item(), rel_tol=1e-4)
    assert math.isclose(probe.records["accuracy"][0], (logits.argmax(1) == labels).float().mean().item())
    assert all(not m._forward_hooks for m in model.modules())  # the hooks are gone after each probe


def test_the_probe_listens_to_the_engine_every_n_steps(tiny_data):
    records = probed_training(ModelConfig(hidden=(8, 8, 8), activation="sigmoid"),
                              TrainConfig(optimizer="sgd", lr=0.1, batch_size=50), tiny_data, steps=12, every=4,
                              probe_images=30)
    assert records["status"] == "finished"
    assert records["steps"] == [0, 4, 8, 12] and len(records["accuracy"]) == 4
    assert records["loss_steps"] == list(range(1, 13))
    assert set(records["layers"]) == {"act_1", "act_2", "act_3"}
    assert all(len(v) == 4 for v in records["layers"]["act_3"].values())
    with pytest.raises(ValueError):
        ActivationProbe(seeded_model(ModelConfig(hidden=()), 0), tiny_data.test_images[:4],
                        tiny_data.test_labels[:4], every=1)


@pytest.mark.slow
def test_a_figure_study_returns_its_variants_and_an_unknown_one_is_refused(tiny_data):
    result = run_study("he", tiny_data, "tiny")
    assert set(result["variants"]) == {"Xavier init", "He init"}
    assert len(result["variants"]["He init"]["layers"]) == 20
    with pytest.raises(ValueError, match="no figure row"):
        run_study("nope", tiny_data, "tiny")
    with pytest.raises(ValueError, match="size"):
        run_study("he", tiny_data, "huge")
