"""Every setting nnplay reads from the environment (``NNPLAY_*``), declared once: name, what it accepts,
default, one line of doc, and the parser that checks it.

``problems()`` checks them all at start (``app.py`` shows each bad one with ``st.error`` and stops; the
CLI exits 2 with the same sentence): "NNPLAY_MODEL_CACHE_MB must be a number of megabytes, 0 or more;
it is 'abc'. Unset it for the default (128)." ``value(name)`` gives one setting's parsed value (the
default when unset), read when it is used, never at import. The modules that act on a setting
(``store``, ``data``, ``jobs``, ``runs``, ``ui``) read it where they use it; what it accepts is
written here. What does not live here: the configs of a run (``config``), the command-line flags
(``cli``, ``codec``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["SETTINGS", "Setting", "SettingError", "problems", "value"]


class SettingError(ValueError):
    """An environment setting holds a value nnplay does not accept; the message names it, its value and
    what it accepts."""


@dataclass(frozen=True)
class Setting:
    """One ``NNPLAY_*`` environment variable."""

    name: str
    accepts: str  # what it accepts, as the sentence of a bad value says it ("a whole number from 0 to 19")
    parse: Callable[[str], object]  # the stripped, non-empty text to its value; ValueError when not accepted
    default: object  # the value when unset (None: nnplay decides, as ``default_text`` says)
    default_text: str  # the default as the docs say it
    doc: str  # one line: what it does

    def read(self, environ: Mapping[str, str] | None = None):
        """The parsed value (``default`` when unset or blank); SettingError with a sentence when bad."""
        raw = (os.environ if environ is None else environ).get(self.name, "")
        if not raw.strip():
            return self.default
        try:
            return self.parse(raw.strip())
        except ValueError:
            raise SettingError(f"{self.name} must be {self.accepts}; it is {raw!r}. Unset it for the default "
                               f"({self.default_text}).") from None


def _number(minimum: float, inclusive: bool) -> Callable[[str], float]:
    def parse(text: str) -> float:
        v = float(text)
        if v != v or v in (float("inf"), float("-inf")) or (v < minimum if inclusive else v <= minimum):
            raise ValueError(text)
        return v
    return parse


def _whole(low: int, high: int | None = None, point_zero: bool = False) -> Callable[[str], int]:
    """Whole numbers from ``low`` to ``high``; ``point_zero``: "2.0" too (as NNPLAY_WORKERS always took it)."""
    def parse(text: str) -> int:
        if point_zero and text.endswith(".0"):
            text = text[:-2]
        if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
            raise ValueError(text)
        return int(text)
    return parse


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() not in choices:
            raise ValueError(text)
        return text.lower()
    return parse


def _switch(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError(text)
    return text == "1"


def _text(text: str) -> str:
    return text


def _token(text: str) -> str:
    """A teacher token: 16 to 128 URL-safe characters (letters, digits, - and _), so it goes in a link as it is."""
    if not 16 <= len(text) <= 128 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in text):
        raise ValueError(text)
    return text


def _ray_address(text: str) -> str:
    """auto, ray://host:port or host:port (what ``ray.init`` takes; the jobs backend knocks on it)."""
    if text == "auto":
        return text
    host, _, port = text.split("://", 1)[-1].rpartition(":")
    if "://" in text and not text.startswith("ray://") or not host.strip("[]") or not port.isdigit():
        raise ValueError(text)
    return text


_SETTINGS = [
    Setting("NNPLAY_HOME", "a folder path", _text, None, "$XDG_DATA_HOME/nnplay, else ~/.local/share/nnplay",
            "where the run store lives (runs.db and one folder of model files per run)"),
    Setting("NNPLAY_DATA_DIR", "a folder path", _text, None, "~/.cache/nnplay, or $XDG_CACHE_HOME/nnplay",
            "the folder holding MNIST/raw/*.gz (downloaded there when missing; without it, the built-in sample)"),
    Setting("NNPLAY_WORKERS", "a whole number of workers (0: train in the app's own process)",
            _whole(0, point_zero=True), None,
            "one per GPU, else sized to the CPU cores",
            "how many worker processes train runs; 0 trains them in threads of the app's process"),
    Setting("NNPLAY_WORKER_NICE", "a whole number from 0 to 19", _whole(0, 19), 10, "10",
            "how much lower the workers' CPU priority is than the app's (0: the same)"),
    Setting("NNPLAY_WORKER_MEMORY_MB", "a number of megabytes greater than 0", _number(0, False), None, "no cap",
            "a worker's memory cap; a run that needs more ends \"error: ran out of memory\""),
    Setting("NNPLAY_MAX_RUN_MINUTES", "a number of minutes greater than 0", _number(0, False), None, "no cap",
            "a run's longest training time; it then ends \"stopped\" with its model kept"),
    Setting("NNPLAY_ONE_RUN_PER_WORKSPACE", "1 (on) or 0 (off)", _switch, False, "0",
            "1: a workspace trains one run at a time (its next Start waits in the queue)"),
    Setting("NNPLAY_MODEL_CACHE_MB", "a number of megabytes, 0 or more", _number(0, True), 128.0, "128",
            "how much memory the models of ended runs may keep in the app (the latest one is always kept)"),
    Setting("NNPLAY_WORKSPACES", "local or browser", _choice("local", "browser"), None,
            "local on a server only this machine reaches, else browser",
            "local: one workspace for everyone; browser: one workspace per browser (kept in a cookie)"),
    Setting("NNPLAY_CLASS", "1 (on) or 0 (off)", _switch, False, "0 (on when NNPLAY_TEACHER_TOKEN is set)",
            "1: class mode (learners' names, the teacher's Class page; browser workspaces); a token is made and "
            "logged at start"),
    Setting("NNPLAY_TEACHER_TOKEN", "16 to 128 letters, digits, - or _", _token, None,
            "unset: made at start in class mode and printed once in the server's log",
            "the teacher's token: /class?token=<it> opens the Class page (setting it turns class mode on)"),
    Setting("NNPLAY_CLASS_MAX_PARAMETERS", "a whole number of parameters, 1 or more", _whole(1), 2_000_000,
            "2000000", "class mode: the most parameters a learner's model may have (the teacher may change it)"),
    Setting("NNPLAY_CLASS_MAX_EPOCHS", "a whole number of epochs, 1 or more", _whole(1), 20, "20",
            "class mode: the most epochs a learner's run may train (the teacher may change it)"),
    Setting("NNPLAY_CLASS_MAX_QUEUED", "a whole number of runs, 1 or more", _whole(1), 3, "3",
            "class mode: how many runs a learner may have queued or training at once (the teacher may change it)"),
    Setting("NNPLAY_CLASS_MAX_RUN_MINUTES", "a number of minutes greater than 0", _number(0, False), 15.0, "15",
            "class mode: a learner's run's longest training time; it then ends \"stopped\" with its model kept"),
    Setting("NNPLAY_RAY_ADDRESS", "a Ray address (auto, ray://host:10001 or host:port)", _ray_address, None,
            "unset: the local worker pool", "train runs on this Ray cluster, in warm actors kept on its nodes"),
    Setting("NNPLAY_RAY_CPUS_PER_RUN", "a number of CPUs greater than 0", _number(0, False), 1.0, "1",
            "the CPUs a run asks of the Ray cluster"),
    Setting("NNPLAY_RAY_GPUS_PER_RUN", "a share of a GPU greater than 0", _number(0, False), 1.0, "1",
            "the GPU share a run that wants CUDA asks of the Ray cluster (0.25 lets four runs share one)"),
]
SETTINGS: dict[str, Setting] = {s.name: s for s in _SETTINGS}


def value(name: str, environ: Mapping[str, str] | None = None):
    """Setting ``name``'s value now (its default when unset); SettingError with a sentence when bad."""
    return SETTINGS[name].read(environ)


def problems(environ: Mapping[str, str] | None = None) -> list[str]:
    """A sentence for each setting whose value is not accepted, in the order of ``SETTINGS``; [] when all are."""
    found = []
    for setting in SETTINGS.values():
        try:
            setting.read(environ)
        except SettingError as err:
            found.append(str(err))
    return found
