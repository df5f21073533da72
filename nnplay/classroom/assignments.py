"""Assignments: a teacher's task for the class ("reach 98% with at most 100,000 parameters"), its starting
settings, its constraints and the metric its leaderboard ranks by.

``make_assignment`` checks what the teacher typed and keeps it (``store.create_assignment``); ``Constraints``
says what a run must keep to (most parameters, most epochs, a family, a data set); ``starting_configs`` turns the
starting settings (a Train link's query, or the whole link) into the three configs; ``why_not_eligible`` says
why a run does not count; ``ranking(runs, assignment)`` ranks the runs that meet the constraints by the metric
(test accuracy, or the held-back accuracy of ``heldback``), best first: the class page's leaderboard takes it.
What does not live here: the table (``store_assignments``), the editor and the learner's banner
(``ui.assignment_panel``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from ..config import DATASETS, DataConfig, ModelConfig, TrainConfig
from ..store_assignments import AssignmentRecord

METRICS = {"test_accuracy": "test accuracy", "hidden_accuracy": "held-back test accuracy"}
FAMILIES = ("mlp", "cnn")
SCORED = ("finished", "stopped")  # a run that ended with a model (a time limit stops it) is scored


@dataclass(frozen=True)
class Constraints:
    """What a run must keep to for the leaderboard to count it; None: no constraint."""

    max_parameters: int | None = None
    max_epochs: int | None = None
    family: str | None = None
    dataset: str | None = None

    def __post_init__(self):
        for name in ("max_parameters", "max_epochs"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name.replace('_', ' ')} must be a whole number of at least 1; it is {value!r}.")
        if self.family is not None and self.family not in FAMILIES:
            raise ValueError(f"family must be one of {', '.join(FAMILIES)}; it is {self.family!r}.")
        if self.dataset is not None and self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; it is {self.dataset!r}.")

    @classmethod
    def from_dict(cls, values: dict) -> "Constraints":
        unknown = set(values) - {"max_parameters", "max_epochs", "family", "dataset"}
        if unknown:
            raise ValueError(f"an assignment has no constraint {', '.join(sorted(unknown))}; it may limit "
                             "max_parameters, max_epochs, family and dataset.")
        return cls(**{k: v for k, v in values.items() if v not in (None, "")})

    def to_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if v is not None}

    def text(self) -> str:
        """ "at most 100,000 parameters · at most 10 epochs · MLP" ("" without constraints)."""
        parts = []
        if self.max_parameters is not None:
            parts.append(f"at most {self.max_parameters:,} parameters")
        if self.max_epochs is not None:
            parts.append(f"at most {self.max_epochs:,} epochs")
        if self.family is not None:
            parts.append(self.family.upper())
        if self.dataset is not None:
            parts.append(self.dataset)
        return " · ".join(parts)


def settings_query(text_or_query) -> dict[str, str]:
    """The starting settings as a Train link's query: from a whole link (``https://…/train?hidden=100``), a query
    string (``hidden=100&epochs=5``) or a dict; ``run`` and ``ws`` are left out (a link's run and workspace)."""
    if isinstance(text_or_query, dict):
        query = {str(k): str(v) for k, v in text_or_query.items()}
    else:
        text = (text_or_query or "").strip()
        if "?" in text or "://" in text:
            text = urlsplit(text).query
        query = dict(parse_qsl(text.lstrip("?"), keep_blank_values=False))
    return {k: v for k, v in query.items() if k not in ("run", "ws")}


def starting_configs(assignment: AssignmentRecord) -> tuple[DataConfig, ModelConfig, TrainConfig, list[str]]:
    """The assignment's starting settings as configs (defaults for what it leaves out), and notes on settings that
    fell back to their default."""
    from ..codec import from_query

    return from_query(assignment.settings)


def make_assignment(store, title: str, text: str = "", settings="", constraints: dict | None = None,
                    metric: str = "test_accuracy") -> AssignmentRecord:
    """Check and keep a new active assignment; ValueError with a sentence when something is wrong."""
    from ..codec import from_query

    title = (title or "").strip()
    if not title:
        raise ValueError("an assignment needs a title, e.g. \"Reach 98% with at most 100,000 parameters\".")
    if metric not in METRICS:
        raise ValueError(f"the metric must be one of {', '.join(METRICS)}; it is {metric!r}.")
    query = settings_query(settings)
    notes = from_query(query)[3]
    if notes:
        raise ValueError("the starting settings do not all read: " + " ".join(notes))
    checked = Constraints.from_dict(constraints or {})
    return store.create_assignment(title, text.strip(), query, checked.to_dict(), metric)


def _parameters(run) -> int:
    from ..sweeps.estimate import parameters

    counted = getattr(run, "parameters", None)  # a RunRecord's count as trained
    return counted if isinstance(counted, int) and counted > 0 else parameters(run.model_cfg)


def why_not_eligible(run, assignment: AssignmentRecord) -> str:
    """"" when the run meets the assignment's constraints, else the sentence saying which it breaks."""
    c = Constraints.from_dict(assignment.constraints)
    if c.max_parameters is not None and (params := _parameters(run)) > c.max_parameters:
        return f"it has {params:,} parameters; the assignment allows at most {c.max_parameters:,}."
    if c.max_epochs is not None and run.train_cfg.epochs > c.max_epochs:
        return f"it trains {run.train_cfg.epochs:,} epochs; the assignment allows at most {c.max_epochs:,}."
    if c.family is not None and run.model_cfg.family != c.family:
        return f"it is an {run.model_cfg.family.upper()}; the assignment asks for an {c.family.upper()}."
    if c.dataset is not None and run.data_cfg.dataset != c.dataset:
        return f"it trained on {run.data_cfg.dataset}; the assignment asks for {c.dataset}."
    return ""


def score(run, metric: str, store=None) -> float | None:
    """The run's figure for ``metric`` (None before it has one): its last epoch's test accuracy (on the visible
    half in class mode), or its kept held-back score."""
    if metric == "hidden_accuracy":
        from .heldback import kept_hidden_accuracy

        store = store if store is not None else getattr(run, "store", None)
        return kept_hidden_accuracy(store, run.id) if store is not None else None
    kept = getattr(run, "test_accuracy", None)  # a RunRecord's
    if kept is None and hasattr(run, "final"):
        kept = run.final()["test_accuracy"]
    return kept


def assignment_score(assignment: AssignmentRecord, store=None):
    """The Class page's leaderboard score for this assignment: a run's figure for its metric, or None (off the
    board) while it has none, has not ended with a model, or breaks a constraint."""
    def scored(run) -> float | None:
        if run.status not in SCORED or why_not_eligible(run, assignment):
            return None
        return score(run, assignment.metric, store)
    return scored


@dataclass
class Ranked:
    """One run on the leaderboard: its place (1 = best), the run, its score and parameter count."""

    place: int
    run: object
    score: float
    parameters: int


def ranking(runs, assignment: AssignmentRecord, store=None) -> list[Ranked]:
    """The runs (``runs.Run`` or ``store.RunRecord``) that ended with a model, meet the assignment's constraints
    and have a score for its metric, best first: higher score, then fewer parameters, then the earlier run."""
    kept = []
    for run in runs:
        if run.status not in SCORED or why_not_eligible(run, assignment):
            continue
        value = score(run, assignment.metric, store)
        if value is not None:
            kept.append((run, value, _parameters(run)))
    kept.sort(key=lambda item: (-item[1], item[2], item[0].created))
    return [Ranked(i + 1, run, value, params) for i, (run, value, params) in enumerate(kept)]
