"""The Train page (/train): build a network, train it live, keep and compare runs.

It reads: widgets (every one keyed ``train_<config field>``) → the three configs
(``codec.configs_from_widgets``, with each refusal beside its field's control) → a library call
(``runs.start_refusals`` before Start, ``runs.Run`` to train, ``figures.train`` to draw) → draw.
While a run trains, ``ui.live_run_view`` refreshes its view in the browser from
``runs.live_view.WatchView`` (``figures.train.live_view_content`` and the "Watch it learn" figures), with no
rerun of this script; how the run ended is ``ui.outcome``'s sentence. Settings live in the URL through
``nnplay.codec``.
What does not live here: the runs list, Compare and Load a model (``ui.runs_panel``), exports
(``ui.export_panel``), a run's link (``ui.run_link``), parsing and checking settings (``codec``, ``config``),
training (``engine``, ``runs``), figure building (``figures.train``), checkpoint checks (``checkpoint``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from nnplay.codec import (CONFIG_OF, PER_LAYER, SAME, apply_preset, cli_command, configs_from_widgets, from_query,
                          layer_count, to_query, widget_values)
from nnplay.config import (ACTIVATIONS, DATASETS, DEVICES, INITS, MAX_SEED, OPTIMIZERS, PRESETS, SCHEDULES, DataConfig,
                           ModelConfig, TrainConfig)
from nnplay.data import DataError
from nnplay.figures.train import live_view_content
from nnplay.models import describe, layer_table
from nnplay.names import escape_markdown
from nnplay.runs import TRAIN_ACCURACY_NOTE, Run, run_name, start_refusals
from nnplay.store import new_id
from nnplay.ui import (add_run, cached_mnist, ensure_navigation, folded_code, live_run_view, preload_live_view,
                       restore_setting, save_setting, session_runs, show_data_notice, store, training_run,
                       workspace)
from nnplay.ui import run_link
from nnplay.ui.digits_option import digits_option, planned_digits, with_your_digits
from nnplay.ui.assignment_panel import learner_assignment_banner
from nnplay.ui.export_panel import SCRIPT_DIGITS, script_expander
from nnplay.ui.knobs import model_knobs, training_knobs
from nnplay.ui.outcome import outcome
from nnplay.ui.runs_panel import compare_section, elsewhere_controls, runs_section, upload_section
from nnplay.ui.watch import (apply_speed, network_choice, network_options, speed_menu, step_controls,
                             watch_render, watch_toggle)
from nnplay.ui.welcome import NOTES, welcome

KEEP = "session"  # widgets keep their values when the user visits another page and comes back
# learning rates on a log scale: 1, 2, 3, 5 per decade from 1e-5 to 10
LR_TYPED = "train_lr_typed"  # the box beside the slider: any rate, typed
LR_OPTIONS = sorted({float(f"{m}e{e}") for e in range(-5, 1) for m in (1, 2, 3, 5)} | {10.0})
DATASET_LABELS = {"mnist": "MNIST digits", "fashion-mnist": "Fashion-MNIST clothes"}
# the place (slot) beside a control where a refusal of each config field is shown; fields not
# named have a slot of their own name, or their config's ("data", "model", "train")
SLOT_OF = {
    "channels": "cnn", "kernel_size": "cnn", "stride": "cnn", "padding": "cnn", "fc_width": "fc",
    "init_std": "init", "init_value": "init", "family": "model", "nesterov": "momentum",
    "batch_size": "batch", "weight_decay": "wd", "step_size": "schedule", "gamma": "schedule",
    "device": "advanced", "log_every": "advanced", "max_loss": "advanced", "optimizer": "train",
    "dataset": "data", "train_limit": "data", "test_limit": "data",
}
SECTION = {DataConfig: "data", ModelConfig: "model", TrainConfig: "train"}


# ---------------------------------------------------------------------------------------------
# session state set-up: URL → widgets, presets


def apply_configs(data_cfg: DataConfig, model_cfg: ModelConfig, train_cfg: TrainConfig) -> None:
    for key, value in widget_values(data_cfg, model_cfg, train_cfg).items():
        st.session_state[key] = value


def on_preset(key: str) -> None:
    """Button callback: every setting the preset names; a note says which it left alone."""
    configs = st.session_state.get("_train_configs", {})
    data_cfg, model_cfg, train_cfg, note = apply_preset(PRESETS[key], configs.get("data") or DataConfig(),
                                                        configs.get("train") or TrainConfig())
    apply_configs(data_cfg, model_cfg, train_cfg)
    st.session_state["_train_note"] = note


def init_state() -> None:
    """Widgets' values from the link (when it changed), else kept from before, else the defaults."""
    if run_link.undo_stale_address(st.session_state.get("_train_url_written")):  # a rerun sent before Start's link
        st.session_state["_train_url_written"] = st.query_params.to_dict()  # the widgets keep their values
    query = st.query_params.to_dict()
    if query and query != st.session_state.get("_train_url_written"):
        data_cfg, model_cfg, train_cfg, notes = from_query(query)
        apply_configs(data_cfg, model_cfg, train_cfg)
        st.session_state["_train_url_written"] = query
        if notes:
            st.session_state["_train_url_notes"] = notes
    for key, value in widget_values(DataConfig(), ModelConfig(), TrainConfig()).items():
        st.session_state.setdefault(key, value)
    # the workspace's last smoothing, as TensorBoard keeps it
    restore_setting("train_smoothing", 0.6, valid=lambda v: v is not None and 0.0 <= v <= 0.99)


def write_url(configs: dict) -> None:
    """Mirror valid settings into the query string (only the fields that differ from the defaults)."""
    if len(configs) < 3:
        return
    query = to_query(configs["data"], configs["model"], configs["train"]) | run_link.kept_params()
    if query != st.query_params.to_dict():
        st.query_params.from_dict(query)
    st.session_state["_train_url_written"] = query


# ---------------------------------------------------------------------------------------------
# controls


def preset_buttons() -> None:
    st.caption("One-click presets: networks from the lecture notes nnplay follows", help=NOTES)
    row = st.container(horizontal=True, gap="small")
    for key, preset in PRESETS.items():
        row.button(preset.title, key=f"train_preset_{key}", help=preset.description, on_click=on_preset,
                   args=(key,))


def model_controls(slots: dict) -> None:
    st.subheader("Model")
    st.radio("Family", ["mlp", "cnn"], key="train_family", horizontal=True, persist_state=KEEP,
             format_func=lambda f: {"mlp": "MLP (fully connected)", "cnn": "CNN (convolutional)"}[f])
    family = st.session_state["train_family"]
    if family == "mlp":
        st.text_input("Hidden layers (widths, comma-separated)", key="train_hidden", persist_state=KEEP,
                      help="e.g. 256 (note 000), 100,100 (note 001, model D); empty = logistic regression 784→10")
        slots["hidden"] = st.empty()
    else:
        c1, c2 = st.columns(2)
        c1.text_input("Conv channels", key="train_channels", persist_state=KEEP,
                      help="output channels of each conv layer; each is followed by the activation and 2×2 max-pool")
        c2.text_input("FC width", key="train_fc_width", persist_state=KEEP,
                      help="units of the fully connected layer before the output (note 003: 625), or one width per "
                           "layer (LeNet-5: 120,84)")
        c1, c2, c3 = st.columns(3)
        c1.text_input("Kernel", key="train_kernel_size", persist_state=KEEP,
                      help="one size for all layers, or one per layer")
        c2.text_input("Stride", key="train_stride", persist_state=KEEP, help="one for all layers, or one per layer")
        c3.text_input("Padding", key="train_padding", persist_state=KEEP, help="one for all layers, or one per layer")
        slots["cnn"] = st.empty()
        slots["fc"] = st.empty()
    depth = layer_count(st.session_state)

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
                 help="he: Kaiming normal (note 000) · xavier: uniform (note 003) · default: PyTorch's own")
    if st.session_state["train_init"] == "normal":
        c2.text_input("std", key="train_init_std", persist_state=KEEP, help="a positive number, e.g. 0.01")
    elif st.session_state["train_init"] == "constant":
        c2.text_input("value", key="train_init_value", persist_state=KEEP, help="a number, e.g. 0.01")
    slots["init"] = st.empty()
    st.slider("Dropout", 0.0, 0.9, step=0.05, key="train_dropout", persist_state=KEEP,
              help="probability of zeroing a unit after each hidden activation (CNN: before the last layer)")
    slots["dropout"] = st.empty()
    model_knobs(slots)
    slots["model"] = st.empty()



def _typed_lr() -> None:
    """The typed learning rate becomes the slider's value (one of its stops, or a stop of its own)."""
    text = st.session_state[LR_TYPED].strip()
    try:
        st.session_state["train_lr"] = float(text)
    except ValueError:
        st.session_state["_train_lr_refused"] = (f"\"{text}\" is not a number: type a learning rate such as 0.1 "
                                                 f"or 3e-4; the rate stays {st.session_state['train_lr']:g}.")


def training_controls(slots: dict) -> None:
    st.subheader("Training")
    c1, c2, c3 = st.columns([1.2, 2, 0.9], vertical_alignment="bottom")
    c1.selectbox("Optimiser", OPTIMIZERS, key="train_optimizer", persist_state=KEEP)
    lr = st.session_state["train_lr"]
    options = LR_OPTIONS if lr in LR_OPTIONS else sorted({*LR_OPTIONS, lr})
    st.session_state[LR_TYPED] = f"{lr:g}"  # a preset, a link or the slider set it: the box shows it too
    c2.select_slider("Learning rate (log scale)", options, key="train_lr", format_func=lambda v: f"{v:g}",
                     persist_state=KEEP)
    c3.text_input("or type it", key=LR_TYPED, on_change=_typed_lr,
                  help="any learning rate, e.g. 0.1 or 3e-4; the slider moves to it")
    slots["lr"] = st.empty()
    refused = st.session_state.pop("_train_lr_refused", None)
    if refused:
        st.error(refused, icon=":material/block:")
    if st.session_state["train_optimizer"] in ("sgd", "rmsprop"):
        c1, c2 = st.columns(2)
        c1.slider("Momentum", 0.0, 0.99, step=0.01, key="train_momentum", persist_state=KEEP)
        c2.checkbox("Nesterov", key="train_nesterov", persist_state=KEEP,
                    disabled=st.session_state["train_optimizer"] != "sgd")
    slots["momentum"] = st.empty()
    c1, c2, c3 = st.columns(3)
    # text boxes (codec.TYPED): a number box would drop a value out of its range (a seed of 2**53 or more, 1e400)
    # and keep the old one silently, where the page must refuse it beside the box and disable Start
    c1.text_input("Batch size", key="train_batch_size", persist_state=KEEP, help="images per step, e.g. 64")
    c2.text_input("Epochs", key="train_epochs", persist_state=KEEP, help="passes over the training set: 1 to 1,000")
    c3.text_input("Seed", key="train_seed", persist_state=KEEP,
                  help=f"a whole number from 0 to {MAX_SEED:,}: the same seed on the CPU gives the same numbers")
    slots["batch"] = st.empty()
    slots["epochs"] = st.empty()
    slots["seed"] = st.empty()
    c1, c2 = st.columns(2)
    c1.text_input("Weight decay", key="train_weight_decay", persist_state=KEEP, help="0 or more, e.g. 0.0005")
    c2.selectbox("LR schedule", SCHEDULES, key="train_schedule", persist_state=KEEP)
    slots["wd"] = st.empty()
    if st.session_state["train_schedule"] == "step":
        c1, c2 = st.columns(2)
        c1.text_input("Step every (epochs)", key="train_step_size", persist_state=KEEP)
        c2.text_input("Gamma", key="train_gamma", persist_state=KEEP,
                      help="the rate is multiplied by gamma at each step: more than 0, at most 1")
    slots["schedule"] = st.empty()
    training_knobs(slots)
    with st.expander("Advanced"):
        st.selectbox("Device", DEVICES, key="train_device", persist_state=KEEP,
                     help="auto: CUDA, then Apple MPS, else the CPU")
        st.text_input("Report the loss every N steps", key="train_log_every", persist_state=KEEP)
        st.text_input("Diverged when a batch loss exceeds", key="train_max_loss", persist_state=KEEP,
                      help="chance level is ln 10 ≈ 2.3")
    slots["advanced"] = st.empty()
    slots["train"] = st.empty()



def data_controls(slots: dict) -> None:
    st.subheader("Data")
    st.selectbox("Dataset", DATASETS, key="train_dataset", format_func=DATASET_LABELS.get, persist_state=KEEP)
    st.toggle("Quick run on a subset", key="train_quick", persist_state=KEEP,
              help="train and test on the first N images only: seconds instead of minutes")
    if st.session_state["train_quick"]:
        c1, c2 = st.columns(2)
        c1.text_input("Training images", key="train_train_limit", persist_state=KEEP,
                      help="the first N training images (empty: all)")
        c2.text_input("Test images", key="train_test_limit", persist_state=KEEP, help="the first N test images (empty: all)")
    digits_option(st.session_state["train_dataset"])
    slots["data"] = st.empty()



def show_refusals(errors: dict[str, str], slots: dict) -> None:
    """Each refusal beside its field's control (the field's slot, else its config's)."""
    for field, sentence in errors.items():
        slot = SLOT_OF.get(field, field)
        place = slots.get(slot) or slots[SECTION[CONFIG_OF[field]]]
        place.error(sentence[:1].upper() + sentence[1:], icon=":material/block:")


def network_summary(configs: dict) -> None:
    """The layer table of the model the controls describe: output shapes, parameters, total."""
    st.subheader("Network")
    model_cfg = configs.get("model")
    if model_cfg is None:
        st.caption("Fix the model settings to see the network.")
        return
    rows = layer_table(model_cfg)
    c1, c2 = st.columns([1, 3], gap="large")
    c1.metric("Parameters", f"{sum(r.params for r in rows):,}")
    c1.caption(describe(model_cfg))
    table = pd.DataFrame({"layer": [r.name for r in rows], "type": [r.kind for r in rows],
                          "output shape": ["×".join(map(str, r.output_shape)) for r in rows],
                          "parameters": [f"{r.params:,}" for r in rows]})
    c2.table(table.set_index("layer"))


# ---------------------------------------------------------------------------------------------
# starting, stopping, the live view


def start_run(data_cfg: DataConfig, model_cfg: ModelConfig, train_cfg: TrainConfig, step_first: bool = False) -> None:
    """Start button callback: stop the active run (the user confirmed), then train a new one (with
    ``step_first``: paused after its first batch, in step mode)."""
    previous = training_run()
    refusal = run_link.start_refusal(previous, (data_cfg, model_cfg, train_cfg), st.session_state.get("train_confirm"))
    if refusal:  # a second press (another tab, a reload in between): one run, not two
        st.session_state["_train_note"] = refusal
        return
    # checked again as it starts: another workspace may have started a run since this page was drawn
    refused = start_refusals(model_cfg, train_cfg, None, replacing=previous.id if previous is not None else None,
                             workspace=workspace(), store=store())
    if refused:
        st.session_state["_train_note"] = escape_markdown("Start did not begin the run. " + " ".join(refused.values()))
        return
    if previous is not None:
        previous.stop()
        previous.wait(10)
    try:
        data = cached_mnist(data_cfg.dataset)
    except DataError as err:
        st.session_state["_train_note"] = f"The data could not be loaded: {err}"
        return
    data = data.limited(data_cfg.train_limit, data_cfg.test_limit)
    run_id = new_id()
    try:
        data_cfg = with_your_digits(data_cfg, run_id)
    except OSError as err:
        st.session_state["_train_note"] = f"Your digits could not be written for the run ({err.strerror or err})."
        return
    run = Run(run_name(model_cfg, store().next_run_number(workspace())), data_cfg, model_cfg, train_cfg, id=run_id)
    add_run(run)
    st.session_state["train_confirm"] = False
    st.session_state["_train_scroll"] = run.id  # bring its live view into the window
    run_link.follow(run)  # its link in the address bar: a reload opens it again
    apply_speed(run)
    if step_first:
        run.step()
    run.start(data)


def live_view_run() -> Run | None:
    """The run the live view shows: the one training, else the latest trained here (not loaded)."""
    running = training_run()
    if running is not None:
        return running
    return next((r for r in reversed(session_runs()) if r.status != "loaded"), None)


def _toggle_pause(run: Run) -> None:
    if run.status == "paused":
        run.resume()
    else:
        run.pause()


def run_view(run: Run, mine: bool = True) -> None:
    """Stop/Pause, the live view (status, progress, charts) and how the run ended.

    While the run trains, the live view refreshes itself in the browser (``ui.live_run_view``):
    this script does not rerun until the run ends or the user does something.
    """
    if not mine:  # another workspace's run, from its link: read-only
        run_link.foreign_run_view(run, live_view_content, smoothing=st.session_state.get("train_smoothing", 0.6))
        return
    if run.elsewhere:  # another server (or the command line) on this store trains it: reached through the store
        elsewhere_controls(run)
    elif run.active:
        with st.container(horizontal=True, horizontal_alignment="right"):
            st.button("Stop", key="train_stop", on_click=run.stop, width="content",
                      help="end the run at the next step and keep the model trained so far")
            st.button("Resume" if run.status == "paused" else "Pause", key="train_pause", width="content",
                      on_click=_toggle_pause, args=(run,))
            step_controls(run)
    watching = watch_toggle(run)
    smoothing = st.session_state.get("train_smoothing", 0.6)
    # the controls below the view (the network view's, the smoothing) are read before it is drawn: a change
    # reruns the page, and the view gets the new value
    live_run_view(run, watch_render(run), key=f"train_live_{run.id}",
                  scroll=st.session_state.get("_train_scroll") == run.id and run.active, smoothing=smoothing,
                  watch=watching, **(network_choice() if watching else {}))
    if watching:
        network_options(run)
    c1, c2 = st.columns(2)
    c1.slider("Smoothing", 0.0, 0.99, step=0.01, key="train_smoothing", persist_state=KEEP,
              on_change=save_setting, args=("train_smoothing",),
              help="exponential moving average of the loss, as in TensorBoard (0 = raw)")
    c2.caption(TRAIN_ACCURACY_NOTE)
    run_link.link_box(run)
    ended = outcome(run)
    if ended is not None:
        getattr(st, ended.kind)(ended.text, icon=ended.icon)


# ---------------------------------------------------------------------------------------------
# the page


ensure_navigation()
st.title("Train")
st.caption("Build a network, train it on MNIST live, and keep and compare your runs. "
           "The settings are in the address bar: copy it to share this configuration.")
welcome()  # a first visit's start: what to do first (gone once the workspace has runs)
init_state()
linked, linked_mine = run_link.open_linked_run(apply_configs)  # /train?run=<id>
for note in st.session_state.pop("_train_url_notes", []):
    st.warning(note, icon=":material/link_off:")
if "_train_note" in st.session_state:
    st.info(st.session_state.pop("_train_note"))

learner_assignment_banner()  # class mode: the teacher's task and the limits per learner
preset_buttons()
slots: dict = {}
left, middle = st.columns(2, gap="large")
with left:
    model_controls(slots)
with middle:
    training_controls(slots)
    data_controls(slots)

configs, errors = configs_from_widgets(st.session_state)
data = None
if "data" in configs:
    try:
        data = cached_mnist(configs["data"].dataset)
    except DataError as err:
        errors["dataset"] = f"The {configs['data'].dataset} data could not be loaded. {err}"
if data is not None and "model" in configs and "train" in configs:
    n_train = len(data.limited(configs["data"].train_limit, None).train_images)
    replacing = training_run()  # Start stops it first: its memory is not counted against the new run
    errors.update(start_refusals(configs["model"], configs["train"], n_train,
                                 replacing=replacing.id if replacing is not None else None,
                                 workspace=workspace(), store=store()))
show_refusals(errors, slots)
if data is not None:
    show_data_notice(data=data)  # under both columns: one line

network_summary(configs)
write_url(configs)
st.session_state["_train_configs"] = configs

ready = len(configs) == 3 and not errors
running = training_run()
st.divider()
c1, c2 = st.columns([1, 4], vertical_alignment="center")
with c2:
    if running is not None:
        st.warning(f"**{escape_markdown(running.name)}** is still training. Starting a new run stops it first.")
        st.checkbox("Stop it and start the new run", key="train_confirm")
    elif not ready:
        st.caption("Fix the settings marked above to start.")
    elif "model" in configs:
        shown_data, digits = planned_digits(configs["data"], SCRIPT_DIGITS)  # with your digits: their file too
        folded_code("The same run from the command line", "train_cli_open",
                    lambda: cli_command(shown_data, configs["model"], configs["train"]), language="bash")
        script_expander(shown_data, configs["model"], configs["train"], data.source, digits)
allowed = ready and (running is None or st.session_state.get("train_confirm", False))
c1.button("Start", key="train_start", type="primary", disabled=not allowed, width="stretch",
          on_click=start_run, args=(configs.get("data"), configs.get("model"), configs.get("train")))
c1.button("Start step by step", key="train_step_start", disabled=not allowed, width="stretch",
          help="start a new run in step mode: it trains one batch, then waits; \"Next step\" trains the next one, "
               "Resume continues",
          on_click=start_run, args=(configs.get("data"), configs.get("model"), configs.get("train"), True))
run, mine = linked or live_view_run(), linked is None or linked_mine
if run is None or not (mine and run.active and not run.elsewhere):  # while one trains: beside its Stop and Pause
    with c1:
        speed_menu()

if run is not None:
    run_view(run, mine=mine)
else:
    preload_live_view()

st.divider()
# only the open tab is drawn (switching reruns): a hidden Compare chart and table cost every page load
tab_runs, tab_compare, tab_load = st.tabs(["Runs", "Compare", "Load a model"], key="train_tab", on_change="rerun")
if tab_runs.open:
    with tab_runs:
        runs_section()
        run_link.space_caption()
if tab_compare.open:
    with tab_compare:
        compare_section()
if tab_load.open:
    with tab_load:
        upload_section()
