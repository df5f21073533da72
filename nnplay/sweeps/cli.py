"""``python -m nnplay sweep``: a sweep from the command line, with the same flags as ``train``, each taking a list.

``--lr 1e-4,1e-3,1e-2 --batch-size 64,256 --seeds 3 --epochs 5``: a flag of a setting a sweep varies (learning
rate, batch size, epochs, activation, init, optimizer, family, dropout, weight decay, momentum; and ``--width``,
``--depth``) given two or more values, or a range ``LOW:HIGH:COUNT[:log|linear]``, becomes an axis of the plan;
given one value it sets that setting for every run (``--lr 1e-3 --seeds 5`` is a sweep over seeds alone).
``--hidden "256;256,128"`` (alternatives separated by ``;``) varies the hidden sizes; ``--hidden 256,128`` alone
is one network, as for ``train``. Every other flag is ``train``'s; the axes come in the order of the configs'
fields (the learning rate before the batch size), whatever the order of the flags. ``--random N`` draws N settings instead of the grid, ``--halving`` stops hopeless runs
by successive halving, ``--name`` names the sweep. The runs queue on the jobs backend (the local pool; Ray
with ``NNPLAY_RAY_ADDRESS``) and are kept in the local workspace of the run store, where the app shows them.
A progress bar goes to stderr and one JSON line per ended run to stdout. Bad input exits 2 with a sentence.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

from ..codec import CONFIGS, CONFIG_OF, KINDS, choices, field_help, flag, parse_value
from ..config import PRESETS, ConfigError, DataConfig, ModelConfig, TrainConfig, from_dict, to_dict
from .plan import MODEL_SETTINGS, SETTINGS, Axis, SweepPlan, seed_values

# config fields a sweep varies: their flags take lists (--hidden takes one network, or alternatives with ';')
LIST_FIELDS = tuple(k for k in SETTINGS if k in CONFIG_OF and k != "hidden")
EXTRA_AXES = ("width", "depth")  # settings of a sweep that are no config field
POLL_S = 0.2  # how often the command looks for runs that ended


def add_sweep_parser(sub) -> None:
    """The ``sweep`` subcommand on the CLI's subparsers."""
    p = sub.add_parser("sweep", help="train many runs over lists of settings; one JSON line per run",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", choices=sorted(PRESETS), default=None,
                   help="start every run from a network of the lecture notes (the flags override its settings)")
    p.add_argument("--seeds", type=int, default=1, metavar="N",
                   help="train each setting with N seeds: --seed, --seed + 1, … (default 1)")
    p.add_argument("--random", type=int, default=None, metavar="N",
                   help="N random draws of the settings (ranges drawn anywhere between their ends) instead of the grid")
    p.add_argument("--draw-seed", type=int, default=0, metavar="S", help="the seed of the random draws (default 0)")
    p.add_argument("--halving", action="store_true",
                   help="stop hopeless runs early by successive halving (ASHA): at epochs 1, η, η², … keep the top "
                        "1/η by test accuracy")
    p.add_argument("--eta", type=int, default=3, help="successive halving's η (default 3: keep the top third)")
    p.add_argument("--name", default=None, help="the sweep's name in the app (default: what it varies)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-store", action="store_true", help="do not keep the sweep in the run store")
    group = p.add_argument_group("settings (each a list: 1e-4,1e-3; or a range LOW:HIGH:COUNT[:log|linear])")
    for key in EXTRA_AXES:
        s = SETTINGS[key]
        group.add_argument(flag(key), dest=f"axis.{key}", default=None, metavar="LIST",
                           help=f"{s.label}: {'every hidden layer' if key == 'width' else 'how many hidden layers'} "
                                f"of an MLP (e.g. {s.example})")
    for cls in CONFIGS:
        for f in dataclasses.fields(cls):
            listed = f.name in LIST_FIELDS or f.name == "hidden"
            allowed = choices(f.name)
            metavar = "LIST" if listed else ("{" + ",".join(allowed) + "}" if allowed else
                                             KINDS[f.name].upper().replace("?", ""))
            extra = " A list or range sweeps it." if f.name in LIST_FIELDS else (
                " Alternatives separated by ';' sweep them (256;256,128)." if f.name == "hidden" else "")
            group.add_argument(flag(f.name), dest=f"{cls.__name__}.{f.name}", default=None, metavar=metavar,
                               help=field_help(f.name) + extra)
    p.set_defaults(func=cmd_sweep)


def _axis(key: str, text: str) -> Axis:
    """A flag's text as an axis: a range ``LOW:HIGH:COUNT[:scale]`` or a list."""
    if ":" not in text:
        return Axis.of_list(key, text)
    parts = text.split(":")
    label = SETTINGS[key].label
    if len(parts) not in (3, 4):
        raise ValueError(f"{label}: a range is LOW:HIGH:COUNT or LOW:HIGH:COUNT:log|linear; got {text!r}.")
    try:
        low, high = (int(v) if SETTINGS[key].kind == "int" else float(v) for v in parts[:2])
        count = int(parts[2])
    except ValueError:
        raise ValueError(f"{label}: the range {text!r} needs numbers for its ends and a whole number for its "
                         f"count.") from None
    scale = parts[3] if len(parts) == 4 else SETTINGS[key].scale
    return Axis.of_range(key, low, high, count, scale)


def plan_from_args(args: argparse.Namespace) -> SweepPlan:
    """The sweep the flags describe; ValueError with a sentence (naming the field) on bad input."""
    preset = PRESETS[args.preset] if args.preset else None
    model, train = (preset.model, preset.train) if preset is not None else (ModelConfig(), TrainConfig())
    base = dict(zip(CONFIGS, (to_dict(DataConfig()), to_dict(model), to_dict(train))))
    lists: dict[str, str] = {}
    by_name = {cls.__name__: cls for cls in CONFIGS}
    for dest, text in vars(args).items():
        if text is None or "." not in dest:
            continue
        kind, name = dest.split(".", 1)
        if kind == "axis" or name in LIST_FIELDS or (name == "hidden" and (";" in text or "|" in text)):
            lists[name] = text
        else:
            base[by_name[kind]][name] = parse_value(name, text)
    axes, single = [], []
    for name, text in lists.items():
        axis = _axis(name, text)
        (axes if len(axis.values) > 1 else single).append(axis)
    for axis in single:  # one value: that setting for every run
        base[ModelConfig if axis.setting in MODEL_SETTINGS else TrainConfig][axis.setting] = axis.values[0]
    if any(a.setting in ("width", "depth") for a in single):
        width = next((a.values[0] for a in single if a.setting == "width"), (base[ModelConfig]["hidden"] or [256])[0])
        depth = next((a.values[0] for a in single if a.setting == "depth"), len(base[ModelConfig]["hidden"]) or 1)
        base[ModelConfig]["hidden"] = [width] * depth
    data, model, train = (from_dict(cls, base[cls]) for cls in CONFIGS)
    seeds = seed_values(args.seeds, train.seed)
    if args.random is not None:
        return SweepPlan(tuple(axes), data, model, train, seeds, "random", args.random, args.draw_seed, args.halving,
                         args.eta, args.name or "")
    return SweepPlan(tuple(axes), data, model, train, seeds, halving=args.halving, eta=args.eta, name=args.name or "")


class _Bar:
    """A tqdm bar on stderr: runs ended of all, the best test accuracy so far."""

    def __init__(self, total: int, quiet: bool):
        self.bar = None
        if not quiet:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="run", file=sys.stderr, desc="sweep", dynamic_ncols=True)

    def ended(self, best: float | None) -> None:
        if self.bar is not None:
            self.bar.update(1)
            if best is not None:
                self.bar.set_postfix(best=f"{best:.2%}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_line(sweep, run, planned) -> dict:
    """One ended run as the JSON line the command prints."""
    final = run.final()
    return {"sweep": sweep.id, "run": run.id, "name": run.name, "status": run.status, "message": run.message,
            "settings": planned.settings if planned is not None else {},
            "seed": run.train_cfg.seed, "epochs": final["epochs_done"],
            "test_accuracy": final["test_accuracy"], "train_accuracy": final["train_accuracy"],
            "train_loss": final["train_loss"], "seconds": round(final["seconds"], 4),
            "config": {"data": to_dict(run.data_cfg), "model": to_dict(run.model_cfg), "train": to_dict(run.train_cfg)}}


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..data import DataError, load_mnist
    from ..store import LOCAL_WORKSPACE, StoreError, open_store
    from .live import start_sweep

    try:
        plan = plan_from_args(args)
        data = load_mnist(plan.data)
    except (ValueError, ConfigError, DataError) as err:
        print(f"nnplay sweep: {err}", file=sys.stderr)
        return 2
    if data.notice:
        print(f"nnplay sweep: {data.notice}", file=sys.stderr)
    store = None
    if not args.no_store:
        try:
            store = open_store()
        except StoreError as err:
            print(f"nnplay sweep: this sweep is not kept in the run store: {err}", file=sys.stderr)
    try:
        sweep = start_sweep(plan, store, LOCAL_WORKSPACE, data, name=args.name)
    except (ValueError, StoreError) as err:
        print(f"nnplay sweep: {err}", file=sys.stderr)
        return 2
    print(f"nnplay sweep: {sweep.name!r}: {plan.count_text()} = {plan.count()} runs"
          + (f", kept as sweep {sweep.id} in {store.path}" if sweep.store is not None else ""), file=sys.stderr)
    planned = {p.key: p for p in plan.expand()}
    return _follow(sweep, planned, _Bar(len(sweep.runs), args.quiet))


def _ended(run) -> bool:
    """Whether the run ended and its end is written (its status changes before its record does: a line printed
    between the two could leave the command's last run "running" in the store as the process exits)."""
    return not run.active and (run.job is None or run.job.done)


def _follow(sweep, planned: dict, bar: _Bar) -> int:
    """Print each run's line as it ends, until all have; Ctrl-C stops the sweep (what finished is kept)."""
    from .plan import run_key
    from .summary import best_sentence, by_setting

    reported: set[str] = set()
    best = None
    interrupted = False
    while True:
        try:
            for run in sweep.runs:
                if run.id in reported or not _ended(run):
                    continue
                reported.add(run.id)
                line = run_line(sweep, run, planned.get(run_key(run.model_cfg, run.train_cfg)))
                acc = line["test_accuracy"]
                if acc is not None and run.status == "finished" and (best is None or acc > best):
                    best = acc
                print(json.dumps(line), flush=True)
                bar.ended(best)
            if len(reported) == len(sweep.runs):
                break
            time.sleep(POLL_S)
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            print("nnplay sweep: stopping the sweep (what finished is kept)…", file=sys.stderr)
            sweep.stop()
    bar.close()
    counts: dict[str, int] = {}
    for run in sweep.runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    print(f"nnplay sweep: {', '.join(f'{n} {status}' for status, n in counts.items())}"
          + (f"; best test accuracy {best:.2%}" if best is not None else ""), file=sys.stderr)
    entries = [(p.settings, p.seed, run, "") for run in sweep.runs
               if (p := planned.get(run_key(run.model_cfg, run.train_cfg))) is not None]
    found = best_sentence(by_setting(entries), markdown=False)
    if found:
        print(f"nnplay sweep: {found}", file=sys.stderr)
    if interrupted:
        return 130
    return 1 if counts.get("error") else 0
