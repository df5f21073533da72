"""Tests for ``nnplay.lessons.activations``.

What lives here: every activation and hand-written derivative (numpy and torch) checked
against torch's own function and autograd on a grid that includes negative, zero and large
inputs; seed 001's notes; the vanishing-gradient experiment (10 sigmoid layers vs ReLU + He);
seed 000's linear collapse (f(g(x)) = 2x + 2; a 10-layer identity net is one linear layer).
What does not live here: the /activations page (``tests/test_pages_teach.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nnplay.config import ACTIVATIONS as ACTIVATION_NAMES
from nnplay.lessons.activations import (ACTIVATION_FUNCTIONS, ACTIVATION_NOTES, compose_affine, get_activation,
                                        layer_gradient_norms, linear_collapse)

# Negative, zero, tiny, ordinary and saturating inputs.
GRID = np.concatenate([
    np.linspace(-12.0, 12.0, 481),
    [-1000.0, -100.0, -40.0, -1e-3, -1e-9, 0.0, 1e-9, 1e-3, 40.0, 100.0, 1000.0],
])


def autograd_derivative(fn, z: torch.Tensor) -> torch.Tensor:
    """d fn(z) / dz elementwise, by autograd (the sum's gradient is the elementwise one)."""
    z = z.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(fn(z).sum(), z)
    return grad


def test_names_match_the_model_config():
    from nnplay.models import ACTIVATION_MODULES

    assert set(ACTIVATION_NAMES) == set(ACTIVATION_MODULES) == set(ACTIVATION_FUNCTIONS)


# what is checked → (the reference from torch, the numpy form, the torch form, rtol, atol), in float64
FLOAT64_CHECKS = {
    "function": (lambda act, z: act.reference(z), "numpy", "torch", 1e-12, 1e-15),
    "derivative": (lambda act, z: autograd_derivative(act.reference, z), "numpy_grad", "torch_grad", 1e-10, 1e-14),
}


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@pytest.mark.parametrize("what", list(FLOAT64_CHECKS))
def test_function_and_derivative_match_torch_float64(name, what):
    """The function against torch's own, the hand-written derivative against autograd."""
    reference, numpy_form, torch_form, rtol, atol = FLOAT64_CHECKS[what]
    act = get_activation(name)
    z = torch.tensor(GRID, dtype=torch.float64)
    expected = reference(act, z).numpy()
    np.testing.assert_allclose(getattr(act, numpy_form)(GRID), expected, rtol=rtol, atol=atol)
    np.testing.assert_allclose(getattr(act, torch_form)(z).numpy(), expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_derivative_matches_autograd_float32(name):
    act = get_activation(name)
    z = torch.tensor(GRID, dtype=torch.float32)
    expected = autograd_derivative(act.reference, z)
    got = act.torch_grad(z)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_derivatives_at_the_kinks_follow_torch():
    zero = np.array([0.0])
    assert get_activation("relu").numpy_grad(zero)[0] == 0.0
    assert get_activation("leaky_relu").numpy_grad(zero)[0] == pytest.approx(0.01)
    assert get_activation("sigmoid").numpy_grad(zero)[0] == 0.25  # the largest it gets
    assert get_activation("tanh").numpy_grad(zero)[0] == 1.0


def test_saturation_is_where_seed_001_says():
    """sigmoid and tanh: the gradient is almost 0 where the output is close to its limits."""
    big = np.array([-20.0, 20.0])
    assert np.all(get_activation("sigmoid").numpy_grad(big) < 1e-8)
    assert np.all(get_activation("tanh").numpy_grad(big) < 1e-15)
    assert np.all(get_activation("relu").numpy_grad(-big[1:]) == 0)  # negative region


def test_numpy_sigmoid_never_overflows():
    with np.errstate(over="raise", invalid="raise"):  # underflow to 0 is harmless
        out = get_activation("sigmoid").numpy(np.array([-1e4, 1e4]))
    np.testing.assert_array_equal(out, [0.0, 1.0])


def test_unknown_activation_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="sigmoid, tanh, relu"):
        get_activation("swish")


def test_seed_001_notes():
    assert set(ACTIVATION_NOTES) == set(ACTIVATION_NAMES)
    assert ACTIVATION_NOTES["sigmoid"].output_range == "[0, 1]"
    assert ACTIVATION_NOTES["tanh"].output_range == "[-1, 1]"
    for name in ("sigmoid", "tanh"):
        note = ACTIVATION_NOTES[name]
        assert note.source == "seed 001" and note.korean
        assert "gradient is almost 0" in note.weakness
        assert "initialise" in note.remedy.lower()
    relu = ACTIVATION_NOTES["relu"]
    assert relu.source == "seed 001" and "fast" in relu.strength
    assert "negative" in relu.weakness and "learning rate" in relu.remedy


def test_every_korean_note_has_its_translation_and_quotes_the_seed():
    seeds = Path(__file__).resolve().parents[2] / "shared" / "seeds"  # /work/shared/seeds beside the checkout
    seed = next(seeds.glob("001_*.txt"), None) if seeds.is_dir() else None
    for name, note in ACTIVATION_NOTES.items():
        assert bool(note.korean) == bool(note.translation), name  # a quote always comes with its English
        if note.korean and seed is not None:
            text = seed.read_text(encoding="utf-8")
            for part in note.korean.split(" / ")[1:]:  # the seed's lines, as quoted
                assert part.strip() in text, (name, part)
    assert "0 or 1" in ACTIVATION_NOTES["sigmoid"].translation and "weight" in ACTIVATION_NOTES["sigmoid"].translation
    assert "negative" in ACTIVATION_NOTES["relu"].translation and "learning rate" in ACTIVATION_NOTES["relu"].translation


# --- vanishing gradients -----------------------------------------------------------------------


def test_sigmoid_gradients_vanish_towards_the_input():
    norms = layer_gradient_norms("sigmoid", depth=10, width=100, init="default")
    assert len(norms) == 11  # 10 hidden layers + readout
    assert all(n > 0 for n in norms)
    assert norms[0] / norms[-1] < 1e-4  # about 1e-8 in practice
    # and it shrinks layer after layer on the way back
    assert sum(a < b for a, b in zip(norms, norms[1:])) >= 9


def test_relu_with_he_keeps_gradients_within_a_factor():
    norms = layer_gradient_norms("relu", depth=10, width=100, init="he")
    assert max(norms) / min(norms) < 10


def test_vanishing_on_real_digits(sample_data):
    images, labels = sample_data.test_images[:64], sample_data.test_labels[:64]
    sig = layer_gradient_norms("sigmoid", depth=10, init="default", images=images, labels=labels)
    relu = layer_gradient_norms("relu", depth=10, init="he", images=images, labels=labels)
    assert sig[0] / sig[-1] < 1e-4
    assert max(relu) / min(relu) < 10


def test_gradient_norms_are_reproducible_and_leave_the_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = layer_gradient_norms("tanh", depth=3, width=16, seed=5)
    after = torch.rand(1)
    assert a == layer_gradient_norms("tanh", depth=3, width=16, seed=5)
    assert torch.equal(before, after)


# --- seed 000: linear layers collapse -----------------------------------------------------------


def test_f_of_g_is_2x_plus_2():
    # f(x) = x + 2 is (1, 2); g(x) = 2x is (2, 0)
    a, b = compose_affine((1, 2), (2, 0))
    assert (a, b) == (2, 2)
    for x in (-3.0, 0.0, 1.5, 10.0):
        assert a * x + b == (2 * x) + 2 == 2 * x + 2


def test_ten_layer_identity_network_is_one_linear_layer():
    lc = linear_collapse(depth=10, width=32, seed=0)
    assert lc.n_linear == 11
    assert lc.W.shape == (10, 784) and lc.b.shape == (10,)
    assert np.abs(lc.b).max() > 1e-3  # the biases do fold into a real combined bias
    assert lc.output_scale > 0.1  # the outputs are not trivially tiny
    assert lc.max_abs_diff < 1e-12
    np.testing.assert_allclose(lc.deep_output, lc.single_output, rtol=0, atol=1e-12)


def test_linear_collapse_in_float32():
    lc = linear_collapse(depth=10, width=32, seed=1, dtype=torch.float32)
    assert lc.max_abs_diff < 1e-4 * max(1.0, lc.output_scale)
