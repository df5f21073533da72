"""The sweep plan: values as lists or ranges, each checked with its field named, grid and random draws, seeds,
readable run names, the run limit, JSON round trip."""

import math

import pytest

from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.sweeps import MAX_RUNS, SETTINGS, Axis, SweepPlan, parse_values, range_values, run_name, seed_values


def test_a_list_of_values_is_read_and_checked():
    assert parse_values("lr", "1e-4, 1e-3;0.01") == (1e-4, 1e-3, 0.01)
    assert parse_values("batch_size", "64 256") == (64, 256)
    assert parse_values("activation", "relu, tanh") == ("relu", "tanh")
    assert parse_values("hidden", "256; 256,128 | 512-256-128") == ((256,), (256, 128), (512, 256, 128))


@pytest.mark.parametrize("setting, text, sentence", [
    ("lr", "0", "Learning rate: 0 is not above 0."),
    ("lr", "1e-3, 20", "Learning rate: 20 is above 10"),
    ("batch_size", "abc", "Batch size: 'abc' is not a whole number."),
    ("batch_size", "64, 0", "Batch size: 0 is below 1."),
    ("batch_size", "6.5", "Batch size: '6.5' is not a whole number."),
    ("epochs", "2000", "Epochs: 2000 is above 1000"),
    ("lr", "", "Learning rate: no values given"),
    ("lr", " , ", "Learning rate: no values given"),
    ("lr", "1e-3, 0.001", "Learning rate: 0.001 is given twice"),
    ("lr", "nan", "Learning rate: nan is not a finite number."),
    ("activation", "relu, swish", "Activation: 'swish' is not one of sigmoid, tanh"),
    ("optimizer", "adam adam", "Optimizer: adam is given twice"),
    ("width", "0", "Width: 0 is below 1."),
    ("width", "9000", "Width: 9000 is above 8192"),
    ("dropout", "1", "Dropout: 1 is not below 1."),
    ("momentum", "0.9, -0.1", "Momentum: -0.1 is below 0."),
    ("hidden", "256; 0", "Hidden sizes: a layer of width 0"),
    ("hidden", "256; a", "Hidden sizes: 'a' is not layer widths"),
])
def test_a_bad_list_gets_a_sentence_naming_the_field(setting, text, sentence):
    with pytest.raises(ValueError) as err:
        Axis.of_list(setting, text)
    assert str(err.value).startswith(sentence)


def test_a_range_on_a_log_or_linear_scale():
    assert range_values("lr", 1e-4, 1e-1, 4, "log") == (1e-4, 1e-3, 1e-2, 1e-1)
    assert range_values("batch_size", 32, 512, 5, "log") == (32, 64, 128, 256, 512)
    assert range_values("dropout", 0, 0.5, 3, "linear") == (0.0, 0.25, 0.5)
    axis = Axis.of_range("epochs", 1, 4, 4, "linear")
    assert axis.values == (1, 2, 3, 4) and axis.is_range


@pytest.mark.parametrize("args, sentence", [
    (("lr", 0.1, 0.001, 3, "log"), "Learning rate: the range's ends are swapped (from 0.1 to 0.001)"),
    (("lr", 0, 0.1, 3, "log"), "Learning rate: 0 is not above 0."),
    (("dropout", 0, 0.5, 3, "log"), "Dropout: a log scale cannot start at 0"),
    (("lr", 1e-3, 1e-3, 3, "log"), "Learning rate: the range's ends are both 0.001"),
    (("lr", 1e-4, 1e-2, 1, "log"), "Learning rate: a range needs a count of at least 2"),
    (("batch_size", 16, 20, 10, "linear"), "Batch size: 10 whole numbers from 16 to 20 on a linear scale give some "
                                          "twice"),
    (("activation", 0, 1, 2, "linear"), "Activation: a range needs numbers"),
    (("lr", 1e-4, 1e-2, 3, "cubic"), "Learning rate: a range's scale is log or linear"),
])
def test_a_bad_range_gets_a_sentence_naming_the_field(args, sentence):
    with pytest.raises(ValueError) as err:
        Axis.of_range(*args)
    assert str(err.value).startswith(sentence)


def test_a_grid_expands_into_named_runs_with_each_seed():
    plan = SweepPlan((Axis.of_list("lr", "1e-4, 1e-3, 1e-2"), Axis.of_list("batch_size", "64, 256")),
                     DataConfig(train_limit=500), ModelConfig(hidden=(32,)), TrainConfig(epochs=2),
                     seeds=seed_values(3, first=1))
    runs = plan.expand()
    assert plan.count() == len(runs) == 3 * 2 * 3
    assert runs[0].name == "lr=0.0001 bs=64 seed=1" and runs[-1].name == "lr=0.01 bs=256 seed=3"
    assert len({r.name for r in runs}) == len({r.key for r in runs}) == 18
    r = runs[5]  # lr 1e-4, bs 256, seed 3
    assert (r.train.lr, r.train.batch_size, r.train.seed, r.train.epochs) == (1e-4, 256, 3, 2)
    assert r.model.hidden == (32,) and r.data.train_limit == 500 and r.settings == {"lr": 1e-4, "batch_size": 256}
    # one seed: the name leaves it out
    one = SweepPlan((Axis.of_list("optimizer", "sgd, adam"),), seeds=(7,)).expand()
    assert [r.name for r in one] == ["opt=sgd", "opt=adam"] and {r.train.seed for r in one} == {7}


def test_width_depth_and_hidden_sizes_set_an_mlps_layers():
    base = ModelConfig(hidden=(64, 32), activation=("tanh", "relu"))
    runs = SweepPlan((Axis.of_list("width", "16, 128"), Axis.of_list("depth", "1, 3")), model=base).expand()
    assert [r.model.hidden for r in runs] == [(16,), (16, 16, 16), (128,), (128, 128, 128)]
    assert all(r.model.activation == "tanh" for r in runs)  # one per layer cannot follow a new depth: the first
    runs = SweepPlan((Axis.of_list("hidden", "8; 8,8"),)).expand()
    assert [r.model.hidden for r in runs] == [(8,), (8, 8)] and runs[1].name == "hidden=8-8"
    runs = SweepPlan((Axis.of_list("family", "mlp, cnn"), Axis.of_list("init", "he, xavier"))).expand()
    assert [(r.model.family, r.model.init) for r in runs] == [("mlp", "he"), ("mlp", "xavier"), ("cnn", "he"),
                                                              ("cnn", "xavier")]
    with pytest.raises(ValueError, match="Width sets an MLP's hidden layers, and the model kind varies"):
        SweepPlan((Axis.of_list("family", "mlp, cnn"), Axis.of_list("width", "8, 16")))
    with pytest.raises(ValueError, match="Hidden sizes and Width"):
        SweepPlan((Axis.of_list("hidden", "8; 16"), Axis.of_list("width", "8, 16")))


def test_a_combination_the_configs_refuse_names_the_run():
    plan = SweepPlan((Axis.of_list("optimizer", "sgd, adam"),), train=TrainConfig(optimizer="sgd", momentum=0.9,
                                                                                  nesterov=True))
    with pytest.raises(ValueError, match="The run opt=adam cannot train: nesterov needs the sgd optimizer"):
        plan.expand()


def test_more_than_max_runs_is_refused_with_how_many():
    with pytest.raises(ValueError) as err:
        SweepPlan((Axis.of_range("lr", 1e-5, 1, 100), Axis.of_range("width", 100, 8000, 100)))
    assert "This sweep would be 10,000 runs (learning rate (100) × width (100) × seeds (1))" in str(err.value)
    assert f"at most {MAX_RUNS}" in str(err.value)
    with pytest.raises(ValueError, match="would be 600 runs"):
        SweepPlan((Axis.of_range("lr", 1e-5, 1, 200),), seeds=seed_values(3))
    assert SweepPlan((Axis.of_range("lr", 1e-5, 1, 100),), seeds=seed_values(5)).count() == MAX_RUNS


def test_random_draws_are_repeatable_spread_over_ranges_and_distinct():
    axes = (Axis.of_range("lr", 1e-4, 1e-1, 4, "log"), Axis.of_list("activation", "relu, tanh"),
            Axis.of_range("batch_size", 16, 512, 3, "log"))
    plan = SweepPlan(axes, mode="random", draws=40, draw_seed=3, seeds=seed_values(2))
    runs = plan.expand()
    assert plan.count() == len(runs) == 80
    assert [r.name for r in runs] == [r.name for r in SweepPlan(axes, mode="random", draws=40, draw_seed=3,
                                                                seeds=seed_values(2)).expand()]
    assert [r.name for r in runs] != [r.name for r in SweepPlan(axes, mode="random", draws=40, draw_seed=4,
                                                                seeds=seed_values(2)).expand()]
    lrs = {r.train.lr for r in runs}
    assert len(lrs) == 40 and all(1e-4 <= lr <= 1e-1 for lr in lrs)
    assert len([lr for lr in lrs if lr < 1e-3]) >= 5  # log-uniform: a third of the draws in each decade
    assert {r.model.activation for r in runs} == {"relu", "tanh"}
    assert all(16 <= r.train.batch_size <= 512 and isinstance(r.train.batch_size, int) for r in runs)
    with pytest.raises(ValueError, match="only 4 different settings could be drawn"):
        SweepPlan((Axis.of_list("activation", "relu, tanh"), Axis.of_list("init", "he, xavier")), mode="random",
                  draws=5).expand()
    with pytest.raises(ValueError, match="Random draws: give how many"):
        SweepPlan(axes, mode="random", draws=0)


def test_seeds_and_eta_are_checked():
    axes = (Axis.of_list("lr", "1e-3"),)
    with pytest.raises(ValueError, match="Seeds: give at least one seed."):
        SweepPlan(axes, seeds=())
    with pytest.raises(ValueError, match="Seeds: a seed is given twice"):
        SweepPlan(axes, seeds=(1, 1))
    with pytest.raises(ValueError, match="Seeds: give how many seeds per setting, 1 to 100; got 0"):
        seed_values(0)
    with pytest.raises(ValueError, match="η"):
        SweepPlan(axes, halving=True, eta=1)
    with pytest.raises(ValueError, match="A sweep needs a setting with two or more values, or two or more seeds."):
        SweepPlan(())
    assert [r.name for r in SweepPlan((), seeds=(3, 4)).expand()] == ["seed=3", "seed=4"]
    with pytest.raises(ValueError, match="Learning rate is varied twice"):
        SweepPlan((Axis.of_list("lr", "1e-3"), Axis.of_list("lr", "1e-2")))


def test_the_plan_round_trips_through_json():
    plan = SweepPlan((Axis.of_list("lr", "1e-4, 1e-3"), Axis.of_range("dropout", 0, 0.5, 3, "linear"),
                      Axis.of_list("hidden", "16; 16,8")), DataConfig(train_limit=300, test_limit=100),
                     ModelConfig(hidden=(32,)), TrainConfig(epochs=3), seeds=(4, 5), mode="random", draws=6,
                     draw_seed=9, halving=True, eta=2, name="my sweep")
    back = SweepPlan.from_json(plan.to_json())
    assert back == plan
    assert [(r.name, r.key) for r in back.expand()] == [(r.name, r.key) for r in plan.expand()]
    assert back.axes[0].text == "1e-4, 1e-3" and back.axes[1].scale == "linear"
    with pytest.raises(ValueError, match="not a sweep plan"):
        SweepPlan.from_json("{}")
    with pytest.raises(ValueError, match="newer nnplay"):
        SweepPlan.from_json('{"version": 99, "axes": []}')


def test_every_setting_has_a_label_and_an_example_that_parses():
    for key, setting in SETTINGS.items():
        assert setting.label and setting.short
        assert parse_values(key, setting.example)
    assert run_name({"lr": 0.001, "batch_size": 64}, 1) == "lr=0.001 bs=64 seed=1"
    assert math.isclose(SweepPlan((Axis.of_range("lr", 1e-3, 1e-1, 3),)).expand()[1].train.lr, 1e-2)


def test_a_refusal_names_the_setting_at_fault_for_the_control_beside_it():
    from nnplay.sweeps import PlanError

    cases = [(lambda: Axis.of_list("batch_size", "abc"), "batch_size"),
             (lambda: Axis.of_range("lr", 0.1, 0.001, 3), "lr"),
             (lambda: SweepPlan((Axis.of_list("lr", "1e-3"),), seeds=(1, 1)), "seeds"),
             (lambda: SweepPlan((Axis.of_range("lr", 1e-5, 1, 200),), seeds=seed_values(3)), ""),
             (lambda: SweepPlan((Axis.of_list("lr", "1e-3"),), mode="random", draws=0), "draws")]
    for make, setting in cases:
        with pytest.raises(PlanError) as err:
            make()
        assert err.value.setting == setting and isinstance(err.value, ValueError)


def test_a_sweep_varies_batch_norm_on_and_off_with_the_other_knobs():
    plan = SweepPlan((Axis.of_list("batch_norm", "off, on"), Axis.of_list("augment", "none, elastic")),
                     model=ModelConfig(family="cnn", channels=(4, 8), fc_width=16))
    runs = plan.expand()
    assert [(r.model.batch_norm, r.train.augment) for r in runs] == [
        (False, "none"), (False, "elastic"), (True, "none"), (True, "elastic")]
    assert runs[2].name == "bn=on aug=none" and runs[2].settings["batch_norm"] is True
    back = SweepPlan.from_json(plan.to_json())  # the stored sweep: the same runs after a reload
    assert [(r.name, r.key) for r in back.expand()] == [(r.name, r.key) for r in runs]
    assert parse_values("batch_norm", "True, false") == (True, False)  # the CLI's and the link's words too
    with pytest.raises(ValueError, match="Batch norm: 'maybe' is not on or off"):
        Axis.of_list("batch_norm", "on, maybe")
    with pytest.raises(ValueError, match="Batch norm: a range needs numbers"):
        Axis.of_range("batch_norm", 0, 1, 2)
    with pytest.raises(ValueError, match="Batch norm: on is given twice"):
        Axis.of_list("batch_norm", "on, yes")
    pooled = SweepPlan((Axis.of_list("pool", "max, avg"), Axis.of_list("loss", "cross_entropy, mse")),
                       model=ModelConfig(family="cnn", channels=(4, 8), fc_width=16), mode="random", draws=3, draw_seed=1)
    assert len({(r.model.pool, r.train.loss) for r in pooled.expand()}) == 3


def test_the_sweep_command_takes_batch_norm_as_a_list():
    import argparse

    from nnplay.sweeps.cli import add_sweep_parser, plan_from_args

    parser = argparse.ArgumentParser()
    add_sweep_parser(parser.add_subparsers(dest="command"))
    plan = plan_from_args(parser.parse_args(["sweep", "--batch-norm", "false,true", "--pool", "max,avg",
                                             "--family", "cnn", "--epochs", "1"]))
    assert {a.setting: a.values for a in plan.axes} == {"batch_norm": (False, True), "pool": ("max", "avg")}
    one = plan_from_args(parser.parse_args(["sweep", "--batch-norm", "on", "--lr", "1e-3,1e-2"]))
    assert one.model.batch_norm is True and [a.setting for a in one.axes] == ["lr"]  # one value: every run


def test_the_best_setting_is_the_best_mean_and_of_equal_means_the_one_its_seeds_agree_on():
    from types import SimpleNamespace

    from nnplay.sweeps.summary import best_sentence, by_setting

    def entry(lr, seed, accuracy):
        history = SimpleNamespace(epochs=[SimpleNamespace(test_accuracy=accuracy)])
        return {"lr": lr}, seed, SimpleNamespace(status="finished", history=history), False

    entries = [entry(0.1, 0, 0.23), entry(0.1, 1, 0.27), entry(0.01, 0, 0.25), entry(0.01, 1, 0.25),
               entry(0.001, 0, 0.10), entry(0.001, 1, 0.12)]
    rows = by_setting(entries)
    assert [(r["Learning rate"], r["mean test accuracy %"]) for r in rows] == [("0.01", 25.0), ("0.1", 25.0),
                                                                               ("0.001", 11.0)]
    assert best_sentence(rows, markdown=False) == (
        "Best so far: Learning rate 0.01: 25.00% test accuracy (mean of 2 seeds; the seed alone moves it from "
        "25.00% to 25.00%).")
