"""Tests for ``nnplay.lessons.forward``.

What lives here: every number seed 002 prints (A1, Z1, Z2, Y, both softmaxes) to 8 digits, the
step names and shapes, row × column + bias for every cell, the overflow reported as data, the
784-50-100-10 batch shapes, readable errors for bad input, and the numpy forward pass of real
nnplay MLPs against torch to 1e-5 on real digits.
What does not live here: the /forward page (``tests/test_pages_teach.py``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from nnplay.config import ModelConfig
from nnplay.lessons.forward import (SEED_X, batch_shapes, cell_explanation, compare_with_torch, forward_trace,
                            numpy_forward_mlp, seed_network, softmax, softmax_naive)
from nnplay.models import build_model


def eight_digits(values, printed):
    """The seed prints arrays rounded to 8 decimals; ours must round to exactly that."""
    np.testing.assert_array_equal(np.round(np.asarray(values), 8), np.asarray(printed))


@pytest.fixture()
def trace():
    return {step.output: step for step in forward_trace(seed_network(), SEED_X)}


def test_seed_network_is_as_printed():
    net = seed_network()
    assert {k: v.shape for k, v in net.items()} == {
        "W1": (2, 3), "B1": (3,), "W2": (3, 2), "B2": (2,), "W3": (2, 2), "B3": (2,)}
    np.testing.assert_array_equal(net["W1"], [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]])
    np.testing.assert_array_equal(net["W2"], [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]])
    np.testing.assert_array_equal(net["B3"], [0.1, 0.2])
    assert SEED_X == [1.0, 0.5]


def test_seed_002_numbers(trace):
    eight_digits(trace["A1"].result, [0.3, 0.7, 1.1])
    eight_digits(trace["Z1"].result, [0.57444252, 0.66818777, 0.75026011])
    eight_digits(trace["Z2"].result, [0.62624937, 0.7710107])
    eight_digits(trace["A3"].result, [0.31682708, 0.69627909])
    eight_digits(trace["Y"].result, [0.31682708, 0.69627909])


def test_step_names_and_shapes():
    steps = forward_trace(seed_network(), SEED_X)
    assert [s.name for s in steps] == [
        "A1 = X·W1 + B1", "Z1 = sigmoid(A1)", "A2 = Z1·W2 + B2", "Z2 = sigmoid(A2)",
        "A3 = Z2·W3 + B3", "Y = identity(A3)"]
    assert [s.kind for s in steps] == ["affine", "activation"] * 3
    assert [[(o.name, o.shape) for o in s.operands] for s in steps[:2]] == [
        [("X", (2,)), ("W1", (2, 3)), ("B1", (3,))], [("A1", (3,))]]
    assert [s.shape for s in steps] == [(3,), (3,), (2,), (2,), (2,), (2,)]


def test_softmax_output_step():
    steps = forward_trace(seed_network(), SEED_X, output="softmax")
    assert steps[-1].name == "Y = softmax(A3)"
    y = steps[-1].result
    assert y.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(y, softmax([0.31682708429, 0.69627909014]), rtol=1e-8)
    assert np.argmax(y) == np.argmax(steps[-2].result)  # softmax keeps the order


def test_a_batch_of_inputs_gives_a_batch_of_rows():
    steps = forward_trace(seed_network(), [SEED_X, [0.0, 0.0]])
    assert steps[-1].shape == (2, 2)
    eight_digits(steps[-1].result[0], [0.31682708, 0.69627909])


def test_every_cell_is_row_times_column_plus_bias(trace):
    for name in ("A1", "A2", "A3"):
        step = trace[name]
        for j in range(step.result.shape[-1]):
            cell = cell_explanation(step, j)
            assert cell.total == pytest.approx(step.result[j], abs=1e-15)
            assert sum(p for _, _, p in cell.terms) + cell.bias == pytest.approx(cell.total)
    assert cell_explanation(trace["A1"], 0).text == "1×0.1 + 0.5×0.2 + 0.1 = 0.3"
    assert cell_explanation(trace["A1"], 2).text == "1×0.5 + 0.5×0.6 + 0.3 = 1.1"
    with pytest.raises(ValueError, match="not an affine step"):
        cell_explanation(trace["Z1"], 0)
    with pytest.raises(ValueError, match="3 columns"):
        cell_explanation(trace["A1"], 3)


def test_softmax_seed_numbers():
    eight_digits(softmax([0.3, 2.9, 4.0]), [0.01821127, 0.24519181, 0.73659691])
    naive = softmax_naive([0.3, 2.9, 4.0])
    assert not naive.overflow and naive.problems == ()
    eight_digits(naive.values, [0.01821127, 0.24519181, 0.73659691])


def test_naive_softmax_overflows_as_data_not_as_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning escaping would fail here
        naive = softmax_naive(np.array([1010, 1000, 990]))
    assert np.all(np.isnan(naive.values))
    assert naive.overflow and "overflow" in naive.problems


def test_stable_softmax_of_large_numbers():
    y = softmax(np.array([1010, 1000, 990]))
    np.testing.assert_allclose(y, [9.99954600e-01, 4.53978686e-05, 2.06106005e-09], rtol=1e-8)
    assert y.sum() == pytest.approx(1.0)
    # subtracting any constant changes nothing
    np.testing.assert_allclose(softmax([10.0, 0.0, -10.0]), y, rtol=1e-12)


def test_batch_shapes_of_the_784_50_100_10_network():
    assert batch_shapes(100, (784, 50, 100, 10)) == [
        ("X", (100, 784)),
        ("W1", (784, 50)), ("B1", (50,)), ("A1", (100, 50)), ("Z1", (100, 50)),
        ("W2", (50, 100)), ("B2", (100,)), ("A2", (100, 100)), ("Z2", (100, 100)),
        ("W3", (100, 10)), ("B3", (10,)), ("A3", (100, 10)), ("Y", (100, 10)),
    ]
    # and they are the shapes a real pass produces
    rng = np.random.default_rng(0)
    net = {f"{k}{l}": rng.standard_normal(s) for l, (a, b) in enumerate([(784, 50), (50, 100), (100, 10)], 1)
           for k, s in (("W", (a, b)), ("B", (b,)))}
    steps = forward_trace(net, rng.random((100, 784)), output="softmax")
    real = {s.output: s.shape for s in steps}
    for name, shape in batch_shapes():
        if name[0] in "AZY":
            assert real[name] == shape


@pytest.mark.parametrize("change, message", [
    ({"W2": [[0.1, 0.4], [0.2, 0.5]]}, "W2 has 2 rows but Z1 has 3 columns"),
    ({"W1": [["a", 0.3, 0.5], [0.2, 0.4, 0.6]]}, "W1 must contain numbers only"),
    ({"B1": [0.1, None, 0.3]}, "B1 contains an empty cell"),
    ({"B3": [0.1, 0.2, 0.3]}, "B3 must be a vector of 2 entries"),
    ({"W3": [0.1, 0.2]}, "W3 must be a matrix"),
    ({"W1": [[0.1, 0.3], [0.2]]}, "W1 must contain numbers only"),
])
def test_bad_networks_are_refused_with_a_sentence(change, message):
    net = {**seed_network(), **change}
    with pytest.raises(ValueError, match=message):
        forward_trace(net, SEED_X)


def test_bad_inputs_are_refused_with_a_sentence():
    with pytest.raises(ValueError, match="W1 has 2 rows but X has 3 columns"):
        forward_trace(seed_network(), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="B2 is missing"):
        forward_trace({k: v for k, v in seed_network().items() if k != "B2"}, SEED_X)
    with pytest.raises(ValueError, match="W1, W2"):
        forward_trace({"W2": np.ones((2, 2)), "B2": np.ones(2)}, SEED_X)
    with pytest.raises(ValueError, match="identity' or 'softmax"):
        forward_trace(seed_network(), SEED_X, output="relu")


# --- numpy forward pass of real nnplay MLPs ------------------------------------------------------


@pytest.mark.parametrize("cfg", [
    ModelConfig(hidden=(256,), activation="relu", init="he"),  # seed-mlp
    ModelConfig(hidden=(50, 100), activation=("sigmoid", "tanh"), init="xavier"),  # seed 002's sizes
    ModelConfig(hidden=(32, 32, 32), activation=("gelu", "leaky_relu", "identity"), init="default",
                dropout=0.3),
    ModelConfig(hidden=(), init="default"),  # logistic regression
], ids=["seed-mlp", "784-50-100-10", "mixed-dropout", "no-hidden"])
def test_numpy_forward_matches_torch_on_digits(cfg, sample_data):
    from nnplay.data import normalise

    torch.manual_seed(0)
    model = build_model(cfg)
    x = normalise(sample_data.test_images[:16])
    cmp = compare_with_torch(model, cfg.activations(), x)
    assert cmp.numpy_logits.shape == (16, 10)
    assert cmp.max_abs_diff < 1e-5
    names = [name for name, _ in cmp.trace]
    n = len(cfg.hidden)
    assert names == ["X"] + [f"{p}{l}" for l in range(1, n + 1) for p in "AZ"] + [f"A{n + 1}"]
    assert cmp.trace[0][1].shape == (16, 784)


def test_numpy_forward_refuses_a_wrong_activation_count():
    torch.manual_seed(0)
    model = build_model(ModelConfig(hidden=(8, 8)))
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="2 hidden layers but 1 activations"):
        numpy_forward_mlp(state, ["relu"], np.zeros((1, 784)))
