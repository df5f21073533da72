"""Forward pass: seed 002's 3-layer network one matrix product at a time, then softmax and batches.

A thin page: the tables X, W1, B1, ... are editable (``st.data_editor``); ``nnplay.lessons.forward``
does the arithmetic (``forward_trace``, ``cell_explanation``, softmax, ``batch_shapes``,
``compare_with_torch``); ``nnplay.figures.teach`` turns arrays into highlighted tables. The step
shown is ``st.session_state["fw_step"]``, moved by Back / Next.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch

from nnplay import ui
from nnplay.config import PRESETS
from nnplay.data import normalise
from nnplay.engine import seeded_model
from nnplay.figures.teach import (column_widths, editor_rows, fmt_array, frames_to_network, highlight,
                                  matrix_frame, network_frames, pack_rows, parse_numbers, table_width_px)
from nnplay.lessons.forward import (SEED_X, batch_shapes, cell_explanation, compare_with_torch, forward_trace,
                                    seed_network, softmax, softmax_naive)
from nnplay.figures.network import small_network_figure
from nnplay.models import describe
from nnplay.names import escape_markdown

STEP_KEY, TABLES_KEY, VERSION_KEY = "fw_step", "fw_tables", "fw_tables_version"
TABLES_PX = 800  # side-by-side tables wider than this go on a new line (a 1280-px screen with the sidebar)

ui.ensure_navigation()
st.title("🧮 The forward pass, step by step")
st.markdown(
    "The network of lecture note 002 (a 3-layer network in numpy): 2 inputs → 3 sigmoid units → 2 sigmoid units → 2 outputs. Each layer is "
    "one matrix product plus a bias, **A = X·W + B**, followed by an activation **Z = f(A)**. "
    "X is a row; W has one row per input and one column per unit.\n\n"
    "**Indices count from 0, as in numpy:** A1[0] is the first entry of A1, row 0 is the first row "
    "(the 1 in A1, W1, B1 is the layer's number, as in the note)."
)


# -- state -------------------------------------------------------------------------------------


def reset_tables() -> None:
    st.session_state[TABLES_KEY] = network_frames(seed_network(), SEED_X)
    st.session_state[VERSION_KEY] = st.session_state.get(VERSION_KEY, 0) + 1
    st.session_state[STEP_KEY] = 0


def move(delta: int, n_steps: int) -> None:
    st.session_state[STEP_KEY] = int(np.clip(st.session_state.get(STEP_KEY, 0) + delta, 0, n_steps - 1))


def show_matrix(where, frame: pd.DataFrame, row: int | None = None, col: int | None = None,
                strong: bool = False) -> None:
    """A matrix with its picked cells highlighted and every column wide enough for all 8 digits."""
    where.dataframe(highlight(frame, row=row, col=col, strong=strong), width="content",
                    column_config={c: st.column_config.Column(width=w) for c, w in column_widths(frame).items()})


def editable(frame) -> pd.DataFrame:
    """A table the editor can show: numbers stay numbers, anything else becomes text."""
    frame = pd.DataFrame(frame)
    if all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes):
        return frame
    return frame.astype(str)


if TABLES_KEY not in st.session_state:
    reset_tables()
tables = st.session_state[TABLES_KEY]
version = st.session_state.get(VERSION_KEY, 0)

# -- the inputs ---------------------------------------------------------------------------------

with st.expander("✏️ Edit X and the weights (rows can be added or removed)", expanded=False):
    st.button("Reset to the note's numbers", key="fw_reset", on_click=reset_tables)
    edited = {}
    try:
        for row in editor_rows(list(tables)):
            frames = [editable(tables[name]) for name in row]
            for col, name, frame in zip(st.columns([2 + f.shape[1] for f in frames] + [4]), row, frames):
                with col:
                    st.markdown(f"**{name}**")
                    edited[name] = st.data_editor(frame, key=f"fw_edit_{name}_{version}", num_rows="dynamic",
                                                  hide_index=True, width="content")
    except Exception as err:  # a table the editor cannot show at all
        st.error(f"These tables cannot be edited ({err}). Press Reset to start again from the note's numbers.")
        edited = {}

output = st.radio("Output layer", ["identity", "softmax"], horizontal=True, key="fw_output",
                  help="identity for regression (as note 002), softmax for classification.")

steps = None
try:
    if not edited:
        raise ValueError("There is nothing to compute: reset the tables to the note's numbers.")
    network, x = frames_to_network(edited)
    steps = forward_trace(network, x, output=output)
except (ValueError, TypeError, KeyError) as err:
    st.error(f"The network cannot run: {err}")

# -- one step at a time -------------------------------------------------------------------------

if steps:
    n = len(steps)
    i = min(st.session_state.get(STEP_KEY, 0), n - 1)
    step = steps[i]
    back, nxt, where = st.columns([1, 1, 6], vertical_alignment="center")
    back.button("◀ Back", key="fw_back", on_click=move, args=(-1, n), disabled=i == 0)
    nxt.button("Next ▶", key="fw_next", on_click=move, args=(1, n), disabled=i == n - 1)
    where.markdown(f"Step {i + 1} of {n}: **{step.name}**")

    if step.kind == "affine":
        x_op, w_op, b_op = step.operands
        n_rows = np.atleast_2d(x_op.value).shape[0]
        n_cols = w_op.value.shape[1]
        pick_row, pick_col = st.columns(2)
        r = 0
        if n_rows > 1:
            r = pick_row.selectbox("Row of the batch", range(n_rows), key="fw_row",
                                   format_func=lambda c: f"row {c}")
        cell_name = (lambda c: f"{step.output}[{r}, {c}]") if n_rows > 1 else (lambda c: f"{step.output}[{c}]")
        j = pick_col.selectbox(f"Output cell of {step.output}", range(n_cols), key=f"fw_cell_{step.output}",
                               format_func=cell_name)
        cell = cell_explanation(step, j, row=r)
        shown = [(f"**{op.name}** {op.shape}", matrix_frame(op.value), dict(row=hr, col=hc))
                 for op, hr, hc in [(x_op, r, None), (w_op, None, j), (b_op, None, j)]]
        shown.append((f"= **{step.output}** {step.shape}", matrix_frame(step.result), dict(row=r, col=j, strong=True)))
        for row in pack_rows([table_width_px(frame) for _, frame, _ in shown], TABLES_PX):  # never cut digits
            widths = [table_width_px(shown[k][1]) for k in row]
            for col, k in zip(st.columns(widths + [max(TABLES_PX - sum(widths), 1)]), row):
                title, frame, marks = shown[k]
                col.markdown(title)
                show_matrix(col, frame, **marks)
        st.markdown(f"**{cell_name(j)}** = row {r} of {x_op.name} × column {j} of "
                    f"{w_op.name} + {b_op.name}[{j}] = `{cell.text}`")
    else:
        (a_op,) = step.operands
        fn = step.function
        if fn == "sigmoid":
            st.latex(r"\sigma(a) = \frac{1}{1 + e^{-a}}")
        elif fn == "softmax":
            st.latex(r"y_k = \frac{e^{a_k}}{\sum_i e^{a_i}}")
        else:
            st.latex(r"\mathrm{identity}(a) = a")
        flat_a, flat_z = np.ravel(a_op.value), np.ravel(step.result)
        lines = [f"{fn}({a:.8g}) = {z:.8g}" for a, z in zip(flat_a, flat_z)] if fn != "softmax" else \
                [f"e^{a:.8g} / Σ = {z:.8g}" for a, z in zip(flat_a, flat_z)]
        st.code("\n".join(lines[:20]) + ("\n…" if len(lines) > 20 else ""), language=None)
        left, right = st.columns(2)
        left.markdown(f"**{a_op.name}** {a_op.shape}")
        show_matrix(left, matrix_frame(a_op.value))
        right.markdown(f"= **{step.output}** {step.shape}")
        show_matrix(right, matrix_frame(step.result), strong=True)

    st.markdown("**Computed so far** (8 digits, as numpy prints them):")
    st.code("\n".join(f"{s.output} = {fmt_array(s.result)}" for s in steps[: i + 1]), language=None)

# -- the network, drawn: the same step highlighted ------------------------------------------------

if steps:
    net_step = min(st.session_state.get(STEP_KEY, 0), len(steps) - 1)
    net_cell = st.session_state.get(f"fw_cell_{steps[net_step].output}") if steps[net_step].kind == "affine" else None
    net_rows = np.atleast_2d(steps[0].operands[0].value).shape[0]
    net_row = min(int(st.session_state.get("fw_row") or 0), net_rows - 1)
    st.markdown("**The network, drawn** (the step above lit up: its edges and the neuron it computes; "
                "orange weights are positive, blue negative; each neuron shows its bias, A and Z)")
    ui.plotly_figure(small_network_figure(steps, net_step, cell=net_cell, row=net_row), key="fw_network")

# -- softmax --------------------------------------------------------------------------------------

st.header("Softmax and overflow")
st.markdown(
    "Softmax turns the output layer's values into probabilities: each in (0, 1), summing to 1, in the "
    "same order as the values (so for picking the class it changes nothing)."
)
text = st.text_input("Values a (comma-separated)", "0.3, 2.9, 4.0", key="fw_softmax_in")
try:
    a = parse_numbers(text, "a")
except ValueError as err:
    st.error(str(err))
else:
    naive = softmax_naive(a)
    st.markdown(f"softmax({fmt_array(a)}) = `{fmt_array(softmax(a))}` (sum {softmax(a).sum():.8g})")
    if naive.overflow:
        st.warning(f"Computed as written, exp() overflows here: `{fmt_array(naive.values)}`.")

big = np.array([1010.0, 1000.0, 990.0])
naive_big = softmax_naive(big)
st.markdown(
    f"**The overflow case** a = [1010, 1000, 990]. Computed as written, exp(1010) is too large for a "
    f"float (the largest is about 1.8e308 ≈ e^709), so it becomes inf, and inf / inf is nan: "
    f"`{fmt_array(naive_big.values)}` (numpy reported: {', '.join(naive_big.problems) or 'nothing'})."
)
st.latex(r"y_k = \frac{e^{a_k}}{\sum_i e^{a_i}} = \frac{C e^{a_k}}{C \sum_i e^{a_i}}"
         r" = \frac{e^{a_k + \log C}}{\sum_i e^{a_i + \log C}}")
st.markdown(
    "Adding the same number to every exponent changes nothing, so subtract the largest value "
    f"first: the biggest exponent is then e^0 = 1. Stable softmax: `{fmt_array(softmax(big))}`."
)

# -- batches ---------------------------------------------------------------------------------------

st.header("Batches: the shapes through 784-50-100-10")
st.markdown(
    "A batch of images is a matrix with one row per image. The weights do not change shape; every "
    "A and Z gains the batch as its first dimension, and B is added to every row."
)
bc, sc = st.columns([1, 2])
batch = bc.number_input("Batch size", min_value=1, max_value=100_000, value=100, step=1, key="fw_batch")
sizes_text = sc.text_input("Layer sizes", "784, 50, 100, 10", key="fw_sizes")
try:
    sizes = parse_numbers(sizes_text, "Layer sizes")
    if np.any(sizes != np.round(sizes)) or np.any(sizes < 1) or len(sizes) < 2:
        raise ValueError("Layer sizes must be at least two whole numbers of 1 or more.")
    rows = [{"array": name, "shape": " × ".join(map(str, shape))}
            for name, shape in batch_shapes(int(batch), tuple(int(s) for s in sizes))]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="content", height=35 * (len(rows) + 1) + 3)
except ValueError as err:
    st.error(str(err))

# -- numpy on a real digit -------------------------------------------------------------------------

st.header("The same pass in numpy, on a real digit")
chosen = ui.model_for_page()
note = None
if chosen is not None and chosen[1].family == "mlp":
    model, model_cfg, label, _ = chosen
else:
    note = ("The current model is a CNN, so " if chosen is not None else "No model is available, so ") + \
        f"this section uses a freshly initialised (untrained) {PRESETS['seed-mlp'].title}."
    model_cfg = PRESETS["seed-mlp"].model
    model = seeded_model(model_cfg, 0)
    label = f"untrained {PRESETS['seed-mlp'].title}"
if note:
    st.info(note, icon="ℹ️")
st.markdown(
    f"Model: **{escape_markdown(label)}** ({describe(model_cfg)}). torch's `nn.Linear` stores each weight as "
    "(out, in), the transpose of note 002's W, so numpy computes **A = Z·Wᵀ + b**, layer by layer."
)
data = ui.dataset_or_stop(learner=True)  # in class mode the visible test half only
drawn = ui.drawn_digit()
source = st.radio("Digit", ["a test image", "the digit drawn on Draw"], horizontal=True, key="fw_digit_source",
                  disabled=drawn is None, help=None if drawn is not None else "draw a digit on the Draw page first")
if source == "the digit drawn on Draw" and drawn is not None:
    image, caption = torch.from_numpy(np.asarray(drawn, dtype=np.uint8)), "drawn on Draw"
else:
    index = st.number_input("Test image", min_value=0, max_value=len(data.test_images) - 1, value=0, step=1,
                            key="fw_digit")
    image, caption = data.test_images[int(index)], f"label {int(data.test_labels[int(index)])}"
try:
    cmp = compare_with_torch(model, model_cfg.activations(), normalise(image[None]))
except Exception as err:  # a model this page cannot mirror: say so, keep the page alive
    st.error(f"The numpy forward pass could not run on this model: {err}")
else:
    left, right = st.columns([1, 3])
    left.image(np.kron(image.numpy(), np.ones((4, 4), dtype=np.uint8)), width=112, caption=caption)
    left.dataframe(pd.DataFrame([{"array": name, "shape": " × ".join(map(str, arr.shape))}
                                 for name, arr in cmp.trace]), hide_index=True, width="content")
    probabilities = softmax(cmp.numpy_logits[0])
    top = int(np.argmax(probabilities))
    with right:
        st.markdown("**Output logits A** (one per class) and **softmax(A)**, the probabilities the model gives")
        st.dataframe(pd.DataFrame({"numpy": cmp.numpy_logits[0], "torch": cmp.torch_logits[0],
                                   "|difference|": np.abs(cmp.numpy_logits[0] - cmp.torch_logits[0]),
                                   "softmax (numpy)": probabilities},
                                  index=[f"class {c}" for c in data.classes]),
                     width="content", height=35 * 11 + 3,
                     column_config={"numpy": st.column_config.NumberColumn(format="%.8f"),
                                    "torch": st.column_config.NumberColumn(format="%.8f"),
                                    "|difference|": st.column_config.NumberColumn(format="%.1e"),
                                    "softmax (numpy)": st.column_config.NumberColumn(format="%.6f")})
        st.markdown(f"softmax(A) sums to {probabilities.sum():.8g}: the model is **{probabilities[top]:.2%}** "
                    f"sure this is {data.classes[top]}.")
    verdict = st.success if cmp.max_abs_diff < 1e-5 else st.warning
    verdict(f"Largest difference between numpy and torch: {cmp.max_abs_diff:.2e} "
            f"(both predict {data.classes[int(np.argmax(cmp.numpy_logits[0]))]}; float32 rounding is about 1e-7 "
            "per operation).")
