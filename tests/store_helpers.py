"""What the tests of stored runs as the pages see them share: a run trained and kept in the store, and the model
picker on a page of its own.

``kept_run`` trains a small MLP for one epoch on the given data (the sample's tiny subset) into this test's
store (conftest's ``private_store``) and checks that it finished; ``picker_page`` is a page with the one model
picker (``AppTest.from_function``) and ``shown`` reads which model it gave. Used by test_store_pages.py and
test_kept_models.py.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.runs import Run
from nnplay.store import open_store


def kept_run(tiny_data, name: str, hidden: int = 8, workspace: str = "local") -> Run:
    """A finished one-epoch run of an MLP 784-``hidden``-10, kept in the store under ``workspace``."""
    run = Run(name, DataConfig(), ModelConfig(hidden=(hidden,)), TrainConfig(epochs=1, batch_size=500, device="cpu"))
    run.bind(open_store(), workspace)
    run.start(tiny_data).wait()
    assert run.status == "finished", run.message
    return run


def picker_page():
    import streamlit as st

    from nnplay import ui

    ui.model_picker()
    model, cfg, label, is_default = ui.model_for_page()
    st.markdown(f"model: {label} / default: {is_default} / hidden: {cfg.hidden}")


def shown(at: AppTest) -> str:
    """What ``picker_page`` says it uses: "model: <label> / default: <bool> / hidden: <widths>"."""
    return next(m.value for m in at.markdown if m.value.startswith("model: "))
