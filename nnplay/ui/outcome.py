"""How a run ended, as the Train page says it under the run's charts: a pure function of the run (no streamlit).

``outcome(run)`` is None while the run trains (or for a loaded run), else an ``Outcome``: the kind of box
("success", "info", "warning", "error"), its sentence and its icon. ``duration_text`` writes a training time
so that one that is not zero never reads "0.0 s".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..jobs.run_loop import MODEL_KEPT
from ..names import plural
from ..runs import format_duration


@dataclass(frozen=True)
class Outcome:
    kind: Literal["success", "info", "warning", "error"]
    text: str
    icon: str | None = None


def duration_text(seconds: float) -> str:
    """``runs.format_duration``, but a time under 0.05 s that is not zero keeps its first digit ("0.03 s")."""
    if 0 < seconds < 0.05:
        return f"{seconds:.1g} s"
    return format_duration(seconds)


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def _without_notes(message: str) -> str:
    """A run's message without the notes of what was not kept (``not_kept`` says them once)."""
    for note in (" (its model was not kept", " (not all of it was kept", " (not kept:"):
        message = message.split(note)[0]
    return message


def not_kept(run) -> str:
    """What a run that ended lost to the store (a full disk, a read-only store), as a sentence; "" when its model
    was kept. Never claims a model the other pages cannot use."""
    if getattr(run, "store", True) is None and getattr(run, "store_note", ""):  # never written to the store
        why = run.store_note.removeprefix("not kept: ")
        current = (" It is now the current model the other pages use, until the server stops."
                   if getattr(run, "unkept_offered", False) and run.usable else
                   " Its model lasts until the server stops: download it with Model (.pt) to keep it."
                   if run.usable else "")
        return f"It was not kept in the run store: {why[:1].lower() + why[1:]}{current}"
    note = getattr(run, "model_note", "")
    if not note:
        return ""
    epoch = getattr(run, "kept_epoch", None)
    if run.usable and epoch:
        return (f"Its final model was not kept: {note} Epoch {epoch}'s model is kept and is now the current model "
                "the other pages use.")
    return f"Its model was not kept: {note}"


def outcome(run) -> Outcome | None:
    """What the page says of a run that ended: finished (its numbers), stopped, interrupted, diverged or failed."""
    lost = not_kept(run) if run.status in ("finished", "stopped") else ""
    if run.status == "finished":
        final = run.final()
        if final["test_accuracy"] is None:  # its numbers were not read: print none
            why = getattr(run, "read_error", "") or "no epoch's numbers were kept."
            return Outcome("warning", f"This run finished, but its curves cannot be shown: {why}",
                           ":material/warning:")
        return Outcome("warning" if lost else "success",
                       f"Finished {plural(final['epochs_done'], 'epoch')} in "
                       f"{duration_text(final['seconds'])}: test accuracy {final['test_accuracy']:.2%}, "
                       f"train accuracy {final['train_accuracy']:.2%} (measured on each batch while the "
                       f"network was still learning, so it trails early on). "
                       + (lost or "This is now the current model the other pages use."),
                       ":material/warning:" if lost else None)
    if run.status == "stopped":
        if lost:
            return Outcome("warning", f"{_sentence(_without_notes(run.message))}. {lost}", ":material/warning:")
        said = run.message.rstrip(" .")
        kept = "" if MODEL_KEPT in said else ". The model trained so far is kept"  # a time limit's message says it
        return Outcome("info", f"{_sentence(said)}{kept}" + (" and is now the current model." if run.usable else "."))
    if run.status == "interrupted":  # the server stopped under it: say what is left of it
        return Outcome("info", _sentence(run.message)
                       + (" You can pick it in the sidebar's model picker." if run.usable else ""),
                       ":material/power_off:")
    if run.status == "diverged":
        return Outcome("warning", f"This run {run.message} The curve up to that step is kept above. Hint: a loss "
                                  f"that explodes means the steps are too large; lower the learning rate, or use "
                                  f"Adam, which copes with larger ones.", ":material/warning:")
    if run.status == "error":
        return Outcome("error", f"The run failed: {run.message}")
    return None
