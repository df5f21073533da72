"""What a stored run is, without SQL: its id, the run statuses (one typed vocabulary), data sources, ``RunRecord``.

``RunStatus`` is every status a run can have; ``ACTIVE`` (a process trains it, or will) and ``USABLE``
(its model may be used by the other pages) are the groups the store's SQL and ``runs`` are built from.
``DataSource`` is what a run trained on ("full", "sample"; "" when an older nnplay did not record it).
A stored config this nnplay cannot read is ``None`` from ``parse_config``, and a ``RunRecord`` names
it in ``unreadable`` rather than holding settings the run never had. ``record_by_prefix`` and
``looks_like_a_file`` read what a command line was given for a run (an id, its start, or a file). What does not
live here: the SQLite file (``store``), the in-memory run (``runs``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Literal, get_args

from .config import DataConfig, ModelConfig, TrainConfig, from_dict

RunStatus = Literal["queued", "running", "paused", "finished", "stopped", "diverged", "error", "interrupted",
                    "loaded"]
STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)
ACTIVE: tuple[RunStatus, ...] = ("queued", "running", "paused")  # a process trains (or will train) it
USABLE: tuple[RunStatus, ...] = ("finished", "stopped", "loaded", "interrupted")  # its model may be used elsewhere
DataSource = Literal["full", "sample", ""]  # "": not recorded (a run kept before version 3)
DATA_SOURCES: tuple[DataSource, ...] = get_args(DataSource)
START_FILE = "start.pt"  # in a fine-tuned run's folder: its parent's weights, which it started from


ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: ids are read aloud and typed


def new_id() -> str:
    """A short random URL-safe run id: 10 characters of lowercase letters and digits (50 bits)."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(10))


def check_data_source(source: str) -> None:
    if source not in DATA_SOURCES:
        raise ValueError(f"a run's data source is one of {', '.join(map(repr, DATA_SOURCES))}; got {source!r}.")


@dataclass
class RunRecord:
    """One run as the store keeps it (configs rebuilt, no curves)."""
    id: str
    name: str
    workspace: str
    kind: str
    group: str
    created: float
    started: float | None
    ended: float | None
    status: str
    message: str
    data_cfg: DataConfig
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    device: str
    parameters: int | None
    last_step: int
    checkpoint_epoch: int | None
    has_final: bool
    test_accuracy: float | None = None
    data_source: DataSource = ""
    unreadable: tuple[str, ...] = ()  # which of "data", "model", "training" settings could not be read
    parent: str = ""  # the run this one was trained further from (fine-tuning), "" for none

    @property
    def has_model(self) -> bool:
        return self.has_final or self.checkpoint_epoch is not None

    @property
    def settings_note(self) -> str:
        """"" when every setting was read, else a sentence: which could not be, and why they are not guessed."""
        return unreadable_note(self.unreadable)


SETTINGS_UNREADABLE = "settings unreadable"


def unreadable_note(parts: tuple[str, ...]) -> str:
    """"" for no parts, else "settings unreadable: its model settings could not be read (…)"."""
    if not parts:
        return ""
    return (f"{SETTINGS_UNREADABLE}: its {' and '.join(parts)} settings could not be read (an older or newer "
            f"nnplay wrote values this one refuses), so they are not shown, and it cannot be trained again or "
            f"exported as if it had the defaults.")


def data_text(dataset: str, source: str, digits: bool = False) -> str:
    """Which data a run trained on: "MNIST sample" (the built-in sample), "mnist" (the full set), or
    "mnist (source unknown)" for a run kept before the store recorded it; "… + your digits" when ``digits``
    (its ``DataConfig.extra_data``: the learner's own digits trained on beside them)."""
    text = "MNIST sample" if source == "sample" else dataset if source == "full" else f"{dataset} (source unknown)"
    return text + (" + your digits" if digits else "")


_parsed: dict[tuple[type, str], object] = {}


def parse_config(cls, text: str):
    """A config from its JSON, validated once per distinct text (a list of 1,000 runs shares a few configs);
    each run gets its own copy. None when this nnplay cannot read it (values an older or newer one wrote)."""
    key = (cls, text)
    if key not in _parsed:
        try:
            _parsed[key] = from_dict(cls, json.loads(text))
        except (ValueError, TypeError):
            _parsed[key] = None
        if len(_parsed) > 4096:
            _parsed.clear()
    if _parsed[key] is None:
        return None
    config = object.__new__(cls)  # a copy without validating again
    config.__dict__.update(_parsed[key].__dict__)
    return config



def record_by_prefix(store, text: str):
    """(the stored run whose id is or starts with ``text``, in any workspace, ""), or (None, a sentence why none)."""
    from .names import plural

    ids = store.ids_starting(text)
    if text in ids:
        ids = [text]
    if not ids:
        return None, f"no run with id {text!r} in {store.path} (see `python -m nnplay runs list`)."
    if len(ids) > 1:
        return None, f"{text!r} matches {plural(len(ids), 'run')} ({', '.join(ids[:5])}); type more of the id."
    return store.get(ids[0]), ""


def looks_like_a_file(source: str) -> bool:
    """Whether a command line's RUN argument names a file (it exists, or has a folder or an extension) not an id."""
    import os

    return os.path.exists(source) or os.sep in source or "/" in source or "." in source
