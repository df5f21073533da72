"""Class mode, without streamlit: whether it is on, the teacher's token and session, learners' names, the
leaderboard and the class's results as a table.

Class mode is on with ``NNPLAY_CLASS=1`` or when ``NNPLAY_TEACHER_TOKEN`` is set; without a token one is made
once per process (``teacher_token``; the app prints it once in the server's log, as Jupyter does). A token or a
session cookie is compared in constant time, and a wrong one is refused exactly like none. The teacher's cookie
holds ``session_value()``, an HMAC of the token, never the token itself. ``leaderboard`` takes a ``score``
function, so a class's task can rank by its own metric and leave out the runs that break its constraints.
What does not live here: the store's reads (``store_class``), the page and the cookie (``nnplay.ui.class_view``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import settings
from ..store_class import ClassRun

if TYPE_CHECKING:  # pandas is imported where a table is made: pool workers import this module (limits), never pandas
    import pandas as pd

NAME_MAX = 40  # characters in a display name
_MARKUP = set("<>[]`*#|\\{}~$")  # characters that would make a name a link, a tag or formatting
_made_token: str | None = None
_token_lock = threading.Lock()


def class_mode(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the server runs a class: ``NNPLAY_CLASS=1``, or a teacher token is set."""
    return bool(settings.value("NNPLAY_CLASS", environ)) or settings.value("NNPLAY_TEACHER_TOKEN", environ) is not None


def teacher_token(environ: Mapping[str, str] | None = None) -> str:
    """The teacher's token: ``NNPLAY_TEACHER_TOKEN``, else one made the first time it is asked (kept for the
    process's life)."""
    global _made_token
    given = settings.value("NNPLAY_TEACHER_TOKEN", environ)
    if given is not None:
        return given
    with _token_lock:
        if _made_token is None:
            _made_token = secrets.token_urlsafe(24)
        return _made_token


def token_was_made(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the token is this process's own (not set in the environment): the log then has to say it."""
    return settings.value("NNPLAY_TEACHER_TOKEN", environ) is None


def _same(given, expected: str) -> bool:
    """Constant-time comparison; anything not a string (None, a list from a repeated URL key) is simply wrong."""
    if not isinstance(given, str):
        given = ""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def token_matches(given) -> bool:
    """Whether ``given`` is the teacher's token (constant time; class mode off: never)."""
    return class_mode() and _same(given, teacher_token())


def session_value(token: str | None = None) -> str:
    """What the teacher's cookie holds: an HMAC of the token (the token itself never travels in a cookie)."""
    key = (token or teacher_token()).encode()
    return hmac.new(key, b"nnplay teacher session", hashlib.sha256).hexdigest()


def session_matches(value) -> bool:
    """Whether a cookie's ``value`` is the teacher's session (constant time; class mode off: never)."""
    return class_mode() and _same(value, session_value())


def check_learner_name(text: str) -> str:
    """The display name to keep (spaces trimmed); ValueError with a sentence for an empty, long or marked-up one."""
    name = " ".join(str(text).split())
    if not name:
        raise ValueError("Type a name of at least one character (or leave it: you stay \"learner N\").")
    if len(name) > NAME_MAX:
        raise ValueError(f"A name has at most {NAME_MAX} characters; this one has {len(name)}.")
    bad = sorted({c for c in name if c in _MARKUP or unicodedata.category(c)[0] == "C"})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise ValueError(f"A name is plain text: letters, digits, spaces and simple punctuation; leave out {shown}.")
    return name


def settings_summary(run: ClassRun) -> str:
    """ "MLP 784-128-10 relu · adam lr 0.001 · batch 256 · 10 epochs": what the learner chose, in one line."""
    if run.model_cfg is None or run.train_cfg is None:
        return "settings unreadable"
    from ..models import describe

    t = run.train_cfg
    return f"{describe(run.model_cfg)} · {t.optimizer} lr {t.lr:g} · batch {t.batch_size} · {t.epochs} epochs"


# -- the leaderboard -----------------------------------------------------------------------------------------

Score = Callable[[ClassRun], "float | None"]  # a run's score, higher is better; None: the run does not count


def accuracy_score(run: ClassRun) -> float | None:
    """The default score: the test accuracy of the run's latest epoch (the model it has now); None before one."""
    return run.test_accuracy


@dataclass
class Standing:
    """A learner's place on the leaderboard: their best run by the score."""

    rank: int
    learner: str
    score: float
    run: ClassRun


def leaderboard(runs: list[ClassRun], score: Score = accuracy_score) -> list[Standing]:
    """Each learner's best run by ``score`` (higher is better; a run it scores None is left out), best first;
    ties go to fewer parameters, then to the earlier run. Learners share a rank when their scores tie."""
    best: dict[int, tuple[float, ClassRun]] = {}
    for run in runs:
        value = score(run)
        if value is None or value != value:
            continue
        kept = best.get(run.number)
        if kept is None or _key(value, run) < _key(*kept):
            best[run.number] = (value, run)
    ordered = sorted(best.values(), key=lambda vr: _key(*vr))
    standings: list[Standing] = []
    for i, (value, run) in enumerate(ordered):
        rank = standings[-1].rank if standings and standings[-1].score == value else i + 1
        standings.append(Standing(rank, run.learner, value, run))
    return standings


def _key(value: float, run: ClassRun) -> tuple:
    return (-value, run.parameters if run.parameters is not None else float("inf"), run.created)


# -- the class as a table ------------------------------------------------------------------------------------

def runs_table(runs: list[ClassRun], now: float | None = None) -> pd.DataFrame:
    """One row per run, as the class page shows it (no workspace token: names and run ids only)."""
    import pandas as pd

    now = now or time.time()
    rows = [{"learner": r.learner, "run": r.name, "status": r.status,
             "epoch": f"{r.epoch or 0}/{r.epochs}" if r.epochs else "",
             "test accuracy": r.test_accuracy, "parameters": r.parameters, "settings": settings_summary(r),
             "time (s)": round(s, 1) if (s := r.seconds(now)) is not None else None, "run id": r.id}
            for r in runs]
    return pd.DataFrame(rows, columns=["learner", "run", "status", "epoch", "test accuracy", "parameters", "settings",
                                       "time (s)", "run id"])


def standings_table(standings: list[Standing], metric: str = "test accuracy") -> pd.DataFrame:
    import pandas as pd

    rows = [{"rank": s.rank, "learner": s.learner, metric: s.score, "parameters": s.run.parameters,
             "settings": settings_summary(s.run), "run": s.run.name, "run id": s.run.id} for s in standings]
    return pd.DataFrame(rows, columns=["rank", "learner", metric, "parameters", "settings", "run", "run id"])


def results_frame(runs: list[ClassRun], standings: list[Standing] | None = None) -> pd.DataFrame:
    """The class's results for a spreadsheet: every run with its learner, status, accuracies, times, the learner's
    rank when the run is their leaderboard entry, and every setting (``data.*``, ``model.*``, ``train.*``)."""
    import pandas as pd

    ranks = {s.run.id: s.rank for s in standings or ()}
    rows = []
    for r in runs:
        row = {"learner": r.learner, "learner number": r.number, "run": r.name, "run id": r.id, "kind": r.kind,
               "status": r.status, "epochs done": r.epoch, "epochs": r.epochs, "test accuracy": r.test_accuracy,
               "best test accuracy": r.best_accuracy, "parameters": r.parameters,
               "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.created)),
               "seconds": r.seconds(), "leaderboard rank": ranks.get(r.id), "settings": settings_summary(r)}
        for part, cfg in (("data", r.data_cfg), ("model", r.model_cfg), ("train", r.train_cfg)):
            if cfg is not None:  # fields read directly: dataclasses.asdict copies deeply, 600 runs × 3 add up
                for k in _field_names(type(cfg)):
                    v = getattr(cfg, k)
                    row[f"{part}.{k}"] = " ".join(map(str, v)) if isinstance(v, (list, tuple)) else v
        rows.append(row)
    return pd.DataFrame(rows)


@functools.cache
def _field_names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def results_csv(runs: list[ClassRun], standings: list[Standing] | None = None) -> str:
    from ..compare.files import to_csv

    return to_csv(results_frame(runs, standings))
