"""Tests for ``nnplay.urlstate``: the Train page's settings ⇄ a flat query-string dict.

What lives here: round trips of many configs (presets, per-layer values, CNN tuples, subsets,
small floats), the short form (only non-default fields), bad links that fall back to defaults
with a note and never raise (including a seeded fuzz over every field), and the CLI line checked
against the CLI's own parser. What does not live here: the page's widgets (test_page_train.py).
"""

from __future__ import annotations

import argparse
import random
import shlex

import pytest

from nnplay.cli import add_config_flags, configs_from_args
from nnplay.config import PRESETS, DataConfig, ModelConfig, TrainConfig
from nnplay.urlstate import FIELDS, KINDS, cli_command, flat_settings, from_query, to_query

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


@pytest.mark.parametrize("query, label", [
    ({"optimizer": "magic"}, "training"),
    ({"lr": "100"}, "training"),
    ({"nesterov": "true"}, "training"),   # nesterov needs sgd with momentum
    ({"hidden": "256,0"}, "model"),
    ({"dataset": "cifar"}, "data"),
    ({"train_limit": "0"}, "data"),
    ({"family": "cnn", "kernel_size": "3,3"}, "model"),  # two kernels for three conv layers
])
def test_a_refused_combination_falls_back_to_that_configs_defaults(query, label):
    data, model, train, notes = from_query(query)
    assert len(notes) == 1 and f"link's {label} settings were refused" in notes[0]
    assert (data, model, train) == (DataConfig(), ModelConfig(), TrainConfig())


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
