"""Class mode: the teacher, and the rules for learners: assignments and their ranking, per-learner limits, the
held-back test half and the queue's expected wait.

``teacher`` (whether class mode is on, the teacher's token and session, learners' names, the leaderboard, the
class's results as a table), ``limits`` (what the teacher caps per learner: parameters, epochs, runs queued at once, minutes per run; the
sentence that refuses a Start), ``assignments`` (a task with starting settings, constraints and a metric;
``ranking``), ``heldback`` (the deterministic split of the test set into a visible and a hidden half; the hidden
score of an ended run), ``wait`` (a queued run's place and expected wait from measured epoch times).
What does not live here: the class page (``nnplay.ui.class_view``), the store's reads (``store_class``), the queue itself
(``nnplay.jobs.local``). Nothing here imports streamlit.
"""

from .limits import Limits, class_mode, limit_refusal, read_limits, save_limits

__all__ = ["Limits", "class_mode", "limit_refusal", "read_limits", "save_limits"]
