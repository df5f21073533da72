"""From scratch: seed 004's six versions of one regression, from numpy to nn.Module.

A thin page: widgets choose the mode (each version as the seed wrote it, or all on the same
math), the learning rate and the number of steps; ``nnplay.lessons.scratch`` runs the versions and
``nnplay.figures.teach.loss_curves_figure`` draws every loss curve on one chart. Each version's
cleaned code is shown with ``st.code``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from nnplay import ui

from nnplay.figures.teach import loss_curves_figure
from nnplay.lessons.scratch import (DIN, DOUT, N, SEED_DIFFERENCES, SEED_FIXES, SEED_LR, SEED_RECIPES, STEPS, VERSIONS,
                                    Recipe, agreement, cached_curve, diverged, relative_drop, suggested_lr,
                                    visible_progress)

MODES = {"seed": "as the note wrote them", "same": "all on the same math"}
LR_MODES = {"seed": "the note's 1e-6", "suggested": "a suggested larger rate", "custom": "my own"}
LOSSES = {"half_sum": "0.5 · sum of squares (versions 1-3)", "mean": "mse_loss, the mean (versions 4-6)"}

ui.ensure_navigation()
st.title("🪜 From scratch to nn.Module")
st.markdown(
    f"Lecture note 004 (numpy → autograd → nn → optim) fits a linear model to random data (N = {N} samples, Din = {DIN} features, Dout = {DOUT} "
    f"targets) six ways, each version handing one more job to PyTorch. Every version here starts from "
    f"the same data and the same weights, in float64, so the curves differ only where the code's "
    f"maths differs."
)


def use_suggested_rate() -> None:
    st.session_state["scr_lr_mode"] = "suggested"


def curves_for(mode: str, bias: bool, loss: str, lr_mode: str, custom_lr: float, steps: int,
               seed: int) -> dict[int, tuple[float, list[float]]]:
    """version → (learning rate used, loss curve); each curve is remembered by ``cached_curve``."""
    same = Recipe(bias=bias, loss=loss) if mode == "same" else None
    out = {}
    for number in VERSIONS:
        recipe = same or SEED_RECIPES[number]
        lr = {"seed": SEED_LR, "suggested": suggested_lr(recipe), "custom": custom_lr}[lr_mode]
        out[number] = (lr, list(cached_curve(number, seed, steps, lr, same)))
    return out


# -- controls -----------------------------------------------------------------------------------

c1, c2, c3 = st.columns([2, 2, 1.3])
with c1:
    mode = st.radio("Run the six versions", list(MODES), format_func=MODES.get, key="scr_mode")
    bias, loss = False, "half_sum"
    if mode == "same":
        bias = st.checkbox("with a bias b (y_pred = x·w + b)", key="scr_bias")
        loss = st.radio("Loss for all", list(LOSSES), format_func=LOSSES.get, key="scr_loss")
        st.caption("Same math: one model, one loss, plain gradient descent (w -= lr·grad) for all six.")
with c2:
    lr_mode = st.radio("Learning rate", list(LR_MODES), format_func=LR_MODES.get, key="scr_lr_mode")
    custom_lr = 1e-2
    if lr_mode == "custom":
        custom_lr = st.number_input("lr", min_value=1e-9, max_value=10.0, value=1e-2, format="%.1e",
                                    key="scr_lr")
with c3:
    st.session_state.setdefault("scr_steps", STEPS)  # the seed's 5000 (a test may start lower)
    steps = st.number_input("Steps", min_value=10, max_value=STEPS, step=10, key="scr_steps")
    seed = st.number_input("Data seed", min_value=0, max_value=10_000, value=0, step=1, key="scr_seed")
    log_y = st.toggle("log y", value=True, key="scr_log")

try:
    with st.spinner("Running the six versions…"):
        curves = curves_for(mode, bool(bias), loss, lr_mode, float(custom_lr), int(steps), int(seed))
except ValueError as err:
    st.error(str(err))
    st.stop()

# -- the chart ------------------------------------------------------------------------------------

labels = {n: f"{n}. {VERSIONS[n].title}" for n in VERSIONS}
fig = loss_curves_figure({labels[n]: c for n, (_, c) in curves.items()}, log_y=log_y,
                         dashed=[labels[n] for n in VERSIONS if n % 2 == 0])
st.plotly_chart(fig, key="scr_chart")


def rates_text(numbers) -> str:
    """The learning rates these versions ran at, e.g. "0.01, 0.1"."""
    return ", ".join(f"{r:g}" for r in sorted({curves[n][0] for n in numbers}))


blown = [n for n, (_, c) in curves.items() if diverged(c)]
if mode == "same":
    ag = agreement({n: c for n, (_, c) in curves.items()})
    if ag.agree:
        st.success(f"All six versions do the same math ({Recipe(bias=bias, loss=loss).label}): their curves lie "
                   f"on top of each other. Largest difference between version 1 and any other: {ag.gap:.1e}.")
    elif not ag.diverged:
        st.warning(f"The six versions do the same math, yet their curves differ by up to {ag.gap:.1e} "
                   f"({ag.relative_gap:.1e} of the loss), more than float64 rounding explains.")
else:
    st.info("Each version does what the note's code does: versions 1-3 have no bias and use 0.5·sum of "
            "squares; 4-6 add a bias and use mse_loss (the mean); 5-6 use Adam. Switch to "
            "*all on the same math* to see the six agree.")

rows = []
for n, (lr, curve) in curves.items():
    recipe = Recipe(bias=bias, loss=loss) if mode == "same" else SEED_RECIPES[n]
    finite = bool(np.isfinite(curve[-1]))
    rows.append({"version": labels[n], "math": recipe.label, "lr": f"{lr:.0e}",
                 "first loss": curve[0], "last loss": curve[-1] if finite else float("nan"),
                 "drop": "diverged" if diverged(curve) else f"{relative_drop(curve):.2%}",
                 "visible progress": "yes" if visible_progress(curve) else "no"})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

if blown:
    st.error(f"Version(s) {', '.join(map(str, blown))} diverged at lr = {rates_text(blown)}: the loss grew instead "
             "of falling (to inf or nan when it left the floats), so their curves say nothing about the code. "
             "The learning rate is too large for them; lower it.")
stalled = [n for n, (_, c) in curves.items() if not visible_progress(c) and n not in blown]
if stalled:
    names = ", ".join(str(n) for n in stalled)
    why = (" The note's rate is far too small for a mean loss (its gradient is 64 times smaller than the sum's) "
           "and for Adam (each weight moves about lr per step). The sum loss of versions 1-3 has larger "
           "gradients, so at the same rate they do move." if lr_mode == "seed" else
           " The rate is too small for them to move visibly in this many steps.")
    st.warning(f"No visible progress for version(s) {names}: at lr = {rates_text(stalled)} the loss drops by "
               f"less than 1% in {int(steps)} steps." + why)
    if lr_mode != "suggested":
        st.button("Use the suggested rates (1e-2 for the sum loss and Adam, 1e-1 for the mean loss)",
                  key="scr_use_suggested", on_click=use_suggested_rate)

# -- what the seed changes --------------------------------------------------------------------------

st.header("What changes from one version to the next")
for d in SEED_DIFFERENCES:
    marker = "changes the curve" if d.changes_curve else "same curve"
    st.markdown(f"**{d.from_version} → {d.to_version}** ({marker}): {d.change}  \n*Effect:* {d.effect}")

with st.expander("Mistakes in the note's code, fixed in the code below"):
    st.dataframe(pd.DataFrame([{"version": f.version, "the note's code": f.seed_text, "fixed": f.fixed_text, "why": f.why}
                               for f in SEED_FIXES]), hide_index=True, width="stretch")

# -- the code ------------------------------------------------------------------------------------

st.header("The code")
# short labels: six full titles overflow one row of tabs and the last ones hide behind a scroll arrow
for tab, (n, version) in zip(st.tabs([f"{n}. {VERSIONS[n].short}" for n in VERSIONS]), VERSIONS.items()):
    with tab:
        st.markdown(f"**{labels[n]}**")
        lr = curves[n][0]
        st.caption(f"As the note runs it: {SEED_RECIPES[n].label}; here with lr = {lr:g} and {int(steps)} steps, "
                   "the rate and steps chosen above.")
        st.code(version.code_for(lr, int(steps)), language="python")
