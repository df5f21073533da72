"""Experiments: note 003's hyperparameter studies at a glance, and a learning-rate range test.

Each study is one click: its runs train one after another in a background ``Sweep`` kept in the
session's sweeps, drawn live on shared axes by a fragment that reruns every second while the
sweep trains. A study (or the range test) that does not fit in memory beside the runs queued or starting
here is refused with a sentence (``runs.refusal_for``) and nothing of it is queued. The studies, the results
table and the range test live in ``nnplay.lessons.experiments``; the figures in ``nnplay.figures.experiments``.
This script reads widgets and draws.
"""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from nnplay.lessons import experiments as ex
from nnplay.figures import experiments as fx
from nnplay import ui
from nnplay.classroom import class_mode
from nnplay.config import DataConfig
from nnplay.names import escape_markdown
from nnplay.runs import Run, Sweep, call_in_worker, format_duration, refusal_for, status_text
from nnplay.ui import dataset_or_stop, session_sweeps, training_run
from nnplay.ui.number_box import number_box

TRAIN_PAGE = str(Path(__file__).with_name("train.py"))  # absolute: resolves the same under app.py and in tests
PREFIX = "experiments/"
RANGE = "range"
RANGE_KEY = "exp_range_result"
HELD_BACK = ("In this class each run is tested on the visible half of these test images; the other half is held "
             "back for the class's leaderboard.")
MODELS = {"mlp": ("MLP 784-256-256-10, ReLU, N(0, 1) init (note 003)", ex.SEED003_MLP),
          "cnn": ("CNN 32-64-128, FC 625 (note 003)", ex.SEED003_CNN)}


def sweep_key(study_key: str) -> str:
    return PREFIX + study_key


def running_study() -> str | None:
    """The key of this session's study that is training now, if any (one at a time: 2 CPU cores)."""
    for key, sweep in session_sweeps().items():
        if key.startswith(PREFIX) and sweep.active:
            return key.removeprefix(PREFIX)
    return None


# ---------------------------------------------------------------------------------------------
# page head

ui.ensure_navigation()
st.title("🧪 Experiments: the studies of note 003")
st.caption("Pick a study and run it: its runs train one after another in the background, drawn live on the same "
           "axes, with a results table to download. What each study changes and what the note saw is beside the "
           "button; the models are described at the foot of the page.")

data = dataset_or_stop()
n_train, n_test = len(data.train_images), len(data.test_images)
labels = {key: s.title for key, s in ex.STUDIES.items()} | {RANGE: "LR range test"}
choice = st.radio("Study", list(labels), format_func=labels.get, horizontal=True, key="exp_study")
for _key in ex.STUDIES:  # after a reload: each study's last sweep, read back from the store
    ui.restore_sweep(sweep_key(_key), f"{sweep_key(_key)}/")

c_mode, c_size = st.columns([1, 2])
full = c_mode.toggle("Full settings of the note", value=False, key="exp_full",
                     help="Off: a quick version of each study (a few epochs on fewer images). "
                          f"On: the note's epochs on all {n_train:,} training images, which takes far longer.")
mode = "full" if full else "quick"
train_limit = test_limit = None
limit_refused = ""  # the sentence that refuses a typed number of images (the study's button waits for a fix)
if full:
    c_size.warning(f"Full settings of the note: all {n_train:,} training images and the note's epochs, many times the "
                   "quick mode's time on a CPU (the estimate beside the button comes from a run measured here); "
                   "a GPU is much faster.", icon="⏳")
else:
    with c_size.expander("Quick mode: use fewer images"):
        # text boxes: a number box would drop a count out of its range and run the study on the old one
        train_limit, train_refused = number_box(st, "Training images (empty: the study's default)", "exp_train_limit",
                                                None, 100, n_train, optional=True)
        test_limit, test_refused = number_box(st, "Test images (empty: the study's default)", "exp_test_limit", None,
                                              100, n_test, optional=True)
        limit_refused = train_refused or test_refused
st.divider()


# ---------------------------------------------------------------------------------------------
# a study


def study_refusal(planned: list[ex.StudyRun]) -> str | None:
    """Why the study's runs cannot start now (they do not fit in memory beside the runs queued or starting here,
    from any workspace), else None."""
    return refusal_for([(r.model, r.train) for r in planned], workspace=ui.workspace(), store=ui.store())


def start_study(study: ex.Study, planned: list[ex.StudyRun]) -> str | None:
    """Queue the study's runs as one sweep; the sentence that refused them instead (nothing queued), if any."""
    refusal = study_refusal(planned)  # checked again as it starts: another workspace may have queued meanwhile
    if refusal:
        return refusal
    dcfg = ex.shared_data_config(planned)
    subset = data.limited(dcfg.train_limit, dcfg.test_limit)
    runs = [Run(r.label, r.data, r.model, r.train) for r in planned]
    sweep = Sweep(f"{PREFIX}{study.key}/{mode}", runs, subset, **ui.sweep_store()).start()  # kept as sweep runs
    if sweep.refusal:  # the class's limits, checked again where the runs start: none of them started
        return sweep.refusal
    session_sweeps()[sweep_key(study.key)] = sweep
    return None


def draw_progress(sweep: Sweep) -> None:
    total = len(sweep.runs)
    st.progress(sweep.done / total, text=f"{sweep.done} of {total} runs done")
    if not sweep.active:
        return
    training = [r for r in sweep.runs if r.status in ("running", "paused")]  # several where workers are free
    for current in training:
        p = current.progress()
        eta = f", about {p['eta_s']:.0f} s left" if p["eta_s"] is not None else ""
        st.progress(min(p["fraction"], 1.0),
                    text=f"Now training **{current.name}**: epoch {p['epoch']} of {p['epochs']}, "
                         f"step {p['step']:,} of {p['total']:,}{eta}")
    waiting = next((r for r in sweep.runs if r.status == "queued"), None)
    if waiting is not None and not training:
        st.caption(f"**{waiting.name}**: {status_text(waiting)}")


def draw_outcomes(sweep: Sweep) -> None:
    for run in sweep.runs:
        if run.status == "error":
            st.error(f"{run.name} failed: {run.message}")
        elif run.status == "diverged":
            st.warning(f"{run.name} {run.message}")
    if not sweep.active and any(r.status == "stopped" for r in sweep.runs):
        st.info("The sweep was stopped; the table shows what had finished.")


def draw_results(study: ex.Study, sweep: Sweep, log_y: bool) -> None:
    runs = sweep.runs
    left, right = st.columns(2)
    left.plotly_chart(fx.study_loss_figure(runs, log_y=log_y, revision=f"loss-{study.key}"), key=f"exp_loss_{study.key}")
    right.plotly_chart(fx.accuracy_figure(runs, revision=f"acc-{study.key}"), key=f"exp_acc_{study.key}")
    if study.key == "batch":
        st.plotly_chart(fx.time_figure(runs, revision=f"time-{study.key}"), key=f"exp_time_{study.key}")
    rows = ex.results_rows(runs)
    st.dataframe(rows, hide_index=True, key=f"exp_table_{study.key}")
    st.caption("Train accuracy and loss: over the last epoch's batches as they were trained (dropout on, for "
               "the CNN). Test: on the test images after that epoch. Train seconds: the training steps; wall "
               "seconds adds the evaluation after each epoch.")
    if not sweep.active:
        mode_name = sweep.name.rsplit("/", 1)[-1]
        st.download_button("Download the table (CSV)", ex.results_csv(rows),
                           file_name=f"nnplay-{study.key}-{mode_name}.csv", mime="text/csv",
                           key=f"exp_csv_{study.key}", on_click="ignore")


def live_panel(study: ex.Study, log_y: bool) -> None:
    """Progress, curves and table of the study's sweep; a fragment that redraws every second while it trains."""
    key = sweep_key(study.key)
    sweep = session_sweeps().get(key)
    if sweep is None:
        st.info("Not run yet: press **Run the study**.")
        return
    was_active = sweep.active

    @st.fragment(run_every=1.0 if was_active else None)
    def panel() -> None:
        current = session_sweeps().get(key)
        if current is None:
            return
        still_active = current.active
        started = time.strftime("%H:%M:%S", time.localtime(current.created))
        st.caption(f"The last run of the study: {current.name.rsplit('/', 1)[-1]} mode, started {started}.")
        draw_progress(current)
        draw_outcomes(current)
        draw_results(study, current, log_y)
        if was_active and not still_active:
            st.rerun()  # the whole page: enable the buttons, show the download

    panel()


def estimate_caption(study: ex.Study, planned: list[ex.StudyRun]) -> str:
    """How long the study should take here, from its last sweep on this machine (no number before one)."""
    sweep = session_sweeps().get(sweep_key(study.key))
    seconds = ex.estimate_seconds(planned, sweep.runs if sweep is not None else [], n_train)
    if seconds is None:
        return ("⏱️ No estimate yet: the first run of this study times this machine, and the estimate here "
                "comes from it.")
    return (f"⏱️ About {format_duration(seconds)} here, from this study's last run on this machine; longer "
            "while other programs keep the CPU busy.")


def study_section(study: ex.Study) -> None:
    st.subheader(study.title)
    try:
        planned = study.runs(mode, train_limit, test_limit)
        plan = ex.plan_rows(planned)
    except ValueError as err:
        st.error(f"This study cannot be set up: {err}")
        return
    controls, about = st.columns([2, 3], gap="large")
    busy = running_study()
    sweep = session_sweeps().get(sweep_key(study.key))
    refusal = study_refusal(planned) if busy is None and not limit_refused else None
    with controls:
        c_run, c_stop = st.columns(2)
        if c_run.button("Run the study", key=f"exp_run_{study.key}", type="primary",
                        disabled=busy is not None or refusal is not None or bool(limit_refused), width="stretch"):
            try:
                refused = start_study(study, planned)
            except Exception as err:  # keep the page alive and say what happened
                st.error(f"The study could not start: {type(err).__name__}: {err}")
            else:
                if refused:
                    refusal = refused
                else:
                    st.rerun()
        if refusal:
            st.error(escape_markdown(f"The study cannot start: {refusal}"), icon=":material/block:")
        elif limit_refused:
            st.caption("Fix the number of images above to run the study.")
        if c_stop.button("Stop", key=f"exp_stop_{study.key}", disabled=sweep is None or not sweep.active,
                         width="stretch"):
            sweep.stop()
        st.caption(estimate_caption(study, planned))
        log_y = st.toggle("Logarithmic loss axis", value=True, key="exp_log_y")
        with st.expander(f"The {len(planned)} runs", expanded=False):
            st.dataframe(plan, hide_index=True)
            if planned[0].model.family == "cnn":
                for r in planned:
                    st.markdown(f"**{r.label}**: output of each layer")
                    st.dataframe(ex.shape_rows(r.model), hide_index=True)
    about.markdown(f"**The note's setup.** {study.seed_setup}\n\n**What the note saw.** {study.seed_saw}\n\n"
                   f"**Here.** {study.note_for(n_train, n_test, train_limit, test_limit)}")
    if class_mode():  # the runs evaluate on the visible half (jobs.run_loop): say so beside the images named
        about.caption(HELD_BACK)
    if busy is not None and busy != study.key:
        st.info(f"The **{ex.STUDIES[busy].title}** study is training; one study at a time (stop it there first).")
    elif busy is None and training_run() is not None:
        st.caption("A run on the Train page is training too; both share the CPU, so both go slower.")
    live_panel(study, log_y)


# ---------------------------------------------------------------------------------------------
# the range test


def range_section() -> None:
    st.subheader("Learning-rate range test")
    st.markdown(
        "Train a fresh model for **one pass** of batches while the learning rate rises exponentially, from "
        "10⁻⁶ to 10 by default, and watch the loss (smoothed by a moving average with weight 0.9 on the past). "
        "At tiny rates nothing happens; then the loss falls; past some rate it shoots up, and the test stops "
        "when the smoothed loss exceeds 4× its best. **The suggested rate is where the smoothed loss falls "
        "fastest** (the steepest slope against log lr, looked for before the minimum; if the minimum comes "
        "within the first three steps, the rate at the minimum ÷ 10). The moving average lags a few steps, "
        "so treat the suggestion as an upper-end guess and compare with the learning-rate study."
    )
    c1, c2, c3, c4 = st.columns(4)
    model_key = c1.selectbox("Model", list(MODELS), format_func=lambda k: MODELS[k][0], key="exp_range_model")
    optimizer = c2.selectbox("Optimiser", ["adam", "sgd"], key="exp_range_optimizer")
    batch_size, batch_refused = number_box(c3, "Batch size", "exp_range_batch", 100, 1, 10_000)
    steps, steps_refused = number_box(c4, "Steps", "exp_range_steps", 100, 10, 1000)
    typed_refused = limit_refused or batch_refused or steps_refused
    c5, c6, _ = st.columns([1, 1, 2])
    start = c5.select_slider("Start rate", [1e-7, 1e-6, 1e-5, 1e-4], value=1e-6, format_func="{:.0e}".format,
                             key="exp_range_start")
    end = c6.select_slider("End rate", [0.1, 1.0, 10.0], value=10.0, format_func="{:g}".format, key="exp_range_end")
    if model_key == "cnn":
        st.caption("The CNN's range test takes several seconds on a CPU (about 10,000 images through the CNN).")
    # what it trains, for the class's limits and the memory check: the model, its passes over the images as epochs
    trains = ex.range_test_run(MODELS[model_key][1], optimizer, int(batch_size or 1), int(steps or 10),
                               len(data.limited(train_limit, None).train_images))
    learner = {"workspace": ui.workspace(), "store": ui.store()}
    refusal = None if typed_refused else refusal_for([trains], **learner)
    clicked = st.button("Run the range test", key="exp_range_run", type="primary",
                        disabled=refusal is not None or bool(typed_refused))
    if typed_refused:
        st.caption("Fix the numbers marked above to run the range test.")
        clicked = False
    if clicked:
        refusal = refusal_for([trains], **learner)  # checked again as it starts: another workspace may have queued
    if refusal:
        st.error(escape_markdown(f"The range test cannot run: {refusal}"), icon=":material/block:")
    elif clicked:
        subset = data.limited(train_limit, None)
        try:
            with st.spinner("Raising the learning rate step by step…"):
                result = call_in_worker(  # where runs train: a worker of the pool (or here, NNPLAY_WORKERS=0)
                    "nnplay.lessons.experiments:lr_range_test", DataConfig(train_limit=train_limit), subset,
                    trains=[trains], **learner, model_cfg=MODELS[model_key][1], start=start, end=end,
                    steps=int(steps), batch_size=int(batch_size), optimizer=optimizer)
        except ValueError as err:
            st.error(f"The range test cannot run: {err}")
        except Exception as err:  # keep the page alive and say what happened
            st.error(f"The range test failed: {type(err).__name__}: {err}")
        else:
            st.session_state[RANGE_KEY] = {"result": result, "steps": int(steps), "model": MODELS[model_key][0],
                                           "optimizer": optimizer, "batch_size": int(batch_size)}
    saved = st.session_state.get(RANGE_KEY)
    if saved is None:
        return
    lrs, losses, suggested = saved["result"]
    st.plotly_chart(fx.range_test_figure(lrs, losses, suggested), key="exp_range_chart")
    m1, m2, m3 = st.columns(3)
    m1.metric("Suggested learning rate", f"{suggested:.2g}")
    m2.metric("Lowest smoothed loss", f"{min(losses):.3g}", help=f"at lr {lrs[losses.index(min(losses))]:.2g}")
    m3.metric("Steps before the loss exploded" if len(lrs) < saved["steps"] else "Steps",
              f"{len(lrs)} of {saved['steps']}")
    st.caption(f"{saved['model']}, {saved['optimizer']}, batch {saved['batch_size']}.")
    rate = float(f"{suggested:.2g}")
    if st.button(f"Use lr {rate:g} with {saved['optimizer']} on Train", key="exp_range_use",
                 help="Sets the Train page's learning rate and optimiser to the suggestion and opens Train; "
                      "its other settings (the model included) stay as they are."):
        st.session_state["train_lr"] = rate  # the Train page's widgets are keyed train_<field>
        st.session_state["train_optimizer"] = saved["optimizer"]
        st.switch_page(TRAIN_PAGE)


if choice == RANGE:
    range_section()
else:
    study_section(ex.STUDIES[choice])

st.divider()
with st.expander("The models of note 003's studies", expanded=choice != RANGE):
    st.markdown(
        "Lecture note 003 (hyperparameters, MLP and CNN) trains an MLP on MNIST again and again, changing one hyperparameter at a time, and then a "
        "CNN.\n\n"
        "**The MLP.** The note does not print it, so nnplay infers it: **784-256-256-10** (two hidden layers, "
        "as its activation pairs need), weights drawn from **N(0, 1)** (`torch.nn.init.normal_` with the "
        "defaults the note quotes, mean 0.0 and std 1.0), biases 0, **Adam**, batch 100, 50 epochs. Adam, not "
        "SGD, because it fits what the note saw: plain SGD trains this MLP well at lr 0.1 and hardly moves at "
        "0.0001, while the note saw the opposite. **The CNN** is the one the note prints. Every run of a study "
        "starts from the same weights (seed 0) and sees the batches in the same order."
    )
