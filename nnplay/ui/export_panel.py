"""The Train page's export UI: a run's model, code and TensorBoard files as downloads.

``export_panel(run)`` draws, under the runs section's buttons, an "Export" expander with one row of
download buttons (ONNX, TorchScript, safetensors, the training script, TensorBoard); the files are
built only when a button is clicked (``data=callable``, ``on_click="ignore"``: no rerun). A format
whose optional package is missing, or a run with no model, says so instead of offering a broken
button; so does a run whose curves the run store cannot give (``Run.read_error``): no TensorBoard files.
``script_expander(data_cfg, model_cfg, train_cfg)`` shows the PyTorch script of the settings beside "the
same run from the command line", with a download (a zip with your digits when the run will train on them). What builds the files (``nnplay.export.run``) and what
writes them (``nnplay.export``) does not live here.
"""

from __future__ import annotations

import streamlit as st

from ..export import no_model_reason, run_file, training_script
from ..export.run import download_of, file_name, install_sentence, script_problem, zip_files
from ..export.script import digits_file_name
from ..handwriting.digits_npz import digits_bytes
from ..names import escape_markdown
from .widgets import folded_code

# label and help of each button; the checkpoint is the runs section's own "Model (.pt)" button
BUTTONS = {
    "onnx": ("ONNX (.onnx)", "input `image` (N, 1, 28, 28) floats in [0, 1], output `logits` (N, 10), dynamic "
                             "batch, opset 20: run it with onnxruntime"),
    "torchscript": ("TorchScript (.pt)", "`torch.jit.load(file)` runs it without nnplay (same input and output "
                                         "as ONNX)"),
    "safetensors": ("safetensors (.zip)", "a zip of two files: the weights (`.safetensors`, the model config "
                                          "also in its metadata) and the config as `.json` beside them"),
    "script": ("Code (.py)", "a standalone PyTorch script (torch and torchvision only) that trains this run again "
                             "with the same settings and seed; for a run on your digits too, a zip of the script "
                             "and your digits as the .npz it reads (and a fine-tuned run's starting weights)"),
    "tensorboard": ("TensorBoard (.zip)", "a zip of event files (losses, accuracies, learning rate, weight and "
                                          "gradient histograms): unzip, then `tensorboard --logdir <folder>`"),
}
MODEL_FORMATS = ("onnx", "torchscript", "safetensors")
SCRIPT_NAME = "train_mnist.py"  # the Train page's script download, and the digits file it reads beside it
SCRIPT_DIGITS = digits_file_name(SCRIPT_NAME)


def _download(run, fmt: str):
    """The button's data callable: the file is built when the user clicks, not on every rerun."""
    return lambda: run_file(run, fmt)


def export_panel(run) -> None:
    """An "Export" expander for ``run``: model formats, its training script and its TensorBoard files."""
    no_model = no_model_reason(run)
    history = run.history  # read once here: a store that cannot give the curves says why in ``run.read_error``
    unread = getattr(run, "read_error", "")
    with st.expander("Export: ONNX, TorchScript, safetensors, code, TensorBoard"):
        row = st.columns(len(BUTTONS))
        notes = []
        for col, (fmt, (label, help_text)) in zip(row, BUTTONS.items()):
            problem = ""
            if fmt == "script" and download_of(run, fmt)[0].endswith(".zip"):
                label = "Code (.zip)"  # the script and the digits (or weights) it reads beside it
            if no_model and (fmt in MODEL_FORMATS or run.unreadable):  # unreadable settings: no code either
                problem = no_model
            elif fmt == "script" and script_problem(run):
                problem = script_problem(run)
            elif fmt == "tensorboard" and unread:
                problem = f"The curves of {run.name} cannot be read, so there is nothing for TensorBoard: {unread}"
            elif fmt == "tensorboard" and not (history.steps or history.epochs):
                problem = f"{run.name} has not trained a step yet, so there is nothing for TensorBoard."
            missing = install_sentence(fmt)
            if missing and not problem:
                problem = f"{label} export is not available: {missing}."
                notes.append(problem)
            col.download_button(label, data=_download(run, fmt), file_name=file_name(run, fmt),
                                mime=download_of(run, fmt)[1], key=f"train_export_{fmt}", on_click="ignore",
                                width="stretch", disabled=bool(problem),
                                help=escape_markdown(problem) if problem else help_text)
        if unread:
            st.caption(escape_markdown(f"The curves of {run.name} cannot be read from the run store, so its "
                                       f"TensorBoard files cannot be made: {unread}"))
        if no_model:
            still = "its code and its curves" if history.steps else "its code"
            st.caption(escape_markdown(no_model[:1].upper() + no_model[1:]) + f" You can still download {still}.")
        for note in notes:
            st.caption(note)
        terminal = (f" From a terminal: `python -m nnplay export {run.id} --format onnx --out model.onnx`."
                    if run.store is not None else "")
        st.caption("The model files take float images (N, 1, 28, 28) with pixels / 255 and give 10 logits."
                   + terminal)


def script_expander(data_cfg, model_cfg, train_cfg, data_source: str = "full", digits=None) -> None:
    """The settings' standalone PyTorch script (``export.training_script``), shown with a download; on the
    built-in sample (``data_source``) the script says that it trains on full MNIST instead. ``digits``: the
    (images, labels) a run of these settings trains on beside MNIST (``data_cfg.extra_data`` names their file,
    ``SCRIPT_DIGITS``): then the download is a zip of the script and those digits as the .npz it reads."""
    def script() -> str:  # built only when shown or downloaded
        if digits is None:
            return training_script(data_cfg, model_cfg, train_cfg, data_source)
        return training_script(data_cfg, model_cfg, train_cfg, data_source, digits_file=SCRIPT_DIGITS,
                               digit_count=len(digits[1]))

    def bundle() -> bytes:
        return zip_files({SCRIPT_NAME: script().encode(), SCRIPT_DIGITS: digits_bytes(*digits)})

    def download(box) -> None:
        if digits is not None:
            box.download_button("Download train_mnist.zip", file_name="train_mnist.zip", mime="application/zip",
                                data=bundle, key="train_script_download", on_click="ignore",
                                help=f"the script and your digits ({SCRIPT_DIGITS}, which it reads): unzip, then "
                                     f"`python {SCRIPT_NAME}` trains this network on MNIST and your digits")
            return
        box.download_button("Download train_mnist.py", file_name=SCRIPT_NAME, mime="text/x-python",
                            data=script, key="train_script_download", on_click="ignore",
                            help="one file, only torch and torchvision: `python train_mnist.py` trains this "
                                 "network with these settings and seed and prints each epoch")

    folded_code("The same run as a PyTorch script", "train_script_open", script, head=download, line_numbers=True,
                height=480)  # scrolls: the script is ~300 lines

