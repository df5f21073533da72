"""Per-learner limits in class mode: what one learner's runs may take of a shared server, and the sentence that
refuses a Start beyond them.

``Limits`` (parameters per model, epochs per run, runs queued or training at once, minutes per run) has its
defaults in ``nnplay.settings`` (``NNPLAY_CLASS_MAX_PARAMETERS``, ``NNPLAY_CLASS_MAX_EPOCHS``,
``NNPLAY_CLASS_MAX_QUEUED``, ``NNPLAY_CLASS_MAX_RUN_MINUTES``); the teacher's values are kept in the store's
``settings`` table under the class-wide workspace ``CLASS_WORKSPACE`` (``read_limits``/``save_limits``).
``limit_refusals(store, workspace, configs)`` is the one check (``limit_refusal``: its first sentence): the
pages call it before Start (through ``runs.text.start_refusals`` and ``runs.admission.refusal_for``) and
``runs.Run.start`` calls it again, so a request that bypasses a page is refused too; so do ``runs.Sweep.start``
(all of a sweep's runs at once, or none) and ``runs.call_in_worker`` (the range test, a paper's study; one in
flight counts as a run queued, ``active_calls``). The minutes are a cap each learner run or function job carries
to its worker (``jobs.JobSpec.max_minutes``). ``class_mode()`` reads ``NNPLAY_CLASS``
directly until the class page's settings land in ``nnplay.settings``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields

from .. import settings
from ..config import ModelConfig, TrainConfig
from .teacher import class_mode  # noqa: F401 - one definition: NNPLAY_CLASS=1 or a teacher token

CLASS_WORKSPACE = "__class__"  # the store's settings row that holds class-wide values (no learner has this token)
LIMITS_KEY = "limits"




@dataclass(frozen=True)
class Limits:
    """What one learner's runs may take: whole numbers of at least 1, and minutes greater than 0."""

    max_parameters: int
    """The most parameters a learner's model may have."""
    max_epochs: int
    """The most epochs one run may train."""
    max_queued: int
    """How many of a learner's runs may be queued or training at once."""
    max_minutes: float
    """A run's longest training time in minutes; it then ends "stopped" with its model kept."""

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            least = 0 if f.name == "max_minutes" else 1
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= least \
                    or value == float("inf") or value == 0:
                raise ValueError(f"the limit {LABELS[f.name]} must be a number "
                                 f"{'greater than 0' if least == 0 else 'of at least 1'}; it is {value!r}.")
            if f.name != "max_minutes" and value != int(value):
                raise ValueError(f"the limit {LABELS[f.name]} must be a whole number; it is {value!r}.")

    @classmethod
    def defaults(cls) -> "Limits":
        """The settings' values (``nnplay.settings``), else their defaults."""
        return cls(settings.value("NNPLAY_CLASS_MAX_PARAMETERS"), settings.value("NNPLAY_CLASS_MAX_EPOCHS"),
                   settings.value("NNPLAY_CLASS_MAX_QUEUED"), float(settings.value("NNPLAY_CLASS_MAX_RUN_MINUTES")))

    def lines(self) -> list[str]:
        """ "at most 2,000,000 parameters per model", …: what a learner reads under their Start."""
        return [f"at most {self.max_parameters:,} parameters per model", f"at most {self.max_epochs:,} epochs per run",
                f"at most {self.max_queued} run{'s' if self.max_queued != 1 else ''} queued or training at once",
                f"at most {self.max_minutes:g} minutes of training per run"]


LABELS = {"max_parameters": "parameters per model", "max_epochs": "epochs per run",
          "max_queued": "runs queued at once", "max_minutes": "minutes per run"}


def read_limits(store) -> Limits:
    """The teacher's limits from the store, each missing or unreadable one from the settings' defaults."""
    base = Limits.defaults()
    if store is None:
        return base
    try:
        saved = json.loads(store.setting(CLASS_WORKSPACE, LIMITS_KEY) or "{}")
    except (ValueError, Exception):  # noqa: BLE001 - an unreadable row or store: the defaults stand
        return base
    values = asdict(base)
    for name in values:
        if name in (saved if isinstance(saved, dict) else {}):
            values[name] = saved[name]
    try:
        return Limits(**values)
    except (TypeError, ValueError):
        return base


def save_limits(store, limits: Limits) -> None:
    """Keep the teacher's limits for the whole class (every learner's next Start is checked against them)."""
    store.set_setting(CLASS_WORKSPACE, LIMITS_KEY, json.dumps(asdict(limits)))


def _parameters(model_cfg: ModelConfig) -> int:
    from ..sweeps.estimate import parameters

    return parameters(model_cfg)


def active_runs(workspace: str, leave_out: Iterable[str] = ()) -> list:
    """This process's runs of ``workspace`` that were submitted and have not ended (queued, running, paused)."""
    from ..runs.registry import REGISTRY, registry_lock

    left_out = set(leave_out)
    with registry_lock:
        return [r for r in REGISTRY.values() if r.workspace == workspace and r.owned and r.active
                and r.job is not None and r.id not in left_out]


def active_calls(workspace: str) -> int:
    """How many function jobs of ``workspace`` (a range test, a paper's study: ``runs.call_in_worker``) are in
    flight in this process: each counts as a run queued or training."""
    from ..runs.registry import CALLS, registry_lock

    with registry_lock:
        return sum(ws == workspace for ws in CALLS.values())


def limit_refusals(store, workspace: str, configs: Iterable[tuple[ModelConfig, TrainConfig]],
                   leave_out: Iterable[str] = (), limits: Limits | None = None) -> dict[str, str]:
    """{} when these runs of ``workspace`` (``(ModelConfig, TrainConfig)`` pairs about to start) keep to the
    class's limits, else each broken limit's sentence by the config field to show it beside ("hidden" or
    "channels", "epochs", "train" for the runs queued at once, a function job in flight counted as one). Outside
    class mode, always {}. ``leave_out``: run ids not counted among the queued (the run a Start replaces, or the
    run being started itself)."""
    if not class_mode():
        return {}
    limits = limits or read_limits(store)
    pairs = list(configs)
    found: dict[str, str] = {}
    for model_cfg, train_cfg in pairs:
        params = _parameters(model_cfg)
        if params > limits.max_parameters:
            field = "hidden" if model_cfg.family == "mlp" else "channels"
            found.setdefault(field, f"This network has {params:,} parameters; the class's limit is "
                                    f"{limits.max_parameters:,} parameters per model (set by the teacher). Use fewer "
                                    "or narrower layers.")
        if train_cfg.epochs > limits.max_epochs:
            found.setdefault("epochs", f"{train_cfg.epochs:,} epochs is more than the class's limit of "
                                       f"{limits.max_epochs:,} epochs per run (set by the teacher); choose at most "
                                       f"{limits.max_epochs:,}.")
    queued = len(active_runs(workspace, leave_out)) + active_calls(workspace)
    if queued + len(pairs) > limits.max_queued:
        have = f"you have {queued} run{'s' if queued != 1 else ''} queued or training"
        adding = "this run" if len(pairs) == 1 else f"these {len(pairs)} runs"
        found["train"] = (f"The class's limit is {limits.max_queued} run{'s' if limits.max_queued != 1 else ''} "
                          f"queued or training at once per learner (set by the teacher); {have}, so {adding} would "
                          f"go over it. Wait until one ends, or stop one.")
    return found


def limit_refusal(store, workspace: str, configs: Iterable[tuple[ModelConfig, TrainConfig]],
                  leave_out: Iterable[str] = (), limits: Limits | None = None) -> tuple[str, str] | None:
    """The first of ``limit_refusals`` as (field, sentence), or None when the runs keep to the limits."""
    found = limit_refusals(store, workspace, configs, leave_out, limits)
    return next(iter(found.items()), None)


def run_minutes(store) -> float | None:
    """The minutes cap a learner's run carries to its worker in class mode (None outside it)."""
    return read_limits(store).max_minutes if class_mode() else None
