"""Who owns a run: a process as the store records it (pid, start time, host), and whether it still runs.

What lives here: ``ProcessIdentity``, ``THIS_PROCESS``, ``owner_alive`` and ``OWNER_SILENCE_S``. The store
records a run's owner when it creates the run and marks a run whose owner is gone "interrupted". What does
not live here: the SQL (``store``), the heartbeat thread (``runs.registry``).
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import NamedTuple

OWNER_SILENCE_S = 120.0  # a run on another host whose heartbeat is older than this is taken as interrupted


def _process_start(pid: int) -> float | None:
    """The start time of process ``pid`` (Linux: clock ticks since boot), or None where unknown."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    return float(fields[19])  # field 22 of stat, counted after the command name


class ProcessIdentity(NamedTuple):
    """A process as a run's owner is recorded: its pid, its start time (so a reused pid is another process), its host."""
    pid: int
    start: float | None
    host: str


THIS_PROCESS = ProcessIdentity(os.getpid(), _process_start(os.getpid()), socket.gethostname())


def owner_alive(pid: int | None, start: float | None, host: str | None, heartbeat: float | None,
                me: ProcessIdentity = THIS_PROCESS) -> bool:
    """Whether the process that owns a run still runs it: same pid and start time (so a reused pid does
    not count); without /proc, whether that pid exists; on another host, a heartbeat in the last two minutes
    (``OWNER_SILENCE_S``; the owner beats every ``runs.HEARTBEAT_S`` while it holds active runs). ``me``: the
    process asking (the store passes its own, which a test can replace)."""
    if pid is None:
        return False
    if host != me.host:
        return heartbeat is not None and time.time() - heartbeat < OWNER_SILENCE_S
    if pid == me.pid:
        return start == me.start
    if start is not None and me.start is not None:
        return _process_start(pid) == start
    if os.name == "nt":  # os.kill would end the process there
        return heartbeat is not None and time.time() - heartbeat < OWNER_SILENCE_S
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
