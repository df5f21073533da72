"""The forward pass in numpy, one matrix product at a time (seed 002).

What lives here:
- seed 002's 3-layer network (``seed_network``, ``SEED_X``) and ``forward_trace``, which
  records every step "A1 = X·W1 + B1", "Z1 = sigmoid(A1)", ... with its operands and result;
- ``cell_explanation``: one output cell of an affine step written as row × column + bias;
- softmax, naive (overflows on [1010, 1000, 990]) and stable (max subtracted);
- ``batch_shapes``: every array's shape through a 784-50-100-10 network at batch 100;
- ``numpy_forward_mlp``: the same numpy forward pass run on the weights of an nnplay MLP of
  any depth, so a page can compare it with torch.

Conventions: as in the seed, X is a row vector (or a batch of rows) and W has shape
(inputs, outputs), so a layer is A = X·W + B. torch's nn.Linear stores the transpose (see
``numpy_forward_mlp``). What does not live here: training, models, drawing. No streamlit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

import numpy as np

from nnplay.lessons.activations import get_activation

SEED_X: list[float] = [1.0, 0.5]


def seed_network() -> dict[str, np.ndarray]:
    """Seed 002's ``init_network()``: the weights and biases exactly as printed there."""
    return {
        "W1": np.array([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]),  # (2, 3): 2 inputs -> 3 units
        "B1": np.array([0.1, 0.2, 0.3]),
        "W2": np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]),  # (3, 2)
        "B2": np.array([0.1, 0.2]),
        "W3": np.array([[0.1, 0.3], [0.2, 0.4]]),  # (2, 2)
        "B3": np.array([0.1, 0.2]),
    }


# ---------------------------------------------------------------------------------------------
# Softmax
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NaiveSoftmax:
    """The result of the textbook softmax, with numpy's floating-point complaints as data."""

    values: np.ndarray
    overflow: bool
    """True when exp() overflowed to inf (so the result holds nan)."""
    problems: tuple[str, ...]
    """Every floating-point error numpy reported, e.g. ("overflow", "invalid value")."""


def softmax_naive(a: Sequence[float] | np.ndarray) -> NaiveSoftmax:
    """y_k = exp(a_k) / sum_i exp(a_i), computed as written: exp(1010) is inf, inf/inf is nan.

    numpy's complaints are collected through ``np.errstate(call=...)`` (per thread, so safe
    under streamlit) instead of being printed as RuntimeWarnings.
    """
    problems: list[str] = []

    def record(kind: str, _flag: int) -> None:
        problems.append(kind)

    a = np.asarray(a, dtype=float)
    with np.errstate(all="call", call=record):
        exp_a = np.exp(a)
        values = exp_a / np.sum(exp_a, axis=-1, keepdims=True)
    problems = list(dict.fromkeys(problems))  # unique, in order
    return NaiveSoftmax(values, any("overflow" in p for p in problems), tuple(problems))


def softmax(a: Sequence[float] | np.ndarray) -> np.ndarray:
    """Stable softmax over the last axis: subtract the max first.

    exp(a_k - C) / sum exp(a_i - C) equals the textbook formula for any C (multiply top and
    bottom by exp(-C)); with C = max(a) the largest exponent is exp(0) = 1, never inf.
    """
    a = np.asarray(a, dtype=float)
    exp_a = np.exp(a - np.max(a, axis=-1, keepdims=True))
    return exp_a / np.sum(exp_a, axis=-1, keepdims=True)


# ---------------------------------------------------------------------------------------------
# The step-by-step trace
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operand:
    """One named input of a step, e.g. ("W1", 2x3 array)."""

    name: str
    value: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)


@dataclass(frozen=True)
class Step:
    """One line of the forward pass: ``output = ...`` with its operands and its result."""

    name: str
    """The line as the page shows it, e.g. "A1 = X·W1 + B1" or "Z1 = sigmoid(A1)"."""
    kind: Literal["affine", "activation"]
    output: str
    """Name of the result, e.g. "A1"."""
    operands: tuple[Operand, ...]
    """affine: (input, W, B); activation: (input,)."""
    result: np.ndarray
    function: str | None = None
    """The activation's name for activation steps."""

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.result.shape)


def layer_count(network: Mapping[str, np.ndarray]) -> int:
    """How many layers W1, W2, ... the network dict holds."""
    numbers = sorted(int(m.group(1)) for k in network if (m := re.fullmatch(r"W(\d+)", k)))
    if not numbers or numbers != list(range(1, len(numbers) + 1)):
        raise ValueError("The network needs weights named W1, W2, ... with no gaps.")
    return len(numbers)


def _as_matrix(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must contain numbers only.") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains an empty cell, nan or inf; every entry needs a number.")
    return arr


def validate_network(network: Mapping[str, object], x) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Check names, numbers and shapes; return float arrays or raise ValueError saying why.

    X is a vector (n,) or a batch (B, n); W_l is (n_{l-1}, n_l); B_l is (n_l,).
    """
    n = layer_count(network)
    x = _as_matrix("X", x)
    if x.ndim not in (1, 2):
        raise ValueError(f"X must be a vector or a batch of rows, not an array of shape {x.shape}.")
    if x.size == 0:
        raise ValueError("X has no rows: add a row (one number per input) to run the network on, "
                         "or press Reset to start again from the note's X.")
    clean: dict[str, np.ndarray] = {}
    width = x.shape[-1]
    prev = "X"
    for l in range(1, n + 1):
        if f"B{l}" not in network:
            raise ValueError(f"B{l} is missing: every W{l} needs a bias B{l}.")
        W = _as_matrix(f"W{l}", network[f"W{l}"])
        B = _as_matrix(f"B{l}", network[f"B{l}"])
        if B.ndim == 2 and 1 in B.shape:  # a one-row or one-column table is still a vector
            B = B.reshape(-1)
        if W.ndim != 2:
            raise ValueError(f"W{l} must be a matrix; it has shape {W.shape}.")
        if W.shape[0] != width:
            raise ValueError(
                f"W{l} has {W.shape[0]} rows but {prev} has {width} columns; "
                f"in {prev}·W{l} these must match."
            )
        if B.shape != (W.shape[1],):
            raise ValueError(
                f"B{l} must be a vector of {W.shape[1]} entries (one per column of W{l}); "
                f"it has shape {B.shape}."
            )
        clean[f"W{l}"], clean[f"B{l}"] = W, B
        width, prev = W.shape[1], f"Z{l}"
    return clean, x


def forward_trace(
    network: Mapping[str, object],
    x=SEED_X,
    output: Literal["identity", "softmax"] = "identity",
    hidden: str = "sigmoid",
) -> list[Step]:
    """Seed 002's ``forward(network, x)``, keeping every intermediate.

    For the seed network: A1 = X·W1 + B1, Z1 = sigmoid(A1), A2 = Z1·W2 + B2,
    Z2 = sigmoid(A2), A3 = Z2·W3 + B3, Y = identity(A3) (or softmax(A3) for classification).
    Raises ValueError with a readable sentence for a bad network or input.
    """
    if output not in ("identity", "softmax"):
        raise ValueError(f"output must be 'identity' or 'softmax', not {output!r}.")
    act = get_activation(hidden)
    net, X = validate_network(network, x)
    n = layer_count(net)
    steps: list[Step] = []
    current, current_name = X, "X"
    for l in range(1, n + 1):
        W, B = net[f"W{l}"], net[f"B{l}"]
        A = np.dot(current, W) + B  # (…, n_{l-1}) · (n_{l-1}, n_l) + (n_l,) -> (…, n_l)
        steps.append(Step(
            f"A{l} = {current_name}·W{l} + B{l}", "affine", f"A{l}",
            (Operand(current_name, current), Operand(f"W{l}", W), Operand(f"B{l}", B)), A,
        ))
        if l < n:
            Z = act.numpy(A)
            steps.append(Step(f"Z{l} = {hidden}(A{l})", "activation", f"Z{l}",
                              (Operand(f"A{l}", A),), Z, hidden))
            current, current_name = Z, f"Z{l}"
        else:
            Y = A.copy() if output == "identity" else softmax(A)
            steps.append(Step(f"Y = {output}(A{l})", "activation", "Y",
                              (Operand(f"A{l}", A),), Y, output))
    return steps


@dataclass(frozen=True)
class CellExplanation:
    """One output cell of an affine step: the row of the input times a column of W, plus b."""

    output: str
    """e.g. "A1"."""
    row: int
    """Which row of the batch (0 for a single vector)."""
    column: int
    """Which output cell j."""
    terms: tuple[tuple[float, float, float], ...]
    """(x_i, W_ij, x_i * W_ij) for every i."""
    bias: float
    total: float
    """sum_i x_i W_ij + b_j: equals the step's result at this cell."""
    text: str
    """The sum with its numbers, e.g. "1×0.1 + 0.5×0.2 + 0.1 = 0.3"."""


def _fmt(v: float) -> str:
    return f"{v:.8g}"


def cell_explanation(step: Step, j: int, row: int = 0) -> CellExplanation:
    """Output cell j of an affine step, as row × column + bias with the numbers filled in."""
    if step.kind != "affine":
        raise ValueError(f"{step.name} is not an affine step; only X·W + B steps have cells to explain.")
    x_op, w_op, b_op = step.operands
    X = np.atleast_2d(x_op.value)
    if not 0 <= j < w_op.value.shape[1]:
        raise ValueError(f"Column {j} does not exist; {step.output} has {w_op.value.shape[1]} columns.")
    if not 0 <= row < X.shape[0]:
        raise ValueError(f"Row {row} does not exist; {x_op.name} has {X.shape[0]} rows.")
    xs, ws = X[row], w_op.value[:, j]
    terms = tuple((float(a), float(w), float(a * w)) for a, w in zip(xs, ws))
    bias = float(b_op.value[j])
    total = float(np.dot(xs, ws) + bias)
    text = " + ".join(f"{_fmt(a)}×{_fmt(w)}" for a, w, _ in terms) + f" + {_fmt(bias)} = {_fmt(total)}"
    return CellExplanation(step.output, row, j, terms, bias, total, text)


# ---------------------------------------------------------------------------------------------
# Batches and real MLPs
# ---------------------------------------------------------------------------------------------


def batch_shapes(batch: int = 100, sizes: Sequence[int] = (784, 50, 100, 10)) -> list[tuple[str, tuple[int, ...]]]:
    """Shape of every array in a forward pass of ``batch`` rows through a ``sizes`` network.

    Seed 002: 784-50-100-10 at batch 100 gives X (100, 784), W1 (784, 50), ..., Y (100, 10).
    The batch dimension rides along untouched; B_l (n_l,) is added to every row (broadcast).
    """
    if batch < 1 or len(sizes) < 2 or any(s < 1 for s in sizes):
        raise ValueError("batch and every layer size must be at least 1, with at least two sizes.")
    n = len(sizes) - 1
    shapes: list[tuple[str, tuple[int, ...]]] = [("X", (batch, sizes[0]))]
    for l in range(1, n + 1):
        shapes += [(f"W{l}", (sizes[l - 1], sizes[l])), (f"B{l}", (sizes[l],)), (f"A{l}", (batch, sizes[l]))]
        shapes.append((f"Z{l}", (batch, sizes[l])) if l < n else ("Y", (batch, sizes[l])))
    return shapes


def mlp_linear_keys(state_dict: Mapping[str, np.ndarray]) -> list[tuple[str, str]]:
    """(weight key, bias key) of every Linear layer, in the state dict's (forward) order."""
    keys = []
    for k, v in state_dict.items():
        if k.endswith(".weight") and np.ndim(v) == 2:
            b = k[: -len("weight")] + "bias"
            keys.append((k, b if b in state_dict else ""))
    if not keys:
        raise ValueError("No Linear layers (2-D '.weight' entries) found in the state dict.")
    return keys


def numpy_forward_mlp(
    state_dict_numpy: Mapping[str, np.ndarray],
    activations: str | Sequence[str],
    x: np.ndarray,
) -> list[tuple[str, np.ndarray]]:
    """Run an nnplay MLP's forward pass in numpy; return every intermediate, in order.

    ``state_dict_numpy`` maps torch's names (``lin_1.weight`` ...) to arrays, ``activations``
    is one name for every hidden layer or one per hidden layer (as ``ModelConfig``), and x is
    (B, 784) or (B, 1, 28, 28) floats (pixels / 255). Returns [("X", ...), ("A1", ...),
    ("Z1", ...), ..., ("A_last", logits)]; dropout does nothing at evaluation time.

    torch's nn.Linear stores its weight as (out, in) and computes x @ W.T + b, the transpose
    of seed 002's (in, out) convention; so here each layer is A = Z · W.T + b.
    """
    keys = mlp_linear_keys(state_dict_numpy)
    n_hidden = len(keys) - 1
    names = [activations] * n_hidden if isinstance(activations, str) else list(activations)
    if len(names) != n_hidden:
        raise ValueError(f"The MLP has {n_hidden} hidden layers but {len(names)} activations were given.")
    acts = [get_activation(a) for a in names]

    Z = np.asarray(x, dtype=np.float64)
    Z = Z.reshape(Z.shape[0], -1)  # flatten (B, 1, 28, 28) -> (B, 784), as nn.Flatten
    trace: list[tuple[str, np.ndarray]] = [("X", Z)]
    for l, (wk, bk) in enumerate(keys, start=1):
        W = np.asarray(state_dict_numpy[wk], dtype=np.float64)  # (out, in)
        b = np.asarray(state_dict_numpy[bk], dtype=np.float64) if bk else 0.0
        if W.shape[1] != Z.shape[1]:
            raise ValueError(f"{wk} expects {W.shape[1]} inputs but receives {Z.shape[1]}.")
        A = Z @ W.T + b  # (B, in) · (in, out) + (out,) -> (B, out)
        trace.append((f"A{l}", A))
        if l <= n_hidden:
            Z = acts[l - 1].numpy(A)
            trace.append((f"Z{l}", Z))
    return trace


@dataclass(frozen=True)
class ForwardComparison:
    """numpy's forward pass next to torch's on the same inputs."""

    trace: list[tuple[str, np.ndarray]]
    numpy_logits: np.ndarray
    torch_logits: np.ndarray
    max_abs_diff: float


def compare_with_torch(model, activations: str | Sequence[str], x) -> ForwardComparison:
    """Run ``model`` (an nnplay MLP) in torch and in numpy on x (float (B, 1, 28, 28))."""
    import torch

    from ..models import evaluating

    params = next(model.parameters())
    state = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    x_t = torch.as_tensor(x).to(device=params.device, dtype=params.dtype)
    with evaluating(model), torch.inference_mode():  # dropout off, as in numpy_forward_mlp
        torch_logits = model(x_t).detach().cpu().numpy().astype(np.float64)
    trace = numpy_forward_mlp(state, activations, x_t.cpu().numpy())
    numpy_logits = trace[-1][1]
    return ForwardComparison(trace, numpy_logits, torch_logits,
                             float(np.abs(numpy_logits - torch_logits).max()))
