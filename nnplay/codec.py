"""The one codec: the three configs ⇄ flat text, for links, widgets and command-line flags.

What lives here: how each public field of ``DataConfig``, ``ModelConfig`` and ``TrainConfig`` is
written as text (``KINDS``, ``format_value``) and read back (``parse_value``, which raises
``ConfigError`` naming the field), and the three places that text goes:
- links: ``to_query`` writes only the fields that differ from the defaults (``/train?hidden=256,128``);
  ``from_query`` reads a link back and never raises: a bad field falls back alone, with a note;
- widgets: ``widget_values`` gives the session-state values (keys ``train_<field>``) that show the
  configs; ``configs_from_widgets`` reads them back, with each refusal under its field's name;
- the command line: ``add_config_flags`` (one ``--flag`` per field, its help the field's whole
  docstring and its allowed values), ``flag_values``, and ``cli_command`` (the same settings as a
  ``python -m nnplay train`` line, with ``--extra-data`` and its weight and replay for a run on your digits).
``flat_settings`` gives every field as text for comparing runs; ``parse_list`` reads a list of
numbers ("0.3, 2.9 4.0") for any page that needs one.
What does not live here: validation rules (``config``), widgets themselves (``pages``), training.
No streamlit, no torch.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import math
import shlex
import typing
from collections.abc import Mapping
from functools import cache

from . import config as config_module
from .config import ConfigError, DataConfig, ModelConfig, TrainConfig, to_dict

CONFIGS = (DataConfig, ModelConfig, TrainConfig)
# never taken from a link or a widget: where files live on the server, and whether it may download; a
# learner's own digits (a file on the server) and how they are mixed in, which the page or the command line sets
PRIVATE = {"data_dir", "download", "extra_data", "extra_weight", "replay"}

# how each field is written: int, float, bool, str, ints ("256,128"), int|ints (one number, or one
# per layer), str|strs (one name, or one per layer), int? (empty = None)
KINDS = {
    "dataset": "str", "train_limit": "int?", "test_limit": "int?",
    "family": "str", "hidden": "ints", "activation": "str|strs", "init": "str", "init_std": "float",
    "init_value": "float", "dropout": "float", "channels": "ints", "kernel_size": "int|ints",
    "stride": "int|ints", "padding": "int|ints", "fc_width": "int|ints", "fc_activation": "str", "batch_norm": "bool", "pool": "str",
    "optimizer": "str", "lr": "float", "momentum": "float", "nesterov": "bool", "batch_size": "int",
    "epochs": "int", "weight_decay": "float", "schedule": "str", "step_size": "int", "gamma": "float",
    "seed": "int", "log_every": "int", "max_loss": "float", "device": "str",
    "loss": "str", "max_norm": "float", "augment": "str", "shift": "float", "rotate": "float", "scale": "float",
    "shear": "float", "elastic_alpha": "float", "elastic_sigma": "float",
    "data_dir": "str?", "download": "bool", "extra_data": "str?", "extra_weight": "float", "replay": "int?",
}
FIELDS = {cls: [f.name for f in dataclasses.fields(cls) if f.name not in PRIVATE] for cls in CONFIGS}
CONFIG_OF = {name: cls for cls in CONFIGS for name in FIELDS[cls]}
LABELS = {DataConfig: "data", ModelConfig: "model", TrainConfig: "training"}
# how a refusal says what to write, by kind
EXPECTED = {
    "int": "a whole number, e.g. 10", "int?": "a whole number, or empty for all",
    "float": "a finite number, e.g. 0.001", "bool": "true or false",
    "ints": "whole numbers separated by commas, e.g. 256,128",
    "int|ints": "one whole number for every layer, or one per layer (e.g. 3 or 3,3,5)",
    "str|strs": "one name, or one per layer separated by commas", "str": "a name", "str?": "a folder",
}
WIDGET_PREFIX = "train_"
# number fields whose widget is a text box: a number box drops a value outside its range (2**53 or more, a
# float too large to be finite, above its max) and keeps the old one without a word, where a text box hands the
# page every value, to accept or refuse with a sentence
TYPED = {"seed", "batch_size", "epochs", "fc_width", "step_size", "log_every", "train_limit", "test_limit",
         "init_std", "init_value", "weight_decay", "gamma", "max_loss", "max_norm"}
QUICK_TRAIN, QUICK_TEST = 5000, 1000  # the quick subset's sizes when a link or preset names none
PER_LAYER, SAME = "per layer", "whole net"  # the activation mode widget's two values


def choices(name: str) -> tuple[str, ...]:
    """The allowed values of a choice field (from its ``Literal`` type), or () for other fields."""
    hint = typing.get_type_hints(CONFIG_OF.get(name, DataConfig)).get(name)
    for candidate in (hint, *typing.get_args(hint)):
        if typing.get_origin(candidate) is typing.Literal:
            return typing.get_args(candidate)
        for inner in typing.get_args(candidate):  # tuple[Literal[...], ...]
            if typing.get_origin(inner) is typing.Literal:
                return typing.get_args(inner)
    return ()


# ---------------------------------------------------------------------------------------------
# values ⇄ text


def format_value(value) -> str:
    """One field's value as text: 256,128 · relu · 0.001 · true · "" for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(format_value(v) for v in value)
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else f"{value:g}"
    return str(value)


def split_list(text: str) -> list[str]:
    """ "256, 128" · "0.3 2.9;4" → the entries (commas, semicolons or spaces separate them)."""
    return text.replace(",", " ").replace(";", " ").split()


def _number(text: str, number: type):
    value = number(text)
    if number is float and not math.isfinite(value):
        raise ValueError("not finite")
    return value


def parse_list(text: str, field: str, number: type = float) -> tuple:
    """A list of numbers (``float`` or ``int``) from text; ConfigError naming ``field`` and the bad entry."""
    values = []
    for part in split_list(text):
        try:
            values.append(_number(part, number))
        except ValueError:
            what = "a whole number" if number is int else "a finite number"
            raise ConfigError(field, f"{field}: {part!r} is not {what}.") from None
    return tuple(values)


def parse_value(name: str, text: str):
    """A field's text back into its value; ConfigError(name, what to write) when it is not one."""
    kind = KINDS[name]
    text = str(text).strip()
    try:
        if kind in ("int?", "str?") and text.lower() in ("", "none"):
            return None
        if kind in ("int", "int?"):
            return int(text)
        if kind == "float":
            return _number(text, float)
        if kind == "bool":
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        parts = split_list(text)
        if kind == "ints":
            return tuple(int(p) for p in parts)
        if kind == "int|ints":
            values = tuple(int(p) for p in parts)
            if not values:
                raise ValueError(text)
            return values[0] if len(values) == 1 else values
        if kind == "str|strs":
            if not parts:
                raise ValueError(text)
            return parts[0] if len(parts) == 1 else tuple(parts)
        return text
    except ValueError:
        shown = text if len(text) <= 40 else text[:39] + "…"  # a pasted page of digits is not printed whole
        raise ConfigError(name, f"{name.replace('_', ' ')}: write {EXPECTED[kind]}; got {shown!r}.") from None


# ---------------------------------------------------------------------------------------------
# links


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


def _last(value) -> str:
    # st.query_params gives str; a parsed query string may give a list for repeated keys
    if isinstance(value, (list, tuple)):
        return str(value[-1]) if value else ""
    return str(value)


def from_query(query: Mapping[str, object]) -> tuple[DataConfig, ModelConfig, TrainConfig, list[str]]:
    """Configs from a link's query dict, and notes on each field that had to fall back to its default.

    Unknown keys are ignored (other parts of the app may use the query string). A value that does
    not parse keeps that field's default; a value a config refuses (alone or in combination) is
    reset to its default, that field only, and the rest is tried again. Nothing here raises.
    """
    notes: list[str] = []
    configs = []
    for cls in CONFIGS:
        default = to_dict(cls())
        values = dict(default)
        given: set[str] = set()
        for name in FIELDS[cls]:
            if name not in query:
                continue
            text = _last(query[name])
            try:
                values[name] = parse_value(name, text)
                given.add(name)
            except ConfigError as err:
                notes.append(f"The link's {name}={text!r} is not a valid value ({err}); using the default "
                             f"{format_value(default[name]) or 'none'} instead.")
        configs.append(_fall_back_per_field(cls, values, default, given, notes))
    data_cfg, model_cfg, train_cfg = configs
    return data_cfg, model_cfg, train_cfg, notes


def _fall_back_per_field(cls, values: dict, default: dict, given: set[str], notes: list[str]):
    """``cls(**values)``, resetting each field the config refuses to its default (with a note)."""
    label = LABELS[cls]
    while True:
        try:
            return cls(**values)
        except ConfigError as err:
            if err.field not in given:  # the refusal names a field the link did not set: start over
                notes.append(f"The link's {label} settings were refused ({err}); using the default "
                             f"{label} settings instead.")
                return cls()
            notes.append(f"The link's {label} settings were refused for {err.field} ({err}); {err.field} "
                         f"falls back to its default {format_value(default[err.field]) or 'none'}.")
            values[err.field] = default[err.field]
            given.discard(err.field)
        except (ValueError, TypeError) as err:
            notes.append(f"The link's {label} settings were refused ({err}); using the default {label} "
                         f"settings instead.")
            return cls()


def flat_settings(data_cfg: DataConfig, model_cfg: ModelConfig, train_cfg: TrainConfig) -> dict[str, str]:
    """Every public field as text (defaults included): the rows of the runs' compare table."""
    flat: dict[str, str] = {}
    for cfg in (data_cfg, model_cfg, train_cfg):
        values = to_dict(cfg)
        for name in FIELDS[type(cfg)]:
            flat[name] = format_value(values[name])
    return flat


# ---------------------------------------------------------------------------------------------
# widgets


def widget_key(name: str, prefix: str = WIDGET_PREFIX) -> str:
    """The session-state key of a field's widget: ``train_hidden``, ``train_lr``, …"""
    return prefix + name


def widget_values(data_cfg: DataConfig, model_cfg: ModelConfig, train_cfg: TrainConfig,
                  prefix: str = WIDGET_PREFIX) -> dict:
    """Session-state values that make the widgets show these configs.

    Every public field has the key ``<prefix><field>``: list fields and the ``TYPED`` numbers are text
    ("256,128", "7"), other numbers are numbers. Three widget-only keys go with them: ``<prefix>quick`` (a data subset is used),
    ``<prefix>act_mode`` (``SAME`` or ``PER_LAYER``) and ``<prefix>act_<i>`` (layer i's activation).
    """
    values: dict = {}
    for cfg in (data_cfg, model_cfg, train_cfg):
        for name in FIELDS[type(cfg)]:
            value = getattr(cfg, name)
            kind = KINDS[name]
            if kind in ("ints", "int|ints") or name in TYPED:
                value = format_value(value)
            elif kind == "float":
                value = float(value)
            elif kind == "int":
                value = int(value)
            values[widget_key(name, prefix)] = value
    values[widget_key("quick", prefix)] = data_cfg.train_limit is not None or data_cfg.test_limit is not None
    for name, quick in (("train_limit", QUICK_TRAIN), ("test_limit", QUICK_TEST)):
        limit = getattr(data_cfg, name) or quick
        values[widget_key(name, prefix)] = format_value(limit) if name in TYPED else limit
    acts = model_cfg.activations()
    per_layer = not isinstance(model_cfg.activation, str) and len(set(acts)) > 1
    values[widget_key("act_mode", prefix)] = PER_LAYER if per_layer else SAME
    values[widget_key("activation", prefix)] = acts[0] if acts else (
        model_cfg.activation if isinstance(model_cfg.activation, str) else "relu")
    for i, act in enumerate(acts, start=1):
        values[widget_key(f"act_{i}", prefix)] = act
    return values


def _widget_field(state: Mapping, name: str, prefix: str):
    """One field's value from its widget: text is parsed, numbers are cast to the field's kind."""
    raw = state[widget_key(name, prefix)]
    kind = KINDS[name]
    if isinstance(raw, str) and kind not in ("str", "str?"):
        return parse_value(name, raw)
    if kind in ("int", "int?"):
        return None if raw is None else int(raw)
    if kind == "float":
        return float(raw)
    if kind == "bool":
        return bool(raw)
    return raw


def layer_count(state: Mapping, prefix: str = WIDGET_PREFIX) -> int:
    """How many layers the widgets describe (0 while the widths do not parse)."""
    name = "hidden" if state[widget_key("family", prefix)] == "mlp" else "channels"
    try:
        return len(parse_value(name, state[widget_key(name, prefix)]))
    except ConfigError:
        return 0


def configs_from_widgets(state: Mapping, prefix: str = WIDGET_PREFIX) -> tuple[dict[str, object], dict[str, str]]:
    """The configs the widgets show, by ``"data"``/``"model"``/``"train"``, and refusals by field name.

    A field that does not parse, or that its config refuses, is named in the refusals with the
    sentence to show beside its control; its config is then missing from the first dict. Fields a
    family does not use (an MLP's channels, a CNN's hidden widths) are not read.
    """
    from .models import layer_table  # a CNN that runs out of pixels is refused there (lazy: torch)

    configs: dict[str, object] = {}
    errors: dict[str, str] = {}
    family = state[widget_key("family", prefix)]
    skip = {"activation"} | ({"channels", "kernel_size", "stride", "padding", "fc_width", "fc_activation", "pool"}
                              if family == "mlp"
                             else {"hidden"})
    quick = bool(state[widget_key("quick", prefix)])
    for key, cls in (("data", DataConfig), ("model", ModelConfig), ("train", TrainConfig)):
        values = {}
        for name in FIELDS[cls]:
            if name in skip:
                continue
            if name in ("train_limit", "test_limit") and not quick:
                values[name] = None
                continue
            try:
                values[name] = _widget_field(state, name, prefix)
            except ConfigError as err:
                errors[err.field] = str(err)
        if cls is ModelConfig:
            depth = layer_count(state, prefix)
            per_layer = state[widget_key("act_mode", prefix)] == PER_LAYER and depth > 1
            single = state[widget_key("activation", prefix)]
            values["activation"] = (tuple(state.get(widget_key(f"act_{i}", prefix), single)
                                          for i in range(1, depth + 1)) if per_layer else single)
        refused = _refusals(cls, values, errors)
        if refused or any(CONFIG_OF.get(field) is cls for field in errors):
            continue
        cfg = cls(**values)
        try:
            if cls is ModelConfig:
                layer_table(cfg)
            configs[key] = cfg
        except ConfigError as err:
            errors[err.field] = str(err)
    return configs, errors


def _refusals(cls, values: dict, errors: dict[str, str]) -> bool:
    """Record every field ``cls`` refuses in ``errors`` (each refused one is set aside to find the next)."""
    values = dict(values)
    default = to_dict(cls())
    refused = False
    for _ in range(len(values) + 1):
        try:
            cls(**values)
            return refused
        except ConfigError as err:
            if err.field in errors or err.field not in values:
                errors.setdefault(err.field, str(err))
                return True
            errors[err.field] = str(err)
            values[err.field] = default[err.field]
            refused = True
    return True


def apply_preset(preset, data_cfg: DataConfig, train_cfg: TrainConfig) -> tuple[DataConfig, ModelConfig,
                                                                                  TrainConfig, str]:
    """``preset.apply`` and a sentence saying what it set and which fields it left as they were."""
    from .config import PRESET_LEAVES

    data, model, train = preset.apply(data_cfg, train_cfg)
    kept = {"dataset": data.dataset, **{n: getattr(train, n) for n in PRESET_LEAVES if n != "dataset"}}
    left = ", ".join(f"{name} {format_value(value)}" for name, value in kept.items())
    note = (f"Loaded the preset **{preset.title}**: {preset.description} It set every model and training "
            f"setting, and the whole training and test sets (no quick subset), as the note trains; it left "
            f"these as they were: {left}.")
    return data, model, train, note


# ---------------------------------------------------------------------------------------------
# the command line


@cache
def field_docs() -> dict[str, str]:
    """Each config field's docstring (the string under it in ``config.py``), whole, on one line."""
    tree = ast.parse(inspect.getsource(config_module))
    docs: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or node.name not in {c.__name__ for c in CONFIGS}:
            continue
        for before, after in zip(node.body, node.body[1:]):
            if (isinstance(before, ast.AnnAssign) and isinstance(before.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                docs[before.target.id] = " ".join(inspect.cleandoc(after.value.value).split())
    return docs


def field_help(name: str) -> str:
    """A flag's help: the field's whole docstring, then its allowed values when it is a choice."""
    text = field_docs().get(name, "")
    allowed = choices(name)
    if allowed:
        per_layer = " (one, or one per layer separated by commas)" if KINDS[name] == "str|strs" else ""
        text = f"{text} Allowed{per_layer}: {', '.join(allowed)}."
    return text.replace("%", "%%").strip()  # argparse formats help with %


def _flag_type(name: str):
    def parse(text: str):
        try:
            return parse_value(name, text)
        except ConfigError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    parse.__name__ = name
    return parse


def flag(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per field of the three configs (``--hidden 256,128``), default None (not given)."""
    for cls in CONFIGS:
        group = parser.add_argument_group(cls.__name__)
        for f in dataclasses.fields(cls):
            allowed = choices(f.name)
            metavar = "{" + ",".join(allowed) + "}" if allowed else KINDS[f.name].upper().replace("?", "")
            group.add_argument(flag(f.name), dest=f"{cls.__name__}.{f.name}", type=_flag_type(f.name),
                               default=None, metavar=metavar, help=field_help(f.name))


def flag_values(args: argparse.Namespace) -> dict[type, dict[str, object]]:
    """The config fields given as flags, by config class."""
    given: dict[type, dict[str, object]] = {cls: {} for cls in CONFIGS}
    by_name = {cls.__name__: cls for cls in CONFIGS}
    for key, value in vars(args).items():
        if value is None or "." not in key:
            continue
        cls_name, name = key.split(".", 1)
        given[by_name[cls_name]][name] = value
    return given


def cli_command(data_cfg: DataConfig, model_cfg: ModelConfig, train_cfg: TrainConfig,
                digits_file: str | None = None) -> str:
    """The ``python -m nnplay train`` line that trains the same network headless, on the same data: a run on your
    digits too names their file (``digits_file``, else ``extra_data``'s own path) with its weight and replay."""
    query = to_query(data_cfg, model_cfg, train_cfg)
    if data_cfg.extra_data is not None:  # private to links and widgets, but part of what the run trained on
        query["extra_data"] = digits_file or data_cfg.extra_data
        if data_cfg.extra_weight != 1:
            query["extra_weight"] = format_value(data_cfg.extra_weight)
        if data_cfg.replay is not None:
            query["replay"] = format_value(data_cfg.replay)
    # the CLI's base is the seed-mlp preset, whose fields are the dataclass defaults
    flags = [f"{flag(name)} {shlex.quote(text)}" for name, text in query.items()]
    return " ".join(["python -m nnplay train --preset seed-mlp", *flags])
