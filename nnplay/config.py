"""Typed configuration: one dataclass per concern (data, model, training) and the presets.

Every config validates itself in ``__post_init__`` and raises ``ConfigError`` (a ``ValueError``)
whose ``.field`` names the field at fault and whose text is a sentence a user can act on; the
Train page shows that sentence beside that field's control, the CLI prints it, a link falls back
for that field alone. Text ⇄ values (links, widgets, flags) lives in ``codec``.
Nothing here touches torch or data: building a model lives in ``models``, training in ``engine``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal, get_args

Dataset = Literal["mnist", "fashion-mnist"]
Family = Literal["mlp", "cnn"]
Activation = Literal["sigmoid", "tanh", "relu", "leaky_relu", "gelu", "identity"]
Init = Literal["he", "xavier", "normal", "constant", "default"]
Optimizer = Literal["sgd", "adam", "adamw", "rmsprop"]
Schedule = Literal["none", "step", "cosine", "onecycle"]
DevicePreference = Literal["auto", "cpu", "cuda", "mps"]
Pool = Literal["max", "avg"]
Loss = Literal["cross_entropy", "mse"]
Augment = Literal["none", "affine", "elastic", "affine+elastic"]

DATASETS: tuple[str, ...] = get_args(Dataset)
ACTIVATIONS: tuple[str, ...] = get_args(Activation)
INITS: tuple[str, ...] = get_args(Init)
OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
SCHEDULES: tuple[str, ...] = get_args(Schedule)
DEVICES: tuple[str, ...] = get_args(DevicePreference)
POOLS: tuple[str, ...] = get_args(Pool)
LOSSES: tuple[str, ...] = get_args(Loss)
AUGMENTS: tuple[str, ...] = get_args(Augment)

IMAGE_SIZE = 28
NUM_CLASSES = 10
MAX_WIDTH = 8192
MAX_HIDDEN_LAYERS = 64
MAX_SEED = 2**32 - 1  # numpy's limit; torch takes up to 2**64 - 1 but larger seeds are no use


class ConfigError(ValueError):
    """A config value refused: ``field`` is the config field at fault, ``str(err)`` the sentence to show."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(name, f"{name} must be one of {', '.join(allowed)}; got {value!r}.")


def _per_layer(name: str, value, n: int) -> tuple:
    """Expand one value, or one value per layer, to a tuple of length ``n``."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ConfigError(name, f"{name} lists {len(value)} values but the network has {n} layers; "
                             f"give one value, or one per layer.")
        return tuple(value)
    return (value,) * n


@dataclass
class DataConfig:
    """Which dataset to train on, where its files are, and how many images of each split to use."""

    dataset: Dataset = "mnist"
    """Which dataset: MNIST digits or Fashion-MNIST clothes (both 28×28 grey, 10 classes)."""
    data_dir: str | None = None
    """Folder holding ``MNIST/raw/*.gz`` (torchvision's layout). None: $NNPLAY_DATA_DIR, else a per-user cache."""
    train_limit: int | None = None
    """Use only the first N training images (quick runs); None uses all."""
    test_limit: int | None = None
    """Use only the first N test images; None uses all."""
    download: bool = True
    """Download missing files with torchvision when online (else fall back to the built-in sample)."""
    extra_data: str | None = None
    """A digits .npz file (your own digits: uint8 images N×28×28 and labels) trained on beside the MNIST
    training images; the test set stays MNIST's. Unset: MNIST alone."""
    extra_weight: float = 1.0
    """How many times each digit of extra_data counts per epoch (1 to 100; its copies are shuffled in with the rest)."""
    replay: int | None = None
    """With extra_data: how many MNIST training images, drawn at random (by the run's seed), train beside the
    extra digits (fine-tuning); 0: the extra digits alone; unset: all the training images."""

    def __post_init__(self):
        _choice("dataset", self.dataset, DATASETS)
        for name in ("train_limit", "test_limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(name, f"{name} must be at least 1 image (or empty for all); got {value}.")
        if self.extra_data is not None and not str(self.extra_data).strip():
            raise ConfigError("extra_data", "extra_data names a digits .npz file; got an empty name.")
        if not 1 <= self.extra_weight <= 100:
            raise ConfigError("extra_weight", f"extra_weight is how many times each of your digits counts, "
                                              f"from 1 to 100; got {self.extra_weight}.")
        if self.replay is not None and self.replay < 0:
            raise ConfigError("replay", f"replay is a number of MNIST images, 0 or more (or empty for all); "
                                        f"got {self.replay}.")
        if self.extra_data is None and (self.extra_weight != 1 or self.replay is not None):
            name = "extra_weight" if self.extra_weight != 1 else "replay"
            raise ConfigError(name, f"{name} applies to the digits of extra_data: give extra_data (a digits .npz "
                                    f"file) too, or leave {name} out.")


@dataclass
class ModelConfig:
    """The network: an MLP (hidden widths) or a CNN (conv channels, kernels, FC width), its activations,
    weight init and dropout. ``models.build_model`` turns it into a ``torch.nn.Sequential``."""

    family: Family = "mlp"
    """The network's kind: mlp (fully connected) or cnn (convolutional, seed 003)."""
    hidden: tuple[int, ...] = (256,)
    """MLP: width of each hidden layer; () is logistic regression (784 → 10)."""
    activation: Activation | tuple[Activation, ...] = "relu"
    """One activation for every hidden layer, or one per hidden layer (per conv layer for a CNN)."""
    init: Init = "he"
    """Weight init: he (Kaiming normal, seed 000), xavier (uniform, seed 003), normal(std),
    constant(value), or PyTorch's default. He/normal/constant zero the biases; xavier and default
    keep PyTorch's bias init. For a CNN it applies to the fully connected layers, as in seed 003."""
    init_std: float = 0.01
    """Standard deviation for init="normal"."""
    init_value: float = 0.0
    """Every weight's value for init="constant"."""
    dropout: float = 0.0
    """Dropout probability after each hidden activation (MLP) or before the last layer (CNN)."""
    channels: tuple[int, ...] = (32, 64, 128)
    """CNN: output channels of each conv layer (each followed by activation and 2×2 max-pool)."""
    kernel_size: int | tuple[int, ...] = 3
    """CNN: conv kernel size, one for all layers or one per layer."""
    stride: int | tuple[int, ...] = 1
    """CNN: conv stride, one for all layers or one per layer."""
    padding: int | tuple[int, ...] = 1
    """CNN: conv zero padding, one for all layers or one per layer."""
    fc_width: int | tuple[int, ...] = 625
    """CNN: width of the fully connected layer before the output (seed 003: 625), or one width per fully
    connected layer (LeNet-5: 120,84)."""
    fc_activation: Activation = "relu"
    """CNN: the activation of the fully connected layers (seed 003: relu; LeNet-5: tanh)."""
    batch_norm: bool = False
    """Batch normalisation after each hidden linear or conv layer, before its activation (Ioffe & Szegedy 2015);
    evaluation uses its running statistics."""
    pool: Pool = "max"
    """CNN: the 2×2 pooling after each conv layer: max (the last one padded so an odd map keeps its edge, as
    seed 003), or avg (LeNet's subsampling, never padded)."""

    def __post_init__(self):
        _choice("family", self.family, ("mlp", "cnn"))
        _choice("pool", self.pool, POOLS)
        _choice("init", self.init, INITS)
        self.hidden = tuple(int(w) for w in self.hidden)
        self.channels = tuple(int(c) for c in self.channels)
        if isinstance(self.activation, list):
            self.activation = tuple(self.activation)
        _choice("fc_activation", self.fc_activation, ACTIVATIONS)
        if isinstance(self.fc_width, (list, tuple)):  # one width is kept as an int: links and defaults stay "625"
            widths = tuple(int(w) for w in self.fc_width)
            self.fc_width = widths[0] if len(widths) == 1 else widths
        for name in ("kernel_size", "stride", "padding"):
            if isinstance(getattr(self, name), list):
                setattr(self, name, tuple(getattr(self, name)))
        for act in self.activations():
            _choice("activation", act, ACTIVATIONS)
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError("dropout", f"dropout is a probability in [0, 1); got {self.dropout}.")
        if self.init == "normal" and not self.init_std > 0:
            raise ConfigError("init_std", f"init_std must be positive for a normal init; got {self.init_std}.")
        if self.family == "mlp":
            if len(self.hidden) > MAX_HIDDEN_LAYERS:
                raise ConfigError("hidden", f"at most {MAX_HIDDEN_LAYERS} hidden layers; got {len(self.hidden)}.")
            for i, width in enumerate(self.hidden, start=1):
                if not 1 <= width <= MAX_WIDTH:
                    raise ConfigError("hidden", f"hidden layer {i} has width {width}; a layer needs 1 to {MAX_WIDTH} units.")
        else:
            if not 1 <= len(self.channels) <= 8:
                raise ConfigError("channels", f"a CNN here has 1 to 8 conv layers; got {len(self.channels)}.")
            for i, c in enumerate(self.channels, start=1):
                if not 1 <= c <= 1024:
                    raise ConfigError("channels", f"conv layer {i} has {c} channels; give 1 to 1024.")
            for i, (k, s, p) in enumerate(zip(self.kernel_sizes(), self.strides(), self.paddings()), start=1):
                if k < 1 or s < 1 or p < 0:
                    raise ConfigError("kernel_size" if k < 1 else "stride" if s < 1 else "padding",
                                      f"conv layer {i}: kernel and stride must be ≥ 1 and padding ≥ 0 "
                                     f"(got kernel {k}, stride {s}, padding {p}).")
                if p > k // 2 + 8:
                    raise ConfigError("padding", f"conv layer {i}: padding {p} is far larger than the kernel ({k}) needs.")
            if not 0 <= len(self.fc_widths()) <= 8:
                raise ConfigError("fc_width", f"a CNN here has 0 to 8 fully connected layers before the output; "
                                  f"got {len(self.fc_widths())}.")
            for i, width in enumerate(self.fc_widths(), start=1):
                if not 1 <= width <= MAX_WIDTH:
                    raise ConfigError("fc_width", f"fully connected layer {i} has width {width}; fc_width must be "
                                      f"1 to {MAX_WIDTH}.")

    def depth(self) -> int:
        """Number of layers that carry an activation (hidden layers, or conv layers)."""
        return len(self.hidden) if self.family == "mlp" else len(self.channels)

    def fc_widths(self) -> tuple[int, ...]:
        """CNN: the width of each fully connected layer before the output."""
        return tuple(self.fc_width) if isinstance(self.fc_width, tuple) else (self.fc_width,)

    def activations(self) -> tuple[str, ...]:
        return _per_layer("activation", self.activation, self.depth())

    def kernel_sizes(self) -> tuple[int, ...]:
        return _per_layer("kernel_size", self.kernel_size, len(self.channels))

    def strides(self) -> tuple[int, ...]:
        return _per_layer("stride", self.stride, len(self.channels))

    def paddings(self) -> tuple[int, ...]:
        return _per_layer("padding", self.padding, len(self.channels))


@dataclass
class TrainConfig:
    """How to train: optimiser and learning rate, batch size, epochs, schedule, seed, logging and device."""

    optimizer: Optimizer = "adam"
    """sgd (with optional momentum / nesterov), adam, adamw or rmsprop."""
    lr: float = 1e-3
    """Learning rate (1e-5 … 10)."""
    momentum: float = 0.0
    """Momentum for sgd and rmsprop."""
    nesterov: bool = False
    """Nesterov momentum for sgd (needs momentum > 0)."""
    batch_size: int = 256
    """Images per optimisation step."""
    epochs: int = 10
    """Passes over the training set."""
    weight_decay: float = 0.0
    """L2 penalty (decoupled for adamw)."""
    schedule: Schedule = "none"
    """Learning-rate schedule: none, step (×gamma every step_size epochs), cosine, onecycle."""
    step_size: int = 1
    """Epochs between decays for the step schedule."""
    gamma: float = 0.1
    """Decay factor for the step schedule."""
    seed: int = 0
    """Seeds the init, dropout and shuffling: the same seed on CPU gives the same numbers."""
    log_every: int = 10
    """Report the loss of each step in bursts of this many steps."""
    max_loss: float = 100.0
    """A batch loss above this and above 10× the first step's loss counts as diverged, like NaN or
    inf (chance level is ln 10 ≈ 2.3)."""
    device: DevicePreference = "auto"
    """auto picks CUDA, then Apple MPS, else the CPU."""
    loss: Loss = "cross_entropy"
    """cross_entropy (softmax and log loss), or mse: the squared error of the softmax against one-hot targets,
    averaged over images and the 10 outputs (LeCun et al. 1998 trained with a squared error)."""
    max_norm: float = 0.0
    """Max-norm constraint: each unit's incoming weight vector is rescaled to this L2 norm at most after
    every step (Srivastava et al. 2014 use 3 or 4); 0 is off."""
    augment: Augment = "none"
    """Distort each training batch on the training device: random affine (shift, rotate, scale, shear),
    elastic (Simard et al. 2003), both, or none. Test images are never distorted."""
    shift: float = 2.0
    """affine: the largest shift, in pixels, each way."""
    rotate: float = 10.0
    """affine: the largest rotation, in degrees, each way."""
    scale: float = 0.1
    """affine: the largest change of size, as a fraction (0.1: 90% to 110%)."""
    shear: float = 10.0
    """affine: the largest shear, in degrees, each way."""
    elastic_alpha: float = 34.0
    """elastic: how far pixels move (Simard et al.: 34)."""
    elastic_sigma: float = 4.0
    """elastic: how smooth the displacement field is, the Gaussian's sigma in pixels (Simard et al.: 4)."""

    def __post_init__(self):
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("loss", self.loss, LOSSES)
        _choice("augment", self.augment, AUGMENTS)
        if not 0 <= self.max_norm <= 100:
            raise ConfigError("max_norm", f"max_norm is an L2 norm from 0 (off) to 100; got {self.max_norm}.")
        for name, top, unit in (("shift", 14, "pixels"), ("rotate", 180, "degrees"), ("scale", 0.9, "as a fraction"),
                                ("shear", 60, "degrees"), ("elastic_alpha", 200, "pixels"),
                                ("elastic_sigma", 20, "pixels")):
            value = getattr(self, name)
            if not 0 <= value <= top:
                raise ConfigError(name, f"{name} must be from 0 to {top} ({unit}); got {value}.")
        _choice("schedule", self.schedule, SCHEDULES)
        _choice("device", self.device, DEVICES)
        if not 0 < self.lr <= 10:
            raise ConfigError("lr", f"learning rate must be in (0, 10]; got {self.lr}.")
        if self.batch_size < 1:
            raise ConfigError("batch_size", f"batch size must be at least 1; got {self.batch_size}.")
        if self.epochs < 1:
            raise ConfigError("epochs", f"train for at least 1 epoch; got {self.epochs}.")
        if self.epochs > 1000:
            raise ConfigError("epochs", f"at most 1000 epochs; got {self.epochs}.")
        if not 0 <= self.momentum < 1:
            raise ConfigError("momentum", f"momentum must be in [0, 1); got {self.momentum}.")
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0):
            raise ConfigError("nesterov", "nesterov needs the sgd optimizer with momentum > 0.")
        if self.weight_decay < 0:
            raise ConfigError("weight_decay", f"weight decay cannot be negative; got {self.weight_decay}.")
        if self.step_size < 1:
            raise ConfigError("step_size", f"the step schedule needs step_size ≥ 1 epoch; got {self.step_size}.")
        if not 0 < self.gamma <= 1:
            raise ConfigError("gamma", f"the step schedule needs 0 < gamma ≤ 1; got {self.gamma}.")
        if not 0 <= self.seed <= MAX_SEED:
            got = str(self.seed) if len(str(self.seed)) <= 30 else f"a number of {len(str(self.seed)):,} digits"
            raise ConfigError("seed", f"the seed must be a whole number from 0 to {MAX_SEED:,}; got {got}.")
        if not self.max_loss > 0:
            raise ConfigError("max_loss", f"max_loss must be positive; got {self.max_loss}.")
        if self.log_every < 1:
            raise ConfigError("log_every", f"log_every must be at least 1; got {self.log_every}.")


def to_dict(config) -> dict:
    """A config as plain python values (tuples become lists), for JSON, URLs and checkpoints."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def from_dict(cls, values: dict):
    """Build a config from a dict, ignoring unknown keys; raises ConfigError (a ValueError) on bad values."""
    names = {f.name for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: v for k, v in values.items() if k in names})
    except TypeError as err:
        raise ValueError(f"bad {cls.__name__}: {err}") from None


# what a preset leaves as the user chose it: which data, and how to run (not what to train)
PRESET_LEAVES = ("dataset", "seed", "device", "log_every", "max_loss")


@dataclass(frozen=True)
class Preset:
    """A network from one of the lecture notes nnplay follows (``key`` is its stable id in links, the CLI's
    ``--preset`` and stored runs; ``title`` is what a learner reads: what the network is, and which note):
    its whole model, its training settings and the full training set.

    ``apply`` sets every field the preset names (every model field, every training field but
    ``PRESET_LEAVES``, and the data subset: none, as the notes train on all of it) and leaves the
    fields in ``PRESET_LEAVES`` as they were.
    """

    key: str
    title: str
    description: str
    short: str = ""
    """A short name where several presets sit side by side (note 001's model letter); empty: the title."""
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def apply(self, data_cfg: DataConfig, train_cfg: TrainConfig) -> tuple[DataConfig, ModelConfig, TrainConfig]:
        """The configs after this preset: the current data set and run settings, the rest from the preset."""
        keep = {name: getattr(train_cfg, name) for name in PRESET_LEAVES if hasattr(train_cfg, name)}
        data = dataclasses.replace(data_cfg, train_limit=None, test_limit=None)
        return data, self.model, dataclasses.replace(self.train, **keep)


def _seed001(key: str, letter: str, hidden: tuple[int, ...], activation: str) -> Preset:
    # Note 001: FeedforwardNeuralNetModel, PyTorch's default init, SGD lr 0.1, batch 100.
    return Preset(
        key=key,
        title=f"MLP 784-{'-'.join(map(str, hidden))}-10 {activation.replace('relu', 'ReLU')} (note 001, {letter})",
        short=letter,
        description=f"784-{'-'.join(map(str, hidden))}-10, {activation}, PyTorch default init, SGD lr 0.1, batch 100.",
        model=ModelConfig(hidden=hidden, activation=activation, init="default"),
        train=TrainConfig(optimizer="sgd", lr=0.1, batch_size=100, epochs=5),
    )


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            key="seed-mlp",
            title="MLP 784-256-10 ReLU (note 000)",
            description="784-256-10, ReLU, He init, Adam lr 1e-3, batch 256, 10 epochs: 203,530 parameters.",
            model=ModelConfig(hidden=(256,), activation="relu", init="he"),
            train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=256, epochs=10),
        ),
        _seed001("model-a", "A", (100,), "sigmoid"),
        _seed001("model-b", "B", (100,), "tanh"),
        _seed001("model-c", "C", (100,), "relu"),
        _seed001("model-d", "D", (100, 100), "relu"),
        Preset(
            key="seed-cnn",
            title="CNN 32-64-128 (note 003)",
            description="conv 32/64/128 (3×3, ReLU, 2×2 max-pool), FC 2048→625 (dropout 0.5) →10, xavier.",
            model=ModelConfig(family="cnn", channels=(32, 64, 128), kernel_size=3, stride=1, padding=1,
                              fc_width=625, dropout=0.5, init="xavier", activation="relu"),
            train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=100, epochs=15),
        ),
        Preset(
            key="lenet-5",
            title="CNN 6-16 LeNet-5, tanh (LeCun et al. 1998)",
            short="LeNet-5",
            description="conv 6 and 16 channels of 5×5 (the first padded, as LeCun's 32×32 input), tanh, 2×2 "
                        "average pooling, FC 400→120→84→10 (tanh), xavier; Adam lr 1e-3, batch 100, 20 epochs "
                        "(the paper trained with its own second-order SGD): 61,706 parameters.",
            model=ModelConfig(family="cnn", channels=(6, 16), kernel_size=5, stride=1, padding=(2, 0), pool="avg",
                              fc_width=(120, 84), fc_activation="tanh", activation="tanh", init="xavier"),
            train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=100, epochs=20),
        ),
    )
}
