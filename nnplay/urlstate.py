"""Configs ⇄ a flat query-string dict, so a Train page link reproduces its settings.

What lives here: ``to_query`` turns (DataConfig, ModelConfig, TrainConfig) into a flat
``{field: text}`` dict holding only the fields that differ from the defaults (short links such as
``/train?hidden=256,128&lr=0.1``); ``from_query`` reads such a dict back. A bad value in a link
(not a number, an unknown choice, a combination a config refuses) never raises: that field, or
that whole config, falls back to its default and a note says so. ``cli_command`` writes the same
settings as the equivalent ``python -m nnplay train`` line, and ``flat_settings`` gives every
field for comparing runs. What does not live here: widgets and ``st.query_params`` (the page),
validation rules (``config``). No streamlit.
"""

from __future__ import annotations

import dataclasses
import math
import shlex
from collections.abc import Mapping

from .config import DataConfig, ModelConfig, TrainConfig, to_dict

CONFIGS = (DataConfig, ModelConfig, TrainConfig)
# never taken from a link: where files live on the server, and whether it may download
PRIVATE = {"data_dir", "download"}

# how each field is written in a URL: int, float, bool, str, ints ("256,128"),
# int|ints (one number, or one per layer), str|strs (one name, or one per layer), int? (empty = None)
KINDS = {
    "dataset": "str", "train_limit": "int?", "test_limit": "int?",
    "family": "str", "hidden": "ints", "activation": "str|strs", "init": "str", "init_std": "float",
    "init_value": "float", "dropout": "float", "channels": "ints", "kernel_size": "int|ints",
    "stride": "int|ints", "padding": "int|ints", "fc_width": "int",
    "optimizer": "str", "lr": "float", "momentum": "float", "nesterov": "bool", "batch_size": "int",
    "epochs": "int", "weight_decay": "float", "schedule": "str", "step_size": "int", "gamma": "float",
    "seed": "int", "log_every": "int", "max_loss": "float", "device": "str",
}
FIELDS = {cls: [f.name for f in dataclasses.fields(cls) if f.name not in PRIVATE] for cls in CONFIGS}
LABELS = {DataConfig: "data", ModelConfig: "model", TrainConfig: "training"}


def format_value(value) -> str:
    """One field's value as URL text: 256,128 · relu · 0.001 · true · "" for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(format_value(v) for v in value)
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else f"{value:g}"
    return str(value)


def parse_value(text: str, kind: str):
    """URL text back into a field's value; ValueError with a short reason when it is not one."""
    text = text.strip()
    if kind == "int?":
        return None if text in ("", "none", "None") else int(text)
    if kind == "int":
        return int(text)
    if kind == "float":
        value = float(text)
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return value
    if kind == "bool":
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError("expected true or false")
    parts = [p.strip() for p in text.split(",") if p.strip() != ""]
    if kind == "ints":
        return tuple(int(p) for p in parts)
    if kind == "int|ints":
        values = tuple(int(p) for p in parts)
        if not values:
            raise ValueError("expected a number")
        return values[0] if len(values) == 1 else values
    if kind == "str|strs":
        if not parts:
            raise ValueError("expected a name")
        return parts[0] if len(parts) == 1 else tuple(parts)
    return text


def to_query(data_cfg: DataConfig, model_cfg: ModelConfig, train_cfg: TrainConfig) -> dict[str, str]:
    """The fields that differ from their defaults, as ``{name: text}`` (empty for all defaults)."""
    query: dict[str, str] = {}
    for cfg in (data_cfg, model_cfg, train_cfg):
        default = to_dict(type(cfg)())
        values = to_dict(cfg)
        for name in FIELDS[type(cfg)]:
            if values[name] != default[name]:
                query[name] = format_value(values[name])
    return query


def _first(value) -> str:
    # st.query_params gives str; a parsed query string may give a list for repeated keys
    if isinstance(value, (list, tuple)):
        return str(value[-1]) if value else ""
    return str(value)


def from_query(query: Mapping[str, object]) -> tuple[DataConfig, ModelConfig, TrainConfig, list[str]]:
    """Configs from a link's query dict, and notes on whatever had to fall back to a default.

    Unknown keys are ignored (other parts of the app may use the query string). A value that
    does not parse keeps that field's default; a config that refuses the combination becomes
    its default config. Nothing here raises.
    """
    notes: list[str] = []
    configs = []
    for cls in CONFIGS:
        values = to_dict(cls())
        for name in FIELDS[cls]:
            if name not in query:
                continue
            text = _first(query[name])
            try:
                values[name] = parse_value(text, KINDS[name])
            except ValueError:
                notes.append(f"The link's {name}={text!r} is not a valid value; using the default "
                             f"{format_value(values[name]) or 'none'} instead.")
        try:
            configs.append(cls(**values))
        except (ValueError, TypeError) as err:
            notes.append(f"The link's {LABELS[cls]} settings were refused ({err}); using the default "
                         f"{LABELS[cls]} settings instead.")
            configs.append(cls())
    data_cfg, model_cfg, train_cfg = configs
    return data_cfg, model_cfg, train_cfg, notes


def flat_settings(data_cfg: DataConfig, model_cfg: ModelConfig, train_cfg: TrainConfig) -> dict[str, str]:
    """Every public field as text (defaults included): the rows of the runs' compare table."""
    flat: dict[str, str] = {}
    for cfg in (data_cfg, model_cfg, train_cfg):
        values = to_dict(cfg)
        for name in FIELDS[type(cfg)]:
            flat[name] = format_value(values[name])
    return flat


def cli_command(data_cfg: DataConfig, model_cfg: ModelConfig, train_cfg: TrainConfig) -> str:
    """The ``python -m nnplay train`` line that trains the same network headless."""
    query = to_query(data_cfg, model_cfg, train_cfg)
    # the CLI's base is the seed-mlp preset, whose fields are the dataclass defaults
    flags = [f"--{name.replace('_', '-')} {shlex.quote(text)}" for name, text in query.items()]
    return " ".join(["python -m nnplay train --preset seed-mlp", *flags])
