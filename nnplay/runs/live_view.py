"""The live view's renderer for a run: ``WatchView``, the loss charts plus "Watch it learn"'s figures.

``WatchView(probes)`` is a ``render(run, options)`` for ``ui.live_run_view``: ``figures.train.live_view_content``
plus, when ``options["watch"]`` is true, the three figures of ``run.watch_model()`` (``figures.watch``; an MLP's
first layer as what training changed, from the run's seeded start),
rebuilt only when that model changed (at most once a second at full speed, after each step in step mode,
every ``CALM_WATCH_S`` while the run is calm). It holds a lock and a clock, so it lives here, not among the
pure figure builders. Imported as ``nnplay.runs.live_view`` (the runs package does not import figures).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from torch import nn

from ..figures.train import live_view_content
from ..figures.watch import watch_figures
from ..lessons.neurons import Probes
from .run import Run

CALM_WATCH_S = 3.0
"""While the run is calm (``Run.calm``: busy while training takes every core of this machine), the
figures are rebuilt at most this often: the view redraws them every few seconds then anyway (HEAVY_REST),
and each build is time taken from the run."""


class WatchView:
    """``render(run, options)`` for the live view: ``live_view_content`` plus, with ``options["watch"]``, the
    watch figures of ``run.watch_model()``.

    The figures are rebuilt only when ``watch_model`` hands out another model, i.e. when the run took
    steps since: at most once a second while it trains at full speed (``Run.watch_model``), every
    ``CALM_WATCH_S`` while it is calm, after each step in step mode. One view per run and page: the live
    feed keeps calling the same one.
    """

    def __init__(self, probes: Probes, classes: Sequence[str] | None = None):
        self.probes = probes
        self.classes = classes
        self._model: nn.Module | None = None
        self._network: tuple[int | None, int] = (None, 0)  # the network view's probe digit and page, as built
        self._figures: list[str] = []
        self._built_at = 0.0  # time.monotonic() of the last build
        self._start: tuple = (None, None)  # (run id, its model before training)
        self._lock = threading.Lock()
        self.builds = 0  # how many times the figures were built (tests, benchmarks)

    def start_of(self, run: Run) -> nn.Module | None:
        """The run's model before training (``engine.seeded_model`` of its config and seed, built once per run), for
        an MLP whose first layer reads the pixels: the picture then shows what training changed, as Inspect does;
        None for a CNN or a run whose configs are not known."""
        model_cfg, train_cfg = getattr(run, "model_cfg", None), getattr(run, "train_cfg", None)
        if model_cfg is None or train_cfg is None or model_cfg.family != "mlp":
            return None
        if self._start[0] != run.id:
            from ..engine import seeded_model

            self._start = (run.id, seeded_model(model_cfg, train_cfg.seed))
        return self._start[1]

    def figures(self, run: Run, probe: int | None = None, page: int = 0) -> list[str]:
        with self._lock:
            if (self._figures and (probe, page) == self._network and run.calm
                    and time.monotonic() - self._built_at < CALM_WATCH_S):
                return self._figures  # calm: not even the newest weights are fetched
        model = run.watch_model()
        if model is None:
            return []
        with self._lock:
            if model is not self._model or (probe, page) != self._network:
                self._figures = watch_figures(model, self.probes, self.classes, uirevision=f"watch-{run.id}",
                                              probe=probe, page=page, start=self.start_of(run))
                self._model, self._network = model, (probe, page)
                self._built_at = time.monotonic()
                self.builds += 1
            return self._figures

    def __call__(self, run: Run, options: dict) -> dict:
        """``options``: ``watch`` (the figures on), ``net_probe`` (the probe digit the network view runs, None:
        the weights alone) and ``net_page`` (which page of a wide layer's neurons), besides the loss chart's."""
        content = live_view_content(run, options)
        if options.get("watch"):
            probe = options.get("net_probe")
            probe = int(probe) if probe is not None and 0 <= int(probe) < len(self.probes.images) else None
            watch = self.figures(run, probe, int(options.get("net_page") or 0))
            content["detach"] = list(range(len(content["figures"]), len(content["figures"]) + len(watch)))
            content["figures"] = list(content["figures"]) + watch
        return content
