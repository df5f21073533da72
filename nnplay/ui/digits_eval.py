"""Evaluate runs on the learner's own digits: the section the "Your digits" page draws.

What lives here: ``evaluate_section(images, labels)``: a multiselect of the workspace's usable runs and the
shipped default model, a table of each one's accuracy on the digits beside its MNIST test accuracy, the
confusion matrix of one of them and its mistakes with their probabilities (in class mode the default model's MNIST
accuracy is measured on the visible test half, ``learner_mnist``, as the runs' own are). What does not: the numbers
(``nnplay.handwriting.evaluate``), the figures (``nnplay.figures.inspect``), where the digits come from.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ..classroom.teacher import class_mode
from ..data import DataError, default_data_dir
from ..engine import evaluate
from ..figures import inspect as fi
from ..handwriting.evaluate import DigitsEvaluation, evaluate_model, evaluate_run
from ..names import escape_markdown
from ..store import StoreError
from .data import learner_mnist
from .model_picker import default_model
from .workspace import store, workspace
from .workspace_runs import run_by_id

DEFAULT = "default"
RUNS_KEY, SHOWN_KEY = "digits_eval_runs", "digits_eval_shown"
MISTAKES_SHOWN = 30
CLASSES = [str(d) for d in range(10)]


def _choices() -> dict[str, str]:
    """{run id: label} of the workspace's runs with a usable model, newest first, then the default model."""
    try:
        listed = store().picker_choices(workspace())
    except StoreError:
        listed = []
    choices = {}
    for run_id, label in listed:
        run, own = run_by_id(run_id)
        if run is not None and own and run.usable:
            choices[run_id] = label
    if default_model() is not None:
        choices[DEFAULT] = "nnplay's default model"
    return choices


def mnist_test_images() -> int:
    """How many MNIST test digits the "MNIST test" column is measured on: in class mode the visible half."""
    if not class_mode():
        return 10_000
    try:
        return len(learner_mnist("mnist").test_labels)
    except DataError:
        return 5_000


@st.cache_resource(show_spinner=False)
def _default_visible_accuracy(data_dir: str) -> float | None:  # noqa: ARG001 - the data folder keys it
    model = default_model()[0]
    data = learner_mnist("mnist")
    return evaluate(model, data.test_images, data.test_labels).accuracy


def default_mnist_accuracy(meta: dict) -> float | None:
    """The default model's MNIST test accuracy: the one kept with it (the whole test set), in class mode measured
    on the visible half instead (a held-back image is never scored on a learner's page)."""
    if class_mode():
        try:
            return _default_visible_accuracy(str(default_data_dir()))
        except DataError:
            return None
    accuracy = meta.get("test_accuracy")
    return float(accuracy) if isinstance(accuracy, (int, float)) else None


def _evaluate(choice: str, images: np.ndarray, labels: np.ndarray) -> DigitsEvaluation | None:
    if choice == DEFAULT:
        model, _, meta = default_model()
        return evaluate_model(model, images, labels, "nnplay's default model", default_mnist_accuracy(meta))
    run, _ = run_by_id(choice)
    return None if run is None else evaluate_run(run, images, labels)


def evaluation_rows(results: list[DigitsEvaluation]) -> list[dict]:
    """The table: one row per model, its accuracy on the digits beside its MNIST test accuracy."""
    return [{"model": r.name, "your digits": f"{r.accuracy:.1%}",
             "MNIST test": "—" if r.mnist_accuracy is None else f"{r.mnist_accuracy:.1%}",
             "digits": r.n, "left out (trained on)": r.left_out,
             "mistakes": int((r.predictions != r.labels).sum())} for r in results]


def mistake_titles(result: DigitsEvaluation, shown: int = MISTAKES_SHOWN) -> tuple[list[int], list[str]]:
    """(indices, titles) of the most confident mistakes: "#3: 7 92%<br>true 1: 4%"."""
    mistakes = result.mistakes[:shown]
    return ([m.index for m in mistakes],
            [f"#{m.index}: {m.predicted} {m.p_predicted:.0%}<br>true {m.label}: {m.p_label:.0%}" for m in mistakes])


def evaluate_section(images: np.ndarray, labels: np.ndarray) -> None:
    """Pick runs, see their accuracy on these digits beside MNIST's, one's confusion matrix and its mistakes."""
    images, labels = np.asarray(images), np.asarray(labels)
    if len(labels) == 0:
        st.info("No digits yet: draw some above, then evaluate any run on them.", icon="ℹ️")
        return
    choices = _choices()
    if not choices:
        st.info("No model to evaluate: train one on the Train page.", icon="ℹ️")
        return
    picked = st.multiselect("Evaluate on your digits", list(choices), default=[next(iter(choices))], key=RUNS_KEY,
                            format_func=lambda c: choices.get(c, c),
                            help="Any finished run of your workspace, or the shipped default model")
    results = []
    for choice in picked:
        try:
            result = _evaluate(choice, images, labels)
        except ValueError as err:
            st.warning(escape_markdown(str(err)), icon=":material/block:")
            continue
        if result is not None:
            results.append(result)
    if not results:
        return
    st.dataframe(evaluation_rows(results), hide_index=True, width="stretch")
    st.caption(f"Accuracy on your {len(labels):,} digits beside each model's accuracy on the {mnist_test_images():,} "
               "MNIST test digits: "
               "a gap is how differently you write from MNIST's writers, and how differently your digits were "
               "centred and scaled.")
    names = [r.name for r in results]
    shown = st.selectbox("Confusion matrix and mistakes of", range(len(results)), key=SHOWN_KEY,
                         format_func=lambda i: names[i]) if len(results) > 1 else 0
    result = results[min(int(shown or 0), len(results) - 1)]
    st.plotly_chart(fi.confusion_figure(result.confusion, CLASSES), key="digits_eval_confusion")
    indices, titles = mistake_titles(result)
    if not indices:
        st.success(f"{escape_markdown(result.name)} reads every one of your {result.n:,} digits right.")
        return
    st.markdown(f"**{len(result.mistakes):,} mistakes** of {escape_markdown(result.name)}, the most confident first: "
                "the answer with its probability, then the probability it gave your label.")
    st.plotly_chart(fi.image_grid_figure(images[indices], titles, [True] * len(indices), columns=6),
                    key="digits_eval_mistakes")
