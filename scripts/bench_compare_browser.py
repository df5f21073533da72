"""Time the Compare page over many stored runs: its script on the server, and its parallel coordinates in Chromium
(a benchmark, not a test; the issue's targets: server time under 1 s, the plot drawn under 2 s at 1,000 runs).

Fills a temporary run store with ``--runs`` finished runs (a sweep grid of learning rate × width × activation ×
seeds, ``--epochs`` epochs of ``--steps`` logged steps each), then
- times the page's script with AppTest (``--repeat`` reruns of a warm session, the best and the median);
- serves the app, opens /compare in headless Chromium and reads the component's own measure of drawing the
  parallel coordinates (``data-draw-ms``: from Plotly.react's call to the frame after it), the time from the
  navigation to that moment, and the time from a brush (Plotly.restyle, as a drag ends) to the table's new
  row count.
Prints one line per measure (and the browser's WebGL renderer) and a JSON line. ``--gl`` picks the software
renderer the drawing runs on where there is no GPU: ``swiftshader``, Chromium's own (the tests' ``--disable-gpu``),
or ``llvmpipe``, Mesa's multi-threaded OpenGL through ANGLE (Debian's ``libgl1-mesa-dri``).

    python scripts/bench_compare_browser.py [--runs 1000] [--epochs 5] [--steps 8] [--repeat 5] [--gl llvmpipe]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nnplay import devtools  # noqa: E402
from nnplay.config import DataConfig, ModelConfig, TrainConfig  # noqa: E402
from nnplay.engine import EpochMetrics, RunStart, StepEvent  # noqa: E402
from nnplay.store import Store  # noqa: E402

PLOT = ".nnplay-parcoords-plot"
ROWS = ("() => { const t = document.querySelector('.st-key-compare_table_box table'); "
        "return t ? Number(t.getAttribute('aria-rowcount')) - 1 : -1; }")


def fill(home: Path, runs: int, epochs: int, steps: int) -> list[float]:
    """``runs`` finished sweep runs with made-up but plausible curves (accuracy rises, loss falls); returns their
    last test accuracies."""
    store, rng, last = Store(home), random.Random(0), []
    lrs, widths, acts = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2), (32, 64, 128, 256, 512), ("relu", "tanh", "gelu", "sigmoid")
    for i in range(runs):
        lr, width, act, seed = lrs[i % 5], widths[(i // 5) % 5], acts[(i // 25) % 4], i // 100
        run_id = store.create_run(f"run {i}", DataConfig(train_limit=2000), ModelConfig(hidden=(width,), activation=act),
                                  TrainConfig(lr=lr, epochs=epochs, seed=seed), kind="sweep", group=f"sweep-{i // 250}",
                                  status="running", data_source="sample")
        ceiling = 0.97 - 0.02 * abs(math.log10(lr) + 3) + 0.005 * math.log2(width / 32) - 0.01 * (act == "sigmoid")
        rows, losses = [], []
        for e in range(1, epochs + 1):
            acc = ceiling * (1 - math.exp(-e / 2)) + rng.gauss(0, 0.004)
            rows.append(EpochMetrics(e, 1.5 * math.exp(-e / 2) + 0.05, acc + 0.01, 1.4 * math.exp(-e / 2) + 0.08, acc,
                                     0.5, 0.1, 4000.0, e * steps, lr, "cpu"))
            losses += [StepEvent(s, e, 2.3 * math.exp(-s / (3 * steps)) + 0.1, lr)
                       for s in range((e - 1) * steps + 1, e * steps + 1)]
        store.record(run_id, start=RunStart(epochs, steps, 2000, 500, 1000, "cpu"), steps=losses, epochs=rows,
                     status=("finished", ""), has_final=True, started=1.0)
        last.append(rows[-1].test_accuracy)
    store.close()
    return last


def server_times(home: Path, repeat: int) -> list[float]:
    """Seconds of the page's script per rerun of one AppTest session (the first, cold run left out)."""
    from streamlit.testing.v1 import AppTest

    os.environ["NNPLAY_HOME"] = str(home)
    at = AppTest.from_file(str(ROOT / "pages" / "compare.py"), default_timeout=300).run()
    if at.exception:
        raise SystemExit(f"the page failed: {at.exception}")
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
    return times


GL_ARGS = {  # Chromium's flags for each software renderer
    "swiftshader": devtools.CHROMIUM_ARGS,
    "llvmpipe": [a for a in devtools.CHROMIUM_ARGS if a != "--disable-gpu"]
    + ["--use-gl=angle", "--use-angle=gl-egl", "--ignore-gpu-blocklist", "--enable-gpu"],
}
RENDERER = """() => { const gl = document.createElement('canvas').getContext('webgl');
    const info = gl && gl.getExtension('WEBGL_debug_renderer_info');
    return gl ? gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) : 'no WebGL'; }"""


def browser_times(home: Path, brush: tuple[float, float], gl: str = "swiftshader") -> dict:
    """The parallel coordinates' drawing, as a first visit sees it, and the round trip of a brush of ``brush`` on the
    metric's axis (the last)."""
    with devtools.served_app(home) as url, devtools.sync_playwright() as p:
        browser = devtools.launch_chromium(p, args=GL_ARGS[gl])
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        renderer = page.evaluate(RENDERER)
        page.goto(f"{url}/compare")  # a first visit warms the server (imports, plotly.js in the cache)
        page.wait_for_selector(f"{PLOT}[data-draws]", timeout=300_000)
        t0 = time.perf_counter()
        page.reload()
        page.wait_for_selector(f"{PLOT}[data-draws]", timeout=300_000)
        shown_s = time.perf_counter() - t0
        draw_ms = float(page.get_attribute(PLOT, "data-draw-ms"))
        page.wait_for_function(f"() => ({ROWS})() > 0", timeout=120_000)
        before = page.evaluate(ROWS)
        t0 = time.perf_counter()
        page.evaluate(f"() => {{ const p = document.querySelector('{PLOT}'); const last = p.data[0].dimensions.length - 1;"
                      f" return Plotly.restyle(p, {{[`dimensions[${{last}}].constraintrange`]: [[{brush[0]}, {brush[1]}]]}}, [0]); }}")
        # the grid is drawn anew by the rerun: its row count once it is there again
        after = page.wait_for_function(f"() => {{ const n = ({ROWS})(); return n > 0 && n < {before} ? n : 0; }}",
                                       timeout=120_000).json_value()
        brush_s = time.perf_counter() - t0
        browser.close()
    return {"renderer": renderer, "draw_ms": draw_ms, "reload_to_drawn_s": shown_s, "brush_to_table_s": brush_s,
            "rows_before": before, "rows_after": after}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--gl", choices=sorted(GL_ARGS), default="swiftshader", help="the software WebGL renderer")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nnplay-bench-compare-") as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        last = sorted(fill(home, args.runs, args.epochs, args.steps))
        print(f"filled {args.runs} runs in {time.perf_counter() - t0:.1f} s")
        times = server_times(home, args.repeat)
        print(f"server: the page's script {min(times):.3f} s best, {statistics.median(times):.3f} s median "
              f"of {len(times)} reruns")
        seen = browser_times(home, (last[len(last) // 2], last[-1]), args.gl)  # the better half
        print(f"browser ({seen['renderer']}): parallel coordinates drawn in {seen['draw_ms']:.0f} ms "
              f"(Plotly.react to painted), {seen['reload_to_drawn_s']:.2f} s from a reload; "
              f"a brush to the table's new rows "
              f"({seen['rows_before']} → {seen['rows_after']}) {seen['brush_to_table_s']:.2f} s")
        print(json.dumps({"runs": args.runs, "server_best_s": round(min(times), 3),
                          "server_median_s": round(statistics.median(times), 3), **seen}))


if __name__ == "__main__":
    main()
