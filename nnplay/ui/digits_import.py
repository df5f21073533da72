"""The Your digits page's files: photos or scans of digits imported (several at once, each refusal a sentence
naming the file), and all the digits exported and imported as one ``.npz`` or a zip of PNGs. An import only
adds: nothing already kept is lost.

What lives here: ``files_and_photos_section`` (``photos_section`` then ``files_section``) and ``import_photos`` / ``import_file`` (what their
buttons do, testable without a page). What does not: reading photos and files (``nnplay.handwriting.photos``,
``nnplay.handwriting.files``), the store (``nnplay.store_digits``).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ..handwriting.digits_npz import DigitsFileError
from ..handwriting.files import npz_bytes, read_npz, read_zip, zip_bytes
from ..handwriting.photos import label_from_name, photos_to_digits
from ..store import Store, StoreError

FROM_NAME = "from each file's name"
PHOTOS_V, FILES_V = "digits_photos_v", "digits_file_v"
NOTES_KEY = "digits_import_notes"  # what the last import said, shown on the rerun after it


def import_photos(store: Store, ws: str, files: list[tuple[str, bytes]], label: int | str) -> tuple[int, list[str]]:
    """Keep the digits of these photos under ``label`` (or the label each file's name gives); (kept, refusals)."""
    refusals, kept = [], 0
    for result in photos_to_digits(files):
        if result.digit is None:
            refusals.append(result.error)
            continue
        digit_label = label_from_name(result.name) if label == FROM_NAME else int(label)
        if digit_label is None:
            refusals.append(f"{result.name} has no digit in its name to label it by (name it like 3.jpg, or pick "
                            "the label above).")
            continue
        try:
            store.add_digit(ws, digit_label, result.digit.image, result.digit.picture_png(), "photo")
            kept += 1
        except StoreError as err:
            refusals.append(f"{result.name} was not kept: {err}")
    return kept, refusals


def import_file(store: Store, ws: str, name: str, data: bytes) -> tuple[int, list[str]]:
    """Add the digits of an ``.npz`` or a zip of PNGs to the workspace's; (added, refusals)."""
    try:
        if name.lower().endswith(".npz"):
            images, labels = read_npz(data)
            refused = []
        elif name.lower().endswith(".zip"):
            got = read_zip(data)
            images, labels, refused = got.images, got.labels, got.refused
        else:
            return 0, [f"{name} is neither an .npz nor a .zip: export your digits from here to get one."]
    except DigitsFileError as err:
        return 0, [f"{name}: {err}"]
    try:
        ids = store.add_digits(ws, images, labels, "import") if len(images) else []
    except (StoreError, ValueError) as err:
        return 0, [f"{name} was not kept: {err}"]
    return len(ids), [f"{name}: {r}" for r in refused]


def _notes() -> None:
    """What the last import said (how many were added, one sentence per refusal), once."""
    notes = st.session_state.pop(NOTES_KEY, None)
    if notes is None:
        return
    kept, refusals, what = notes
    if kept:
        st.success(f"Added {kept} {what}.")
    for sentence in refusals:
        st.warning(sentence)
    if not kept and not refusals:
        st.info(f"No {what} in it.")


def files_and_photos_section(store: Store, ws: str, images: np.ndarray, labels: np.ndarray, ids: list[str]) -> None:
    """Photos to import, then the digits as a file (export and import), with what the last import said."""
    st.header("Photos and files")
    _notes()
    photos_section(store, ws)
    files_section(store, ws, images, labels, ids)


def photos_section(store: Store, ws: str) -> None:
    """Photos or scans of handwritten digits, one digit each, several at once."""
    st.subheader("Import photos or scans")
    st.caption("One digit per picture (PNG or JPEG), dark on light paper or light on dark: it is turned grey, "
               "inverted if need be, cropped to the digit, then made 28×28 the way the Draw page does it.")
    version = st.session_state.get(PHOTOS_V, 0)
    uploads = st.file_uploader("Photos", accept_multiple_files=True, key=f"digits_photos_{version}")
    label = st.selectbox("Their label", [FROM_NAME, *range(10)], key="digits_photos_label",
                         help="Every photo gets this label; or name the files 0.jpg … 9.jpg (or anna-3.png)")
    if st.button("Add the photos", key="digits_photos_add", disabled=not uploads):
        kept, refusals = import_photos(store, ws, [(f.name, f.getvalue()) for f in uploads], label)
        st.session_state[NOTES_KEY] = (kept, refusals, "photo" if kept == 1 else "photos")
        st.session_state[PHOTOS_V] = version + 1  # an empty uploader for the next ones
        st.rerun()


def files_section(store: Store, ws: str, images: np.ndarray, labels: np.ndarray, ids: list[str]) -> None:
    """Export every digit as .npz or as a zip of PNGs; import such a file (its digits are added)."""
    st.subheader("Your digits as a file")
    if len(images):
        left, right = st.columns(2)
        left.download_button(f"Download all {len(images)} as .npz", data=lambda: npz_bytes(images, labels),
                             file_name="my-digits.npz", mime="application/octet-stream", key="digits_npz",
                             help="MNIST's shapes: images uint8 (N, 28, 28), labels uint8 (N,)")
        right.download_button("Download as a zip of PNGs", data=lambda: zip_bytes(images, labels, ids),
                              file_name="my-digits.zip", mime="application/zip", key="digits_zip",
                              help="A folder per label: 3/<id>.png, 28×28 grey, white on black")
    version = st.session_state.get(FILES_V, 0)
    upload = st.file_uploader("Import an .npz or a zip of PNGs (folders 0 to 9)", key=f"digits_file_{version}")
    if st.button("Add its digits", key="digits_file_add", disabled=upload is None):
        added, refusals = import_file(store, ws, upload.name, upload.getvalue())
        st.session_state[NOTES_KEY] = (added, refusals, "digit" if added == 1 else "digits")
        st.session_state[FILES_V] = version + 1
        st.rerun()

