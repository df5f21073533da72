"""The headless command line: ``python -m nnplay train`` and ``python -m nnplay bench``.

Every field of DataConfig, ModelConfig and TrainConfig is a flag (``--hidden 256,128``,
``--lr 0.1``); a preset fills in the rest. ``train`` shows a progress bar on stderr and prints one
JSON line on stdout at the end. ``bench`` times seed 000's own loop against the engine on the
same data in one process. The functions called are the ones the pages call.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import typing

from .config import PRESETS, DataConfig, ModelConfig, TrainConfig, from_dict, to_dict

CONFIGS = (DataConfig, ModelConfig, TrainConfig)


def _parse_value(text: str, kind: str):
    """Turn a flag's text into the value its field wants (kind: int, float, bool, str, ints, strs, int|ints)."""
    if kind == "bool":
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    if kind in ("ints", "int|ints"):
        parts = [p for p in text.replace(" ", "").split(",") if p != ""]
        try:
            values = tuple(int(p) for p in parts)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, got {text!r}") from None
        return values[0] if kind == "int|ints" and len(values) == 1 else values
    if kind == "strs":
        parts = tuple(p for p in text.replace(" ", "").split(",") if p)
        return parts[0] if len(parts) == 1 else parts
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    return None if text.lower() == "none" else text


def _kind(cls, field: dataclasses.Field) -> str:
    hint = typing.get_type_hints(cls)[field.name]
    text = str(hint)
    if field.name in ("hidden", "channels"):
        return "ints"
    if field.name in ("kernel_size", "stride", "padding"):
        return "int|ints"
    if field.name == "activation":
        return "strs"
    if hint is bool:
        return "bool"
    if hint is int or text == "int | None" or text == "typing.Optional[int]":
        return "int"
    if hint is float:
        return "float"
    return "str"


def _field_help(cls, name: str) -> str:
    """The docstring under a field, read from the source, as the flag's help."""
    import inspect

    lines = inspect.getsource(cls).splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith(f"{name}:") and i + 1 < len(lines):
            doc = lines[i + 1].strip()
            if doc.startswith('"""'):
                return doc.strip('"').strip()
    return ""


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    for cls in CONFIGS:
        group = parser.add_argument_group(cls.__name__)
        for f in dataclasses.fields(cls):
            kind = _kind(cls, f)
            group.add_argument(f"--{f.name.replace('_', '-')}", dest=f"{cls.__name__}.{f.name}",
                               type=lambda t, k=kind: _parse_value(t, k), default=None, metavar=kind.upper(),
                               help=_field_help(cls, f.name))


def configs_from_args(args: argparse.Namespace) -> tuple[DataConfig, ModelConfig, TrainConfig]:
    """Preset values, overridden by the flags given; ValueError with a sentence on bad values."""
    preset = PRESETS[args.preset]
    base = {DataConfig: to_dict(DataConfig()), ModelConfig: to_dict(preset.model),
            TrainConfig: to_dict(preset.train)}
    for key, value in vars(args).items():
        if value is None or "." not in key:
            continue
        cls_name, name = key.split(".", 1)
        cls = next(c for c in CONFIGS if c.__name__ == cls_name)
        base[cls][name] = value
    return tuple(from_dict(cls, base[cls]) for cls in CONFIGS)


class _ProgressBar:
    """A listener that drives a tqdm bar on stderr from the engine's events."""

    def __init__(self):
        self.bar = None

    def __call__(self, event) -> None:
        from tqdm import tqdm

        from .engine import EpochMetrics, RunEnd, RunStart, StepEvent

        if isinstance(event, RunStart):
            self.bar = tqdm(total=event.epochs * event.steps_per_epoch, unit="step", file=sys.stderr,
                            desc=event.device, dynamic_ncols=True)
        elif isinstance(event, StepEvent):
            self.bar.update(event.step - self.bar.n)
            if event.step % 50 == 0:
                self.bar.set_postfix(epoch=event.epoch, loss=f"{event.loss:.3f}")
        elif isinstance(event, EpochMetrics):
            self.bar.write(f"epoch {event.epoch}: loss {event.train_loss:.3f} train_acc {event.train_accuracy:.3f} "
                           f"test_acc {event.test_accuracy:.3f} ({event.seconds:.2f} s)", file=sys.stderr)
        elif isinstance(event, RunEnd) and self.bar is not None:
            self.bar.close()


def cmd_train(args: argparse.Namespace) -> int:
    from .checkpoint import save_checkpoint
    from .data import DataError, load_mnist
    from .engine import seeded_model, train
    from .models import count_parameters, describe

    try:
        data_cfg, model_cfg, train_cfg = configs_from_args(args)
        model = seeded_model(model_cfg, train_cfg.seed)
        data = load_mnist(data_cfg)
    except (ValueError, DataError) as err:
        print(f"nnplay: {err}", file=sys.stderr)
        return 2
    if data.notice:
        print(f"nnplay: {data.notice}", file=sys.stderr)
    result = train(model, data, train_cfg, on_event=None if args.quiet else _ProgressBar())
    epochs = result.history.epochs
    summary = {
        "status": result.status,
        "message": result.message,
        "device": result.device,
        "preset": args.preset,
        "dataset": data.dataset,
        "data_source": data.source,
        "epochs": len(epochs),
        "epoch_seconds": [round(e.seconds, 4) for e in epochs],
        "train_loss": [round(e.train_loss, 4) for e in epochs],
        "test_accuracy": epochs[-1].test_accuracy if epochs else None,
        "train_accuracy": epochs[-1].train_accuracy if epochs else None,
        "parameters": count_parameters(model),
        "config": {"data": to_dict(data_cfg), "model": to_dict(model_cfg), "train": to_dict(train_cfg)},
    }
    if args.save and result.status != "diverged":
        try:
            save_checkpoint(model, model_cfg, args.save, meta={"name": f"cli · {describe(model_cfg)}",
                                                               "status": result.status, "message": result.message},
                            data_cfg=data_cfg, train_cfg=train_cfg, history=result.history)
        except OSError as err:
            print(f"nnplay: the checkpoint could not be written to {args.save} ({err.strerror or err}); "
                  f"choose a folder that exists and that you may write to.", file=sys.stderr)
            return 2
        summary["saved"] = args.save
    print(json.dumps(summary))
    return 0 if result.status != "diverged" else 1


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench

    try:
        report = run_bench(epochs=args.epochs, data_dir=args.data_dir, device=args.device,
                           train_limit=args.train_limit)
    except Exception as err:  # missing data, most often: say so in one line
        print(f"nnplay bench: {err}", file=sys.stderr)
        return 2
    for line in report["lines"]:
        print(line, file=sys.stderr)
    print(json.dumps({k: v for k, v in report.items() if k != "lines"}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnplay", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_train = sub.add_parser("train", help="train a network headless; prints one JSON line at the end")
    p_train.add_argument("--preset", choices=sorted(PRESETS), default="seed-mlp",
                         help="start from a seed network's settings (flags override them)")
    p_train.add_argument("--save", metavar="FILE",
                         help="write a checkpoint here (weights, settings and curves; the Train page loads it)")
    p_train.add_argument("--quiet", action="store_true", help="no progress bar")
    add_config_flags(p_train)
    p_train.set_defaults(func=cmd_train)

    p_bench = sub.add_parser("bench", help="seed 000's DataLoader loop vs the nnplay engine, same data, same process")
    p_bench.add_argument("--epochs", type=int, default=1, help="epochs of each loop (default 1)")
    p_bench.add_argument("--data-dir", default=None, help="folder with MNIST/raw/*.gz (default $NNPLAY_DATA_DIR)")
    p_bench.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p_bench.add_argument("--train-limit", type=int, default=None, metavar="N",
                         help="train both loops on the first N images only (a quick check; default all 60,000)")
    p_bench.set_defaults(func=cmd_bench)

    args = parser.parse_args(argv)
    return args.func(args)
