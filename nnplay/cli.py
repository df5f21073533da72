"""The headless command line: ``python -m nnplay train``, ``sweep`` (``nnplay.sweeps.cli``), ``runs``, ``export``,
``bench`` and ``evaluate`` (``nnplay.handwriting.cli``).

Every field of DataConfig, ModelConfig and TrainConfig is a flag (``--hidden 256,128``,
``--lr 0.1``), built by ``codec``; ``--preset`` fills in the rest, else the configs' defaults (and the
JSON line names no preset). Every ``NNPLAY_*`` setting is checked first (``nnplay.settings``): a bad
one exits 2 with a sentence. A run that would not fit in the
memory available is refused before anything is built (exit 2), as on the Train page. ``train`` shows a progress bar on stderr and prints one
JSON line on stdout at the end. ``bench`` times seed 000's own loop against the engine on the
same data in one process. ``train`` records its run in the local workspace of the run store
(``nnplay.store``; ``--no-store`` skips it), where the app shows it; ``runs list | show | export |
delete`` read and manage that store (``runs export --csv FILE`` or ``--tensorboard DIR``; ``--all --csv FILE``
or ``--parquet FILE``: every run as one table row, ``nnplay.compare``). ``export``
writes a checkpoint file's or a stored run's model as ONNX, TorchScript, safetensors or a checkpoint,
its training script (with the digits it trains on beside it, for a run on your digits too), or its TensorBoard
files (``nnplay.export``); neither export overwrites an existing
file unless given ``--force``. The functions called are the ones the pages call.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import NamedTuple

from .codec import CONFIGS, add_config_flags, flag_values
from .config import PRESETS, DataConfig, ModelConfig, TrainConfig, from_dict, to_dict
from .names import plural
from .run_record import looks_like_a_file, record_by_prefix
from .handwriting.cli import add_evaluate_parser
from .sweeps.cli import add_sweep_parser

__all__ = ["add_config_flags", "configs_from_args", "main"]


def configs_from_args(args: argparse.Namespace) -> tuple[DataConfig, ModelConfig, TrainConfig]:
    """The preset's values (the configs' defaults without one), overridden by the flags given; ConfigError
    (a ValueError) with a sentence on bad values."""
    preset = PRESETS[args.preset] if getattr(args, "preset", None) else None
    model, train = (preset.model, preset.train) if preset is not None else (ModelConfig(), TrainConfig())
    base = dict(zip(CONFIGS, (to_dict(DataConfig()), to_dict(model), to_dict(train))))
    for cls, given in flag_values(args).items():
        base[cls].update(given)
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
    from .engine import pick_device
    from .models import count_parameters, describe, memory_refusal
    from .jobs import thread_backend
    from .runs import Run

    try:
        data_cfg, model_cfg, train_cfg = configs_from_args(args)
        data_cfg = _checked_extra_data(data_cfg)
        # refused before anything is built: the estimate reads the layer table (which also refuses a
        # CNN that runs out of pixels), not a model
        refusal = memory_refusal(model_cfg, train_cfg, pick_device(train_cfg.device))
        if refusal:
            print(f"nnplay: {refusal}", file=sys.stderr)
            return 2
        data = load_mnist(data_cfg)
    except (ValueError, DataError) as err:
        print(f"nnplay: {err}", file=sys.stderr)
        return 2
    if data.notice:
        print(f"nnplay: {data.notice}", file=sys.stderr)
    # the run's name keeps "seed-mlp" without --preset: its values are seed-mlp's (the configs' defaults)
    run = Run(f"CLI {args.preset or 'seed-mlp'} · {describe(model_cfg)}", data_cfg, model_cfg, train_cfg)
    run.data_source = data.source  # kept with the run from its first record
    if not args.no_store:
        _record_in_store(run)
    # trained in a thread of this process through the same path as the app's runs
    run.start(data, backend=thread_backend(), listener=None if args.quiet else _ProgressBar()).wait()
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
        "parameters": run.history.start.parameters if run.history.start else count_parameters(model),
        "config": {"data": to_dict(data_cfg), "model": to_dict(model_cfg), "train": to_dict(train_cfg)},
    }
    if run.store is not None:
        summary["run"] = run.id
    if args.save and run.status != "diverged" and model is not None:
        try:
            save_checkpoint(model, model_cfg, args.save, meta={"name": f"cli · {describe(model_cfg)}",
                                                               "status": run.status, "message": run.message},
                            data_cfg=data_cfg, train_cfg=train_cfg, history=run.history)
        except OSError as err:
            print(f"nnplay: the checkpoint could not be written to {args.save} ({err.strerror or err}); "
                  f"choose a folder that exists and that you may write to.", file=sys.stderr)
            return 2
        summary["saved"] = args.save
    print(json.dumps(summary))
    return 0 if run.status != "diverged" else 1


def _checked_extra_data(data_cfg: DataConfig) -> DataConfig:
    """``--extra-data`` as an absolute path (the stored run names the file wherever it is read from), its file
    read once here so that a bad one is refused before anything trains (DigitsFileError, a ValueError)."""
    if data_cfg.extra_data is None:
        return data_cfg
    from pathlib import Path

    from .handwriting.digits_npz import read_digits

    path = str(Path(data_cfg.extra_data).expanduser().resolve())
    read_digits(path)
    return dataclasses.replace(data_cfg, extra_data=path)


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


def _open_to_read():
    """The run store, or where it cannot be opened to write (a full disk, a read-only folder) but its file is
    whole, the same file read-only, said on stderr: reading it needs no write."""
    from .store import NotAStore, Store, StoreDamaged, StoreError, StoreTooNew, open_store

    try:
        return open_store()
    except (StoreDamaged, StoreTooNew, NotAStore):
        raise
    except StoreError as err:
        store = Store(read_only=True)
        print(f"nnplay runs: {err} Reading it read-only.", file=sys.stderr)
        return store


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} kB"


def cmd_runs(args: argparse.Namespace) -> int:
    import datetime

    from .store import ACTIVE, SETTINGS_UNREADABLE, StoreError, data_text, open_store

    try:
        store = _open_to_read() if args.action in ("list", "show", "export") else open_store()
        if args.action == "list":
            records = store.list_runs(args.workspace, kinds=None if args.all else ("train", "loaded"))
            print(f"{plural(len(records), 'run')} in workspace {args.workspace!r} of {store.path} "
                  f"({_size(store.disk_usage(args.workspace))} of model files)")
            for r in records:
                when = datetime.datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M")
                acc = f"{r.test_accuracy:.2%}" if r.test_accuracy is not None else "-"
                data = SETTINGS_UNREADABLE if r.unreadable else data_text(r.data_cfg.dataset, r.data_source,
                                                                          r.data_cfg.extra_data is not None)
                print(f"{r.id}  {when}  {r.status:<11} test {acc:>7}  {data:<22}  {r.name}")
            return 0
        if args.action == "export":
            return _export_runs(store, args)
        record, problem = record_by_prefix(store, args.run)
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
                "data": SETTINGS_UNREADABLE if record.unreadable else data_text(
                    record.data_cfg.dataset, record.data_source, record.data_cfg.extra_data is not None),
                "data_source": record.data_source or "unknown",
                # an unreadable run's configs are not shown: they would be the defaults, not its settings
                "config": record.settings_note or {"data": to_dict(record.data_cfg), "model": to_dict(record.model_cfg),
                                                   "train": to_dict(record.train_cfg)},
            }, indent=2))
            return 0
        # delete
        if record.status in ACTIVE:
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


def _export_runs(store, args: argparse.Namespace) -> int:
    """``runs export RUN… --csv FILE | --tensorboard DIR``: one run's metrics as CSV, or each run's
    TensorBoard files in a subfolder of DIR (``<name>-<id>``). Every run is checked before anything is
    written, and a failure removes what this command wrote."""
    import shutil
    from pathlib import Path

    from .export import ExportError, missing_packages, write_tensorboard
    from .names import file_stem
    from .runs import find_run, metrics_csv

    if args.all or args.parquet:
        return _export_table(store, args)
    if not args.run:
        print("nnplay runs: name the runs to export (their ids), or add --all for every run as one table.",
              file=sys.stderr)
        return 2
    records = []
    for text in dict.fromkeys(args.run):  # each run once, in the order given
        record, problem = record_by_prefix(store, text)
        if record is None:
            print(f"nnplay runs: {problem}", file=sys.stderr)
            return 2
        if record.id not in {r.id for r in records}:
            records.append(record)
    runs = [find_run(store, r.id) for r in records]
    for run in runs:  # read here, so that a store that fails says so rather than an empty history
        if not run.owned:
            run.history = store.history(run.id)
    if args.csv:
        if len(runs) > 1:
            print(f"nnplay runs: --csv writes one run's metrics to one file, and {plural(len(runs), 'run')} were "
                  f"given; export them one at a time, or use --tensorboard DIR for all of them.", file=sys.stderr)
            return 2
        (run,) = runs
        from .export import atomic_write

        taken = _taken([args.csv], args.force)
        if taken:
            print(f"nnplay runs: {taken}", file=sys.stderr)
            return 2

        text = metrics_csv(run)
        try:
            atomic_write(args.csv, lambda tmp: Path(tmp).write_text(text, newline=""))
        except ExportError as err:
            print(f"nnplay runs: {err}", file=sys.stderr)
            return 2
        print(f"wrote {plural(len(run.history.steps), 'step')} of {run.id} to {args.csv}", file=sys.stderr)
        return 0
    if missing_packages("tensorboard"):
        print("nnplay runs: writing TensorBoard files needs the optional package 'tensorboard', which is not "
              "installed. Install the export extras: pip install -r requirements-export.txt", file=sys.stderr)
        return 2
    top = Path(args.tensorboard)
    if top.exists() and not top.is_dir():
        print(f"nnplay runs: {top} is a file; --tensorboard takes a folder (new, or one that TensorBoard "
              f"already reads).", file=sys.stderr)
        return 2
    if not top.parent.is_dir():
        print(f"nnplay runs: the folder {top.parent} does not exist; create it or choose another --tensorboard.",
              file=sys.stderr)
        return 2
    targets = [top / f"{file_stem(run.name, prefix='')}-{run.id}" for run in runs]
    for run, target in zip(runs, targets):
        if not (run.history.steps or run.history.epochs):
            print(f"nnplay runs: run {run.id} ({run.name}) has no history to write (it has not trained a step "
                  f"yet); leave it out.", file=sys.stderr)
            return 2
        if target.exists():
            print(f"nnplay runs: {target} already exists; choose another --tensorboard folder, or remove it first.",
                  file=sys.stderr)
            return 2
    created, written = not top.exists(), []
    try:
        top.mkdir(exist_ok=True)
        for run, target in zip(runs, targets):
            written.append(write_tensorboard(run.history, (run.data_cfg, run.model_cfg, run.train_cfg), target))
    except (ExportError, OSError) as err:
        for folder in written:  # all or nothing: no run's files are left from a failed export
            shutil.rmtree(folder, ignore_errors=True)
        if created:
            shutil.rmtree(top, ignore_errors=True)
        why = err.strerror if isinstance(err, OSError) and err.strerror else err
        print(f"nnplay runs: the TensorBoard files could not be written to {top}: {why}; nothing was kept.",
              file=sys.stderr)
        return 2
    for run, folder in zip(runs, written):
        print(f"wrote {plural(len(run.history.steps), 'step')} and {plural(len(run.history.epochs), 'epoch')} "
              f"of {run.id} to {folder}", file=sys.stderr)
    print(f"see them with: tensorboard --logdir {top}", file=sys.stderr)
    return 0


def _export_table(store, args: argparse.Namespace) -> int:
    """``runs export --all --csv FILE | --parquet FILE``: every run of the workspace, a row each (nnplay.compare)."""
    from .compare.files import write_table
    from .export import ExportError

    path = args.csv or args.parquet
    problem = ("--all exports every run of the workspace: leave out the run ids, or leave out --all." if args.run else
               "--parquet writes the table of every run: add --all." if not args.all else
               "--all writes one table (--csv FILE or --parquet FILE), not TensorBoard files." if not path else
               _taken([path], args.force))
    if problem:
        print(f"nnplay runs: {problem}", file=sys.stderr)
        return 2
    try:
        n = write_table(store, args.workspace, path, "csv" if args.csv else "parquet", sweep=args.sweep)
    except (ValueError, ExportError) as err:
        print(f"nnplay runs: {err}", file=sys.stderr)
        return 2
    which = f"sweep {args.sweep!r} of workspace" if args.sweep is not None else "workspace"
    print(f"wrote {n} runs of {which} {args.workspace!r} (settings and metric summaries) to {path}", file=sys.stderr)
    return 0


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


EXPORT_FORMATS = ("onnx", "torchscript", "safetensors", "checkpoint", "script", "tensorboard")


class ExportSource(NamedTuple):
    """What ``export`` was given, resolved: the model (None when there is none), configs, history, and why no model."""

    model: object
    data_cfg: DataConfig
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    history: object
    label: str       # how messages name it: the file, or "run <id> (<name>)"
    no_model: str = ""  # a sentence when there is no model to export, else ""
    data_source: str = ""  # what it trained on: "full", "sample", or "" when not known (the script says so)
    run: object = None  # the stored run, when SOURCE names one (its script may need the weights it started from)


def resolve_export_source(source: str) -> ExportSource:
    """What ``export`` was given: an nnplay checkpoint file, or a run of the run store.

    SOURCE is a checkpoint file (``train --save``, the Train page's download; a file of format /2
    carries the run's configs and history, an older one only the model and its settings), or a
    run id in the store, or its unique start (as ``runs show`` takes it): the run's configs, its
    history and its model when it has one (``no_model`` says why not). Raises ValueError with a
    sentence when SOURCE is neither.
    """
    from .checkpoint import CheckpointError, read_checkpoint

    if looks_like_a_file(source):
        try:
            ckpt = read_checkpoint(source)
        except CheckpointError as err:
            raise ValueError(f"cannot export {source}: {err}") from None
        data_cfg = ckpt.data_cfg or DataConfig()
        # a checkpoint does not say which data it trained on, but the built-in sample is of MNIST only
        return ExportSource(ckpt.model, data_cfg, ckpt.model_cfg, ckpt.train_cfg or TrainConfig(), ckpt.history,
                            source, data_source="" if data_cfg.dataset == "mnist" else "full")
    from .export import no_model_reason
    from .runs.files import stored_run
    from .store import StoreError

    store, run = stored_run(source, "exported")
    if not run.owned:  # read here, so that a store that fails says so rather than "no step yet"
        try:
            run.history = store.history(run.id)
        except StoreError as err:
            raise ValueError(f"the history of run {run.id} cannot be read: {err}") from None
    reason = no_model_reason(run)
    return ExportSource(None if reason else run.model, run.data_cfg, run.model_cfg, run.train_cfg, run.history,
                        f"run {run.id} ({run.name})", reason, run.data_source, run)


def _taken(paths: list, force: bool) -> str:
    """Why writing ``paths`` would overwrite a file the user has (say it, unless ``--force``), or ""."""
    from pathlib import Path

    existing = [str(p) for p in paths if Path(p).is_file()]
    if not existing or force:
        return ""
    return (f"{' and '.join(existing)} already {'exists' if len(existing) == 1 else 'exist'}; nothing was written. "
            f"Choose another file, or add --force to overwrite it.")


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .export import ExportError, export_model, script_files, write_script_files, write_tensorboard
    from .export.run import start_weights

    try:
        if args.format != "tensorboard":  # a TensorBoard folder is refused unless new or empty (write_tensorboard)
            taken = _taken([args.out] + ([Path(args.out).with_suffix(".json")] if args.format == "safetensors" else []),
                           args.force)
            if taken:
                raise ExportError(taken)
        source = resolve_export_source(args.source)
        data_cfg, model_cfg, train_cfg, history = source.data_cfg, source.model_cfg, source.train_cfg, source.history
        meta = {"train": to_dict(train_cfg), "data": to_dict(data_cfg), "dataset": data_cfg.dataset}
        if args.format == "script":  # a run on your digits too: the digits go beside the script, which reads them
            start = start_weights(source.run) if source.run is not None else None  # a fine-tuned run's
            files = script_files(data_cfg, model_cfg, train_cfg, source.data_source, Path(args.out).name, source.label,
                                 start)
            taken = _taken([Path(args.out).with_name(name) for name in list(files)[1:]], args.force)
            if taken:
                raise ExportError(taken)
            written = write_script_files(files, args.out)
        elif args.format == "tensorboard":
            if history is None:
                raise ExportError(f"{source.label} is a model file without its training history; TensorBoard "
                                  f"export needs a run that kept its steps and epochs.")
            written = [write_tensorboard(history, (data_cfg, model_cfg, train_cfg), args.out)]
        else:
            if source.no_model:
                raise ExportError(source.no_model)
            written = export_model(source.model, model_cfg, args.format, args.out, meta=meta, data_cfg=data_cfg,
                                   train_cfg=train_cfg, history=history)
    except (ValueError, ExportError) as err:
        print(f"nnplay export: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # disk full, permission denied while writing: nothing was left behind
        print(f"nnplay export: could not write {args.out}: {err.strerror or err}.", file=sys.stderr)
        return 2
    print(json.dumps({"source": args.source, "format": args.format, "written": [str(p) for p in written]}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnplay", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_train = sub.add_parser("train", help="train a network headless; prints one JSON line at the end")
    p_train.add_argument("--preset", choices=sorted(PRESETS), default=None,
                         help="start from a network of the lecture notes (flags override its settings; default: "
                              "none, the configs' defaults): "
                              + "; ".join(f"{k} = {p.title}" for k, p in sorted(PRESETS.items())))
    p_train.add_argument("--save", metavar="FILE",
                         help="write a checkpoint here (weights, settings and curves; the Train page loads it)")
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
    p_export = runs_sub.add_parser("export", help="a run's step losses and epoch metrics as CSV, runs as "
                                                  "TensorBoard event files, or --all runs as one table")
    p_export.add_argument("run", nargs="*", help="run id (or its start); several with --tensorboard")
    what = p_export.add_mutually_exclusive_group(required=True)
    what.add_argument("--csv", metavar="FILE", help="the CSV file to write (one run, or the table with --all)")
    what.add_argument("--parquet", metavar="FILE", help="the Parquet file to write the table to (with --all)")
    what.add_argument("--tensorboard", metavar="DIR",
                      help="write each run's history as TensorBoard files in DIR/<name>-<id> "
                           "(tensorboard --logdir DIR)")
    p_export.add_argument("--all", action="store_true", help="every run of the workspace (sweeps too) as one "
                          "table: a row per run with its settings and each metric's last, best, min, max and "
                          "mean of the last 3 epochs")
    p_export.add_argument("--workspace", default="local", help="with --all: the workspace (default: local)")
    p_export.add_argument("--sweep", metavar="NAME", help="with --all: only this sweep's runs")
    p_export.add_argument("--force", action="store_true", help="overwrite the --csv or --parquet file if it exists")
    p_delete = runs_sub.add_parser("delete", help="remove a run's record and files")
    p_delete.add_argument("run", help="run id (or its start)")
    p_delete.add_argument("--yes", action="store_true", help="do not ask for a confirmation")
    p_runs.set_defaults(func=cmd_runs)

    p_bench = sub.add_parser("bench", help="note 000's DataLoader loop vs the nnplay engine, same data, same process")
    p_bench.add_argument("--epochs", type=int, default=1, help="epochs of each loop (default 1)")
    p_bench.add_argument("--data-dir", default=None, help="folder with MNIST/raw/*.gz (default $NNPLAY_DATA_DIR)")
    p_bench.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p_bench.add_argument("--train-limit", type=int, default=None, metavar="N",
                         help="train both loops on the first N images only (a quick check; default all 60,000)")
    p_bench.set_defaults(func=cmd_bench)

    add_sweep_parser(sub)
    add_evaluate_parser(sub)

    p_export = sub.add_parser("export", help="a saved model or a stored run as ONNX, TorchScript, safetensors, "
                                             "a training script or TensorBoard files")
    p_export.add_argument("source", metavar="SOURCE",
                          help="an nnplay checkpoint file (train --save), or a run id of the run store (or its start)")
    p_export.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="what to write")
    p_export.add_argument("--out", required=True, metavar="FILE",
                          help="the file to write (a new or empty folder for --format tensorboard)")
    p_export.add_argument("--force", action="store_true",
                          help="overwrite the --out file if it exists (without it, an existing file is refused)")
    p_export.set_defaults(func=cmd_export)

    args = parser.parse_args(argv)
    from .settings import problems

    bad = problems()
    if bad:
        for sentence in bad:
            print(f"nnplay: {sentence}", file=sys.stderr)
        return 2
    return args.func(args)
