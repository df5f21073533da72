"""The fine-tune panel of the "Your digits" page: train a run further on the learner's digits, then before and after.

``finetune_section(images, labels)`` draws it: pick one of the workspace's MNIST runs or the shipped default model
(kept as a "loaded" run when fine-tuned, since a parent is a run), the epochs (3), the replay share (how much of the
training mix is MNIST, with the count it makes), the held-back share (with how many digits that holds back), the
weight of the learner's digits, and Start, which queues the child run on the workers
(``handwriting.finetune.start_finetune``). While the child trains its progress refreshes in a fragment; once it has ended, the table of before and after on
the held-back digits and on the MNIST test set (``handwriting.finetune.before_after_of``), worked out once per
child. What does not live here: the digits themselves (the page gives them), the split and the training
(``handwriting.finetune``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from ..handwriting.finetune import (DEFAULT_EPOCHS, DEFAULT_HELD_BACK, DEFAULT_WEIGHT, MAX_EPOCHS, MIN_DIGITS,
                                    FinetuneError, before_after_of, parent_refusal, replay_count, split_digits, start_finetune)
from ..names import escape_markdown
from ..runs import progress_text, run_from_checkpoint, status_text
from .data import cached_mnist, learner_mnist
from .model_picker import DEFAULT_MODEL_FILE
from .workspace import store, workspace
from .workspace_runs import run_by_id

CHILD_KEY = "finetune_child"  # the id of the fine-tuned run this session started last
RESULTS_KEY = "_finetune_results"  # child id → its BeforeAfter (or the sentence why there is none)
DEFAULT_REPLAY_SHARE = 0.5


DEFAULT_PARENT = "default"  # the picker's entry for the shipped default model, kept as a run when fine-tuned


def finetune_parents() -> list[tuple[str, str]]:
    """(id, name) of the workspace's runs that can be fine-tuned on digits, newest first, then the shipped
    default model (``DEFAULT_PARENT``) when its file is there."""
    records = store().list_runs(workspace(), usable_only=True)
    parents = [(r.id, r.name) for r in reversed(records) if not parent_refusal(r, workspace())]
    if DEFAULT_MODEL_FILE.exists():
        parents.append((DEFAULT_PARENT, "nnplay's default model (MLP 784-256-10 ReLU, note 000)"))
    return parents


def _kept_default_model() -> str:
    """The shipped default model kept as a "loaded" run of this workspace (a parent needs a record); its id."""
    run, note = run_from_checkpoint("nnplay's default model", DEFAULT_MODEL_FILE.read_bytes())
    if run is None:
        raise FinetuneError(f"The default model could not be read: {note}")
    run.bind(store(), workspace())
    return run.id


def _start(images: np.ndarray, labels: np.ndarray, replay: int) -> None:
    """Start button callback: queue the child run, or say in a sentence why it cannot start."""
    state = st.session_state
    try:
        if state["finetune_parent"] == DEFAULT_PARENT:
            state["finetune_parent"] = _kept_default_model()
        parent = store().get(state["finetune_parent"])
        data = cached_mnist("mnist")
        if parent is not None:
            data = data.limited(parent.data_cfg.train_limit, parent.data_cfg.test_limit)
        child, split = start_finetune(store(), state["finetune_parent"], images, labels, workspace(),
                                      epochs=int(state["finetune_epochs"]), replay=replay,
                                      held_back=float(state["finetune_held_back"]),
                                      extra_weight=float(state["finetune_weight"]), data=data)
    except FinetuneError as err:
        state["_finetune_note"] = str(err)
        return
    state[CHILD_KEY] = child.id
    state["_finetune_note"] = f"Queued **{escape_markdown(child.name)}**. {split.sentence()}"


def finetune_section(images: np.ndarray, labels: np.ndarray) -> None:
    """The panel: settings and Start, then the child's progress, then its before and after."""
    st.subheader("Fine-tune a run on your digits")
    labels = np.asarray(labels)
    if len(labels) < MIN_DIGITS:
        st.info(f"Fine-tuning needs at least {MIN_DIGITS} of your digits: some to train on and some held back to "
                f"measure on. You have {len(labels)}.")
        return
    parents = finetune_parents()
    if not parents:
        st.info("Train a run on MNIST first (on the Train page): fine-tuning trains a run further.")
        return
    names = dict(parents)
    if st.session_state.get("finetune_parent") not in names:
        st.session_state["finetune_parent"] = parents[0][0]
    st.selectbox("Run to fine-tune", list(names), key="finetune_parent", format_func=names.get)
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input("Epochs", 1, MAX_EPOCHS, DEFAULT_EPOCHS, key="finetune_epochs")
    c4.slider("Weight of your digits", 1, 20, int(DEFAULT_WEIGHT), key="finetune_weight",
              help="how many times each of your digits counts in an epoch: a few digits beside many MNIST images")
    c2.slider("Replay share", 0.0, 0.95, DEFAULT_REPLAY_SHARE, step=0.05, key="finetune_replay_share",
              help="the part of the training mix that is MNIST training images: they keep the run from forgetting "
                   "MNIST while it learns your handwriting")
    c3.slider("Held back", 0.1, 0.5, DEFAULT_HELD_BACK, step=0.05, key="finetune_held_back",
              help="the part of your digits kept apart: the run never trains on them, and they alone measure it")
    split = split_digits(np.zeros((len(labels), 1, 1), np.uint8), labels, st.session_state["finetune_held_back"])
    weight = st.session_state["finetune_weight"]
    replay = replay_count(st.session_state["finetune_replay_share"], split.tune_count, weight)
    st.caption(f"{split.sentence()} Each counts {weight} times an epoch, beside {replay:,} MNIST training images "
               f"drawn at random.")
    st.button("Start fine-tuning", key="finetune_start", type="primary", on_click=_start,
              args=(np.asarray(images), labels, replay))
    note = st.session_state.pop("_finetune_note", None)
    if note:
        st.info(note)
    child_id = st.session_state.get(CHILD_KEY)
    if child_id:
        child_view(child_id)


@st.fragment(run_every=1.0)
def _progress(child_id: str) -> None:
    """The child's progress while it trains; the whole panel is drawn again once it has ended."""
    run, _ = run_by_id(child_id)
    if run is None or not run.active:
        st.rerun()
    st.caption(f"{escape_markdown(run.name)}: {status_text(run)} · {progress_text(run)}")


def child_view(child_id: str) -> None:
    """The latest fine-tuned run: its progress while active, how it ended, and its before and after."""
    run, mine = run_by_id(child_id)
    if run is None or not mine:
        return
    if run.active:
        _progress(child_id)
        return
    if run.status not in ("finished", "stopped"):
        st.error(f"{escape_markdown(run.name)}: {status_text(run)}. {run.message}")
        return
    results = st.session_state.setdefault(RESULTS_KEY, {})
    if child_id not in results:
        mnist = learner_mnist("mnist")  # in class mode the visible half: no held-back image is scored here
        try:
            results[child_id] = before_after_of(store(), child_id, (mnist.test_images, mnist.test_labels))
        except FinetuneError as err:
            results[child_id] = str(err)
    result = results[child_id]
    if isinstance(result, str):
        st.warning(result)
        return
    st.markdown(f"**Before and after: {escape_markdown(run.name)}**")
    table = pd.DataFrame(result.rows()).set_index("measured on")
    table[["before", "after"]] *= 100  # one decimal on every line: "0.0%" beside "96.8%", not "0%"
    st.dataframe(table, column_config={
        "before": st.column_config.NumberColumn("before", format="%.1f%%"),
        "after": st.column_config.NumberColumn("after", format="%.1f%%"),
        "change (points)": st.column_config.NumberColumn("change (points)", format="%+.1f")})
    st.caption(result.sentence())
