"""Note 004's code, cleaned, for display: the six versions' code, the mistakes the note's code has and how the
shown code fixes them (``SEED_FIXES``), and what changes from one version to the next (``SEED_DIFFERENCES``).

Text only: running the versions and reading their curves lives in ``lessons.scratch``.
"""

from __future__ import annotations

from dataclasses import dataclass


_DATA_TORCH = '''import torch

device = torch.device("cpu")
N, Din, Dout = 64, 4, 2

# data loading
x = torch.randn(N, Din, device=device)
y = torch.randn(N, Dout, device=device)
'''

CODE_1 = '''import numpy as np

# N: number of samples, Din: number of features, Dout: number of outputs (labels)
N, Din, Dout = 64, 4, 2

x = np.random.randn(N, Din)
y = np.random.randn(N, Dout)
w = np.random.randn(Din, Dout)
lr = 1e-6

losses = []
for t in range(5000):
    # forward: the predictions
    y_pred = np.matmul(x, w)
    # loss: half the sum of squared errors
    loss = (0.5 * (y_pred - y) ** 2).sum()
    losses.append(loss)

    # gradient by hand: dL/dy_pred = y_pred - y, dL/dw = x^T (y_pred - y)
    grad_y_pred = y_pred - y
    grad_w = np.matmul(np.transpose(x), grad_y_pred)  # the seed has a typo: np.matnul
    # gradient descent
    w -= lr * grad_w
'''

CODE_2 = _DATA_TORCH + '''w = torch.randn(Din, Dout, device=device)

lr = 1e-6
losses = []
# training
for t in range(5000):
    # forward
    y_pred = x.mm(w)
    # loss
    loss = 0.5 * (y_pred - y).pow(2).sum()
    losses.append(loss.item())
    # gradient by hand
    grad_y_pred = y_pred - y
    grad_w = x.t().mm(grad_y_pred)
    # gradient descent
    w -= lr * grad_w  # the seed has grad_W: Python names are case-sensitive
'''

CODE_3 = _DATA_TORCH + '''# requires_grad=True asks autograd to track w (the seed leaves it out, so w.grad stays None)
w = torch.randn(Din, Dout, device=device, requires_grad=True)

lr = 1e-6
losses = []
for t in range(5000):
    # forward
    y_pred = x.mm(w)
    # loss
    loss = 0.5 * (y_pred - y).pow(2).sum()
    losses.append(loss.item())
    # gradient: autograd fills w.grad
    loss.backward()
    # gradient descent, outside the graph
    with torch.no_grad():
        w -= lr * w.grad
        # reset: backward() adds to w.grad
        w.grad.zero_()
'''

CODE_4 = _DATA_TORCH + '''# Sequential stacks layers; no w is declared because the Linear layer's weight plays its role
model = torch.nn.Sequential(
    torch.nn.Linear(Din, Dout))
lr = 1e-6

losses = []
for t in range(5000):
    y_pred = model(x)
    loss = torch.nn.functional.mse_loss(y_pred, y)
    losses.append(loss.item())

    loss.backward()

    with torch.no_grad():  # the seed is missing this colon
        for param in model.parameters():
            param -= lr * param.grad
    model.zero_grad()
'''

CODE_5 = _DATA_TORCH + '''model = torch.nn.Sequential(
    torch.nn.Linear(Din, Dout))
lr = 1e-6
# the optimiser
optimizer = torch.optim.Adam(model.parameters(), lr=lr)

losses = []
for t in range(5000):
    y_pred = model(x)
    loss = torch.nn.functional.mse_loss(y_pred, y)
    losses.append(loss.item())

    loss.backward()
    # the optimiser does the gradient-descent update
    optimizer.step()
    # reset
    optimizer.zero_grad()
'''

CODE_6 = '''import torch

device = torch.device("cpu")


# subclass nn.Module (for models too complex for Sequential)
class MyOneLayerNet(torch.nn.Module):
    def __init__(self, Din, Dout):
        super(MyOneLayerNet, self).__init__()
        self.linear = torch.nn.Linear(Din, Dout)

    def forward(self, x):
        y_pred = self.linear(x)
        return y_pred


N, Din, Dout = 64, 4, 2

x = torch.randn(N, Din, device=device)
y = torch.randn(N, Dout, device=device)

model = MyOneLayerNet(Din, Dout)
# the optimiser
optimizer = torch.optim.Adam(model.parameters(), lr=1e-6)

losses = []
for t in range(5000):
    y_pred = model(x)
    loss = torch.nn.functional.mse_loss(y_pred, y)
    losses.append(loss.item())

    loss.backward()
    # the optimiser does the gradient-descent update
    optimizer.step()
    # reset
    optimizer.zero_grad()
'''


@dataclass(frozen=True)
class SeedFix:
    """A mistake in the seed's code and how the displayed code fixes it."""

    version: int
    seed_text: str
    fixed_text: str
    why: str


SEED_FIXES: list[SeedFix] = [
    SeedFix(1, "np.matnul(...)", "np.matmul(...)", "Typo: numpy has no matnul."),
    SeedFix(2, "w-=lr*grad_W", "w -= lr * grad_w", "Python names are case-sensitive; grad_W is undefined."),
    SeedFix(3, "w = torch.randn(Din, Dout)", "w = torch.randn(Din, Dout, requires_grad=True)",
            "Without requires_grad autograd does not track w, so w.grad is None."),
    SeedFix(4, "with torch.no_grad()", "with torch.no_grad():", "A with statement needs its colon."),
]


@dataclass(frozen=True)
class SeedDifference:
    """What the seed changes from one version to the next, and what that does to the curve."""

    from_version: int
    to_version: int
    change: str
    effect: str
    changes_curve: bool
    """With the same data and starting weights, does the loss curve change?"""


SEED_DIFFERENCES: list[SeedDifference] = [
    SeedDifference(
        1, 2, "numpy arrays become torch tensors (np.matmul → x.mm, .T → .t()).",
        "None: the same arithmetic, so the same curve.", False,
    ),
    SeedDifference(
        2, 3, "The hand-written gradient is replaced by autograd (loss.backward(), w.grad).",
        "None: autograd computes the same x^T (y_pred - y).", False,
    ),
    SeedDifference(
        3, 4,
        "w becomes nn.Linear(Din, Dout): the model gains a bias b; the loss changes from "
        "0.5 * sum of squares to mse_loss, the mean over N·Dout = 128 numbers.",
        "The loss is read on another scale (mean = half-sum / 64 when b = 0), and the "
        "gradients are 64 times smaller, so with the same lr progress is 64 times slower. "
        "(The note's nn.Linear also draws its own random weights; here all versions start "
        "from the same w and b = 0.)",
        True,
    ),
    SeedDifference(
        4, 5, "The hand-written update is replaced by torch.optim.Adam.",
        "Adam moves each weight by about lr per step whatever the gradient's size, so the "
        "curve differs from plain gradient descent; at lr = 1e-6 a weight moves at most "
        "about 0.005 in 5000 steps.",
        True,
    ),
    SeedDifference(
        5, 6, "nn.Sequential is replaced by a subclass of nn.Module (MyOneLayerNet).",
        "None: the same layer, loss and optimiser, so the same curve.", False,
    ),
]
