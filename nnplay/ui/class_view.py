"""Class mode in the app: the token printed at start, the teacher's sign-in and cookie, learners' names, and the
Class page's body.

What lives here: ``announce_class`` (once per process: the Class page's link with a made token goes to the
server's log), ``shown_in_navigation`` (the Class page is linked for the teacher only), ``learner_name_box`` (a
learner's name, in the sidebar), ``store_notice`` (no server path for a learner) and ``class_page`` (every
learner's runs, live; the assignment and limits; the leaderboard; Stop; the CSV). What does not live here:
``is_teacher`` and ``may_open_run`` (``teacher_session``), the token, names, leaderboard and table
(``nnplay.classroom``), the store's reads (``nnplay.store_class``).
"""

from __future__ import annotations

import sys
import time

import streamlit as st

from ..classroom import teacher as classroom
from ..classroom.assignments import METRICS, SCORED, Constraints, assignment_score
from ..classroom.teacher import Score, accuracy_score
from ..names import escape_markdown
from ..store import StoreError
from .assignment_panel import teacher_assignment_editor
from .teacher_session import TEACHER_COOKIE, TEACHER_KEY, cookies, is_teacher, may_open_run  # noqa: F401
from .workspace import _COOKIE_JS, COOKIE_SECONDS, store, workspace

TEACHER_COOKIE_WRITER = "nnplay_teacher_cookie"
TOKEN_PARAM = "token"
REFRESH_S = 2.0  # how often the Class page's live part reads the class again
REFUSAL = ("The Class page is the teacher's. Open the link the server printed in its log when it started "
           "(/class?token=…).")
CLASS_OFFERS = """In class mode, on one server:
- **each learner** gets a workspace of their own and a name the teacher sees (never their workspace's token), and
  cannot open another learner's runs or this page;
- **the teacher** opens this page with the link the server prints at start, and sees every learner's runs live,
  a leaderboard of their best runs, and can stop any run and download the class's results as CSV;
- **assignments** ("reach 98% with at most 100,000 parameters") appear on every learner's Train page with their
  starting settings, and the leaderboard ranks by the task's metric among the runs that meet it, on a held-back
  half of the test set if you choose;
- **limits per learner** (parameters, epochs, runs queued at once, minutes per run) hold for every Start.

More in the project's docs/classroom.md."""
CLASS_OFF = ("Class mode is off. Start the server with NNPLAY_CLASS=1 (or NNPLAY_TEACHER_TOKEN=<a token>) to run a "
             "class: learners then pick names, and this page shows all of them.")


@st.cache_resource(show_spinner=False)
def announce_class() -> bool:
    """Once per process, in class mode: print the Class page's link to the server's log. A token made at start is
    printed (the only place it is shown); a token from the environment is not repeated."""
    if not classroom.class_mode():
        return False
    port = st.get_option("server.port")
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    path = f"{'/' + base if base else ''}/class"
    if classroom.token_was_made():
        line = f"http://localhost:{port}{path}?{TOKEN_PARAM}={classroom.teacher_token()}"
        print(f"nnplay class mode: the teacher opens the Class page at\n    {line}\n(the token was made at start; set "
              "NNPLAY_TEACHER_TOKEN to keep one across restarts)", file=sys.stderr, flush=True)
    else:
        print(f"nnplay class mode: the teacher opens {path}?{TOKEN_PARAM}=<NNPLAY_TEACHER_TOKEN>", file=sys.stderr,
              flush=True)
    return True


def shown_in_navigation(url_path: str) -> bool:
    """Whether the sidebar links the page: every page but the Class page, which only the teacher sees."""
    return url_path != "class" or is_teacher()


def store_notice(notice: str) -> str:
    """The run store's notice as this viewer may read it: in class mode a learner is not shown the server's paths."""
    if not classroom.class_mode() or is_teacher():
        return notice
    return "This server cannot keep runs as it should; your teacher sees why on the server."


@st.cache_resource(show_spinner=False)
def _cookie_writer():
    return st.components.v2.component("nnplay.teacher_cookie", js=_COOKIE_JS, isolate_styles=False,
                                      css=f".st-key-{TEACHER_COOKIE_WRITER} {{ display: none; }}")


def _sign_in() -> None:
    """Take ``?token=`` off the address (so it stays in no history or bookmark); with the right token, this session
    is the teacher's, its browser gets the teacher's cookie and its own workspace leaves the learners' list."""
    if TOKEN_PARAM not in st.query_params:
        return
    given = st.query_params.get(TOKEN_PARAM)
    del st.query_params[TOKEN_PARAM]
    if not classroom.token_matches(given):
        return
    st.session_state[TEACHER_KEY] = True
    try:
        store().leave_class(workspace())
    except StoreError:
        pass  # a read-only store: the teacher's browser may stay listed as a learner
    st.rerun()  # the sidebar, drawn before this page, then links the Class page and asks no name


def _keep_cookie() -> None:
    value = classroom.session_value()
    if cookies().get(TEACHER_COOKIE) != value:
        cookie = f"{TEACHER_COOKIE}={value}; path=/; max-age={COOKIE_SECONDS}; SameSite=Strict"
        _cookie_writer()(data={"cookie": cookie}, key=TEACHER_COOKIE_WRITER)


# -- learners' names -----------------------------------------------------------------------------------------

NAME_KEY = "class_name"
NAME_NOTE_KEY = "_class_name_note"


def _save_name() -> None:
    try:
        name = classroom.check_learner_name(st.session_state.get(NAME_KEY, ""))
        store().rename_learner(workspace(), name)
    except (ValueError, StoreError) as err:
        st.session_state[NAME_NOTE_KEY] = str(err)


def learner_name_box() -> None:
    """In class mode, a learner's name in the sidebar: asked for on the first visit (until then they are
    "learner N"), then shown with a box to change it. The teacher and a class-less server see nothing."""
    if not classroom.class_mode() or is_teacher():
        return
    try:
        me = store().learner(workspace()) or store().join_class(workspace())  # a write on the first visit only
    except StoreError:
        return
    note = st.session_state.pop(NAME_NOTE_KEY, None)
    if me.named and not note:
        st.caption(f"In this class you are **{escape_markdown(me.name)}**.")
        with st.popover("Change your name", type="tertiary"):
            _name_inputs(me.name)
        return
    st.markdown(f"**Your name in this class** (the teacher sees it; until you pick one you are "
                f"*{escape_markdown(me.name)}*)")
    _name_inputs("")
    if note:
        st.error(note)


def _name_inputs(value: str) -> None:
    st.text_input("Your name", value=value, key=NAME_KEY, max_chars=classroom.NAME_MAX,
                  label_visibility="collapsed", placeholder="your name")
    st.button("Save my name", key="class_name_save", on_click=_save_name)


# -- the Class page ------------------------------------------------------------------------------------------

STOP_KEY = "class_stop_pick"
STOP_NOTE_KEY = "_class_stop_note"


def _stop(run_id: str) -> None:
    """Stop a learner's run through its own stop path (a run another process trains gets the request through the
    store)."""
    from ..runs import find_run

    try:
        run = find_run(store(), run_id)
    except StoreError as err:
        st.session_state[STOP_NOTE_KEY] = f"The run could not be stopped: {err}"
        return
    if run is None or not run.active:
        st.session_state[STOP_NOTE_KEY] = "That run has already ended."
        return
    run.stop()
    st.session_state[STOP_NOTE_KEY] = f"Stop was sent to {escape_markdown(run.name)}."


def _run_label(run, epoch: bool = False) -> str:
    """The Stop box's name for a run; ``epoch``: with its status and progress, for the line under the box. The
    box's own labels stay still, or a refresh would close its open list: not even the status (queued, running,
    paused) is in them, which the table above and that line show."""
    if not epoch:
        return f"{run.learner} · {run.name}"
    progress = f", epoch {run.epoch or 0}/{run.epochs}" if run.epochs else ""
    return f"{run.learner} · {run.name} ({run.status}{progress})"


def empty_board(runs, rule: str | None) -> str:
    """What the leaderboard says while no run is on it. With an assignment (``rule``: its constraints in words, ""
    for none), whether no run has ended yet, or which runs ended and why none is ranked."""
    if rule is None:
        return "No run has been tested yet: the board fills as the learners' runs finish their first epoch."
    ended = sum(r.status in SCORED for r in runs)
    if not ended:
        return "No run has ended yet: the board ranks the runs that end with a model and meet the assignment."
    if rule and ended == 1:
        return f"No run is on the board yet: the run that ended does not meet the assignment ({rule})."
    if rule:
        return f"No run is on the board yet: none of the {ended} runs that ended meets the assignment ({rule})."
    if ended == 1:
        return "No run is on the board yet: the run that ended has no score for the assignment's metric yet."
    return f"No run is on the board yet: the {ended} runs that ended have no score for the assignment's metric yet."


def _live_part(score: Score, metric: str, rule: str | None = None) -> None:
    """What the page refreshes on its own: the counts, the leaderboard, every run, Stop and the CSV."""
    from .run_link import run_url

    try:
        learners = store().learners()
        runs = store().class_runs()
    except StoreError as err:
        st.error(f"The class could not be read: {err}")
        return
    active = [r for r in runs if r.active]
    st.caption(f"{len(learners)} learner{'s' if len(learners) != 1 else ''} · {len(runs)} runs · {len(active)} "
               f"training or queued · read at {time.strftime('%H:%M:%S')}")
    standings = classroom.leaderboard(runs, score)
    st.subheader("Leaderboard")
    if standings:
        board = classroom.standings_table(standings, metric)
        board["open"] = [run_url(i) for i in board["run id"]]
        st.dataframe(board.drop(columns=["run id"]), hide_index=True, key="class_board",
                     column_config={"open": st.column_config.LinkColumn("link", display_text="open (read-only)"),
                                    metric: st.column_config.NumberColumn(format="%.4f")})
    else:
        st.caption(empty_board(runs, rule))

    st.subheader("Every run")
    table = classroom.runs_table(runs)
    table["open"] = [run_url(i) for i in table["run id"]]
    st.dataframe(table.drop(columns=["run id"]), hide_index=True, key="class_runs",
                 column_config={"open": st.column_config.LinkColumn("link", display_text="open (read-only)"),
                                "test accuracy": st.column_config.NumberColumn(format="%.4f")})
    idle = [learner.name for learner in learners if learner.number not in {r.number for r in runs}]
    if idle:
        st.caption("No run yet: " + ", ".join(escape_markdown(n) for n in idle))
    # below the table: its toolbar, shown above it on hover, would cover the Stop button
    pick = [r.id for r in active]
    labels = {r.id: _run_label(r) for r in active}
    row = st.container(horizontal=True, vertical_alignment="bottom")
    chosen = row.selectbox("A run that trains", pick, key=STOP_KEY, format_func=lambda i: labels.get(i, i),
                           placeholder="no run is training" if not pick else "pick a run to stop",
                           disabled=not pick)
    row.button("Stop it", key="class_stop", disabled=chosen is None, on_click=_stop, args=(chosen,),
               icon=":material/stop:")
    picked = next((r for r in active if r.id == chosen), None)
    if picked is not None:
        with st.container(key="class_stop_progress"):
            st.caption(escape_markdown(_run_label(picked, epoch=True)))
    if STOP_NOTE_KEY in st.session_state:
        st.info(st.session_state.pop(STOP_NOTE_KEY))
    # made when clicked, from the runs shown: a refresh every REFRESH_S seconds does not write 600 rows each time
    st.download_button("Download the class's results (CSV)", lambda: classroom.results_csv(runs, standings),
                       file_name="class-results.csv", mime="text/csv", key="class_csv", on_click="ignore",
                       icon=":material/download:")


def class_page(score: Score = accuracy_score, metric: str = "test accuracy") -> None:
    """The Class page: refused (one sentence, whatever was tried) unless this is the teacher; else every learner's
    runs, refreshed every ``REFRESH_S`` seconds without rerunning the page. ``score`` ranks the leaderboard (higher
    is better, None leaves a run out: a task's metric and constraints), ``metric`` names its column."""
    if not classroom.class_mode():
        st.info(CLASS_OFF, icon=":material/school:")
        st.markdown(CLASS_OFFERS)
        return
    _sign_in()
    if not is_teacher():
        st.error(REFUSAL, icon=":material/lock:")
        return
    _keep_cookie()
    st.caption("Learners appear as they open the app and pick a name. Each run's link opens it read-only; "
               "Stop ends a run (its model so far is kept).")
    assignment, rule = store().current_assignment(), None
    if assignment is not None:  # the board ranks by the task's metric, among the runs that meet its constraints
        score, metric = assignment_score(assignment, store()), METRICS[assignment.metric]
        rule = Constraints.from_dict(assignment.constraints).text()
        st.markdown(f"**The assignment:** {escape_markdown(assignment.title)} — ranked by {metric}"
                    + (f" ({escape_markdown(rule)})" if rule else ""))
    st.fragment(_live_part, run_every=REFRESH_S)(score, metric, rule)
    with st.expander("Assignments and limits per learner", expanded=assignment is None):
        teacher_assignment_editor()
