"""Your digits: collect your own handwriting, import photos of it, keep it as a file, and see why a network
trained on MNIST may misread it.

A thin page: ``nnplay.ui.digits_collect`` asks for one digit at a time and keeps each drawing in the learner's
workspace, ``digits_grid`` shows them (label editable, Delete) and the preprocessing of one beside MNIST's digits
of its class, ``digits_import`` imports photos and exports/imports the digits as .npz or a zip of PNGs. The store's
``digits`` table (``nnplay.store_digits``) keeps them; another workspace never sees them. ``digits_eval`` tests
runs on them (accuracy beside MNIST's, confusion, mistakes), ``finetune_panel``
trains a run further on part of them and shows before and after on the held-back rest and on MNIST's test set.
"""

from __future__ import annotations

import streamlit as st

from nnplay import ui
from nnplay.ui.digits_collect import collect_section
from nnplay.ui.digits_grid import grid_section, why_section
from nnplay.ui.digits_import import files_and_photos_section
from nnplay.ui.digits_eval import evaluate_section
from nnplay.ui.finetune_panel import finetune_section

ui.ensure_navigation()
st.title("Your digits")
st.caption("A network with 98% on MNIST often reads your own handwriting worse: MNIST's digits were scaled to "
           "20 px and centred by their centre of mass, and written by other hands. Collect yours here, then see why.")
ui.show_data_notice()
store, ws = ui.store(), ui.workspace()
if store.notice:
    st.warning(store.notice, icon="⚠️")

collect_section(store, ws)
records = store.list_digits(ws)
grid_section(store, ws, records)
images, labels = store.digits_arrays(ws)
files_and_photos_section(store, ws, images, labels, [r.id for r in records])
why_section(store, ws, records)

# -- Test and fine-tune on your digits --------------------------------------------------------------------------
evaluate_section(images, labels)
finetune_section(images, labels)
