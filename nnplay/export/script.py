"""The code for a run: a standalone PyTorch training script that reproduces an nnplay run.

``training_script(data_cfg, model_cfg, train_cfg)`` returns one readable Python file in the shape
of pytorch/examples' ``mnist/main.py`` (``Net``, ``train``, ``test``, ``main``; every setting an
argparse default equal to the run's) that needs only torch and torchvision. It repeats what
``engine.train`` does, step for step, so that on the CPU it prints the same numbers:

- the weights: ``torch.manual_seed(seed)``, then the layers created in the order ``models`` creates
  them and initialised the same way (He / Xavier / normal / constant / PyTorch's default);
- the dropout masks: the global generator seeded again just before training, as the engine does;
- the batch order: a CPU ``torch.Generator().manual_seed(seed)`` and one ``randperm`` per epoch,
  batches taken by index from the uint8 images, normalised as pixels / 255;
- the optimiser, and the schedule stepped per batch (cosine, onecycle) or per epoch (step);
- the loss (cross-entropy or mse), the max-norm after each step, batch norm (a last batch of one image
  joins the batch before it) and the distortions of ``nnplay.augment``, whose functions are copied in
  as they are and drawn from a generator seeded as ``augment.augment_generator``;
- the train / test limits (first N images) and the test pass in batches of 4,096.

It trains on the full dataset from torchvision. A run on the learner's own digits too (``DataConfig.extra_data``)
reads them from a digits ``.npz`` exported beside the script (``digits_file_name``), with numpy, and mixes them in
as ``data.with_extra_digits`` does (the same weight, replay and seeded draws), so it repeats that run too. A run
nnplay trained on its built-in sample of MNIST (``data_source="sample"``) says so in the script's docstring and
first printed line: the script trains on full MNIST, so its numbers differ from the run's; a run whose source was
not recorded ("") says that the numbers match only if it trained on the full dataset.

Nothing here runs the script; the test in ``tests/test_export_script.py`` does.
"""

from __future__ import annotations

import inspect
import textwrap

from ..config import IMAGE_SIZE, DataConfig, ModelConfig, TrainConfig
from .. import augment
from ..models import pool_padding, describe, fc_names, layer_table

EVAL_BATCH = 4096  # engine.evaluate's batch size: the same sums in the same order

_ACTIVATION_CALLS = {
    "relu": "F.relu(x)",
    "sigmoid": "torch.sigmoid(x)",
    "tanh": "torch.tanh(x)",
    "leaky_relu": "F.leaky_relu(x)",  # negative slope 0.01, as nn.LeakyReLU()
    "gelu": "F.gelu(x)",
}


def _shape(shape: tuple[int, ...]) -> str:
    return "(B, " + ", ".join(map(str, shape)) + ")"


def _line(code: str, comment: str = "", width: int = 36) -> str:
    return f"        {code:<{width}}# {comment}" if comment else f"        {code}"


def _activation_line(name: str, shape: tuple[int, ...]) -> str:
    if name == "identity":
        return "        # identity activation: x passes through unchanged"
    return _line(f"x = {_ACTIVATION_CALLS[name]}", _shape(shape))


def _init_lines(layers: list[str], cfg: ModelConfig) -> list[str]:
    """The init calls of models._init_linear, for each named Linear layer, in order."""
    notes = {
        "he": "He (Kaiming normal, fan_in, gain √2) weights and zero biases, as seed 000",
        "xavier": "Xavier uniform weights; biases keep PyTorch's default, as seed 003",
        "normal": f"weights from N(0, {cfg.init_std:g}²) and zero biases",
        "constant": f"every weight {cfg.init_value:g} and zero biases",
        "default": "PyTorch's default (Kaiming uniform, a=√5), nothing to change",
    }
    lines = [f"        # initialisation: {notes[cfg.init]}"]
    if cfg.init == "default":
        return lines
    for name in layers:
        w, b = f"self.{name}.weight", f"self.{name}.bias"
        if cfg.init == "he":
            lines += [f"        nn.init.kaiming_normal_({w})", f"        nn.init.zeros_({b})"]
        elif cfg.init == "xavier":
            lines += [f"        nn.init.xavier_uniform_({w})"]
        elif cfg.init == "normal":
            lines += [f"        nn.init.normal_({w}, std={cfg.init_std!r})", f"        nn.init.zeros_({b})"]
        elif cfg.init == "constant":
            lines += [f"        nn.init.constant_({w}, {cfg.init_value!r})", f"        nn.init.zeros_({b})"]
    return lines


def _net_source(cfg: ModelConfig) -> str:
    """class Net: the layers of models.build_model under the same names, created in the same order."""
    rows = {row.name: row for row in layer_table(cfg)}
    init: list[str] = []
    forward: list[str] = []
    if cfg.family == "mlp":
        forward.append(_line("x = torch.flatten(x, 1)", _shape(rows["flatten"].output_shape)))
        width_in, linears = 784, []
        for i, (width, act) in enumerate(zip(cfg.hidden, cfg.activations()), start=1):
            init.append(f"        self.lin_{i} = nn.Linear({width_in}, {width})")
            forward.append(_line(f"x = self.lin_{i}(x)", _shape((width,))))
            if cfg.batch_norm:
                init.append(f"        self.bn_{i} = nn.BatchNorm1d({width})")
                forward.append(_line(f"x = self.bn_{i}(x)", "each unit normalised over the batch"))
            forward.append(_activation_line(act, (width,)))
            if cfg.dropout:
                init.append(f"        self.drop_{i} = nn.Dropout({cfg.dropout!r})")
                forward.append(_line(f"x = self.drop_{i}(x)", "zeroes units at random while training"))
            linears.append(f"lin_{i}")
            width_in = width
        n = len(cfg.hidden) + 1
        init.append(f"        self.lin_{n} = nn.Linear({width_in}, 10)")
        forward.append(_line(f"x = self.lin_{n}(x)", "(B, 10) logits"))
        linears.append(f"lin_{n}")
    else:
        c_in = 1
        specs = zip(cfg.channels, cfg.kernel_sizes(), cfg.strides(), cfg.paddings(), cfg.activations())
        for i, (c, k, s, p, act) in enumerate(specs, start=1):
            init.append(f"        self.conv_{i} = nn.Conv2d({c_in}, {c}, kernel_size={k}, stride={s}, padding={p})")
            forward.append(_line(f"x = self.conv_{i}(x)", _shape(rows[f"conv_{i}"].output_shape)))
            if cfg.batch_norm:
                init.append(f"        self.bn_{i} = nn.BatchNorm2d({c})")
                forward.append(_line(f"x = self.bn_{i}(x)", "each channel normalised over the batch"))
            forward.append(_activation_line(act, rows[f"act_{i}"].output_shape))
            pad = pool_padding(cfg, i)
            pool = f"F.{cfg.pool}_pool2d(x, 2{', padding=1' if pad else ''})"
            note = ", padded so an odd map keeps its edge" if pad else ""
            forward.append(_line(f"x = {pool}", _shape(rows[f"pool_{i}"].output_shape) + note))
            c_in = c
        width_in = rows["flatten"].output_shape[0]
        forward.append(_line("x = torch.flatten(x, 1)", _shape((width_in,))))
        linears = []
        for (lin, bn, act), width in zip(fc_names(cfg), cfg.fc_widths()):
            init.append(f"        self.{lin} = nn.Linear({width_in}, {width})")
            forward.append(_line(f"x = self.{lin}(x)", _shape((width,))))
            if cfg.batch_norm:
                init.append(f"        self.{bn} = nn.BatchNorm1d({width})")
                forward.append(_line(f"x = self.{bn}(x)", "each unit normalised over the batch"))
            forward.append(_activation_line(cfg.fc_activation, (width,)))
            linears.append(lin)
            width_in = width
        if cfg.dropout:
            init.append(f"        self.drop_fc = nn.Dropout({cfg.dropout!r})")
            forward.append(_line("x = self.drop_fc(x)", "zeroes units at random while training"))
        out = f"fc_{len(linears) + 1}"
        init.append(f"        self.{out} = nn.Linear({width_in}, 10)")
        forward.append(_line(f"x = self.{out}(x)", "(B, 10) logits"))
        linears.append(out)
        init.append("        # the conv layers keep PyTorch's default initialisation, as in seed 003")
    init += _init_lines(linears, cfg)
    return "\n".join([
        "class Net(nn.Module):",
        f'    """{describe(cfg)}: the network of the nnplay run, layer for layer."""',
        "",
        "    def __init__(self):",
        "        super().__init__()",
        *init,
        "",
        "    def forward(self, x):",
        "        # x: (B, 1, 28, 28) floats in [0, 1]",
        *forward,
        "        return x",
    ])


def _optimizer_source(cfg: TrainConfig) -> str:
    if cfg.optimizer == "sgd":
        return ("optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,\n"
                f"                          nesterov={cfg.nesterov!r}, weight_decay=args.weight_decay)")
    if cfg.optimizer == "rmsprop":
        return ("optim.RMSprop(model.parameters(), lr=args.lr, momentum=args.momentum,\n"
                "                              weight_decay=args.weight_decay)")
    name = "Adam" if cfg.optimizer == "adam" else "AdamW"
    return f"optim.{name}(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)"


def _scheduler_source(cfg: TrainConfig) -> str:
    if cfg.schedule == "none":
        return "    scheduler = None  # a constant learning rate"
    lines = ["    steps_per_epoch = len(batch_bounds(len(train_images), min(args.batch_size, len(train_images))))"]
    if cfg.schedule == "step":
        lines = ["    # ×gamma every step_size epochs, stepped once per epoch",
                 "    scheduler = StepLR(optimizer, step_size=args.step_size, gamma=args.gamma)"]
    elif cfg.schedule == "cosine":
        lines += ["    # from lr down to 0 along a half cosine over the whole run, stepped after every batch",
                  "    scheduler = CosineAnnealingLR(optimizer, T_max=args.epochs * steps_per_epoch)"]
    else:
        lines += ["    # up to lr and back down over the whole run, stepped after every batch",
                  "    scheduler = OneCycleLR(optimizer, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch)"]
    return "\n".join(lines)


def _criterion_source(cfg: TrainConfig) -> str:
    if cfg.loss == "cross_entropy":
        return '''def criterion(output, target, reduction="mean"):
    """The loss: cross-entropy of the logits."""
    return F.cross_entropy(output, target, reduction=reduction)'''
    return '''def criterion(output, target, reduction="mean"):
    """The loss: squared error of the softmax against one-hot targets, averaged over the 10 outputs."""
    one_hot = F.one_hot(target, output.shape[1]).to(output.dtype)
    per_image = (output.softmax(1) - one_hot).square().mean(1)
    return per_image.mean() if reduction == "mean" else per_image.sum()'''


def _augment_source() -> str:
    """nnplay.augment's distortions, as they are (the script's args carry the same names as TrainConfig)."""
    parts = [f"IMAGE_SIZE = {IMAGE_SIZE}", "_CACHE = {}", f"KEPT_VARIANCE = {augment.KEPT_VARIANCE}"]
    for fn in (augment.affine_theta, augment._base_grid, augment._smoothing_matrix, augment._field_basis,
               augment._read_rows, augment._planar_grid, augment.affine_maps, augment.distort):
        parts.append(inspect.getsource(fn).replace("cfg: TrainConfig", "cfg"))
    return "\n\n".join(parts)


def _batch_starts_source(batch_norm: bool) -> str:
    merge = ("    if len(starts) > 1 and n - starts[-1] == 1:  # batch norm needs 2 images: a last one joins the batch before\n"
             "        starts.pop()\n" if batch_norm else "")
    return (f"def batch_bounds(n, batch_size):\n"
            f"    \"\"\"(start, end) of each batch of an epoch.\"\"\"\n"
            f"    starts = list(range(0, n, batch_size))\n{merge}"
            f"    return [(s, starts[i + 1] if i + 1 < len(starts) else n) for i, s in enumerate(starts)]")


def _arg(flag: str, kind: str, default, text: str) -> str:
    return (f"    parser.add_argument({flag!r}, type={kind}, default={default!r},\n"
            f"                        help={text!r})")


SAMPLE_NOTE = ("The nnplay run trained on nnplay's built-in sample of MNIST (10,000 training and 2,000 test images, "
               "1,000 and 200 per class), which torchvision does not have. This script trains on the full {dataset} "
               "from torchvision{limits}, so its numbers will differ from the run's: it repeats the run's network, "
               "initialisation, optimiser ({optimizer}), schedule ({schedule}) and seed, not its data.")
FULL_NOTE = ("It repeats the nnplay run step for step: the same network and initialisation, the same batch order, "
             "dropout masks, optimiser ({optimizer}), schedule ({schedule}) and seed, on the full {dataset}{limits}, "
             "so on the CPU it prints the same numbers.")
UNKNOWN_NOTE = ("It repeats the nnplay run's network and initialisation, batch order, dropout masks, optimiser "
                "({optimizer}), schedule ({schedule}) and seed on the full {dataset}{limits}. nnplay did not record "
                "which data the run trained on (an older nnplay kept it): if it was the full {dataset}, this script "
                "prints the same numbers on the CPU; if it was nnplay's built-in sample, they will differ.")


DIGITS_NOTE = ("The run trained on the learner's own digits too: {count}{file}, each counted {weight} times an epoch, "
               "beside {replay}. This script reads them from that file (--extra-data; it came with this script) "
               "and mixes them in as nnplay did, drawn by the same seed; the test set stays {dataset}'s.")


START_NOTE = ("The run was fine-tuned: it started from its parent run's weights, exported beside this script as "
              "{file}, and so does this script (--init-from).")


def digits_file_name(script_name: str) -> str:
    """The digits file exported beside a script: "nnplay-run-3-train.py" → "nnplay-run-3-train-digits.npz"."""
    stem = script_name[:-3] if script_name.endswith(".py") else script_name
    return f"{stem}-digits.npz"


def start_file_name(script_name: str) -> str:
    """The weights a fine-tuned run started from, exported beside its script: "…-train.py" → "…-train-start.pt"."""
    stem = script_name[:-3] if script_name.endswith(".py") else script_name
    return f"{stem}-start.pt"


def _digits_source(digits_file: str) -> str:
    """with_your_digits: data.with_extra_digits as it is, reading the digits file the script came with."""
    return (f"HERE = os.path.dirname(os.path.abspath(__file__))\n"
            f"DIGITS_FILE = os.path.join(HERE, {digits_file!r})  # your digits, exported beside this script\n\n\n"
            + DIGITS_FUNCTION)


DIGITS_FUNCTION = '''def with_your_digits(args, images, labels):
    """The training split with your digits: each counted --extra-weight times an epoch (whole copies, then a
    seeded share of them once more for the fraction), beside --replay MNIST images drawn at random (all without
    it), from one generator seeded with --seed in that order, as nnplay's with_extra_digits."""
    with np.load(args.extra_data, allow_pickle=False) as npz:
        extra_x = torch.from_numpy(npz["images"].astype(np.uint8))  # (N, 28, 28), white digit on black
        extra_y = torch.from_numpy(npz["labels"].astype(np.int64))
    generator = torch.Generator().manual_seed(args.seed)
    whole = int(args.extra_weight)
    more = round((args.extra_weight - whole) * len(extra_x))
    picked = torch.randperm(len(extra_x), generator=generator)[:more]
    extra_x = torch.cat([extra_x.repeat(whole, 1, 1), extra_x[picked]])
    extra_y = torch.cat([extra_y.repeat(whole), extra_y[picked]])
    if args.replay is not None:
        kept = torch.randperm(len(images), generator=generator)[:args.replay]
        images, labels = images[kept], labels[kept]
    return torch.cat([images, extra_x]), torch.cat([labels, extra_y])'''


def training_script(data_cfg: DataConfig, model_cfg: ModelConfig, train_cfg: TrainConfig,
                    data_source: str = "full", digits_file: str = "train_mnist-digits.npz",
                    digit_count: int | None = None, start_file: str | None = None) -> str:
    """One standalone Python file (torch + torchvision only) that trains this run again. ``data_source``:
    what the run trained on ("full", "sample" or "" when not recorded); the script says what it trains on.
    A run on your digits too (``data_cfg.extra_data``) reads them from ``digits_file`` beside the script (the
    export writes it there; ``digit_count`` of them, said in the docstring) and mixes them in as the run did.
    ``start_file``: a fine-tuned run's starting weights (an nnplay checkpoint beside the script), loaded first."""
    if data_source not in ("full", "sample", ""):
        raise ValueError(f"data_source is 'full', 'sample' or ''; got {data_source!r}.")
    digits = data_cfg.extra_data is not None
    dataset_name = "Fashion-MNIST" if data_cfg.dataset == "fashion-mnist" else "MNIST"
    limits = [f"the first {n:,} {what} images" for n, what in ((data_cfg.train_limit, "training"),
                                                               (data_cfg.test_limit, "test")) if n]
    note = textwrap.fill({"full": FULL_NOTE, "sample": SAMPLE_NOTE, "": UNKNOWN_NOTE}[data_source].format(
        optimizer=train_cfg.optimizer, schedule=train_cfg.schedule, dataset=dataset_name,
        limits=f" ({' and '.join(limits)})" if limits else ""), 96)
    if digits:
        replay = ("all the MNIST training images" if data_cfg.replay is None else
                  f"{data_cfg.replay:,} MNIST training images drawn at random" if data_cfg.replay else "no MNIST image")
        count = f"{digit_count:,} digits in " if digit_count is not None else "the digits in "
        note += "\n\n" + textwrap.fill(DIGITS_NOTE.format(count=count, file=digits_file, dataset=dataset_name,
                                                          weight=f"{data_cfg.extra_weight:g}", replay=replay), 96)
    sample_print = ("    print('nnplay trained this run on its built-in sample of MNIST; this script trains on the "
                    "full MNIST from torchvision, so its numbers differ from the run\\'s.')\n"
                    if data_source == "sample" else "")
    if start_file is not None:
        note += "\n\n" + textwrap.fill(START_NOTE.format(file=start_file), 96)
    per_batch = train_cfg.schedule in ("cosine", "onecycle")
    args = [
        "    parser.add_argument('--dataset', choices=['mnist', 'fashion-mnist'], "
        f"default={data_cfg.dataset!r},\n                        help='which dataset (default: %(default)s)')",
        "    parser.add_argument('--data-dir', default='data',\n"
        "                        help='folder for torchvision: it reads and unpacks <dir>/MNIST/raw/*.gz, '\n"
        "                             'so it must be writable (a copy of $NNPLAY_DATA_DIR trains offline)')",
        "    parser.add_argument('--no-download', action='store_true',\n"
        "                        help='do not download missing files')",
        _arg("--train-limit", "int", data_cfg.train_limit,
             "use the first N training images (default: %(default)s, None = all)"),
        _arg("--test-limit", "int", data_cfg.test_limit,
             "use the first N test images (default: %(default)s, None = all)"),
        _arg("--batch-size", "int", train_cfg.batch_size, "images per step (default: %(default)s)"),
        _arg("--epochs", "int", train_cfg.epochs, "passes over the training set (default: %(default)s)"),
        _arg("--lr", "float", train_cfg.lr, "learning rate (default: %(default)s)"),
    ]
    if train_cfg.optimizer in ("sgd", "rmsprop"):
        args.append(_arg("--momentum", "float", train_cfg.momentum, "momentum (default: %(default)s)"))
    args.append(_arg("--weight-decay", "float", train_cfg.weight_decay,
                     "L2 penalty, decoupled for AdamW (default: %(default)s)"))
    if train_cfg.schedule == "step":
        args.append(_arg("--step-size", "int", train_cfg.step_size, "epochs between decays (default: %(default)s)"))
        args.append(_arg("--gamma", "float", train_cfg.gamma, "decay factor (default: %(default)s)"))
    if train_cfg.max_norm:
        args.append(_arg("--max-norm", "float", train_cfg.max_norm,
                         "each unit's incoming weights are held to this L2 norm at most (default: %(default)s)"))
    if train_cfg.augment != "none":
        args.append("    parser.add_argument('--augment', choices=['none', 'affine', 'elastic', 'affine+elastic'], "
                    f"default={train_cfg.augment!r},\n                        help='distort the training batches "
                    "(default: %(default)s)')")
        for name, what in (("shift", "largest shift, px"), ("rotate", "largest rotation, degrees"),
                           ("scale", "largest change of size, a fraction"), ("shear", "largest shear, degrees"),
                           ("elastic_alpha", "elastic: how far pixels move"),
                           ("elastic_sigma", "elastic: smoothness, the Gaussian's sigma in px")):
            args.append(_arg("--" + name.replace("_", "-"), "float", getattr(train_cfg, name),
                             f"{what} (default: %(default)s)"))
    if digits:
        args += [
            "    parser.add_argument('--extra-data', default=DIGITS_FILE,\n"
            "                        help='your digits: an .npz of images (N, 28, 28) uint8 and labels (N,) '\n"
            "                             '(default: the file exported beside this script)')",
            _arg("--extra-weight", "float", data_cfg.extra_weight,
                 "how many times each of your digits counts per epoch (default: %(default)s)"),
            _arg("--replay", "int", data_cfg.replay,
                 "MNIST training images drawn at random beside your digits (default: %(default)s, None = all)"),
        ]
    if start_file is not None:
        args.append("    parser.add_argument('--init-from', default=os.path.join(os.path.dirname(os.path.abspath("
                    f"__file__)), {start_file!r}),\n                        help='the weights to start from: an "
                    "nnplay checkpoint (default: the parent run\\'s, exported beside this script)')")
    args += [
        _arg("--seed", "int", train_cfg.seed, "seeds the weights, dropout and batch order (default: %(default)s)"),
        "    parser.add_argument('--no-cuda', action='store_true', help='train on the CPU even with a GPU')",
        "    parser.add_argument('--dry-run', action='store_true',\n"
        "                        help='one batch per epoch, to check the script runs')",
        "    parser.add_argument('--save-model', action='store_true',\n"
        "                        help='save the weights to mnist_net.pt (the same names as nnplay\\'s)')",
    ]
    imports_sched = {"step": "StepLR", "cosine": "CosineAnnealingLR", "onecycle": "OneCycleLR"}.get(train_cfg.schedule)
    sched_import = f"from torch.optim.lr_scheduler import {imports_sched}\n" if imports_sched else ""
    sched_step_batch = ("        scheduler.step()  # the schedule moves after every batch\n" if per_batch else "")
    sched_step_epoch = ("        scheduler.step()  # the schedule moves once per epoch\n"
                        if train_cfg.schedule == "step" else "")
    knobs = [_criterion_source(train_cfg), _batch_starts_source(model_cfg.batch_norm)]
    augment_step = augment_epoch = augment_init = augment_arg = max_norm_step = ""
    if train_cfg.augment != "none":
        knobs.append(_augment_source())
        augment_epoch = ("    # this epoch's affine maps, image by image, drawn at once as nnplay draws them\n"
                         "    maps = affine_maps(n, args, distortions, device) if distortions is not None else None\n")
        augment_step = ("        if distortions is not None:  # training batches only: test images stay as they are\n"
                        "            data = distort(data, args, distortions,\n"
                        "                           None if maps is None else maps[start:end])\n")
        augment_init = (f"    # the distortions' own generator, on the training device, as nnplay's augment_generator\n"
                        f"    distortions = torch.Generator(device=device).manual_seed(args.seed + {augment.SEED_OFFSET})\n"
                        f"    if args.augment == 'none':\n        distortions = None\n")
        augment_arg = ", distortions"
    if train_cfg.max_norm:
        max_norm_step = ("        with torch.no_grad():  # max-norm: each unit's incoming weights to L2 norm <= --max-norm\n"
                         "            for layer in model.children():\n"
                         "                if isinstance(layer, (nn.Linear, nn.Conv2d)):\n"
                         "                    layer.weight.renorm_(p=2, dim=0, maxnorm=args.max_norm)\n")
    if digits:
        knobs.append(_digits_source(digits_file))
    knob_source = "\n\n\n".join(knobs)
    os_import = "\nimport os" if digits or start_file is not None else ""
    numpy_import = "import numpy as np\n" if digits else ""
    start_step = ("    # a fine-tuned run starts from its parent's weights (the checkpoint's state_dict has Net's names)\n"
                  "    model.load_state_dict(torch.load(args.init_from, map_location=device, weights_only=True)"
                  "['state_dict'])\n" if start_file is not None else "")
    layout_step = ("    if device.type == \"cpu\":  # nnplay's layout for a CNN on the CPU: faster, same numbers\n"
                   "        model = model.to(memory_format=torch.channels_last)\n"
                   if model_cfg.family == "cnn" else "")
    digits_step = ("    train_images, train_labels = with_your_digits(args, train_images, train_labels)\n"
                   "    print(f'training on {len(train_images):,} images: MNIST\\'s and your digits from {args.extra_data}')\n"
                   if digits else "")
    on_what = f"{dataset_name} and your digits" if digits else dataset_name
    return f'''"""Train {describe(model_cfg)} on {on_what}: an nnplay run as a plain PyTorch script.

Generated by nnplay (`python -m nnplay export ... --format script`). It needs only torch and
torchvision.

{note}

Every setting is a flag whose default is the run's:

    python {{this file}} --data-dir data             # download to ./data and train
    python {{this file}} --epochs 1 --dry-run        # check that it runs
"""

import argparse
import math{os_import}

{numpy_import}import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
{sched_import}from torchvision import datasets


{_net_source(model_cfg)}


def load_split(args, train):
    """One split as uint8 images (N, 28, 28) and int64 labels (N,), the first N if limited."""
    dataset = datasets.MNIST if args.dataset == "mnist" else datasets.FashionMNIST
    split = dataset(args.data_dir, train=train, download=not args.no_download)
    limit = args.train_limit if train else args.test_limit
    return split.data[:limit], split.targets[:limit]


def normalise(images):
    """uint8 (B, 28, 28) -> float (B, 1, 28, 28) in [0, 1], as transforms.ToTensor()."""
    return images.unsqueeze(1).float().div(255.0)


{knob_source}


def train(args, model, device, images, labels, optimizer, scheduler, shuffle, distortions=None):
    """One epoch over the training images in a fresh random order; returns (mean loss, accuracy)."""
    model.train()
    n = len(images)
    batch_size = min(args.batch_size, n)
    order = torch.randperm(n, generator=shuffle)  # this epoch's batch order
{augment_epoch}    loss_sum, correct = 0.0, 0
    for start, end in batch_bounds(n, batch_size):
        index = order[start:end]
        data = normalise(images[index]).to(device)
{augment_step}        target = labels[index].to(device)
        output = model(data)
        loss = criterion(output, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
{max_norm_step}{sched_step_batch}        if not math.isfinite(loss.item()):
            raise SystemExit(f"diverged: the loss is {{loss.item()}}; try a smaller --lr")
        loss_sum += loss.item() * len(index)
        correct += (output.argmax(1) == target).sum().item()
        if args.dry_run:
            return loss_sum / len(index), correct / len(index)
    return loss_sum / n, correct / n


def test(model, device, images, labels, batch_size={EVAL_BATCH}):
    """Mean loss and accuracy on the test images, dropout off, no gradients."""
    model.eval()
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            data = normalise(images[start:start + batch_size]).to(device)
            target = labels[start:start + batch_size].to(device)
            output = model(data)
            loss_sum += criterion(output, target, reduction="sum").item()
            correct += (output.argmax(1) == target).sum().item()
    n = len(images)
    print(f"Test set: Average loss: {{loss_sum / n:.4f}}, "
          f"Accuracy: {{correct}}/{{n}} ({{100.0 * correct / n:.2f}}%)")
    return loss_sum / n, correct / n


def main():
    parser = argparse.ArgumentParser(description={f"{describe(model_cfg)} on {on_what}, as the nnplay run"!r})
{chr(10).join(args)}
    args = parser.parse_args()
{sample_print}    device = torch.device("cuda" if torch.cuda.is_available() and not args.no_cuda else "cpu")

    torch.manual_seed(args.seed)  # the initial weights
    model = Net().to(device)
{layout_step}{start_step}    torch.manual_seed(args.seed)  # the dropout masks: nnplay seeds again just before training
    shuffle = torch.Generator().manual_seed(args.seed)  # the batch order, drawn on the CPU
{augment_init}
    train_images, train_labels = load_split(args, train=True)
{digits_step}    test_images, test_labels = load_split(args, train=False)

    optimizer = {_optimizer_source(train_cfg)}
{_scheduler_source(train_cfg)}

    for epoch in range(1, args.epochs + 1):
        train_loss, train_accr = train(args, model, device, train_images, train_labels,
                                       optimizer, scheduler, shuffle{augment_arg})
        test_loss, test_accr = test(model, device, test_images, test_labels)
        print("epoch:[%d] loss:[%.3f] train_accr:[%.3f] test_accr:[%.3f]." %
              (epoch, train_loss, train_accr, test_accr))
{sched_step_epoch}
    if args.save_model:
        torch.save(model.state_dict(), "mnist_net.pt")


if __name__ == "__main__":
    main()
'''
