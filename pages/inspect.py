"""Inspect: look inside a trained model: its parameters, weights, their training history and mistakes.

A thin page: the model is the one the shared picker chose (any usable run of the workspace, or the
shipped default);
``nnplay.figures.inspect`` builds every figure; ``nnplay.engine.evaluate`` gives the test-set
predictions (computed once per model and kept in the session).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from nnplay import ui
from nnplay.augment import examples as augmented_examples
from nnplay.figures import inspect as fig
from nnplay.engine import evaluate, seeded_model
from nnplay.models import count_parameters, describe, parameter_listing



def weights_caption(changes: bool, known_start: bool) -> str:
    """What the first layer's pictures show, and why plain weights look like noise."""
    if changes:
        return ("Each first-layer unit's 784 weights minus the random values they started from, laid out as the "
                "28×28 image they multiply: red where training raised a weight (ink there now pushes the unit "
                "up), blue where it lowered it. Strokes and blobs are what the unit learned to look for; the "
                "border stays white, as MNIST has no ink there and those weights get no gradient.")
    return ("Each first-layer unit's 784 weights laid out as the 28×28 image they multiply: red pixels push the "
            "unit up, blue ones down. They start random and a short training moves each only a little, so most "
            "of a picture is still the random start: noise. "
            + ("Show *what training changed* to see what each unit learned." if known_start else
               "This model's random start is not known here (it was loaded or shipped), so the noise stays."))


ui.ensure_navigation()
st.title("Inspect a model")

# -- which model --------------------------------------------------------------------------------

ui.model_picker(key="inspect_model")  # the one picker (also in the sidebar): the choice is the workspace's, kept across reloads
chosen = ui.model_for_page()
if chosen is None:
    st.info("No model yet: train one on the Train page.", icon="ℹ️")
    st.stop()
model, model_cfg, label, is_default = chosen
current = None if is_default else ui.picked_run()
key = "default" if current is None else f"run-{current.id}"
history = None if current is None else current.history
dataset = "mnist" if current is None else current.data_cfg.dataset
st.caption(describe(model_cfg))
data = ui.dataset_or_stop(dataset, learner=True)  # in class mode the visible test half only
classes = data.classes

evaluations = st.session_state.setdefault("inspect_evaluations", {})
if key not in evaluations or evaluations[key].probabilities is None:
    with st.spinner(f"Predicting the {len(data.test_images):,} test images…"):
        evaluations[key] = evaluate(model, data.test_images, data.test_labels, keep_probabilities=True)
evaluation = evaluations[key]
predictions = evaluation.predictions.numpy()
labels = data.test_labels.numpy()
st.caption(f"Test accuracy **{evaluation.accuracy:.2%}** on {len(labels):,} images, "
           f"{int((predictions != labels).sum()):,} mistakes.")

tab_params, tab_weights, tab_hist, tab_samples, tab_confusion = st.tabs(
    ["Parameters", "Weights", "Histograms", "Test images", "Confusion matrix"])

# -- parameters, as seed 000 prints them ---------------------------------------------------------

with tab_params:
    rows = parameter_listing(model, first=5)
    st.dataframe(
        [{"index": r["index"], "name": r["name"], "shape": " × ".join(map(str, r["shape"])),
          "first five values": ", ".join(f"{v:.4f}" for v in r["first values"])} for r in rows],
        hide_index=True, width="stretch",
    )
    st.markdown(f"**Total: {count_parameters(model):,} parameters**")

# -- weights: MLP units as images, CNN filters and feature maps ---------------------------------

with tab_weights:
    if model_cfg.family == "mlp":
        units = fig.unit_weights(model).shape[0]
        # a run trained here started from seeded_model(config, seed): its random start can be taken away
        known_start = current is not None and current.status != "loaded"
        changes = known_start and st.radio(
            "Show", [True, False], key="inspect_weights_change", horizontal=True,
            format_func=lambda c: "what training changed" if c else "the weights",
            help="what training changed: each weight minus the random value it started from") is True
        shown = st.slider("Units shown", min_value=1, max_value=units, value=min(64, units), key="inspect_units")
        start = seeded_model(current.model_cfg, current.train_cfg.seed) if changes else None
        st.plotly_chart(fig.unit_weights_figure(model, max_units=shown, start=start), key="inspect_units_fig")
        st.caption(weights_caption(changes, known_start))
    else:
        convs = [name for name, _ in fig.conv_layers(model)]
        layer = st.selectbox("Conv layer", convs, key="inspect_conv")
        st.plotly_chart(fig.conv_filters_figure(model, layer), key="inspect_filters_fig")
        st.subheader("Feature maps")
        left, right = st.columns([1, 3])
        with left:
            index = st.number_input("Test image", min_value=0, max_value=len(labels) - 1, value=0, step=1,
                                    key="inspect_fmap_image")
            image = data.test_images[int(index)].numpy()
            st.image(np.kron(image, np.ones((5, 5), dtype=np.uint8)), width=140,
                     caption=f"label {classes[labels[index]]}, predicted {classes[predictions[index]]}")
        maps = fig.feature_maps(model, image)
        with right:
            stage = st.selectbox("Layer", list(maps), index=min(1, len(maps) - 1), key="inspect_fmap_layer")
            st.plotly_chart(fig.feature_maps_figure(maps, stage), key="inspect_fmaps_fig")

# -- weight and gradient histograms over the epochs ----------------------------------------------

with tab_hist:
    stats = history.layer_stats if history is not None else []
    if not stats:
        st.info("This model has no training history here (it was loaded, or it is the default model). "
                "Train a run on the Train page to see how its weights and gradients moved.", icon="ℹ️")
    else:
        epochs = fig.stats_epochs(stats)
        epoch = (st.select_slider("Epoch", options=epochs, value=epochs[-1], key="inspect_epoch")
                 if len(epochs) > 1 else epochs[0])
        st.plotly_chart(fig.histogram_figure(stats, epoch, "weight"), key="inspect_hist_w")
        st.plotly_chart(fig.histogram_figure(stats, epoch, "grad"), key="inspect_hist_g")
        st.dataframe(fig.stats_table(stats, epoch), hide_index=True, width="stretch")

# -- seed 000's 25 random test images ------------------------------------------------------------


with tab_samples:
    c_another, c_mistakes = st.columns([1, 3], vertical_alignment="center")
    if c_another.button("Another 25", key="inspect_another"):
        st.session_state["inspect_sample_seed"] = st.session_state.get("inspect_sample_seed", 0) + 1
    mistakes_only = c_mistakes.toggle("Mistakes only", key="inspect_mistakes_only",
                                      help="draw the 25 from the test images the model got wrong")
    pool = fig.sample_pool(predictions, labels, mistakes_only)
    if not len(pool):
        st.info("No mistakes: the model gets every test image right.", icon="✅")
    else:
        idx = pool[fig.random_indices(len(pool), 25, seed=st.session_state.get("inspect_sample_seed", 0))]
        wrong = int((predictions[idx] != labels[idx]).sum())
        st.caption(f"{len(idx)} of the {len(pool):,} mistakes, at random (marked ✗ in red)." if mistakes_only else
                   f"{wrong} of these {len(idx)} are wrong (marked ✗ in red).")
        st.plotly_chart(fig.prediction_grid_figure(data.test_images[idx].numpy(), predictions[idx], labels[idx],
                                                   classes), key="inspect_grid_fig")

augment_cfg = current.train_cfg if current is not None and current.train_cfg.augment != "none" else None
if augment_cfg is not None:  # what the network saw: the run's training images distorted as it distorted them
    with tab_samples:
        st.plotly_chart(fig.augmented_figure(augmented_examples(data.train_images[:6], augment_cfg).numpy(),
                                             f"Training images, {augment_cfg.augment} distortions"),
                        key="inspect_augmented_fig")
        st.caption("This run trained on distorted images (its augmentation settings, drawn afresh here): the test "
                   "images above are never distorted.")

# -- confusion matrix; a cell's images -----------------------------------------------------------

with tab_confusion:
    cm = fig.confusion_matrix(labels, predictions, len(classes))
    n = len(classes)
    if "inspect_true" not in st.session_state:  # start on the model's most common mistake
        worst = fig.most_confused(cm)
        st.session_state["inspect_true"], st.session_state["inspect_pred"] = classes[worst[0]], classes[worst[1]]
    chosen = (classes.index(st.session_state["inspect_true"]), classes.index(st.session_state["inspect_pred"]))
    left, right = st.columns([3, 2])
    with left:
        event = st.plotly_chart(fig.confusion_figure(cm, classes, selected=chosen), key="inspect_cm_fig",
                                on_select="rerun", selection_mode="points")
    points = event.selection.points if event and event.selection else []
    cell_points = [p for p in points if p.get("curve_number") == 1 and p.get("point_index") is not None]
    if cell_points:
        i, j = divmod(int(cell_points[0]["point_index"]), n)
        if st.session_state.get("inspect_last_click") != (i, j):  # a new click moves the boxes below
            st.session_state["inspect_last_click"] = (i, j)
            st.session_state["inspect_true"], st.session_state["inspect_pred"] = classes[i], classes[j]
            st.rerun()
    with right:
        st.plotly_chart(fig.per_class_figure(cm, classes), key="inspect_per_class_fig")
    st.caption("Click a cell (or pick the classes below) to see its test images.")
    c1, c2 = st.columns(2)
    true_name = c1.selectbox("True class", classes, key="inspect_true")
    pred_name = c2.selectbox("Predicted as", classes, key="inspect_pred")
    i, j = classes.index(true_name), classes.index(pred_name)
    cell = fig.cell_indices(labels, predictions, i, j)
    shown = cell[:50]
    st.markdown(f"**True {true_name}, predicted {pred_name}: {len(cell):,} images**"
                + (f" (the first {len(shown)} shown)" if len(cell) > len(shown) else ""))
    if len(shown):
        titles = fig.cell_titles(shown, evaluation.probabilities.numpy(), i, j, classes)
        st.plotly_chart(fig.image_grid_figure(data.test_images[shown].numpy(), titles, [i != j] * len(shown),
                                              columns=10), key="inspect_cell_fig")
        st.caption(f"Above each image: its number in the test set and the probability the model gave {pred_name}"
                   + (f", then the probability it gave the true class {true_name}." if i != j else "."))
