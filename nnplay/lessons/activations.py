"""Activation functions, their derivatives, and two experiments about depth.

What lives here:
- numpy and torch versions of sigmoid, tanh, relu, leaky_relu (slope 0.01), gelu (the exact
  erf form, as torch's default) and identity, each with its derivative written out by hand
  as a closed form (tests check every one against torch autograd), gathered by name in
  ``ACTIVATION_FUNCTIONS`` (``get_activation(name)``); the names themselves are the one registry
  ``nnplay.config.ACTIVATIONS``;
- ``ACTIVATION_NOTES``: seed 001's notes per function (output range, what goes wrong, what to
  be careful about), in English, with the Korean original and a line-by-line translation of it;
- ``layer_gradient_norms``: the vanishing-gradient experiment (gradient norm of every layer's
  weight at initialisation for a deep MLP);
- ``linear_collapse``, ``compose_affine`` and ``composition_table``: seed 000's point that stacked
  linear layers are one linear layer (f(x) = x + 2, g(x) = 2x, f(g(x)) = 2x + 2); coefficients or
  values beyond the floats (inf, nan) are refused with a sentence.

What does not live here: the models themselves (``nnplay.models.build_model``), training, and
anything that draws (figures are built in ``nnplay.figures.teach``). No streamlit import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..config import ACTIVATIONS, ModelConfig
from ..engine import seeded_model
from ..models import weight_layers
LEAKY_SLOPE = 0.01  # torch.nn.LeakyReLU's default negative slope

_SQRT_2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


# ---------------------------------------------------------------------------------------------
# numpy: f(z) and f'(z), elementwise on an array of pre-activations z
# ---------------------------------------------------------------------------------------------


def sigmoid_np(z: np.ndarray) -> np.ndarray:
    """sigmoid(z) = 1 / (1 + exp(-z)), output in (0, 1).

    Written so exp never overflows: for z < 0 use exp(z) / (1 + exp(z)), which is the same
    number (multiply top and bottom by exp(z)) but only ever exponentiates a negative value.
    """
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))  # in (0, 1]: no overflow for any z
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad_np(z: np.ndarray) -> np.ndarray:
    """sigmoid'(z) = s (1 - s) with s = sigmoid(z); at most 0.25 (at z = 0)."""
    s = sigmoid_np(z)
    return s * (1.0 - s)


def tanh_np(z: np.ndarray) -> np.ndarray:
    """tanh(z) = (e^z - e^-z) / (e^z + e^-z), output in (-1, 1)."""
    return np.tanh(np.asarray(z, dtype=float))


def tanh_grad_np(z: np.ndarray) -> np.ndarray:
    """tanh'(z) = 1 - tanh(z)^2; at most 1 (at z = 0)."""
    t = tanh_np(z)
    return 1.0 - t * t


def relu_np(z: np.ndarray) -> np.ndarray:
    """relu(z) = max(0, z)."""
    return np.maximum(np.asarray(z, dtype=float), 0.0)


def relu_grad_np(z: np.ndarray) -> np.ndarray:
    """relu'(z) = 1 for z > 0, else 0 (torch also uses 0 at z = 0)."""
    return (np.asarray(z) > 0).astype(float)


def leaky_relu_np(z: np.ndarray) -> np.ndarray:
    """leaky_relu(z) = z for z > 0, else 0.01 z."""
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def leaky_relu_grad_np(z: np.ndarray) -> np.ndarray:
    """leaky_relu'(z) = 1 for z > 0, else 0.01 (torch uses 0.01 at z = 0)."""
    return np.where(np.asarray(z) > 0, 1.0, LEAKY_SLOPE)


# numpy has no erf; math.erf is exact to double precision, so apply it elementwise.
_erf_np = np.frompyfunc(math.erf, 1, 1)


def _normal_cdf_np(z: np.ndarray) -> np.ndarray:
    """Phi(z) = P(N(0,1) <= z) = (1 + erf(z / sqrt 2)) / 2."""
    return 0.5 * (1.0 + _erf_np(np.asarray(z, dtype=float) / _SQRT_2).astype(float))


def gelu_np(z: np.ndarray) -> np.ndarray:
    """gelu(z) = z * Phi(z): z weighted by how likely a standard normal is below it."""
    z = np.asarray(z, dtype=float)
    return z * _normal_cdf_np(z)


def gelu_grad_np(z: np.ndarray) -> np.ndarray:
    """gelu'(z) = Phi(z) + z * phi(z), with phi(z) = exp(-z^2 / 2) / sqrt(2 pi) (product rule)."""
    z = np.asarray(z, dtype=float)
    return _normal_cdf_np(z) + z * np.exp(-0.5 * z * z) / _SQRT_2PI


def identity_np(z: np.ndarray) -> np.ndarray:
    """identity(z) = z: no non-linearity at all."""
    return np.asarray(z, dtype=float)


def identity_grad_np(z: np.ndarray) -> np.ndarray:
    """identity'(z) = 1."""
    return np.ones_like(np.asarray(z, dtype=float))


# ---------------------------------------------------------------------------------------------
# torch: the same formulas with torch ops (dtype and device follow the input)
# ---------------------------------------------------------------------------------------------


def sigmoid_torch(z: torch.Tensor) -> torch.Tensor:
    """sigmoid(z) = 1 / (1 + exp(-z)), in the overflow-free two-branch form."""
    e = torch.exp(-z.abs())
    return torch.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad_torch(z: torch.Tensor) -> torch.Tensor:
    s = sigmoid_torch(z)
    return s * (1.0 - s)


def tanh_torch(z: torch.Tensor) -> torch.Tensor:
    return torch.tanh(z)


def tanh_grad_torch(z: torch.Tensor) -> torch.Tensor:
    t = torch.tanh(z)
    return 1.0 - t * t


def relu_torch(z: torch.Tensor) -> torch.Tensor:
    return torch.clamp(z, min=0.0)


def relu_grad_torch(z: torch.Tensor) -> torch.Tensor:
    return (z > 0).to(z.dtype)


def leaky_relu_torch(z: torch.Tensor) -> torch.Tensor:
    return torch.where(z > 0, z, LEAKY_SLOPE * z)


def leaky_relu_grad_torch(z: torch.Tensor) -> torch.Tensor:
    return torch.where(z > 0, torch.ones_like(z), torch.full_like(z, LEAKY_SLOPE))


def _normal_cdf_torch(z: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1.0 + torch.erf(z / _SQRT_2))


def gelu_torch(z: torch.Tensor) -> torch.Tensor:
    return z * _normal_cdf_torch(z)


def gelu_grad_torch(z: torch.Tensor) -> torch.Tensor:
    return _normal_cdf_torch(z) + z * torch.exp(-0.5 * z * z) / _SQRT_2PI


def identity_torch(z: torch.Tensor) -> torch.Tensor:
    return z


def identity_grad_torch(z: torch.Tensor) -> torch.Tensor:
    return torch.ones_like(z)


# ---------------------------------------------------------------------------------------------
# One record per activation, and seed 001's notes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivationNote:
    """What seed 001 says about one activation (or, where the seed is silent, nnplay's note)."""

    output_range: str
    """The set the function's outputs lie in."""
    strength: str
    """What it is good at."""
    weakness: str
    """What goes wrong with it."""
    remedy: str
    """What to be careful about because of the weakness."""
    source: str
    """"seed 001" when the note is the seed's own, "nnplay" when the seed says nothing."""
    korean: str = ""
    """The seed's original lines, when the note comes from the seed."""
    translation: str = ""
    """``korean`` translated into English as it stands (its slips kept, marked [sic])."""


ACTIVATION_NOTES: dict[str, ActivationNote] = {
    "sigmoid": ActivationNote(
        output_range="[0, 1]",
        strength="Smooth; the output reads as a probability.",
        weakness=(
            "When the output is close to 0 or 1 the gradient is almost 0, "
            "so the weights stop updating and learning stalls."
        ),
        remedy="Initialise the weights carefully.",
        source="seed 001",
        korean=(
            "출력 : [0,1] / (단점) 출력값이 0이나 1에 가까우면 gradients는 거의 0에 수렴 "
            "→ 가중치 갱신/학습 불가 / (해결) 가중치 초기화를 조심히! 신경써서"
        ),
        translation=(
            "Output: [0,1] / (drawback) when the output is close to 0 or 1, the gradients converge to "
            "almost 0 → the weights cannot be updated / it cannot learn / (fix) be careful with weight "
            "initialisation! Pay attention to it"
        ),
    ),
    "tanh": ActivationNote(
        output_range="[-1, 1]",
        strength="Zero-centred output.",
        weakness=(
            "When the output saturates (close to -1 or 1) the gradient is almost 0, "
            "so the weights stop updating and learning stalls."
        ),
        remedy="Initialise the weights carefully.",
        source="seed 001",
        korean=(
            "출력 : [-1, 1] / (단점) 출력값이 0이나 1에 가까우면 gradients는 거의 0에 수렴 "
            "→ 가중치 갱신/학습 불가 / (해결) 가중치 초기화를 조심히! 신경써서"
        ),
        translation=(
            "Output: [-1, 1] / (drawback) when the output is close to 0 or 1 [sic: for tanh, -1 or 1], "
            "the gradients converge to almost 0 → the weights cannot be updated / it cannot learn / "
            "(fix) be careful with weight initialisation! Pay attention to it"
        ),
    ),
    "relu": ActivationNote(
        output_range="[0, ∞)",
        strength="Trains fast.",
        weakness="The gradient is 0 over a large region (every negative input).",
        remedy="Choose the learning rate carefully.",
        source="seed 001",
        korean=(
            "학습 빠름 / (단점) gradient = 0 인 구간이 많음 (음수인 구간) "
            "/ (해결) learning rate를 조심히! 신경써서"
        ),
        translation=(
            "Learns fast / (drawback) there are many regions where the gradient = 0 (the negative "
            "region) / (fix) be careful with the learning rate! Pay attention to it"
        ),
    ),
    "leaky_relu": ActivationNote(
        output_range="(-∞, ∞)",
        strength="Like ReLU, but negative inputs keep a small slope (0.01).",
        weakness="Negative inputs still learn only 1/100 as fast.",
        remedy="A usual fix for ReLU units that never switch on again.",
        source="nnplay",
    ),
    "gelu": ActivationNote(
        output_range="about [-0.17, ∞)",
        strength="A smooth ReLU: z times the chance that a standard normal is below z.",
        weakness="Costs an erf per unit; small negative outputs for negative inputs.",
        remedy="Used where smooth gradients help (e.g. transformers).",
        source="nnplay",
    ),
    "identity": ActivationNote(
        output_range="(-∞, ∞)",
        strength="Passes values through (the output layer of a regression model, note 002).",
        weakness=(
            "Between layers it adds nothing: stacked linear layers collapse into one "
            "linear layer (note 000)."
        ),
        remedy="Put a non-linear function after every hidden linear layer.",
        source="nnplay",
    ),
}


@dataclass(frozen=True)
class ActivationFunction:
    """One activation function: numpy and torch forms and hand-written derivatives."""

    name: str
    numpy: Callable[[np.ndarray], np.ndarray]
    numpy_grad: Callable[[np.ndarray], np.ndarray]
    torch: Callable[[torch.Tensor], torch.Tensor]
    torch_grad: Callable[[torch.Tensor], torch.Tensor]
    reference: Callable[[torch.Tensor], torch.Tensor]
    """torch's own implementation (what nn.Sigmoid, nn.GELU, ... compute), for checking."""
    formula: str
    """The function in LaTeX."""
    grad_formula: str
    """Its derivative in LaTeX."""

    @property
    def note(self) -> ActivationNote:
        return ACTIVATION_NOTES[self.name]


ACTIVATION_FUNCTIONS: dict[str, ActivationFunction] = {
    "sigmoid": ActivationFunction(
        "sigmoid", sigmoid_np, sigmoid_grad_np, sigmoid_torch, sigmoid_grad_torch, torch.sigmoid,
        r"\sigma(z) = \frac{1}{1 + e^{-z}}", r"\sigma'(z) = \sigma(z)\,(1 - \sigma(z))",
    ),
    "tanh": ActivationFunction(
        "tanh", tanh_np, tanh_grad_np, tanh_torch, tanh_grad_torch, torch.tanh,
        r"\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}", r"\tanh'(z) = 1 - \tanh^2(z)",
    ),
    "relu": ActivationFunction(
        "relu", relu_np, relu_grad_np, relu_torch, relu_grad_torch, F.relu,
        r"\mathrm{relu}(z) = \max(0, z)", r"\mathrm{relu}'(z) = [z > 0]",
    ),
    "leaky_relu": ActivationFunction(
        "leaky_relu", leaky_relu_np, leaky_relu_grad_np, leaky_relu_torch,
        leaky_relu_grad_torch, lambda z: F.leaky_relu(z, LEAKY_SLOPE),
        r"\mathrm{leaky}(z) = \max(0.01 z, z)", r"\mathrm{leaky}'(z) = 1 \text{ if } z > 0 "
        r"\text{ else } 0.01",
    ),
    "gelu": ActivationFunction(
        "gelu", gelu_np, gelu_grad_np, gelu_torch, gelu_grad_torch, F.gelu,
        r"\mathrm{gelu}(z) = z\,\Phi(z) = \tfrac{z}{2}\left(1 + \mathrm{erf}(z/\sqrt{2})\right)",
        r"\mathrm{gelu}'(z) = \Phi(z) + z\,\varphi(z),\ \varphi(z) = e^{-z^2/2}/\sqrt{2\pi}",
    ),
    "identity": ActivationFunction(
        "identity", identity_np, identity_grad_np, identity_torch, identity_grad_torch,
        lambda z: z, r"\mathrm{id}(z) = z", r"\mathrm{id}'(z) = 1",
    ),
}


def get_activation(name: str) -> ActivationFunction:
    """The record for ``name``; ValueError naming the choices for anything else."""
    try:
        return ACTIVATION_FUNCTIONS[name]
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}."
        ) from None


# ---------------------------------------------------------------------------------------------
# Vanishing gradients: the gradient norm of every layer's weight at initialisation
# ---------------------------------------------------------------------------------------------


def _input_batch(
    images: torch.Tensor | None, labels: torch.Tensor | None, batch: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 1, 28, 28) floats in [0, 1] and (B,) labels: the given ones, or random ones."""
    if images is None:
        gen = torch.Generator().manual_seed(seed)
        x = torch.rand(batch, 1, 28, 28, generator=gen)
        y = torch.randint(0, 10, (batch,), generator=gen)
        return x, y
    x = images[:batch]
    if x.dtype == torch.uint8:
        x = x.float() / 255.0  # the same pixel convention as nnplay.data.normalise
    x = x.reshape(-1, 1, 28, 28).float()
    if labels is None:
        y = torch.randint(0, 10, (x.shape[0],), generator=torch.Generator().manual_seed(seed))
    else:
        y = labels[: x.shape[0]].long()
    return x, y


def layer_gradient_norms(
    activation: str,
    depth: int = 10,
    width: int = 100,
    seed: int = 0,
    batch: int = 64,
    init: str = "default",
    images: torch.Tensor | None = None,
    labels: torch.Tensor | None = None,
) -> list[float]:
    """Gradient norm ||dL/dW|| of every Linear layer's weight, first layer first, at init.

    The model is ``build_model(ModelConfig(hidden=(width,) * depth, activation, init))``:
    depth hidden layers plus the readout, so depth + 1 numbers. The loss is cross-entropy on
    one batch: ``images`` (uint8 (N,28,28) or float (N,1,28,28)) and ``labels`` when given,
    else uniform random pixels and random labels. Nothing is trained.

    Backpropagation multiplies the error by W^T and by f'(Z) once per layer on its way back
    to the input. sigmoid' is at most 0.25, so with ordinary weights the error shrinks every
    layer and the first layers barely learn: the vanishing gradient. ReLU's slope is 1 where
    it is on, and He initialisation (std sqrt(2 / fan_in)) makes up for the half that is off.
    """
    get_activation(activation)  # a readable error before building anything
    model = seeded_model(
        ModelConfig(family="mlp", hidden=(width,) * depth, activation=activation, init=init), seed
    )
    model.train()
    x, y = _input_batch(images, labels, batch, seed)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    return [float(lin.weight.grad.norm()) for _, lin in weight_layers(model, torch.nn.Linear)]


# ---------------------------------------------------------------------------------------------
# Seed 000: stacked linear layers are one linear layer
# ---------------------------------------------------------------------------------------------


def compose_affine(f: tuple[float, float], g: tuple[float, float]) -> tuple[float, float]:
    """Coefficients (a, b) of f(g(x)) = a x + b, given f(x) = a_f x + b_f and g(x) = a_g x + b_g.

    f(g(x)) = a_f (a_g x + b_g) + b_f = (a_f a_g) x + (a_f b_g + b_f).
    Seed 000: f(x) = x + 2 is (1, 2), g(x) = 2x is (2, 0), so f(g(x)) = 2x + 2 is (2, 2).
    """
    a_f, b_f = f
    a_g, b_g = g
    _require_finite("f and g need finite coefficients", a_f=a_f, b_f=b_f, a_g=a_g, b_g=b_g)
    a, b = a_f * a_g, a_f * b_g + b_f
    _require_finite("f(g(x)) = (a_f·a_g)·x + (a_f·b_g + b_f) cannot be written in floating point",
                    **{"a_f·a_g": a, "a_f·b_g + b_f": b})
    return (a, b)


@dataclass(frozen=True)
class CompositionTable:
    """f(g(x)) computed both ways at a few x: layer after layer, and as the one collapsed layer."""

    x: tuple[float, ...]
    layered: list[float]
    """f(g(x)) = a_f (a_g x + b_g) + b_f, one layer after the other."""
    collapsed: list[float]
    """a x + b with (a, b) from ``compose_affine``."""


def composition_table(f: tuple[float, float], g: tuple[float, float],
                      xs: tuple[float, ...] = (-1.0, 0.0, 1.0, 2.5)) -> CompositionTable:
    """Both sides of f(g(x)) = a x + b at each x; ValueError when any value leaves the floats."""
    a, b = compose_affine(f, g)
    (a_f, b_f), (a_g, b_g) = f, g
    layered = [a_f * (a_g * x + b_g) + b_f for x in xs]
    collapsed = [a * x + b for x in xs]
    _require_finite("f(g(x)) cannot be evaluated in floating point",
                    **{f"f(g({x:g}))": v for x, v in zip(xs, layered)},
                    **{f"{a:g}·{x:g} + {b:g}": v for x, v in zip(xs, collapsed)})
    return CompositionTable(tuple(xs), layered, collapsed)


def _require_finite(what: str, **values: float) -> None:
    """ValueError naming the values that are inf or nan (a float64 holds at most about 1.8e308)."""
    bad = [f"{name} = {value:g}" for name, value in values.items() if not math.isfinite(value)]
    if bad:
        raise ValueError(
            f"{what}: {', '.join(bad)}. A float holds numbers up to about 1.8e308; beyond that it "
            "becomes inf (and inf − inf is nan), so the two sides cannot be compared. "
            "The maths still holds: f(g(x)) is one affine map. Pick coefficients whose products stay "
            "below about 1e308."
        )


@dataclass(frozen=True)
class LinearCollapse:
    """A deep identity-activation MLP next to the single linear layer it equals."""

    n_linear: int
    """How many Linear layers the deep network has (depth hidden layers + readout)."""
    W: np.ndarray
    """Product of all weights, W_L ... W_2 W_1, shape (10, 784) (torch's (out, in) layout)."""
    b: np.ndarray
    """Combined bias, shape (10,): sum over l of (W_L ... W_{l+1}) b_l."""
    deep_output: np.ndarray
    """The deep network's output on the inputs, shape (B, 10)."""
    single_output: np.ndarray
    """x W^T + b with the collapsed W and b, shape (B, 10)."""
    max_abs_diff: float
    """max |deep_output - single_output|."""
    output_scale: float
    """max |deep_output|, so the difference can be read against the size of the numbers."""


def linear_collapse(
    depth: int = 10,
    width: int = 64,
    seed: int = 0,
    batch: int = 8,
    dtype: torch.dtype = torch.float64,
    images: torch.Tensor | None = None,
) -> LinearCollapse:
    """Build a ``depth``-hidden-layer MLP with identity activations and collapse it.

    Every layer computes Z_l = Z_{l-1} W_l^T + b_l and nothing bends the result, so
        Y = (...((X W_1^T + b_1) W_2^T + b_2)...) W_L^T + b_L = X W^T + b
    with W = W_L ... W_1 and b = sum_l (W_L ... W_{l+1}) b_l. In float64 the two outputs
    agree to about 1e-15; in float32 to about 1e-6.
    """
    model = seeded_model(
        ModelConfig(family="mlp", hidden=(width,) * depth, activation="identity", init="xavier"),
        seed,
    )
    model = model.to(dtype).eval()
    # Xavier keeps the output's scale layer after layer, but leaves biases at 0; give them
    # small random values so the combined bias is not trivially zero.
    gen = torch.Generator().manual_seed(seed + 1)
    layers = [lin for _, lin in weight_layers(model, torch.nn.Linear)]
    with torch.no_grad():
        for lin in layers:
            lin.bias.copy_((torch.rand(lin.bias.shape, generator=gen, dtype=dtype) - 0.5) * 0.2)

        x, _ = _input_batch(images, None, batch, seed)
        x = x.to(dtype)
        deep = model(x)

        W = torch.eye(layers[0].in_features, dtype=dtype)
        b = torch.zeros(layers[0].in_features, dtype=dtype)
        for lin in layers:  # fold one more layer in: (x W^T + b) W_l^T + b_l
            W = lin.weight @ W
            b = lin.weight @ b + lin.bias
        single = x.reshape(x.shape[0], -1) @ W.T + b

    deep_np, single_np = deep.numpy(), single.numpy()
    return LinearCollapse(
        n_linear=len(layers),
        W=W.numpy(),
        b=b.numpy(),
        deep_output=deep_np,
        single_output=single_np,
        max_abs_diff=float(np.abs(deep_np - single_np).max()),
        output_scale=float(np.abs(deep_np).max()),
    )
