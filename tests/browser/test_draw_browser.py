"""The Draw page in real headless Chromium: strokes on the canvas make a prediction appear.

What lives here: one end-to-end test that draws a "7" with the mouse on ``/draw`` (the canvas's
``canvas.upper-canvas`` takes the strokes), sees the hint before and the prediction, the ten
bars and the 28×28 input after, with no button pressed. Fixtures (the app in a subprocess,
Chromium) are in ``conftest.py``. What does not live here: the preprocessing and the saliency
(``tests/test_draw.py``), the page's logic under AppTest (``tests/test_pages_draw_inspect.py``),
and the stroke-to-bars latency benchmark (``scripts/bench_draw.py --latency-url``).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def stroke(page, points: list[tuple[float, float]]) -> None:
    """One pen stroke through ``points`` (page coordinates): press, move, release."""
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point)
    page.mouse.up()


def test_drawing_strokes_shows_a_prediction(app_url, page):
    page.goto(f"{app_url}/draw")
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=60_000)
    hint = page.get_by_text("Draw a digit from 0 to 9")
    hint.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stMetricValue']").count() == 0  # empty canvas: no prediction

    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    stroke(page, [(x + 70 + 10 * i, y + 60) for i in range(15)])  # the bar of a 7
    stroke(page, [(x + 210 - 7 * i, y + 60 + 12 * i) for i in range(16)])  # its diagonal

    prediction = page.locator("[data-testid='stMetricValue']")
    prediction.wait_for(timeout=30_000)
    page.wait_for_function(  # both strokes have reached the model, not just the first
        "() => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
        ".some(e => /ink box \\d+ × 1[5-9]\\d px/.test(e.innerText))",  # width × height: the 7's height
        timeout=30_000,
    )
    assert prediction.inner_text().strip() in [str(d) for d in range(10)]
    # the bars (key draw_bars); during a rerun the old ones may still be on screen: take the newest
    bars = page.locator(".st-key-draw_bars .nnplay-bars").last
    bars.wait_for(timeout=30_000)
    assert bars.locator(".nnplay-bar").count() == 10  # ten probability bars
    assert bars.inner_text().startswith(f"prediction: {prediction.inner_text().strip()} (")
    assert hint.count() == 0
    assert page.get_by_text("Model input").count() == 1
    assert prediction.inner_text().strip() == "7"
