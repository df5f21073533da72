"""The Train page (/train): build a network, train it live, keep and compare runs.

What lives here: the widgets (every one keyed ``train_…``) read into the three configs
(``DataConfig``, ``ModelConfig``, ``TrainConfig``) with each refusal shown beside its control;
the network's layer table; Start, which trains a ``runs.Run`` in a background thread; the live
view's snapshot (status, progress, charts), which ``ui.live_run_view`` refreshes in the browser
while that run is active, with no rerun of this script;
the session's runs (list, rename, delete, compare, download, upload). Settings live in the URL
through ``nnplay.urlstate``; figures come from ``nnplay.figures.train``.
What does not live here: training (``engine``, ``runs``), figure building, checkpoint checks.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from nnplay.checkpoint import run_checkpoint_bytes, run_file_name, run_from_checkpoint
from nnplay.config import (ACTIVATIONS, DATASETS, DEVICES, INITS, OPTIMIZERS, PRESETS, SCHEDULES, DataConfig,
                           ModelConfig, TrainConfig)
from nnplay.data import DataError
from nnplay.engine import pick_device
from nnplay.figures.train import compare_figure, epoch_spec, figure_json, loss_spec
from nnplay.models import describe, layer_table
from nnplay.names import escape_markdown
from nnplay.runs import Run, compare_table, metrics_csv
from nnplay.ui import (active_run, add_run, cached_mnist, ensure_navigation, freeze_long_lived_objects,
                       live_run_view, preload_live_view, remove_run, session_runs)
from nnplay.urlstate import cli_command, from_query, parse_value, to_query

KEEP = "session"  # widgets keep their values when the user visits another page and comes back
# learning rates on a log scale: 1, 2, 3, 5 per decade from 1e-5 to 10
LR_OPTIONS = sorted({float(f"{m}e{e}") for e in range(-5, 1) for m in (1, 2, 3, 5)} | {10.0})
QUICK_TRAIN, QUICK_TEST = 5000, 1000
DATASET_LABELS = {"mnist": "MNIST digits", "fashion-mnist": "Fashion-MNIST clothes"}
MODEL_SLOTS = {"hidden", "cnn", "fc", "dropout", "activation", "init", "model"}
PER_LAYER = "per layer"
SAME = "whole net"

# which slot (the place beside a control) a config's error sentence belongs to
ERROR_SLOTS = [
    ("hidden layer", "hidden"), ("conv layer", "cnn"), ("max-pool", "cnn"), ("CNN", "cnn"), ("fc_width", "fc"),
    ("dropout", "dropout"), ("activation", "activation"), ("init", "init"),
    ("learning rate", "lr"), ("batch size", "batch"), ("epoch", "epochs"), ("momentum", "momentum"),
    ("nesterov", "momentum"), ("weight decay", "wd"), ("step schedule", "schedule"), ("device", "advanced"),
    ("max_loss", "advanced"), ("log_every", "advanced"),
]


# ---------------------------------------------------------------------------------------------
# configs ⇄ widget values


def widget_values(data_cfg: DataConfig, model_cfg: ModelConfig, train_cfg: TrainConfig) -> dict:
    """Session-state values that make the widgets show these configs."""
    acts = model_cfg.activations()
    per_layer = not isinstance(model_cfg.activation, str) and len(set(acts)) > 1
    values = {
        "train_dataset": data_cfg.dataset,
        "train_quick": data_cfg.train_limit is not None or data_cfg.test_limit is not None,
        "train_train_limit": data_cfg.train_limit or QUICK_TRAIN,
        "train_test_limit": data_cfg.test_limit or QUICK_TEST,
        "train_family": model_cfg.family,
        "train_hidden": ",".join(map(str, model_cfg.hidden)),
        "train_act_mode": PER_LAYER if per_layer else SAME,
        "train_activation": acts[0] if acts else (model_cfg.activation if isinstance(model_cfg.activation, str)
                                                  else "relu"),
        "train_init": model_cfg.init,
        "train_init_std": float(model_cfg.init_std),
        "train_init_value": float(model_cfg.init_value),
        "train_dropout": float(model_cfg.dropout),
        "train_channels": ",".join(map(str, model_cfg.channels)),
        "train_kernel": _ints_text(model_cfg.kernel_size),
        "train_stride": _ints_text(model_cfg.stride),
        "train_padding": _ints_text(model_cfg.padding),
        "train_fc_width": int(model_cfg.fc_width),
        "train_optimizer": train_cfg.optimizer,
        "train_lr": float(train_cfg.lr),
        "train_momentum": float(train_cfg.momentum),
        "train_nesterov": bool(train_cfg.nesterov),
        "train_batch": int(train_cfg.batch_size),
        "train_epochs": int(train_cfg.epochs),
        "train_wd": float(train_cfg.weight_decay),
        "train_schedule": train_cfg.schedule,
        "train_step_size": int(train_cfg.step_size),
        "train_gamma": float(train_cfg.gamma),
        "train_seed": int(train_cfg.seed),
        "train_device": train_cfg.device,
        "train_log_every": int(train_cfg.log_every),
        "train_max_loss": float(train_cfg.max_loss),
    }
    for i, act in enumerate(acts, start=1):
        values[f"train_act_{i}"] = act
    return values


def _ints_text(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _ints(text: str, what: str, example: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.replace(" ", "").split(",") if p != "")
    except ValueError:
        raise ValueError(f"{what}: write whole numbers separated by commas, e.g. {example}.") from None


def configs_from_state(state) -> tuple[dict[str, object], dict[str, str]]:
    """The three configs from the widgets' values, and error sentences by slot for what is wrong."""
    configs: dict[str, object] = {}
    errors: dict[str, str] = {}
    try:
        quick = state["train_quick"]
        configs["data"] = DataConfig(dataset=state["train_dataset"],
                                     train_limit=int(state["train_train_limit"]) if quick else None,
                                     test_limit=int(state["train_test_limit"]) if quick else None)
    except ValueError as err:
        errors["data"] = str(err)
    try:
        family = state["train_family"]
        hidden = _ints(state["train_hidden"], "hidden layers", "256,128") if family == "mlp" else (256,)
        channels = _ints(state["train_channels"], "channels", "32,64,128") if family == "cnn" else (32, 64, 128)
        depth = len(hidden) if family == "mlp" else len(channels)
        if state["train_act_mode"] == PER_LAYER and depth > 1:
            activation = tuple(state.get(f"train_act_{i}", state["train_activation"]) for i in range(1, depth + 1))
        else:
            activation = state["train_activation"]
        kernel, stride, padding = (parse_value(state[k] or "x", "int|ints") if family == "cnn" else d
                                   for k, d in (("train_kernel", 3), ("train_stride", 1), ("train_padding", 1)))
        model_cfg = ModelConfig(
            family=family, hidden=hidden, activation=activation, init=state["train_init"],
            init_std=float(state["train_init_std"]), init_value=float(state["train_init_value"]),
            dropout=float(state["train_dropout"]), channels=channels, kernel_size=kernel, stride=stride,
            padding=padding, fc_width=int(state["train_fc_width"]))
        layer_table(model_cfg)  # a CNN that runs out of pixels is refused here
        configs["model"] = model_cfg
    except ValueError as err:
        text = str(err)
        if text.startswith("invalid literal") or text.startswith("expected a number"):
            text = "kernel, stride and padding: one whole number for every layer, or one per layer (e.g. 3 or 3,3,5)."
        errors[_slot(text, "model")] = text
    try:
        train_cfg = TrainConfig(
            optimizer=state["train_optimizer"], lr=float(state["train_lr"]), momentum=float(state["train_momentum"]),
            nesterov=bool(state["train_nesterov"]), batch_size=int(state["train_batch"]),
            epochs=int(state["train_epochs"]), weight_decay=float(state["train_wd"]), schedule=state["train_schedule"],
            step_size=int(state["train_step_size"]), gamma=float(state["train_gamma"]), seed=int(state["train_seed"]),
            device=state["train_device"], log_every=int(state["train_log_every"]),
            max_loss=float(state["train_max_loss"]))
        pick_device(train_cfg.device)  # an explicit device must exist here
        configs["train"] = train_cfg
    except ValueError as err:
        errors[_slot(str(err), "train")] = str(err)
    return configs, errors


def _slot(sentence: str, fallback: str) -> str:
    return next((slot for word, slot in ERROR_SLOTS if word in sentence), fallback)


# ---------------------------------------------------------------------------------------------
# session state set-up: URL → widgets, presets


def apply_configs(data_cfg: DataConfig, model_cfg: ModelConfig, train_cfg: TrainConfig) -> None:
    for key, value in widget_values(data_cfg, model_cfg, train_cfg).items():
        st.session_state[key] = value


def apply_preset(key: str) -> None:
    """Button callback: the preset's model and training settings; the data choice stays."""
    preset = PRESETS[key]
    data_cfg = st.session_state.get("_train_configs", {}).get("data") or DataConfig()
    apply_configs(data_cfg, preset.model, preset.train)
    st.session_state["_train_note"] = f"Loaded the preset **{preset.title}**: {preset.description}"


def init_state() -> None:
    """Widgets' values from the link (when it changed), else kept from before, else the defaults."""
    query = st.query_params.to_dict()
    if query and query != st.session_state.get("_train_url_written"):
        data_cfg, model_cfg, train_cfg, notes = from_query(query)
        apply_configs(data_cfg, model_cfg, train_cfg)
        st.session_state["_train_url_written"] = query
        if notes:
            st.session_state["_train_url_notes"] = notes
    for key, value in widget_values(DataConfig(), ModelConfig(), TrainConfig()).items():
        st.session_state.setdefault(key, value)
    st.session_state.setdefault("train_smoothing", 0.6)


def write_url(configs: dict) -> None:
    """Mirror valid settings into the query string (only the fields that differ from the defaults)."""
    if len(configs) < 3:
        return
    query = to_query(configs["data"], configs["model"], configs["train"])
    if query != st.query_params.to_dict():
        st.query_params.from_dict(query)
    st.session_state["_train_url_written"] = query


# ---------------------------------------------------------------------------------------------
# controls


def preset_buttons() -> None:
    st.caption("One-click presets: the seeds' networks")
    row = st.container(horizontal=True, gap="small")
    for key, preset in PRESETS.items():
        row.button(preset.title, key=f"train_preset_{key}", help=preset.description, on_click=apply_preset,
                   args=(key,))


def model_controls(slots: dict) -> None:
    st.subheader("Model")
    st.radio("Family", ["mlp", "cnn"], key="train_family", horizontal=True, persist_state=KEEP,
             format_func=lambda f: {"mlp": "MLP (fully connected)", "cnn": "CNN (convolutional)"}[f])
    family = st.session_state["train_family"]
    if family == "mlp":
        st.text_input("Hidden layers (widths, comma-separated)", key="train_hidden", persist_state=KEEP,
                      help="e.g. 256 (seed 000), 100,100 (seed 001 model D); empty = logistic regression 784→10")
        slots["hidden"] = st.empty()
        depth = len(_safe_ints(st.session_state["train_hidden"]))
    else:
        c1, c2 = st.columns(2)
        c1.text_input("Conv channels", key="train_channels", persist_state=KEEP,
                      help="output channels of each conv layer; each is followed by the activation and 2×2 max-pool")
        c2.number_input("FC width", key="train_fc_width", min_value=0, step=1, persist_state=KEEP,
                        help="units of the fully connected layer before the output (seed 003: 625)")
        c1, c2, c3 = st.columns(3)
        c1.text_input("Kernel", key="train_kernel", persist_state=KEEP,
                      help="one size for all layers, or one per layer")
        c2.text_input("Stride", key="train_stride", persist_state=KEEP, help="one for all layers, or one per layer")
        c3.text_input("Padding", key="train_padding", persist_state=KEEP, help="one for all layers, or one per layer")
        slots["cnn"] = st.empty()
        slots["fc"] = st.empty()
        depth = len(_safe_ints(st.session_state["train_channels"]))

    c1, c2 = st.columns(2)
    c1.radio("Activation for", [SAME, PER_LAYER], key="train_act_mode", horizontal=True, persist_state=KEEP,
             disabled=depth < 2)
    if st.session_state["train_act_mode"] == PER_LAYER and depth > 1:
        cols = st.columns(min(depth, 4))
        for i in range(1, depth + 1):
            st.session_state.setdefault(f"train_act_{i}", st.session_state["train_activation"])
            cols[(i - 1) % len(cols)].selectbox(f"Layer {i}", ACTIVATIONS, key=f"train_act_{i}", persist_state=KEEP)
    else:
        c2.selectbox("Activation", ACTIVATIONS, key="train_activation", persist_state=KEEP)
    slots["activation"] = st.empty()

    c1, c2 = st.columns(2)
    c1.selectbox("Init", INITS, key="train_init", persist_state=KEEP,
                 help="he: Kaiming normal (seed 000) · xavier: uniform (seed 003) · default: PyTorch's own")
    if st.session_state["train_init"] == "normal":
        c2.number_input("std", key="train_init_std", min_value=0.0, step=0.005, format="%g", persist_state=KEEP)
    elif st.session_state["train_init"] == "constant":
        c2.number_input("value", key="train_init_value", step=0.01, format="%g", persist_state=KEEP)
    slots["init"] = st.empty()
    st.slider("Dropout", 0.0, 0.9, step=0.05, key="train_dropout", persist_state=KEEP,
              help="probability of zeroing a unit after each hidden activation (CNN: before the last layer)")
    slots["dropout"] = st.empty()
    slots["model"] = st.empty()


def _safe_ints(text: str) -> tuple[int, ...]:
    try:
        return _ints(text, "", "")
    except ValueError:
        return ()


def training_controls(slots: dict) -> None:
    st.subheader("Training")
    c1, c2 = st.columns(2)
    c1.selectbox("Optimiser", OPTIMIZERS, key="train_optimizer", persist_state=KEEP)
    lr = st.session_state["train_lr"]
    options = LR_OPTIONS if lr in LR_OPTIONS else sorted({*LR_OPTIONS, lr})
    c2.select_slider("Learning rate (log scale)", options, key="train_lr", format_func=lambda v: f"{v:g}",
                     persist_state=KEEP)
    slots["lr"] = st.empty()
    if st.session_state["train_optimizer"] in ("sgd", "rmsprop"):
        c1, c2 = st.columns(2)
        c1.slider("Momentum", 0.0, 0.99, step=0.01, key="train_momentum", persist_state=KEEP)
        c2.checkbox("Nesterov", key="train_nesterov", persist_state=KEEP,
                    disabled=st.session_state["train_optimizer"] != "sgd")
    slots["momentum"] = st.empty()
    c1, c2, c3 = st.columns(3)
    c1.number_input("Batch size", key="train_batch", min_value=1, step=32, persist_state=KEEP)
    c2.number_input("Epochs", key="train_epochs", min_value=0, step=1, persist_state=KEEP)
    c3.number_input("Seed", key="train_seed", min_value=0, step=1, persist_state=KEEP)
    slots["batch"] = st.empty()
    slots["epochs"] = st.empty()
    c1, c2 = st.columns(2)
    c1.number_input("Weight decay", key="train_wd", min_value=0.0, step=1e-4, format="%g", persist_state=KEEP)
    c2.selectbox("LR schedule", SCHEDULES, key="train_schedule", persist_state=KEEP)
    slots["wd"] = st.empty()
    if st.session_state["train_schedule"] == "step":
        c1, c2 = st.columns(2)
        c1.number_input("Step every (epochs)", key="train_step_size", min_value=1, step=1, persist_state=KEEP)
        c2.number_input("Gamma", key="train_gamma", min_value=0.0, max_value=1.0, step=0.05, format="%g",
                        persist_state=KEEP)
    slots["schedule"] = st.empty()
    with st.expander("Advanced"):
        st.selectbox("Device", DEVICES, key="train_device", persist_state=KEEP,
                     help="auto: CUDA, then Apple MPS, else the CPU")
        st.number_input("Report the loss every N steps", key="train_log_every", min_value=1, step=1,
                        persist_state=KEEP)
        st.number_input("Diverged when a batch loss exceeds", key="train_max_loss", min_value=0.0, step=10.0,
                        format="%g", persist_state=KEEP, help="chance level is ln 10 ≈ 2.3")
    slots["advanced"] = st.empty()
    slots["train"] = st.empty()


def data_controls(slots: dict) -> None:
    st.subheader("Data")
    st.selectbox("Dataset", DATASETS, key="train_dataset", format_func=DATASET_LABELS.get, persist_state=KEEP)
    st.toggle("Quick run on a subset", key="train_quick", persist_state=KEEP,
              help="train and test on the first N images only: seconds instead of minutes")
    if st.session_state["train_quick"]:
        c1, c2 = st.columns(2)
        c1.number_input("Training images", key="train_train_limit", min_value=1, step=1000, persist_state=KEEP)
        c2.number_input("Test images", key="train_test_limit", min_value=1, step=500, persist_state=KEEP)
    slots["data"] = st.empty()


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


def network_summary(configs: dict) -> None:
    """The layer table of the model the controls describe: output shapes, parameters, total."""
    st.subheader("Network")
    model_cfg = configs.get("model")
    if model_cfg is None:
        st.caption("Fix the model settings to see the network.")
        return
    rows = layer_table(model_cfg)
    total = sum(r.params for r in rows)
    c1, c2 = st.columns([1, 3], gap="large")
    c1.metric("Parameters", f"{total:,}")
    c1.caption(describe(model_cfg))
    table = pd.DataFrame({"layer": [r.name for r in rows], "type": [r.kind for r in rows],
                          "output shape": [_shape(r.output_shape) for r in rows],
                          "parameters": [f"{r.params:,}" for r in rows]})
    c2.table(table.set_index("layer"))


# ---------------------------------------------------------------------------------------------
# starting, stopping, the live view


def status_text(run: Run) -> str:
    if run.status == "diverged" and run.history.end is not None:
        return f"diverged at step {run.history.end.step}"
    return run.status


def start_run(data_cfg: DataConfig, model_cfg: ModelConfig, train_cfg: TrainConfig) -> None:
    """Start button callback: stop the active run (the user confirmed), then train a new one."""
    previous = active_run()
    if previous is not None:
        previous.stop()
        previous.wait(10)
    try:
        data = cached_mnist(data_cfg.dataset)
    except DataError as err:
        st.session_state["_train_note"] = f"The data could not be loaded: {err}"
        return
    data = data.limited(data_cfg.train_limit, data_cfg.test_limit)
    count = st.session_state.get("_train_count", 0) + 1
    st.session_state["_train_count"] = count
    run = Run(f"run {count} · {describe(model_cfg)}", data_cfg, model_cfg, train_cfg)
    add_run(run)
    st.session_state["train_confirm"] = False
    run.start(data)


def shown_run() -> Run | None:
    """The run the live view shows: the active one, else the latest trained here (not loaded)."""
    running = active_run()
    if running is not None:
        return running
    return next((r for r in reversed(session_runs()) if r.status != "loaded"), None)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "…"
    seconds = max(0, round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def progress_text(run: Run) -> str:
    if run.history.start is None:
        return "starting: building the model and moving the data to the device…" if run.active else run.status
    p = run.progress()
    rate = f"{p['samples_per_s']:,.0f} samples/s" if p["samples_per_s"] else "… samples/s"
    parts = [f"epoch {p['epoch']}/{p['epochs']}", f"step {p['step']:,}/{p['total']:,}"]
    if run.active:
        parts.append(f"ETA {_duration(p['eta_s'])}")
    parts += [rate, p["device"]]
    return " · ".join(parts)


def _toggle_pause(run: Run) -> None:
    if run.status == "paused":
        run.resume()
    else:
        run.pause()


def live_snapshot(run: Run, options: dict) -> dict:
    """What the live view shows of a run (the live component's snapshot); called off the script thread."""
    p = run.progress()
    epochs = list(run.history.epochs)
    caption = ""
    if epochs:
        caption = ("Epoch training times (s): " + ", ".join(f"{e.seconds:.2f}" for e in epochs)
                   + f" · last evaluation {epochs[-1].eval_seconds:.2f} s")
    uirevision = f"run-{run.id}"
    return {
        "title": run.name,
        "status": status_text(run),
        "fraction": min(p["fraction"], 1.0),
        "progress": progress_text(run),
        "figures": [figure_json(loss_spec(run.history, options.get("smoothing", 0.6), uirevision=uirevision)),
                    figure_json(epoch_spec(run.history, uirevision=uirevision))],
        "caption": caption,
    }


def run_view(run: Run) -> None:
    """Stop/Pause, the live view (status, progress, charts) and how the run ended.

    While the run trains, the live view refreshes itself in the browser (``ui.live_run_view``):
    this script does not rerun until the run ends or the user does something.
    """
    if run.active:
        with st.container(horizontal=True, horizontal_alignment="right"):
            st.button("Stop", key="train_stop", on_click=run.stop, width="content",
                      help="end the run at the next step and keep the model trained so far")
            st.button("Resume" if run.status == "paused" else "Pause", key="train_pause", width="content",
                      on_click=_toggle_pause, args=(run,))
    smoothing = st.session_state.get("train_smoothing", 0.6)
    live_run_view(run, live_snapshot, key=f"train_live_{run.id}", smoothing=smoothing)
    c1, _ = st.columns(2)
    c1.slider("Smoothing", 0.0, 0.99, step=0.01, key="train_smoothing", persist_state=KEEP,
              help="exponential moving average of the loss, as in TensorBoard (0 = raw)")
    final = run.final()
    if run.status == "finished":
        st.success(f"Finished {final['epochs_done']} epochs in {_duration(final['seconds'])}: test accuracy "
                   f"{final['test_accuracy']:.2%}, train accuracy {final['train_accuracy']:.2%}. This is now the "
                   f"current model the other pages use.")
    elif run.status == "stopped":
        st.info(f"{run.message[:1].upper()}{run.message[1:]}. The model trained so far is kept"
                + (" and is now the current model." if run.usable else "."))
    elif run.status == "diverged":
        st.warning(f"This run {run.message} The curve up to that step is kept above. Hint: a loss that explodes "
                   f"means the steps are too large; lower the learning rate, or use Adam, which copes with "
                   f"larger ones.", icon=":material/warning:")
    elif run.status == "error":
        st.error(f"The run failed: {run.message}")


# ---------------------------------------------------------------------------------------------
# runs: list, manage, compare, upload


def runs_table(runs: list[Run]) -> pd.DataFrame:
    rows = []
    for run in runs:
        final = run.final()
        d, t = run.data_cfg, run.train_cfg
        data = d.dataset + (f" ({d.train_limit or 'all'}/{d.test_limit or 'all'})"
                            if d.train_limit or d.test_limit else "")
        rows.append({
            "run": run.name, "status": status_text(run), "data": data,
            "training": f"{t.optimizer} lr {t.lr:g}, batch {t.batch_size}",
            "epochs": f"{final['epochs_done']}/{t.epochs}" if run.status != "loaded" else "",
            "train acc": final["train_accuracy"], "test acc": final["test_accuracy"],
            "time (s)": round(final["seconds"], 2) if run.status != "loaded" else None,
        })
    table = pd.DataFrame(rows)
    if rows:  # a run still training has no accuracy yet: NaN shows as a blank cell, None as "None"
        table = table.astype({"train acc": float, "test acc": float, "time (s)": float})
    return table


PERCENT = st.column_config.NumberColumn(format="percent")


def runs_section() -> None:
    runs = session_runs()
    if not runs:
        st.caption("No runs yet: press Start, or load a model file in the next tab.")
        return
    st.dataframe(runs_table(runs), hide_index=True, width="stretch", key="train_runs_table",
                 column_config={"train acc": PERCENT, "test acc": PERCENT})
    by_id = {r.id: r for r in runs}
    if st.session_state.get("train_pick") not in by_id or st.session_state.get("_train_pick_n") != len(runs):
        st.session_state["train_pick"] = runs[-1].id  # a new run (or a deleted one): show the newest
        st.session_state["_train_pick_n"] = len(runs)
    c1, c2 = st.columns([2, 3])
    c1.selectbox("Run", list(by_id), key="train_pick", format_func=lambda i: by_id[i].name)
    run = by_id[st.session_state["train_pick"]]
    if st.session_state.get("_train_rename_for") != run.id or "train_rename" not in st.session_state:
        st.session_state["train_rename"] = run.name
        st.session_state["_train_rename_for"] = run.id
    c2.text_input("Name", key="train_rename")
    b1, b2, b3, b4 = st.columns(4)
    b1.button("Rename", key="train_rename_btn", on_click=_rename, args=(run,), width="stretch")
    b2.button("Delete", key="train_delete", on_click=_delete, args=(run,), width="stretch",
              help="forget this run (a training run is stopped first)")
    b3.download_button("Model (.pt)", data=lambda: run_checkpoint_bytes(run), file_name=run_file_name(run),
                       mime="application/octet-stream", key="train_dl_model", on_click="ignore", width="stretch",
                       disabled=not run.usable,
                       help="state_dict, settings and curves: loadable here and by `python -m nnplay` (finished, "
                            "stopped or loaded runs)")
    b4.download_button("Metrics (.csv)", data=lambda: metrics_csv(run), file_name=run_file_name(run, "csv"),
                       mime="text/csv", key="train_dl_csv", on_click="ignore", width="stretch",
                       disabled=not run.history.steps)
    if run.message:
        st.caption(f"{run.name}: {run.message}")


def _rename(run: Run) -> None:
    name = st.session_state.get("train_rename", "").strip()
    if name:
        run.name = name


def _delete(run: Run) -> None:
    remove_run(run)
    st.session_state.pop("train_pick", None)


def compare_section() -> None:
    runs = [r for r in session_runs() if r.history.steps]
    if len(runs) < 2:
        st.caption("Train two or more runs to compare them here.")
        return
    by_id = {r.id: r for r in runs}
    chosen = [i for i in st.session_state.get("train_compare", []) if i in by_id]
    st.session_state["train_compare"] = chosen or [r.id for r in runs[-2:]]
    st.multiselect("Runs to compare", list(by_id), key="train_compare", format_func=lambda i: by_id[i].name)
    picked = [by_id[i] for i in st.session_state["train_compare"]]
    if not picked:
        return
    smoothing = st.session_state.get("train_smoothing", 0.6)
    st.plotly_chart(compare_figure([(r.name, r.history) for r in picked], smoothing, uirevision="compare"),
                    key="train_compare_chart", config={"displaylogo": False})
    table = pd.DataFrame(compare_table(picked))
    st.dataframe(table, hide_index=True, width="stretch", key="train_compare_table",
                 column_config={"train accuracy": PERCENT, "test accuracy": PERCENT})
    st.caption("Columns between the run's name and its status are the settings in which the chosen runs differ.")


def _on_upload() -> None:
    file = st.session_state.get("train_upload")
    if file is None:
        return
    run, message = run_from_checkpoint(file.name, file.getvalue())
    if run is not None:
        add_run(run)
    st.session_state["_train_upload_msg"] = ("success" if run else "error", message)


def upload_section() -> None:
    st.file_uploader("A model file saved by nnplay (.pt)", key="train_upload", on_change=_on_upload,
                     help="state_dict + config, as the Model button above or `python -m nnplay train --save` "
                          "writes it; read with torch.load(weights_only=True), so no code in the file runs")
    message = st.session_state.get("_train_upload_msg")
    if message:
        (st.success if message[0] == "success" else st.error)(escape_markdown(message[1]))  # names: plain text


# ---------------------------------------------------------------------------------------------
# the page


ensure_navigation()
freeze_long_lived_objects()  # keeps a full garbage collection from stalling training
st.title("Train")
st.caption("Build a network, train it on MNIST live, and keep and compare your runs. "
           "The settings are in the address bar: copy it to share this configuration.")
init_state()
for note in st.session_state.pop("_train_url_notes", []):
    st.warning(note, icon=":material/link_off:")
if "_train_note" in st.session_state:
    st.info(st.session_state.pop("_train_note"))

preset_buttons()
slots: dict = {}
left, middle = st.columns(2, gap="large")
with left:
    model_controls(slots)
with middle:
    training_controls(slots)
    data_controls(slots)

configs, errors = configs_from_state(st.session_state)

data = None
if "data" in configs:
    try:
        data = cached_mnist(configs["data"].dataset)
    except DataError as err:
        errors["data"] = f"The {configs['data'].dataset} data could not be loaded. {err}"
if data is not None and "train" in configs and "batch" not in errors:
    n_train = len(data.limited(configs["data"].train_limit, None).train_images)
    if configs["train"].batch_size > n_train:
        errors["batch"] = (f"batch size {configs['train'].batch_size:,} is larger than the training set "
                           f"({n_train:,} images); choose at most {n_train:,}.")
        del configs["train"]
for slot, sentence in errors.items():
    section = "model" if slot in MODEL_SLOTS else "data" if slot == "data" else "train"
    (slots.get(slot) or slots[section]).error(sentence[:1].upper() + sentence[1:], icon=":material/block:")
with middle:
    if data is not None and data.notice:
        st.info(data.notice)

network_summary(configs)
write_url(configs)
st.session_state["_train_configs"] = configs

ready = len(configs) == 3 and not errors
running = active_run()
st.divider()
c1, c2 = st.columns([1, 4], vertical_alignment="center")
with c2:
    if running is not None:
        st.warning(f"**{running.name}** is still training. Starting a new run stops it first.")
        st.checkbox("Stop it and start the new run", key="train_confirm")
    elif not ready:
        st.caption("Fix the settings marked above to start.")
    elif "model" in configs:
        with st.expander("The same run from the command line"):
            st.code(cli_command(configs["data"], configs["model"], configs["train"]), language="bash")
allowed = ready and (running is None or st.session_state.get("train_confirm", False))
c1.button("Start", key="train_start", type="primary", disabled=not allowed, width="stretch",
          on_click=start_run, args=(configs.get("data"), configs.get("model"), configs.get("train")))

run = shown_run()
if run is not None:
    run_view(run)
else:
    preload_live_view()

st.divider()
tab_runs, tab_compare, tab_load = st.tabs(["Runs", "Compare", "Load a model"])
with tab_runs:
    runs_section()
with tab_compare:
    compare_section()
with tab_load:
    upload_section()
