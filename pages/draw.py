"""Draw: draw a digit, see what the model makes of it, stroke by stroke.

A thin page: the canvas gives an RGBA picture on every stroke; ``nnplay.lessons.draw`` turns it into an
MNIST-like 28×28 input (crop, 20 px, centre of mass), predicts and explains it (saliency);
``nnplay.figures.inspect`` draws the bars. The model is the session's current one, else the
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
from nnplay.figures.inspect import probability_figure
from nnplay.runs import Run

CANVAS = 280
QUICK_EPOCHS = 2
SALIENCY_METHODS = {"integrated gradients": "integrated_gradients", "input gradient": "gradient"}
IG_STEPS = {"mlp": 32, "cnn": 8}  # a CNN's 32-image backward pass takes ~0.5 s on a CPU: fewer steps

ui.ensure_navigation()
st.title("Draw a digit")
ui.show_data_notice()


# -- the model ----------------------------------------------------------------------------------


def start_quick_training() -> None:
    preset = PRESETS["seed-mlp"]
    run = Run(
        name=f"quick {preset.title} ({QUICK_EPOCHS} epochs)",
        data_cfg=DataConfig(),
        model_cfg=preset.model,
        train_cfg=dataclasses.replace(preset.train, epochs=QUICK_EPOCHS),
    )
    ui.add_run(run).start(ui.cached_mnist("mnist"))


@st.fragment(run_every=0.5)
def quick_training_progress(run: Run) -> None:
    """Refreshes itself while the quick run trains; reruns the page when it is done."""
    if run.active:
        p = run.progress()
        st.progress(p["fraction"], text=f"Training {run.name}: epoch {p['epoch']} of {p['epochs']}, "
                                         f"step {p['step']} of {p['total'] or '…'}")
    else:
        st.rerun()


chosen = ui.model_for_page()
if chosen is None:
    st.error("No model to draw with: train one on the Train page (the default model file is missing).")
    st.stop()
model, model_cfg, label, is_default = chosen
current = ui.current_run()
dataset = current.data_cfg.dataset if (current is not None and not is_default) else "mnist"
classes = DATASET_INFO[dataset][1]

running = ui.active_run()
# Everything above the canvas that comes and goes lives in this one container, so the canvas keeps
# its place in the page and is not remounted (which would wipe the drawing) when it changes.
with st.container():
    if is_default:
        note, button = st.columns([4, 1], vertical_alignment="center")
        note.info(f"No model trained in this session yet, so this page uses **{label}**. "
                  "Train your own on the Train page, or here in a few seconds.", icon="ℹ️")
        if running is None:
            button.button(f"Quick training ({QUICK_EPOCHS} epochs)", key="draw_quick_train",
                          on_click=start_quick_training, type="primary")
    else:
        st.caption(f"Model: **{label}**")
    if running is not None:
        quick_training_progress(running)
    if dataset != "mnist":
        st.warning(f"This model was trained on {dataset}: its classes are {', '.join(classes)}, not digits.")


# -- canvas, input, prediction ------------------------------------------------------------------

col_canvas, col_input, col_bars = st.columns([1.6, 1, 1.5], gap="medium")

with col_canvas:
    pen = st.slider("Pen width", min_value=6, max_value=40, value=18, key="draw_pen")
    result = ui.fast_canvas(
        stroke_width=pen, stroke_color="#ffffff", background_color="#000000",
        width=CANVAS, height=CANVAS, drawing_mode="freedraw", update_streamlit=True,
        return_image_data=True, key="draw_canvas",
    )
    st.caption("Undo, redo and clear are in the canvas toolbar.")
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

with col_bars:  # first, so the answer shows before the saliency is computed
    st.metric("Prediction", classes[top], f"{probabilities[top]:.1%} sure", delta_color="off", delta_arrow="off")
    st.plotly_chart(probability_figure(probabilities, classes), key="draw_bars",
                    config={"displayModeBar": False, "staticPlot": True})

with col_input:
    st.markdown("**Model input** (28×28)")
    st.image(np.kron(prep.image, np.ones((6, 6), dtype=np.uint8)), width=168, clamp=True)
    box_top, box_left, box_bottom, box_right = prep.bbox
    st.caption(f"ink box {box_bottom - box_top}×{box_right - box_left} px → ×{prep.scale:.3f} → "
               f"{prep.size[0]}×{prep.size[1]} px, centre-of-mass shift {prep.shift}")
    st.markdown(f"**Saliency** for class {classes[top]} ({method_label})")
    with draw.one_thread():
        sal = draw.saliency(model, prep.image, target=top, method=SALIENCY_METHODS[method_label],
                            steps=IG_STEPS[model_cfg.family])
    layer = draw.saliency_overlay(sal, size=drawing.shape[0], prep=prep)
    st.image(draw.composite(drawing, layer), width=CANVAS)
    st.caption("The redder a stroke, the more its pixels drove this answer (|attribution|, scaled to its maximum).")
