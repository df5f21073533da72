"""Runs evaluated on the learner's digits: ``nnplay.handwriting.evaluate``, ``python -m nnplay evaluate`` and the
section ``nnplay.ui.digits_eval.evaluate_section`` under AppTest.

What lives here: accuracy, confusion matrix and mistakes checked against a plain loop over the model's own
predictions; a stored run's MNIST test accuracy read from its epochs; the CLI's JSON line for a run id and for a
checkpoint file, and its exit 2 with a sentence for a bad digits file or an unknown run; the section's table,
confusion figure and mistakes grid. What does not: the digits' storage and import (their own tests).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from nnplay.checkpoint import load_checkpoint, save_checkpoint
from nnplay.cli import main
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.handwriting.digits_npz import save_digits
from nnplay.handwriting.evaluate import confusion_matrix, evaluate_model, evaluate_run, evaluate_runs
from nnplay.runs import Run
from nnplay.store import open_store
from tests.test_pages_draw_inspect import array

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "nnplay" / "assets" / "default_model.pt"


@pytest.fixture(scope="module")
def digits(sample_data):
    """200 real digits standing in for a learner's: uint8 images and labels, as ``digits_arrays`` gives them."""
    return sample_data.test_images[:200].numpy(), sample_data.test_labels[:200].numpy().astype(np.uint8)


@pytest.fixture
def stored_run(tiny_data):
    run = Run("eval MLP", DataConfig(), ModelConfig(hidden=(16,)),
              TrainConfig(epochs=1, batch_size=100, lr=0.1, device="cpu")).bind(open_store(), "local")
    run.start(tiny_data).wait()
    assert run.status == "finished"
    return run


def test_evaluate_model_against_a_plain_loop(digits):
    images, labels = digits
    model = load_checkpoint(DEFAULT_MODEL)[0]
    result = evaluate_model(model, images, labels, "default", mnist_accuracy=0.968)
    with torch.no_grad():
        probs = torch.softmax(model(torch.from_numpy(images)[:, None].float() / 255), dim=1).numpy()
    preds = probs.argmax(1)
    assert result.n == 200 and result.accuracy == pytest.approx((preds == labels).mean())
    np.testing.assert_allclose(result.probabilities, probs, atol=1e-5)
    expected = np.zeros((10, 10), dtype=np.int64)
    for y, p in zip(labels, preds):
        expected[y, p] += 1
    np.testing.assert_array_equal(result.confusion, expected)
    mistakes = result.mistakes
    assert [m.index for m in sorted(mistakes, key=lambda m: m.index)] == list(np.flatnonzero(preds != labels))
    assert all(m.p_predicted == pytest.approx(probs[m.index, m.predicted], abs=1e-6) for m in mistakes)
    assert all(m.p_label == pytest.approx(probs[m.index, m.label], abs=1e-6) for m in mistakes)
    assert [m.p_predicted for m in mistakes] == sorted((m.p_predicted for m in mistakes), reverse=True)
    summary = result.summary()
    assert summary["mnist_test_accuracy"] == 0.968 and summary["mistakes"] == len(mistakes)
    assert np.asarray(summary["confusion"]).sum() == 200
    with pytest.raises(ValueError, match="no digits"):
        evaluate_model(model, images[:0], labels[:0])
    with pytest.raises(ValueError, match="28×28"):
        evaluate_model(model, images[:, :20], labels)


def test_confusion_matrix_rows_are_the_true_labels():
    cm = confusion_matrix(np.array([1, 1, 2]), np.array([1, 7, 2]))
    assert cm[1, 1] == 1 and cm[1, 7] == 1 and cm[2, 2] == 1 and cm.sum() == 3


def test_a_run_is_evaluated_beside_its_mnist_test_accuracy(stored_run, digits):
    images, labels = digits
    (result,) = evaluate_runs([stored_run], images, labels)
    assert result.mnist_accuracy == stored_run.history.epochs[-1].test_accuracy
    assert result.run_id == stored_run.id and result.name == "eval MLP"
    assert result.accuracy == evaluate_model(stored_run.model, images, labels).accuracy
    empty = Run("no model", DataConfig(), ModelConfig(hidden=(16,)), TrainConfig())
    with pytest.raises(ValueError, match="no model"):
        evaluate_run(empty, images, labels)


def test_a_run_is_never_measured_on_the_digits_it_or_its_parent_trained_on(tmp_path, tiny_data, digits):
    images, labels = digits
    save_digits(tmp_path / "mine.npz", images[:50], labels[:50])
    store = open_store()
    parent = Run("with my digits", DataConfig(extra_data=str(tmp_path / "mine.npz")), ModelConfig(hidden=(16,)),
                 TrainConfig(epochs=1, batch_size=100, device="cpu")).bind(store, "local")
    parent.start(tiny_data).wait()
    child = Run("further", DataConfig(), ModelConfig(hidden=(16,)),
                TrainConfig(epochs=1, batch_size=100, device="cpu")).bind(store, "local")
    child.parent = parent.id
    child.start(tiny_data).wait()
    for run in (parent, child):
        result = evaluate_run(run, images, labels)
        assert (result.n, result.left_out) == (150, 50)  # the 50 it (or its parent) trained on are left out
        assert result.accuracy == evaluate_model(run.model, images[50:], labels[50:]).accuracy
        assert all(m.index >= 50 for m in result.mistakes)  # a mistake names its place in the set given
    with pytest.raises(ValueError, match="trained on every one of these 50 digits"):
        evaluate_run(parent, images[:50], labels[:50])


# --- the CLI -------------------------------------------------------------------------------------


def run_cli(capsys, *argv) -> tuple[int, dict | None, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    lines = [line for line in out.splitlines() if line.strip()]
    return code, (json.loads(lines[-1]) if lines else None), err


def test_cli_evaluates_a_stored_run_by_its_id(capsys, tmp_path, stored_run, digits):
    path = tmp_path / "mine.npz"
    save_digits(path, *digits)
    code, line, err = run_cli(capsys, "evaluate", stored_run.id[:6], "--data", str(path))
    assert code == 0, err
    expected = evaluate_model(stored_run.model, *digits)
    assert line["run"] == stored_run.id and line["n"] == 200
    assert line["accuracy"] == pytest.approx(expected.accuracy)
    assert line["mnist_test_accuracy"] == pytest.approx(stored_run.history.epochs[-1].test_accuracy)
    assert line["confusion"] == expected.confusion.tolist()


def test_cli_evaluates_a_checkpoint_file(capsys, tmp_path, stored_run, digits):
    path, model_file = tmp_path / "mine.npz", tmp_path / "model.pt"
    save_digits(path, *digits)
    save_checkpoint(stored_run.model, stored_run.model_cfg, model_file, history=stored_run.history)
    code, line, err = run_cli(capsys, "evaluate", str(model_file), "--data", str(path))
    assert code == 0, err
    assert line["run"] is None and line["n"] == 200
    assert line["mnist_test_accuracy"] == pytest.approx(stored_run.history.epochs[-1].test_accuracy)


def test_cli_refuses_a_bad_file_or_run_with_a_sentence(capsys, tmp_path, digits):
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip")
    code, line, err = run_cli(capsys, "evaluate", str(DEFAULT_MODEL), "--data", str(bad))
    assert code == 2 and line is None and "is not an .npz file" in err
    code, _, err = run_cli(capsys, "evaluate", str(DEFAULT_MODEL), "--data", str(tmp_path / "missing.npz"))
    assert code == 2 and "does not exist" in err
    good = tmp_path / "mine.npz"
    save_digits(good, *digits)
    code, _, err = run_cli(capsys, "evaluate", "zzzzzz", "--data", str(good))
    assert code == 2 and "neither a checkpoint file nor a run" in err
    code, line, err = run_cli(capsys, "evaluate", str(DEFAULT_MODEL), "--data", str(good))
    assert code == 0 and line["mnist_test_accuracy"] == pytest.approx(0.968, abs=0.001)


# --- the section, under AppTest ------------------------------------------------------------------


SECTION = """
import numpy as np
from nnplay.ui.digits_eval import evaluate_section

data = np.load({path!r})
evaluate_section(data["images"], data["labels"])
"""


@pytest.mark.slow
def test_section_shows_the_table_the_confusion_matrix_and_the_mistakes(tmp_path, stored_run, digits):
    path = tmp_path / "mine.npz"
    np.savez(path, images=digits[0], labels=digits[1])
    at = AppTest.from_string(SECTION.format(path=str(path)), default_timeout=60).run()
    assert not at.exception
    picker = at.multiselect(key="digits_eval_runs")
    assert picker.value == [stored_run.id] and "nnplay's default model" in picker.options
    picker.set_value([stored_run.id, "default"]).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["model"]) == ["eval MLP", "nnplay's default model"]
    assert list(table["MNIST test"])[1] == "96.8%"
    expected = evaluate_model(load_checkpoint(DEFAULT_MODEL)[0], *digits)
    assert list(table["your digits"])[1] == f"{expected.accuracy:.1%}"
    at.selectbox(key="digits_eval_shown").set_value(1).run()
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    assert len(specs) == 2  # the confusion matrix, then the mistakes
    assert array(specs[0]["data"][0]["customdata"]).sum() == 200
    titles = [a["text"] for a in specs[1]["layout"]["annotations"]]
    assert len(titles) == min(30, len(expected.mistakes)) and all(t.startswith("<b>✗ #") for t in titles)
