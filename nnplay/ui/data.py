"""The dataset as every session shares it, and the one-line notice of the data a page uses.

What lives here: ``cached_mnist`` (decoded once per process and data folder: what training is handed),
``learner_mnist`` (the same with the test images a learner may see: in class mode the visible half only,
``classroom.heldback.learner_part``; every page that shows, scores or searches test images takes it),
``dataset_or_stop`` (the data, or an error box and a stop; ``learner=True`` for the learner's part) and
``show_data_notice`` (one line, e.g. "this is the built-in sample", with a popover that says how to get the full
data: "Get the full data"). What does not: reading the files (``nnplay.data``).
"""

from __future__ import annotations

import streamlit as st

from ..classroom.heldback import learner_part
from ..classroom.teacher import class_mode
from ..config import DataConfig
from ..data import DataError, MnistData, default_data_dir, load_mnist
from .workspace import workspace_mode

DATA_DOCS = "docs/data.md"  # the project's page on the data, beside the README


def cached_mnist(dataset: str = "mnist") -> MnistData:
    """The whole dataset as uint8 tensors, decoded once and shared by every session (read-only).

    Keyed by the data folder as well as the dataset, so a changed $NNPLAY_DATA_DIR is read anew
    rather than served another folder's data.
    """
    return _cached_mnist(dataset, str(default_data_dir()))


@st.cache_resource(show_spinner="Loading the dataset…")
def _cached_mnist(dataset: str, data_dir: str) -> MnistData:
    return load_mnist(DataConfig(dataset=dataset, data_dir=data_dir))


def learner_mnist(dataset: str = "mnist") -> MnistData:
    """The dataset with only the test images a learner's page may show or score on (``heldback.learner_part``:
    the visible half in class mode, all of them outside it), cut once per process, data folder and mode."""
    return _learner_mnist(dataset, str(default_data_dir()), class_mode())


@st.cache_resource(show_spinner=False)
def _learner_mnist(dataset: str, data_dir: str, in_class: bool) -> MnistData:  # noqa: ARG001 - the mode keys it
    return learner_part(_cached_mnist(dataset, data_dir))


def notice_line(data: MnistData) -> str | None:
    """The data's notice in one line (the built-in sample: what it is and that the full data is missing), or None."""
    if not data.notice:
        return None
    if data.source == "sample":
        return (f"nnplay's built-in sample of MNIST ({len(data.train_images):,} training, {len(data.test_images):,} "
                "test images): the full dataset is not on this machine.")
    return data.notice.split(". ")[0].rstrip(".") + "."


def how_to_get_the_data(local: bool) -> str:
    """What the "full data" popover says: on a local install with the folder, on a shared server to ask its host."""
    if not local:
        return ("This server has no copy of the full MNIST files and could not download them. Ask whoever runs it "
                f"to put them in its data folder (see {DATA_DOCS} in nnplay's repository); your runs meanwhile "
                "train and test on the sample.")
    return (f"Connect to the internet and reload (torchvision downloads the files), or put the four MNIST `.gz` "
            f"files in `{default_data_dir() / 'MNIST' / 'raw'}` (or set `NNPLAY_DATA_DIR` to another folder). "
            f"More in {DATA_DOCS} in nnplay's repository.")


def _notice(data: MnistData) -> None:
    line = notice_line(data)
    if line is None:
        return
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    row.caption(f":material/info: {line}")
    with row.popover("Get the full data", type="tertiary"):
        st.markdown(how_to_get_the_data(workspace_mode() == "local"))


def dataset_or_stop(dataset: str = "mnist", learner: bool = False) -> MnistData:
    """cached_mnist (``learner``: learner_mnist, for a page that shows or scores test images), or an error box and
    st.stop() when the data cannot be had; shows the data's notice."""
    try:
        data = learner_mnist(dataset) if learner else cached_mnist(dataset)
    except DataError as err:
        st.error(f"The {dataset} data could not be loaded. {err}")
        st.stop()
    _notice(data)
    return data


def show_data_notice(dataset: str = "mnist", data: MnistData | None = None) -> None:
    """The data's notice on a page that uses the data only on demand (Draw's quick training, Activations' race),
    or of ``data`` already loaded; nothing when the data cannot be loaded, since the part that needs it says so
    when it is used."""
    if data is None:
        try:
            data = cached_mnist(dataset)
        except DataError:
            return
    _notice(data)
