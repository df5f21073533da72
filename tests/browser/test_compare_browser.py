"""The Compare page's brushing in Chromium: a drag along an axis of the parallel coordinates filters the table.

The app is served over a store of crafted runs (tests/test_page_compare.py's ``crafted_run``); the test drags
the mouse along the metric's axis as a learner does, waits for the page's rerun, and checks that the table
(Streamlit's grid, whose ``aria-rowcount`` counts its header row too) shrank, that the link holds the brush,
and that the link opened afresh draws the same brush and the same table, which "Clear the brush" takes away. What does not live here: the page's AppTests
(tests/test_page_compare.py).
"""

from __future__ import annotations

import pytest

from nnplay.store import Store

from ..test_page_compare import crafted_run
from .conftest import served_app

pytestmark = pytest.mark.browser

PLOT = ".nnplay-parcoords-plot"
# the runs table's rows; -1 while it is not drawn
ROWS = ("() => { const t = document.querySelector('.st-key-compare_table_box table'); "
        "return t ? Number(t.getAttribute('aria-rowcount')) - 1 : -1; }")


@pytest.fixture(scope="module")
def compare_url(tmp_path_factory):
    """One server for the module: its tests only read the runs (a brush and a theme live in the browser and the URL)."""
    home = tmp_path_factory.mktemp("compare-browser-home")
    store = Store(home)
    for i in range(12):  # test accuracies 0.60 … 0.93, lr 1e-4 … 1e-1
        crafted_run(store, f"run {i}", 10.0 ** (-4 + i % 4), i // 4, [0.5, 0.6 + 0.03 * i], group="study")
    store.close()
    with served_app(home) as url:
        yield url


def drag_along_axis(page, axis: int, start: float, end: float) -> None:
    """Drag along the axis-th axis from ``start`` to ``end`` (fractions of its height, from the top)."""
    box = page.evaluate(f"() => {{ const r = document.querySelectorAll('{PLOT} .axis-brush')[{axis}]"
                        ".getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }")
    x = box[0] + box[2] / 2
    page.mouse.move(x, box[1] + box[3] * start)
    page.mouse.down()
    page.mouse.move(x, box[1] + box[3] * (start + end) / 2, steps=5)
    page.mouse.move(x, box[1] + box[3] * end, steps=5)
    page.mouse.up()


def test_brushing_an_axis_filters_the_table_and_a_link_keeps_the_brush(page, compare_url):
    page.goto(f"{compare_url}/compare?sweep=study")
    page.wait_for_selector(f"{PLOT}[data-draws]", timeout=90_000)
    page.wait_for_function(f"() => ({ROWS})() === 12", timeout=30_000)
    axes = page.locator(f"{PLOT} .axis-brush").count()
    drag_along_axis(page, axes - 1, 0.02, 0.45)  # the metric's axis, the best half of the runs at its top
    page.get_by_text("The brush keeps").wait_for(timeout=60_000)
    # the grid is drawn anew by the rerun: its row count once it is there again
    kept = page.wait_for_function(f"() => {{ const n = ({ROWS})(); return n > 0 && n < 12 ? n : 0; }}",
                                  timeout=30_000).json_value()
    assert 0 < kept < 12
    assert f"keeps {kept} of 12 runs" in page.get_by_text("The brush keeps").inner_text()
    page.wait_for_function("() => window.location.search.includes('brush=test_accuracy')", timeout=30_000)
    link = page.url
    assert page.get_attribute(PLOT, "data-draws") == "1"  # the rerun did not draw the plot again

    page.goto(link)  # the link, opened afresh: the same brush and the same table
    page.wait_for_selector(f"{PLOT}[data-draws]", timeout=90_000)
    page.wait_for_function(f"() => ({ROWS})() === {kept}", timeout=30_000)
    brushed = page.evaluate(f"() => document.querySelector('{PLOT}').data[0].dimensions"
                            ".filter((d) => d.constraintrange).length")
    assert brushed == 1

    page.get_by_role("button", name="Clear the brush").click()  # the brush goes from the plot and the table
    page.wait_for_function(f"() => ({ROWS})() === 12", timeout=60_000)
    page.wait_for_function(f"() => document.querySelector('{PLOT}').data[0].dimensions"
                           ".every((d) => !d.constraintrange)", timeout=30_000)
    assert "brush=" not in page.url


def test_an_axis_dragged_to_another_place_still_filters_its_own_column(page, compare_url):
    page.goto(f"{compare_url}/compare?sweep=study")
    page.wait_for_selector(f"{PLOT}[data-draws]", timeout=90_000)
    page.wait_for_function(f"() => ({ROWS})() === 12", timeout=30_000)
    titles = page.locator(f"{PLOT} .axis-title")
    first, last = titles.first.bounding_box(), titles.last.bounding_box()
    y = last["y"] + last["height"] / 2
    page.mouse.move(last["x"] + last["width"] / 2, y)  # the metric's axis, dragged by its title to the front
    page.mouse.down()
    page.mouse.move(first["x"] - 40, y, steps=15)
    page.mouse.up()
    order = f"() => document.querySelector('{PLOT}').data[0].dimensions.map((d) => d.label)"
    page.wait_for_function(f"() => ({order})()[0] === 'test accuracy'", timeout=30_000)
    drag_along_axis(page, 0, 0.02, 0.45)  # the axis now first in the plot
    page.get_by_text("The brush keeps").wait_for(timeout=60_000)
    page.wait_for_function("() => window.location.search.includes('brush=test_accuracy')", timeout=30_000)
    assert "(test_accuracy)" in page.get_by_text("The brush keeps").inner_text()


LABEL_FILLS = (f"() => [...document.querySelectorAll('{PLOT} .axis-title, {PLOT} .tick text, {PLOT} .cbtitle text')]"
               ".map((t) => getComputedStyle(t).fill)")


def test_the_labels_take_the_themes_text_colour_and_follow_a_switch_of_theme(page, compare_url):
    page.goto(f"{compare_url}/compare?sweep=study")
    page.wait_for_selector(f"{PLOT}[data-draws]", timeout=90_000)
    text = page.evaluate(f"() => getComputedStyle(document.querySelector('{PLOT}')).getPropertyValue('--st-text-color')")
    first = page.evaluate(LABEL_FILLS)
    assert first and set(first) == {page.evaluate(f"() => getComputedStyle(document.querySelector('{PLOT}')).color")}
    assert text.strip()  # Streamlit's theme property is there to read
    # the viewer switches to a dark theme: Streamlit sets the new text colour and sends the component nothing
    page.evaluate(f"() => document.querySelector('{PLOT}').parentElement.style.setProperty('--st-text-color', "
                  "'#fafafa')")
    page.wait_for_function(f"() => ({LABEL_FILLS})().every((fill) => fill === 'rgb(250, 250, 250)')", timeout=10_000)
    assert page.evaluate(f"() => document.querySelector('{PLOT}').dataset.draws") == "1"  # no rerun, no redraw
