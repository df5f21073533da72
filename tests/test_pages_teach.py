"""AppTest tests of the teaching pages: /forward, /activations, /scratch.

What lives here: each page runs without an exception, shows the seeds' own numbers (seed 002's
A1, Z1, Z2, Y and softmaxes; seed 000's f(g(x)) = 2x + 2; seed 001's notes; seed 004's "no
visible progress" at lr 1e-6), steps with Next / Back, and answers bad input with ``st.error``
instead of a traceback. The race of models A-D is started on a few hundred images and waited for.
What does not live here: the maths behind the pages (``test_forward.py``, ``test_activations.py``,
``test_scratch.py``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from nnplay.figures.teach import network_frames
from nnplay.lessons.forward import SEED_X, seed_network

TIMEOUT = 60
PAGES = Path(__file__).resolve().parent.parent / "pages"


@pytest.fixture(autouse=True)
def offline_sample(monkeypatch, tmp_path):
    """cached_mnist() gets the built-in sample at once: an empty data dir and no download."""
    import nnplay.data

    def no_download(*_args, **_kwargs):
        raise OSError("tests do not download")

    monkeypatch.setenv("NNPLAY_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(nnplay.data, "_download", no_download)


def texts(at: AppTest) -> str:
    """Everything the page wrote as text: markdown, code, captions, alerts."""
    parts = [e.value for kind in ("markdown", "code", "caption", "error", "warning", "info", "success")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def run(page: str, **state) -> AppTest:
    at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- /forward ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_forward_page_steps_through_seed_002():
    at = run("forward")
    page = texts(at)
    assert "Step 1 of 6: **A1 = X·W1 + B1**" in page
    assert "A1 = [0.3, 0.7, 1.1]" in page
    assert "`1×0.1 + 0.5×0.2 + 0.1 = 0.3`" in page
    tables = [d.value.to_numpy() for d in at.dataframe]
    assert any(t.shape == (1, 3) and np.array_equal(np.round(t.astype(float), 8), [[0.3, 0.7, 1.1]])
               for t in tables)  # the result table A1, next to X, W1 and B1

    at.button(key="fw_next").click().run()
    page = texts(at)
    assert "Step 2 of 6: **Z1 = sigmoid(A1)**" in page
    assert "Z1 = [0.57444252, 0.66818777, 0.75026011]" in page
    assert "sigmoid(0.3) = 0.57444252" in page

    for _ in range(4):
        at.button(key="fw_next").click().run()
    page = texts(at)
    assert not at.exception
    assert "Step 6 of 6: **Y = identity(A3)**" in page
    assert "Z2 = [0.62624937, 0.7710107 ]" in page
    assert "Y = [0.31682708, 0.69627909]" in page
    assert at.button(key="fw_next").disabled

    at.button(key="fw_back").click().run()
    assert "Step 5 of 6: **A3 = Z2·W3 + B3**" in texts(at)


def test_forward_page_explains_the_chosen_cell():
    at = run("forward")
    at.selectbox(key="fw_cell_A1").set_value(2).run()
    # indices count from 0, as in numpy: the third cell is A1[2]
    assert "**A1[2]** = row 0 of X × column 2 of W1 + B1[2] = `1×0.5 + 0.5×0.6 + 0.3 = 1.1`" in texts(at)
    assert "Indices count from 0, as in numpy" in texts(at)


@pytest.mark.slow
def test_forward_page_softmax_output_and_overflow():
    at = run("forward")
    at.radio(key="fw_output").set_value("softmax").run()
    for _ in range(5):
        at.button(key="fw_next").click().run()
    page = texts(at)
    assert "Step 6 of 6: **Y = softmax(A3)**" in page
    assert "softmax([0.3, 2.9, 4. ]) = `[0.01821127, 0.24519181, 0.73659691]`" in page
    assert "`[nan, nan, nan]` (numpy reported: overflow" in page
    assert "`[9.99954600e-01, 4.53978686e-05, 2.06106005e-09]`" in page

    at.text_input(key="fw_softmax_in").input("1010, 1000, 990").run()
    assert "overflows" in at.warning[0].value


def test_forward_page_batch_shapes():
    at = run("forward")
    shapes = next(d.value for d in at.dataframe if list(d.value.columns) == ["array", "shape"])
    table = dict(zip(shapes["array"], shapes["shape"]))
    assert table["X"] == "100 × 784" and table["W1"] == "784 × 50" and table["A1"] == "100 × 50"
    assert table["W2"] == "50 × 100" and table["W3"] == "100 × 10" and table["Y"] == "100 × 10"


def test_forward_page_numpy_matches_torch_on_a_digit():
    at = run("forward")
    verdict = at.success[0].value
    diff = float(re.search(r"numpy and torch: ([0-9.]+e[+-]\d+)", verdict).group(1))
    assert diff < 1e-5


def test_forward_page_shows_the_softmax_of_the_real_digit():
    at = run("forward")
    table = next(d.value for d in at.dataframe if "softmax (numpy)" in d.value.columns)
    logits = table["numpy"].to_numpy()
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(table["softmax (numpy)"].to_numpy(), expected, rtol=1e-12)
    top = int(np.argmax(expected))
    assert f"the model is **{expected[top]:.2%}** sure this is {top}." in texts(at)


def test_forward_page_tables_get_room_for_every_digit():
    from nnplay.figures.teach import column_widths, matrix_frame, pack_rows, table_width_px

    z1 = matrix_frame([0.57444252, 0.66818777, 0.75026011])
    w2 = matrix_frame([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]])
    assert table_width_px(z1) > table_width_px(w2)  # ten characters a cell against three
    assert table_width_px(z1) >= 3 * 7 * len("0.75026011")
    assert column_widths(z1)["col 2"] > column_widths(w2)["col 1"] and set(column_widths(w2)) == {"_index", "col 0", "col 1"}
    assert pack_rows([300, 200, 200, 250], 760) == [[0, 1, 2], [3]]
    assert pack_rows([900, 100], 760) == [[0], [1]]  # too wide alone: a row of its own
    at = run("forward")
    for _ in range(2):  # to A2 = Z1·W2 + B2: four tables, Z1 with 8-digit cells
        at.button(key="fw_next").click().run()
    wanted = ["**Z1** (3,)", "**W2** (3, 2)", "**B2** (2,)", "= **A2** (2,)"]
    assert [m.value for m in at.markdown if m.value in wanted] == wanted


@pytest.mark.parametrize("change, message", [
    ({"W2": pd.DataFrame([["abc", 0.4], [0.2, 0.5], [0.3, 0.6]])}, "W2: row 0, column 0 is 'abc', not a number"),
    ({"W1": pd.DataFrame([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6], [1.0, 1.0, 1.0]])}, "W1 has 3 rows but X has 2"),
    ({"B1": pd.DataFrame([[0.1, None, 0.3]])}, "B1: row 0, column 1 is empty"),
    ({"B3": pd.DataFrame([[0.1, 0.2], [0.3, 0.4]])}, "B3 must be a vector of 2 entries"),
    ({"X": "not a table"}, "cannot be edited"),
    ({"X": pd.DataFrame(columns=["0", "1"], dtype=float)}, "X has no rows: add a row"),
], ids=["text", "extra-row", "empty", "bias-matrix", "garbage", "x-without-rows"])
def test_forward_page_survives_bad_tables(change, message):
    tables = {**network_frames(seed_network(), SEED_X), **change}
    at = run("forward", fw_tables=tables)
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    # the rest of the page still works
    assert "[9.99954600e-01, 4.53978686e-05, 2.06106005e-09]" in texts(at)


def test_forward_page_survives_bad_text():
    at = run("forward")
    at.text_input(key="fw_softmax_in").input("1, two, 3").run()
    at.text_input(key="fw_sizes").input("784, 0.5").run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert "a: 'two' is not a number." in errors
    assert any("whole numbers" in e for e in errors)


# --- /activations ----------------------------------------------------------------------------------


def test_activations_page_shows_notes_gradients_and_collapse():
    at = run("activations")
    page = texts(at)
    assert "**Output:** [0, 1]" in page and "**Output:** [-1, 1]" in page
    assert "Trains fast." in page and "Choose the learning rate carefully." in page
    assert "Initialise the weights carefully." in page
    assert "가중치 초기화를 조심히" in page  # seed 001's own words
    assert "**f(g(x)) = 2x + 2**" in page
    diff = float(re.search(r"max \|difference\| = ([0-9.]+e[+-]\d+)", page).group(1))
    assert diff < 1e-10

    norms = at.dataframe[0].value.set_index("activation")
    assert norms.loc["sigmoid", "layer 1 / last"] < 1e-4
    assert 0.1 < norms.loc["relu", "layer 1 / last"] < 10


def test_activations_page_composes_what_you_type():
    at = run("activations")
    at.number_input(key="act_af").set_value(3.0).run()
    assert "**f(g(x)) = 6x + 2**" in texts(at)


@pytest.mark.slow
def test_activations_race_runs_in_the_background():
    at = run("activations", act_race_images="500")
    at.button(key="act_race_start").click().run()
    assert not at.exception
    sweep = at.session_state["nnplay_sweeps"]["activation race (models A-D)"]
    assert sweep.wait(120)
    at.run()
    assert not at.exception
    final = at.dataframe[-1].value
    assert list(final["model"]) == ["A: sigmoid 100", "B: tanh 100", "C: relu 100", "D: relu 100-100"]
    assert set(final["status"]) == {"finished"}
    # by default enough epochs for a curve per model, not one dot; seconds to a tenth
    assert int(at.text_input(key="act_race_epochs").value) >= 3
    assert all(len(run.history.epochs) == int(at.text_input(key="act_race_epochs").value) for run in sweep.runs)
    assert all(s == round(s, 1) for s in final["seconds"])


def test_activations_page_shows_the_sample_notice_and_translates_the_seed():
    at = run("activations")
    assert any("built-in sample" in c.value for c in at.caption)  # one line, no box
    page = texts(at)
    assert "*In English:* Output: [0,1] / (drawback)" in page
    assert "be careful with the learning rate" in page


@pytest.mark.slow
def test_activations_page_refuses_a_composition_beyond_the_floats():
    at = run("activations")
    at.number_input(key="act_af").set_value(1e308).run()
    assert not at.exception
    page = texts(at)
    assert any("a_f·a_g = inf" in e.value and "1.8e308" in e.value for e in at.error)
    assert "**f(g(x)) =" not in page and "infx" not in page  # no "one layer" claim about infinities
    assert not any("f(g(x))" in df.value.columns for df in at.dataframe)
    assert "max |difference|" in page  # the rest of the page is still drawn
    at.number_input(key="act_af").set_value(1e300).run()  # large but finite: shown
    assert "**f(g(x)) = 2e+300x + 2**" in texts(at)


# --- /scratch ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_scratch_page_seed_rate_makes_no_visible_progress():
    at = run("scratch")  # the seed's own 5000 steps at lr 1e-6
    table = at.dataframe[0].value.set_index("version")
    progress = dict(zip([v.split(".")[0] for v in table.index], table["visible progress"]))
    assert progress == {"1": "yes", "2": "yes", "3": "yes", "4": "no", "5": "no", "6": "no"}
    assert "No visible progress for version(s) 4, 5, 6" in at.warning[0].value
    assert len(at.code) == 6 and "np.matmul(np.transpose(x), grad_y_pred)" in at.code[0].value
    assert "**3 → 4** (changes the curve)" in texts(at)

    at.number_input(key="scr_steps").set_value(300).run()
    at.button(key="scr_use_suggested").click().run()
    table = at.dataframe[0].value
    assert set(table["visible progress"]) == {"yes"}


def test_scratch_page_code_tabs_fit_in_one_row():
    at = run("scratch", scr_steps=100)
    labels = [tab.label for tab in at.tabs]
    assert len(labels) == 6 and [label.split(".")[0] for label in labels] == ["1", "2", "3", "4", "5", "6"]
    # 8 px a character and 32 px of padding a tab: all six in the 880 px main column, none behind a "›"
    assert sum(8 * len(label) + 32 for label in labels) <= 880, labels
    assert "1. numpy, gradient by hand" in texts(at)  # the full title, inside its tab


@pytest.mark.slow
def test_scratch_page_same_math_curves_agree():
    at = run("scratch", scr_steps=300)
    at.radio(key="scr_mode").set_value("same").run()
    at.checkbox(key="scr_bias").check().run()
    verdict = at.success[0].value
    gap = float(re.search(r"any other: ([0-9.]+e[+-]\d+)", verdict).group(1))
    assert gap < 1e-6


@pytest.mark.slow
def test_scratch_page_survives_a_diverging_rate():
    at = run("scratch", scr_steps=100)
    at.radio(key="scr_lr_mode").set_value("custom").run()
    at.number_input(key="scr_lr").set_value(5.0).run()
    assert not at.exception
    assert any("diverged" in e.value for e in at.error)


@pytest.mark.slow
def test_scratch_page_does_not_call_diverged_curves_equal_and_follows_the_rate():
    at = run("scratch", scr_steps=100)
    at.radio(key="scr_mode").set_value("same").run()
    at.radio(key="scr_lr_mode").set_value("custom").run()
    at.number_input(key="scr_lr").set_value(10.0).run()
    assert not at.exception
    assert not at.success  # no "the curves lie on top of each other" beside a divergence
    assert any("diverged at lr = 10:" in e.value for e in at.error)
    assert "lr = 10\n" in at.code[0].value and "range(100)" in at.code[0].value
    assert "lr=10)" in at.code[5].value  # version 6 hands the rate to Adam
    assert "here with lr = 10 and 100 steps" in texts(at)

    at.number_input(key="scr_lr").set_value(1e-7).run()  # too small: the sentence names this rate
    assert any("at lr = 1e-07 the loss drops by less than 1% in 100 steps" in w.value for w in at.warning)
    assert not any("1e-6" in w.value or "1e-06" in w.value for w in at.warning)


# --- the figures and tables behind the pages (nnplay.figures.teach) -------------------------------------


def test_activation_figure_shows_function_and_derivative():
    from nnplay.figures.teach import activation_figure

    fig = activation_figure("sigmoid", -6, 6, points=121)
    f, df = fig.data
    assert len(f.x) == 121 and f.y[0] < 0.01 and f.y[-1] > 0.99
    assert max(df.y) == pytest.approx(0.25)  # sigmoid' peaks at z = 0


def test_gradient_norms_and_loss_figures():
    from nnplay.figures.teach import gradient_norms_figure, loss_curves_figure

    fig = gradient_norms_figure({"sigmoid": [1e-8, 1e-4, 1.0], "relu": [1.0, 0.9, 1.1]})
    assert fig.layout.yaxis.type == "log" and [t.name for t in fig.data] == ["sigmoid", "relu"]
    assert list(fig.data[0].x) == [1, 2, 3]

    fig = loss_curves_figure({"1": [3.0, 2.0], "2": [3.0, 2.0]}, log_y=False, dashed=["2"])
    assert fig.layout.yaxis.type == "linear" and fig.data[1].line.dash == "dash"



def test_tables_round_trip_and_group_by_layer():
    from nnplay.figures.teach import editor_rows, frames_to_network, highlight, matrix_frame, parse_numbers

    frames = network_frames(seed_network(), SEED_X)
    assert editor_rows(list(frames)) == [["X"], ["W1", "B1"], ["W2", "B2"], ["W3", "B3"]]
    network, x = frames_to_network(frames)
    assert x.tolist() == SEED_X
    for name, value in seed_network().items():
        np.testing.assert_array_equal(network[name], value)

    html = highlight(matrix_frame([[1.0, 2.0], [3.0, 4.0]]), row=None, col=1).to_html()
    painted = re.search(r"([^{}]*)\{\s*background-color: #ffe8a3", html).group(1)
    assert sorted(re.findall(r"row\d_col\d", painted)) == ["row0_col1", "row1_col1"]  # column 2

    assert parse_numbers("0.3, 2.9 4.0").tolist() == [0.3, 2.9, 4.0]
    with pytest.raises(ValueError, match="is empty"):
        parse_numbers(" , ")
    with pytest.raises(ValueError, match="'nan' is not|finite"):
        parse_numbers("1, nan")


def test_forward_runs_numpy_on_the_digit_drawn_on_draw():
    import numpy as np
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(PAGES / "forward.py"), default_timeout=TIMEOUT)
    digit = np.zeros((28, 28), dtype=np.uint8)
    digit[4:24, 12:16] = 255  # a "1"
    at.session_state["nnplay_drawn_digit"] = digit
    at.run()
    at.radio(key="fw_digit_source").set_value("the digit drawn on Draw").run()
    assert not at.exception
    assert at.radio(key="fw_digit_source").value == "the digit drawn on Draw"
    assert not [n for n in at.number_input if n.key == "fw_digit"]  # no test-image picker: the drawn digit is used
    assert any("Largest difference between numpy and torch" in s.value for s in [*at.success, *at.warning])
