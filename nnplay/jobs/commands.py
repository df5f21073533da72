"""The commands a caller sends to a running job, as types: what ``Job.stop()`` … ``Job.watch()`` become.

Every backend carries them the same way: the local pool pickles them down a worker's command pipe, Ray
sends them to the actor's ``command`` method, the thread backend applies them here. ``apply(control,
command)`` is the one place that turns a command into a call on the engine's ``RunControl`` (plus the
weights-snapshot deadline ``watch_until`` the run loop reads). Nothing here imports torch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Stop:
    """End the run at its next step; its model so far is kept."""


@dataclass(frozen=True)
class Pause:
    """Hold the run before its next step."""


@dataclass(frozen=True)
class Resume:
    """Let a paused run go on at its speed."""


@dataclass(frozen=True)
class Step:
    """Step mode: while paused, let exactly ``n`` more training steps through."""
    n: int = 1

    def __post_init__(self):
        if not isinstance(self.n, int) or isinstance(self.n, bool) or self.n < 1:
            raise ValueError(f"Step(n) lets n ≥ 1 steps through, got {self.n!r}.")


@dataclass(frozen=True)
class SetRate:
    """Train at most ``steps_per_second`` steps a second (None: full speed)."""
    steps_per_second: float | None = None

    def __post_init__(self):
        if self.steps_per_second is not None and not self.steps_per_second > 0:
            raise ValueError(f"steps_per_second must be above 0 (or None for full speed), "
                             f"got {self.steps_per_second}.")


@dataclass(frozen=True)
class Watch:
    """Send ``Weights`` snapshots (at most one a second) for the next ``seconds``."""
    seconds: float = 5.0


Command = Stop | Pause | Resume | Step | SetRate | Watch


def apply(control, command: Command) -> None:
    """Do ``command`` on the engine's ``RunControl`` of the run it is for; a TypeError for anything else."""
    if isinstance(command, Stop):
        control.stop()
    elif isinstance(command, Pause):
        control.pause()
    elif isinstance(command, Resume):
        control.resume()
    elif isinstance(command, Step):
        control.step(command.n)
    elif isinstance(command, SetRate):
        control.set_rate(command.steps_per_second)
    elif isinstance(command, Watch):
        control.watch_until = time.monotonic() + max(0.0, float(command.seconds))
    else:
        raise TypeError(f"not a job command: {command!r}")
