"""The headless command line: ``python -m nnplay train``, ``runs`` and ``bench``.

Every field of DataConfig, ModelConfig and TrainConfig is a flag (``--hidden 256,128``,
``--lr 0.1``); a preset fills in the rest. ``train`` shows a progress bar on stderr and prints one
JSON line on stdout at the end. ``bench`` times seed 000's own loop against the engine on the
same data in one process. ``train`` records its run in the local workspace of the run store
(``nnplay.store``; ``--no-store`` skips it), where the app shows it; ``runs list | show | export |
delete`` read and manage that store. The functions called are the ones the pages call.
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
    from .models import build_model, count_parameters, describe
    from .runs import Run

    try:
        data_cfg, model_cfg, train_cfg = configs_from_args(args)
        build_model(model_cfg)  # a config that cannot be built fails here, before the data loads
        data = load_mnist(data_cfg)
    except (ValueError, DataError) as err:
        print(f"nnplay: {err}", file=sys.stderr)
        return 2
    if data.notice:
        print(f"nnplay: {data.notice}", file=sys.stderr)
    run = Run(f"CLI {args.preset} · {describe(model_cfg)}", data_cfg, model_cfg, train_cfg)
    if not args.no_store:
        _record_in_store(run)
    run.run_here(data, also=None if args.quiet else _ProgressBar())
    if run.status == "error":
        print(f"nnplay: the run failed: {run.message}", file=sys.stderr)
        return 1
    model = run.model
    epochs = run.history.epochs
    summary = {
        "status": run.status,
        "message": run.message,
        "device": run.history.start.device if run.history.start else "",
        "preset": args.preset,
        "dataset": data.dataset,
        "data_source": data.source,
        "epochs": len(epochs),
        "epoch_seconds": [round(e.seconds, 4) for e in epochs],
        "train_loss": [round(e.train_loss, 4) for e in epochs],
        "test_accuracy": epochs[-1].test_accuracy if epochs else None,
        "train_accuracy": epochs[-1].train_accuracy if epochs else None,
        "parameters": run.history.start.parameters if run.history.start else count_parameters(build_model(model_cfg)),
        "config": {"data": to_dict(data_cfg), "model": to_dict(model_cfg), "train": to_dict(train_cfg)},
    }
    if run.store is not None:
        summary["run"] = run.id
    if args.save and run.status != "diverged" and model is not None:
        save_checkpoint(model, model_cfg, args.save, meta={"test_accuracy": summary["test_accuracy"],
                                                           "train": to_dict(train_cfg), "dataset": data.dataset})
        summary["saved"] = args.save
    print(json.dumps(summary))
    return 0 if run.status != "diverged" else 1


def _record_in_store(run) -> None:
    """Make a CLI run a record of the local workspace; a store that cannot be used is said, not fatal."""
    from .store import LOCAL_WORKSPACE, StoreError, open_store

    try:
        run.bind(open_store(), LOCAL_WORKSPACE)
    except StoreError as err:
        print(f"nnplay: this run is not kept in the run store: {err}", file=sys.stderr)
        return
    if run.store is None:
        print(f"nnplay: {run.message}", file=sys.stderr)


def _open_run(store, text: str):
    """The run whose id is or starts with ``text`` (any workspace), or a sentence why none."""
    rows = store.read("SELECT id FROM runs WHERE substr(id, 1, length(?)) = ?", (text, text))
    ids = sorted({r[0] for r in rows})
    if text in ids:
        ids = [text]
    if not ids:
        return None, f"no run with id {text!r} in {store.path} (see `python -m nnplay runs list`)."
    if len(ids) > 1:
        return None, f"{text!r} matches {len(ids)} runs ({', '.join(ids[:5])}); type more of the id."
    return store.get(ids[0]), ""


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} kB"


def cmd_runs(args: argparse.Namespace) -> int:
    import datetime

    from .runs import Run, metrics_csv
    from .store import StoreError, open_store

    try:
        store = open_store()
        if args.action == "list":
            records = store.list_runs(args.workspace, kinds=None if args.all else ("train", "loaded"))
            print(f"{len(records)} runs in workspace {args.workspace!r} of {store.path} "
                  f"({_size(store.disk_usage(args.workspace))} of model files)")
            for r in records:
                when = datetime.datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M")
                acc = f"{r.test_accuracy:.2%}" if r.test_accuracy is not None else "-"
                print(f"{r.id}  {when}  {r.status:<11} test {acc:>7}  {r.name}")
            return 0
        record, problem = _open_run(store, args.run)
        if record is None:
            print(f"nnplay runs: {problem}", file=sys.stderr)
            return 2
        if args.action == "show":
            history = store.history(record.id)
            print(json.dumps({
                "id": record.id, "name": record.name, "workspace": record.workspace, "kind": record.kind,
                "status": record.status, "message": record.message, "device": record.device,
                "parameters": record.parameters, "created": record.created, "started": record.started,
                "ended": record.ended, "steps": len(history.steps),
                "epochs": [dataclasses.asdict(e) for e in history.epochs],
                "model_file": str(store.checkpoint_path(record.id) or ""),
                "config": {"data": to_dict(record.data_cfg), "model": to_dict(record.model_cfg),
                           "train": to_dict(record.train_cfg)},
            }, indent=2))
            return 0
        run = Run.from_record(store, record)
        if args.action == "export":
            with open(args.csv, "w", newline="") as f:
                f.write(metrics_csv(run))
            print(f"wrote {len(run.history.steps)} steps of {record.id} to {args.csv}", file=sys.stderr)
            return 0
        # delete
        if record.status in ("queued", "running", "paused"):
            print(f"nnplay runs: {record.id} is still training (status {record.status}); stop it where it runs "
                  "(the app's Stop button, or Ctrl-C in its terminal) and delete it then.", file=sys.stderr)
            return 2
        if not args.yes:
            if not sys.stdin.isatty():
                print("nnplay runs: deleting needs a confirmation: add --yes.", file=sys.stderr)
                return 2
            if input(f"Delete run {record.id} ({record.name}) and its files? [y/N] ").strip().lower() != "y":
                print("nothing deleted.", file=sys.stderr)
                return 1
        store.delete(record.id)
        print(f"deleted {record.id} ({record.name})", file=sys.stderr)
        return 0
    except (StoreError, OSError) as err:
        print(f"nnplay runs: {err}", file=sys.stderr)
        return 2


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench

    try:
        report = run_bench(epochs=args.epochs, data_dir=args.data_dir, device=args.device)
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
    p_train.add_argument("--save", metavar="FILE", help="write a checkpoint (state_dict + config) here")
    p_train.add_argument("--quiet", action="store_true", help="no progress bar")
    p_train.add_argument("--no-store", action="store_true",
                         help="do not record this run in the run store (the app's local workspace)")
    add_config_flags(p_train)
    p_train.set_defaults(func=cmd_train)

    p_runs = sub.add_parser("runs", help="list, show, export or delete the runs kept in the run store")
    runs_sub = p_runs.add_subparsers(dest="action", required=True)
    p_list = runs_sub.add_parser("list", help="the runs of a workspace, oldest first")
    p_list.add_argument("--workspace", default="local", help="workspace (default: local, the CLI's and a local app's)")
    p_list.add_argument("--all", action="store_true", help="include the experiments' sweep runs")
    runs_sub.add_parser("show", help="a run's record, configs and epochs as JSON").add_argument("run", help="run id (or its start)")
    p_export = runs_sub.add_parser("export", help="a run's step losses and epoch metrics as CSV")
    p_export.add_argument("run", help="run id (or its start)")
    p_export.add_argument("--csv", required=True, metavar="FILE", help="the CSV file to write")
    p_delete = runs_sub.add_parser("delete", help="remove a run's record and files")
    p_delete.add_argument("run", help="run id (or its start)")
    p_delete.add_argument("--yes", action="store_true", help="do not ask for a confirmation")
    p_runs.set_defaults(func=cmd_runs)

    p_bench = sub.add_parser("bench", help="seed 000's DataLoader loop vs the nnplay engine, same data, same process")
    p_bench.add_argument("--epochs", type=int, default=1, help="epochs of each loop (default 1)")
    p_bench.add_argument("--data-dir", default=None, help="folder with MNIST/raw/*.gz (default $NNPLAY_DATA_DIR)")
    p_bench.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p_bench.set_defaults(func=cmd_bench)

    args = parser.parse_args(argv)
    return args.func(args)
