"""The Train page's "MNIST + your digits" training data: the choice, its weight, and the digits file a run trains on.

``digits_option(dataset)`` draws the choice in the Data section when the dataset is MNIST and the workspace holds
digits (``Store.digits_arrays``); ``with_your_digits(data_cfg, run_id)`` is called as a run starts: when chosen, it
writes the workspace's digits to the run's folder (``your_digits.npz``, the ``handwriting.digits_npz`` format) and
names that file in the run's ``DataConfig.extra_data`` with the chosen weight, so the run's workers mix them in
(``data.with_extra_digits``); ``planned_digits`` is the same choice for the command line and the script shown before
Start. The choice is never part of a link: the digits are this workspace's own.
What does not live here: storing digits (``store``), mixing them (``data``), fine-tuning (``finetune_panel``).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from ..config import DataConfig
from ..handwriting.digits_npz import save_digits
from .workspace import store, workspace

DIGITS_KEY = "train_your_digits"  # the choice: MNIST alone, or MNIST + your digits
WEIGHT_KEY = "train_digits_weight"
MNIST_ONLY, WITH_DIGITS = "MNIST", "MNIST + your digits"
DEFAULT_WEIGHT = 10  # a few dozen digits beside 60,000 images count for little unless each counts several times
DIGITS_FILE = "your_digits.npz"  # in the run's folder


def your_digits() -> tuple[np.ndarray, np.ndarray]:
    """The workspace's digits: images uint8 (N, 28, 28), labels uint8 (N,)."""
    return store().digits_arrays(workspace())


def digits_option(dataset: str) -> None:
    """"MNIST + your digits" and its weight, when the dataset is MNIST and the workspace holds digits."""
    if dataset != "mnist":
        return
    labels = your_digits()[1]
    if not len(labels):
        return
    st.session_state.setdefault(DIGITS_KEY, MNIST_ONLY)
    st.session_state.setdefault(WEIGHT_KEY, DEFAULT_WEIGHT)
    st.radio("Training data", [MNIST_ONLY, WITH_DIGITS], key=DIGITS_KEY, horizontal=True,
             help="train on the MNIST training images and your own digits together (the test set stays MNIST's)")
    if st.session_state[DIGITS_KEY] == WITH_DIGITS:
        st.slider("Weight of your digits", 1, 100, key=WEIGHT_KEY,
                  help="how many times each of your digits counts in an epoch beside the MNIST images")
        st.caption(f"Your {len(labels):,} digits, each counted {st.session_state[WEIGHT_KEY]} times an epoch: "
                   f"{len(labels) * st.session_state[WEIGHT_KEY]:,} images beside MNIST's.")


def planned_digits(data_cfg: DataConfig, file_name: str) -> tuple[DataConfig, tuple | None]:
    """What a Start would train on, for the page's command line and script before the run exists: ``data_cfg``
    and None, or with "MNIST + your digits" chosen, ``data_cfg`` naming ``file_name`` (the digits file the script's
    download holds) with the chosen weight, and the workspace's digits (images, labels)."""
    if data_cfg.dataset != "mnist" or st.session_state.get(DIGITS_KEY) != WITH_DIGITS:
        return data_cfg, None
    images, labels = your_digits()
    if not len(labels):
        return data_cfg, None
    return dataclasses.replace(data_cfg, extra_data=file_name,
                               extra_weight=float(st.session_state.get(WEIGHT_KEY, DEFAULT_WEIGHT))), (images, labels)


def with_your_digits(data_cfg: DataConfig, run_id: str) -> DataConfig:
    """``data_cfg`` for the run ``run_id``: unchanged unless "MNIST + your digits" is chosen (and the workspace
    has digits), else naming the digits file written to the run's folder. OSError when it cannot be written."""
    if data_cfg.dataset != "mnist" or st.session_state.get(DIGITS_KEY) != WITH_DIGITS:
        return data_cfg
    images, labels = your_digits()
    if not len(labels):
        return data_cfg
    folder = store().run_dir(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    save_digits(folder / DIGITS_FILE, images, labels)
    return dataclasses.replace(data_cfg, extra_data=str(folder / DIGITS_FILE),
                               extra_weight=float(st.session_state.get(WEIGHT_KEY, DEFAULT_WEIGHT)))
