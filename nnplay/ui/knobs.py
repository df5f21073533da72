"""The Train page's controls for issue 25's knobs: batch norm, pooling and the FC layers' activation (model),
the loss, max-norm and data augmentation with its ranges (training).

What lives here: ``model_knobs`` and ``training_knobs``, each drawing its widgets (keyed ``train_<config field>``,
as every Train control, so ``codec.configs_from_widgets`` reads them and links carry them) and an empty slot
per field for its refusal. The ranges of augmentation show only while it is on, and only those of the kind
chosen. What does not: the fields themselves and their checks (``config``), distorting images (``augment``).
"""

from __future__ import annotations

import streamlit as st

from ..config import AUGMENTS, ACTIVATIONS, LOSSES, POOLS

KEEP = "session"  # as the page's other controls: kept while the user visits another page
LOSS_LABELS = {"cross_entropy": "cross-entropy", "mse": "mean squared error (LeCun 1998)"}
POOL_LABELS = {"max": "max", "avg": "average (LeNet)"}
# (field, label, largest value, step, help) of each augmentation range, by the kind that uses it
RANGES = {
    "affine": (("shift", "Shift (px)", 14.0, 0.5, "largest shift each way, in pixels"),
               ("rotate", "Rotation (°)", 180.0, 1.0, "largest rotation each way, in degrees"),
               ("scale", "Scale (±)", 0.9, 0.01, "largest change of size, a fraction: 0.1 is 90% to 110%"),
               ("shear", "Shear (°)", 60.0, 1.0, "largest shear each way, in degrees")),
    "elastic": (("elastic_alpha", "Elastic alpha (px)", 200.0, 1.0, "how far pixels move (Simard et al.: 34)"),
                ("elastic_sigma", "Elastic sigma (px)", 20.0, 0.5,
                 "smoothness of the displacement field, the Gaussian's sigma (Simard et al.: 4)")),
}


def model_knobs(slots: dict) -> None:
    """Batch norm for any network; for a CNN also the pooling and the fully connected layers' activation."""
    cnn = st.session_state.get("train_family") == "cnn"
    c1, c2, c3 = st.columns(3)
    c1.checkbox("Batch norm", key="train_batch_norm", persist_state=KEEP,
                help="normalise each hidden layer's outputs over the batch, before its activation (Ioffe & "
                     "Szegedy 2015); evaluation uses the running statistics")
    if cnn:
        c2.selectbox("Pooling", POOLS, key="train_pool", persist_state=KEEP, format_func=POOL_LABELS.get,
                     help="the 2×2 pooling after each conv layer")
        c3.selectbox("FC activation", ACTIVATIONS, key="train_fc_activation", persist_state=KEEP,
                     help="the activation of the fully connected layers (note 003: relu; LeNet-5: tanh)")
    for name in ("batch_norm", "pool", "fc_activation"):
        slots[name] = st.empty()


def training_knobs(slots: dict) -> None:
    """The loss, max-norm and augmentation (its ranges only while it is on)."""
    c1, c2 = st.columns(2)
    c1.selectbox("Loss", LOSSES, key="train_loss", persist_state=KEEP, format_func=LOSS_LABELS.get,
                 help="cross-entropy of the softmax, or the squared error of the softmax against one-hot targets")
    c2.text_input("Max-norm (0: off)", key="train_max_norm", persist_state=KEEP,
                  help="0 to 100: after every step, each unit's incoming weights are scaled down to this L2 norm at "
                       "most (Srivastava et al. 2014 use 3 or 4)")
    slots["loss"] = st.empty()
    slots["max_norm"] = st.empty()
    st.selectbox("Augmentation", AUGMENTS, key="train_augment", persist_state=KEEP,
                 help="distort every training batch at random, on the training device; test images never are")
    chosen = st.session_state.get("train_augment", "none")
    ranges = [r for kind, rs in RANGES.items() if kind in chosen for r in rs]
    if ranges:
        cols = st.columns(2)
        for i, (name, label, top, step, text) in enumerate(ranges):
            cols[i % 2].slider(label, 0.0, top, step=step, key=f"train_{name}", persist_state=KEEP, help=text)
    for name in ("augment", *(r[0] for rs in RANGES.values() for r in rs)):
        slots[name] = st.empty()
