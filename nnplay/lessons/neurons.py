"""Inside a trained network: every neuron's activation for one digit, which neurons matter, what one
neuron looks for and votes for, and a fixed probe set of test digits to watch a run learn.

What lives here (numpy/torch, headless, no figures):
- ``mlp_activation_names`` / ``mlp_forward``: an nnplay MLP's activations for one digit, layer by
  layer, computed in numpy from the model's weights (``nnplay.lessons.forward.numpy_forward_mlp``);
- ``neuron_importance`` / ``shown_neurons``: which neurons of a wide layer a view shows, a page
  of at most 64 at a time;
- ``incoming_weights``, ``votes``, ``hidden_activations``, ``top_exciting`` (``top_exciting_all``): one hidden neuron's
  incoming weights, what it votes for among the 10 classes, and the test images that excite it most;
- ``probe_set`` / ``probe_predictions``: 16 fixed test digits (one typical per class and 6
  atypical ones, chosen from the images alone) and the model's answer on each.
What does not live here: the pictures (``nnplay.figures.network``), widgets, training.

Layers are numbered as the model names them: hidden layer ``l`` is ``lin_l`` followed by ``act_l``
(1-based, as in seed 000); neuron indices are 0-based, as numpy's. With batch norm (``bn_l`` between
them) the weights and biases shown are the effective ones, the batch norm folded in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..data import normalise
from ..models import ACTIVATION_MODULES, evaluating, folded_linear
from .forward import numpy_forward_mlp

MAX_SHOWN = 64
"""A view shows at most this many neurons of a layer at once."""


def linear_layers(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    """The model's Linear children in order (an MLP: lin_1 … lin_n; a CNN: fc_1, fc_2)."""
    return [(name, m) for name, m in model.named_children() if isinstance(m, nn.Linear)]


def is_mlp(model: nn.Module) -> bool:
    """True for an nnplay MLP: Linear layers only, the first reading the 784 pixels."""
    if any(isinstance(m, nn.Conv2d) for m in model.modules()):
        return False
    layers = linear_layers(model)
    return bool(layers) and layers[0][1].in_features == 28 * 28


def _require_mlp(model: nn.Module) -> None:
    if not is_mlp(model):
        raise ValueError("This works on an MLP (Linear layers reading the 784 pixels); this model is a CNN.")


def mlp_activation_names(model: nn.Module) -> list[str]:
    """The hidden layers' activation names ("relu", ...) read from the model's own modules."""
    _require_mlp(model)
    by_class = {cls: name for name, cls in ACTIVATION_MODULES.items()}
    names = []
    for name, module in model.named_children():
        if name.startswith("act_"):
            if type(module) not in by_class:
                raise ValueError(f"{name} is a {type(module).__name__}, which nnplay's numpy pass does not know.")
            names.append(by_class[type(module)])
    return names


def weights_numpy(model: nn.Module) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, weight (out, in), bias (out,)) of every Linear layer, float64 numpy on the CPU; a batch norm after
    a layer is folded into its weight and bias as eval mode computes it (``models.folded_linear``)."""
    return [(name, w.double().numpy(), b.double().numpy()) for name, w, b in folded_linear(model)]


def pixels(image_u8) -> np.ndarray:
    """A uint8 (28, 28) digit as the model's input row: float64 (784,), pixels / 255."""
    img = np.asarray(image_u8)
    if img.shape != (28, 28):
        raise ValueError(f"A digit is a 28×28 image; this one has shape {img.shape}.")
    return img.astype(np.float64).reshape(-1) / 255.0


@dataclass(frozen=True)
class MlpPass:
    """One digit through an MLP, every layer's values in numpy."""

    values: list[np.ndarray]
    """[input (784,), hidden 1 after its activation, …, output probabilities (10,)]."""
    logits: np.ndarray
    """(10,) the last layer's outputs before softmax."""


def mlp_forward(model: nn.Module, image_u8) -> MlpPass:
    """The numpy forward pass of an nnplay MLP on one uint8 (28, 28) digit (dropout off)."""
    state = {f"{name}.{kind}": arr for name, w, b in weights_numpy(model) for kind, arr in (("weight", w), ("bias", b))}
    trace = numpy_forward_mlp(state, mlp_activation_names(model), pixels(image_u8)[None])
    values = [trace[0][1][0]] + [arr[0] for name, arr in trace if name.startswith("Z")]
    logits = trace[-1][1][0]
    e = np.exp(logits - logits.max())
    return MlpPass(values + [e / e.sum()], logits)


def neuron_importance(model: nn.Module, layer: int, values: np.ndarray | None = None) -> np.ndarray:
    """How much each neuron of hidden layer ``layer`` (1-based) matters for what is shown: its
    |activation| for the current digit when ``values`` is given, else the norm of its outgoing
    weights (how loudly it can speak to the next layer)."""
    if values is not None:
        return np.abs(np.asarray(values, dtype=np.float64))
    layers = weights_numpy(model)
    if not 1 <= layer < len(layers):
        raise ValueError(f"Hidden layer {layer} does not exist; this model has {len(layers) - 1}.")
    return np.linalg.norm(layers[layer][1], axis=0)  # columns of the next layer's (out, in) weight


def shown_neurons(importance: np.ndarray, page: int = 0, max_shown: int = MAX_SHOWN) -> np.ndarray:
    """The indices a view shows: all of them when there are at most ``max_shown``, else page
    ``page`` of the neurons ranked by importance (page 0: the ``max_shown`` most important), in
    index order so that a neuron keeps its place. A page past the end wraps around."""
    n = len(importance)
    if n <= max_shown:
        return np.arange(n)
    pages = -(-n // max_shown)
    page = page % pages
    ranked = np.argsort(-np.asarray(importance), kind="stable")
    return np.sort(ranked[page * max_shown:(page + 1) * max_shown])


def page_count(n: int, max_shown: int = MAX_SHOWN) -> int:
    """How many pages of ``max_shown`` a layer of ``n`` neurons takes."""
    return max(1, -(-n // max_shown))


# ---------------------------------------------------------------------------------------------
# one hidden neuron


def _check_neuron(model: nn.Module, layer: int, index: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    _require_mlp(model)
    layers = weights_numpy(model)
    if not 1 <= layer < len(layers):
        raise ValueError(f"Hidden layer {layer} does not exist; this model has {len(layers) - 1} hidden layers.")
    width = layers[layer - 1][1].shape[0]
    if not 0 <= index < width:
        raise ValueError(f"Neuron {index} does not exist; hidden layer {layer} has neurons 0 to {width - 1}.")
    return layers


def incoming_weights(model: nn.Module, layer: int, index: int) -> np.ndarray:
    """The weights into one hidden neuron: a (28, 28) image for the first layer (one weight per
    pixel), else a vector over the previous layer's neurons."""
    w = _check_neuron(model, layer, index)[layer - 1][1][index]
    return w.reshape(28, 28) if layer == 1 else w


def votes(model: nn.Module, layer: int, index: int) -> np.ndarray:
    """What one hidden neuron votes for: (10,) how much one unit more of its activation adds to
    each class's logit. For the last hidden layer this is exactly its outgoing weights; for an
    earlier one, the product of the later layers' weights (the path through them, activations
    taken as straight lines), so read it as a rough vote."""
    layers = _check_neuron(model, layer, index)
    v = np.zeros(layers[layer - 1][1].shape[0])
    v[index] = 1.0
    for _, w, _ in layers[layer:]:
        v = w @ v
    return v


def hidden_activations(model: nn.Module, layer: int, images_u8, batch: int = 2048) -> np.ndarray:
    """Every hidden neuron's activation of hidden layer ``layer`` on many digits: float64 (N, width),
    torch in batches on the model's device, eval mode."""
    _check_neuron(model, layer, 0)
    images = torch.as_tensor(np.asarray(images_u8) if not isinstance(images_u8, torch.Tensor) else images_u8)
    device = next(model.parameters()).device
    stop = f"act_{layer}"
    out = []
    with evaluating(model):
        with torch.inference_mode():
            for start in range(0, len(images), batch):
                x = normalise(images[start:start + batch].to(torch.uint8)).to(device)
                for name, module in model.named_children():
                    x = module(x)
                    if name == stop:
                        break
                out.append(x.double().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))


def top_exciting(model: nn.Module, layer: int, index: int, images_u8, k: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` images that excite one hidden neuron most: (indices into ``images_u8``, their
    activations), highest first (ties: the lower index first)."""
    acts = hidden_activations(model, layer, images_u8)[:, index]
    order = np.argsort(-acts, kind="stable")[:k]
    return order, acts[order]


def top_exciting_all(model: nn.Module, layer: int, images_u8, k: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """``top_exciting`` for every neuron of hidden layer ``layer`` in one pass: (indices (k, width), activations
    (k, width)), column j being neuron j's (the same order and ties). A page that shows one neuron at a time
    keeps these few numbers per layer instead of passing over the images for each neuron."""
    acts = hidden_activations(model, layer, images_u8)
    order = np.argsort(-acts, axis=0, kind="stable")[:k]
    return order, np.take_along_axis(acts, order, axis=0)


# ---------------------------------------------------------------------------------------------
# the probe set: 16 fixed test digits to watch a run learn


PROBES = 16
"""10 typical digits (one per class) and 6 atypical ones."""


@dataclass(frozen=True)
class Probes:
    """Fixed test digits to watch a model learn: the same ones for every run."""

    indices: np.ndarray
    """(16,) indices into the test split."""
    images: np.ndarray
    """uint8 (16, 28, 28)."""
    labels: np.ndarray
    """(16,) int."""
    kinds: tuple[str, ...]
    """"typical" or "hard" per digit."""


def probe_set(images_u8, labels, n_hard: int = PROBES - 10) -> Probes:
    """Choose the probe digits from the images alone (no model, so every run sees the same ones):
    for each class the digit closest to its class's mean image (typical), then ``n_hard`` digits
    farthest from their class's mean, one per class, from the classes whose farthest digit is
    farthest (hard: odd strokes, thick or slanted writing). Deterministic."""
    x = np.asarray(images_u8, dtype=np.float32).reshape(len(images_u8), -1) / 255.0
    y = np.asarray(labels).astype(int)
    classes = np.unique(y)
    if len(classes) < 10:
        raise ValueError(f"The probe set needs digits of all 10 classes; these images hold {len(classes)}.")
    if not 0 <= n_hard <= 10:
        raise ValueError(f"n_hard must be between 0 and 10, got {n_hard}.")
    typical, hard, hard_dist = [], [], []
    for c in classes:
        members = np.flatnonzero(y == c)
        d = np.linalg.norm(x[members] - x[members].mean(axis=0), axis=1)
        typical.append(int(members[np.argmin(d)]))
        hard.append(int(members[np.argmax(d)]))
        hard_dist.append(float(d.max()))
    hardest = [hard[i] for i in np.argsort(-np.array(hard_dist), kind="stable")[:n_hard]]
    indices = np.array(typical + hardest)
    return Probes(indices, np.asarray(images_u8)[indices].astype(np.uint8), y[indices],
                  ("typical",) * len(typical) + ("hard",) * len(hardest))


def probe_predictions(model: nn.Module, probes: Probes) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class (16,), its probability (16,)) of ``model`` on the probe digits, eval mode."""
    device = next(model.parameters()).device
    with evaluating(model):
        with torch.inference_mode():
            logits = model(normalise(torch.from_numpy(probes.images)).to(device)).float()
            p = torch.softmax(logits, dim=1).cpu().numpy()
    predicted = p.argmax(axis=1)
    return predicted, p[np.arange(len(p)), predicted]
