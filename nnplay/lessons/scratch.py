"""Seed 004's ladder: one tiny regression written six ways, from numpy to nn.Module.

The problem (seed 004): N = 64 samples with Din = 4 features, Dout = 2 targets, all random
normal; a linear model y_pred = x·w, 5000 steps of learning rate 1e-6.

The six versions, each a function here and each with the seed's code (cleaned) to display:
  1. numpy, gradient by hand            4. nn.Sequential(nn.Linear), update by hand
  2. torch tensors, gradient by hand     5. the same with torch.optim (Adam in the seed)
  3. torch autograd (loss.backward())    6. an nn.Module subclass with the optimiser

Every version starts from the same data and weights (``make_problem``), in float64. Run with
``recipe=None`` a version does what the seed's code does (``SEED_RECIPES``: versions 1-3 use
0.5 * sum of squares and no bias, 4-6 add a bias and use mse_loss (mean), 5-6 use Adam); run
with one shared ``Recipe`` every version does the same math and the six loss curves agree to
rounding (``agreement`` checks it, and ``diverged`` says when a rate was too large to compare).
``SEED_DIFFERENCES`` says what changes between versions and what it does to the curve;
``Version.code_for`` shows a version's code with the rate and steps actually run (the code itself, its
fixes and differences: ``scratch_code``). What does not live here: MNIST, plotting (``nnplay.figures.teach``), streamlit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np
import torch
import torch.nn.functional as F

from .scratch_code import CODE_1, CODE_2, CODE_3, CODE_4, CODE_5, CODE_6, SEED_DIFFERENCES, SEED_FIXES, SeedDifference, SeedFix  # noqa: F401 - re-exported

N, DIN, DOUT = 64, 4, 2
STEPS = 5000
SEED_LR = 1e-6


@dataclass(frozen=True)
class ScratchProblem:
    """The data and the starting weights every version receives."""

    x: np.ndarray
    """(N, Din) inputs."""
    y: np.ndarray
    """(N, Dout) targets."""
    w: np.ndarray
    """(Din, Dout) initial weights (seed 002/004 layout: y_pred = x·w)."""
    b: np.ndarray
    """(Dout,) initial bias, zeros, used by the versions that have one."""


def make_problem(seed: int = 0, n: int = N, din: int = DIN, dout: int = DOUT) -> ScratchProblem:
    """Random normal x, y and w as in the seed (``np.random.randn``), from one seeded RNG."""
    if min(n, din, dout) < 1:
        raise ValueError("N, Din and Dout must each be at least 1.")
    rng = np.random.default_rng(seed)
    return ScratchProblem(
        x=rng.standard_normal((n, din)),
        y=rng.standard_normal((n, dout)),
        w=rng.standard_normal((din, dout)),
        b=np.zeros(dout),
    )


@dataclass(frozen=True)
class Recipe:
    """The math a version does: model, loss and update rule."""

    bias: bool = False
    """y_pred = x·w (+ b)."""
    loss: Literal["half_sum", "mean"] = "half_sum"
    """"half_sum": 0.5 * sum of squared errors (seed versions 1-3);
    "mean": mean of squared errors, torch's ``mse_loss`` (seed versions 4-6)."""
    optimizer: Literal["sgd", "adam"] = "sgd"
    """"sgd": w -= lr * grad (plain gradient descent); "adam": torch.optim.Adam."""

    def __post_init__(self) -> None:
        if self.loss not in ("half_sum", "mean"):
            raise ValueError(f"loss must be 'half_sum' or 'mean', not {self.loss!r}.")
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', not {self.optimizer!r}.")

    @property
    def label(self) -> str:
        loss = "0.5·sum of squares" if self.loss == "half_sum" else "mse_loss (mean)"
        model = "x·w + b" if self.bias else "x·w"
        opt = "gradient descent" if self.optimizer == "sgd" else "Adam"
        return f"{model}, {loss}, {opt}"


SEED_RECIPES: dict[int, Recipe] = {
    1: Recipe(bias=False, loss="half_sum", optimizer="sgd"),
    2: Recipe(bias=False, loss="half_sum", optimizer="sgd"),
    3: Recipe(bias=False, loss="half_sum", optimizer="sgd"),
    4: Recipe(bias=True, loss="mean", optimizer="sgd"),
    5: Recipe(bias=True, loss="mean", optimizer="adam"),
    6: Recipe(bias=True, loss="mean", optimizer="adam"),
}
SAME_MATH = Recipe(bias=False, loss="half_sum", optimizer="sgd")
"""The default shared recipe: seed version 1's math."""


# ---------------------------------------------------------------------------------------------
# The six versions. Each returns the loss at every step (measured before that step's update).
# ---------------------------------------------------------------------------------------------


def _hand_updated(version: int, recipe: Recipe) -> None:
    if recipe.optimizer != "sgd":
        raise ValueError(
            f"Version {version} updates the weights by hand (w -= lr * grad): it can only do "
            "plain gradient descent, not Adam."
        )


def version_1_numpy(p: ScratchProblem, recipe: Recipe, steps: int, lr: float) -> list[float]:
    """numpy; the gradient written out by hand."""
    _hand_updated(1, recipe)
    x, y = p.x, p.y
    w, b = p.w.copy(), p.b.copy()
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):  # a too-large lr diverges: inf is data here
        for _ in range(steps):
            y_pred = np.matmul(x, w) + (b if recipe.bias else 0.0)  # (N, Dout)
            err = y_pred - y
            if recipe.loss == "half_sum":
                loss = (0.5 * err**2).sum()
                grad_y_pred = err  # d(0.5 e^2)/de = e
            else:
                loss = (err**2).mean()
                grad_y_pred = 2.0 * err / err.size  # d(mean e^2)/de = 2e / (N Dout)
            grad_w = np.matmul(x.T, grad_y_pred)  # chain rule through y_pred = x·w: (Din, Dout)
            w -= lr * grad_w
            if recipe.bias:
                b -= lr * grad_y_pred.sum(axis=0)  # b is added to every row: sum the rows' grads
            losses.append(float(loss))
    return losses


def _tensor(a: np.ndarray, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad)


def version_2_torch_manual(p: ScratchProblem, recipe: Recipe, steps: int, lr: float) -> list[float]:
    """torch tensors instead of numpy arrays; still the gradient by hand."""
    _hand_updated(2, recipe)
    x, y, w, b = _tensor(p.x), _tensor(p.y), _tensor(p.w), _tensor(p.b)
    losses = []
    for _ in range(steps):
        y_pred = x.mm(w) + (b if recipe.bias else 0.0)
        err = y_pred - y
        if recipe.loss == "half_sum":
            loss = 0.5 * err.pow(2).sum()
            grad_y_pred = err
        else:
            loss = err.pow(2).mean()
            grad_y_pred = 2.0 * err / err.numel()
        grad_w = x.t().mm(grad_y_pred)
        w -= lr * grad_w
        if recipe.bias:
            b -= lr * grad_y_pred.sum(dim=0)
        losses.append(loss.item())
    return losses


def _loss(y_pred: torch.Tensor, y: torch.Tensor, recipe: Recipe) -> torch.Tensor:
    if recipe.loss == "half_sum":
        return 0.5 * (y_pred - y).pow(2).sum()
    return F.mse_loss(y_pred, y)


def version_3_autograd(p: ScratchProblem, recipe: Recipe, steps: int, lr: float) -> list[float]:
    """torch autograd: loss.backward() fills w.grad; the update is still by hand."""
    _hand_updated(3, recipe)
    x, y = _tensor(p.x), _tensor(p.y)
    w, b = _tensor(p.w, requires_grad=True), _tensor(p.b, requires_grad=recipe.bias)
    params = [w, b] if recipe.bias else [w]
    losses = []
    for _ in range(steps):
        y_pred = x.mm(w) + (b if recipe.bias else 0.0)
        loss = _loss(y_pred, y, recipe)
        loss.backward()
        with torch.no_grad():  # the update itself must not be recorded in the graph
            for param in params:
                param -= lr * param.grad
                param.grad.zero_()  # backward() adds to .grad; start the next step from 0
        losses.append(loss.item())
    return losses


def _linear(p: ScratchProblem, recipe: Recipe) -> torch.nn.Linear:
    """nn.Linear holding the problem's starting weights.

    nn.Linear computes x @ weight.T + bias and stores weight as (Dout, Din), the transpose of
    the seed's w (Din, Dout); so weight = w.T gives the same y_pred.
    """
    lin = torch.nn.Linear(p.x.shape[1], p.y.shape[1], bias=recipe.bias, dtype=torch.float64)
    with torch.no_grad():
        lin.weight.copy_(_tensor(p.w).T)
        if recipe.bias:
            lin.bias.copy_(_tensor(p.b))
    return lin


def _optimizer(model: torch.nn.Module, recipe: Recipe, lr: float) -> torch.optim.Optimizer:
    if recipe.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr)
    return torch.optim.SGD(model.parameters(), lr=lr)


def version_4_sequential(p: ScratchProblem, recipe: Recipe, steps: int, lr: float) -> list[float]:
    """nn.Sequential(nn.Linear): the layer owns its weights; the update is still by hand."""
    _hand_updated(4, recipe)
    x, y = _tensor(p.x), _tensor(p.y)
    model = torch.nn.Sequential(_linear(p, recipe))
    losses = []
    for _ in range(steps):
        loss = _loss(model(x), y, recipe)
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= lr * param.grad
        model.zero_grad()
        losses.append(loss.item())
    return losses


def _train_with_optimizer(model, p: ScratchProblem, recipe: Recipe, steps: int, lr: float) -> list[float]:
    x, y = _tensor(p.x), _tensor(p.y)
    optimizer = _optimizer(model, recipe, lr)
    losses = []
    for _ in range(steps):
        loss = _loss(model(x), y, recipe)
        loss.backward()
        optimizer.step()  # the optimiser does the update (SGD: param -= lr * grad)
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses


def version_5_optimizer(p: ScratchProblem, recipe: Recipe, steps: int, lr: float) -> list[float]:
    """nn.Sequential and torch.optim: optimizer.step() replaces the hand-written update."""
    return _train_with_optimizer(torch.nn.Sequential(_linear(p, recipe)), p, recipe, steps, lr)


class MyOneLayerNet(torch.nn.Module):
    """Seed 004's own model class: one Linear layer."""

    def __init__(self, linear: torch.nn.Linear):
        super().__init__()
        self.linear = linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


def version_6_module(p: ScratchProblem, recipe: Recipe, steps: int, lr: float) -> list[float]:
    """A subclass of nn.Module (what larger models are written as) with the optimiser."""
    return _train_with_optimizer(MyOneLayerNet(_linear(p, recipe)), p, recipe, steps, lr)


@dataclass(frozen=True)
class Version:
    """One rung of the ladder."""

    number: int
    title: str
    run: Callable[[ScratchProblem, Recipe, int, float], list[float]]
    code: str
    """The seed's code for this version, cleaned (typos fixed, loss recorded), runnable."""
    short: str
    """The title in a word or two: a tab's label (six full titles do not fit in one row of tabs)."""

    @property
    def seed_recipe(self) -> Recipe:
        return SEED_RECIPES[self.number]

    def code_for(self, lr: float = SEED_LR, steps: int = STEPS) -> str:
        """``code`` with the learning rate and the number of steps the page actually ran (the seed's
        code writes its rate as 1e-6; the seed's own rate and steps give ``code`` unchanged)."""
        rate = "1e-6" if lr == SEED_LR else f"{lr:.6g}"
        return (self.code.replace("lr = 1e-6", f"lr = {rate}").replace("lr=1e-6", f"lr={rate}")
                .replace(f"range({STEPS})", f"range({int(steps)})"))


VERSIONS: dict[int, Version] = {
    1: Version(1, "numpy, gradient by hand", version_1_numpy, CODE_1, "numpy"),
    2: Version(2, "torch tensors, gradient by hand", version_2_torch_manual, CODE_2, "torch by hand"),
    3: Version(3, "torch autograd", version_3_autograd, CODE_3, "autograd"),
    4: Version(4, "nn.Sequential, update by hand", version_4_sequential, CODE_4, "Sequential"),
    5: Version(5, "nn.Sequential + optimiser", version_5_optimizer, CODE_5, "optimiser"),
    6: Version(6, "nn.Module + optimiser", version_6_module, CODE_6, "nn.Module"),
}


# ---------------------------------------------------------------------------------------------
# Running the ladder and reading the curves
# ---------------------------------------------------------------------------------------------


def run_version(
    number: int,
    problem: ScratchProblem,
    steps: int = STEPS,
    lr: float = SEED_LR,
    recipe: Recipe | None = None,
) -> list[float]:
    """Loss curve of one version; ``recipe=None`` means the seed's own math for it."""
    if number not in VERSIONS:
        raise ValueError(f"There is no version {number}; the versions are 1 to {len(VERSIONS)}.")
    if steps < 1:
        raise ValueError("steps must be at least 1.")
    if not lr > 0:
        raise ValueError("The learning rate must be a positive number.")
    version = VERSIONS[number]
    return version.run(problem, recipe or version.seed_recipe, steps, lr)


def run_ladder(
    problem: ScratchProblem,
    steps: int = STEPS,
    lr: float = SEED_LR,
    same_math: Recipe | None = None,
    versions: tuple[int, ...] = tuple(VERSIONS),
) -> dict[int, list[float]]:
    """Loss curves of several versions: each its seed math, or all ``same_math``."""
    if same_math is not None and same_math.optimizer != "sgd":
        raise ValueError("The same-math comparison uses plain gradient descent (optimizer='sgd').")
    return {n: run_version(n, problem, steps, lr, same_math) for n in versions}


@functools.lru_cache(maxsize=128)
def cached_curve(number: int, seed: int, steps: int = STEPS, lr: float = SEED_LR,
                 recipe: Recipe | None = None) -> tuple[float, ...]:
    """``run_version`` on ``make_problem(seed)``, remembered for the process: a curve depends on
    nothing else, and 5000 torch steps take a second."""
    return tuple(run_version(number, make_problem(seed), steps, lr, recipe))


def diverged(curve: list[float]) -> bool:
    """The loss left the floats (inf or nan) or ended above where it started: the rate is too large."""
    values = np.asarray(curve, dtype=float)
    return bool(len(values)) and (not np.all(np.isfinite(values)) or values[-1] > values[0])


@dataclass(frozen=True)
class Agreement:
    """How far the six versions' curves are from version 1's, when they all do the same math."""

    diverged: tuple[int, ...]
    """Versions whose loss diverged (see ``diverged``): no agreement can be read from them."""
    gap: float
    """Largest |loss − version 1's loss| at any step, over the versions that did not diverge."""
    relative_gap: float
    """``gap`` divided by the size of version 1's loss at that step."""

    @property
    def agree(self) -> bool:
        """All converging and equal up to float64 rounding (relative gap at most 1e-9)."""
        return not self.diverged and self.relative_gap <= 1e-9


def agreement(curves: dict[int, list[float]]) -> Agreement:
    """Compare every curve with version 1's (``curves`` maps version → loss per step)."""
    bad = tuple(n for n, c in curves.items() if diverged(c))
    ref = np.asarray(curves[min(curves)], dtype=float)
    gap = relative = 0.0
    if min(curves) not in bad:
        for n, c in curves.items():
            if n in bad:
                continue
            diff = np.abs(np.asarray(c, dtype=float) - ref)
            gap = max(gap, float(diff.max(initial=0.0)))
            relative = max(relative, float((diff / np.maximum(np.abs(ref), 1e-300)).max(initial=0.0)))
    return Agreement(bad, gap, relative)


def relative_drop(curve: list[float]) -> float:
    """(first loss - last loss) / first loss: 0.5 means the loss halved."""
    if not curve or curve[0] == 0:
        return 0.0
    return (curve[0] - curve[-1]) / curve[0]


def visible_progress(curve: list[float], threshold: float = 0.01) -> bool:
    """Did the loss drop by at least ``threshold`` (1%) of its start over the whole curve?"""
    return bool(np.isfinite(curve[-1])) and relative_drop(curve) >= threshold


def suggested_lr(recipe: Recipe) -> float:
    """A learning rate that makes visible progress on this problem in a few hundred steps.

    Sum loss: the gradient grows with N (64 rows summed), and steps are stable while
    lr < 2 / (largest eigenvalue of x^T x ≈ 100), so 1e-2. Mean loss divides that gradient by
    N·Dout / 2 = 64, so 1e-1. Adam's step is about lr whatever the gradient, so 1e-2.
    """
    if recipe.optimizer == "adam":
        return 1e-2
    return 1e-2 if recipe.loss == "half_sum" else 1e-1
