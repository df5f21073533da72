"""A sweep's plan as pure data: which settings vary and over which values, and the runs that makes.

What lives here: ``SETTINGS`` (the settings a sweep may vary: learning rate, batch size, epochs, width,
depth, hidden sizes, activation, init, optimizer, model kind, dropout, weight decay, momentum, loss, max-norm,
augmentation, pooling, batch norm (on or off); the seed is
handled apart, as ``seeds``), ``Axis`` (one setting's values, given as a list of text "1e-4, 1e-3" or as a
range: low, high, count, log or linear scale), ``SweepPlan`` (the axes, the base configs, grid or N random
draws with a draw seed, the seeds, the successive-halving switch) and its expansion into ``PlannedRun``s
(configs and a readable name, "lr=0.001 bs=64 seed=1"), JSON in and out (the store keeps plans as JSON).
Every value is checked as the Train page checks that field, and a refusal is a ``PlanError`` (a
``ValueError``) whose ``setting`` is the field at fault and whose sentence names it ("Learning rate: 0 is not
above 0."). A plan of more than ``MAX_RUNS`` runs is refused with a sentence saying how many it would be.
What does not live here: queueing runs (``nnplay.sweeps.live``), early stopping (``halving``), the time
estimate (``estimate``), memory admission (``nnplay.models``). No torch, no streamlit.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from typing import Literal

from ..codec import split_list
from ..config import (ACTIVATIONS, AUGMENTS, INITS, LOSSES, MAX_HIDDEN_LAYERS, MAX_SEED, MAX_WIDTH, OPTIMIZERS, POOLS,
                      ConfigError,
                      DataConfig, ModelConfig, TrainConfig, from_dict, to_dict)

MAX_RUNS = 500  # a sweep of more runs is refused: it would hold the workers for hours
MAX_SEEDS = 100
MAX_VALUES = 1000  # values of one axis (before the run count's own limit)
PLAN_VERSION = 1  # the JSON's version: a newer one is refused with a sentence
Scale = Literal["log", "linear"]
Mode = Literal["grid", "random"]


class PlanError(ValueError):
    """A plan refused: ``setting`` is the setting at fault (a key of ``SETTINGS``, or "seeds", "draws", "eta"; ""
    for the plan as a whole), ``str(err)`` the sentence to show beside its control."""

    def __init__(self, setting: str, message: str):
        super().__init__(message)
        self.setting = setting


@dataclass(frozen=True)
class Setting:
    """One setting a sweep may vary: its label (as the Train page names it), its short name in run names,
    what kind of value it takes, its bounds (as ``config`` checks them) and, for choices, the allowed names."""

    key: str
    label: str
    short: str
    kind: Literal["float", "int", "choice", "bool", "layers"]
    low: float | None = None
    low_open: bool = False  # the value must be above ``low`` (else at least ``low``)
    high: float | None = None
    high_open: bool = False  # the value must be below ``high`` (else at most ``high``)
    choices: tuple[str, ...] = ()
    example: str = ""
    scale: Scale = "linear"  # the scale a range of it usually takes

    @property
    def numeric(self) -> bool:
        return self.kind in ("float", "int")


SETTINGS: dict[str, Setting] = {s.key: s for s in (
    Setting("lr", "Learning rate", "lr", "float", 0, True, 10, example="1e-4, 1e-3, 1e-2", scale="log"),
    Setting("batch_size", "Batch size", "bs", "int", 1, example="64, 256", scale="log"),
    Setting("epochs", "Epochs", "epochs", "int", 1, high=1000, example="2, 5"),
    Setting("width", "Width", "width", "int", 1, high=MAX_WIDTH, example="64, 256, 1024", scale="log"),
    Setting("depth", "Hidden layers", "depth", "int", 0, high=MAX_HIDDEN_LAYERS, example="1, 2, 3"),
    Setting("hidden", "Hidden sizes", "hidden", "layers", example="256; 256,128; 512,256,128"),
    Setting("activation", "Activation", "act", "choice", choices=ACTIVATIONS, example="relu, tanh"),
    Setting("init", "Init", "init", "choice", choices=INITS, example="he, xavier"),
    Setting("optimizer", "Optimizer", "opt", "choice", choices=OPTIMIZERS, example="sgd, adam"),
    Setting("family", "Model kind", "kind", "choice", choices=("mlp", "cnn"), example="mlp, cnn"),
    Setting("dropout", "Dropout", "dropout", "float", 0, high=1, high_open=True, example="0, 0.2, 0.5"),
    Setting("weight_decay", "Weight decay", "wd", "float", 0, example="0, 1e-4", scale="log"),
    Setting("momentum", "Momentum", "mom", "float", 0, high=1, high_open=True, example="0, 0.9"),
    Setting("loss", "Loss", "loss", "choice", choices=LOSSES, example="cross_entropy, mse"),
    Setting("max_norm", "Max-norm", "maxnorm", "float", 0, high=100, example="0, 3, 4"),
    Setting("augment", "Augmentation", "aug", "choice", choices=AUGMENTS, example="none, affine"),
    Setting("pool", "Pooling", "pool", "choice", choices=POOLS, example="max, avg"),
    Setting("batch_norm", "Batch norm", "bn", "bool", choices=("off", "on"), example="off, on"),
)}
LAYER_SETTINGS = ("width", "depth", "hidden")  # they set an MLP's hidden layers
# ModelConfig's fields; the others are TrainConfig's
MODEL_SETTINGS = ("activation", "init", "family", "dropout", "pool", "batch_norm")


def _setting(key: str) -> Setting:
    if key not in SETTINGS:
        raise PlanError(str(key), f"A sweep cannot vary {key!r}; it varies: "
                         f"{', '.join(s.label for s in SETTINGS.values())}.")
    return SETTINGS[key]


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"  # a pasted page of digits is not printed whole


def format_setting(value) -> str:
    """A value as it appears in run names and tables: 0.001 · 64 · 256-128 · relu."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return "-".join(str(v) for v in value) if value else "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def check_value(key: str, value):
    """``value`` for setting ``key`` as the Train page would take it (a number cast to its kind, a name as
    given, layer widths as a tuple), or a ValueError whose sentence names the field."""
    s = _setting(key)
    if s.kind == "choice":
        if value not in s.choices:
            raise PlanError(s.key, f"{s.label}: {_shown(str(value))!r} is not one of {', '.join(s.choices)}.")
        return value
    if s.kind == "bool":
        if not isinstance(value, bool):
            raise PlanError(s.key, f"{s.label}: {_shown(str(value))!r} is not on or off.")
        return value
    if s.kind == "layers":
        widths = tuple(value)
        if len(widths) > MAX_HIDDEN_LAYERS:
            raise PlanError(s.key, f"{s.label}: {len(widths)} hidden layers is more than {MAX_HIDDEN_LAYERS}.")
        for w in widths:
            if isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= MAX_WIDTH:
                raise PlanError(s.key, f"{s.label}: a layer of width {w} is not a whole number from 1 to {MAX_WIDTH:,}.")
        return widths
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PlanError(s.key, f"{s.label}: {_shown(str(value))!r} is not a number.")
    if s.kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise PlanError(s.key, f"{s.label}: {value:g} is not a whole number.")
        value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise PlanError(s.key, f"{s.label}: {value} is not a finite number.")
    shown = format_setting(value)
    if s.low is not None and (value <= s.low if s.low_open else value < s.low):
        raise PlanError(s.key, f"{s.label}: {shown} is not above {s.low:g}." if s.low_open
                         else f"{s.label}: {shown} is below {s.low:g}.")
    if s.high is not None and (value >= s.high if s.high_open else value > s.high):
        raise PlanError(s.key, f"{s.label}: {shown} is not below {s.high:g}." if s.high_open
                         else f"{s.label}: {shown} is above {s.high:g}, the most the Train page takes.")
    return value


_ON_OFF = {**dict.fromkeys(("on", "true", "yes", "1"), True), **dict.fromkeys(("off", "false", "no", "0"), False)}


def parse_values(key: str, text: str) -> tuple:
    """A list of values of setting ``key`` from text ("1e-4, 1e-3"; hidden sizes: "256; 256,128"), each
    checked; a ValueError naming the field for an empty list, a bad entry or a value given twice."""
    s = _setting(key)
    text = str(text).strip()
    if s.kind == "layers":
        parts = [p.strip() for p in text.replace("|", ";").split(";") if p.strip()]
    else:
        parts = split_list(text)
    if not parts:
        raise PlanError(s.key, f"{s.label}: no values given; write one or more, e.g. {s.example}.")
    values = []
    for part in parts:
        try:
            if s.kind == "int":
                value = int(part)
            elif s.kind == "float":
                value = float(part)
            elif s.kind == "layers":
                value = tuple(int(w) for w in split_list(part.replace("-", " ")))
            elif s.kind == "bool":  # as the CLI's and the link's true/false, and as tables show it: on/off
                value = _ON_OFF.get(part.lower(), part)
            else:
                value = part
        except ValueError:
            what = {"int": "a whole number", "float": "a number", "layers": "layer widths such as 256,128"}[s.kind]
            raise PlanError(s.key, f"{s.label}: {_shown(part)!r} is not {what}.") from None
        values.append(check_value(key, value))
    return _distinct(s, values)


def _distinct(s: Setting, values: list) -> tuple:
    seen = set()
    for value in values:
        if value in seen:
            raise PlanError(s.key, f"{s.label}: {format_setting(value)} is given twice; give each value once.")
        seen.add(value)
    if len(values) > MAX_VALUES:
        raise PlanError(s.key, f"{s.label}: {len(values):,} values is more than {MAX_VALUES:,}.")
    return tuple(values)


def range_values(key: str, low, high, count, scale: Scale = "log") -> tuple:
    """``count`` values of setting ``key`` from ``low`` to ``high`` (both included), spaced evenly on a log or
    linear scale (whole-number settings are rounded); a ValueError naming the field for swapped ends, a log
    scale that reaches 0, a count below 2 or rounding that gives a value twice."""
    s = _setting(key)
    if not s.numeric:
        raise PlanError(s.key, f"{s.label}: a range needs numbers; give its values as a list, e.g. {s.example}.")
    if scale not in ("log", "linear"):
        raise PlanError(s.key, f"{s.label}: a range's scale is log or linear; got {scale!r}.")
    if isinstance(count, bool) or not isinstance(count, int) or count < 2:
        raise PlanError(s.key, f"{s.label}: a range needs a count of at least 2 values; got {count!r}. "
                         f"For one value give a list.")
    if count > MAX_VALUES:
        raise PlanError(s.key, f"{s.label}: a range of {count:,} values is more than {MAX_VALUES:,}.")
    low, high = check_value(key, low), check_value(key, high)
    if low > high:
        raise PlanError(s.key, f"{s.label}: the range's ends are swapped (from {format_setting(low)} to "
                         f"{format_setting(high)}); give the lower end first.")
    if low == high:
        raise PlanError(s.key, f"{s.label}: the range's ends are both {format_setting(low)}; give two different ends.")
    if scale == "log" and low <= 0:
        raise PlanError(s.key, f"{s.label}: a log scale cannot start at {format_setting(low)}; start above 0, or use "
                         f"a linear scale.")
    if scale == "log":
        a, b = math.log(low), math.log(high)
        points = [math.exp(a + (b - a) * i / (count - 1)) for i in range(count)]
    else:
        points = [low + (high - low) * i / (count - 1) for i in range(count)]
    points[0], points[-1] = low, high  # exact ends, not exp(log(x))
    if s.kind == "int":
        points = [int(round(p)) for p in points]
        if len(set(points)) < len(points):
            twice = sorted({p for p in points if points.count(p) > 1})
            shown = ", ".join(map(str, twice[:5])) + (" …" if len(twice) > 5 else "")
            raise PlanError(s.key, f"{s.label}: {count} whole numbers from {low} to {high} on a {scale} scale give "
                             f"some twice ({shown}); use fewer values or a wider range.")
    else:
        points = [float(f"{p:.6g}") for p in points]  # 0.0001, not 0.00010000000000000009
    return tuple(check_value(key, p) for p in points)


@dataclass(frozen=True)
class Axis:
    """One setting the sweep varies and its values: a list (``text``, as typed: "1e-4, 1e-3") or a range
    (``low``, ``high``, ``count``, ``scale``). ``values`` are the list's values or the range's grid points;
    random draws take a range's values anywhere between its ends (log-uniform on a log scale)."""

    setting: str
    text: str | None = None
    low: float | None = None
    high: float | None = None
    count: int | None = None
    scale: Scale = "log"
    values: tuple = field(default=(), compare=False)

    def __post_init__(self):
        _setting(self.setting)
        if self.text is not None:
            values = parse_values(self.setting, self.text)
        else:
            if self.low is None or self.high is None or self.count is None:
                raise PlanError(self.setting, f"{SETTINGS[self.setting].label}: give its values as a list, or a range's low "
                                 f"end, high end and count.")
            values = range_values(self.setting, self.low, self.high, self.count, self.scale)
        object.__setattr__(self, "values", values)

    @classmethod
    def of_list(cls, setting: str, text: str) -> "Axis":
        return cls(setting, text=str(text))

    @classmethod
    def of_range(cls, setting: str, low, high, count: int, scale: Scale = "log") -> "Axis":
        return cls(setting, low=low, high=high, count=count, scale=scale)

    @property
    def is_range(self) -> bool:
        return self.text is None

    @property
    def label(self) -> str:
        return SETTINGS[self.setting].label

    def draw(self, rng: random.Random):
        """One random value: any of a list's values; anywhere in a range (log-uniform on a log scale)."""
        if not self.is_range:
            return rng.choice(self.values)
        low, high = self.values[0], self.values[-1]
        if self.scale == "log":
            point = math.exp(rng.uniform(math.log(low), math.log(high)))
        else:
            point = rng.uniform(low, high)
        point = min(max(point, low), high)
        return int(round(point)) if SETTINGS[self.setting].kind == "int" else float(f"{point:.4g}")

    def to_json(self) -> dict:
        if self.is_range:
            return {"setting": self.setting, "low": self.low, "high": self.high, "count": self.count,
                    "scale": self.scale}
        return {"setting": self.setting, "values": self.text}


@dataclass(frozen=True)
class PlannedRun:
    """One run of a plan: its readable name, its configs, the values of the varied settings and its seed."""

    name: str
    data: DataConfig
    model: ModelConfig
    train: TrainConfig
    settings: dict
    seed: int

    @property
    def key(self) -> str:
        """What identifies the run within its plan: its model and training settings (a stored run with the same
        key is this run)."""
        return run_key(self.model, self.train)


def run_key(model_cfg: ModelConfig, train_cfg: TrainConfig) -> str:
    """A stored or planned run's identity within a sweep: its model and training settings as JSON."""
    return json.dumps([to_dict(model_cfg), to_dict(train_cfg)], sort_keys=True)


@dataclass(frozen=True)
class SweepPlan:
    """A sweep: the axes (none: the base configs with each seed), the base configs the axes change, grid or
    ``draws`` random draws (``draw_seed`` makes them repeatable), the seeds each setting trains with, and early
    stopping by successive halving (``halving``, rungs every ``eta``× epochs; off by default). Checked when made:
    a ``PlanError`` sentence."""

    axes: tuple[Axis, ...]
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seeds: tuple[int, ...] = (0,)
    mode: Mode = "grid"
    draws: int = 0
    draw_seed: int = 0
    halving: bool = False
    eta: int = 3
    name: str = ""

    def __post_init__(self):
        object.__setattr__(self, "axes", tuple(self.axes))
        object.__setattr__(self, "seeds", tuple(self.seeds))
        if not self.seeds:
            raise PlanError("seeds", "Seeds: give at least one seed.")
        if not self.axes and len(self.seeds) < 2:
            raise PlanError("", "A sweep needs a setting with two or more values, or two or more seeds.")
        keys = [a.setting for a in self.axes]
        for key in keys:
            if keys.count(key) > 1:
                raise PlanError(key, f"{SETTINGS[key].label} is varied twice; give all its values in one list or range.")
        layered = [k for k in keys if k in LAYER_SETTINGS]
        if "hidden" in layered and len(layered) > 1:
            raise PlanError("hidden", "Hidden sizes and Width or Hidden layers all set the hidden layers; vary either the "
                             "hidden sizes, or the width and the number of hidden layers.")
        if layered and ("family" in keys or self.model.family == "cnn"):
            what = "the model kind varies" if "family" in keys else "the base model is a CNN"
            raise PlanError(layered[0], f"{SETTINGS[layered[0]].label} sets an MLP's hidden layers, and {what}; vary the "
                             f"layers of an MLP only.")
        if len(set(self.seeds)) < len(self.seeds):
            raise PlanError("seeds", "Seeds: a seed is given twice; give each seed once.")
        if len(self.seeds) > MAX_SEEDS:
            raise PlanError("seeds", f"Seeds: {len(self.seeds)} seeds per setting is more than {MAX_SEEDS}.")
        for seed in self.seeds:
            if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
                raise PlanError("seeds", f"Seeds: {seed!r} is not a whole number from 0 to {MAX_SEED:,}.")
        if self.mode not in ("grid", "random"):
            raise PlanError("draws", f"A sweep is a grid or random draws; got {self.mode!r}.")
        if self.mode == "random":
            if isinstance(self.draws, bool) or not isinstance(self.draws, int) or self.draws < 1:
                raise PlanError("draws", f"Random draws: give how many, at least 1; got {self.draws!r}.")
            if isinstance(self.draw_seed, bool) or not isinstance(self.draw_seed, int) or self.draw_seed < 0:
                raise PlanError("draws", f"Random draws: the draw seed is a whole number from 0; got {self.draw_seed!r}.")
        if isinstance(self.eta, bool) or not isinstance(self.eta, int) or not 2 <= self.eta <= 10:
            raise PlanError("eta", f"Successive halving: η (keep the top 1/η at each rung) is a whole number from 2 "
                             f"to 10; got {self.eta!r}.")
        n = self.count()
        if n > MAX_RUNS:
            raise PlanError("", f"This sweep would be {n:,} runs ({self.count_text()}); a sweep holds at most "
                             f"{MAX_RUNS}. Give fewer values or seeds, or use random draws.")

    # -- size ------------------------------------------------------------------------------------

    def count(self) -> int:
        """How many runs the plan makes (settings × seeds), without making them."""
        points = self.draws if self.mode == "random" else math.prod(len(a.values) for a in self.axes)
        return points * len(self.seeds)

    def count_text(self) -> str:
        """How the run count comes about, in words: "learning rate (3) × batch size (2) × seeds (3)"."""
        parts = ([f"{self.draws:,} random draws"] if self.mode == "random" else
                 [f"{a.label.lower()} ({len(a.values)})" for a in self.axes])
        parts.append(f"seeds ({len(self.seeds)})")
        return " × ".join(parts)

    # -- runs ------------------------------------------------------------------------------------

    def points(self) -> list[dict]:
        """The settings of each point (without seeds): the grid in order, or the random draws (distinct)."""
        if self.mode == "grid":
            grid: list[dict] = [{}]
            for axis in self.axes:
                grid = [{**point, axis.setting: value} for point in grid for value in axis.values]
            return grid
        rng = random.Random(self.draw_seed)
        drawn: list[dict] = []
        seen: set[str] = set()
        for _ in range(self.draws * 50):
            point = {axis.setting: axis.draw(rng) for axis in self.axes}
            key = json.dumps(point, sort_keys=True, default=list)
            if key not in seen:
                seen.add(key)
                drawn.append(point)
                if len(drawn) == self.draws:
                    return drawn
        raise PlanError("draws", f"Random draws: only {len(drawn)} different settings could be drawn from these values, "
                         f"not {self.draws}; ask for fewer draws, give more values, or use a grid.")

    def configs(self, point: dict, seed: int) -> tuple[DataConfig, ModelConfig, TrainConfig]:
        """The base configs changed by one point's settings and the seed; a ValueError naming the run when the
        configs refuse the combination."""
        model, train = to_dict(self.model), to_dict(self.train)
        for key, value in point.items():
            if key in ("width", "depth", "hidden"):
                continue
            (model if key in MODEL_SETTINGS else train)[key] = value
        if any(k in point for k in LAYER_SETTINGS):
            base = tuple(self.model.hidden)
            if "hidden" in point:
                hidden = tuple(point["hidden"])
            else:
                width = point.get("width", base[0] if base else 256)
                depth = point.get("depth", len(base) if base else 1)
                hidden = (width,) * depth
            model["hidden"] = list(hidden)
            if not isinstance(self.model.activation, str) and "activation" not in point:
                acts = self.model.activations()
                model["activation"] = acts[0] if acts else "relu"  # one per layer cannot follow a new depth
        train["seed"] = seed
        try:
            return self.data, from_dict(ModelConfig, model), from_dict(TrainConfig, train)
        except ConfigError as err:
            raise PlanError("", f"The run {run_name(point, seed, len(self.seeds) > 1)} cannot train: {err}") from None

    def expand(self) -> list[PlannedRun]:
        """Every run of the plan, in order (each point with each seed), with readable names; a ValueError
        sentence when a combination of values is refused."""
        runs = []
        many_seeds = len(self.seeds) > 1
        for point in self.points():
            for seed in self.seeds:
                data, model, train = self.configs(point, seed)
                runs.append(PlannedRun(run_name(point, seed, many_seeds), data, model, train, dict(point), seed))
        return runs

    def largest(self) -> PlannedRun:
        """The run that needs the most memory to train: what admission checks (``largest_run``)."""
        return largest_run(self.expand())

    def describe(self) -> str:
        """One line: what varies, over which values, how many runs."""
        parts = []
        for axis in self.axes:
            if axis.is_range:
                parts.append(f"{axis.label} {format_setting(axis.values[0])}…{format_setting(axis.values[-1])} "
                             f"({axis.count}, {axis.scale})")
            else:
                parts.append(f"{axis.label} {', '.join(format_setting(v) for v in axis.values)}")
        how = f"{self.draws} random draws" if self.mode == "random" else "grid"
        return f"{'; '.join(parts)} · {how} · {self.count_text()} = {self.count()} runs"

    # -- JSON ------------------------------------------------------------------------------------

    def to_json(self) -> str:
        return json.dumps({
            "version": PLAN_VERSION, "name": self.name, "axes": [a.to_json() for a in self.axes],
            "data": to_dict(self.data), "model": to_dict(self.model), "train": to_dict(self.train),
            "seeds": list(self.seeds), "mode": self.mode, "draws": self.draws, "draw_seed": self.draw_seed,
            "halving": self.halving, "eta": self.eta})

    @classmethod
    def from_json(cls, text: str | dict) -> "SweepPlan":
        """A plan back from ``to_json``'s text; a ValueError sentence when it is not one."""
        try:
            d = json.loads(text) if isinstance(text, str) else dict(text)
            if d.get("version", 0) > PLAN_VERSION:
                raise PlanError("", f"This sweep plan was written by a newer nnplay (version {d['version']}).")
            axes = []
            for a in d["axes"]:
                if "values" in a:
                    axes.append(Axis.of_list(a["setting"], a["values"]))
                else:
                    axes.append(Axis.of_range(a["setting"], a["low"], a["high"], a["count"], a.get("scale", "log")))
            return cls(tuple(axes), from_dict(DataConfig, d.get("data", {})), from_dict(ModelConfig, d.get("model", {})),
                       from_dict(TrainConfig, d.get("train", {})), tuple(d.get("seeds", (0,))), d.get("mode", "grid"),
                       d.get("draws", 0), d.get("draw_seed", 0), bool(d.get("halving", False)), d.get("eta", 3),
                       d.get("name", ""))
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as err:
            raise PlanError("", f"This is not a sweep plan nnplay can read ({type(err).__name__}: {err}).") from None


def largest_run(runs: list[PlannedRun]) -> PlannedRun:
    """Of these runs, the one that needs the most memory to train: the widest layers, then the largest batch."""
    def size(run: PlannedRun):
        m = run.model
        width = sum(m.hidden) if m.family == "mlp" else sum(m.channels) * 16 + sum(m.fc_widths())
        return (width, run.train.batch_size)
    return max(runs, key=size)


def run_name(point: dict, seed: int, with_seed: bool = True) -> str:
    """A run's readable name from its settings: "lr=0.001 bs=64 seed=1"."""
    parts = [f"{SETTINGS[k].short}={format_setting(v)}" for k, v in point.items()]
    if with_seed:
        parts.append(f"seed={seed}")
    return " ".join(parts) or f"seed={seed}"


def seed_values(count: int, first: int = 0) -> tuple[int, ...]:
    """``count`` seeds from ``first`` on (0, 1, 2 for 3 seeds); a ValueError sentence for a bad count."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SEEDS:
        raise PlanError("seeds", f"Seeds: give how many seeds per setting, 1 to {MAX_SEEDS}; got {count!r}.")
    if first + count - 1 > MAX_SEED:
        raise PlanError("seeds", f"Seeds: {count} seeds from {first} go past {MAX_SEED:,}.")
    return tuple(range(first, first + count))

