"""Tests for ``nnplay.codec``: the configs ⇄ flat text, for links, widgets and CLI flags.

What lives here: round trips of many configs through the link (presets, per-layer values, CNN
tuples, subsets, small floats) and through the widgets' values, the short form (only non-default
fields), bad links whose bad fields alone fall back to defaults with a note and never raise
(including a seeded fuzz over every field), refusals that name their field, the CLI line checked
against the CLI's own parser, and the CLI's --help (whole docstrings, allowed values).
What does not live here: the page's widgets drawn (test_page_train.py).
"""

from __future__ import annotations

import argparse
import random
import shlex

import pytest

from nnplay.cli import add_config_flags, configs_from_args
from nnplay.config import PRESETS, DataConfig, ModelConfig, TrainConfig
from nnplay.codec import (FIELDS, QUICK_TEST, QUICK_TRAIN, KINDS, cli_command, configs_from_widgets, field_docs, flat_settings, from_query,
                          parse_list, parse_value, to_query, widget_values)
from nnplay.config import ConfigError

CASES = [
    (DataConfig(), ModelConfig(), TrainConfig()),
    *[(DataConfig(), p.model, p.train) for p in PRESETS.values()],
    (DataConfig(dataset="fashion-mnist", train_limit=5000, test_limit=1000),
     ModelConfig(hidden=(128, 64, 32), activation=("tanh", "gelu", "relu"), init="normal", init_std=0.02,
                 dropout=0.25),
     TrainConfig(optimizer="sgd", lr=3e-4, momentum=0.9, nesterov=True, batch_size=64, epochs=3,
                 weight_decay=1e-5, schedule="step", step_size=2, gamma=0.5, seed=42, log_every=5, max_loss=50.0,
                 device="cpu")),
    (DataConfig(train_limit=100), ModelConfig(hidden=(), init="constant", init_value=-0.5),
     TrainConfig(optimizer="rmsprop", lr=10.0, schedule="onecycle", epochs=1)),
    (DataConfig(), ModelConfig(family="cnn", channels=(8, 16), kernel_size=(5, 3), stride=(1, 2), padding=(2, 0),
                               fc_width=64, activation=("relu", "leaky_relu")),
     TrainConfig(optimizer="adamw", lr=1e-5, weight_decay=0.01, schedule="cosine")),
]


@pytest.mark.parametrize("configs", CASES)
def test_round_trip(configs):
    query = to_query(*configs)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in query.items())
    *back, notes = from_query(query)
    assert notes == []
    assert tuple(back) == configs


def test_defaults_give_an_empty_query_and_the_seed_mlp_is_the_default():
    assert to_query(DataConfig(), ModelConfig(), TrainConfig()) == {}
    seed = PRESETS["seed-mlp"]
    assert to_query(DataConfig(), seed.model, seed.train) == {}


def test_only_changed_fields_are_written_in_readable_form():
    query = to_query(DataConfig(train_limit=5000), ModelConfig(hidden=(256, 128)),
                     TrainConfig(lr=0.1, nesterov=True, optimizer="sgd", momentum=0.9))
    assert query == {"train_limit": "5000", "hidden": "256,128", "lr": "0.1", "optimizer": "sgd",
                     "momentum": "0.9", "nesterov": "true"}


def test_a_repeated_key_takes_the_last_value_and_unknown_or_private_keys_are_ignored():
    data, model, train, notes = from_query({"lr": ["0.5", "0.01"], "utm_source": "mail",
                                            "data_dir": "/etc", "download": "false"})
    assert train.lr == 0.01 and notes == []
    assert data == DataConfig()  # where files live and whether to download never come from a link


@pytest.mark.parametrize("query, field, words", [
    ({"hidden": "lots"}, "hidden", "hidden='lots' is not a valid value"),
    ({"lr": "fast"}, "lr", "lr='fast'"),
    ({"lr": "nan"}, "lr", "lr='nan'"),
    ({"epochs": "2.5"}, "epochs", "epochs='2.5'"),
    ({"nesterov": "maybe"}, "nesterov", "nesterov='maybe'"),
])
def test_a_value_that_does_not_parse_keeps_its_default(query, field, words):
    data, model, train, notes = from_query({**query, "seed": "5"})
    assert len(notes) == 1 and words in notes[0]
    assert train.seed == 5  # the rest of the link still applies
    defaults = {**vars(DataConfig()), **vars(ModelConfig()), **vars(TrainConfig())}
    assert {**vars(data), **vars(model), **vars(train)}[field] == defaults[field]


@pytest.mark.parametrize("query, label, kept", [
    ({"optimizer": "magic"}, "training", {}),
    ({"lr": "100"}, "training", {}),
    ({"nesterov": "true"}, "training", {}),   # nesterov needs sgd with momentum
    ({"hidden": "256,0"}, "model", {}),
    ({"dataset": "cifar"}, "data", {}),
    ({"train_limit": "0"}, "data", {}),
    # two kernels for three conv layers: only the kernel falls back, the family stays
    ({"family": "cnn", "kernel_size": "3,3"}, "model", {"model": ModelConfig(family="cnn")}),
])
def test_a_refused_value_falls_back_alone(query, label, kept):
    data, model, train, notes = from_query(query)
    assert len(notes) == 1 and f"link's {label} settings were refused" in notes[0]
    assert (data, model, train) == (DataConfig(), kept.get("model", ModelConfig()), TrainConfig())


def test_one_refused_field_leaves_the_rest_of_its_config():
    # before: nesterov without momentum reset every training setting; now only nesterov falls back
    data, model, train, notes = from_query({"optimizer": "sgd", "nesterov": "true", "lr": "0.1", "epochs": "3",
                                            "seed": "99999999999999999999999"})
    assert train == TrainConfig(optimizer="sgd", lr=0.1, epochs=3)
    assert len(notes) == 2
    assert any("for nesterov" in n and "falls back to its default false" in n for n in notes)
    assert any("for seed" in n and "0 to 4,294,967,295" in n for n in notes)


@pytest.mark.parametrize("kwargs, field", [
    ({"seed": 2**32}, "seed"), ({"seed": -1}, "seed"), ({"lr": 0.0}, "lr"), ({"batch_size": 0}, "batch_size"),
    ({"epochs": 0}, "epochs"), ({"gamma": 2.0}, "gamma"), ({"step_size": 0}, "step_size"),
    ({"nesterov": True}, "nesterov"), ({"optimizer": "magic"}, "optimizer"), ({"weight_decay": -1.0}, "weight_decay"),
])
def test_train_config_refusals_name_their_field(kwargs, field):
    with pytest.raises(ConfigError) as info:
        TrainConfig(**kwargs)
    assert info.value.field == field and isinstance(info.value, ValueError)
    TrainConfig(seed=2**32 - 1)  # the largest seed is fine


@pytest.mark.parametrize("kwargs, field", [
    ({"hidden": (256, 0)}, "hidden"), ({"dropout": 1.0}, "dropout"), ({"activation": ("relu", "tanh")}, "activation"),
    ({"family": "cnn", "channels": (0,)}, "channels"), ({"family": "cnn", "kernel_size": (3, 3)}, "kernel_size"),
    ({"family": "cnn", "padding": 20}, "padding"), ({"family": "cnn", "fc_width": 0}, "fc_width"),
    ({"init": "normal", "init_std": 0.0}, "init_std"),
])
def test_model_config_refusals_name_their_field(kwargs, field):
    with pytest.raises(ConfigError) as info:
        ModelConfig(**kwargs)
    assert info.value.field == field


@pytest.mark.parametrize("configs", CASES)
def test_widget_values_round_trip(configs):
    state = widget_values(*configs)
    assert {"train_hidden", "train_lr", "train_batch_size", "train_weight_decay", "train_kernel_size"} <= set(state)
    back, errors = configs_from_widgets(state)
    assert errors == {}
    data, model, train = configs
    if data.train_limit or data.test_limit:  # one "quick subset" switch: a missing limit gets the quick size
        data = DataConfig(dataset=data.dataset, train_limit=data.train_limit or QUICK_TRAIN,
                          test_limit=data.test_limit or QUICK_TEST)
    assert back["data"] == data and back["train"] == train
    # a family's unused fields are not read from the widgets: they come back as defaults
    unused = {"channels", "kernel_size", "stride", "padding", "fc_width"} if model.family == "mlp" else {"hidden"}
    expected = ModelConfig(**{**vars(model), **{n: getattr(ModelConfig(), n) for n in unused}})
    assert back["model"] == expected


def test_widget_refusals_are_keyed_by_field():
    state = widget_values(DataConfig(), ModelConfig(), TrainConfig())
    state.update(train_hidden="256,x", train_seed=99999999999999999999999, train_epochs=0)
    configs, errors = configs_from_widgets(state)
    assert set(errors) == {"hidden", "seed", "epochs"}  # every refused field has its sentence
    assert "whole numbers separated by commas" in errors["hidden"] and "0 to 4,294,967,295" in errors["seed"]
    assert configs == {"data": DataConfig()}
    state.update(train_family="cnn", train_kernel_size="9", train_stride="3", train_seed=0, train_epochs=1)
    configs, errors = configs_from_widgets(state)
    assert list(errors) == ["kernel_size"] and "leaves no pixels" in errors["kernel_size"]


def test_parse_value_and_parse_list_name_the_field():
    assert parse_value("hidden", "256, 128") == (256, 128)
    assert parse_value("kernel_size", "3") == 3 and parse_value("kernel_size", "3,5") == (3, 5)
    assert parse_value("train_limit", "") is None
    for name, text in (("lr", "inf"), ("epochs", "2.5"), ("kernel_size", ""), ("nesterov", "maybe")):
        with pytest.raises(ConfigError) as info:
            parse_value(name, text)
        assert info.value.field == name and repr(text) in str(info.value)
    assert parse_list("0.3, 2.9 4", "x") == (0.3, 2.9, 4.0)
    with pytest.raises(ConfigError, match="'nan' is not a finite number"):
        parse_list("1, nan", "x")


def test_cli_help_has_every_fields_whole_docstring_and_its_choices(capsys):
    from nnplay.cli import main

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    docs = field_docs()
    for cls in (DataConfig, ModelConfig, TrainConfig):
        for name in FIELDS[cls] + (["data_dir", "download"] if cls is DataConfig else []):
            assert " ".join(docs[name].split()) in text, name
    assert "The network's kind: mlp (fully connected)" in text  # no stray quote
    assert "For a CNN it applies to the fully connected layers, as in seed 003." in text  # --init is whole
    for allowed in ("sgd, adam, adamw, rmsprop", "he, xavier, normal, constant, default", "mnist, fashion-mnist",
                    "none, step, cosine, onecycle", "auto, cpu, cuda, mps", "mlp, cnn",
                    "sigmoid, tanh, relu, leaky_relu, gelu, identity"):
        assert f"Allowed: {allowed}." in text or f"separated by commas): {allowed}." in text, allowed


def test_garbage_in_every_field_never_raises():
    rng = random.Random(0)
    alphabet = "0123456789,.-eE xyzNaNinf"
    names = [n for fields in FIELDS.values() for n in fields]
    for _ in range(300):
        query = {n: "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
                 for n in rng.sample(names, rng.randint(1, len(names)))}
        data, model, train, notes = from_query(query)
        assert isinstance(data, DataConfig) and isinstance(model, ModelConfig) and isinstance(train, TrainConfig)


def test_every_public_field_has_a_kind_and_appears_in_flat_settings():
    names = [n for fields in FIELDS.values() for n in fields]
    assert set(names) <= set(KINDS)
    flat = flat_settings(DataConfig(), ModelConfig(), TrainConfig())
    assert list(flat) == names
    assert flat["hidden"] == "256" and flat["lr"] == "0.001" and flat["train_limit"] == ""


@pytest.mark.parametrize("configs", CASES)
def test_the_cli_line_gives_the_same_configs_through_the_cli_parser(configs):
    line = cli_command(*configs)
    words = shlex.split(line)
    assert words[:4] == ["python", "-m", "nnplay", "train"]
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="seed-mlp")
    add_config_flags(parser)
    data, model, train = configs_from_args(parser.parse_args(words[4:]))
    assert (data, model, train) == configs


@pytest.mark.parametrize("data", [DataConfig(extra_data="/srv/runs/ab/your digits.npz", extra_weight=10.0),
                                  DataConfig(train_limit=500, extra_data="tune.npz", extra_weight=2.5, replay=2000),
                                  DataConfig(extra_data="mine.npz", replay=0)])
def test_the_cli_line_of_a_run_on_your_digits_names_them_and_parses_back(data):
    line = cli_command(data, ModelConfig(hidden=(32,)), TrainConfig(epochs=3))
    words = shlex.split(line)
    assert words[words.index("--extra-data") + 1] == data.extra_data
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="seed-mlp")
    add_config_flags(parser)
    assert configs_from_args(parser.parse_args(words[4:])) == (data, ModelConfig(hidden=(32,)), TrainConfig(epochs=3))
    named = shlex.split(cli_command(data, ModelConfig(), TrainConfig(), digits_file="train_digits.npz"))
    assert named[named.index("--extra-data") + 1] == "train_digits.npz"
