"""``python -m nnplay evaluate RUN --data mine.npz``: a run (or a checkpoint file) on a set of digits.

RUN is a run id of the run store (or its unique start), as ``runs show`` takes it, or an nnplay checkpoint file
(``train --save``). The digits are one ``.npz`` in MNIST's shapes (``nnplay.handwriting.digits_npz``). One JSON
line goes to stdout: the run, n, the accuracy on the digits, the run's MNIST test accuracy (null when the file
does not say), the number of mistakes and the 10×10 confusion matrix (rows the true digit). A bad file or RUN
exits 2 with a sentence on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_evaluate_parser(sub) -> None:
    """The ``evaluate`` subcommand on the CLI's subparsers."""
    p = sub.add_parser("evaluate", help="a run or a checkpoint file on your digits (.npz); prints one JSON line",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("run", metavar="RUN", help="a run id of the run store (or its start), or a checkpoint file")
    p.add_argument("--data", required=True, metavar="FILE",
                   help="the digits: an .npz with images uint8 (N, 28, 28) and labels (N,), as the app exports them")
    p.set_defaults(func=cmd_evaluate)


def model_of(source: str):
    """(model, name, MNIST test accuracy or None, run id or "") of a checkpoint file or a stored run; ValueError
    with a sentence when it is neither, or has no model."""
    from ..checkpoint import CheckpointError, read_checkpoint
    from ..run_record import looks_like_a_file
    from ..runs.files import stored_run
    from .evaluate import mnist_test_accuracy

    if looks_like_a_file(source):
        try:
            ckpt = read_checkpoint(source)
        except CheckpointError as err:
            raise ValueError(f"cannot evaluate {source}: {err}") from None
        accuracy = mnist_test_accuracy(ckpt.history)
        if accuracy is None and isinstance(ckpt.meta.get("test_accuracy"), (int, float)):
            accuracy = float(ckpt.meta["test_accuracy"])  # an older file keeps only the final number
        return ckpt.model, source, accuracy, ""
    _, run = stored_run(source, "evaluated")
    model = run.model
    if model is None:
        raise ValueError(f"run {run.id} ({run.name}) has no model to evaluate: its model files are gone, or it "
                         f"ended before its first epoch.")
    return model, run.name, mnist_test_accuracy(run.history), run.id


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .digits_npz import DigitsFileError, read_digits
    from .evaluate import evaluate_model

    try:
        images, labels = read_digits(args.data)
    except DigitsFileError as err:
        print(f"nnplay evaluate: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"nnplay evaluate: cannot read {args.data}: {err.strerror or err}.", file=sys.stderr)
        return 2
    try:
        model, name, mnist_accuracy, run_id = model_of(args.run)
        result = evaluate_model(model, images, labels, name, mnist_accuracy, run_id)
    except ValueError as err:
        print(f"nnplay evaluate: {err}", file=sys.stderr)
        return 2
    print(json.dumps({"source": args.run, "data": args.data, **result.summary()}))
    return 0
