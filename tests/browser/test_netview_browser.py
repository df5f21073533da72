"""The Draw page's network view in real headless Chromium: a stroke changes it, Undo takes it back,
a click on a neuron picks it.

What lives here: one end-to-end test that draws a "1" on ``/draw``, reads the network view's
output neurons (their colours are the probabilities) from the Plotly graph in the page, adds a
stroke that makes the "1" a "7" and sees them change, then presses the visible Undo button and
sees the "1"'s values again; and one that clicks a hidden neuron in the view and sees the neuron
panel switch to it. Fixtures (the app in a subprocess, Chromium) are in ``conftest.py``.
What does not live here: the figure's numbers (``tests/test_network_view.py``).
"""

from __future__ import annotations

import pytest

from .test_draw_browser import stroke

pytestmark = pytest.mark.browser

OUTPUTS_JS = """() => {
  const plots = [...document.querySelectorAll('.st-key-draw_network .js-plotly-plot')];
  const plot = plots[plots.length - 1];
  if (!plot || !plot.data) return null;
  const out = plot.data.find(t => t.name === 'output');
  if (!out || !out.marker || !out.marker.color) return null;
  const c = out.marker.color;  // the output neurons' colours: the probabilities
  const values = c._inputArray || c;  // plotly.js keeps a decoded typed array beside {dtype, bdata}
  return Array.from({length: 10}, (_, i) => Number(values[i]));
}"""


def outputs(page):
    return page.evaluate(OUTPUTS_JS)


def wait_for_change(page, before, timeout=60_000):
    page.wait_for_function(
        f"(before) => {{ const now = ({OUTPUTS_JS})(); return now !== null && "
        "(before === null || now.some((v, i) => Math.abs(v - before[i]) > 1e-6)); }",
        arg=before, timeout=timeout)
    return outputs(page)


def test_drawing_changes_the_network_view_and_undo_brings_it_back(app_url, page):
    # the canvas and the network view in the window at once: a view out of sight is redrawn only when it
    # comes into view (nnplay/ui/live_run.js), and the strokes need the canvas where it is
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.goto(f"{app_url}/draw")
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=60_000)
    page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=60_000)
    assert outputs(page) is None  # no digit, no network view yet

    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    stroke(page, [(x + 150, y + 40 + 12 * i) for i in range(17)])  # a "1"
    one = wait_for_change(page, None)
    assert len(one) == 10 and abs(sum(one) - 1) < 1e-4

    stroke(page, [(x + 60 + 6 * i, y + 40) for i in range(16)])  # a bar on top: now a "7"
    seven = wait_for_change(page, one)
    assert max(abs(a - b) for a, b in zip(one, seven)) > 1e-3

    page.get_by_role("button", name="↶ Undo", exact=True).click()  # the page's button, not the toolbar's
    back = wait_for_change(page, seven)
    assert max(abs(a - b) for a, b in zip(one, back)) < 1e-3  # the "1" again


def test_clicking_a_hidden_neuron_shows_it_in_the_panel(app_url, page):
    page.goto(f"{app_url}/draw")
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=60_000)
    box = canvas.bounding_box()
    stroke(page, [(box["x"] + 150, box["y"] + 40 + 12 * i) for i in range(17)])  # a "1"
    page.locator(".st-key-draw_neuron .js-plotly-plot").first.wait_for(timeout=60_000)
    page.locator(".st-key-draw_network").scroll_into_view_if_needed()
    x, y, index = page.evaluate("""() => {
      const plot = [...document.querySelectorAll('.st-key-draw_network .js-plotly-plot')].pop();
      const t = plot.data.find(t => t.name === 'hidden 1');
      const k = 10, xs = t.x._inputArray || t.x, ys = t.y._inputArray || t.y;
      const cd = t.customdata._inputArray || t.customdata;
      const xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis, r = plot.getBoundingClientRect();
      return [r.left + xa._offset + xa.l2p(xs[k]), r.top + ya._offset + ya.l2p(ys[k]), Number(cd[k][0] ?? cd[k]['0'])];
    }""")
    page.mouse.click(x, y)
    page.get_by_text(f"Hidden 1, neuron {index}:").wait_for(timeout=60_000)
