"""The Train page's "Watch it learn" controls: the toggle, step mode (one batch per click) and the speed.

What lives here: ``watch_render`` (the live view's ``render`` for a run: ``runs.live_view.WatchView``, one
per run and session, so its figures are built once per change of the model), ``watch_toggle``,
``network_options`` and ``network_choice`` (the network view's input digit and neurons page),
``step_controls`` (Step and the steps-per-second speed beside Stop/Pause), ``speed_menu`` (that speed; under
Start before a run), ``apply_speed`` (a new run starts at the chosen speed) and ``cached_probes`` (the 16 probe digits of a dataset, once per process).
What does not: the figures (``figures.watch``), stepping and copying the weights (``runs.Run.step``,
``set_rate``, ``watch_model``), the live view itself (``ui.live``).
"""

from __future__ import annotations

import streamlit as st

from ..figures.watch import watch_is_cheap
from ..lessons import neurons
from ..lessons.neurons import Probes, probe_set
from ..runs import Run
from ..runs.live_view import WatchView
from ..classroom.teacher import class_mode
from .data import cached_mnist, learner_mnist
from .kept_choices import restore_setting, save_setting

VIEWS_KEY = "nnplay_watch_views"
KEEP_VIEWS = 4
SPEED_KEY = "train_speed"
SPEEDS = {"full speed": None, "20 steps/s": 20.0, "10 steps/s": 10.0, "5 steps/s": 5.0, "2 steps/s": 2.0,
          "1 step/s": 1.0, "1 step every 2 s": 0.5}  # label → steps per second (None: full speed)


def cached_probes(dataset: str) -> Probes:
    """The probe digits of a dataset's test split (the same for every run and session; in class mode drawn from
    the visible half, ``learner_mnist``)."""
    return _cached_probes(dataset, class_mode())


@st.cache_resource(show_spinner=False)
def _cached_probes(dataset: str, in_class: bool) -> Probes:  # noqa: ARG001 - the mode keys it
    data = learner_mnist(dataset)
    return probe_set(data.test_images.numpy(), data.test_labels.numpy())


def watch_render(run: Run) -> WatchView:
    """The live view's render for ``run``: its loss charts, and the watch figures when options say ``watch``."""
    views = st.session_state.setdefault(VIEWS_KEY, {})
    view = views.get(run.id)
    if view is None:
        classes = getattr(cached_mnist(run.data_cfg.dataset), "classes", None)
        view = views[run.id] = WatchView(cached_probes(run.data_cfg.dataset), classes)
        for old in list(views)[:-KEEP_VIEWS]:  # each keeps its last figures (~150 kB): the latest few only
            del views[old]
    return view


def watch_toggle(run: Run) -> bool:
    """The "Watch it learn" toggle for this run (on by default when its model is cheap to draw)."""
    cheap = watch_is_cheap(run.model_cfg)
    return st.toggle("Watch it learn", key=f"train_watch_{run.id}", value=cheap,
                     help="the 16 probe digits with the network's answers, what training changed in the first "
                          "layer's weights as pictures (an MLP's: the weights minus their random start) "
                          "and the network, redrawn while it trains: about once a second, less often where drawing "
                          "them is slow, so that the training keeps its speed; after every step in step mode or at "
                          "a slower speed" + ("" if cheap else "; off by default: this model is large to copy and draw"))


PROBE_KEY, PAGE_KEY = "train_net_probe", "train_net_page"
NO_PROBE = -1  # the network view's "none: weights only" (a selectbox shows None as no choice: "Choose an option")


def network_choice() -> dict:
    """The live view's options for its network view as the controls below it last set them (``net_probe``: a
    probe digit's index or None, ``net_page``: 0-based), read before they are drawn."""
    # the workspace's last choice: a reload keeps the digit (one of the 16 probes, or none)
    restore_setting(PROBE_KEY, NO_PROBE, int, valid=lambda i: i == NO_PROBE or (i is not None and 0 <= i < neurons.PROBES))
    page = st.session_state.get(PAGE_KEY)
    probe = st.session_state.get(PROBE_KEY)
    return {"net_probe": None if probe == NO_PROBE else probe, "net_page": int(page) - 1 if page else 0}


def network_options(run: Run) -> None:
    """The live network view's controls, under the view: which probe digit flows through it (none: the
    weights alone, neurons coloured by their bias) and, for an MLP with a layer wider than it shows, which
    page of that layer's neurons. The view reads them through ``network_choice``."""
    probes = cached_probes(run.data_cfg.dataset)
    classes = getattr(cached_mnist(run.data_cfg.dataset), "classes", None) or [str(c) for c in range(10)]
    choices = [NO_PROBE, *range(len(probes.images))]
    left, right, _ = st.columns([2, 1, 2])
    left.selectbox(
        "Network view: input", choices, key=PROBE_KEY, on_change=save_setting, args=(PROBE_KEY,),
        format_func=lambda i: "none: weights only (neurons coloured by bias)" if i == NO_PROBE else
        f"probe digit {i + 1}: a {classes[int(probes.labels[i])]}" + (" (hard)" if probes.kinds[i] == "hard" else ""),
        help="run one of the probe digits through the network as it trains: every neuron coloured by its "
             "activation for it, the outputs by their probability")
    widest = max(run.model_cfg.hidden, default=0) if run.model_cfg.family == "mlp" else 0
    if widest > neurons.MAX_SHOWN:
        pages = neurons.page_count(widest, neurons.MAX_SHOWN)
        if (st.session_state.get(PAGE_KEY) or 1) > pages:  # chosen for a wider run: this one starts again
            st.session_state[PAGE_KEY] = 1
        right.number_input(f"Neurons page (of {pages})", min_value=1, max_value=pages, value=1, key=PAGE_KEY,
                           help=f"a layer wider than {neurons.MAX_SHOWN} shows {neurons.MAX_SHOWN} neurons at a "
                                "time; page 1: the ones that matter most for what is shown")


def _chosen_rate() -> float | None:
    return SPEEDS.get(st.session_state.get(SPEED_KEY) or "full speed")


def _set_speed(run: Run) -> None:
    run.set_rate(_chosen_rate())


def apply_speed(run: Run) -> None:
    """A new run trains at the speed chosen (full speed unless a slower one was picked)."""
    rate = _chosen_rate()
    if rate is not None:
        run.set_rate(rate)


def step_controls(run: Run) -> None:
    """Step (pause and train one batch per click, as TensorFlow Playground's step button) and the speed.

    Call inside the row of Stop and Pause, while the run is active."""
    st.button("Next step", key="train_step", on_click=run.step, width="content",
              help="train this run one batch, then wait (the run pauses); Resume continues at the speed chosen")
    speed_menu(run)


def speed_menu(run: Run | None = None) -> None:
    """The speed menu: beside Stop and Pause while ``run`` trains (a change reaches it at once); before a run,
    under Start (the run starts at it: ``apply_speed``). One widget, drawn in one place or the other; the choice
    is kept while it is drawn in neither (a run ending as the page is drawn)."""
    st.selectbox("Speed", list(SPEEDS), key=SPEED_KEY, on_change=_set_speed if run is not None else None,
                 args=(run,) if run is not None else None, persist_state="session",
                 label_visibility="collapsed" if run is not None else "visible",
                 width=150 if run is not None else "stretch",
                 help="steps per second while it runs: slow it down to watch every step, full speed to finish")
