"""The Sweeps page (/sweeps): build a sweep of runs over a few settings, start it, watch it, stop or continue it.

It reads widgets (a base from a preset or the Train page, the settings to vary and their values, grid or random
draws, seeds, early stopping) → a plan (``nnplay.sweeps``, which checks every value, counts the runs and
estimates the time) → ``Sweep`` (start, stop, continue; kept in the run store) → draw: a table of the sweep's
runs, refreshed by a fragment while it trains. The sweep shown lives in the URL (``?sweep=<id>``), so a reload
finds it. What does not live here: the plan, its checks and the sweep itself (``nnplay.sweeps``), the values'
widgets' defaults and the table's rows (``nnplay.ui.sweep_builder``).
"""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from nnplay.config import MAX_SEED, PRESETS, ConfigError
from nnplay.names import escape_markdown
from nnplay.runs import format_duration
from nnplay.store import StoreError
from nnplay.sweeps import (DEFAULT_ETA, MAX_RUNS, MAX_SEEDS, SETTINGS, continue_sweep, estimate_seconds, load_sweep,
                           measured_runs, missing_runs, overhead_seconds, run_key, start_sweep, worker_count)
from nnplay.sweeps.live import refusal
from nnplay.ui import dataset_or_stop, ensure_navigation, store, workspace
from nnplay.ui import sweep_builder as sb
from nnplay.ui.number_box import number_box

COMPARE_PAGE = str(Path(__file__).with_name("compare.py"))  # absolute: resolves the same under app.py and in tests
TABLE_ROW_PX = 35  # a dataframe row's height: the runs table shows up to 20 rows before it scrolls
SWEEP_PARAM = "sweep"  # ?sweep=<id>: the sweep this page shows
KEEP = "session"  # widgets keep their values when the learner visits another page and comes back


# ---------------------------------------------------------------------------------------------
# building a sweep


def base_section(slots: dict, typed: dict, refused: dict) -> tuple | None:
    """The configs every run starts from; None (with the refusal beside its box) while they are bad."""
    train_configs = st.session_state.get("_train_configs")
    options = ([sb.TRAIN_BASE] if train_configs and len(train_configs) == 3 else []) + list(PRESETS)
    c1, c2, c3, c4 = st.columns([2.2, 0.8, 0.8, 0.8], vertical_alignment="top")
    slots["base"] = note = st.container()  # the row's refusals, under it: its columns are too narrow for a sentence
    c1.selectbox("Start from", options, key="sweep_base", persist_state=KEEP,
                 format_func=lambda k: "the Train page's settings" if k == sb.TRAIN_BASE else PRESETS[k].title,
                 help="every run has these settings but the ones the sweep varies")
    train_total, test_total = len(data.train_images), len(data.test_images)
    boxes = (("epochs", c2, "Epochs", 2, 1000, False, None),
             ("train_limit", c3, "Training images", min(2000, train_total), train_total, True,
              "each run trains on the first N training images (empty: all)"),
             ("test_limit", c4, "Test images", min(500, test_total), test_total, True,
              "each run is tested on the first N test images (empty: all)"))
    for name, column, label, default, most, optional, words in boxes:
        typed[name], refused[name] = number_box(column, label, f"sweep_{name}", default, 1, most, optional=optional,
                                                help=words, refuse=note, persist_state=KEEP)
    if refused["epochs"] or refused["train_limit"] or refused["test_limit"]:
        return None
    try:
        return sb.base_configs(st.session_state["sweep_base"], train_configs, typed["epochs"], typed["train_limit"],
                               typed["test_limit"])
    except ConfigError as err:
        note.error(str(err), icon=":material/block:")
        return None


def values_row(key: str, slots: dict) -> None:
    """One varied setting's values: a list typed as text, or a range (low, high, count, log or linear)."""
    setting = SETTINGS[key]
    c_name, c_kind, c_values = st.columns([1.1, 1.3, 3.6], vertical_alignment="bottom")  # "list | range" whole
    c_name.markdown(f"**{setting.label}**")
    kinds = [sb.LIST, sb.RANGE] if setting.numeric else [sb.LIST]
    kind = c_kind.segmented_control(f"{setting.label}: values as", kinds, default=sb.LIST, key=f"sweep_kind_{key}",
                                    label_visibility="collapsed", persist_state=KEEP)
    if kind == sb.RANGE:
        low, high, count, scale = sb.default_range(key)
        step, fmt = (1, None) if setting.kind == "int" else (None, "%g")
        r1, r2, r3, r4 = c_values.columns([1, 1, 0.8, 1.3], vertical_alignment="bottom")  # "log | linear" whole
        r1.number_input("low", key=f"sweep_low_{key}", value=low, step=step, format=fmt, persist_state=KEEP)
        r2.number_input("high", key=f"sweep_high_{key}", value=high, step=step, format=fmt, persist_state=KEEP)
        r3.number_input("count", key=f"sweep_count_{key}", value=count, min_value=1, step=1, persist_state=KEEP)
        r4.segmented_control("scale", ["log", "linear"], default=scale, key=f"sweep_scale_{key}",
                             persist_state=KEEP)
    else:
        st.session_state.setdefault(f"sweep_values_{key}", setting.example)
        layers = " (one network per entry, separated by semicolons)" if setting.kind == "layers" else ""
        c_values.text_input(f"{setting.label}: values", key=f"sweep_values_{key}", label_visibility="collapsed",
                            persist_state=KEEP, help=f"e.g. {setting.example}{layers}")
    slots[key] = st.empty()


def vary_section(slots: dict, typed: dict, refused: dict) -> None:
    """The settings to vary (a row of values each), the seeds, grid or random draws, early stopping."""
    c_vary, c_seeds, c_first = st.columns([4, 1.1, 0.9], vertical_alignment="top")
    slots["seeds"] = seeds_note = st.container()
    c_vary.multiselect("Settings to vary", list(SETTINGS), key="sweep_vary", format_func=lambda k: SETTINGS[k].label,
                       default=list(sb.DEFAULT_VARY), persist_state=KEEP,
                       help="a setting given one value sets it for every run; several values make the sweep")
    typed["seeds"], refused["seeds"] = number_box(
        c_seeds, "Seeds per setting", "sweep_seeds", 1, 1, MAX_SEEDS, refuse=seeds_note, persist_state=KEEP,
        help="each setting trained with this many seeds (first seed, the next, …): how much the seed alone moves "
             "the result")
    typed["first_seed"], refused["first_seed"] = number_box(
        c_first, "First seed", "sweep_first_seed", 0, 0, MAX_SEED, refuse=seeds_note, persist_state=KEEP,
        help="each run of a setting takes the next seed up from this one")
    for key in st.session_state["sweep_vary"]:
        values_row(key, slots)
    c_search, c_draws, c_draw_seed, c_early, c_eta = st.columns([1.9, 0.9, 0.9, 1.6, 0.8], vertical_alignment="top")
    slots["draws"] = slots["search"] = slots["eta"] = note = st.container()
    c_search.segmented_control("Runs", ["grid", "random"], default="grid", key="sweep_search", persist_state=KEEP,
                               format_func={"grid": "grid", "random": "random draws"}.get,
                               help="grid: every combination of the values; random draws: that many settings "
                                    "drawn from them (a range anywhere between its ends)")
    typed["draws"] = typed["draw_seed"] = None
    if st.session_state.get("sweep_search") == "random":
        typed["draws"], refused["draws"] = number_box(c_draws, "Draws", "sweep_draws", 10, 1, MAX_RUNS, refuse=note,
                                                      persist_state=KEEP, help="how many settings to draw")
        typed["draw_seed"], refused["draw_seed"] = number_box(
            c_draw_seed, "Draw seed", "sweep_draw_seed", 0, 0, MAX_SEED, refuse=note, persist_state=KEEP,
            help="the same draw seed draws the same settings")
    c_early.toggle("Early stopping", key="sweep_early", value=False, persist_state=KEEP,
                   help="stop hopeless runs early by successive halving (as Ray Tune's ASHA): at each rung of epochs "
                        "only the best 1/η go on; a run stopped so says why, and its curve stays")
    typed["eta"] = DEFAULT_ETA
    if st.session_state.get("sweep_early"):
        typed["eta"], refused["eta"] = number_box(c_eta, "η", "sweep_eta", DEFAULT_ETA, 2, 10, refuse=note,
                                                  persist_state=KEEP,
                                                  help="keep the top 1/η of the runs at each rung; rungs every η× "
                                                       "epochs")


def show_refusals(errors: dict[str, str], slots: dict) -> None:
    """Each refusal beside the setting it names (the varied setting's row, else the base's or the search's)."""
    for field, sentence in errors.items():
        (slots.get(field) or slots["plan"]).error(sentence[:1].upper() + sentence[1:], icon=":material/block:")


def estimate_sentence(plan) -> str:
    """ "12 runs · about 3 min 20 s here, on 2 workers" or the sentence saying there is no estimate yet."""
    runs = f"**{plan.count():,} run{'s' if plan.count() != 1 else ''}** ({plan.count_text()})"
    try:
        measured = measured_runs(store(), workspace())
    except StoreError:
        measured = []
    workers = worker_count()
    seconds = estimate_seconds(plan, measured, len(data.train_images), workers=workers,
                               overhead_s=overhead_seconds(measured))
    if seconds is None:
        return (f"{runs} · no estimate yet: train one run first (here or on the Train page), and its epoch times "
                "give one.")
    where = f"on {workers} workers at once" if workers > 1 else "one after another"
    shorter = "; early stopping only shortens it" if plan.halving else ""
    return (f"{runs} · about **{format_duration(seconds)}** here, {where}, from the epoch times measured here and "
            f"each run's start and evaluation{shorter}.")


def subset(plan):
    """The data the plan's runs train on (its first N training and test images)."""
    return data.limited(plan.data.train_limit, plan.data.test_limit)


def start(plan) -> None:
    """Start button callback: the sweep's runs queue on the workers; the page follows it (``?sweep=<id>``)."""
    try:
        sweep = start_sweep(plan, store=store(), workspace=workspace(), data=subset(plan),
                            name=st.session_state.get("sweep_name"))
    except ValueError as err:  # checked again as it starts: memory, the store, another sweep since
        st.session_state["_sweep_note"] = f"The sweep did not start: {err}"
        return
    st.query_params[SWEEP_PARAM] = sweep.id


def build_section() -> None:
    st.markdown("#### Build a sweep")  # smaller than a subheader: Start stays above the fold at 720 px
    slots: dict = {}
    typed: dict = {}  # the number boxes' values (None: refused under its box)
    refused: dict = {}
    base = base_section(slots, typed, refused)
    vary_section(slots, typed, refused)
    slots["plan"] = st.empty()
    plan, errors = sb.read_plan({**st.session_state.to_dict(), **{f"sweep_{k}": v for k, v in typed.items()}}, base)
    for name in [n for n, sentence in refused.items() if sentence]:  # said under its box already
        errors.pop(sb.BOX_FIELDS.get(name, name), None)
        plan = None
    problem = refusal(plan, plan.expand(), subset(plan), workspace(), store()) if plan is not None else None
    if problem:  # what would stop it here: a batch larger than the data, memory, a CNN out of pixels
        errors[sb.place_refusal(problem, st.session_state["sweep_vary"])] = problem
        plan = None
    show_refusals(errors, slots)
    c_start, c_name, c_words = st.columns([1, 1.3, 3], vertical_alignment="center")
    c_name.text_input("Name", key="sweep_name", placeholder="name (optional)", label_visibility="collapsed",
                      help="empty: the settings it varies and its number of runs")
    if plan is not None:
        c_words.markdown(estimate_sentence(plan))
    elif "plan" not in errors:
        c_words.caption("Fix the settings marked above to start.")
    c_start.button("Start the sweep", key="sweep_start", type="primary", disabled=plan is None, width="stretch",
                   on_click=start, args=(plan,))


# ---------------------------------------------------------------------------------------------
# watching a sweep


def sweep_label(record) -> str:
    """ "learning rate × batch size (6 runs) · 03 Dec 14:02": no status, which the progress line says live."""
    return f"{record.name} · {time.strftime('%d %b %H:%M', time.localtime(record.created))}"


def pick_sweep() -> str | None:
    """The sweep shown: the one in the URL, else the workspace's newest; a list to pick another."""
    try:
        records = store().list_sweeps(workspace())
    except StoreError as err:
        st.warning(f"The workspace's sweeps could not be read: {err}")
        return None
    if not records:
        st.caption("No sweep yet in this workspace: build one above and press **Start the sweep**.")
        return None
    ids = [r.id for r in records]
    wanted = st.query_params.get(SWEEP_PARAM)
    if wanted not in ids:
        if wanted:
            st.warning(f"There is no sweep {escape_markdown(wanted)} in this workspace; showing the newest.")
        wanted = ids[0]
    if st.query_params.get(SWEEP_PARAM) != wanted:
        st.query_params[SWEEP_PARAM] = wanted  # a reload (or the link) finds the same sweep
    by_id = {r.id: r for r in records}
    # the URL decides: no key, so a list over other sweeps or at another index is a new widget that starts there
    chosen = st.selectbox("Sweep", ids, index=ids.index(wanted), format_func=lambda i: sweep_label(by_id[i]))
    if chosen != wanted:  # picked in the list: into the URL
        st.query_params[SWEEP_PARAM] = chosen
    return chosen


def entries(sweep) -> list[tuple]:
    """(settings, seed, run or None, why halted) for each run of the sweep's plan, in its order."""
    by_key = {run_key(r.model_cfg, r.train_cfg): r for r in sweep.runs}
    if sweep.plan is None:  # no plan to read: the runs as they are
        return [({}, r.train_cfg.seed, r, sb.halted(r)) for r in sweep.runs]
    out = []
    for planned in sweep.plan.expand():
        run = by_key.get(planned.key)
        out.append((planned.settings, planned.seed, run, sb.halted(run) if run is not None else ""))
    return out


def on_continue(sweep) -> None:
    """Continue button callback: queue only the runs of its plan that did not end for good."""
    try:
        continue_sweep(sweep, data=subset(sweep.plan))
    except ValueError as err:
        st.session_state["_sweep_note"] = f"The sweep could not continue: {err}"


def on_delete(sweep_id: str) -> None:
    """Delete button callback: the sweep, its runs' records, curves and files; the page shows the newest left."""
    sweep = load_sweep(store(), sweep_id)
    try:
        if sweep is not None:
            sweep.delete()
    except (ValueError, StoreError) as err:
        st.session_state["_sweep_note"] = f"The sweep was not deleted: {err}"
        return
    if st.query_params.get(SWEEP_PARAM) == sweep_id:
        del st.query_params[SWEEP_PARAM]


def delete_control(sweep_id: str) -> None:
    """Delete, behind a second click, once the sweep has ended (a training sweep is stopped first)."""
    sweep = load_sweep(store(), sweep_id)
    if sweep is None or sweep.active:
        return
    with st.popover("Delete this sweep…"):
        st.button(f"Delete the sweep and its {len(sweep.runs)} runs", key="sweep_delete", type="primary",
                  on_click=on_delete, args=(sweep_id,), help="its runs, curves and models are removed from the store")


def sweep_panel(sweep_id: str) -> None:
    """Progress, Stop/Continue and the runs table; a fragment that redraws every second while the sweep trains."""
    sweep = load_sweep(store(), sweep_id)
    was_active = sweep is not None and sweep.active

    @st.fragment(run_every=1.0 if was_active else None)
    def panel() -> None:
        current = load_sweep(store(), sweep_id)
        if current is None:
            st.warning("This sweep is no longer in the store.")
            return
        found = entries(current)
        rows = sb.sweep_rows(found)
        st.progress(sum(r["status"] == "finished" for r in rows) / max(1, len(rows)),
                    text=sb.progress_sentence(current.runs) + (f" · {len(rows) - len(current.runs)} not started"
                                                               if len(rows) > len(current.runs) else ""))
        c_stop, c_continue, c_compare = st.columns([1, 1.6, 2.4], vertical_alignment="center")
        c_stop.button("Stop", key="sweep_stop", disabled=not current.active, on_click=current.stop, width="stretch",
                      help="stop the runs that train and the queued ones; what finished is kept")
        left = len(missing_runs(current)) if not current.active else 0
        if left:
            c_continue.button(f"Continue the sweep ({left} run{'s' if left > 1 else ''})", key="sweep_continue",
                              on_click=on_continue,
                              args=(current,), width="stretch",
                              help="queue only the runs that did not finish; the finished ones are kept")
        # in this tab (a markdown link opens a new one): the comparison view, with this sweep's runs selected
        if c_compare.button("📊 Compare its runs", key="sweep_compare", help="the comparison view of its runs"):
            st.switch_page(COMPARE_PAGE, query_params={SWEEP_PARAM: sweep_id})
        if current.status == "interrupted":
            st.info("The server stopped while this sweep trained: its unfinished runs show as interrupted. "
                    "**Continue the sweep** queues only what is missing.")
        st.dataframe(rows, hide_index=True, key="sweep_table", height=TABLE_ROW_PX * (min(len(rows), 20) + 1) + 3,
                     column_config={"why": st.column_config.TextColumn(width="large")})
        grouped = sb.by_setting(found)
        best = sb.best_sentence(grouped)
        if best:
            st.markdown(best)
        if grouped and current.plan is not None and len(current.plan.seeds) > 1:
            st.caption("Each setting over its seeds (finished runs only), best first:")
            st.dataframe(grouped, hide_index=True, key="sweep_by_setting")
        if was_active and not current.active:
            st.query_params[SWEEP_PARAM] = sweep_id  # the rerun's address: this sweep's, not the run's first one
            st.rerun()  # the whole page: the estimate from its runs' times, Delete offered

    panel()


# ---------------------------------------------------------------------------------------------
# the page

ensure_navigation()
st.title("🧹 Sweeps")
st.caption("Many runs over a few settings and seeds: which setting mattered, and how much the seed alone moves it.",
           help="The runs queue on the workers like any run and are kept with your runs.")
data = dataset_or_stop()
if "_sweep_note" in st.session_state:
    st.warning(st.session_state.pop("_sweep_note"))
with st.container(border=True, gap="xsmall"):  # tight rows: Start above the fold at 1280×720
    build_section()
st.subheader("Watch it")
shown = pick_sweep()
if shown is not None:
    sweep_panel(shown)
    delete_control(shown)
