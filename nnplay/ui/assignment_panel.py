"""Assignments on the pages: the teacher's editor (for the class page) and the learner's banner on Train.

``teacher_assignment_editor()`` writes a task (title, text, starting settings as a Train link, constraints, the
metric the leaderboard ranks by) and lists the class's assignments with Show/Hide and Delete; it also sets the
per-learner limits (``classroom.limits``). ``learner_assignment_banner()`` shows the newest active assignment on
Train in class mode, with "Start from these settings", which loads them into Train's widgets the way a preset
does (``codec.widget_values``), and the class's limits. What does not live here: the checks and the ranking
(``nnplay.classroom.assignments``), the class page itself.
"""

from __future__ import annotations

import streamlit as st

from ..classroom.assignments import METRICS, Constraints, make_assignment, starting_configs
from ..classroom.limits import LABELS, Limits, class_mode, read_limits, save_limits
from ..codec import widget_values
from ..config import DATASETS
from ..names import escape_markdown
from ..store import StoreError
from .workspace import store

NOTE_KEY = "_train_note"  # the Train page shows (and clears) this note at its top
ANY = "any"


def _load_settings(assignment_id: str) -> None:
    """Button callback: the assignment's starting settings into Train's widgets (as a preset's are)."""
    record = store().get_assignment(assignment_id)
    if record is None:
        st.session_state[NOTE_KEY] = "That assignment was deleted by the teacher."
        return
    data_cfg, model_cfg, train_cfg, notes = starting_configs(record)
    for key, value in widget_values(data_cfg, model_cfg, train_cfg).items():
        st.session_state[key] = value
    st.session_state[NOTE_KEY] = " ".join([f"The settings of \"{escape_markdown(record.title)}\" are loaded.", *notes])


def learner_assignment_banner() -> None:
    """In class mode: the current assignment (if any) and the class's limits, above Train's controls."""
    if not class_mode():
        return
    try:
        record = store().current_assignment()
        limits = read_limits(store())
    except StoreError as err:
        st.caption(f"The class's assignment could not be read: {err}")
        return
    if record is not None:
        with st.container(border=True):
            st.markdown(f"**Assignment: {escape_markdown(record.title)}**")
            if record.text:
                st.markdown(escape_markdown(record.text))
            rules = Constraints.from_dict(record.constraints).text()
            st.caption(f"Ranked by {METRICS.get(record.metric, record.metric)}"
                       + (f" among runs with {rules}" if rules else "") + ".")
            if record.settings:
                st.button("Start from these settings", key="assignment_start_from", on_click=_load_settings,
                          args=(record.id,), help="load the assignment's starting settings into the controls below")
    st.caption("This class's limits per learner: " + ", ".join(limits.lines()) + ".")


def _constraints_inputs() -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input("Max parameters (0: none)", 0, 100_000_000, 0, step=10_000, key="assign_max_params")
    c2.number_input("Max epochs (0: none)", 0, 1000, 0, key="assign_max_epochs")
    c3.selectbox("Family", [ANY, "mlp", "cnn"], key="assign_family")
    c4.selectbox("Data set", [ANY, *DATASETS], key="assign_dataset")


def _constraints() -> dict:
    """The constraints the editor's boxes hold now (in a callback of the editor, so each box has its value)."""
    state = st.session_state
    family, dataset = state["assign_family"], state["assign_dataset"]
    return {"max_parameters": int(state["assign_max_params"]) or None,
            "max_epochs": int(state["assign_max_epochs"]) or None,
            "family": None if family == ANY else family, "dataset": None if dataset == ANY else dataset}


HANDED_OUT = "_assign_said"  # (kind, sentence) of the last "Hand it out", shown by the rerun it causes


def _hand_out() -> None:
    """Before the rerun, so the page's top and its leaderboard already rank by the new assignment."""
    state = st.session_state
    try:
        record = make_assignment(store(), state["assign_title"], state["assign_text"], state["assign_settings"],
                                 _constraints(), state["assign_metric"])
        state[HANDED_OUT] = ("success", f"\"{escape_markdown(record.title)}\" is handed out: learners see it on Train.")
    except (ValueError, StoreError) as err:
        state[HANDED_OUT] = ("error", escape_markdown(str(err)[:1].upper() + str(err)[1:]))


def _limits_editor() -> None:
    limits = read_limits(store())
    st.markdown("**Limits per learner**")
    c1, c2, c3, c4 = st.columns(4)
    values = {
        "max_parameters": c1.number_input(LABELS["max_parameters"].capitalize(), 1, 1_000_000_000,
                                          limits.max_parameters, step=100_000, key="limit_max_parameters"),
        "max_epochs": c2.number_input(LABELS["max_epochs"].capitalize(), 1, 1000, limits.max_epochs,
                                      key="limit_max_epochs"),
        "max_queued": c3.number_input(LABELS["max_queued"].capitalize(), 1, 100, limits.max_queued,
                                      key="limit_max_queued"),
        "max_minutes": c4.number_input(LABELS["max_minutes"].capitalize(), 0.1, 24 * 60.0, float(limits.max_minutes),
                                       key="limit_max_minutes"),
    }
    if st.button("Save the limits", key="limit_save"):
        try:
            save_limits(store(), Limits(int(values["max_parameters"]), int(values["max_epochs"]),
                                        int(values["max_queued"]), float(values["max_minutes"])))
            st.success("Saved: every learner's next Start is checked against them.")
        except (ValueError, StoreError) as err:
            st.error(str(err))


def teacher_assignment_editor() -> None:
    """The class page's assignments: write one, show or hide each, delete; and the limits per learner."""
    st.subheader("Assignments")
    st.text_input("Title", key="assign_title", placeholder="Reach 98% with at most 100,000 parameters")
    st.text_area("Task", key="assign_text", placeholder="What the learners should try, and why.")
    st.text_input("Starting settings (a Train link, optional)", key="assign_settings",
                  placeholder="http://…/train?hidden=64&epochs=5", help="open Train, set it up, copy the address")
    _constraints_inputs()
    st.radio("Rank by", list(METRICS), format_func=METRICS.get, key="assign_metric", horizontal=True)
    st.button("Hand it out", key="assign_create", type="primary", on_click=_hand_out)
    said = st.session_state.pop(HANDED_OUT, None)
    if said is not None:
        (st.success if said[0] == "success" else st.error)(said[1])
    for record in store().list_assignments():
        c1, c2, c3 = st.columns([4, 1, 1], vertical_alignment="center")
        rules = Constraints.from_dict(record.constraints).text()
        c1.markdown(f"**{escape_markdown(record.title)}**" + (" (hidden)" if not record.active else "")
                    + (f" · {rules}" if rules else "") + f" · {METRICS.get(record.metric, record.metric)}")
        c2.button("Hide" if record.active else "Show", key=f"assign_toggle_{record.id}",
                  on_click=lambda r=record: store().update_assignment(r.id, active=not r.active))
        c3.button("Delete", key=f"assign_delete_{record.id}",
                  on_click=lambda r=record: store().delete_assignment(r.id))
    _limits_editor()
