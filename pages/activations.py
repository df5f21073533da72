"""Activations: each function and its derivative, vanishing gradients, and why linear layers collapse.

A thin page: ``nnplay.lessons.activations`` holds the functions, seed 001's notes and the two
experiments (``layer_gradient_norms``, ``linear_collapse``); ``nnplay.figures.teach`` draws.
The race of seed 001's models A-D trains in the background as a ``nnplay.runs.Sweep`` stored
in the session (admitted only when its four runs fit in memory, ``runs.refusal_for``), and a fragment
refreshes its chart while it runs.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from nnplay import ui
from nnplay.classroom import class_mode
from nnplay.lessons.activations import (ACTIVATION_FUNCTIONS, ACTIVATION_NOTES, compose_affine, composition_table,
                                        layer_gradient_norms, linear_collapse)
from nnplay.config import ACTIVATIONS, INITS, PRESETS, DataConfig
from nnplay.figures.teach import activation_figure, gradient_norms_figure
from nnplay.figures.train import compare_figure
from nnplay.runs import Run, Sweep, refusal_for
from nnplay.ui.number_box import number_box

RACE = "activation race (models A-D)"
RACE_PRESETS = ("model-a", "model-b", "model-c", "model-d")
RACE_NOTE = "_act_race_note"  # why a pressed Start did not start the race, shown once
SATURATING = ("sigmoid", "tanh")
COMPOSE_XS = (-1.0, 0.0, 1.0, 2.5)
RACE_EPOCHS, RACE_IMAGES = 5, 3_000  # five points per accuracy curve, seconds for all four on a small CPU

ui.ensure_navigation()
st.title("📈 Activation functions")
ui.show_data_notice()  # the race and the "real digits" toggle train on it
st.markdown(
    "A neural network stacks affine maps (X·W + b), each followed by a non-linear function. "
    "Without that function the whole stack would be one affine map (see the end of this page). Under each "
    "function, in Korean and in English: what lecture note 001 (on activation functions) says about it."
)

# -- 1. the functions and their derivatives -------------------------------------------------------

st.header("The functions and their derivatives")
shown = st.multiselect("Show", ACTIVATIONS, default=["sigmoid", "tanh", "relu"], key="act_show")
lo, hi = st.slider("Range of z", min_value=-20.0, max_value=20.0, value=(-6.0, 6.0), step=0.5, key="act_range")
if hi <= lo:
    st.error("Pick a range that is wider than a single point.")
else:
    for name in shown:
        act, note = ACTIVATION_FUNCTIONS[name], ACTIVATION_NOTES[name]
        fig_col, note_col = st.columns([3, 2], vertical_alignment="center")
        with fig_col:
            st.plotly_chart(activation_figure(name, lo, hi), key=f"act_fig_{name}",
                            config={"displayModeBar": False})
        with note_col:
            st.markdown(f"#### {name}")
            st.latex(act.formula)
            st.latex(act.grad_formula)
            st.markdown(f"- **Output:** {note.output_range}\n- **Good:** {note.strength}\n"
                        f"- **Problem:** {note.weakness}\n- **So:** {note.remedy}")
            if note.korean:
                st.caption(f"Note 001: {note.korean}  \n*In English:* {note.translation}")
            else:
                st.caption("Note 001 does not cover this one; these lines are nnplay's.")

# -- 2. vanishing gradients ----------------------------------------------------------------------


@st.cache_data(show_spinner="Backpropagating once through each network…", max_entries=64)
def gradient_norms(activation: str, depth: int, width: int, init: str, real: bool,
                   in_class: bool) -> list[float]:  # noqa: ARG001 - class mode keys it: its digits differ
    images = labels = None
    if real:
        data = ui.learner_mnist()  # in class mode the visible test half only
        images, labels = data.test_images[:64], data.test_labels[:64]
    return layer_gradient_norms(activation, depth=depth, width=width, init=init, images=images, labels=labels)


st.header("Vanishing gradients")
st.markdown(
    "Backpropagation carries the error from the output back to the input, multiplying it by Wᵀ and by "
    "f′(A) once per layer. sigmoid′ is at most 0.25, so with ordinary weights the error shrinks layer "
    "after layer: the first layers get almost no gradient and barely learn. ReLU's slope is 1 where it "
    "is on, and He initialisation (std √(2 / fan_in)) makes up for the half that is off. Below: the "
    "gradient norm of every layer's weight for one batch at initialisation, before any training."
)
g1, g2, g3 = st.columns(3)
depth = g1.slider("Hidden layers", min_value=2, max_value=20, value=10, key="act_depth")
width = g1.select_slider("Width", options=[16, 32, 64, 100, 128, 256], value=100, key="act_width")
chosen = g2.multiselect("Activations", ACTIVATIONS, default=["sigmoid", "relu"], key="act_vanish")
init_sat = g3.selectbox("Init for sigmoid / tanh", INITS, index=INITS.index("default"), key="act_init_sat")
init_other = g3.selectbox("Init for the others", INITS, index=INITS.index("he"), key="act_init_other")
real = g2.toggle("64 real test digits (else random pixels)", value=False, key="act_real")

series, rows = {}, []
try:
    for name in chosen:
        init = init_sat if name in SATURATING else init_other
        norms = gradient_norms(name, int(depth), int(width), init, bool(real), class_mode())
        series[f"{name} ({init} init)"] = norms
        rows.append({"activation": name, "init": init, "layer 1": norms[0], "last layer": norms[-1],
                     "layer 1 / last": norms[0] / norms[-1] if norms[-1] else float("nan")})
except Exception as err:  # e.g. the dataset cannot be loaded, or a config nnplay refuses
    st.error(f"The experiment could not run: {err}")
if series:
    st.plotly_chart(gradient_norms_figure(series), key="act_vanish_fig")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.2e")
                                for c in ("layer 1", "last layer", "layer 1 / last")})

# -- 3. linear layers collapse --------------------------------------------------------------------

st.header("Without an activation, depth buys nothing")
st.markdown("Lecture note 000 (an MLP in PyTorch): a composition of linear (affine) functions is one linear function. "
            "f(x) = a_f·x + b_f and g(x) = a_g·x + b_g give f(g(x)) = (a_f·a_g)·x + (a_f·b_g + b_f).")
c = st.columns(4)
a_f = c[0].number_input("a_f", value=1.0, key="act_af")
b_f = c[1].number_input("b_f", value=2.0, key="act_bf")
a_g = c[2].number_input("a_g", value=2.0, key="act_ag")
b_g = c[3].number_input("b_g", value=0.0, key="act_bg")
try:
    a, b = compose_affine((a_f, b_f), (a_g, b_g))
    table = composition_table((a_f, b_f), (a_g, b_g), COMPOSE_XS)
except ValueError as err:
    st.error(str(err))
else:
    st.markdown(f"f(x) = {a_f:g}x + {b_f:g}, g(x) = {a_g:g}x + {b_g:g} → **f(g(x)) = {a:g}x + {b:g}**: "
                "a two-layer function that is a one-layer one.")
    st.dataframe(pd.DataFrame({"x": table.x, "f(g(x))": table.layered, f"{a:g}x + {b:g}": table.collapsed}),
                 hide_index=True, width="content")

collapse_depth = st.slider("Hidden layers of the identity-activation MLP", 1, 20, 10, key="act_collapse_depth")
try:
    lc = linear_collapse(depth=int(collapse_depth), width=64, seed=0)
except Exception as err:
    st.error(f"The collapse could not be computed: {err}")
else:
    st.markdown(
        f"An MLP with {collapse_depth} hidden layers of width 64 and the identity activation has "
        f"{lc.n_linear} Linear layers. Multiplying them out, W = W{lc.n_linear}···W1 with shape "
        f"{lc.W.shape} and b with shape {lc.b.shape}, gives one layer. On 8 random inputs the deep network "
        f"and the single layer agree: **max |difference| = {lc.max_abs_diff:.1e}** (float64; the outputs "
        f"are up to {lc.output_scale:.2f} in size)."
    )

# -- 4. the race ------------------------------------------------------------------------------------

st.header("The race: note 001's models A-D")
st.markdown(" · ".join(f"**{PRESETS[k].short}**: {PRESETS[k].description}" for k in RACE_PRESETS))


def race_configs(epochs: int) -> list[tuple]:
    """The four runs' (model, training) configs: what memory admission weighs before they are queued."""
    return [(PRESETS[k].model, dataclasses.replace(PRESETS[k].train, epochs=epochs, seed=0)) for k in RACE_PRESETS]


def start_race(epochs: int, train_images: int) -> None:
    # again as it starts (another browser may have queued meanwhile); in class mode the learner's limits first
    problem = refusal_for(race_configs(epochs), workspace=ui.workspace(), store=ui.store())
    if problem:
        st.session_state[RACE_NOTE] = f"The race did not start: {problem}"
        return
    data = ui.cached_mnist().limited(train_images, 2000)
    runs = [Run(name=f"{PRESETS[k].short}: {PRESETS[k].model.activations()[0]}"
                     f" {'-'.join(map(str, PRESETS[k].model.hidden))}",
                data_cfg=DataConfig(train_limit=train_images, test_limit=2000), model_cfg=model_cfg, train_cfg=train_cfg)
            for k, (model_cfg, train_cfg) in zip(RACE_PRESETS, race_configs(epochs))]
    sweep = Sweep(RACE, runs, data, **ui.sweep_store()).start()  # kept as sweep runs
    if sweep.refusal:  # the class's limits, checked again where the runs start
        st.session_state[RACE_NOTE] = f"The race did not start: {sweep.refusal}"
        return
    ui.session_sweeps()[RACE] = sweep


def race_figure(sweep: Sweep):
    """The models' raw loss per step and test accuracy per epoch, overlaid (the Train page's compare view)."""
    return compare_figure([(run.name, run.history) for run in sweep.runs], smoothing=0.0,
                          title="Loss per step and test accuracy per epoch")


@st.fragment(run_every=1.0)
def race_progress(sweep: Sweep) -> None:
    if sweep.active:
        st.progress(sweep.done / len(sweep.runs), text=f"Training {sweep.done + 1} of {len(sweep.runs)}…")
        st.plotly_chart(race_figure(sweep), key="act_race_live")
    else:
        st.rerun()


sweep = ui.restore_sweep(RACE, RACE)  # this session's race, else (after a reload) the last one in the store
busy = ui.training_run() is not None or any(s.active for s in ui.session_sweeps().values())
r1, r2, r3 = st.columns([1, 1, 1], vertical_alignment="bottom")
# text boxes: a number box would drop a value out of its range and start the race with the old one
race_epochs, epochs_refused = number_box(r1, "Epochs", "act_race_epochs", RACE_EPOCHS, 1, 20)
race_images, images_refused = number_box(r2, "Training images", "act_race_images", RACE_IMAGES, 500, 60_000)
# the four runs may train side by side: refused with a sentence when they do not fit in memory beside what is queued
race_refused = None if busy or epochs_refused or images_refused else \
    refusal_for(race_configs(race_epochs), workspace=ui.workspace(), store=ui.store())
r3.button("Start the race", key="act_race_start", type="primary",
          disabled=busy or bool(epochs_refused or images_refused or race_refused), on_click=start_race,
          args=(race_epochs, race_images))
if RACE_NOTE in st.session_state:
    st.warning(st.session_state.pop(RACE_NOTE), icon=":material/block:")
elif race_refused:
    st.error(f"The race cannot start: {race_refused}", icon=":material/block:")
st.caption("All four start from the same seed and see the same images (SGD, lr 0.1, batch 100, "
           "PyTorch's default init), one after another in the background; 2,000 test images are "
           "scored after each epoch." + (" Another training is running in this session." if busy and
                                         (sweep is None or not sweep.active) else ""))
if sweep is not None:
    if sweep.active:
        st.button("Stop the race", key="act_race_stop", on_click=sweep.stop)
        race_progress(sweep)
    else:
        st.plotly_chart(race_figure(sweep), key="act_race_done")
        st.dataframe(pd.DataFrame([{"model": run.name, "status": run.status,
                                    "test accuracy": run.final()["test_accuracy"],
                                    "train loss": run.final()["train_loss"],
                                    "seconds": round(run.final()["seconds"], 1)} for run in sweep.runs]),
                     hide_index=True, width="stretch",
                     column_config={"test accuracy": st.column_config.NumberColumn(format="percent")})
