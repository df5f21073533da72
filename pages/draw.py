"""Draw: draw a digit, see what the model makes of it, stroke by stroke.

A thin page: the canvas gives an RGBA picture on every stroke; ``nnplay.lessons.draw`` turns it into an
MNIST-like 28×28 input (crop, 20 px, centre of mass), predicts and explains it (signed saliency for a
class the learner picks), and gives a hint instead of an answer when the drawing is not a digit; under the answer, the five nearest
training digits and a sentence when the drawing is unlike all of them (``nnplay.ui.nearest_view``);
``nnplay.figures.inspect`` draws the bars, ``nnplay.figures.network`` the network with the digit flowing
through it and one hidden neuron. Undo and Clear re-send the canvas's strokes (kept in session state). The model is the session's current one, else the
shipped default, with a one-click quick training that runs in a background ``Run``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from nnplay import ui
from nnplay.lessons import draw
from nnplay.config import PRESETS, DataConfig
from nnplay.data import DATASET_INFO
from nnplay.names import escape_markdown
from nnplay.figures.inspect import probability_bars_html
from nnplay.figures.network import network_figure, neuron_figure
from nnplay.lessons import neurons
from nnplay.classroom.limits import limit_refusal
from nnplay.runs import Run
from nnplay.ui.nearest_view import nearest_digits, start_nearest_index

CANVAS = 280
QUICK_EPOCHS = 2
QUICK_NOTE = "_draw_quick_note"  # why a pressed quick training did not start, shown once
SALIENCY_METHODS = {"integrated gradients": "integrated_gradients", "input gradient": "gradient"}
IG_STEPS = {"mlp": 32, "cnn": 8}  # a CNN's backward pass is far slower on a CPU: fewer steps

ui.ensure_navigation()
st.title("Draw a digit")
ui.show_data_notice()


# -- the model ----------------------------------------------------------------------------------


def start_quick_training() -> None:
    preset = PRESETS["seed-mlp"]
    train_cfg = dataclasses.replace(preset.train, epochs=QUICK_EPOCHS)
    refused = limit_refusal(ui.store(), ui.workspace(), [(preset.model, train_cfg)])
    if refused:  # class mode's limits per learner (Run.start checks them again); outside class mode never
        st.session_state[QUICK_NOTE] = f"The quick training cannot start: {refused[1]}"
        return
    run = Run(
        name=f"quick {preset.title}, {QUICK_EPOCHS} epochs",
        data_cfg=DataConfig(),
        model_cfg=preset.model,
        train_cfg=train_cfg,
    )
    ui.add_run(run).start(ui.cached_mnist("mnist"))


@st.fragment(run_every=0.5)
def quick_training_progress(run: Run) -> None:
    """Refreshes itself while the quick run trains; reruns the page when it is done."""
    if run.active:
        p = run.progress()
        st.progress(p["fraction"], text=f"Training {escape_markdown(run.name)}: epoch {p['epoch']} of {p['epochs']}, "
                                         f"step {p['step']} of {p['total'] or '…'}")
    else:
        st.rerun()


chosen = ui.model_for_page()
if chosen is None:
    st.error("No model to draw with: train one on the Train page (the default model file is missing).")
    st.stop()
model, model_cfg, label, is_default = chosen
current = ui.picked_run()
dataset = current.data_cfg.dataset if (current is not None and not is_default) else "mnist"
classes = DATASET_INFO[dataset][1]
start_nearest_index(model, dataset)  # built in the background before the first stroke, once per model

running = ui.training_run()
# Everything above the canvas that comes and goes lives in this one container, so the canvas keeps
# its place in the page and is not remounted (which would wipe the drawing) when it changes.
with st.container():
    if is_default:
        note, button = st.columns([4, 1], vertical_alignment="center")
        note.info(f"This page uses **{escape_markdown(label)}**, the model picked in the sidebar. Train your "
                  "own on the Train page, or here in a few seconds.", icon="ℹ️")
        if running is None:
            button.button(f"Quick training ({QUICK_EPOCHS} epochs)", key="draw_quick_train",
                          on_click=start_quick_training, type="primary")
    else:
        st.caption(f"Model: **{escape_markdown(label)}**")
    if QUICK_NOTE in st.session_state:
        st.error(st.session_state.pop(QUICK_NOTE), icon=":material/block:")
    if running is not None:
        quick_training_progress(running)
    if dataset != "mnist":
        st.warning(f"This model was trained on {dataset}: its classes are {', '.join(classes)}, not digits.")


# -- canvas, input, prediction ------------------------------------------------------------------

OBJECTS_KEY, INITIAL_KEY, CANVAS_VERSION_KEY = "draw_objects", "draw_initial", "draw_canvas_v"
UNDO_KEY, SEEN_KEY = "draw_undos", "draw_seen"


def canvas_key() -> str:
    """The canvas's widget key: "draw_canvas", then a new one after every Clear."""
    version = st.session_state.get(CANVAS_VERSION_KEY, 0)
    return "draw_canvas" if version == 0 else f"draw_canvas_{version}"


def clear_canvas() -> None:
    """A fresh canvas: a new key mounts an empty one."""
    st.session_state[CANVAS_VERSION_KEY] = st.session_state.get(CANVAS_VERSION_KEY, 0) + 1
    st.session_state[INITIAL_KEY] = None
    st.session_state[OBJECTS_KEY] = []
    st.session_state[SEEN_KEY] = None


def undo_stroke() -> None:
    """Hand the canvas its strokes less the last one. The canvas reloads a changed initial drawing
    and sends the new picture at once (a counter makes every undo's drawing differ from the last)."""
    objects = st.session_state.get(OBJECTS_KEY) or []
    if len(objects) <= 1:
        clear_canvas()
        return
    undos = st.session_state.get(UNDO_KEY, 0) + 1
    st.session_state[UNDO_KEY] = undos
    st.session_state[OBJECTS_KEY] = objects[:-1]
    st.session_state[INITIAL_KEY] = {"objects": objects[:-1], "nnplay_undo": undos}


col_canvas, col_input, col_bars = st.columns([1.6, 1, 1.5], gap="medium")

with col_canvas:
    pen = st.slider("Pen width", min_value=6, max_value=40, value=18, key="draw_pen")
    result = ui.fast_canvas(
        stroke_width=pen, stroke_color="#ffffff", background_color="#000000",
        width=CANVAS, height=CANVAS, drawing_mode="freedraw", update_streamlit=True,
        return_image_data=True, initial_drawing=st.session_state.get(INITIAL_KEY),
        key=canvas_key(),
    )
    if result.json_data is not None and result.json_data != st.session_state.get(SEEN_KEY):
        # only a drawing the canvas has newly sent: right after an Undo the old one is still here
        st.session_state[SEEN_KEY] = result.json_data
        st.session_state[OBJECTS_KEY] = list(result.json_data.get("objects") or [])
    n_strokes = len(st.session_state.get(OBJECTS_KEY) or [])
    undo_col, clear_col, _ = st.columns([1, 1, 1.2])
    undo_col.button("↶ Undo", key="draw_undo", on_click=undo_stroke, disabled=n_strokes == 0,
                    help="Take back the last stroke", width="stretch")
    clear_col.button("✕ Clear", key="draw_clear", on_click=clear_canvas, disabled=n_strokes == 0,
                     help="Start again on an empty canvas", width="stretch")
    method_label = st.radio("Saliency", list(SALIENCY_METHODS), horizontal=True, key="draw_saliency")

drawing = result.image_data
prep = draw.to_mnist(drawing) if drawing is not None else None
if prep is not None:
    ui.remember_drawn_digit(prep.image)  # /forward can run its numpy pass on it

if prep is None:
    with col_input:
        st.info("Draw a digit from 0 to 9 on the black canvas, large and centred or not: it will be "
                "cropped, scaled to 20 px and centred the way MNIST's digits were. The prediction "
                "updates after every stroke.", icon="✏️")
    st.stop()

with draw.one_thread():  # one image: threads only add stalls on a busy CPU
    probabilities = draw.predict(model, prep.image)
top = int(probabilities.argmax())
hint = draw.drawing_hint(draw.ink_shape(drawing, prep), probabilities)

with col_bars:  # first, so the answer shows before the saliency is computed
    if hint is None:
        st.metric("Prediction", classes[top], f"{probabilities[top]:.1%} sure", delta_color="off",
                  delta_arrow="off")
    else:
        st.warning(hint.message, icon="🤔")
        st.caption(f"Not a digit, so no answer. The model would still have said **{classes[top]}** "
                   f"({probabilities[top]:.1%}): a classifier always picks one of its ten classes.")
    with st.container(key="draw_bars"):
        st.html(probability_bars_html(probabilities, classes))
    nearest_digits(model, prep.image, probabilities, classes, dataset)

with col_input:
    st.markdown("**Model input** (28×28)")
    st.image(np.kron(prep.image, np.ones((6, 6), dtype=np.uint8)), width=168, clamp=True)
    st.caption(draw.preprocessing_text(prep))
    target = st.selectbox("Saliency for class", [-1, *range(len(classes))], key="draw_saliency_class",
                          format_func=lambda c: "the prediction" if c < 0 else classes[c])  # which one: just below
    target = top if target < 0 else int(target)
    st.markdown(f"**Saliency** for class {classes[target]} ({method_label})")
    with draw.one_thread():
        sal = draw.signed_saliency(model, prep.image, target=target, method=SALIENCY_METHODS[method_label],
                                   steps=IG_STEPS[model_cfg.family])
    layer = draw.signed_overlay(sal, size=drawing.shape[0], prep=prep)
    st.image(draw.composite(drawing, layer), width=CANVAS)
    st.caption(f"Orange: pixels that speak **for** {classes[target]}; blue: pixels that speak **against** "
               "it (signed attribution, scaled to its largest size).")
    st.caption("🧮 This digit is also on the **Forward pass** page (sidebar), where numpy runs it "
               "through the model layer by layer.")


# -- inside the network -------------------------------------------------------------------------

st.header("Inside the network")
if not st.toggle("Show the network for every stroke", value=True, key="draw_show_network",
                 help="Drawing it after each stroke costs about 0.1 s; switch it off on a slow machine"):
    st.stop()
st.caption(f"**{escape_markdown(label)}** with your digit flowing through it: every neuron coloured by its activation "
           "(red +, blue −), the outputs by their probability, the edges by the weight's sign (orange +, "
           "blue −) and width. Hover a neuron for its layer, index, activation and bias; click one to see it "
           "below.")
widest = max((m.out_features for _, m in neurons.linear_layers(model)[:-1]), default=0)
controls = st.columns([2, 1.4, 2.6])  # room for "Neurons page (of 4)" on one line
top_edges = controls[0].slider("Strongest edges shown (per pair of layers)", 10, 400, 120, step=10,
                               key="draw_top_edges")
page = 0
if neurons.is_mlp(model) and widest > neurons.MAX_SHOWN:
    pages = neurons.page_count(widest, neurons.MAX_SHOWN)
    page = controls[1].number_input(f"Neurons page (of {pages})", min_value=1, max_value=pages, value=1,
                                    key="draw_net_page",
                                    help="Page 1 shows each wide layer's 64 most active neurons for this digit") - 1
with draw.one_thread():
    net_fig = network_figure(model, prep.image, top_edges=top_edges, page=int(page), classes=classes)
# drawn by the live view's component: a frame after the answer above, the newest only when strokes come faster
click = ui.plotly_figure(net_fig, key="draw_network", clickable=True)
# a click on a hidden neuron picks it for the panel below (the click comes once, on the rerun it causes)
if click is not None and 0 <= int(click.get("curve", -1)) < len(net_fig.data):
    trace = net_fig.data[int(click["curve"])]
    if trace.name.startswith("hidden ") and click.get("point") is not None:
        layer_no, neuron = int(trace.name.split()[1]), int(trace.customdata[int(click["point"])][0])
        st.session_state["draw_neuron_layer"] = layer_no
        st.session_state[f"draw_neuron_{layer_no}"] = neuron

if neurons.is_mlp(model):
    hidden_sizes = [m.out_features for _, m in neurons.linear_layers(model)[:-1]]
    pick_layer, pick_neuron, _ = st.columns([2, 2, 3])  # wide enough for "hidden 1 (256 neurons)"
    layer_no = pick_layer.selectbox("Hidden layer", range(1, len(hidden_sizes) + 1), key="draw_neuron_layer",
                                    format_func=lambda l: f"hidden {l} ({hidden_sizes[l - 1]} neurons)")
    values = neurons.mlp_forward(model, prep.image).values[layer_no]
    most_active = int(np.argmax(values))
    index = pick_neuron.number_input("Neuron", min_value=0, max_value=hidden_sizes[layer_no - 1] - 1,
                                     value=None, key=f"draw_neuron_{layer_no}", placeholder=f"{most_active} (most active)",
                                     help="0-based; empty: the neuron most active for your digit")
    index = most_active if index is None else int(index)
    # the panel depends on the model and the neuron, not on the drawing: built once per choice, and the pass
    # over the 10,000 test images once per layer (every neuron's top 9 at once), not per stroke,
    # whose "most active" neuron changes with the digit
    test_images = ui.learner_mnist(dataset).test_images  # in class mode the visible test half only
    layer_key = (id(model), label, layer_no)
    tops = st.session_state.get("draw_neuron_tops")
    if tops is None or tops[0] != layer_key:
        with draw.one_thread():
            tops = (layer_key, neurons.top_exciting_all(model, layer_no, test_images))
        st.session_state["draw_neuron_tops"] = tops
    wanted = (*layer_key, index)
    cached = st.session_state.get("draw_neuron_fig")
    if cached is None or cached[0] != wanted:
        with draw.one_thread():
            cached = (wanted, neuron_figure(model, layer_no, index, test_images, classes, top=tops[1]))
        st.session_state["draw_neuron_fig"] = cached
    ui.plotly_figure(cached[1], key="draw_neuron")
    st.caption(f"Hidden {layer_no}, neuron {index}: activation **{values[index]:.3g}** for your digit. "
               "Left: the weights it multiplies its inputs by; middle: the test images it responds to most; "
               "right: how much each class's score rises when it fires.")
else:
    st.caption("Picking a single neuron works on MLPs; this CNN is shown as its stages above.")
