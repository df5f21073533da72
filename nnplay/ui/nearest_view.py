"""The nearest training digits under Draw's answer, and the honest sentence when the drawing is like none of them.

What lives here: ``start_nearest_index`` (the page asks for the model's index as soon as it knows the model,
so it is built in a background thread before the first stroke, never on the stroke's path) and
``nearest_digits`` (the five nearest training images with labels and distances, in the last hidden layer or
in pixels, and ``unlike_sentence`` when even the nearest is far). What does not: the index and the threshold
(``nnplay.handwriting.nearest``).
"""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from ..handwriting import nearest as nr
from ..lessons.draw import one_thread
from .data import learner_mnist

SPACE_LABELS = {"features": "last hidden layer", "pixels": "pixels"}
SPACE_KEY = "draw_nearest_space"
SHOWN = 5
THUMB = 54  # px: each 28×28 training image (sent at twice its size); five fit one row of a 1280-px window's answer column


def _space() -> nr.Space:
    return st.session_state.get(SPACE_KEY, "features")


def start_nearest_index(model, dataset: str = "mnist") -> None:
    """Start building the index of the training images for ``model`` (in the space picked) unless it is built."""
    nr.start_index(model, learner_mnist(dataset), _space())


@st.fragment(run_every=1.0)
def _indexing(model, data, space: nr.Space) -> None:
    """Says that the training digits are being indexed; reruns the page once they are (or it failed)."""
    if nr.ready_index(model, data, space) is not None or nr.index_problem(model, data, space):
        st.rerun()
    st.caption(f"Indexing the {len(data.train_images):,} training digits (once per model)…")


def nearest_digits(model, image_u8: np.ndarray, probabilities: np.ndarray, classes, dataset: str = "mnist") -> None:
    """The drawing's five nearest training images (image, label, distance) and, when it is unlike all of them,
    the sentence that its confidence is no chance of being right."""
    data = learner_mnist(dataset)  # its threshold measured on the test images a learner may see
    space = _space()
    index = nr.ready_index(model, data, space)
    what = "digits" if dataset == "mnist" else "images"
    if index is None:
        problem = nr.index_problem(model, data, space)
        if problem:
            st.caption(f"The nearest training {what} cannot be shown: {problem}")
        else:
            nr.start_index(model, data, space)
            _indexing(model, data, space)
        return
    with st.container(key="draw_nearest"):  # one block: the benchmark waits for its text to change
        with one_thread():  # one image: threads only add stalls on a busy CPU
            neighbours = nr.nearest_in(index, model, image_u8, k=SHOWN)
        top = int(np.argmax(probabilities))
        sentence = nr.unlike_sentence(neighbours, classes[top], float(probabilities[top]), what)
        if sentence:
            st.warning(sentence, icon="🧭")
        st.markdown(f"**Nearest training {what}** ({SPACE_LABELS[space]}, cosine distance)")
        thumbs = data.train_images[torch.from_numpy(neighbours.indices)].numpy()
        st.image([np.kron(t, np.ones((2, 2), dtype=np.uint8)) for t in thumbs], width=THUMB,
                 caption=[f"{classes[int(label)]} · {d:.3f}" for label, d in zip(neighbours.labels, neighbours.distances)])
    st.radio("Nearest in", list(SPACE_LABELS), key=SPACE_KEY, horizontal=True,
             format_func=SPACE_LABELS.get, label_visibility="collapsed",
             help="Last hidden layer: what the network sees (the input of its final layer); pixels: the images "
                  "themselves. Distance 0 is the same shape, 1 nothing in common.")

